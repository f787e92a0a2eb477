"""Lead-time demand from the order history (Willemain, Smart & Schwarz 2004; issue 11, item 4)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from heldout import sq_nightly, weekly_order_up_to
from scipy import stats

from segchain.stock import stock
from segchain.stock.bootstrap import demand_history, draw_interval, histories, level_to

MONDAY = date(2024, 1, 1)
# The forecast's weeks follow the order history's (weeks 0-11), as forecast's output does: stock
# reads only the history before the forecast's first period.
WEEKS = [MONDAY + timedelta(weeks=12 + i) for i in range(4)]


def orders(lines: list[tuple[str, int, float]], flag: list[str | None] | None = None):
    """Order lines (sku, week number, quantity), each on the Wednesday of its week."""
    df = pl.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(len(lines))],
            "order_date": [MONDAY + timedelta(weeks=w, days=2) for _, w, _ in lines],
            "customer_id": "C1",
            "sku": [s for s, _, _ in lines],
            "quantity": [q for _, _, q in lines],
        }
    )
    if flag is not None:
        df = df.with_columns(pl.Series("flag", flag, dtype=pl.String))
    return df


def test_history_runs_from_first_demand_to_the_last_period_with_zeros_and_netted_returns():
    o = orders(
        [("A", 1, 3.0), ("A", 3, 2.0), ("A", 3, -5.0), ("A", 4, 1.0), ("B", 0, 9.0), ("P", 2, 1)],
        flag=[None, None, "return", None, None, "non_product"],
    )
    hist, notes = demand_history(o, ["sku"], 7.0)
    assert notes == []
    a = hist.filter(pl.col("sku") == "A")
    assert a["ds"].to_list() == [MONDAY + timedelta(weeks=w) for w in (1, 2, 3, 4)]
    assert a["y"].to_list() == [3.0, 0.0, 0.0, 1.0]  # week 3: returns exceed sales
    assert hist.filter(pl.col("sku") == "B")["y"].to_list() == [9.0, 0.0, 0.0, 0.0, 0.0]
    assert "P" not in hist["sku"].to_list()  # postage is not demand


def test_markov_chain_is_counted_from_the_history():
    # 0 3 0 0 5 5 0 2: from zero 4 times (to non-zero 3), from non-zero 3 times (to non-zero 1).
    y = [0, 3, 0, 0, 5, 5, 0, 2]
    hist = pl.DataFrame({"sku": "A", "ds": [MONDAY + timedelta(weeks=i) for i in range(8)], "y": y})
    h = histories(
        hist.with_columns(pl.col("y").cast(pl.Float64)), pl.DataFrame({"sku": ["A"]}), ["sku"]
    )
    assert h.p01[0] == pytest.approx(3 / 4)
    assert h.p11[0] == pytest.approx(1 / 3)
    assert h.start[0] == pytest.approx(0.75 / (1 - 1 / 3 + 0.75))
    assert sorted(h.sizes.tolist()) == [2.0, 3.0, 5.0, 5.0]
    assert h.window_max(np.array([2.0]))[0] == 10.0
    assert h.window_max(np.array([1.5]))[0] == 10.0  # a window is whole periods
    assert h.window_max(np.array([1.0]))[0] == 5.0


def alternating(periods: int = 12, size: float = 2.0) -> pl.DataFrame:
    """A history 2 0 2 0 ...: the chain alternates (p01 = 1, p11 = 0), every size is 2."""
    days = [MONDAY + timedelta(weeks=i) for i in range(periods)]
    return pl.DataFrame(
        {"sku": "A", "ds": days, "y": [size if i % 2 == 0 else 0.0 for i in range(periods)]}
    )


def jittered_two_cdf(k: int) -> float:
    """P(size <= k) for a drawn size 2 jittered: 1 + trunc(2 + z*sqrt(2)), 2 when not positive,
    written out with the normal cdf: for k >= 2, size <= k iff 2 + z*sqrt(2) < k."""
    return float(stats.norm.cdf((k - 2) / math.sqrt(2))) if k >= 2 else 0.0


def test_draws_of_an_alternating_history_follow_the_jittered_size():
    h = histories(alternating(), pl.DataFrame({"sku": ["A"]}), ["sku"])
    rng = np.random.default_rng(0)
    two = draw_interval(h, np.array([0]), np.array([2.0]), rng, 20_000)[0]
    one = draw_interval(h, np.array([0]), np.array([1.0]), rng, 20_000)[0]
    half = draw_interval(h, np.array([0]), np.array([1.5]), rng, 20_000)[0]
    # Over two periods exactly one is non-zero: the jittered size itself.
    for k in (2, 3, 4, 5):
        assert (two <= k).mean() == pytest.approx(jittered_two_cdf(k), abs=0.01)
    # One period: non-zero half the time (stationary start).
    assert (one == 0).mean() == pytest.approx(0.5, abs=0.01)
    # 1.5 periods: the half period is the next period thinned, so the mean is 1.5 periods'.
    assert half.mean() == pytest.approx(1.5 * one.mean(), rel=0.03)


def test_a_fraction_of_a_period_holds_the_whole_period_or_nothing():
    # Every period sells (size 2, jittered): a quarter of a period holds a whole period's
    # demand a quarter of the time, nothing otherwise; an order arrives whole on one day.
    every = alternating().with_columns(pl.lit(2.0).alias("y"))
    h = histories(every, pl.DataFrame({"sku": ["A"]}), ["sku"])
    rng = np.random.default_rng(0)
    quarter = draw_interval(h, np.array([0]), np.array([0.25]), rng, 40_000)[0]
    assert (quarter > 0).mean() == pytest.approx(0.25, abs=0.01)
    size_mean = sum(k * jittered_two_pmf(k) for k in range(1, 60))
    assert quarter[quarter > 0].mean() == pytest.approx(size_mean, rel=0.03)


def tiny_forecast(sd: float = 40.0) -> pl.DataFrame:
    # A tiny, over-dispersed mean: the negative binomial fit asks for hundreds of units.
    return pl.DataFrame({"sku": "A", "ds": WEEKS, "forecast": 0.05, "error_sd": sd})


def jittered_two_pmf(k: int) -> float:
    """P(size = k): 1 + trunc(a), a = 2 + z*sqrt(2); a <= -1 gives a size <= 0, replaced by 2."""
    norm = stats.norm(2, math.sqrt(2))
    if k == 1:
        return float(norm.cdf(1) - norm.cdf(-1))
    own = float(norm.cdf(k) - norm.cdf(k - 1))
    return own + (float(norm.cdf(-1)) if k == 2 else 0.0)


def bootstrap_rs_fill_level(target: float) -> int:
    # (R, S) every week, lead time one week: the interval is 2 weeks, in which the alternating
    # history has exactly one lump (D_2 = size); a lead time of one week has it half the time.
    # Shortage per review E[(D_2 - S)^+] - E[(D_1 - S)^+] = E[(size - S)^+]/2 against the
    # allowed (1 - target)*E[D_1] = (1 - target)*E[size]/2.
    ks = range(1, 60)
    mean = sum(k * jittered_two_pmf(k) for k in ks)
    for s in range(60):
        if sum(max(k - s, 0) * jittered_two_pmf(k) for k in ks) <= (1 - target) * mean:
            return s
    raise AssertionError


def jittered_fill(level: int) -> float:
    ks = range(1, 60)
    mean = sum(k * jittered_two_pmf(k) for k in ks)
    return 1 - sum(max(k - level, 0) * jittered_two_pmf(k) for k in ks) / mean


@pytest.mark.parametrize("target", [0.95, 0.8])
def test_rs_fill_rate_level_is_the_smallest_meeting_the_target_on_the_bootstrap(target: float):
    from segchain.stock.bootstrap import bootstrap_levels

    expected = bootstrap_rs_fill_level(target)
    h = histories(alternating(), pl.DataFrame({"sku": ["A"]}), ["sku"])
    one = np.array([1.0])
    found = bootstrap_levels(
        h,
        np.array([0]),
        periodic=True,
        lead=one,
        review=one,
        fill=np.array([True]),
        target=np.array([target]),
        q=one,
        cap=np.array([np.inf]),
        seed=0,
    )
    assert found.level[0] == expected
    assert found.fill[0] == pytest.approx(jittered_fill(expected), abs=0.01)
    assert not found.capped[0]


def test_sq_mean_on_hand_averages_the_whole_unit_positions_on_the_bootstrap():
    # (s, Q) every week, lead time one week, Q = 3, on the alternating history: the lead time
    # holds one lump half the time (D_L = 0 or the size, 1/2 each), lead time + review exactly
    # one (D_T = the size). Mean on hand: the mean over the positions y = s+1, ..., s+Q (whole
    # units: mean s + (Q + 1)/2) of E[(y - D_L)^+] and E[(y - D_T)^+].
    from segchain.stock.bootstrap import bootstrap_levels

    h = histories(alternating(), pl.DataFrame({"sku": ["A"]}), ["sku"])
    one = np.array([1.0])
    found = bootstrap_levels(
        h,
        np.array([0]),
        periodic=False,
        lead=one,
        review=one,
        fill=np.array([True]),
        target=np.array([0.9]),
        q=np.array([3.0]),
        cap=np.array([np.inf]),
        seed=0,
    )
    s = int(found.level[0])
    ks = range(1, 60)

    def on_hand(y: int) -> float:
        end = sum(max(y - k, 0) * jittered_two_pmf(k) for k in ks)
        return 0.5 * (0.5 * y + 0.5 * end) + 0.5 * end

    expected = sum(on_hand(y) for y in range(s + 1, s + 4)) / 3
    assert found.avg_inventory[0] == pytest.approx(expected, abs=0.1)


def test_bootstrapped_level_never_exceeds_the_historys_largest_demand():
    # Through the stage: the fit asks for over 50 units, the bootstrap for 4 (jitter), the
    # history never shows more than 2 in two weeks: the level is 2, and its expected fill rate
    # the bootstrap's at 2, 1 - E[(size - 2)^+]/E[size].
    items = pl.DataFrame({"sku": ["A"], "lead_time_days": [7.0]})
    kw = {"items": items, "review_days": 7, "service_level": 0.95}
    fitted = stock(tiny_forecast(), **kw).policy
    assert fitted["order_up_to"].item() > 50
    o = orders([("A", w, 2.0) for w in range(0, 12, 2)])
    p = stock(tiny_forecast(), orders=o, **kw).policy
    assert p["demand_model"].item() == "bootstrap"
    assert p["history_max"].item() == 2.0
    assert p["order_up_to"].item() == 2.0
    assert p["capped"].item()
    # Computed on the bootstrap's model exactly (session 67; from its 16,000 draws, over 20
    # seeds the standard deviation was 0.0049, and the tolerance 0.02).
    assert p["expected_fill_rate"].item() == pytest.approx(jittered_fill(2), abs=1e-6)
    notes = stock(tiny_forecast(), orders=o, **kw).notes
    (note,) = [n for n in notes if n.startswith("1 slow or lumpy")]
    # A forecast without segments: the shortfall is said of all demand, not of a segment "*".
    (short,) = [n for n in notes if "expected fill rate" in n]
    assert short.startswith("all demand (no segments): expected fill rate ")
    # One point is "it", not "1 ... took their level ...; 1 of them held" (found on a
    # 10-product run of The Complete Journey).
    assert note == (
        "1 slow or lumpy stocking point is held at the largest demand its order history shows "
        "over a protection interval, brought to the forecast's level (its fitted level exceeded "
        "it), with the expected service of the bootstrap of that history, and is short of its "
        "target there"
    )


def test_point_where_rationing_falls_back_keeps_its_bootstrap_plan():
    # Two segments promised 0.99 and 0.90 share a tiny, over-dispersed sku: rationing is tried,
    # finds nothing to hold back, and the point keeps every promise with the plan at the top
    # target. With --orders that plan is the bootstrap's, capped at the history's largest
    # demand (it was computed without the history: a crash on the missing history_max column).
    from segchain.config import PolicyTable, SegmentPolicy

    table = PolicyTable(
        {"gold": SegmentPolicy(service_level=0.99), "bronze": SegmentPolicy(service_level=0.9)}
    )
    fc = pl.concat(
        [tiny_forecast(28.0).with_columns(segment=pl.lit(g)) for g in ("gold", "bronze")]
    )
    items = pl.DataFrame({"sku": ["A"], "lead_time_days": [7.0]})
    o = orders([("A", w, 2.0) for w in range(0, 12, 2)])
    res = stock(fc, items=items, policies=table, review_days=7, orders=o)
    p = res.policy
    assert not p["rationed"].item()
    assert p["demand_model"].item() == "bootstrap"
    assert p["order_up_to"].item() <= p["history_max"].item() == 2.0


def test_bootstrap_is_deterministic_and_leaves_plausible_fits_alone():
    o = orders([("A", w, 2.0) for w in range(0, 12, 2)] + [("B", w, 10.0) for w in range(12)])
    fc = pl.concat(
        [
            tiny_forecast(),
            pl.DataFrame({"sku": "B", "ds": WEEKS, "forecast": 10.0, "error_sd": 3.0}),
        ]
    )
    a = stock(fc, orders=o).policy
    b = stock(fc, orders=o).policy
    assert a.equals(b)
    assert a["demand_model"].to_list() == ["bootstrap", "fit"]
    cols = ["reorder_point", "order_qty", "expected_fill_rate", "expected_csl", "avg_inventory"]
    fit = stock(fc).policy
    assert (
        a.filter(pl.col("sku") == "B")
        .select(cols)
        .equals(fit.filter(pl.col("sku") == "B").select(cols))
    )
    # L + R = 15 days: windows of 3 weeks of the history.
    assert a["history_max"].to_list() == [4.0, 30.0]


def test_history_max_at_forecast_is_the_demand_a_held_level_stands_on():
    # A sells 4 every other week (weeks 0-11: mean 2 a week, half the weeks selling) and is
    # forecast 6: by hand from level_to's rule, selling every week doubles its mean and the
    # factor still missing, 6 / (2 x 2) = 1.5, multiplies its sizes and its largest demand over
    # 3 weeks (L 14 days + R 7), 4 + 0 + 4 = 8, to 12. The fit asks for more: the level is held
    # at 12, where history_max shows 8 (Superstore Central x Binders: S 54 beside 48). B's
    # history (10 a week) is above its forecast and is left as it is: 30 both.
    o = orders([("A", w, 4.0) for w in range(0, 12, 2)] + [("B", w, 10.0) for w in range(12)])
    fc = pl.concat(
        [
            pl.DataFrame({"sku": "A", "ds": WEEKS, "forecast": 6.0, "error_sd": 8.0}),
            pl.DataFrame({"sku": "B", "ds": WEEKS, "forecast": 1.0, "error_sd": 3.0}),
        ]
    )
    p = stock(fc, orders=o, policy_type="RS", review_days=7).policy
    a, b = (p.filter(pl.col("sku") == k).row(0, named=True) for k in ("A", "B"))
    assert a["demand_model"] == "bootstrap"
    assert a["history_max"] == 8.0
    assert a["history_max_at_forecast"] == pytest.approx(12.0, abs=1e-9)
    assert a["order_up_to"] == 12.0
    assert b["history_max"] == b["history_max_at_forecast"] == 30.0


# --- unit cost from the orders' prices (item 4, second half) ---------------------------------


def priced_orders() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "order_id": ["1", "2", "3", "4", "5"],
            "order_date": [MONDAY + timedelta(days=d) for d in (0, 7, 8, 14, 15)],
            "customer_id": "C1",
            "sku": ["A", "A", "A", "A", "P"],
            "quantity": [2.0, 1.0, -1.0, 5.0, 1.0],
            "unit_price": [3.0, 6.0, 3.0, 0.0, 9.0],
            "flag": [None, None, "return", "zero_price", "non_product"],
        }
    )


def test_mean_selling_price_weights_sales_by_quantity():
    from segchain.stock.inputs import mean_prices

    prices = mean_prices(priced_orders())
    assert prices is not None
    # (2*3 + 1*6)/3: the return and the giveaway are no sale; postage is no product.
    assert dict(zip(prices["sku"], prices["price"], strict=True)) == {"A": 4.0}
    amounts = priced_orders().with_columns(amount=pl.col("quantity") * pl.col("unit_price"))
    prices = mean_prices(amounts.drop("unit_price"))
    assert prices is not None and prices["price"].to_list() == [4.0]


def test_unit_cost_defaults_to_the_price_then_to_one():
    fc = pl.concat(
        [
            pl.DataFrame({"sku": s, "ds": WEEKS, "forecast": 10.0, "error_sd": 3.0})
            for s in ("A", "B")
        ]
    )
    p = stock(fc, orders=priced_orders()).policy
    assert p["unit_cost"].to_list() == [4.0, 1.0]
    assert p["unit_cost_source"].to_list() == ["price", "default"]
    value = (p["avg_inventory"] * pl.Series([4.0, 1.0])).to_list()
    assert p["inventory_value"].to_list() == pytest.approx(value)
    items = pl.DataFrame({"sku": ["A", "B"], "unit_cost": [2.5, None]})
    p = stock(fc, orders=priced_orders(), items=items).policy
    assert p["unit_cost"].to_list() == [2.5, 1.0]
    assert p["unit_cost_source"].to_list() == ["items", "default"]


def test_cli_says_price_or_units(cli, tmp_path):
    fc, o, out = tmp_path / "fc.csv", tmp_path / "orders.csv", tmp_path / "p.csv"
    pl.DataFrame({"sku": "A", "ds": WEEKS, "forecast": 10.0, "error_sd": 3.0}).write_csv(fc)
    priced_orders().write_csv(o)
    result = cli("stock", str(fc), "--orders", str(o), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "1 of 1 stocking point valued at their sku's mean selling price" in result.stderr
    assert "inventory value " in result.stderr
    result = cli("stock", str(fc), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "units (no unit costs: give --items, or --orders with prices)" in result.stderr
    assert "inventory value" not in result.stderr


# --- demand in lumps: the variance of a slow point's history ---------------------------------


def test_lump_variance_is_the_variance_of_a_period_selling_one_of_its_historys_sizes():
    # History 0 8 0 0 8 0 4 0: sizes 8, 8, 4. At a mean of 0.5 a period, a period sells with
    # p = 0.5 / E[X] and then one of the sizes; its variance, enumerated here, is
    # E[D^2] - E[D]^2 = p * mean(x^2) - 0.25.
    from segchain.stock.bootstrap import lump_variance

    y = [0.0, 8.0, 0.0, 0.0, 8.0, 0.0, 4.0, 0.0]
    hist = pl.DataFrame({"sku": "A", "ds": [MONDAY + timedelta(weeks=i) for i in range(8)], "y": y})
    h = histories(hist, pl.DataFrame({"sku": ["A", "B"]}), ["sku"])
    sizes = [8.0, 8.0, 4.0]
    p = 0.5 / (sum(sizes) / 3)
    expected = p * sum(x * x for x in sizes) / 3 - 0.5**2
    got = lump_variance(np.array([0.5, 0.5]), h)
    assert got[0] == pytest.approx(expected)  # 3.35
    assert got[1] == 0.0  # no history


def lumpy_item(weeks: int = 104, size: float = 8.0, p: float = 0.1, seed: int = 1):
    """A sku selling `size` units at once in a week with probability `p`: its order history
    (first week a sale) and a forecast of its mean whose error looks Poisson (sd^2 = mean)."""
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(weeks) < p, size, 0.0)
    y[0] = size
    o = orders([("A", w, float(q)) for w, q in enumerate(y) if q > 0])
    end = MONDAY + timedelta(weeks=weeks)
    mean = size * p
    fc = pl.DataFrame(
        {
            "sku": "A",
            "ds": [end + timedelta(weeks=i) for i in range(4)],
            "forecast": mean,
            "error_sd": math.sqrt(mean),
        }
    )
    return o, fc


def simulated_fill(order_up_to: float, *, size: float, p: float, weeks: int = 100_000) -> float:
    """Fill rate of a weekly order-up-to policy with a one-week lead time (an order placed at
    the end of week t is on the shelf for week t + 2), backorders, demand `size` with
    probability `p` a week: an independent replay, not the stage's formulas."""
    rng = np.random.default_rng(7)
    demand = np.where(rng.random(weeks) < p, size, 0.0)
    return weekly_order_up_to(demand.tolist(), order_up_to)


