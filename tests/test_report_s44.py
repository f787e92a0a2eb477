"""report, session 44: a raw export is known by its header before any parse as a stage table,
and the counts of the plan's sites, customers, stocking points and series count what they say.

Known answers are worked out here from the frames (polars' own n_unique, counts by hand), not by
the report's code.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from html import escape
from pathlib import Path

import polars as pl
import pytest
from test_report import backtest_frame, policy_frame, segments_frame
from test_report_actions import sites_case
from test_report_unknown_tables import on_both_pages

from segchain import tableio
from segchain.report import build_report, to_html
from segchain.report.model import TableBlock
from segchain.report.sections.actions import site_decisions

# ---- the header told before the parse (tableio.stage_header)

_ROWS = "".join(f"{i},2024-03-{1 + i % 28:02d},C{i % 5},S{i % 3},1,10\n" for i in range(40))
_HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price\n"
# CSV texts as exports and hand-edited tables come, each read by read_table and by the peek.
_TEXTS: dict[str, bytes] = {
    "plain": (_HEADER + _ROWS).encode(),
    "bom": b"\xef\xbb\xbf" + (_HEADER + _ROWS).encode(),
    "crlf": (_HEADER + _ROWS).replace("\n", "\r\n").encode(),
    "excel sep line": ("sep=;\n" + (_HEADER + _ROWS).replace(",", ";")).encode(),
    "semicolons": (_HEADER + _ROWS).replace(",", ";").encode(),
    "tabs": (_HEADER + _ROWS).replace(",", "\t").encode(),
    "capitals": ("Order_ID,Order_Date,Customer_ID,SKU,Quantity,Unit_Price\n" + _ROWS).encode(),
    "spaces and empty names": b" order_id ,order_date,,customer_id,sku,quantity,\n"
    + "".join(f"{i},2024-03-01,x,C1,S1,1,y\n" for i in range(5)).encode(),
    "quoted header": ('"order id","Kunde, Nr",sku\n' + "1,2,3\n").encode(),
    "cp1252 header": "Menge,Straße,sku\n1,Düsseldorf,A\n".encode("cp1252"),
    "utf-8 rows": ("customer_id,segment,segment_rank\n" + "Müller KG,Champions,1\n" * 3).encode(),
    "utf-16": ("customer_id\tsegment\tsegment_rank\n" + "c1\tChampions\t1\n").encode("utf-16"),
    "title line": ("Sales export March 2024\n\n" + _HEADER + _ROWS).encode(),
    "gzip": gzip.compress((_HEADER + _ROWS).encode()),
    "gzip beyond the window": gzip.compress((_HEADER + _ROWS * 4000).encode()),
    "gzip not ascii": gzip.compress(("Straße,sku\n" + "Köln,A\n" * 30000).encode("cp1252")),
    "long lines": (_HEADER + _ROWS.replace("\n", "," + "x" * 3000 + "\n")).encode(),
}


def _stage_columns(name: str, data: bytes) -> list[str] | None:
    """The columns read_table gives (None: it refuses the file)."""
    try:
        return tableio.collect(tableio.read_table(name, data=data).frame).columns
    except tableio.DataError:
        return None


@pytest.mark.parametrize("case", sorted(_TEXTS))
def test_stage_header_gives_the_columns_a_stage_read_gives(case: str) -> None:
    name = "export.csv.gz" if case.startswith("gzip") else "export.csv"
    data = _TEXTS[case]
    peeked = tableio.stage_header(name, data)
    read = _stage_columns(name, data)
    if read is None:
        # A file the stage read refuses is told apart by that read, as before.
        return
    assert peeked is None or peeked == read, (peeked, read)
    if case not in ("utf-16", "title line"):
        assert peeked == read  # the common cases are told from the header alone


def _zipped(text: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("orders.csv", text)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("x.parquet", b"PAR1...."),
        ("x.csv", _zipped(_HEADER.encode())),
        ("x.csv.gz", gzip.compress(_HEADER.encode()) + gzip.compress(_ROWS.encode())),
        ("x.csv", b'"order\nid",sku\n1,2\n'),
        ("x.csv", _HEADER.replace("\n", "\r").encode() + _ROWS.replace("\n", "\r").encode()),
        ("x.csv", b"sku,sku\nA,B\n"),
        ("x.csv", b"   \n"),
    ],
    ids=["parquet", "zip", "gzip members", "quoted line break", "bare CRs", "twice", "blank"],
)
def test_stage_header_leaves_to_the_read_what_the_header_alone_cannot_tell(
    name: str, data: bytes
) -> None:
    assert tableio.stage_header(name, data) is None


SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def test_stage_header_of_online_retail_is_its_stage_read_s() -> None:
    path = SHARED_DATA / "online_retail" / "online_retail.csv.gz"
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (see ../shared/data/README.md)")
    data = path.read_bytes()
    assert tableio.stage_header(str(path), data) == _stage_columns(str(path), data)


# ---- report reads an export as an export only


def _stage_reads(monkeypatch) -> list[str]:
    """The inputs report parses as stage tables (read_table), in order."""
    seen: list[str] = []
    read_table = tableio.read_table

    def counted(source, **kwargs):
        seen.append(Path(source).name)
        return read_table(source, **kwargs)

    monkeypatch.setattr(tableio, "read_table", counted)
    return seen


_RETAIL = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    + "".join(
        f"5363{i:02d},8512{i % 3}A,THING,1,12/{1 + i % 28}/2010 8:26,10,1785{i % 5},France\n"
        for i in range(40)
    )
)


@pytest.mark.parametrize("how", ["columns", "preset", "gzip"])
def test_report_reads_an_export_without_parsing_it_as_a_stage_table(
    cli, tmp_path: Path, monkeypatch, how: str
) -> None:
    """report parsed every input as a stage table first, an export too, before it read it
    again as an export: on Online Retail (48 MB of CSV) 1.3 s of 5.5. An export known by its
    header (its columns, or the mapping validate reads it with) is read as an export alone;
    a stage table beside it is read as before."""
    if how == "preset":
        monkeypatch.setenv("SEGCHAIN_PRESET", "online-retail")
        export = tmp_path / "export.csv"
        export.write_text(_RETAIL)
    elif how == "gzip":
        export = tmp_path / "export.csv.gz"
        export.write_bytes(gzip.compress((_HEADER + _ROWS).encode()))
    else:
        export = tmp_path / "export.csv"
        export.write_text(_HEADER + _ROWS)
    segments = tmp_path / "segments.csv"
    segments.write_text("customer_id,segment,segment_rank\nC1,Champions,1\nC2,Lost,2\n")
    reads = _stage_reads(monkeypatch)
    result = cli("report", str(export), str(segments), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.stderr
    assert "raw order lines, read as validate would: read 40 = used 40" in result.stderr
    assert reads == ["segments.csv"]


# ---- sites: an open site without an id


def _unnamed_site_case(blank: str | None) -> tuple[dict[str, pl.DataFrame], dict]:
    """test_report_actions' sites A, B (open) and C (not opened), with B's id empty or blank;
    c2's lane (B's) names no site either. A None site id matched a None lane's (None == None),
    and the row was named 'None'."""
    tables, meta = sites_case()
    tables["sites"] = tables["sites"].with_columns(
        site_id=pl.Series(["A", blank, "C"], dtype=pl.String)
    )
    tables["assignments"] = tables["assignments"].with_columns(
        site_id=pl.Series(["A", blank, "A"], dtype=pl.String)
    )
    return tables, meta


@pytest.mark.parametrize("blank", [None, "  "], ids=["empty", "blank"])
def test_an_open_site_without_an_id_is_unknown_not_named_none(blank: str | None) -> None:
    tables, meta = _unnamed_site_case(blank)
    decided = site_decisions(tables, meta, ["Champions", "Lost"])
    assert decided is not None
    frame, _ = decided
    rows = frame.select("site_id", "decision", "why").rows()
    assert [r[0] for r in rows] == ["A", None, "C"]  # shown as – (unknown), last of the open
    assert rows[1][1] == "open"
    assert rows[1][2] == (
        "its site_id is unknown (empty or blank), so no lane names it: whether a promise needs "
        "it is unknown"
    )
    report = build_report(tables, metadata=meta)
    page = to_html(report)
    assert ">None<" not in page and "None," not in page
    network = next(s for s in report.sections if s.key == "network")
    head = next(h for h in network.headlines if h.label == "Open sites")
    # Two open sites, as the plan's actions count them: A, and one without an id.
    assert (head.value, head.detail) == ("2", "A; 1 site whose site_id is unknown")
    on_both_pages(report, "A; 1 site whose site_id is unknown")


# ---- what to do now: lanes without a customer id


def test_a_site_needed_by_lanes_without_a_customer_id_says_so_not_one_customer() -> None:
    # c1 (Champions, 1 day) has only A within its promise; a second lane where c1 is, and
    # both their customer ids empty or blank (a table edited by hand). n_unique counted the
    # two as one customer: "(1 customer)".
    tables, meta = sites_case()
    asg = tables["assignments"]
    tables["assignments"] = pl.concat([asg, asg.head(1)]).with_columns(
        customer_id=pl.Series([None, "c2", "c3", "  "], dtype=pl.String)
    )
    frame, _ = site_decisions(tables, meta, ["Champions", "Lost"])
    why = dict(zip(frame["site_id"].to_list(), frame["why"].to_list(), strict=True))
    # Still needed (their demand has no other site in time), and said to be lanes, not customers.
    assert why["A"] == (
        "needed by the delivery promise of Champions, 1 day (2 lanes' customer unknown): no "
        "other open site reaches them in time"
    )


def test_a_site_needed_by_customers_and_lanes_without_an_id_counts_each() -> None:
    # c1 needs A (1-day promise), and so does a lane where c1 is whose customer id is empty.
    tables, meta = sites_case()
    asg = tables["assignments"]
    tables["assignments"] = pl.concat([asg, asg.head(1)]).with_columns(
        customer_id=pl.Series(["c1", "c2", "c3", None], dtype=pl.String)
    )
    frame, _ = site_decisions(tables, meta, ["Champions", "Lost"])
    why = dict(zip(frame["site_id"].to_list(), frame["why"].to_list(), strict=True))
    assert why["A"].startswith(
        "needed by the delivery promise of Champions, 1 day (1 customer; 1 lane's customer unknown)"
    )


# ---- counts of ids, not rows


def test_segment_profile_counts_a_customer_given_twice_once() -> None:
    seg = pl.concat([segments_frame(), segments_frame().head(1)])  # c1 (Champions) twice
    distinct = seg.group_by("segment").agg(pl.col("customer_id").n_unique())
    expected = dict(distinct.iter_rows())  # Champions 2, Lost 1, At Risk 1
    report = build_report({"segments": seg})
    section = next(s for s in report.sections if s.key == "segments")
    table = next(
        b for b in section.blocks if isinstance(b, TableBlock) and b.title == "Segment profile"
    )
    got = {s: int(n) for s, n in table.frame.select("segment", "customers").iter_rows()}
    assert got == expected
    heads = {h.label: (h.value, h.detail) for h in section.headlines}
    assert heads["Customers"] == (
        str(seg["customer_id"].n_unique()),
        "in 3 segments; 1 customer in 2 rows (c1), counted once",
    )
    # Its revenue is summed over every row, and the headline says so.
    assert heads["Revenue"][1] == (
        "net order value; 1 customer in 2 rows (c1): every row's revenue summed"
    )


def test_segment_profile_does_not_count_a_row_without_a_customer_id_as_a_customer() -> None:
    seg = segments_frame().with_columns(
        customer_id=pl.Series(["c1", "  ", "c3", "c4"], dtype=pl.String)
    )
    report = build_report({"segments": seg})
    section = next(s for s in report.sections if s.key == "segments")
    heads = {h.label: (h.value, h.detail) for h in section.headlines}
    assert heads["Customers"] == (
        "3",
        "in 3 segments; 1 row's customer id unknown, left out",
    )
    on_both_pages(report, "customers: 1 row's customer id unknown, left out (Champions)")


def test_stocking_points_count_a_point_given_twice_once() -> None:
    # sku A in two rows; no fill rate nor target, so the third headline counts the points.
    policy = pl.concat([policy_frame(), policy_frame().head(1)]).drop(
        "expected_fill_rate", "service_target"
    )
    report = build_report({"policy": policy})
    section = next(s for s in report.sections if s.key == "inventory")
    heads = {h.label: (h.value, h.detail) for h in section.headlines}
    assert heads["Stocking points"][0] == str(policy["sku"].n_unique())  # 3, not 4
    assert heads["Inventory value"] == (
        "300",  # 100 + 30 + 70 + A's 100 again: every row summed, and said
        "average stock of 3 stocking points; 1 stocking point in 2 rows (A): every row summed",
    )


def test_inventory_by_segment_counts_the_points_a_segment_buys_from_once() -> None:
    segs = pl.DataFrame(
        {
            "sku": ["A", "A", "B", "A"],
            "segment": ["Champions", "Champions", "Champions", "Lost"],
            "service_level": [0.98, 0.98, 0.98, 0.9],
            "demand_share": [0.8, 0.8, 1.0, 0.2],
            "inventory_value": [80.0, 80.0, 30.0, 20.0],
        }
    )
    report = build_report({"policy": policy_frame(), "stock_segments": segs})
    section = next(s for s in report.sections if s.key == "inventory")
    table = next(
        b
        for b in section.blocks
        if isinstance(b, TableBlock) and b.title == "Inventory value by segment"
    )
    got = dict(table.frame.select("segment", "stocking_points").iter_rows())
    assert got == {"Champions": 2, "Lost": 1}  # A and B; A (its row twice counted once)


def test_series_backtested_counts_a_series_given_twice_once() -> None:
    bt = pl.concat([backtest_frame(), backtest_frame().head(1)]).drop("mase", "baseline_mase")
    series = bt.filter(pl.col("scope") == "series")
    report = build_report({"backtest": bt})
    section = next(s for s in report.sections if s.key == "accuracy")
    head = next(h for h in section.headlines if h.label == "Series backtested")
    assert head.value == str(series["unique_id"].n_unique())  # 3, not 4 rows
    assert head.detail == "held-out windows; 1 series in 2 rows (Champions/A), counted once"
    assert escape(head.detail) in to_html(report)
