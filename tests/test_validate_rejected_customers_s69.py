"""`validate` counts the customers whose every line was rejected, as segment does (session 69).

validate writes the clean lines segment reads: a customer whose every line validate rejected
vanished from that Parquet without a word, and segment, reading it, cannot know. The export is
hand-made (tests/rejected_export.py, shared with segment's tests), so the customers lost are
known by construction; its comments say which and why.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from segchain.cli import common as c
from segchain.tableio import read_metadata
from tests import rejected_export
from tests.rejected_export import CUSTOMERS, HEADER, LINES, LOST, export_text

NO_REJECTS = ""  # the line ends at its examples (session 70: one hint)


def write_export(tmp_path: Path, *extra: str) -> None:
    (tmp_path / "orders.csv").write_text(export_text(*extra))


def lost_line(lost: list[str], where: str) -> str:
    """segment's words, but for what the customers are in none of."""
    return rejected_export.lost_line(lost, where, "validate")


@pytest.mark.parametrize("returns", ["drop", "net"])
def test_validate_counts_the_customers_whose_every_line_was_rejected(
    cli, tmp_path: Path, returns: str
) -> None:
    write_export(tmp_path)
    result = cli(
        "validate", "orders.csv", "--returns", returns, "--rejects", "rej.csv", "-o", "o.parquet"
    )
    assert result.exit_code == 0, result.stderr
    lost = LOST[returns]
    assert lost_line(lost, "their lines are in rej.csv") in result.stderr
    # Every customer of the export is in the output or counted as lost, never both.
    kept = set(pl.read_parquet(tmp_path / "o.parquet").get_column("customer_id").drop_nulls())
    assert kept == CUSTOMERS - set(lost)
    rejects = pl.read_csv(tmp_path / "rej.csv", infer_schema=False)
    assert set(lost) <= set(rejects.get_column("customer_id").drop_nulls())
    assert read_metadata(tmp_path / "o.parquet")["inputs"] == {
        "orders": len(LINES),
        "customers_rejected": len(lost),
    }


def test_without_output_or_rejects_it_is_said_all_the_same(cli, tmp_path: Path) -> None:
    write_export(tmp_path)
    result = cli("validate", "orders.csv")
    assert result.exit_code == 0, result.stderr
    assert lost_line(LOST["net"], NO_REJECTS) in result.stderr
    stdout = cli("validate", "orders.csv", "--rejects", "-")
    assert lost_line(LOST["net"], "their lines are in stdout") in stdout.stderr


def test_no_line_and_zero_recorded_when_no_customer_is_lost(cli, tmp_path: Path) -> None:
    # B's bad line is rejected but B keeps its good one; the customerless line loses no one;
    # the header repeated mid-file is rejected, and its 'customer_id' is no customer.
    lines = [LINES[i] for i in (0, 2, 3, 9, 11)]
    (tmp_path / "orders.csv").write_text("\n".join([HEADER, *lines, HEADER]) + "\n")
    result = cli("validate", "orders.csv", "-o", "o.parquet")
    assert result.exit_code == 0, result.stderr
    assert "repeated_header 1" in result.stderr
    assert "whose every line was rejected" not in result.stderr
    assert read_metadata(tmp_path / "o.parquet")["inputs"]["customers_rejected"] == 0


def test_a_surplus_field_loses_its_customer(cli, tmp_path: Path) -> None:
    write_export(tmp_path, "1013,2024-02-08,F,S1,1,10.00,surplus")
    result = cli("validate", "orders.csv", "-o", "o.parquet")
    assert result.exit_code == 0, result.stderr
    assert "extra_fields 1" in result.stderr
    assert lost_line(["C", "E", "F"], NO_REJECTS) in result.stderr


def test_its_own_output_with_returns_drop_counts_the_return_only_customers(
    cli, tmp_path: Path
) -> None:
    # validate nets D's return and G's price correction; validating its Parquet again with
    # --returns drop rejects them (orders.from_clean): D and G are lost, C and E were already.
    write_export(tmp_path)
    assert cli("validate", "orders.csv", "-o", "clean.parquet").exit_code == 0
    again = cli("validate", "clean.parquet", "-o", "o.parquet")
    assert "whose every line was rejected" not in again.stderr  # nothing rejected: none lost
    result = cli("validate", "clean.parquet", "--returns", "drop", "-o", "o.parquet")
    assert result.exit_code == 0, result.stderr
    assert lost_line(["D", "G"], NO_REJECTS) in result.stderr
    assert read_metadata(tmp_path / "o.parquet")["inputs"]["customers_rejected"] == 2


def test_the_customers_are_counted_in_validates_one_scan(cli, tmp_path: Path, monkeypatch) -> None:
    write_export(tmp_path)
    pl.read_csv(tmp_path / "orders.csv", infer_schema=False).write_parquet(tmp_path / "o.parquet")
    loaded = c.load_orders(
        str(tmp_path / "o.parquet"),
        c.OrderOptions(returns="drop"),
        config=c.load_config(None),
        reporter=c.Reporter(quiet=True),
    )
    customers = loaded.imp.customers_of(loaded.imp.lines)
    assert customers is not None
    queries = [loaded.clean, customers, *loaded.tally()]
    assert pl.explain_all(queries).count("Parquet SCAN") == 1
    # And the command collects them together, once.
    calls: list[int] = []
    collect_all = pl.collect_all

    def counted(q, **k):
        calls.append(len(q))
        return collect_all(q, **k)

    monkeypatch.setattr(pl, "collect_all", counted)
    result = cli("validate", "o.parquet", "--returns", "drop", "-o", "x.csv")
    assert result.exit_code == 0, result.stderr
    assert calls == [len(queries)]
    assert lost_line(LOST["drop"], NO_REJECTS) in result.stderr


@pytest.mark.parametrize("returns", ["drop", "net"])
def test_online_retail_customers_lost_match_a_plain_count(cli, tmp_path, returns: str) -> None:
    """Online Retail with --returns drop: 33 of its 4,372 customers have only cancellations
    (a C invoice or a negative quantity) or negatively priced lines; netted, none. The plain
    count: the export's customer ids ('.0' dropped) less those with any other line."""
    from tests.realdata import _required, online_retail_all_rejected

    path = _required("online_retail", "online_retail.csv.gz")
    customers, expected = online_retail_all_rejected(returns)
    assert (customers, len(expected)) == (4_372, 33 if returns == "drop" else 0)

    args = ["--preset", "online-retail", "--returns", returns, "-o", "o.parquet"]
    result = cli("validate", str(path), *args)
    assert result.exit_code == 0, result.stderr
    if expected:
        assert lost_line(expected, NO_REJECTS) in result.stderr
    else:
        assert "whose every line was rejected" not in result.stderr
    written = pl.read_parquet(tmp_path / "o.parquet").get_column("customer_id").n_unique()
    assert written == 4_372 - len(expected)
    assert read_metadata(tmp_path / "o.parquet")["inputs"]["customers_rejected"] == len(expected)