def test_a_lumpy_item_is_planned_for_its_lumps_and_keeps_near_its_promise():
    # Without its history the item's error looks Poisson: unit by unit, 4 units promise 0.96
    # and give under half. With the history (lumps of 8) it is planned on the lumps' variance.
    o, fc = lumpy_item()
    items = pl.DataFrame({"sku": ["A"], "lead_time_days": [7.0]})
    kw = {"items": items, "review_days": 7, "service_level": 0.9}
    blind = stock(fc, **kw).policy
    assert blind["distribution"].item() == "poisson"
    blind_fill = simulated_fill(blind["order_up_to"].item(), size=8.0, p=0.1)
    assert blind["expected_fill_rate"].item() > 0.9
    assert blind_fill < 0.6

    planned = stock(fc, orders=o, **kw).policy
    assert planned["distribution"].item() == "negbin"
    assert planned["sd_demand"].item() ** 2 > 4 * planned["mean_demand"].item()
    fill = simulated_fill(planned["order_up_to"].item(), size=8.0, p=0.1)
    assert fill >= 0.9 - 0.01


def test_rationing_plans_for_the_points_lump_variance_split_by_the_segments_means():
    from segchain.stock.rationing import point_variances

    var, mu = np.array([1.0, 1.0]), np.array([1.0, 3.0])
    # The point's variance 6 exceeds the segments' 2 by 4: 1 and 3 of it go to the segments.
    assert point_variances(var, mu, math.sqrt(6.0)) == pytest.approx([2.0, 4.0])
    # Not larger (no history, or demand not in lumps): the segments' own variances.
    assert point_variances(var, mu, math.sqrt(2.0)).tolist() == [1.0, 1.0]


