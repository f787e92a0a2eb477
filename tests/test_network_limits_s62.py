"""network under its solver limits (audit P, session 62): a default that ends on 100,000
capacitated customers, the least-late plan said as cut short and with the late demand of the
plan written, and a promise comparison cut short said as an estimate or unknown, never a
negative cost."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest

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
