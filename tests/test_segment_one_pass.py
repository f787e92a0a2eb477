"""`segment` on a raw export reads and cleans it once (issue 13, item 9): the features, the ship-to,
the monthly values and the import's reconciliation come from one scan, and the one pass gives the
same answers as validating first and segmenting the clean table."""

from __future__ import annotations

import datetime as dt
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
def test_segment_queries_and_the_reconciliation_share_one_scan(raw_parquet, method, as_of) -> None:
    loaded = load(raw_parquet)
    lf, names = sg._canonical(loaded.imp.lines)
    queries, ship_to = sg.segment_queries(lf, names, method=method, as_of=as_of)
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
    assert "no usable order lines: all 1 lines were rejected (missing_customer 1)" in result.stderr
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