def replay_sq_daily(h, s: float, q: float, lead_days: int, weeks: int, seed: int) -> float:
    """Long-run fill rate of (s, Q) looked at every day, backorders, against demand drawn from
    the history's own model (its weekly chain of zero / non-zero weeks, a jittered size drawn
    from its non-zero weeks) arriving whole on one day of its week, replayed by
    ``heldout.sq_nightly`` (written apart from the stage), not the stage's estimate."""
    rng = np.random.default_rng(seed)
    sizes = h.sizes[h.offset[0] : h.offset[0] + h.count[0]]
    daily = np.zeros(weeks * 7)
    selling = rng.random() < h.start[0]
    for w in range(weeks):
        if w:
            selling = rng.random() < (h.p11[0] if selling else h.p01[0])
        if selling:
            x = float(rng.choice(sizes))
            j = 1.0 + math.trunc(x + rng.standard_normal() * math.sqrt(x))
            daily[w * 7 + rng.integers(7)] += j if j > 0 else x
    filled, _ = sq_nightly(daily.tolist(), s, q, lead_days, on_hand=s + q)
    return filled / daily.sum()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sq_nightly_fill_rate_on_the_bootstrap_is_what_a_replay_delivers(seed: int):
    # Weekly history, lumps of about 6 a fifth of the weeks; (s, Q) looked at every night, two
    # weeks' lead time. The fill rate is a difference of the lead time's and the lead time +
    # one night's shortages; drawn from separate samples it was mostly noise (levels of 0
    # promised 1.0, a replay gave under 0.5).
    from segchain.stock.bootstrap import bootstrap_levels

    rng = np.random.default_rng(3)
    y = np.where(rng.random(150) < 0.2, rng.integers(4, 9, 150).astype(float), 0.0)
    y[0] = 6.0
    days = [MONDAY + timedelta(weeks=i) for i in range(150)]
    h = histories(
        pl.DataFrame({"sku": "A", "ds": days, "y": y}), pl.DataFrame({"sku": ["A"]}), ["sku"]
    )
    for target in (0.9, 0.97):
        found = bootstrap_levels(
            h,
            np.array([0]),
            periodic=False,
            lead=np.array([2.0]),
            review=np.array([1 / 7]),
            fill=np.array([True]),
            target=np.array([target]),
            q=np.array([5.0]),
            cap=np.array([np.inf]),
            seed=seed,
        )
        s = float(found.level[0])
        delivered = replay_sq_daily(h, s, 5.0, lead_days=14, weeks=20_000, seed=1)
        assert found.fill[0] >= target
        # The promise is kept (before: 0.84 for 0.90, 0.91 for 0.97), and not by a wide margin,
        # whatever the seed (at 4,000 draws seed 0 took a level of 11 for 0.97: 0.955).
        assert target - 0.005 <= delivered <= found.fill[0] + 0.04


