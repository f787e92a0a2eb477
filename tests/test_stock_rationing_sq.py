"""Rationing by segment priority under the default (s, Q) policy looked at nightly, checked with a
simulator written here, independently of the stage (``segchain.stock.rationing`` is used only by
the last test, whose point is to compare the stage's cycle model with it):
day by day, each segment's daily demand arriving in random order, served from stock down to the
segment's reserve level, the rest backordered; an arriving replenishment fills the backorders
first (highest priority first); at the end of each day, if the inventory position (on hand -
backorders + on order) is at or below s, the smallest whole number of Q's lifting it above s is
ordered, arriving at the start of day t + 1 + L."""

from __future__ import annotations

from functools import cache

import numpy as np
import polars as pl
import pytest
from test_stock_rationing import MIX, TABLE, WEEKS

from segchain.stock import simulate_segments, stock

LEAD = 14
# Order costs so that the EOQ sqrt(2 D K / h), h = 0.25 x 100 a unit-year, is about 1.5 weeks of
# demand: FAST sqrt(2 x 5218 x 50 / 25) = 144.5 -> Q 145; SLOW sqrt(2 x 234.8 x 2 / 25) = 6.1 ->
# Q 7; LUMPY sqrt(2 x 469.6 x 5 / 25) = 13.7 -> Q 14.
ORDER_COST = {"FAST": 50.0, "SLOW": 2.0, "LUMPY": 5.0}
# The long simulations: at least this many weeks measured after the warm-ups, as CHAINS
# independent runs (one Python loop over the days of all of them), each warmed up for WARM days.
WEEKS_SIMULATED = 20_000
CHAINS = 40
WARM = 365


def daily_demand(rng: np.random.Generator, mean: float, sd: float, days: int) -> np.ndarray:
    m, v = mean / 7.0, sd * sd / 7.0
    if v <= m * (1 + 1e-9):
        return rng.poisson(m, days).astype(float)
    p = m / v
    return rng.negative_binomial(m * p / (1 - p), p, days).astype(float)


def demand_sample(rows: list[tuple[str, str, float, float]], seed: int) -> np.ndarray:
    """(days, K): WEEKS_SIMULATED weeks measured plus every chain's warm-up."""
    days = CHAINS * (WARM + -(-WEEKS_SIMULATED * 7 // CHAINS))
    rng = np.random.default_rng(seed)
    return np.stack([daily_demand(rng, m, sd, days) for _, _, m, sd in rows], axis=1)


def simulate(
    demand: np.ndarray,
    s: np.ndarray,
    q: float,
    reserves: np.ndarray,
    seed: int,
    chains: int = CHAINS,
    warm: int = WARM,
) -> tuple[np.ndarray, np.ndarray]:
    """Fill rate per candidate and segment (C, K) and mean on-hand (C,) of (s, Q) looked at
    nightly with critical levels.

    demand: (days, K), segments in priority order; s (C,) reorder points; q the order quantity;
    reserves (C, K). The days are cut into ``chains`` consecutive blocks, each run from on hand
    s + Q, nothing on order, and measured after its first ``warm`` days (independent runs, so
    that one Python loop steps all of them). Each day: the order due arrives and fills the
    backorders, highest priority first; the segments' demands come in a random order (one
    permutation per day and chain, from ``seed``), each served down to its reserve level, the
    rest backordered; at the end of the day, a position at or below s orders the fewest Q's
    lifting it above s, arriving at the start of day t + 1 + LEAD. On hand is averaged over the
    start of the day (after the arrival) and its end.
    """
    days, k = demand.shape
    t_len = days // chains
    c = s.size
    m = chains
    dem = demand[: t_len * m].reshape(m, t_len, k)  # (M, T, K)
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((m, t_len, k)), axis=2)  # (M, T, K): segment at each position
    seq = np.take_along_axis(dem, order, axis=2)  # demand in arrival order
    chain = np.arange(m)
    day_total = dem.sum(axis=2)  # (M, T)
    level = np.asarray(s, dtype=float)[:, None] + np.zeros((1, m))  # (C, M)
    on_hand = level + q
    position = on_hand.copy()
    back = np.zeros((c, m, k))
    pipe = np.zeros((LEAD + 1, c, m))
    served_sum = np.zeros((c, m, k))
    on_hand_sum = np.zeros((c, m))
    by_seg = np.zeros((c, m, k))  # served today, by segment
    for t in range(t_len):
        slot = t % (LEAD + 1)
        arriving = pipe[slot]
        if arriving.any():
            on_hand += arriving
            # Backorders first, highest priority first, where an order arrives only: elsewhere
            # the stock on hand is a reserve kept from the backordered segments.
            room = np.where(arriving > 0, on_hand, 0.0)
            arriving[:] = 0.0
            for j in range(k):
                fill = np.minimum(back[:, :, j], room)
                room -= fill
                back[:, :, j] -= fill
                on_hand -= fill
        start = on_hand.copy()
        for p in range(k):
            # The segment arriving p-th in each chain: its reserve (C, M), and what it got
            # stored under it (every segment arrives once a day, so each is written).
            seg = order[:, t, p]
            got = np.minimum(seq[:, t, p], np.maximum(on_hand - reserves[:, seg], 0.0))
            on_hand -= got
            by_seg[:, chain, seg] = got
        back += dem[None, :, t, :] - by_seg
        position -= day_total[:, t]
        if t >= warm:
            served_sum += by_seg
            on_hand_sum += 0.5 * (start + on_hand)
        need = position <= level
        if need.any():
            amount = np.where(need, (np.floor((level - position) / q) + 1.0) * q, 0.0)
            position += amount
            pipe[slot] = amount
    total = dem[:, warm:, :].sum(axis=(0, 1))
    return (
        served_sum.sum(axis=1) / np.maximum(total, 1e-300),
        on_hand_sum.sum(axis=1) / (m * (t_len - warm)),
    )


def forecast(rows: list[tuple[str, str, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"ds": d, "sku": s, "segment": g, "forecast": m, "error_sd": sd}
            for s, g, m, sd in rows
            for d in WEEKS
        ]
    )


def items_of(sku: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": [sku],
            "lead_time_days": [float(LEAD)],
            "unit_cost": [100.0],
            "holding_rate": [0.25],
            "order_cost": [ORDER_COST[sku]],
        }
    )


