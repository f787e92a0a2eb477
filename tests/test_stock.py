"""Unit tests of the stock stage: textbook formulas, aggregation, segment targets, bad input."""

from __future__ import annotations

import math
from datetime import date, timedelta
from statistics import NormalDist

import numpy as np
import polars as pl
import pytest

from segchain.config import PolicyTable, SegmentPolicy
from segchain.errors import DataError, MissingColumnsError, UsageError
from segchain.stock import (
    ITEM_DEFAULTS,
    dist_loss2,
    eoq,
    fit_params,
    inverse_normal_loss,
    normal_loss,
    normal_loss2,
    round_order_qty,
    stock,
)

WEEKS = [date(2024, 1, 1) + timedelta(weeks=i) for i in range(4)]


def forecast(rows: list[dict], periods: list[date] = WEEKS) -> pl.DataFrame:
    """One row per series x period; each dict gives sku, forecast, error_sd (and extras)."""
    out = []
    for r in rows:
        for d in periods:
            out.append({"ds": d, **r})
    return pl.DataFrame(out)


def items(**cols: list) -> pl.DataFrame:
    return pl.DataFrame(cols)


def one(result, column: str, sku: str = "A") -> float:
    return result.policy.filter(pl.col("sku") == sku).get_column(column).item()


# --- textbook helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "g"),
    # Standard normal loss function table (Silver, Pyke & Peterson, Appendix B).
    [(0.0, 0.3989), (0.5, 0.1978), (1.0, 0.0833), (1.5, 0.0293), (2.0, 0.0085), (-1.0, 1.0833)],
)
def test_normal_loss_matches_table(k: float, g: float) -> None:
    assert normal_loss(k) == pytest.approx(g, abs=5e-5)


def test_normal_losses_reach_their_limits_without_overflow() -> None:
    # Far tails: G(k) -> 0 and G2(k) -> 0 above the mean; G(k) -> -k below it (phi -> 0, Phi -> 0).
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert normal_loss(1e200) == 0.0
        assert normal_loss(-1e200) == 1e200
        assert normal_loss2(1e200) == 0.0
        assert normal_loss2(40.0) == 0.0
    # In the tail it still agrees with E[((Z - k)^+)^2] / 2 integrated numerically.
    from scipy.integrate import quad

    for k in (4.0, 6.0, 8.0):
        ref = quad(lambda z, k=k: (z - k) ** 2 * math.exp(-z * z / 2), k, k + 40)[0]
        ref /= 2 * math.sqrt(2 * math.pi)
        assert normal_loss2(k) == pytest.approx(ref, rel=0.02, abs=0.0), k


@pytest.mark.parametrize("k", [-3.0, -0.5, 0.0, 1.0, 2.5, 4.0])
def test_inverse_normal_loss_inverts_closed_form(k: float) -> None:
    # G(k) written out independently: phi(k) - k*(1 - Phi(k)).
    phi = math.exp(-k * k / 2) / math.sqrt(2 * math.pi)
    tail = 0.5 * math.erfc(k / math.sqrt(2))
    assert inverse_normal_loss(phi - k * tail) == pytest.approx(k, abs=1e-7)


def test_eoq_snyder_shen_example_3_1() -> None:
    assert eoq(1300, 8, 0.225) == pytest.approx(304.05, abs=0.005)


@pytest.mark.parametrize(
    ("q", "moq", "pack", "expected"),
    [
        (304.05, 0, 1, 305),
        (304.05, 500, 1, 500),
        (304.05, 0, 12, 312),
        (0.0, 0, 6, 6),
        (7, 10, 4, 12),
    ],
)
def test_round_order_qty_moq_then_pack(q: float, moq: float, pack: float, expected: float) -> None:
    assert round_order_qty(q, moq, pack) == expected


# --- normal policies ------------------------------------------------------------------------


def test_stock_csl_reorder_point_is_mean_plus_z_sd() -> None:
    # Weekly periods, (R, S) with R = L = 1 week: mean 200, sd sqrt(2)*20; z(95 %) = 1.6449.
    fc = forecast([{"sku": "A", "forecast": 100.0, "error_sd": 20.0, "demand_class": "smooth"}])
    res = stock(
        fc,
        items=items(sku=["A"], lead_time_days=[7.0], lead_time_sd_days=[0.0]),
        review_days=7,
        service_level=0.95,
        service_measure="csl",
    )
    assert one(res, "reorder_point") == math.ceil(200 + 1.6449 * 20 * math.sqrt(2))


