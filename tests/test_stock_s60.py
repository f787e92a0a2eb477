"""stock's demand history is the demand the forecast read (giveaways and outsized lines cleansed
as forecast cleansed them), and a lapsed item's busy months do not set its reorder point
(audit K, session 60, findings F1 and F2)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from segchain.stock import stock
from segchain.stock.bootstrap import demand_history
from segchain.tableio import provenance, write_table

MONDAY = date(2011, 1, 3)
WEEKS = 48
# The forecast's weeks follow the history's, as forecast's output does.
FORECAST_WEEKS = [MONDAY + timedelta(weeks=WEEKS + i) for i in range(13)]


def lines(rows: list[tuple[str, int, float, float]]) -> pl.DataFrame:
    """Order lines (sku, week, quantity, unit price) on the Tuesday of their week, with the
    flag validate gives a zero-price line."""
    return pl.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(len(rows))],
            "order_date": [MONDAY + timedelta(weeks=w, days=1) for _, w, _, _ in rows],
            "customer_id": [f"C{i % 5}" for i in range(len(rows))],
            "sku": [s for s, _, _, _ in rows],
            "quantity": [q for _, _, q, _ in rows],
            "unit_price": [p for _, _, _, p in rows],
            "flag": ["zero_price" if p == 0 else None for _, _, _, p in rows],
        },
        schema_overrides={"flag": pl.String},
    )


def small_seller(seed: int = 2) -> list[tuple[str, int, float, float]]:
    # C sells 3-8 units in about a third of the weeks (the audit's repro).
    rng = np.random.default_rng(seed)
    return [("C", w, float(rng.integers(3, 9)), 2.0) for w in range(WEEKS) if rng.random() < 0.35]


def test_demand_history_leaves_out_a_zero_price_giveaway():
    base = small_seller()
    with_gift = lines([*base, ("C", 46, 3000.0, 0.0)])
    hist, notes = demand_history(with_gift, ["sku"], 7.0)
    # Known from the data: the history of the lines without the giveaway.
    alone, _ = demand_history(lines(base), ["sku"], 7.0)
    assert hist.equals(alone)
    assert hist["y"].max() == max(q for _, _, q, _ in base)
    assert [str(n) for n in notes] == [
        "--orders: the demand history cleansed as the forecast read it (forecast's default "
        "--outliers cap: the forecast does not record its own): 1 zero-price order line "
        "(giveaways, samples) left out"
    ]


def test_demand_history_caps_an_outsized_line_at_its_skus_fence():
    base = small_seller()
    o = lines([*base, ("C", 46, 3906.0, 2.0)])
    hist, notes = demand_history(o, ["sku"], 7.0, outliers="cap")
    # The fence by hand: ten times the median line, or Q3 + 3 IQR of the log sizes, whichever
    # is higher (numpy's linear quantiles, as polars' "linear").
    q = np.array([x for _, _, x, _ in base] + [3906.0])
    logq = np.log(q)
    q1, q3 = np.quantile(logq, [0.25, 0.75])
    fence = max(10 * np.median(q), float(np.exp(q3 + 3 * (q3 - q1))))
    assert fence < 3906
    week46 = hist.filter(pl.col("ds") == MONDAY + timedelta(weeks=46))["y"].item()
    same_week = sum(x for _, w, x, _ in base if w == 46)
    assert week46 == pytest.approx(same_week + fence)
    assert "1 order line far beyond its sku's usual line size capped at that size" in str(notes[0])
    assert "(--outliers cap)" in str(notes[0])
    # keep: every line as ordered, nothing said.
    kept, none = demand_history(o, ["sku"], 7.0, outliers="keep")
    assert kept.filter(pl.col("ds") == MONDAY + timedelta(weeks=46))["y"].item() == (
        same_week + 3906
    )
    assert none == []


def test_a_giveaway_does_not_set_the_reorder_point():
    # The audit's F2: a 3,000-unit free line had held C's reorder point at 3,005 (bootstrap);
    # the plan is now the one made without that line.
    base = small_seller()
    fc = pl.DataFrame(
        {
            "sku": "C",
            "ds": FORECAST_WEEKS,
            "forecast": 1.9,
            "error_sd": 3.5,
            "demand_class": "intermittent",
        }
    )
    items = pl.DataFrame({"sku": ["C"], "unit_cost": [1.0], "lead_time_days": [28.0]})
    gift = stock(fc, items=items, orders=lines([*base, ("C", 46, 3000.0, 0.0)])).policy
    plain = stock(fc, items=items, orders=lines(base)).policy
    assert gift["reorder_point"].item() == plain["reorder_point"].item()
    assert gift["history_max"].item() < 50
    # The forecast's own --outliers keep keeps the giveaway, as that forecast read it.
    kept = stock(fc, items=items, orders=lines([*base, ("C", 46, 3000.0, 0.0)]), outliers="keep")
    assert kept.policy["history_max"].item() >= 3000


def test_stock_cli_cleanses_as_the_forecast_recorded(cli, tmp_path):
    # A forecast whose metadata records --outliers keep: its history keeps the giveaway.
    base = small_seller()
    orders = tmp_path / "orders.csv"
    lines([*base, ("C", 46, 3000.0, 0.0)]).drop("flag").write_csv(orders)
    fc = pl.DataFrame(
        {"sku": "C", "ds": FORECAST_WEEKS, "forecast": 1.9, "error_sd": 3.5}
    ).with_columns(pl.col("ds").cast(pl.Date))
    plain = tmp_path / "plain.parquet"
    fc.write_parquet(plain)
    recorded = tmp_path / "recorded.parquet"
    meta = provenance("forecast", params={"outliers": "keep"})
    write_table(fc, str(recorded), metadata=meta)
    out = {}
    for name, path in (("plain", plain), ("recorded", recorded)):
        res = cli("stock", str(path), "--orders", str(orders), "-o", str(tmp_path / f"{name}.csv"))
        assert res.exit_code == 0, res.stderr
        out[name] = (pl.read_csv(tmp_path / f"{name}.csv"), res.stderr)
    assert out["plain"][0]["history_max"].item() < 50
    assert "1 zero-price order line (giveaways, samples) left out" in out["plain"][1]
    assert out["recorded"][0]["history_max"].item() >= 3000
    assert "cleansed as the forecast" not in out["recorded"][1]


def lapsed_orders() -> tuple[pl.DataFrame, float]:
    """A sells 40-120 units a week in 2-4 lines from January to May, nothing after; B sells 10
    every week of the year. Returns the lines and A's mean per week from its first sale on."""
    rng = np.random.default_rng(1)
    rows: list[tuple[str, int, float, float]] = []
    for w in range(21):
        rows += [("A", w, float(rng.integers(15, 41)), 2.0) for _ in range(rng.integers(2, 5))]
    rows += [("B", w, 10.0, 1.0) for w in range(WEEKS)]
    a = sum(q for s, _, q, _ in rows if s == "A")
    return lines(rows), a / WEEKS


