"""Review of session 71's new defaults: an unfinished last period left out (session 71).

forecast leaves out the lines of an unfinished last period by default. A sku whose every line
falls in that period (a product launched that Monday) then has no series, so no forecast and
no stocking point, and stderr counted its lines among the period's without naming it: UCI
Online Retail cut at Monday 2011-12-05 lost 6 skus that way, unsaid.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

MONDAY = dt.date(2024, 1, 1)
WEEKS = 12  # whole weeks, to Sunday 2024-03-24
LAST = MONDAY + dt.timedelta(weeks=WEEKS)  # Monday 2024-03-25: day 1 of 7 of its week
CUSTOMERS = ("C0", "C1", "C2")


def _export(folder: Path, launched: tuple[str, ...]) -> None:
    """Daily lines of sku A from a Monday for WEEKS weeks and the Monday after; on that last
    Monday one line of each sku in ``launched`` too (sold on no other day)."""
    days = [MONDAY + dt.timedelta(days=d) for d in range(WEEKS * 7 + 1)]
    rows = [(f"O{i}-{c}", day, c, "A", 2.0, 5.0) for i, day in enumerate(days) for c in CUSTOMERS]
    rows += [(f"N-{sku}", LAST, "C0", sku, 5.0, 9.0) for sku in launched]
    schema = ["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"]
    pl.DataFrame(rows, schema=schema, orient="row").write_csv(folder / "orders.csv")
    pl.DataFrame({"customer_id": list(CUSTOMERS), "segment": ["S", "S", "T"]}).write_csv(
        folder / "seg.csv"
    )


def _forecast(cli, folder: Path, *extra: str):
    result = cli(
        "forecast", "seg.csv", "--orders", "orders.csv", "--models", "WindowAverage",
        "--horizon", "3", "--n-jobs", "1", "-o", "fc.parquet", *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return result, pl.read_parquet(folder / "fc.parquet")


def test_a_sku_sold_only_in_the_unfinished_week_is_named(cli, tmp_path: Path) -> None:
    _export(tmp_path, ("NEW",))
    result, fc = _forecast(cli, tmp_path, "--by", "sku")
    # Left out with the week's lines (as --as-of 2024-03-25 leaves it out): no series of it.
    assert fc.get_column("sku").unique().to_list() == ["A"]
    stderr = " ".join(result.stderr.split())
    assert (
        "that unfinished week's 4 order lines left out (1 sku sold only in it, so not "
        "forecast: 'NEW')"
    ) in stderr, result.stderr
    # The fix still said: the day after the last line counts the week, and NEW's series, whole.
    assert "give --as-of 2024-03-26 (the day after the last line)" in stderr


def test_skus_sold_only_in_the_unfinished_week_are_counted_per_segment_too(
    cli, tmp_path: Path
) -> None:
    _export(tmp_path, tuple(f"N{k}" for k in range(7)))
    result, fc = _forecast(cli, tmp_path, "--by", "segment,sku")
    assert set(fc.get_column("sku").unique().to_list()) == {"A"}
    stderr = " ".join(result.stderr.split())
    assert (
        "(7 skus sold only in it, so not forecast: 'N0', 'N1', 'N2', 'N3', 'N4' (and 2 more))"
    ) in stderr, result.stderr


def test_no_sku_named_when_every_sku_sold_before_the_unfinished_week(cli, tmp_path: Path) -> None:
    _export(tmp_path, ())
    result, _ = _forecast(cli, tmp_path, "--by", "sku")
    stderr = " ".join(result.stderr.split())
    assert "that unfinished week's 3 order lines left out, the history ends" in stderr
    assert "sold only in it" not in stderr


def test_by_segment_alone_names_no_sku(cli, tmp_path: Path) -> None:
    # Per segment no series is lost: the new sku's units are the week's, left out with it.
    _export(tmp_path, ("NEW",))
    result, _ = _forecast(cli, tmp_path, "--by", "segment")
    assert "that unfinished week's 4 order lines left out, the history" in " ".join(
        result.stderr.split()
    )


# report reads a raw export as validate does, and one that needs a mapping it has not is named
# with validate's suggestion (README, report). An export is told from another table by an order
# id and a date among its headers: since order ids are made of the customer and the day, a
# purchase log without them (Complete Journey's transactions without basket_id) is an export too,
# and it was called no segchain stage output, without the mapping validate suggests for it.
LOG = (
    "household_id,transaction_timestamp,product_id,quantity,sales_value\n"
    "H1,2017-01-01 10:00:00,P1,1,2.5\n"
    "H1,2017-01-02 10:00:00,P1,1,2.5\n"
)


def test_report_names_a_purchase_log_without_order_ids_with_validates_mapping(
    cli, tmp_path: Path
) -> None:
    (tmp_path / "log.csv").write_text(LOG)
    hint = (
        "--map order_date=transaction_timestamp --map customer_id=household_id --map "
        "sku=product_id --map amount=sales_value; order_id needs no header once customer_id and "
        "order_date are mapped"
    )
    validated = cli("validate", "log.csv", "-o", "orders.csv")
    assert validated.exit_code == 1
    assert hint in " ".join(validated.stderr.split())
    result = cli("report", "log.csv", "-o", "report.md")
    assert result.exit_code == 1
    stderr = " ".join(result.stderr.split())
    assert "log.csv: an order export whose columns need a mapping to be read" in stderr, stderr
    assert hint in stderr
    assert "not a segchain stage output" not in stderr
    assert not (tmp_path / "report.md").exists()


def test_report_reads_the_purchase_log_once_mapped(cli, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "log.csv").write_text(LOG)
    monkeypatch.setenv(
        "SEGCHAIN_MAP",
        "order_date=transaction_timestamp,customer_id=household_id,sku=product_id,"
        "amount=sales_value",
    )
    result = cli("report", "log.csv", "-o", "report.md")
    assert result.exit_code == 0, result.stderr
    assert "log.csv: raw order lines, read as validate would: read 2 = used 2" in " ".join(
        result.stderr.split()
    )
    assert "**Order lines: 2** (2017-01-01 to 2017-01-02)" in (tmp_path / "report.md").read_text()


def test_a_table_with_a_date_alone_is_still_no_export(cli, tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("day,value\n2024-01-01,3\n")
    result = cli("report", "t.csv", "-o", "report.md")
    assert result.exit_code == 1
    assert "t.csv: not a segchain stage output" in " ".join(result.stderr.split())
