"""Held-out service of `stock` where the lead time varies: what the plans promised against what
they delivered over the 8 weeks after the cut-off, with an item master giving every sku a
14-day lead time and `lead_time_sd_days` 0 or 7, at the points held at their history's largest
demand (`demand_model` bootstrap) and in all.

Plans from the lines before the cut-off (weekly `forecast` by (site,) segment and sku, then
`stock --orders --items`), replayed day by day by ``tests/heldout.py`` (``replay_segments``:
8 weeks of warm-up on the history, each order's lead time drawn from normal(14, sd) in whole
days, at least 0, orders crossing; the mean over ``SEEDS`` seeds of the lead times and of the
day's arrival order). Data: Superstore with the region as the site and the site targets
(Corporate 0.98 first, Home Office 0.95, Consumer 0.90; (R, S) weekly, rationed), Superstore by
product and Online Retail at 0.95 for every point ((s, Q) nightly). Prints the figures, asserts
nothing about them.
"""

from __future__ import annotations

import datetime as dt
import time

import polars as pl
import pytest
import realdata
from heldout import SITE_TARGETS, by_cell, replay_segments, segment_cells

H = 8
SEEDS = (0, 1, 2)
LEAD_DAYS = 14.0
CASES = (
    ("Superstore region x sub-category, (R, S) weekly, site targets", dt.date(2022, 10, 10)),
    ("Superstore by product, (s, Q) nightly, 0.95", dt.date(2022, 10, 10)),
    ("Online Retail, (s, Q) nightly, 0.95", dt.date(2011, 10, 10)),
)


def _load(label: str):
    if label.startswith("Superstore region"):
        orders, segments = realdata.superstore("Sub-Category", site="Region")
        return orders, segments, ["site", "sku"]
    if label.startswith("Superstore by product"):
        orders, segments = realdata.superstore("Product ID")
        return orders, segments, ["sku"]
    orders, segments = realdata.online_retail()
    return orders, segments, ["sku"]


def _options(label: str) -> dict:
    from segchain.policy import PolicyTable, SegmentPolicy

    if label.startswith("Superstore region"):
        table = PolicyTable(
            {
                name: SegmentPolicy(level, "fill-rate", priority=prio)
                for name, (level, prio) in SITE_TARGETS.items()
            }
        )
        return {"policies": table, "policy_type": "RS", "review_days": 7}
    return {"service_level": 0.95, "service_measure": "fill-rate"}


def plan_and_replay(label, fc, train, lines, start, keys, sd):
    """One plan, replayed over ``SEEDS``: its figures at the held points and in all."""
    from segchain.stock import stock

    items = (
        train.select(pl.col("sku").cast(pl.String))
        .unique()
        .with_columns(lead_time_days=pl.lit(LEAD_DAYS), lead_time_sd_days=pl.lit(sd))
    )
    t0 = time.perf_counter()
    result = stock(fc, orders=train, items=items, **_options(label))
    seconds = time.perf_counter() - t0
    assert result.segments is not None
    policy = result.policy
    held = policy.select(*keys, (pl.col("demand_model") == "bootstrap").alias("held"))
    cells = []
    for seed in SEEDS:
        replayed = replay_segments(
            policy, result.segments, lines, keys=keys, start=start, weeks=H, seed=seed
        )
        cells.append(
            segment_cells(result.segments, replayed, policy, keys).with_columns(
                pl.lit(seed).alias("seed")
            )
        )
    every = pl.concat(cells).join(held, on=keys, how="left")
    rows = []
    for name, part in (("held", every.filter(pl.col("held"))), ("all", every)):
        by_seed = by_cell(part.with_columns(segment=pl.lit(name)), ["segment", "seed"])
        rows.append(
            {
                "points": name,
                "count": int(held["held"].sum()) if name == "held" else policy.height,
                "promised": float(by_seed["promised"].mean()),
                "delivered": float(by_seed["fill"].mean()),
                "delivered_min": float(by_seed["fill"].min()),
                "delivered_max": float(by_seed["fill"].max()),
                "stock": float(by_seed["stock"].mean()),
                "planned": float(
                    policy.filter(pl.col("demand_model") == "bootstrap")["inventory_value"].sum()
                    if name == "held"
                    else policy["inventory_value"].sum()
                ),
            }
        )
    for r in rows:
        print(
            f"    sd {sd:g}, {r['points']:>4} ({r['count']:,} points): promised "
            f"{r['promised']:.3f}, delivered {r['delivered']:.3f} "
            f"({r['delivered_min']:.3f}-{r['delivered_max']:.3f} over {len(SEEDS)} seeds); "
            f"stock replayed {r['stock']:,.0f}, planned {r['planned']:,.0f} ({seconds:.0f} s)"
        )


@pytest.mark.bench
def test_bench_stock_held_out_with_lead_times_varying():
    from segchain.forecast import forecast

    for label, start in CASES:
        orders, segments, keys = _load(label)
        train = orders.filter(pl.col("order_date").cast(pl.Date) < start)
        by = (*keys[:-1], "segment", keys[-1])
        fc = forecast(train, segments, freq="W", horizon=H, by=by).forecast
        lines = orders.join(segments, on="customer_id", how="inner")
        print(f"\n  {label}, held out {H} weeks from {start}, lead time {LEAD_DAYS:g} days:")
        for sd in (0.0, 7.0):
            plan_and_replay(label, fc, train, lines, start, keys, sd)