def lapsed_forecast(a: float) -> pl.DataFrame:
    return pl.concat(
        [
            pl.DataFrame({"sku": "A", "ds": FORECAST_WEEKS, "forecast": a, "error_sd": 20.0}),
            pl.DataFrame({"sku": "B", "ds": FORECAST_WEEKS, "forecast": 10.0, "error_sd": 2.0}),
        ]
    )


def test_a_lapsed_items_level_is_its_largest_demand_at_the_forecasts_level():
    # The audit's F1: A, forecast 0.001 a week after selling about 30 a week, had a reorder
    # point of 993, its busiest weeks. Its history brought down to the forecast's level: the
    # largest demand over a protection interval times 0.001 / (its mean per week), by hand.
    o, rate = lapsed_orders()
    items = pl.DataFrame({"sku": ["A", "B"], "unit_cost": [1.0, 0.5], "lead_time_days": 70.0})
    res = stock(lapsed_forecast(0.001), items=items, orders=o)
    a = res.policy.filter(pl.col("sku") == "A").row(0, named=True)
    weekly = np.zeros(WEEKS)
    for w, q in (
        o.filter(pl.col("sku") == "A")
        .select(((pl.col("order_date") - MONDAY).dt.total_days() // 7), "quantity")
        .iter_rows()
    ):
        weekly[w] += q
    window = int(np.ceil(71 / 7))  # lead time 70 days + a nightly review, in whole weeks
    largest = max(weekly[i : i + window].sum() for i in range(WEEKS - window + 1))
    assert a["history_max"] == largest
    assert a["history_max_at_forecast"] == pytest.approx(largest * 0.001 / rate)
    assert a["reorder_point"] == 0.0
    assert a["order_qty"] < 10  # what it orders now, at most: one lot of its EOQ
    (note,) = [n for n in res.notes if "history's rate" in str(n)]
    assert "1 held stocking point forecast under 10% of its history's rate" in str(note)
    assert "sku 'A'" in str(note)
    # B, steady at its forecast, keeps its plan.
    assert res.policy.filter(pl.col("sku") == "B")["demand_model"].item() == "fit"


def test_a_history_above_a_forecast_not_far_below_it_is_left_as_it_is():
    # Forecast at half the history's rate: a falling or intermittent item planned on its
    # history errs on the side of service, as before.
    o, rate = lapsed_orders()
    items = pl.DataFrame({"sku": ["A", "B"], "unit_cost": [1.0, 0.5], "lead_time_days": 70.0})
    a = (
        stock(lapsed_forecast(rate / 2), items=items, orders=o)
        .policy.filter(pl.col("sku") == "A")
        .row(0, named=True)
    )
    assert a["history_max_at_forecast"] == a["history_max"]


def test_a_single_sale_long_ago_is_not_called_lapsed():
    # One sale says nothing of how often an item sells (README, "A history that never shows a
    # sale after a period without one"): still held at that sale, whatever its forecast.
    o = lines([("S", 2, 6.0, 1.0), ("B", 0, 1.0, 1.0), ("B", WEEKS - 1, 1.0, 1.0)])
    fc = pl.DataFrame({"sku": "S", "ds": FORECAST_WEEKS, "forecast": 1e-6, "error_sd": 5.0})
    items = pl.DataFrame({"sku": ["S"], "lead_time_days": [7.0]})
    p = stock(fc, items=items, orders=o, policy_type="RS", review_days=7).policy
    assert p["demand_model"].item() == "bootstrap"
    assert p["reorder_point"].item() == p["history_max"].item() == 6.0
    assert p["history_max_at_forecast"].item() == 6.0
