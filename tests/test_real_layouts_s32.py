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


# ---- Headers other ERPs give the columns: suggested, never taken -----------------------------


def missing_hint(headers: list[str]) -> str:
    from segchain.config import resolve_mapping
    from segchain.errors import MissingColumnsError
    from segchain.orders import check_mapping

    with pytest.raises(MissingColumnsError) as exc:
        check_mapping(headers, resolve_mapping(headers), source="export.csv")
    return exc.value.hint or ""


def suggested(hint: str) -> list[str]:
    import shlex

    words = shlex.split(hint.replace(";", " ; "))
    pairs = [words[i + 1] for i, w in enumerate(words) if w == "--map" and i + 1 < len(words)]
    return [p for p in pairs if p != "CANONICAL=HEADER"]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (  # Dynamics 365 sales order lines
            ["SalesOrderNumber", "OrderDate", "CustomerAccount", "ItemNumber", "SalesQuantity",
             "LineAmount"],
            ["order_date=OrderDate", "order_id=SalesOrderNumber", "customer_id=CustomerAccount",
             "sku=ItemNumber", "quantity=SalesQuantity", "amount=LineAmount"],
        ),
        (  # NetSuite saved search
            ["Document Number", "Date", "Name", "Item", "Quantity", "Amount"],
            ["order_id=Document Number", "order_date=Date", "customer_id=Name", "sku=Item"],
        ),
        (  # Complete Journey (R package completejourney)
            ["household_id", "store_id", "basket_id", "product_id", "quantity", "sales_value",
             "retail_disc", "coupon_disc", "coupon_match_disc", "week", "transaction_timestamp"],
            ["order_id=basket_id", "order_date=transaction_timestamp",
             "customer_id=household_id", "sku=product_id", "amount=sales_value"],
        ),
        (  # a German SAP list with its screen labels
            ["Verkaufsbeleg", "Belegdatum", "Auftraggeber", "Material", "Auftragsmenge",
             "Nettowert", "Werk"],
            ["order_id=Verkaufsbeleg", "order_date=Belegdatum", "customer_id=Auftraggeber",
             "sku=Material", "quantity=Auftragsmenge", "amount=Nettowert"],
        ),
    ],
)  # fmt: skip
def test_missing_columns_hint_suggests_other_erps_headers(
    headers: list[str], expected: list[str]
) -> None:
    # The hint said only "map them with --map CANONICAL=HEADER (e.g. --map customer_id=KUNNR)".
    hint = missing_hint(headers)
    assert sorted(suggested(hint)) == sorted(expected)
    assert "check that they hold what you mean" in hint


def test_kaggle_day_is_not_suggested_as_a_date() -> None:
    headers = ["household_key", "BASKET_ID", "DAY", "PRODUCT_ID", "QUANTITY", "SALES_VALUE"]
    hint = missing_hint(headers)
    assert not any(s.startswith("order_date=") for s in suggested(hint))
    assert "order_date has no such header" in hint


def test_validate_offers_store_id_as_site(tmp_path: Path) -> None:
    # Complete Journey's store_id was left unread without a word: stock per store and network
    # need a site.
    export = write(
        tmp_path / "cj.csv",
        "household_id,store_id,basket_id,product_id,quantity,sales_value,transaction_timestamp\n"
        "2261,309,31198459904,1026695,1,3.99,2017-01-28 14:06:53\n",
    )
    result = run(
        "validate", export, "--map", "order_id=basket_id", "--map", "customer_id=household_id",
        "--map", "sku=product_id", "--map", "amount=sales_value",
        "--map", "order_date=transaction_timestamp",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    message = " ".join(result.stderr.split())
    assert "'store_id' (site)" in message and "--map site=store_id" in message


# ---- A workbook with a sheet per year (UCI Online Retail II's .xlsx) --------------------------

OR2 = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID",
       "Country"]  # fmt: skip


