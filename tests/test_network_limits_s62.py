"""network under its solver limits (audit P, session 62): a default that ends on 100,000
capacitated customers, the least-late plan said as cut short and with the late demand of the
plan written, and a promise comparison cut short said as an estimate or unknown, never a
negative cost."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from segchain.network import network
from segchain.network.model import Model


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
