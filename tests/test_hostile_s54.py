"""Hostile-environment findings of session 54: each test fails on the code before its fix.

The known answers are the bytes of the files the tests write themselves (an input is intact when
it still holds them) and what the terminal showed."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_hostile_s53 import ORDERS, needs_exe, on_terminal, orders, shell

__all__ = ["orders"]  # the fixture, used by name

# ---- 1. an error before the command knows its inputs, with stderr onto one -------------------
# `segchain segment orders.csv --bad 2>> orders.csv`: the parser's error ('No such option:
# --bad', its usage line and hint) was appended to the orders, exit 2; so was an error of the
# checks that run before the inputs are registered (a bad --map). The command's own refusal of
# such a stderr came too late for them. The message now goes to the terminal, else nowhere.


@needs_exe
@pytest.mark.parametrize(
    "script",
    [
        "$S segment orders.csv --no-such-option 2>> orders.csv",
        "$S segment orders.csv --k not-a-number 2>> orders.csv",
        "$S segment --input=orders.csv 2>> orders.csv",  # the name after an option's '='
        "$S forecast orders.csv --map nonsense -o f.csv 2>> orders.csv",
    ],
)
def test_an_early_error_is_not_appended_to_an_input(orders: Path, script: str) -> None:
    proc = shell(script, orders.parent)
    assert proc.returncode == 2
    assert orders.read_text() == ORDERS
    assert sorted(p.name for p in orders.parent.iterdir()) == ["orders.csv"]


@needs_exe
def test_an_early_error_with_stderr_onto_an_input_is_said_on_the_terminal(orders: Path) -> None:
    script = "$S segment orders.csv --no-such-option 2>> orders.csv"
    code, shown = on_terminal(script, orders.parent)
    assert code == 2
    assert "Error: No such option: --no-such-option" in shown
    assert orders.read_text() == ORDERS


@needs_exe
def test_an_early_error_still_goes_to_a_log(orders: Path) -> None:
    proc = shell("$S segment orders.csv --no-such-option 2>> run.log", orders.parent)
    assert proc.returncode == 2
    assert "No such option: --no-such-option" in (orders.parent / "run.log").read_text()


# ---- 2. stderr onto an output ------------------------------------------------------------------
# `segchain segment orders.csv -o seg.csv 2> seg.csv`: the table was written to a temporary file
# renamed over seg.csv, and the messages went to the file it replaced: exit 0, seg.csv right,
# every warning and the summary lost without a word. `2>> seg.csv` onto an earlier table did the
# same. Refused now before any work (exit 2), the refusal said on the terminal.


@needs_exe
@pytest.mark.parametrize(
    "script",
    [
        "$S segment orders.csv -o seg.csv 2> seg.csv",
        "$S segment orders.csv -o seg.csv 2>> seg.csv",
        "$S validate orders.csv -o clean.csv --rejects seg.csv 2>> seg.csv",
    ],
)
def test_stderr_onto_an_output_is_refused_before_any_work(orders: Path, script: str) -> None:
    (orders.parent / "seg.csv").write_text("an earlier table\n")
    proc = shell(script, orders.parent)
    assert proc.returncode == 2
    assert proc.stderr == ""
    # '2>' emptied it before segchain started; '2>>' kept it: either way nothing was added.
    assert (orders.parent / "seg.csv").read_text() in ("", "an earlier table\n")
    assert sorted(p.name for p in orders.parent.iterdir()) == ["orders.csv", "seg.csv"]
    assert orders.read_text() == ORDERS


@needs_exe
def test_stderr_onto_an_output_is_said_on_the_terminal(orders: Path) -> None:
    code, shown = on_terminal("$S segment orders.csv -o seg.csv 2> seg.csv", orders.parent)
    assert code == 2
    assert shown == (
        "segchain segment: Error: -o seg.csv: stderr goes to the same file: the messages would "
        "be lost when the table replaces it\n"
        "segchain segment:   hint: send stderr to another file (2> segchain.log)\n"
    )
    assert (orders.parent / "seg.csv").read_text() == ""
