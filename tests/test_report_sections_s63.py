"""Report sections, audit G (session 63): the held-out check and replay of a forecast routed to
the network's sites count the demand of customers with no site, and the page says it (F6); the
forecast chart's history runs to the last period the forecast read (F7); the reorder list marks
the points whose level stock warns of (F8)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from segchain.report import build_report
from segchain.report.model import Chart

MONDAY = date(2024, 1, 1)


def fan_chart(tables, metadata=None) -> Chart:
    report = build_report(tables, metadata=metadata)
    return next(
        b for s in report.sections for b in s.blocks if isinstance(b, Chart) and b.key == "forecast"
    )


# ---- F7: the history drawn to the forecast's start, its quiet weeks as 0


def lapsing_tables() -> dict[str, pl.DataFrame]:
    """Champions c1 buys sku A in weeks 0 and 1 (3 and 4 units), then nothing; the forecast
    starts in week 6."""
    orders = pl.DataFrame(
        {
            "order_id": ["o1", "o2"],
            "order_date": [MONDAY, MONDAY + timedelta(weeks=1)],
            "customer_id": ["c1", "c1"],
            "sku": ["A", "A"],
            "quantity": [3.0, 4.0],
        }
    )
    fc = pl.DataFrame(
        {
            "unique_id": ["Champions/A"] * 2,
            "ds": [MONDAY + timedelta(weeks=w) for w in (6, 7)],
            "forecast": [1.0, 1.0],
            "segment": ["Champions"] * 2,
            "sku": ["A"] * 2,
        }
    )
    segments = pl.DataFrame({"customer_id": ["c1"], "segment": ["Champions"]})
    return {"forecast": fc, "orders": orders, "segments": segments}


@pytest.mark.parametrize(
    "metadata",
    [
        None,  # no metadata: the history ends before the forecast's first period
        # --as-of the Wednesday of week 5: its series ran to the week holding the Tuesday, and
        # its forecast starts the week after (forecast/series.py)
        {"forecast": {"params": {"as_of": str(MONDAY + timedelta(weeks=5, days=2))}}},
    ],
)
def test_fan_chart_history_runs_to_the_last_week_the_forecast_read(metadata):
    (panel,) = fan_chart(lapsing_tables(), metadata).plot.keywords["panels"]
    assert panel.history is not None
    # By hand: the forecast read weeks 0..5, weeks 2..5 without a line (0 each). The old code
    # stopped at week 1, the last line's.
    assert panel.history[0] == [MONDAY + timedelta(weeks=w) for w in range(6)]
    assert panel.history[1] == [3.0, 4.0, 0.0, 0.0, 0.0, 0.0]


# ---- F8: the reorder list marks the points stock warns to check before ordering


def levels_policy(kind: str) -> pl.DataFrame:
    """Weekly (s, Q) or (R, S) points, lead time 7 days and review 7: forecast demand over the
    14 days is 2 x the weekly mean. By hand, the limit is 4 x (that + order_qty):
    A: 4 x (20 + 30) = 200, level 100, within; B: 4 x (4 + 6) = 40, level 100, over, 100 / 2 =
    50 weeks; C: forecast 0.01 a week (0.52 a year, under 1): marked apart (session 65, R4);
    D: over (level 300, limit 4 x (2 + 3) = 20) but nothing to order now."""
    levels = [100.0, 100.0, 50.0, 300.0]
    return pl.DataFrame(
        {
            "sku": ["A", "B", "C", "D"],
            "policy_type": [kind] * 4,
            "reorder_point": [lv if kind == "sQ" else lv / 2 for lv in levels],
            "order_up_to": [lv if kind == "RS" else None for lv in levels],
            "order_qty": [30.0, 6.0, 1.0, 3.0],
            "mean_demand": [10.0, 2.0, 0.01, 1.0],
            "period_days": [7.0] * 4,
            "lead_time_days": [7.0] * 4,
            "review_days": [7.0] * 4,
            "on_hand": [0.0] * 4,
            "order_now": [40.0, 30.0, 20.0, 0.0],
            "unit_cost": [1.0, 2.0, 3.0, 4.0],
            "unit_cost_source": ["items"] * 4,
            "inventory_value": [50.0, 200.0, 60.0, 1200.0],
        }
    )


def reorder_block(policy: pl.DataFrame):  # type: ignore[no-untyped-def]
    from segchain.report.model import TableBlock

    report = build_report({"policy": policy})
    section = next(s for s in report.sections if s.key == "actions")
    table = next(b for b in section.blocks if isinstance(b, TableBlock))
    head = next(h for h in section.headlines if h.label == "Order now")
    return table, head


def as_text(policy: pl.DataFrame) -> pl.DataFrame:
    """The policy as a CSV edited by hand may be read: every column text."""
    return policy.with_columns(pl.all().cast(pl.String))


@pytest.mark.parametrize("kind", ["sQ", "RS"])
@pytest.mark.parametrize("read", [lambda p: p, as_text], ids=["parquet", "text"])
def test_reorder_list_marks_the_points_whose_level_stock_warns_of(kind, read):
    table, head = reorder_block(read(levels_policy(kind)))
    marks = dict(zip(table.frame["sku"], table.frame["check"], strict=True))
    # The old code had no mark: the check column did not exist.
    assert marks == {"A": "", "B": "level = 50 weeks", "C": "forecast under 1 unit a year"}
    assert "2 to check before ordering: 1 at a level over 4 x its forecast demand" in head.detail
    level = "order-up-to" if kind == "RS" else "reorder point"
    assert f"check: 1 line whose {level} is over 4 x the forecast demand" in table.note


def test_stock_warns_of_the_points_the_reorder_list_marks():
    from segchain.cli.stock_summary import high_levels

    said = high_levels(levels_policy("sQ"))
    # B (and D, which has nothing to order now); not A, not C (under 1 unit a year).
    assert said is not None and said.startswith("2 stocking points hold a level over 4 x")
    assert "sku B (reorder point 100 = 50 weeks" in said and "sku D" in said
    assert "sku A" not in said and "sku C" not in said


def test_reorder_list_has_no_check_column_when_every_level_fits():
    # C too: a point forecast under 1 unit a year over its limit is marked (session 65, R4).
    table, head = reorder_block(levels_policy("sQ").filter(~pl.col("sku").is_in(["B", "C"])))
    assert "check" not in table.frame.columns
    assert "to check before ordering" not in head.detail


# ---- F6: customers with no serving site in a routed held-out check and replay

START = date(2024, 5, 20)  # a Monday: the forecast's first week, 20 weeks after MONDAY


def routed_chain() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Orders, segments and assignments: C0..C3 buy skus A and B every day from MONDAY to the
    4 weeks after START (C0, C1 served from S1; C2, C3 from S2); N, first seen after START, is
    in no segment and has no site: it buys A, 4 units on day 1 and 3 on day 2 after START, 5
    of B on day 10, and 100 of A on day 30 (after the 4 weeks held out)."""
    rows = []
    for d in range((START - MONDAY).days + 28):
        for c in range(4):
            sku = "A" if c % 2 else "B"
            rows.append((MONDAY + timedelta(days=d), f"C{c}", sku, 1.0 + (d + c) % 3))
    rows += [
        (START + timedelta(days=1), "N", "A", 4.0),
        (START + timedelta(days=2), "N", "A", 3.0),
        (START + timedelta(days=10), "N", "B", 5.0),
        (START + timedelta(days=30), "N", "A", 100.0),
    ]
    orders = pl.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "order_date": [r[0] for r in rows],
            "customer_id": [r[1] for r in rows],
            "sku": [r[2] for r in rows],
            "quantity": [r[3] for r in rows],
            "unit_price": [2.0] * len(rows),
        }
    )
    segments = pl.DataFrame({"customer_id": ["C0", "C1", "C2", "C3"], "segment": ["G", "S"] * 2})
    assignments = pl.DataFrame(
        {
            "customer_id": ["C0", "C1", "C2", "C3"],
            "segment": ["G", "S"] * 2,
            "site_id": ["S1", "S1", "S2", "S2"],
        }
    )
    return orders, segments, assignments


