"""The contracts declared once in schema: table kinds, line flags, the product-line rule."""

from __future__ import annotations

import polars as pl
import pytest

from segchain.report import KIND_NAMES, STAGE_KINDS, recognise_table
from segchain.schema import LINE_FLAGS, TABLE_KINDS, product_line


@pytest.mark.parametrize("kind", list(TABLE_KINDS.values()), ids=list(TABLE_KINDS))
def test_every_registered_kind_is_recognised_by_its_keys_and_its_stages(kind) -> None:
    assert recognise_table(list(kind.keys)) == (kind.name, "columns")
    for stage in kind.stages:
        assert recognise_table([], stage) == (kind.name, "metadata")
    assert KIND_NAMES[kind.name] == kind.about


def test_no_two_kinds_claim_the_same_stage_name() -> None:
    stages = [s for kind in TABLE_KINDS.values() for s in kind.stages]
    assert len(stages) == len(set(stages)) == len(STAGE_KINDS)


def test_product_line_keeps_returns_and_zero_price_lines_and_unflagged_ones() -> None:
    flags = pl.DataFrame({"flag": [None, "non_product", "return", "zero_price", "negative_price"]})
    assert flags.select(product_line())["flag"].to_list() == [True, False, True, True, True]
    assert set(LINE_FLAGS) == {
        "non_product",
        "return",
        "zero_price",
        "negative_price",
        "zero_quantity",
    }


def test_demand_line_leaves_price_corrections_and_non_products_out() -> None:
    from segchain.schema import demand_line

    flags = pl.DataFrame({"flag": [None, "non_product", "return", "zero_price", "negative_price"]})
    assert flags.select(demand_line())["flag"].to_list() == [True, False, True, True, False]


def test_validate_sets_only_registered_flags(cli, tmp_path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        "1,2024-01-02,c1,POST,1,5\n"
        "2,2024-01-02,c1,W8,-1,5\n"
        "3,2024-01-02,c1,W7,1,0\n"
        "4,2024-01-02,c1,W9,1,3\n"
    )
    out = tmp_path / "clean.csv"
    result = cli("validate", str(path), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    flags = pl.read_csv(out)["flag"].to_list()
    assert flags == ["non_product", "return", "zero_price", None]
