"""Rationing by segment priority: a critical-level (R, S) policy per stocking point.

When the segments of a SKU are promised different service, one order-up-to level S is kept and
each lower-priority segment k gets a reserve (critical) level c_k: a demand of segment k is served
from stock only while more than c_k units are on hand; the rest is kept for the segments above it
(Dekker, Hill & Kleijn 1998; Teunter & Klein Haneveld 2008). Unserved demand is backordered, and
an arriving replenishment fills the backorders first.

The levels come from a simulation-based search, as the periodic-review model with backorders has
no closed form. The cycle between two arrivals is regenerative: an order placed at a review lifts
the inventory position to S, so right after it arrives (L days later) and has filled the
backorders, the stock on hand is (S - D_L)^+ whatever the allocation was, D_L the demand over the
lead time. The R days of the cycle that follows are then replayed day by day, each segment's daily
demand arriving in random order and served down to its reserve. So independent cycles (no warm-up,
no correlation) give each segment's fill rate, its CSL (share of cycles in which it was never
short) and the mean stock on hand, for many (S, c) at once on common random numbers.

Search: the segments are grouped into at most ``MAX_TIERS`` tiers of consecutive priorities (the
grouping that over-serves the least demand); the top tier has no reserve. For each reserve vector
of a grid (and then a finer grid around the best), the smallest S meeting every segment's target
is found by bisection; the vector with the least stock wins. Its service is then re-estimated on
a fresh sample, and S raised while a target is missed there.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import polars as pl

RATIONING = ("critical-level", "none")
MAX_TIERS = 3
# Cycles simulated per candidate in the search, and to check the plan found.
SEARCH_CYCLES = 1000
CHECK_CYCLES = 20000
# Reserve levels tried per tier in the coarse grid.
GRID_POINTS = 7


@dataclass(frozen=True)
class Segments:
    """The demand streams of one stocking point, one per tier, highest priority first.

    A tier's segments share its reserve level and are served first come, first served among
    themselves, so each gets the tier's service: the tier must meet the highest fill-rate target
    and the highest CSL target of its segments (NaN: none).
    """

    mean: np.ndarray  # per day
    var: np.ndarray  # per day
    fill_target: np.ndarray
    csl_target: np.ndarray

    @classmethod
    def from_segments(
        cls,
        tier: np.ndarray,
        mean: np.ndarray,
        var: np.ndarray,
        target: np.ndarray,
        fill: np.ndarray,
    ) -> Segments:
        n = int(tier.max()) + 1

        def top(mask: np.ndarray) -> float:
            return float(target[mask].max()) if mask.any() else float("nan")

        return cls(
            mean=np.array([mean[tier == k].sum() for k in range(n)]),
            var=np.array([var[tier == k].sum() for k in range(n)]),
            fill_target=np.array([top((tier == k) & fill) for k in range(n)]),
            csl_target=np.array([top((tier == k) & ~fill) for k in range(n)]),
        )


@dataclass(frozen=True)
class Plan:
    """The rationed plan of one stocking point and what the check sample says of it."""

    level: float
    reserves: np.ndarray  # per segment
    fill: np.ndarray
    csl: np.ndarray
    avg_on_hand: float
    fill_total: float
    csl_total: float
    unrationed_on_hand: float  # stock on hand without reserves, every promise kept


def tiers(priority: np.ndarray, target: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Tier of each segment: consecutive priorities grouped into at most ``MAX_TIERS``.

    ``priority`` sorted ascending. Among the ways to cut the distinct priorities into that many
    groups, the one with the least demand-weighted over-service (the tier's highest target less
    the segment's own) is kept.
    """
    levels = np.unique(priority)
    if levels.size <= MAX_TIERS:
        return np.searchsorted(levels, priority)
    best: tuple[float, tuple[int, ...]] | None = None
    for cuts in combinations(range(1, levels.size), MAX_TIERS - 1):
        group = np.searchsorted(np.asarray(cuts), np.searchsorted(levels, priority), side="right")
        cost = 0.0
        for g in range(MAX_TIERS):
            m = group == g
            if m.any():
                cost += float((weight[m] * (target[m].max() - target[m])).sum())
        if best is None or cost < best[0] - 1e-15:
            best = (cost, cuts)
    assert best is not None
    return np.searchsorted(np.asarray(best[1]), np.searchsorted(levels, priority), side="right")