def test_stock_sd_over_interval_includes_lead_time_variability() -> None:
    # sqrt(T*sd^2 + mean^2*sd_L^2) with T = L + R, sd_L = 0.5 week; (s, Q) looked at nightly
    # by default (R = 1/7 week), or weekly.
    fc = forecast([{"sku": "A", "forecast": 100.0, "error_sd": 20.0}])
    it = items(sku=["A"], lead_time_days=[7.0], lead_time_sd_days=[3.5])
    res = stock(fc, items=it)
    assert one(res, "sd_demand_lt") == pytest.approx(math.sqrt(8 / 7 * 400 + 100**2 * 0.25))
    assert (one(res, "policy_type"), one(res, "review_days")) == ("sQ", 1.0)
    res = stock(fc, items=it, policy_type="sQ", review_days=7)
    assert one(res, "sd_demand_lt") == pytest.approx(math.sqrt(2 * 400 + 100**2 * 0.25))


def test_stock_periodic_review_protects_lead_time_plus_review() -> None:
    fc = forecast([{"sku": "A", "forecast": 100.0, "error_sd": 20.0}])
    res = stock(fc, items=items(sku=["A"], lead_time_days=[14.0]), review_days=7)
    assert one(res, "mean_demand_lt") == pytest.approx(300.0)
    assert one(res, "sd_demand_lt") == pytest.approx(20.0 * math.sqrt(3))


def normal_first_loss(x: float, mean: float, sd: float) -> float:
    """E[(D - x)^+] for D ~ normal(mean, sd), written out: sd*(phi(k) - k*(1 - Phi(k)))."""
    k = (x - mean) / sd
    return sd * (
        math.exp(-k * k / 2) / math.sqrt(2 * math.pi) - k * 0.5 * math.erfc(k / math.sqrt(2))
    )


def test_stock_fill_rate_level_solves_loss_equation() -> None:
    # (s, Q) on weekly demand is (R = 1 week, s, nQ): after ordering the position is uniform on
    # (s, s + Q], so the shortage per week is the mean over y in (s, s + Q] of
    # E[(D_{L+1} - y)^+] - E[(D_L - y)^+] (Hadley & Whitin; Axsaeter sec. 5.3), here integrated
    # numerically (Simpson) instead of with the second-order loss function the code uses.
    # Q = EOQ of 5200/yr, K = 50, h = 0.25*10; L = 2 weeks; target fill rate 0.98.
    fc = forecast([{"sku": "A", "forecast": 100.0, "error_sd": 20.0}])
    res = stock(
        fc,
        items=items(
            sku=["A"],
            unit_cost=[10.0],
            order_cost=[50.0],
            holding_rate=[0.25],
            lead_time_days=[14.0],
            lead_time_sd_days=[0.0],
            moq=[0.0],
            pack_size=[1.0],
        ),
        service_level=0.98,
        service_measure="fill-rate",
        policy_type="sQ",
        review_days=7,
    )
    q = math.ceil(math.sqrt(2 * 100 * 365.25 / 7 * 50 / 2.5))
    s = one(res, "reorder_point")
    assert one(res, "order_qty") == q

    def shortage_per_week(level: float, steps: int = 2000) -> float:
        h = q / steps

        def d(y: float) -> float:
            return normal_first_loss(y, 300, 20 * math.sqrt(3)) - normal_first_loss(
                y, 200, 20 * math.sqrt(2)
            )

        ys = [level + i * h for i in range(steps + 1)]
        w = [1 if i in (0, steps) else (4 if i % 2 else 2) for i in range(steps + 1)]
        return sum(wi * d(y) for wi, y in zip(w, ys, strict=True)) * h / 3 / q

    assert shortage_per_week(s) <= 0.02 * 100 < shortage_per_week(s - 1)
    assert one(res, "expected_fill_rate") == pytest.approx(1 - shortage_per_week(s) / 100)


def test_stock_daily_forecast_counts_lead_time_in_days() -> None:
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(5)]
    fc = forecast([{"sku": "A", "forecast": 30.0, "error_sd": 5.0}], periods=days)
    # (s, Q) protects 9 days of lead time plus the nightly review.
    res = stock(fc, items=items(sku=["A"], lead_time_days=[9.0]))
    assert one(res, "mean_demand_lt") == pytest.approx(300.0)
    assert res.period_days == 1.0


# --- slow and lumpy items -------------------------------------------------------------------


def poisson_cdf(k: int, m: float) -> float:
    return sum(math.exp(-m) * m**i / math.factorial(i) for i in range(k + 1))


