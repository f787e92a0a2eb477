"""Held-out replay of stock plans against the demand that came, written apart from the stage
(``segchain.stock.sim``, ``segchain.stock.rationing``) so that it is an independent check:
(s, Q) looked at every review, or (R, S) ordering up to S every R days (at least the MOQ, in
whole packs, as `stock`'s order_now), with the plan's lead
time in whole days and backorders (an arrival fills every backorder first, from all the stock
then on hand). Shared by the sparse-products acceptance test, ``bench_stock_heldout.py`` and,
per site and segment, ``bench_stock_site_heldout.py`` and ``test_site_segments_stock.py``;
with `segment`'s default RFM segments and the demo's targets, ``bench_stock_rfm_heldout.py``.

Per sku (``replay``, (s, Q) nightly): each point's inventory position started at s+1, ..., s+Q
in turn (evenly spread, as the position after ordering is uniform there), all of it on hand, no
warm-up, and the plan's lead time. Until 2026-12-02 an order was on the shelf
one day sooner than planned here (``lead_days`` - 1 days of demand waited for it); the README's
figures measured before then say so where they stand.

Both replays run a point forecast nothing (``mean_demand`` 0 or empty, the stage's own rule
``stock.inputs.FORECAST_NOTHING``) as the stage plans and orders it: no stock, ordering only
what it owes, like (R, S) with S 0 from nothing on hand (``point_levels``). Until 2026-12-07
they ran its (s, Q) of s 0 and one pack from 1..Q units on hand, which it kept: service and
stock the plan has not (audit S S1, session 66); the figures measured before then say so.

Per stocking point x segment (``replay_segments``): where the plan's ``lead_time_sd_days`` is
above 0, each order's lead time is drawn from normal(L, sd_L) rounded to whole days, at least 0
(Python's ``random``, apart from the stage's draws; orders may cross). Each segment's net demand
of a day is one arrival, the day's arrivals in a random order (seeded), each served from stock
down to its segment's reserve level (critical-level rationing: 0 for the top segment and
wherever the plan does not ration), the rest backordered: the model ``stock`` plans with. The
replay starts ``warmup_weeks`` before the cut-off on the history's own demand (so the held-out
weeks start from a state the policy itself reached, pipeline included, not from all of it on
hand) and scores the weeks after it only; (s, Q) points start at s+1, ..., s+Q, (R, S) points at
S, one start per review phase."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

STARTS = 5  # starting positions per point, evenly over s+1..s+Q


def daily_demand(
    orders: pl.DataFrame, start: dt.date, weeks: int, keys: Sequence[str] = ("sku",)
) -> pl.DataFrame:
    """``keys..., day, q``: net product quantity per point (default: sku) and day over
    ``weeks`` from ``start`` (a day of more returns than sales asks for nothing). With
    ``segment`` among ``keys`` (the orders joined to the segments), per point x segment."""
    end = start + dt.timedelta(weeks=weeks)
    product = orders.filter(pl.col("flag").is_null() | (pl.col("flag") != "non_product"))
    return (
        product.filter(pl.col("order_date").cast(pl.Date).is_between(start, end, closed="left"))
        .group_by(*keys, pl.col("order_date").cast(pl.Date).alias("day"))
        .agg(pl.col("quantity").sum().clip(lower_bound=0).alias("q"))
    )


def serve(
    days: Sequence[Sequence[tuple[int, float]]],
    *,
    s: float,
    q: float,
    up_to: float | None = None,
    review_days: int = 1,
    phase: int = 0,
    lead_days: int | Sequence[int],
    on_hand: float,
    reserves: Sequence[float] = (0.0,),
    score_from: int = 0,
    moq: float = 0.0,
    pack_size: float = 1.0,
) -> tuple[list[float], list[float], float]:
    """One stocking point over ``days``, each a list of arrivals ``(segment index, units)`` in
    the order they come: per segment (units asked, units filled from stock on the day asked)
    and the mean units on hand at the end of a day, counted from day ``score_from`` on.

    Starts with ``on_hand`` units and nothing on order or owed. A review on the days ``t`` with
    ``(t - phase) % review_days == 0``, at the end of the day: with ``up_to`` (R, S) orders up
    to it, at least ``moq`` and in whole ``pack_size``s (README: "(R, S) orders too are raised to
    the MOQ and rounded up to whole packs"), else (s, Q) orders Q while the position is at or
    below s. An order placed on day t
    arrives at the start of day t + 1 + ``lead_days`` (so ``lead_days`` whole days of demand
    wait for it, as ``stock`` plans and its simulation replays: ``sim.simulate``, ``rationing``)
    and fills every backorder first, from all the stock then on hand, reserves included; a
    sequence of ``lead_days`` gives the lead time of an order placed on each day (orders may
    cross). A
    segment is served from stock only down to its reserve level; what is not served is
    backordered."""
    n_seg = len(reserves)
    asked = [0.0] * n_seg
    filled = [0.0] * n_seg
    arriving: dict[int, float] = {}
    owed = held = 0.0
    for t, arrivals in enumerate(days):
        units = arriving.pop(t, 0.0)
        if units:
            # Every backorder first, from all the stock then on hand (a reserve kept back since
            # the last arrival included): after an arrival the shelf holds the net inventory's
            # positive part, as ``stock`` plans (``rationing``). Until 2026-12-02 only the units
            # arriving paid them, and a lower segment's backorders outlived an arrival while its
            # reserve stood on the shelf (2022-10-10 per site: Corporate 0.939 instead of 0.932).
            on_hand += units
            paid = min(on_hand, owed)
            owed -= paid
            on_hand -= paid
        scored = t >= score_from
        for k, d in arrivals:
            got = min(d, max(on_hand - reserves[k], 0.0))
            on_hand -= got
            owed += d - got
            if scored:
                asked[k] += d
                filled[k] += got
        if scored:
            held += on_hand
        if (t - phase) % review_days == 0:
            position = on_hand - owed + sum(arriving.values())
            due = t + 1 + (lead_days if isinstance(lead_days, int) else lead_days[t])
            if up_to is not None:
                if position < up_to:
                    lot = up_to - position
                    if moq > 0 or pack_size != 1.0:
                        lot = math.ceil(max(lot, moq) / pack_size - 1e-9) * pack_size
                    arriving[due] = arriving.get(due, 0.0) + lot
            else:
                while position <= s and q > 0:
                    arriving[due] = arriving.get(due, 0.0) + q
                    position += q
    return asked, filled, held / max(len(days) - score_from, 1)


def sq_nightly(daily, s: float, q: float, lead_days: int, on_hand: float) -> tuple[float, float]:
    """(units filled from stock on the day asked, mean units on hand) of one point under (s, Q)
    looked at every night with backorders, over ``daily`` demand, from ``on_hand`` units and
    nothing on order.

    An order placed on the night of day t is on the shelf the morning of day t + 1 +
    ``lead_days``: ``lead_days`` whole days of demand wait for it, as ``stock`` plans (see
    ``serve``). One day sooner, as this replay had it before 2026-12-02, Online Retail from
    2011-10-10 delivered 0.862 instead of 0.849 (Superstore by product 0.879 either way)."""
    _, filled, held = serve(
        [[(0, d)] for d in daily], s=s, q=q, lead_days=lead_days, on_hand=on_hand
    )
    return filled[0], held


def weekly_order_up_to(demand, order_up_to: float) -> float:
    """Fill rate of ordering up to S every week with a one-week lead time (an order placed at the
    end of week t is on the shelf for week t + 2), backorders, on ``demand`` per week, starting
    with S on hand."""
    net, pipeline, filled = order_up_to, [0.0, 0.0], 0.0
    for d in demand:
        net += pipeline.pop(0)
        filled += min(d, max(net, 0.0))
        net -= d
        pipeline.append(order_up_to - net - sum(pipeline))
    return filled / sum(demand)


def forecast_nothing(policy: pl.DataFrame) -> list[bool]:
    """Per row of ``policy``, whether it forecasts the point nothing (``mean_demand`` 0 or
    empty): the product's own rule (``stock.inputs.FORECAST_NOTHING``), so that this replay
    and the stage tell the same points apart."""
    from segchain.stock.inputs import FORECAST_NOTHING

    if "mean_demand" not in policy.columns:
        return [False] * policy.height
    return policy.select(FORECAST_NOTHING).to_series().to_list()


def point_levels(row: dict, idle: bool) -> tuple[dict, list[tuple[float, int]]]:
    """``serve``'s policy of one policy row (``s, q, up_to, review_days, moq, pack_size``) and
    its starts ``(units on hand, review phase)``: (R, S) with S on hand once per review phase,
    (s, Q) at ``STARTS`` positions evenly over s+1..s+Q. A point forecast nothing (``idle``) as
    the stage plans and orders it (``order_now``): (R, S) with S 0 from nothing on hand, so it
    orders only what it owes (at least the MOQ, in whole packs). Its (s, Q) of s 0 and one pack
    had started with 1..Q units on hand and kept them: service and stock the plan has not."""
    periodic = idle or row["policy_type"] == "RS"
    review = max(int(round(row["review_days"])), 1)
    s, q = float(row["reorder_point"]), float(row["order_qty"])
    up_to = (0.0 if idle else float(row["order_up_to"])) if periodic else None
    levels = dict(
        s=s,
        q=q,
        up_to=up_to,
        review_days=review,
        moq=float(row.get("moq") or 0.0),
        pack_size=float(row.get("pack_size") or 1.0),
    )
    if up_to is not None:
        return levels, [(up_to, phase) for phase in range(review)]
    return levels, [(float(np.floor(f)), 0) for f in np.linspace(s + 1, s + max(q, 1.0), STARTS)]


def replay(policy: pl.DataFrame, daily: pl.DataFrame, start: dt.date, weeks: int):
    """(fill rate, mean stock on hand at the policy's unit cost) over the points of ``policy``
    and the daily demand ``daily`` (sku, day, q): units filled from stock on the day they were
    asked for / units asked for, and on-hand value averaged over the days and starts, summed
    over points (points without demand in the weeks replayed hold their start all along). A
    point as ``point_levels`` replays it: (s, Q) from s+1..s+Q, one forecast nothing from
    nothing on hand, ordering what it owes."""
    days = [start + dt.timedelta(days=i) for i in range(weeks * 7)]
    demand = {
        sku: dict(zip(g["day"].to_list(), g["q"].to_list(), strict=True))
        for (sku,), g in daily.partition_by("sku", as_dict=True).items()
    }
    asked = filled = held = 0.0
    for row, idle in zip(policy.iter_rows(named=True), forecast_nothing(policy), strict=True):
        by_day = demand.get(row["sku"], {})
        asked_here = [[(0, float(by_day.get(day, 0.0)))] for day in days]
        levels, starts = point_levels(row, idle)
        lead = int(round(row["lead_time_days"]))
        for first, phase in starts:
            a, f, units = serve(asked_here, **levels, phase=phase, lead_days=lead, on_hand=first)
            asked += a[0] / len(starts)
            filled += f[0] / len(starts)
            held += units * row["unit_cost"] / len(starts)
    return filled / asked, held


def replay_segments(
    policy: pl.DataFrame,
    segments: pl.DataFrame,
    orders: pl.DataFrame,
    *,
    keys: Sequence[str],
    start: dt.date,
    weeks: int,
    warmup_weeks: int = 8,
    seed: int = 0,
    unplanned_reserve: str = "none",
) -> pl.DataFrame:
    """Per stocking point x segment of a plan: units asked and filled from stock on the day
    asked over the ``weeks`` from ``start``, and the point's mean stock on hand (units, and
    value at the policy's unit cost) given to its segments by the plan's demand share.

    Args:
        policy: ``stock``'s policy (``policy_type, review_days, reorder_point, order_qty,
            order_up_to, lead_time_days, unit_cost`` per point of ``keys``).
        segments: its per-segment table (``keys, segment, reserve_level, demand_share``).
        orders: order lines with ``keys``, ``segment`` (the customer's), ``order_date``,
            ``quantity`` and ``flag``, over the warm-up and the weeks replayed. Demand of a
            segment the plan did not foresee at a point gets no share of the stock and is
            served without a reserve (``unplanned_reserve`` "none"), or ("lowest") down to the
            point's highest reserve level, as its lowest segment (customers new after the
            cut-off, whom no plan knows: a business serves the unknown last).
    """
    keys = list(keys)
    first_day = start - dt.timedelta(weeks=warmup_weeks)
    n_days = (warmup_weeks + weeks) * 7
    # Sorted: the day's arrivals are shuffled from this order, so it must not depend on the run.
    daily = daily_demand(orders, first_day, warmup_weeks + weeks, [*keys, "segment"]).sort(
        [*keys, "segment", "day"]
    )
    by_point = {
        tuple(k): g for k, g in daily.partition_by(keys, as_dict=True, maintain_order=True).items()
    }
    seg_rows = {
        tuple(k): g.sort("reserve_level")
        for k, g in segments.partition_by(keys, as_dict=True, maintain_order=True).items()
    }
    out = []
    for row, idle in zip(policy.iter_rows(named=True), forecast_nothing(policy), strict=True):
        point = tuple(row[k] for k in keys)
        plan = seg_rows.get(point)
        names = plan["segment"].to_list() if plan is not None else []
        reserves = [float(r) for r in plan["reserve_level"]] if plan is not None else []
        shares = plan["demand_share"].to_list() if plan is not None else []
        demand = by_point.get(point)
        if demand is not None:
            unplanned = max(reserves, default=0.0) if unplanned_reserve == "lowest" else 0.0
            for name in sorted(set(demand["segment"].to_list()) - set(names)):
                names.append(name)
                reserves.append(unplanned)
                shares.append(0.0)
        index = {name: i for i, name in enumerate(names)}
        days: list[list[tuple[int, float]]] = [[] for _ in range(n_days)]
        if demand is not None:
            for seg, day, q in demand.select("segment", "day", "q").iter_rows():
                if q > 0:
                    days[(day - first_day).days].append((index[seg], float(q)))
        levels, starts = point_levels(row, idle)
        lead = int(round(row["lead_time_days"]))
        lead_sd = float(row.get("lead_time_sd_days") or 0.0)
        asked = np.zeros(len(names))
        filled = np.zeros(len(names))
        held = 0.0
        rng = random.Random(f"{seed}/{point}")
        lead_rng = random.Random(f"{seed}/{point}/lead")
        for first, phase in starts:
            shuffled = [rng.sample(a, len(a)) if len(a) > 1 else a for a in days]
            leads = (
                [max(round(lead_rng.gauss(row["lead_time_days"], lead_sd)), 0) for _ in days]
                if lead_sd > 0
                else lead
            )
            a, f, h = serve(
                shuffled,
                **levels,
                phase=phase,
                lead_days=leads,
                on_hand=first,
                reserves=reserves,
                score_from=warmup_weeks * 7,
            )
            asked += a
            filled += f
            held += h / len(starts)
        for i, name in enumerate(names):
            out.append(
                {
                    **{k: row[k] for k in keys},
                    "segment": name,
                    "reserve_level": reserves[i],
                    "asked": asked[i] / len(starts),
                    "filled": filled[i] / len(starts),
                    "stock_units": held * shares[i],
                    "stock_value": held * shares[i] * row["unit_cost"],
                }
            )
    return pl.DataFrame(out)


def segment_cells(
    plan: pl.DataFrame, replayed: pl.DataFrame, policy: pl.DataFrame, keys: Sequence[str]
) -> pl.DataFrame:
    """``keys..., segment``: the plan's expected fill rate (``promised``) and weight (mean
    demand) with the replay's units asked, filled and stock, one row per point x segment."""
    keys = list(keys)
    weight = plan.join(policy.select(*keys, "mean_demand"), on=keys).select(
        *keys,
        "segment",
        "service_level",
        pl.col("expected_fill_rate").alias("promised"),
        (pl.col("demand_share") * pl.col("mean_demand")).alias("weight"),
    )
    return replayed.join(weight, on=[*keys, "segment"], how="left")


