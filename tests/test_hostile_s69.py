"""Hostile-input findings of session 69's audit of the options added since session 60: each test
fails on the code before its fix.

The known answers are what the tests write themselves: an output written before a refused run
must still hold its bytes, and the values named in a message are the ones the test planted.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from test_fixed_cost_period_s68 import run_network

# ---- 1. network --fixed-cost-period year: the customers' order dates --------------------------
# A year's fixed cost is taken over the span of the customers' first_order to last_order. Dates
# beyond 9999 (or before year 1) in a period grain stopped the count of that span with a Python
# traceback (ValueError: year 10000 is out of range), exit 1; true/false in those columns were
# read as 1970-01-01 and 1970-01-02, a span of 2 days, and the plan was written with every
# year's cost x 0.005 (exit 0). segment writes dates within the orders reader's window
# (1900-01-01 to 2099-12-31), so anything else is refused, naming the column and the customer.

# Dates on the 1st of a month (a monthly grain) with one placeholder far in the future.
MONTHLY_9999 = (
    "customer_id,segment,quantity,first_order,last_order\n"
    "A,S1,6,2020-01-01,2021-05-01\n"
    "B,S1,4,2021-02-01,9999-12-01\n"
)
# Month ends (a grain of month ends), one of them in year 1.
MONTH_ENDS_0001 = (
    "customer_id,segment,quantity,first_order,last_order\n"
    "A,S1,6,0001-01-31,2021-05-31\n"
    "B,S1,4,2021-02-28,2023-12-31\n"
)
EARLIER = b"an earlier plan\n"


def refused_untouched(result, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """The refusal's stderr on one line, after checking it is one and wrote nothing."""
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "a.parquet").read_bytes() == EARLIER
    assert not (tmp_path / "sites_out.parquet").exists()
    return " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("customers", "column", "named"),
    [
        (MONTHLY_9999, "last_order", "9999-12-01 for customer_id 'B'"),
        (MONTH_ENDS_0001, "first_order", "0001-01-31 for customer_id 'A'"),
    ],
)
def test_network_year_refuses_order_dates_outside_the_orders_window(
    cli, tmp_path: Path, customers: str, column: str, named: str
) -> None:
    (tmp_path / "a.parquet").write_bytes(EARLIER)
    result = run_network(cli, tmp_path, "annual_fixed_cost", customers=customers)
    said = refused_untouched(result, tmp_path)
    assert f"{column} outside 1900-01-01 to 2099-12-31" in said
    assert named in said
    assert "hint: give segment's output as CUSTOMERS" in said


def _customers_parquet(tmp_path: Path, first: pl.Series, last: pl.Series) -> str:
    path = tmp_path / "cust.parquet"
    pl.DataFrame(
        {"customer_id": ["A", "B"], "segment": ["S1", "S1"], "quantity": [6.0, 4.0]}
    ).with_columns(first_order=first, last_order=last).write_parquet(path)
    return str(path)


def _run_on_parquet(cli, tmp_path: Path, customers: str, sites: str | None = None):  # type: ignore[no-untyped-def]
    """network on ``customers`` with s68's lanes, its yearly sites unless ``sites`` is given."""
    from test_fixed_cost_period_s68 import LANES, sites_file, write

    return cli(
        "network",
        customers,
        "--sites",
        sites or sites_file(tmp_path, "annual_fixed_cost"),
        "--costs",
        write(tmp_path, "lanes.csv", LANES),
        "--sites-out",
        str(tmp_path / "sites_out.parquet"),
        "-o",
        str(tmp_path / "a.parquet"),
    )


def test_network_year_refuses_order_dates_that_are_no_dates(cli, tmp_path: Path) -> None:
    (tmp_path / "a.parquet").write_bytes(EARLIER)
    flags = _customers_parquet(tmp_path, pl.Series([True, True]), pl.Series([False, True]))
    said = refused_untouched(_run_on_parquet(cli, tmp_path, flags), tmp_path)
    assert "first_order holds Boolean values, not dates" in said