def test_a_bootstrapped_point_is_not_rationed_above_its_historys_largest_demand():
    # Two segments, 0.99 (served first) and 0.80, share an sku that sold 4 units every week for
    # a year, forecast at 2 + 2 a week with an error sd of 6 each: the fitted level is
    # implausible (the history never shows more than 8 over lead time + review), so without
    # reserves the point is planned from its history, S 8. The rationing search simulates the
    # fitted demand the bootstrap rejected: it put S at 72 with a reserve for the lower
    # segment, about 66 units on hand where the plan keeping both promises holds 2, while the
    # row still said demand_model bootstrap and capped (found held out on Superstore's RFM
    # segments by region from 2022-10-10: 8 of 26 rationed points, S 41 where the largest was 23).
    from segchain.config import PolicyTable, SegmentPolicy

    table = PolicyTable(
        {
            "gold": SegmentPolicy(service_level=0.99, priority=1),
            "bronze": SegmentPolicy(service_level=0.8),
        }
    )
    days = [MONDAY + timedelta(weeks=52 + i) for i in range(4)]
    fc = pl.concat(
        [
            pl.DataFrame({"sku": "A", "ds": days, "forecast": 2.0, "error_sd": 6.0, "segment": g})
            for g in ("gold", "bronze")
        ]
    )
    items = pl.DataFrame({"sku": ["A"], "lead_time_days": [7.0]})
    o = orders([("A", w, 4.0) for w in range(52)])
    kw = {"items": items, "policies": table, "review_days": 7, "orders": o, "n_jobs": 1}
    keep = stock(fc, rationing="none", blend="max", **kw).policy
    assert keep["demand_model"].item() == "bootstrap"
    assert keep["order_up_to"].item() == keep["history_max"].item() == 8.0
    res = stock(fc, **kw)
    p = res.policy
    assert p["demand_model"].item() == "bootstrap"
    assert p["order_up_to"].item() <= p["history_max"].item()
    assert not p["rationed"].item()
    assert p["avg_inventory"].item() == pytest.approx(keep["avg_inventory"].item())
    assert not any(n.startswith("rationing:") for n in res.notes)


