"""`segment` counts the customers whose every line was rejected (session 69).

A customer whose lines were all rejected (a bad date, a bad quantity, a return under `--returns
drop`, ...) left the segments without a word: the reconciliation counted the lines, nothing
counted the customers (Online Retail with `--returns drop`: 4,372 customers in the export, 4,339
in the output). The exports here are hand-made, so the customers left out are known by
construction; each test says which and why.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from segchain import segment as sg
from segchain.cli import common as c
from segchain.tableio import read_metadata
from tests import rejected_export
from tests.rejected_export import CUSTOMERS, HEADER, LINES, LOST, export_text, write_parquet


def lost_line(lost: list[str], where: str) -> str:
    return rejected_export.lost_line(lost, where, "segment")


def customers_of(path: Path) -> set[str]:
    return set(pl.read_parquet(path).get_column("customer_id").to_list())


@pytest.mark.parametrize("returns", ["drop", "net"])
@pytest.mark.parametrize("source", ["csv", "parquet", "stdin"])
def test_segment_counts_the_customers_whose_every_line_was_rejected(
    cli, tmp_path: Path, source: str, returns: str
) -> None:
    text = export_text()
    if source == "csv":
        (tmp_path / "orders.csv").write_text(text)
        args, given = ["orders.csv"], None
    elif source == "parquet":
        write_parquet(tmp_path / "orders.parquet")
        args, given = ["orders.parquet"], None
    else:
        args, given = ["-"], text
    result = cli(
        "segment",
        *args,
        "--returns",
        returns,
        "--rejects",
        "rejects.csv",
        "--profile",
        "profile.parquet",
        "-o",
        "segments.parquet",
        input=given,
    )
    assert result.exit_code == 0, result.stderr
    lost = LOST[returns]
    assert lost_line(lost, "their lines are in rejects.csv") in result.stderr
    # Every customer of the export is either in a segment or counted as lost, never both.
    kept = customers_of(tmp_path / "segments.parquet")
    assert kept == CUSTOMERS - set(lost)
    # The rejects file holds the lost customers' lines, every one of them.
    rejects = pl.read_csv(tmp_path / "rejects.csv", infer_schema=False)
    assert set(lost) <= set(rejects.get_column("customer_id").drop_nulls().to_list())
    for name in ("segments.parquet", "profile.parquet"):
        inputs = read_metadata(tmp_path / name)["inputs"]
        assert inputs["customers_rejected"] == len(lost), name
        assert inputs["customers"] == len(kept)


def test_without_rejects_the_line_says_how_to_see_them(cli, tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(export_text())
    result = cli("segment", "orders.csv", "-o", "s.csv")
    assert result.exit_code == 0, result.stderr
    assert lost_line(LOST["net"], "") in result.stderr


def test_no_line_and_zero_recorded_when_no_customer_is_lost(cli, tmp_path: Path) -> None:
    # B's bad line is rejected but B keeps its good one; the customerless line loses no one.
    lines = [LINES[i] for i in (0, 2, 3, 9, 11)]
    (tmp_path / "orders.csv").write_text("\n".join([HEADER, *lines]) + "\n")
    result = cli("segment", "orders.csv", "-o", "s.parquet")
    assert result.exit_code == 0, result.stderr
    assert "whose every line was rejected" not in result.stderr
    assert read_metadata(tmp_path / "s.parquet")["inputs"] == {
        "orders": 5,
        "customers": 3,
        "customers_rejected": 0,
    }


def test_a_surplus_field_loses_its_customer_and_a_repeated_header_is_none(
    cli, tmp_path: Path
) -> None:
    # F's one line has a field more than the header (extra_fields): F is lost. The header
    # repeated mid-file (repeated_header) is rejected too, but its 'customer_id' is no customer.
    surplus = "1013,2024-02-08,F,S1,1,10.00,surplus"
    (tmp_path / "orders.csv").write_text(export_text(surplus, HEADER))
    result = cli("segment", "orders.csv", "--returns", "drop", "-o", "s.parquet")
    assert result.exit_code == 0, result.stderr
    assert "repeated_header 1" in result.stderr and "extra_fields 1" in result.stderr
    lost = ["C", "D", "E", "F", "G"]
    assert lost_line(lost, "") in result.stderr
    assert read_metadata(tmp_path / "s.parquet")["inputs"]["customers_rejected"] == 5


def test_a_customer_used_only_after_as_of_is_warned_of_not_counted_as_rejected(
    cli, tmp_path: Path
) -> None:
    # H: a used line after --as-of and a rejected one before it: not yet a customer then
    # (warned of, as before), not a customer whose every line was rejected. L: a rejected line
    # after --as-of and nothing else: every line rejected.
    extra = ("1014,2024-03-01,H,S1,1,10.00", "1015,bad,H,S1,1,10.00", "1016,2024-03-02,L,S1,x,1")
    (tmp_path / "orders.csv").write_text(export_text(*extra))
    result = cli("segment", "orders.csv", "--as-of", "2024-02-15", "-o", "s.parquet")
    assert result.exit_code == 0, result.stderr
    assert "1 customer whose every order line is on or after --as-of 2024-02-15" in result.stderr
    assert lost_line(["C", "E", "L"], "") in result.stderr
    assert customers_of(tmp_path / "s.parquet") == CUSTOMERS - {"C", "E"}


def load(path: Path, returns: str | None = None) -> c.LoadedOrders:
    return c.load_orders(
        str(path),
        c.OrderOptions(returns=returns),
        config=c.load_config(None),
        reporter=c.Reporter(quiet=True),
    )


@pytest.mark.parametrize("as_exported", [True, False], ids=["as-exported", "exact-lines"])
def test_the_stage_gives_the_lost_customers_from_either_pass(tmp_path: Path, as_exported) -> None:
    loaded = load(write_parquet(tmp_path / "orders.parquet"), returns="drop")
    result = sg.segment(
        loaded.imp.lines,
        tally=loaded.tally,
        on_tally=lambda _: None,
        as_exported=loaded.imp.as_exported if as_exported else None,
    )
    assert result.all_rejected == LOST["drop"]


def test_a_padded_id_takes_the_second_pass_and_still_counts_them(tmp_path, monkeypatch) -> None:
    # ' K ' as exported differs from the import's 'K': the pass runs again over the exact
    # lines, whose count is the one given.
    path = tmp_path / "orders.csv"
    path.write_text(export_text().replace(",K,", ", K ,"))
    passes: list[int] = []
    one_pass = sg._one_pass
    monkeypatch.setattr(sg, "_one_pass", lambda *a, **k: passes.append(1) or one_pass(*a, **k))
    loaded = load(path, returns="drop")
    result = sg.segment(loaded.imp.lines, as_exported=loaded.imp.as_exported)
    assert len(passes) == 2
    assert result.all_rejected == LOST["drop"]
    assert "K" in result.segments.get_column("customer_id").to_list()


def test_validated_parquet_with_returns_drop_counts_its_return_only_customers(
    cli, tmp_path: Path
) -> None:
    # validate nets D's return and G's price correction; segment --returns drop rejects them
    # there (orders.from_clean): D and G are lost, C and E were rejected by validate already.
    (tmp_path / "orders.csv").write_text(export_text())
    assert cli("validate", "orders.csv", "-o", "clean.parquet").exit_code == 0
    result = cli("segment", "clean.parquet", "--returns", "drop", "-o", "s.parquet")
    assert result.exit_code == 0, result.stderr
    assert lost_line(["D", "G"], "") in result.stderr
    assert read_metadata(tmp_path / "s.parquet")["inputs"]["customers_rejected"] == 2


def test_the_lost_customers_are_found_in_the_one_scan(tmp_path: Path) -> None:
    # The exact lines (no as_exported check): the query of the lines left out shares the scan
    # of the features and the reconciliation.
    loaded = load(write_parquet(tmp_path / "orders.parquet"), returns="drop")
    lf, names = sg._canonical(loaded.imp.lines)
    queries, _ = sg.segment_queries(lf, names, method="rfm", as_of=dt.date(2024, 2, 15))
    left_out = sg.outside_window_customers(lf, names, as_of=dt.date(2024, 2, 15))
    plan = pl.explain_all([*queries, *loaded.tally(lf), left_out], optimizations=sg.ONE_PASS)
    assert plan.count("Parquet SCAN") == 1, plan
    assert left_out.collect_schema().names() == ["customer_id", "reason"]


@pytest.mark.parametrize("returns", ["drop", "net"])
def test_online_retail_customers_lost_to_rejects_match_a_plain_count(returns: str) -> None:
    """Online Retail with --returns drop: 4,372 customers in the export, 4,339 segmented, so 33
    whose every line was a cancellation; by default the returns are netted and none is lost.
    The plain count: the export's customer ids (float-formatted, '.0' dropped) less those with
    a line that is neither a cancellation (C invoice or negative quantity) nor negatively priced
    (the import's `return` and `negative_price` under --returns drop)."""
    from tests.realdata import _required, online_retail_all_rejected

    path = _required("online_retail", "online_retail.csv.gz")
    customers, expected = online_retail_all_rejected(returns)
    assert (customers, len(expected)) == (4_372, 33 if returns == "drop" else 0)

    loaded = c.load_orders(
        str(path),
        c.OrderOptions(preset="online-retail", returns=returns),
        config=c.load_config(None),
        reporter=c.Reporter(quiet=True),
    )
    result = sg.segment(loaded.imp.lines, as_exported=loaded.imp.as_exported)
    assert result.all_rejected == expected
    assert result.segments.height == 4_372 - len(expected)
