"""Bugs 4(a)-(g) of the stock issue, each checked against an independent computation."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from scipy import stats

from segchain.config import PolicyTable, SegmentPolicy
from segchain.stock import stock

WEEKS = [date(2024, 1, 1) + timedelta(weeks=i) for i in range(4)]


def forecast(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame([{"ds": d, **r} for r in rows for d in WEEKS])


def negbin(mean: float, var: float):  # type: ignore[no-untyped-def]
    p = mean / var
    return stats.nbinom(mean * p / (1 - p), p)


@pytest.mark.parametrize("review_days", [7.0, 1.0])
def test_sq_csl_of_an_over_dispersed_item_is_not_overstated(review_days: float) -> None:
    # 4(a): mean 0.1 a week, variance/mean 20, (s, Q) looked at weekly (or nightly), CSL 0.90.
    # The exact CSL P(D_L + U <= s), U the undershoot with P(U = u) = P(u < D_R <= u + Q) /
    # E[min(D_R, Q)], computed here on a support of 200,000 units with scipy's negative
    # binomial (a review of R days: R/7 of the week's mean and variance).
    mu, vmr = 0.1, 20.0
    r = review_days / 7
    fc = forecast([{"sku": "A", "forecast": mu, "error_sd": math.sqrt(mu * vmr)}])
    p = stock(
        fc, service_level=0.9, service_measure="csl", policy_type="sQ", review_days=review_days
    ).policy
    s, q = int(p["reorder_point"][0]), int(p["order_qty"][0])
    k = np.arange(200_000)
    f1 = negbin(mu * r, mu * r * vmr).cdf(k)
    g = np.concatenate([f1[q:], np.ones(q)]) - f1
    g /= g.sum()
    lead = negbin(2 * mu, 2 * mu * vmr).pmf(k[:5000])  # 14 days = 2 weekly periods
    cdf = np.cumsum(np.convolve(lead, g[:5000])[:5000])
    assert p["expected_csl"][0] == pytest.approx(cdf[s], abs=1e-4)
    assert cdf[s] >= 0.9 > cdf[s - 1]


def test_rs_order_now_respects_moq_and_pack_size() -> None:
    # 4(b): (R, S) ordered 15 units with MOQ 500 and packs of 12.
    fc = forecast([{"sku": "A", "forecast": 10.0, "error_sd": 3.0}])
    items = pl.DataFrame({"sku": ["A"], "moq": [500.0], "pack_size": [12.0]})
    on_hand = pl.DataFrame({"sku": ["A"], "on_hand": [0.0]})
    p = stock(fc, items=items, on_hand=on_hand, review_days=7).policy
    need = p["order_up_to"][0]
    assert 0 < need < 500
    assert p["order_now"][0] == 504.0  # the MOQ rounded up to 42 packs of 12
    p = stock(fc, items=items, on_hand=on_hand.with_columns(on_hand=pl.lit(1e4)), review_days=7)
    assert p.policy["order_now"][0] == 0.0


def test_mixed_measures_keep_each_segments_promise() -> None:
    # 4(c): gold CSL 0.99 and bronze fill rate 0.90 on one SKU, served first come first served:
    # every segment gets the SKU's CSL and fill rate, so both promises must hold for the SKU.
    table = PolicyTable(
        {
            "gold": SegmentPolicy(service_level=0.99, service_measure="csl"),
            "bronze": SegmentPolicy(service_level=0.90, service_measure="fill-rate"),
        }
    )
    fc = forecast(
        [
            {"sku": "A", "segment": "gold", "forecast": 30.0, "error_sd": 6.0},
            {"sku": "A", "segment": "bronze", "forecast": 70.0, "error_sd": 9.0},
        ]
    )
    p = stock(fc, policies=table, review_days=7, rationing="none").policy
    mean, sd = 300.0, math.sqrt(3 * (36.0 + 81.0))  # L + R = 3 weeks
    csl = stats.norm.cdf((p["order_up_to"][0] - mean) / sd)
    assert csl >= 0.99
    assert p["expected_fill_rate"][0] >= 0.90


@pytest.mark.parametrize(("level", "target"), [(0.5, 0.5), (0.9, 0.9)])
def test_rs_normal_fill_rate_nets_backorders_carried_into_the_cycle(
    level: float, target: float
) -> None:
    # 4(d): exact shortage per cycle E[(D_{L+R} - S)^+] - E[(D_L - S)^+] (Hadley & Whitin),
    # written out with scipy's normal; L = 2 weeks, R = 1 week.
    fc = forecast([{"sku": "A", "forecast": 100.0, "error_sd": 40.0, "demand_class": "smooth"}])
    p = stock(fc, review_days=7, service_level=target, service_measure="csl").policy
    s = p["order_up_to"][0]

    def loss(mean: float, sd: float) -> float:
        k = (s - mean) / sd
        return sd * (stats.norm.pdf(k) - k * stats.norm.sf(k))

    exact = 1 - (loss(300, 40 * math.sqrt(3)) - loss(200, 40 * math.sqrt(2))) / 100
    assert p["expected_fill_rate"][0] == pytest.approx(exact, abs=1e-9)


@pytest.mark.parametrize("target", [0.3, 0.6, 0.95])
def test_rs_avg_inventory_counts_on_hand_not_net_inventory(target: float) -> None:
    # 4(f): mean on hand = the mean of E[(S - D_L)^+] and E[(S - D_{L+R})^+] (start and end of a
    # cycle), summed over scipy's Poisson pmf. The net-inventory formula understated it at low
    # targets.
    fc = forecast([{"sku": "A", "forecast": 4.0, "error_sd": 2.0, "demand_class": "smooth"}])
    p = stock(fc, review_days=7, service_level=target, service_measure="csl").policy
    assert p["distribution"][0] == "poisson"
    s = int(p["order_up_to"][0])
    k = np.arange(s + 1)
    start = float(((s - k) * stats.poisson(8.0).pmf(k)).sum())
    end = float(((s - k) * stats.poisson(12.0).pmf(k)).sum())
    assert p["avg_inventory"][0] == pytest.approx((start + end) / 2, abs=1e-9)


def test_tiny_over_dispersed_point_holds_no_more_than_one_periods_upper_bound() -> None:
    # Online Retail SKU 23134: 0.06 units a week, error sd 103, fill-rate target 0.95: the
    # negative binomial fit asked for a level of 322,035 units. With under 1 unit of expected
    # demand over the protection interval, the level is capped at one period's upper bound.
    fc = forecast(
        [{"sku": "A", "forecast": 0.059, "error_sd": 103.1, "forecast-hi-95": 359.3}]
    ).with_columns(pl.col("forecast-hi-95"))
    p = stock(fc).policy
    assert p["mean_demand_lt"][0] < 1
    assert p["reorder_point"][0] == 360.0
    assert p["capped"][0]
    # Without the bound (a forecast without interval columns), the fit asked for 322,035 units
    # and nothing capped it; it is held to one period's bound from its error sd now, 0.059 +
    # 103.1 * sqrt(3652.5 / 7) = 2,355.1 (test_stock_error_bound.py).
    unbounded = stock(fc.drop("forecast-hi-95")).policy
    assert unbounded["reorder_point"][0] == math.ceil(0.059 + 103.1 * math.sqrt(3652.5 / 7))
    assert unbounded["reorder_point"][0] == 2356.0 and unbounded["capped"][0]


def _rq_cost_poisson(
    r: int, q: int, h: float, p: float, k: float, mean: float, start_mean: float | None = None
) -> float:
    """g(r, Q) = (K lambda + sum_{y=r+1}^{r+Q} g(y)) / Q, g(y) = h E[(y - D)^+] + p E[(D - y)^+]
    with D Poisson(``mean``) (Snyder & Shen, eq. 5.48; stockpyl's ``rq.r_q_cost_poisson``),
    summed over scipy's pmf; ``start_mean``: g(y) is the mean over two demands (start and end of
    a review), Poisson(``start_mean``) and Poisson(``mean``). ``k`` is K lambda here."""
    x = np.arange(0, 2000)
    means = [mean] if start_mean is None else [start_mean, mean]
    total = 0.0
    for y in range(r + 1, r + q + 1):
        for m in means:
            f = stats.poisson(m).pmf(x)
            on = float((np.maximum(y - x, 0) * f).sum())
            short = float((np.maximum(x - y, 0) * f).sum())
            total += (h * on + p * short) / len(means)
    return (k + total) / q


def test_rq_cost_helper_reproduces_snyder_shen_example_5_8() -> None:
    # Example 5.8 (stockpyl doctest): r = 3, Q = 5, h = 20, p = 150, K = 100, lambda = 1.5,
    # L = 2: g = 107.92358063314975.
    assert _rq_cost_poisson(3, 5, 20.0, 150.0, 100.0 * 1.5, 3.0) == pytest.approx(
        107.92358063314975, abs=1e-9
    )


@pytest.mark.parametrize("review_days", [1.0, 7.0])
def test_discrete_sq_avg_inventory_is_the_mean_over_the_whole_units_of_the_position(
    review_days: float,
) -> None:
    # Integer units: after ordering, the inventory position is uniform on s+1, ..., s+Q, whose
    # mean is s + (Q + 1)/2 (Zipkin, sec. 6.2; Axsaeter, sec. 5.3), not s + Q/2. Mean stock on
    # hand: the mean over those positions y of E[(y - D)^+] at the start (D over the lead time)
    # and at the end (D over lead time + review) of a review: the cost g(r, Q) above with h = 1,
    # p = 0, K = 0.
    items = pl.DataFrame(
        {"sku": ["A"], "lead_time_days": [14.0], "unit_cost": [2.0], "order_cost": [30.0]}
    )
    fc = forecast([{"sku": "A", "forecast": 3.0, "error_sd": math.sqrt(3.0)}])
    p = stock(fc, items=items, service_level=0.95, policy_type="sQ", review_days=review_days).policy
    assert p["distribution"][0] == "poisson"
    s, q = int(p["reorder_point"][0]), int(p["order_qty"][0])
    assert q == p["order_qty"][0] and q >= 4
    lead, whole = 3.0 * 14 / 7, 3.0 * (14 + review_days) / 7
    expected = _rq_cost_poisson(s, q, 1.0, 0.0, 0.0, whole, start_mean=lead)
    assert p["avg_inventory"][0] == pytest.approx(expected, abs=1e-6)


def test_a_segment_under_its_target_because_of_capped_points_is_explained() -> None:
    # The demo's comparison showed Champions at 98.9 % against 99 %: tiny points held at one
    # period's upper forecast bound give less than the target on purpose. The stage says so,
    # with the share of the segment's demand they carry and the service of its other points.
    table = PolicyTable({"gold": SegmentPolicy(service_level=0.99)})
    fc = pl.concat(
        [
            forecast([{"sku": "A", "segment": "gold", "forecast": 0.059, "error_sd": 103.1}]),
            forecast([{"sku": "B", "segment": "gold", "forecast": 50.0, "error_sd": 10.0}]),
        ]
    ).with_columns(pl.lit(359.3).alias("forecast-hi-95"))
    res = stock(fc, policies=table, compare_uniform="equal")
    p = {r["sku"]: r for r in res.policy.iter_rows(named=True)}
    assert p["A"]["capped"] and not p["B"]["capped"]
    w = {k: p[k]["mean_demand"] for k in p}
    overall = sum(p[k]["expected_fill_rate"] * w[k] for k in p) / sum(w.values())
    assert overall < 0.99
    (note,) = [n for n in res.notes if n.startswith("gold: expected fill rate")]
    assert f"{overall:.1%} against its 99.0% target" in note
    assert "its 1 capped stocking point (" in note
    assert f"{w['A'] / (w['A'] + w['B']):.2%} of its demand" in note
    assert f"its other points give {p['B']['expected_fill_rate']:.1%}" in note


GOLD_BRONZE = PolicyTable(
    {"gold": SegmentPolicy(service_level=0.99), "bronze": SegmentPolicy(service_level=0.90)}
)


def shared_point() -> pl.DataFrame:
    """Point A bought by gold (0.99) and bronze (0.90) alike: 50 a week each, sd 10."""
    return pl.concat(
        [
            forecast([{"sku": "A", "segment": seg, "forecast": 50.0, "error_sd": 10.0}])
            for seg in ("gold", "bronze")
        ]
    )


def test_a_segment_under_its_target_at_shared_points_is_said_so_without_compare_uniform():
    # Found on 300 products of The Complete Journey with the demo's segchain.toml (default
    # (s, Q), no --compare-uniform): every product is bought by every segment, so every point
    # planned the blend (about 0.973) and Champions, promised 0.99, were expected to get 97.4 %
    # with nothing on stderr; only --compare-uniform's table showed it. Here gold (0.99) and
    # bronze (0.90) share one point at equal demand: served first come, first served
    # (`--rationing none`, and every (s, Q) point before (s, Q) was rationed) and planned for
    # 0.945, gold gets that.
    table = GOLD_BRONZE
    fc = shared_point()
    res = stock(fc, policies=table, policy_type="sQ", rationing="none")
    (p,) = res.policy.iter_rows(named=True)
    assert p["service_target"] == pytest.approx(0.945) and not p["capped"]
    (note,) = [n for n in res.notes if n.startswith("gold: expected fill rate")]
    assert f"{p['expected_fill_rate']:.1%} against its 99.0% target" in note
    assert "first come, first served at their segments' blended target" in note
    assert "rationing is off (`--rationing none`)" in note
    assert "--blend max" in note and "capped" not in note
    # bronze gets more than its own 0.90: nothing to say about it.
    assert not [n for n in res.notes if n.startswith("bronze:")]
    # Rationed by priority (the default), each keeps its promise: nothing to say.
    rationed = stock(fc, policies=table, policy_type="sQ")
    assert rationed.policy["rationed"][0]
    assert not [n for n in rationed.notes if "expected fill rate" in n]
    assert rationed.segments is not None
    own = dict(rationed.segments.select("segment", "expected_fill_rate").iter_rows())
    assert own["gold"] >= 0.99 and own["bronze"] >= 0.90
    # Order-up-to points with rationing off say the same.
    off = stock(fc, policies=table, policy_type="RS", review_days=7.0, rationing="none")
    (note,) = [n for n in off.notes if n.startswith("gold: expected fill rate")]
    assert "rationing is off (`--rationing none`)" in note and "(s, Q)" not in note
    # Planned for the highest target (--blend max), the promise holds: no note.
    kept = stock(fc, policies=table, policy_type="sQ", blend="max")
    assert not [n for n in kept.notes if "expected fill rate" in n]


def test_a_segment_under_its_target_at_points_it_shares_is_not_said_to_be_short_for_the_caps():
    # Held out per site on Superstore ((s, Q), Corporate 0.98 sharing every point with segments
    # promised 0.95 and 0.90), stderr said Corporate's 94.4 % was "because 2 of its stocking
    # points are capped", which carry 0.39 % of its demand; its other points gave 94.4 % too,
    # first come, first served at the blended target. A is a shared point, B a capped tiny one.
    table = GOLD_BRONZE
    fc = pl.concat(
        [
            shared_point(),
            forecast([{"sku": "B", "segment": "gold", "forecast": 0.059, "error_sd": 103.1}]),
        ]
    ).with_columns(pl.lit(359.3).alias("forecast-hi-95"))
    res = stock(fc, policies=table, policy_type="sQ", compare_uniform="equal", rationing="none")
    p = {r["sku"]: r for r in res.policy.iter_rows(named=True)}
    assert p["B"]["capped"] and not p["A"]["capped"]
    assert p["A"]["service_target"] == pytest.approx(0.945)
    (note,) = [n for n in res.notes if n.startswith("gold: expected fill rate")]
    assert "because" not in note
    assert "first come, first served at their segments' blended target" in note
    assert f"{p['A']['expected_fill_rate']:.1%} where not capped" in note
    assert "its 1 capped stocking point (" in note
