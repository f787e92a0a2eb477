"""network under its solver limits (audit P, session 62): a default that ends on 100,000
capacitated customers, the least-late plan said as cut short and with the late demand of the
plan written, and a promise comparison cut short said as an estimate or unknown, never a
negative cost."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest

from segchain.costs.promise import delivery_promise
from segchain.network import network
from segchain.network.model import Model
from segchain.policy import PolicyTable, SegmentPolicy

PROMISED = PolicyTable({"A": SegmentPolicy(max_delivery_days=1)})


class _Built(Exception):
    """Raised by a stubbed solve with the number of demand points the model was built with."""

    def __init__(self, n: int) -> None:
        super().__init__(n)
        self.n = n


def _big_capacitated(n: int, m: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(7)
    cust = pl.DataFrame(
        {
            "customer_id": [f"C{k:05d}" for k in range(n)],
            "demand": rng.integers(1, 50, n).astype(float),
            "lat": rng.uniform(30, 48, n),
            "lon": rng.uniform(-120, -75, n),
        }
    )
    sites = pl.DataFrame(
        {
            "site_id": [f"S{k:02d}" for k in range(m)],
            "lat": rng.uniform(30, 48, m),
            "lon": rng.uniform(-120, -75, m),
            "fixed_cost": np.full(m, 1e6),
            "capacity": np.full(m, float(cust["demand"].sum())),
        }
    )
    return cust, sites


def test_network_capacitated_default_caps_the_demand_points(monkeypatch) -> None:
    """100,000 customers at 12 capacitated sites: the default (1,000,000 pairs / 12 sites)
    merged only customers within 1 km, 80,573 points, and the solve never ended. With
    capacities the default is 120,000 pairs: at most 10,000 points at 12 sites, said with the
    option that changes it. 12,000 customers here, 144,000 pairs: under 1,000,000, so the old
    default built the model on all 12,000."""

    def built(self, pairs, **kwargs):
        raise _Built(self.n)

    monkeypatch.setattr(Model, "solve", built)
    cust, sites = _big_capacitated(12_000, 12)
    with pytest.raises(_Built) as got:
        network(cust, sites=sites)
    assert got.value.n <= 120_000 // 12


def test_network_capacitated_default_aggregation_is_said_with_max_points(monkeypatch) -> None:
    seen: list[str] = []

    def built(self, pairs, **kwargs):
        raise _Built(self.n)

    monkeypatch.setattr(Model, "solve", built)
    from segchain.network import stage

    original = stage._demand_points

    def spy(*args, **kwargs):
        points = original(*args, **kwargs)
        seen.extend(args[-2])  # the notes
        return points

    monkeypatch.setattr(stage, "_demand_points", spy)
    cust, sites = _big_capacitated(12_000, 12)
    with pytest.raises(_Built):
        network(cust, sites=sites)
    note = next(n for n in seen if "aggregated into" in n)
    assert "by default at most 10,000 points" in note
    assert "--max-points N sets another number" in note


def test_network_uncapacitated_default_is_unchanged(monkeypatch) -> None:
    """Without capacities the assignment is an LP (cheapest open site): the 1,000,000-pair
    default stands, so 12,000 customers at 12 sites are planned one by one."""

    def built(self, pairs, **kwargs):
        raise _Built(self.n)

    monkeypatch.setattr(Model, "solve", built)
    cust, sites = _big_capacitated(12_000, 12)
    with pytest.raises(_Built) as got:
        network(cust, sites=sites.with_columns(capacity=pl.lit(None, pl.Float64)))
    assert got.value.n == 12_000


# Two customers of 6 units beside S1 (capacity 10: room for one), promised in 1 day at 500 km a
# day; S2 is 1,112 km south (2.2 days). No plan keeps both promises: one customer, 6 units, is
# late in every plan, and that is the least.
TIGHT_CUSTOMERS = pl.DataFrame(
    {
        "customer_id": ["C1", "C2"],
        "segment": ["A", "A"],
        "demand": [6.0, 6.0],
        "lat": [50.0, 50.1],
        "lon": [8.0, 8.0],
    }
)
TIGHT_SITES = pl.DataFrame(
    {
        "site_id": ["S1", "S2"],
        "lat": [50.0, 40.0],
        "lon": [8.0, 8.0],
        "fixed_cost": [0.0, 0.0],
        "capacity": [10.0, 100.0],
    }
)


def _least_late_stopped(monkeypatch, *, status: str, objective_added: float = 0.0) -> None:
    """The least-late solve ends at a limit (``status``), its plan as late as the optimum plus
    ``objective_added`` (a plan found, not the least); the other solves are the solver's."""
    real = Model.solve

    def solve(self, pairs, *, baseline=False, late=None, late_limit=None):
        plan = real(self, pairs, baseline=baseline, late=late, late_limit=late_limit)
        if late is not None and late_limit is None:
            return dataclasses.replace(
                plan, status=status, gap=0.5, objective=plan.objective + objective_added
            )
        return plan

    monkeypatch.setattr(Model, "solve", solve)


