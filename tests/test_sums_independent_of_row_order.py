"""Float sums that reach an output do not depend on the order rows arrive in.

The README promises that two runs on the same inputs write byte-identical files. Joins and
group-bys return rows in no fixed order, and a float sum depends on the order of its terms in
its last bits: two ``make demo`` runs wrote backtest.csv segment rows (MASE, RMSSE) and the
policy's ``inventory_by_segment`` metadata differing in the last digit. Each function here is
given the same rows in two orders and must return the same bits.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from segchain.forecast.backtest import backtest_tables, series_metrics
from segchain.forecast.selection import Selection
from segchain.stock.segments import by_segment


def _shuffled(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    return frame.sample(fraction=1.0, shuffle=True, seed=seed)


def _values(frame: pl.DataFrame) -> list[tuple]:
    return [tuple(row) for row in frame.rows()]


def test_stock_totals_by_segment_do_not_depend_on_row_order() -> None:
    rng = np.random.default_rng(1)
    n = 3000
    table = pl.DataFrame(
        {
            "site": rng.choice(["A", "B", "C"], n),
            "sku": [f"{i:05d}" for i in range(n)],
            "segment": rng.choice([f"s{i}" for i in range(7)], n),
            "priority": rng.integers(1, 8, n),
            "avg_inventory": rng.random(n) * 100,
            "inventory_value": rng.random(n) * 1e4 / 3,
        }
    )
    first = by_segment(table)
    for seed in range(5):
        assert _values(by_segment(_shuffled(table, seed))) == _values(first)


def _backtest_rows(rng: np.random.Generator, ids: list[str], cutoffs: int, h: int):
    rows = [
        (uid, c, c + 1 + k, float(rng.integers(0, 20)), float(rng.random() * 20))
        for uid in ids
        for c in range(cutoffs)
        for k in range(h)
    ]
    return pl.DataFrame(rows, schema=["unique_id", "cutoff", "ds", "y", "yhat"], orient="row")


def test_series_metrics_do_not_depend_on_row_order() -> None:
    rng = np.random.default_rng(2)
    ids = [f"u{i}" for i in range(50)]
    rows = _backtest_rows(rng, ids, cutoffs=4, h=13)
    scale = pl.DataFrame({"unique_id": ids, "scale1": rng.random(50) + 0.5, "scale2": 1.0})
    first = series_metrics(rows, scale).sort("unique_id")
    for seed in range(5):
        again = series_metrics(_shuffled(rows, seed), scale).sort("unique_id")
        assert _values(again) == _values(first)


def test_backtest_segment_and_overall_rows_do_not_depend_on_row_order() -> None:
    rng = np.random.default_rng(3)
    segments = ["Gold", "Silver", "Bronze"]
    ids = [f"{seg}/{sku:03d}" for seg in segments for sku in range(40)]
    keys = pl.DataFrame(
        {"unique_id": ids, "segment": [i.split("/")[0] for i in ids], "sku": ids}
    ).with_columns(pl.col("sku").str.split("/").list.get(1))
    rows = _backtest_rows(rng, ids, cutoffs=4, h=8)
    cv = pl.concat(
        [
            rows.with_columns(pl.lit("AutoETS").alias("model")),
            rows.with_columns(
                pl.lit("Naive").alias("model"), (pl.col("yhat") * 1.3 + 0.1).alias("yhat")
            ),
        ]
    )
    y = pl.DataFrame(
        [(uid, t, float(rng.integers(0, 20))) for uid in ids for t in range(-30, 12)],
        schema=["unique_id", "ds", "y"],
        orient="row",
    )
    stats = pl.DataFrame(
        {
            "unique_id": ids,
            "backtested": True,
            "model": "AutoETS",
            "demand_class": "smooth",
            "windows": 4,
        }
    )

    def summary(seed: int | None) -> list[tuple]:
        def order(frame: pl.DataFrame) -> pl.DataFrame:
            return frame if seed is None else _shuffled(frame, seed)

        sel = Selection(stats=order(stats), cv=order(cv), rows=order(rows))
        _, table = backtest_tables(sel, order(y), order(keys), ["segment", "sku"])
        return _values(table.sort("unique_id"))

    first = summary(None)
    assert len(first) == len(segments) + 1  # a row per segment, and the overall row
    for seed in range(5):
        assert summary(seed) == first
