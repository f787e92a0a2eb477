"""Session 30: faults a fuzz of three input paths found (order lines in workbooks, network's
--costs lane tables, costs --by customer's inputs): a traceback, a value read as something
plausible without a word, or a solver's failure instead of the cell to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

SEGMENTS = "customer_id,segment,lat,lon,quantity\nC1,A,50.1,8.6,10\nC2,A,48.1,11.6,5\n"
SITES = "site_id,lat,lon,fixed_cost\nS1,50.1,8.7,0\nS2,48.2,11.5,0\n"


def lanes(tmp_path: Path, s1c1: str = "1", distance: str | None = None) -> None:
    """Two customers, two sites, each customer's cheap lane at its near site; the first lane's
    unit_cost (and distance_km, when given) as the test damages it."""
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "sites.csv").write_text(SITES)
    rows = [("S1", "C1", s1c1, distance), ("S2", "C1", "9", "300"), ("S1", "C2", "9", "300")]
    rows.append(("S2", "C2", "1", "8"))
    with_km = distance is not None
    text = "site_id,customer_id,unit_cost" + (",distance_km" if with_km else "") + "\n"
    text += "".join(",".join(r if with_km else r[:3]) + "\n" for r in rows)  # type: ignore[arg-type]
    (tmp_path / "lanes.csv").write_text(text)


def network(cli):
    return cli("network", "seg.csv", "--sites", "sites.csv", "--costs", "lanes.csv", "-o", "a.csv")


@pytest.mark.parametrize("cost", ["1e16", "1e300"])
def test_network_refuses_a_lane_unit_cost_above_1e15(cli, tmp_path: Path, cost) -> None:
    """1e300 failed in HiGHS ('the solver failed on the network plan: ... status 15'), naming no
    lane; 1e16 was solved into costs of 1e21. Refused as a site's fixed cost is, naming the lane."""
    lanes(tmp_path, s1c1=cost)
    result = network(cli)
    assert result.exit_code == 1
    assert "solver" not in result.stderr
    assert "unit_cost must be a finite number >= 0 up to 1e+15" in result.stderr
    assert "'S1@C1'" in result.stderr
    assert not (tmp_path / "a.csv").exists()


@pytest.mark.parametrize(
    ("km", "said"),
    [
        ("-500", "distance_km must be a finite number >= 0 up to 1e+15, got -500"),
        ("inf", "distance_km must be a finite number >= 0 up to 1e+15, got inf"),
        ("NaN", "distance_km must be a finite number >= 0 up to 1e+15, got nan"),
        ("1e300", "distance_km must be a finite number >= 0 up to 1e+15, got 1e+300"),
        ("abc", "column 'distance_km' holds 1 value that is not a number: 'abc' for site_id@"),
    ],
)
def test_network_refuses_a_lane_distance_that_is_no_distance(cli, tmp_path: Path, km, said):
    """A lane's distance_km decides its transit days: -500 km was a promise kept (mean 21.5 km),
    inf and NaN a distance of '-', 1e300 a mean of 1.3e302 km, and 'abc' was replaced by the
    great-circle distance, all without a word."""
    lanes(tmp_path, distance=km)
    result = network(cli)
    assert result.exit_code == 1
    assert said in result.stderr
    assert not (tmp_path / "a.csv").exists()


def test_network_lane_with_a_blank_distance_takes_the_great_circle(cli, tmp_path: Path) -> None:
    """An empty distance_km is none given: the great-circle distance (6.8 km here), as before."""
    lanes(tmp_path, distance="")
    assert network(cli).exit_code == 0
    first = (tmp_path / "a.csv").read_text().splitlines()[1].split(",")
    assert first[:3] == ["C1", "A", "S1"]
    assert 6 < float(first[4]) < 8


def test_network_names_a_lane_without_ids_as_blank(cli, tmp_path: Path) -> None:
    lanes(tmp_path)
    with (tmp_path / "lanes.csv").open("a") as f:
        f.write(",,x\n")
    result = network(cli)
    assert result.exit_code == 1
    assert (
        "unit_cost is not a number ('x') for site_id@customer_id '(blank)@(blank)'" in result.stderr
    )
    assert "None" not in result.stderr


