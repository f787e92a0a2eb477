"""What a run records of its inputs, and the variables report reads an export with (session 70).

costs recorded its --orders files in its Parquet provenance as null (as '-' only when stdin), where
stock records the file of its --orders; report read a raw export with $SEGCHAIN_PRESET but not
with $SEGCHAIN_DATE_FORMAT or $SEGCHAIN_RETURNS, which validate and segment take.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

_HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price\n"


def _params(path: Path) -> dict:
    meta = pq.read_metadata(path).metadata
    return json.loads(meta[b"segchain.params"])


def test_costs_records_each_of_its_orders_files(cli, tmp_path: Path) -> None:
    """Two --orders files: costs' provenance names both, in the order given."""
    first, second = tmp_path / "jan.csv", tmp_path / "feb.csv"
    first.write_text(
        _HEADER + "".join(f"{i},2024-01-{1 + i:02d},C{i % 3},S1,1,10\n" for i in range(9))
    )
    second.write_text(
        _HEADER + "".join(f"{20 + i},2024-02-{1 + i:02d},C{i % 3},S2,2,5\n" for i in range(9))
    )
    seg = tmp_path / "seg.parquet"
    made = cli("segment", str(first), str(second), "-o", str(seg), "-q")
    assert made.exit_code == 0, made.stderr
    out = tmp_path / "costs.parquet"
    result = cli("costs", str(seg), "--orders", str(first), "--orders", str(second), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    params = _params(out)
    assert params["orders"] == [str(first), str(second)]
    assert params["segments"] == str(seg)  # as before: SEGMENTS by its file
