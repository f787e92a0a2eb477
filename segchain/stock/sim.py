"""Simulation: replay policies against demand drawn from the distribution they assumed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import polars as pl

from segchain.errors import DataError, UsageError
from segchain.formatting import agree
from segchain.schema import require_columns
from segchain.stock.distributions import DISTRIBUTIONS, fit_params, whole_day_leads
from segchain.stock.eoq import rs_order


def with_demand(policy: pl.DataFrame) -> pl.Expr:
    """True for the stocking points with forecast demand: the others (a sku forecast 0, on-hand
    stock nobody buys, ``no_demand``) have no service to replay, since a fill rate is demand
    served over demand and a CSL the share of cycles whose demand is met."""
    some = pl.col("mean_demand").fill_null(0.0) > 0
    return some & ~pl.col("no_demand").fill_null(False) if "no_demand" in policy.columns else some


def simulate(
    policy: pl.DataFrame,
    *,
    periods: int,
    seed: int = 0,
    substeps: int | None = None,
    demand: np.ndarray | None = None,
    warmup: int | None = None,
    history: pl.DataFrame | None = None,
    keys: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Replay each policy against demand drawn from the distribution it assumed.

    A point planned on the bootstrap of its order history (``demand_model`` bootstrap, given
    that ``history``: ``bootstrap.demand_history``, by the plan's ``keys``) is replayed on a
    path of that bootstrap, brought to its forecast's level (``bootstrap.level_to``) as its plan
    was, from its own stream (``bootstrap.PeriodPaths``); the others on their fitted
    distribution. Every point's orders take the lead time its plan assumed (drawn, below).
    Without ``history`` every point replays the fitted distribution (a bootstrapped point then
    meets demand its plan rejected).

    Discrete-time replay with backorders: each step serves its demand from stock, then reviews
    every ``review_days`` (both policy types: (s, Q) orders when the position is at or below s,
    (R, S) up to S); an order placed at the end of step t is on hand from step t + 1 + L, with L
    drawn per order from normal(L, sd_L) when sd_L > 0. A step is one forecast period when every
    review is a whole number of periods, else a day (``review_steps``); ``substeps`` sets the
    steps per period instead, the period's distribution divided accordingly (all four families
    are infinitely divisible, the same conversion ``stock`` uses).

    Achieved fill rate = 1 - demand not served from stock / demand; achieved CSL = share of
    replenishment cycles (order arrivals) without a backorder just before the arrival.

    Args:
        policy: the output of ``stock`` (needs its distribution and level columns).
        periods: forecast periods to replay after a warm-up.
        seed: random seed.
        substeps: steps per forecast period (default: ``review_steps``).
        demand: optional (periods, rows) array of demand per period to replay instead of draws
            (then ``substeps`` is 1).
        warmup: periods discarded first (default: 2 protection intervals + 10).

    Returns:
        one row per policy row: keys, target, achieved and expected fill rate and CSL, cycles.
    """
    need = [
        "sku",
        "service_target",
        "service_measure",
        "distribution",
        "period_days",
        "lead_time_days",
        "lead_time_sd_days",
        "review_days",
        "mean_demand",
        "sd_demand",
        "reorder_point",
        "order_qty",
        "order_up_to",
    ]
    require_columns(policy.columns, need, source="policy", hint="pass the output of `stock`")
    if periods < 1:
        raise UsageError(f"--simulate needs a number of periods >= 1, got {periods}")
    n = policy.height
    col = policy.get_column
    period_days = col("period_days").to_numpy().astype(float)
    review_days = col("review_days").to_numpy().astype(float)
    periodic = (
        col("policy_type").to_numpy().astype(str) == "RS"
        if "policy_type" in policy.columns
        else review_days > 0
    )
    if demand is not None:
        demand = np.asarray(demand, dtype=float)
        if demand.shape != (periods, n):
            raise ValueError(f"demand must have shape {(periods, n)}, got {demand.shape}")
        k = 1
    elif substeps is None:
        k = review_steps(period_days, review_days)
    else:
        k = int(substeps)
    boot = (
        _bootstrap_paths(policy, history, keys, seed=seed, substeps=k)
        if demand is None and history is not None
        else None
    )
    lt = col("lead_time_days").to_numpy() / period_days * k
    lt_sd = col("lead_time_sd_days").to_numpy() / period_days * k
    # Both policy types look every review_days (rounded to whole steps, at least one).
    rev = np.maximum(np.rint(review_days / period_days * k), 1)
    rev = rev.astype(np.int64)
    lt_steps = np.rint(lt).astype(np.int64)
    max_lt = int(np.max(np.ceil(lt + 6 * lt_sd))) if n else 0
    ring = max_lt + 2
    s = col("reorder_point").to_numpy().astype(float)
    big_s = col("order_up_to").to_numpy().astype(float)
    q = col("order_qty").to_numpy().astype(float)
    # (R, S) orders as order_now does: at least the MOQ, in whole packs (a plan without the
    # columns, none and 1).
    moq = col("moq").fill_null(0.0).to_numpy().astype(float) if "moq" in policy.columns else 0.0
    pack = (
        col("pack_size").fill_null(1.0).to_numpy().astype(float)
        if "pack_size" in policy.columns
        else 1.0
    )
    warm = (
        int(warmup * k)
        if warmup is not None
        else int(2 * (max_lt + int(rev.max(initial=1))) + 10 * k)
    )
    steps = periods * k
    total = warm + steps

    rng = np.random.default_rng(seed)
    draw = _drawer(policy, k, rng) if demand is None else None

    ni = np.where(periodic, big_s, s + q)
    ip = ni.copy()
    # Ring buffers of what arrives at each future step (step-major: one contiguous row per step).
    pipe = np.zeros((ring, n))
    cyc = np.zeros((ring, n), dtype=bool)
    rows = np.arange(n)
    dem_sum = np.zeros(n)
    short_sum = np.zeros(n)
    cycles = np.zeros(n)
    stockouts = np.zeros(n)
    all_periodic = bool(periodic.all())
    any_periodic = bool(periodic.any())
    q_safe = np.where(q > 0, q, 1.0)
    random_lead = bool(lt_sd.any())
    block = 512
    buf = np.empty((0, n))
    for step in range(total):
        i = step % block
        if i == 0:
            if demand is not None:
                # Warm-up replays the first periods of the given demand.
                idx = np.arange(step, min(step + block, total))
                idx = np.where(idx < warm, idx % periods, idx - warm)
                buf = demand[idx]
            else:
                assert draw is not None
                buf = draw(min(block, total - step))
                if boot is not None:
                    buf[:, boot[0]] = boot[1](buf.shape[0])
        d = buf[i]
        slot = step % ring
        arriving = cyc[slot]
        counting = step >= warm
        if counting:
            cycles += arriving
            stockouts += arriving & (ni < -1e-9)
        ni += pipe[slot]
        pipe[slot] = 0.0
        arriving[:] = False
        before = np.maximum(-ni, 0.0)
        ni -= d
        ip -= d
        if counting:
            short_sum += np.maximum(-ni, 0.0) - before
            dem_sum += d
        if all_periodic:
            due = (step + 1) % rev == 0
            amount = rs_order(big_s - ip, moq, pack)
        else:
            due = (ip <= s) & ((step + 1) % rev == 0)
            amount = (np.floor((s - ip) / q_safe) + 1.0) * q
            if any_periodic:
                due = np.where(periodic, (step + 1) % rev == 0, due)
                amount = np.where(periodic, rs_order(big_s - ip, moq, pack), amount)
        if not due.any():
            continue
        if random_lead:
            lead = np.minimum(whole_day_leads(lt, lt_sd, rng.standard_normal(n)), ring - 2)
            dest = (step + 1 + lead.astype(np.int64)) % ring
        else:
            dest = (step + 1 + lt_steps) % ring
        r = rows[due]
        pipe[dest[r], r] += amount[r]
        cyc[dest[r], r] = True
        ip[r] += amount[r]
    # No service where the replay drew no demand (fill rate) or brought no order (CSL): served
    # over asked is undefined there, and a 100 % would count a point as meeting its target on
    # nothing (a slow point's draws are often all zero over a short replay).
    fill = np.where(dem_sum > 0, 1.0 - short_sum / np.where(dem_sum > 0, dem_sum, 1.0), np.nan)
    csl = np.where(cycles > 0, 1.0 - stockouts / np.where(cycles > 0, cycles, 1.0), np.nan)
    keys = [c for c in ("site", "sku") if c in policy.columns]
    measure = col("service_measure").to_numpy().astype(str)
    achieved = np.where(measure == "fill-rate", fill, csl)
    out = policy.select(
        *keys,
        "distribution",
        "service_measure",
        "service_target",
        "reorder_point",
        "order_up_to",
        *[c for c in ("expected_fill_rate", "expected_csl") if c in policy.columns],
    ).with_columns(
        pl.Series("achieved_fill_rate", np.clip(fill, 0.0, 1.0), nan_to_null=True),
        pl.Series("achieved_csl", csl, nan_to_null=True),
        pl.Series("cycles", cycles.astype(np.int64)),
        pl.Series("demand", dem_sum),
        pl.Series("shortage", short_sum),
        pl.Series("periods", np.full(n, periods, dtype=np.int64)),
        pl.Series("target_met", achieved >= col("service_target").to_numpy()).set(
            pl.Series(np.isnan(achieved)), None
        ),
    )
    if boot is not None:
        # What the replay drew from: a bootstrapped point's history, not its fitted family.
        out = out.with_columns(out.get_column("distribution").scatter(boot[0], "bootstrap"))
    return out


