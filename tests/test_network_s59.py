"""network under tight capacities and a time limit (an audit of network's options, session
59)."""

from __future__ import annotations

import os

import numpy as np
import polars as pl

from segchain.formatting import solver_budget
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
    aggregated = None  # customers planned one by one, as Model's

    def __init__(self) -> None:
        self.least = Plan(
            open=np.array([True]), j=np.array([0, 1]), i=np.array([0, 0]),
            share=np.ones(2), status="optimal", gap=0.0, dual_bound=1.0, objective=1.0,
        )  # fmt: skip

    def limits(self) -> str:
        return "the capacities"

    def budget(self) -> str:
        return solver_budget(self.time_limit, 0)[0]

    def raise_budget(self) -> str:
        return solver_budget(self.time_limit, 0)[1]

    def solve(self, pairs, *, late=None, late_limit=None):
        if late_limit is None:
            return self.least
        raise NoPlanInTime("the solver reached its time limit (40 s)", stopped="time_limit")


# The plan written: one of its two units of demand late.
_ONE_LATE = pl.DataFrame({"demand": [1.0, 1.0], "share": [1.0, 1.0], "sla_met": [False, True]})


def test_the_least_late_plan_stands_when_its_cheapest_twin_is_not_found_in_time(
    monkeypatch,
) -> None:
    """400 customers at 12 sites of tight capacity with promises and --time-limit 60: the
    least-late plan was found in 19 s, the cheapest plan as little late not within the limit,
    and network said no plan exists, exit 1 (without a limit it ran for ever)."""
    monkeypatch.setattr(stage, "late_demand", lambda *args: np.zeros(2))
    model = _Model()
    warnings: list[str] = []
    plan, how = stage._least_late_plan(model, None, np.zeros(2), 300.0)  # type: ignore[arg-type]
    stage._least_late_warnings(how, model, _ONE_LATE, 2.0, warnings)  # type: ignore[arg-type]
    assert plan.status == "time_limit"
    assert (plan.j == model.least.j).all()
    assert warnings[0].startswith(
        "no plan keeps every delivery promise under the capacities: this plan serves the least "
        "demand possible late (1"
    )
    assert warnings[1] == (
        "the cheapest of the plans serving that least demand late was not found within "
        "--time-limit (40 s) per solve: this plan's cost is not minimised; a larger --time-limit "
        "may find a cheaper one"
    )


def test_a_promise_plan_not_found_in_time_is_not_said_impossible(monkeypatch) -> None:
    class Found(_Model):
        def solve(self, pairs, *, late=None, late_limit=None):
            return self.least

    monkeypatch.setattr(stage, "late_demand", lambda *args: np.zeros(2))
    warnings: list[str] = []
    model = Found()
    plan, how = stage._least_late_plan(model, None, np.zeros(2), 300.0, unproven=True)  # type: ignore[arg-type]
    stage._least_late_warnings(how, model, _ONE_LATE, 2.0, warnings)  # type: ignore[arg-type]
    assert plan.status == "optimal"
    assert warnings == [
        "no plan keeping every delivery promise under the capacities was found within "
        "--time-limit (40 s) per solve (one may exist): this plan serves the least demand "
        "possible late (1 of 2); a larger --time-limit may find one that keeps them all"
    ]


SEGMENTS = "customer_id,segment,lat,lon,demand\nC1,A,50.0,8.0,10\nC2,A,48.0,2.0,5\n"
SITES = "site_id,lat,lon,fixed_cost,capacity\nS1,50,8,0,\nS2,48,2,0,\n"


def test_a_lane_table_naming_another_site_is_a_warning(cli, tmp_path) -> None:
    """A site spelt otherwise in every lane of it: its lanes were dropped with an info note
    that --quiet hides, exit 0 with nothing said."""
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "sites.csv").write_text(SITES)
    (tmp_path / "lanes.csv").write_text(
        "site_id,customer_id,unit_cost\nS1,C1,1\nS1,C2,1\nSX,C1,1\nSX,C2,1\n"
    )
    out = str(tmp_path / "a.csv")
    result = cli("network", str(tmp_path / "seg.csv"), "--sites", str(tmp_path / "sites.csv"),
                 "--costs", str(tmp_path / "lanes.csv"), "-q", "-o", out)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "1 warning not shown (--quiet)" in result.stderr


def test_a_distance_rate_beside_a_lane_table_is_refused(cli, tmp_path) -> None:
    """--cost-per-unit-km 5 with --costs: transport came from the lanes' unit_cost, the rate
    read for nothing and nothing said."""
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "sites.csv").write_text(SITES)
    (tmp_path / "lanes.csv").write_text("site_id,customer_id,unit_cost\nS1,C1,1\nS1,C2,1\n")
    out = tmp_path / "a.csv"
    result = cli("network", str(tmp_path / "seg.csv"), "--sites", str(tmp_path / "sites.csv"),
                 "--costs", str(tmp_path / "lanes.csv"), "--cost-per-unit-km", "5",
                 "-o", str(out))  # fmt: skip
    assert result.exit_code == 2
    assert "--cost-per-unit-km prices transport by distance where there is no lane table" in (
        result.stderr
    )
    assert not out.exists()


def test_max_points_is_met_across_the_meridian_and_said_when_it_cannot_be() -> None:
    """Cells counted from lon 0 split Nantes (lon -1.5) from Paris at any size: --max-points 11
    on 11 segments gave 19 points, --max-points 1 as many, and nothing said so."""
    import polars as pl

    from segchain.network.geometry import aggregate_points

    cust = pl.DataFrame(
        {"segment": ["A", "A", "A", "B", "B"], "lat": [47.2, 48.9, 45.8, 47.2, 48.9],
         "lon": [-1.5, 2.35, 4.8, -1.5, 2.35], "demand": [1.0, 2.0, 3.0, 4.0, 5.0]}
    )  # fmt: skip
    points = aggregate_points(cust, 2)
    assert len(points.demand) == 2
    assert sorted(points.demand.tolist()) == [6.0, 9.0]
    warnings: list[str] = []
    got = stage._demand_points(cust, 3, 1, False, [], warnings)
    assert len(got.demand) == 2
    assert warnings == ["--max-points 1: 2 demand points, one per segment at least (2 segments)"]
