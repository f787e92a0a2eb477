"""Fail fast on engine addresses (issue 13.6): a --address that is not a Dask scheduler gives one
message within seconds, exit 2, before any input is read."""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from segchain.cli.endpoint import (
    check_dask_scheduler,
    check_ray_address,
    check_spark_master,
    parse_dask_address,
    ray_host_port,
    spark_host_ports,
)
from segchain.errors import UsageError


@contextlib.contextmanager
def _http_server() -> Iterator[int]:
    """A local web server (what the scheduler's dashboard, or any other service, would be)."""

    class Quiet(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self.send_response(200)
            self.end_headers()

        do_GET = do_HEAD

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def _listener(greeting: bytes | None) -> Iterator[int]:
    """A TCP listener that accepts and sends ``greeting`` (None: says nothing, reads nothing)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            accepted.append(conn)
            if greeting is not None:
                conn.sendall(greeting)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        sock.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


FAST = {"connect_seconds": 2.0, "handshake_seconds": 0.5, "identify_seconds": 0.5}


def test_a_web_server_is_named_as_one() -> None:
    with _http_server() as port, pytest.raises(UsageError) as info:
        check_dask_scheduler(f"tcp://127.0.0.1:{port}", **FAST)
    assert info.value.message == (
        f"--address tcp://127.0.0.1:{port}: 127.0.0.1:{port} is a web (HTTP) server "
        "('HTTP/1.0 200 OK'), not a Dask scheduler"
    )
    assert "8786" in (info.value.hint or "")


def test_a_silent_listener_is_not_a_scheduler() -> None:
    with _listener(None) as port, pytest.raises(UsageError) as info:
        check_dask_scheduler(f"127.0.0.1:{port}", **FAST)
    assert info.value.message == (
        f"--address 127.0.0.1:{port}: 127.0.0.1:{port} accepted the connection but sent nothing "
        "in 0.5 s; a Dask scheduler greets at once: this is not one"
    )


def test_another_protocol_that_speaks_first_is_quoted() -> None:
    with _listener(b"SSH-2.0-OpenSSH_9.6\r\n") as port, pytest.raises(UsageError) as info:
        check_dask_scheduler(f"tcp://127.0.0.1:{port}", **FAST)
    assert "answered, but not as a Dask scheduler does (it sent 'SSH-2.0-OpenSSH_" in str(
        info.value
    )


def test_a_closed_port_is_refused() -> None:
    port = _free_port()
    with pytest.raises(UsageError, match=r"nothing listens on 127\.0\.0\.1:\d+ \(connection"):
        check_dask_scheduler(f"tcp://127.0.0.1:{port}", **FAST)


def test_a_dask_handshake_frame_is_accepted() -> None:
    # What distributed.comm.tcp writes first: uint64 length, uint64 frame count, frame sizes.
    import struct

    frame = b"\x81\xa1x\x01"  # a msgpack map, as the handshake is
    prelude = struct.pack("<QQ", 1, len(frame))
    greeting = struct.pack("<Q", len(prelude) + len(frame)) + prelude + frame
    with _listener(greeting) as port:
        check_dask_scheduler(f"tcp://127.0.0.1:{port}", **FAST)


@pytest.mark.parametrize(
    ("address", "parsed"),
    [
        ("tcp://10.0.0.5:8786", ("tcp", "10.0.0.5", 8786)),
        ("10.0.0.5:8786", ("tcp", "10.0.0.5", 8786)),
        ("tcp://scheduler", ("tcp", "scheduler", 8786)),
        ("tls://[::1]:9000", ("tls", "::1", 9000)),
        ("ucx://10.0.0.5:13337", None),
    ],
)
def test_addresses_are_read_as_dask_reads_them(address: str, parsed) -> None:
    assert parse_dask_address(address) == parsed


@pytest.mark.parametrize("address", ["tcp://host:port", "tcp://host:0", "tcp://:8786"])
def test_malformed_addresses_are_usage_errors(address: str) -> None:
    with pytest.raises(UsageError):
        parse_dask_address(address)


def test_real_scheduler_passes_the_check() -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, processes=False, protocol="tcp://", dashboard_address=None
    ) as cluster:
        check_dask_scheduler(cluster.scheduler_address, **FAST)


def test_a_scheduler_without_a_worker_is_refused_before_the_run_waits_for_ever() -> None:
    # The backtest's tasks waited for a worker without end, the progress line saying '0 of 491
    # series' (audit of session 60: killed after 5 minutes).
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=0, processes=False, protocol="tcp://", dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://")
        with pytest.raises(UsageError) as caught:
            check_dask_scheduler(address, **FAST)
    assert caught.value.message == (
        f"--address {address}: the Dask scheduler there has no worker, so nothing would run "
        "the models (the run would wait for one without end)"
    )
    assert caught.value.hint == (
        f"start one with `dask worker {address}`, or leave --address out for a local cluster"
    )


def test_cli_forecast_on_a_web_server_fails_fast_before_reading(cli, tmp_path: Path) -> None:
    # The inputs do not exist: the address is checked first, and the real time limits hold.
    pytest.importorskip("distributed")
    with _http_server() as port:
        start = time.monotonic()
        result = cli(
            "forecast", "absent.csv", "--orders", "absent.csv", "--engine", "dask",
            "--address", f"tcp://127.0.0.1:{port}", "-o", str(tmp_path / "fc.parquet"),
        )  # fmt: skip
        took = time.monotonic() - start
    assert result.exit_code == 2, result.stderr
    assert took < 15
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"segchain forecast: Error: --address tcp://127.0.0.1:{port}: 127.0.0.1:{port} is a web "
        "(HTTP) server ('HTTP/1.0 200 OK'), not a Dask scheduler"
    )
    assert len(lines) == 2 and lines[1].startswith("segchain forecast:   hint: ")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "fc.parquet").exists()


# ---- Ray and Spark: probed with the standard library, neither installed ----------------------

H2_SETTINGS_FRAME = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # RFC 9113: empty SETTINGS


@contextlib.contextmanager
def _closer() -> Iterator[int]:
    """A listener that reads what comes and closes the connection, as a Spark master's RPC
    layer does on a frame it cannot read."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1.0)
                with contextlib.suppress(OSError):
                    conn.recv(64)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        sock.close()


RAY_FAST = {"connect_seconds": 2.0, "reply_seconds": 0.5}


def test_ray_grpc_server_answering_settings_is_accepted() -> None:
    with _listener(H2_SETTINGS_FRAME) as port:
        check_ray_address(f"127.0.0.1:{port}", **RAY_FAST)
        check_ray_address(f"ray://127.0.0.1:{port}", **RAY_FAST)


def test_ray_web_server_is_named_as_one() -> None:
    # Python's http.server answers the HTTP/2 preface with a bare error page; asked as a web
    # client, it says what it is.
    with _http_server() as port, pytest.raises(UsageError) as info:
        check_ray_address(f"ray://127.0.0.1:{port}", **RAY_FAST)
    assert info.value.message == (
        f"--address ray://127.0.0.1:{port}: 127.0.0.1:{port} is a web (HTTP) server "
        "('HTTP/1.0 200 OK'), not a Ray cluster (gRPC)"
    )
    assert "6379" in (info.value.hint or "")


def test_ray_other_protocol_is_quoted() -> None:
    with _listener(b"SSH-2.0-OpenSSH_9.6\r\n") as port, pytest.raises(UsageError) as info:
        check_ray_address(f"127.0.0.1:{port}", **RAY_FAST)
    assert "answered, but not as a gRPC server does (it sent 'SSH-2.0-O')" in str(info.value)


def test_ray_silent_listener_and_closed_port() -> None:
    with _listener(None) as port, pytest.raises(UsageError) as info:
        check_ray_address(f"127.0.0.1:{port}", **RAY_FAST)
    assert info.value.message == (
        f"--address 127.0.0.1:{port}: 127.0.0.1:{port} accepted the connection but did not "
        "answer an HTTP/2 greeting within 0.5 s: not a Ray cluster (gRPC)"
    )
    port = _free_port()
    with pytest.raises(UsageError, match=r"nothing listens on 127\.0\.0\.1:\d+ \(connection"):
        check_ray_address(f"127.0.0.1:{port}", **RAY_FAST)


@pytest.mark.parametrize(
    ("address", "target"),
    [
        ("auto", None),
        ("local", None),
        ("10.0.0.5", ("10.0.0.5", 6379)),
        ("10.0.0.5:6380", ("10.0.0.5", 6380)),
        ("ray://head", ("head", 10001)),
        ("ray://[::1]:10002", ("::1", 10002)),
    ],
)
def test_ray_addresses_are_read_as_ray_reads_them(address: str, target) -> None:
    assert ray_host_port(address) == target


@pytest.mark.parametrize("address", ["http://head:8265", "head:port", "ray://head:0"])
def test_ray_malformed_addresses_are_usage_errors(address: str) -> None:
    with pytest.raises(UsageError):
        ray_host_port(address)


def test_spark_master_closing_on_bytes_it_cannot_read_is_accepted() -> None:
    with _closer() as port:
        check_spark_master(f"spark://127.0.0.1:{port}", **RAY_FAST)


def test_spark_web_ui_silent_listener_other_protocol_closed_port() -> None:
    with _http_server() as port, pytest.raises(UsageError) as info:
        check_spark_master(f"spark://127.0.0.1:{port}", **RAY_FAST)
    assert info.value.message == (
        f"--address spark://127.0.0.1:{port}: 127.0.0.1:{port} is a web (HTTP) server "
        "('HTTP/1.0 200 OK'), not a Spark master"
    )
    with _listener(None) as port, pytest.raises(UsageError) as info:
        check_spark_master(f"spark://127.0.0.1:{port}", **RAY_FAST)
    assert info.value.message == (
        f"--address spark://127.0.0.1:{port}: 127.0.0.1:{port} accepted the connection but "
        "neither answered nor closed it within 0.5 s, as a Spark master does on bytes it cannot "
        "read: not a Spark master"
    )
    with _listener(b"SSH-2.0-OpenSSH_9.6\r\n") as port, pytest.raises(UsageError) as info:
        check_spark_master(f"spark://127.0.0.1:{port}", **RAY_FAST)
    assert "a Spark master would not have (it sent 'SSH-2.0-OpenSSH_" in info.value.message
    port = _free_port()
    with pytest.raises(UsageError, match=r"nothing listens on 127\.0\.0\.1:\d+ \(connection"):
        check_spark_master(f"spark://127.0.0.1:{port}", **RAY_FAST)


@pytest.mark.parametrize(
    ("address", "targets"),
    [
        ("local[*]", []),
        ("yarn", []),
        ("k8s://https://10.0.0.1:6443", []),
        ("spark://m1", [("m1", 7077)]),
        ("spark://m1:7077,m2:7078", [("m1", 7077), ("m2", 7078)]),
    ],
)
def test_spark_masters_probed_are_the_standalone_ones(address: str, targets) -> None:
    assert spark_host_ports(address) == targets


@pytest.mark.parametrize("engine", ["ray", "spark"])
def test_cli_forecast_ray_spark_on_a_web_server_fail_fast(
    cli, tmp_path: Path, monkeypatch, engine: str
) -> None:
    # The probe needs neither Ray nor PySpark: pretend they are installed, so that the address
    # (not the missing package) is what fails; the real time limits hold.
    import segchain.cli.endpoint as endpoint

    monkeypatch.setattr(endpoint, "_installed", lambda module: True)
    scheme = "ray" if engine == "ray" else "spark"
    with _http_server() as port:
        start = time.monotonic()
        result = cli(
            "forecast", "absent.csv", "--orders", "absent.csv", "--engine", engine,
            "--address", f"{scheme}://127.0.0.1:{port}", "-o", str(tmp_path / "fc.parquet"),
        )  # fmt: skip
        took = time.monotonic() - start
    assert result.exit_code == 2, result.stderr
    assert took < 15
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        f"segchain forecast: Error: --address {scheme}://127.0.0.1:{port}: 127.0.0.1:{port} is "
        "a web (HTTP) server ('HTTP/1.0 "
    )
    assert len(lines) == 2 and lines[1].startswith("segchain forecast:   hint: ")
    assert not (tmp_path / "fc.parquet").exists()