@pytest.mark.parametrize("by", ["segment", "customer"])
def test_costs_refuses_segments_with_a_blank_customer_id(cli, tmp_path: Path, by) -> None:
    """A segments row whose customer_id was emptied was a TypeError traceback (sorting the
    customers with a None among them)."""
    (tmp_path / "seg.csv").write_text("customer_id,segment\nC1,A\n,B\nC2,A\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        "1,2024-01-02,C1,S1,2,3.5\n2,2024-02-02,C2,S1,1,3.5\n"
    )
    result = cli("costs", "seg.csv", "--orders", "orders.csv", "--by", by, "-o", "c.csv")
    assert result.exit_code == 1
    assert "SEGMENTS seg.csv: 1 row with a blank customer_id (row 2)" in result.stderr
    assert not (tmp_path / "c.csv").exists()


@pytest.mark.parametrize("by", ["segment", "customer"])
def test_costs_refuses_segments_with_a_blank_segment(cli, tmp_path: Path, by) -> None:
    """A customer whose segment was emptied made a segment row without a name (listed first,
    its revenue and costs apart from its segment's) without a word."""
    (tmp_path / "seg.csv").write_text("customer_id,segment\nC1,A\nC2,\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        "1,2024-01-02,C1,S1,2,3.5\n2,2024-02-02,C2,S1,1,3.5\n"
    )
    result = cli("costs", "seg.csv", "--orders", "orders.csv", "--by", by, "-o", "c.csv")
    assert result.exit_code == 1
    assert "SEGMENTS seg.csv: 1 row with a blank segment (row 2)" in result.stderr
    assert not (tmp_path / "c.csv").exists()


COSTS_ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-02,C1,S1,2,3.5\n2,2024-02-02,C2,S1,1,3.5\n3,2024-02-02,C2,S2,1,3.5\n"
)


@pytest.mark.parametrize(
    ("option", "name", "text", "said"),
    [
        ("--policy", "policy.csv", "sku,inventory_value\nS1,100\nS2,\n",
         "--policy policy.csv: inventory_value blank for sku 'S2'"),
        ("--stock-segments", "ss.csv", "sku,segment,inventory_value\nS1,A,60\nS1,B,\nS2,B,5\n",
         "--stock-segments ss.csv: inventory_value blank for sku@segment 'S1@B'"),
        ("--forecast", "f.csv",
         "unique_id,segment,sku,ds,forecast\nA/S1,A,S1,2024-03-01,2\nB/S1,B,S1,2024-03-01,\n"
         "B/S2,B,S2,2024-03-01,1\n",
         "--forecast f.csv: forecast blank for unique_id@ds 'B/S1@2024-03-01'"),
    ],
)  # fmt: skip
def test_costs_refuses_a_blank_number_an_inventory_figure_is_made_of(
    cli, tmp_path: Path, option, name, text, said
) -> None:
    """A blank inventory_value in the policy was a stocking point holding nothing (its carrying
    cost left out of every customer's, reconciled as if the policy said 0), and a blank weight
    in the per-segment table or the forecast gave that segment none of the stock: stage outputs
    never leave these empty, so a blank one is a damaged file, not a zero."""
    (tmp_path / "seg.csv").write_text("customer_id,segment\nC1,A\nC2,B\n")
    (tmp_path / "orders.csv").write_text(COSTS_ORDERS)
    (tmp_path / "policy.csv").write_text("sku,inventory_value\nS1,100\nS2,10\n")
    (tmp_path / name).write_text(text)
    args = ["seg.csv", "--orders", "orders.csv", "--policy", "policy.csv", "--by", "customer"]
    if option != "--policy":
        args += [option, name]
    result = cli("costs", *args, "-o", "c.csv")
    assert result.exit_code == 1
    assert said in result.stderr
    assert not (tmp_path / "c.csv").exists()


