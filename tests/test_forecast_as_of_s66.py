"""forecast --as-of before the segments' day warns that the held-out check scores segments that
knew the held-out demand; with series not split by segment (--by sku) the forecast does not
depend on the segments' day, and the warning sent users to rerun segment for nothing (audit F
F1, session 66)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_hostile_s46 import AS_OF, _orders

WARNED = "the held-out check scores segments that knew that demand"


@pytest.mark.parametrize(("by", "warned"), [("sku", False), ("segment,sku", True)])
def test_segments_made_after_as_of_are_said_only_of_series_by_segment(
    cli, tmp_path: Path, by: str, warned: bool
) -> None:
    _orders(tmp_path / "orders.csv")
    assert cli("segment", "orders.csv", "-o", "seg.parquet").exit_code == 0
    result = cli(
        "forecast", "seg.parquet", "--orders", "orders.csv", "--as-of", str(AS_OF),
        "--horizon", "2", "--by", by, "-o", "fc.csv",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert (WARNED in result.stderr) is warned, result.stderr