def by_cell(cells: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Totals of ``segment_cells`` rows by ``by``: target and promised fill weighted by the
    plan's demand, delivered fill (units filled / asked), stock on hand (value)."""
    w = pl.col("weight").fill_null(0.0)
    # Promised over the cells whose expected fill is known (a held point whose history never
    # shows a sale after a pause has none): an unknown one is no 0 %.
    known = pl.when(pl.col("promised").is_not_null()).then(w)
    return (
        cells.group_by(by)
        .agg(
            ((pl.col("service_level") * w).sum() / w.sum()).alias("target"),
            ((pl.col("promised") * w).sum() / known.sum()).alias("promised"),
            pl.col("asked").sum(),
            (pl.col("filled").sum() / pl.col("asked").sum()).alias("fill"),
            pl.col("stock_value").sum().alias("stock"),
        )
        .sort(by)
    )


def promised_fill(policy: pl.DataFrame) -> float:
    """The plans' expected fill rate, weighted by their mean demand, over the points where it
    is known."""
    known = policy.filter(pl.col("expected_fill_rate").is_not_null())
    weights = known["mean_demand"]
    return float((known["expected_fill_rate"] * weights).sum() / weights.sum())


# What each Superstore segment is promised in the per-site replay (fill rates): the business
# customers first.
SITE_TARGETS = {"Corporate": (0.98, 1), "Home Office": (0.95, None), "Consumer": (0.90, None)}


@dataclass(frozen=True)
class SiteReplay:
    """The segmented plan and the plan with one target for everyone at equal stock, replayed:
    ``segment_cells`` rows of each (with ``rationed``: the segmented plan rations the point),
    the one target found and how far its stock is from the segmented plan's."""

    cells: pl.DataFrame
    uniform_cells: pl.DataFrame
    uniform_target: float
    stock_gap: float  # the one-target plan's replayed stock / the segmented plan's, - 1
    points: int
    rationed: int


def site_segment_replay(
    orders: pl.DataFrame,
    segments: pl.DataFrame,
    start: dt.date,
    *,
    policy_type: str,
    review_days: float | None,
    weeks: int = 8,
    targets: dict[str, tuple[float, int | None]] = SITE_TARGETS,
) -> SiteReplay:
    """``segment_replay`` per site x sku with ``targets`` (fill rates and priorities)."""
    from segchain.policy import PolicyTable, SegmentPolicy

    table = PolicyTable(
        {
            name: SegmentPolicy(level, "fill-rate", priority=prio)
            for name, (level, prio) in targets.items()
        }
    )
    return segment_replay(
        orders,
        segments,
        start,
        keys=("site", "sku"),
        policies=table,
        policy_type=policy_type,
        review_days=review_days,
        weeks=weeks,
    )


def segment_replay(
    orders: pl.DataFrame,
    segments: pl.DataFrame,
    start: dt.date,
    *,
    keys: Sequence[str],
    policies,
    policy_type: str,
    review_days: float | None,
    weeks: int = 8,
    unplanned_reserve: str = "none",
) -> SiteReplay:
    """Weekly forecast by (site x) segment x sku and `stock --orders` with the segment policy
    table ``policies`` from the lines before ``start``, replayed per point x segment over the
    ``weeks`` after it (``replay_segments``); then one target for every segment (no
    rationing), set by bisection so that its replayed stock on hand (value) equals the
    segmented plan's within 0.5 %, replayed alike, between 0.5 and 0.999 (where even 0.999
    holds less, the closest plan is kept: ``SiteReplay.stock_gap`` says how far).
    ``keys``: the stocking point, ``("sku",)`` or ``("site", "sku")``."""
    from segchain.forecast import forecast
    from segchain.stock import stock

    keys = list(keys)
    train = orders.filter(pl.col("order_date").cast(pl.Date) < start)
    by = (*keys[:-1], "segment", keys[-1])
    fc = forecast(train, segments, freq="W", horizon=weeks, by=by)
    lines = orders.join(segments, on="customer_id", how="inner")

    def run(**options):
        result = stock(
            fc.forecast, orders=train, policy_type=policy_type, review_days=review_days, **options
        )
        assert result.segments is not None
        replayed = replay_segments(
            result.policy,
            result.segments,
            lines,
            keys=keys,
            start=start,
            weeks=weeks,
            unplanned_reserve=unplanned_reserve,
        )
        return result, segment_cells(result.segments, replayed, result.policy, keys)

    planned, cells = run(policies=policies)
    held = float(cells["stock_value"].sum())
    lo, hi = 0.5, 0.999
    best: tuple[float, float, pl.DataFrame] | None = None
    for _ in range(14):
        level = (lo + hi) / 2
        _, uni = run(service_level=level, service_measure="fill-rate")
        gap = float(uni["stock_value"].sum()) / held - 1
        if best is None or abs(gap) < abs(best[1]):
            best = (level, gap, uni)
        if abs(gap) < 0.005:
            break
        lo, hi = (level, hi) if gap < 0 else (lo, level)
    assert best is not None
    flag = planned.policy.select(*keys, "rationed")
    return SiteReplay(
        cells=cells.join(flag, on=keys, how="left"),
        uniform_cells=best[2].join(flag, on=keys, how="left"),
        uniform_target=best[0],
        stock_gap=best[1],
        points=planned.policy.height,
        rationed=int(planned.policy["rationed"].sum()),
    )


# Customers who first buy after the cut-off: no segment of the cut-off knows them.
NEW_AFTER_CUTOFF = "(new after the cut-off)"


def rfm_segments(orders: pl.DataFrame, start: dt.date) -> pl.DataFrame:
    """``customer_id, segment``: `segment`'s default RFM segments with ``--as-of start`` (the
    lines before it), and ``NEW_AFTER_CUTOFF`` for the customers whose first line is on or
    after it (their demand is replayed; no plan foresaw it)."""
    from segchain.segment import segment

    known = segment(orders, as_of=start).segments.select("customer_id", "segment")
    later = (
        orders.filter(pl.col("order_date").cast(pl.Date) >= start)
        .select("customer_id")
        .unique()
        .join(known, on="customer_id", how="anti")
        .with_columns(segment=pl.lit(NEW_AFTER_CUTOFF))
    )
    return pl.concat([known, later])


def demo_policies():
    """The ``[segments]`` policy table of ``sample_data/segchain.toml``, the demo's RFM
    targets (Champions 0.99 served first, Loyal and Cannot Lose Them 0.98 next, then by
    target down to Lost 0.80): what a user given only the default segments copies, since
    `stock` gives every segment the same 0.95 without a config and says to set them there."""
    from pathlib import Path

    from segchain.config import load_config

    root = Path(__file__).resolve().parents[1]
    return load_config(root / "sample_data" / "segchain.toml").segments