def rows_of(sku: str) -> list[tuple[str, str, float, float]]:
    return [r for r in MIX if r[0] == sku]


@cache
def plan_of(sku: str) -> tuple[dict[str, object], dict[str, dict[str, object]]]:
    """The stage's (s, Q) nightly plan: its policy row and its segments' rows by name."""
    res = stock(forecast(rows_of(sku)), items=items_of(sku), policies=TABLE)
    assert res.segments is not None
    assert res.policy.height == 1
    policy = res.policy.row(0, named=True)
    assert policy["policy_type"] == "sQ" and policy["review_days"] == 1.0
    return policy, {r["segment"]: r for r in res.segments.iter_rows(named=True)}


def plan_arrays(sku: str) -> tuple[float, float, np.ndarray, np.ndarray]:
    """s, Q, reserves (1, K) and targets (K,) of the plan, segments in priority order."""
    policy, by_seg = plan_of(sku)
    names = [g for _, g, _, _ in rows_of(sku)]
    reserves = np.array([[float(by_seg[g]["reserve_level"]) for g in names]])
    targets = np.array([float(by_seg[g]["service_level"]) for g in names])
    return float(policy["reorder_point"]), float(policy["order_qty"]), reserves, targets


def lead_time_demand(rows: list[tuple[str, str, float, float]]) -> tuple[float, float]:
    """Mean and sd of the demand over the L + 1 days an order placed tonight covers."""
    mean = sum(m for _, _, m, _ in rows) / 7.0 * (LEAD + 1)
    var = sum(sd * sd for _, _, _, sd in rows) / 7.0 * (LEAD + 1)
    return mean, var**0.5


def reserve_grid(k: int, top: int) -> np.ndarray:
    """Every reserve vector with no reserve for the top segment and reserves not decreasing with
    the priority (a lower segment keeps at least the stock kept from the one above), each up to
    ``top``."""
    values = np.arange(top + 1)
    rest = np.array(np.meshgrid(*[values] * (k - 1), indexing="ij")).reshape(k - 1, -1).T
    rest = rest[np.all(np.diff(rest, axis=1) >= 0, axis=1)]
    return np.hstack([np.zeros((rest.shape[0], 1)), rest]).astype(float)


def expected_order_qty(sku: str) -> float:
    """EOQ sqrt(2 D K / h), D a year's demand (365.25 days), h = 0.25 x 100, rounded up."""
    annual = sum(m for _, _, m, _ in rows_of(sku)) * 365.25 / 7.0
    return float(np.ceil((2.0 * annual * ORDER_COST[sku] / 25.0) ** 0.5 - 1e-9))


