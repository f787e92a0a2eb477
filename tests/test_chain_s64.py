"""Audit V (session 64): the closed chain per site, network -> costs."""

from __future__ import annotations

import polars as pl

from segchain.costs import _planned_units

# ---------------------------------------------------------------------------------------------
# V1: the units a split plan is planned for


def _split_plan() -> pl.DataFrame:
    """Assignments as network writes them: the customer's whole demand on each of its lanes.
    C2 (80 units) is split 0.25 / 0.75; C3 was left out without coordinates (no site, no
    share)."""
    return pl.DataFrame(
        {
            "customer_id": ["C1", "C2", "C2", "C3"],
            "site_id": ["S1", "S1", "S2", None],
            "share": [1.0, 0.25, 0.75, None],
            "demand": [20.0, 80.0, 80.0, 10.0],
            "left_out": [None, None, None, "unlocated"],
        }
    )


def test_planned_units_of_a_split_plan_on_its_own_orders_say_nothing() -> None:
    """Network's split plan on exactly the orders' 110 units read as 190 (C2's 80 counted on
    both lanes): 'profit mixes two periods', exit 0, on a plan of the orders' own period."""
    lines = pl.DataFrame(
        {"customer_id": ["C1", "C2", "C2", "C3"], "quantity": [20.0, 50.0, 30.0, 10.0]}
    )
    assert _planned_units(_split_plan(), lines, 365) is None


def test_planned_units_of_a_split_plan_against_other_orders_are_said() -> None:
    """A real mismatch is still said, with the plan's units counted once: 20 + 80 + 10."""
    lines = pl.DataFrame({"customer_id": ["C1", "C2", "C3"], "quantity": [5.0, 30.0, 5.0]})
    assert _planned_units(_split_plan(), lines, 365) == {
        "planned": 110.0,
        "ordered": 40.0,
        "period_days": 365,
    }
