"""When an export's headers do not name the required columns, the hint says how to fix this
file: the preset whose layout it is, or the --map for each header that looks like a canonical
column ('Customer ID' for customer_id), ready to paste."""

from __future__ import annotations

import shlex

import pytest
from typer.testing import CliRunner

from segchain.cli import app
from segchain.config import resolve_mapping
from segchain.errors import MissingColumnsError
from segchain.orders import check_mapping

ONLINE_RETAIL_II = [
    "Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID",
    "Country",
]  # fmt: skip
SUPERSTORE = [
    "Row ID", "Order ID", "Order Date", "Ship Date", "Customer ID", "Product ID", "Quantity",
    "Sales",
]  # fmt: skip
SAP = ["VBELN", "ERDAT", "KUNNR", "MATNR", "KWMENG", "NETWR", "WERKS"]


def hint_for(headers: list[str]) -> str:
    with pytest.raises(MissingColumnsError) as exc:
        check_mapping(headers, resolve_mapping(headers), source="export.csv")
    return exc.value.hint or ""


@pytest.mark.parametrize(("headers", "preset"), [(ONLINE_RETAIL_II, "online-retail"), (SAP, "sap")])
def test_a_presets_layout_is_named(headers, preset):
    hint = hint_for(headers)
    assert f"--preset {preset}" in hint
    # and the suggestion works: with it every required column is mapped
    check_mapping(headers, resolve_mapping(headers, preset=preset), source="export.csv")


def test_look_alike_headers_get_a_map_ready_to_paste():
    hint = hint_for(SUPERSTORE)
    assert "--preset" not in hint.split(";")[0]
    pasted = shlex.split(hint[hint.index("--map") : hint.index(";")])
    pairs = [pasted[i + 1] for i, word in enumerate(pasted) if word == "--map"]
    assert pairs == ["order_id=Order ID", "order_date=Order Date", "customer_id=Customer ID"]
    # sku and the value have no look-alike: the headers other exports give them are offered
    # apart, to be checked (session 32; before, the hint said only that they had none)
    assert hint.split("; ")[1] == (
        "and, as other exports name them (check that they hold what you mean): "
        "--map 'sku=Product ID' --map amount=Sales"
    )


def test_a_header_already_mapped_elsewhere_or_ambiguous_is_not_suggested():
    hint = hint_for(["order id", "Order-ID", "Order Date", "Customer", "sku", "quantity", "amount"])
    assert "order_date=Order Date" in hint
    assert "order_id=" not in hint  # two look-alikes: the user must choose
    assert "customer_id" in hint


def test_the_cli_prints_the_hint(tmp_path):
    export = tmp_path / "or2.csv"
    export.write_text(
        ",".join(ONLINE_RETAIL_II)
        + "\n536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n"
    )
    result = CliRunner().invoke(app, ["validate", str(export)])
    assert result.exit_code == 1
    assert "--preset online-retail" in result.output


def test_validate_names_unmapped_headers_that_look_like_optional_columns(tmp_path):
    # Superstore's 'Postal Code' places a customer better than its city, and 'Customer Name'
    # names it in the report; neither is read unless mapped, and nothing said so.
    export = tmp_path / "superstore.csv"
    export.write_text(
        "Order ID,Order Date,Customer ID,Customer Name,Product ID,Quantity,Sales,City,Postal Code\n"
        "CA-1,2022-01-03,C1,Ann Lee,P1,2,10.5,Houston,77095\n"
    )
    result = CliRunner().invoke(
        app,
        [
            "validate", str(export), "--map", "order_id=Order ID", "--map", "order_date=Order Date",
            "--map", "customer_id=Customer ID", "--map", "sku=Product ID", "--map", "amount=Sales",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    line = next(x for x in result.stderr.splitlines() if "look like" in x)
    assert "--map 'postal_code=Postal Code' --map 'customer_name=Customer Name'" in line
    assert "city" not in line.split(":")[1].split("add")[0]  # City maps itself already


def test_no_note_when_every_look_alike_is_mapped(tmp_path):
    export = tmp_path / "orders.csv"
    export.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price,Postal Code\n"
        "1,2022-01-03,C1,P1,2,10.5,77095\n"
    )
    result = CliRunner().invoke(app, ["validate", str(export), "--map", "postal_code=Postal Code"])
    assert result.exit_code == 0, result.output
    assert "look like" not in result.stderr


def test_a_file_separated_by_spaces_is_named_so_with_the_way_to_convert_it(tmp_path):
    """CDNOW's purchase log (lifetimes' CDNOW_master.txt) is separated by runs of spaces: read as
    one column, its header got the hint for a report's title ("drop the lines above the header,
    e.g. tail -n +N export.csv"), which leaves the same file (s42 walk-through). The hint now
    says it is separated by spaces and how to save it with commas; the awk command given turns
    it into a file validate reads."""
    import subprocess

    log = tmp_path / "cdnow.txt"
    log.write_bytes(
        b" customer_id  date number_of_cds  dollar_value\r\n"
        b" 00001 19970101  1   11.77\r\n 00002 19970112  1   12.00\r\n"
    )
    result = CliRunner().invoke(app, ["validate", str(log)])
    assert result.exit_code == 1
    hint = result.stderr.split("hint: ", 1)[1]
    assert hint.startswith(
        "the first line seems to be columns separated by spaces ('customer_id', 'date', "
        "'number_of_cds', 'dollar_value'), which segchain does not read: save the file with "
        "commas, e.g. awk -v OFS=, '{$1=$1; print}' export.txt > export.csv"
    )
    assert "tail -n +N" not in result.stderr
    awk = shlex.split(hint.split("e.g. ", 1)[1].split(" > ", 1)[0])
    converted = subprocess.run([*awk[:-1], str(log)], capture_output=True, check=True).stdout
    (tmp_path / "cdnow.csv").write_bytes(converted)
    ran = CliRunner().invoke(
        app,
        ["validate", str(tmp_path / "cdnow.csv"), "--map", "order_date=date"],
    )
    # Now read as a CSV of those columns: what is left to map is what the log lacks.
    assert "found customer_id, date, number_of_cds, dollar_value" in ran.stderr


def test_a_report_title_keeps_its_hint():
    # One field of single-spaced words is a title line above the header, as before.
    hint = hint_for(["Sales by Item Detail"])
    assert hint.startswith("the first line looks like a report's title ('Sales by Item Detail')")


def test_first_hint_names_the_optional_columns_the_export_seems_to_have() -> None:
    """Superstore's first error named only the required --map options; its 'Postal Code' and
    'Country/Region' (which place customers for network) were named only once those were
    given, and its 'City' maps itself (so is not named)."""
    from segchain.config import mapping_hint

    headers = ["Order ID", "Order Date", "Customer ID", "Product ID", "Sales", "Quantity",
               "City", "Postal Code", "Country/Region", "Ship Mode"]  # fmt: skip
    hint = mapping_hint(
        headers,
        ["order_id", "order_date", "customer_id", "sku", "unit_price or amount"],
        ["Quantity", "City"],
    )
    assert hint.endswith(
        "; optional columns it could read too: 'Postal Code' (postal_code), 'Country/Region' "
        "(country) (--map 'postal_code=Postal Code' --map country=Country/Region; all are "
        "listed in the README, Column mapping)"
    ), hint
