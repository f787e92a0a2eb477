"""`segment` on a raw export reads and cleans it once (issue 13, item 9): the features, the ship-to,
the monthly values and the import's reconciliation come from one scan, and the one pass gives the
same answers as validating first and segmenting the clean table."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from segchain import segment as sg
from segchain.cli import common as c


@pytest.fixture
def raw_parquet(tmp_path: Path) -> Path:
    """A raw export (never validated) with ship-to columns and a few bad lines."""
    rows = []
    for i in range(60):
        rows.append(
            {
                "order_id": f"{100 + i // 2}",
                "order_date": dt.date(2024, 1 + i % 12, 1 + i % 27),
                "customer_id": f"C{i % 9}",
                "sku": "POST" if i % 17 == 0 else f"S{i % 4}",
                "quantity": float(1 + i % 3) * (-1 if i % 13 == 0 else 1),
                "unit_price": 2.5,
                "city": "Lyon" if i % 2 else "Paris",
                "country": "FR",
                "lat": 45.0,
                "lon": 4.8,
            }
        )
    rows[5]["customer_id"] = None  # missing_customer
    rows[7]["quantity"] = None  # bad_quantity
    path = tmp_path / "raw.parquet"
    pl.DataFrame(rows).write_parquet(path)
    return path


def load(path: Path, rejects: str | None = None) -> c.LoadedOrders:
    return c.load_orders(
        str(path),
        c.OrderOptions(rejects=rejects),
        config=c.load_config(None),
        reporter=c.Reporter(quiet=True),
    )


@pytest.mark.parametrize("method", ["rfm", "abc-xyz"])
@pytest.mark.parametrize("as_of", [None, dt.date(2024, 10, 1)])
@pytest.mark.parametrize("clv", [False, True])
def test_segment_queries_and_the_reconciliation_share_one_scan(
    raw_parquet, method, as_of, clv
) -> None:
    loaded = load(raw_parquet)
    lf, names = sg._canonical(loaded.imp.lines)
    queries, ship_to = sg.segment_queries(lf, names, method=method, as_of=as_of, clv=clv)
    assert ship_to  # the ship-to query is among them
    plan = pl.explain_all([*queries, *loaded.tally(lf)], optimizations=sg.ONE_PASS)
    assert plan.count("Parquet SCAN") == 1, plan


def test_one_pass_gives_the_answers_of_validate_then_segment(raw_parquet, tmp_path) -> None:
    loaded = load(raw_parquet)
    tallied: list[list[pl.DataFrame]] = []
    one_pass = sg.segment(loaded.imp.lines, tally=loaded.tally, on_tally=tallied.append)
    # Independently: the clean lines collected first, then segmented as a plain table.
    clean = load(raw_parquet).clean.collect()
    two_pass = sg.segment(clean)
    assert one_pass.segments.equals(two_pass.segments)
    summary = tallied[0][0]
    assert summary["n"].sum() == 60
    rejected = summary.filter(pl.col("reason").is_not_null())
    assert dict(zip(rejected["reason"], rejected["n"], strict=True)) == {
        "missing_customer": 1,
        "bad_quantity": 1,
    }


def test_segment_cli_reconciles_a_raw_export_and_writes_its_rejects(
    cli, raw_parquet, tmp_path
) -> None:
    rejects, out = tmp_path / "rejects.csv", tmp_path / "segments.csv"
    result = cli("segment", str(raw_parquet), "--rejects", str(rejects), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "read 60 = used 58 + rejected 2 (bad_quantity 1, missing_customer 1)" in result.stderr
    rows = pl.read_csv(rejects, infer_schema=False)
    assert sorted(zip(rows["row"], rows["reason"], strict=True)) == [
        ("6", "missing_customer"),
        ("8", "bad_quantity"),
    ]
    assert pl.read_csv(out)["customer_id"].to_list() == [f"C{i}" for i in range(9)]


def test_segment_cli_on_an_all_rejected_export_gives_the_reasons(cli, tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("order_id,order_date,customer_id,sku,quantity,unit_price\n1,x,,A,1,1\n")
    rejects = tmp_path / "rejects.csv"
    result = cli("segment", str(path), "--rejects", str(rejects), "-o", str(tmp_path / "s.csv"))
    assert result.exit_code == 1
    assert "no usable order lines: its one line was rejected (missing_customer 1)" in result.stderr
    assert rejects.exists() and not (tmp_path / "s.csv").exists()


def test_ship_to_counts_postal_codes_as_trimmed_without_trimming_each_line(tmp_path) -> None:
    # Customer A: "456" on 2 lines, "123" written three ways on 3 lines: trimmed, 123 is the
    # most frequent. Customer B: a blank postal code and nothing else: no ship-to at all.
    postal = ["456", "456", " 123", "123 ", "123", "  ", "  "]
    n = len(postal)
    raw = tmp_path / "raw.parquet"
    pl.DataFrame(
        {
            "order_id": [str(i) for i in range(n)],
            "order_date": [dt.date(2024, 1, 1 + i) for i in range(n)],
            "customer_id": ["A"] * 5 + ["B"] * 2,
            "sku": ["S1"] * n,
            "quantity": [1.0] * n,
            "unit_price": [2.0] * n,
            "postal_code": postal,
        }
    ).write_parquet(raw)
    loaded = load(raw)
    assert "_postal_code_raw" in loaded.imp.lines.collect_schema()
    segments = sg.segment(loaded.imp.lines).segments
    assert segments.select("customer_id", "postal_code").rows() == [("A", "123"), ("B", None)]
    # The same answer as from the trimmed lines (the stage's general path).
    clean = sg.segment(loaded.clean).segments
    assert clean.select("customer_id", "postal_code").rows() == [("A", "123"), ("B", None)]


def _count_passes(monkeypatch) -> list[int]:
    """A list that grows by one each time segment runs its pass over the lines."""
    passes: list[int] = []
    one_pass = sg._one_pass
    monkeypatch.setattr(sg, "_one_pass", lambda *a, **k: passes.append(1) or one_pass(*a, **k))
    return passes


def _run(path: Path, *, as_of, fast: bool) -> tuple[sg.SegmentResult, list[pl.DataFrame]]:
    """segment's one pass as the CLI runs it; ``fast``: with the customer ids as exported."""
    loaded = load(path, rejects="rejects.csv")
    tallied: list[list[pl.DataFrame]] = []
    extra = {"as_exported": loaded.imp.as_exported} if fast else {}
    result = sg.segment(
        loaded.imp.lines, as_of=as_of, tally=loaded.tally, on_tally=tallied.append, **extra
    )
    summary, rejects, *_ = tallied[0]  # and the grouped lines, the ids written two ways
    return result, [summary.sort(pl.all(), nulls_last=True), rejects]


