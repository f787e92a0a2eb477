"""Inputs: checked customers, sites and lanes, and the options, every problem listed at once."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from segchain.errors import DataError, UsageError, examples
from segchain.formatting import agree, count, plural
from segchain.geo import haversine_km
from segchain.network.geometry import Points
from segchain.schema import (
    ANNUAL_FIXED_COST,
    DAYS_PER_YEAR,
    EARLIEST_DATE,
    LANES_OPTION,
    LATEST_DATE,
    MAX_VALUE,
    SITE_LOOKALIKES,
    SITE_OTHER_WORDS,
    SITES_OPTION,
    as_written,
    blank_ids,
    blank_problems,
    covered_days,
    duplicate_customers,
    duplicate_keys,
    flag_column,
    key_text,
    number_problems,
    numeric_columns,
    one_row_hint,
    require_columns,
    unread_lookalikes,
    written_otherwise,
    yearly_fixed_cost,
)

DEFAULT_KM_PER_DAY = 500.0
DEFAULT_COST_PER_UNIT_KM = 1.0
DEFAULT_GAP = 1e-6
# Branch-and-bound nodes per solve: a bound on the work that, unlike a time limit, stops every
# run at the same plan. Single-sourced customers at tight capacities under promises made the
# search for the cheapest least-late plan run for ever (400 customers, 12 sites: 20+ minutes
# without an incumbent); 5,000 nodes end it in minutes with a plan and its proven gap, while
# the plans of every test and benchmark here are proven at the root node.
DEFAULT_NODE_LIMIT = 5000
NO_SEGMENT = "all"


def float_col(df: pl.DataFrame, name: str) -> pl.Expr:
    if name in df.columns:
        return pl.col(name).cast(pl.Float64, strict=False)
    return pl.lit(None, dtype=pl.Float64)


def prepare_customers(
    customers: pl.DataFrame, *, need_coords: bool, skip_unlocated: bool
) -> tuple[pl.DataFrame, list[str], pl.DataFrame]:
    """Checked customers ``customer_id, segment, demand, lat, lon`` with positive demand; the
    unlocated ids; and the customers left out of the model (``left_out`` says why)."""
    cols = customers.columns
    require_columns(
        cols,
        ["customer_id"],
        source="customers",
        hint="give segment's output (or a table of customer_id, demand, lat, lon) as CUSTOMERS",
    )
    demand_col = "demand" if "demand" in cols else "quantity" if "quantity" in cols else None
    if demand_col is None:
        raise DataError(
            f"customers: no demand column: need 'demand' (or 'quantity'); found {', '.join(cols)}",
            hint="a segments table carries 'quantity'; or map your column to 'demand'",
        )
    if need_coords:
        require_columns(
            cols,
            ["lat", "lon"],
            source="customers",
            hint="segment locates customers by the orders' lat, lon, postal code, city or "
            "country: map the one the export has when segmenting (--map country=HEADER), or "
            "add the customers' lat, lon, or give freight rates with --costs FILE",
        )
    # Text that is no number (a decimal comma, 52,5) was read as no coordinates.
    customers = numeric_columns(
        customers, ("lat", "lon"), source="customers", keys=("customer_id",)
    )
    df = customers.select(
        pl.col("customer_id").cast(pl.String),
        (pl.col("segment").cast(pl.String) if "segment" in cols else pl.lit(NO_SEGMENT))
        .fill_null(NO_SEGMENT)
        .alias("segment"),
        pl.col(demand_col).cast(pl.Float64, strict=False).alias("demand"),
        float_col(customers, "lat").alias("lat"),
        float_col(customers, "lon").alias("lon"),
    )
    problems = blank_ids(df, "customer_id")
    # A segment column is optional (without one, every customer is in one segment, NO_SEGMENT),
    # but a blank cell in it is a customer whose segment was lost: it was planned in 'all',
    # without a word. Refused, as costs and forecast refuse it.
    blank_segment = blank_ids(customers, "segment") if "segment" in cols else []
    problems += blank_segment
    dup = duplicate_customers(df)
    if dup is not None:
        problems.append(dup)
    wrong = df.select(pl.col("demand").is_null() | ~pl.col("demand").is_finite()).to_series()
    bad_demand = df.filter(wrong)
    if bad_demand.height:
        # Each value as written: 'abc', a blank, or 1e400 (read as infinity), not only its id.
        given = customers.get_column(demand_col).filter(wrong)
        shown = []
        for cid, value in zip(bad_demand["customer_id"].head(5), given.head(5), strict=True):
            if value is None or (isinstance(value, str) and not value.strip()):
                text = "blank"
            elif isinstance(value, float):
                text = as_written(
                    demand_col,
                    ["customer_id"],
                    str(cid),
                    value,
                    why=", too large to be read as a number",
                )
            else:
                text = repr(str(value))
            shown.append(f"{cid!r} ({text})")
        more = f" (and {bad_demand.height - 5:,} more)" if bad_demand.height > 5 else ""
        problems.append(
            f"{demand_col} is blank or not a number for customer_id {', '.join(shown)}{more}"
        )
    # Past 1e15, as for every number segchain reads, HiGHS cannot weigh the lanes against the
    # other customers' (a demand of 1e20 beside 10 and 5 failed with "status 15 unknown").
    huge = df.filter(pl.col("demand").is_finite() & (pl.col("demand") > MAX_VALUE))
    if huge.height:
        problems.append(
            f"{demand_col} above {MAX_VALUE:.0e} for customer_id {examples(huge['customer_id'])}"
        )
    problems += range_problems(df, "customer_id", source="customers")
    if problems:
        segment = (
            f"a segment (or no segment column: every customer in one segment {NO_SEGMENT!r}), "
            if blank_segment
            else ""
        )
        hint = (
            f"give each customer one row with a customer_id, {segment}a {demand_col} that is a "
            "number up to 1e15, and lat within [-90, 90], lon within [-180, 180] (segchain "
            "segment writes such a table); fix or remove the rows named"
        )
        hint = one_row_hint(["customer_id"], hint) if dup else hint
        raise DataError("customers: " + "; ".join(problems), hint=hint)
    # Net of returns a customer may have bought nothing: there is nothing to deliver, so the
    # customer stays out of the model and is listed with no site.
    no_demand = df.filter(pl.col("demand") <= 0)
    left_out = [no_demand.select("customer_id", "segment", "demand", left_out=pl.lit("no_demand"))]
    df = df.filter(pl.col("demand") > 0)
    unlocated: list[str] = []
    if need_coords:
        missing = df.filter(pl.col("lat").is_null() | pl.col("lon").is_null())
        if missing.height:
            unlocated = missing["customer_id"].to_list()
            if not skip_unlocated:
                raise DataError(
                    f"customers: {plural(len(unlocated), 'customer')} "
                    f"{agree(len(unlocated), 'has', 'have')} no coordinates "
                    f"(lat, lon): customer_id {examples(unlocated)}",
                    hint="locate them from a postal code (--geo FILE), city or country column, "
                    "add their lat, lon, give freight rates with --costs FILE, or leave them out "
                    "with --skip-unlocated",
                )
            left_out.append(
                missing.select("customer_id", "segment", "demand", left_out=pl.lit("unlocated"))
            )
            df = df.filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null())
    if df.height == 0:
        if unlocated:
            also = (
                f"; {no_demand.height:,} more with no positive demand" if no_demand.height else ""
            )
            raise DataError(
                "customers: no customer to assign: "
                + (
                    "the one customer with positive demand has no coordinates (lat, lon) and "
                    "was left out by "
                    if len(unlocated) == 1
                    else f"all {count(len(unlocated))} customers with positive demand have no "
                    "coordinates (lat, lon) and were left out by "
                )
                + f"--skip-unlocated: customer_id {examples(unlocated)}{also}",
                hint="locate them from a postal code (--geo FILE, --geo-country CODE), city or "
                "country column, add their lat, lon, or give freight rates with --costs FILE",
            )
        if no_demand.height:
            raise DataError(
                "customers: no customer to assign: "
                + (
                    "the one customer with coordinates has"
                    if no_demand.height == 1
                    else f"all {count(no_demand.height)} customers with coordinates have"
                )
                + " no positive demand",
                hint=f"network serves each customer's net quantity (sales less returns): check "
                f"the {demand_col} column, or give the segments of a period with sales",
            )
        raise DataError(
            "customers: no customer to assign (the table is empty)",
            hint="give the segments that segchain segment wrote (one row per customer)",
        )
    return df, unlocated, pl.concat(left_out)


LANES_HINT = (
    "give each lane (site_id, customer_id) one row with a unit_cost from 0 to 1e15 (and a "
    "distance_km from 0 to 1e15, or empty for the great-circle distance)"
)
# The hint covers every rule of read_sites: it named only the numbers, also for a lat of 95.
SITES_HINT = (
    "give every site one row with a site_id, lat within [-90, 90] and lon within [-180, 180], "
    "fixed_cost from 0 to 1e15 and capacity >= 0 (empty or inf: unlimited)"
)


def is_blank(col: str) -> pl.Expr:
    return pl.col(col).is_null() | (pl.col(col).str.strip_chars() == "")


def range_problems(df: pl.DataFrame, key: str, *, source: str) -> list[str]:
    problems = []
    for col, limit in (("lat", 90.0), ("lon", 180.0)):
        problems += number_problems(df, {col: ""}, keys=[key])
        bad = df.filter(pl.col(col).is_finite() & ~(pl.col(col).abs() <= limit))
        if bad.height:
            # Each value beside its row: the message named the rows only, and a lat of 52520
            # (52.520 read with a decimal comma) looked like a swap.
            shown = ", ".join(
                f"{as_written(col, [key], str(k), v)} for {key} {k!r}"
                for k, v in bad.select(key, col).head(5).iter_rows()
            )
            more = f" (and {bad.height - 5:,} more)" if bad.height > 5 else ""
            problems.append(
                f"{col} outside [-{limit:g}, {limit:g}]: {shown}{more} (are lat and lon swapped?)"
            )
    return problems


SITE_COLUMNS = ("site_id", "city", "lat", "lon", "fixed_cost", "capacity", "existing")
"""The columns of --sites that network reads."""

LANE_LOOKALIKES = {"distance_km": ("distance", "dist", "km", "kilometres", "kilometers")}
"""Headers a --costs lane's distance may be written as (``distance``, ``dist_km``): read under
no name, the great-circle distance decided the promise."""

LANE_OTHER_WORDS = ("cost", "costs", "rate", "price", "time", "days", "hours")


def prepare_sites(sites: pl.DataFrame, *, need_coords: bool) -> tuple[pl.DataFrame, bool]:
    """Checked sites ``site_id, lat, lon, fixed_cost, capacity, existing``, and whether their
    fixed cost was given per year (an ``annual_fixed_cost`` header, read as ``fixed_cost``)."""
    yearly = yearly_fixed_cost(sites.columns, source=SITES_OPTION)
    if yearly is not None and "fixed_cost" in sites.columns:
        # Which one the plan should weigh no header says (a --sites-out given back).
        raise DataError(
            f"{SITES_OPTION}: both fixed_cost and {yearly!r} (a year's) give the sites' fixed cost",
            hint=f"keep one: fixed_cost (over the orders' span, or a year's with "
            f"--fixed-cost-period year) or {yearly!r}, and drop the other",
        )
    # Its values are checked and named under the header as written (a message about
    # 'fixed_cost' where the file says 'fixed_cost_per_year' sent the user looking for none).
    fixed = yearly or "fixed_cost"
    cols = sites.columns
    unread_lookalikes(
        [c for c in cols if c != yearly],
        SITE_COLUMNS,
        source=SITES_OPTION,
        words=SITE_LOOKALIKES,
        unless=SITE_OTHER_WORDS,
    )
    require_columns(
        cols, ["site_id", "lat", "lon"] if need_coords else ["site_id"], source=SITES_OPTION
    )
    existing = (
        flag_column(
            sites,
            "existing",
            source=SITES_OPTION,
            hint="write true/false (or yes/no, 1/0); leave it empty for a candidate site",
        )
        if "existing" in cols
        else pl.lit(False)
    )
    # Text that is no number was read as none: no coordinates, a fixed cost of 0, no capacity.
    sites = numeric_columns(
        sites, ("lat", "lon", fixed, "capacity"), source=SITES_OPTION, keys=("site_id",)
    )
    df = sites.select(
        pl.col("site_id").cast(pl.String),
        (pl.col("city").cast(pl.String) if "city" in cols else pl.lit(None, pl.String)).alias(
            "city"
        ),
        float_col(sites, "lat").alias("lat"),
        float_col(sites, "lon").alias("lon"),
        float_col(sites, fixed).fill_null(0.0).alias("fixed_cost"),
        float_col(sites, "capacity").alias("capacity"),
        existing.alias("existing"),
    ).with_columns(  # An infinite capacity is the same as none: unlimited.
        pl.when(pl.col("capacity") == float("inf"))
        .then(None)
        .otherwise("capacity")
        .alias("capacity")
    )
    if df.height == 0:
        raise DataError(
            f"{SITES_OPTION}: no sites (the table is empty)",
            hint="list candidate sites, or propose some from the customers with --candidates N",
        )
    problems = blank_ids(df, "site_id")
    dup = duplicate_keys(df, ["site_id"], blank_apart=["site_id"])
    problems += dup
    if need_coords:
        missing = df.filter(pl.col("lat").is_null() | pl.col("lon").is_null())
        if missing.height:
            problems.append(f"no coordinates (lat, lon) for site_id {examples(missing['site_id'])}")
    problems += range_problems(df, "site_id", source=SITES_OPTION)
    # HiGHS fails on a fixed cost of 1e16 and more (status 15); a capacity above the total
    # demand is clipped to it in the model.
    problems += number_problems(
        df.rename({"fixed_cost": fixed}), {fixed: ">= 0"}, keys=["site_id"], limit=MAX_VALUE
    )
    # inf is unlimited (read as none above), so a NaN's message says what is taken: "must be a
    # finite number" refused it as if inf were refused too.
    problems += number_problems(
        df,
        {"capacity": ">= 0"},
        keys=["site_id"],
        accepted={"capacity": "a number >= 0 (empty or inf: unlimited)"},
    )
    if problems:
        raise DataError(
            f"{SITES_OPTION}: " + "; ".join(problems),
            hint=one_row_hint(["site_id"], SITES_HINT) if dup else SITES_HINT,
        )
    return df, yearly is not None


def orders_span(customers: pl.DataFrame) -> dict[str, Any]:
    """The days the orders behind the customers' demand cover, from their ``first_order`` and
    ``last_order`` (segment's columns), counted as costs counts its period_days
    (``schema.covered_days``): ``days, first, last, step``, with ``days_per_year``.

    Raises:
        DataError: the customers have no such dates (a table of the user's own), text there
            that is no date, values of another type, or a date outside the window the orders
            reader keeps.
    """
    cols = customers.columns
    if "first_order" not in cols or "last_order" not in cols:
        raise DataError(
            "customers: fixed costs per year are taken over the days of the orders the demand "
            "comes from, and the customers have no first_order, last_order to tell them",
            hint="give segment's output as CUSTOMERS (it has both), or give each site's cost "
            f"over those days as fixed_cost (--fixed-cost-period orders): a year's x days / "
            f"{DAYS_PER_YEAR:g}",
        )
    days = [_order_dates(customers, col) for col in ("first_order", "last_order")]
    dates = pl.concat(days).drop_nulls()
    if dates.is_empty():
        raise DataError(
            "customers: first_order and last_order are empty: fixed costs per year cannot be "
            "taken over the orders' days",
            hint="give segment's output as CUSTOMERS, as it wrote it",
        )
    span, step = covered_days(dates)
    return {
        "days": span,
        "first": str(dates.min()),
        "last": str(dates.max()),
        "step": step,
        "days_per_year": DAYS_PER_YEAR,
    }


def refuse_span_costs_beyond(site_df: pl.DataFrame, span: dict[str, Any]) -> None:
    """Refuse a year's fixed cost that, taken over the orders' span (``fixed_cost``, with the
    year's as ``ANNUAL_FIXED_COST``), exceeds MAX_VALUE: each was checked up to it as a year's,
    and 9e14 a year over the demo's 2.99 years was written in --sites-out as 2.69e15, which
    costs then refused as network's own fixed_cost out of range.

    Raises:
        DataError: such a site, named with its year's cost and the span's.
    """
    over = site_df.filter(pl.col("fixed_cost") > MAX_VALUE)
    if over.is_empty():
        return
    shown = [
        f"{year:g} a year is {span_cost:.4g} for site_id {site!r}"
        for site, year, span_cost in over.select("site_id", ANNUAL_FIXED_COST, "fixed_cost")
        .head(3)
        .iter_rows()
    ]
    more = f" (and {over.height - 3:,} more)" if over.height > 3 else ""
    raise DataError(
        f"{SITES_OPTION}: a year's fixed cost taken over the {span['days']:,} days the orders "
        f"cover must be at most {MAX_VALUE:g}, got {', '.join(shown)}{more}",
        hint=f"check the unit of {ANNUAL_FIXED_COST} (a year's cost, in the currency of the "
        "prices)",
    )


def _order_dates(customers: pl.DataFrame, col: str) -> pl.Series:
    """The customers' ``col`` (first_order or last_order) as dates, checked: segment writes
    dates (text YYYY-MM-DD in a CSV) within the orders reader's window, so anything else is
    another table or a damaged one. Cast as they came, true/false were days 0 and 1 (a span of 2
    days: a year's cost taken over 0.01 year), and a date past 9999 stopped the count of the
    span with a traceback.

    Raises:
        DataError: text that is no date, values that are no dates, or a date outside the window.
    """
    given = customers.get_column(col)
    hint = "give segment's output as CUSTOMERS, as it wrote it"
    if given.null_count() == given.len():
        # Empty on every row (typed as numbers or nothing by the CSV reader): no dates, which
        # orders_span says as such, not as values of a type.
        return pl.Series(col, [None] * given.len(), dtype=pl.Date)
    if given.dtype == pl.String:
        read = given.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        bad = given.filter(read.is_null() & given.is_not_null())
        if bad.len():
            raise DataError(
                f"customers: {col} holds text that is no date (YYYY-MM-DD): "
                f"{examples(bad.unique(maintain_order=True))}",
                hint=hint,
            )
    elif given.dtype == pl.Date or isinstance(given.dtype, pl.Datetime):
        read = given.cast(pl.Date)
    else:
        raise DataError(
            f"customers: {col} holds {given.dtype} values, not dates",
            hint=hint,
        )
    outside = (read < EARLIEST_DATE) | (read > LATEST_DATE)
    if outside.any():
        named = customers.filter(outside).select(
            pl.format("{} for customer_id '{}'", pl.col(col).cast(pl.String), "customer_id")
            if "customer_id" in customers.columns
            else pl.col(col).cast(pl.String)
        )
        raise DataError(
            f"customers: {col} outside {EARLIEST_DATE} to {LATEST_DATE}, where the orders' "
            f"dates lie (the orders reader rejects any other): "
            f"{', '.join(named.to_series().head(3).to_list())}"
            + (f" (and {named.height - 3:,} more)" if named.height > 3 else ""),
            hint=f"{hint}, or correct the date",
        )
    return read


def lane_pairs(
    costs: pl.DataFrame, cust: pl.DataFrame, site_df: pl.DataFrame
) -> tuple[pl.DataFrame, int, list[str]]:
    """The lanes as model pairs; the count of pairs without a lane; the lanes not used (their
    site_id@customer_id, in the file's order)."""
    unread_lookalikes(
        costs.columns,
        ("site_id", "customer_id", "unit_cost", "distance_km"),
        source=LANES_OPTION,
        words=LANE_LOOKALIKES,
        unless=LANE_OTHER_WORDS,
    )
    require_columns(
        costs.columns,
        ["site_id", "customer_id", "unit_cost"],
        source=LANES_OPTION,
        hint="give --costs one row per lane: site_id, customer_id, unit_cost (a unit's freight "
        "from the site to the customer), optionally distance_km",
    )
    # A lane's distance_km decides its transit days: text there was replaced by the great-circle
    # distance, and -500, inf or NaN km read as a promise kept or an unknown distance, silently.
    costs = numeric_columns(
        costs, ("distance_km",), source=LANES_OPTION, keys=("site_id", "customer_id")
    )
    lanes = costs.select(
        pl.col("site_id").cast(pl.String),
        pl.col("customer_id").cast(pl.String),
        pl.col("unit_cost").cast(pl.Float64, strict=False),
        float_col(costs, "distance_km").alias("distance_km"),
        pl.col("unit_cost").cast(pl.String).str.strip_chars().alias("_given"),
    )
    # A lane is named as every stage table's row is (site_id@customer_id 'S2@C1'), so one file's
    # messages do not write the same lane two ways.
    lane_keys = ("site_id", "customer_id")
    dup = duplicate_keys(lanes, lane_keys)
    problems = list(dup)
    # A unit_cost that is text is shown, as other numbers that are none are ('abc', a decimal
    # comma '2,5'): 'blank or not a number' named the lane but not what was wrong with it.
    bad = lanes.filter(pl.col("unit_cost").is_null())
    blank = pl.col("_given").is_null() | (pl.col("_given") == "")
    text = bad.filter(~blank)
    if text.height:
        values = examples(v[:40] for v in text["_given"].unique(maintain_order=True))
        named = examples(text.select(key_text(lane_keys)).to_series())
        problems.append(f"unit_cost is not a number ({values}) for site_id@customer_id {named}")
    problems += blank_problems(bad.filter(blank), ["unit_cost"], keys=lane_keys)
    lanes = lanes.drop("_given")
    # Past 1e15 HiGHS fails with no lane named (status 15), as on a site's fixed cost.
    problems += number_problems(
        lanes,
        {"unit_cost": ">= 0", "distance_km": ">= 0"},
        keys=lane_keys,
        limit=MAX_VALUE,
    )
    if problems:
        raise DataError(
            f"{LANES_OPTION}: " + "; ".join(problems),
            hint=one_row_hint(lane_keys, LANES_HINT) if dup else LANES_HINT,
        )
    lanes = lanes.rename({"distance_km": "lane_km"})
    cidx = cust.select("customer_id", pl.int_range(pl.len()).alias("j"))
    sidx = site_df.select("site_id", pl.int_range(pl.len()).alias("i"), "lat", "lon")
    pairs = lanes.join(cidx, on="customer_id", how="inner").join(sidx, on="site_id", how="inner")
    known = pl.col("customer_id").is_in(cidx["customer_id"].implode()) & pl.col("site_id").is_in(
        sidx["site_id"].implode()
    )
    unknown = lanes.filter(~known.fill_null(False)).select(key_text(lane_keys)).to_series()
    pairs = pairs.join(
        cust.select(
            pl.int_range(pl.len()).alias("j"),
            pl.col("lat").alias("clat"),
            pl.col("lon").alias("clon"),
            "demand",
        ),
        on="j",
    )
    hav = haversine_km(
        pairs["clat"].to_numpy(),
        pairs["clon"].to_numpy(),
        pairs["lat"].to_numpy(),
        pairs["lon"].to_numpy(),
    )
    pairs = (
        pairs.with_columns(
            pl.coalesce(pl.col("lane_km"), pl.Series(hav).fill_nan(None)).alias("distance_km")
        )
        .select(
            "j",
            "i",
            "distance_km",
            "unit_cost",
            (pl.col("unit_cost") * pl.col("demand")).alias("cost"),
        )
        .sort("j", "i")
    )
    served = np.zeros(cust.height, dtype=bool)
    served[pairs["j"].to_numpy()] = True
    if not served.all():
        lost = cust["customer_id"].to_numpy()[~served]
        # Customers written otherwise in the lanes (another Unicode form, other capitals) look
        # like the ones named: say so, or the message reads as wrong.
        near = written_otherwise(
            pl.Series(lost, dtype=pl.String), lanes.get_column("customer_id"), other="the lanes"
        )
        raise DataError(
            f"{LANES_OPTION}: {plural(len(lost), 'customer')} "
            f"{agree(len(lost), 'has', 'have')} no lane "
            "from any site: customer_id "
            f"{examples(lost)}{near or ''}",
            hint="add a row site_id, customer_id, unit_cost for each of them to the --costs file",
        )
    return pairs, cust.height * site_df.height - pairs.height, unknown.to_list()


def require_distances(
    pairs: pl.DataFrame, sla: np.ndarray, cust: pl.DataFrame, points: Points
) -> None:
    unknown = pairs.filter(pl.col("distance_km").is_null())["j"].unique().to_numpy()
    unknown = unknown[np.isfinite(sla[unknown])]
    if unknown.size:
        ids = cust["customer_id"].to_numpy()[np.isin(points.point, unknown)]
        raise DataError(
            f"cannot check the delivery promise of {plural(len(ids), 'customer')} without "
            f"distances: customer_id {examples(ids)}",
            hint="give customers and sites lat, lon, or a distance_km column in --costs, or set "
            "no max_delivery_days for their segment",
        )


def check_options(
    sites_given: bool,
    candidates: int | None,
    open: int | None,
    km_per_day: float,
    cost_per_unit_km: float,
    time_limit: float | None,
    gap: float,
    max_points: int | None,
    node_limit: int = DEFAULT_NODE_LIMIT,
) -> None:
    """Every contradictory or impossible option at once (a UsageError listing them)."""
    problems = []
    if sites_given and candidates is not None:
        problems.append("give either --sites FILE or --candidates N, not both")
    if not sites_given and candidates is None:
        problems.append("give the candidate sites with --sites FILE, or --candidates N")
    if open is not None and open < 1:
        problems.append(f"--open must be at least 1, got {open}")
    if not km_per_day > 0 or not math.isfinite(km_per_day):
        problems.append(f"--km-per-day must be a positive number, got {km_per_day}")
    if not cost_per_unit_km >= 0 or not math.isfinite(cost_per_unit_km):
        problems.append(f"--cost-per-unit-km must be a number >= 0, got {cost_per_unit_km}")
    if time_limit is not None and not time_limit > 0:
        problems.append(f"--time-limit must be a positive number of seconds, got {time_limit}")
    if not 0 <= gap < 1:
        problems.append(f"--gap must lie in [0, 1), got {gap}")
    if node_limit < 0:
        problems.append(f"--node-limit must be a whole number >= 0 (0: no limit), got {node_limit}")
    if max_points is not None and max_points < 1:
        problems.append(f"--max-points must be at least 1, got {max_points}")
    if problems:
        raise UsageError("; ".join(problems))