def test_network_least_late_cut_short_is_not_said_to_have_no_better_choice(monkeypatch) -> None:
    """--time-limit 0.5 on the sample's tight sites: 'with the capacities there is no better
    choice' of 43 late customers, 8 at --time-limit 2: the least-late search was cut short."""
    _least_late_stopped(monkeypatch, status="node_limit")
    result = network(TIGHT_CUSTOMERS, sites=TIGHT_SITES, policies=PROMISED, node_limit=5)
    late_line = next(w for w in result.warnings if "served beyond" in w)
    assert "no better choice" not in late_line
    assert "cut short" in late_line
    assert "--node-limit" in late_line


def test_network_least_late_proven_keeps_no_better_choice() -> None:
    result = network(TIGHT_CUSTOMERS, sites=TIGHT_SITES, policies=PROMISED)
    late_line = next(w for w in result.warnings if "served beyond" in w)
    assert late_line.endswith("with the capacities there is no better choice")


def test_network_least_late_warning_gives_the_written_plans_late_demand(monkeypatch) -> None:
    """The least-late solve's own figure (258,899 units) was said of a written plan with 86,918
    late: here that solve stops at a plan 5 units later than the least (11 of 12), the plan
    written serves 6 late (one customer of 6: S1 holds one of them)."""
    _least_late_stopped(monkeypatch, status="time_limit", objective_added=5.0)
    result = network(TIGHT_CUSTOMERS, sites=TIGHT_SITES, policies=PROMISED, time_limit=60)
    asg = result.assignments
    written = float(
        asg.filter(~pl.col("sla_met")).select(pl.col("demand") * pl.col("share")).sum().item()
    )
    assert written == 6.0
    first = next(w for w in result.warnings if "this plan serves" in w)
    assert "(6 of 12)" in first


# C1 beside S1, C2 beside S2 (1,100 km apart), promised in 1 day: each served by its own
# site in both plans, at 5.6 km of transport in all. A plan without promises cut short at
# the swapped assignment (2 x 1,112 km) costs more than the plan with them.
NEAR_CUSTOMERS = pl.DataFrame(
    {
        "customer_id": ["C1", "C2"],
        "segment": ["A", "A"],
        "demand": [1.0, 1.0],
        "lat": [50.0, 40.05],
        "lon": [8.0, 8.0],
    }
)
NEAR_SITES = pl.DataFrame(
    {"site_id": ["S1", "S2"], "lat": [50.0, 40.0], "lon": [8.0, 8.0], "fixed_cost": [0.0, 0.0]}
)


def _baseline_stopped(monkeypatch, *, swapped: bool) -> None:
    """The plan without promises ends at its time limit: at the swapped plan (each customer at
    the far site), or at the right one."""
    real = Model.solve

    def solve(self, pairs, *, baseline=False, late=None, late_limit=None):
        plan = real(self, pairs, baseline=baseline, late=late, late_limit=late_limit)
        if not baseline:
            return plan
        if swapped:
            plan = dataclasses.replace(plan, i=1 - plan.i, open=np.array([True, True]))
        return dataclasses.replace(plan, status="time_limit", gap=0.25)

    monkeypatch.setattr(Model, "solve", solve)