def _bootstrap_paths(
    policy: pl.DataFrame,
    history: pl.DataFrame,
    keys: Sequence[str] | None,
    *,
    seed: int,
    substeps: int,
) -> tuple[np.ndarray, Callable[[int], np.ndarray]] | None:
    """The rows planned on their history's bootstrap and a function giving their next steps of
    demand, (steps, rows), from one path each (``bootstrap.PeriodPaths``), or None."""
    from segchain.stock.bootstrap import PeriodPaths, histories, level_to

    if "demand_model" not in policy.columns:
        return None
    rows = np.flatnonzero(policy.get_column("demand_model").fill_null("").to_numpy() == "bootstrap")
    if not rows.size:
        return None
    keys = list(keys) if keys is not None else [c for c in ("site", "sku") if c in policy.columns]
    points = policy[rows]
    h = histories(history, points, keys)
    mine = np.flatnonzero(h.has)
    if not mine.size:
        return None
    mu = points.get_column("mean_demand").to_numpy().astype(float)[mine]
    # Purposes 0, 1 and 3 drew the plan's paths and lead times: the replay's are others.
    paths = PeriodPaths(h, mine, seed=seed, purpose=2, level=level_to(h, mine, mu))
    left = np.zeros((0, mine.size))
    # A history that never shows a sale after a pause says nothing of how often it sells: its
    # plan has no expected service (``policy.compute_policy``), and the replay draws it no
    # demand (so no achieved service) rather than its chain's degenerate every-period sales.
    unseen = h.unseen[mine]

    def steps(size: int) -> np.ndarray:
        nonlocal left
        if left.shape[0] < size:
            more = -(-(size - left.shape[0]) // substeps)
            left = np.concatenate([left, paths.next(more, substeps)])
        out, left = left[:size], left[size:]
        out[:, unseen] = 0.0
        return out

    return rows[mine], steps


def review_steps(period_days: np.ndarray, review_days: np.ndarray) -> int:
    """Steps per forecast period that make every review a whole number of steps: 1 when every
    review is a whole number of periods, else days (the period's length rounded)."""
    if not period_days.size:
        return 1
    per = review_days / period_days
    if np.all((per >= 1) & (np.abs(per - np.rint(per)) < 1e-9)):
        return 1
    return max(int(np.rint(period_days.max())), 1)


def _drawer(policy: pl.DataFrame, k: int, rng: np.random.Generator) -> Any:
    """A function drawing (steps, rows) demand per step from each row's assumed distribution."""
    col = policy.get_column
    dist = col("distribution").to_numpy().astype(str)
    unknown = sorted(set(dist) - set(DISTRIBUTIONS))
    if unknown:
        what = agree(len(unknown), "distribution", "distributions")
        raise DataError(f"policy: unknown {what} {', '.join(unknown)}")
    mu = col("mean_demand").to_numpy().astype(float) / k
    var = col("sd_demand").to_numpy().astype(float) ** 2 / k
    groups: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []
    for name in DISTRIBUTIONS:
        m = np.flatnonzero(dist == name)
        if not m.size:
            continue
        mm, vv = mu[m], var[m]
        if name == "normal":
            groups.append((name, m, mm, np.sqrt(vv)))
        elif name == "poisson":
            groups.append((name, m, mm, mm))
        else:
            # Per-step parameters: the family's own moment fit; where the step variance does not
            # exceed the mean, the family degenerates and Poisson takes over.
            over = vv > mm * (1 + 1e-9)
            pois = m[~over]
            if pois.size:
                groups.append(("poisson", pois, mm[~over], mm[~over]))
            if over.any():
                fam = "negbin" if name == "negbin" else "gamma"
                a, b = fit_params(fam, mm[over], vv[over])
                groups.append((fam, m[over], a, b))

    def draw(size: int) -> np.ndarray:
        out = np.zeros((size, policy.height))
        for name, m, a, b in groups:
            shape = (size, m.size)
            if name == "normal":
                out[:, m] = rng.normal(a, b, shape)
            elif name == "poisson":
                out[:, m] = rng.poisson(a, shape)
            elif name == "negbin":
                out[:, m] = rng.negative_binomial(a, b, shape)
            else:
                out[:, m] = rng.gamma(a, b, shape)
        return out

    return draw
