"""The forecast chart of a forecast routed by network's assignments (``forecast --assignments``):
each panel is one site's series, so its history is that site's routed demand, not the demand of
the segment x sku at every site, nor of the site a line shipped from in the past."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from segchain.report import build_report
from segchain.report.model import Chart

MONDAY = date(2024, 1, 1)
# Forecast written with --assignments: --by stays segment,sku, the series gain the site.
ROUTED = {"forecast": {"params": {"by": "segment,sku"}, "inputs": {"assignments": 3}}}


def orders() -> pl.DataFrame:
    """Champions c1 and c2 buy sku A every week; c1's lines shipped from DC-B in the past."""
    rows = [
        ("c1", 0, 3.0),
        ("c1", 1, 4.0),
        ("c2", 0, 10.0),
        ("c2", 1, 20.0),
        ("c3", 0, 8.0),
        ("c3", 1, 8.0),
    ]
    return pl.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "order_date": [MONDAY + timedelta(weeks=w) for _, w, _ in rows],
            "customer_id": [c for c, _, _ in rows],
            "sku": ["A"] * len(rows),
            "quantity": [q for _, _, q in rows],
            "site": ["DC-B"] * len(rows),
        }
    )


def segments() -> pl.DataFrame:
    return pl.DataFrame(
        {"customer_id": ["c1", "c2", "c3"], "segment": ["Champions", "Champions", "Champions"]}
    )


def assignments() -> pl.DataFrame:
    """c1 served from DC-A, c2 from DC-B, c3 split half and half."""
    return pl.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c3"],
            "segment": ["Champions"] * 4,
            "site_id": ["DC-A", "DC-B", "DC-A", "DC-B"],
            "share": [1.0, 1.0, 0.5, 0.5],
        }
    )


def forecast() -> pl.DataFrame:
    rows = [
        (site, 2 + i, level) for site, level in (("DC-A", 11.0), ("DC-B", 19.0)) for i in (0, 1)
    ]
    return pl.DataFrame(
        {
            "unique_id": [f"{site}/Champions/A" for site, _, _ in rows],
            "ds": [MONDAY + timedelta(weeks=w) for _, w, _ in rows],
            "forecast": [level for _, _, level in rows],
            "site": [site for site, _, _ in rows],
            "segment": ["Champions"] * len(rows),
            "sku": ["A"] * len(rows),
        }
    )


def fan(tables, metadata=ROUTED) -> Chart:
    report = build_report(tables, metadata=metadata)
    return next(
        b for s in report.sections for b in s.blocks if isinstance(b, Chart) and b.key == "forecast"
    )


def drawn_history(chart: Chart) -> dict[str, list[float]]:
    return {p.uid: p.history[1] for p in chart.plot.keywords["panels"] if p.history is not None}


def test_each_sites_panel_draws_the_demand_routed_to_that_site():
    tables = {
        "forecast": forecast(),
        "orders": orders(),
        "segments": segments(),
        "assignments": assignments(),
    }
    got = drawn_history(fan(tables))
    # By hand: DC-A serves c1 (3, 4) and half of c3 (4, 4); DC-B c2 (10, 20) and c3's other
    # half. The old code drew 21 and 32, the three customers at both sites, on both panels.
    assert got == {"DC-A/Champions/A": [7.0, 8.0], "DC-B/Champions/A": [14.0, 24.0]}


def test_series_headline_names_the_site_the_routed_series_are_keyed_by():
    tables = {"forecast": forecast(), "orders": orders(), "segments": segments()}
    report = build_report(tables, metadata=ROUTED)
    section = next(s for s in report.sections if s.key == "forecast")
    head = next(h for h in section.headlines if h.label == "Series")
    # The old code said "by segment × sku" of series that are per site.
    assert head.detail == "by site × segment × sku"


def test_without_the_assignments_a_routed_forecast_draws_no_history_and_says_what_to_give():
    # The orders' own site (where a line shipped from) is not where the network routes demand:
    # every line here shipped from DC-B, yet DC-B serves c2 and half of c3 only.
    tables = {"forecast": forecast(), "orders": orders(), "segments": segments()}
    chart = fan(tables)
    assert drawn_history(chart) == {}
    assert "Give the orders, segments and assignments to plot the history." in chart.caption


def test_a_forecast_by_the_orders_own_site_draws_that_sites_lines():
    # forecast --by site,segment,sku without assignments: the series are per the lines' site.
    mixed = orders().with_columns(
        site=pl.when(pl.col("customer_id") == "c1").then(pl.lit("DC-A")).otherwise(pl.lit("DC-B"))
    )
    metadata = {"forecast": {"params": {"by": "site,segment,sku"}, "inputs": {"orders": 6}}}
    tables = {"forecast": forecast(), "orders": mixed, "segments": segments()}
    got = drawn_history(fan(tables, metadata))
    assert got == {"DC-A/Champions/A": [3.0, 4.0], "DC-B/Champions/A": [18.0, 28.0]}
