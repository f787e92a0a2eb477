"""Policy assembly: every stocking point's protection interval, distribution, levels, order
quantity, expected service and average inventory, vectorised."""

from __future__ import annotations

import numpy as np
import polars as pl

from segchain.errors import DataError, examples
from segchain.formatting import plural
from segchain.schema import DAYS_PER_YEAR, ITEMS_OPTION, MAX_VALUE
from segchain.stock.bootstrap import (
    bootstrap_levels,
    histories,
    lapsed_factor,
    level_to,
    lump_variance,
)
from segchain.stock.distributions import Fitted
from segchain.stock.eoq import eoq, round_order_qty, rs_step
from segchain.stock.inputs import (
    GAMMA_ABOVE_UNITS,
    LOW_MEAN_UNITS,
    TINY_UNITS,
    error_bound,
)
from segchain.stock.levels import discrete_levels, normal_levels
from segchain.stock.loss_functions import normal_losses


def compute_policy(
    points: pl.DataFrame,
    keys: list[str],
    *,
    period_days: float,
    review_days: float,
    periodic: bool,
    history: pl.DataFrame | None = None,
    seed: int = 0,
) -> pl.DataFrame:
    """The numbers of every policy, vectorised over stocking points (``_compute_policy``).

    An (R, S) point whose smallest order (its MOQ in whole packs) exceeds a review's mean
    demand (``eoq.rs_lot_binds``) is planned as what its orders make it, (R, s, nQ) with Q that
    lot, by the (s, Q) machinery looked at every review: its ``reorder_point`` is s and its
    ``order_up_to`` s + 1, so that ``order_now``'s rule, order when the position is below S
    (at or below s in whole units), at least the lot, is the plan. Planned as order-up-to S,
    MOQ 500 on 100 a week held 77 units for a fill of 0.952 where its orders held 326 for
    0.998. (The (R, s, nQ) plan is exact while S - IP stays within the lot; a review whose
    demand takes the position more than a lot below S orders S - IP in whole packs, not two
    lots, and holds less than planned: rare where the lot exceeds a review's demand.) A point
    whose lot does not bind but whose packs hold more than a unit is planned so too, with Q
    the pack (``eoq.rs_step``): S - IP in whole packs lifts the position to S plus the rounding,
    uniform over a pack. Planned as order-up-to S, packs of 50 on 100 a week held 100 units
    where the plan said 77.
    """
    if not periodic:
        return _compute_policy(
            points,
            keys,
            period_days=period_days,
            review_days=review_days,
            periodic=False,
            history=history,
            seed=seed,
        )
    r = review_days / period_days
    lot = (
        rs_step(
            points.get_column("mean_demand").to_numpy().astype(float) * r,
            points.get_column("moq").to_numpy(),
            points.get_column("pack_size").to_numpy(),
        )
        > 1.0
    )
    if not lot.any():
        return _compute_policy(
            points,
            keys,
            period_days=period_days,
            review_days=review_days,
            periodic=True,
            history=history,
            seed=seed,
        )
    parts = []
    for rows, as_lot in ((np.flatnonzero(~lot), False), (np.flatnonzero(lot), True)):
        if not rows.size:
            continue
        part = _compute_policy(
            points[rows],
            keys,
            period_days=period_days,
            review_days=review_days,
            periodic=not as_lot,
            rs_lot=as_lot,
            history=history,
            seed=seed,
        )
        if as_lot:
            # order_now orders when the position is below order_up_to: s + 1 in whole units.
            part = part.with_columns(
                policy_type=pl.lit("RS"), order_up_to=pl.col("reorder_point") + 1.0
            )
        parts.append(part.with_columns(_row=pl.Series(rows, dtype=pl.Int64)))
    return pl.concat(parts, how="vertical").sort("_row").drop("_row")


