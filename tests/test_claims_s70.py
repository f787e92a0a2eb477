"""Claims audit (session 70): segchain's figures on real exports recomputed without segchain;
each test pins a difference found there, with a known answer from a hand-made input."""

from __future__ import annotations

import datetime as dt

import polars as pl

from segchain.segment import segment
from tests.test_segment import orders
from tests.test_segment_s60 import AS_OF, clv_base

CLV = ["customer_id", "p_alive", "expected_purchases", "clv"]


def _repeat_buyer(rows: list[tuple]) -> tuple[str, dt.date]:
    """A customer of ``rows`` with purchases on two days or more, and its first purchase day."""
    days: dict[str, set[dt.date]] = {}
    for _, day, customer, *_ in rows:
        days.setdefault(customer, set()).add(day)
    customer = min(c for c, d in days.items() if len(d) >= 2)
    return customer, min(days[customer])


def _clv(rows: list[tuple]) -> pl.DataFrame:
    return segment(orders(rows), as_of=AS_OF, clv=True).segments.select(CLV).sort("customer_id")


def test_clv_repeat_spend_leaves_out_lines_before_the_first_purchase():
    """Gamma-Gamma's spend is that of the purchases after the first purchase day (Fader &
    Hardie 2013; README: `segment --clv`). A return dated before a customer's first purchase
    in the export (of goods bought before it starts: 69 of Online Retail's 2,774 repeat customers,
    -3,033.20 in all) belongs to no repeat purchase, so every p_alive, expected
    purchase count and CLV is that of the same orders without it. It was netted into the
    customer's repeat spend (monetary less the first purchase day's value), which moved the
    fit and so every customer's CLV."""
    base = clv_base()
    customer, first = _repeat_buyer(base)
    earlier_return = ("C-old", first - dt.timedelta(days=5), customer, -3.0, 40.0, "return")
    expected = _clv(base)
    got = _clv([*base, earlier_return])
    assert got.get_column("customer_id").to_list() == expected.get_column("customer_id").to_list()
    for column in CLV[1:]:
        assert got.get_column(column).to_list() == expected.get_column(column).to_list(), column


def test_clv_repeat_spend_nets_a_later_return_on_any_day():
    """A return after the first purchase day nets the repeat spend whatever its day: dated on
    a day without a purchase (over 1,000 of Online Retail's repeat customers) it gives the
    CLVs it gives dated on the customer's last purchase day (as README now says; README had
    said 'the purchase days after the first', which would leave such a return out)."""
    base = clv_base()
    customer, _ = _repeat_buyer(base)
    last = max(day for _, day, c, *_ in base if c == customer)
    on_a_purchase_day = ("C-late", last, customer, -1.0, 15.0, "return")
    on_its_own_day = ("C-late", last + dt.timedelta(days=1), customer, -1.0, 15.0, "return")
    assert last + dt.timedelta(days=1) < AS_OF
    same_day = _clv([*base, on_a_purchase_day])
    own_day = _clv([*base, on_its_own_day])
    assert own_day.equals(same_day)
    assert not same_day.equals(_clv(base))
