"""What to do now: when the report cannot check which open sites a delivery promise needs, its
Open sites headline names the one input that is missing. It had listed every possible cause,
"promises not checked (no promise, coordinates or km_per_day)", whichever it was."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from test_report_actions import sites_case

from segchain.report import build_report


def open_sites_detail(tables: dict, meta: dict | None) -> str:
    report = build_report(tables, metadata=meta)
    actions = next(s for s in report.sections if s.key == "actions")
    head = next(h for h in actions.headlines if h.label == "Open sites")
    assert head.value == "2"  # A and B open, as sites_case has them
    return head.detail


def test_sites_with_everything_are_checked() -> None:
    tables, meta = sites_case()
    assert open_sites_detail(tables, meta) == "1 needed by a delivery promise"


def drop(tables: dict, table: str, *columns: str) -> dict:
    return {**tables, table: tables[table].drop(*columns)}


@pytest.mark.parametrize(
    ("case", "missing"),
    [
        ("no km_per_day", "network's km_per_day is unknown (its metadata does not give it)"),
        (
            "no sla_days",
            "no delivery promise: the assignments have no sla_days (give network promises)",
        ),
        ("no site coordinates", "the sites table has no coordinates (lat, lon)"),
        (
            "no customer coordinates",
            "the customers have no coordinates (give segment --geo, or the segments table with "
            "lat and lon)",
        ),
        ("no segment", "the assignments have no segment"),
        ("no promise where located", "no customer has both a promise (sla_days) and coordinates"),
        ("no promise set", "no delivery promise set (no max_delivery_days in the config)"),
    ],
)
def test_sites_not_checked_say_which_input_is_missing(case: str, missing: str) -> None:
    tables, meta = sites_case()
    if case == "no km_per_day":
        meta = None
    elif case == "no sla_days":
        tables = drop(tables, "assignments", "sla_days", "sla_met")
    elif case == "no site coordinates":
        tables = drop(tables, "sites", "lat", "lon")
    elif case == "no customer coordinates":
        tables = drop(tables, "assignments", "lat", "lon")
    elif case == "no segment":
        tables = drop(tables, "assignments", "segment")
    elif case == "no promise set":
        # Network without a max_delivery_days: every sla_days empty, every customer located
        # (Online Retail as the README runs it had been told its customers lacked coordinates).
        asg = tables["assignments"]
        tables = {**tables, "assignments": asg.with_columns(sla_days=pl.lit(None, pl.Float64))}
    else:
        # Promised customers exist, but none of them is located.
        asg = tables["assignments"]
        located = pl.col("customer_id") == "c2"
        tables = {
            **tables,
            "assignments": asg.with_columns(
                lat=pl.when(located).then(pl.col("lat")),
                lon=pl.when(located).then(pl.col("lon")),
                sla_days=pl.when(located).then(None).otherwise(pl.col("sla_days")),
            ),
        }
    assert open_sites_detail(tables, meta) == f"promises not checked: {missing}"


# ---- report out/*.csv with another stage's inputs beside the outputs

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def test_report_skips_an_item_master_on_hand_and_candidate_sites_beside_the_outputs(
    cli, tmp_path: Path
) -> None:
    # An item master kept in the outputs' folder stopped the report (exit 1, 'not a segchain
    # stage output'), though the report reads no item master: as validate's --rejects file, it
    # is now skipped and said. The sample's own inputs, beside a segments table.
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        + "".join(f"{i},2024-03-{1 + i % 28:02d},C{i % 5},S{i % 3},1,10\n" for i in range(40))
    )
    seg = cli("segment", str(orders), "-o", str(tmp_path / "segments.csv"))
    assert seg.exit_code == 0, seg.stderr
    inputs = {"items.csv": "an item master (stock's and costs' --items)"}
    inputs["on_hand.csv"] = "stock on hand (stock's --on-hand)"
    inputs["sites.csv"] = "candidate sites (network's --sites)"
    for name in inputs:
        (tmp_path / name).write_bytes((SAMPLE / name).read_bytes())
    out = tmp_path / "r.md"
    given = [str(tmp_path / n) for n in ("segments.csv", *inputs)]
    result = cli("report", *given, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    for name, what in inputs.items():
        assert f"{tmp_path / name}: " in result.stderr
        assert f"{what}, an input the report does not read: skipped" in result.stderr
    assert out.read_text().strip()


def test_a_table_of_no_kind_is_still_refused(cli, tmp_path: Path) -> None:
    (tmp_path / "odd.csv").write_text("sku,colour\nA,red\n")
    result = cli("report", str(tmp_path / "odd.csv"), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 1
    assert "not a segchain stage output" in result.stderr
    assert not (tmp_path / "r.md").exists()
