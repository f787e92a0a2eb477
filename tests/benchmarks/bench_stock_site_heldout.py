"""Held-out service of `stock` per site and per segment on real data: what each segment was
promised at each site against what the plans delivered over the weeks after the cut-off, and
the same for one target for everyone at equal stock.

Superstore with its `Region` as the site (`--map site=Region`: where an order shipped to; a
customer ships to 3 or 4 regions, so the orders' own site is the site, no customer-to-site
assignment), sub-categories as sku and the customers' own Superstore segment, each promised its
fill rate (`SITE_TARGETS`: Corporate 0.98 served first, Home Office 0.95, Consumer 0.90). From
the lines before each cut-off: weekly `forecast --by site,segment,sku`, then `stock --orders`
with those targets, as (R, S) every 7 days with the product's critical-level rationing (the
demo's policy) and as (s, Q) looked at nightly (the default; rationed by priority too since
session 56: 23 and 43 of the 68 points at the two cut-offs in session 71's run). The
plans are replayed day by day over the 8 weeks after the cut-off (``tests/heldout.py``,
``replay_segments``: 8 weeks of warm-up on the history, each segment's daily demand one
arrival in random order, served down to its reserve level). The one-size-fits-all plan is
`stock` with one target for every segment and point (`--service-level X`, no rationing), X
set by bisection so that its replayed mean stock on hand equals the segmented plan's (value at
mean selling price). Prints the figures, asserts nothing about them.
"""

from __future__ import annotations

import datetime as dt
import time

import polars as pl
import pytest
import realdata
from heldout import by_cell, site_segment_replay

CUTOFFS = (dt.date(2022, 6, 6), dt.date(2022, 10, 10))
POLICIES = (("RS", 7), ("sQ", None))


@pytest.mark.bench
def test_bench_stock_held_out_per_site_and_segment():
    orders, segments = realdata.superstore("Sub-Category", site="Region")
    for start in CUTOFFS:
        for policy_type, review in POLICIES:
            t0 = time.perf_counter()
            run = site_segment_replay(
                orders, segments, start, policy_type=policy_type, review_days=review
            )
            seconds = time.perf_counter() - t0
            print(
                f"\n  Superstore, Region x sub-category, held out 8 weeks from {start}, "
                f"{policy_type}{f' every {review} days' if review else ' nightly'}: "
                f"{run.points} points ({run.rationed} rationed); one target for all at equal "
                f"stock: {run.uniform_target:.4f} ({seconds:.0f} s)"
            )
            mine = [
                by_cell(run.cells, ["segment", "site"]),
                by_cell(run.cells, ["segment"]),
                by_cell(run.cells.with_columns(segment=pl.lit("all")), ["segment"]),
            ]
            one = [
                by_cell(run.uniform_cells, ["segment", "site"]),
                by_cell(run.uniform_cells, ["segment"]),
                by_cell(run.uniform_cells.with_columns(segment=pl.lit("all")), ["segment"]),
            ]
            print(
                "    segment x site: target, promised -> delivered | one target: delivered; "
                "stock segmented / one target"
            )
            for seg_frame, uni_frame in zip(mine, one, strict=True):
                on = [c for c in ("segment", "site") if c in seg_frame.columns]
                joined = seg_frame.join(uni_frame, on=on, suffix="_u")
                for r in joined.iter_rows(named=True):
                    where = " @ ".join(str(r[c]) for c in on)
                    print(
                        f"    {where:<22} {r['target']:.3f}, {r['promised']:.3f} -> "
                        f"{r['fill']:.3f} | {r['fill_u']:.3f}; stock {r['stock']:,.0f} / "
                        f"{r['stock_u']:,.0f} ({r['asked']:,.0f} units asked)"
                    )
            if not run.rationed:
                continue
            at = [
                by_cell(c.filter(pl.col("rationed")), ["segment"])
                for c in (run.cells, run.uniform_cells)
            ]
            pairs = zip(at[0].iter_rows(named=True), at[1].iter_rows(named=True), strict=True)
            print(
                "    at the rationed points: "
                + ", ".join(
                    f"{a['segment']} {a['fill']:.3f} / {b['fill']:.3f} ({a['asked']:,.0f} asked)"
                    for a, b in pairs
                )
                + f"; stock {at[0]['stock'].sum():,.0f} / {at[1]['stock'].sum():,.0f}"
            )
