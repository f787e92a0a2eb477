"""Distribution network: delivery promise met, open sites, cost split, and the map."""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import partial
from typing import Any

import polars as pl

from segchain.formatting import agree, plural, solver_budget
from segchain.report import charts as ch
from segchain.report.model import (
    INT,
    MISSING,
    MONEY,
    NUM,
    PCT,
    UNITS,
    Block,
    Chart,
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
    colour_list,
    count,
    distinct_filled,
    filled,
    groups_of,
    has,
    known_sum,
    marked,
    mean_note,
    money,
    not_drawn,
    noted,
    num,
    on_time,
    order_frame,
    params_of,
    pct,
    segment_order,
    sum_note,
    total,
    truth,
    undecided_sites,
    unfilled_note,
    unknown,
    unknown_note,
    whole_col,
    with_unknowns,
    wmean,
    wmean_note,
)
from segchain.schema import (
    BASELINE_UNFINISHED,
    META_TOTALS,
    PROMISE_COST_CUT_SHORT,
    PROMISE_COST_UNKNOWN,
    SITE_COLUMNS,
    TRANSPORT_RATE_DEFAULT,
    promise_cost_status,
)

MAP_LINES_UP_TO = 3000  # customer-to-site lines on the map; more would be a grey blur
RASTER_ABOVE = 5000  # scatter points drawn as one embedded image above this many customers
# The sites table's columns as network writes them (with the city and coordinates, so that a
# proposed site can be found on a map).
SHOWN_SITE_COLUMNS = SITE_COLUMNS


# ---- data


def network_totals(meta: Meta) -> dict[str, Any]:
    totals = meta.get("assignments", {}).get(META_TOTALS) or meta.get("sites", {}).get(META_TOTALS)
    return dict(totals) if isinstance(totals, Mapping) else {}


def default_rate_note(meta: Meta) -> str:
    """What to say when network priced transport at its default rate, no freight rate given:
    its transport cost is units x km, not money (Online Retail as the README runs it:
    561,673,551 for 4,901,242 units, 115 a unit, on 8.3 million of revenue); else ""."""
    params = params_of(meta, "assignments") or params_of(meta, "sites")
    if params.get("transport_rate") != TRANSPORT_RATE_DEFAULT:
        return ""
    totals = network_totals(meta)
    rate = finite(params.get("cost_per_unit_km"))
    transport, demand = finite(totals.get("transport_cost")), finite(totals.get("demand"))
    size = (
        f" ({money(transport)} for {format_number(demand, UNITS)} units, "
        f"{money(transport / demand)} a unit)"
        if transport is not None and demand
        else ""
    )
    return (
        f"Transport is priced at network's default rate of {format_number(rate, NUM)} per unit "
        f"of demand and km{size}: no freight rate was given, so it is not your freight cost. "
        "Rerun network with your rate (--cost-per-unit-km, or the config's [network] "
        "cost_per_unit_km) or your lane costs (--costs)."
    )


def with_served(asg: pl.DataFrame) -> pl.DataFrame:
    """``_served``: the demand a row serves (a customer split across sites has one row per site,
    each serving demand x share)."""
    served = (
        num("demand") * num("share").fill_null(1.0) if "share" in asg.columns else num("demand")
    )
    return asg.with_columns(served.alias("_served"))


def has_promise(asg: pl.DataFrame) -> bool:
    """Whether any customer was promised a delivery time (an old table without sla_days: yes)."""
    if "sla_days" not in asg.columns:
        return True
    return bool(asg["sla_days"].is_not_null().any())


def served_rows(asg: pl.DataFrame) -> pl.DataFrame:
    """The rows of customers in the model (network lists those it left out with no site)."""
    if "left_out" in asg.columns:
        return asg.filter(pl.col("left_out").is_null())
    return asg


def left_out_note(asg: pl.DataFrame) -> Note | None:
    """Which customers the network did not serve, and why."""
    if "left_out" not in asg.columns:
        return None
    counts = asg.filter(pl.col("left_out").is_not_null()).group_by("left_out").len()
    if counts.height == 0:
        return None
    why = {
        "no_demand": "no positive demand (returns cancel their purchases)",
        "unlocated": "no location (no coordinates, postal code, city or known country)",
    }
    parts = [
        f"{count(n)} with {why.get(str(r), str(r))}" for r, n in counts.sort("left_out").iter_rows()
    ]
    return Note("Customers not served by any site: " + "; ".join(parts) + ".")


