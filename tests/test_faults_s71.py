"""Faults a cron job meets (session 71): descriptors the shell closed.

Run as a process (``python -m segchain`` from this checkout), as a cron line runs it: the
descriptors are the process's own, which an in-process runner does not have.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[1]
HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price\n"


def _segchain(*args: str, close: tuple[int, ...]) -> subprocess.CompletedProcess[bytes]:
    """Run segchain with descriptors ``close`` closed, as the shell's ``>&-`` closes them. A run
    that hangs is killed (SIGKILL: a hung run took no SIGTERM) and fails the test."""

    def closed() -> None:
        for fd in close:
            os.close(fd)

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "segchain", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        preexec_fn=closed,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    """A small export as Parquet: reading it starts polars' I/O runtime, whose descriptor went
    to the closed stdout's number."""
    csv = tmp_path / "orders.csv"
    lines = (f"{i},2024-03-{1 + i % 28:02d},C{i % 7},S{i % 3},{1 + i % 4},10\n" for i in range(60))
    csv.write_text(HEADER + "".join(lines))

    path = tmp_path / "orders.parquet"
    pl.read_csv(csv, schema_overrides={"order_id": pl.String}).write_parquet(path)
    return path


@pytest.mark.parametrize("close", [(1,), (0, 1), (0,)])
def test_a_closed_stdout_or_stdin_neither_hangs_nor_stops_a_run_writing_a_file(
    orders: Path, tmp_path: Path, close: tuple[int, ...]
) -> None:
    # segment o.parquet -o seg.csv >&- hung for ever after a Rust panic in polars' runtime
    # (its epoll descriptor took number 1, which the progress display then pointed at stderr).
    out = tmp_path / "seg.csv"
    try:
        done = _segchain("segment", str(orders), "-o", str(out), close=close)
    except subprocess.TimeoutExpired:
        pytest.fail(f"segchain hung with descriptors {close} closed")
    err = done.stderr.decode()
    assert done.returncode == 0, err
    assert "panicked" not in err and "Traceback" not in err
    assert out.read_text().startswith("customer_id")
    assert len(out.read_text().splitlines()) == 1 + 7  # C0..C6


def test_a_table_onto_a_closed_stdout_is_still_refused(orders: Path) -> None:
    done = _segchain("segment", str(orders), "-o", "-", close=(1,))
    assert done.returncode == 2
    assert b"-o -: stdout is closed" in done.stderr


@pytest.fixture
def full_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 64 KiB file system with 4 KiB free (a tmpfs: needs root and a mount namespace that
    allows it, else skipped)."""
    folder = tmp_path / "small"
    folder.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (not root, or no mount permission)")
    try:
        (folder / "filler").write_bytes(b"\0" * (60 * 1024))
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_a_disk_filling_while_parquet_is_written_is_said_without_a_traceback(
    full_disk: Path,
) -> None:
    # polars said 'parquet: File out of specification: Invalid thrift: transport error' for
    # the full disk, errno lost: a ComputeError traceback (validate of the demo's orders).
    csv = ROOT / "sample_data" / "orders.csv"  # the demo's export, as it failed
    out = full_disk / "orders.parquet"
    done = _segchain("validate", str(csv), "-o", str(out), close=())
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert "Traceback" not in err and "ComputeError" not in err
    assert f"-o {out}: cannot write: no space left on the device" in err
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler"]  # no temporary file left
