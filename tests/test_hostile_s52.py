"""Hostile-environment findings of session 52: each test fails on the code before its fix.

The known answers are the bytes of the files the tests write themselves: an input is intact when
it still holds them, and a folder is clean when it holds only the files the test put there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXE = Path(sys.executable).with_name("segchain")
needs_exe = pytest.mark.skipif(not EXE.exists(), reason="segchain console script not installed")

ORDERS = "order_id,order_date,customer_id,sku,quantity,unit_price\n" + "".join(
    f"{i},2024-03-{1 + i % 28:02d},C{i % 7},S{i % 3},{1 + i % 4},10\n" for i in range(60)
)


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS)
    return path


def shell(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in sh with ``$S`` the segchain executable: the redirections are the
    shell's, as a user's Makefile or cron line makes them."""
    return subprocess.run(
        ["sh", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"S": str(EXE), "PATH": "/usr/bin:/bin", "NO_COLOR": "1", "TERMINAL_WIDTH": "200"},
    )


# ---- 1. stdout redirected onto an input --------------------------------------------------------
# `segchain segment orders.csv >> orders.csv` appended the segments to the orders file, exit 0:
# the next run read a segments header and its rows among the order lines. `> orders.csv` (a
# typo of '>' for '-o', or the same name twice in a Makefile rule) emptied the orders before
# segchain started, which then said 'orders.csv: the file is empty; hint: check the export; it
# has no header' (exit 1), blaming an export that was fine a second before. stdout was never
# compared with the inputs, as -o is.


@needs_exe
@pytest.mark.parametrize(
    "script",
    [
        "$S segment orders.csv >> orders.csv",
        "$S validate orders.csv -o /dev/stdout >> orders.csv",
        "$S segment - < orders.csv >> orders.csv",
        "$S validate orders.csv -o /dev/null --rejects - 1<> orders.csv",
    ],
)
def test_stdout_appended_to_an_input_is_refused_and_the_input_kept(
    orders: Path, script: str
) -> None:
    proc = shell(script, orders.parent)
    assert proc.returncode == 2, proc.stderr
    assert "goes to the input INPUT " in proc.stderr
    assert "; writing it would destroy the input\n" in proc.stderr
    assert "hint: send stdout to a file that is no input (> other.csv)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert orders.read_text() == ORDERS
    assert sorted(p.name for p in orders.parent.iterdir()) == ["orders.csv"]


@needs_exe
def test_stdout_that_emptied_an_input_says_the_shell_did_it(orders: Path) -> None:
    proc = shell("$S segment orders.csv > orders.csv", orders.parent)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        "segchain segment: Error: -o -: stdout goes to the input INPUT orders.csv, which is "
        "empty: the shell's '>' empties its file before the command starts\n"
        "segchain segment:   hint: send stdout to a file that is no input (> other.csv), or "
        "give -o FILE; if orders.csv held data, restore it from its source\n"
    )


@needs_exe
def test_stdout_into_the_folder_of_the_orders_is_refused(tmp_path: Path) -> None:
    # The shell makes exports/seg.csv before segchain lists the folder: the output was read as
    # an empty export ('exports/seg.csv: the file is empty').
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "a.csv").write_text(ORDERS)
    proc = shell("$S segment exports > exports/seg.csv", tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "-o -: stdout goes to the input INPUT exports/seg.csv, which is empty" in proc.stderr
    assert (tmp_path / "exports" / "seg.csv").read_text() == ""


@needs_exe
def test_a_config_named_table_under_stdout_is_refused(tmp_path: Path) -> None:
    (tmp_path / "seg.csv").write_text("customer_id,segment,lat,lon\nC1,A,48.8,2.3\nC2,B,50.1,8.7\n")
    sites = "site_id,lat,lon\nDC1,48.9,2.4\n"
    (tmp_path / "sites.csv").write_text(sites)
    (tmp_path / "c.toml").write_text('[network]\nsites = "sites.csv"\n')
    proc = shell("$S network seg.csv --config c.toml >> sites.csv", tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "-o -: stdout goes to the input c.toml [network] sites sites.csv; writing it" in (
        proc.stderr
    )
    assert (tmp_path / "sites.csv").read_text() == sites


@needs_exe
def test_stdout_to_another_file_is_still_written(orders: Path) -> None:
    proc = shell("$S validate orders.csv -o - > clean.csv", orders.parent)
    assert proc.returncode == 0, proc.stderr
    assert (orders.parent / "clean.csv").read_text().startswith("order_id,")
    assert orders.read_text() == ORDERS