def unpriced_note(asg: pl.DataFrame | None, totals: Mapping[str, Any]) -> str:
    """The customers whose transport is unknown, left out of the network's cost: those network
    left out unlocated (no location, so no lane to price their demand); "" when none. Their
    rows carried a transport_cost of 0, which the cost summed as free delivery."""
    if asg is not None and "left_out" in asg.columns:
        rows = asg.filter(pl.col("left_out").cast(pl.String) == "unlocated")
        n = rows["customer_id"].n_unique() if "customer_id" in rows.columns else rows.height
    else:
        n = int(finite(totals.get("unlocated")) or 0)
    if not n:
        return ""
    return (
        f"transport of {count(n)} {agree(n, 'customer', 'customers')} unknown, not in the "
        "total (left out unlocated: no location to price a lane to)"
    )


def _promised(asg: pl.DataFrame) -> pl.DataFrame:
    """The rows of customers with a promise (all, in an old table without sla_days)."""
    return asg.filter(pl.col("sla_days").is_not_null()) if "sla_days" in asg.columns else asg


def promise_met(asg: pl.DataFrame, weight: str | None) -> tuple[float | None, int, int]:
    """Share of demand (or customers) within promise, customers all of whose rows met it, and
    the customers whose delivery is known (a customer with a promise and a late row, or every
    row known): an unknown delivery is neither late nor on time."""
    asg = _promised(asg)
    met = asg.with_columns(on_time(asg).alias("_met"))
    share = wmean(met, "_met", weight)
    if "customer_id" not in met.columns:
        known = met.filter(pl.col("_met").is_not_null())
        return share, int(known["_met"].sum()), known.height
    per_customer = (
        met.filter(filled("customer_id"))
        .group_by("customer_id")
        .agg(pl.col("_met").min(), pl.col("_met").is_null().any().alias("_unknown"))
    )
    known = per_customer.filter((pl.col("_met") == 0) | ~pl.col("_unknown"))
    return share, int(known["_met"].sum()), known.height


def demand_within(asg: pl.DataFrame, weight: str | None) -> str:
    """The demand the share within promise is taken over, as a base beside it: "37,841 of
    38,654 units" ("" without a demand to weigh by). The share is of units, not of customers:
    on Superstore 97.9 % of the demand but 793 of 804 customers (98.6 %) is within promise."""
    if not weight:
        return ""
    rows = _promised(asg)
    both = (
        rows.with_columns(on_time(rows).alias("_met"))
        .select(num("_met").alias("v"), num(weight).alias("w"))
        .drop_nulls()
    )
    whole = finite(both["w"].sum())
    if not whole or whole <= 0:
        return ""
    within = finite((both["v"] * both["w"]).sum())
    return f"{format_number(within, UNITS)} of {format_number(whole, UNITS)} units"


def _promise_unknowns(asg: pl.DataFrame, weight: str | None) -> str:
    """What the share within promise leaves out: the lanes whether on time unknown and the
    demand they serve, and the lanes whose demand is unknown."""
    rows = _promised(asg).with_columns(on_time(asg).alias("_met"))
    unsure = rows.filter(pl.col("_met").is_null())
    n = unsure.height
    lanes = f"{count(n)} {'lane' if n == 1 else 'lanes'}"
    units = total(unsure, weight) if weight else None
    said = (
        f"{format_number(units, UNITS)} units of demand left out ({lanes}), whether on time unknown"
        if units is not None
        else f"{lanes} left out, whether on time unknown"
        if n
        else ""
    )
    demand = (
        ""
        if weight is None
        else unknown_note(rows.filter(pl.col("_met").is_not_null()), weight, "lane", "demand")
    )
    return noted(said, demand, unnamed(rows, "lane"))


def unnamed(rows: pl.DataFrame, row: str, by: str | None = None) -> str:
    """The rows whose customer_id is empty or blank, which no count of customers can count ("1
    lane's customer unknown, left out")."""
    return unfilled_note(rows, "customer_id", row, "customer", by)


