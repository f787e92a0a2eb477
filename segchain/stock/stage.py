"""The stock stage: read the forecast, set targets from segments, compute the policies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from segchain.cleansing import LINE_ID, LINE_QUANTITY
from segchain.config import (
    MIN_REVIEW_DAYS,
    POLICY_TYPES,
    PolicyTable,
    check_service_level,
    check_service_measure,
)
from segchain.errors import DataError, TableMessage, UsageError, about, examples
from segchain.formatting import agree, count, plural, short_of_one
from segchain.routing import check_routed_by, route_orders
from segchain.schema import (
    ASSIGNMENTS_OPTION,
    ITEMS_OPTION,
    META_COMPARISON,
    META_HELD_OUT,
    META_INVENTORY_BY_SEGMENT,
    ON_HAND_OPTION,
    ORDERS_OPTION,
    OUTLIERS,
    SEGMENTS_OPTION,
    require_columns,
    segment_ranks,
)
from segchain.stock.bootstrap import LAPSED_SHARE, demand_history
from segchain.stock.compare import compare, equal_service_level, segment_shortfalls
from segchain.stock.heldout import StockHeldOut, held_out, held_out_days
from segchain.stock.inputs import (
    BLENDS,
    DEFAULT_PERIOD_DAYS,
    DEFAULT_REVIEW_DAYS,
    DEFAULT_SERVICE_LEVEL,
    DEFAULT_SERVICE_MEASURE,
    FORECAST_NOTHING,
    TINY_UNITS,
    ItemGaps,
    buying,
    forecast_start,
    in_row_order,
    items_matching_none,
    items_not_planned,
    items_written_otherwise,
    join_items,
    join_on_hand,
    level_caps,
    mean_prices,
    on_hand_only,
    on_hand_rows,
    orders_matching_none,
    read_series,
    segment_targets,
    stocking_points,
    target_notes,
    valued_in_units,
)
from segchain.stock.policy import compute_policy, tiny_bound
from segchain.stock.rationing import (
    ALTERNATIVE_COLUMNS,
    ALTERNATIVE_LEVELS,
    RATIONING,
    ration,
    reorder_point_of,
)
from segchain.stock.segments import by_segment, segment_priorities, segment_table
from segchain.tableio import collect

NOT_BY_SITE = (
    "--assignments: the forecast has no site column, so its stocking points are not per site "
    "and there is nothing to route the history to (make the forecast with `segchain forecast "
    "--assignments`, or leave --assignments out)"
)


@dataclass(frozen=True)
class StockResult:
    """What ``stock`` returns: the policy table and what the CLI reports about it."""

    policy: pl.DataFrame
    segments: pl.DataFrame | None = None
    comparison: pl.DataFrame | None = None
    items_defaulted: int = 0
    defaults_by_column: Mapping[str, int] = field(default_factory=dict)
    # Why they took defaults: item columns absent, points without an item row, values empty.
    item_gaps: ItemGaps = field(default_factory=ItemGaps)
    on_hand_missing: int = 0
    # Item rows of skus no stocking point has (said as information: an item master lists more).
    items_unused: str | None = None
    period_days: float = DEFAULT_PERIOD_DAYS
    notes: tuple[str, ...] = ()
    # For simulate_segments: the forecast series and the rationing's per-segment detail.
    series: pl.DataFrame | None = None
    rationing_detail: pl.DataFrame | None = None
    keys: tuple[str, ...] = ("sku",)
    # The --orders demand history (``demand_history``): --simulate replays the bootstrapped
    # points on its bootstrap.
    history: pl.DataFrame | None = None
    # The plan replayed on the whole periods --orders holds after the forecast's start
    # (``heldout``), and what to say when it could not be (no --segments).
    held_out: StockHeldOut | None = None
    held_out_note: TableMessage | None = None
    # ``segment, rank``: the --segments table's segment_rank (``schema.segment_ranks``), else the
    # forecast's, by which the per-segment tables are listed; None without one.
    ranks: pl.DataFrame | None = None

    def metadata(self) -> dict[str, Any]:
        """What the report reads from the policy's metadata besides the provenance.

        ``comparison``: the rows of ``comparison`` (what segmenting buys), or None;
        ``inventory_by_segment``: the per-segment table's totals by segment
        (``segments.by_segment``).
        """
        comparison = self.comparison.to_dicts() if self.comparison is not None else None
        by_seg = by_segment(self.segments).to_dicts() if self.segments is not None else None
        held = {META_HELD_OUT: self.held_out.as_metadata()} if self.held_out is not None else {}
        return {META_COMPARISON: comparison, META_INVENTORY_BY_SEGMENT: by_seg, **held}


def stock(
    forecast: pl.DataFrame | pl.LazyFrame,
    *,
    items: pl.DataFrame | pl.LazyFrame | None = None,
    on_hand: pl.DataFrame | pl.LazyFrame | None = None,
    policies: PolicyTable | None = None,
    service_level: float | None = None,
    service_measure: str | None = None,
    review_days: float | None = None,
    lead_time_days: float | None = None,
    blend: str = "weighted",
    policy_type: str | None = None,
    orders: pl.DataFrame | pl.LazyFrame | None = None,
    assignments: pl.DataFrame | pl.LazyFrame | None = None,
    segments: pl.DataFrame | pl.LazyFrame | None = None,
    compare_uniform: float | str | None = None,
    rationing: str = "critical-level",
    seed: int = 0,
    freq: str | None = None,
    outliers: str | None = None,
    routed_by: Mapping[str, Any] | None = None,
    n_jobs: int = -1,
    progress: Callable[[str, int, int], None] | None = None,
) -> StockResult:
    """Inventory policy per stocking point (``sku``, and ``site`` when the forecast has one).

    Args:
        forecast: rows with ``sku, ds, forecast, error_sd`` (``mean_demand`` is the fallback for
            an empty forecast value) and optionally ``segment, demand_class, site, unique_id``.
        items: item master ``sku, unit_cost, order_cost, holding_rate, lead_time_days,
            lead_time_sd_days, moq, pack_size``; missing items or values use ``ITEM_DEFAULTS``
            (lead time: ``lead_time_days`` first).
        on_hand: ``sku, on_hand`` (optional ``site``, ``on_order``, ``backorders``).
        policies: the segment policy table; ``service_level``/``service_measure`` fill what
            neither a segment nor ``"*"`` sets (defaults 0.95 and fill-rate).
        review_days: days between two reviews (default ``DEFAULT_REVIEW_DAYS``, 1: a nightly
            MRP run), for both policy types.
        orders: the order lines (``segchain validate``): each stocking point's demand history,
            for the bootstrap of slow and lumpy points whose fit is implausible
            (``bootstrap``), and mean selling prices for items without a unit cost.
        assignments: network's assignments (``customer_id, site_id, share``): the history of
            ``orders`` is routed to the site(s) serving each customer (``routing.route_orders``,
            as ``forecast`` routes it) before it is read per stocking point, so that a forecast
            by network site is planned from the demand routed there, not from the orders' own
            ``site`` (where lines shipped from in the past). Needs ``orders`` and a forecast
            by site. Mean selling prices still come from every line of ``orders`` before the
            forecast's first period, whatever its site.
        segments: segment's output (``customer_id, segment``): the segment of each line of
            ``orders``, for the held-out replay per segment (``heldout``). When ``orders``
            holds lines on or after the forecast's first period covering whole periods of its
            horizon, the plan (and the uniform plan of ``compare_uniform``) is replayed on them
            (``StockResult.held_out``); a forecast without segments needs none.
        policy_type: ``sQ`` (reorder point s, order quantity Q, looked at every review) or
            ``RS`` (order up to S every review). Without it: ``RS`` when ``review_days`` is
            given (what ``--review-days`` alone meant before ``--policy``), else ``sQ``.
        lead_time_days: lead time for items without one.
        blend: ``weighted`` (demand-weighted segment targets) or ``max`` (best-served segment).
        compare_uniform: also compute the policies with this one target, compared per segment;
            ``"equal"`` takes the demand-weighted mean of the segmented targets, so that both
            plans promise the same average service and only its allocation differs;
            ``"keep"`` the highest segment target, so that the uniform plan keeps every promise.
            When rationed, the plan with the same blended targets served first come, first
            served is compared too (``*_fcfs`` columns).
        rationing: ``critical-level`` (default): where the segments of a stocking point ((R, S)
            or (s, Q)) are promised different service, serve them by priority with reserve levels
            (``rationing``); ``none``: first come, first served.
        seed: seed of the rationing search's simulation, the bootstrap and the held-out
            replay's lead times.
        freq: the forecast's period as it records it (``D``, ``W``, ``M``), for a forecast of a
            single period, whose dates cannot tell its length.
        outliers: the forecast's ``--outliers`` as it records it (``keep``, ``cap``, ``drop``):
            the ``orders`` history is cleansed as the forecast cleansed it (``cleansing``;
            unrecorded: forecast's default, ``cap``).
        routed_by: what the forecast records of the assignments it was routed by (its
            metadata's ``routed_by``; for an older segchain's forecast, which counted them only,
            any record without ``sha256``; None when it records nothing): ``assignments`` must
            be those (``routing.check_routed_by``).
        n_jobs: processes for the rationing search (-1: every core); its plans do not depend
            on it.
        progress: called as ``progress(step, done, total)`` while the rationing search runs
            (stocking points planned of those rationed).

    Raises:
        DataError: negative or missing forecasts or sds, bad item master, bad on-hand rows,
            assignments that fail ``schema.check_assignments``, route no order line or are
            not those the forecast was routed by (``routed_by``).
        UsageError: service level outside (0, 1), unknown blend or measure, negative days;
            ``assignments`` without ``orders`` or with a forecast without ``site``.
    """
    if assignments is not None and orders is None:
        raise UsageError(
            "--assignments routes the --orders history to the network's sites: give --orders too"
        )
    if segments is not None and orders is None:
        raise UsageError(SEGMENTS_WITHOUT_ORDERS)
    if n_jobs == 0 or n_jobs < -1:
        raise UsageError(
            f"--n-jobs must be -1 (every core) or a whole number of processes >= 1, got {n_jobs}"
        )
    if rationing not in RATIONING:
        raise UsageError(f"--rationing must be one of {', '.join(RATIONING)}, got {rationing!r}")
    if outliers is not None and outliers not in OUTLIERS:
        raise DataError(
            f"the forecast's metadata records --outliers {outliers!r}, not one of "
            f"{', '.join(OUTLIERS)}",
            hint="give the table `segchain forecast` wrote as FORECAST",
        )
    if blend not in BLENDS:
        raise UsageError(f"--blend must be one of {', '.join(BLENDS)}, got {blend!r}")
    level = check_service_level(
        service_level if service_level is not None else DEFAULT_SERVICE_LEVEL
    )
    measure = check_service_measure(service_measure or DEFAULT_SERVICE_MEASURE)
    word = compare_uniform.strip().lower() if isinstance(compare_uniform, str) else None
    equal = word == "equal"
    keep = word == "keep"
    uniform = (
        check_service_level(compare_uniform, where="--compare-uniform")
        if compare_uniform is not None and not equal and not keep
        else None
    )
    if review_days is not None and not MIN_REVIEW_DAYS <= review_days <= 3660:
        raise UsageError(
            f"--review-days must be a number of days from {MIN_REVIEW_DAYS:g} to 3660, "
            f"got {review_days!r}"
        )
    periodic = resolve_policy_type(policy_type, review_days) == "RS"
    review = float(review_days) if review_days is not None else DEFAULT_REVIEW_DAYS
    if lead_time_days is not None and not lead_time_days >= 0:
        raise UsageError(f"--lead-time-days must be a number of days >= 0, got {lead_time_days!r}")
    table = (policies or PolicyTable()).with_default(service_level=level, service_measure=measure)

    # The forecast's rows in one order (in_row_order); read_series checks them in the file's,
    # so that a row given twice is named by its place there, then orders them too.
    written = collect(forecast, name="forecast")
    fc = in_row_order(written)
    customers = collect(segments, name=SEGMENTS_OPTION) if segments is not None else None
    ranks = segment_ranks(customers) if customers is not None else None
    if ranks is None:
        # Without them, the segment_rank the forecast carries from segment's table.
        ranks = segment_ranks(fc)
    series, keys, period_days, notes = read_series(written, freq=freq)
    if assignments is not None and "site" not in keys:
        raise UsageError(NOT_BY_SITE)
    series = segment_targets(series, table)
    points = stocking_points(series, keys, blend)
    notes = [*notes, *target_notes(series, table)]
    history = None
    prices = None
    routed = None
    unrouted = None  # the lines of customers with no serving site, for the held-out replay
    if orders is not None:
        od = collect(orders, name=ORDERS_OPTION)
        routed = od
        if assignments is not None:
            # The plan is per network site: each point's history is the demand routed there,
            # each line numbered and its size as ordered kept, as forecast routes it, so that
            # the cleansing judges a line split over two sites once, by that size.
            lines = od.with_row_index(LINE_ID).with_columns(pl.col("quantity").alias(LINE_QUANTITY))
            lanes = collect(assignments, name=ASSIGNMENTS_OPTION)
            # Another network run's assignments are refused before the history is routed by them.
            other_run = check_routed_by(lanes, routed_by, fc.get_column("site").unique())
            r = route_orders(lines, lanes)
            routed, unrouted = r.orders, r.unrouted
            notes += r.warnings + other_run
        start = forecast_start(fc)
        history, more = demand_history(routed, keys, period_days, before=start, outliers=outliers)
        notes += more
        if not more or "site" not in keys or "site" in routed.columns:
            notes += orders_matching_none(points, history, keys)
        # A sku's selling price does not depend on the site: every line before the forecast.
        prices = mean_prices(od, before=start)
    # Read once: the three uses below each collected a lazily scanned item master again.
    items = collect(items, name=ITEMS_OPTION) if items is not None else None
    # Checked here, before the plan is made, not after it (and read once).
    on_hand_checked = on_hand_rows(on_hand, keys) if on_hand is not None else None
    notes += items_matching_none(points, items)
    unused_items = items_not_planned(points, items)
    notes += items_written_otherwise(points, items)
    points, defaulted, by_column, item_gaps = join_items(
        points, items, lead_time_days, prices=prices
    )
    caps = level_caps(fc, keys)
    if caps is not None:
        points = points.join(caps, on=keys, how="left")

    policy = _compute_per_measure(
        points,
        series,
        keys,
        blend=blend,
        period_days=period_days,
        review_days=review,
        periodic=periodic,
        history=history,
        seed=seed,
    )
    service = None
    fcfs = None
    alternatives = None
    if equal:
        uniform = equal_service_level(points)
    # With --compare-uniform keep on segments of both measures: the top CSL target as a CSL and
    # the top fill-rate target as a fill rate at every point (the larger of the two levels).
    both: dict[str, float] | None = None
    if keep:
        # One target high enough to keep every promise: the highest any segment is promised, in
        # each measure the segments use (one number applied in one measure kept neither: 0.995
        # as a fill rate gave a CSL 0.97 segment 88.2 %).
        tops = series.group_by("seg_measure").agg(pl.col("seg_level").max())
        both = {str(m): float(t) for m, t in tops.iter_rows()}
        uniform = max(both.values())
        if len(both) < 2:
            both = None
    if rationing == "critical-level":
        fcfs = policy
        policy, service, alternatives = ration(
            series,
            policy,
            keys,
            segment_priorities(series),
            period_days=period_days,
            seed=seed,
            keep=lambda: _compute_per_measure(
                _top_targets(points, series, keys),
                series,
                keys,
                blend="max",
                period_days=period_days,
                review_days=review,
                periodic=periodic,
                history=history,
                seed=seed,
            ),
            uniform=(both["fill-rate"], both["csl"]) if both is not None else uniform,
            n_jobs=n_jobs,
            progress=progress,
        )
    else:
        policy = policy.with_columns(
            rationed=pl.lit(False), unrationed_avg_inventory=pl.col("avg_inventory")
        )
    missing_on_hand = 0
    if on_hand_checked is not None:
        policy, missing_on_hand, no_demand, merged = join_on_hand(
            policy, on_hand_checked, keys, items=items, lead_time_days=lead_time_days
        )
        if merged.height:
            notes.append(_merged_on_hand_note(merged, keys))
        if no_demand.height:
            notes.append(_no_demand_note(no_demand, keys))
    comparison = None
    alt = None
    plan = None
    if uniform is not None:
        targets = [(uniform, None)] if both is None else [(t, m) for m, t in sorted(both.items())]
        alt = _larger_level(
            [
                compute_policy(
                    points.with_columns(
                        service_target=pl.lit(t),
                        service_measure=pl.col("service_measure") if m is None else pl.lit(m),
                    ),
                    keys,
                    period_days=period_days,
                    review_days=review,
                    periodic=periodic,
                    history=history,
                    seed=seed,
                )
                for t, m in targets
            ],
            keys,
        )
        formulas = None
        if alternatives is not None and alternatives.height:
            # Rationed points: every plan compared in the rationing's demand model. The plan
            # `stock` writes for that one target (no reserves to plan, so the formulas) is kept
            # beside it: on The Complete Journey it held 17,360 where the simulation's held
            # 19,523, and the comparison alone had read as what segmenting costs against it.
            formulas = alt
            alt = _same_model(alt, alternatives, keys, "uniform")
            assert fcfs is not None
            fcfs = _same_model(fcfs, alternatives, keys, "fcfs")
        plan = (
            f"one uniform target {short_of_one(uniform, '.4f')}"
            if both is None
            else f"uniform: csl {short_of_one(both['csl'], '.4f')} and fill-rate "
            f"{short_of_one(both['fill-rate'], '.4f')} "
            "at every point"
        )
        comparison = compare(
            series,
            keys,
            policy,
            alt,
            uniform,
            service=service,
            fcfs=fcfs,
            plan=plan,
            ranks=ranks,
            formulas=formulas,
        )
        if formulas is not None:
            notes.append(
                _formulas_note(comparison, alternatives, plan, units=valued_in_units(policy))
            )
    # Every run, not only with --compare-uniform: a promise the plan does not keep is said.
    notes += segment_shortfalls(
        series,
        keys,
        policy,
        service=service,
        unrationed="rationing is off (`--rationing none`)"
        if rationing == "none"
        else "not rationed there",
    )
    rationed = policy.filter(pl.col("rationed"))
    if rationed.height:
        held = float((rationed["avg_inventory"] * rationed["unit_cost"]).sum())
        fcfs_held = float((rationed["unrationed_avg_inventory"] * rationed["unit_cost"]).sum())
        notes.append(
            f"rationing: {plural(rationed.height, 'stocking point')} "
            f"{'holds' if rationed.height == 1 else 'hold'} {held:,.2f} in value against "
            f"{fcfs_held:,.2f} without reserves with every promise kept "
            f"({(held - fcfs_held) / fcfs_held:+.1%})"
            if fcfs_held > 0
            else f"rationing: {plural(rationed.height, 'stocking point')}"
        )
    model = policy.get_column("demand_model")
    booted = int((model == "bootstrap").sum())
    held = int((policy.get_column("capped") & (model == "bootstrap")).sum())
    # A held point with demand and no expected service: how often it sells is unseen.
    unseen = int(
        (
            (model == "bootstrap")
            & policy.get_column("expected_fill_rate").is_null()
            & (policy.get_column("mean_demand") > 0)
        ).sum()
    )
    if booted:
        notes.append(
            f"{plural(booted, 'slow or lumpy stocking point')} "
            f"{'is' if booted == 1 else 'are'} held at the largest demand {_its(booted)} order "
            f"history shows over a protection interval, brought to the forecast's level "
            f"({_its(booted)} fitted level exceeded it), with the expected service of the "
            f"bootstrap of that history"
            + (
                f"; {count(held) if held else 'none'} of them short of {_its(booted)} target there"
                if booted > 1
                else f", and {'is' if held else 'is not'} short of its target there"
            )
            + (
                (
                    f"; {count(unseen)} of them {agree(unseen, 'has', 'have')}"
                    if booted > 1
                    else "; it has"
                )
                + " a history that never shows a sale after a period without one (one sale, or "
                f"one run of sales that ended): how often {agree(unseen, 'it sells', 'they sell')}"
                f" is unseen, so {agree(unseen, 'its', 'their')} expected service is left empty"
                if unseen
                else ""
            )
        )
    if booted:
        notes += _lapsed_note(policy, keys)
    notes += _tiny_capped_notes(policy, points, keys)
    if orders is None:
        notes += _fitted_alone_note(policy)
    elif history is not None:
        notes += _unforecast_sellers_note(policy, history, keys, forecast_start(fc))
    seg_table = segment_table(series, policy, keys, service=service)
    replayed = None
    replay_note = None
    if routed is not None:
        replayed, replay_note = _held_out(
            routed,
            customers,
            fc,
            series,
            keys,
            policy=policy,
            segment_rows=seg_table,
            period_days=period_days,
            uniform=alt,
            uniform_plan=plan,
            seed=seed,
            unrouted=unrouted,
        )
    return StockResult(
        policy=policy,
        segments=seg_table,
        comparison=comparison,
        items_defaulted=defaulted,
        defaults_by_column=by_column,
        item_gaps=item_gaps,
        on_hand_missing=missing_on_hand,
        items_unused=unused_items,
        period_days=period_days,
        notes=tuple(notes),
        series=series,
        rationing_detail=service,
        keys=tuple(keys),
        history=history,
        held_out=replayed,
        held_out_note=replay_note,
        ranks=ranks,
    )


SEGMENTS_WITHOUT_ORDERS = (
    "--segments gives the segment of each --orders line, for the plan's held-out replay: "
    "give --orders too"
)


def _held_out(
    orders: pl.DataFrame,
    customers: pl.DataFrame | pl.LazyFrame | None,
    fc: pl.DataFrame,
    series: pl.DataFrame,
    keys: list[str],
    **kwargs: Any,
) -> tuple[StockHeldOut | None, TableMessage | None]:
    """The plan replayed on the whole periods ``orders`` hold after the forecast's start, or
    what to say when it cannot be: a forecast per segment needs each line's segment."""
    if any(k not in orders.columns for k in keys):
        return None, None  # no history per site: nothing to replay either (said already)
    per_segment = bool((series.get_column("segment") != "*").any())
    table = None
    if customers is not None:
        table = collect(customers, name=SEGMENTS_OPTION)
        require_columns(
            table.columns,
            ["customer_id", "segment"],
            source=SEGMENTS_OPTION,
            hint="give segment's output (the SEGMENTS given to forecast)",
        )
    if not per_segment:
        table = None
    elif table is None:
        end = orders.get_column("order_date").cast(pl.Date).max()
        span = held_out_days(fc.get_column("ds"), end, kwargs["period_days"])  # type: ignore[arg-type]
        if span is None:
            return None, None
        word = "week" if kwargs["period_days"] == 7 else "period"
        return None, TableMessage(
            f"{{{ORDERS_OPTION}}} holds {plural(span[1], f'whole {word}')} after the "
            f"forecast's start ({span[0]}): give {SEGMENTS_OPTION} FILE (the SEGMENTS given to "
            "forecast) to replay the plan on them per segment",
            {ORDERS_OPTION: ORDERS_OPTION},
        )
    elif "customer_id" not in orders.columns:
        return None, None
    return (
        held_out(orders, table, keys=keys, forecast_ds=fc.get_column("ds"), **kwargs),
        None,
    )


def _formulas_note(
    comparison: pl.DataFrame, alternatives: pl.DataFrame | None, plan: str, *, units: bool
) -> str:
    """What the comparison's uniform plan is at rationed points, and what `stock` writes for
    that target: the two differ by the demand model (the rationing's simulation against the
    formulas), and the user comparing with a run at that target must know which is which;
    ``units``: no point has a unit cost, so the figures count units."""
    row = comparison.filter(pl.col("segment") == "(all)").row(0, named=True)
    seg = float(row["inventory_value_segmented"])
    sim = float(row["inventory_value_uniform"])
    written = float(row["inventory_value_uniform_formulas"])
    n = alternatives.height if alternatives is not None else 0

    def against(base: float) -> str:
        return f"{(seg - base) / base:+.1%}" if base > 0 else "n/a"

    worth = "units" if units else "in value"
    return (
        f"--compare-uniform: at the {plural(n, 'rationed stocking point')} the uniform plan "
        f"({plan}) is the rationing's simulation's, as the segmented plan there, so both are "
        f"compared in one demand model; `stock` run with that one target for every segment "
        f"plans no reserves and writes the formulas' levels: {written:,.2f} {worth} in all "
        f"against the comparison's {sim:,.2f} (segmented {seg:,.2f}: {against(written)} "
        f"against the plan written, {against(sim)} against the comparison's)"
    )


def _lapsed_note(policy: pl.DataFrame, keys: list[str]) -> list[str]:
    """The held points whose forecast is under ``LAPSED_SHARE`` of their history's rate, whose
    largest demand was brought down to the forecast's level (``bootstrap.lapsed_factor``)."""
    lapsed = policy.filter(
        (pl.col("demand_model") == "bootstrap")
        & (pl.col("history_max_at_forecast") < pl.col("history_max"))
    )
    if not lapsed.height:
        return []
    names = ["sku", "site"] if "site" in keys else ["sku"]
    ids = lapsed.select(pl.concat_str(names, separator="@")).to_series().to_list()
    what = "sku@site" if "site" in keys else "sku"
    return [
        f"{plural(lapsed.height, 'held stocking point')} forecast under "
        f"{LAPSED_SHARE:.0%} of {_its(lapsed.height)} history's rate (an item that has lapsed "
        f"or is lapsing; {what} {examples(ids)}): the largest demand of that history brought "
        "down to the forecast's level (history_max_at_forecast), so its busy months do not set "
        f"the reorder point; {lapsed.get_column('reorder_point').sum():,.0f} units of reorder "
        "point in all"
    ]


def _fitted_alone_note(policy: pl.DataFrame) -> list[str]:
    """Without ``--orders``, slow and lumpy points rest on a fitted distribution alone.

    Their variance is the forecast's backtest error, which one large past order inflates: on the
    demo's routed forecast (at 375b7a9), 196 of 552 points then held more than the largest
    demand their history shows over a protection interval (up to 18x), and inventory value was
    60 % higher than with the history. Said once, with the points' share of the value, so the
    user knows what ``--orders`` changes.
    """
    fitted = policy.filter(
        (pl.col("distribution") != "normal") & ~pl.col("capped") & (pl.col("mean_demand") > 0)
    )
    if not fitted.height:
        return []
    value = pl.col("avg_inventory") * pl.col("unit_cost")
    total = float(policy.select(value.sum()).item())
    share = float(fitted.select(value.sum()).item()) / total if total > 0 else 0.0
    return [
        f"{plural(fitted.height, 'slow or lumpy stocking point')} ({share:.0%} of inventory "
        f"value) {agree(fitted.height, 'is', 'are')} planned from a distribution fitted to the "
        "forecast and its backtest error alone: give "
        "--orders FILE (the orders given to forecast) so that none holds more than the largest "
        "demand its order history shows over a protection interval"
    ]


def _its(n: int) -> str:
    return agree(n, "its", "their")


def _unforecast_sellers_note(
    policy: pl.DataFrame, history: pl.DataFrame, keys: list[str], start: dt.date | None
) -> list[str]:
    """The stocking points forecast no demand that sold in the 52 weeks before the forecast:
    they hold no stock, and their demand, if it comes again, is in no expected fill rate (a
    fill rate is undefined without forecast demand). Held out on Superstore by product and
    region ((R, S) weekly, the demo's targets), half the points (2,306 of 4,669 from
    2022-06-06, 2,301 of 5,034 from 2022-10-10) were forecast 0 and took 40 % of the units the
    next 8 weeks asked, none of it served from stock: Champions expected 77 % and got 52 %,
    with nothing on stderr to say why (docs/measurements.md, *Held points whose history shows
    one sale*)."""
    idle = FORECAST_NOTHING
    if "no_demand" in policy.columns:
        idle = idle & ~on_hand_only(policy)
    zero = policy.filter(idle).select(*[pl.col(k).cast(pl.String) for k in keys])
    if start is None or not zero.height or not history.height:
        return []
    year = history.filter(pl.col("ds") >= start - dt.timedelta(days=364))
    total = float(year["y"].sum())
    units = (
        year.group_by(keys)
        .agg(pl.col("y").sum())
        .join(zero, on=keys, how="semi")
        .filter(pl.col("y") > 0)
    )
    if not units.height or total <= 0:
        return []
    sold = float(units["y"].sum())
    return [
        f"{count(units.height)} of the {plural(zero.height, 'stocking point')} forecast no "
        f"demand sold in the 52 weeks before the forecast ({sold:,.0f} units, {sold / total:.1%}"
        " of those weeks' units): they hold no stock, and their demand, if it comes again, is "
        "in no expected fill rate"
    ]


def _no_demand_note(no_demand: pl.DataFrame, keys: list[str]) -> TableMessage:
    """What stderr says about on-hand points without forecast demand (``no_demand``: not in the
    forecast, or forecast nothing): their stock not owed to customers, to move or clear, and
    what they order (only backorders owed). It counted only the points the forecast has not,
    and said "nothing ordered" of one ordering 3 units it owed, and "stock to move or clear" of
    its 0 units."""
    names = ["sku", "site"] if "site" in keys else ["sku"]
    n = no_demand.height
    # Units on hand that backorders owed will not take: those are the stock nobody buys.
    spare = pl.max_horizontal(pl.col("on_hand") - pl.col("backorders"), 0.0)
    no_demand = no_demand.with_columns(spare.alias("spare"))
    # The points holding such stock named first: an export listing every sku has many empty.
    shown = no_demand.sort(pl.col("spare") <= 0, maintain_order=True)
    points = shown.select(pl.concat_str(names, separator="@")).to_series().to_list()
    what = "sku@site" if "site" in keys else "sku"
    held = no_demand.filter(pl.col("spare") > 0)
    # Stock that backorders take is said to be netted; none at all is said as none.
    netted = no_demand.filter((pl.col("on_hand") > 0) & (pl.col("backorders") > 0)).height
    stock = "no stock beyond the backorders owed" if netted else "no stock on hand"
    if held.height:
        value = float((held["spare"] * held["unit_cost"]).sum())
        owing = " not owed to customers" if netted else ""
        stock = (
            f"{_units(held['spare'])}{owing}{_of_them(held.height, n)}, {value:,.2f} at unit "
            "cost, stock to move or clear"
        )
    ordering = no_demand.filter(pl.col("order_now") > 0)
    orders = (
        f", ordering only for backorders owed: {_units(ordering['order_now'])}"
        f"{_of_them(ordering.height, n)} (order_now)"
        if ordering.height
        else " and nothing ordered"
    )
    return about(
        ON_HAND_OPTION,
        f"{plural(int(no_demand['rows'].sum()), 'on-hand row')} at "
        f"{plural(n, 'stocking point')} without forecast demand ({what} {examples(points)}): "
        f"{stock}; kept in the policy with no_demand = true{orders}",
    )


def _units(values: pl.Series) -> str:
    """Units summed, in whole units: ``1 unit``, ``65 units``."""
    units = f"{float(values.sum()):,.0f}"
    return f"{units} {'unit' if units == '1' else 'units'}"


def _of_them(k: int, n: int) -> str:
    """`` at k of them`` when only some of the ``n`` points are meant."""
    return f" at {count(k)} of them" if k < n else ""


def _merged_on_hand_note(merged: pl.DataFrame, keys: list[str]) -> TableMessage:
    """What stderr says about stocking points whose on-hand rows were added up."""
    names = ["sku", "site"] if "site" in keys else ["sku"]
    points = merged.select(pl.concat_str(names, separator="@")).to_series().to_list()
    what = "sku@site" if "site" in keys else "sku"
    rows = f"{plural(int(merged['rows'].sum()), 'on-hand row')} added up into "
    sites = (
        int(merged.select(pl.col("_sites").max()).item() or 0) if "_sites" in merged.columns else 0
    )
    if sites > 1:
        # The forecast has no site: each sku's stock at every site is one point's.
        return about(
            ON_HAND_OPTION,
            f"{rows}{plural(merged.height, 'stocking point')} ({what} {examples(points)}): the "
            f"forecast has no site, so each sku's stock at its sites (up to {sites}) is one "
            "point's; forecast by site (forecast --assignments, or --by site,segment,sku) to "
            "plan each site's stock",
        )
    return about(
        ON_HAND_OPTION,
        f"{rows}{plural(merged.height, 'stocking point')} ({what} {examples(points)}): stock in "
        "several bins or lots; if the export holds some rows twice, remove them",
    )


def _top_targets(points: pl.DataFrame, series: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """The stocking points with each one's highest segment target (and that segment's measure):
    served first come, first served, the level that keeps every promise made there: of the
    segments that buy there (``buying``), as ``--blend max`` takes them."""
    buyers = series.filter(buying(keys))
    top = buyers.group_by(keys).agg(
        pl.col("seg_level").sort_by(["seg_level", "mu"], descending=True).first().alias("_top"),
        pl.col("seg_measure").sort_by(["seg_level", "mu"], descending=True).first().alias("_tm"),
    )
    return (
        points.join(top, on=keys, how="left", maintain_order="left")
        .with_columns(service_target=pl.col("_top"), service_measure=pl.col("_tm"))
        .drop("_top", "_tm")
    )


def _same_model(
    plan: pl.DataFrame, alternatives: pl.DataFrame, keys: list[str], name: str
) -> pl.DataFrame:
    """``plan`` with the rationed points' stock and service from the rationing's simulation."""
    inv, fill, csl = ALTERNATIVE_COLUMNS[name]
    level = ALTERNATIVE_LEVELS[name]
    joined = plan.join(
        alternatives.select(*keys, inv, fill, csl, level),
        on=keys,
        how="left",
        maintain_order="left",
    )
    hit = pl.col(inv).is_not_null()
    # The plan's level in the simulation too, so that a replay of it replays that plan.
    at = pl.col(level).is_not_null()
    return (
        joined.with_columns(
            order_up_to=pl.when(at).then(pl.col(level)).otherwise(pl.col("order_up_to")),
            reorder_point=pl.when(at)
            .then(reorder_point_of(pl.col(level)))
            .otherwise(pl.col("reorder_point")),
        )
        .with_columns(
            avg_inventory=pl.when(hit).then(pl.col(inv)).otherwise(pl.col("avg_inventory")),
            expected_fill_rate=pl.when(hit)
            .then(pl.col(fill))
            .otherwise(pl.col("expected_fill_rate")),
            expected_csl=pl.when(hit).then(pl.col(csl)).otherwise(pl.col("expected_csl")),
        )
        .with_columns(inventory_value=pl.col("avg_inventory") * pl.col("unit_cost"))
        .select(plan.columns)
    )


def resolve_policy_type(policy_type: str | None, review_days: float | None) -> str:
    """``sQ`` or ``RS`` from ``--policy`` (any case; ``s,Q``, ``R,S`` too) and ``--review-days``.

    Without ``--policy``, ``--review-days`` alone means (R, S), as it did before ``--policy``.
    """
    if policy_type is None:
        return "RS" if review_days is not None else "sQ"
    word = policy_type.strip().replace(",", "").replace(" ", "").replace("(", "").replace(")", "")
    for name in POLICY_TYPES:
        if word.lower() == name.lower():
            return name
    raise UsageError(f"--policy must be one of {', '.join(POLICY_TYPES)}, got {policy_type!r}")


def _compute_per_measure(
    points: pl.DataFrame,
    series: pl.DataFrame,
    keys: list[str],
    *,
    blend: str,
    period_days: float,
    review_days: float,
    periodic: bool,
    history: pl.DataFrame | None = None,
    seed: int = 0,
) -> pl.DataFrame:
    """Policies; a stocking point whose segments use different measures meets each of them.

    Served first come, first served, every segment of a stocking point gets the same fill rate
    and the same CSL, so the level must meet the blended target of the CSL segments as a CSL and
    that of the fill-rate segments as a fill rate: the larger of the two levels. (Bug 4(c): one
    number averaged over both scales, applied with the largest segment's measure, gave gold's
    CSL 0.99 promise a CSL of 0.706.)
    """
    policy = compute_policy(
        points,
        keys,
        period_days=period_days,
        review_days=review_days,
        periodic=periodic,
        history=history,
        seed=seed,
    )
    # The measures of the segments that buy there (``buying``), as the point's target blends.
    series = series.filter(buying(keys))
    mixed = (
        series.group_by(keys)
        .agg(pl.col("seg_measure").n_unique().alias("measures"))
        .filter(pl.col("measures") > 1)
        .select(keys)
    )
    if mixed.height == 0:
        return policy
    variants = []
    for measure in sorted(set(series.get_column("seg_measure").to_list())):
        sub = series.filter(pl.col("seg_measure") == measure).join(mixed, on=keys)
        total = pl.col("mu").sum()
        if blend == "weighted":
            weight = pl.when(total > 0).then(pl.col("mu") / total).otherwise(1.0 / pl.len())
            target = (pl.col("seg_level") * weight).sum()
        else:
            target = pl.col("seg_level").max()
        targets = sub.group_by(keys).agg(target.alias("measure_target"))
        pts = points.join(targets, on=keys).with_columns(
            service_target=pl.col("measure_target"), service_measure=pl.lit(measure)
        )
        variants.append(
            compute_policy(
                pts.drop("measure_target"),
                keys,
                period_days=period_days,
                review_days=review_days,
                periodic=periodic,
                history=history,
                seed=seed,
            )
        )
    chosen = _larger_level(variants, keys)
    order = points.select(keys).with_row_index("_order")
    return (
        pl.concat([policy.join(mixed, on=keys, how="anti"), chosen.select(policy.columns)])
        .join(order, on=keys)
        .sort("_order")
        .drop("_order")
    )


def _tiny_capped_notes(policy: pl.DataFrame, points: pl.DataFrame, keys: list[str]) -> list[str]:
    """How many tiny points were capped, and at which bound: the forecast's ``forecast-hi-*``
    column, or, where the forecast gives none, the bound read from its ``error_sd``
    (``inputs.error_bound``). One note said "upper forecast bound" of both, and of a forecast
    without interval columns too. A point whose bound lies below the Poisson level of its mean
    at its target holds that level instead (``compute_policy``): it is named with its level and
    its bound, not said to be capped at the bound it holds more than."""
    fitted = policy.get_column("capped") & (policy.get_column("demand_model") == "fit")
    if not fitted.any():
        return []
    capped = policy.filter(fitted)
    given = np.full(capped.height, np.nan)
    if "level_cap" in points.columns:
        given = (
            capped.select(keys)
            .join(points.select(*keys, "level_cap"), on=keys, how="left", maintain_order="left")
            .get_column("level_cap")
            .cast(pl.Float64)
            .fill_null(np.nan)
            .to_numpy()
        )
    bound = tiny_bound(
        capped.get_column("mean_demand").to_numpy().astype(float),
        capped.get_column("sd_demand").to_numpy().astype(float),
        given,
        float(capped.get_column("period_days")[0]),  # one period for the whole plan
    )
    level = capped.get_column("reorder_point").to_numpy().astype(float)
    # A rationed point's level is the rationing's simulation's, not the floor's.
    rationed = (
        capped.get_column("rationed").fill_null(False).to_numpy()
        if "rationed" in capped.columns
        else np.zeros(capped.height, dtype=bool)
    )
    floored = (level > bound + 1e-9) & ~rationed
    names = ["sku", "site"] if "site" in keys else ["sku"]
    label = capped.select(pl.concat_str(names, separator="@")).to_series().to_list()
    what = "sku@site" if "site" in keys else "sku"
    tiny = f"with under {TINY_UNITS:g} unit of expected demand over"
    out = []
    for kind, bound_text in (
        (~np.isnan(given), "one period's upper forecast bound ({own} forecast-hi-* column)"),
        (
            np.isnan(given),
            "one period's bound read from {own} error_sd (the forecast gives no forecast-hi-* "
            "bound there): the forecast plus error_sd times the root of ten years of periods",
        ),
    ):
        at_bound = int((kind & ~floored).sum())
        if at_bound:
            own = _its(at_bound)
            out.append(
                f"{plural(at_bound, 'stocking point')} {tiny} {own} protection interval capped "
                "at " + bound_text.format(own=own)
            )
        rows = np.flatnonzero(kind & floored)
        if rows.size:
            own = _its(rows.size)
            held = ", ".join(
                f"{str(label[i])!r} at {level[i]:,.0f} against {bound[i]:,.0f}" for i in rows[:5]
            ) + (f" (and {rows.size - 5:,} more)" if rows.size > 5 else "")
            out.append(
                f"{plural(rows.size, 'stocking point')} {tiny} {own} protection interval "
                f"{agree(rows.size, 'holds', 'hold')} the Poisson level of {own} mean at {own} "
                "target, above " + bound_text.format(own=own) + ", which is less than sales "
                f"one unit at a time need ({what} {held} units)"
            )
    return out


def _larger_level(variants: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    """Per stocking point, the row of the variant with the larger level (the first variant's
    row order): each variant meets one measure's target, the larger level meets both."""
    if len(variants) == 1:
        return variants[0]
    order = variants[0].select(keys).with_row_index("_order")
    return (
        pl.concat(variants)
        .sort(
            [*keys, "reorder_point", "service_measure"],
            descending=[False] * len(keys) + [True, False],
        )
        .group_by(keys, maintain_order=True)
        .first()
        .join(order, on=keys)
        .sort("_order")
        .drop("_order")
    )


def simulate_segments(result: StockResult, *, periods: int, seed: int = 0) -> pl.DataFrame:
    """Achieved service per stocking point x segment, next to its target.

    Rationed points: their reserve levels replayed on fresh cycles (``rationing``); the others
    serve first come, first served, so each segment gets the point's achieved service in the
    replay of ``sim.simulate``.
    """
    from segchain.stock.rationing import simulate_rationed
    from segchain.stock.sim import simulate, with_demand

    keys = list(result.keys)
    assert result.segments is not None and result.series is not None
    # Only where the segment has demand: a point without any (its segments' demand_share 1/n)
    # or a segment buying nothing at a point has no service to replay (see ``with_demand``).
    demand = result.policy.filter(with_demand(result.policy))
    point = simulate(demand, periods=periods, seed=seed, history=result.history, keys=keys).select(
        *keys, "achieved_fill_rate", "achieved_csl"
    )
    table = result.segments.join(point, on=keys, how="inner").filter(pl.col("demand_share") > 0)
    if result.rationing_detail is not None and result.rationing_detail.height:
        own = simulate_rationed(
            result.policy,
            result.rationing_detail,
            result.series,
            keys,
            period_days=result.period_days,
            periods=periods,
            seed=seed,
        )
        table = (
            table.join(own, on=[*keys, "segment"], how="left", suffix="_r")
            .with_columns(
                achieved_fill_rate=pl.col("achieved_fill_rate_r").fill_null(
                    pl.col("achieved_fill_rate")
                ),
                achieved_csl=pl.col("achieved_csl_r").fill_null(pl.col("achieved_csl")),
            )
            .drop("achieved_fill_rate_r", "achieved_csl_r")
        )
    achieved = (
        pl.when(pl.col("service_measure") == "fill-rate")
        .then(pl.col("achieved_fill_rate"))
        .otherwise(pl.col("achieved_csl"))
    )
    return table.select(
        *keys,
        "segment",
        "priority",
        "service_measure",
        "service_level",
        "reserve_level",
        "demand_share",
        "achieved_fill_rate",
        "achieved_csl",
        (achieved >= pl.col("service_level") - 1e-12).alias("target_met"),
    )