def _compute_policy(
    points: pl.DataFrame,
    keys: list[str],
    *,
    period_days: float,
    review_days: float,
    periodic: bool,
    rs_lot: bool = False,
    history: pl.DataFrame | None = None,
    seed: int = 0,
) -> pl.DataFrame:
    """The numbers of every policy, vectorised over stocking points.

    ``history`` (``bootstrap.demand_history``): a slow or lumpy point whose fitted level exceeds
    the largest demand its history shows over any window as long as its protection interval
    (whole periods), that history brought up to the forecast's level (``bootstrap.level_to``),
    is held at that largest demand, and its expected service and stock are those of the
    bootstrap of its history at that level (``bootstrap.bootstrap_levels``, seeded with
    ``seed``): ``demand_model`` bootstrap. So the level is the fit's, at most the history's
    largest demand, and never falls as the target rises: a bootstrap's own level, which could
    be lower, gave 25 of Online Retail's 3,558 reorder points less stock for 0.99 than for 0.95
    (one from 1,446 to 1,209), the fit's level for 0.95 lying under the history's largest
    demand and the bootstrap's for 0.99 under the fit's.

    ``periodic``: order-up-to (R, S) every ``review_days``; else (s, Q) looked at every
    ``review_days`` (a nightly MRP run: 1); ``rs_lot``: (R, S) points planned as (R, s, nQ)
    with Q their lot (``compute_policy``), so (s, Q) with the lot as Q. Demand per forecast
    period (mean mu, variance sd^2) is taken as the sum of independent demands of its days, so
    a review of R days sees mean
    mu*R/P and variance sd^2*R/P (P the period in days); lead times convert the same way.

    (s, Q) looked at every R is an (R, s, nQ) policy (Hadley & Whitin ch. 5; Axsaeter,
    Inventory Control, sec. 5.3). Between two looks the position falls by a review's demand,
    so it is usually below s when the order goes out (the undershoot). The textbook (s, Q)
    formulas ignore that and promise more than they deliver when replayed (0.93 against a 0.98
    target on the sample). Here the protection interval of (s, Q) is L + R and the fill rate
    is the exact one of (R, s, nQ): after ordering, the inventory position is uniform on
    (s, s + Q], so the expected shortage per review is the mean over that range of
    E[(D_{L+R} - y)^+] - E[(D_L - y)^+], a difference of second-order loss functions. The CSL
    is P(D_L + U <= s) with the undershoot U: exact for slow and lumpy items (whose undershoot
    can exceed a review's mean demand), and P(D_{L+R} <= s), a safe bound, for normal ones.
    (The alternative, adding E[U] = E[D^2]/(2E[D]) to the textbook reorder point, is a renewal
    approximation for Q much larger than a review's demand; the form used here is exact.)
    """
    n = points.height
    col = points.get_column
    mu = col("mean_demand").to_numpy().astype(float)
    sd = col("sd_demand").to_numpy().astype(float)
    target = col("service_target").to_numpy().astype(float)
    measure = col("service_measure").to_numpy().astype(str)
    lt = col("lead_time_days").to_numpy().astype(float) / period_days
    lt_sd = col("lead_time_sd_days").to_numpy().astype(float) / period_days
    cls = col("demand_class").fill_null("").to_numpy().astype(str)
    unit_cost = col("unit_cost").to_numpy().astype(float)
    # Review interval in forecast periods, for both policies (see the docstring).
    r = np.full(n, review_days / period_days)
    t = lt + r
    mean_t = mu * t
    slow = np.isin(cls, ["intermittent", "lumpy"]) | (mean_t < LOW_MEAN_UNITS)
    hist = histories(history, points, keys) if history is not None else None
    if hist is not None:
        sd = np.where(slow & hist.has, np.sqrt(np.maximum(sd**2, lump_variance(mu, hist))), sd)
    var_t = t * sd**2 + mu**2 * lt_sd**2
    sd_t = np.sqrt(var_t)
    mean_l = mu * lt
    var_l = lt * sd**2 + mu**2 * lt_sd**2

    annual = mu * DAYS_PER_YEAR / period_days
    h = col("holding_rate").to_numpy() * unit_cost
    q_eoq = eoq(annual, col("order_cost").to_numpy(), h)
    _check_order_quantities(points, keys, q_eoq, h, periodic=periodic or rs_lot)
    # (R, S) orders what was sold since the last review: mean demand per review period. An
    # (R, S) point planned as (R, s, nQ) (``rs_lot``) orders its lot, the MOQ in whole packs,
    # which its review's demand rounds to as well (``eoq.rs_lot_binds``), or a review's demand
    # in whole packs. ``q`` is the step of the plan's formulas: the lot, or the pack, that the
    # position after ordering spreads over (``eoq.rs_step``); order_qty elsewhere.
    q_raw = mu * r if periodic or rs_lot else q_eoq
    moq, pack = col("moq").to_numpy(), col("pack_size").to_numpy()
    order_qty = round_order_qty(q_raw, moq, pack)
    q = rs_step(mu * r, moq, pack) if rs_lot else order_qty
    # Fill rate: shortage per review period against the demand of a review period.
    q_fill = mu * r
    allowed_all = (1.0 - target) * q_fill

    dist = np.where(
        mean_t <= 0,
        "poisson",
        np.where(
            ~slow,
            "normal",
            np.where(
                var_t <= mean_t * (1 + 1e-9),
                "poisson",
                np.where(mean_t >= GAMMA_ABOVE_UNITS, "gamma", "negbin"),
            ),
        ),
    )
    level = np.zeros(n)
    exp_fill = np.ones(n)
    exp_csl = np.ones(n)
    fill = measure == "fill-rate"

    m = np.flatnonzero((dist == "normal") & (sd_t > 0))
    if m.size:
        level[m], exp_csl[m], short = normal_levels(
            periodic=periodic,
            fill=fill[m],
            target=target[m],
            allowed=allowed_all[m],
            mean_t=mean_t[m],
            sd_t=sd_t[m],
            mean_l=mean_l[m],
            sd_l=np.sqrt(var_l[m]),
            q=q[m],
        )
        exp_fill[m] = 1.0 - short / np.maximum(q_fill[m], 1e-300)
    m = (dist == "normal") & (sd_t <= 0)
    level[m] = np.ceil(mean_t[m] - 1e-9)
    m = np.flatnonzero(dist != "normal")
    if m.size:
        level[m], exp_csl[m], short = discrete_levels(
            dist[m],
            periodic=periodic,
            mean_1=mu[m] * r[m],
            var_1=sd[m] ** 2 * r[m],
            fill=fill[m],
            target=target[m],
            allowed=allowed_all[m],
            mean_t=mean_t[m],
            var_t=var_t[m],
            mean_l=mean_l[m],
            var_l=var_l[m],
            q=q[m],
        )
        exp_fill[m] = 1.0 - short / np.maximum(q_fill[m], 1e-300)
    boot = np.zeros(n, dtype=bool)
    history_max = np.full(n, np.nan)
    top = np.full(n, np.nan)
    boot_inv = np.zeros(n)
    has_history = np.zeros(n, dtype=bool)
    boot_capped = np.zeros(0, dtype=bool)
    if hist is not None:
        has_history = hist.has
        # The mean lead time's window, not widened by its spread: L + R + z sd_L bought 0.8
        # points of fill for 21.5 % more stock on Superstore's site plans and nothing on two
        # other data sets (docs/measurements.md, *A held point's cap window widened*).
        history_max = hist.window_max(t)
        # The history brought up to the forecast's level (``level_to``): a history whose sizes
        # must grow to reach its forecast shows larger demand over an interval in proportion.
        # Against the history's own level, a growing item's plausible fit was held at the
        # history's smaller demand.
        # Every point with a history gets its factor (``history_max_at_forecast``); the cap
        # binds only at slow and lumpy points (a row's factor does not depend on the others).
        # A history far above its forecast (a lapsed item) is brought down to it
        # (``lapsed_factor``): its busy months had set the level of an item no longer selling.
        lots = np.ones(n)
        judged = np.flatnonzero(has_history)
        lots[judged] = level_to(hist, judged, mu[judged]).size * lapsed_factor(
            hist, judged, mu[judged]
        )
        top = history_max * lots
        boot = has_history & (dist != "normal") & (level > top)
        if boot.any():
            m = np.flatnonzero(boot)
            found = bootstrap_levels(
                hist,
                m,
                periodic=periodic,
                lead=lt[m],
                review=r[m],
                fill=fill[m],
                target=target[m],
                q=q[m],
                cap=top[m],
                seed=seed,
                level=level_to(hist, m, mu[m]),
                hold=True,
                lead_sd=lt_sd[m],
                period_days=period_days,
            )
            level[m], exp_fill[m], exp_csl[m] = found.level, found.fill, found.csl
            boot_inv[m] = found.avg_inventory
            boot_capped = found.capped
    capped = np.zeros(n, dtype=bool)
    if boot.any():
        capped[np.flatnonzero(boot)] = boot_capped
    # A held point whose history never shows a sale after a period without one (one sale, or
    # one run of sales that ended): how often it sells is unseen, so its bootstrap's service
    # is not a figure (1 where the draws never sell again, about 0 where a single period sells
    # every period). Its level stays its history's largest demand; its expected service is
    # left empty, it is not said to be capped, and its stock on hand is its level (plus half an
    # order for (s, Q)), what it holds while it does not sell.
    unseen = boot & hist.unseen if hist is not None else np.zeros(n, dtype=bool)
    capped &= ~unseen
    # Credible plans: a point expecting under 1 unit over its protection interval holds no
    # more than one period's upper forecast bound (its history's largest plausible lump).
    # The fill-rate level of a tiny, over-dispersed mean otherwise ran to 322,035 units. Without
    # a bound (no forecast-hi-* column, or an empty one), an over-dispersed fit is held to one
    # period's bound from its error sd (error_bound): mean 4e-7 a week with sd 0.1 had asked
    # 44,547 units, lumps of 25,000. A Poisson fit does not read the sd: nothing to bound.
    given = np.full(n, np.nan)
    if "level_cap" in points.columns:
        given = col("level_cap").cast(pl.Float64).fill_null(np.nan).to_numpy()
    has_bound = ~np.isnan(given)
    cap = tiny_bound(mu, sd, given, period_days)
    bounded = has_bound | np.isin(dist, ["negbin", "gamma"])
    by_bound = (mean_t < TINY_UNITS) & (level > cap) & (dist != "normal") & ~has_history & bounded
    # The bound refuses an over-dispersed fit's implausible lumps; it does not say demand comes
    # in fewer units than one at a time. So it never holds less than Poisson demand of the same
    # mean needs at the target: a Poisson point of 0.3 a week under a forecast-hi-95 of 0.9 was
    # held at 1 (expected fill 0.47 for 0.95), where Poisson asks 3.
    if by_bound.any():
        m = np.flatnonzero(by_bound)
        poisson, _, _ = discrete_levels(
            np.full(m.size, "poisson"),
            periodic=periodic,
            mean_1=mu[m] * r[m],
            var_1=mu[m] * r[m],
            fill=fill[m],
            target=target[m],
            allowed=allowed_all[m],
            mean_t=mean_t[m],
            var_t=mean_t[m],
            mean_l=mean_l[m],
            var_l=mean_l[m],
            q=q[m],
        )
        cap[m] = np.maximum(cap[m], poisson)
        by_bound &= level > cap
    capped |= by_bound
    if by_bound.any():
        m = np.flatnonzero(by_bound)
        level[m] = np.maximum(cap[m], 0.0)
        exp_fill[m], exp_csl[m] = service_at(
            dist[m],
            level[m],
            q[m],
            periodic=periodic,
            mean_t=mean_t[m],
            var_t=var_t[m],
            mean_l=mean_l[m],
            var_l=var_l[m],
            per_cycle=q_fill[m],
        )
    exp_fill = np.clip(np.where(q_fill > 0, exp_fill, 1.0), 0.0, 1.0)
    exp_csl = np.clip(exp_csl, 0.0, 1.0)
    # A point without forecast demand has no service: a fill rate is demand served over demand,
    # a CSL the share of cycles whose demand is met. Left empty, not 1.0, which a mean over
    # points read as perfect service (73 of the demo's 552 points).
    idle = ~(mu > 0)
    exp_fill = np.where(idle | unseen, np.nan, exp_fill)
    exp_csl = np.where(idle | unseen, np.nan, exp_csl)

    safety = level - mean_t
    # Mean stock on hand: safety stock plus half a cycle; (s, Q) also carries half a review's
    # demand, because the position after ordering is s + Q/2 on average, looked at once per
    # review; in whole units (discrete items) it is uniform on s+1, ..., s+Q, mean
    # s + (Q + 1)/2 (Zipkin, sec. 6.2). That is the mean net inventory; on hand is net
    # inventory plus backorders, so the mean backorders (the mean of the expected backorders
    # at the start and at the end of a cycle) are added: without them, low targets understated
    # the on-hand stock 1.4-1.9x (bug 4(f)).
    whole = (dist != "normal").astype(float)
    cycle = mu * r if periodic else q + whole + mu * r
    backorders = mean_backorders(
        dist,
        level,
        q,
        periodic=periodic,
        mean_t=mean_t,
        var_t=var_t,
        mean_l=mean_l,
        var_l=var_l,
    )
    avg_inv = np.maximum(safety + cycle / 2.0 + backorders, 0.0)
    # Bootstrapped points: the same quantities on their bootstrap distribution.
    avg_inv = np.where(boot, boot_inv, avg_inv)
    held = level + (0.0 if periodic else (np.maximum(np.rint(q), 1.0) + 1.0) / 2.0)
    avg_inv = np.where(unseen, held, avg_inv)
    # A point forecast no demand orders nothing (but what it owes): the plan holds none there,
    # as at an on-hand point without demand; (s, Q)'s half a cycle, (Q + 1)/2, counted a unit
    # or a pack at each (Online Retail: 873 points, 3,197 in value).
    avg_inv = np.where(idle, 0.0, avg_inv)
    order_up_to = level if periodic else level + order_qty
    out = points.select(
        *keys,
        "segment",
        "segments",
        "service_target",
        "service_measure",
        "demand_class",
    ).with_columns(
        pl.Series("distribution", dist.astype(object), dtype=pl.String),
        pl.Series("period_days", np.full(n, period_days)),
        col("lead_time_days"),
        col("lead_time_sd_days"),
        pl.Series("policy_type", np.full(n, "RS" if periodic else "sQ").astype(object), pl.String),
        pl.Series("review_days", np.full(n, float(review_days))),
        pl.Series("mean_demand", mu),
        pl.Series("sd_demand", sd),
        pl.Series("mean_demand_lt", mean_t),
        pl.Series("sd_demand_lt", sd_t),
        pl.Series("safety_stock", safety),
        pl.Series("reorder_point", level),
        pl.Series("eoq", q_eoq),
        pl.Series("order_qty", order_qty),
        pl.Series("order_up_to", order_up_to),
        pl.Series("expected_fill_rate", exp_fill, nan_to_null=True),
        pl.Series("expected_csl", exp_csl, nan_to_null=True),
        pl.Series("avg_inventory", avg_inv),
        col("unit_cost"),
        *([col("unit_cost_source")] if "unit_cost_source" in points.columns else []),
        pl.Series("inventory_value", avg_inv * unit_cost),
        col("moq"),
        col("pack_size"),
        pl.Series("capped", capped),
        pl.Series("demand_model", np.where(boot, "bootstrap", "fit").astype(object), pl.String),
        *(
            [
                pl.Series("history_max", history_max).fill_nan(None),
                pl.Series("history_max_at_forecast", top).fill_nan(None),
            ]
            if history is not None
            else []
        ),
    )
    return out