@pytest.mark.parametrize(
    ("target", "mean_week"), [(0.9, 0.2), (0.95, 0.2), (0.99, 0.5), (0.8, 1.0)]
)
def test_stock_poisson_csl_is_smallest_level_by_cdf_sums(target: float, mean_week: float) -> None:
    fc = forecast(
        [
            {
                "sku": "A",
                "forecast": mean_week,
                "error_sd": math.sqrt(mean_week),
                "demand_class": "intermittent",
            }
        ]
    )
    # (R, S): 2 weeks of lead time plus the one-week review.
    res = stock(
        fc,
        items=items(sku=["A"], lead_time_days=[14.0]),
        review_days=7,
        service_level=target,
        service_measure="csl",
    )
    m = 3 * mean_week
    expected = next(k for k in range(100) if poisson_cdf(k, m) >= target)
    assert one(res, "distribution") == "poisson"
    assert one(res, "reorder_point") == expected


def test_stock_poisson_fill_rate_matches_brute_force_shortage() -> None:
    # (R, S), R = 1 week, L = 2 weeks, Poisson 0.2/week: shortage per review
    # E[(D3 - S)^+] - E[(D2 - S)^+] <= (1 - 0.95) * 0.2, summed term by term here.
    fc = forecast([{"sku": "A", "forecast": 0.2, "error_sd": math.sqrt(0.2)}])
    res = stock(
        fc, items=items(sku=["A"], lead_time_days=[14.0]), review_days=7, service_level=0.95
    )

    def loss(m: float, s: int) -> float:
        return sum((k - s) * math.exp(-m) * m**k / math.factorial(k) for k in range(s + 1, 80))

    expected = next(s for s in range(50) if loss(0.6, s) - loss(0.4, s) <= 0.05 * 0.2)
    assert one(res, "order_up_to") == expected == 3


def test_stock_lumpy_item_uses_negative_binomial_not_normal() -> None:
    fc = forecast([{"sku": "A", "forecast": 50.0, "error_sd": 60.0, "demand_class": "lumpy"}])
    res = stock(fc, items=items(sku=["A"], lead_time_days=[14.0]))
    assert one(res, "distribution") == "negbin"


def test_stock_low_mean_smooth_item_is_not_normal() -> None:
    fc = forecast([{"sku": "A", "forecast": 2.0, "error_sd": 1.0, "demand_class": "smooth"}])
    res = stock(fc, items=items(sku=["A"], lead_time_days=[14.0]))
    assert one(res, "distribution") == "poisson"


# --- aggregation and segment targets -------------------------------------------------------


def two_segments() -> pl.DataFrame:
    return forecast(
        [
            {"sku": "A", "segment": "Champions", "forecast": 30.0, "error_sd": 3.0},
            {"sku": "A", "segment": "Hibernating", "forecast": 10.0, "error_sd": 4.0},
        ]
    )


POLICIES = PolicyTable(
    {
        "Champions": SegmentPolicy(service_level=0.99, service_measure="csl"),
        "Hibernating": SegmentPolicy(service_level=0.90, service_measure="csl"),
    }
)


def test_stock_sums_segments_into_one_stocking_point() -> None:
    res = stock(two_segments(), policies=POLICIES)
    assert res.policy.height == 1
    assert one(res, "mean_demand") == 40.0
    assert one(res, "sd_demand") == pytest.approx(5.0)  # sqrt(3^2 + 4^2)


@pytest.mark.parametrize(
    ("blend", "target", "segment"),
    [("weighted", 0.75 * 0.99 + 0.25 * 0.90, "Champions"), ("max", 0.99, "Champions")],
)
def test_stock_blends_segment_targets(blend: str, target: float, segment: str) -> None:
    res = stock(two_segments(), policies=POLICIES, blend=blend)
    assert one(res, "service_target") == pytest.approx(target)
    assert one(res, "segment") == segment


def test_stock_measure_comes_from_the_segments_not_the_default() -> None:
    res = stock(two_segments(), policies=POLICIES, service_measure="fill-rate")
    assert one(res, "service_measure") == "csl"


def test_stock_service_level_is_default_for_unlisted_segments() -> None:
    fc = forecast([{"sku": "A", "segment": "New", "forecast": 30.0, "error_sd": 3.0}])
    res = stock(fc, policies=POLICIES, service_level=0.85)
    assert one(res, "service_target") == 0.85


def test_stock_compare_uniform_has_segments_and_overall() -> None:
    # Not rationed: the uniform plan from the formulas (at a rationed point it is the no-reserve
    # plan of the rationing's simulation, tests/test_stock_rationing.py).
    res = stock(two_segments(), policies=POLICIES, compare_uniform=0.95, rationing="none")
    assert res.comparison is not None
    assert res.comparison.get_column("segment").to_list() == ["Champions", "Hibernating", "(all)"]
    uniform = stock(two_segments(), service_level=0.95, service_measure="csl")
    overall = res.comparison.filter(pl.col("segment") == "(all)")
    assert overall["inventory_value_uniform"].item() == pytest.approx(
        uniform.policy["inventory_value"].sum()
    )


