"""forecast, stock, costs and report count the customers whose every line of a raw export was
rejected, as segment and validate do; and each rejected-lines hint is said once and names an
option the command has (session 70).

Session 69 taught segment and validate to say such customers (they vanish from every later
table); the other stages read `--orders` (report, its inputs) through the same import and lost
them unsaid. Without --rejects, the customers' line said 'see their lines with --rejects FILE'
under the reconciliation's own '(write the rejected lines out with --rejects FILE)', and
forecast, stock and costs, which have no --rejects, gave that hint too. The export below is
made here, so the customers lost are known by construction: C's lines have no date, E's
quantity is no number, D's only line is a return (rejected by --returns drop, netted by
default); A, B and K buy every week.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from segchain.tableio import read_metadata

HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price"
WEEKS = 30
START = dt.date(2024, 1, 1)
LOST_LINES = [
    "9001,not a date,C,S1,1,10.00",  # bad_date
    "9002,someday,C,S2,2,10.00",  # bad_date: C's every line
    "C9003,2024-03-04,D,S1,-1,10.00",  # a return: D's only line
    "9004,2024-03-05,E,S1,lots,10.00",  # bad_quantity: E's only line
]
LOST = {"drop": ["C", "D", "E"], "net": ["C", "E"]}
SEGMENTS = "customer_id,segment\nA,Gold\nB,Silver\nK,Silver\n"


def write_inputs(tmp_path: Path) -> int:
    """orders.csv (the raw export) and seg.csv (a segments table of the user's own); returns
    the export's line count."""
    lines = [HEADER]
    n = 0
    for week in range(WEEKS):
        day = START + dt.timedelta(weeks=week)
        for customer, base in (("A", 3), ("B", 2), ("K", 1)):
            for sku in ("S1", "S2"):
                n += 1
                lines.append(f"{n},{day},{customer},{sku},{base + (week + n) % 3},10.00")
    lines += LOST_LINES
    (tmp_path / "orders.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    return len(lines) - 1


def lost_line(command: str, fate: str, lost: list[str], where: str = "") -> str:
    """The stderr line counting ``lost``, written out here (segment's words, with the stage's
    ``fate`` for them: plural, as every case below loses two or three)."""
    shown = ", ".join(repr(x) for x in lost)
    said = f"{len(lost)} customers whose every line was rejected {fate}: {shown}{where}"
    return f"segchain {command}:   {said}\n"


def write_forecast(tmp_path: Path) -> None:
    """A forecast table of the user's own (sku, ds, forecast, error_sd) for stock."""
    first = START + dt.timedelta(weeks=WEEKS)
    rows = [
        f"{sku},{first + dt.timedelta(weeks=w)},5.0,1.0" for sku in ("S1", "S2") for w in range(4)
    ]
    (tmp_path / "fc.csv").write_text("sku,ds,forecast,error_sd\n" + "\n".join(rows) + "\n")


FORECAST = ["--horizon", "2", "--models", "Naive"]


@pytest.mark.parametrize("returns", ["drop", "net"])
def test_forecast_by_segment_says_and_records_the_lost_customers(
    cli, tmp_path: Path, returns: str
) -> None:
    read = write_inputs(tmp_path)
    args = ["--orders", "orders.csv", "--returns", returns, "-o", "fc.parquet"]
    result = cli("forecast", "seg.csv", *args, *FORECAST)
    assert result.exit_code == 0, result.stderr
    assert lost_line("forecast", "have no demand in any series", LOST[returns]) in result.stderr
    inputs = read_metadata(tmp_path / "fc.parquet")["inputs"]
    assert inputs == {"orders": read, "segments": 3, "customers_rejected": len(LOST[returns])}


def test_forecast_by_sku_leaves_the_customers_to_the_reconciliation(cli, tmp_path: Path) -> None:
    # Per sku a lost customer changes the series by its lines alone, which the reconciliation
    # counts: no line about customers, no count recorded.
    write_inputs(tmp_path)
    args = ["--orders", "orders.csv", "--returns", "drop", "--by", "sku", "-o", "fc.parquet"]
    result = cli("forecast", "seg.csv", *args, *FORECAST)
    assert result.exit_code == 0, result.stderr
    assert "rejected 4 (bad_date 2, bad_quantity 1, return 1)" in result.stderr
    assert "whose every line was rejected" not in result.stderr
    assert "customers_rejected" not in read_metadata(tmp_path / "fc.parquet")["inputs"]


def test_stock_with_segments_says_and_records_the_lost_customers(cli, tmp_path: Path) -> None:
    write_inputs(tmp_path)
    write_forecast(tmp_path)
    args = ["--orders", "orders.csv", "--returns", "drop", "-o", "pol.parquet"]
    result = cli("stock", "fc.csv", *args, "--segments", "seg.csv")
    assert result.exit_code == 0, result.stderr
    assert lost_line("stock", "have no demand in the history", LOST["drop"]) in result.stderr
    assert read_metadata(tmp_path / "pol.parquet")["inputs"]["customers_rejected"] == 3
    # Without --segments the history is per stocking point: the customers are not used.
    result = cli("stock", "fc.csv", *args)
    assert result.exit_code == 0, result.stderr
    assert "whose every line was rejected" not in result.stderr
    assert "customers_rejected" not in read_metadata(tmp_path / "pol.parquet")["inputs"]


@pytest.mark.parametrize("by", ["segment", "customer"])
def test_costs_says_and_records_the_lost_customers(cli, tmp_path: Path, by: str) -> None:
    write_inputs(tmp_path)
    # D, in SEGMENTS (made from a netted read), has a row of no revenue under --returns drop.
    (tmp_path / "seg.csv").write_text(SEGMENTS + "D,Silver\n")
    args = ["--orders", "orders.csv", "--returns", "drop", "--by", by, "-o", "costs.parquet"]
    result = cli("costs", "seg.csv", *args)
    assert result.exit_code == 0, result.stderr
    fate = "have no revenue or orders in the costs"
    assert lost_line("costs", fate, LOST["drop"]) in result.stderr
    inputs = read_metadata(tmp_path / "costs.parquet")["inputs"]
    assert inputs["customers_rejected"] == 3


def test_costs_counts_them_in_the_imports_one_pass(cli, tmp_path: Path, monkeypatch) -> None:
    from segchain.orders import OrderImport

    write_inputs(tmp_path)
    asked: list[int] = []
    customers_of = OrderImport.customers_of
    summary_of = OrderImport.summary_of

    def noted(method):
        def wrapped(self, lines):
            query = method(self, lines)
            asked.append(id(query))
            return query

        return wrapped

    monkeypatch.setattr(OrderImport, "customers_of", noted(customers_of))
    monkeypatch.setattr(OrderImport, "summary_of", noted(summary_of))
    passes: list[set[int]] = []
    collect_all = pl.collect_all

    def counted(queries, **kwargs):
        passes.append({id(q) for q in queries})
        return collect_all(queries, **kwargs)

    monkeypatch.setattr(pl, "collect_all", counted)
    result = cli("costs", "seg.csv", "--orders", "orders.csv", "-o", "costs.csv")
    assert result.exit_code == 0, result.stderr
    assert len(asked) == 2  # the customers' query and the reconciliation's
    assert [p for p in passes if set(asked) <= p], "not collected in one pass"


def test_report_says_the_lost_customers_of_a_raw_export(cli, tmp_path: Path) -> None:
    write_inputs(tmp_path)
    result = cli("report", "orders.csv", "-o", "report.html")
    assert result.exit_code == 0, result.stderr
    said = "2 customers whose every line was rejected are in no order line of the report: 'C', 'E'"
    assert f"rejected 3 (bad_date 2, bad_quantity 1); {said}\n" in result.stderr
    assert said.replace("'", "&#x27;") in (tmp_path / "report.html").read_text()


@pytest.mark.parametrize("command", ["segment", "validate"])
def test_one_hint_for_the_rejected_lines(cli, tmp_path: Path, command: str) -> None:
    # The reconciliation's hint and the customers' line both said to write the lines out.
    write_inputs(tmp_path)
    result = cli(command, "orders.csv", "--returns", "drop")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("--rejects FILE") == 1
    assert "(write the rejected lines out with --rejects FILE)" in result.stderr
    fate = {"segment": "are in no segment", "validate": "have no line kept"}[command]
    assert lost_line(command, fate, LOST["drop"]) in result.stderr
    # With --rejects, the line says where they are.
    result = cli(command, "orders.csv", "--returns", "drop", "--rejects", "rej.csv")
    assert lost_line(command, fate, LOST["drop"], "; their lines are in rej.csv") in result.stderr


@pytest.mark.parametrize("command", ["forecast", "stock", "costs"])
def test_the_hint_of_a_command_without_rejects_names_validate(
    cli, tmp_path: Path, command: str
) -> None:
    # forecast, stock and costs have no --rejects: their hint sent users to an option that
    # fails ('No such option: --rejects').
    write_inputs(tmp_path)
    write_forecast(tmp_path)
    first = {"forecast": "seg.csv", "stock": "fc.csv", "costs": "seg.csv"}[command]
    extra = FORECAST if command == "forecast" else []
    result = cli(command, first, "--orders", "orders.csv", "-o", "out.csv", *extra)
    assert result.exit_code == 0, result.stderr
    assert "(write the rejected lines out with segchain validate --rejects FILE)" in result.stderr
    assert result.stderr.count("--rejects FILE") == 1
    assert cli(command, "--rejects", "r.csv").exit_code == 2  # the option it lacks


def test_online_retail_costs_count_the_customers_a_plain_count_finds(cli, tmp_path: Path) -> None:
    """Online Retail with --returns drop: costs counts the 33 customers whose every line is a
    cancellation or a credit, the ids of a plain count over the raw CSV (tests/realdata.py)."""
    from tests.realdata import _required, online_retail_all_rejected

    path = _required("online_retail", "online_retail.csv.gz")
    customers, expected = online_retail_all_rejected("drop")
    assert (customers, len(expected)) == (4_372, 33)
    # Every customer of the export in one segment: the lost ones too (a netted run's).
    ids = pl.read_csv(path, infer_schema=False, columns=["CustomerID"]).get_column("CustomerID")
    ids = ids.str.replace(r"\.0$", "").drop_nulls().unique().sort()
    pl.DataFrame({"customer_id": ids, "segment": "All"}).write_csv(tmp_path / "seg.csv")
    args = ["--preset", "online-retail", "--returns", "drop", "-o", "costs.parquet"]
    result = cli("costs", "seg.csv", "--orders", str(path), *args)
    assert result.exit_code == 0, result.stderr
    shown = ", ".join(repr(x) for x in expected[:3])
    assert (
        f"33 customers whose every line was rejected have no revenue or orders in the costs: "
        f"{shown} (and 30 more)\n" in result.stderr
    )
    assert read_metadata(tmp_path / "costs.parquet")["inputs"]["customers_rejected"] == 33


@pytest.mark.parametrize("command", ["forecast", "stock", "costs", "report"])
def test_the_all_rejected_error_of_a_command_without_rejects_names_validate(
    cli, tmp_path: Path, command: str
) -> None:
    # Every line rejected: the error's hint sent users to --rejects, an option these lack.
    write_inputs(tmp_path)
    write_forecast(tmp_path)
    (tmp_path / "bad.csv").write_text(HEADER + "\n" + "\n".join(LOST_LINES[:2]) + "\n")
    args = {
        "forecast": ["seg.csv", "--orders", "bad.csv"],
        "stock": ["fc.csv", "--orders", "bad.csv"],
        "costs": ["seg.csv", "--orders", "bad.csv"],
        "report": ["bad.csv"],
    }[command]
    out = "out.html" if command == "report" else "out.csv"
    result = cli(command, *args, "-o", out)
    assert result.exit_code == 1, result.stderr
    assert "all 2 lines were rejected (bad_date 2)" in result.stderr
    assert "hint: write them out with segchain validate --rejects FILE to see why" in result.stderr
    assert not (tmp_path / out).exists()
