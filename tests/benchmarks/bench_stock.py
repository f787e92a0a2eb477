"""Stock figures: policies for 1M stocking points, next to a bare numpy floor of the same size.

Prints figures; asserts nothing about time. Run with `make bench`.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

pytestmark = pytest.mark.bench

POINTS = 1_000_000


def _forecast(n: int, seed: int = 0) -> pl.DataFrame:
    """Two weekly periods per SKU; 70 % smooth, 15 % intermittent, 15 % lumpy."""
    rng = np.random.default_rng(seed)
    cls = rng.choice(["smooth", "intermittent", "lumpy"], n, p=[0.7, 0.15, 0.15])
    mu = np.where(cls == "smooth", rng.lognormal(3, 1, n), rng.lognormal(-0.5, 1, n))
    sd = np.where(cls == "lumpy", 2.5, np.where(cls == "smooth", 0.4, 1.0)) * np.sqrt(mu + 0.1)
    base = pl.DataFrame(
        {"sku": [f"{i:07d}" for i in range(n)], "forecast": mu, "error_sd": sd, "demand_class": cls}
    )
    days = [date(2025, 1, 6), date(2025, 1, 6) + timedelta(weeks=1)]
    return pl.concat([base.with_columns(ds=pl.lit(d)) for d in days])


def _items(n: int, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "sku": [f"{i:07d}" for i in range(n)],
            "unit_cost": rng.uniform(1, 50, n),
            "lead_time_days": rng.choice([7.0, 14.0, 21.0, 28.0], n),
            "lead_time_sd_days": rng.uniform(0, 3, n),
        }
    )


def test_bench_stock_million_points() -> None:
    from scipy.special import ndtri

    from segchain.stock import stock

    fc, items = _forecast(POINTS), _items(POINTS)
    for review in (None, 7.0):
        start, cpu = time.perf_counter(), time.process_time()
        res = stock(fc, items=items, review_days=review, service_level=0.95)
        took, cpu = time.perf_counter() - start, time.process_time() - cpu
        mix = res.policy.group_by("distribution").len().sort("distribution").rows()
        # Floor: the bare normal CSL formula over the same number of points, in numpy.
        mu = fc["forecast"].to_numpy()[:POINTS]
        sd = fc["error_sd"].to_numpy()[:POINTS]
        start = time.perf_counter()
        np.ceil(mu * 2 + ndtri(0.95) * sd * np.sqrt(2))
        floor = time.perf_counter() - start
        mode = "(R, S) review 7 days" if review else "(s, Q)"
        print(
            f"\nstock {POINTS:,} stocking points {mode}: {took:.2f} s wall, {cpu:.2f} s CPU "
            f"({POINTS / took:,.0f} points/s); numpy floor (normal CSL only) {floor:.3f} s; "
            f"distributions {mix}"
        )


def test_bench_stock_simulate() -> None:
    from segchain.stock import simulate, stock

    fc, items = _forecast(1_000), _items(1_000)
    policy = stock(fc, items=items, review_days=7.0).policy
    start = time.perf_counter()
    sim = simulate(policy, periods=2_000, seed=0)
    took = time.perf_counter() - start
    print(
        f"\nsimulate 1,000 policies x 2,000 weeks: {took:.2f} s; mean achieved fill rate "
        f"{sim['achieved_fill_rate'].mean():.4f} vs target 0.95; "
        f"{int(sim['target_met'].sum())} of 1,000 met"
    )