def test_stock_compare_uniform_equal_uses_demand_weighted_mean_target() -> None:
    fc = forecast(
        [
            {"sku": "A", "segment": "Champions", "forecast": 30.0, "error_sd": 3.0},
            {"sku": "B", "segment": "Hibernating", "forecast": 10.0, "error_sd": 4.0},
        ]
    )
    res = stock(fc, policies=POLICIES, compare_uniform="equal")
    assert res.comparison is not None
    # SKU A (demand 30) at 0.99, SKU B (demand 10) at 0.90: (30*0.99 + 10*0.90) / 40.
    assert res.comparison["uniform_target"][0] == pytest.approx((30 * 0.99 + 10 * 0.90) / 40)


@pytest.mark.parametrize("rationing", ["none", "critical-level"])
def test_stock_compare_uniform_keep_meets_every_measure_at_every_point(rationing: str) -> None:
    # A: Gold (fill rate 0.99) buys 60 a week, Silver (CSL 0.95) 40; B: Bronze (CSL 0.90) 100.
    # Both points: (R, S), R = L = 1 week, demand over L + R normal(200, 20*sqrt(2)). The uniform
    # plan keeping every promise holds, at every point, the CSL 0.95 level as a CSL and the fill
    # rate 0.99 level as a fill rate: S = ceil(200 + z(0.95) 20 sqrt(2)) = 247 (its fill rate,
    # 1 - E[(D_{L+R} - 247)^+] / 100 with the normal loss written out, is above 0.99). One
    # 0.99 target applied in A's main measure (fill rate) gave Silver a CSL of 0.92.
    fc = forecast(
        [
            {"sku": "A", "segment": "Gold", "forecast": 60.0, "error_sd": 12.0},
            {"sku": "A", "segment": "Silver", "forecast": 40.0, "error_sd": 16.0},
            {"sku": "B", "segment": "Bronze", "forecast": 100.0, "error_sd": 20.0},
        ]
    )
    table = PolicyTable(
        {
            "Gold": SegmentPolicy(service_level=0.99, service_measure="fill-rate"),
            "Silver": SegmentPolicy(service_level=0.95, service_measure="csl"),
            "Bronze": SegmentPolicy(service_level=0.90, service_measure="csl"),
        }
    )
    it = items(sku=["A", "B"], unit_cost=[1.0, 1.0], lead_time_days=[7.0, 7.0])
    it = it.with_columns(lead_time_sd_days=pl.lit(0.0))
    res = stock(
        fc, items=it, policies=table, review_days=7, rationing=rationing, compare_uniform="keep"
    )
    assert res.comparison is not None
    rows = {r["segment"]: r for r in res.comparison.iter_rows(named=True)}
    sd = 20.0 * math.sqrt(2)
    level = math.ceil(200 + NormalDist().inv_cdf(0.95) * sd)
    assert level == 247
    assert 1 - normal_first_loss(level, 200, sd) / 100 >= 0.99
    csl = NormalDist(200, sd).cdf(level)
    for name in ("Gold", "Silver", "Bronze"):
        assert rows[name]["csl_uniform"] == pytest.approx(csl, abs=1e-6)
        assert rows[name]["csl_uniform"] >= 0.95
        assert rows[name]["fill_rate_uniform"] >= 0.99
    assert (
        rows["(all)"]["uniform_plan"] == "uniform: csl 0.9500 and fill-rate 0.9900 at every point"
    )
    seg, uni = rows["(all)"]["inventory_value_segmented"], rows["(all)"]["inventory_value_uniform"]
    assert seg <= uni + 1e-9
    # B alone is stocked at CSL 0.90 in the segmented plan, below the uniform 247.
    assert one(res, "reorder_point", "B") == math.ceil(200 + NormalDist().inv_cdf(0.90) * sd)
    assert seg < uni


# --- items and on-hand ----------------------------------------------------------------------


def test_stock_counts_items_using_defaults() -> None:
    fc = forecast(
        [
            {"sku": "A", "forecast": 10.0, "error_sd": 2.0},
            {"sku": "B", "forecast": 10.0, "error_sd": 2.0},
            {"sku": "C", "forecast": 10.0, "error_sd": 2.0},
        ]
    )
    full = {c: [v, v] for c, v in ITEM_DEFAULTS.items()}
    it = pl.DataFrame({"sku": ["A", "B"], **full}).with_columns(
        pl.when(pl.col("sku") == "B").then(None).otherwise(pl.col("unit_cost")).alias("unit_cost")
    )
    res = stock(fc, items=it)
    assert res.items_defaulted == 2  # B (empty unit_cost) and C (not in the master)