def _draw(
    rng: np.random.Generator, mean: np.ndarray, var: np.ndarray, shape: tuple[int, ...]
) -> np.ndarray:
    """Integer demand, one column per segment (last axis): Poisson, or negative binomial when
    the variance exceeds the mean (fitted by mean and variance)."""
    out = np.zeros((*shape, mean.size))
    for k in range(mean.size):
        m, v = float(mean[k]), float(var[k])
        if m <= 0:
            continue
        if v <= m * (1 + 1e-9):
            out[..., k] = rng.poisson(m, shape)
        else:
            p = m / v
            out[..., k] = rng.negative_binomial(m * p / (1 - p), p, shape)
    return out


@dataclass(frozen=True)
class Sample:
    """Independent replenishment cycles: lead-time demand and the days of the cycle."""

    lead: np.ndarray  # (n,) total demand over the lead time
    days: np.ndarray  # (n, R, K) demand per day and segment
    order: np.ndarray  # (n, R, K) the segments in the order their demand arrives each day
    onehot: np.ndarray  # (R, K, n, K): 1 where the segment at (day, position) of a cycle is k


def sample(seg: Segments, lead_days: int, review_days: int, n: int, seed: int) -> Sample:
    rng = np.random.default_rng(seed)
    lead = (
        _draw(rng, seg.mean * lead_days, seg.var * lead_days, (n,)).sum(axis=-1)
        if lead_days > 0
        else np.zeros(n)
    )
    days = _draw(rng, seg.mean, seg.var, (n, review_days))
    k = seg.mean.size
    order = np.argsort(rng.random((n, review_days, k)), axis=-1)
    onehot = (order.transpose(1, 2, 0)[..., None] == np.arange(k)).astype(float)
    return Sample(lead=lead, days=days, order=order, onehot=onehot)


