"""The ``network`` stage: check the inputs, build the pairs, solve with and without promises."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from segchain.errors import InfeasibleError, TableMessage, UsageError, about, examples
from segchain.formatting import UNITS, agree, format_number, plural
from segchain.network.geometry import (
    CAPACITATED_MAX_PAIRS,
    MAX_PAIRS,
    Points,
    aggregate_points,
    candidate_sites,
    geo_pairs,
    identity_points,
)
from segchain.network.inputs import (
    DEFAULT_COST_PER_UNIT_KM,
    DEFAULT_GAP,
    DEFAULT_KM_PER_DAY,
    DEFAULT_NODE_LIMIT,
    check_options,
    lane_pairs,
    orders_span,
    prepare_customers,
    prepare_sites,
    refuse_span_costs_beyond,
    require_distances,
)
from segchain.network.late import LateReach, customer_lanes, late_reach, late_reason
from segchain.network.model import (
    EPS,
    Model,
    NoPlanInTime,
    Plan,
    late_demand,
    loosened,
    promise_pairs,
)
from segchain.network.outputs import (
    NetworkResult,
    NetworkTotals,
    assign,
    in_order,
    promise_table,
    sites_table,
    unknown_distances,
    with_left_out,
)
from segchain.policy import unnamed_segments_note
from segchain.schema import (
    ANNUAL_FIXED_COST,
    BASELINE_UNFINISHED,
    CUSTOMERS_ARGUMENT,
    DAYS_PER_YEAR,
    DEFAULT_FIXED_COST_PERIOD,
    LANES_OPTION,
    PROMISE_COST_CUT_SHORT,
    PROMISE_COST_UNKNOWN,
    SITES_OPTION,
    promise_cost_status,
    segment_ranks,
)
from segchain.tableio import collect

if TYPE_CHECKING:
    from segchain.policy import PolicyTable


def network(
    customers: pl.DataFrame | pl.LazyFrame,
    *,
    sites: pl.DataFrame | pl.LazyFrame | None = None,
    candidates: int | None = None,
    costs: pl.DataFrame | pl.LazyFrame | None = None,
    open: int | None = None,
    allow_split: bool = False,
    km_per_day: float = DEFAULT_KM_PER_DAY,
    cost_per_unit_km: float = DEFAULT_COST_PER_UNIT_KM,
    policies: PolicyTable | None = None,
    time_limit: float | None = None,
    gap: float = DEFAULT_GAP,
    node_limit: int = DEFAULT_NODE_LIMIT,
    skip_unlocated: bool = False,
    max_points: int | None = None,
    fixed_cost_period: str | None = None,
    seed: int = 0,
) -> NetworkResult:
    """Open sites and assign customers at least cost, keeping each segment's delivery promise.

    Minimises fixed cost of open sites plus transport (``cost_per_unit_km`` x demand x
    great-circle km, or ``costs`` per unit of demand), with HiGHS. A customer may only be served
    by sites within its segment's ``max_delivery_days`` (transit days = km / ``km_per_day``); one
    that no site can reach in time is served late, ``sla_met = false`` (at its cheapest open site
    when the capacities leave room). The same model without promises is solved too, so that
    ``promise`` shows what they cost.

    Args:
        customers: ``customer_id``, ``demand`` (else ``quantity``), optional ``segment``, and
            ``lat, lon`` unless ``costs`` is given.
        sites: ``site_id, lat, lon``, optional ``fixed_cost, capacity, existing``.
        candidates: instead of ``sites``, propose this many sites by demand-weighted k-means.
        costs: lane table ``site_id, customer_id, unit_cost`` (optional ``distance_km``); pairs
            not listed are not allowed.
        open: open exactly this many sites (p-median); else as many as fixed costs justify.
        allow_split: let a customer's demand be split over several sites.
        km_per_day: transit speed for the delivery promise.
        cost_per_unit_km: transport cost per unit of demand per km (without ``costs``).
        policies: segment policy table (``max_delivery_days``); None means no promise.
        time_limit: solver time limit in seconds (per solve); the proven gap is reported.
        gap: relative MIP gap at which the solver stops.
        node_limit: branch-and-bound nodes per solve (0: no limit); unlike ``time_limit``,
            every run stops at the same plan.
        skip_unlocated: leave out customers without coordinates (reported) instead of failing.
        max_points: aggregate customers into at most this many demand points (default: only
            when customers x sites exceeds 1,000,000 pairs, then 1,000,000 / sites points;
            with capacities 120,000 pairs, 120,000 / sites points).
        fixed_cost_period: what the sites' ``fixed_cost`` is the cost of: ``orders`` (the
            span of the orders the demand comes from) or ``year``, taken over that span
            (``first_order`` to ``last_order``: x days / DAYS_PER_YEAR), as the transport it is
            weighed against is that demand's; None: ``orders``, unless the sites' header says
            a year (``annual_fixed_cost``).
        seed: seed of the candidate k-means.

    Raises:
        UsageError: contradictory or impossible options.
        DataError: bad customers, sites or lanes (every problem listed).
        InfeasibleError: capacities, --open or lanes cannot serve the demand (never promises).
    """
    customers = collect(customers)
    sites = collect(sites) if sites is not None else None
    costs = collect(costs) if costs is not None else None
    check_options(
        sites is not None,
        candidates,
        open,
        km_per_day,
        cost_per_unit_km,
        time_limit,
        gap,
        max_points,
        node_limit,
    )
    notes: list[str] = []
    warnings: list[str] = []
    lane_mode = costs is not None
    cust, unlocated, left_out = prepare_customers(
        customers, need_coords=not lane_mode, skip_unlocated=skip_unlocated
    )
    no_demand = left_out.filter(pl.col("left_out") == "no_demand")["customer_id"].to_list()
    if no_demand:
        notes.append(
            about(
                CUSTOMERS_ARGUMENT,
                f"{plural(len(no_demand), 'customer')} with no positive demand (net quantity "
                f"<= 0 after returns) left out of the model, listed with no site: customer_id "
                f"{examples(no_demand)}",
                {CUSTOMERS_ARGUMENT: "customers"},
            )
        )
    if unlocated:
        warnings.append(
            about(
                CUSTOMERS_ARGUMENT,
                f"{plural(len(unlocated), 'customer')} without coordinates left out "
                f"(--skip-unlocated): customer_id {examples(unlocated)}",
                {CUSTOMERS_ARGUMENT: "customers"},
            )
        )
    # The model is built on customers and sites sorted by id (then place), so that an exact
    # tie (two customers at one ZIP with equal demand) is broken the same whatever the rows'
    # order in the export: HiGHS breaks it by column order (audit N1: Superstore shuffled
    # swapped SW-20245 and ST-20530 between NYC and ATL). The outputs keep the input's order.
    cust = cust.sort("customer_id", "lat", "lon", maintain_order=True)
    site_df, yearly = _site_frame(cust, sites, candidates, open, lane_mode, seed, notes)
    site_df, period = _fixed_cost_over_span(site_df, customers, fixed_cost_period, yearly, notes)
    site_ids = site_df["site_id"]
    site_df = site_df.sort("site_id", "lat", "lon", maintain_order=True)
    demand_total = float(cust["demand"].sum())
    _check_capacity(site_df, demand_total, open)
    policies = policies or _no_policies()
    sla_by_segment = {
        s: policies.for_segment(s).max_delivery_days for s in cust["segment"].unique().to_list()
    }
    if costs is not None:
        points = identity_points(cust)
        pairs, lanes_missing = _lane_pairs(costs, cust, site_df, notes, warnings)
    else:
        capacitated = bool(site_df["capacity"].is_not_null().any())
        points = _demand_points(cust, site_df.height, max_points, capacitated, notes, warnings)
        pairs, lanes_missing = geo_pairs(points, site_df, cost_per_unit_km), 0
    sla_points = np.array(
        [sla_by_segment[s] if sla_by_segment[s] is not None else np.inf for s in points.segment],
        dtype=float,
    )
    has_promise = bool(np.isfinite(sla_points).any())
    unnamed = unnamed_segments_note(policies, sla_by_segment)
    if unnamed is not None:
        notes.append(unnamed)
    elif not has_promise:
        notes.append(
            "no segment has a delivery promise (max_delivery_days in the config's [segments]): "
            "the sites are chosen for cost alone; set one per segment in segchain.toml, e.g. "
            '[segments."Champions"] max_delivery_days = 1'
        )
    if has_promise:
        require_distances(pairs, sla_points, cust, points)
    if not points.aggregated:
        _check_customer_fits(pairs, cust, site_df, allow_split, lane_mode)
    allowed = promise_pairs(pairs, sla_points, points.radius, km_per_day)
    model = Model(
        n=len(points.demand),
        fixed=site_df["fixed_cost"].to_numpy().astype(float),
        capacity=site_df["capacity"].to_numpy().astype(float),
        existing=site_df["existing"].to_numpy(),
        demand=points.demand,
        open=open,
        allow_split=allow_split,
        time_limit=time_limit,
        gap=gap,
        node_limit=node_limit,
        lanes_missing=bool(lanes_missing),
        aggregated=(
            f"{plural(cust.height, 'customer')} into {plural(len(points.demand), 'demand point')}"
            if points.aggregated
            else None
        ),
    )
    restricted = has_promise and allowed.height < pairs.height
    least_late: LeastLate | None = None
    try:
        plan = model.solve(allowed)
    except (InfeasibleError, NoPlanInTime) as exc:
        if not restricted:
            raise
        # Single-sourced customers under tight capacities: the solver may search past
        # its limits without finding a plan that keeps every promise, though plans serving
        # some demand late exist (any one within capacities): it said none exists, exit 1.
        unproven = isinstance(exc, NoPlanInTime)
        try:
            plan, least_late = _least_late_plan(
                model, pairs, sla_points, km_per_day, unproven=unproven
            )
        except NoPlanInTime as none_in_time:
            if not unproven:
                raise
            # Neither model found a plan in time; the plan ignoring the promises (the one
            # network compares with) is one, its late demand counted and named below.
            plan = model.solve(pairs, baseline=True)
            least_late = LeastLate(unproven=True, stopped=none_in_time.stopped, ignored=True)
            warnings.append(
                f"no plan keeping every delivery promise under {model.limits()}, nor one "
                f"serving the least demand late, was found within {model.budget()} (one may "
                "exist): this plan is the cheapest found ignoring the promises; "
                f"{model.raise_budget()} may find a better one"
            )
        allowed = pairs
    if open is None:
        # A site that serves nobody is open only if it must be (existing); with no fixed cost
        # the solver may leave a free one "open" for nothing.
        used = np.zeros(site_df.height, dtype=bool)
        used[plan.i] = True
        plan.open &= used | site_df["existing"].to_numpy()

    def assign_plan(p: Plan, usable: pl.DataFrame) -> pl.DataFrame:
        return assign(
            p,
            usable,
            cust,
            points,
            site_df,
            km_per_day,
            cost_per_unit_km,
            sla_by_segment,
            lane_mode,
        )

    assignments = assign_plan(plan, allowed)
    if least_late is not None and not least_late.ignored:
        _least_late_warnings(least_late, model, assignments, demand_total, warnings)
    baseline = baseline_total = baseline_status = baseline_gap = None
    if restricted:
        try:
            base_plan = model.solve(pairs, baseline=True)
        except NoPlanInTime:
            # The user's plan was found: it is written; only the comparison is missing.
            baseline_status = BASELINE_UNFINISHED
            warnings.append(_unfinished_baseline(model))
        else:
            baseline_status = base_plan.status
            baseline_gap = base_plan.gap
            baseline = assign_plan(base_plan, pairs)
            baseline_total = float(
                site_df["fixed_cost"].to_numpy()[base_plan.open].sum()
                + baseline["transport_cost"].sum()
            )
    fixed = float(site_df["fixed_cost"].to_numpy()[plan.open].sum())
    transport = float(assignments["transport_cost"].sum())
    promise_status = promise_cost_status(
        {
            "status": plan.status,
            "total_cost": fixed + transport,
            "baseline_status": baseline_status,
            "baseline_total_cost": baseline_total,
        }
    )
    if promise_status in (PROMISE_COST_CUT_SHORT, PROMISE_COST_UNKNOWN):
        assert baseline_total is not None and baseline_status is not None
        assert baseline_gap is not None
        warnings.append(
            _comparison_cut_short(
                model,
                (plan.status, plan.gap),
                (baseline_status, baseline_gap),
                fixed + transport - baseline_total,
            )
        )
    late = assignments.filter(~pl.col("sla_met"))["customer_id"].unique()
    missed = late.len()
    late_cust = cust.filter(pl.col("customer_id").is_in(late.implode()))
    reach = late_reach(
        late_cust,
        customer_lanes(
            late_cust,
            cust,
            site_df,
            pairs,
            lane_mode=lane_mode,
            cost_per_unit_km=cost_per_unit_km,
        ),
        site_df,
        plan.open,
        assignments,
        sla_by_segment,
        km_per_day,
    )
    _plan_warnings(
        plan,
        model,
        missed,
        least_late,
        warnings,
        reach=reach,
        aggregated=points.aggregated,
        lanes=lane_mode,
    )
    bound = _aggregation_bound(points, plan, fixed + transport, cost_per_unit_km, notes)
    totals = NetworkTotals(
        fixed_cost=fixed,
        transport_cost=transport,
        total_cost=fixed + transport,
        sites_opened=int(plan.open.sum()),
        sites=site_df.height,
        customers=cust.height,
        demand=demand_total,
        status=plan.status,
        mip_gap=plan.gap,
        promise_missed=int(missed),
        unlocated=len(unlocated),
        lanes_missing=int(lanes_missing),
        demand_points=len(points.demand),
        aggregation_bound=bound,
        baseline_total_cost=baseline_total,
        baseline_status=baseline_status,
        baseline_mip_gap=baseline_gap,
        promise_cost_status=promise_status,
        unlocated_ids=tuple(unlocated),
        no_demand=len(no_demand),
        no_demand_ids=tuple(no_demand),
    )
    sites_out = in_order(sites_table(site_df, plan.open, assignments), "site_id", site_ids)
    distances = unknown_distances(assignments)
    if distances:
        notes.append(distances)
    return NetworkResult(
        assignments=with_left_out(assignments, left_out, customers),
        sites=sites_out,
        totals=totals,
        promise=promise_table(assignments, baseline, ranks=segment_ranks(customers)),
        notes=notes,
        warnings=warnings,
        inputs={"customers": customers.height, "sites": sites_out.height},
        fixed_cost_period=period,
    )


def _comparison_cut_short(
    model: Model, main: tuple[str, float], base: tuple[str, float], extra: float
) -> str:
    """What the promise comparison is worth when either plan stopped at a solver limit (each
    as status, gap), ``extra`` the plan's cost above the plan without promises. It was printed
    as a cost without a word, -0.98 with the plan without promises at --time-limit 0.5."""

    def named(status: str) -> str:
        # A solve can end on HiGHS's own limits with no --time-limit given.
        if status == "time_limit" and model.time_limit is None:
            return "its time limit"
        return model.limit_named(status)

    stopped = [
        f"the plan {which} promises at {named(status)}, within {gap:.4%} of its optimum"
        for which, (status, gap) in (("without", base), ("with", main))
        if status != "optimal"
    ]
    options = dict.fromkeys(model.option_of(s) for s, _ in (base, main) if s != "optimal")
    fix = f"raise {' or '.join(options)}" if options else "lower --gap"
    cut = f"; the solver stopped {', and '.join(stopped)}" if stopped else ""
    if extra < 0:
        why = (
            "a plan without promises cut short"
            if base[0] != "optimal"
            else "the solver's --gap (each plan proven only within it)"
        )
        return (
            "what the delivery promises cost is unknown: the plan without them found costs "
            f"{-extra:,.2f} more than the plan with them, which only {why} can give (the plan "
            f"with promises is one without them too){cut}; costs leaves delivery_promise_* "
            f"empty (totals promise_cost_status '{PROMISE_COST_UNKNOWN}'); {fix} to know it"
        )
    return (
        "what the delivery promises cost (the *_no_promise columns, the line below and costs' "
        f"delivery_promise_*) is an estimate, not proven{cut} (totals promise_cost_status "
        f"'{PROMISE_COST_CUT_SHORT}'); {fix} for a proven figure"
    )


def _unfinished_baseline(model: Model) -> str:
    """The comparison plan found nothing within the solver's limits: what is written, what is
    not."""
    return (
        "the comparison plan without delivery promises (what the promises cost) was not "
        f"finished: the solver found no such plan within {model.budget()}. The plan with "
        "promises is written; its comparison is missing: no *_no_promise columns below, no "
        f"baseline in the outputs' metadata (totals baseline_status '{BASELINE_UNFINISHED}'), "
        f"and costs leaves delivery_promise_* empty; {model.raise_budget()} may get it"
    )


def _no_policies() -> PolicyTable:
    from segchain.policy import PolicyTable

    return PolicyTable()


def _fixed_cost_over_span(
    site_df: pl.DataFrame,
    customers: pl.DataFrame,
    given: str | None,
    yearly: bool,
    notes: list[str],
) -> tuple[pl.DataFrame, dict[str, object]]:
    """The sites with ``fixed_cost`` over the span of the orders behind the demand, which the
    transport it is weighed against covers, and the period the costs were given for (the
    outputs' ``fixed_cost_period``). A year's cost is kept as ``annual_fixed_cost`` and taken
    x span days / DAYS_PER_YEAR: set whole against 1,458 days of Superstore's transport, 54,000
    a year weighed a quarter of what it costs over them (audit C C3, session 66).

    Raises:
        UsageError: the period given is ``orders`` but the header says a year.
    """
    if yearly and given == DEFAULT_FIXED_COST_PERIOD:
        raise UsageError(
            "--fixed-cost-period orders, but --sites gives the fixed costs per year "
            f"({ANNUAL_FIXED_COST} or a header that says a year)",
            hint="drop --fixed-cost-period (the header says the period), or give each site's "
            "cost over the orders' days as fixed_cost",
        )
    period = "year" if yearly else given or DEFAULT_FIXED_COST_PERIOD
    if period != "year" or not bool((site_df["fixed_cost"] > 0).any()):
        # No fixed cost to take over a span (none given, or --candidates): the period is said.
        return site_df, {"period": period}
    span = orders_span(customers)
    years = span["days"] / DAYS_PER_YEAR
    why = f"{ANNUAL_FIXED_COST} in --sites" if yearly else "--fixed-cost-period year"
    notes.append(
        f"the sites' fixed costs are a year's ({why}): taken over the "
        f"{span['days']:,} days the orders behind the demand cover ({span['first']} to "
        f"{span['last']}, {years:.2f} years), as the transport they are weighed against is; "
        f"--sites-out gives both, fixed_cost over those days and {ANNUAL_FIXED_COST}"
    )
    site_df = site_df.with_columns(
        pl.col("fixed_cost").alias(ANNUAL_FIXED_COST),
        (pl.col("fixed_cost") * years).alias("fixed_cost"),
    )
    refuse_span_costs_beyond(site_df, span)
    return site_df, {"period": period, **span}


def _site_frame(
    cust: pl.DataFrame,
    sites: pl.DataFrame | None,
    candidates: int | None,
    open: int | None,
    lane_mode: bool,
    seed: int,
    notes: list[str],
) -> tuple[pl.DataFrame, bool]:
    """The checked sites (or the proposed candidates), consistent with ``open``, and whether
    their fixed costs were given per year (``inputs.prepare_sites``)."""
    yearly = False
    if candidates is not None:
        if lane_mode:
            raise UsageError("--candidates cannot be used with --costs (new sites have no lanes)")
        site_df = candidate_sites(cust, candidates, seed=seed)
        from segchain.geo import nearest_city

        # A proposed site is a point: name its nearest town so a planner can place it.
        site_df = site_df.with_columns(
            city=pl.Series(
                [f"near {c}" for c in nearest_city(site_df["lat"], site_df["lon"])],
                dtype=pl.String,
            )
        )
        if open is None:
            notes.append(
                f"{plural(candidates, 'candidate site')} proposed, with no fixed cost: "
                "without --open K every candidate that is some customer's nearest is opened"
            )
    else:
        assert sites is not None
        site_df, yearly = prepare_sites(sites, need_coords=not lane_mode)
    m = site_df.height
    if open is not None and open > m:
        if candidates is not None:
            raise UsageError(
                f"--open {open} is more than the {plural(m, 'candidate site')} that "
                f"--candidates {candidates} proposes; use --open {m} or less, or ask for "
                f"--candidates {open}"
            )
        raise UsageError(
            f"--open {open} is more than the {plural(m, 'site')} in --sites; use --open {m} "
            "or less, or add sites to the file"
        )
    n_existing = int(site_df["existing"].sum())
    if open is not None and open < n_existing:
        raise UsageError(
            f"--open {open} is fewer than the {plural(n_existing, 'existing site')} in --sites "
            f"(always open); use --open {n_existing} or more"
        )
    return site_df, yearly


def _check_capacity(site_df: pl.DataFrame, demand_total: float, open: int | None) -> None:
    """Before solving: the sites that may open must hold the whole demand (splitting or not)."""
    cap = np.nan_to_num(site_df["capacity"].to_numpy().astype(float), nan=np.inf)
    short = demand_total * (1 - 1e-12)
    if cap.sum() < short:
        # Named as network's other messages about --sites are: the CLI adds the file.
        raise InfeasibleError(
            f"{SITES_OPTION}: total capacity {cap.sum():,.6g} is below total demand "
            f"{demand_total:,.6g}: "
            f"short by {demand_total - cap.sum():,.6g}",
            hint="add sites or capacity (sites.capacity), or check the demand units",
        )
    if open is None:
        return
    # With --open K the most that can be open: the existing sites (always open), then the
    # largest others.
    existing = site_df["existing"].to_numpy()
    others = np.flatnonzero(~existing)
    chosen = np.concatenate(
        [np.flatnonzero(existing), others[np.argsort(-cap[others], kind="stable")]]
    )[:open]
    best = cap[chosen].sum()
    if best < short:
        forced = "; existing sites are always open" if existing.any() else ""
        raise InfeasibleError(
            f"{SITES_OPTION}: with --open {open} at most {best:,.6g} of capacity can be open "
            "(site_id "
            f"{examples(site_df['site_id'].to_numpy()[chosen])}{forced}), below total demand "
            f"{demand_total:,.6g}: short by {demand_total - best:,.6g}; splitting customers "
            "over sites (--allow-split) cannot help",
            hint="raise --open, add capacity (sites.capacity), or check the demand units",
        )


def _check_customer_fits(
    pairs: pl.DataFrame,
    cust: pl.DataFrame,
    site_df: pl.DataFrame,
    allow_split: bool,
    lanes: bool,
) -> None:
    """Before solving: each customer's demand fits in the sites it may use (one of them, when
    single-sourced). ``pairs`` are per customer (no aggregation)."""
    cap = np.nan_to_num(site_df["capacity"].to_numpy().astype(float), nan=np.inf)
    j, i = pairs["j"].to_numpy(), pairs["i"].to_numpy()
    demand = cust["demand"].to_numpy()
    room = np.zeros(cust.height)
    if allow_split:
        np.add.at(room, j, cap[i])
    else:
        np.maximum.at(room, j, cap[i])
    bad = np.flatnonzero(demand > room * (1 + 1e-12))
    if not bad.size:
        return
    ids = cust["customer_id"].to_numpy()
    first = bad[0]
    shown = (
        f"{examples(ids[bad])} (first: demand {demand[first]:,.6g}, "
        f"{'total' if allow_split else 'largest'} capacity {room[first]:,.6g})"
    )
    if allow_split:
        raise InfeasibleError(
            f"{plural(bad.size, 'customer')} {agree(bad.size, 'needs', 'need')} more than all "
            f"the sites {agree(bad.size, 'it has', 'they have')} a lane to can "
            f"hold (demand > their total capacity): customer_id {shown}",
            hint="add lanes for them to --costs, or raise those sites' capacity",
        )
    raise InfeasibleError(
        f"{plural(bad.size, 'customer')} {agree(bad.size, 'needs', 'need')} more than any "
        f"single site {agree(bad.size, 'it', 'they')} may use can hold "
        f"(demand > largest capacity): customer_id {shown}",
        hint="let customers be split over sites with --allow-split, or raise capacities"
        + (", or add lanes to --costs" if lanes else ""),
    )


def _lane_pairs(
    costs: pl.DataFrame,
    cust: pl.DataFrame,
    site_df: pl.DataFrame,
    notes: list[str],
    warnings: list[str],
) -> tuple[pl.DataFrame, int]:
    pairs, lanes_missing, unknown = lane_pairs(costs, cust, site_df)
    if unknown:
        # Counted alone, the lanes could not be found in the file (a typo'd site_id, another
        # export's customers): a few are named, as other messages name rows. A warning, as
        # rows left out are: a site spelt otherwise lost every lane without a word under -q.
        lanes_unknown = len(unknown)
        warnings.append(
            TableMessage(
                f"{plural(lanes_unknown, 'lane')} in {{{LANES_OPTION}}} "
                f"{agree(lanes_unknown, 'names', 'name')} a site_id or customer_id not in the "
                f"inputs and {agree(lanes_unknown, 'was', 'were')} not used "
                f"(site_id@customer_id {examples(unknown)})",
                {LANES_OPTION: LANES_OPTION},
            )
        )
    if lanes_missing:
        notes.append(
            TableMessage(
                f"{plural(lanes_missing, 'customer-site pair')} "
                f"{'has' if lanes_missing == 1 else 'have'} no lane in {{{LANES_OPTION}}} and "
                f"{'is' if lanes_missing == 1 else 'are'} not allowed",
                {LANES_OPTION: LANES_OPTION},
            )
        )
    return pairs, lanes_missing


def _demand_points(
    cust: pl.DataFrame,
    m: int,
    max_points: int | None,
    capacitated: bool,
    notes: list[str],
    warnings: list[str],
) -> Points:
    """The customers, aggregated into demand points when there are too many pairs (fewer with
    capacities: ``CAPACITATED_MAX_PAIRS``)."""
    pairs = CAPACITATED_MAX_PAIRS if capacitated else MAX_PAIRS
    limit = max_points or max(1, pairs // m)
    points = aggregate_points(cust, limit) if cust.height > limit else identity_points(cust)
    if points.aggregated:
        default = (
            ""
            if max_points is not None
            # The default decides how close the plan is to the customers and how long the
            # solve takes: say which it was and how to change it (a run under cron that never
            # ended, 80,573 points at 12 capacitated sites, said nothing of either).
            else f"; by default at most {limit:,} points ({pairs:,} point x site pairs at "
            f"{plural(m, 'site')}{', with capacities' if capacitated else ''}): "
            "--max-points N sets another number (more points: a plan closer to each customer, "
            "a longer solve)"
        )
        notes.append(
            f"{cust.height:,} customers aggregated into {len(points.demand):,} demand points "
            f"(same segment, largest radius {points.radius.max():,.1f} km){default}"
        )
    if max_points is not None and len(points.demand) > max_points:
        # A point holds customers of one segment (each keeps its promise): at least one each.
        warnings.append(
            f"--max-points {max_points:,}: {len(points.demand):,} demand points, one per segment "
            f"at least ({cust.get_column('segment').n_unique():,} segments)"
        )
    return points


@dataclasses.dataclass(frozen=True)
class LeastLate:
    """How the plan serving the least demand late was found, when no plan keeping every promise
    was.

    ``unproven``: none keeping them all was found within the solver's limits (one may exist);
    ``stopped``: the limit ('time_limit', 'node_limit') that cut the search for the least late
    demand short, None when it was proven; ``cheapest``: the cheapest of the plans serving that
    least demand late was found; ``ignored``: not even one was found, the plan written ignores
    the promises.
    """

    unproven: bool
    stopped: str | None
    cheapest: bool = True
    ignored: bool = False


def _least_late_plan(
    model: Model,
    pairs: pl.DataFrame,
    sla_points: np.ndarray,
    km_per_day: float,
    *,
    unproven: bool = False,
) -> tuple[Plan, LeastLate]:
    """When --open K or capacities cannot keep every promise: serve as little demand late as
    possible, then at least cost among such plans. ``unproven``: no plan keeping every promise
    was found within --time-limit, which does not say none exists."""
    late = late_demand(pairs, sla_points, km_per_day, model.demand)
    least = model.solve(pairs, late=late)
    cheapest = True
    try:
        plan = model.solve(pairs, late=late, late_limit=loosened(least.objective))
    except NoPlanInTime as exc:
        cheapest = False
        # The plans as little late as the least are few, and the solver may find none of them
        # again within --time-limit (40 s on 400 customers at 12 sites of tight capacity,
        # after 19 s for the least): it said no plan exists, exit 1. The least is one.
        plan = dataclasses.replace(least, status=exc.stopped, gap=1.0)
    stopped = None if least.status == "optimal" else least.status
    return plan, LeastLate(unproven=unproven, stopped=stopped, cheapest=cheapest)


def _least_late_warnings(
    least_late: LeastLate,
    model: Model,
    assignments: pl.DataFrame,
    demand_total: float,
    warnings: list[str],
) -> None:
    """What the least-late plan is, with the late demand of the plan written: the least-late
    solve's own figure was said (258,899 of 364,931 units) of a plan that serves 86,918 late,
    the cost solve after it having found one that serves less late within its bound."""
    late = float(
        assignments.filter(~pl.col("sla_met"))
        .select((pl.col("demand") * pl.col("share")).sum())
        .item()
        or 0.0
    )
    found = (
        "the least demand late it found"
        if least_late.stopped is not None
        else "the least demand possible late"
    )
    limits = model.limits()
    points = ""
    if model.aggregated is not None:
        # The least is the demand points' (each served by one site): customer by customer
        # fewer may be late. Superstore at --max-points 60 was said to serve 'the least demand
        # possible late (5,715)' 'under the capacities', which allow 386.
        found = found.replace(" possible", "") + " for those points"
        limits += f" and the aggregation of {model.aggregated} (--max-points)"
        customers = assignments["customer_id"].n_unique()
        points = (
            ", which may be more than the least possible customer by customer; raise "
            f"--max-points ({customers:,}, the customers: none aggregated) for that figure"
        )
    served = (
        f"{found} ({format_number(late, UNITS)} of {format_number(demand_total, UNITS)})" + points
    )
    if least_late.unproven:
        warnings.append(
            f"no plan keeping every delivery promise under {limits} was found within "
            f"{model.budget()} (one may exist): this plan serves {served}; "
            f"{model.raise_budget()} may find one that keeps them all"
        )
    else:
        warnings.append(
            f"no plan keeps every delivery promise under {limits}: this plan serves {served}"
        )
    if not least_late.cheapest:
        warnings.append(
            "the cheapest of the plans serving that least demand late was not found within "
            f"{model.budget()}: this plan's cost is not minimised; {model.raise_budget()} "
            "may find a cheaper one"
        )


def _plan_warnings(
    plan: Plan,
    model: Model,
    missed: int,
    least_late: LeastLate | None,
    warnings: list[str],
    *,
    reach: LateReach,
    aggregated: bool = False,
    lanes: bool = False,
) -> None:
    """``least_late``: how the plan serving the least demand late was found (None: every
    promise that can be kept is). ``reach``: of the customers served late, those no site
    reaches in time from where they are, said apart from those late because of the capacities
    or --open K, or because the customers were aggregated into demand points (each served by
    one site, the promise checked at its centre): those had been said to be out of any site's
    reach (Superstore with --max-points 60: 13 customers, each within 2 days of some site)."""
    if missed:
        why = late_reason(
            missed,
            reach,
            _no_better_choice(model, least_late) if least_late is not None else None,
            aggregated=aggregated,
            lanes=lanes,
        )
        warnings.append(
            f"{plural(missed, 'customer')} {agree(missed, 'is', 'are')} served beyond "
            f"{agree(missed, 'its', 'their')} delivery promise "
            f"(sla_met = false): {why}"
        )
    if plan.status == "node_limit":
        warnings.append(
            f"the solver stopped at {model.limit_named('node_limit')}: the plan is within "
            f"{plan.gap:.4%} of optimal (the same command stops at the same plan); raise "
            "--node-limit (0: no limit) for a plan proven closer to optimal"
        )
    elif plan.status != "optimal":
        warnings.append(
            f"the solver stopped at its time limit: the plan is within {plan.gap:.4%} of "
            "optimal, and where it stopped depends on this machine's speed and load, so a rerun "
            "of the same command may open other sites; for a plan that reruns the same, raise "
            "--time-limit until the solve ends by --gap or --node-limit (status optimal or "
            "node_limit)"
        )


def _no_better_choice(model: Model, least_late: LeastLate) -> str:
    """Why the late customers of a least-late plan are late: the capacities (or --open K) allow
    no better, only when the least late demand was proven; else the search was cut short. A
    plan stopped at --time-limit 0.5 said 'no better choice' of 43 late customers, at 2 s of 8."""
    if least_late.stopped is None:
        return f"with {model.limits()} there is no better choice" + (
            " of sites for the demand points" if model.aggregated is not None else ""
        )
    what = (
        "a plan serving the least demand late was not found"
        if least_late.ignored
        else "the search for the plan serving the least demand late was cut short"
    )
    return (
        f"{what} at {model.limit_named(least_late.stopped)}, so this plan is the best found, "
        f"not proven: fewer may be possible under {model.limits()}; raise "
        f"{model.option_of(least_late.stopped)} to search further"
    )


def _aggregation_bound(
    points: Points, plan: Plan, cost: float, cost_per_unit_km: float, notes: list[str]
) -> float:
    """How much more the plan may cost than the best customer-level plan (0 unaggregated)."""
    if not points.aggregated:
        return 0.0
    # Serving a member from site i costs within demand x (distance to its point) of what the
    # point model charges (triangle inequality), so no customer-level plan under the same site
    # restrictions beats dual_bound - B; ours costs exactly fixed + transport.
    spread = cost_per_unit_km * points.bound
    bound = max(0.0, cost - (plan.dual_bound - spread))
    notes.append(
        f"aggregation error bound {bound:,.2f} ({bound / max(cost, EPS):.3%} of the total cost)"
    )
    return bound