def test_stock_lead_time_option_fills_missing_lead_times() -> None:
    fc = forecast([{"sku": "A", "forecast": 10.0, "error_sd": 2.0}])
    res = stock(fc, items=items(sku=["A"], unit_cost=[3.0]), lead_time_days=21)
    assert one(res, "lead_time_days") == 21.0


def test_stock_order_now_lifts_position_above_reorder_point() -> None:
    fc = forecast([{"sku": "A", "forecast": 100.0, "error_sd": 20.0}])
    it = items(sku=["A"], lead_time_days=[14.0], moq=[250.0], pack_size=[1.0])
    res = stock(
        fc,
        items=it,
        on_hand=pl.DataFrame({"sku": ["A", "A"], "site": ["X", "Y"], "on_hand": [10.0, 5.0]}),
    )
    s, q = one(res, "reorder_point"), one(res, "order_qty")
    assert one(res, "on_hand") == 15.0
    expected = (math.floor((s - 15) / q) + 1) * q
    assert one(res, "order_now") == expected
    assert 15 + expected > s


def test_stock_no_null_or_nan_in_output() -> None:
    fc = forecast(
        [
            {"sku": "A", "forecast": 0.0, "error_sd": 0.0, "demand_class": "lumpy"},
            {"sku": "B", "forecast": 100.0, "error_sd": 0.0},
            {"sku": "C", "forecast": 0.3, "error_sd": 2.0, "demand_class": "intermittent"},
        ]
    )
    pol = stock(fc).policy
    numeric = pol.select(pl.col(pl.Float64))
    assert not any(numeric.select(pl.all().is_nan().any()).row(0))
    # Empty only where service is undefined: A's, forecast 0 (a fill rate of no demand).
    service = ["expected_fill_rate", "expected_csl"]
    assert numeric.drop(service).null_count().sum_horizontal().item() == 0
    for c in service:
        assert pol.filter(pl.col(c).is_null())["sku"].to_list() == ["A"]


# --- bad input ------------------------------------------------------------------------------


def test_stock_rejects_negative_forecast_naming_series() -> None:
    fc = forecast(
        [
            {"unique_id": "s1", "sku": "A", "forecast": -1.0, "error_sd": 2.0},
            {"unique_id": "s2", "sku": "B", "forecast": 1.0, "error_sd": float("nan")},
        ]
    )
    with pytest.raises(DataError) as exc:
        stock(fc)
    message = str(exc.value)
    assert (
        "forecast must be a finite number >= 0 up to 1e+15, got -1.0 for unique_id@ds 's1@"
        in message
    )
    assert (
        "error_sd must be a finite number >= 0 up to 1e+15, got nan for unique_id@ds 's2@"
        in message
    )


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, -0.2, 100])
def test_stock_rejects_service_level_outside_unit_interval(level: float) -> None:
    fc = forecast([{"sku": "A", "forecast": 1.0, "error_sd": 1.0}])
    with pytest.raises(UsageError, match="strictly between 0 and 1"):
        stock(fc, service_level=level)


def test_stock_rejects_bad_item_master_listing_all_problems() -> None:
    fc = forecast([{"sku": "A", "forecast": 1.0, "error_sd": 1.0}])
    it = items(sku=["A", "A", "B"], lead_time_days=[7.0, 7.0, -3.0])
    with pytest.raises(DataError) as exc:
        stock(fc, items=it)
    assert str(exc.value).startswith(
        "--items: 1 sku is on more than one row: 'A' (rows 1, 2); lead_time_days must be a "
        "finite number >= 0 up to 3660, got -3.0 for sku 'B'"
    )


def test_stock_keeps_on_hand_for_skus_without_demand_as_flagged_rows() -> None:
    fc = forecast([{"sku": "A", "forecast": 1.0, "error_sd": 1.0}])
    oh = pl.DataFrame({"sku": ["A", "Z9"], "on_hand": [1.0, 2.0]})
    r = stock(fc, on_hand=oh)
    z9 = r.policy.filter(pl.col("sku") == "Z9").row(0, named=True)
    assert (z9["no_demand"], z9["on_hand"], z9["order_now"], z9["mean_demand"]) == (
        True,
        2.0,
        0.0,
        0.0,
    )
    assert one(r, "no_demand") is False
    note = "1 on-hand row at 1 stocking point without forecast demand (sku 'Z9')"
    assert sum(note in n for n in r.notes) == 1