@pytest.mark.parametrize("sku", ["FAST", "SLOW", "LUMPY"])
def test_sq_rationed_plan_keeps_every_segments_fill_rate_in_a_long_simulation(sku: str) -> None:
    policy, _ = plan_of(sku)
    s, q, reserves, targets = plan_arrays(sku)
    assert q == expected_order_qty(sku)
    if sku == "FAST":
        assert policy["rationed"]
    elif not policy["rationed"]:
        print(f"{sku}: not rationed by the stage (reserves {reserves[0].tolist()})")
    fill, _ = simulate(demand_sample(rows_of(sku), 7), np.array([s]), q, reserves, seed=11)
    print(f"{sku}: s {s:g}, Q {q:g}, reserves {reserves[0].tolist()}, fill {fill[0].round(4)}")
    for j, (_, g, _, _) in enumerate(rows_of(sku)):
        assert fill[0, j] >= targets[j] - 0.005, (g, fill[0, j])
    if policy["rationed"]:
        # The reserves act: the top segment is served better than the bottom one (without
        # reserves, first come, first served, they get the same fill rate).
        assert fill[0, 0] > fill[0, -1] + 0.01


def _cheapest(
    levels: np.ndarray,
    reserves: np.ndarray,
    fill: np.ndarray,
    inv: np.ndarray,
    targets: np.ndarray,
    q: float,
    check: np.ndarray,
) -> int:
    """The cheapest plan meeting every target on the first sample and on ``check``.

    The cheapest of hundreds of plans on one sample favours plans that met a target there by
    luck, so the plans feasible on the first sample, cheapest first, are re-checked on an
    independent sample of the same length: the cheapest feasible on both wins."""
    feasible = np.flatnonzero(np.all(fill >= targets[None, :], axis=1))
    first = feasible[np.argsort(inv[feasible], kind="stable")][:300]
    fill_b, _ = simulate(check, levels[first], q, reserves[first], seed=6)
    good = first[np.all(fill_b >= targets[None, :], axis=1)]
    assert good.size, "no plan feasible on both samples"
    return int(good[0])


@pytest.mark.parametrize("sku", ["FAST", "SLOW", "LUMPY"])
def test_sq_rationed_plan_captures_most_of_the_best_critical_level_saving(sku: str) -> None:
    # Exhaustive search over (s, reserves) at the plan's Q with the simulator above: the uniform
    # plan (no reserves, every target kept) against the best critical-level plan.
    rows = rows_of(sku)
    k = len(rows)
    s_plan, q, plan_reserves, targets = plan_arrays(sku)
    share = np.array([m for _, _, m, _ in rows])
    share = share / share.sum()
    mean_l, sd_l = lead_time_demand(rows)
    first = demand_sample(rows, 3)
    check = demand_sample(rows, 4)

    # Without reserves, every s of a wide range: the uniform plan.
    wide = np.arange(max(0, int(mean_l - 3 * sd_l)), int(np.ceil(mean_l + 4 * sd_l)) + 3.0)
    fill_w, inv_w = simulate(first, wide, q, np.zeros((wide.size, k)), seed=5)
    assert np.all(fill_w[-1] >= targets), "the range holds no uniform plan"
    at_u = _cheapest(wide, np.zeros((wide.size, k)), fill_w, inv_w, targets, q, check)
    uniform, s_uniform = float(inv_w[at_u]), float(wide[at_u])
    # Reserves keep stock idle while demand waits: below the smallest s meeting the
    # demand-weighted target in total without reserves, no plan keeps every promise (checked
    # below for the window's bottom row).
    blended = np.flatnonzero(fill_w @ share >= targets @ share)
    assert blended.size and blended[0] > 0, "the range does not bracket the blended target"
    bottom = float(wide[blended[0]]) - 3.0

    # Every s of the window with every reserve vector up to `top` (no reserves included).
    top = int(np.ceil(1.5 * sd_l)) + 2
    grid = reserve_grid(k, top)
    window = np.arange(bottom, s_uniform + 1.0)
    levels = np.repeat(window, grid.shape[0])
    reserves = np.tile(grid, (window.size, 1))
    fill, inv = simulate(first, levels, q, reserves, seed=5)
    ok = np.all(fill >= targets[None, :], axis=1)
    assert not ok[levels == bottom].any(), "the window's bottom row keeps every promise"
    at = _cheapest(levels, reserves, fill, inv, targets, q, check)
    best = float(inv[at])
    assert np.all(reserves[at] < top), "the best plan's reserve is at the grid's edge"

    mine_fill, mine_inv = simulate(first, np.array([s_plan]), q, plan_reserves, seed=5)
    best_saving = uniform - best
    saving = uniform - float(mine_inv[0])
    print(
        f"{sku}: Q {q:g}, uniform s {s_uniform:g} on hand {uniform:.3f}, best critical-level "
        f"s {levels[at]:g} reserves {reserves[at].tolist()} on hand {best:.3f} (saving "
        f"{best_saving / uniform:.1%}), rationed plan s {s_plan:g} reserves "
        f"{plan_reserves[0].tolist()} on hand {mine_inv[0]:.3f} (saving {saving / uniform:.1%}), "
        f"plan fill {np.round(mine_fill[0], 4).tolist()}"
    )
    assert saving >= 0.75 * best_saving - 1e-9