def _lumpy_histories(skus: list[str], seed: int) -> pl.DataFrame:
    """A year of weekly history per sku: lumps of 5 to 400 units in about a fifth of the weeks
    (a heavy tail, so the level's sampling error over the bootstrap's draws is many units)."""
    rng = np.random.default_rng(seed)
    frames = []
    for sku in skus:
        y = np.where(rng.random(52) < 0.2, np.exp(rng.uniform(1.6, 6.0, 52)).round(), 0.0)
        y[0] = 50.0
        days = [MONDAY + timedelta(weeks=i) for i in range(52)]
        frames.append(pl.DataFrame({"sku": sku, "ds": days, "y": y}))
    return pl.concat(frames)


def test_a_points_bootstrap_does_not_depend_on_the_points_planned_beside_it():
    # Drawn in turn from one generator, a point's draws depended on its place among the
    # bootstrapped points: on Online Retail, leaving one sku out of the forecast moved the
    # reorder points of 185 others (one from 811 to 1,261). The known answer is the point
    # planned alone.
    from segchain.stock.bootstrap import bootstrap_levels

    others = [f"X{i}" for i in range(6)]
    hist = _lumpy_histories(["A", *others], seed=11)

    def level_of_a(skus: list[str]) -> tuple[float, float]:
        h = histories(hist, pl.DataFrame({"sku": skus}), ["sku"])
        m = len(skus)
        found = bootstrap_levels(
            h,
            np.arange(m),
            periodic=False,
            lead=np.full(m, 2.0),
            review=np.full(m, 1 / 7),
            fill=np.full(m, True),
            target=np.full(m, 0.97),
            q=np.full(m, 60.0),
            cap=np.full(m, np.inf),
            seed=0,
        )
        i = skus.index("A")
        return float(found.level[i]), float(found.fill[i])

    alone = level_of_a(["A"])
    assert level_of_a([*others, "A"]) == alone
    assert level_of_a([*others[:3], "A", *others[3:]]) == alone


