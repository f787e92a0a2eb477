"""The held-out check of a stock plan: the plan replayed on the demand that came after it.

When the forecast was made as of a past day (``forecast --as-of``) and ``--orders`` holds the
lines on or after its first period, covering whole periods of its horizon, those lines are what
the plan was for. Each stocking point's plan is replayed day by day on them, per segment, and so
is the uniform plan of ``--compare-uniform`` (one target for everyone, no reserves): what each
segment was promised, the fill rate it got (units filled from stock on the day asked / units
asked) and the stock each plan held, so segmenting is measured against one target at stated
stock, on the user's own export.

The replay has the semantics the stage plans with (``sim.simulate``, ``rationing``):

- (s, Q): at a review, while the inventory position (on hand - backorders + on order) is at or
  below s, order Q; (R, S): at a review, order up to S. A review at the end of the days ``t``
  with ``(t - phase) % review == 0``, ``review`` the plan's ``review_days`` in whole days (at
  least 1).
- An order placed at the end of day t is on the shelf at the start of day t + 1 + L, L the
  plan's ``lead_time_days`` rounded to whole days, or, where the plan has a
  ``lead_time_sd_days`` above 0, drawn for that order from normal(L, sd_L) rounded to whole
  days, at least 0 (``distributions.whole_day_leads``), as the fitted plans, the bootstrap, the
  rationing and ``--simulate`` model it: orders may cross, each arriving after its own lead
  time. The draws are seeded, each point's from a stream of its own (its data, not its
  names: ``plan_streams``), one sequence per start shared by that start's arrival orders and by the
  plans compared (the uniform plan meets the same lead times). It fills every backorder
  first, from all the stock then on hand (a reserve kept back included), as the rationing
  plans. A replay with the plan's mean lead time on every order overstated the service of a
  plan whose lead time varies (it never meets a late order).
- Each segment's net demand of a day at a point is one arrival (as the plan models it), served
  from stock down to the segment's reserve level (critical-level rationing; 0 for the top tier
  and wherever the plan does not ration), the rest backordered.
- Demand the plan did not foresee at a point (a segment it forecast nothing for there, or
  customers in no segment: new since the segments were made) is served last, down to the
  point's highest reserve level, and gets no share of the stock.

Starting state, as the tests' independent replay (``tests/heldout.py``): the replay starts
``WARMUP_DAYS`` before the forecast's first period on the history's own demand, so the held-out
days start from a state the policy reached with its pipeline, and only the days after it are
scored; (s, Q) points start with ``STARTS`` positions evenly spread over s+1..s+Q (the position
after ordering is uniform there), all on hand, (R, S) points with S on hand, once per review
phase; the figures are the mean over the starts.

Order of a day's arrivals: deterministic, so that the same input gives the same bytes. Every
rotation of the point's segments in priority order is replayed (each segment first, second,
..., last on exactly one of them: the balanced counterpart of the random order the plan assumes),
and the figures are the mean over them. A fixed order (the top segment first, or last) would
favour or penalise the top segment on every day, which the plan does not assume; a seeded
shuffle would make the figures depend on the seed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import polars as pl

from segchain.routing import unrouted_demand
from segchain.schema import demand_line, in_segment_order, segment_ranks
from segchain.stock.bootstrap import data_stream, period_interval, stream_generators
from segchain.stock.compare import listing_order
from segchain.stock.distributions import whole_day_leads
from segchain.stock.eoq import rs_order

WARMUP_DAYS = 56  # 8 weeks of the history's own demand before the held-out days
STARTS = 5  # (s, Q) starting positions per point, evenly over s+1..s+Q
NO_SEGMENT = "(in no segment)"  # customers of the held-out lines the segments do not hold
ALL = "(all)"
LEAD_PURPOSE = 4  # the stream purpose of the replay's lead times (the bootstrap's are 0-3)


@dataclass(frozen=True)
class StockHeldOut:
    """The plan (and the uniform plan) replayed on the whole periods held out.

    ``table``: one row per segment (by priority) and ``(all)``: ``segment, measure, target,
    expected_fill, asked, fill_segmented, stock_segmented, stock_units_segmented`` and, with a
    uniform plan, ``fill_uniform, stock_uniform, stock_units_uniform``.
    """

    start: dt.date
    periods: int
    period_days: float
    days: int
    points: int
    table: pl.DataFrame
    uniform_plan: str | None
    unplanned_units: float  # asked at stocking points the plan does not have (not replayed)
    unplanned_points: int
    # Asked by customers with no serving site in the assignments (a plan per site): no point
    # serves them, so they are counted, not replayed (None: the plan is not routed).
    unrouted_units: float | None = None
    unrouted_customers: int = 0

    @property
    def total(self) -> dict[str, Any]:
        return self.table.filter(pl.col("segment") == ALL).row(0, named=True)

    def as_metadata(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "periods": self.periods,
            "period_days": self.period_days,
            "days": self.days,
            "warmup_days": WARMUP_DAYS,
            "stocking_points": self.points,
            "uniform_plan": self.uniform_plan,
            "unplanned_units": self.unplanned_units,
            "unplanned_points": self.unplanned_points,
            **(
                {
                    "unrouted_units": self.unrouted_units,
                    "unrouted_customers": self.unrouted_customers,
                }
                if self.unrouted_units is not None
                else {}
            ),
            "segments": self.table.to_dicts(),
        }


def held_out_days(
    forecast_ds: pl.Series, end: dt.date | None, period_days: float
) -> tuple[dt.date, int, int] | None:
    """``(start, whole periods, days)`` of the forecast's horizon that orders ending on ``end``
    cover to their last day, or None when they cover none."""
    ds = forecast_ds
    if ds.dtype == pl.String:
        ds = ds.str.to_date(strict=False)
    periods = ds.cast(pl.Date).drop_nulls().unique().sort()
    if end is None or periods.len() == 0:
        return None
    ends = periods.dt.offset_by(period_interval(period_days))
    whole = periods.filter(ends <= end + dt.timedelta(days=1))
    if whole.len() == 0:
        return None
    start = cast(dt.date, periods[0])
    last_end = cast(dt.date, ends.filter(ends <= end + dt.timedelta(days=1)).max())
    return start, whole.len(), (last_end - start).days


def daily_demand(
    orders: pl.DataFrame,
    customers: pl.DataFrame | None,
    keys: Sequence[str],
    first: dt.date,
    stop: dt.date,
) -> pl.DataFrame:
    """``keys, segment, day, q``: net demand per stocking point, segment and day from ``first``
    to the day before ``stop`` (a day of more returns than sales asks for nothing), the demand
    lines of ``orders`` (as the stage's history reads them). ``customers``: each customer's
    segment (None: one segment, ``*``, as a forecast without segments)."""
    o = orders.filter(demand_line()) if "flag" in orders.columns else orders
    o = o.select(
        *[pl.col(k).cast(pl.String) for k in keys],
        *([pl.col("customer_id").cast(pl.String)] if customers is not None else []),
        pl.col("order_date").cast(pl.Date).alias("day"),
        pl.col("quantity").cast(pl.Float64),
    ).filter(
        pl.col("day").is_between(first, stop, closed="left") & pl.col("quantity").is_not_null()
    )
    if customers is None:
        o = o.with_columns(segment=pl.lit("*"))
    else:
        seg = customers.select(
            pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String)
        )
        o = o.join(seg, on="customer_id", how="left").with_columns(
            pl.col("segment").fill_null(NO_SEGMENT)
        )
    return (
        o.group_by(*keys, "segment", "day")
        .agg(pl.col("quantity").sum().clip(lower_bound=0.0).alias("q"))
        .filter(pl.col("q") > 0)
        .sort(*keys, "segment", "day")
    )


def serve_points(
    demand: np.ndarray,
    reserves: np.ndarray,
    live: np.ndarray,
    *,
    reorder_point: np.ndarray,
    order_qty: np.ndarray,
    order_up_to: np.ndarray,
    periodic: np.ndarray,
    review_days: np.ndarray,
    lead_days: np.ndarray,
    score_from: int,
    drawn_leads: tuple[np.ndarray, np.ndarray] | None = None,
    moq: np.ndarray | None = None,
    pack_size: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Replay every stocking point of a plan day by day (see the module docstring).

    Args:
        demand: (points, days, segments) units asked per segment and day, the segments of a
            point in priority order (served first first), those with demand first, padded with
            zeros.
        reserves: (points, segments) each segment's reserve level.
        live: (points,) the number of segments whose arrivals are rotated at each point.
        reorder_point, order_qty, order_up_to, periodic, review_days, lead_days: (points,) the
            plan; review and lead in whole days.
        score_from: the first day scored (the days before it are the warm-up).
        drawn_leads: ``(row, table)``: per point its row of ``table`` (-1: the lead time is
            ``lead_days``), and per row, start (``_replays``' order) and day the whole days an
            order placed at the end of that day takes (None: ``lead_days`` everywhere).
        moq, pack_size: (points,) what an (R, S) review orders is raised to the MOQ and
            rounded up to whole packs, as ``order_now`` (None: no MOQ, packs of 1).

    Returns:
        per point and segment the units asked and filled from stock on the day asked over the
        scored days, and per point the mean units on hand at the end of a scored day, each the
        mean over the point's starts and arrival orders.

    A point without reserves serves first come, first served: what a day serves in all,
    min(demand, on hand), and so the point's path, do not depend on the order of the day's
    arrivals, so it is replayed once per start on its total demand, and only on the days its
    stock falls short is each segment's share of what was served averaged over the rotations
    (the same numbers as replaying every rotation, at a fraction of the work).
    """
    n_points, n_days, n_seg = demand.shape
    n_plan = reorder_point.size
    plan = (
        reorder_point,
        order_qty,
        order_up_to,
        periodic,
        review_days,
        lead_days,
        np.zeros(n_plan) if moq is None else moq,
        np.ones(n_plan) if pack_size is None else pack_size,
    )

    def leads(points: np.ndarray, pt: np.ndarray, start: np.ndarray) -> _Leads:
        fixed = lead_days[points[pt]].astype(np.int64)
        if drawn_leads is None:
            return _Leads(fixed, None, np.full(fixed.size, -1), start)
        return _Leads(fixed, drawn_leads[1], drawn_leads[0][points[pt]], start)

    asked = demand[:, score_from:, :].sum(axis=1)
    filled = np.zeros((n_points, n_seg))
    held = np.zeros(n_points)
    rationed = (reserves > 0).any(axis=1)
    one = np.flatnonzero(~rationed)
    if one.size:
        total = demand[one].sum(axis=2)  # (points, days)
        pt, on_hand0, phase, _, start = _replays(one, plan, None)
        source = np.ascontiguousarray(total.T)  # (days, points)
        _, _, h, before = _run(
            source,
            pt[:, None],
            np.zeros((pt.size, 1)),
            _take(plan, one[pt]),
            on_hand0,
            phase,
            score_from,
            leads(one, pt, start),
            record=True,
        )
        assert before is not None
        got = _rotated_fcfs(demand[one], live[one], pt, before, total, score_from)
        count = np.bincount(pt, minlength=one.size).astype(float)
        filled[one] = got / count[:, None]
        held[one] = np.bincount(pt, weights=h, minlength=one.size) / count
    many = np.flatnonzero(rationed)
    if many.size:
        pt, on_hand0, phase, shift, start = _replays(many, plan, live[many])
        k = np.maximum(live[many][pt].astype(np.intp), 1)
        # The segment at each arrival position: the priority order rotated; positions past a
        # point's live segments take its padding (no demand).
        pos = np.arange(n_seg)[None, :]
        order = np.where(pos < k[:, None], (pos + shift[:, None]) % k[:, None], pos)
        res = np.take_along_axis(reserves[many][pt], order, axis=1)
        source = np.ascontiguousarray(demand[many].transpose(1, 0, 2)).reshape(n_days, -1)
        _, got_pos, h, _ = _run(
            source,
            pt[:, None] * n_seg + order,
            res,
            _take(plan, many[pt]),
            on_hand0,
            phase,
            score_from,
            leads(many, pt, start),
        )
        got = np.zeros_like(got_pos)
        np.put_along_axis(got, order, got_pos, axis=1)
        count = np.bincount(pt, minlength=many.size).astype(float)
        sums = np.zeros((many.size, n_seg))
        np.add.at(sums, pt, got)
        filled[many] = sums / count[:, None]
        held[many] = np.bincount(pt, weights=h, minlength=many.size) / count
    return asked, filled, held


def _take(plan: tuple[np.ndarray, ...], rows: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(a)[rows] for a in plan)


@dataclass(frozen=True)
class _Leads:
    """The lead times of the replays in whole days: ``fixed`` (replays,), or where a replay's
    ``row`` is not -1, ``drawn[row, start, t]`` for an order placed at the end of day t."""

    fixed: np.ndarray
    drawn: np.ndarray | None
    row: np.ndarray
    start: np.ndarray

    def longest(self) -> int:
        top = int(self.fixed.max(initial=0))
        if self.drawn is not None:
            mine = np.unique(self.row[self.row >= 0])
            top = max(top, int(self.drawn[mine].max(initial=0)))
        return top

    def on(self, t: int) -> np.ndarray:
        if self.drawn is None:
            return self.fixed
        row = np.maximum(self.row, 0)
        return np.where(self.row >= 0, self.drawn[row, self.start, t], self.fixed)


def _replays(
    points: np.ndarray, plan: tuple[np.ndarray, ...], live: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One replay per start of each point (and per rotation, with ``live``): the position in
    ``points``, the units on hand at the start, the review phase, the rotation and the start's
    number (``starts``)."""
    reorder_point, order_qty, order_up_to, periodic, review_days, *_ = plan
    pt: list[int] = []
    first: list[float] = []
    phases: list[int] = []
    shifts: list[int] = []
    numbers: list[int] = []
    for i, p in enumerate(points):
        rotations = max(int(live[i]), 1) if live is not None else 1
        for number, (on_hand, ph) in enumerate(
            starts(periodic[p], reorder_point[p], order_qty[p], order_up_to[p], review_days[p])
        ):
            for rot in range(rotations):
                pt.append(i)
                first.append(on_hand)
                phases.append(ph)
                shifts.append(rot)
                numbers.append(number)
    return (
        np.asarray(pt, dtype=np.intp),
        np.asarray(first, dtype=float),
        np.asarray(phases, dtype=np.int64),
        np.asarray(shifts, dtype=np.intp),
        np.asarray(numbers, dtype=np.intp),
    )


def starts(
    periodic: bool, reorder_point: float, order_qty: float, order_up_to: float, review_days: float
) -> list[tuple[float, int]]:
    """A point's starts, ``(units on hand, review phase)``: (R, S) with S on hand once per
    review phase, (s, Q) at ``STARTS`` positions evenly over s+1..s+Q."""
    if periodic:
        return [(float(order_up_to), ph) for ph in range(int(review_days))]
    s, q = float(reorder_point), float(order_qty)
    return [(float(np.floor(f)), 0) for f in np.linspace(s + 1, s + max(q, 1.0), STARTS)]


def _run(
    source: np.ndarray,
    index: np.ndarray,
    res: np.ndarray,
    plan: tuple[np.ndarray, ...],
    on_hand0: np.ndarray,
    phase: np.ndarray,
    score_from: int,
    leads: _Leads,
    *,
    record: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """The replays, day by day: ``source[t].ravel()[index[r, j]]`` is what arrives at
    position j of replay r on day t, served down to ``res[r, j]``; an order placed at the end
    of day t takes ``leads.on(t)`` whole days. Returns per replay and position the units asked
    and filled over the scored days, the mean units on hand at the end of a scored day, and
    (``record``) the units on hand before each scored day's demand."""
    reorder_point, order_qty, order_up_to, periodic, review_days, _, moq, pack = plan
    n, n_pos = index.shape
    n_days = source.shape[0]
    s = reorder_point.astype(float)
    q = order_qty.astype(float)
    big_s = order_up_to.astype(float)
    per = periodic.astype(bool)
    rev = review_days.astype(np.int64)
    # An order arriving after the last day is on order to the end and never on the shelf: the
    # ring of arrivals spans the days replayed at most (a lead time may be years).
    ring = min(leads.longest(), n_days) + 2
    q_safe = np.where(q > 0, q, 1.0)
    on_hand = on_hand0.copy()
    owed = np.zeros(n)
    on_order = np.zeros(n)
    pipe = np.zeros((ring, n))
    rows = np.arange(n)
    asked = np.zeros((n, n_pos))
    filled = np.zeros((n, n_pos))
    held = np.zeros(n)
    before = np.zeros((n, max(n_days - score_from, 0))) if record else None
    for t in range(n_days):
        slot = t % ring
        arriving = pipe[slot].copy()
        pipe[slot] = 0.0
        on_hand += arriving
        on_order -= arriving
        # Backorders are paid when an order arrives (from all the stock then on hand), not
        # from a reserve kept back in between.
        paid = np.where(arriving > 0, np.minimum(on_hand, owed), 0.0)
        owed -= paid
        on_hand -= paid
        scored = t >= score_from
        if before is not None and scored:
            before[:, t - score_from] = on_hand
        day = source[t].ravel()[index]
        for j in range(n_pos):
            d = day[:, j]
            got = np.minimum(d, np.maximum(on_hand - res[:, j], 0.0))
            on_hand -= got
            owed += d - got
            if scored:
                asked[:, j] += d
                filled[:, j] += got
        if scored:
            held += on_hand
        due = (t - phase) % rev == 0
        if not due.any():
            continue
        position = on_hand - owed + on_order
        amount = np.where(
            per,
            rs_order(big_s - position, moq, pack),
            np.where((position <= s) & (q > 0), (np.floor((s - position) / q_safe) + 1.0) * q, 0.0),
        )
        amount = np.where(due, amount, 0.0)
        on_order += amount
        lead = leads.on(t)
        soon = t + 1 + lead < n_days
        dest = (t + 1 + lead) % ring
        pipe[dest[soon], rows[soon]] += amount[soon]
    return asked, filled, held / max(n_days - score_from, 1), before


def _rotated_fcfs(
    demand: np.ndarray,
    live: np.ndarray,
    pt: np.ndarray,
    before: np.ndarray,
    total: np.ndarray,
    score_from: int,
) -> np.ndarray:
    """Per point and segment, the units filled over the scored days, summed over the
    replays ``pt`` of a first-come-first-served point, each the mean over the rotations of
    the day's arrivals: a day with at least its demand on hand fills everyone; on the others
    the segment at position j of a rotation gets min(d, max(h - the demand before it, 0)),
    h the units on hand before the day's demand (``before``)."""
    n_points, _, n_seg = demand.shape
    scored = demand[:, score_from:, :]
    out = np.zeros((n_points, n_seg))
    np.add.at(out, pt, scored.sum(axis=1)[pt])
    r, t = np.nonzero(before < total[:, score_from:][pt])
    if not r.size:
        return out
    p = pt[r]
    d = scored[p, t, :]  # (m, segments)
    h = before[r, t]
    k = np.maximum(live[p].astype(np.intp), 1)
    got = np.zeros_like(d)
    for shift in range(n_seg):
        on = shift < k
        cum = np.zeros(r.size)
        for j in range(n_seg):
            seg = np.where(j < k, (j + shift) % k, j)
            dj = np.take_along_axis(d, seg[:, None], axis=1)[:, 0]
            share = np.where(on & (j < k), np.minimum(dj, np.maximum(h - cum, 0.0)), 0.0)
            np.add.at(got, (np.arange(r.size), seg), share / k)
            cum += dj
    np.add.at(out, p, got - d)
    return out


def replay_plan(
    plan: pl.DataFrame,
    segment_rows: pl.DataFrame,
    daily: pl.DataFrame,
    keys: Sequence[str],
    *,
    first: dt.date,
    days: int,
    rationed: bool = True,
    seed: int = 0,
) -> pl.DataFrame:
    """Replay ``plan`` (one row per stocking point: ``policy_type, review_days, reorder_point,
    order_qty, order_up_to, lead_time_days, unit_cost``, and ``lead_time_sd_days`` where the
    lead time varies) on ``daily`` demand (``daily_demand``) from ``first`` over
    ``WARMUP_DAYS + days`` days, the last ``days`` scored; ``seed``: of the lead times drawn.

    ``segment_rows``: the per-segment table (``keys, segment, priority, reserve_level,
    demand_share``): each segment's priority, reserve (with ``rationed`` false, none: the
    uniform plan serves first come, first served) and share of the point's stock.
    """
    keys = list(keys)
    n_days = WARMUP_DAYS + days
    pts = plan.select(*[pl.col(k).cast(pl.String) for k in keys]).with_row_index("_p")
    seg = (
        segment_rows.select(
            *[pl.col(k).cast(pl.String) for k in keys],
            pl.col("segment").cast(pl.String),
            pl.col("priority").cast(pl.Float64),
            (pl.col("reserve_level") if rationed else pl.lit(0.0)).cast(pl.Float64).alias("c"),
            pl.col("demand_share").cast(pl.Float64).alias("share"),
        )
        .join(pts, on=keys, how="inner")
        .with_columns(planned=pl.lit(True))
    )
    seen = daily.join(pts, on=keys, how="inner").select("_p", "segment").unique()
    top_reserve = seg.group_by("_p").agg(pl.col("c").max().alias("c_max"))
    extra = (
        seen.join(seg.select("_p", "segment"), on=["_p", "segment"], how="anti")
        .join(top_reserve, on="_p", how="left")
        .select(
            "_p",
            "segment",
            pl.lit(float("inf")).alias("priority"),
            pl.col("c_max").fill_null(0.0).alias("c"),
            pl.lit(0.0).alias("share"),
            pl.lit(False).alias("planned"),
        )
    )
    # Per point: its segments by priority (then label), those it did not foresee last.
    rows = (
        pl.concat([seg.select(extra.columns), extra])
        .sort("_p", "priority", "segment")
        .with_columns(pl.int_range(pl.len()).over("_p").alias("_k"))
    )
    # Positions rotated: the segments with demand at the point, in priority order.
    live_segments = (
        rows.join(seen, on=["_p", "segment"], how="inner")
        .sort("_p", "_k")
        .with_columns(_live=pl.int_range(pl.len()).over("_p"))
    )
    rows = rows.join(
        live_segments.select("_p", "segment", "_live"), on=["_p", "segment"], how="left"
    ).sort("_p", "_k")
    n_points = plan.height
    live = np.zeros(n_points, dtype=np.int64)
    counts = live_segments.group_by("_p").len()
    live[counts["_p"].to_numpy()] = counts["len"].to_numpy()
    n_seg = int(max(live.max(initial=0), 1))
    demand = np.zeros((n_points, n_days, n_seg))
    reserves = np.zeros((n_points, n_seg))
    idx = rows.filter(pl.col("_live").is_not_null())
    reserves[idx["_p"].to_numpy(), idx["_live"].to_numpy()] = idx["c"].to_numpy()
    cells = daily.join(pts, on=keys, how="inner").join(
        idx.select("_p", "segment", "_live"), on=["_p", "segment"], how="inner"
    )
    if cells.height:
        day = cells.select((pl.col("day") - pl.lit(first)).dt.total_days()).to_series().to_numpy()
        demand[cells["_p"].to_numpy(), day, cells["_live"].to_numpy()] = cells["q"].to_numpy()
    col = plan.get_column
    idle = _idle(plan)
    # A point forecast nothing is replayed as the stage orders it (``order_now``): like (R, S)
    # with S 0, from nothing on hand, ordering only what it owes. Its (s, Q) of s 0 and one
    # pack had started with 1..Q units on hand and kept them: Superstore by product's held-out
    # line said 44.6 % delivered at a mean stock of 461,537 for a plan holding none at 1,291 of
    # its 1,852 points, 29.0 % as planned (audit S S1, session 66).
    periodic = (col("policy_type").cast(pl.String) == "RS").fill_null(False).to_numpy() | idle
    levels = dict(
        reorder_point=col("reorder_point").fill_null(0.0).to_numpy().astype(float),
        order_qty=col("order_qty").fill_null(0.0).to_numpy().astype(float),
        order_up_to=np.where(idle, 0.0, col("order_up_to").fill_null(0.0).to_numpy()).astype(float),
        periodic=periodic,
        review_days=np.maximum(np.rint(col("review_days").to_numpy().astype(float)), 1),
    )
    # (R, S) reviews order as order_now does: at least the MOQ, in whole packs.
    lots = {
        name: col(name).fill_null(fill).to_numpy().astype(float)
        for name, fill in (("moq", 0.0), ("pack_size", 1.0))
        if name in plan.columns
    }
    lead = col("lead_time_days").to_numpy().astype(float)
    asked, filled, held = serve_points(
        demand,
        reserves,
        live,
        **levels,
        lead_days=np.rint(lead),
        score_from=WARMUP_DAYS,
        drawn_leads=_drawn_leads(plan, levels, lead, n_days, seed),
        **lots,
    )
    unit_cost = col("unit_cost").fill_null(1.0).to_numpy().astype(float)
    p = rows["_p"].to_numpy()
    k = rows["_live"].fill_null(-1).to_numpy()
    has = k >= 0
    kk = np.where(has, k, 0)
    share = rows["share"].to_numpy()
    out = pl.DataFrame(
        {
            "_p": p,
            "segment": rows["segment"],
            "asked": np.where(has, asked[p, kk], 0.0),
            "filled": np.where(has, filled[p, kk], 0.0),
            "stock_units": held[p] * share,
            "stock_value": held[p] * share * unit_cost[p],
        }
    )
    # A point without any segment row (no forecast segment, no demand): its stock, unshared.
    bare = np.setdiff1d(np.arange(n_points), p)
    if bare.size:
        out = pl.concat(
            [
                out,
                pl.DataFrame(
                    {
                        "_p": bare.astype(np.uint32),
                        "segment": [None] * bare.size,
                        "asked": np.zeros(bare.size),
                        "filled": np.zeros(bare.size),
                        "stock_units": held[bare],
                        "stock_value": held[bare] * unit_cost[bare],
                    },
                    schema_overrides={"segment": pl.String},
                ),
            ],
            how="vertical_relaxed",
        )
    # Per stocking point x segment: asked, filled, stock (means over starts and orders).
    return out.join(pts, on="_p", how="left").drop("_p").select(*keys, pl.exclude(keys))


def _idle(plan: pl.DataFrame) -> np.ndarray:
    """(points,) whether the plan forecasts the point nothing (``mean_demand`` 0 or empty), as
    ``stock.inputs.join_on_hand`` tells the points that order only what they owe."""
    from segchain.stock.inputs import FORECAST_NOTHING

    if "mean_demand" not in plan.columns:
        return np.zeros(plan.height, dtype=bool)
    return plan.select(FORECAST_NOTHING).to_series().to_numpy()


def plan_streams(plan: pl.DataFrame) -> np.ndarray:
    """Each plan row's stream of lead times (``bootstrap.data_stream``), from what the plans
    compared share, its lead time, its sd and its demand's mean over sd (so a plan in other
    units draws the same lead times), not from its sku and site: renamed, a point replays the
    same days, and two plans of one point still meet the same lead times."""
    cols = ["lead_time_days", "lead_time_sd_days", "mean_demand", "sd_demand"]
    rows = plan.select(
        *(
            pl.col(c).cast(pl.Float64).fill_null(0.0) if c in plan.columns else pl.lit(0.0)
            for c in cols
        )
    ).rows()
    return np.array(
        [
            data_stream([lead, sd, mean / spread if spread > 0 else float(mean > 0)])
            for lead, sd, mean, spread in rows
        ],
        dtype=np.uint64,
    ).reshape(-1)


def _drawn_leads(
    plan: pl.DataFrame,
    levels: dict[str, np.ndarray],
    lead: np.ndarray,
    n_days: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(row, table)`` (``serve_points``' ``drawn_leads``): at each start of a point whose
    lead time varies, the whole days an order placed at the end of each day takes, drawn from
    normal(L, sd_L) (each point from its own stream, ``n_days`` draws per start in the order
    of ``starts``). None when no point's lead time varies."""
    if "lead_time_sd_days" not in plan.columns:
        return None
    sd = plan.get_column("lead_time_sd_days").fill_null(0.0).to_numpy().astype(float)
    varies = np.flatnonzero(sd > 0)
    if not varies.size:
        return None
    count = np.where(levels["periodic"], levels["review_days"], STARTS).astype(np.int64)[varies]
    row = np.full(plan.height, -1, dtype=np.intp)
    row[varies] = np.arange(varies.size)
    table = np.zeros((varies.size, int(count.max()), n_days), dtype=np.int32)
    gens = stream_generators(seed, plan_streams(plan[varies]), LEAD_PURPOSE)
    for i, (p, g) in enumerate(zip(varies, gens, strict=True)):
        z = g.standard_normal((count[i], n_days))
        # At most the days replayed: an order due after the last day never arrives.
        table[i, : count[i]] = np.minimum(whole_day_leads(lead[p], sd[p], z), n_days)
    return row, table


def held_out(
    orders: pl.DataFrame,
    customers: pl.DataFrame | None,
    *,
    policy: pl.DataFrame,
    segment_rows: pl.DataFrame,
    keys: Sequence[str],
    forecast_ds: pl.Series,
    period_days: float,
    uniform: pl.DataFrame | None = None,
    uniform_plan: str | None = None,
    seed: int = 0,
    unrouted: pl.DataFrame | None = None,
) -> StockHeldOut | None:
    """The plan ``policy`` (and the ``uniform`` one) replayed on the whole periods of the
    forecast's horizon that ``orders`` cover (see the module docstring); None when they cover
    none.

    Args:
        orders: every order line (history and after), with ``keys``, ``order_date``,
            ``quantity`` (and ``customer_id`` with ``customers``), routed as the plan's history.
        customers: ``customer_id, segment`` of the forecast's segments; None when the forecast
            has none (every line is segment ``*``).
        policy: the stage's policy (on-hand points the forecast has not are not replayed).
        segment_rows: the stage's per-segment table.
        uniform: the uniform plan compared against (same points), replayed without reserves.
        seed: of the lead times drawn where a plan's lead time varies (both plans meet the
            same ones).
        unrouted: for a plan per network site, the lines of customers with no serving site
            (``routing.Routed.unrouted``): their demand on the days held out is counted.
    """
    keys = list(keys)
    end = cast(dt.date | None, orders.get_column("order_date").cast(pl.Date).max())
    span = held_out_days(forecast_ds, end, period_days)
    if span is None:
        return None
    start, periods, days = span
    first = start - dt.timedelta(days=WARMUP_DAYS)
    daily = daily_demand(orders, customers, keys, first, start + dt.timedelta(days=days))
    from segchain.stock.inputs import on_hand_only

    # A point forecast nothing is replayed as planned (no stock), with or without stock on hand.
    plan = policy.filter(~on_hand_only(policy)) if "no_demand" in policy.columns else policy
    replayed = replay_plan(plan, segment_rows, daily, keys, first=first, days=days, seed=seed)
    other = (
        replay_plan(
            uniform,
            segment_rows,
            daily,
            keys,
            first=first,
            days=days,
            rationed=False,
            seed=seed,
        )
        if uniform is not None
        else None
    )
    scored = daily.filter(pl.col("day") >= start)
    unplanned = scored.join(
        plan.select(*[pl.col(k).cast(pl.String) for k in keys]), on=keys, how="anti"
    )
    ranks = segment_ranks(customers) if customers is not None else None
    table = _by_segment(replayed, other, segment_rows, plan, ranks=ranks)
    return StockHeldOut(
        start=start,
        periods=periods,
        period_days=period_days,
        days=days,
        points=plan.height,
        table=table,
        uniform_plan=uniform_plan if uniform is not None else None,
        unplanned_units=float(unplanned.get_column("q").sum()),
        unplanned_points=unplanned.select(keys).unique().height,
        **_siteless(unrouted, keys, start, start + dt.timedelta(days=days)),
    )


def _siteless(
    unrouted: pl.DataFrame | None, keys: Sequence[str], start: dt.date, stop: dt.date
) -> dict[str, Any]:
    """``StockHeldOut``'s unrouted fields: the demand per day (as the replay asks it) of the
    customers with no serving site, from ``start`` to the day before ``stop``; none when the
    plan is not routed (``unrouted`` None)."""
    if unrouted is None:
        return {}
    units, customers = unrouted_demand(
        unrouted, [k for k in keys if k != "site"], start, stop, "1d"
    )
    return {"unrouted_units": units, "unrouted_customers": customers}


def _by_segment(
    seg: pl.DataFrame,
    uni: pl.DataFrame | None,
    segment_rows: pl.DataFrame,
    policy: pl.DataFrame,
    *,
    ranks: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per segment (``compare.listing_order``: by priority, then ``ranks``'
    (``schema.segment_ranks``) segment_rank: segments of one priority, as every one without a
    config, most valuable first; those no plan knew last) and ``(all)``."""
    keys = [c for c in ("site", "sku") if c in seg.columns]
    weight = segment_rows.join(
        policy.select(*[pl.col(k).cast(pl.String) for k in keys], "mean_demand"),
        on=keys,
        how="inner",
    ).with_columns(w=pl.col("demand_share") * pl.col("mean_demand").fill_null(0.0))
    # Sums over rows sorted, groups in order: the same bits whatever order the rows came in.
    weight = weight.sort("segment", *keys)
    w = pl.col("w")
    known = w.filter(pl.col("expected_fill_rate").is_not_null()).sum()
    expected = pl.when(known > 0).then((pl.col("expected_fill_rate") * w).sum() / known)
    promise = pl.concat(
        [
            weight.group_by("segment", maintain_order=True).agg(
                pl.col("priority").min(),
                pl.col("service_measure").first().alias("measure"),
                pl.col("service_level").first().alias("target"),
                expected.alias("expected_fill"),
            ),
            weight.select(
                pl.lit(ALL).alias("segment"),
                pl.lit(None, pl.Int64).alias("priority"),
                pl.lit(None, pl.String).alias("measure"),
                pl.lit(None, pl.Float64).alias("target"),
                expected.alias("expected_fill"),
            ),
        ],
        how="vertical_relaxed",
    )

    def totals(cells: pl.DataFrame, name: str) -> pl.DataFrame:
        cells = cells.sort("segment", *keys, nulls_last=True)
        fill = pl.when(pl.col("asked") > 0).then(pl.col("filled") / pl.col("asked"))
        sums = [pl.col(c).sum() for c in ("asked", "filled", "stock_value", "stock_units")]
        per = (
            cells.filter(pl.col("segment").is_not_null())
            .group_by("segment", maintain_order=True)
            .agg(sums)
        )
        every = cells.select(pl.lit(ALL).alias("segment"), *sums)
        return pl.concat([per, every]).select(
            "segment",
            "asked",
            fill.alias(f"fill_{name}"),
            pl.col("stock_value").alias(f"stock_{name}"),
            pl.col("stock_units").alias(f"stock_units_{name}"),
        )

    out = totals(seg, "segmented")
    if uni is not None:
        out = out.join(totals(uni, "uniform").drop("asked"), on="segment", how="left")
    out = out.join(promise, on="segment", how="left")
    last = out.filter(pl.col("segment") == ALL)
    per = out.filter(pl.col("segment") != ALL)
    per = in_segment_order(per, listing_order(per.select("segment", "priority"), ranks))
    columns = [
        "segment",
        "measure",
        "target",
        "expected_fill",
        "asked",
        "fill_segmented",
        *(["fill_uniform"] if uni is not None else []),
        "stock_segmented",
        *(["stock_uniform"] if uni is not None else []),
        "stock_units_segmented",
        *(["stock_units_uniform"] if uni is not None else []),
    ]
    return pl.concat([per, last], how="vertical_relaxed").select(columns)