def test_sq_compare_keep_shows_fcfs_and_the_rationed_plan_holds_less() -> None:
    res = stock(
        forecast(rows_of("FAST")), items=items_of("FAST"), policies=TABLE, compare_uniform="keep"
    )
    cmp = res.comparison
    assert cmp is not None
    assert {"inventory_value_fcfs", "fill_rate_fcfs"} <= set(cmp.columns)
    seg = cmp.filter(pl.col("segment") != "(all)").sort("segment")
    assert seg["segment"].to_list() == ["bronze", "gold"]
    # Rationed: each segment's own expected service, at least its target.
    assert (seg["fill_rate_segmented"] >= seg["target"] - 0.005).all()
    # First come, first served with blended targets: the gold promise is not kept.
    gold = seg.filter(pl.col("segment") == "gold")
    assert gold["fill_rate_fcfs"][0] < 0.99
    p = res.policy.row(0, named=True)
    assert p["policy_type"] == "sQ" and p["rationed"]
    assert p["avg_inventory"] < p["unrationed_avg_inventory"]


def test_sq_simulate_segments_each_rationed_segment_meets_its_target() -> None:
    res = stock(forecast(rows_of("FAST")), items=items_of("FAST"), policies=TABLE)
    assert res.policy["rationed"][0]
    sim = simulate_segments(res, periods=20_000, seed=3).sort("segment")
    assert sim["segment"].to_list() == ["bronze", "gold"]
    assert (sim["achieved_fill_rate"] >= sim["service_level"] - 0.005).all()
    # Rationed: gold is served better than bronze, not the same as first come, first served.
    assert sim["achieved_fill_rate"][1] > sim["achieved_fill_rate"][0] + 0.02


def test_the_stages_cycles_agree_with_the_long_run_simulation() -> None:
    # The stage's model of an (s, Q) point (independent cycles from one arrival to the next,
    # the position after ordering drawn from its stationary law) against the day-by-day chains
    # above, at plans with and without reserves, some far below the targets (where the
    # shortages, and so the model's errors, are large): each segment's fill rate and the mean
    # on hand agree within the samples' noise.
    from segchain.stock.rationing import Segments, _service, sample_sq

    rows = rows_of("FAST")
    mean = np.array([m / 7.0 for _, _, m, _ in rows])
    var = np.array([sd * sd / 7.0 for _, _, _, sd in rows])
    seg = Segments(
        mean=mean, var=var, fill_target=np.array([0.99, 0.9]), csl_target=np.full(2, np.nan)
    )
    q = 145.0
    s = np.array([150.0, 200.0, 200.0, 207.0, 190.0])
    reserves = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 11.0], [0.0, 11.0], [0.0, 30.0]])
    fill_sim, held_sim = simulate(demand_sample(rows, 21), s, q, reserves, seed=22)
    smp = sample_sq(seg, LEAD, 1, q, 40_000, seed=23)
    fill, _, _, _, held = _service(smp, s + q, reserves)
    print(np.round(fill_sim, 4).tolist(), np.round(fill, 4).tolist())
    print(np.round(held_sim, 2).tolist(), np.round(held, 2).tolist())
    assert np.abs(fill - fill_sim).max() < 0.006
    assert np.abs(held / held_sim - 1.0).max() < 0.02
