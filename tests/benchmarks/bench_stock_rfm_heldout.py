"""Held-out service of `stock` per RFM segment on real data: the default path, `segment`'s RFM
segments with the targets of the demo's config, against one target for everyone at equal stock.

The protocol of ``bench_stock_site_heldout.py`` (``tests/heldout.py``, ``segment_replay``) with
the segments a user gets by default: from the lines before each cut-off, `segment --as-of
CUTOFF` (RFM, eleven segments; customers first seen after the cut-off are replayed as their own
group, served as the lowest segment, since no plan knows them), weekly `forecast` by segment x
sku (per site with one), `stock --orders --policy RS --review-days 7` (critical-level rationing,
as the demo; and the default policy, (s, Q) looked at nightly, rationed too) with
``sample_data/segchain.toml``'s ``[segments]`` (Champions 0.99 served first;
Loyal and Cannot Lose Them 0.98 next; Potential Loyalist 0.97, At Risk 0.96, New and Promising
0.95, Need Attention 0.93, About to Sleep 0.90, Hibernating 0.85, Lost 0.80): without a config
every segment gets 0.95 and `stock` says to set them there, as the demo does. The plans are
replayed day by day over the 8 weeks after the cut-off, beside `stock` with one target for
every segment (no rationing) set by bisection to the same replayed stock on hand (value at
mean selling price; where even 0.999 holds less, the gap is printed).

Superstore with its `Region` as the site and sub-categories as skus (68 points); Online Retail
(no site), its customers segmented on every line, planned and replayed on its 40 skus with the
most lines before the first cut-off, to keep the rationing search within minutes. Prints the
figures, asserts nothing about them.
"""

from __future__ import annotations

import datetime as dt
import time

import polars as pl
import pytest
import realdata
from heldout import by_cell, demo_policies, rfm_segments, segment_replay

SUPERSTORE_CUTOFFS = (dt.date(2022, 6, 6), dt.date(2022, 10, 10))
ONLINE_RETAIL_CUTOFFS = (dt.date(2011, 8, 1), dt.date(2011, 10, 10))
ONLINE_RETAIL_SKUS = 40


def _best_sellers(orders: pl.DataFrame, before: dt.date, n: int) -> pl.DataFrame:
    best = (
        orders.filter(pl.col("order_date").cast(pl.Date) < before)
        .group_by("sku")
        .len()
        .sort(["len", "sku"], descending=[True, False])
        .head(n)
        .select("sku")
    )
    return orders.join(best, on="sku", how="semi")


def _print(name: str, run, seconds: float) -> None:
    print(
        f"\n  {name}: {run.points} points ({run.rationed} rationed); one target for all "
        f"{run.uniform_target:.4f}, its stock {run.stock_gap:+.1%} against the segmented "
        f"plan's ({seconds:.0f} s)"
    )
    print(
        "    segment: target, promised -> delivered | one target: delivered; stock segmented "
        "/ one target (units asked)"
    )
    mine = [
        by_cell(run.cells, ["segment"]),
        by_cell(run.cells.with_columns(segment=pl.lit("all")), ["segment"]),
    ]
    one = [
        by_cell(run.uniform_cells, ["segment"]),
        by_cell(run.uniform_cells.with_columns(segment=pl.lit("all")), ["segment"]),
    ]
    for seg_frame, uni_frame in zip(mine, one, strict=True):
        joined = seg_frame.join(uni_frame, on="segment", suffix="_u").sort(
            "target", descending=True, nulls_last=True
        )
        for r in joined.iter_rows(named=True):
            # No target: customers no plan knew (new after the cut-off), with no stock of theirs.
            planned = r["target"] is not None and r["target"] == r["target"]
            target = f"{r['target']:.3f}, {r['promised']:.3f}" if planned else "  -  ,   -  "
            fill = f"{r['fill']:.3f} | {r['fill_u']:.3f}" if r["asked"] else "  -   |   -  "
            print(
                f"    {r['segment']:<24} {target} -> {fill}; stock {r['stock']:,.0f} / "
                f"{r['stock_u']:,.0f} ({r['asked']:,.0f} units asked)"
            )


def _replay_and_print(
    name: str, orders, every, start: dt.date, keys, policies, policy: tuple[str, float]
) -> None:
    """The RFM segments of ``every``'s lines before ``start``, their plans for ``orders``
    replayed over the next 8 weeks (``policy``: its type and review days, rationed), printed
    as ``name``."""
    t0 = time.perf_counter()
    policy_type, review_days = policy
    run = segment_replay(
        orders,
        rfm_segments(every, start),
        start,
        keys=keys,
        policies=policies,
        policy_type=policy_type,
        review_days=review_days,
        unplanned_reserve="lowest",
    )
    _print(
        f"{name}, RFM, held out 8 weeks from {start}, {policy_type} every {review_days:g} days",
        run,
        time.perf_counter() - t0,
    )


# (R, S) weekly, as the demo plans; (s, Q) looked at nightly, the default policy.
POLICIES = [("RS", 7.0), ("sQ", 1.0)]


@pytest.mark.bench
@pytest.mark.parametrize("policy", POLICIES, ids=[p for p, _ in POLICIES])
def test_bench_stock_held_out_per_rfm_segment(policy: tuple[str, float]):
    policies = demo_policies()
    orders, _ = realdata.superstore("Sub-Category", site="Region")
    for start in SUPERSTORE_CUTOFFS:
        _replay_and_print(
            "Superstore, Region x sub-category",
            orders,
            orders,
            start,
            ("site", "sku"),
            policies,
            policy,
        )
    every, _ = realdata.online_retail()
    retail = _best_sellers(every, min(ONLINE_RETAIL_CUTOFFS), ONLINE_RETAIL_SKUS)
    for start in ONLINE_RETAIL_CUTOFFS:
        _replay_and_print(
            f"Online Retail, {ONLINE_RETAIL_SKUS} best-selling skus",
            retail,
            every,
            start,
            ("sku",),
            policies,
            policy,
        )
