"""Real export layouts not tried before (session 32): Online Retail II, a grocery loyalty-card
history (dunnhumby's Complete Journey, R package and Kaggle forms), NetSuite / Dynamics 365
saved searches with US dates, a German SAP list. Each test is a trap one of them set; the
fixtures are a few lines written out here, in the layout's own headers and value formats."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from segchain.cli import app

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


NETSUITE = "Document Number,Date,Name,Item,Quantity,Amount\n"
NETSUITE_MAP = (
    "--map",
    "order_id=Document Number",
    "--map",
    "order_date=Date",
    "--map",
    "customer_id=Name",
    "--map",
    "sku=Item",
    "--map",
    "amount=Amount",
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ---- US dates in a short export: no day above 12 decides the order -------------------------


def test_slash_dates_no_value_decides_the_order_is_refused(tmp_path: Path) -> None:
    # A NetSuite saved search of the first days of two months: 01/03/2024 is 3 January in the
    # US. Read day first it became 1 March, silently, with only a note on stderr.
    export = write(
        tmp_path / "netsuite.csv",
        NETSUITE
        + 'SO1,01/03/2024,Acme Inc,ITEM-1,2,"1,234.50"\n'
        + "SO2,02/05/2024,Beta LLC,ITEM-2,1,$99.00\n",
    )
    result = run("validate", export, *NETSUITE_MAP, "-o", tmp_path / "out.csv")
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert "order dates can be read day first or month first" in message
    assert "'01/03/2024'" in message
    assert "--date-format month-first" in message and "--date-format day-first" in message
    assert not (tmp_path / "out.csv").exists()


def test_slash_dates_refused_as_ambiguous_read_with_date_format(tmp_path: Path) -> None:
    export = write(
        tmp_path / "netsuite.csv",
        NETSUITE
        + 'SO1,01/03/2024,Acme Inc,ITEM-1,2,"1,234.50"\n'
        + "SO2,02/05/2024,Beta LLC,ITEM-2,1,$99.00\n",
    )
    out = tmp_path / "out.parquet"
    result = run("validate", export, *NETSUITE_MAP, "--date-format", "month-first", "-o", out)
    assert result.exit_code == 0, result.stderr
    lines = pl.read_parquet(out).sort("order_id")
    assert lines["order_date"].to_list() == [dt.date(2024, 1, 3), dt.date(2024, 2, 5)]
    assert lines["amount"].to_list() == [1234.5, 99.0]


def test_slash_dates_equal_parts_need_no_order(tmp_path: Path) -> None:
    # 05/05/2024 is the same day either way: nothing to ask.
    export = write(
        tmp_path / "netsuite.csv",
        NETSUITE + "SO1,05/05/2024,Acme Inc,ITEM-1,2,10\nSO2,11/11/2024,Acme Inc,ITEM-1,1,5\n",
    )
    out = tmp_path / "out.parquet"
    result = run("validate", export, *NETSUITE_MAP, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert sorted(pl.read_parquet(out)["order_date"].to_list()) == [
        dt.date(2024, 5, 5),
        dt.date(2024, 11, 11),
    ]


# ---- Day numbers instead of dates (dunnhumby's Kaggle form: DAY 1..711) ---------------------

KAGGLE = "household_key,BASKET_ID,DAY,PRODUCT_ID,QUANTITY,SALES_VALUE,STORE_ID\n"
KAGGLE_MAP = (
    "--map",
    "order_id=BASKET_ID",
    "--map",
    "customer_id=household_key",
    "--map",
    "sku=PRODUCT_ID",
    "--map",
    "amount=SALES_VALUE",
    "--map",
    "order_date=DAY",
)
KAGGLE_ROWS = [
    ("2375", "26984851472", 1, "1004906", 1, 1.39, "364"),
    ("2375", "26984851472", 1, "1033142", 1, 0.82, "364"),
    ("1364", "26984896261", 2, "842930", 0, 2.19, "31742"),
    ("1130", "26984905972", 711, "833025", 2, 3.00, "31642"),
]


def kaggle_frame() -> pl.DataFrame:
    return pl.DataFrame(
        KAGGLE_ROWS,
        schema=[
            "household_key",
            "BASKET_ID",
            "DAY",
            "PRODUCT_ID",
            "QUANTITY",
            "SALES_VALUE",
            "STORE_ID",
        ],
        orient="row",
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_day_numbers_as_order_date_are_refused_naming_the_way_out(
    tmp_path: Path, suffix: str
) -> None:
    # As Parquet integers the day numbers were read as Excel serials: DAY 2 became 1900-01-01
    # and every line was kept with a date in 1900 or 1901. As CSV text every line was
    # rejected bad_date, and the hint pointed at --date-format.
    export = tmp_path / f"transaction_data{suffix}"
    frame = kaggle_frame()
    frame.write_csv(export) if suffix == ".csv" else frame.write_parquet(export)
    result = run("validate", export, *KAGGLE_MAP, "-o", tmp_path / "out.parquet")
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert "order_date (DAY) holds whole numbers from 1 to 711, not dates" in message
    assert "--map order_date=" in message
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.parquet").exists()


def test_excel_serials_stay_dates(tmp_path: Path) -> None:
    # The rule on day numbers leaves Excel serial numbers alone (45000 is 2023-03-15).
    export = tmp_path / "serials.parquet"
    kaggle_frame().with_columns(DAY=pl.lit(45000)).write_parquet(export)
    out = tmp_path / "out.parquet"
    result = run("validate", export, *KAGGLE_MAP, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert set(pl.read_parquet(out)["order_date"].to_list()) == {dt.date(2023, 3, 15)}


# ---- stock --orders: an export that needs --map ---------------------------------------------


def test_stock_orders_export_reads_with_map_like_forecast(tmp_path: Path) -> None:
    # The README says stock's --orders takes validate's output or an export, and the missing
    # columns' hint says --map; stock had no --map (nor --preset, --date-format, --returns):
    # "No such option: --map", and no way to read the export but validating it first.
    rows = "".join(
        f"SO{i},{1 + i % 12:02d}/{13 + i % 15:02d}/2024,Cust {i % 4},ITEM-{i % 2},{1 + i % 3},"
        f'"1,{i % 9}00.00"\n'
        for i in range(60)
    )
    export = write(tmp_path / "netsuite.csv", NETSUITE + rows)
    forecast = write(
        tmp_path / "forecast.csv",
        "unique_id,sku,ds,forecast,error_sd\n"
        + "".join(
            f"ITEM-{s},ITEM-{s},2025-01-{6 + 7 * w:02d},3,1\n" for s in (0, 1) for w in range(3)
        ),
    )
    out = tmp_path / "policy.csv"
    result = run("stock", forecast, "--orders", export, *NETSUITE_MAP, "-o", out)
    assert result.exit_code == 0, result.stderr
    policy = pl.read_csv(out)
    assert sorted(policy["sku"].to_list()) == ["ITEM-0", "ITEM-1"]
