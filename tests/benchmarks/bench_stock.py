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
POINTS_RATIONED = 20


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


def textbook_floor(fc: pl.DataFrame, items: pl.DataFrame, review: float | None) -> np.ndarray:
    """The textbook normal policy of every point in numpy: EOQ, the 0.95 normal quantile and
    the loss function's shortage over the protection interval (L for (s, Q), L + R for (R, S)),
    the fill rate and the mean stock on hand: the least any plan of these points computes."""
    from scipy.special import ndtr, ndtri

    n = items.height
    mu = fc["forecast"].to_numpy()[:n]
    sd = fc["error_sd"].to_numpy()[:n]
    weeks = (items["lead_time_days"].to_numpy() + (review or 0.0)) / 7.0
    mean_t, sd_t = mu * weeks, np.maximum(sd * np.sqrt(weeks), 1e-9)
    q = np.sqrt(2.0 * mu * 52.0 * 50.0 / np.maximum(0.25 * items["unit_cost"].to_numpy(), 1e-9))
    level = np.ceil(mean_t + ndtri(0.95) * sd_t)
    k = (level - mean_t) / sd_t
    short = sd_t * (np.exp(-0.5 * k * k) / np.sqrt(2.0 * np.pi) - k * ndtr(-k))
    cycle = mu * review / 7.0 if review else q
    fill = 1.0 - short / np.maximum(cycle, 1e-9)
    on_hand = level - mean_t + cycle / 2.0
    return np.stack([level, fill, on_hand])


def test_bench_stock_million_points() -> None:
    from segchain.stock import stock

    fc, items = _forecast(POINTS), _items(POINTS)
    for review in (None, 7.0):
        start, cpu = time.perf_counter(), time.process_time()
        res = stock(fc, items=items, review_days=review, service_level=0.95)
        took, cpu = time.perf_counter() - start, time.process_time() - cpu
        mix = res.policy.group_by("distribution").len().sort("distribution").rows()
        start = time.perf_counter()
        textbook_floor(fc, items, review)
        floor = time.perf_counter() - start
        mode = "(R, S) review 7 days" if review else "(s, Q)"
        print(
            f"\nstock {POINTS:,} stocking points {mode}: {took:.2f} s wall, {cpu:.2f} s CPU "
            f"({POINTS / took:,.0f} points/s); textbook normal policy in numpy (the floor) "
            f"{floor:.3f} s (x{took / floor:,.0f}); distributions {mix}"
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


def _three_tiers():  # -> PolicyTable
    """Segments gold, silver and bronze promised 0.99, 0.95 and 0.90 fill rates."""
    from segchain.policy import PolicyTable, SegmentPolicy

    return PolicyTable(
        {
            "gold": SegmentPolicy(service_level=0.99),
            "silver": SegmentPolicy(service_level=0.95),
            "bronze": SegmentPolicy(service_level=0.90),
        }
    )


def _segment_forecast(n: int, seed: int = 2) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``n`` SKUs each bought by three segments promised 0.99 / 0.95 / 0.90, weekly."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        base = rng.lognormal(2.5, 0.8)
        for segment, share in (("gold", 0.2), ("silver", 0.3), ("bronze", 0.5)):
            mu = base * share
            rows.append((f"{i:05d}", segment, mu, 1.5 * np.sqrt(mu)))
    days = [date(2025, 1, 6) + timedelta(weeks=w) for w in range(4)]
    fc = pl.DataFrame(
        [
            {"sku": s, "segment": g, "ds": d, "forecast": m, "error_sd": sd}
            for s, g, m, sd in rows
            for d in days
        ]
    )
    items = pl.DataFrame({"sku": [f"{i:05d}" for i in range(n)], "lead_time_days": [14.0] * n})
    return fc, items


def test_bench_stock_rationing() -> None:
    """The rationing search of (R, S) points: one process against every core, and the replay's
    chunk size (its floor: the same replay in the chunks it used before)."""
    from segchain.stock import rationing, stock

    table = _three_tiers()
    fc, items = _segment_forecast(POINTS_RATIONED)
    took = {}
    for n_jobs in (1, -1):
        start = time.perf_counter()
        res = stock(fc, items=items, policies=table, review_days=7.0, n_jobs=n_jobs)
        took[n_jobs] = time.perf_counter() - start
    rationed = int(res.policy["rationed"].sum())
    cores = rationing._workers(-1, 10**6)
    print(
        f"\nstock (R, S) {POINTS_RATIONED} points x 3 segments ({rationed} rationed): 1 process "
        f"{took[1]:.1f} s, {cores} processes {took[-1]:.1f} s "
        f"(x{took[1] / took[-1]:.2f}; {took[1] / POINTS_RATIONED:.2f} s a point on one)"
    )
    seg = rationing.Segments(
        mean=np.array([3.0, 5.0, 8.0]),
        var=np.array([6.0, 12.0, 20.0]),
        fill_target=np.array([0.99, 0.95, 0.9]),
        csl_target=np.full(3, np.nan),
    )
    smp = rationing.sample(seg, 14, 7, 80_000, seed=1)
    level = np.full(3, 16.0 * 14 + 60.0)
    reserves = np.array([[0.0, 10.0, 20.0], [0.0, 20.0, 40.0], [0.0, 5.0, 30.0]])
    default = rationing.REPLAY_CHUNK
    line = []
    for chunk in (1 << 16, default):
        rationing.REPLAY_CHUNK = chunk
        times = []
        for _ in range(5):
            start = time.perf_counter()
            rationing.replay(smp, level, reserves)
            times.append(time.perf_counter() - start)
        line.append(f"chunks of {chunk:,}: {np.median(times) * 1e3:.0f} ms")
    rationing.REPLAY_CHUNK = default
    print(f"replay of 3 plans x 80,000 cycles (R 7 days, 3 tiers), median of 5: {'; '.join(line)}")


def test_bench_stock_rationing_sq() -> None:
    """The rationing search of (s, Q) points looked at nightly (the default policy), against the
    same plan served first come, first served (``rationing="none"``: the formulas alone, the
    floor), on every core."""
    from segchain.stock import stock

    table = _three_tiers()
    fc, items = _segment_forecast(POINTS_RATIONED)
    took = {}
    for rationing in ("none", "critical-level"):
        start = time.perf_counter()
        res = stock(fc, items=items, policies=table, rationing=rationing)
        took[rationing] = time.perf_counter() - start
    rationed = res.policy.filter(pl.col("rationed"))
    held = float(rationed["avg_inventory"].sum())
    unrationed = float(rationed["unrationed_avg_inventory"].sum())
    print(
        f"\nstock (s, Q) nightly, {POINTS_RATIONED} points x 3 segments ({rationed.height} "
        f"rationed, {held:,.0f} units on hand against {unrationed:,.0f} without reserves): "
        f"rationed {took['critical-level']:.1f} s, first come first served "
        f"{took['none']:.1f} s ({took['critical-level'] / POINTS_RATIONED:.2f} s a point)"
    )