def test_stock_rejects_on_hand_rows_without_a_sku() -> None:
    fc = forecast([{"sku": "A", "forecast": 1.0, "error_sd": 1.0}])
    oh = pl.DataFrame({"sku": ["A", None], "on_hand": [1.0, 2.0]})
    with pytest.raises(DataError, match="1 row has no sku"):
        stock(fc, on_hand=oh)


def test_stock_rejects_negative_lead_time_option() -> None:
    fc = forecast([{"sku": "A", "forecast": 1.0, "error_sd": 1.0}])
    with pytest.raises(UsageError, match="--lead-time-days"):
        stock(fc, lead_time_days=-1)


def test_stock_names_missing_forecast_columns() -> None:
    with pytest.raises(MissingColumnsError) as exc:
        stock(pl.DataFrame({"sku": ["A"], "ds": [date(2024, 1, 1)]}))
    assert exc.value.missing == ["forecast", "error_sd"]


def test_stock_vectorised_many_points_match_single_point() -> None:
    # Same SKU parameters repeated: every row must equal the single-row answer.
    rng = np.random.default_rng(0)
    mus = rng.uniform(0.1, 80, 40)
    rows = [
        {"sku": f"S{i}", "forecast": float(m), "error_sd": float(np.sqrt(m) * 1.5)}
        for i, m in enumerate(mus)
    ]
    together = stock(forecast(rows)).policy.sort("sku")
    alone = pl.concat([stock(forecast([r])).policy for r in rows]).sort("sku")
    assert together["reorder_point"].to_list() == alone["reorder_point"].to_list()


# --- second-order loss and the (s, Q) undershoot ----------------------------------------------


@pytest.mark.parametrize(("k", "g2"), [(0.0, 0.25), (1.0, 0.5 * (2 * 0.158655254 - 0.241970725))])
def test_normal_loss2_matches_closed_form(k: float, g2: float) -> None:
    # G2(0) = E[Z^2; Z > 0]/2 = 1/4; G2(1) = ((1 + 1)*(1 - Phi(1)) - phi(1))/2 from tables.
    assert normal_loss2(k) == pytest.approx(g2, abs=1e-8)


@pytest.mark.parametrize("x", [0, 1, 2, 5, 9])
@pytest.mark.parametrize(("dist", "mean", "var"), [("poisson", 2.7, 2.7), ("negbin", 2.7, 9.0)])
def test_dist_loss2_matches_brute_force_sum(dist: str, mean: float, var: float, x: int) -> None:
    # sum over y > x of E[(D - y)^+], with the pmf written out term by term.
    if dist == "poisson":
        pmf = [math.exp(k * math.log(mean) - mean - math.lgamma(k + 1)) for k in range(200)]
    else:
        p = mean / var
        r = mean * p / (1 - p)
        pmf = [
            math.exp(math.lgamma(k + r) - math.lgamma(r) - math.lgamma(k + 1)) * p**r * (1 - p) ** k
            for k in range(400)
        ]
    brute = sum(
        sum((k - y) * pk for k, pk in enumerate(pmf) if k > y) for y in range(x + 1, len(pmf))
    )
    a, b = fit_params(dist, np.array([mean]), np.array([var]))
    assert dist_loss2(dist, np.array([float(x)]), a, b)[0] == pytest.approx(brute, rel=1e-9)


