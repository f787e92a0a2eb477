"""What to do now: when the report cannot check which open sites a delivery promise needs, its
Open sites headline names the one input that is missing. It had listed every possible cause,
"promises not checked (no promise, coordinates or km_per_day)", whichever it was."""

from __future__ import annotations

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
    else:
        asg = tables["assignments"]
        tables = {**tables, "assignments": asg.with_columns(sla_days=pl.lit(None, pl.Float64))}
    assert open_sites_detail(tables, meta) == f"promises not checked: {missing}"
