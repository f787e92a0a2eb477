"""Without --orders, stderr says how much stock rests on distributions fitted to the forecast."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from segchain.stock import stock

WEEKS = [date(2024, 1, 1) + timedelta(weeks=i) for i in range(4)]


def forecast() -> pl.DataFrame:
    # A: 3 units a week with a backtest error of 40 (one large past order): slow, negative
    # binomial. B: 100 a week, error 10: normal.
    return pl.concat(
        [
            pl.DataFrame({"sku": "A", "ds": WEEKS, "forecast": 3.0, "error_sd": 40.0}),
            pl.DataFrame({"sku": "B", "ds": WEEKS, "forecast": 100.0, "error_sd": 10.0}),
        ]
    )


def history() -> pl.DataFrame:
    lines = [("A", w, 3.0) for w in range(12)] + [("B", w, 100.0) for w in range(12)]
    return pl.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(len(lines))],
            "order_date": [date(2023, 10, 4) + timedelta(weeks=w) for _, w, _ in lines],
            "customer_id": "C1",
            "sku": [s for s, _, _ in lines],
            "quantity": [q for _, _, q in lines],
        }
    )


def fitted_notes(notes: tuple[str, ...]) -> list[str]:
    return [n for n in notes if "fitted to the forecast" in n]


def test_without_orders_the_fitted_slow_points_and_their_share_of_value_are_named():
    res = stock(forecast(), review_days=7, service_level=0.95)
    p = res.policy
    assert p.filter(pl.col("sku") == "A")["distribution"].item() == "negbin"
    value = (p["avg_inventory"] * p["unit_cost"]).to_list()
    share = value[p["sku"].to_list().index("A")] / sum(value)
    (note,) = fitted_notes(res.notes)
    assert note.startswith(f"1 slow or lumpy stocking point ({share:.0%} of inventory value)")
    assert "--orders FILE" in note


def test_with_orders_nothing_is_said_and_the_level_comes_from_the_history():
    res = stock(forecast(), review_days=7, service_level=0.95, orders=history())
    assert fitted_notes(res.notes) == []
    a = res.policy.filter(pl.col("sku") == "A")
    # The history never shows more than 3 units a week: the fit's level (hundreds) is replaced.
    assert a["demand_model"].item() == "bootstrap"
    assert a["order_up_to"].item() <= a["history_max"].item()


def test_only_normal_items_say_nothing():
    res = stock(forecast().filter(pl.col("sku") == "B"), review_days=7)
    assert fitted_notes(res.notes) == []