def hidden_first_book(path: Path, *, first_hidden: int = 1) -> Path:
    """A workbook whose first sheet(s) are hidden (last year's copy of the orders): Excel opens
    on 'Orders', the first sheet shown."""
    xlsxwriter = pytest.importorskip("xlsxwriter")
    book = xlsxwriter.Workbook(str(path))
    header = ["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"]
    for i in range(first_hidden):
        ws = book.add_worksheet(f"Old{i + 1}")
        for r, row in enumerate([header, ["old-1", "2023-03-01", "C1", "S1", 2, 3.5]]):
            ws.write_row(r, 0, row)
        ws.hide()
    ws = book.add_worksheet("Orders")
    for r, row in enumerate([header, ["new-1", "2024-03-01", "C1", "S1", 2, 3.5]]):
        ws.write_row(r, 0, row)
    ws.activate()
    book.close()
    return path


@pytest.mark.parametrize("hidden", [1, 2])
def test_workbook_hidden_first_sheet_is_passed_over(cli, tmp_path: Path, hidden) -> None:
    """A hidden first sheet was read instead of the sheet the workbook shows first, named only as
    'sheet 'Old' (the first; not read: 'Orders')': half the orders, or last year's."""
    book = hidden_first_book(tmp_path / "b.xlsx", first_hidden=hidden)
    result = cli("validate", str(book), "-o", "o.csv")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "o.csv").read_text().splitlines()[1].startswith("new-1,")
    olds = ", ".join(f"'Old{i + 1}' (hidden)" for i in range(hidden))
    assert f"workbook, sheet 'Orders' (the first shown; not read: {olds})" in result.stderr


def test_workbook_hidden_sheet_is_read_when_named(cli, tmp_path: Path) -> None:
    book = hidden_first_book(tmp_path / "b.xlsx")
    result = cli("validate", str(book), "--sheet", "Old1", "-o", "o.csv")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "o.csv").read_text().splitlines()[1].startswith("old-1,")
    assert "workbook, sheet 'Old1' (the first; not read: 'Orders')" in result.stderr


@pytest.mark.parametrize(
    "header",
    [
        # The blank names stand where the customer's would (without one, an export missing
        # order_id is read with its ids made of customer and day since session 71).
        " ,order_date,order_id,sku,quantity,unit_price,",  # a blank name and an empty one
        " ,order_date,order_id,sku,quantity,unit_price,  ",  # two blank names
    ],
)
def test_a_header_with_blank_names_gets_a_message(cli, tmp_path: Path, header) -> None:
    """A header cell of spaces beside an empty one (a workbook's first column's name cleared,
    a cell typed past the header) was a polars DuplicateError traceback: both became ''."""
    (tmp_path / "o.csv").write_text(f"{header}\n1,2024-01-01,C1,S1,1,2,x\n")
    result = cli("validate", "o.csv", "-o", "out.csv")
    assert result.exit_code == 1
    assert "missing required column customer_id" in result.stderr
    assert not (tmp_path / "out.csv").exists()


TEXT = 'office:value-type="string"'  # a cell without a type is empty to calamine