@pytest.fixture(scope="module")
def routed_runs():  # type: ignore[no-untyped-def]
    from segchain.forecast import forecast
    from segchain.stock import stock

    orders, segments, assignments = routed_chain()
    fc = forecast(
        orders,
        segments,
        as_of=START,
        freq="W",
        horizon=4,
        assignments=assignments,
        models="WindowAverage",
        n_jobs=1,
    )
    plan = stock(
        fc.forecast,
        orders=orders,
        segments=segments,
        assignments=assignments,
        policy_type="RS",
        review_days=7,
    )
    return fc, plan


# By hand: N's lines in the 4 weeks held out, 4 + 3 + 5 units (the 100 on day 30 is after them).
SITELESS_UNITS = 12.0


def test_routed_held_out_check_counts_the_demand_of_customers_with_no_site(routed_runs):
    fc, _ = routed_runs
    held = fc.held_out
    assert held is not None and held.periods == 4
    # The old code dropped N's lines before the check, without a word.
    assert held.unrouted == SITELESS_UNITS and held.unrouted_customers == 1
    recorded = held.as_metadata()
    assert recorded["unrouted_demand"] == SITELESS_UNITS and recorded["unrouted_customers"] == 1


def test_routed_held_out_replay_counts_the_demand_of_customers_with_no_site(routed_runs):
    _, plan = routed_runs
    held = plan.held_out
    assert held is not None and held.days == 28
    assert held.unrouted_units == SITELESS_UNITS and held.unrouted_customers == 1
    # Not in the table: the sites' customers asked what they asked, N is in no row.
    assert NO_SEGMENT_ROW not in held.table.get_column("segment").to_list()


NO_SEGMENT_ROW = "(in no segment)"


def test_page_says_the_routed_checks_left_out_the_demand_of_customers_with_no_site(routed_runs):
    from segchain.report.model import Note
    from segchain.schema import META_HELD_OUT

    fc, plan = routed_runs
    metadata = {
        "forecast": {
            "params": {"freq": "W", "by": "segment,sku", "as_of": str(START)},
            "inputs": {"assignments": 4},
            META_HELD_OUT: fc.held_out.as_metadata(),
        },
        "policy": {META_HELD_OUT: plan.held_out.as_metadata()},
    }
    report = build_report({"forecast": fc.forecast, "policy": plan.policy}, metadata=metadata)
    notes = [b.text for s in report.sections for b in s.blocks if isinstance(b, Note)]
    check = next(n for n in notes if n.startswith("Held out: the 4 weeks"))
    # The old page said "every line kept" of a check that had left N's 12 units out.
    assert (
        "every line kept but the 12 units of 1 customer with no serving site in the network's "
        "assignments, which no site × sku series holds: not scored" in check
    )
    replay = next(n for n in notes if n.startswith("Held out: the stock plan replayed"))
    assert (
        "12 units asked by 1 customer with no serving site in the network's assignments (no "
        "site's stocking point serves them) were counted, not replayed" in replay
    )


def test_an_unrouted_held_out_check_records_no_siteless_demand():
    from segchain.forecast import forecast

    orders, segments, _ = routed_chain()
    held = forecast(
        orders, segments, as_of=START, freq="W", horizon=4, models="WindowAverage", n_jobs=1
    ).held_out
    assert held is not None and held.unrouted is None
    assert "unrouted_demand" not in held.as_metadata()
