"""Fail fast on distributed engines: the engine installed and its address answering, checked
before any input is read.

A Dask scheduler speaks first: on accepting a connection it writes its handshake, a frame
whose 8-byte little-endian length is followed by the frame count (``distributed.comm.tcp``).
So a few seconds of reading tell a scheduler from a closed port, a silent listener or another
protocol (an HTTP server, often the scheduler's own dashboard on port 8787).
"""

from __future__ import annotations

import contextlib
import importlib.util
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

# What each engine needs installed: (module, package to install), the pip extra.
ENGINE_MODULES: dict[str, tuple[tuple[tuple[str, str], ...], str]] = {
    "dask": ((("distributed", "Dask"), ("dask.dataframe", "Dask")), "dask"),
    "ray": ((("ray", "Ray"), ("fugue_ray", "fugue[ray]")), "ray"),
    "spark": ((("pyspark", "PySpark"), ("fugue_spark", "fugue[spark]")), "spark"),
}


def check_engine(engine: str, address: str | None) -> None:
    """The engine's packages are installed and, for Dask, ``address`` is a scheduler.

    Raises:
        UsageError: a package is missing, or the address is malformed, unreachable or not a
            Dask scheduler (exit 2, one message, within seconds).
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
    if engine == "dask" and address:
        check_dask_scheduler(address)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a broken install
        return False


def parse_dask_address(address: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of a TCP-based Dask address; None for other transports.

    Raises:
        UsageError: the address cannot be read.
    """
    text = address.strip()
    scheme, sep, location = text.rpartition("://")
    scheme = scheme.lower() if sep else "tcp"
    if scheme not in ("tcp", "tls", "ws", "wss"):
        return None  # ucx://, inproc://: nothing to probe from here
    location = location.rstrip("/")
    host, port_text = location, ""
    if location.startswith("["):  # [::1]:8786
        host, _, rest = location[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif location.count(":") == 1:
        host, _, port_text = location.partition(":")
    if not host or "/" in host or " " in host:
        raise UsageError(
            f"--address {address!r}: not a scheduler address", hint="e.g. tcp://10.0.0.5:8786"
        )
    if not port_text:
        return scheme, host, DASK_PORT
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise UsageError(
            f"--address {address}: the port must be a number from 1 to 65535, got {port_text!r}",
            hint="e.g. tcp://10.0.0.5:8786",
        )
    return scheme, host, port


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
    try:
        conn = socket.create_connection((host, port), timeout=connect_seconds)
    except socket.gaierror:
        raise UsageError(f"{label}: unknown host {host!r}", hint=DASK_HINT) from None
    except ConnectionRefusedError:
        raise UsageError(
            f"{label}: nothing listens on {host}:{port} (connection refused)", hint=DASK_HINT
        ) from None
    except TimeoutError:
        raise UsageError(
            f"{label}: no answer from {host}:{port} within {connect_seconds:g} s (a wrong "
            "host, or a firewall)",
            hint=DASK_HINT,
        ) from None
    except OSError as exc:
        raise UsageError(
            f"{label}: cannot connect to {host}:{port}: {exc.strerror or exc}", hint=DASK_HINT
        ) from None
    with conn:
        if scheme != "tcp":
            return
        first = _read_some(conn, 16, handshake_seconds)
        if first and _looks_like_dask(first):
            return
        if first:
            raise UsageError(
                f"{label}: {host}:{port} answered, but not as a Dask scheduler does "
                f"(it sent {_shown(first)})",
                hint=DASK_HINT,
            )
        # A scheduler would have spoken by now. Ask as a web client, to say what listens.
        with contextlib.suppress(OSError):
            conn.sendall(f"HEAD / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode("ascii", "replace"))
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
