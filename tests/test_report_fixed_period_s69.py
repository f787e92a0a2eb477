"""Session 69: the report reads a year's fixed cost over the costs' days, as costs does.

`network --fixed-cost-period year` writes each site's `annual_fixed_cost` beside its
`fixed_cost`, the year's cost taken over the span of the orders behind network's demand; costs
takes `annual_fixed_cost` x its own period_days / 365.25. The report compared costs' warehouse
fixed with the open sites' `fixed_cost`: costs over another span (its own orders, another
--as-of) were called 'made from sites other than the ones given', and costs that took a span's
`fixed_cost` whole over a year of orders were said nothing of. On the demo (network over 1,091
days, costs over 2025's 362): 515,165 in the costs against 1,552,610 in the open sites.
"""

from __future__ import annotations

import polars as pl

from segchain.report.consistency import mismatches

# Two open sites of 36,525 and 73,050 a year: 100 and 200 a day. network took them over 730
# days (73,000 and 146,000); a closed one of 10,000 a year counts in neither.
SITES = pl.DataFrame(
    {"site_id": ["S1", "S2", "S3"], "open": [True, True, False],
     "fixed_cost": [73_000.0, 146_000.0, 19_986.31], "annual_fixed_cost": [36_525.0, 73_050.0, 1e4],
     "demand_served": [10.0, 5.0, 0.0]}
)  # fmt: skip
LANES = pl.DataFrame(
    {"customer_id": ["C1", "C2"], "site_id": ["S1", "S2"], "share": [1.0, 1.0],
     "demand": [10.0, 5.0], "transport_cost": [7.0, 3.0]}
)  # fmt: skip
# costs over 365 days of orders: (100 + 200) x 365 = 109,500 of warehouse fixed, as its own
# reconciliation records it (annual_fixed_cost x 365 / 365.25 summed over the open sites).
BY_HAND = 300.0 * 365
COSTS = pl.DataFrame(
    {"segment": ["Gold", "Tin"], "customers": [1, 1], "revenue": [900.0, 200.0],
     "transport": [7.0, 3.0], "warehouse_fixed": [60_000.0, BY_HAND - 60_000.0],
     "period_days": [365, 365]}
)  # fmt: skip
TABLES = {"assignments": LANES, "sites": SITES}


def _meta(fixed: float) -> dict:
    checks = [
        {"name": "transport", "source_total": 10.0},
        {"name": "warehouse fixed", "source_total": fixed},
    ]
    return {"costs": {"reconciliation": checks}}


def test_costs_over_another_span_than_networks_are_of_the_same_sites() -> None:
    assert abs(BY_HAND - (36_525.0 + 73_050.0) * 365 / 365.25) < 1e-9
    # Its Parquet metadata's reconciliation, and its CSV's column summed: one run, nothing said.
    assert mismatches({**TABLES, "costs": COSTS}, _meta(BY_HAND)) == []
    assert mismatches({**TABLES, "costs": COSTS}) == []


def test_costs_that_took_a_spans_fixed_cost_whole_are_named() -> None:
    # Sites without their year (network's fixed_cost of 730 days, 219,000) set against 365 days.
    whole = 73_000.0 + 146_000.0
    expected = [
        "the costs were made from sites other than the ones given (warehouse fixed: 219,000 {}, "
        "109,500 in the open sites): tables of different runs? Rerun costs with these sites "
        "(--sites)"
    ]
    recorded = mismatches({**TABLES, "costs": COSTS}, _meta(whole))
    assert recorded == [expected[0].format("in the costs' reconciliation")]
    summed = COSTS.with_columns(warehouse_fixed=pl.Series([100_000.0, whole - 100_000.0]))
    assert mismatches({**TABLES, "costs": summed}) == [expected[0].format("summed in the costs")]


def test_sites_of_another_year_cost_are_named_at_the_costs_days() -> None:
    # S2 at 146,100 a year in the costs' sites: (100 + 400) x 365 = 182,500 against 109,500.
    other = 500.0 * 365
    assert mismatches({**TABLES, "costs": COSTS}, _meta(other)) == [
        "the costs were made from sites other than the ones given (warehouse fixed: 182,500 in "
        "the costs' reconciliation, 109,500 in the open sites): tables of different runs? "
        "Rerun costs with these sites (--sites)"
    ]


def test_a_year_under_another_header_or_no_costs_days_reads_as_before() -> None:
    # A header that says a year is read as costs reads it.
    renamed = SITES.rename({"annual_fixed_cost": "fixed_cost_per_year"})
    assert mismatches({"assignments": LANES, "sites": renamed, "costs": COSTS}) == []
    # A costs table without its period_days: the sites' fixed_cost, as before (219,000).
    undated = COSTS.drop("period_days")
    assert mismatches({**TABLES, "costs": undated}, _meta(219_000.0)) == []
    # Sites without a year's column: their fixed_cost, as costs takes it.
    plain = SITES.drop("annual_fixed_cost")
    assert mismatches({"assignments": LANES, "sites": plain, "costs": COSTS}, _meta(219_000)) == []