def _same(a: tuple[sg.SegmentResult, list[pl.DataFrame]], b) -> bool:
    (ra, ta), (rb, tb) = a, b
    return (
        ra.segments.equals(rb.segments)
        and ra.excluded == rb.excluded
        and ra.as_of == rb.as_of
        and all(x.equals(y) for x, y in zip(ta, tb, strict=True))
    )


def _with(raw_parquet: Path, tmp_path: Path, column: str, values: dict[int, object]) -> Path:
    """The fixture's export with some lines' ``column`` replaced."""
    frame = pl.read_parquet(raw_parquet)
    cells = frame[column].to_list()
    for row, value in values.items():
        cells[row] = value
    path = tmp_path / "changed.parquet"
    frame.with_columns(pl.Series(column, cells, dtype=frame[column].dtype)).write_parquet(path)
    return path


AS_OF = dt.date(2024, 10, 1)
# Rows of the raw_parquet fixture: 10 and 11 are used lines dated 2024-11 and 2024-12 (after
# AS_OF), 7 is rejected (bad_quantity), 20 (order 110) and 29 (order 114) are used lines of
# customer C2 dated 2024-09 and 2024-06.
DIFFERING = {
    "leading": ("customer_id", {20: " C2"}, True),
    "trailing tab": ("customer_id", {20: "C2\t"}, True),
    "no-break space": ("customer_id", {20: "C2\u00a0"}, True),
    "after as_of": ("customer_id", {10: "C1 ", 11: " C2"}, True),
    # Blank once trimmed: the exact lines reject them (missing_customer), the ids as exported
    # would count "   " as a customer, or give the rejected line its next reason.
    "blank, used line": ("customer_id", {20: "   "}, False),
    "blank, rejected line": ("customer_id", {7: "  "}, False),
    "blank, after as_of": ("customer_id", {11: "\t"}, False),
    # Order ids and skus: trimmed, a cancellation (a return), one order of C2 with another,
    # a non-product line, a blank id (rejected).
    "order id, cancelled once trimmed": ("order_id", {20: " C110"}, False),
    "order id, the same order once trimmed": ("order_id", {29: "110\u3000"}, False),
    "order id, blank": ("order_id", {20: "\u2003"}, False),
    "sku, postage once trimmed": ("sku", {20: "POST "}, False),
    "sku, blank": ("sku", {20: " "}, False),
    # A spreadsheet's error value (a lookup that found nothing, saved as CSV) is no id: the
    # exact lines reject it as blank, the ids as exported would make '#N/A' a customer.
    "customer #N/A": ("customer_id", {20: "#N/A"}, False),
    "customer #N/A, after as_of": ("customer_id", {11: "#N/A"}, False),
    "order id #REF!": ("order_id", {20: "#REF!"}, False),
    "sku #N/A": ("sku", {20: "#N/A"}, False),
    # Numbers the line-by-line rules reject (non_finite, out_of_range).
    "quantity inf": ("quantity", {20: float("inf")}, False),
    "price NaN": ("unit_price", {20: float("nan")}, False),
    "price beyond 1e15": ("unit_price", {29: 2e15}, False),
    "negative quantity beyond 1e15": ("quantity", {29: -3e15}, False),
}


