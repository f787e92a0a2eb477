"""A one-period forecast of segchain's own keeps its period through CSV and pipes (audit S, S5).

`segchain forecast` recorded its --freq only in Parquet metadata: its one-period forecast
(--horizon 1) written as CSV, or piped to `segchain stock`, was planned as weekly, with one
warning (Superstore by sub-category, monthly: inventory 8,421 units against 4,097 through
Parquet; daily: 1,823 against 4,614). The forecast now writes its --freq in a `freq` column.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

START = date(2023, 1, 1)
AS_OF = "2024-01-01"  # the history is 2023 whole: its last month and days are complete
LEAD_DAYS, REVIEW_DAYS = 14.0, 1.0  # stock's defaults without --items, (s, Q) looked at nightly
DAYS_PER_MONTH = 365.25 / 12  # 30.4375
# The forecast's own columns the plan is compared by (the rest are the same inputs).
PLAN = ["sku", "period_days", "mean_demand", "mean_demand_lt", "sd_demand_lt", "reorder_point"]


def _lines() -> list[tuple[int, date, str, int]]:
    """400 days of one sku, three customers, 1 to 4 units a day: (order, day, customer, units)."""
    return [(i, START + timedelta(days=i), f"C{i % 3}", 1 + i % 4) for i in range(400)]


@pytest.fixture
def segmented(cli, tmp_path: Path) -> tuple[Path, Path]:
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        + "".join(f"{i},{d},{c},S1,{q},2.0\n" for i, d, c, q in _lines())
    )
    seg = tmp_path / "seg.parquet"
    assert cli("segment", str(orders), "-o", str(seg)).exit_code == 0
    return orders, seg


def _forecast(cli, segmented: tuple[Path, Path], freq: str, *out: str):
    orders, seg = segmented
    args = ["--freq", freq, "--as-of", AS_OF, "--horizon", "1", "--models", "WindowAverage"]
    made = cli("forecast", str(seg), "--orders", str(orders), *args, "--reconcile", "none", *out)
    assert made.exit_code == 0, made.stderr
    return made


def _plan(cli, tmp_path: Path, name: str, forecast: str, stdin: str | None = None):
    policy = tmp_path / name
    result = cli("stock", forecast, "--rationing", "none", "-o", str(policy), input=stdin)
    assert result.exit_code == 0, result.stderr
    return pl.read_parquet(policy).select(PLAN), result.stderr


def _independent_mean(freq: str) -> float:
    """The mean a WindowAverage forecasts for the period after 2023, from the lines alone: the
    last 3 months' units (forecast's monthly window), or the last 28 days' (daily)."""
    end = date(2024, 1, 1)
    if freq == "M":
        start, periods = date(2023, 10, 1), 3
    else:
        start, periods = end - timedelta(days=28), 28
    units = sum(q for _, d, _, q in _lines() if start <= d < end)
    return units / periods


@pytest.mark.parametrize(("freq", "days"), [("M", DAYS_PER_MONTH), ("D", 1.0)])
def test_stock_plans_a_one_period_forecast_alike_through_csv_a_pipe_and_parquet(
    cli, segmented, tmp_path: Path, freq: str, days: float
) -> None:
    _forecast(cli, segmented, freq, "-o", str(tmp_path / "fc.parquet"))
    _forecast(cli, segmented, freq, "-o", str(tmp_path / "fc.csv"))
    piped = _forecast(cli, segmented, freq).stdout  # CSV on stdout, as the README's pipeline
    parquet, _ = _plan(cli, tmp_path, "pq.parquet", str(tmp_path / "fc.parquet"))
    csv, said = _plan(cli, tmp_path, "csv.parquet", str(tmp_path / "fc.csv"))
    pipe, _ = _plan(cli, tmp_path, "pipe.parquet", "-", stdin=piped)
    assert "single period" not in said
    assert csv.equals(parquet)
    assert pipe.equals(parquet)
    assert parquet["period_days"].to_list() == [days]


@pytest.mark.parametrize("freq", ["M", "D"])
def test_stock_one_period_demand_over_lead_time_and_review_is_the_independent_mean(
    cli, segmented, tmp_path: Path, freq: str
) -> None:
    """The known answer: the window's mean per period x (L + R) days / the period's days:
    monthly 230 units over Oct-Dec 2023 / 3 = 76.67 a month, x 15 / 30.4375 = 37.78 (was
    x 15 / 7 = 164.29); daily 70 units over Dec 4-31 / 28 = 2.5 a day, x 15 = 37.5 (was 5.36)."""
    _forecast(cli, segmented, freq, "-o", str(tmp_path / "fc.csv"))
    csv, _ = _plan(cli, tmp_path, "csv.parquet", str(tmp_path / "fc.csv"))
    mean = _independent_mean(freq)
    per_day = mean / (DAYS_PER_MONTH if freq == "M" else 1.0)
    assert csv["mean_demand"][0] == pytest.approx(mean, rel=1e-6)
    assert csv["mean_demand_lt"][0] == pytest.approx(per_day * (LEAD_DAYS + REVIEW_DAYS), rel=1e-6)


