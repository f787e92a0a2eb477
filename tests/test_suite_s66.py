"""The suite's own speed, session 66: the same checks for less CPU (docs/measurements.md).

typer.testing.CliRunner.invoke built segchain's whole command tree again on every call (about
20 ms of CPU, a quarter of the CPU time of files made of short CLI runs); conftest.py now builds
it once per app, as the installed `segchain` builds it once per process. Two simulators of the
rationing tests and on_both_pages' charts were made cheaper too. The known answers: a command
Typer builds afresh (typer.main.get_command), the array path of the simulator, a chart drawn
afresh; none of which the changes touch."""

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


def test_the_rationing_simulator_of_one_plan_gives_the_figures_of_many() -> None:
    # test_stock_rationing.simulate steps one plan on Python floats (numpy's per-call cost on
    # one-element arrays took seconds), several plans on arrays: a plan simulated alone and
    # beside another (arrays, each plan's own column) gives the same figures to the last bit.
    import numpy as np
    from test_stock_rationing import MIX, daily_demand, simulate

    rng = np.random.default_rng(5)
    rows = [r for r in MIX if r[0] == "SLOW"]
    demand = np.stack([daily_demand(rng, m, sd, 3_000) for _, _, m, sd in rows], axis=1)
    plans = np.array([15.0, 18.0]), np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 1.0]])
    fill, held = simulate(demand, *plans, seed=3)
    for c in range(2):
        one_fill, one_held = simulate(demand, plans[0][c : c + 1], plans[1][c : c + 1], seed=3)
        assert one_fill.tolist() == fill[c : c + 1].tolist()
        assert one_held.tolist() == held[c : c + 1].tolist()
    assert fill.min() > 0.5 and fill.max() < 1.0  # backorders and stock-outs happen


def test_a_chart_drawn_once_for_the_pages_is_the_drawing_of_it() -> None:
    # test_report_unknown_tables.on_both_pages gives a chart it has drawn before the drawing it
    # made then: that is the drawing the chart gets afresh, in the page and in the Markdown.
    from test_report import all_tables
    from test_report_unknown_tables import _drawn_once

    from segchain.report import build_report
    from segchain.report.charts import render_png, render_svg
    from segchain.report.model import Chart

    report = build_report(all_tables())
    chart = next(b for s in report.sections for b in s.blocks if isinstance(b, Chart))
    svg, png = _drawn_once(render_svg), _drawn_once(render_png)
    first = svg(chart, prefix="c1-")
    assert svg(chart, prefix="c1-") is first  # kept, not drawn again
    assert svg(chart, prefix="c2-") != first  # other options: another drawing
    assert first == render_svg(chart, prefix="c1-")
    assert png(chart) == render_png(chart)
