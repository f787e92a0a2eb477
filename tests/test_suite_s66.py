"""The suite's own speed, session 66: the same checks for less CPU.

typer.testing.CliRunner.invoke built segchain's whole command tree again on every call (about
20 ms of CPU, a quarter of the CPU time of files made of short CLI runs); conftest.py now builds
it once per app, as the installed `segchain` builds it once per process. The known answer for
the runs' output is that of a command Typer builds afresh (typer.main.get_command), which the
cache does not touch."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner

from segchain.cli import app


def test_cli_runs_share_the_command_typer_builds() -> None:
    assert typer.testing._get_command(app) is typer.testing._get_command(app)  # type: ignore[attr-defined]


HELPS = [(), ("validate",), ("stock",)]


def _helps() -> list[str]:
    shown = [CliRunner().invoke(app, [*args, "--help"]) for args in HELPS]
    assert all(s.exit_code == 0 for s in shown), [s.output for s in shown]
    return [s.output for s in shown]


def test_a_shared_command_keeps_nothing_of_the_runs_before(
    cli, orders_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Runs that fail in the parser, in the stage and that succeed, then the help: the shared
    # command shows what a command built afresh shows, and runs the same way again.
    assert cli("segment", "--rejects", "-o", "x.csv").exit_code == 2
    assert cli("validate", "missing.csv", "-o", "x.csv").exit_code == 1
    first = cli("validate", str(orders_csv), "-o", "clean.csv")
    assert first.exit_code == 0, first.stderr
    shared = _helps()
    again = cli("validate", str(orders_csv), "-o", "again.csv")
    assert again.stderr.replace("again.csv", "clean.csv") == first.stderr
    assert Path("again.csv").read_bytes() == Path("clean.csv").read_bytes()
    monkeypatch.setattr(typer.testing, "_get_command", typer.main.get_command)  # afresh
    assert _helps() == shared
