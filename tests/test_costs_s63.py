"""Session 63 (audit T, F1 and F2): costs refuses two damaged tables it costed without a word.

F1: a served assignments row (a site_id, no left_out reason) whose transport_cost was emptied was
summed as 0 on both sides of the transport reconciliation, which then said "reconciled": the
customer was served for free. Network writes demand and transport_cost on every served row.

F2: stock's policy (or per-segment table) saved through a spreadsheet, its skus without their
leading zeros ('00101' -> '101'): all of its inventory sat at points "no segment buys from", or,
with --stock-segments, every point took the default holding rate and each segment's stock was
split equally among its customers. --items and SEGMENTS already say why ids do not meet.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

SEGMENTS = "customer_id,segment\nC1,A\nC2,B\n"
# 31 days, 2024-01-01 to 2024-01-31 (on three weekdays: not period labels).
ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-01,C1,00101,10,5\n2,2024-01-11,C2,00101,30,5\n3,2024-01-31,C1,00202,2,7\n"
)
LANES = "customer_id,segment,site_id,share,demand,transport_cost,left_out\n"
ITEMS = "sku,unit_cost,holding_rate\n00101,2,0.2\n00202,3,0.3\n"
POLICY = "sku,inventory_value\n00101,100\n00202,60\n"


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    return str(path)


def run(cli, tmp_path: Path, *args: str, orders: str = ORDERS):  # type: ignore[no-untyped-def]
    out = tmp_path / "c.csv"
    segments = write(tmp_path, "seg.csv", SEGMENTS)
    result = cli(
        "costs", segments, "--orders", write(tmp_path, "o.csv", orders), *args, "-o", str(out)
    )
    return result, out


# F1 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "column"),
    [
        ("C1,A,S1,1,12,,\nC2,B,S1,1,30,20,\n", "transport_cost"),
        ("C1,A,S1,1,,10,\nC2,B,S1,1,30,20,\n", "demand"),
    ],
)
def test_costs_served_lane_with_a_blank_number_is_refused_naming_it(
    cli, tmp_path: Path, rows: str, column: str
) -> None:
    asg = write(tmp_path, "a.csv", LANES + rows)
    result, out = run(cli, tmp_path, "--assignments", asg, "--by", "customer")
    assert result.exit_code == 1, result.stderr
    assert f"Error: --assignments {asg}: {column} blank for customer_id@site_id 'C1@S1'" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr and not out.exists()


def test_costs_split_customer_with_one_blank_lane_is_refused(cli, tmp_path: Path) -> None:
    # C1 half from each site: the S2 lane's blank was half its transport dropped.
    rows = "C1,A,S1,0.5,6,5,\nC1,A,S2,0.5,6,,\nC2,B,S1,1,30,20,\n"
    asg = write(tmp_path, "a.csv", LANES + rows)
    result, out = run(cli, tmp_path, "--assignments", asg, "--by", "customer")
    assert result.exit_code == 1, result.stderr
    assert "transport_cost blank for customer_id@site_id 'C1@S2'" in result.stderr
    assert not out.exists()


def test_costs_unlocated_customer_with_a_blank_transport_cost_stays_missing(
    cli, tmp_path: Path
) -> None:
    # Network's own blank: a customer left out unlocated has no site, and its transport is
    # unknown (missing), not refused and not 0.
    rows = "C1,A,,,12,,unlocated\nC2,B,S1,1,30,20,\n"
    result, out = run(
        cli, tmp_path, "--assignments", write(tmp_path, "a.csv", LANES + rows), "--by", "customer"
    )
    assert result.exit_code == 0, result.stderr
    transport = dict(pl.read_csv(out).select("customer_id", "transport").iter_rows())
    assert transport == {"C1": None, "C2": 20.0}


# F2 -------------------------------------------------------------------------------------------


def test_costs_policy_without_leading_zeros_is_refused_with_the_reason(cli, tmp_path: Path) -> None:
    policy = write(tmp_path, "p.csv", "sku,inventory_value\n101,100\n202,60\n")
    result, out = run(cli, tmp_path, "--policy", policy)
    assert result.exit_code == 1, result.stderr
    assert (
        f"Error: --policy {policy}: 2 of its 2 skus are skus of --orders "
        f"{tmp_path / 'o.csv'} only once leading zeros are dropped; as written, no order line "
        "is theirs"
    ) in result.stderr
    assert "hint: the ids meet once their leading zeros are dropped ('101' / '00101')" in (
        result.stderr
    )
    assert "save its sku column as text" in result.stderr
    assert "no segment buys from" not in result.stderr and not out.exists()


def test_costs_policy_with_some_skus_without_leading_zeros_is_refused(cli, tmp_path: Path) -> None:
    # A spreadsheet strips the zeros of the skus that look like numbers only.
    orders = ORDERS.replace("00202", "P-202")
    policy = write(tmp_path, "p.csv", "sku,inventory_value\n101,100\nP-202,60\n")
    result, out = run(cli, tmp_path, "--policy", policy, orders=orders)
    assert result.exit_code == 1, result.stderr
    assert f"--policy {policy}: 1 of its 2 skus is a sku of --orders" in result.stderr
    assert not out.exists()


def test_costs_stock_segments_without_leading_zeros_is_refused_with_the_reason(
    cli, tmp_path: Path
) -> None:
    # The policy kept its zeros, the per-segment table lost them: said as such, not as a
    # table "of another stock run".
    policy = write(tmp_path, "p.csv", POLICY)
    stock_segments = write(
        tmp_path, "ss.csv", "sku,segment,inventory_value\n101,A,25\n101,B,75\n202,A,60\n"
    )
    result, out = run(
        cli, tmp_path, "--policy", policy, "--stock-segments", stock_segments, "--items",
        write(tmp_path, "i.csv", ITEMS),
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    assert f"Error: --stock-segments {stock_segments}: 2 of its 2 skus are skus of --orders" in (
        result.stderr
    )
    assert f"--policy {policy}:" not in result.stderr
    assert "another stock run" not in result.stderr and not out.exists()


def test_costs_policy_without_the_item_masters_leading_zeros_is_refused(
    cli, tmp_path: Path
) -> None:
    # Orders and policy agree ('101'); the item master kept its zeros: no holding_rate reached
    # any stocking point, each took the default 0.25 without a word.
    orders = ORDERS.replace("00101", "101").replace("00202", "202")
    policy = write(tmp_path, "p.csv", "sku,inventory_value\n101,100\n202,60\n")
    items = write(tmp_path, "i.csv", "sku,holding_rate\n00101,0.2\n00202,0.3\n")
    result, out = run(cli, tmp_path, "--policy", policy, "--items", items, orders=orders)
    assert result.exit_code == 1, result.stderr
    assert (
        f"Error: --policy {policy}: 2 of its 2 skus are skus of --items {items} only once "
        "leading zeros are dropped; as written, no item's holding_rate is theirs: they would "
        "take the default rate"
    ) in result.stderr
    assert not out.exists()


def test_costs_policy_with_its_leading_zeros_is_carried_at_the_items_rates(
    cli, tmp_path: Path
) -> None:
    # The control: the same tables as written by stock. Carrying by hand: each point's value x
    # its sku's rate x 31 days / 365.25; 00101's split by units bought (A 10, B 30), 00202 A's.
    stock_segments = write(
        tmp_path, "ss.csv", "sku,segment,inventory_value\n00101,A,25\n00101,B,75\n00202,A,60\n"
    )
    result, out = run(
        cli, tmp_path, "--policy", write(tmp_path, "p.csv", POLICY), "--stock-segments",
        stock_segments, "--items", write(tmp_path, "i.csv", ITEMS),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    carrying = dict(pl.read_csv(out).select("segment", "inventory_carrying").iter_rows())
    year = 31 / 365.25
    assert carrying["A"] == pytest.approx((25 * 0.2 + 60 * 0.3) * year)
    assert carrying["B"] == pytest.approx(75 * 0.2 * year)


def test_costs_forecast_without_leading_zeros_is_refused_with_the_reason(
    cli, tmp_path: Path
) -> None:
    # The split by forecast demand: as written, every point's demand was no segment's.
    forecast = write(
        tmp_path, "f.csv", "segment,sku,ds,forecast\nA,101,2024-02-01,10\nB,202,2024-02-01,3\n"
    )
    result, out = run(
        cli, tmp_path, "--policy", write(tmp_path, "p.csv", POLICY), "--forecast", forecast
    )
    assert result.exit_code == 1, result.stderr
    assert f"Error: --forecast {forecast}: 2 of its 2 skus are skus of --orders" in result.stderr
    assert "no segment buys from" not in result.stderr and not out.exists()