def ods_book(path: Path) -> Path:
    """An OpenDocument spreadsheet, written by hand: a hidden sheet 'Old' (table:display false),
    then 'Orders'."""
    import zipfile

    def table(name: str, order_id: str, style: str) -> str:
        rows = [["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"]]
        rows.append([order_id, "2024-03-01", "C1", "S1", "2", "3.5"])
        cells = "".join(
            "<table:table-row>"
            + "".join(
                f"<table:table-cell {TEXT}><text:p>{v}</text:p></table:table-cell>" for v in row
            )
            + "</table:table-row>"
            for row in rows
        )
        return f'<table:table table:name="{name}" table:style-name="{style}">{cells}</table:table>'

    ns = {
        "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
        "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
        "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
        "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    }
    styles = "".join(
        f'<style:style style:name="{n}" style:family="table"><style:table-properties '
        f'table:display="{shown}"/></style:style>'
        for n, shown in (("shown", "true"), ("hidden", "false"))
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        + " ".join(f'xmlns:{k}="{v}"' for k, v in ns.items())
        + f' office:version="1.2"><office:automatic-styles>{styles}</office:automatic-styles>'
        + "<office:body><office:spreadsheet>"
        + table("Old", "old-1", "hidden")
        + table("Orders", "new-1", "shown")
        + "</office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
        z.writestr(  # calamine tells a workbook by its manifest
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
            '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
            'manifest:full-path="/" manifest:media-type='
            '"application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>',
        )
    return path


def test_ods_hidden_first_sheet_is_passed_over(cli, tmp_path: Path) -> None:
    book = ods_book(tmp_path / "b.ods")
    result = cli("validate", str(book), "-o", "o.csv")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "o.csv").read_text().splitlines()[1].startswith("new-1,")
    assert "sheet 'Orders' (the first shown; not read: 'Old' (hidden))" in result.stderr


@pytest.mark.parametrize(
    ("lines", "found"),
    [
        (
            "Period: 2024,x,,,,\norder_id,order_date,customer_id,sku,quantity,unit_price\n",
            "found Period: 2024, x, (4 blank)\n",
        ),
        # The blank name where the customer's would be: without one, an export missing
        # order_id is read with its ids made of customer and day since session 71.
        (
            ",order_date,order_id,sku,quantity,unit_price\n",
            "found (blank), order_date, order_id, sku, quantity, unit_price\n",
        ),
    ],
)
def test_missing_columns_error_shows_blank_header_names_as_blank(cli, tmp_path, lines, found):
    """A line of two values above the header (not read as a title) listed the reader's own
    names for its empty fields as columns: 'found Period: 2024, x, , _duplicated_0,
    _duplicated_1, _duplicated_2'; a blank name was an empty item (', ,')."""
    (tmp_path / "o.csv").write_text(lines + "1,2024-01-01,C1,S1,1,2\n")
    result = cli("validate", "o.csv")
    assert result.exit_code == 1
    assert found in result.stderr
    assert "_duplicated" not in result.stderr


def test_a_workbook_cut_short_says_so_and_what_to_do(cli, tmp_path: Path) -> None:
    """A download stopped part way: 'b.xlsx: a damaged ZIP archive (File is not a zip file)',
    with no hint, called the workbook a ZIP archive and said nothing of what to do."""
    book = hidden_first_book(tmp_path / "whole.xlsx")
    (tmp_path / "b.xlsx").write_bytes(book.read_bytes()[:3000])
    result = cli("validate", "b.xlsx", "-o", "o.csv")
    assert result.exit_code == 1
    assert result.stderr == (
        "segchain validate: Error: b.xlsx: a damaged workbook, or one cut short (not a readable "
        "ZIP archive: File is not a zip file)\n"
        "segchain validate:   hint: save it again from the spreadsheet, or download or copy it "
        "again; or save the sheet as CSV (Excel: File > Save As > CSV UTF-8; LibreOffice: File "
        "> Save As > Text CSV) and give that file\n"
    )
    assert not (tmp_path / "o.csv").exists()


def test_a_workbook_with_a_member_lost_says_what_to_do(cli, tmp_path: Path) -> None:
    """calamine's 'Cannot detect file format' (a workbook whose ZIP lost a member) came with
    only the hint to save the sheet as CSV, which a damaged file may not allow."""
    import zipfile

    whole = zipfile.ZipFile(hidden_first_book(tmp_path / "whole.xlsx"))
    with zipfile.ZipFile(tmp_path / "b.xlsx", "w") as damaged:
        for member in whole.namelist():
            if member != "xl/_rels/workbook.xml.rels":
                damaged.writestr(member, whole.read(member))
    result = cli("validate", "b.xlsx", "-o", "o.csv")
    assert result.exit_code == 1
    assert "segchain validate: Error: b.xlsx: cannot read an Excel workbook (" in result.stderr
    assert "hint: save it again from the spreadsheet, or download or copy it again" in (
        result.stderr
    )
    assert not (tmp_path / "o.csv").exists()
