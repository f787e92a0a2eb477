"""Outputs depend on the data, not on how it was handed over (session 68).

Cron runs meet exports whose row order, format and id spellings change from month to month:
the same demand under other names must give the same figures, names mapped back.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import polars as pl
from test_cli_s60 import run

from segchain.forecast.global_model import global_cross_validation, global_forecast
from segchain.forecast.options import Plan

PLAN = Plan(freq="W", horizon=4, season=52, window=4, models=None)


def _demand() -> pl.DataFrame:
    """12 weekly series (3 segments x 4 skus) of Poisson demand at different levels."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(12):
        level = 1 + 3 * rng.random()
        for t in range(70):
            week = dt.date(2023, 1, 2) + dt.timedelta(weeks=t)
            rows.append((f"g{i % 3}", f"s{i:02d}", week, float(rng.poisson(level))))
    y = pl.DataFrame(rows, schema=["segment", "sku", "ds", "y"], orient="row")
    return y.with_columns(unique_id=pl.col("segment") + "/" + pl.col("sku"))


def _renamed(y: pl.DataFrame, seed: int) -> tuple[pl.DataFrame, dict[str, str]]:
    """The same demand with segments and skus renamed so that they sort in another order;
    and the map from the new series ids back to the old."""
    perm = np.random.default_rng(seed).permutation(12)
    skus = {f"s{i:02d}": f"z{perm[i]:02d}" for i in range(12)}
    segments = {"g0": "m2", "g1": "m0", "g2": "m1"}
    out = y.with_columns(pl.col("sku").replace(skus), pl.col("segment").replace(segments))
    out = out.with_columns(unique_id=pl.col("segment") + "/" + pl.col("sku"))
    back = dict(zip(out.get_column("unique_id"), y.get_column("unique_id"), strict=True))
    return out, back


def _keys(y: pl.DataFrame) -> pl.DataFrame:
    return y.select("unique_id", "segment", "sku").unique().sort("unique_id")


def _same(a: pl.DataFrame, b: pl.DataFrame, value: str) -> None:
    on = [c for c in ("unique_id", "cutoff", "ds") if c in a.columns]
    a, b = a.sort(on), b.sort(on)
    assert a.select(on).equals(b.select(on))
    np.testing.assert_allclose(b.get_column(value), a.get_column(value), rtol=1e-9, atol=0)


def test_global_model_does_not_depend_on_how_the_ids_sort() -> None:
    # The global model coded each key column by the alphabetical rank of its values and was
    # fed the rows sorted by id: renamed skus forecast up to 1.9x apart (0.85 units a week).
    y = _demand()
    series = y.select("unique_id", "ds", "y")
    first = global_forecast(series, _keys(y), PLAN, _keys(y).get_column("unique_id"))
    first_cv, first_one = global_cross_validation(series, _keys(y), PLAN, n_windows=2)
    for seed in (1,):
        other, back = _renamed(y, seed)
        keys = _keys(other)
        theirs = other.select("unique_id", "ds", "y")
        named = pl.col("unique_id").replace_strict(back)
        fc = global_forecast(theirs, keys, PLAN, keys.get_column("unique_id"))
        _same(first, fc.with_columns(named), "Global")
        cv, one = global_cross_validation(theirs, keys, PLAN, n_windows=2)
        _same(first_cv, cv.with_columns(named), "yhat")
        _same(first_one, one.with_columns(named), "yhat1")


def _twins() -> pl.DataFrame:
    """6 pairs of skus, the two of a pair sold alike every week (Poisson at 6 levels)."""
    rng = np.random.default_rng(1)
    rows = []
    for i in range(6):
        sold = rng.poisson(1 + 6 * rng.random(), 70).astype(float)
        for twin in "ab":
            for t in range(70):
                rows.append(
                    ("g0", f"s{i}{twin}", dt.date(2023, 1, 2) + dt.timedelta(weeks=t), sold[t])
                )
    y = pl.DataFrame(rows, schema=["segment", "sku", "ds", "y"], orient="row")
    return y.with_columns(unique_id=pl.col("segment") + "/" + pl.col("sku"))


def test_global_model_forecasts_twin_series_alike() -> None:
    # Two skus that sold the same in every week were told apart by their names alone: the codes
    # broke the tie by name, so the twins forecast differently (up to 0.07 units a week here),
    # and a renaming that swapped their order swapped their forecasts (an export whose skus
    # come in identical pairs: segment x sku MASE 0.659 and 0.705 for the two of a pair).
    y = _twins()
    series = y.select("unique_id", "ds", "y")
    fc = global_forecast(series, _keys(y), PLAN, _keys(y).get_column("unique_id"))
    cv, one = global_cross_validation(series, _keys(y), PLAN, n_windows=2)
    for frame, value in ((fc, "Global"), (cv, "yhat"), (one, "yhat1")):
        pairs = frame.with_columns(
            pair=pl.col("unique_id").str.slice(0, 5), twin=pl.col("unique_id").str.slice(5, 1)
        )
        index = ["pair", "ds", *(["cutoff"] if "cutoff" in frame.columns else [])]
        wide = pairs.pivot(on="twin", index=index, values=value)
        assert wide.get_column("a").to_list() == wide.get_column("b").to_list()