def mixed_slow_forecast(n: int = 300, seed: int = 3) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Slow and lumpy series of many shapes, and items with lead times and costs of many sizes."""
    rng = np.random.default_rng(seed)
    mu = rng.lognormal(-0.5, 1.2, n)
    sd = rng.choice([0.8, 1.0, 2.5, 5.0], n) * np.sqrt(mu + 0.05)
    cls = rng.choice(["intermittent", "lumpy"], n)
    rows = [
        {"sku": f"S{i}", "forecast": float(mu[i]), "error_sd": float(sd[i]), "demand_class": c}
        for i, c in enumerate(cls)
    ]
    it = pl.DataFrame(
        {
            "sku": [f"S{i}" for i in range(n)],
            "unit_cost": rng.uniform(1, 200, n),
            "lead_time_days": rng.choice([0.0, 7.0, 14.0, 35.0], n),
            "lead_time_sd_days": rng.choice([0.0, 3.0], n),
        }
    )
    return forecast(rows, periods=WEEKS[:2]), it


@pytest.mark.parametrize(
    ("review", "measure", "level"),
    [(None, "fill-rate", 0.97), (7.0, "fill-rate", 0.97), (7.0, "csl", 0.9)],
)
def test_stock_pmf_grid_matches_closed_form_bisection(
    monkeypatch, review: float | None, measure: str, level: float
) -> None:
    # Two independent routes to the discrete levels: the pmf grid (cumulative sums) and scipy's
    # closed-form cdf and loss functions searched by bisection (forced with a zero grid width).
    # The (s, Q) CSL differs by design: exact undershoot on the grid, moments in closed form.
    import segchain.stock.levels as stock_module

    fc, it = mixed_slow_forecast()
    kw = {"items": it, "review_days": review, "service_level": level, "service_measure": measure}
    grid = stock(fc, **kw).policy
    monkeypatch.setattr(stock_module, "GRID_MAX_WIDTH", 0)
    closed = stock(fc, **kw).policy
    assert set(grid["distribution"]) == {"poisson", "negbin"}
    assert grid["reorder_point"].to_list() == closed["reorder_point"].to_list()
    cols = ["expected_fill_rate", "expected_csl"] if review else ["expected_fill_rate"]
    for col in cols:
        assert grid[col].to_numpy() == pytest.approx(closed[col].to_numpy(), abs=1e-9)


@pytest.mark.parametrize("review_days", [7.0, 1.0, 3.0])
@pytest.mark.parametrize(
    ("mu", "sd", "lead_days", "unit_cost", "target"),
    [
        (100.0, 20.0, 14.0, 10.0, 0.98),
        (40.0, 15.0, 0.0, 50.0, 0.95),  # no lead time: the review alone
        (25.0, 4.0, 35.0, 200.0, 0.99),
    ],
)
def test_stock_sq_normal_level_is_smallest_meeting_uniform_position_shortage(
    mu: float, sd: float, lead_days: float, unit_cost: float, target: float, review_days: float
) -> None:
    # Weekly forecast; (s, Q) looked at every R days sees R/7 of a week's mean and variance.
    fc = forecast([{"sku": "A", "forecast": mu, "error_sd": sd, "demand_class": "smooth"}])
    it = items(sku=["A"], unit_cost=[unit_cost], lead_time_days=[lead_days])
    res = stock(
        fc,
        items=it,
        service_level=target,
        service_measure="fill-rate",
        policy_type="sQ",
        review_days=review_days,
    )
    s, q = one(res, "reorder_point"), one(res, "order_qty")
    weeks = lead_days / 7
    r = review_days / 7

    def loss_lead(y: float) -> float:
        return normal_first_loss(y, mu * weeks, sd * math.sqrt(weeks)) if weeks else max(-y, 0)

    def shortage(level: float, steps: int = 2000) -> float:
        # Simpson over the position y uniform on (level, level + Q].
        h = q / steps
        total = 0.0
        for i in range(steps + 1):
            y = level + i * h
            d = normal_first_loss(y, mu * (weeks + r), sd * math.sqrt(weeks + r)) - loss_lead(y)
            total += (1 if i in (0, steps) else (4 if i % 2 else 2)) * d
        return total * h / 3 / q

    assert shortage(s) <= (1 - target) * mu * r < shortage(s - 1)


def poisson_sq_csl(
    mean_week: float, q: int, s: int, lead_weeks: int = 2, review_weeks: float = 1.0
) -> float:
    """P(D_L + U <= s) for (s, Q) on Poisson demand looked at every R, summed term by term.

    The position after ordering is uniform on s+1..s+Q and falls by one review's demand D_R
    (Poisson with mean R times the week's), so the undershoot U has P(U = u) proportional to
    P(u < D_R <= u + Q).
    """

    def pmf(k: int, m: float) -> float:
        return math.exp(k * math.log(m) - m - math.lgamma(k + 1))

    def cdf(k: int, m: float) -> float:
        return sum(pmf(i, m) for i in range(k + 1)) if k >= 0 else 0.0

    m_r = mean_week * review_weeks
    weights = [cdf(u + q, m_r) - cdf(u, m_r) for u in range(80)]
    under = [wt / sum(weights) for wt in weights]
    return sum(under[u] * cdf(s - u, lead_weeks * mean_week) for u in range(s + 1))


def slow_item(mean_week: float) -> pl.DataFrame:
    return forecast(
        [
            {
                "sku": "A",
                "forecast": mean_week,
                "error_sd": math.sqrt(mean_week),
                "demand_class": "intermittent",
            }
        ]
    )


@pytest.mark.parametrize("review_days", [7.0, 1.0])
@pytest.mark.parametrize(("mean_week", "target"), [(0.2, 0.95), (1.5, 0.9), (0.6, 0.99)])
def test_stock_sq_poisson_csl_counts_undershoot_by_brute_force(
    mean_week: float, target: float, review_days: float
) -> None:
    # (s, Q) on Poisson demand, L = 2 weeks: no stockout before the order arrives with
    # probability P(D_L + U <= s), U the undershoot of s.
    it = items(sku=["A"], lead_time_days=[14.0], unit_cost=[40.0])
    res = stock(
        slow_item(mean_week),
        items=it,
        service_level=target,
        service_measure="csl",
        policy_type="sQ",
        review_days=review_days,
    )
    q = int(one(res, "order_qty"))
    r = review_days / 7
    expected = next(
        s for s in range(80) if poisson_sq_csl(mean_week, q, s, review_weeks=r) >= target
    )
    assert one(res, "reorder_point") == expected
    assert one(res, "expected_csl") == pytest.approx(
        poisson_sq_csl(mean_week, q, expected, review_weeks=r)
    )


def test_stock_sq_fill_rate_policy_reports_undershoot_csl() -> None:
    it = items(sku=["A"], lead_time_days=[14.0], unit_cost=[40.0])
    res = stock(slow_item(1.5), items=it, service_level=0.97, service_measure="fill-rate")
    q, s = int(one(res, "order_qty")), int(one(res, "reorder_point"))
    assert one(res, "expected_csl") == pytest.approx(poisson_sq_csl(1.5, q, s, review_weeks=1 / 7))


def test_stock_sq_normal_csl_protects_lead_time_plus_one_review() -> None:
    # Normal weekly demand (100, 20), L = 2 weeks: the undershoot of a normal (IFR, hence NBUE)
    # review demand is stochastically smaller than a review's demand, so s = mean + z*sd over
    # L + R is a safe level: weekly 300 + 1.6449*sqrt(3)*20, nightly over 15 days.
    fc = forecast([{"sku": "A", "forecast": 100.0, "error_sd": 20.0, "demand_class": "smooth"}])
    kw = {"items": items(sku=["A"], lead_time_days=[14.0]), "service_measure": "csl"}
    res = stock(fc, service_level=0.95, policy_type="sQ", review_days=7, **kw)
    assert one(res, "reorder_point") == math.ceil(300 + 1.6449 * math.sqrt(3) * 20)
    res = stock(fc, service_level=0.95, **kw)
    t = 15 / 7
    assert one(res, "reorder_point") == math.ceil(100 * t + 1.6449 * math.sqrt(t) * 20)


@pytest.mark.parametrize("tiny", [5e-324, 1e-12])
def test_stock_vanishing_forecast_counts_as_no_demand(tiny: float) -> None:
    # Found by hypothesis: a subnormal forecast gave a NaN fill rate and a 6.6e20 reorder point.
    fc = forecast([{"sku": "A", "forecast": tiny, "error_sd": 2.0, "demand_class": "smooth"}])
    policy = stock(fc, service_level=0.75, service_measure="csl").policy
    assert policy["mean_demand"].to_list() == [0.0]
    assert policy["reorder_point"].to_list() == [0.0]
    # No demand, no service: empty (null), neither NaN nor an invented 1.0.
    assert policy["expected_fill_rate"].to_list() == [None]
    assert policy["expected_csl"].to_list() == [None]


@pytest.mark.parametrize("policy_type", ["sQ", "RS"])
def test_stock_point_without_forecast_demand_has_no_expected_service(policy_type: str) -> None:
    # A fill rate is demand served over demand, a CSL the share of cycles without a stockout
    # of demand: neither exists without demand. A point forecast 0 was given 1.0 for both (73
    # of the demo's 552 points), which a plain mean over points (stock --simulate's summary)
    # counted as perfect service.
    fc = forecast(
        [
            {"sku": "A", "forecast": 20.0, "error_sd": 4.0, "demand_class": "smooth"},
            {"sku": "Z", "forecast": 0.0, "error_sd": 0.0, "demand_class": "intermittent"},
        ]
    )
    review = {"review_days": 7} if policy_type == "RS" else {}
    policy = stock(fc, service_level=0.95, policy_type=policy_type, **review).policy
    z = policy.filter(pl.col("sku") == "Z").row(0, named=True)
    a = policy.filter(pl.col("sku") == "A").row(0, named=True)
    assert z["mean_demand"] == 0.0
    assert (z["expected_fill_rate"], z["expected_csl"]) == (None, None)
    assert 0.9 < a["expected_fill_rate"] <= 1.0
    assert a["expected_csl"] is not None


def test_smallest_level_stops_where_integers_are_not_all_floats() -> None:
    from segchain.stock.distributions import smallest_level

    # Above 2**53 floats are 128 apart just below 2**60: the smallest float level >= 2**60 is
    # 2**60 itself, and the search must reach it rather than loop on a midpoint that rounds.
    level = smallest_level(lambda v: v >= 2.0**60, np.array([2.0**60]), np.array([0.0]))
    assert level.tolist() == [2.0**60]
