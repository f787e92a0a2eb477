"""What to do now: the full reorder list, the sites to open or close and why, and the segments
whose promise the plan does not keep. The report's first section: the plan, before the figures.

Data preparation only reads the stage outputs (policy, the per-segment stock table, sites,
assignments, segments, orders); nothing is re-planned here. The one estimate is which delivery
promise needs a site: a customer needs its site when no other open site is within its promise by
the network's own rule (great-circle km / km_per_day, from the network's recorded options).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import polars as pl

from segchain.formatting import agree, plural
from segchain.geo import haversine_km
from segchain.high_levels import LEVEL_WARN_FACTOR, level_checks, named
from segchain.report.model import (
    INT,
    MONEY,
    NUM,
    PCT,
    UNITS,
    Block,
    Headline,
    Note,
    Section,
    TableBlock,
    finite,
    format_number,
)
from segchain.report.sections.common import (
    Colours,
    Meta,
    Tables,
    count,
    distinct_filled,
    filled,
    has,
    lacks,
    mean_note,
    money,
    noted,
    num,
    on_time,
    order_frame,
    params_of,
    pct,
    segment_order,
    truth,
    undecided_sites,
    unknown_note,
    whole,
    with_unknowns,
)
from segchain.report.sections.heldout import HeldOutCheck, held_out_check
from segchain.report.sections.stock_heldout import (
    WELL_BELOW,
    PlanHeldOut,
    broken_promise,
    plan_held_out,
    scored_promises,
    short_promises,
)
from segchain.schema import FALLBACK_MODEL, cost_basis

REORDER_SHOWN = 15  # reorder lines shown in the page; the full list is one click away
# What an order's value is reckoned at, by stock's unit_cost_source (as the Inventory section).
VALUE_AT = {"items": "unit cost", "price": "selling price", "default": "no cost: units only"}
LOW_UTILISATION = 0.05  # an open site below this utilisation must have a promise behind it
SERVICE_TOLERANCE = 0.0005  # expected service this close to the target counts as kept
STOCK_SEGMENT_KEYS = ("sku", "segment", "demand_share")
CHECK = "check"  # the reorder list's mark on a level its forecast does not explain
# The mark on such a point forecast under 1 unit a year: its level in weeks would read billions.
TINY_MARK = "forecast under 1 unit a year"


# ---- data: the reorder list


def descriptions(tables: Tables) -> pl.DataFrame | None:
    """One description per sku: the policy's, else the one the order lines use most often
    (ties: alphabetically first), so that a list of codes reads as products."""
    policy = tables.get("policy")
    if has(policy, "sku", "description"):
        assert policy is not None
        return (
            policy.select(pl.col("sku").cast(pl.String), pl.col("description").cast(pl.String))
            .drop_nulls()
            .unique("sku", keep="first", maintain_order=True)
        )
    orders = tables.get("orders")
    if not has(orders, "sku", "description"):
        return None
    assert orders is not None
    return (
        orders.select(pl.col("sku").cast(pl.String), pl.col("description").cast(pl.String))
        .drop_nulls()
        .filter(pl.col("description").str.strip_chars() != "")
        .group_by("sku", "description")
        .len()
        .sort(["sku", "len", "description"], descending=[False, True, False])
        .unique("sku", keep="first", maintain_order=True)
        .drop("len")
    )


def most_affected(tables: Tables, keys: list[str]) -> pl.DataFrame | None:
    """Per stocking point, the segment buying the largest share of its demand (ties: the higher
    priority, then alphabetically) and how many segments buy it, from stock's per-segment
    table."""
    segs = tables.get("stock_segments")
    if not has(segs, *STOCK_SEGMENT_KEYS) or not all(
        segs is not None and k in segs.columns for k in keys
    ):
        return None
    assert segs is not None
    prio = num("priority") if "priority" in segs.columns else pl.lit(None, pl.Float64)
    ranked = segs.select(
        *[pl.col(k).cast(pl.String) for k in keys],
        pl.col("segment").cast(pl.String),
        num("demand_share").fill_null(0.0).alias("_share"),
        prio.alias("_prio"),
    )
    buyers = ranked.filter(pl.col("_share") > 0).group_by(keys).len().rename({"len": "segments"})
    top = (
        ranked.sort(
            [*keys, "_share", "_prio", "segment"],
            descending=[*([False] * len(keys)), True, False, False],
            nulls_last=True,
        )
        .unique(keys, keep="first", maintain_order=True)
        .select(*keys, pl.col("segment").alias("segment_most_affected"))
    )
    return top.join(buyers, on=keys, how="left")


def reorder_list(tables: Tables) -> pl.DataFrame | None:
    """Every stocking point to order now (order_now > 0): sku (and site), description,
    quantity, its value at unit cost, on hand, reorder point, the segment most affected.
    Largest value first (largest quantity when there is no cost), then sku and site."""
    policy = tables.get("policy")
    if not has(policy, "sku", "order_now"):
        return None
    assert policy is not None
    keys = ["sku"] + (["site"] if "site" in policy.columns else [])
    due = policy.filter(num("order_now") > 0).with_columns(
        *[pl.col(k).cast(pl.String) for k in keys]
    )
    cols: list[pl.Expr] = [*[pl.col(k) for k in keys], num("order_now").alias("order_now")]
    basis = cost_basis(due)
    if "unit_cost" in due.columns and set(basis) != {"default"}:
        # A point without a cost (unit_cost_source default) has unit cost 1: its "value" would
        # be its units, read as money. It is left unvalued; the headline says how many.
        costed = pl.col("unit_cost_source").cast(pl.String) != "default" if basis else pl.lit(True)
        value = num("order_now") * num("unit_cost")
        cols.append(pl.when(costed.fill_null(True)).then(value).alias("order_value"))
        if len(basis) > 1:
            cols.append(
                pl.col("unit_cost_source")
                .cast(pl.String)
                .replace_strict(VALUE_AT, default=None)
                .alias("value_at")
            )
    for c in ("on_hand", "reorder_point"):
        if c in due.columns:
            cols.append(num(c).alias(c))
    if "segment" in due.columns:
        cols.append(pl.col("segment").cast(pl.String).alias("segment_most_affected"))
    out = due.select(cols)
    check = level_check(due)
    if check is not None:
        out = out.with_columns(check)
    found = descriptions(tables)
    if found is not None:
        out = out.join(found, on="sku", how="left")
    affected = most_affected(tables, keys)
    if affected is not None:
        # The per-segment table's answer, else (a point it does not list) the policy's segment.
        out = out.join(affected, on=keys, how="left", suffix="_split")
        if "segment_most_affected_split" in out.columns:
            out = out.with_columns(
                pl.coalesce("segment_most_affected_split", "segment_most_affected").alias(
                    "segment_most_affected"
                )
            ).drop("segment_most_affected_split")
    by = "order_value" if "order_value" in out.columns else "order_now"
    out = out.sort([by, *keys], descending=[True, *([False] * len(keys))], nulls_last=True)
    first = [
        *keys,
        "description",
        "order_now",
        "order_value",
        "value_at",
        CHECK,
        "segment_most_affected",
    ]
    return out.select(
        [c for c in first if c in out.columns] + [c for c in out.columns if c not in first]
    )


def level_check(due: pl.DataFrame) -> pl.Series | None:
    """Per point to order (``due``, the policy's rows), what to check before ordering it ("" where
    nothing): its level in weeks of forecast demand where it is over LEVEL_WARN_FACTOR x its
    forecast demand over lead time plus review plus one order (``level = 811 weeks``), or
    TINY_MARK where such a point is forecast under 1 unit a year (any level is then years of its
    demand: stock counts these apart, "not counted: 2 points forecast under 1 unit a year"). The
    points stock warned of, by its own rule on the policy's own columns (so a CSV policy is
    marked too). None when no point is, or the policy lacks a column the rule reads."""
    checks = level_checks(due)
    if checks is None or not checks.select(pl.col("high").fill_null(False).any()).item():
        return None
    marks = checks.select(named().alias("named"), pl.col("high").fill_null(False), "weeks")
    return pl.Series(
        CHECK,
        [
            f"level = {format_number(weeks, INT)} weeks" if flagged else TINY_MARK if high else ""
            for flagged, high, weeks in marks.iter_rows()
        ],
        dtype=pl.String,
    )


# ---- data: sites


def _located(tables: Tables, asg: pl.DataFrame) -> pl.DataFrame | None:
    if has(asg, "lat", "lon"):
        return asg
    seg = tables.get("segments")
    if not has(seg, "customer_id", "lat", "lon") or "customer_id" not in asg.columns:
        return None
    assert seg is not None
    return asg.join(
        seg.select(pl.col("customer_id").cast(pl.String), "lat", "lon"),
        on="customer_id",
        how="left",
    )


def _km_per_day(meta: Meta) -> float | None:
    km = finite(params_of(meta, "assignments").get("km_per_day")) or finite(
        params_of(meta, "sites").get("km_per_day")
    )
    return km if km and km > 0 else None


def needed_by_promise(
    tables: Tables, meta: Meta, asg: pl.DataFrame | None, sites: pl.DataFrame
) -> pl.DataFrame | str:
    """Per open site and segment: customers who have no other open site within their promise
    (so the site is needed to keep it), with that promise in days. Where the inputs cannot
    say, what is missing (one note had listed every possible cause: "no promise, coordinates
    or km_per_day", leaving the user to find which)."""
    if asg is None:
        return "no assignments table (network's -o)"
    if "sla_days" not in asg.columns:
        return "no delivery promise: the assignments have no sla_days (give network promises)"
    missing = lacks(asg, ("customer_id", "site_id", "segment"))
    if missing:
        return f"the assignments have no {', '.join(missing)}"
    if not asg.select(num("sla_days").is_not_null().any()).item():
        # Network without a max_delivery_days writes every sla_days empty: no promise to
        # check, whatever the coordinates (it said "no customer has both a promise (sla_days)
        # and coordinates" of Online Retail, every customer located), as the network
        # section's Delivery promise headline says it.
        return "no delivery promise set (no max_delivery_days in the config)"
    if not has(sites, "site_id", "lat", "lon", "open"):
        return "the sites table has no coordinates (lat, lon)"
    km_per_day = _km_per_day(meta)
    if km_per_day is None:
        return "network's km_per_day is unknown (its metadata does not give it)"
    located = _located(tables, asg)
    if located is None:
        return (
            "the customers have no coordinates (give segment --geo, or the segments table "
            "with lat and lon)"
        )
    rows = located.filter(
        num("sla_days").is_not_null() & num("lat").is_not_null() & num("lon").is_not_null()
    ).with_columns(pl.col("site_id").cast(pl.String), pl.col("segment").cast(pl.String))
    opened = sites.filter(truth("open") & num("lat").is_not_null()).with_columns(
        pl.col("site_id").cast(pl.String)
    )
    if rows.height == 0:
        return "no customer has both a promise (sla_days) and coordinates"
    if opened.height == 0:
        return "no open site has coordinates"
    # A site or lane whose site_id is empty or blank is no site's: such a lane is owned by no
    # site (None == None matched it to a site without an id), while such an open site still
    # reaches the customers near it.
    named = opened.select("site_id", filled("site_id").alias("_named"))
    ids = [sid if ok else None for sid, ok in named.iter_rows()]
    lat = rows.select(num("lat")).to_series().to_numpy()[:, None]
    lon = rows.select(num("lon")).to_series().to_numpy()[:, None]
    slat = opened.select(num("lat")).to_series().to_numpy()[None, :]
    slon = opened.select(num("lon")).to_series().to_numpy()[None, :]
    transit = haversine_km(lat, lon, slat, slon) / km_per_day
    sla = rows.select(num("sla_days")).to_series().to_numpy()[:, None]
    reach = transit <= sla * (1 + 1e-9) + 1e-9  # the network's within_promise tolerance
    own = np.array(
        [[sid is not None and sid == s for s in ids] for sid in rows["site_id"].to_list()],
        dtype=bool,
    ).reshape(rows.height, len(ids))
    alone = reach[np.arange(rows.height), own.argmax(axis=1)] & own.any(axis=1)
    others = (reach & ~own).any(axis=1)
    needs = rows.with_columns(pl.Series("_needs", alone & ~others))
    # A lane without a customer id is no customer (not one more, as n_unique counted it), but
    # its demand needs the site as much: counted apart, as the lanes whose customer is unknown.
    return (
        needs.filter(pl.col("_needs"))
        .group_by("site_id", "segment")
        .agg(
            distinct_filled("customer_id").fill_null(0).alias("customers"),
            (~filled("customer_id")).sum().alias("unknown_lanes"),
            num("sla_days").min().alias("sla_days"),
        )
        .sort("site_id", "segment")
    )


def free_site(row: dict, open_k: Any = None) -> str:
    """What to add to the reason of an open site that costs nothing to run in the plan (its
    fixed_cost 0, as network's --candidates propose them): at no fixed cost a site lowers the
    total cost wherever it is some customer's nearest (Online Retail as the README runs it:
    a site near Griffith, AU, for 9 customers), so its opening says nothing of whether it
    pays; else "". With ``--open K`` (``open_k``, network's params) exactly K are open, where
    they serve at the least transport: it had said "opened wherever it is some customers'
    nearest" and to give --open, which the run had given."""
    if finite(row.get("fixed_cost")) != 0:
        return ""
    k = whole(open_k)
    if k:
        which = "the one site" if k == 1 else f"one of the {count(k)} sites"
        return (
            f", at no fixed cost: {which} that --open {k} opens, placed where "
            f"{agree(k, 'it serves', 'they serve')} the customers at the least transport; give "
            "the sites' fixed costs (network --sites) to know whether it pays"
        )
    return (
        ", at no fixed cost: a site that costs nothing to run is opened wherever it is some "
        "customers' nearest; give the sites' fixed costs (network --sites) or the number to "
        "open (--open) before opening it"
    )


def site_decisions(
    tables: Tables, meta: Meta, order: list[str | None]
) -> tuple[pl.DataFrame, str] | None:
    """One row per site: open or not (open / keep / close when the sites say which exist),
    customers, utilisation, and why: the segments whose promise needs it, else that no promise
    does (cost alone), flagged when it is open at a low utilisation. The text says what
    kept the promises from being checked ("" when they were)."""
    sites = tables.get("sites")
    if not has(sites, "site_id", "open"):
        return None
    assert sites is not None
    sites = sites.with_columns(truth(c) for c in ("open", "existing") if c in sites.columns)
    asg = tables.get("assignments")
    found = needed_by_promise(
        tables,
        meta,
        asg.filter(pl.col("left_out").is_null())
        if asg is not None and "left_out" in asg.columns
        else asg,
        sites,
    )
    needed, unchecked = (None, found) if isinstance(found, str) else (found, "")
    kept = delivery_kept(asg) if asg is not None else None
    all_kept = kept is not None and bool((kept["within_promise"].fill_null(0.0) >= 1 - 1e-9).all())
    position = {name: i for i, name in enumerate(order)}
    why_by_site: dict[str, list[str]] = {}
    if needed is not None:
        ranked = needed.with_columns(
            pl.col("segment")
            .map_elements(lambda s: position.get(s, len(order)), return_dtype=pl.Int64)
            .alias("_pos")
        ).sort("site_id", "_pos", "segment")
        for sid, seg, n, lanes, days in ranked.select(
            "site_id", "segment", "customers", "unknown_lanes", "sla_days"
        ).iter_rows():
            who = [f"{count(n)} customer{'s' * (n != 1)}"] if n else []
            if lanes:
                whose = "lane's" if lanes == 1 else "lanes'"
                who.append(f"{count(lanes)} {whose} customer unknown")
            why_by_site.setdefault(sid, []).append(
                f"{seg}, {format_number(days, NUM)} day{'s' * (days != 1)} ({'; '.join(who)})"
            )
    out = []
    existing = "existing" in sites.columns
    open_k = (params_of(meta, "assignments") or params_of(meta, "sites")).get("open")
    named = sites.with_columns(filled("site_id").alias("_named"))
    for row in named.sort("site_id", nulls_last=True).iter_rows(named=True):
        # An empty or blank site_id is unknown (–), as in the network's Sites table: not 'None'.
        sid = str(row["site_id"]) if row["_named"] else None
        is_open = bool(row["open"])
        was = bool(row["existing"]) if existing and row["existing"] is not None else None
        if row.get("decision") is not None:
            # network's own decision (keep / open / close / unused, schema.SITE_DECISIONS)
            decision = str(row["decision"])
        elif row["open"] is None:
            decision = "unknown"
        elif was is None:
            decision = "open" if is_open else "not opened"
        elif is_open:
            decision = "keep" if was else "open (new)"
        else:
            decision = "close" if was else "not opened"
        util = finite(row.get("utilization"))
        customers = whole(row.get("customers"))
        reasons = why_by_site.get(sid, []) if sid is not None else []
        flag = False
        if decision == "unknown":
            why = "unknown whether open: its open cell is empty or neither true nor false"
        elif decision == "close" and is_open:
            # Existing sites are forced open; one that serves nobody is a site to close.
            why = "serves no customer in the plan: it runs only because it exists today"
            is_open = False
        elif not is_open:
            why = (
                "not needed: every customer is served within promise from the open sites"
                if all_kept
                else "not chosen by the network plan"
            )
        elif sid is None and needed is not None:
            why = (
                "its site_id is unknown (empty or blank), so no lane names it: whether a promise "
                "needs it is unknown"
            )
        elif reasons:
            why = (
                "needed by the delivery promise of "
                + "; ".join(reasons)
                + ": no other open site reaches them in time"
            )
        elif needed is not None:
            why = "no promise needs it: opened because it lowers the total cost" + free_site(
                row, open_k
            )
            flag = util is not None and util < LOW_UTILISATION
        else:
            why = "serves its customers at the lowest total cost" + free_site(row, open_k)
        if flag:
            why = (
                f"CHECK: open for {count(customers)} {agree(customers, 'customer', 'customers')} "
                f"at {pct(util)} utilisation and "
                "no promise needs it"
            )
        out.append(
            {
                "site_id": sid,
                "decision": decision,
                "why": why,
                "customers": customers,
                "utilization": util,
                "city": row.get("city"),
                "_open": is_open,
                "_flag": flag,
            }
        )
    frame = pl.DataFrame(
        out,
        schema={
            "site_id": pl.String,
            "decision": pl.String,
            "why": pl.String,
            "customers": pl.Int64,
            "utilization": pl.Float64,
            "city": pl.String,
            "_open": pl.Boolean,
            "_flag": pl.Boolean,
        },
    )
    if frame["city"].null_count() == frame.height:
        frame = frame.drop("city")
    frame = frame.sort(["_open", "site_id"], descending=[True, False], nulls_last=True)
    return frame, unchecked


# ---- data: promises by segment


def delivery_kept(asg: pl.DataFrame) -> pl.DataFrame | None:
    """Per segment: the delivery promise (days) and the share of its demand within it."""
    if not has(asg, "segment", "sla_days", "sla_met"):
        return None
    rows = asg.filter(num("sla_days").is_not_null())
    if "left_out" in rows.columns:
        rows = rows.filter(pl.col("left_out").is_null())
    if rows.height == 0:
        return None
    met = on_time(rows)
    # Over the demand whose delivery is known: a lane whose sla_met is unknown is neither late
    # nor on time.
    weight = pl.when(met.is_not_null()).then(_lane_demand(rows))
    return rows.group_by(pl.col("segment").cast(pl.String)).agg(
        num("sla_days").min().alias("delivery_days"),
        pl.when(weight.sum() > 0)
        .then((met * weight).sum() / weight.sum())
        .otherwise(met.mean())
        .alias("within_promise"),
    )


def _lane_demand(rows: pl.DataFrame) -> pl.Expr:
    """A lane's demand (its customer's, times its share); unknown without a demand column, as
    every cell of an empty one is (an assignments table without it was a polars
    ColumnNotFoundError traceback)."""
    if "demand" not in rows.columns:
        return pl.lit(None, pl.Float64)
    return num("demand") * (num("share").fill_null(1.0) if "share" in rows.columns else 1.0)


def _promised_lanes(asg: pl.DataFrame) -> pl.DataFrame:
    rows = asg.filter(num("sla_days").is_not_null())
    return rows.filter(pl.col("left_out").is_null()) if "left_out" in rows.columns else rows


def promise_notes(tables: Tables) -> list[str]:
    """Over how many lanes and stocking points the promise table's shares are taken, where
    some are unknown (see ``delivery_kept`` and ``service_kept``)."""
    notes = []
    asg = tables.get("assignments")
    if has(asg, "segment", "sla_days", "sla_met"):
        assert asg is not None
        rows = _promised_lanes(asg)
        notes.append(
            mean_note(
                rows,
                "sla_met",
                "lane",
                known=on_time(rows).is_not_null() & _lane_demand(rows).is_not_null(),
                name="within_promise",
            )
        )
    points = _service_rows(tables)
    if points is not None:
        weighed = pl.col("_w").is_not_null()
        for col, name in (("_target", "service_target"), ("_got", "expected_service")):
            known = num(col).is_not_null() & weighed
            notes.append(mean_note(points, col, "stocking point", known=known, name=name))
        notes.append(_points_not_in_policy(tables))
    return notes


def _points_not_in_policy(tables: Tables) -> str:
    """The per-segment stock rows at a stocking point the policy does not have, whose demand
    weight is unknown ("service: 3 of 3 per-segment stock rows at a stocking point not in the
    policy, not weighed (tables of different runs?)"), else ""."""
    segs, policy = tables.get("stock_segments"), tables.get("policy")
    if segs is None or policy is None:
        return ""
    keys = ["sku"] + (["site"] if "site" in segs.columns else [])
    if not has(policy, *keys, "mean_demand") or not has(segs, *keys):
        return ""
    as_text = [pl.col(k).cast(pl.String) for k in keys]
    apart = segs.select(as_text).join(policy.select(as_text).unique(), on=keys, how="anti")
    if not apart.height:
        return ""
    return (
        f"service: {count(apart.height)} of {count(segs.height)} per-segment stock rows at a "
        "stocking point not in the policy, not weighed (tables of different runs?)"
    )


def _service_rows(tables: Tables) -> pl.DataFrame | None:
    """The per-segment stock rows where the segment buys (``_w`` > 0), with ``_got`` (its
    expected service by its measure), ``_target`` and ``_capped``."""
    segs = tables.get("stock_segments")
    policy = tables.get("policy")
    if not has(segs, "sku", "segment", "service_level", "demand_share"):
        return None
    assert segs is not None
    measure = (
        pl.col("service_measure").cast(pl.String)
        if "service_measure" in segs.columns
        else pl.lit("fill-rate")
    )
    fill = num("expected_fill_rate") if "expected_fill_rate" in segs.columns else pl.lit(None)
    csl = num("expected_csl") if "expected_csl" in segs.columns else pl.lit(None)
    achieved = pl.when(measure == "csl").then(csl).otherwise(fill)
    keys = ["sku"] + (["site"] if "site" in segs.columns else [])
    rows = segs.with_columns(*[pl.col(k).cast(pl.String) for k in keys])
    with_capped = has(policy, *keys, "capped")
    if has(policy, *keys, "mean_demand"):
        assert policy is not None
        demand = policy.select(
            *[pl.col(k).cast(pl.String) for k in keys],
            num("mean_demand").alias("_demand"),
            *([truth("capped").alias("_capped")] * with_capped),
        ).unique(keys, keep="first")
        rows = rows.join(demand, on=keys, how="left")
    else:
        rows = rows.with_columns(pl.lit(1.0).alias("_demand"))
    rows = rows.with_columns(
        (num("demand_share") * pl.col("_demand")).alias("_w"),
        achieved.alias("_got"),
        num("service_level").alias("_target"),
        # A point whose demand (or the segment's share of it) is unknown stays, unweighted: its
        # service cannot be weighed into the segment's, and the promise table says so.
    ).filter(pl.col("_w").fill_null(1.0) > 0)
    return rows if rows.height else None


def service_kept(tables: Tables) -> pl.DataFrame | None:
    """Per segment: its service target and the expected service it gets (fill rate or CSL as
    its measure says), weighted by the segment's demand at each stocking point where they are
    known; and the stocking points where it gets less than its target."""
    rows = _service_rows(tables)
    if rows is None:
        return None
    w = pl.col("_w")
    # Each mean over the points where its figure is known: an unknown one is no 0 %.
    w_target = pl.when(pl.col("_target").is_not_null()).then(w)
    w_got = pl.when(pl.col("_got").is_not_null()).then(w)
    capped = pl.col("_capped").fill_null(False) if "_capped" in rows.columns else pl.lit(False)
    return rows.group_by(pl.col("segment").cast(pl.String)).agg(
        pl.when(w_target.sum() > 0)
        .then((pl.col("_target") * w).sum() / w_target.sum())
        .alias("service_target"),
        pl.when(w_got.sum() > 0)
        .then((pl.col("_got") * w).sum() / w_got.sum())
        .alias("expected_service"),
        (pl.col("_got") < pl.col("_target") - SERVICE_TOLERANCE)
        .sum()
        .cast(pl.Int64)
        .alias("points_below_target"),
        # Stock holds some points below what their target asks, on purpose (``capped``: a tiny
        # series at one period's upper forecast bound, or a bootstrapped one at its history's
        # largest demand); what the segment gets at its other points says whether that is why.
        (w.filter(capped).sum() / w.sum()).alias("demand_at_capped_points"),
        # As stock's stderr counts them: its points held at a cap, below its target or not.
        capped.sum().cast(pl.Int64).alias("capped_points"),
        ((pl.col("_got") * w).filter(~capped).sum() / w_got.filter(~capped).sum()).alias(
            "service_elsewhere"
        ),
    )


def promises(tables: Tables, order: list[str | None]) -> pl.DataFrame | None:
    """Delivery and service promise per segment, what the plan gives, and whether it is kept."""
    asg = tables.get("assignments")
    delivery = delivery_kept(asg) if asg is not None else None
    service = service_kept(tables)
    if delivery is not None and service is not None:
        both = delivery.join(service, on="segment", how="full", coalesce=True)
    elif delivery is not None:
        both = delivery
    elif service is not None:
        both = service
    else:
        return None
    late = (
        pl.col("within_promise") < 1 - 1e-9 if "within_promise" in both.columns else pl.lit(False)
    )
    short = (
        pl.col("expected_service") < pl.col("service_target") - SERVICE_TOLERANCE
        if "expected_service" in both.columns
        else pl.lit(False)
    )
    # A service shortfall that the capped points alone explain (the segment's other points
    # meet its target) is said so: the remedy is a decision on those points, not more stock.
    by_caps = (
        (pl.col("demand_at_capped_points") > 0)
        & (pl.col("service_elsewhere") >= pl.col("service_target") - SERVICE_TOLERANCE)
        if "demand_at_capped_points" in both.columns
        else pl.lit(False)
    ).fill_null(False)
    what = pl.when(by_caps).then(pl.lit("service (capped points)")).otherwise(pl.lit("service"))
    # A promise whose figure is unknown (every lane's delivery, every point's service) is
    # neither kept nor broken.
    unknown = pl.lit(False)
    if "within_promise" in both.columns:
        unknown = pl.col("within_promise").is_null() & pl.col("delivery_days").is_not_null()
    if "expected_service" in both.columns:
        # Every segment stock plans for has a service target; one whose target is unknown too
        # (no point's demand weight known: a policy of another run, whose stocking points the
        # per-segment table does not name) was called kept. points_below_target is counted
        # for each segment service_kept has rows of, and empty for a segment of lanes only.
        stocked = pl.col("points_below_target").is_not_null()
        unknown = unknown | (
            stocked & (pl.col("expected_service").is_null() | pl.col("service_target").is_null())
        )
    kept = (
        pl.when(late.fill_null(False) & short.fill_null(False))
        .then(pl.lit("no: delivery and ") + what)
        .when(late.fill_null(False))
        .then(pl.lit("no: delivery"))
        .when(short.fill_null(False))
        .then(pl.lit("no: ") + what)
        .when(unknown)
        .then(pl.lit("unknown"))
        .otherwise(pl.lit("yes"))
    )
    return order_frame(both.with_columns(kept.alias("kept")), order)


# ---- wording


def _order_value_basis(due: pl.DataFrame, policy: pl.DataFrame) -> tuple[str, str]:
    """What the orders' value is at, for the headline (" at selling price", " (at selling
    price for 536 stocking points, unit cost for 3)") and the points left unvalued for want of
    a cost ("16 stocking points without a cost, units only"); "" where all are at unit cost."""
    basis = cost_basis(
        policy.filter(num("order_now") > 0) if "order_now" in policy.columns else policy
    )
    valued = {k: n for k, n in basis.items() if k in VALUE_AT and k != "default"}
    uncosted = basis.get("default", 0)
    without = f"{plural(uncosted, 'stocking point')} without a cost, units only" if uncosted else ""
    if not valued or set(valued) == {"items"}:
        return "", without
    if len(valued) == 1:
        return f" at {VALUE_AT[next(iter(valued))]}", without
    ranked = sorted(valued.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = [f"{VALUE_AT[k]} for {count(n)}" for k, n in ranked]
    parts[0] += f" stocking point{'s' * (ranked[0][1] != 1)}"
    return " (at " + ", ".join(parts) + ")", without


def _value_note(due: pl.DataFrame, at: str, without: str) -> str:
    """The reorder list's sentence on what its order values are worth ("" at unit cost)."""
    if "order_value" not in due.columns:
        return (
            "No unit costs were given (stock without --items or prices from --orders): the "
            "orders are in units only. "
            if without
            else ""
        )
    if "value_at" in due.columns:
        return "value at: the basis of each line's order value (the policy's unit_cost_source)" + (
            "; a point without a cost has none and comes last. " if without else ". "
        )
    if at == " at selling price":
        return (
            "Order values are at each sku's mean selling price in the orders (stock --orders "
            "without --items), above what the stock costs"
            + ("; a point without a cost has none and comes last. " if without else ". ")
        )
    return "A point without a cost has no order value and comes last. " if without else ""


def _reorder_blocks(due: pl.DataFrame, policy: pl.DataFrame) -> tuple[Headline, list[Block]]:
    at, without = _order_value_basis(due, policy)
    value = finite(due["order_value"].sum()) if "order_value" in due.columns else None
    # Points left unvalued for want of a cost are said apart, not as values unknown.
    valued = (
        due.filter(pl.col("value_at") != VALUE_AT["default"]) if "value_at" in due.columns else due
    )
    units = finite(due["order_now"].sum())
    # A point whose order_now is unknown is neither due nor above its reorder point.
    undecided = unknown_note(policy, "order_now", "stocking point", "order")
    head = Headline(
        "Order now",
        f"{count(due.height)} stocking point{'s' * (due.height != 1)}",
        noted(
            (f"value {money(value)}{at}, " if value is not None else "")
            + f"{format_number(units, UNITS)} units"
            + (" (no unit costs given)" if without and value is None else "")
            + f"; {count(policy.height)} planned",
            without if value is not None else "",
            unknown_note(valued, "order_value", "stocking point", "value")
            if "order_value" in valued.columns
            else "",
            undecided,
            _checked(due),
        ),
    )
    if due.height == 0:
        return head, [
            Note(
                "Nothing to order now: every stocking point "
                + ("whose order is known " if undecided else "")
                + "is above its reorder point."
            )
        ]
    blocks: list[Block] = [
        TableBlock(
            "Reorder list: order these now",
            due,
            formats={
                "order_now": UNITS,
                "order_value": MONEY,
                "on_hand": UNITS,
                "reorder_point": UNITS,
                "segments": INT,
            },
            preview=REORDER_SHOWN,
            note="Every stocking point at or below its reorder point, "
            + ("largest order value first. " if "order_value" in due.columns else "largest first. ")
            + _value_note(due, at, without)
            + "order_now brings the inventory position back to the policy's level; the segment "
            "most affected buys the largest share of the sku's demand"
            + (
                " (segments: how many buy it)."
                if "segments" in due.columns
                else " (give stock's --segments-out table for the split by segment)."
            )
            + _check_note(due, policy),
        )
    ]
    return head, blocks


def _marked(due: pl.DataFrame) -> tuple[int, int]:
    """How many lines of the reorder list are marked to check (``level_check``): by their
    level in weeks, and as forecast under 1 unit a year."""
    if CHECK not in due.columns:
        return 0, 0
    marks = due.get_column(CHECK)
    tiny = int((marks == TINY_MARK).sum())
    return int((marks != "").sum()) - tiny, tiny


def _checked(due: pl.DataFrame) -> str:
    """The Order now headline's word on the marked lines ("15 to check before ordering: a
    level over 4 x ..."): a terminal shows the headline, not the list's last columns."""
    high, tiny = _marked(due)
    if not high + tiny:
        return ""
    level = (
        f"a level over {LEVEL_WARN_FACTOR:g} x {agree(high, 'its', 'their')} forecast demand "
        "over lead time, review and one order"
    )
    if not tiny:
        return f"{count(high)} to check before ordering: {level}"
    if not high:
        return f"{count(tiny)} to check before ordering: {TINY_MARK}"
    return (
        f"{count(high + tiny)} to check before ordering: {count(high)} at {level}, "
        f"{count(tiny)} {TINY_MARK}"
    )


def _check_note(due: pl.DataFrame, policy: pl.DataFrame) -> str:
    """The reorder list's sentences on its marked lines, by stock's own warning, else ""."""
    high, tiny = _marked(due)
    said = ""
    if high:
        kinds = set(policy.get_column("policy_type").cast(pl.String).drop_nulls().to_list())
        level = (
            "order-up-to"
            if kinds == {"RS"}
            else "reorder point"
            if "RS" not in kinds
            else "order-up-to (R, S) or reorder point (s, Q)"
        )
        said += (
            f" {CHECK}: {plural(high, 'line')} whose {level} is over {LEVEL_WARN_FACTOR:g} x "
            "the forecast demand over lead time plus review plus one order, given in weeks of "
            "forecast demand (stock warned of these points). Usually a spike in the order "
            "history (a promotion, a one-off bulk order) sets such a level: check those skus' "
            "history before ordering them."
        )
    if tiny:
        # Stock names them apart from the high levels (its cover warning and "not counted: N
        # points forecast under 1 unit a year"); the demo ordered 48 units of 00036 at DC-TLS,
        # forecast 1e-7 a year, its level the largest demand its history shows.
        said += (
            f" {TINY_MARK}: {plural(tiny, 'line')} whose level is years of "
            f"{agree(tiny, 'its', 'their')} forecast demand (stock counted these apart): the "
            "forecast expects next to no sales, so the level comes from the order history or a "
            "bound, not from demand to come; check that the sku still sells there before "
            "ordering."
        )
    return said


def _site_blocks(
    decisions: pl.DataFrame, unchecked: str, sites: pl.DataFrame | None
) -> tuple[Headline, list[Block]]:
    checked = not unchecked
    opened = decisions.filter(pl.col("_open"))
    needed = opened.filter(pl.col("why").str.starts_with("needed by"))  # see site_decisions
    flagged = decisions.filter(pl.col("_flag"))
    closing = decisions.filter(pl.col("decision") == "close")
    detail = (
        f"{count(needed.height)} needed by a delivery promise"
        if checked
        else f"promises not checked: {unchecked}"
    )
    if closing.height:
        detail += f"; close {count(closing.height)}"
    head = Headline("Open sites", count(opened.height), noted(detail, undecided_sites(sites)))
    blocks: list[Block] = [
        TableBlock(
            "Sites: what to open or close, and why",
            decisions.drop("_open", "_flag"),
            formats={"customers": INT, "utilization": PCT},
            wrap=("why",),
            note="A site is needed by a promise when some of its customers have no other open "
            "site within their promise (great-circle distance at the network's km_per_day)."
            if checked
            else "",
        )
    ]
    if flagged.height:
        blocks.append(
            Note(
                f"{count(flagged.height)} open site{'s' * (flagged.height != 1)} "
                f"({', '.join(flagged['site_id'].to_list())}) "
                f"{'are' if flagged.height != 1 else 'is'} below {pct(LOW_UTILISATION)} "
                "utilisation with no promise needing "
                f"{'them' if flagged.height != 1 else 'it'}: check the fixed costs and the "
                "candidate list before opening."
            )
        )
    return head, blocks


def _promise_blocks(
    table: pl.DataFrame, unknowns: list[str], held: PlanHeldOut | None = None
) -> tuple[Headline, list[Block]]:
    """The promises headline and table. ``kept`` is the plan's: delivery within the promise
    and the service stock expects. When stock replayed its plan held out (``held``), what the
    segments got there leads the headline, the plan's count after it: a plan that expects
    every promise kept is not evidence that it kept them (The Complete Journey from
    2017-10-02: 11 of 11 kept in the plan, 6 of them 5 points or more short held out)."""
    broken = table.filter(pl.col("kept").str.starts_with("no"))
    unsure = table.filter(pl.col("kept") == "unknown")
    kept = count(table.height - broken.height - unsure.height)
    verdict = noted(
        "none broken"
        if broken.height == 0
        else "not kept: "
        + ", ".join(str(s) for s in broken["segment"].to_list()[:4])
        + (f" and {broken.height - 4} more" if broken.height > 4 else "")
        + (
            " (capped points alone)"
            if broken["kept"].str.ends_with("(capped points)").all()
            else ""
        ),
        f"unknown: {', '.join(str(s) for s in unsure['segment'].to_list())}"
        if unsure.height
        else "",
    )
    scored = scored_promises(held) if held is not None else None
    short = short_promises(held) if held is not None else None
    held_note = ""
    if held is not None and scored is not None and short is not None and scored.height:
        well = f"{WELL_BELOW * 100:.0f} points or more short"
        head = Headline(
            "Promises held out",
            f"{count(short.height)} of {plural(scored.height, 'segment')} {well}",
            noted(
                f"over {held.span()}",
                f"in the plan: {kept} of {count(table.height)} kept, {verdict}",
            ),
        )
        held_note = (
            f" Kept: in the plan. Held out over {held.span()}, {count(short.height)} of the "
            f"{plural(scored.height, 'segment')} promised a fill rate got "
            f"{WELL_BELOW * 100:.0f} points or more below it (Inventory gives each)."
        )
    else:
        head = Headline(
            "Promises kept in the plan",
            f"{kept} of {count(table.height)} " + agree(table.height, "segment", "segments"),
            verdict,
        )
    shown: list[str] = [
        c
        for c in (
            "segment",
            "kept",
            "delivery_days",
            "within_promise",
            "service_target",
            "expected_service",
            "points_below_target",
        )
        if c in table.columns
    ]
    note = (
        "Delivery: share of the segment's demand delivered within its promise. Service: the "
        "fill rate (or cycle service level) stock expects to give the segment, weighted by "
        "its demand at each stocking point, against its target." + held_note
    )
    if "demand_at_capped_points" in table.columns and bool(
        (broken["demand_at_capped_points"].fill_null(0.0) > 0).any()
    ):
        shown += ["capped_points", "demand_at_capped_points", "service_elsewhere"]
        note += (
            " Points below target: the stocking points where the segment gets less than its "
            "target, whatever the cause (a blended target served first come, first served, "
            "or a cap). Capped points: those of the segment's points that stock holds below "
            "what the target asks, on purpose (a tiny series at one period's upper bound, or "
            "at the Poisson level of its mean at its target where that is higher, or a series "
            "at the largest demand its order history shows), as stock's stderr counts them; "
            "service elsewhere is what the segment "
            "gets at its other points. Where that meets the target, the capped points are the "
            "whole shortfall: stock them by hand, or accept the lower service there."
        )
    listed = table.filter(pl.col("kept") != "yes")
    blocks: list[Block] = [
        TableBlock(
            "Segments whose promise is not kept in the plan"
            if broken.height
            else "Segments whose promise is not known to be kept in the plan"
            if unsure.height
            else "Every segment's promise is kept in the plan",
            (listed if listed.height else table).select(shown),
            formats={
                "delivery_days": NUM,
                "within_promise": PCT,
                "service_target": PCT,
                "expected_service": PCT,
                "points_below_target": INT,
                "capped_points": INT,
                "demand_at_capped_points": PCT,
                "service_elsewhere": PCT,
            },
            note=with_unknowns(note, *unknowns),
        )
    ]
    return head, blocks


def _baseline_models(name: str) -> str | None:
    """forecast's --models that forecast as the held-out baseline ``name`` does (``13-week
    average``: WindowAverage13), None for a name it does not know."""
    fixed = {"naive": "Naive", "seasonal naive": "SeasonalNaive"}
    if name in fixed:
        return fixed[name]
    found = re.fullmatch(r"(\d+)-(day|week|month) average", name)
    return f"WindowAverage{found.group(1)}" if found else None


def _held_out_lost(
    check: HeldOutCheck, *, unbacktested: bool = False
) -> tuple[Headline, Note] | None:
    """When the forecast lost to a simple baseline on the periods held out after its --as-of
    day: the plan below is made from a forecast that a simple average beat. Said first, with
    which baseline won, by how much, and how to plan from it. None when it did not lose.
    ``unbacktested``: every series was too short to backtest, forecast at its mean whatever
    --models names (the advice to name the baseline there changed not a byte)."""
    best = check.best
    if not check.lost or best is None:
        return None
    name, wape = best
    models = _baseline_models(name)
    head = Headline(
        "Forecast held out",
        "lost",
        f"to the {name}: WAPE {pct(check.wape)} against its {pct(wape)}, {check.of_best()} "
        f"({check.level_words} level)",
    )
    level = check.level_words
    # One window, and its winner picked after the fact from several baselines: a loss there is
    # a reason to look, not proof that the baseline will do better next (docs/measurements.md,
    # "A baseline that won held out": it won the next window in 3 of 5 cases measured).
    note = Note(
        f"Check this forecast before planning from it: held out over {check.span()}, which the "
        f"forecast did not see, the {name} of each {level}'s own history was nearer what "
        f"happened (WAPE {pct(wape)} against the forecast's {pct(check.wape)}: "
        f"{check.of_best()}, at {level} level). That is one window, and the best of the "
        "simple baselines picked after the fact: forecast as of an earlier day too "
        "(--as-of) to see whether it wins there as well. "
        + (
            f"Every series was too short to backtest, so each is forecast at its mean since its "
            f"first sale ({FALLBACK_MODEL}) whatever --models names: with more history before "
            "--as-of, the backtest chooses among the models, the baselines included"
            if unbacktested
            else f"To plan from that average, forecast again with --models {models}"
            if models is not None and models.startswith("WindowAverage")
            else f"To plan from it, forecast again with --models {models}"
            if models is not None
            else "To plan from a simpler model, forecast again naming it in --models"
        )
        + " and stock from that forecast: the reorder points, safety stock and orders of this "
        "plan come from the forecast that lost (Forecast accuracy gives each approach)."
    )
    return head, note


def actions_section(tables: Tables, meta: Meta, colours: Colours) -> Section | str:
    order = segment_order(tables)
    heads: list[Headline] = []
    blocks: list[Block] = []
    held = held_out_check(meta, tables)
    forecast = tables.get("forecast")
    unbacktested = (
        forecast is not None
        and "model" in forecast.columns
        and forecast.height > 0
        and bool((forecast.get_column("model").cast(pl.String) == FALLBACK_MODEL).all())
    )
    lost = _held_out_lost(held, unbacktested=unbacktested) if held is not None else None
    if lost is not None:
        heads.append(lost[0])
        blocks.append(lost[1])
    # A promise the plan did not keep on the demand that came after it, well short (one
    # sentence; stock_heldout.WELL_BELOW): evidence, not the plan's expectation.
    plan = plan_held_out(meta)
    short = broken_promise(plan) if plan is not None else None
    if short is not None:
        blocks.append(short)
    due = reorder_list(tables)
    if due is not None:
        head, more = _reorder_blocks(due, tables["policy"])
        heads.append(head)
        blocks.extend(more)
    elif "policy" in tables:
        blocks.append(
            Note(
                "No reorder list: the policy has no order_now (give stock the stock on hand "
                "with --on-hand)."
            )
        )
    decided = site_decisions(tables, meta, order)
    if decided is not None:
        head, more = _site_blocks(*decided, tables.get("sites"))
        heads.append(head)
        blocks.extend(more)
    kept = promises(tables, order)
    if kept is not None:
        head, more = _promise_blocks(kept, promise_notes(tables), plan)
        heads.append(head)
        blocks.extend(more)
    if not heads and short is None:
        return (
            "Actions: no policy with order_now, sites or promises in the inputs "
            "(segchain stock --on-hand, segchain network)."
        )
    if len(heads) == (lost is not None):
        # What happened held out alone: no order, site or promise to act on in the inputs.
        what = (
            "The forecast lost to a simple baseline, and the plan did not keep a promise, on "
            "the periods held out after they were made"
            if lost is not None and short is not None
            else "The forecast lost to a simple baseline on the periods held out after it was made"
            if lost is not None
            else "The plan did not keep a promise on the periods held out after it was made"
        )
        return Section(
            "actions",
            "What to do now",
            f"{what}; no policy with order_now, sites or promises in the inputs (segchain "
            "stock --on-hand, segchain network).",
            heads,
            blocks,
        )
    return Section(
        "actions",
        "What to do now",
        "The plan in one place: what to order, which sites to run, and which segments' "
        "promises the plan does not keep. The sections below give the figures behind it.",
        heads,
        blocks,
    )