def _segchain(*args: str, cwd: Path, threads: str = "2") -> None:
    result = run(*args, "--quiet", cwd=cwd, env={**os.environ, "POLARS_MAX_THREADS": threads})
    assert result.returncode == 0, result.stderr


def test_costs_write_the_same_bytes_on_one_thread_as_on_two(tmp_path: Path) -> None:
    # The orders' total in the revenue reconciliation was summed over the chunks the query
    # returned, and polars returns as many as it has threads: the demo's costs metadata said
    # 3,637,935.5900000003 on 1 thread and 3,637,935.59 on 2.
    _segchain(
        "sample", "-o", ".", "--customers", "300", "--skus", "30", "--years", "2", cwd=tmp_path
    )
    _segchain("validate", "orders.csv", "-o", "orders.parquet", cwd=tmp_path)
    _segchain("segment", "orders.parquet", "-o", "segments.parquet", cwd=tmp_path)
    for threads in ("1", "2"):
        out = f"costs_{threads}.parquet"
        args = ["segments.parquet", "--orders", "orders.parquet", "-o", out]
        _segchain("costs", *args, cwd=tmp_path, threads=threads)
    one, two = (tmp_path / f"costs_{n}.parquet" for n in ("1", "2"))
    assert one.read_bytes() == two.read_bytes()


def test_cost_to_serve_adds_its_parts_in_their_order() -> None:
    # pl.sum_horizontal adds its columns in a tree that follows polars' threads: the demo's
    # costs by customer wrote another cost_to_serve and profit on 1 thread than on 2. Known
    # answer: Python's sum of each row's parts, first to last.
    from segchain.costs import COST_COMPONENTS, _totals

    rng = np.random.default_rng(0)
    n = 300
    parts = {c: rng.random(n) * 10.0 ** rng.integers(0, 6) for c in COST_COMPONENTS}
    table = pl.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "segment": "s",
            "orders": 1,
            "lines": 1,
            "return_lines": 0,
            "revenue": 1e6,
            "cogs": 1.0,
            "gross_margin": 1e6,
            **parts,
            "inventory_value": 0.0,
            "period_days": 365,
        }
    )
    out = _totals(table, list(COST_COMPONENTS), key="customer")
    expected = [sum(row) for row in zip(*parts.values(), strict=True)]
    assert out.get_column("cost_to_serve").to_list() == expected


def test_reconciled_totals_do_not_depend_on_the_chunks() -> None:
    # A query returns a frame in as many chunks as polars has threads, and a float column
    # summed over its chunks took their last bits: Superstore's warehouse fixed costs allocated
    # 91,000.00000000001 on 1 thread and 91,000.0 on 2 in the costs' reconciliation.
    from segchain.costs import _total

    rng = np.random.default_rng(3)
    values = (rng.random(1000) * 1e4).tolist()
    whole = pl.DataFrame({"x": values})
    for cut in (1, 250, 500, 999):
        parts = [pl.DataFrame({"x": values[:cut]}), pl.DataFrame({"x": values[cut:]})]
        chunked = pl.concat(parts, rechunk=False)
        assert _total(chunked, "x") == _total(whole, "x") == float(pl.Series(values).sum())


def test_sum_in_order_adds_a_groups_rows_one_after_another() -> None:
    """costs' per-customer inventory sums (``costs.allocate.inventory_by_customer``) are a
    group's rows added in order: two runs of the same ``costs --by customer`` on the demo's
    chain wrote inventory_value 3.6e-12 apart at 79 customers (1 run of 10, polars combining a
    group's partial sums in its threads' order; 16 of 16 identical after, session 68). Checked
    against Python's own left-to-right sum, on values whose order changes the last bits."""
    import random

    import polars as pl

    from segchain.numbers import sum_in_order

    rng = random.Random(3)
    values = [rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-6, 3) for _ in range(5000)]
    keys = [rng.randint(0, 9) for _ in values]
    got = (
        pl.DataFrame({"k": keys, "v": values})
        .group_by("k", maintain_order=True)
        .agg(sum_in_order("v"))
    )
    for k, total in got.iter_rows():
        expected = 0.0
        for key, value in zip(keys, values, strict=True):
            if key == k:
                expected += value
        assert total == expected  # exactly: the same additions in the same order