def open_site_ids(asg: pl.DataFrame | None, sites: pl.DataFrame | None) -> list[str]:
    """The ids of the open sites: of the sites table when given (a site whose id is empty or
    blank is counted by ``unnamed_open``), else the sites the lanes name."""
    if has(sites, "site_id", "open"):
        assert sites is not None
        return sorted(str(s) for s in sites.filter(truth("open") & filled("site_id"))["site_id"])
    if has(asg, "site_id"):
        assert asg is not None
        return sorted(str(s) for s in asg.filter(filled("site_id"))["site_id"].unique())
    return []


def unnamed_open(sites: pl.DataFrame | None) -> int:
    """The open sites of the sites table whose site_id is empty or blank: open sites all the
    same (the Open sites headline counts them, as the plan's actions do), but no id to name
    them by (they were named 'None')."""
    if not has(sites, "site_id", "open"):
        return 0
    assert sites is not None
    return int(sites.select((truth("open") & ~filled("site_id")).sum()).item() or 0)


def unsited(asg: pl.DataFrame | None, sites: pl.DataFrame | None) -> str:
    """The lanes of served customers (no ``left_out`` reason) whose site_id is empty or blank,
    which ``open_site_ids`` cannot count when it reads the sites from the lanes ("1 lane's site
    unknown, left out"), else ""."""
    if has(sites, "site_id", "open") or not has(asg, "site_id"):
        return ""
    assert asg is not None
    served = asg.filter(pl.col("left_out").is_null()) if "left_out" in asg.columns else asg
    return unfilled_note(served, "site_id", "lane", "site")


def cost_parts(
    totals: Mapping[str, Any], asg: pl.DataFrame | None, sites: pl.DataFrame | None
) -> tuple[dict[str, float], list[str]]:
    """Fixed cost of open sites and transport cost, from the totals metadata else the tables;
    and what a sum from the tables left out as unknown ("1 lane's cost unknown, left out")."""
    notes: list[str] = []
    fixed = finite(totals.get("fixed_cost"))
    if fixed is None and has(sites, "fixed_cost", "open"):
        assert sites is not None
        opened = sites.filter(truth("open"))
        fixed = total(opened, "fixed_cost")
        notes.append(unknown_note(opened, "fixed_cost", "open site", "fixed cost"))
        notes.append(undecided_sites(sites))
    transport = finite(totals.get("transport_cost"))
    for c in ("transport_cost", "cost") if transport is None else ():
        if asg is not None and c in asg.columns:
            transport = total(asg, c)
            notes.append(unknown_note(asg, c, "lane", "cost"))
            break
    parts = {"fixed cost of open sites": fixed, "transport cost": transport}
    return {k: v for k, v in parts.items() if v is not None}, [n for n in notes if n]


def delivery_by_segment(
    asg: pl.DataFrame, weight: str | None, order: list[str | None]
) -> pl.DataFrame:
    """Customers, demand, share within promise, mean promise, transit and distance per
    segment: transit and distance weighted by demand when the lanes carry it."""
    aggs: list[pl.Expr] = [
        # A segment none of whose rows names its customer has an unknown count, not 0.
        distinct_filled("customer_id").alias("customers")
        if "customer_id" in asg.columns
        else pl.len().alias("customers")
    ]
    if weight:
        aggs.append(known_sum(num(weight)).alias("demand"))
    if "sla_met" in asg.columns:
        met_expr = on_time(asg)
        if weight:
            # Over the demand whose delivery is known: a lane whose sla_met is unknown is
            # neither late nor on time.
            w = pl.when(met_expr.is_not_null()).then(num(weight))
            aggs.append(
                pl.when(w.sum() > 0)
                .then((met_expr * w).sum() / w.sum())
                .otherwise(met_expr.mean())
                .alias("within_promise")
            )
        else:
            aggs.append(met_expr.mean().alias("within_promise"))
    for c in ("sla_days", "transit_days", "distance_km"):
        if c not in asg.columns:
            continue
        if weight and c != "sla_days":
            # Weighted by the demand each lane carries, as network's stderr (mean_km) and its
            # metadata weigh it: on Online Retail Champions' mean per lane is 81 km and the
            # mean distance their units travel 105 km.
            w = pl.when(num(c).is_not_null()).then(num(weight))
            aggs.append(
                pl.when(w.sum() > 0)
                .then((num(c) * w).sum() / w.sum())
                .otherwise(num(c).mean())
                .alias(c)
            )
        else:
            aggs.append(num(c).mean().alias(c))
    if "transport_cost" in asg.columns:
        aggs.append(known_sum(num("transport_cost")).alias("transport_cost"))
    return order_frame(asg.group_by(pl.col("segment").cast(pl.String)).agg(aggs), order)


