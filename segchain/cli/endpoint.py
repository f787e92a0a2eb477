"""Fail fast on distributed engines: the engine installed and its address answering, checked
before any input is read, with the standard library only (the probes need neither Ray nor
PySpark installed).

A Dask scheduler speaks first: on accepting a connection it writes its handshake, a frame
whose 8-byte little-endian length is followed by the frame count (``distributed.comm.tcp``).
So a few seconds of reading tell a scheduler from a closed port, a silent listener or another
protocol (an HTTP server, often the scheduler's own dashboard on port 8787).

Ray's addresses (the GCS, ``HOST:6379``, and the Ray Client server, ``ray://HOST:10001``) are
gRPC servers: sent the HTTP/2 connection preface and an empty SETTINGS frame, they answer with
a SETTINGS frame (RFC 9113, section 3.4). An HTTP/1 server (Ray's dashboard, on 8265) answers
``HTTP/1.x ...``; a silent listener sends nothing.

A Spark standalone master (``spark://HOST:7077``) waits for the client. Its RPC layer reads an
8-byte frame length first, so a line of HTTP is a frame far too large, and it closes the
connection at once; a web server (the master's UI, on 8080) answers ``HTTP/1.x``, a silent
listener holds the connection without a word. Other masters (``local[*]``, ``yarn``, ``k8s://``)
are not probed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import struct

from segchain.errors import UsageError

CONNECT_SECONDS = 5.0  # to open the TCP connection
HANDSHAKE_SECONDS = 5.0  # for a scheduler's first bytes (it writes them at once)
IDENTIFY_SECONDS = 2.0  # for an answer to an HTTP request, to name what listens instead

DASK_PORT = 8786
DASK_HINT = (
    "a Dask scheduler listens on tcp://HOST:8786 by default (its dashboard, on 8787, is "
    "HTTP); start one with `dask scheduler`, or leave --address out for a local cluster"
)

RAY_GCS_PORT = 6379
RAY_CLIENT_PORT = 10001
RAY_HINT = (
    "a Ray cluster's address is its head node's GCS, HOST:6379 (`ray start --head`), or "
    "ray://HOST:10001 for the Ray Client server (the dashboard, on 8265, is HTTP); or leave "
    "--address out for a local Ray"
)
RAY_FILE_HINT = (
    "`ray start` left that address in {path}; if that cluster is gone, `ray stop` (or removing "
    "the file) clears it; or give --address local for a Ray of this run's own"
)
SPARK_PORT = 7077
SPARK_HINT = (
    "a Spark standalone master listens on spark://HOST:7077 (its web UI, on 8080, is HTTP); or "
    "give local[*], yarn or k8s://..., or leave --address out for a local Spark"
)
# HTTP/2's client connection preface and an empty SETTINGS frame (RFC 9113, section 3.4).
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
H2_SETTINGS = 0x04

# What each engine needs installed: (module, package to install), the pip extra.
ENGINE_MODULES: dict[str, tuple[tuple[tuple[str, str], ...], str]] = {
    "dask": ((("distributed", "Dask"), ("dask.dataframe", "Dask")), "dask"),
    "ray": ((("ray", "Ray"), ("fugue_ray", "fugue[ray]")), "ray"),
    "spark": ((("pyspark", "PySpark"), ("fugue_spark", "fugue[spark]")), "spark"),
}


def check_engine(engine: str, address: str | None) -> None:
    """The engine's packages are installed and ``address`` answers as the engine's server does
    (a Dask scheduler, a Ray cluster, a Spark standalone master).

    Raises:
        UsageError: a package is missing, or the address is malformed, unreachable or not the
            engine's server (exit 2, one message, within seconds).
    """
    needed = ENGINE_MODULES.get(engine)
    if needed is not None:
        modules, extra = needed
        for module, package in modules:
            if not _installed(module):
                raise UsageError(
                    f"--engine {engine} needs {package}, which is not installed",
                    hint=f"pip install 'segchain[{extra}]'",
                )
    if engine == "spark":
        check_java()
    if engine == "dask" and address:
        check_dask_scheduler(address)
    elif engine == "ray":
        check_ray_cluster(address)
    elif engine == "spark" and address:
        check_spark_master(address)


def check_java() -> None:
    """Raise UsageError when there is no Java for Spark's JVM: the run failed after its inputs
    were read, with Spark's 'Java gateway process exited' traceback (136 lines).

    Spark's launcher runs ``$JAVA_HOME/bin/java`` when JAVA_HOME is set, else ``java`` from
    PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        java = os.path.join(home, "bin", "java")
        if os.path.isfile(java) and os.access(java, os.X_OK):
            return
        where = f"JAVA_HOME is {home}, which has no bin/java (a JDK removed or upgraded?)"
    elif shutil.which("java"):
        return
    else:
        where = "no java is on PATH and JAVA_HOME is not set"
    raise UsageError(
        f"--engine spark needs Java: {where}",
        hint="install a Java runtime that Spark supports (17 or 21) and set JAVA_HOME to it",
    )


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a broken install
        return False


