"""A sku x site series too thin to stand on its own (its own model forecasts no demand although it
sold in the last year, or its history is one period) is forecast as the sku's forecast across
sites times the site's share of the sku's history."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from segchain.forecast import forecast
from segchain.forecast.reconcile import SITE_FROM_SKU

WEEKS = 80
MONDAY = dt.date(2023, 1, 2)
# Site B sold the sku three times within the last year: weeks 40 and 70 to customer b1
# (segment "one"), week 55 to b2 (segment "two"); site A sells 10 a week to a1 ("one"); site C
# first sold it, 6 units to c1 ("one"), in the history's last week.
B_SALES = ((40, "b1"), (55, "b2"), (70, "b1"))
C_SALE = (WEEKS - 1, "c1", 6.0)
# By hand: the sku's naive forecast across sites is its last week, 10 + 6; it sold 800 + 12 + 6.
SKU_NEXT = 16.0
SKU_UNITS = 818.0


def _orders() -> pl.DataFrame:
    rows = [("A", "a1", MONDAY + dt.timedelta(weeks=w), 10.0) for w in range(WEEKS)] + [
        ("B", c, MONDAY + dt.timedelta(weeks=w), 4.0) for w, c in B_SALES
    ]
    rows.append(("C", C_SALE[1], MONDAY + dt.timedelta(weeks=C_SALE[0]), C_SALE[2]))
    return pl.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "site": [r[0] for r in rows],
            "customer_id": [r[1] for r in rows],
            "order_date": [r[2] for r in rows],
            "quantity": [r[3] for r in rows],
            "sku": ["X"] * len(rows),
            "unit_price": [1.0] * len(rows),
        }
    )


SEGMENTS = pl.DataFrame(
    {"customer_id": ["a1", "b1", "b2", "c1"], "segment": ["one", "one", "two", "one"]}
)


@pytest.fixture(scope="module")
def result():
    return forecast(
        _orders(), SEGMENTS, freq="W", horizon=4, by="site,segment,sku", models="Naive", n_jobs=1
    )


def test_site_split_forecasts_a_silent_site_from_its_sku(result):
    # Site B sold 12 of the sku's units; its segments hold 8 and 4 of B's 12.
    b = result.forecast.filter(pl.col("site") == "B")
    per_segment = b.group_by("segment").agg(pl.col("forecast").mean()).sort("segment")
    assert per_segment["forecast"].to_list() == pytest.approx(
        [SKU_NEXT * 12 / SKU_UNITS * 8 / 12, SKU_NEXT * 12 / SKU_UNITS * 4 / 12]
    )


def test_site_split_forecasts_a_one_week_site_from_its_sku(result):
    # Not half its one sale every week (3.0): its 6 of the sku's units.
    c = result.forecast.filter(pl.col("site") == "C")
    assert c["forecast"].to_list() == pytest.approx([SKU_NEXT * 6 / SKU_UNITS] * 4)


def test_site_split_is_counted(result):
    assert result.fallbacks[SITE_FROM_SKU] == 2


def test_site_split_leaves_a_site_its_own_model_forecasts(result):
    a = result.forecast.filter(pl.col("site") == "A")
    assert a["forecast"].to_list() == pytest.approx([10.0] * 4)  # its own naive


def test_site_split_is_said_on_stderr(result):
    assert any(
        "2 sku x site series too thin to forecast on their own" in w for w in result.warnings
    )
