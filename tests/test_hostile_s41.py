"""Hostile-user findings of session 41: each test fails on the code before its fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXE = Path(sys.executable).with_name("segchain")
needs_exe = pytest.mark.skipif(not EXE.exists(), reason="segchain console script not installed")

ORDERS = "order_id,order_date,customer_id,sku,quantity,unit_price\n" + "".join(
    f"{i},2024-03-{1 + i % 28:02d},C{i % 7},S{i % 3},{1 + i % 4},10\n" for i in range(60)
)
BAD_LINE = "61,not a date,C1,S1,1,10\n"


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS)
    return path


def closed_pipe() -> int:
    """The write end of a pipe whose reader is gone: `| head` once head has exited."""
    read, write = os.pipe()
    os.close(read)
    return write


# ---- a closed pipe on stderr -------------------------------------------------------------------
# `segchain segment orders.csv -o seg.csv 2>&1 | head -1`: once head had exited, the next message
# killed the run with SIGPIPE (exit 141) before seg.csv was written.


@needs_exe
@pytest.mark.parametrize("command", ["validate", "segment"])
def test_outputs_are_written_when_stderr_is_a_closed_pipe(
    orders: Path, tmp_path: Path, command: str
) -> None:
    out = tmp_path / "out.csv"
    stderr = closed_pipe()
    try:
        proc = subprocess.run(
            [str(EXE), command, str(orders), "-o", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            timeout=120,
        )
    finally:
        os.close(stderr)
    assert proc.returncode == 0
    assert (
        out.read_text()
        .splitlines()[0]
        .startswith("order_id," if command == "validate" else "customer_id,")
    )


@needs_exe
def test_a_data_error_still_exits_1_when_stderr_is_a_closed_pipe(tmp_path: Path) -> None:
    stderr = closed_pipe()
    try:
        proc = subprocess.run(
            [str(EXE), "validate", str(tmp_path / "missing.csv")], stderr=stderr, timeout=120
        )
    finally:
        os.close(stderr)
    assert proc.returncode == 1


# A table on stdout into a closed pipe still ends the run quietly with SIGPIPE's code (a shell
# saw 141 before too, when SIGPIPE killed it), and now writes none of its other outputs and
# leaves no temporary file: the kill had left '.rejects.csv.XXXX.tmp' beside --rejects.


@needs_exe
def test_a_table_on_a_closed_stdout_ends_quietly_and_leaves_no_file(
    orders: Path, tmp_path: Path
) -> None:
    orders.write_text(ORDERS + BAD_LINE)
    stdout = closed_pipe()
    try:
        proc = subprocess.run(
            [str(EXE), "validate", str(orders), "-o", "-", "--rejects", "rejects.csv"],
            stdout=stdout,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            timeout=120,
        )
    finally:
        os.close(stdout)
    assert proc.returncode == 141
    assert b"Traceback" not in proc.stderr and b"BrokenPipe" not in proc.stderr
    assert b"Error" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.csv"]