def replay(
    smp: Sample, level: np.ndarray, reserves: np.ndarray, *, cycles: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Replay every cycle for each candidate (rows of ``level`` (C,) and ``reserves`` (C, K)).

    Returns:
        shortage per candidate and segment (C, K), cycles short per candidate and segment (C, K),
        mean stock on hand per candidate (C,), cycles with any shortage (C,). With ``cycles``
        false the cycle counts are left at zero (faster, for fill-rate targets only).
    """
    c_count, k_count = reserves.shape
    n, r_days, _ = smp.days.shape
    h = np.maximum(level[:, None] - smp.lead[None, :], 0.0)
    short = np.zeros((c_count, k_count))
    flags = np.zeros((c_count, k_count, n), dtype=bool) if cycles else None
    on_hand = np.zeros((c_count, n))
    rows = np.arange(n)
    for day in range(r_days):
        start = h.copy()
        for pos in range(k_count):
            seg = smp.order[:, day, pos]
            d = smp.days[rows, day, seg]
            avail = np.maximum(h - reserves[:, seg], 0.0)
            served = np.minimum(d[None, :], avail)
            h -= served
            missed = d[None, :] - served
            short += missed @ smp.onehot[day, pos]
            if flags is not None:
                # Each cycle has one segment at this position: the (segment, cycle) pairs are
                # unique.
                flags[:, seg, rows] |= missed > 0
        on_hand += 0.5 * (start + h)
    if flags is None:
        none = np.zeros(c_count)
        return short, np.zeros((c_count, k_count)), on_hand.mean(axis=1) / r_days, none
    return (
        short,
        flags.sum(axis=2),
        on_hand.mean(axis=1) / r_days,
        flags.any(axis=1).sum(axis=1),
    )


def _meets(smp: Sample, seg: Segments, level: np.ndarray, reserves: np.ndarray) -> np.ndarray:
    cycles = bool(np.any(~np.isnan(seg.csl_target)))
    short, short_cycles, _, _ = replay(smp, level, reserves, cycles=cycles)
    demand = smp.days.sum(axis=(0, 1))
    n = smp.lead.size
    fill = np.where(demand > 0, 1.0 - short / np.maximum(demand, 1e-300), 1.0)
    csl = 1.0 - short_cycles / n
    ok_fill = np.isnan(seg.fill_target)[None, :] | (fill >= seg.fill_target[None, :] - 1e-12)
    ok_csl = np.isnan(seg.csl_target)[None, :] | (csl >= seg.csl_target[None, :] - 1e-12)
    return np.all(ok_fill & ok_csl, axis=1)


def _smallest_levels(
    smp: Sample, seg: Segments, reserves: np.ndarray, hi: float, lo: float = -1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Per reserve vector, the smallest S <= hi meeting every target (bisection) and whether
    one exists."""
    c_count = reserves.shape[0]
    top = np.full(c_count, hi)
    ok = _meets(smp, seg, top, reserves)
    lo_ = np.full(c_count, min(lo, hi - 1.0))
    up = top.copy()
    while np.any(up - lo_ > 1):
        open_ = up - lo_ > 1
        mid = np.where(open_, np.floor((lo_ + up) / 2.0), up)
        good = _meets(smp, seg, mid, reserves)
        up = np.where(open_ & good, mid, up)
        lo_ = np.where(open_ & ~good, mid, lo_)
    return up, ok


def _reserve_vectors(n_tiers: int, values_per_tier: list[np.ndarray]) -> np.ndarray:
    """Candidate reserve vectors per tier: none for the top tier, non-decreasing below it."""
    grids: list[tuple[float, ...]] = [(0.0,)]
    for t in range(1, n_tiers):
        grids = [(*g, float(v)) for g in grids for v in values_per_tier[t - 1] if v >= g[-1]]
    return np.asarray(grids)


def plan(seg: Segments, *, lead_days: int, review_days: int, start_level: float, seed: int) -> Plan:
    """The critical-level plan of one stocking point (see the module docstring)."""
    mean_cycle = float(seg.mean.sum()) * (lead_days + review_days)
    # Over-dispersed demand needs more cycles for the same precision (its shortages come in rare
    # large lumps): scale by the variance-to-mean ratio.
    vmr = float(seg.var.sum() / seg.mean.sum()) if seg.mean.sum() > 0 else 1.0
    n = int(min(SEARCH_CYCLES * max(vmr, 1.0), 8 * SEARCH_CYCLES))
    smp = sample(seg, lead_days, review_days, n, seed)
    n_tiers = seg.mean.size
    # The plan without reserves (everyone served at the top target) bounds S from above.
    hi = max(float(start_level), 1.0)
    zero = np.zeros((1, seg.mean.size))
    while not _meets(smp, seg, np.array([hi]), zero)[0]:
        hi = hi * 2.0 + 1.0
        if hi > 1e7 + 100 * mean_cycle:
            break
    base, _ = _smallest_levels(smp, seg, zero, hi)
    hi = float(base[0])
    # Reserves only take stock from the lowest tier, so it never does better than with none:
    # S is at least the level at which, without reserves, the lowest tier's targets are met.
    last = n_tiers - 1
    lowest = Segments(
        mean=seg.mean,
        var=seg.var,
        fill_target=np.full(n_tiers, seg.fill_target[last]),
        csl_target=np.full(n_tiers, seg.csl_target[last]),
    )
    floor_level = float(_smallest_levels(smp, lowest, zero, hi)[0][0]) - 1.0
    best_inv = float(replay(smp, base, zero, cycles=False)[2][0])
    best = (hi, zero[0])
    if n_tiers > 1 and hi - floor_level > 2:
        step = max(hi / (GRID_POINTS - 1), 1.0)
        values = [np.unique(np.round(np.arange(0.0, hi + step / 2, step)))] * (n_tiers - 1)
        while True:
            cands = _reserve_vectors(n_tiers, values)
            levels, ok = _smallest_levels(smp, seg, cands, hi, floor_level)
            inv = np.where(ok, replay(smp, levels, cands, cycles=False)[2], np.inf)
            i = int(np.argmin(inv))
            if inv[i] < best_inv - 1e-9:
                best_inv, best = float(inv[i]), (float(levels[i]), cands[i])
            if step <= 1.0:
                break
            # A finer grid around the best reserves so far.
            step = max(np.floor(step / 3.0), 1.0)
            centre = [float(best[1][t]) for t in range(1, n_tiers)]
            values = [
                np.unique(np.clip(np.round(c + step * np.arange(-2, 3)), 0.0, hi)) for c in centre
            ]
    level, reserves = best
    # Check on a fresh, larger sample: the smallest S meeting every target there, with the
    # reserves found (the search's sample is small and its level noisy), and the same without
    # reserves (every promise kept first come, first served: what rationing is measured against,
    # in the same demand model). Rationing is kept only where it holds less.
    check = sample(seg, lead_days, review_days, CHECK_CYCLES, seed + 1)

    def on_check(level: float, reserves: np.ndarray) -> float:
        span = max(np.ceil(0.1 * level), 3.0)
        top = level + span
        while not _meets(check, seg, np.array([top]), reserves[None, :])[0] and top < 1e9:
            top += span
        found = _smallest_levels(check, seg, reserves[None, :], top, max(level - span, -1.0))
        return float(found[0][0])

    base_level = on_check(hi, zero[0])
    base_on_hand = float(replay(check, np.array([base_level]), zero, cycles=False)[2][0])
    if reserves.any():
        level = on_check(level, reserves)
        if float(replay(check, np.array([level]), reserves[None, :], cycles=False)[2][0]) >= (
            base_on_hand
        ):
            level, reserves = base_level, zero[0]
    else:
        level = base_level
    short, short_cycles, on_hand, any_short = replay(check, np.array([level]), reserves[None, :])
    demand = check.days.sum(axis=(0, 1))
    fill = np.where(demand > 0, 1.0 - short[0] / np.maximum(demand, 1e-300), 1.0)
    total = float(demand.sum())
    return Plan(
        level=level,
        reserves=reserves,
        fill=fill,
        csl=1.0 - short_cycles[0] / CHECK_CYCLES,
        avg_on_hand=float(on_hand[0]),
        fill_total=1.0 - float(short[0].sum()) / total if total > 0 else 1.0,
        csl_total=1.0 - float(any_short[0]) / CHECK_CYCLES,
        unrationed_on_hand=base_on_hand,
    )


def ration(
    series: pl.DataFrame,
    policy: pl.DataFrame,
    keys: list[str],
    priorities: pl.DataFrame,
    *,
    period_days: float,
    seed: int = 0,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Critical-level plans for the (R, S) stocking points whose segments' targets differ.

    Returns:
        the policy with those points' levels, expected service and stock replaced (and a
        ``rationed`` column), and per point x segment ``reserve_level, expected_fill_rate,
        expected_csl`` for the per-segment table.
    """
    seg_rows = (
        series.join(priorities, on="segment", how="left")
        .group_by([*keys, "segment"], maintain_order=True)
        .agg(
            pl.col("mu").sum(),
            pl.col("sd").pow(2).sum().alias("var"),
            pl.col("seg_level").first(),
            pl.col("seg_measure").first(),
            pl.col("priority").first(),
        )
        .sort([*keys, "priority", "segment"])
    )
    groups = seg_rows.partition_by(keys, as_dict=True, maintain_order=True)
    pol = policy.with_row_index("_row")
    updates: list[dict[str, float | int | bool]] = []
    service: list[dict[str, object]] = []
    for point in pol.iter_rows(named=True):
        key = tuple(point[k] for k in keys)
        rows = groups.get(key)
        if rows is None or point["review_days"] <= 0:
            continue
        targets = rows.get_column("seg_level").to_numpy()
        measures = rows.get_column("seg_measure").to_numpy().astype(str)
        mu = rows.get_column("mu").to_numpy().astype(float)
        live = mu > 0
        if (
            live.sum() < 2
            or len({(t, m) for t, m in zip(targets[live], measures[live], strict=True)}) < 2
        ):
            continue
        prio = rows.get_column("priority").to_numpy()
        tier = tiers(prio, targets.astype(float), mu)
        seg = Segments.from_segments(
            tier,
            mu / period_days,
            rows.get_column("var").to_numpy().astype(float) / period_days,
            targets.astype(float),
            measures == "fill-rate",
        )
        found = plan(
            seg,
            lead_days=int(round(point["lead_time_days"])),
            review_days=max(int(round(point["review_days"])), 1),
            start_level=float(point["order_up_to"]),
            seed=seed + int(point["_row"]),
        )
        updates.append(
            {
                "_row": int(point["_row"]),
                "order_up_to": found.level,
                "avg_inventory": found.avg_on_hand,
                "expected_fill_rate": found.fill_total,
                "expected_csl": found.csl_total,
                "unrationed_avg_inventory": found.unrationed_on_hand,
                "held_back": bool(found.reserves.any()),
            }
        )
        for name, k in zip(rows.get_column("segment").to_list(), tier.tolist(), strict=True):
            service.append(
                {
                    **{c: point[c] for c in keys},
                    "segment": name,
                    "reserve_level": float(found.reserves[k]),
                    "expected_fill_rate": float(found.fill[k]),
                    "expected_csl": float(found.csl[k]),
                    "tier": int(k),
                }
            )
    service_frame = pl.DataFrame(
        service,
        schema={
            **{c: pl.String for c in keys},
            "segment": pl.String,
            "reserve_level": pl.Float64,
            "expected_fill_rate": pl.Float64,
            "expected_csl": pl.Float64,
            "tier": pl.Int64,
        },
    )
    if not updates:
        return policy.with_columns(
            rationed=pl.lit(False), unrationed_avg_inventory=pl.col("avg_inventory")
        ), service_frame
    upd = pl.DataFrame(updates).with_columns(pl.col("_row").cast(pl.UInt32))
    new = pol.join(upd, on="_row", how="left", suffix="_r")
    hit = pl.col("order_up_to_r").is_not_null()
    changed = ["order_up_to", "avg_inventory", "expected_fill_rate", "expected_csl"]
    out = new.with_columns(
        *[pl.when(hit).then(pl.col(f"{c}_r")).otherwise(pl.col(c)).alias(c) for c in changed],
        rationed=hit & pl.col("held_back").fill_null(False),
        unrationed_avg_inventory=pl.when(hit)
        .then(pl.col("unrationed_avg_inventory"))
        .otherwise(pl.col("avg_inventory")),
    ).with_columns(
        reorder_point=pl.when(hit).then(pl.col("order_up_to")).otherwise(pl.col("reorder_point")),
        safety_stock=pl.when(hit)
        .then(pl.col("order_up_to") - pl.col("mean_demand_lt"))
        .otherwise(pl.col("safety_stock")),
        inventory_value=pl.col("avg_inventory") * pl.col("unit_cost"),
    )
    return out.drop("_row", "held_back", *[f"{c}_r" for c in changed]).select(
        *policy.columns, "rationed", "unrationed_avg_inventory"
    ), service_frame


def simulate_rationed(
    policy: pl.DataFrame,
    service: pl.DataFrame,
    series: pl.DataFrame,
    keys: list[str],
    *,
    period_days: float,
    periods: int,
    seed: int = 0,
) -> pl.DataFrame:
    """Achieved fill rate and CSL per segment of the rationed points, on fresh cycles.

    ``periods`` forecast periods are replayed as that many days' worth of independent
    replenishment cycles (see the module docstring), at the plan's S and reserve levels.
    """
    demand = series.group_by([*keys, "segment"]).agg(
        pl.col("mu").sum(),
        pl.col("sd").pow(2).sum().alias("var"),
        pl.col("seg_level").first(),
        pl.col("seg_measure").first(),
    )
    rows = service.join(demand, on=[*keys, "segment"], how="left")
    out: list[dict[str, object]] = []
    groups = rows.partition_by(keys, as_dict=True, maintain_order=True)
    for point in policy.filter(pl.col("rationed")).iter_rows(named=True):
        seg_rows = groups.get(tuple(point[k] for k in keys))
        if seg_rows is None:
            continue
        tier = seg_rows["tier"].to_numpy()
        seg = Segments.from_segments(
            tier,
            seg_rows["mu"].to_numpy() / period_days,
            seg_rows["var"].to_numpy() / period_days,
            seg_rows["seg_level"].to_numpy(),
            seg_rows["seg_measure"].to_numpy().astype(str) == "fill-rate",
        )
        review = max(int(round(point["review_days"])), 1)
        n = max(int(periods * period_days / review), 1)
        smp = sample(seg, int(round(point["lead_time_days"])), review, n, seed + 7)
        reserves = np.zeros(int(tier.max()) + 1)
        for k, c in zip(tier.tolist(), seg_rows["reserve_level"].to_list(), strict=True):
            reserves[k] = c
        short, short_cycles, _, _ = replay(smp, np.array([point["order_up_to"]]), reserves[None, :])
        dem = smp.days.sum(axis=(0, 1))
        fill = np.where(dem > 0, 1.0 - short[0] / np.maximum(dem, 1e-300), 1.0)
        csl = 1.0 - short_cycles[0] / n
        for name, k in zip(seg_rows["segment"].to_list(), tier.tolist(), strict=True):
            out.append(
                {
                    **{c: point[c] for c in keys},
                    "segment": name,
                    "achieved_fill_rate": float(fill[k]),
                    "achieved_csl": float(csl[k]),
                }
            )
    return pl.DataFrame(
        out,
        schema={
            **{c: pl.String for c in keys},
            "segment": pl.String,
            "achieved_fill_rate": pl.Float64,
            "achieved_csl": pl.Float64,
        },
    )
