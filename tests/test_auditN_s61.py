"""Audit N, session 61: a year-ago period the orders do not cover whole is none (held-out
seasonal naive, the group seasonal lift); stock names the points whose level holds many weeks
of their forecast demand; the report's headline counts promises as planned and held out."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from segchain.forecast.group_seasonal import lifts
from segchain.forecast.heldout import NAIVE, SEASONAL_NAIVE, held_out
from segchain.forecast.options import Plan

# F4 ---------------------------------------------------------------------------------------


def _orders_from_a_sunday() -> pl.DataFrame:
    """One sku, one customer: the data start on Sunday 2017-01-01 (1 unit: the week of
    2016-12-26 holds that one day), then 10 units every Monday to 2017-12-18; the held-out week
    of 2017-12-25 (a year after the one-day week) sells 5 + 5 and is covered to its Sunday."""
    days = [dt.date(2017, 1, 1)] + [dt.date(2017, 1, 2) + dt.timedelta(weeks=i) for i in range(51)]
    qty = [1.0] + [10.0] * 51
    days += [dt.date(2017, 12, 25), dt.date(2017, 12, 31)]
    qty += [5.0, 5.0]
    return pl.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(days))],
            "customer_id": ["c1"] * len(days),
            "sku": ["s1"] * len(days),
            "order_date": days,
            "quantity": qty,
        }
    )


def test_heldout_seasonal_naive_takes_no_partial_year_ago_week():
    orders = _orders_from_a_sunday()
    assert dt.date(2017, 12, 18) == dt.date(2017, 1, 2) + dt.timedelta(weeks=50)
    segments = pl.DataFrame({"customer_id": ["c1"], "segment": ["A"]})
    fc = pl.DataFrame(
        {"segment": ["A"], "sku": ["s1"], "ds": [dt.date(2017, 12, 25)], "forecast": [10.0]}
    )
    h = held_out(orders, segments, fc, freq="W", by=["segment", "sku"])
    assert h is not None and h.periods == 1 and h.demand == 10.0
    wape = dict(zip(h.scores["approach"], h.scores["wape"], strict=True))
    # Naive repeats the week of 2017-12-18 (10 units): no error. The week a year before
    # 2017-12-25 is 2016-12-26, which the orders cover one day of: none, so seasonal naive is
    # naive (it took the one day's 1 unit, WAPE |1 - 10| / 10 = 0.9).
    assert wape[NAIVE] == 0.0
    assert wape[SEASONAL_NAIVE] == 0.0


def test_group_seasonal_lift_reads_no_partial_first_month():
    # Monthly, season 12, window 3: the data start on 2018-01-20, so January 2018 holds 12 of
    # its 31 days (4 units against 10 a month). The origin 2019-03 reads as its base the 3
    # months a year before it, January-March 2018: not covered whole, so no lift (1.0), as
    # with under a year of history; counted whole, the base (4 + 10 + 10) / 3 = 8 against
    # April 2018's 20 gave 1 + 0.5 (20 / 8 - 1) = 1.75.
    months = pl.date_range(dt.date(2018, 1, 1), dt.date(2019, 3, 1), "1mo", eager=True)
    values = {dt.date(2018, 1, 1): 4.0, dt.date(2018, 4, 1): 20.0}
    y = pl.DataFrame(
        {
            "unique_id": ["a"] * months.len(),
            "ds": months,
            "y": [values.get(d, 10.0) for d in months.to_list()],
        }
    )
    pairs = pl.DataFrame({"cutoff": [dt.date(2019, 3, 1)], "ds": [dt.date(2019, 4, 1)]})
    plan = Plan(freq="M", horizon=1, season=12, window=3, models=None)
    covered = Plan(
        freq="M", horizon=1, season=12, window=3, models=None, first_day=dt.date(2018, 1, 20)
    )
    assert lifts(y, pairs, plan).get_column("lift").to_list() == pytest.approx([1.75])
    assert lifts(y, pairs, covered).get_column("lift").to_list() == [1.0]
