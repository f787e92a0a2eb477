"""A segment without a delivery promise beside promised ones: its delivery_promise_* columns are
its own transport with the promises less without them (the sites the others' promises open or
keep serve its customers too), and none of the extra fixed cost (none of its demand is late
without promises). Known answer by hand."""

from __future__ import annotations

import pytest

from segchain.costs.promise import delivery_promise


def test_an_unpromised_segment_bears_its_transport_change_and_no_fixed_cost() -> None:
    promise = [
        # Gold, promised 2 days: 50 with the promises, 40 without, half its 10 late without.
        {
            "segment": "Gold",
            "sla_days": 2.0,
            "demand": 10.0,
            "transport_cost": 50.0,
            "baseline_transport_cost": 40.0,
            "baseline_within_promise": 0.5,
        },
        # Bronze, no promise: served from the site Gold's promise opened, 30 against 36.
        {
            "segment": "Bronze",
            "sla_days": None,
            "demand": 20.0,
            "transport_cost": 30.0,
            "baseline_transport_cost": 36.0,
            "baseline_within_promise": None,
        },
    ]
    # Fixed cost 200 with the promises, 226 - 76 = 150 without: 50 more, all Gold's (5 late).
    totals = {"fixed_cost": 200.0, "baseline_total_cost": 226.0}
    table, _ = delivery_promise(promise, totals)
    assert table is not None
    rows = {r["segment"]: r for r in table.to_dicts()}
    assert rows["Gold"]["delivery_promise_transport"] == pytest.approx(10.0)
    assert rows["Gold"]["delivery_promise_fixed"] == pytest.approx(50.0)
    assert rows["Bronze"]["delivery_promise_transport"] == pytest.approx(-6.0)
    assert rows["Bronze"]["delivery_promise_fixed"] == pytest.approx(0.0)
    assert rows["Bronze"]["delivery_promise_cost"] == pytest.approx(-6.0)
