"""A stock plan is a function of the data, not of the sku and site names (audit M, F5).

Each point's random draws (the rationing search, the bootstrap of its history, the held-out
replay's lead times) were seeded by a hash of its sku and site: renaming the demo's skus and
sites moved 26 of 552 reorder points by up to 10 % and switched 2 points' rationing. The known
answer here is the plan under the original names, the names mapped back; and, for a change of
units (every quantity x1000), the original plan's quantities x1000.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import numpy as np
import polars as pl
from test_stock_bootstrap import MONDAY, _lumpy_histories, orders
from test_stock_rationing import LEAD, MIX, REVIEW, TABLE, forecast

from segchain.stock import stock
from segchain.stock.bootstrap import histories

RENAMED = {"FAST": "zz-9", "SLOW": "a1", "LUMPY": "Q"}
QUANTITIES = ["reorder_point", "order_up_to", "order_qty", "avg_inventory", "safety_stock"]


def _rationed(mix: list[tuple[str, str, float, float]], names: dict[str, str]):
    rows = [(names[s], g, m, sd) for s, g, m, sd in mix]
    items = pl.DataFrame({"sku": [names[s] for s in ("FAST", "SLOW", "LUMPY")]}).with_columns(
        lead_time_days=pl.lit(float(LEAD))
    )
    res = stock(forecast(rows), items=items, policies=TABLE, review_days=REVIEW)
    back = {v: k for k, v in names.items()}
    policy = res.policy.with_columns(pl.col("sku").replace(back)).sort("sku")
    assert res.segments is not None
    segments = res.segments.with_columns(pl.col("sku").replace(back)).sort("sku", "segment")
    return policy, segments


def test_renaming_the_skus_gives_the_same_rationed_plan() -> None:
    policy, segments = _rationed(MIX, {s: s for s in RENAMED})
    # All three points rationed: the search's simulation decided each of them.
    assert int(policy["rationed"].sum()) == 3
    renamed_policy, renamed_segments = _rationed(MIX, RENAMED)
    assert renamed_policy.equals(policy)
    assert renamed_segments.equals(segments)


def _bootstrapped(skus: list[str], names: dict[str, str], scale: float = 1.0) -> pl.DataFrame:
    hist = _lumpy_histories(skus, seed=5)
    lines = [
        (names[r["sku"]], (r["ds"] - MONDAY).days // 7, r["y"] * scale)
        for r in hist.filter(pl.col("y") > 0).iter_rows(named=True)
    ]
    weeks = [MONDAY + timedelta(weeks=52 + i) for i in range(4)]
    fc = pl.DataFrame(
        {
            "sku": [names[s] for s in skus for _ in weeks],
            "ds": weeks * len(skus),
            "forecast": 20.0 * scale,
            "error_sd": 200.0 * scale,  # far wider than the history: every point bootstrapped
            "demand_class": "lumpy",
        }
    )
    back = {v: k for k, v in names.items()}
    policy = stock(fc, orders=orders(lines)).policy
    assert (policy["demand_model"] == "bootstrap").all()
    return policy.with_columns(pl.col("sku").replace(back)).sort("sku")


def test_renaming_the_skus_gives_the_same_bootstrapped_plan() -> None:
    skus = [f"S{i}" for i in range(6)]
    plain = _bootstrapped(skus, {s: s for s in skus})
    renamed = _bootstrapped(skus, {s: hashlib.sha1(s.encode()).hexdigest()[:8] for s in skus})
    assert renamed.equals(plain)


def test_a_history_in_other_units_or_names_draws_the_same_numbers() -> None:
    # Every quantity x1000 (the audit's units variant) or another name: the same random stream,
    # so the bootstrap draws the same numbers (its jitter, not the stream, is in units).
    hist = _lumpy_histories(["A", "B"], seed=3)
    points = pl.DataFrame({"sku": ["A", "B"]})
    base = histories(hist, points, ["sku"]).streams
    big = histories(hist.with_columns(pl.col("y") * 1000.0), points, ["sku"]).streams
    renamed = histories(
        hist.with_columns(pl.col("sku").replace({"A": "k1", "B": "k2"})),
        pl.DataFrame({"sku": ["k1", "k2"]}),
        ["sku"],
    ).streams
    np.testing.assert_array_equal(big, base)
    np.testing.assert_array_equal(renamed, base)
    assert base[0] != base[1]  # other histories, other streams


def test_two_points_with_the_same_data_get_the_same_plan_whatever_they_are_called() -> None:
    # Two skus, the same demand by segment: the same plan (the draws follow the data).
    mix = [r for r in MIX if r[0] == "SLOW"]
    twins = mix + [("TWIN", g, m, sd) for _, g, m, sd in mix]
    items = pl.DataFrame({"sku": ["SLOW", "TWIN"], "lead_time_days": [float(LEAD)] * 2})
    policy = stock(forecast(twins), items=items, policies=TABLE, review_days=REVIEW).policy
    a = policy.filter(pl.col("sku") == "SLOW").drop("sku")
    b = policy.filter(pl.col("sku") == "TWIN").drop("sku")
    assert bool(a["rationed"].item())
    assert a.equals(b)