def within_promise_known(asg: pl.DataFrame, weight: str | None) -> pl.Expr:
    """Which rows a segment's within_promise is taken over: sla_met (and the demand weighing
    it) known."""
    met = on_time(asg).is_not_null()
    return met & num(weight).is_not_null() if weight else met


def delivery_notes(asg: pl.DataFrame, weight: str | None) -> list[str]:
    """What ``delivery_by_segment``'s sums and means leave out as unknown."""
    customers = unnamed(asg, "lane", by="segment")
    notes = [f"customers: {customers}" if customers else ""]
    if weight:
        notes.append(sum_note(asg, weight, "lane", "demand", name="demand"))
    if "sla_met" in asg.columns:
        notes.append(promise_note(asg, weight))
    notes += [mean_note(asg, c, "lane") for c in ("sla_days", "transit_days", "distance_km")]
    notes.append(sum_note(asg, "transport_cost", "lane", "cost"))
    return notes


def promise_note(asg: pl.DataFrame, weight: str | None) -> str:
    """Over how many lanes each segment's within_promise is a share ("" when over all)."""
    if "sla_met" not in asg.columns:
        return ""
    return mean_note(
        asg, "sla_met", "lane", known=within_promise_known(asg, weight), name="within_promise"
    )


def customer_points(tables: Tables, assignments: pl.DataFrame) -> pl.DataFrame | None:
    """The assignments with customer coordinates (their own, else joined from the segments)."""
    if has(assignments, "lat", "lon"):
        return assignments
    seg = tables.get("segments")
    if has(seg, "customer_id", "lat", "lon") and "customer_id" in assignments.columns:
        assert seg is not None
        # _in_segments tells a customer the segments table lacks (another run's) from one whose
        # location is unknown there.
        return assignments.join(
            seg.select(
                pl.col("customer_id").cast(pl.String), "lat", "lon", pl.lit(True).alias(IN_SEGMENTS)
            ),
            on="customer_id",
            how="left",
        )
    return None


IN_SEGMENTS = "_in_segments"


def map_layers(
    points: pl.DataFrame | None, sites: pl.DataFrame | None, order: list[str | None]
) -> ch.MapLayers:
    """Customer markers grouped by segment (area grows with demand), lines to their sites."""
    layers = ch.MapLayers()
    lats: list[float] = []
    if sites is not None:
        open_col = (
            sites.select(truth("open"))["open"].to_list()
            if "open" in sites.columns
            else [True] * sites.height
        )
        for sid, named, lat, lon, is_open in zip(
            sites["site_id"].to_list(),
            sites.select(filled("site_id"))["site_id"].to_list(),
            sites["lat"].to_list(),
            sites["lon"].to_list(),
            open_col,
            strict=True,
        ):
            if finite(lat) is not None and finite(lon) is not None:
                if named:
                    layers.sites[str(sid)] = (float(lon), float(lat), bool(is_open))
                else:  # its id empty or blank: drawn without a name (it was 'None')
                    layers.unnamed.append((float(lon), float(lat), bool(is_open)))
                lats.append(float(lat))
    if points is not None:
        pts = points.filter(num("lat").is_not_null() & num("lon").is_not_null())
        layers.raster = pts.height > RASTER_ABOVE
        seg = (
            pts["segment"].cast(pl.String)
            if "segment" in pts.columns
            else pl.Series([None] * pts.height, dtype=pl.String)
        )
        size = num("demand") if "demand" in pts.columns else pl.lit(1.0)
        pts = pts.with_columns(seg.alias("_seg"), size.fill_null(0.0).alias("_w"))
        wmax = finite(pts["_w"].max()) or 1.0
        present = set(pts["_seg"].to_list())
        for name in [n for n in order if n in present] + sorted(
            (n for n in present if n not in order), key=lambda n: n or ""
        ):
            g = pts.filter(pl.col("_seg").eq_missing(name))
            sizes = [
                6 + 60 * math.sqrt(max(w, 0.0) / wmax) if wmax > 0 else 10
                for w in g["_w"].to_list()
            ]
            layers.groups.append(
                (
                    name,
                    g["lon"].cast(pl.Float64).to_list(),
                    g["lat"].cast(pl.Float64).to_list(),
                    sizes,
                )
            )
            lats.extend(g["lat"].cast(pl.Float64).to_list())
        if "site_id" in pts.columns and pts.height <= MAP_LINES_UP_TO:
            for sid, lon, lat in zip(
                pts["site_id"].to_list(), pts["lon"].to_list(), pts["lat"].to_list(), strict=True
            ):
                if sid is not None and str(sid) in layers.sites:
                    sx, sy, _ = layers.sites[str(sid)]
                    layers.lines.append((float(lon), float(lat), sx, sy))
    mean_lat = sum(lats) / len(lats) if lats else 0.0
    layers.aspect = 1 / max(math.cos(math.radians(mean_lat)), 0.2)
    return layers