def tiny_bound(mu: np.ndarray, sd: np.ndarray, given: np.ndarray, period_days: float) -> np.ndarray:
    """The bound a tiny point is held to before the Poisson floor, in whole units: one period's
    upper forecast bound (``given``, the ``forecast-hi-*`` column; NaN where there is none), else
    the bound read from the error sd (``inputs.error_bound``)."""
    return np.ceil(np.where(~np.isnan(given), given, error_bound(mu, sd, period_days)) - 1e-9)


def service_at(
    dist: np.ndarray,
    level: np.ndarray,
    q: np.ndarray,
    *,
    periodic: bool,
    mean_t: np.ndarray,
    var_t: np.ndarray,
    mean_l: np.ndarray,
    var_l: np.ndarray,
    per_cycle: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Fill rate and CSL of discrete rows at a given level (the exact shortages of
    ``levels.discrete_levels``; the (s, Q) CSL as the bound P(D_{L+1} <= s))."""
    over_t = Fitted(dist, mean_t, var_t)
    over_l = Fitted(dist, mean_l, var_l)
    if periodic:
        short = over_t.loss(level) - over_l.loss(level)
    else:
        qs = np.maximum(q, 1.0)
        t2 = over_t.loss2(level) - over_t.loss2(level + qs)
        l2 = over_l.loss2(level) - over_l.loss2(level + qs)
        short = (t2 - l2) / qs
    fill = 1.0 - np.maximum(short, 0.0) / np.maximum(per_cycle, 1e-300)
    return fill, over_t.cdf(level)


def mean_backorders(
    dist: np.ndarray,
    level: np.ndarray,
    q: np.ndarray,
    *,
    periodic: bool,
    mean_t: np.ndarray,
    var_t: np.ndarray,
    mean_l: np.ndarray,
    var_l: np.ndarray,
) -> np.ndarray:
    """Mean backorders over a cycle: the mean of E[(D_L - y)^+] and E[(D_T - y)^+].

    (R, S): y = S. (s, Q): y uniform on (s, s + Q], whose mean loss is (L2(s) - L2(s + Q))/Q
    with the second-order loss L2 (Axsaeter, sec. 5.3).
    """
    out = np.zeros(level.size)
    normal = dist == "normal"
    n = np.flatnonzero(normal)
    if n.size:
        for mean, var in ((mean_t, var_t), (mean_l, var_l)):
            sd = np.sqrt(var[n])
            l1, l2 = normal_losses(level[n], mean[n], sd)
            if periodic:
                out[n] += 0.5 * l1
            else:
                _, u2 = normal_losses(level[n] + q[n], mean[n], sd)
                out[n] += 0.5 * (l2 - u2) / np.maximum(q[n], 1e-9)
    d = np.flatnonzero(~normal)
    if d.size:
        qd = np.maximum(q[d], 1e-9)
        for mean, var in ((mean_t, var_t), (mean_l, var_l)):
            fitted = Fitted(dist[d], mean[d], var[d])
            if periodic:
                out[d] += 0.5 * fitted.loss(level[d])
            else:
                out[d] += 0.5 * (fitted.loss2(level[d]) - fitted.loss2(level[d] + qd)) / qd
    return np.maximum(out, 0.0)


def _check_order_quantities(
    points: pl.DataFrame, keys: list[str], q: np.ndarray, h: np.ndarray, *, periodic: bool
) -> None:
    """An EOQ beyond MAX_VALUE units (or not a number) comes from a holding cost per unit too
    small to mean anything: unit_cost 1e-300 x holding_rate 1e-300 underflows to 0, and the
    plan held infinite stock with exit 0."""
    if periodic:
        return
    bad = ~(q <= MAX_VALUE)
    if not bad.any():
        return
    where = points.filter(pl.Series(bad)).select(
        pl.concat_str([pl.col(k).cast(pl.String) for k in keys], separator="@")
    )
    raise DataError(
        f"{ITEMS_OPTION}: the economic order quantity of "
        f"{plural(int(bad.sum()), 'stocking point')} is above "
        f"{MAX_VALUE:g} units, e.g. {examples(where.to_series().to_list())} (holding cost "
        f"{float(h[bad][0]):g} a unit-year: unit_cost x holding_rate)",
        hint="check unit_cost and holding_rate in the item master",
    )
