"""Rationing looks only at the stocking points with something to ration (audit U6, session 63).

A point has something to ration when at least two of its segments have demand and are promised
different targets. Every other point (one segment, one target, or one segment with demand) keeps
the formulas' plan: it is neither partitioned out of the segment rows one by one nor planned a
second time at its top target.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest

from segchain.config import PolicyTable, SegmentPolicy
from segchain.stock import stage, stock

WEEKS = [date(2025, 1, 6) + timedelta(weeks=i) for i in range(2)]
TABLE = PolicyTable(
    {"gold": SegmentPolicy(service_level=0.99), "bronze": SegmentPolicy(service_level=0.90)}
)


def _forecast(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    """Weekly forecast rows (sku, segment, mean), error sd 1.5 x sqrt(mean)."""
    return pl.DataFrame(
        [
            {"sku": s, "segment": g, "ds": d, "forecast": m, "error_sd": 1.5 * np.sqrt(m)}
            for s, g, m in rows
            for d in WEEKS
        ]
    )


def _items(skus: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"sku": skus, "lead_time_days": [14.0] * len(skus)})


def _count_work(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts the policies computed and the groups ``partition_by`` makes."""
    seen = {"plans": 0, "groups": 0}
    plan = stage._compute_per_measure
    partition = pl.DataFrame.partition_by

    def counted_plan(*args: Any, **kwargs: Any) -> pl.DataFrame:
        seen["plans"] += 1
        return plan(*args, **kwargs)

    def counted_partition(self: pl.DataFrame, *args: Any, **kwargs: Any) -> Any:
        out = partition(self, *args, **kwargs)
        seen["groups"] += len(out)
        return out

    monkeypatch.setattr(stage, "_compute_per_measure", counted_plan)
    monkeypatch.setattr(pl.DataFrame, "partition_by", counted_partition)
    return seen


@pytest.mark.parametrize("review_days", [None, 7.0])
def test_stock_one_segment_points_are_planned_once_and_not_partitioned(
    monkeypatch: pytest.MonkeyPatch, review_days: float | None
) -> None:
    skus = [f"{i:04d}" for i in range(300)]
    fc = _forecast([(s, "gold", 2.0 + i % 40) for i, s in enumerate(skus)])
    seen = _count_work(monkeypatch)
    res = stock(fc, items=_items(skus), policies=TABLE, review_days=review_days)
    assert res.policy.height == 300
    assert not res.policy["rationed"].any()
    # One plan (the blended targets, here gold's own) and no point looked at one by one.
    assert seen == {"plans": 1, "groups": 0}


def test_stock_only_the_point_with_two_live_targets_is_looked_at(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [
        ("MIXED", "gold", 20.0),
        ("MIXED", "bronze", 60.0),
        ("ALONE", "gold", 30.0),
        ("IDLE", "gold", 25.0),  # its bronze segment buys nothing
        ("IDLE", "bronze", 0.0),
    ]
    fc, items = _forecast(rows), _items(["MIXED", "ALONE", "IDLE"])
    plain = stock(fc, items=items, policies=TABLE, review_days=7.0, rationing="none").policy
    seen = _count_work(monkeypatch)
    res = stock(fc, items=items, policies=TABLE, review_days=7.0).policy
    assert seen["groups"] == 1  # MIXED alone
    # The other two keep the formulas' plan, as served first come, first served.
    others = pl.col("sku").is_in(["ALONE", "IDLE"])
    assert res.filter(others).drop("rationed").equals(plain.filter(others).drop("rationed"))
    assert not res.filter(others)["rationed"].any()