def _edited(tmp_path: Path, name: str, **columns: object) -> str:
    """fc.csv with ``columns`` set, as ``name`` in ``tmp_path`` (the tests' working folder)."""
    pl.read_csv(tmp_path / "fc.csv").with_columns(
        pl.lit(v).alias(k) for k, v in columns.items()
    ).write_csv(tmp_path / name)
    return name


def test_stock_refuses_a_freq_column_the_metadata_does_not_record(
    cli, segmented, tmp_path: Path
) -> None:
    from segchain.tableio import read_metadata, write_table

    written = tmp_path / "fc.parquet"
    _forecast(cli, segmented, "M", "-o", str(written))
    weekly = pl.read_parquet(written).with_columns(pl.lit("W").alias("freq"))
    # The metadata (segchain's provenance, --freq M among it) kept as forecast wrote it.
    write_table(weekly, str(tmp_path / "edited.parquet"), metadata=read_metadata(written))
    policy = tmp_path / "p.parquet"
    result = cli("stock", "edited.parquet", "-o", str(policy))  # tmp_path is the folder
    assert result.exit_code == 1
    assert (
        "Error: FORECAST edited.parquet: column 'freq' says W but the forecast's metadata "
        "records --freq M\n" in result.stderr
    )
    assert "Traceback" not in result.stderr and not policy.exists()


def test_stock_refuses_a_freq_column_its_dates_do_not_show(cli, segmented, tmp_path) -> None:
    orders, seg = segmented
    # From the history's end (2024-02-04): no held-out weeks to score.
    args = ["--freq", "W", "--horizon", "3", "--models", "WindowAverage"]
    fc = tmp_path / "fc.csv"
    made = cli("forecast", str(seg), "--orders", str(orders), *args, "-o", str(fc))
    assert made.exit_code == 0, made.stderr
    policy = tmp_path / "p.parquet"
    result = cli("stock", _edited(tmp_path, "monthly.csv", freq="M"), "-o", str(policy))
    assert result.exit_code == 1
    assert (
        "Error: FORECAST monthly.csv: column 'freq' says M (periods of 30.4375 days) but its "
        "dates are 7 days apart (the median gap between its dates 2024-02-05 to 2024-02-19)\n"
    ) in result.stderr
    assert not policy.exists()


@pytest.mark.parametrize("value", ["Q", "week"])
def test_stock_refuses_a_freq_column_of_another_period(
    cli, segmented, tmp_path: Path, value: str
) -> None:
    _forecast(cli, segmented, "M", "-o", str(tmp_path / "fc.csv"))
    policy = tmp_path / "p.parquet"
    result = cli("stock", _edited(tmp_path, "odd.csv", freq=value), "-o", str(policy))
    assert result.exit_code == 1
    assert (
        "Error: FORECAST odd.csv: column 'freq' must hold the forecast's --freq, one of D, W, M "
        f"on every row; found '{value.upper()}'\n"
    ) in result.stderr
    assert not policy.exists()


def test_stock_takes_a_one_period_forecast_without_freq_as_weekly_with_a_warning(
    cli, segmented, tmp_path: Path
) -> None:
    """A hand-made forecast (no freq column, no metadata) keeps its behaviour: weekly, said."""
    _forecast(cli, segmented, "M", "-o", str(tmp_path / "fc.csv"))
    hand_made = pl.read_csv(tmp_path / "fc.csv").drop("freq", strict=False)
    hand_made.write_csv(tmp_path / "bare.csv")
    plan, said = _plan(cli, tmp_path, "p.parquet", "bare.csv")
    assert plan["period_days"].to_list() == [7.0]
    assert "Warning: FORECAST bare.csv has a single period and does not record its --freq" in said


@pytest.mark.parametrize(
    ("freq", "days"), [("", 14.0), ("W", 7.0)], ids=["no-freq-fortnights", "freq-weeks"]
)
def test_stock_reads_a_multi_period_forecasts_length_from_its_dates(
    cli, tmp_path: Path, freq: str, days: float
) -> None:
    """Dates 14 days apart without a freq are periods of 14 days (as before the column); dates
    7 days apart with freq W are weeks: the column only checked against them."""
    step = timedelta(days=days)
    rows = "".join(f"A,{date(2024, 1, 1) + k * step},10,2,{freq}\n" for k in range(3))
    (tmp_path / "fc.csv").write_text("sku,ds,forecast,error_sd,freq\n" + rows)
    plan, said = _plan(cli, tmp_path, "p.parquet", "fc.csv")
    assert plan["period_days"].to_list() == [days]
    assert "'freq'" not in said
