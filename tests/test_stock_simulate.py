"""Proof that a policy keeps its promise: replay policies and measure achieved service.

Each item is replayed in REPLICAS independent copies (rows) to pool enough periods cheaply; the
same policy with one unit less of reorder point (order-up-to level) is replayed beside it and
must miss the target. Parameters are chosen so that both margins are several standard errors
wide with the fixed seeds below.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from segchain.stock import simulate, stock

WEEKS = [date(2024, 1, 1) + timedelta(weeks=i) for i in range(4)]
REPLICAS = 10
PERIODS = 20_000

# Lumpy demand: a sale in a week with probability P_SALE, of geometric size (mean 1/Q_SIZE).
P_SALE, Q_SIZE = 0.25, 0.5
LUMPY_MEAN = P_SALE / Q_SIZE
LUMPY_VAR = P_SALE * (2 - Q_SIZE) / Q_SIZE**2 - LUMPY_MEAN**2

ITEMS = {
    # name: (forecast per week, error sd, demand class, fill-rate target)
    "smooth": (10.0, 2.0, "smooth", 0.95),
    "slow": (0.2, math.sqrt(0.2), "intermittent", 0.95),
    "lumpy": (LUMPY_MEAN, math.sqrt(LUMPY_VAR), "lumpy", 0.90),
}


def policy_for(name: str) -> pl.DataFrame:
    mu, sd, cls, target = ITEMS[name]
    fc = pl.DataFrame(
        {"sku": name, "ds": WEEKS, "forecast": mu, "error_sd": sd, "demand_class": cls}
    )
    items = pl.DataFrame({"sku": [name], "lead_time_days": [14.0], "lead_time_sd_days": [0.0]})
    return stock(
        fc, items=items, review_days=7, service_level=target, service_measure="fill-rate"
    ).policy


def with_one_less(policy: pl.DataFrame) -> pl.DataFrame:
    """REPLICAS rows of the policy, then REPLICAS rows with reorder point and S one unit lower."""
    less = policy.with_columns(pl.col("reorder_point") - 1, pl.col("order_up_to") - 1)
    return pl.concat([policy] * REPLICAS + [less] * REPLICAS)


def pooled_fill(sim: pl.DataFrame) -> tuple[float, float]:
    """Fill rate pooled over the replicas of the policy, and of the policy with one unit less."""
    shortage, demand = sim["shortage"].to_numpy(), sim["demand"].to_numpy()
    at = 1 - shortage[:REPLICAS].sum() / demand[:REPLICAS].sum()
    less = 1 - shortage[REPLICAS:].sum() / demand[REPLICAS:].sum()
    return float(at), float(less)


def replay_all() -> dict[str, tuple[float, float, float]]:
    """Pooled fill rate at the policy and one unit less, and the target, per item."""
    out = {}
    for name in ("smooth", "slow"):
        sim = simulate(with_one_less(policy_for(name)), periods=PERIODS, seed=11)
        out[name] = (*pooled_fill(sim), ITEMS[name][3])
    # Lumpy: the true process (compound Bernoulli-geometric), not the fitted negative binomial.
    rng = np.random.default_rng(12)
    shape = (PERIODS, 2 * REPLICAS)
    demand = (rng.random(shape) < P_SALE) * rng.geometric(Q_SIZE, shape)
    sim = simulate(with_one_less(policy_for("lumpy")), periods=PERIODS, demand=demand)
    out["lumpy"] = (*pooled_fill(sim), ITEMS["lumpy"][3])
    return out


@pytest.fixture(scope="module")
def replayed() -> dict[str, tuple[float, float, float]]:
    return replay_all()


@pytest.mark.parametrize("name", ["smooth", "slow", "lumpy"])
def test_simulate_policy_reaches_fill_rate_target(replayed, name: str) -> None:
    achieved, _, target = replayed[name]
    assert achieved >= target


@pytest.mark.parametrize("name", ["smooth", "slow", "lumpy"])
def test_simulate_one_unit_less_misses_fill_rate_target(replayed, name: str) -> None:
    _, achieved_less, target = replayed[name]
    assert achieved_less < target


# (s, Q) looked at weekly: (item, fill-rate target, unit_cost, order_cost). Costs keep Q small
# (46, 7 and 7 units), so that one unit of reorder point moves the fill rate measurably.
SQ_CASES = {"smooth": (0.95, 100.0, 50.0), "slow": (0.95, 100.0, 50.0), "lumpy": (0.90, 50.0, 10.0)}


def sq_policy_for(name: str) -> pl.DataFrame:
    mu, sd, cls, _ = ITEMS[name]
    target, unit_cost, order_cost = SQ_CASES[name]
    fc = pl.DataFrame(
        {"sku": name, "ds": WEEKS, "forecast": mu, "error_sd": sd, "demand_class": cls}
    )
    items = pl.DataFrame(
        {
            "sku": [name],
            "lead_time_days": [14.0],
            "lead_time_sd_days": [0.0],
            "unit_cost": [unit_cost],
            "order_cost": [order_cost],
        }
    )
    return stock(
        fc,
        items=items,
        service_level=target,
        service_measure="fill-rate",
        policy_type="sQ",
        review_days=7,
    ).policy


@pytest.fixture(scope="module")
def replayed_sq() -> dict[str, tuple[float, float, float]]:
    """(s, Q) replayed on weekly demand: pooled fill rate at s and at s - 1, and the target."""
    out = {}
    for name in ("smooth", "slow"):
        sim = simulate(with_one_less(sq_policy_for(name)), periods=PERIODS, seed=11)
        out[name] = (*pooled_fill(sim), SQ_CASES[name][0])
    rng = np.random.default_rng(12)
    shape = (PERIODS, 2 * REPLICAS)
    demand = (rng.random(shape) < P_SALE) * rng.geometric(Q_SIZE, shape)
    sim = simulate(with_one_less(sq_policy_for("lumpy")), periods=PERIODS, demand=demand)
    out["lumpy"] = (*pooled_fill(sim), SQ_CASES["lumpy"][0])
    return out


@pytest.mark.parametrize("name", ["smooth", "slow", "lumpy"])
def test_simulate_sq_policy_reaches_fill_rate_target(replayed_sq, name: str) -> None:
    # Demand arrives per week, so the position undershoots s before an order goes out; the
    # policy must protect against that (the textbook (s, Q) formula gave 0.93 for 0.98).
    achieved, _, target = replayed_sq[name]
    assert achieved >= target


@pytest.mark.parametrize("name", ["smooth", "slow", "lumpy"])
def test_simulate_sq_one_unit_less_misses_fill_rate_target(replayed_sq, name: str) -> None:
    _, achieved_less, target = replayed_sq[name]
    assert achieved_less < target


CSL_REPLICAS = 50


def pooled_csl(sim: pl.DataFrame, rows: slice) -> float:
    """Share of replenishment cycles without a backorder, pooled over ``rows``."""
    cycles = sim["cycles"].to_numpy()[rows]
    out = (cycles * (1 - sim["achieved_csl"].to_numpy()[rows])).sum()
    return float(1 - out / cycles.sum())


@pytest.fixture(scope="module")
def replayed_sq_csl() -> dict[str, tuple[float, float]]:
    """(s, Q) with a 0.9 CSL target, replayed: pooled CSL at s and at s - 1."""
    out = {}
    for name in ("smooth", "slow", "lumpy"):
        mu, sd, cls, _ = ITEMS[name]
        fc = pl.DataFrame(
            {"sku": name, "ds": WEEKS, "forecast": mu, "error_sd": sd, "demand_class": cls}
        )
        items = pl.DataFrame(
            {"sku": [name], "lead_time_days": [14.0], "unit_cost": [SQ_CASES[name][1]]}
        )
        policy = stock(
            fc,
            items=items,
            service_level=0.9,
            service_measure="csl",
            review_days=7,
            policy_type="sQ",
        ).policy
        less = policy.with_columns(pl.col("reorder_point") - 1, pl.col("order_up_to") - 1)
        both = pl.concat([policy] * CSL_REPLICAS + [less] * CSL_REPLICAS)
        if name == "lumpy":
            rng = np.random.default_rng(13)
            shape = (PERIODS, 2 * CSL_REPLICAS)
            demand = (rng.random(shape) < P_SALE) * rng.geometric(Q_SIZE, shape)
            sim = simulate(both, periods=PERIODS, demand=demand)
        else:
            sim = simulate(both, periods=PERIODS, seed=13)
        at = slice(0, CSL_REPLICAS)
        out[name] = (pooled_csl(sim, at), pooled_csl(sim, slice(CSL_REPLICAS, None)))
    return out


@pytest.mark.parametrize("name", ["smooth", "slow", "lumpy"])
def test_simulate_sq_policy_reaches_csl_target(replayed_sq_csl, name: str) -> None:
    # Lumpy demand undershoots s by more than a period's mean demand (size-biased batches):
    # protecting L + 1 periods is not enough there; the exact undershoot pmf is.
    achieved, _ = replayed_sq_csl[name]
    assert achieved >= 0.9


@pytest.mark.parametrize("name", ["slow", "lumpy"])
def test_simulate_sq_csl_one_unit_less_misses_target(replayed_sq_csl, name: str) -> None:
    # Discrete items: the CSL is exact, so the level is the smallest that holds.
    _, achieved_less = replayed_sq_csl[name]
    assert achieved_less < 0.9


def test_simulate_sq_expected_fill_rate_matches_replay() -> None:
    # The promise itself (expected_fill_rate) is what the replay delivers, within 0.003.
    policy = sq_policy_for("smooth")
    sim = simulate(pl.concat([policy] * REPLICAS), periods=PERIODS, seed=7)
    pooled = 1 - sim["shortage"].sum() / sim["demand"].sum()
    assert pooled == pytest.approx(policy["expected_fill_rate"].item(), abs=0.003)


def test_simulate_poisson_fill_rate_matches_exact_value() -> None:
    # Slow item, S = 3: exact fill rate of (R, S) with R = 1, L = 2 weeks, Poisson 0.2/week is
    # 1 - (E[(D3 - 3)^+] - E[(D2 - 3)^+]) / 0.2, summed here term by term.
    def loss(m: float, s: int) -> float:
        return sum((k - s) * math.exp(-m) * m**k / math.factorial(k) for k in range(s + 1, 60))

    exact = 1 - (loss(0.6, 3) - loss(0.4, 3)) / 0.2
    policy = pl.concat([policy_for("slow")] * REPLICAS)
    sim = simulate(policy, periods=PERIODS, seed=5)
    pooled = 1 - sim["shortage"].sum() / sim["demand"].sum()
    assert pooled == pytest.approx(exact, abs=0.005)


def test_simulate_csl_policy_reaches_cycle_service_level() -> None:
    fc = pl.DataFrame({"sku": "A", "ds": WEEKS, "forecast": 10.0, "error_sd": 2.0})
    items = pl.DataFrame({"sku": ["A"], "lead_time_days": [14.0]})
    policy = stock(fc, items=items, review_days=7, service_level=0.9, service_measure="csl").policy
    sim = simulate(pl.concat([policy] * REPLICAS), periods=5_000, seed=2)
    pooled = 1 - (sim["cycles"] * (1 - sim["achieved_csl"])).sum() / sim["cycles"].sum()
    # Independent: P(N(30, 12) <= S) for the level chosen.
    s = policy["order_up_to"].item()
    assert pooled == pytest.approx(0.5 * math.erfc(-(s - 30) / math.sqrt(2 * 12)), abs=0.01)
    assert pooled >= 0.9


def test_simulate_is_reproducible_with_a_seed() -> None:
    policy = policy_for("smooth")
    a = simulate(policy, periods=500, seed=3)
    b = simulate(policy, periods=500, seed=3)
    c = simulate(policy, periods=500, seed=4)
    assert a.equals(b)
    assert not a.equals(c)


def test_simulate_rejects_zero_periods() -> None:
    from segchain.errors import UsageError

    with pytest.raises(UsageError, match="--simulate needs a number of periods >= 1, got 0"):
        simulate(policy_for("smooth"), periods=0)


def test_simulate_gives_no_achieved_service_where_the_replay_drew_no_demand() -> None:
    # A slow item (0.2 a week) replayed for 3 weeks: in some of 40 copies no unit is asked.
    # Demand served over demand is undefined there; the replay counted it 100 % and met.
    sim = simulate(pl.concat([policy_for("slow")] * 40), periods=3, seed=1)
    none = sim.filter(pl.col("demand") == 0)
    some = sim.filter(pl.col("demand") > 0)
    assert none.height > 0 and some.height > 0
    assert none["achieved_fill_rate"].null_count() == none.height
    assert none["target_met"].null_count() == none.height
    assert some["achieved_fill_rate"].null_count() == 0
    # Where demand was asked, the figure is the replay's own: 1 - shortage / demand.
    by_hand = 1 - some["shortage"] / some["demand"]
    assert np.allclose(some["achieved_fill_rate"].to_numpy(), by_hand.clip(0, 1).to_numpy())


def test_simulate_gives_no_achieved_csl_without_a_replenishment_cycle() -> None:
    # A CSL policy reviewed every 28 days, replayed for one week: no order arrives, no cycle.
    fc = pl.DataFrame(
        {"sku": "s", "ds": WEEKS, "forecast": 10.0, "error_sd": 2.0, "demand_class": "smooth"}
    )
    items = pl.DataFrame({"sku": ["s"], "lead_time_days": [14.0], "lead_time_sd_days": [0.0]})
    policy = stock(fc, items=items, review_days=28, service_level=0.9, service_measure="csl").policy
    sim = simulate(policy, periods=1, seed=0, warmup=0)
    assert sim["cycles"].to_list() == [0]
    assert sim["achieved_csl"].to_list() == [None]
    assert sim["target_met"].to_list() == [None]
