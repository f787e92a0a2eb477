"""Session 71 (written numbers): the same export gives the same written figures.

costs' float sums over the order lines added them in the lines' order, so shuffling the lines
of the same export changed its written figures in their last bits (the demo's revenue,
gross_margin, profit and profit_share by segment and by customer; the revenue
reconciliation's source total). Users diff the outputs of reruns on re-exported data, whose
lines come in whatever order the ERP's query returned them. Each figure here must be the same
to the bit whatever order the lines come in.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from segchain.costs import CostRates, costs

N_LINES = 4000


def _orders(rng: np.random.Generator) -> pl.DataFrame:
    """Order lines whose amounts and quantities have many significant digits (a float sum of
    them depends on its order), with returns, postage and a customer in no segment."""
    customer = rng.choice([f"c{i}" for i in range(12)], N_LINES)
    sku = rng.choice([f"P{i}" for i in range(6)] + ["POST"], N_LINES)
    quantity = np.round(rng.random(N_LINES) * 20, 3) + 0.001
    sign = np.where(rng.random(N_LINES) < 0.1, -1.0, 1.0)
    flag = [
        "non_product" if s == "POST" else "return" if g < 0 else None
        for s, g in zip(sku, sign, strict=True)
    ]
    return pl.DataFrame(
        {
            "order_id": [f"o{i // 3}" for i in range(N_LINES)],
            "order_date": [
                dt.date(2024, 1, 1) + dt.timedelta(days=int(d))
                for d in rng.integers(0, 200, N_LINES)
            ],
            "customer_id": customer,
            "sku": sku,
            "quantity": sign * quantity,
            "amount": sign * quantity * np.round(rng.random(N_LINES) * 30 + 1, 2) / 3.0,
            "flag": flag,
        }
    )


SEGMENTS = pl.DataFrame(
    {
        "customer_id": [f"c{i}" for i in range(11)],  # c11 is in no segment
        "segment": [["Gold", "Silver", "Bronze"][i % 3] for i in range(11)],
        "segment_rank": [i % 3 + 1 for i in range(11)],
    }
)
ITEMS = pl.DataFrame(
    {"sku": [f"P{i}" for i in range(6)], "unit_cost": [1.0 / (i + 3) for i in range(6)]}
)
POLICY = pl.DataFrame(
    {"sku": [f"P{i}" for i in range(6)], "inventory_value": [100.0 / (i + 7) for i in range(6)]}
)
RATES = CostRates(cost_per_order=1.3, cost_per_line=0.7, cost_per_return=2.1)


def _written(orders: pl.DataFrame, by: str) -> tuple[list[tuple], list[dict]]:
    """The table's rows and the reconciliation, as written; the inventory split by the units
    each segment and customer bought (no per-segment stock table, no forecast), so that the
    quantities' sums reach the table too."""
    result = costs(orders, SEGMENTS, rates=RATES, policy=POLICY, items=ITEMS, by=by)
    return result.table.rows(), [check.as_dict() for check in result.checks]


@pytest.mark.parametrize("by", ["segment", "customer"])
def test_costs_figures_do_not_depend_on_the_order_lines_order(by: str) -> None:
    orders = _orders(np.random.default_rng(7))
    first = _written(orders, by)
    moved = []
    for seed in range(4):
        again = _written(orders.sample(fraction=1.0, shuffle=True, seed=seed), by)
        moved.append(again != first)
    assert not any(moved)


def test_costs_planned_units_do_not_depend_on_the_order_lines_order() -> None:
    """The units the orders hold against network's plan (metadata ``planned_units``)."""
    orders = _orders(np.random.default_rng(8))
    customers = SEGMENTS.get_column("customer_id").to_list()
    assignments = pl.DataFrame(
        {
            "customer_id": customers,
            "site_id": "S1",
            "share": 1.0,
            "demand": 1.0,  # far from the units bought: the figures are recorded
            "transport_cost": 1.0,
        }
    )

    def planned(frame: pl.DataFrame) -> dict | None:
        return costs(frame, SEGMENTS, assignments=assignments).planned_units

    first = planned(orders)
    assert first is not None
    for seed in range(4):
        assert planned(orders.sample(fraction=1.0, shuffle=True, seed=seed)) == first


# A lower bound that is a rounding residue: the forecast and its half-width are one number
# (0.3) reached by two sums, 0.1 + 0.2 and 0.3, whose difference 5.6e-17 is no bound. Online
# Retail by RFM segment on its whole history wrote forecast-lo-80 of 2.8e-17 and 6.9e-18 so.
CENTRE = 0.1 + 0.2


def test_reconciled_lower_bound_of_a_forecast_less_itself_is_zero() -> None:
    from segchain.forecast.intervals import reconciled_bounds

    levels = [80, 95]
    fc = pl.DataFrame(
        {
            "unique_id": ["a", "b"],
            "ds": [dt.date(2024, 1, 1)] * 2,
            "forecast": [CENTRE, CENTRE],
            **{f"forecast-{s}-{lv}": [None, None] for lv in levels for s in ("lo", "hi")},
        },
        schema_overrides={f"forecast-{s}-{lv}": pl.Float64 for lv in levels for s in ("lo", "hi")},
    )
    # 20 backtest errors of 0.3 for "a" (the forecast itself) and of 0.1 for "b".
    rows = pl.DataFrame(
        {
            "unique_id": ["a"] * 20 + ["b"] * 20,
            "y": [0.0] * 40,
            "yhat": [0.3] * 20 + [0.1] * 20,
        }
    )
    out, _ = reconciled_bounds(fc, rows, levels)
    got = {r["unique_id"]: r for r in out.iter_rows(named=True)}
    for lv in levels:
        assert got["a"][f"forecast-lo-{lv}"] == 0.0
        assert got["a"][f"forecast-hi-{lv}"] == CENTRE + 0.3
        # A bound that is one: 0.3 - 0.1, as written.
        assert got["b"][f"forecast-lo-{lv}"] == CENTRE - 0.1


def test_normal_lower_bound_of_a_forecast_less_itself_is_zero() -> None:
    """The same where the half-width is z x error_sd (normal bounds)."""
    from statistics import NormalDist

    from segchain.forecast.intervals import normal_bounds

    z = NormalDist().inv_cdf(0.9)
    frame = pl.DataFrame({"c": [CENTRE], "sd": [0.3 / z]})
    lo = frame.select(normal_bounds(pl.col("c"), pl.col("sd"), [80])[0]).item()
    assert abs(CENTRE - z * (0.3 / z)) < 1e-15  # the residue the bound was
    assert lo == 0.0
