"""Outputs depend on the data, not on how it was handed over (session 68).

Cron runs meet exports whose row order, format and id spellings change from month to month:
the same demand must give the same figures, on one thread or two, run after run. (The global
model's codes by demand instead of by the ids' spelling were measured and not kept: see
docs/measurements.md, the global model's codes, session 68.)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import polars as pl
from test_cli_s60 import run


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
