"""report: what the delivery promises cost is unknown when network's comparison plan without
promises was not finished within its --time-limit (its totals' baseline_status 'unfinished').

The report said nothing where it would have shown what the promises cost (the network section's
sentence, the costs section's table): the reader could not tell an unknown cost from a plan
without one. Known answers: the totals given here; costs' own record of the case from
costs.promise.delivery_promise.
"""

from __future__ import annotations

from html import escape

import polars as pl
from test_report import assignments_frame, sites_frame
from test_report_unknown_tables import on_both_pages

from segchain.report import build_report, to_html
from segchain.report.model import Note, TableBlock


def test_network_says_what_the_promises_cost_is_unknown_when_its_comparison_was_unfinished():
    totals = {"fixed_cost": 1500.0, "transport_cost": 200.0, "baseline_total_cost": None}
    sentence = (
        "What keeping the delivery promises costs is not known: network's comparison plan "
        "without promises was not finished within its --time-limit (60 s) per solve, so there is "
        "no cheapest network without promises to set this plan against. Rerun network with a "
        "larger --time-limit to know it."
    )
    tables = {"assignments": assignments_frame(), "sites": sites_frame()}
    unfinished = {
        "params": {"time_limit": 60.0},
        "totals": totals | {"baseline_status": "unfinished"},
    }
    report = build_report(tables, metadata={"assignments": unfinished})
    on_both_pages(report, sentence)
    # Finished: what the promises cost, as before (1,700 against 1,600).
    finished = totals | {"baseline_status": "optimal", "baseline_total_cost": 1600.0}
    report = build_report(tables, metadata={"assignments": {"totals": finished}})
    page = to_html(report)
    assert "not known" not in page
    assert escape("costs 100 (6.2%) more than the cheapest network without promises") in page


def _costs_table(delivery: float | None, service: float | None) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "segment": ["Champions"],
            "revenue": [1000.0],
            "gross_margin": [450.0],
            "cost_to_serve": [158.0],
            "profit": [292.0],
            "delivery_promise_cost": pl.Series([delivery], dtype=pl.Float64),
            "service_promise_cost": pl.Series([service], dtype=pl.Float64),
        }
    )


def test_costs_says_why_the_delivery_promises_cost_is_unknown():
    from segchain.costs.promise import delivery_promise

    # What costs records as its delivery_promise_* source for network's unfinished comparison.
    _, source = delivery_promise(
        [{"segment": "Champions", "transport_cost": 1.0}], {"baseline_status": "unfinished"}
    )
    costs_meta = {"costs": {"sources": {"delivery_promise_cost": source}}}
    said = "What keeping the delivery promises costs is not known: network's comparison plan"
    # No part of a promise known: the table is not drawn, the reason is said in its place.
    report = build_report({"costs": _costs_table(None, None)}, metadata=costs_meta)
    section = next(s for s in report.sections if s.key == "costs")
    notes = [b.text for b in section.blocks if isinstance(b, Note)]
    assert any(n.startswith(said) for n in notes), notes
    # The service part known: the table is drawn, its note says why delivery's is not.
    report = build_report({"costs": _costs_table(None, 9.0)}, metadata=costs_meta)
    section = next(s for s in report.sections if s.key == "costs")
    table = next(b for b in section.blocks if isinstance(b, TableBlock) and "promise" in b.title)
    assert said in table.note
    # Known from the assignments given beside the costs too, with their --time-limit.
    asg = {"params": {"time_limit": 5}, "totals": {"baseline_status": "unfinished"}}
    report = build_report({"costs": _costs_table(None, None)}, metadata={"assignments": asg})
    assert escape("not finished within its --time-limit (5 s) per solve") in to_html(report)
    # A delivery cost known: nothing said.
    report = build_report({"costs": _costs_table(45.0, 9.0)}, metadata=costs_meta)
    assert "not known" not in to_html(report)
