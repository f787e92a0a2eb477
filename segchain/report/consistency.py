"""Whether the tables given to one report are of one run: what they share, by their keys.

A report builds each figure from the tables that hold it, and a section may read two (the
segments' title beside the profile's figures, the costs' totals beside the customers'). Given the
outputs of two runs or two data sets, it showed their figures side by side without a word: the
segments of Superstore under an RFM date of 2022 above the demo's revenue, the demo's customers
as Superstore's least profitable. Each check here compares two tables that one run writes in
step, and says where they cannot be of one run: they share no key, or totals that one stage
derives from the other differ.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import polars as pl

from segchain.errors import examples
from segchain.formatting import MONEY, UNITS, agree, format_number, plural, short_of_one
from segchain.report.sections.common import days_col
from segchain.schema import DAYS_PER_YEAR, META_ROUTED_BY, META_SEGMENTED_BY, yearly_fixed_cost

# (table, table, key, what the key is, plural): tables of one run share some of these (a
# forecast's series too young to backtest are not in its backtest, so not all; none is another
# run's).
SHARED_KEYS = (
    ("segments", "assignments", "customer_id", "customer", "customers"),
    ("segments", "customer_costs", "customer_id", "customer", "customers"),
    ("forecast", "backtest", "unique_id", "series", "series"),
    # A forecast by segment names the segments it was made from: a profile or segments of
    # another run drew its segments beside the forecast of others without a word.
    ("segment_profile", "forecast", "segment", "segment", "segments"),
    ("segments", "forecast", "segment", "segment", "segments"),
    ("forecast", "policy", "sku", "sku", "skus"),
    ("policy", "stock_segments", "sku", "sku", "skus"),
    # The order lines the stages read: every customer segmented and every sku forecast or
    # planned is in them (Online Retail's lines beside Superstore's chain passed without a word).
    ("segments", "orders", "customer_id", "customer", "customers"),
    ("forecast", "orders", "sku", "sku", "skus"),
    ("policy", "orders", "sku", "sku", "skus"),
)
# Relative difference beyond which two totals of one run are not equal (rounding in a CSV).
TOLERANCE = 1e-6


def mismatches(
    tables: Mapping[str, pl.DataFrame], metadata: Mapping[str, Mapping[str, Any]] | None = None
) -> list[str]:
    """One message per pair of tables that cannot be of one run; ``metadata`` (each table's
    provenance, by kind) adds the checks of figures only the Parquet metadata carries."""
    meta = metadata or {}
    out = []
    for a, b, key, what, many in SHARED_KEYS:
        if a in tables and b in tables and key in tables[a].columns and key in tables[b].columns:
            here = _keys(tables[a], key)
            there = _keys(tables[b], key)
            if here.len() and there.len() and not there.is_in(here.implode()).any():
                out.append(
                    f"the {a} ({plural(here.len(), what, many)}) and the {b} "
                    f"({plural(there.len(), what, many)}) share no {key}: tables of different "
                    "runs?"
                )
    out += _segments_of_customers(tables)
    out += _profile_against_segments(tables)
    out += _costs_against_customers(tables)
    out += _policy_against_forecast(tables)
    out += _sites_against_assignments(tables, meta)
    out += _forecast_against_assignments(tables, meta)
    out += _forecast_against_segments(tables, meta)
    out += _backtest_against_forecast(tables, meta)
    out += _costs_against_segments(tables, meta)
    out += _stock_segments_against_policy(tables)
    out += _costs_against_plan(tables, meta)
    out += _damaged_period_days(tables)
    out += _orders_against_segments(tables, meta)
    return out


def _keys(table: pl.DataFrame, key: str) -> pl.Series:
    """The table's distinct keys; of a backtest, its series rows' only (its summary and
    comparison rows, 545 of the demo's 2,338 ids, were counted as series)."""
    return _series_rows(table).get_column(key).cast(pl.String).drop_nulls().unique()


def _segments_of_customers(tables: Mapping[str, pl.DataFrame]) -> list[str]:
    """network and costs copy each customer's segment from the segments they were given: in one
    run a customer shared with the segments table has its segment there, and every assigned
    customer is in it (a segment re-run beside the old network differed for 168 of 351)."""
    segments = tables.get("segments")
    if segments is None or not {"customer_id", "segment"} <= set(segments.columns):
        return []
    theirs = segments.select(
        pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String).alias("_seg")
    ).unique("customer_id")
    out = []
    for name in ("assignments", "customer_costs"):
        other = tables.get(name)
        if other is None or not {"customer_id", "segment"} <= set(other.columns):
            continue
        mine = other.select(
            pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String)
        ).unique("customer_id")
        both = mine.join(theirs, on="customer_id", how="left")
        shared = both.filter(pl.col("_seg").is_not_null())
        if not shared.height:
            continue  # said by SHARED_KEYS: no customer shared
        moved = shared.filter(pl.col("segment").ne_missing(pl.col("_seg"))).height
        absent = both.height - shared.height if name == "assignments" else 0
        if moved:
            out.append(
                f"{plural(moved, 'customer')} of {shared.height:,} in both the {name} and the "
                f"segments {agree(moved, 'has', 'have')} another segment in each: tables of "
                "different runs?"
            )
        if absent:
            out.append(
                f"{plural(absent, 'customer')} of the {name} {agree(absent, 'is', 'are')} in no "
                "segment of the segments table: tables of different runs?"
            )
    return out