def test_a_plan_is_the_same_with_or_without_an_unrelated_sku_in_the_forecast():
    # The same end to end: stock on a forecast of lumpy skus, bootstrapped from their
    # history, with and without one more sku; every other row is the same.
    skus = [f"S{i}" for i in range(8)]
    hist = _lumpy_histories(skus, seed=5)
    lines = [
        (r["sku"], (r["ds"] - MONDAY).days // 7, r["y"])
        for r in hist.filter(pl.col("y") > 0).iter_rows(named=True)
    ]
    o = orders(lines)
    weeks = [MONDAY + timedelta(weeks=52 + i) for i in range(4)]
    fc = pl.DataFrame(
        {
            "sku": [s for s in skus for _ in weeks],
            "ds": weeks * len(skus),
            "forecast": 20.0,
            "error_sd": 200.0,  # far wider than the history: every point is bootstrapped
            "demand_class": "lumpy",
        }
    )
    full = stock(fc, orders=o).policy
    assert (full["demand_model"] == "bootstrap").sum() == len(skus)
    less = stock(fc.filter(pl.col("sku") != "S0"), orders=o).policy
    assert less.height == len(skus) - 1
    assert less.equals(full.filter(pl.col("sku") != "S0"))


# --- the demand model is chosen from the history, not the target ------------------------------


def growing(mu: float, sd: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    """An item that sold 1-3 units in 4 weeks of 10 for 40 weeks, once 30 at a time (1.55 a
    week), forecast at ``mu`` a week: orders and forecast."""
    y = [2.0, 0, 0, 3.0, 0, 1.0, 0, 0, 2.0, 0] * 4
    y[17] = 30.0
    o = orders([("A", w, q) for w, q in enumerate(y) if q > 0])
    fc = pl.DataFrame(
        {"sku": "A", "ds": [MONDAY + timedelta(weeks=40 + i) for i in range(4)], "forecast": mu}
    ).with_columns(error_sd=pl.lit(sd))
    return o, fc


@pytest.mark.parametrize("measure", ["fill-rate", "csl"])
@pytest.mark.parametrize(("mu", "sd"), [(4.0, 4.0), (6.0, 5.0), (8.0, 6.0)])
def test_a_higher_target_never_gets_a_lower_level(measure: str, mu: float, sd: float):
    # Judged at the point's own target, the fit was kept while its level stayed within the
    # history's largest demand over an interval and the bootstrap took over above it: at 8 a
    # week, (R, S) weekly, 31 units for 0.90 and 29 for 0.95.
    o, fc = growing(mu, sd)
    items = pl.DataFrame({"sku": ["A"], "lead_time_days": [7.0]})
    levels = []
    for target in (0.8, 0.9, 0.95, 0.97, 0.99, 0.995):
        p = stock(
            fc,
            orders=o,
            items=items,
            review_days=7,
            policy_type="RS",
            service_level=target,
            service_measure=measure,
        ).policy
        levels.append(p["reorder_point"].item())
    assert levels == sorted(levels), levels


def test_a_growing_items_plausible_fit_is_kept():
    # 8 a week, 16 over the interval, against a history of 1.55 a week whose largest two weeks
    # held 32 units: the fit's level for 0.99 (52) is below that history brought up to the
    # forecast (every week selling, sizes x 2.1: 67 units), so the fit plans it at every
    # target, above the history's own largest demand where the target asks for it.
    # Read as a forecast made with --outliers keep read it: forecast's default caps the line of
    # 30 (15 times the median line), and stock's history is the one the forecast read.
    o, fc = growing(8.0, 6.0)
    items = pl.DataFrame({"sku": ["A"], "lead_time_days": [7.0]})
    kw = {"review_days": 7, "policy_type": "RS", "service_level": 0.99, "outliers": "keep"}
    p = stock(fc, orders=o, items=items, **kw).policy
    assert p["demand_model"].item() == "fit"
    assert p["history_max"].item() == 32.0
    assert p["reorder_point"].item() > 32.0


def jittered_cdf(x: float, k: int) -> float:
    """P(1 + trunc(x + z sqrt(x)) <= k) for k >= x >= 1: x + z sqrt(x) < k."""
    return float(stats.norm.cdf((k - x) / math.sqrt(x)))


def test_the_bootstrap_is_brought_up_to_its_forecast_first_by_how_often_it_sells():
    # The alternating history (2 every other period: half the periods sell, 1 a period).
    h = histories(alternating(), pl.DataFrame({"sku": ["A"]}), ["sku"])
    one = np.array([1.0])
    # At 1.5 a period, three periods in four sell at the history's sizes.
    lv = level_to(h, np.array([0]), np.array([1.5]))
    d = draw_interval(h, np.array([0]), one, np.random.default_rng(0), 40_000, lv)[0]
    assert (d > 0).mean() == pytest.approx(0.75, abs=0.01)
    size_mean = sum(k * jittered_two_pmf(k) for k in range(1, 60))
    assert d[d > 0].mean() == pytest.approx(size_mean, rel=0.02)
    # At 3 a period, every period sells, and the sizes grow by 1.5 to 3 (jittered).
    lv = level_to(h, np.array([0]), np.array([3.0]))
    d = draw_interval(h, np.array([0]), one, np.random.default_rng(0), 40_000, lv)[0]
    assert (d > 0).all()
    for k in (3, 4, 5, 6):
        assert (d <= k).mean() == pytest.approx(jittered_cdf(3.0, k), abs=0.01)
    # Below the history's mean, the history is left as it is.
    lv = level_to(h, np.array([0]), np.array([0.2]))
    assert lv.add[0] == 0.0 and lv.size[0] == 1.0