def _check_dask_workers(address: str, label: str, timeout: float) -> None:
    """Raise UsageError when the scheduler at ``address`` has no worker: the backtest's tasks
    would wait for one for ever, the progress line saying '0 of 491 series' (audit of session
    60: killed after 5 minutes). A worker that joins later is not waited for."""
    from distributed import Client

    try:
        with Client(address, timeout=f"{timeout:g}s", set_as_default=False) as client:
            workers = client.scheduler_info().get("workers", {})
    except Exception:  # noqa: BLE001 - a check that cannot tell must not refuse
        return  # it answered the handshake; the run's own connection says what fails
    if not workers:
        raise UsageError(
            f"{label}: the Dask scheduler there has no worker, so nothing would run the models "
            "(the run would wait for one without end)",
            hint=f"start one with `dask worker {address.strip()}`, or leave --address out for "
            "a local cluster",
        )


def parse_dask_address(address: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of a TCP-based Dask address; None for ucx://, which is not
    probed from here.

    Raises:
        UsageError: the address cannot be read, or is no address a Dask scheduler in another
            process listens on (http://, https://, inproc://, an unknown scheme).
    """
    text = address.strip()
    scheme, sep, location = text.rpartition("://")
    scheme = scheme.lower() if sep else "tcp"
    if scheme == "ucx":
        return None  # needs UCX's own stack: nothing to probe from here
    if scheme not in ("tcp", "tls", "ws", "wss"):
        # These went on to distributed.Client after the inputs were read, and ended in its
        # traceback ('unknown address scheme 'http''): the dashboard's URL is the likeliest
        # paste.
        hint = _dask_hint_for(text) if scheme in ("http", "https") else DASK_HINT
        raise UsageError(_not_a_dask_scheme(address, scheme), hint=hint)
    host, port = _host_port(address, location, DASK_PORT, "e.g. tcp://10.0.0.5:8786")
    return scheme, host, port


def _not_a_dask_scheme(address: str, scheme: str) -> str:
    """Why ``address``, of ``scheme``, is no Dask scheduler's address."""
    label = f"--address {address}"
    if scheme in ("http", "https"):
        return (
            f"{label}: a web ({scheme}) address, such as the scheduler's dashboard, not the "
            "scheduler's own"
        )
    if scheme == "inproc":
        return (
            f"{label}: inproc:// is Dask's transport within one process; a scheduler in "
            "another process cannot be reached by it"
        )
    return (
        f"{label}: not a Dask address (scheme {scheme + '://'!r}; Dask's are tcp://, tls://, "
        "ws://, wss:// and ucx://)"
    )


def _dask_hint_for(text: str) -> str:
    """The standard hint, led by the scheduler's likely address on the host the web address
    ``text`` names."""
    from urllib.parse import urlsplit

    try:
        host = urlsplit(text).hostname
    except ValueError:
        host = None
    if not host:
        return DASK_HINT
    shown = f"[{host}]" if ":" in host else host
    return f"the scheduler itself is likely at tcp://{shown}:{DASK_PORT}; " + DASK_HINT


def check_dask_scheduler(
    address: str,
    *,
    connect_seconds: float = CONNECT_SECONDS,
    handshake_seconds: float = HANDSHAKE_SECONDS,
    identify_seconds: float = IDENTIFY_SECONDS,
) -> None:
    """Raise UsageError unless a Dask scheduler answers at ``address``.

    Over tls:// and ws(s):// only the connection is checked (their handshake needs the
    cluster's certificates or a websocket upgrade).
    """
    parsed = parse_dask_address(address)
    if parsed is None:
        return
    scheme, host, port = parsed
    label = f"--address {address}"
    conn = _connect(label, host, port, connect_seconds, DASK_HINT)
    with conn:
        if scheme != "tcp":
            return
        first = _read_some(conn, 16, handshake_seconds)
        if first and _looks_like_dask(first):
            conn.close()
            _check_dask_workers(address, label, connect_seconds)
            return
        if first:
            raise UsageError(
                f"{label}: {host}:{port} answered, but not as a Dask scheduler does "
                f"(it sent {_shown(first)})",
                hint=DASK_HINT,
            )
        # A scheduler would have spoken by now. Ask as a web client, to say what listens.
        _send_head(conn, host)
        reply = _read_some(conn, 64, identify_seconds)
    if reply.startswith(b"HTTP/"):
        status = reply.split(b"\r\n", 1)[0].decode("ascii", "replace")
        raise UsageError(
            f"{label}: {host}:{port} is a web (HTTP) server ({status!r}), not a Dask scheduler",
            hint=DASK_HINT,
        )
    raise UsageError(
        f"{label}: {host}:{port} accepted the connection but sent nothing in "
        f"{handshake_seconds:g} s; a Dask scheduler greets at once: this is not one",
        hint=DASK_HINT,
    )


def _host_port(address: str, text: str, default_port: int, hint: str) -> tuple[str, int]:
    """``(host, port)`` of ``text`` (``HOST``, ``HOST:PORT``, ``[IPv6]:PORT``).

    Raises:
        UsageError: it cannot be read.
    """
    location = text.strip().rstrip("/")
    host, port_text = location, ""
    if location.startswith("["):
        host, _, rest = location[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif location.count(":") == 1:
        host, _, port_text = location.partition(":")
    if not host or "/" in host or " " in host:
        raise UsageError(f"--address {address!r}: not a host and port", hint=hint)
    if not port_text:
        return host, default_port
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise UsageError(
            f"--address {address}: the port must be a number from 1 to 65535, got {port_text!r}",
            hint=hint,
        )
    return host, port


def _connect(label: str, host: str, port: int, seconds: float, hint: str) -> socket.socket:
    """An open TCP connection, or UsageError saying why there is none."""
    try:
        return socket.create_connection((host, port), timeout=seconds)
    except socket.gaierror:
        raise UsageError(f"{label}: unknown host {host!r}", hint=hint) from None
    except ConnectionRefusedError:
        raise UsageError(
            f"{label}: nothing listens on {host}:{port} (connection refused)", hint=hint
        ) from None
    except TimeoutError:
        raise UsageError(
            f"{label}: no answer from {host}:{port} within {seconds:g} s (a wrong host, or a "
            "firewall)",
            hint=hint,
        ) from None
    except OSError as exc:
        raise UsageError(
            f"{label}: cannot connect to {host}:{port}: {exc.strerror or exc}", hint=hint
        ) from None


def _web_server(label: str, host: str, port: int, reply: bytes, what: str, hint: str) -> None:
    """Raise UsageError naming an HTTP/1 server, if ``reply`` is one's."""
    if reply.startswith(b"HTTP/"):
        status = reply.split(b"\r\n", 1)[0].decode("ascii", "replace")
        raise UsageError(
            f"{label}: {host}:{port} is a web (HTTP) server ({status!r}), not {what}", hint=hint
        )


def ray_host_port(address: str) -> tuple[str, int] | None:
    """``(host, port)`` to probe for a Ray ``address``; None for ``auto`` and ``local``."""
    text = address.strip()
    if text.lower() in ("auto", "local", ""):
        return None
    scheme, sep, location = text.rpartition("://")
    if not sep:
        return _host_port(address, text, RAY_GCS_PORT, RAY_HINT)
    if scheme.lower() != "ray":
        raise UsageError(
            f"--address {address}: not a Ray address (scheme {scheme + '://'!r})", hint=RAY_HINT
        )
    return _host_port(address, location, RAY_CLIENT_PORT, RAY_HINT)


def ray_address_file() -> str:
    """The file in which `ray start` leaves its cluster's address (Ray's own lookup)."""
    import sys

    if "RAY_TMPDIR" in os.environ:
        tmp = os.environ["RAY_TMPDIR"]
    elif sys.platform.startswith("linux") and "TMPDIR" in os.environ:
        tmp = os.environ["TMPDIR"]
    else:
        tmp = "/tmp"  # noqa: S108 - Ray's own default, on Linux and macOS
    return os.path.join(tmp, "ray", "ray_current_cluster")


def check_ray_cluster(address: str | None) -> None:
    """Probe the cluster ``ray.init`` would connect to: ``RAY_ADDRESS`` (it overrides
    --address), else ``address``, else, for ``auto`` or no address, the one `ray start` left in
    ``ray_address_file``. ``auto`` with nothing running ended in Ray's traceback; a cluster gone
    (the file left behind, its head's address unroutable) made the run wait for minutes, even
    without --address.

    Raises:
        UsageError: ``auto`` finds no cluster, or the cluster found does not answer.
    """
    given = (address or "").strip()
    from_env = os.environ.get("RAY_ADDRESS", "").strip()
    if from_env and from_env.lower() != "auto":
        shown = (
            f"RAY_ADDRESS {from_env}"
            if not given
            else f"--address {given} (RAY_ADDRESS {from_env}, which Ray connects to instead)"
        )
        check_ray_address(from_env, label=shown)
        return
    if given and given.lower() not in ("auto", ""):
        check_ray_address(given)
        return
    path = ray_address_file()
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            found = f.read().strip()
    except OSError:
        found = ""
    if found:
        # Ray connects to it even without --address: a cluster this machine joined stays its
        # default until `ray stop`.
        where = f"--address {given}" if given else "--engine ray"
        label = f"{where}: the Ray cluster that {path} names"
        check_ray_address(found, label=label, hint=RAY_FILE_HINT.format(path=path))
    elif given:
        raise UsageError(
            f"--address {given}: no Ray cluster was started on this machine ({path} does not "
            "exist, RAY_ADDRESS is not set)",
            hint="start one with `ray start --head`, give its address (HOST:6379), or leave "
            "--address out for a local Ray",
        )


def check_ray_address(
    address: str,
    *,
    label: str | None = None,
    hint: str = RAY_HINT,
    connect_seconds: float = CONNECT_SECONDS,
    reply_seconds: float = HANDSHAKE_SECONDS,
) -> None:
    """Raise UsageError unless a gRPC (HTTP/2) server, as Ray's GCS and client server are,
    answers at ``address`` (``label`` names it in messages; ``--address ADDRESS``)."""
    target = ray_host_port(address)
    if target is None:
        return
    host, port = target
    label = label or f"--address {address}"
    what = "a Ray cluster (gRPC)"
    with _connect(label, host, port, connect_seconds, hint) as conn:
        with contextlib.suppress(OSError):
            conn.sendall(H2_PREFACE)
        reply = _read_some(conn, 9, reply_seconds)
    if len(reply) == 9 and reply[3] == H2_SETTINGS:
        return
    if reply and not reply.startswith(b"HTTP/"):
        # Some web servers answer the HTTP/2 preface with a bare error page: ask as a web
        # client, to say what listens.
        reply = _identify(host, port, connect_seconds, IDENTIFY_SECONDS) or reply
    _web_server(label, host, port, reply, what, hint)
    if reply:
        raise UsageError(
            f"{label}: {host}:{port} answered, but not as a gRPC server does (it sent "
            f"{_shown(reply)}): not {what}",
            hint=hint,
        )
    raise UsageError(
        f"{label}: {host}:{port} accepted the connection but did not answer an HTTP/2 "
        f"greeting within {reply_seconds:g} s: not {what}",
        hint=hint,
    )


def _send_head(conn: socket.socket, host: str) -> None:
    """A web client's ``HEAD /`` request (a peer that already closed is told by the reply)."""
    with contextlib.suppress(OSError):
        conn.sendall(f"HEAD / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode("ascii", "replace"))


def _identify(host: str, port: int, connect_seconds: float, seconds: float) -> bytes:
    """A web server's status line, from a fresh connection (b"" when it is not one)."""
    try:
        conn = socket.create_connection((host, port), timeout=connect_seconds)
    except OSError:
        return b""
    with conn:
        _send_head(conn, host)
        reply = _read_some(conn, 64, seconds)
    return reply if reply.startswith(b"HTTP/") else b""


def spark_host_ports(address: str) -> list[tuple[str, int]]:
    """``(host, port)`` of each master in a ``spark://`` URL (several for standby masters,
    ``spark://h1:7077,h2:7077``); none for other masters (``local[*]``, ``yarn``, ``k8s://``)."""
    scheme, sep, location = address.strip().rpartition("://")
    if not sep or scheme.lower() != "spark":
        return []
    return [_host_port(address, part, SPARK_PORT, SPARK_HINT) for part in location.split(",")]


def check_spark_master(
    address: str,
    *,
    connect_seconds: float = CONNECT_SECONDS,
    reply_seconds: float = HANDSHAKE_SECONDS,
) -> None:
    """Raise UsageError unless each master of a ``spark://`` ``address`` behaves as a Spark
    standalone master does: it takes a connection and closes it on a frame it cannot read."""
    label = f"--address {address}"
    what = "a Spark master"
    _check_spark_master_kind(address)
    for host, port in spark_host_ports(address):
        with _connect(label, host, port, connect_seconds, SPARK_HINT) as conn:
            _send_head(conn, host)
            reply, closed = _read_until_closed(conn, 64, reply_seconds)
        if closed and not reply:
            continue
        _web_server(label, host, port, reply, what, SPARK_HINT)
        if reply:
            raise UsageError(
                f"{label}: {host}:{port} answered, but a Spark master would not have (it sent "
                f"{_shown(reply)})",
                hint=SPARK_HINT,
            )
        raise UsageError(
            f"{label}: {host}:{port} accepted the connection but neither answered nor closed it "
            f"within {reply_seconds:g} s, as a Spark master does on bytes it cannot read: not "
            f"{what}",
            hint=SPARK_HINT,
        )


def _check_spark_master_kind(address: str) -> None:
    """Refuse a master Spark does not know, and yarn without its cluster's configuration: both
    ended after the inputs were read, in Spark's line and a 148-line traceback."""
    text = address.strip().lower()
    if text == "yarn":
        if not (os.environ.get("HADOOP_CONF_DIR") or os.environ.get("YARN_CONF_DIR")):
            raise UsageError(
                f"--address {address}: neither HADOOP_CONF_DIR nor YARN_CONF_DIR is set, so "
                "Spark cannot find the YARN cluster",
                hint="set HADOOP_CONF_DIR to the folder holding the cluster's yarn-site.xml "
                "and core-site.xml",
            )
        return
    if text == "local" or text.startswith(("local[", "local-cluster[")):
        return
    if text.startswith(("spark://", "k8s://", "mesos://")):
        return
    raise UsageError(
        f"--address {address}: not a Spark master (Spark's are local[*], spark://HOST:7077, "
        "yarn and k8s://https://HOST:PORT)",
        hint=SPARK_HINT,
    )


def _read_until_closed(conn: socket.socket, n: int, seconds: float) -> tuple[bytes, bool]:
    """Up to ``n`` bytes within ``seconds``, and whether the peer closed the connection."""
    import time

    deadline = time.monotonic() + seconds
    data = b""
    while len(data) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, False
        conn.settimeout(left)
        try:
            chunk = conn.recv(n - len(data))
        except TimeoutError:
            return data, False
        except OSError:  # reset by the peer
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def _read_some(conn: socket.socket, n: int, seconds: float) -> bytes:
    """Up to ``n`` bytes, or what came within ``seconds`` (b"" for nothing or a closed peer)."""
    import time

    conn.settimeout(seconds)
    deadline = time.monotonic() + seconds
    data = b""
    while len(data) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        conn.settimeout(left)
        try:
            chunk = conn.recv(n - len(data))
        except (TimeoutError, OSError):
            break
        if not chunk:
            break
        data += chunk
    return data


def _looks_like_dask(first: bytes) -> bool:
    # distributed.comm.tcp: uint64 message length, then the prelude's uint64 frame count.
    if len(first) < 16:
        return False
    length, frames = struct.unpack("<QQ", first[:16])
    return 16 <= length <= (1 << 24) and 1 <= frames <= 1024


def _shown(data: bytes) -> str:
    text = data[:16]
    if all(32 <= b < 127 for b in text):
        return repr(text.decode("ascii"))
    return "bytes " + text.hex(" ")