def test_network_year_refuses_a_date_past_pythons_calendar(cli, tmp_path: Path) -> None:
    # polars holds dates past 9999, which Python's datetime.date cannot.
    (tmp_path / "a.parquet").write_bytes(EARLIER)
    far = pl.Series([20_000, 10_000_000], dtype=pl.Int32).cast(pl.Date)  # 2024-10-04, 29349-..
    first = pl.Series([18_000, 18_500], dtype=pl.Int32).cast(pl.Date)
    customers = _customers_parquet(tmp_path, first, far)
    said = refused_untouched(_run_on_parquet(cli, tmp_path, customers), tmp_path)
    assert "last_order outside 1900-01-01 to 2099-12-31" in said
    assert "for customer_id 'B'" in said


def test_network_year_says_empty_order_dates_are_empty(cli, tmp_path: Path) -> None:
    # A CSV whose date columns are empty on every row is read as numbers (or nothing): said as
    # no dates, not as values of another type.
    empty = "customer_id,segment,quantity,first_order,last_order\nA,S1,6,,\nB,S1,4,,\n"
    (tmp_path / "a.parquet").write_bytes(EARLIER)
    said = refused_untouched(
        run_network(cli, tmp_path, "annual_fixed_cost", customers=empty), tmp_path
    )
    assert "first_order and last_order are empty" in said


# ---- 2. a forecast's periods past Python's calendar -------------------------------------------
# A forecast table (a damaged or hand-made Parquet) whose ds lay past year 9999 met stock's first
# period (forecast_start) and the report's forecast section with a Python traceback (ValueError:
# year 30025 is out of range), exit 1. Every stage table's ds is now read within 1900-01-01 to
# 2110-12-31 (the orders reader's window and ten years of --horizon), else refused naming it.


def _forecast_parquet(tmp_path: Path, days: list[int]) -> Path:
    path = tmp_path / "fc.parquet"
    pl.DataFrame(
        {
            "unique_id": ["P1"] * len(days),
            "sku": ["P1"] * len(days),
            "ds": pl.Series(days, dtype=pl.Int32).cast(pl.Date),
            "forecast": [1.0] * len(days),
            "error_sd": [1.0] * len(days),
        }
    ).write_parquet(path)
    return path


# Days since 1970: year 30025 (polars' date, no Python one), and year 3000 (a placeholder).
FAR = [10_245_000 + 7 * k for k in range(3)]
PLACEHOLDER = [376_200 + 7 * k for k in range(3)]


@pytest.mark.parametrize("days", [FAR, PLACEHOLDER], ids=["year-30025", "year-3000"])
@pytest.mark.parametrize(
    "command", [["stock", "fc.parquet", "-o", "out.csv"], ["report", "fc.parquet", "-o", "out.md"]]
)
def test_a_forecast_period_beyond_the_window_is_refused(
    cli, tmp_path: Path, days: list[int], command: list[str]
) -> None:
    _forecast_parquet(tmp_path, days)
    out = tmp_path / command[-1]
    out.write_bytes(EARLIER)
    result = cli(*command)
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    said = " ".join(result.stderr.split())
    assert "column 'ds' holds 3 periods outside 1900-01-01 to 2110-12-31" in said
    assert out.read_bytes() == EARLIER