@pytest.mark.parametrize("as_of", [None, AS_OF], ids=["all", "as_of"])
@pytest.mark.parametrize("case", list(DIFFERING))
def test_lines_as_exported_that_may_differ_take_the_exact_lines(
    raw_parquet, tmp_path, monkeypatch, case, as_of
) -> None:
    column, values, same_as_unchanged = DIFFERING[case]
    changed = _with(raw_parquet, tmp_path, column, values)
    monkeypatch.chdir(tmp_path)
    passes = _count_passes(monkeypatch)
    exact = _run(changed, as_of=as_of, fast=False)
    assert len(passes) == 1
    fast = _run(changed, as_of=as_of, fast=True)
    assert len(passes) == 3  # the lines as exported, then the exact lines
    assert _same(fast, exact)
    if case == "after as_of" and as_of is not None:
        return  # lines after as_of are only counted: the check is on the safe side
    # The check is what makes it exact: the lines as exported, taken as they are, differ.
    loaded = load(changed, rejects="rejects.csv")
    tallied: list[list[pl.DataFrame]] = []
    raw_ids = sg.segment(
        loaded.imp.as_exported, as_of=as_of, tally=loaded.tally, on_tally=tallied.append
    )
    summary, rejects, *_ = tallied[0]  # and the grouped lines, the ids written two ways
    assert not _same((raw_ids, [summary.sort(pl.all(), nulls_last=True), rejects]), exact)
    if same_as_unchanged:  # spaces around an id change nothing once trimmed
        plain = _run(raw_parquet, as_of=as_of, fast=False)
        assert fast[0].segments.equals(plain[0].segments)
        assert all(x.equals(y) for x, y in zip(fast[1][:1], plain[1][:1], strict=True))


@pytest.mark.parametrize("as_of", [None, AS_OF], ids=["all", "as_of"])
def test_ids_without_whitespace_take_one_pass_with_the_same_answers(
    raw_parquet, tmp_path, monkeypatch, as_of
) -> None:
    monkeypatch.chdir(tmp_path)
    passes = _count_passes(monkeypatch)
    fast = _run(raw_parquet, as_of=as_of, fast=True)
    assert len(passes) == 1
    assert _same(fast, _run(raw_parquet, as_of=as_of, fast=False))


def test_a_coordinate_that_is_nan_takes_one_pass_with_the_same_answers(
    raw_parquet, tmp_path, monkeypatch
) -> None:
    # A NaN lat is emptied at import, in the lines as exported as in the exact lines (s52: it
    # rejected its line, non_finite, which made the lines as exported differ).
    changed = _with(raw_parquet, tmp_path, "lat", {20: float("nan")})
    monkeypatch.chdir(tmp_path)
    passes = _count_passes(monkeypatch)
    fast = _run(changed, as_of=None, fast=True)
    assert len(passes) == 1
    assert _same(fast, _run(changed, as_of=None, fast=False))
    # The line is not rejected: the rejects are the fixture's two (rows 5 and 7).
    assert sorted(fast[1][1]["reason"].to_list()) == ["bad_quantity", "missing_customer"]


