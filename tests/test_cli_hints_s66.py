"""The hint for a second input given by place puts each file where it belongs: `forecast
orders.parquet seg.parquet` (the orders first) was told `forecast orders.parquet --orders
seg.parquet`, the segments where the orders go (session 66)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from segchain.tableio import provenance, write_table


def _segments(path: Path) -> None:
    table = pl.DataFrame({"customer_id": ["c1"], "segment": ["Champions"], "segment_rank": [1]})
    write_table(table, str(path), metadata=provenance("segments"))


def _orders(path: Path) -> None:
    table = pl.DataFrame(
        {
            "order_id": ["o1"],
            "order_date": ["2024-01-02"],
            "customer_id": ["c1"],
            "sku": ["A"],
            "quantity": [1.0],
        }
    )
    write_table(table, str(path), metadata=provenance("orders"))


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
@pytest.mark.parametrize("command", ["forecast", "costs"])
def test_the_segments_table_goes_by_place_whichever_order_they_came_in(
    cli, tmp_path: Path, command: str, suffix: str
) -> None:
    seg, orders = tmp_path / f"seg{suffix}", tmp_path / f"o{suffix}"
    _segments(seg)
    _orders(orders)
    for given in ((orders, seg), (seg, orders)):
        result = cli(command, *map(str, given))
        assert result.exit_code == 2
        assert f"e.g. segchain {command} {seg} --orders {orders}" in result.stderr


def test_files_that_cannot_be_told_apart_keep_their_order(cli, tmp_path: Path) -> None:
    # Neither is a segments table (one does not exist): the example keeps the order given.
    orders, missing = tmp_path / "o.csv", tmp_path / "nothere.csv"
    _orders(orders)
    result = cli("forecast", str(orders), str(missing))
    assert result.exit_code == 2
    assert f"e.g. segchain forecast {orders} --orders {missing}" in result.stderr