def test_network_negative_promise_cost_is_unknown(monkeypatch) -> None:
    """--time-limit 0.5 on the sample's tight sites: 'the promises cost -0.98 (-0.0%)', from a
    plan without promises stopped at its limit, without a word."""
    _baseline_stopped(monkeypatch, swapped=True)
    result = network(NEAR_CUSTOMERS, sites=NEAR_SITES, policies=PROMISED, time_limit=60)
    t = result.totals
    assert t.baseline_total_cost is not None and t.baseline_total_cost > t.total_cost
    assert t.promise_cost_status == "unknown"
    assert t.baseline_mip_gap == 0.25
    said = next(w for w in result.warnings if "what the delivery promises cost" in w)
    assert said.startswith("what the delivery promises cost is unknown")
    assert "--time-limit" in said


def test_network_cut_short_comparison_is_an_estimate(monkeypatch) -> None:
    _baseline_stopped(monkeypatch, swapped=False)
    result = network(NEAR_CUSTOMERS, sites=NEAR_SITES, policies=PROMISED, time_limit=60)
    assert result.totals.promise_cost_status == "cut_short"
    said = next(w for w in result.warnings if "what the delivery promises cost" in w)
    assert "is an estimate, not proven" in said
    assert "the plan without promises at its time limit (--time-limit 60 s)" in said


def test_network_cli_never_prints_a_negative_promise_cost(cli, tmp_path, monkeypatch) -> None:
    _baseline_stopped(monkeypatch, swapped=True)
    NEAR_CUSTOMERS.write_csv(tmp_path / "cust.csv")
    NEAR_SITES.write_csv(tmp_path / "sites.csv")
    (tmp_path / "cfg.toml").write_text('[segments."A"]\nmax_delivery_days = 1\n')
    result = cli("network", str(tmp_path / "cust.csv"), "--sites", str(tmp_path / "sites.csv"),
                 "--config", str(tmp_path / "cfg.toml"), "--time-limit", "60",
                 "-o", str(tmp_path / "a.parquet"))  # fmt: skip
    assert result.exit_code == 0
    assert "the promises cost -" not in result.stderr
    assert "what the promises cost is unknown" in " ".join(result.stderr.split())


PROMISE_ROWS = [
    {"segment": "A", "sla_days": 1.0, "demand": 2.0, "transport_cost": 5.6,
     "baseline_transport_cost": 2224.0, "baseline_within_promise": 0.0},
]  # fmt: skip


def test_costs_leaves_an_unknown_promise_cost_empty() -> None:
    """costs filled delivery_promise_* from a plan without promises cut short (checking for
    'unfinished' only): here -2,218.4, a negative cost of the promises."""
    totals = {"status": "optimal", "total_cost": 5.6, "fixed_cost": 0.0,
              "baseline_status": "time_limit", "baseline_total_cost": 2224.0}  # fmt: skip
    table, source = delivery_promise(PROMISE_ROWS, totals)
    assert table is None
    assert "unknown" in source


def test_costs_says_a_cut_short_promise_cost_is_an_estimate() -> None:
    rows = [{**PROMISE_ROWS[0], "baseline_transport_cost": 2.0}]
    totals = {"status": "optimal", "total_cost": 5.6, "fixed_cost": 0.0,
              "baseline_status": "node_limit", "baseline_total_cost": 2.0}  # fmt: skip
    table, source = delivery_promise(rows, totals)
    assert table is not None
    assert table["delivery_promise_cost"].to_list() == pytest.approx([3.6])
    assert "an estimate, not proven" in source


def test_report_never_shows_a_negative_promise_cost() -> None:
    """The report's Network cost said 'Keeping every segment's delivery promise costs -2,218
    more' of a plan without promises cut short."""
    from segchain.report.sections.network import _cost_blocks

    totals = {"status": "optimal", "total_cost": 5.6, "baseline_status": "time_limit",
              "baseline_total_cost": 2224.0}  # fmt: skip
    _, blocks = _cost_blocks({"transport": 5.6}, totals, [])
    said = " ".join(str(getattr(b, "text", "")) for b in blocks)
    assert "What keeping the delivery promises costs is not known" in said
    assert "-2,21" not in said