# ---- wording


def _days(value: Any) -> str:
    x = finite(value)
    return MISSING if x is None else f"{x:g} d"


def _map_chart(
    points: pl.DataFrame | None,
    sites: pl.DataFrame | None,
    colours: Colours,
    order: list[str | None],
) -> Chart:
    return Chart(
        "map",
        "Customers by segment and the sites that serve them",
        partial(ch.network_map, layers=map_layers(points, sites, order), colours=colours),
        size=(9.0, 6.0),
        caption=with_unknowns(
            "Marker area grows with the customer's demand.",
            _location_note(points),
            _size_note(points),
        )
        if points is not None
        else "No customer coordinates in the inputs: only the sites are shown.",
    )


def _location_note(points: pl.DataFrame) -> str:
    """Which customers the map leaves out for want of coordinates."""
    said = []
    if IN_SEGMENTS in points.columns:
        absent = marked(points, pl.col(IN_SEGMENTS).is_not_null())
        n = unknown(absent, "_known")
        if n:
            said.append(
                f"{plural(n, 'customer')} not in the segments table (tables of different runs?), "
                "not drawn" + groups_of(absent, "_known")
            )
        points = points.filter(pl.col(IN_SEGMENTS).is_not_null())
    rows = marked(points, num("lat").is_not_null() & num("lon").is_not_null())
    n = unknown(rows, "_known")
    if n:
        whose = "customer's" if n == 1 else "customers'"
        said.append(f"{count(n)} {whose} location unknown, not drawn" + groups_of(rows, "_known"))
    return "; ".join(said)


def _size_note(points: pl.DataFrame) -> str:
    """Which customers on the map are drawn at the smallest size for want of a demand."""
    if "demand" not in points.columns:
        return ""
    drawn = points.filter(num("lat").is_not_null() & num("lon").is_not_null())
    n = unknown(drawn, "demand")
    if not n:
        return ""
    whose = "customer's" if n == 1 else "customers'"
    return f"{count(n)} {whose} demand unknown, drawn at the smallest size" + groups_of(
        drawn, "demand"
    )


def _promise_chart(by_seg: pl.DataFrame, colours: Colours, note: str = "") -> Chart:
    names = by_seg["segment"].to_list()
    promise = by_seg["sla_days"].to_list() if "sla_days" in by_seg.columns else None
    labels = [
        f"{ch.label(n)} (≤ {_days(d)})" if finite(d) is not None else ch.label(n)
        for n, d in zip(names, promise or [None] * len(names), strict=True)
    ]
    plot = partial(
        ch.share_bars,
        labels=labels,
        shares=[finite(v) for v in by_seg["within_promise"].to_list()],
        colours=colour_list(names, colours),
        title="Share of demand delivered within its promise",
    )
    return Chart(
        "promise",
        "Delivery promise met by segment",
        plot,
        size=(8.0, 0.9 + 0.32 * len(names)),
        caption=with_unknowns("", note, not_drawn(by_seg, ("within_promise",))),
    )