def year_book(path: Path) -> Path:
    xlsxwriter = pytest.importorskip("xlsxwriter")
    book = xlsxwriter.Workbook(str(path))
    for name, invoice in (("Year 2009-2010", "489434"), ("Year 2010-2011", "536365")):
        ws = book.add_worksheet(name)
        for i, row in enumerate(
            [OR2, [invoice, "85048", "LED", 12, "2010-12-01 07:45:00", 6.95, 13085.0, "UK"]]
        ):
            for j, value in enumerate(row):
                ws.write(i, j, value)
    notes = book.add_worksheet("Notes")
    notes.write(0, 0, "Source: UCI")
    book.close()
    return path


def test_workbook_names_the_unread_sheets_with_the_same_header(tmp_path: Path) -> None:
    # Online Retail II comes as one workbook, a sheet per year: the first was read, and the
    # second named only among 'not read', as a cover or notes sheet is: half the orders lost.
    book = year_book(tmp_path / "online_retail_II.xlsx")
    result = run("validate", book, "--preset", "online-retail", "-o", tmp_path / "y1.parquet")
    assert result.exit_code == 0, result.stderr
    message = " ".join(result.stderr.split())
    assert (
        "sheet 'Year 2010-2011' has the same header as the one read, and its lines are not read"
        in message
    )
    assert "--sheet 'Year 2010-2011'" in message
    assert "Notes' has the same" not in message


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (  # AdventureWorks / Contoso fact table
            ["SalesOrderNumber", "OrderDate", "CustomerKey", "ProductKey", "OrderQuantity",
             "UnitPrice", "SalesAmount"],
            ["order_date=OrderDate", "order_id=SalesOrderNumber", "customer_id=CustomerKey",
             "sku=ProductKey", "quantity=OrderQuantity", "amount=SalesAmount"],
        ),
        (  # Olist order items joined to orders: the one header naming a time
            ["order_id", "order_item_id", "product_id", "customer_unique_id",
             "order_purchase_timestamp", "price"],
            ["order_date=order_purchase_timestamp", "customer_id=customer_unique_id",
             "sku=product_id", "unit_price=price"],
        ),
    ],
)  # fmt: skip
def test_missing_columns_hint_suggests_warehouse_and_shop_headers(
    headers: list[str], expected: list[str]
) -> None:
    assert sorted(suggested(missing_hint(headers))) == sorted(expected)


def test_two_date_headers_are_left_to_the_user() -> None:
    hint = missing_hint(["order_id", "Created", "ship_date", "due_date", "customer_id", "sku",
                         "quantity", "amount"])  # fmt: skip
    assert not any(s.startswith("order_date=") for s in suggested(hint))


# ---- Quantity 0 with a value (Complete Journey) ---------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_zero_quantity_lines_with_a_value_are_counted_and_explained(
    tmp_path: Path, suffix: str
) -> None:
    # Complete Journey has lines of quantity 0 with a sales_value: kept as zero_quantity, their
    # value in revenue and their units in no demand, with nothing but 'zero_quantity 1' said.
    frame = pl.DataFrame(
        {
            "household_id": ["2261", "2261", "1364"],
            "basket_id": ["31198459904", "31198459904", "31198460000"],
            "product_id": ["1026695", "6534178", "1026695"],
            "quantity": [1, 0, 2],
            "sales_value": [3.99, 25.49, 7.98],
            "transaction_timestamp": ["2017-01-28 14:06:53"] * 2 + ["2017-01-29 10:00:00"],
        }
    )
    export = tmp_path / f"cj{suffix}"
    frame.write_csv(export) if suffix == ".csv" else frame.write_parquet(export)
    out = tmp_path / "out.parquet"
    result = run(
        "validate", export, "--map", "order_id=basket_id", "--map", "customer_id=household_id",
        "--map", "sku=product_id", "--map", "amount=sales_value",
        "--map", "order_date=transaction_timestamp", "-o", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    message = " ".join(result.stderr.split())
    assert "1 line has quantity 0 and a value (sales_value), flagged zero_quantity" in message
    assert pl.read_parquet(out).filter(pl.col("flag") == "zero_quantity")["amount"].to_list() == [
        25.49
    ]