def _profile_against_segments(tables: Mapping[str, pl.DataFrame]) -> list[str]:
    """The profile counts the segments table's customers per segment: equal in one run."""
    profile, segments = tables.get("segment_profile"), tables.get("segments")
    if profile is None or segments is None:
        return []
    if not {"segment", "customers"} <= set(profile.columns) or "segment" not in segments.columns:
        return []
    counted = segments.group_by(pl.col("segment").cast(pl.String)).agg(pl.len().alias("n"))
    given = profile.select(pl.col("segment").cast(pl.String), pl.col("customers").cast(pl.Int64))
    both = given.join(counted, on="segment", how="full", coalesce=True).fill_null(0)
    if both.filter(pl.col("customers") != pl.col("n")).height == 0:
        return []
    return [
        f"the segment profile counts {int(given['customers'].sum()):,} customers and the segments "
        f"hold {segments.height:,}, not in the same segments: tables of different runs?"
    ]


def _costs_against_customers(tables: Mapping[str, pl.DataFrame]) -> list[str]:
    """costs' revenue per segment is its customers' summed: equal in one run."""
    costs, customers = tables.get("costs"), tables.get("customer_costs")
    if costs is None or customers is None:
        return []
    if not all("segment" in t.columns and "revenue" in t.columns for t in (costs, customers)):
        return []
    summed = customers.group_by(pl.col("segment").cast(pl.String)).agg(
        pl.col("revenue").sum().alias("summed")
    )
    given = costs.select(pl.col("segment").cast(pl.String), pl.col("revenue"))
    both = given.join(summed, on="segment", how="full", coalesce=True).fill_null(0.0)
    scale = max(float(given["revenue"].abs().sum()), 1.0)
    off = both.filter((pl.col("revenue") - pl.col("summed")).abs() > TOLERANCE * scale)
    if off.height == 0:
        return []
    return [
        f"the costs' revenue per segment is not the customer costs' summed ({off.height} of "
        f"{both.height} segments differ): tables of different runs?"
    ]


# Relative difference beyond which the policy's demand is not its forecast's: stock plans each
# series at the mean over the forecast's periods (under 1e-9 a period counted 0), so in one run the
# two totals agree to rounding.
DEMAND_TOLERANCE = 1e-4


def _policy_against_forecast(tables: Mapping[str, pl.DataFrame]) -> list[str]:
    """stock plans each stocking point at its series' mean forecast: in one run the policy's
    mean_demand sums to the forecast's series means summed. A forecast re-run beside the old
    policy (31,977 units planned against 36,736 forecast, the report's 'Order now' from the one
    and its forecast section from the other) passed without a word (audit H, session 60)."""
    forecast, policy = tables.get("forecast"), tables.get("policy")
    if forecast is None or policy is None:
        return []
    if not {"unique_id", "forecast"} <= set(forecast.columns) or "mean_demand" not in policy:
        return []
    # A series' mean is over the forecast's periods, a period without its row counting 0, as
    # stock reads it (``stock.inputs.read_series``).
    periods = forecast.get_column("ds").n_unique() if "ds" in forecast.columns else None
    total = pl.col("forecast").cast(pl.Float64)
    series = forecast.group_by(pl.col("unique_id").cast(pl.String)).agg(
        (total.sum() / periods if periods else total.mean()).alias("mu")
    )
    forecast_total = float(series.filter(pl.col("mu") >= 1e-9)["mu"].sum())
    planned = float(policy.get_column("mean_demand").cast(pl.Float64).fill_null(0.0).sum())
    if abs(planned - forecast_total) <= DEMAND_TOLERANCE * max(abs(forecast_total), 1.0):
        return []
    return [
        f"the policy plans {planned:,.6g} units a period and the forecast holds "
        f"{forecast_total:,.6g} (its series' means summed), where stock plans the forecast it "
        "reads: tables of different runs?"
    ]