def unfinished_comparison(totals: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    """What to say where the report would show what the delivery promises cost, when network's
    comparison plan without promises was not finished within its solver limits (its totals'
    ``baseline_status``): that cost is unknown, not 0; else ""."""
    if totals.get("baseline_status") != BASELINE_UNFINISHED:
        return ""
    within, larger = solver_budget(finite(params.get("time_limit")), params.get("node_limit"))
    return (
        "What keeping the delivery promises costs is not known: network's comparison plan "
        f"without promises was not finished within its {within}, so there is no "
        "cheapest network without promises to set this plan against. Rerun network with "
        f"{larger} to know it."
    )


def _cost_blocks(
    known: dict[str, float],
    totals: Mapping[str, Any],
    unknowns: list[str],
    unfinished: str = "",
) -> tuple[Headline, list[Block]]:
    grand = sum(known.values())
    split = (
        " / ".join(
            f"{k.split(' ')[0]} {pct(v / grand if grand else None)}" for k, v in known.items()
        )
        if len(known) > 1
        else next(iter(known))
    )
    blocks: list[Block] = []
    base = finite(totals.get("baseline_total_cost"))
    status = promise_cost_status(totals)
    if base and status == PROMISE_COST_UNKNOWN:
        # A negative cost of the promises, which only a search cut short gives: not a figure.
        blocks.append(
            Note(
                "What keeping the delivery promises costs is not known: network's plan without "
                f"promises, cut short by its solver limits, costs more ({money(base)}) than "
                "the plan with them. Rerun network with a larger --node-limit or --time-limit "
                "to know it."
            )
        )
    elif base:
        blocks.append(
            Note(
                f"Keeping every segment's delivery promise costs {money(grand - base)} "
                f"({pct((grand - base) / base)}) more than the cheapest network without "
                f"promises ({money(base)})"
                + (
                    ": an estimate, not proven, as network stopped a plan at its solver limits."
                    if status == PROMISE_COST_CUT_SHORT
                    else "."
                )
            )
        )
    elif unfinished:
        blocks.append(Note(unfinished))
    blocks.append(
        TableBlock(
            "Cost split",
            pl.DataFrame(
                {
                    "cost": list(known),
                    "value": list(known.values()),
                    "share": [v / grand if grand else None for v in known.values()],
                }
            ),
            formats={"value": MONEY, "share": PCT},
            note=with_unknowns("", *unknowns),
        )
    )
    return Headline("Network cost", money(grand), noted(split, *unknowns)), blocks


def _subtitle(meta: Meta, totals: Mapping[str, Any]) -> str:
    params = params_of(meta, "assignments") or params_of(meta, "sites")
    gap = totals.get("mip_gap", meta.get("assignments", {}).get("gap"))
    subtitle = (
        "Customers assigned to open sites; each segment's delivery promise is its "
        "max_delivery_days."
    )
    if finite(gap) is not None:
        subtitle += f" Optimality gap {pct(finite(gap))}."
    if params.get("open"):
        subtitle += f" Sites to open: {params['open']}."
    return subtitle


def network_section(tables: Tables, meta: Meta, colours: Colours) -> Section | str:
    asg = tables.get("assignments")
    sites = tables.get("sites")
    if asg is None and sites is None:
        return "Network: no assignments or sites table (segchain network) in the inputs."
    heads: list[Headline] = []
    blocks: list[Block] = []
    totals = network_totals(meta)
    weight = None
    left_out = left_out_note(asg) if asg is not None else None
    unpriced = unpriced_note(asg, totals)
    if asg is not None:
        asg = served_rows(asg)
    if asg is not None and "demand" in asg.columns:
        asg = with_served(asg)
        weight = "_served"
    promised = asg is not None and has_promise(asg)
    if asg is not None and not promised:
        heads.append(Headline("Delivery promise", "none set", "no max_delivery_days in the config"))
    elif asg is not None and "sla_met" in asg.columns:
        share, n_met, n_all = promise_met(asg, weight)
        heads.append(
            Headline(
                "Demand within promise" if weight else "Customers within promise",
                pct(share),
                noted(
                    demand_within(asg, weight),
                    f"{count(n_met)} of {count(n_all)} {agree(n_all, 'customer', 'customers')}",
                    _promise_unknowns(asg, weight),
                ),
            )
        )
    open_ids = open_site_ids(asg, sites)
    unnamed = unnamed_open(sites)
    if open_ids or unnamed:
        shown = ", ".join(open_ids[:4]) + (
            f" and {len(open_ids) - 4} more" if len(open_ids) > 4 else ""
        )
        nameless = (
            f"{count(unnamed)} {agree(unnamed, 'site', 'sites')} whose site_id is unknown"
            if unnamed
            else ""
        )
        heads.append(
            Headline(
                "Open sites",
                count(len(open_ids) + unnamed),
                noted(shown, nameless, undecided_sites(sites), unsited(asg, sites)),
            )
        )
    known, unknowns = cost_parts(totals, asg, sites)
    if "transport cost" in known and unpriced:
        unknowns.append(unpriced)
    unfinished = unfinished_comparison(
        totals, params_of(meta, "assignments") or params_of(meta, "sites")
    )
    if known:
        head, cost_blocks = _cost_blocks(known, totals, unknowns, unfinished)
        default_rate = default_rate_note(meta)
        if default_rate:
            head = Headline(
                head.label, head.value, noted(head.detail, "transport at a default rate")
            )
            blocks.append(Note(default_rate))
        heads.append(head)
        blocks.extend(cost_blocks)
    elif unfinished:
        blocks.append(Note(unfinished))
    elif has(asg, "distance_km"):
        assert asg is not None
        heads.append(
            Headline(
                "Mean distance",
                f"{format_number(wmean(asg, 'distance_km', weight), NUM)} km",
                wmean_note(asg, "distance_km", weight, "lane", "distance")
                if weight
                else noted("per customer", unknown_note(asg, "distance_km", "lane", "distance")),
            )
        )
    points = customer_points(tables, asg) if asg is not None else None
    site_xy = sites if has(sites, "site_id", "lat", "lon") else None
    if points is not None or site_xy is not None:
        blocks.append(_map_chart(points, site_xy, colours, segment_order(tables)))
    if asg is not None and "segment" in asg.columns:
        by_seg = delivery_by_segment(asg, weight, segment_order(tables))
        if not promised:
            by_seg = by_seg.drop("within_promise", "sla_days", strict=False)
        notes = delivery_notes(asg, weight)
        if not promised:
            notes = [n for n in notes if not n.startswith(("within_promise:", "sla_days:"))]
        if "within_promise" in by_seg.columns:
            blocks.append(_promise_chart(by_seg, colours, promise_note(asg, weight)))
        blocks.append(
            TableBlock(
                "Delivery by segment",
                by_seg,
                note=with_unknowns(
                    "transit_days and distance_km are means weighted by demand, as network's "
                    "mean_km on stderr."
                    if weight and {"transit_days", "distance_km"} & set(by_seg.columns)
                    else "",
                    *notes,
                ),
                formats={
                    "customers": INT,
                    "demand": UNITS,
                    "within_promise": PCT,
                    "sla_days": NUM,
                    "transit_days": NUM,
                    "distance_km": NUM,
                    "transport_cost": MONEY,
                },
                heat=tuple(c for c in ("within_promise",) if c in by_seg.columns),
            )
        )
    if left_out is not None:
        blocks.append(left_out)
    if has(sites, "site_id"):
        assert sites is not None
        show = [c for c in SHOWN_SITE_COLUMNS if c in sites.columns]
        srt = (
            sites.sort(["open", "site_id"], descending=[True, False], nulls_last=True)
            if "open" in sites.columns
            else sites.sort("site_id")
        )
        formats = {
            "fixed_cost": MONEY,
            "capacity": UNITS,
            "demand_served": UNITS,
            "utilization": PCT,
            "customers": INT,
        }
        # A cell edited by hand that is no number ('lots', 2.5 customers) is unknown, as the
        # decisions read it (actions: whole, finite); shown as typed it read as a figure.
        cells = [
            whole_col(c) if kind == INT else num(c).alias(c)
            for c, kind in formats.items()
            if c in show
        ]
        blocks.append(
            TableBlock(
                "Sites",
                srt.select(show).with_columns(cells),
                formats=formats,
                heat=tuple(c for c in ("utilization",) if c in show),
            )
        )
    if not heads:
        return "Network: the assignments / sites tables lack sla_met, site_id and cost columns."
    return Section("network", "Distribution network", _subtitle(meta, totals), heads[:3], blocks)