def test_a_forecast_in_the_window_is_still_planned(cli, tmp_path: Path) -> None:
    # 2110-12-24 and 2110-12-31 (weekly): the window's last day.
    _forecast_parquet(tmp_path, [51_498 - 7, 51_498])
    result = cli("stock", "fc.parquet", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr


# ---- 3. segment --method kmeans --previous with a damaged profile -----------------------------
# k-means names its clusters after the previous groups nearest them by recency_days, frequency,
# monetary and tenure_days. A NaN or an infinite value there stopped the run with a traceback
# (scipy's 'matrix contains invalid numeric entries', 'cost matrix is infeasible'), and so did
# text ('lots': polars' InvalidOperationError) and a column left empty on every row (numpy's
# 'need at least one array to concatenate'). Now the values are refused naming the column and
# the customer (exit 1, nothing written); columns empty on every row leave the labels unmatched,
# with the warning a table without them gets.


def _kmeans_orders(folder: Path) -> Path:
    # 12 customers: 4 frequent big buyers, 4 occasional mid ones, 4 one-off small ones.
    rows = ["order_id,order_date,customer_id,sku,quantity,unit_price"]
    n = 0
    for c in range(12):
        orders = (12, 4, 1)[c // 4]
        price = (100.0, 20.0, 5.0)[c // 4]
        for k in range(orders):
            n += 1
            rows.append(f"{n},2024-{1 + k % 12:02d}-{1 + c:02d},C{c:02d},P1,{1 + c % 3},{price}")
    path = folder / "orders.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def kmeans_previous(cli, tmp_path: Path) -> pl.DataFrame:
    _kmeans_orders(tmp_path)
    result = cli("segment", "orders.csv", "--method", "kmeans", "--k", "3", "-o", "prev.parquet")
    assert result.exit_code == 0, result.stderr
    return pl.read_parquet(tmp_path / "prev.parquet")


def _segment_on(cli, tmp_path: Path, previous: pl.DataFrame, name: str = "p.parquet"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    if name.endswith(".csv"):
        previous.write_csv(path)
    else:
        previous.write_parquet(path)
    (tmp_path / "seg.csv").write_bytes(EARLIER)
    return cli("segment", "orders.csv", "--method", "kmeans", "--previous", name, "-o", "seg.csv")


@pytest.mark.parametrize(
    ("value", "shown"), [(float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "-inf")]
)
def test_kmeans_previous_refuses_a_profile_value_that_is_no_finite_number(
    cli, tmp_path: Path, kmeans_previous: pl.DataFrame, value: float, shown: str
) -> None:
    first = kmeans_previous.get_column("customer_id")[0]
    damaged = kmeans_previous.with_columns(
        pl.when(pl.col("customer_id") == first)
        .then(value)
        .otherwise(pl.col("monetary"))
        .alias("monetary")
    )
    result = _segment_on(cli, tmp_path, damaged)
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    said = " ".join(result.stderr.split())
    assert (
        f"--previous p.parquet: monetary must be a finite number, got {shown} for "
        f"customer_id '{first}'" in said
    )
    assert (tmp_path / "seg.csv").read_bytes() == EARLIER


def test_kmeans_previous_refuses_text_in_a_profile_column(
    cli, tmp_path: Path, kmeans_previous: pl.DataFrame
) -> None:
    damaged = kmeans_previous.with_columns(pl.lit("lots").alias("frequency"))
    result = _segment_on(cli, tmp_path, damaged, "p.csv")
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "column 'frequency' holds 12 values that are not numbers" in result.stderr
    assert (tmp_path / "seg.csv").read_bytes() == EARLIER


def test_kmeans_previous_with_a_profile_column_empty_everywhere_is_not_matched(
    cli, tmp_path: Path, kmeans_previous: pl.DataFrame
) -> None:
    emptied = kmeans_previous.with_columns(pl.lit(None, pl.Float64).alias("tenure_days"))
    result = _segment_on(cli, tmp_path, emptied)
    assert result.exit_code == 0, result.stderr
    said = " ".join(result.stderr.split())
    assert "has no row with every one of recency_days, frequency, monetary, tenure_days" in said
    assert "k-means labels could not be matched to it" in said


def test_rfm_previous_does_not_read_the_profile(
    cli, tmp_path: Path, kmeans_previous: pl.DataFrame
) -> None:
    # RFM compares segments by customer alone: a damaged profile column is not its business.
    damaged = kmeans_previous.with_columns(pl.lit(float("nan")).alias("monetary"))
    damaged.write_parquet(tmp_path / "p.parquet")
    result = cli("segment", "orders.csv", "--previous", "p.parquet", "-o", "seg.csv")
    assert result.exit_code == 0, result.stderr


# ---- 4. abc-xyz cut-offs: the messages' own examples ------------------------------------------
# A bad --xyz-cutoffs (or [segment] xyz_cutoffs) was shown abc's example, 'e.g. 0.8,0.95':
# coefficients of variation that put nearly every customer in Z. --abc-cutoffs -5,95 was said to
# mix a share (-5) and a percent (95); -5 is neither.


@pytest.mark.parametrize("value", ["nan,1", "0.5,inf", "0.5"])
def test_xyz_cutoffs_that_are_no_pair_are_shown_xyz_example(
    cli, orders_csv: Path, value: str
) -> None:
    result = cli("segment", str(orders_csv), "--method", "abc-xyz", "--xyz-cutoffs", value)
    assert result.exit_code == 2, result.stderr
    assert (
        "--xyz-cutoffs: must be two numbers separated by a comma, e.g. 0.5,1.0, got "
        f"'{value}'" in result.stderr
    )


def test_abc_cutoffs_below_zero_are_out_of_range_not_a_share(cli, orders_csv: Path) -> None:
    result = cli("segment", str(orders_csv), "--method", "abc-xyz", "--abc-cutoffs", "-5,95")
    assert result.exit_code == 2, result.stderr
    assert "--abc-cutoffs: must be two shares 0 < A < B <= 1" in result.stderr
    assert "mixes a share" not in result.stderr


# ---- 5. network: a year's fixed cost beyond the bound once taken over the span ----------------
# Each yearly fixed cost is checked up to 1e15, then taken over the orders' span: 4e14 a year
# over 4 years (1,461 days) was written in --sites-out as fixed_cost 1.6e15, and costs refused
# network's own output ('fixed_cost must be a finite number >= 0 up to 1e+15'). network now
# refuses it, naming the site with both costs.


def test_network_refuses_a_yearly_cost_beyond_the_bound_over_the_span(cli, tmp_path: Path) -> None:
    from test_fixed_cost_period_s68 import CUSTOMERS, write

    (tmp_path / "a.parquet").write_bytes(EARLIER)
    sites = write(tmp_path, "s.csv", "site_id,annual_fixed_cost\nS1,4e14\nS2,4\n")
    result = _run_on_parquet(cli, tmp_path, write(tmp_path, "cust.csv", CUSTOMERS), sites)
    said = refused_untouched(result, tmp_path)
    # 4e14 x 1,461 / 365.25 = 1.6e15 exactly.
    assert (
        "a year's fixed cost taken over the 1,461 days the orders cover must be at most 1e+15, "
        "got 4e+14 a year is 1.6e+15 for site_id 'S1'" in said
    )


# ---- 6. costs after network --fixed-cost-period year on the same orders -------------------------
# network takes a year's fixed cost over the segments' first_order to last_order, which leave out
# days of only returns or fees; costs' period_days counts every line's day. On the demo, whose last
# day holds only returns, costs warned on network's own plan of the same orders that network took
# the costs 'over 1,091 days ... and the orders here cover 1,092: ... rerun segment and network on
# these orders for a plan of the same days', which gives 1,091 again. The span network takes for
# the segments given to costs is now no other span.


def test_costs_does_not_warn_of_another_span_for_the_plan_of_these_segments(
    cli, tmp_path: Path
) -> None:
    from test_fixed_cost_period_s68 import CHAIN_ORDERS, DAYS, run_network, write

    assert run_network(cli, tmp_path, "annual_fixed_cost").exit_code == 0
    # B returns a unit two days after its last order: the orders run 2 days past the segments.
    orders = write(tmp_path, "o.csv", CHAIN_ORDERS + "5,2024-01-02,B,P1,-1,10\n")
    out = tmp_path / "c.parquet"
    args = ("--assignments", str(tmp_path / "a.parquet"), "-o", str(out))
    result = cli("costs", "cust.csv", "--orders", orders, "--sites", "sites_out.parquet", *args)
    assert result.exit_code == 0, result.stderr
    table = pl.read_parquet(out)
    assert table["period_days"].to_list() == [DAYS + 2]
    # S2 open at 4 a year, over costs' own 1,463 days.
    assert table["warehouse_fixed"].sum() == pytest.approx(4 * (DAYS + 2) / 365.25)
    assert "network took the sites' yearly fixed costs" not in result.stderr


def test_costs_still_warns_of_a_plan_over_other_segments(cli, tmp_path: Path) -> None:
    from test_fixed_cost_period_s68 import CHAIN_ORDERS, CUSTOMERS, run_network, write

    assert run_network(cli, tmp_path, "annual_fixed_cost").exit_code == 0
    # The segments given to costs end a year earlier than those network planned on.
    write(tmp_path, "cust2.csv", CUSTOMERS.replace("2023-12-31", "2022-12-31"))
    orders = write(tmp_path, "o.csv", CHAIN_ORDERS.replace("2023-12-31", "2022-12-31"))
    args = ("--assignments", str(tmp_path / "a.parquet"), "-o", str(tmp_path / "c.csv"))
    result = cli("costs", "cust2.csv", "--orders", orders, "--sites", "sites_out.parquet", *args)
    assert result.exit_code == 0, result.stderr
    said = " ".join(result.stderr.split())
    assert "network took the sites' yearly fixed costs (annual_fixed_cost) over 1,461 days" in said


# ---- 7. a yearly fixed cost in a German spreadsheet's CSV ---------------------------------------
# A --sites table saved by a German spreadsheet (';', decimal commas) is read so: lat, lon,
# fixed_cost and capacity were, but annual_fixed_cost and the headers that say a year
# (fixed_cost_per_year, 'Fixed cost (per year)') were not in the columns read as numbers, and
# '10,5' was refused ('holds 2 values that are not numbers'), exit 1, by network and by costs
# (network's own --sites-out saved so).


@pytest.mark.parametrize(
    "header", ["annual_fixed_cost", "fixed_cost_per_year", "Fixed cost (per year)"]
)
def test_network_reads_a_yearly_fixed_cost_with_a_decimal_comma(
    cli, tmp_path: Path, header: str
) -> None:
    from test_fixed_cost_period_s68 import CUSTOMERS, write

    sites = write(tmp_path, "s.csv", f"site_id;{header}\nS1;10,5\nS2;4,25\n")
    result = _run_on_parquet(cli, tmp_path, write(tmp_path, "cust.csv", CUSTOMERS), sites)
    assert result.exit_code == 0, result.stderr
    written = pl.read_parquet(tmp_path / "sites_out.parquet").sort("site_id")
    assert written["annual_fixed_cost"].to_list() == [10.5, 4.25]
    # 1,461 days of 365.25: four years.
    assert written["fixed_cost"].to_list() == pytest.approx([42.0, 17.0])


def test_costs_reads_a_yearly_fixed_cost_with_a_decimal_comma(cli, tmp_path: Path) -> None:
    from test_fixed_cost_period_s68 import CHAIN_ORDERS, CUSTOMERS, DAYS, write

    assert _run_on_parquet(cli, tmp_path, write(tmp_path, "cust.csv", CUSTOMERS)).exit_code == 0
    # network's --sites-out (S2 open, 4 a year) as a German spreadsheet saves it.
    plan = pl.read_parquet(tmp_path / "sites_out.parquet").with_columns(
        pl.col("annual_fixed_cost") + 0.5
    )
    german = plan.write_csv(separator=";").replace(".", ",")
    write(tmp_path, "so.csv", german)
    args = ("--assignments", str(tmp_path / "a.parquet"), "--sites", "so.csv")
    orders = write(tmp_path, "o.csv", CHAIN_ORDERS)
    result = cli("costs", "cust.csv", "--orders", orders, *args, "-o", "c.parquet")
    assert result.exit_code == 0, result.stderr
    fixed = pl.read_parquet(tmp_path / "c.parquet")["warehouse_fixed"].sum()
    assert fixed == pytest.approx(4.5 * DAYS / 365.25)


# ---- 8. the report's cells: 'nan' or 'inf' written as text --------------------------------------
# A number column read as text (a backtest CSV whose wape was written 'nan') was shown as written
# in the report's accuracy table ('| Champions | 459 | nan | 116.4% |'), beside a headline WAPE
# of '–': formatting reads text in a number cell as its number, and 'nan' or 'inf' is none.


@pytest.mark.parametrize("text", ["nan", "NaN", " inf", "-inf", "Infinity"])
@pytest.mark.parametrize("kind", ["pct", "num", "money", "units", "ratio", "int"])
def test_a_number_cell_written_nan_or_inf_is_shown_missing(text: str, kind: str) -> None:
    from segchain.formatting import MISSING, format_number

    assert format_number(text, kind) == MISSING


def test_a_number_cell_of_text_still_reads_its_number() -> None:
    from segchain.formatting import format_number

    assert format_number("0.5", "pct") == "50.0%"
    assert format_number("1,234", "num") == "1,234"  # not a plain number: shown as written
    assert format_number("nan", "text") == "nan"  # text cells are text


# ---- 9. forecast --as-of a placeholder date ----------------------------------------------------
# forecast --as-of 2999-01-01 (a placeholder, a typo) extended every series by the periods between
# the orders' end and that day as periods without demand: on the demo's 491 series, 50,000 weeks
# each, a run still backtesting after 10 minutes (killed), where segment says such a date in a
# warning and goes on. More than ten years (--horizon's bound) after the orders' last line is
# now refused before the series are built.


SALES = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-03-01,0001,A-1,2,10\n2,2024-03-04,0002,A-1,3,10\n3,2024-03-09,0003,A-1,1,10\n"
)


def test_forecast_refuses_an_as_of_more_than_ten_years_after_the_orders(
    cli, tmp_path: Path
) -> None:
    (tmp_path / "orders.csv").write_text(SALES)
    assert cli("segment", "orders.csv", "-o", "seg.csv").exit_code == 0
    # 2024-03-09 + 3,661 days (ten years of 365.25 days hold 3,652.5).
    as_of, last = "2034-03-18", "2024-03-09"
    (tmp_path / "fc.csv").write_bytes(EARLIER)
    args = ("--orders", "orders.csv", "--as-of", as_of, "-o", "fc.csv")
    result = cli("forecast", "seg.csv", *args)
    assert result.exit_code == 1, result.stderr
    said = " ".join(result.stderr.split())
    assert f"--as-of {as_of} is 3,661 days after the orders' last line ({last})" in said
    assert (tmp_path / "fc.csv").read_bytes() == EARLIER


# ---- 10. segment --previous with a blank segment -----------------------------------------------
# A customer listed in --previous with its segment blank was counted as a new customer ('397
# customers changed segment since P.csv; 3 new customers' on the demo with 3 labels blanked),
# though the table lists it. Refused, as the other stages refuse a blank segment, naming rows.


def test_previous_with_a_blank_segment_is_refused(cli, orders_csv: Path, tmp_path: Path) -> None:
    (tmp_path / "prev.csv").write_text("customer_id,segment\n0001,Champions\n0002,\n")
    (tmp_path / "seg.csv").write_bytes(EARLIER)
    result = cli("segment", orders_csv.name, "--previous", "prev.csv", "-o", "seg.csv")
    assert result.exit_code == 1, result.stderr
    assert "--previous prev.csv: 1 row with a blank segment (row 2)" in result.stderr
    assert (tmp_path / "seg.csv").read_bytes() == EARLIER
