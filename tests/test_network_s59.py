"""network under tight capacities and a time limit (an audit of network's options, session
59)."""

from __future__ import annotations

import os

import numpy as np

from segchain.network import stage
from segchain.network.model import NoPlanInTime, Plan, _solver_output_dropped


def test_highs_own_prints_do_not_reach_stdout(capfd) -> None:
    """HiGHS's MIP solver prints debugging lines to C's stdout with disp off
    ('HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();'), into the
    table of `network -o -`; the descriptor is on the null device while it runs."""
    with _solver_output_dropped():
        os.write(1, b"HighsMipSolverData::transformNewIntegerFeasibleSolution\n")
    os.write(1, b"after\n")
    assert capfd.readouterr().out == "after\n"


class _Model:
    """The least-late plan found, the cheapest among such plans not within the time limit."""

    demand = np.array([1.0, 1.0])
    time_limit = 40.0

    def __init__(self) -> None:
        self.least = Plan(
            open=np.array([True]), j=np.array([0, 1]), i=np.array([0, 0]),
            share=np.ones(2), status="optimal", gap=0.0, dual_bound=1.0, objective=1.0,
        )  # fmt: skip

    def limits(self) -> str:
        return "the capacities"

    def solve(self, pairs, *, late=None, late_limit=None):
        if late_limit is None:
            return self.least
        raise NoPlanInTime("the solver reached its time limit (40 s)")


def test_the_least_late_plan_stands_when_its_cheapest_twin_is_not_found_in_time(
    monkeypatch,
) -> None:
    """400 customers at 12 sites of tight capacity with promises and --time-limit 60: the
    least-late plan was found in 19 s, the cheapest plan as little late not within the limit,
    and network said no plan exists, exit 1 (without a limit it ran for ever)."""
    monkeypatch.setattr(stage, "late_demand", lambda *args: np.zeros(2))
    model = _Model()
    warnings: list[str] = []
    plan = stage._least_late_plan(model, None, np.zeros(2), 300.0, 2.0, warnings)  # type: ignore[arg-type]
    assert plan.status == "time_limit"
    assert (plan.j == model.least.j).all()
    assert warnings[0].startswith(
        "no plan keeps every delivery promise under the capacities: this plan serves the least "
        "demand possible late (1"
    )
    assert warnings[1] == (
        "the cheapest of the plans serving that least demand late was not found within "
        "--time-limit (40 s): this plan's cost is not minimised; a longer --time-limit may find "
        "a cheaper one"
    )


def test_a_promise_plan_not_found_in_time_is_not_said_impossible(monkeypatch) -> None:
    class Found(_Model):
        def solve(self, pairs, *, late=None, late_limit=None):
            return self.least

    monkeypatch.setattr(stage, "late_demand", lambda *args: np.zeros(2))
    warnings: list[str] = []
    plan = stage._least_late_plan(
        Found(),
        None,
        np.zeros(2),
        300.0,
        2.0,
        warnings,
        unproven=True,  # type: ignore[arg-type]
    )
    assert plan.status == "optimal"
    assert warnings == [
        "no plan keeping every delivery promise under the capacities was found within "
        "--time-limit (40 s; one may exist): this plan serves the least demand possible late "
        "(1 of 2); a longer --time-limit may find one that keeps them all"
    ]
