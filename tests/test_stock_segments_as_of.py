"""stock's held-out replay with segments made from the lines it holds out, said as forecast says
it of its own held-out check (The Complete Journey: segments of the whole year, a forecast --as-of
2017-11-06, `stock --orders --segments` replayed the weeks after it without a word)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from test_hostile_s46 import AS_OF, _held_out_lines, _orders


def _chain(cli, tmp_path: Path, *segment_args: str):
    orders = _orders(tmp_path / "orders.csv")
    assert cli("segment", "orders.csv", *segment_args, "-o", "seg.parquet").exit_code == 0
    made = cli(
        "forecast", "seg.parquet", "--orders", "orders.csv", "--as-of", str(AS_OF),
        "--horizon", "2", "-o", "fc.parquet",
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    result = cli(
        "stock", "fc.parquet", "--orders", "orders.csv", "--segments", "seg.parquet",
        "-o", "policy.csv",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return orders, result


def test_stock_says_its_segments_read_the_lines_its_replay_holds_out(cli, tmp_path: Path) -> None:
    orders, result = _chain(cli, tmp_path)
    assert "held out" in result.stderr  # the replay ran
    seg_day = dt.date(2024, 3, 8)  # segment's default as-of: the day after the orders' last
    seen = _held_out_lines(orders, AS_OF, seg_day)
    assert seen > 0
    assert (
        f"Warning: --segments seg.parquet was made from the order lines before {seg_day}, a later "
        f"day than the forecast's first period {AS_OF}: its segments read {seen} lines the replay "
        f"holds out, so the held-out check scores segments that knew that demand; give segment "
        f"--as-of {AS_OF} too for a backtest of the chain"
    ) in result.stderr, result.stderr


def test_stock_with_segments_as_of_the_forecasts_start_says_nothing_of_it(
    cli, tmp_path: Path
) -> None:
    _, result = _chain(cli, tmp_path, "--as-of", str(AS_OF))
    assert "held out" in result.stderr
    assert "was made from" not in result.stderr
