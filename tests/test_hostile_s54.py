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


# ---- 3. too few descriptors for polars' threads ------------------------------------------------
# `ulimit -n 5`: polars found no descriptor free for its thread pool and stopped with a Rust
# panic, which Python raised as a PanicException: a traceback. It is the run's environment, said
# as `ulimit -n 6` already was (exit 1, nothing written).


@needs_exe
def test_a_panic_over_no_free_descriptor_is_one_message(orders: Path) -> None:
    proc = shell("ulimit -n 5 && $S segment orders.csv -o seg.csv", orders.parent)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert (
        "segchain segment: Error: too many open files: this process may have only 5 files and "
        "pipes open at once (ulimit -n 5); no output was written"
    ) in proc.stderr
    assert sorted(p.name for p in orders.parent.iterdir()) == ["orders.csv"]


def test_a_panic_names_which_limit_was_reached() -> None:
    import errno

    from segchain.cli.common import _descriptors_panic

    # Rust's debug form of io::Error, as polars' `unwrap` panics show it.
    PanicException = type("PanicException", (BaseException,), {})  # noqa: N806 - a class
    emfile = 'Os { code: 24, kind: TooManyOpenFiles, message: "Too many open files" }'
    enfile = 'Os { code: 23, kind: Uncategorized, message: "Too many open files in system" }'
    assert _descriptors_panic(PanicException(emfile)) == errno.EMFILE
    assert _descriptors_panic(PanicException(enfile)) == errno.ENFILE
    assert _descriptors_panic(PanicException("index out of bounds")) is None
    assert _descriptors_panic(RuntimeError(emfile)) is None