def test_the_checks_share_the_one_scan_and_trim_no_line(raw_parquet) -> None:
    loaded = load(raw_parquet)
    lf, names = sg._canonical(loaded.imp.as_exported)
    queries, _ = sg.segment_queries(lf, names, method="rfm", as_of=AS_OF)
    checks = sg.as_exported_checks(lf, names, as_of=AS_OF)
    plan = pl.explain_all([*queries, *loaded.tally(lf), *checks], optimizations=sg.ONE_PASS)
    assert plan.count("Parquet SCAN") == 1, plan
    for column in ("order_id", "customer_id", "sku"):
        assert f'col("{column}").str.strip_chars' not in plan
    assert "is_nan" not in plan  # the non_finite rule is checked on sums


def test_ship_to_of_lines_as_exported_counts_blank_texts_as_none(tmp_path) -> None:
    # Customer A: a blank city on 3 lines (no other ship-to), Lyon on 2: Lyon, as from the
    # exact lines (where "" is null). B: "" on its only line, with country FR.
    raw = tmp_path / "raw.parquet"
    n = 6
    pl.DataFrame(
        {
            "order_id": [str(i) for i in range(n)],
            "order_date": [dt.date(2024, 1, 1 + i) for i in range(n)],
            "customer_id": ["A"] * 5 + ["B"],
            "sku": ["S1"] * n,
            "quantity": [1.0] * n,
            "unit_price": [2.0] * n,
            "city": ["", "", "", "Lyon", "Lyon", ""],
            "country": [None, None, None, None, None, "FR"],
        }
    ).write_parquet(raw)
    loaded = load(raw)
    assert loaded.imp.as_exported.select("city").collect()["city"].to_list()[0] == ""
    ship_to = ["customer_id", "city", "country"]
    fast = sg.segment(loaded.imp.lines, as_exported=loaded.imp.as_exported).segments
    assert fast.select(ship_to).rows() == [("A", "Lyon", None), ("B", None, "FR")]
    assert fast.equals(sg.segment(loaded.imp.lines).segments)


def test_lines_already_in_segments_types_share_the_scan_itself(tmp_path) -> None:
    # Validate's Parquet needs no cast: the queries share the scan, not a projection of it,
    # which polars' streaming engine buffered for the slower query (0.45 GB against 0.3 GB
    # peak on 2 M lines, docs/measurements.md).
    path = tmp_path / "clean.parquet"
    n = 8
    pl.DataFrame(
        {
            "order_id": [str(i) for i in range(n)],
            "order_date": [dt.date(2024, 1, 1 + i) for i in range(n)],
            "customer_id": ["A", "B"] * (n // 2),
            "quantity": [1.0] * n,
            "amount": [2.0] * n,
            "flag": [None] * (n - 1) + ["non_product"],
            "city": ["Lyon"] * n,
            "country": ["FR"] * n,
        }
    ).write_parquet(path)
    lf, names = sg._canonical(pl.scan_parquet(path))
    queries, ship_to = sg.segment_queries(lf, names, method="rfm", as_of=None)
    assert ship_to == ["city", "country"]
    plan = pl.explain_all(queries, optimizations=sg.ONE_PASS)
    assert plan.split("CACHE[", 1)[1].splitlines()[1].strip().startswith("Parquet SCAN"), plan


def test_rfm_imports_neither_numpy_nor_the_importer() -> None:
    # A fresh process: numpy (k-means and CLV only) took 0.03-0.04 s and started OpenBLAS's
    # threads; the importer (orders, with config and tableio) 0.01 s, 0.05 s without bytecode.
    code = (
        "import sys, datetime as dt, polars as pl; from segchain.segment import segment; "
        "n = 6; out = segment(pl.DataFrame({'order_id': [str(i) for i in range(n)], "
        "'order_date': [dt.date(2024, 1, 1 + i) for i in range(n)], 'customer_id': ['A', 'B'] * 3, "
        "'quantity': [1.0] * n, 'amount': [2.0] * n, 'city': ['Lyon'] * n}).lazy()); "
        "assert out.segments.height == 2; "
        "print(','.join(m for m in ('numpy', 'segchain.orders', 'segchain.tableio', "
        "'segchain.config') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
