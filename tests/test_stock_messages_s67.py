"""What `segchain stock` says about a plan, where it said it wrong (stock-messages, session 67):
a comparison in units headed value_*, a target under 1 written as 1, and a forecast's recorded
--freq that its dates contradict, planned by the dates without a word."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

MONTH_DAYS = 365.25 / 12  # 30.4375: a month, as --freq M plans it
TWO_TARGETS = '[segments."Gold"]\nservice_level = 0.99\n[segments."Bronze"]\nservice_level = 0.9\n'


def _forecast(weeks: int = 4) -> pl.DataFrame:
    """Two skus bought by two segments, 10 units a week each, over ``weeks`` Mondays."""
    rows = [
        (sku, seg, dt.date(2024, 1, 1) + dt.timedelta(days=7 * k), 10.0, 3.0)
        for sku in ("A", "B")
        for seg in ("Gold", "Bronze")
        for k in range(weeks)
    ]
    return pl.DataFrame(rows, schema=["sku", "segment", "ds", "forecast", "error_sd"], orient="row")


def _header(stderr: str, first: str) -> list[str]:
    """The column names of the stderr table whose first column is ``first``."""
    line = next(x for x in stderr.splitlines() if "┃" in x and f" {first} " in x)
    return [cell.strip() for cell in line.removeprefix("segchain stock:").split("┃")]


# (1) --compare-uniform without any unit cost: the plan counts units (each valued at 1).


def test_compare_uniform_heads_its_stock_columns_units_without_unit_costs(cli, tmp_path) -> None:
    """No --items and no --orders prices: the plan line says 'inventory ... units', and the
    comparison's stock columns said value_segmented, value_uniform, value_fcfs (493 units of
    the zero-price export read as money); they are units_*."""
    _forecast().write_csv(tmp_path / "fc.csv")
    (tmp_path / "c.toml").write_text(TWO_TARGETS)
    args = ["fc.csv", "--config", "c.toml", "--compare-uniform", "equal", "-o", "p.parquet"]
    result = cli("stock", *args)
    assert result.exit_code == 0, result.stderr
    header = _header(result.stderr, "segment")
    assert {"units_segmented", "units_uniform"} <= set(header), header
    assert not [name for name in header if name.startswith("value_")], header
    assert "units (no unit costs" in result.stderr  # the plan line, as before


def test_compare_uniform_keeps_value_columns_where_items_give_unit_costs(cli, tmp_path) -> None:
    _forecast().write_csv(tmp_path / "fc.csv")
    (tmp_path / "c.toml").write_text(TWO_TARGETS)
    (tmp_path / "items.csv").write_text("sku,unit_cost\nA,2.0\nB,3.0\n")
    args = ["fc.csv", "--items", "items.csv", "--config", "c.toml", "--compare-uniform", "equal"]
    result = cli("stock", *args, "-o", "p.parquet")
    assert result.exit_code == 0, result.stderr
    header = _header(result.stderr, "segment")
    assert {"value_segmented", "value_uniform"} <= set(header), header
    assert "units_segmented" not in header


# (2) A target under 1 is never written as 1.


@pytest.mark.parametrize(
    ("x", "spec", "text"),
    [
        (0.9999999, "g", "0.9999999"),  # was '1'
        (0.9999999, ".4f", "0.9999999"),  # was '1.0000'
        (0.9999999, ".1%", "99.99999%"),  # was '100.0%'
        (0.99996, ".1%", "99.996%"),  # was '100.0%'
        (0.95, "g", "0.95"),  # the rest as the spec writes them
        (0.958, ".4f", "0.9580"),
        (0.97, ".1%", "97.0%"),
        (1.0, "g", "1"),
        (1.0, ".1%", "100.0%"),
        # A computation's 1 (a normal tail's float rounding), not a value short of it.
        (1 - 2e-16, ".1%", "100.0%"),
        (1 - 1e-12, "g", "1"),
        (1 - 1e-8, ".1%", "99.999999%"),
    ],
)
def test_short_of_one_writes_a_value_under_one_below_one(x: float, spec: str, text: str) -> None:
    from segchain.formatting import short_of_one

    assert short_of_one(x, spec) == text


def test_a_share_under_one_is_not_written_100_percent() -> None:
    """Every share and rate of the tables (the target column of stock's comparison among
    them) is written by format_number's pct kind."""
    from segchain.formatting import PCT, format_number

    assert format_number(0.9999999, PCT) == "99.99999%"
    assert format_number(1.0, PCT) == "100.0%"
    assert format_number(0.5, PCT) == "50.0%"


def test_equal_targets_warning_writes_a_target_under_one_as_given(cli, tmp_path) -> None:
    """--service-level 0.9999999 for every segment: the warning said 'fill-rate 1'."""
    _forecast().write_csv(tmp_path / "fc.csv")
    args = ["fc.csv", "--service-level", "0.9999999", "--service-measure", "fill-rate"]
    result = cli("stock", *args, "-o", "p.parquet")
    assert result.exit_code == 0, result.stderr
    assert "every segment has the same service target (fill-rate 0.9999999)" in result.stderr


def test_compare_uniform_names_a_uniform_target_under_one_as_given(cli, tmp_path) -> None:
    """--compare-uniform 0.9999999: the table's title said 'one uniform target 1.0000'."""
    _forecast().write_csv(tmp_path / "fc.csv")
    (tmp_path / "c.toml").write_text(TWO_TARGETS)
    args = ["fc.csv", "--config", "c.toml", "--compare-uniform", "0.9999999", "-o", "p.parquet"]
    result = cli("stock", *args)
    assert result.exit_code == 0, result.stderr
    assert "segmented targets vs one uniform target 0.9999999\n" in result.stderr


# (3) A Parquet forecast without a freq column: its metadata's --freq against its dates.


def _with_metadata(tmp_path: Path, name: str, freq: str, weeks: int = 4) -> str:
    """The forecast as Parquet with segchain's metadata recording --freq ``freq``, no column."""
    from segchain.tableio import write_table

    write_table(
        _forecast(weeks),
        str(tmp_path / name),
        metadata={"stage": "forecast", "params": {"freq": freq}},
    )
    return name


def test_stock_refuses_a_metadata_freq_its_dates_do_not_show(cli, tmp_path) -> None:
    """Metadata --freq M over dates 7 days apart was planned as weeks, exit 0, nothing said."""
    name = _with_metadata(tmp_path, "edited.parquet", "M")
    result = cli("stock", name, "-o", "p.parquet")
    assert result.exit_code == 1
    assert (
        "Error: FORECAST edited.parquet: the forecast's metadata records --freq M (periods of "
        "30.4375 days) but its dates are 7 days apart (the median gap between its dates "
        "2024-01-01 to 2024-01-22)\n"
    ) in result.stderr
    assert "hint: rerun `segchain forecast`" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "p.parquet").exists()


@pytest.mark.parametrize(("freq", "weeks", "days"), [("W", 4, 7.0), ("M", 1, MONTH_DAYS)])
def test_stock_plans_a_metadata_freq_its_dates_agree_with(
    cli, tmp_path, freq: str, weeks: int, days: float
) -> None:
    """Weekly dates recorded W plan as weeks; one period recorded M as a month (its dates
    cannot contradict it)."""
    name = _with_metadata(tmp_path, "fc.parquet", freq, weeks)
    result = cli("stock", name, "-o", "p.parquet")
    assert result.exit_code == 0, result.stderr
    assert pl.read_parquet(tmp_path / "p.parquet")["period_days"].unique().to_list() == [days]