def _sites_against_assignments(
    tables: Mapping[str, pl.DataFrame], meta: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """network writes its sites table from the lanes it writes (``network.outputs.sites_table``):
    in one run every lane's site is a row of it, each site serves the lanes' demand x share and
    customers, and the open sites' fixed_cost is the plan's. The lanes of one run beside the
    sites of another made What to do now open C001-C004 for customers routed to DC-ATL..DC-ONT,
    and the Sites table count 1,995,000 of fixed cost under a headline of 290,000, without a word
    (audit S, session 63)."""
    lanes, sites = tables.get("assignments"), tables.get("sites")
    if lanes is None or sites is None or not _has(lanes, "site_id") or not _has(sites, "site_id"):
        return []
    named = _keys(lanes, "site_id").sort()
    held = _keys(sites, "site_id").sort()
    lacking = named.filter(~named.is_in(held.implode()))
    out = []
    if lacking.len():
        out.append(
            f"the assignments route customers to {plural(lacking.len(), 'site')} the sites table "
            f"lacks ({examples(lacking)}; it holds {examples(held)}): tables of different runs?"
        )
    if lacking.len() < named.len():  # sharing no site, the lanes serve none of its sites
        out += _served_against_lanes(lanes, sites)
    out += _fixed_cost_against_plan(sites, meta.get("assignments") or {})
    return out


def _forecast_against_assignments(
    tables: Mapping[str, pl.DataFrame], meta: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """A forecast routed by --assignments records them (``routing.assignments_fingerprint``);
    an older one, only that it was routed, so its sites (those its assignments serve) are
    compared. Not said of a forecast that records neither (a CSV, one by the orders' own sites).
    stock routed its history by the assignments of another run without a word (audit V2,
    session 64), and the report's site histories are routed by the assignments given to it."""
    from segchain.errors import SegchainError
    from segchain.routing import assignments_fingerprint, lanes_text, sites_not_served

    forecast, lanes = tables.get("forecast"), tables.get("assignments")
    recorded = meta.get("forecast") or {}
    if forecast is None or lanes is None or not _has(lanes, "customer_id", "site_id"):
        return []
    routed_by = recorded.get(META_ROUTED_BY)
    if isinstance(routed_by, Mapping) and "sha256" in routed_by:
        try:
            theirs = assignments_fingerprint(lanes)
        except SegchainError:  # assignments the stages refuse: said where they are read
            return []
        if theirs["sha256"] == routed_by["sha256"]:
            return []
        return [
            f"the forecast was routed by other assignments ({lanes_text(routed_by)}) than the "
            f"assignments ({lanes_text(theirs)}): their lanes (customer_id, site_id, share) "
            "differ: tables of different runs?"
        ]
    inputs = recorded.get("inputs")
    if not isinstance(inputs, Mapping) or "assignments" not in inputs:
        return []
    if "site" not in forecast.columns:
        return []
    missing = sites_not_served(lanes, forecast.get_column("site").unique().to_list())
    if not missing:
        return []
    return [
        "the forecast, routed through network assignments, has series at "
        f"{plural(len(missing), 'site')} the assignments serve none of ({examples(missing)}): "
        "tables of different runs?"
    ]


def segments_of_other_run(
    tables: Mapping[str, pl.DataFrame], meta: Mapping[str, Mapping[str, Any]]
) -> bool:
    """Whether the segments given are known not to be the ones the forecast read."""
    return bool(_forecast_against_segments(tables, meta))


def _forecast_against_segments(
    tables: Mapping[str, pl.DataFrame], meta: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """forecast records the segments it read (``routing.segments_fingerprint``: each customer's
    segment); an older one, only how many rows it read, so only a count that differs can be
    said. Segments of an earlier run (351 customers) beside a forecast of 400 were drawn as the
    history the forecast read, its Champions' last weeks ~100 units under the forecast made of
    them, without a word (audit R1, session 65)."""
    from segchain.errors import SegchainError
    from segchain.routing import segments_fingerprint, segments_text

    forecast, segments = tables.get("forecast"), tables.get("segments")
    recorded = meta.get("forecast") or {}
    if forecast is None or segments is None or not _has(segments, "customer_id", "segment"):
        return []
    fix = "tables of different runs? Rerun forecast with these segments, or give the ones it read"
    read = recorded.get(META_SEGMENTED_BY)
    if isinstance(read, Mapping) and "sha256" in read:
        try:
            given = segments_fingerprint(segments)
        except (SegchainError, pl.exceptions.PolarsError):  # said where they are read
            return []
        if given["sha256"] == read["sha256"]:
            return []
        return [
            f"the forecast was made from other segments ({segments_text(read)}) than the "
            f"segments given ({segments_text(given)}): their customers' segments differ, so the "
            f"history drawn by segment is not the one the forecast read: {fix}"
        ]
    inputs = recorded.get("inputs")
    rows = inputs.get("segments") if isinstance(inputs, Mapping) else None
    if not isinstance(rows, int) or isinstance(rows, bool) or rows == segments.height:
        return []
    return [
        f"the forecast read {plural(rows, 'row')} of segments and the segments given hold "
        f"{segments.height:,}: {fix}"
    ]


# forecast's options that make its series and their errors, as its outputs' metadata records
# them (``segchain.params``): one run writes the forecast and its backtest with the same.
RUN_PARAMS = ("as_of", "freq", "horizon", "by", "models", "outliers", "reconcile", "seed")
# The rows it read of each input (``segchain.inputs``), by the words the messages use.
RUN_INPUTS = {"orders": "order lines read", "segments": "segments read", "assignments": (
    "assignments read"
)}  # fmt: skip


def backtest_run_differences(meta: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What the backtest's metadata records otherwise than the forecast's (both Parquet, so
    both recorded): its options, the rows it read, the assignments it was routed by. Empty when
    either lacks the metadata. forecast writes both outputs of a run with the same."""
    theirs, ours = meta.get("backtest") or {}, meta.get("forecast") or {}
    out = []
    for key, words in (("params", {p: p for p in RUN_PARAMS}), ("inputs", RUN_INPUTS)):
        a, b = theirs.get(key), ours.get(key)
        if not isinstance(a, Mapping) or not isinstance(b, Mapping):
            return []
        out += [
            f"{what} {_recorded(a.get(name))} in the backtest, {_recorded(b.get(name))} in the "
            "forecast"
            for name, what in words.items()
            if a.get(name) != b.get(name)
        ]
    if _digest(theirs, META_ROUTED_BY) != _digest(ours, META_ROUTED_BY):
        out.append("routed by other assignments")
    segmented = _digest(theirs, META_SEGMENTED_BY), _digest(ours, META_SEGMENTED_BY)
    # Recorded since session 65: a run of an older segchain records none, which says nothing.
    if None not in segmented and segmented[0] != segmented[1]:
        out.append("made from other segments")
    return out


def _digest(recorded: Mapping[str, Any], key: str) -> Any:
    """The sha256 of a fingerprint the metadata records under ``key`` (None without one)."""
    fingerprint = recorded.get(key)
    return fingerprint.get("sha256") if isinstance(fingerprint, Mapping) else None


def _recorded(value: Any) -> str:
    if value is None:
        return "none"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def series_not_backtested(
    tables: Mapping[str, pl.DataFrame], meta: Mapping[str, Mapping[str, Any]]
) -> tuple[int, int | None]:
    """The forecast's series without a row in the backtest, and how many of its series the
    forecast records as too short to backtest (its metadata's ``fallbacks``; None without it).
    In one run the two are equal (the demo's 15 of 1,808, Online Retail's 1,603 of 23,748)."""
    forecast, backtest = tables.get("forecast"), tables.get("backtest")
    if forecast is None or backtest is None:
        return 0, None
    if "unique_id" not in forecast.columns or "unique_id" not in backtest.columns:
        return 0, None
    ours, theirs = _keys(forecast, "unique_id"), _keys(backtest, "unique_id")
    missing = int((~ours.is_in(theirs.implode())).sum())
    fallbacks = (meta.get("forecast") or {}).get("fallbacks")
    if not isinstance(fallbacks, Mapping):
        return missing, None
    short = fallbacks.get("not_backtested", 0)
    return missing, int(short) if isinstance(short, (int, float)) else None


def backtest_of_other_run(
    tables: Mapping[str, pl.DataFrame], meta: Mapping[str, Mapping[str, Any]]
) -> bool:
    """Whether the backtest given is known to be of another forecast run than the forecast."""
    return bool(_backtest_against_forecast(tables, meta))


def _backtest_against_forecast(
    tables: Mapping[str, pl.DataFrame], meta: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """forecast --backtest writes the backtest of the series it forecasts, with the same options
    and inputs in both outputs' metadata, and every series it does not backtest counted as too
    short. A backtest as of 2022-06-06 beside a forecast as of 2022-10-10 (same series ids) was
    quoted as the forecast's Backtest WAPE (156.1 % for its own 147.8 %), and the 18 series the
    other run lacked called too short to backtest, without a word (audit R3, session 65)."""
    forecast, backtest = tables.get("forecast"), tables.get("backtest")
    if forecast is None or backtest is None or not _has(forecast, "unique_id"):
        return []
    if not _has(backtest, "unique_id"):
        return []
    fix = (
        "tables of different runs? Rerun forecast with --backtest FILE to write a forecast and "
        "its backtest together"
    )
    differ = backtest_run_differences(meta)
    if differ:
        return [
            f"the backtest was written by another forecast run than the forecast "
            f"({'; '.join(differ)}): its WAPE, MASE and series beating the baseline are not "
            f"this forecast's: {fix}"
        ]
    ours, theirs = _keys(forecast, "unique_id"), _keys(backtest, "unique_id")
    if not theirs.is_in(ours.implode()).any():
        return []  # said by SHARED_KEYS: no series shared
    said = []
    extra = theirs.filter(~theirs.is_in(ours.implode())).sort()
    if extra.len():
        said.append(
            f"{plural(extra.len(), 'series', 'series')} of the backtest "
            f"{agree(extra.len(), 'is', 'are')} not in the forecast ({examples(extra)})"
        )
    missing, short = series_not_backtested(tables, meta)
    if short is not None and missing > short:
        said.append(
            f"{missing:,} of the forecast's {plural(ours.len(), 'series', 'series')} "
            f"{agree(missing, 'has', 'have')} no row in the backtest, where the forecast records "
            f"{short:,} too short to backtest"
        )
    said += _window_against_horizon(forecast, backtest)
    said += _series_said_otherwise(forecast, backtest)
    return [f"{'; '.join(said)}: {fix}"] if said else []


def _window_against_horizon(forecast: pl.DataFrame, backtest: pl.DataFrame) -> list[str]:
    """forecast scores each backtest window over its --horizon (``forecast.selection``: windows
    of ``h = horizon`` periods, one step apart): in one run a series row's backtest_periods is
    its backtest_windows x the forecast's periods. Said when no series row's is, as of a
    backtest of --horizon 8 beside a forecast of 13 periods (what its CSV alone can say of the
    options its metadata records)."""
    if "ds" not in forecast.columns or not _has(backtest, "backtest_periods", "backtest_windows"):
        return []
    horizon = forecast.get_column("ds").drop_nulls().n_unique()
    rows = _series_rows(backtest).select(
        (
            pl.col("backtest_periods").cast(pl.Float64, strict=False)
            / pl.col("backtest_windows").cast(pl.Float64, strict=False)
        ).alias("_length")
    )
    lengths = rows.get_column("_length").drop_nulls().drop_nans()
    lengths = lengths.filter(lengths.is_finite() & (lengths > 0))
    if not horizon or not lengths.len() or (lengths == horizon).any():
        return []
    common = lengths.mode().sort()[0]
    return [
        f"the backtest scored windows of {format_number(common, UNITS)} periods and the forecast "
        f"runs {plural(horizon, 'period')} (forecast scores each window over its --horizon)"
    ]


# What forecast writes of each series in both its forecast and its backtest, from one choice
# (``forecast.stage``: both from its selection's stats): (column, the words for it).
SERIES_CHOICES = (("demand_class", "demand class"), ("model", "model"))


def _series_said_otherwise(forecast: pl.DataFrame, backtest: pl.DataFrame) -> list[str]:
    """A series' demand class and model are written from one selection into both tables: in
    one run each series in both has the same in each (a class is of the history before the
    forecast's --as-of, so another as-of moves some). Its model only where the forecast's
    ``reconciliation`` is empty: a series reconciled top-down names the model of the sku
    forecast split into it (the demo's 1,420 of 1,793), where the backtest names its own; a
    forecast without that column cannot say which."""
    out = []
    for column, words in SERIES_CHOICES:
        if not _has(forecast, "unique_id", column) or column not in backtest.columns:
            continue
        ours = forecast
        if column == "model":
            if "reconciliation" not in forecast.columns:
                continue
            ours = forecast.filter(pl.col("reconciliation").is_null())
        both = (
            ours.select(pl.col("unique_id").cast(pl.String), pl.col(column).cast(pl.String))
            .drop_nulls()
            .unique("unique_id", keep="first")
            .join(
                _series_rows(backtest)
                .select(
                    pl.col("unique_id").cast(pl.String),
                    pl.col(column).cast(pl.String).alias("_theirs"),
                )
                .drop_nulls()
                .unique("unique_id", keep="first"),
                on="unique_id",
            )
            .sort("unique_id")
        )
        moved = both.filter(pl.col(column) != pl.col("_theirs"))
        if moved.height:
            first = moved.row(0, named=True)
            out.append(
                f"{plural(moved.height, 'series', 'series')} of {both.height:,} in both "
                f"{agree(moved.height, 'has', 'have')} another {words} in each "
                f"({first['unique_id']}: {first['_theirs']} in the backtest, {first[column]} in "
                "the forecast)"
            )
    return out


def _series_rows(backtest: pl.DataFrame) -> pl.DataFrame:
    """The backtest's rows of the forecast's series (not its summary or sku-level rows)."""
    if "scope" not in backtest.columns:
        return backtest
    return backtest.filter(pl.col("scope").cast(pl.String) == "series")


def _has(table: pl.DataFrame, *columns: str) -> bool:
    return set(columns) <= set(table.columns)


def _served_against_lanes(lanes: pl.DataFrame, sites: pl.DataFrame) -> list[str]:
    """The sites' demand_served and customers against the lanes' demand x share and customers,
    at the sites of the sites table that are open or that a lane names (a closed site serves
    nothing: 0 in both)."""
    if not _has(lanes, "customer_id", "demand", "share") or not _has(
        sites, "demand_served", "customers"
    ):
        return []
    routed = (
        lanes.filter(pl.col("site_id").is_not_null())
        .group_by(pl.col("site_id").cast(pl.String))
        .agg(
            (pl.col("demand").cast(pl.Float64) * pl.col("share").cast(pl.Float64))
            .sum()
            .alias("_lane_demand"),
            pl.col("customer_id").n_unique().cast(pl.Int64).alias("_lane_customers"),
        )
    )
    opened = pl.col("open").fill_null(False) if "open" in sites.columns else pl.lit(True)
    both = (
        sites.select(
            pl.col("site_id").cast(pl.String),
            opened.alias("_open"),
            pl.col("demand_served").cast(pl.Float64, strict=False).fill_null(0.0),
            pl.col("customers").cast(pl.Float64, strict=False).round().fill_null(0.0),
        )
        .join(routed, on="site_id", how="left")
        .filter(pl.col("_open") | pl.col("_lane_demand").is_not_null())
        .with_columns(pl.col("_lane_demand", "_lane_customers").fill_null(0))
    )
    scale = max(float(both["_lane_demand"].abs().sum()), 1.0)
    off = both.filter(
        ((pl.col("demand_served") - pl.col("_lane_demand")).abs() > TOLERANCE * scale)
        | (pl.col("customers") != pl.col("_lane_customers"))
    ).sort("site_id")
    if not off.height:
        return []
    first = off.row(0, named=True)
    return [
        f"the sites table's demand_served and customers are not the assignments' lanes' at "
        f"{off.height} of {plural(both.height, 'site')} ({first['site_id']}: "
        f"{format_number(first['demand_served'], UNITS)} units and "
        f"{plural(int(first['customers']), 'customer')} in the sites, "
        f"{format_number(first['_lane_demand'], UNITS)} and {int(first['_lane_customers']):,} in "
        "the lanes): tables of different runs?"
    ]


def _fixed_cost_against_plan(sites: pl.DataFrame, lanes_meta: Mapping[str, Any]) -> list[str]:
    """The open sites' fixed_cost summed against the fixed cost network recorded for the plan
    (its Parquet metadata's totals; not said without them, as of a CSV)."""
    totals = lanes_meta.get("totals")
    planned = totals.get("fixed_cost") if isinstance(totals, Mapping) else None
    if not isinstance(planned, (int, float)) or not _has(sites, "fixed_cost", "open"):
        return []
    fixed = pl.col("fixed_cost").cast(pl.Float64, strict=False).fill_null(0.0)
    summed = float(sites.select(fixed.filter(pl.col("open").fill_null(False)).sum()).item())
    if abs(summed - planned) <= TOLERANCE * max(abs(float(planned)), 1.0):
        return []
    return [
        f"the open sites' fixed_cost sums to {format_number(summed, MONEY)} and the assignments' "
        f"plan to {format_number(planned, MONEY)}: tables of different runs?"
    ]


def _costs_against_segments(
    tables: Mapping[str, pl.DataFrame], meta: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """costs counts the customers of the segments it is given, each segment's every one
    (``costs._by_segment``), over order lines that hold every line the segments read. Costs made
    from a segmentation without --as-of (595 of 801 customers in another segment) or from another
    export (Online Retail's 2010-2011 beside Superstore's segments as of 2022) were shown as one
    story (audit S, session 63)."""
    costs, segments = tables.get("costs"), tables.get("segments")
    if costs is None or segments is None or "segment" not in segments.columns:
        return []
    out = []
    if _has(costs, "segment", "customers"):
        counted = segments.group_by(pl.col("segment").cast(pl.String)).agg(
            pl.len().cast(pl.Int64).alias("_held")
        )
        given = costs.select(
            pl.col("segment").cast(pl.String),
            pl.col("customers").cast(pl.Float64, strict=False).round().cast(pl.Int64),
        )
        both = given.join(counted, on="segment", how="full", coalesce=True).fill_null(0)
        off = both.filter(pl.col("customers") != pl.col("_held")).sort("segment")
        if off.height:
            first = off.row(0, named=True)
            out.append(
                f"the costs count {int(given['customers'].sum()):,} customers and the segments "
                f"hold {segments.height:,}, not in the same segments ({off.height} of "
                f"{both.height} differ; {first['segment']}: {first['customers']:,} in the costs, "
                f"{first['_held']:,} in the segments): tables of different runs?"
            )
    period = (meta.get("costs") or {}).get("period")
    end = _day(period[-1]) if isinstance(period, list) and period else None
    read = _last_read(segments)
    if end is not None and read is not None and end < read:
        out.append(
            f"the costs' order history ends {end}, before the segments' last order ({read}"
            f"{_as_of(meta)}): tables of different runs?"
        )
    return out


# What costs reconciles (its metadata's ``reconciliation``, by name) with the table given to the
# report that holds the same total: (kind, what the report sums, how the table is named).
RECONCILED = {
    "inventory value": ("policy", "inventory value", "the policy"),
    "transport": ("assignments", "transport", "the assignments"),
    "warehouse fixed": ("sites", "warehouse fixed", "the open sites"),
}
# costs' option for each kind, to say which table to rerun it with.
COSTS_OPTIONS = {"policy": "--policy", "assignments": "--assignments", "sites": "--sites"}
TABLE_NAMES = {"policy": "a policy", "assignments": "assignments", "sites": "sites"}
THESE = {"policy": "this policy", "assignments": "these assignments", "sites": "these sites"}


def costs_of_other_tables(
    tables: Mapping[str, pl.DataFrame],
    meta: Mapping[str, Mapping[str, Any]],
    kind: str = "costs",
) -> dict[str, tuple[float, float]]:
    """The totals costs reconciled (the metadata of its table of ``kind``: costs by segment or
    by customer) that the tables given hold otherwise, by the reconciliation's name: (costs',
    the table's). In one run each is the same sum (costs reconciles them to the cent). Without
    costs' metadata (a CSV), its own columns summed (``_summed_otherwise``); empty without the
    table or its column."""
    checks = (meta.get(kind) or {}).get("reconciliation")
    if kind not in tables:
        return {}
    if not isinstance(checks, list):
        return _summed_otherwise(tables, kind)
    out, days = {}, _period_days(tables[kind])
    for check in checks:
        if not isinstance(check, Mapping) or check.get("name") not in RECONCILED:
            continue
        recorded = check.get("source_total")
        given = _given_total(tables, RECONCILED[check["name"]][0], days)
        if not isinstance(recorded, (int, float)) or given is None:
            continue
        if abs(given - recorded) > TOLERANCE * max(abs(float(recorded)), 1.0):
            out[check["name"]] = (float(recorded), given)
    return out


# A costs table's column that sums, in one run, to the total of the table costs reconciled it
# with (by the reconciliation's name): its transport to the lanes' transport_cost (a customer
# network left out unlocated has none in either), its warehouse_fixed to the open sites'
# fixed_cost (``costs.allocate.fixed_by_customer`` shares each one whole), its inventory_value to
# the policy's, less the value at stocking points no segment buys from
# (``costs.allocate.segment_inventory``): never more.
SUMMED = {"transport": "transport", "warehouse fixed": "warehouse_fixed", "inventory value": (
    "inventory_value"
)}  # fmt: skip
# What a spreadsheet's rounding to the cent may move a sum by, a row: half a cent.
ROUNDING = 0.005


def _summed_otherwise(
    tables: Mapping[str, pl.DataFrame], kind: str
) -> dict[str, tuple[float, float]]:
    """The costs table's columns summed against the tables given, where they cannot be of one
    run: a costs CSV made from another stock run's policy or another network plan passed
    without a word, as it records nothing of what it was made from (session 66). Not said of a
    column costs left empty (made without that table), of warehouse_fixed when the lanes serve
    no demand (costs then shares none), nor of inventory value below the policy's, which value at
    points no segment buys from cannot be told from."""
    costs, out = tables[kind], {}
    days = _period_days(costs)
    for name, column in SUMMED.items():
        other = RECONCILED[name][0]
        given = _given_total(tables, other, days)
        if given is None or column not in costs.columns:
            continue
        values = costs.get_column(column).cast(pl.Float64, strict=False)
        if values.is_null().all() or (name == "warehouse fixed" and not _serves_demand(tables)):
            continue
        summed = float(values.sum())
        slack = TOLERANCE * max(abs(given), 1.0) + ROUNDING * (costs.height + tables[other].height)
        over = summed - given
        if over > slack or (name != "inventory value" and -over > slack):
            out[name] = (summed, given)
    return out


def _serves_demand(tables: Mapping[str, pl.DataFrame]) -> bool:
    """Whether the lanes (else the sites' demand_served) serve some demand: without, costs
    shares no site's fixed cost. False when neither says."""
    lanes, sites = tables.get("assignments"), tables.get("sites")
    if lanes is not None and _has(lanes, "site_id", "demand"):
        share = pl.col("share") if "share" in lanes.columns else pl.lit(1.0)
        served = pl.col("demand").cast(pl.Float64, strict=False) * share.cast(
            pl.Float64, strict=False
        )
        return float(lanes.select(served.filter(pl.col("site_id").is_not_null()).sum()).item()) > 0
    if sites is not None and "demand_served" in sites.columns:
        served = pl.col("demand_served").cast(pl.Float64, strict=False)
        return float(sites.select(served.sum()).item()) > 0
    return False


def _given_total(
    tables: Mapping[str, pl.DataFrame], kind: str, period_days: float | None = None
) -> float | None:
    """The total of the table of ``kind`` that costs reconciles with (None without it). The
    open sites' fixed cost is read as costs read it: a year's (``annual_fixed_cost``, or a
    header that says a year) x the costs' ``period_days`` / DAYS_PER_YEAR, else ``fixed_cost``.
    Their ``fixed_cost`` beside a year's is network's, over the span of its segments' orders:
    costs over another span (its own orders, another --as-of) reconciled 515,165 of the demo's
    yearly sites, 362 days of them, and the report called the 1,552,610 network took over
    1,091 days 'sites other than the ones given' (session 69)."""
    table = tables.get(kind)
    column = {"policy": "inventory_value", "assignments": "transport_cost", "sites": "fixed_cost"}
    if table is None:
        return None
    value = pl.col(column[kind]).cast(pl.Float64, strict=False)
    if kind == "sites":
        yearly = _yearly_column(table) if period_days else None
        if yearly is not None and period_days:
            value = pl.col(yearly).cast(pl.Float64, strict=False) * (period_days / DAYS_PER_YEAR)
        elif column[kind] not in table.columns:
            return None
        if "open" not in table.columns:
            return None
        value = value.filter(pl.col("open").fill_null(False))
    elif column[kind] not in table.columns:
        return None
    return float(table.select(value.fill_null(0.0).sum()).item())


def _yearly_column(sites: pl.DataFrame) -> str | None:
    """The sites' column of a year's fixed cost, as costs finds it; None when none, or when two
    headers say a year (costs refuses such sites: no total of theirs is costs')."""
    from segchain.errors import DataError

    try:
        return yearly_fixed_cost(sites.columns, source="sites")
    except DataError:
        return None


def _period_days(costs: pl.DataFrame) -> float | None:
    """The days of orders a costs table was made over (its ``period_days``, one value in a
    run), or None: unknown, or several (tables of runs put together)."""
    if "period_days" not in costs.columns:
        return None
    days = costs.select(days_col("period_days")).to_series().drop_nulls().unique()
    return float(days[0]) if days.len() == 1 else None


def _damaged_period_days(tables: Mapping[str, pl.DataFrame]) -> list[str]:
    """costs writes its period_days, the days of its order history, positive on every row: a
    cell that is not a positive finite number (-5, 0, NaN, text) is an edited table. The page
    leaves such a span out (``common.days_col``), as it does any damaged cell; said here, as
    "(-5 days)" was shown as the span without a word."""
    out = []
    for kind, name in (("costs", "costs"), ("customer_costs", "customer costs")):
        table = tables.get(kind)
        if table is None or "period_days" not in table.columns:
            continue
        cell = pl.col("period_days")
        bad = table.filter(days_col("period_days").is_null() & cell.is_not_null())
        if bad.height:
            shown = bad.get_column("period_days").cast(pl.String).unique(maintain_order=True)
            out.append(
                f"the {name}' period_days is not a positive number of days in {bad.height:,} "
                f"of {plural(table.height, 'row')} ({examples(shown.to_list())}): left out as "
                "unknown (costs writes the days of its order history; rerun costs, or "
                "mend the column)"
            )
    return out


def _costs_against_plan(
    tables: Mapping[str, pl.DataFrame], meta: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """costs reconciles its inventory value with the policy, its transport with the assignments
    and its warehouse fixed cost with the open sites, and records each source's total. The costs
    of another stock run's policy (133,135 of inventory value) beside the policy given (314,767)
    put a profit 9 % higher beside that policy's Inventory section, and the costs of another
    network plan a second cost of the promises beside the Network section's, without a word
    (audit R2, session 65). One message for the policy, one for the network's tables, of the
    costs by segment and of those by customer (the least profitable customers)."""
    out = []
    for kind, name in (("costs", "costs"), ("customer_costs", "customer costs")):
        recorded = isinstance((meta.get(kind) or {}).get("reconciliation"), list)
        where = f"in the {name}' reconciliation" if recorded else f"summed in the {name}"
        out += _reconciled_otherwise(costs_of_other_tables(tables, meta, kind), name, where)
    return out


def _reconciled_otherwise(
    differ: Mapping[str, tuple[float, float]], name: str, where: str
) -> list[str]:
    """``where``: how the costs' figure was had (its reconciliation, or its column summed)."""
    out = []
    for group in (("inventory value",), ("transport", "warehouse fixed")):
        named = [n for n in group if n in differ]
        if not named:
            continue
        figures = "; ".join(
            f"{RECONCILED[n][1]}: {format_number(differ[n][0], MONEY)} {where}, "
            f"{format_number(differ[n][1], MONEY)} in {RECONCILED[n][2]}"
            for n in named
        )
        kinds = list(dict.fromkeys(RECONCILED[n][0] for n in named))
        tables_named = " and ".join(TABLE_NAMES[k] for k in kinds)
        these = " and ".join(THESE[k] for k in kinds)
        options = ", ".join(COSTS_OPTIONS[k] for k in kinds)
        out.append(
            f"the {name} were made from {tables_named} other than the "
            f"{'one' if kinds == ['policy'] else 'ones'} given ({figures}): tables of different "
            f"runs? Rerun costs{' --by customer' * (name != 'costs')} with {these} ({options})"
        )
    return out


def _stock_segments_against_policy(tables: Mapping[str, pl.DataFrame]) -> list[str]:
    """stock's --segments-out splits each stocking point's inventory among its segments, at the
    segments' targets that set the point's own (their weighted mean or highest): in one run its
    inventory_value sums to the policy's (costs reconciles them to the cent), and no point's
    target lies outside its segments'. The table of a run at one 0.95 target beside the chain's
    policy split 107,817 as 89,293 and judged the promises at 0.95 (audit S, session 63)."""
    policy, split = tables.get("policy"), tables.get("stock_segments")
    if policy is None or split is None or "sku" not in policy.columns:
        return []
    if "sku" not in split.columns:
        return []
    out = []
    if "inventory_value" in policy.columns and "inventory_value" in split.columns:
        value = pl.col("inventory_value").cast(pl.Float64, strict=False)
        whole = float(policy.select(value.sum()).item())
        parts = float(split.select(value.sum()).item())
        if abs(whole - parts) > TOLERANCE * max(abs(whole), 1.0):
            out.append(
                f"stock's --segments-out puts {format_number(parts, MONEY)} of inventory value in "
                f"the segments and the policy holds {format_number(whole, MONEY)}: tables of "
                "different runs?"
            )
    keys: list[str] = [k for k in ("site", "sku") if k in policy.columns and k in split.columns]
    if "service_target" in policy.columns and "service_level" in split.columns:
        out += _targets_outside_segments(policy, split, keys)
    return out


def _targets_outside_segments(
    policy: pl.DataFrame, split: pl.DataFrame, keys: list[str]
) -> list[str]:
    as_text = [pl.col(k).cast(pl.String) for k in keys]
    level = pl.col("service_level").cast(pl.Float64, strict=False)
    spans = split.group_by(as_text).agg(level.min().alias("_low"), level.max().alias("_high"))
    # A point without demand has no target and no segment rows: nothing to compare.
    both = (
        policy.select(*as_text, pl.col("service_target").cast(pl.Float64, strict=False))
        .drop_nulls("service_target")
        .join(spans.drop_nulls("_low"), on=keys, how="inner")
    )
    off = both.filter(
        (pl.col("service_target") < pl.col("_low") - TOLERANCE)
        | (pl.col("service_target") > pl.col("_high") + TOLERANCE)
    ).sort(keys)
    if not off.height:
        return []
    first = off.row(0, named=True)
    where = " ".join(str(first[k]) for k in keys)
    span = short_of_one(first["_low"]) + (
        f" to {short_of_one(first['_high'])}" if first["_high"] != first["_low"] else ""
    )
    return [
        f"at {off.height} of {plural(both.height, 'stocking point')} the policy's service target "
        f"lies outside its segments' targets in stock's --segments-out ({where}: "
        f"{short_of_one(first['service_target'])} in the policy, {span} in --segments-out): "
        "tables of different runs?"
    ]


def _orders_against_segments(
    tables: Mapping[str, pl.DataFrame], meta: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """segment reads the order lines before its --as-of: in one run they end on or after the
    segments' last order. (Orders that share no customer or sku are said by SHARED_KEYS.)"""
    orders, segments = tables.get("orders"), tables.get("segments")
    if orders is None or segments is None or "order_date" not in orders.columns:
        return []
    end, read = _last_day(orders.get_column("order_date")), _last_read(segments)
    if end is None or read is None or end >= read:
        return []
    return [
        f"the orders end {end}, before the segments' last order ({read}{_as_of(meta)}): tables "
        "of different runs?"
    ]


def _last_read(segments: pl.DataFrame) -> dt.date | None:
    """The last order line the segments read (their customers' last_order), or None. Not their
    as_of: it is the day after the orders' last by default, and may be any day after it."""
    if "last_order" not in segments.columns:
        return None
    return _last_day(segments.get_column("last_order"))


def _last_day(dates: pl.Series) -> dt.date | None:
    """The latest day of a column of dates, datetimes or ISO text (a CSV's), or None."""
    if dates.dtype == pl.String:
        dates = dates.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    elif isinstance(dates.dtype, pl.Datetime):
        dates = dates.dt.date()
    if dates.dtype != pl.Date:
        return None
    last = dates.max()
    return last if isinstance(last, dt.date) else None


def _day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _as_of(meta: Mapping[str, Mapping[str, Any]]) -> str:
    params = (meta.get("segments") or {}).get("params")
    as_of = params.get("as_of") if isinstance(params, Mapping) else None
    return f", as of {as_of}" if as_of else ""
