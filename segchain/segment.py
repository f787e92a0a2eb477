"""Customer segmentation: RFM, k-means or ABC-XYZ, with optional customer lifetime value.

Input is canonical clean order lines (``segchain.orders``). Feature rules, all in one lazy
polars aggregation per customer:

* lines on or after ``as_of`` are ignored (and counted); ``as_of`` defaults to the day after the
  last order, so recency is at least one day;
* returns carry negative quantity and amount and are netted into ``monetary`` and ``quantity``;
* lines flagged ``non_product`` (postage, fees, adjustments) count toward nothing: not
  monetary (it is not product revenue), quantity, lines or frequency; they are counted in
  ``SegmentResult.excluded``;
* ``frequency`` is the number of distinct orders holding at least one sale line (positive
  quantity), ``lines`` the number of sale lines; ``first_order``/``last_order`` are the first and
  last sale dates (for a customer without a sale in the window, those of its product lines, such
  as returns; of its non-product lines only if it has nothing else);
* ``tenure_days`` is ``as_of - first_order``, ``avg_order_value`` is ``monetary / frequency``
  (0 without orders).

Labels are stable by construction for ``rfm`` and ``abc-xyz`` (fixed rules); k-means clusters
take the label of the previous run's group they match (Hungarian matching of centroids to the
previous profile) when ``previous`` is given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, cast

import polars as pl

from segchain.errors import DataError, TableMessage, UsageError, examples
from segchain.formatting import agree, plural
from segchain.schema import (
    PREVIOUS_HINT,
    RAW_POSTAL_CODE,
    all_rejected_customers,
    check_customer_ids,
    check_one_row_per_customer,
    check_segment_cells,
    demand_line,
    id_null,
    number_problems,
    numeric_columns,
    product_line,
    require_columns,
    require_one_of,
    text_expr,
)

if TYPE_CHECKING:
    import numpy as np

Method = Literal["rfm", "kmeans", "abc-xyz"]
METHODS = ("rfm", "kmeans", "abc-xyz")

FEATURES = (
    "recency_days",
    "frequency",
    "monetary",
    "first_order",
    "last_order",
    "tenure_days",
    "avg_order_value",
    "quantity",
    "lines",
)
CLV_COLUMNS = ("p_alive", "expected_purchases", "clv")
SHIP_TO = ("lat", "lon", "postal_code", "city", "country")

# RFM: rows are the recency score 1..5, columns the FM score 1..5 (the mean of the frequency
# and monetary scores, rounded half up). Every cell is named, so every customer gets one of the
# eleven standard segments; this is the usual R x F grid with FM in place of F and the oldest,
# least valuable corner split off as "Lost".
RFM_SEGMENTS = (
    "Champions",
    "Loyal",
    "Potential Loyalist",
    "Cannot Lose Them",
    "At Risk",
    "Need Attention",
    "New",
    "Promising",
    "About to Sleep",
    "Hibernating",
    "Lost",
)
"""The eleven RFM segments in order of value: ``segment_rank`` follows this order."""

_RFM_GRID = {
    1: ("Lost", "Lost", "At Risk", "At Risk", "Cannot Lose Them"),
    2: ("Hibernating", "Hibernating", "At Risk", "At Risk", "Cannot Lose Them"),
    3: ("About to Sleep", "About to Sleep", "Need Attention", "Loyal", "Loyal"),
    4: ("Promising", "Potential Loyalist", "Potential Loyalist", "Loyal", "Loyal"),
    5: ("New", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"),
}
RFM_QUANTILES = 5

ABC_CUTOFFS = (0.80, 0.95)
XYZ_CUTOFFS = (0.5, 1.0)
XYZ_PERIOD = "1mo"

KMEANS_K_RANGE = (2, 8)
KMEANS_SAMPLE = 2000
KMEANS_FEATURES = ("recency_days", "frequency", "monetary", "tenure_days")
# What k-means tells customers apart by, as messages name it (monetary enters clipped at 0).
KMEANS_PROFILE = "recency, frequency, spend (a net return as 0) and tenure"
# Spend enters k-means as log1p(monetary / (MONEY_UNIT x the median positive spend)). log1p of the
# export's own unit was not scale-free (log1p(c x) is no shift of log1p(x)): in JPY or kEUR the
# same customers fell into other clusters than in EUR (1,229 of Online Retail's 4,372 at kEUR).
# A thousandth of the median keeps the offset as small against a typical spend as one euro was
# (Online Retail's median is some 650), so the feature stays a log of spend and a centroid a
# geometric mean; the median itself as the unit made it log(spend + median), nearly flat below
# the median, and changed the labels' typical customer.
MONEY_UNIT = 1e-3
ONE_SEGMENT = "All customers"

# The queries of one run share the scan of the orders (polars caches their common part) only if
# no filter is pushed down into that common part: each query's filters stay where it applies them.
ONE_PASS = pl.QueryOptFlags(predicate_pushdown=False)


@dataclass
class SegmentResult:
    """What ``segment`` returns.

    Attributes:
        segments: one row per customer (see the module docstring for the columns).
        profile: one row per segment, ordered by ``segment_rank``.
        changed: ``customer_id, previous_segment, segment`` for customers whose segment changed
            against ``previous`` (None without ``previous``).
        new_customers: customers of this run not in ``previous``.
        previous_only: ``previous``'s customers not in this run (lost since, or left out by
            ``as_of``), sorted.
        all_rejected: customers whose every line was rejected by the import (``reason``), so
            in no row of ``segments``, sorted; those whose every used line is on or after
            ``as_of`` are warned of instead.
        warnings: messages for the user (the CLI prints them on stderr).
        excluded: counts of order lines that did not enter the features, by reason.
        as_of: the date recency is measured from.
        k: number of clusters (k-means only).
        clv_fit: with ``clv``, the fitted models: ``bgnbd`` (``r, alpha, a, b`` with time in
            weeks, ``log_likelihood``, ``customers``) and ``gamma_gamma`` (``p, q, gamma``,
            ``log_likelihood``, ``customers``; None when too few repeat customers to fit it).
    """

    segments: pl.DataFrame
    profile: pl.DataFrame
    changed: pl.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)
    as_of: dt.date | None = None
    k: int | None = None
    new_customers: int = 0
    previous_only: list[str] = field(default_factory=list)
    clv_fit: dict[str, dict[str, float] | None] | None = None
    all_rejected: list[str] = field(default_factory=list)


def segment(
    orders: pl.LazyFrame | pl.DataFrame,
    *,
    method: str = "rfm",
    k: int | None = None,
    as_of: dt.date | None = None,
    clv: bool = False,
    clv_horizon: int = 365,
    previous: pl.DataFrame | None = None,
    abc_cutoffs: tuple[float, float] = ABC_CUTOFFS,
    xyz_cutoffs: tuple[float, float] = XYZ_CUTOFFS,
    seed: int = 0,
    tally: Callable[[pl.LazyFrame], Sequence[pl.LazyFrame]] | None = None,
    on_tally: Callable[[list[pl.DataFrame]], object] | None = None,
    as_exported: pl.LazyFrame | None = None,
) -> SegmentResult:
    """Segment customers from clean order lines.

    Args:
        orders: canonical order lines (lazy or eager). Lines with a ``reason`` (the import's
            rejected lines, when its lines are given whole) count toward nothing.
        method: ``rfm``, ``kmeans`` or ``abc-xyz``.
        k: number of k-means clusters; None chooses it (the previous run's number of segments
            when ``previous`` is given, else the best silhouette for k in 2..8).
        as_of: measure recency from this date and ignore orders on or after it.
        clv: add ``p_alive, expected_purchases, clv`` (BG/NBD + Gamma-Gamma).
        clv_horizon: CLV horizon in days.
        previous: an earlier segments table; keeps the labels of corresponding groups.
        abc_cutoffs: cumulative value shares closing classes A and B.
        xyz_cutoffs: coefficients of variation closing classes X and Y.
        seed: seed of k-means and of its sampling.
        tally: builds further queries from the order lines as read here (every column of
            ``orders`` kept): the import's reconciliation, its rejected lines. They are collected
            in the same pass as the features, so a raw export is read and cleaned once.
        on_tally: called with the collected ``tally`` before the features are checked, so
            that an export whose every line was rejected says so (it may raise).
        as_exported: ``orders`` as the usual export makes them, at less cost
            (``OrderImport.as_exported``). The pass reads these and checks, in the same scan,
            every distinct customer id and ``as_exported_differs``; only if a customer id has
            whitespace around it or the lines may differ does it read ``orders`` again.

    Raises:
        UsageError: invalid option values.
        DataError: the orders cannot be segmented (missing columns, empty values, fewer than
            two customers, nothing before ``as_of``, CLV without repeat purchases).
    """
    check_options(method, k, clv_horizon, abc_cutoffs, xyz_cutoffs)
    if previous is not None:
        previous = _check_previous(previous, method)
    if as_exported is not None:
        done = _one_pass(as_exported, method=method, as_of=as_of, clv=clv, tally=tally, check=True)
        if done.differs:  # the pass again, over the import's exact lines
            as_exported = None
    if as_exported is None:
        done = _one_pass(orders, method=method, as_of=as_of, clv=clv, tally=tally, check=False)
    lf, ship_to, frames, tallied = done.lf, done.ship_to, done.frames, done.tallied
    if on_tally is not None:
        on_tally(tallied)
    if method == "abc-xyz":
        monthly = frames.pop()
    agg = _counted_groups(frames[0])
    excluded: dict[str, int] = {}
    if as_of is not None:
        span = frames[1].row(0, named=True)
        excluded["after_as_of"] = int(span["after"])
    _check_values(agg, lf)
    if agg.height == 0:
        if as_of is not None and span["lines"]:
            raise DataError(
                f"no order lines before --as-of {as_of}: the orders run from {span['first']} "
                f"to {span['last']}",
                hint=f"pick an --as-of after {span['first']}",
            )
        raise DataError("orders: no order lines to segment")
    warnings: list[str] = []
    as_of_given = as_of is not None
    if as_of is None:
        as_of = cast(dt.date, agg.get_column("_last_any").max()) + dt.timedelta(days=1)
    else:
        warnings += _far_as_of(as_of, span["last"], method)
        if span["new_after"]:
            n = int(span["new_after"])
            warnings.append(
                f"{plural(n, 'customer')} whose every order line is on or after --as-of "
                f"{as_of} {agree(n, 'is', 'are')} in no segment (not yet customers then), e.g. "
                f"{', '.join(map(str, span['new_examples']))}"
            )
    excluded["non_product"] = int(agg.get_column("_non_product").sum())
    features = _features(agg, as_of)
    if features.height < 2:
        raise DataError(
            f"segment needs at least 2 customers; found {features.height} "
            f"({examples(features.get_column('customer_id'))})",
            # 'or use a wider --as-of window' was said without --as-of too.
            hint="check the customer_id mapping"
            + ("; or pick a later --as-of: only the lines before it count" if as_of_given else ""),
        )

    chosen_k: int | None = None
    if method == "rfm":
        labelled = _rfm(features)
    elif method == "abc-xyz":
        labelled = _abc_xyz(features, monthly, as_of, abc_cutoffs, xyz_cutoffs, warnings)
    else:
        labelled, chosen_k = _kmeans(features, k, previous, seed, warnings)

    changed = None
    new_customers = 0
    previous_only: list[str] = []
    if previous is not None:
        changed, new_customers, previous_only = _compare(labelled, previous, method, warnings)

    clv_fit = None
    if clv:
        labelled, clv_fit = _add_clv(labelled, clv_horizon, warnings)
    if ship_to:
        labelled = labelled.join(frames[-1], on="customer_id", how="left")

    columns = ["customer_id", "segment", "segment_rank", *FEATURES]
    if method == "rfm":
        columns += ["r_score", "f_score", "m_score"]
    if clv:
        columns += list(CLV_COLUMNS)
    columns += ship_to
    segments = labelled.select(columns).sort("customer_id")
    return SegmentResult(
        segments=segments,
        profile=profile(segments),
        changed=changed,
        warnings=warnings,
        excluded=excluded,
        as_of=as_of,
        k=chosen_k,
        new_customers=new_customers,
        previous_only=previous_only,
        clv_fit=clv_fit,
        all_rejected=done.all_rejected,
    )


# A later --as-of is normal (segmenting at month end on data from the 28th); past a year after
# the last order it is more likely a typo (2205 for 2025, a placeholder 2999-12-31).
FAR_AS_OF_DAYS = 366  # the default --as-of (the day after the last order) plus a year


def _far_as_of(as_of: dt.date, last: dt.date, method: str) -> list[str]:
    """A warning when ``as_of`` is more than a year after the last order line (``last``)."""
    gap = (as_of - last).days
    if gap <= FAR_AS_OF_DAYS:
        return []
    what = "every customer's recency_days and tenure_days are at least that"
    if method == "abc-xyz":
        what += ", and XYZ counts every month up to it as one without demand (erratic, Z)"
    return [
        f"--as-of {as_of} is {gap:,} days after the last order ({last}): {what}; leave "
        "--as-of out to measure from the day after the last order, or check the date"
    ]


@dataclass
class _Pass:
    """What ``_one_pass`` collected."""

    lf: pl.LazyFrame
    """The canonical lines."""
    ship_to: list[str]
    frames: list[pl.DataFrame]
    """The frames of ``segment_queries``."""
    tallied: list[pl.DataFrame]
    """The frames of ``tally``."""
    differs: bool
    """With ``check``: whether ``OrderImport.as_exported`` lines may differ from the import's
    ``lines`` (the pass is then made again over those)."""
    all_rejected: list[str]
    """See ``SegmentResult.all_rejected``."""


def _one_pass(
    orders: pl.LazyFrame | pl.DataFrame,
    *,
    method: str,
    as_of: dt.date | None,
    clv: bool = False,
    tally: Callable[[pl.LazyFrame], Sequence[pl.LazyFrame]] | None,
    check: bool,
) -> _Pass:
    """Collect segment's queries and ``tally`` in one pass over ``orders`` (with ``check``, for
    ``OrderImport.as_exported``, the queries of ``as_exported_checks`` too)."""
    lf, names = _canonical(orders.lazy())
    queries, ship_to = segment_queries(lf, names, method=method, as_of=as_of, clv=clv)
    extra = list(tally(lf)) if tally is not None else []
    # The ids of the lines left out (the checks' first query), for the customers whose every
    # line was rejected; lines without a `reason` (validate's Parquet) reject none.
    checks: list[pl.LazyFrame] = []
    if check:
        checks = as_exported_checks(lf, names, as_of=as_of)
    elif "reason" in names:
        checks = [outside_window_customers(lf, names, as_of=as_of)]
    # One pass over the source: every query starts from the same `lf` (filters come after it),
    # so polars caches it and reads and cleans the export once for all of them.
    collected = pl.collect_all(
        [*queries, *extra, *checks], engine="streaming", optimizations=ONE_PASS
    )
    frames = list(collected[: len(queries)])
    tallied = collected[len(queries) : len(queries) + len(extra)]
    # The aggregation's groups are the customer ids of the lines in the window; the first
    # check gives those of every other line: each line's id is in one or the other.
    inside = collected[0].get_column("customer_id")
    outside = collected[len(queries) + len(extra)] if checks else None
    differs = False
    if outside is not None and check:
        left_out = outside.get_column("customer_id").unique()
        # An id padded with whitespace, a spreadsheet error value or a placeholder for none (no
        # customer: read as blank) is not the import's: the pass again over the exact lines.
        from segchain.schema import NO_ID

        padded = any(
            bool(((ids != ids.str.strip_chars()) | ids.is_in(NO_ID)).any())
            for ids in (inside, left_out)
        )
        differs = padded or bool(collected[-1].item())
    return _Pass(
        lf=lf,
        ship_to=ship_to,
        frames=frames,
        tallied=tallied,
        differs=differs,
        all_rejected=all_rejected_customers(inside, outside),
    )


def as_exported_checks(
    lf: pl.LazyFrame, names: Sequence[str], *, as_of: dt.date | None
) -> list[pl.LazyFrame]:
    """The queries telling whether ``OrderImport.as_exported`` lines ``lf`` may differ from
    the import's ``lines``: the customer ids of the lines the aggregation leaves out (those
    of the others are its groups), and ``as_exported_differs`` (one boolean)."""
    from segchain.orders import as_exported_differs

    return [outside_window_customers(lf, names, as_of=as_of), lf.select(as_exported_differs(names))]


def outside_window_customers(
    lf: pl.LazyFrame, names: Sequence[str], *, as_of: dt.date | None
) -> pl.LazyFrame:
    """The customer ids of the lines that the per-customer aggregation leaves out (rejected,
    or on or after ``as_of``), with their ``reason`` when the lines have one; not made
    distinct: usually a few lines, and a streaming ``unique`` costs some 0.05 s however few
    they are."""
    inside = _in_window(names, as_of).fill_null(False)
    return lf.filter(~inside).select("customer_id", *(["reason"] if "reason" in names else []))


def _in_window(names: Sequence[str], as_of: dt.date | None) -> pl.Expr:
    """True for the lines the per-customer aggregation counts: used, and before ``as_of``."""
    used = pl.col("reason").is_null() if "reason" in names else pl.lit(True)
    return used & (pl.col("order_date") < pl.lit(as_of)) if as_of is not None else used


def segment_queries(
    lf: pl.LazyFrame,
    names: Sequence[str],
    *,
    method: str,
    as_of: dt.date | None,
    clv: bool = False,
) -> tuple[list[pl.LazyFrame], list[str]]:
    """The per-customer queries over canonical lines ``lf``: the aggregation (with ``clv``, also
    the value of the first purchase day), the span of dates (with ``as_of``), the ship-to (when
    the lines carry one), the monthly values (abc-xyz).

    Each query filters after ``lf``, never before it, so that they share one scan.
    """
    used = _in_window(names, None)
    in_window = _in_window(names, as_of)
    # Lines without a `reason` and no as_of are all counted: in_window is then the literal
    # True, whose sum in a group is 1, not the group's lines.
    counted = pl.len() if in_window.meta.is_literal() else in_window.sum()
    queries = [
        _prepare(lf)
        .group_by(_counted_customer(in_window))
        .agg(*_aggregations(clv=clv), counted.alias("_counted"))
    ]
    if as_of is not None:
        after = pl.col("order_date") >= pl.lit(as_of)
        customer = pl.col("customer_id")
        # Customers whose every line is on or after as_of: not customers yet at that date, so
        # in no row of the output; counted, as the lines are.
        later = customer.filter(after).drop_nulls().unique(maintain_order=True)
        new = later.is_in(customer.filter(~after).drop_nulls().unique().implode()).not_()
        queries.append(
            lf.filter(used).select(
                after=after.sum(),
                first=pl.col("order_date").min(),
                last=pl.col("order_date").max(),
                lines=pl.len(),
                new_after=new.sum(),
                new_examples=later.filter(new).sort().head(3).implode(),
            )
        )
    ship_to = [c for c in SHIP_TO if c in names]
    if ship_to:
        queries.append(_ship_to_query(lf, in_window, ship_to))
    if method == "abc-xyz":
        queries.append(_monthly_query(lf, in_window))
    return queries, ship_to


def _counted_customer(in_window: pl.Expr) -> pl.Expr:
    """The customer id of a line the per-customer queries count (``in_window``), else null: the
    lines left out are grouped under a null id, dropped after the group-by (``_counted``), rather
    than filtered out before it (a filter copies every column of nearly every line)."""
    return pl.when(in_window).then(pl.col("customer_id")).alias("customer_id")


def _counted_groups(agg: pl.DataFrame) -> pl.DataFrame:
    """The aggregation's groups of counted lines: without the null id of the lines left out
    (kept if a counted line has no customer id, for ``_check_values``)."""
    return agg.filter(pl.col("customer_id").is_not_null() | (pl.col("_counted") > 0))


def check_options(method, k, clv_horizon, abc_cutoffs, xyz_cutoffs) -> None:
    """Raise UsageError listing every invalid option (the CLI calls it before reading orders)."""
    problems = []
    if method not in METHODS:
        problems.append(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    if k is not None and k < 1:
        problems.append(f"--k must be a positive number of segments, got {k}")
    if k is not None and method != "kmeans":
        problems.append(f"--k applies to --method kmeans only (got --method {method})")
    if clv_horizon <= 0:
        problems.append(f"--clv-horizon must be a positive number of days, got {clv_horizon}")
    a, b = abc_cutoffs
    if not 0 < a < b <= 1:
        problems.append(
            f"--abc-cutoffs must be two shares 0 < A < B <= 1 (e.g. 0.8,0.95), got {a},{b}"
        )
    x, y = xyz_cutoffs
    if not 0 < x < y:
        problems.append(
            f"--xyz-cutoffs must be two coefficients of variation 0 < X < Y (e.g. 0.5,1.0), "
            f"got {x},{y}"
        )
    if problems:
        raise UsageError("; ".join(problems))


def _canonical(lf: pl.LazyFrame) -> tuple[pl.LazyFrame, list[str]]:
    """Check the columns and bring them to the types the aggregation expects."""
    schema = lf.collect_schema()
    names = schema.names()
    require_columns(names, ("order_id", "order_date", "customer_id", "quantity"), source="orders")
    value = require_one_of(names, ("amount", "unit_price"), source="orders")
    date_type = schema["order_date"]
    if not date_type.is_temporal():
        raise DataError(
            f"orders: order_date must be a date, found {date_type}",
            hint="read the export through segchain's importer (same options as validate)",
        )
    wanted = {
        "order_date": pl.Date,
        "customer_id": pl.String,
        "order_id": pl.String,
        "quantity": pl.Float64,
    }
    if value == "amount":
        wanted["amount"] = pl.Float64
    # The import's flags are an Enum (small codes): compared as they are.
    if "flag" in names and not isinstance(schema["flag"], pl.Enum):
        wanted["flag"] = pl.String
    # Only the casts that change a type: a frame already in these types (validate's Parquet) is
    # left as read, so that the queries sharing it share the scan itself, which polars' streaming
    # engine buffers at less cost than a projection of it (0.45 GB against 0.3 GB on 2 M lines).
    exprs = [pl.col(c).cast(t) for c, t in wanted.items() if schema[c] != t]
    if value != "amount":
        exprs.append((pl.col("quantity") * pl.col("unit_price")).cast(pl.Float64).alias("amount"))
    if "flag" not in names:
        exprs.append(pl.lit(None, dtype=pl.String).alias("flag"))
    return (lf.with_columns(exprs) if exprs else lf), names


def _prepare(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Row-wise masked columns, so that the per-customer aggregation is plain sums, minima and
    distinct counts (filters inside a group-by aggregation cost twice as much)."""
    product = product_line()
    # A price correction nets the value (monetary) but is no purchase: no units, no order.
    demand = demand_line()
    sale = demand & (pl.col("quantity") > 0)
    return lf.with_columns(
        _amount=pl.when(product).then(pl.col("amount")).otherwise(0.0),
        _quantity=pl.when(demand).then(pl.col("quantity")).otherwise(0.0),
        _sale=sale,
        _sale_date=pl.when(sale).then(pl.col("order_date")),
        _sale_order=pl.when(sale).then(pl.col("order_id")),
        _product_date=pl.when(product).then(pl.col("order_date")),
        _non_product=~product,
    )


def _aggregations(*, clv: bool = False) -> list[pl.Expr]:
    date = pl.col("order_date")
    # Gamma-Gamma's spend is that of the repeat purchases: the net value of the product lines
    # after the first purchase day, a later return netted whatever its day (a filter in the
    # aggregation, so only when CLV is asked for). Not monetary less the first day's value: a
    # return dated before the first purchase (of goods bought before the export starts) is no
    # repeat purchase's, and was netted into the repeat spend (Online Retail: 70 customers).
    repeat_value = [
        pl.col("_amount").filter(date > pl.col("_sale_date").min()).sum().alias("_repeat_value")
    ]
    return [
        *(repeat_value if clv else []),
        pl.col("_amount").sum().alias("monetary"),
        pl.col("_quantity").sum().alias("quantity"),
        pl.col("_sale").sum().alias("lines"),
        # n_unique counts the null of non-sale lines as one more value; _features removes it.
        pl.col("_sale_order").n_unique().alias("frequency"),
        pl.col("_sale_date").n_unique().alias("_purchase_days"),
        pl.col("_sale_date").min().alias("_first_sale"),
        pl.col("_sale_date").max().alias("_last_sale"),
        pl.col("_product_date").min().alias("_first_product"),
        pl.col("_product_date").max().alias("_last_product"),
        date.min().alias("_first_any"),
        date.max().alias("_last_any"),
        pl.col("_non_product").sum().alias("_non_product"),
        pl.len().alias("_lines_all"),
        date.null_count().alias("_null_date"),
        pl.col("quantity").null_count().alias("_null_quantity"),
        pl.col("amount").null_count().alias("_null_amount"),
    ]


def _check_values(agg: pl.DataFrame, lf: pl.LazyFrame) -> None:
    """Raise one DataError listing every kind of empty value the clean lines should not hold."""
    problems = []
    nulls = agg.filter(pl.col("customer_id").is_null())
    if nulls.height:
        n = nulls.item(0, "_counted")
        problems.append(f"{plural(n, 'line')} {agree(n, 'has', 'have')} an empty customer_id")
    for column in ("order_date", "quantity", "amount"):
        bad = agg.filter(pl.col(f"_null_{'date' if column == 'order_date' else column}") > 0)
        bad = bad.filter(pl.col("customer_id").is_not_null())
        if bad.height:
            n = int(bad.get_column(f"_null_{'date' if column == 'order_date' else column}").sum())
            problems.append(
                f"{plural(n, 'line')} {agree(n, 'has', 'have')} an empty {column} (customer_id "
                f"{examples(bad.get_column('customer_id').sort())})"
            )
    if problems:
        raise DataError(
            "orders: " + "; ".join(problems),
            hint="clean the export with segchain's importer (see `segchain validate`), which "
            "rejects such lines with a reason",
        )


def _features(agg: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    as_of_lit = pl.lit(as_of, dtype=pl.Date)
    # Without a sale in the window, a customer's dates are those of its product lines (returns,
    # price corrections): a postage or fee line counts toward nothing, tenure included (Online
    # Retail's 15823 had 373 days from a BANK CHARGES line, 338 from its first return). Only a
    # customer with nothing but such lines takes their dates.
    first = pl.coalesce("_first_sale", "_first_product", "_first_any")
    last = pl.coalesce("_last_sale", "_last_product", "_last_any")
    # Lines that are not sales hold a null in _sale_order/_sale_date, counted as one value.
    has_other = (pl.col("_lines_all") > pl.col("lines")).cast(pl.Int64)
    frequency = pl.col("frequency").cast(pl.Int64) - has_other
    # Rounding the sums removes the last-bit noise of parallel float summation, so that equal
    # customers tie exactly and reruns give identical scores and bytes.
    monetary = _rounded(pl.col("monetary"))
    return agg.select(
        "customer_id",
        (as_of_lit - last).dt.total_days().cast(pl.Int64).alias("recency_days"),
        frequency.alias("frequency"),
        monetary.alias("monetary"),
        first.alias("first_order"),
        last.alias("last_order"),
        (as_of_lit - first).dt.total_days().cast(pl.Int64).alias("tenure_days"),
        pl.when(frequency > 0)
        .then(monetary / frequency)
        .otherwise(0.0)
        .round(6)
        .alias("avg_order_value"),
        _rounded(pl.col("quantity")).alias("quantity"),
        pl.col("lines").cast(pl.Int64).alias("lines"),
        (pl.col("_purchase_days").cast(pl.Int64) - has_other).alias("_purchase_days"),
        (last - first).dt.total_days().cast(pl.Int64).alias("_first_to_last"),
        *(["_repeat_value"] if "_repeat_value" in agg.columns else []),
    ).sort("customer_id")


def _rounded(total: pl.Expr) -> pl.Expr:
    """``total`` rounded to 6 decimals, a zero always +0.0: returns that cancel purchases leave a
    residue of either sign in the last bits (4.35 - 1.45 - 2.9), and its sign survived the
    rounding as -0.0 in some runs, 0.0 in others."""
    rounded = total.round(6)
    return pl.when(rounded == 0).then(0.0).otherwise(rounded)


def quantile_score(values: pl.Expr, *, descending: bool = False, q: int = RFM_QUANTILES) -> pl.Expr:
    """Score 1..q by mid-rank percentile: ties share a score, and a base smaller than ``q``
    spreads over the scale (2 customers score 2 and 4, 1 customer scores 3)."""
    rank = values.rank("average", descending=descending)
    percentile = (rank - 0.5) / values.len()
    return (percentile * q).floor().cast(pl.Int64).clip(0, q - 1) + 1


def _score_against(
    values: pl.Series, population: pl.Series, *, descending: bool = False, q: int = RFM_QUANTILES
) -> pl.Series:
    """Score 1..q every value by its mid-rank percentile among ``values[population]`` alone.

    Within the population this is ``quantile_score``; a value outside it is placed among them
    as a tie would be (the share below it plus half the share equal), so it moves no one else.
    """
    points = values.cast(pl.Float64) * (-1.0 if descending else 1.0)
    ordered = points.filter(population).sort()
    below = ordered.search_sorted(points, side="left").cast(pl.Float64)
    equal = ordered.search_sorted(points, side="right").cast(pl.Float64) - below
    percentile = (below + 0.5 * equal) / ordered.len()
    return ((percentile * q).floor().cast(pl.Int64).clip(0, q - 1) + 1).alias(values.name)


def _kept_something(df: pl.DataFrame) -> pl.Series:
    """Customers who kept units or value net of returns: a positive net ``quantity`` or
    ``monetary``. The others bought nothing net (a sale returned in full, only returns, price
    corrections or fees). A purchase at no price keeps its units (CDNOW's $0 purchases)."""
    return (df.get_column("quantity") > 0) | (df.get_column("monetary") > 0)


def _rfm(features: pl.DataFrame) -> pl.DataFrame:
    # A customer who bought nothing net scores F and M 1 and is scored against the others
    # without counting in their percentiles. Counted, a sale and its credit note added one
    # customer to the quantile populations and moved 7 of the demo's 400 others across an edge
    # (Potential Loyalist to Champions). When no one kept anything, all of them count.
    valued = _kept_something(features)
    if not valued.any():
        valued = ~valued
    # A high recency score means a recent customer: rank the days since descending.
    recency = _score_against(features.get_column("recency_days"), valued, descending=True)
    frequency = _score_against(features.get_column("frequency"), valued)
    monetary = _score_against(features.get_column("monetary"), valued)
    scored = features.with_columns(
        # A customer without any purchase in the window (only returns) is the least recent.
        r_score=pl.when(pl.col("frequency") > 0).then(recency).otherwise(1),
        f_score=pl.when(valued).then(frequency).otherwise(1),
        m_score=pl.when(valued).then(monetary).otherwise(1),
    )
    grid = pl.DataFrame(
        [
            {"r_score": r, "_fm": fm + 1, "segment": name}
            for r, row in _RFM_GRID.items()
            for fm, name in enumerate(row)
        ],
        schema={"r_score": pl.Int64, "_fm": pl.Int64, "segment": pl.String},
    )
    scored = scored.with_columns(_fm=(pl.col("f_score") + pl.col("m_score") + 1) // 2).join(
        grid, on=["r_score", "_fm"], how="left"
    )
    return _rank_by_order(scored, RFM_SEGMENTS)


def _rank_by_order(df: pl.DataFrame, order: tuple[str, ...] | list[str]) -> pl.DataFrame:
    present = set(df.get_column("segment").unique().to_list())
    ranks = {label: i + 1 for i, label in enumerate(x for x in order if x in present)}
    return df.with_columns(
        segment_rank=pl.col("segment").replace_strict(ranks, return_dtype=pl.Int64)
    )


def _abc_xyz(
    features: pl.DataFrame,
    monthly: pl.DataFrame,
    as_of: dt.date,
    abc_cutoffs: tuple[float, float],
    xyz_cutoffs: tuple[float, float],
    warnings: list[str],
) -> pl.DataFrame:
    """ABC by the cumulative share of value before the customer (so the customer who crosses
    80 % is still an A); XYZ by the coefficient of variation of monthly net value over all
    months of the window, months without orders counting as zero, a month observed in part
    weighing its share of days (``_window_months``)."""
    a_cut, b_cut = abc_cutoffs
    x_cut, y_cut = xyz_cutoffs
    positive = pl.col("monetary").clip(0, None)
    total = float(features.get_column("monetary").clip(0, None).sum())
    ranked = features.sort(["monetary", "customer_id"], descending=[True, False])
    # Customers of equal value share the class of the first of them: the value before a tie is
    # that of the customers worth more, not of the tied ones whose names sort earlier (ten
    # identical customers were nine AX and one BX, by their ids).
    ranked = ranked.with_columns(
        _before=((positive.cum_sum() - positive) / (total if total > 0 else 1.0))
    ).with_columns(pl.col("_before").min().over("monetary"))
    before = pl.col("_before")
    abc = (
        pl.when(pl.col("monetary") <= 0)
        .then(pl.lit("C"))
        .when(before < a_cut)
        .then(pl.lit("A"))
        .when(before < b_cut)
        .then(pl.lit("B"))
        .otherwise(pl.lit("C"))
    )
    first = cast(dt.date, features.get_column("first_order").min())
    months = _window_months(first, as_of)
    if months.height < 2:
        warnings.append(
            "the orders span a single month: every customer's demand looks steady (X); "
            "XYZ needs at least two months of history"
        )
    # A month observed in part (the first, from the first order; the last, up to as_of) weighs
    # its share w of days: its expected value is w x the monthly mean, and its deviation is
    # counted from that, as a month's variance grows with its days. Counted whole, the one
    # observed day of The Complete Journey's January 2018 (default as_of) was a month without
    # demand for everyone: 380 of 2,429 households in a worse class, X 293 where it is 529.
    # With every month whole this is the plain mean and population variance.
    weights = float(months.get_column("_w").sum())
    squares = float((months.get_column("_w") ** 2).sum())
    ranked = ranked.join(_monthly_moments(monthly, months), on="customer_id", how="left")
    ranked = ranked.with_columns(pl.col("_s", "_sw", "_ss").fill_null(0.0))
    mean = pl.col("_s") / weights
    spread = pl.col("_ss") - 2 * mean * pl.col("_sw") + mean**2 * squares
    std = (spread / weights).clip(0, None).sqrt()
    cv = std / mean
    xyz = (
        pl.when(mean <= 0)
        .then(pl.lit("Z"))
        .when(cv <= x_cut)
        .then(pl.lit("X"))
        .when(cv <= y_cut)
        .then(pl.lit("Y"))
        .otherwise(pl.lit("Z"))
    )
    labelled = ranked.with_columns(segment=abc + xyz).drop("_before")
    order = [f"{a}{x}" for a in "ABC" for x in "XYZ"]
    return _rank_by_order(labelled, order)


def _kmeans(
    features: pl.DataFrame,
    k: int | None,
    previous: pl.DataFrame | None,
    seed: int,
    warnings: list[str],
) -> tuple[pl.DataFrame, int]:
    import numpy as np
    from sklearn.cluster import KMeans

    from segchain.cores import count_cores_quietly

    count_cores_quietly()
    units = _feature_units(features)
    matrix = _log_features(features, units)
    mean = matrix.mean(axis=0)
    scale = matrix.std(axis=0)
    scale[scale == 0] = 1.0
    z = (matrix - mean) / scale
    distinct = np.unique(z, axis=0).shape[0]
    if distinct < 2:
        warnings.append(
            f"every customer has the same {KMEANS_PROFILE}: k-means cannot separate them, so "
            f"all are in one segment {ONE_SEGMENT!r}"
        )
        one = features.with_columns(segment=pl.lit(ONE_SEGMENT), segment_rank=pl.lit(1))
        return one, 1
    if k is not None and k > distinct:
        # The profiles are those k-means separates, tenure included: 'distinct customer
        # profiles (recency, frequency, monetary)' counted 2 where those three gave 1.
        raise DataError(
            f"--k {k} asks for more clusters than the "
            f"{plural(distinct, 'distinct customer profile')} ({KMEANS_PROFILE}) in the data",
            hint=f"use --k {distinct} or fewer, or leave --k out to choose it automatically",
        )
    other = _other_method(previous)
    if other is not None:
        # Its number of segments and its names are another method's: 11 RFM segments made 11
        # clusters (automatic k is 2..8) named Champions, Lost, ... by nearest profile, and
        # ABC-XYZ's classes named clusters AZ, BY whose spend did not follow them.
        warnings.append(
            TableMessage(
                f"{{--previous}} holds {other} segments, not k-means clusters: this run "
                "chooses its own number of clusters and names, and every customer's segment "
                "differs from it by name",
                {"--previous": "--previous"},
            )
        )
        previous = None
    if k is None and previous is not None and "segment" in previous.columns:
        wanted = previous.get_column("segment").n_unique()
        if 1 <= wanted <= distinct:
            k = wanted
    # One OpenMP thread: on a busy machine scikit-learn's spinning threads make k-means 100x
    # slower, and a few features on 1e5 customers do not need more.
    from threadpoolctl import threadpool_limits

    # k-means++ seeding draws row positions, so the clusters depended on the row order, which
    # is the customer ids' sort order: the same customers under other ids (an ERP's renumbering)
    # fell in other local optima (2 of the demo's 400 moved segment). Fitted on the rows in the
    # order of their features, the clusters are a function of the features alone.
    canonical = np.lexsort(z.T[::-1])
    with threadpool_limits(limits=1):
        if k is None:
            k = _choose_k(z[canonical], distinct, seed)
        model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(z[canonical])
    centroids = model.cluster_centers_
    assigned = np.empty(len(z), dtype=np.int64)
    assigned[canonical] = model.labels_
    clusters = pl.Series("_cluster", assigned)
    df = features.with_columns(clusters)
    value = (
        df.group_by("_cluster")
        .agg(pl.col("monetary").mean().alias("_value"), pl.col("frequency").mean().alias("_f"))
        .sort("_cluster")
    )
    labels = _cluster_labels(matrix, assigned, value.get_column("_f").to_numpy())
    # Numbered ('... (2)') only once the previous run's names are given: numbered before, a
    # cluster matched to nothing kept its '(2)' when its twin took a previous name.
    if previous is not None:
        labels = _match_previous(labels, centroids, previous, units, mean, scale, warnings)
    labels = _unique(labels)
    order = value.with_columns(segment=pl.Series(labels)).sort(
        ["_value", "segment"], descending=[True, False]
    )
    ranks = {c: i + 1 for i, c in enumerate(order.get_column("_cluster").to_list())}
    names = dict(enumerate(labels))
    df = df.with_columns(
        segment=pl.col("_cluster").replace_strict(names, return_dtype=pl.String),
        segment_rank=pl.col("_cluster").replace_strict(ranks, return_dtype=pl.Int64),
    )
    return df, k


def _other_method(previous: pl.DataFrame | None) -> str | None:
    """The method other than k-means whose labels ``previous`` holds, every one of them (RFM's
    segments, ABC-XYZ's classes), or None: a k-means run's, or names a user gave its clusters."""
    if previous is None or "segment" not in previous.columns:
        return None
    labels = set(previous.get_column("segment").drop_nulls().cast(pl.String).unique().to_list())
    if not labels:
        return None
    if labels <= set(RFM_SEGMENTS):
        return "RFM"
    if all(len(x) == 2 and x[0] in "ABC" and x[1] in "XYZ" for x in labels):
        return "ABC-XYZ"
    return None


def _feature_units(df: pl.DataFrame) -> np.ndarray:
    """The unit each of ``KMEANS_FEATURES`` is counted in before log1p: a day, an order, and for
    monetary ``MONEY_UNIT`` of the customers' median positive spend."""
    import numpy as np

    spend = df.get_column("monetary").cast(pl.Float64)
    median = spend.filter(spend > 0).median()
    money = float(median) * MONEY_UNIT if isinstance(median, float) and median > 0 else 1.0
    return np.array([money if c == "monetary" else 1.0 for c in KMEANS_FEATURES])


def _log_features(df: pl.DataFrame, units: np.ndarray) -> np.ndarray:
    """log1p of recency, frequency, non-negative monetary and tenure, each in its ``units``
    (``_feature_units``): the skew of spend otherwise makes one cluster of a few big accounts and
    one of everybody else; tenure tells new customers from occasional ones with the same few
    orders."""
    import numpy as np

    return np.column_stack(
        [
            np.log1p(df.get_column(c).cast(pl.Float64).clip(0, None).to_numpy() / unit)
            for c, unit in zip(KMEANS_FEATURES, units, strict=True)
        ]
    )


def _choose_k(z: np.ndarray, distinct: int, seed: int) -> int:
    """k in 2..8 with the best silhouette on a seeded sample of customers."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(seed)
    sample = z if len(z) <= KMEANS_SAMPLE else z[rng.choice(len(z), KMEANS_SAMPLE, replace=False)]
    sample_distinct = np.unique(sample, axis=0).shape[0]
    low, high = KMEANS_K_RANGE
    high = min(high, distinct, sample_distinct, len(sample) - 1)
    if high < low:
        return min(2, distinct)
    best_k, best_score = low, -np.inf
    for k in range(low, high + 1):
        labels = KMeans(n_clusters=k, n_init=2, random_state=seed).fit_predict(sample)
        if len(np.unique(labels)) < 2:
            continue
        score = silhouette_score(sample, labels)
        if score > best_score + 1e-9:
            best_k, best_score = k, score
    return best_k


# Each word compares a cluster's typical customer with the typical customer of all the others:
# twice as much or more (TWICE) earns the high word, half or less the low one. The typical customer
# is the cluster's k-means centroid taken back to days, orders and money: the geometric mean
# expm1(mean(log1p(x))) of each feature, as k-means sees it (money in units of the median spend,
# ``_feature_units``, which the ratios do not depend on).
# Not z-scores of the centroid (the earlier rule): a cluster holding a share s of the
# customers has |z| <= sqrt((1 - s) / s) on every feature (0.65 at 70 %, 0.33 at 90 %), so fixed z
# thresholds described the cluster's size, not its customers: on 300 products of The Complete
# Journey the 70 % of households with 95 % of the revenue (typical spend 309 against the others'
# 34, last order 7 days ago against 47) read 'Mid value, frequent', with no recency word. The
# ratio to the other customers has no such bound.
# Not arithmetic means (share of revenue over share of customers): against the average customer
# that index is bounded by 1 / s too (1.43 at 70 %), and against the other customers' mean a few
# very large accounts outweigh everybody else (on the sample data at k=6, 69 customers spending 7
# times the typical other customer would read 'Mid value' next to 36 large accounts).
TWICE = 2.0


def _cluster_labels(
    matrix: np.ndarray, clusters: np.ndarray, mean_frequency: np.ndarray
) -> list[str]:
    """Readable names for clusters 0..k-1 of the customers' log features ``matrix``
    (``_log_features``): each cluster's typical customer against the others'.

    Value: High at twice the others' typical spend or more, Top for a High cluster spending twice
    another High cluster's or more (two tiers of big spenders read apart), Low at half or less,
    else Mid. Frequency: frequent at twice the orders, occasional at half (one-off under 1.5
    orders on average), else regular. Recency: lapsed at twice the days since the last order,
    recent at half. Tenure: new at half the days since the first order. Two clusters may read
    alike (``_unique`` numbers them)."""
    import numpy as np

    k = len(mean_frequency)
    n = np.bincount(clusters, minlength=k).astype(float)
    sums = np.vstack([matrix[clusters == c].sum(axis=0) for c in range(k)])
    inside = np.expm1(sums / n[:, None])
    rest_n = n.sum() - n
    with np.errstate(invalid="ignore", divide="ignore"):
        outside = np.expm1((sums.sum(axis=0) - sums) / rest_n[:, None])
        ratio = np.where(outside > 0, inside / outside, np.where(inside > 0, np.inf, 1.0))
    ratio[rest_n == 0] = 1.0  # one cluster: nobody to compare with
    r_recency, r_frequency, r_value, r_tenure = ratio.T
    high = r_value >= TWICE
    labels = []
    for c in range(k):
        if high[c]:
            top = any(inside[c, 2] >= TWICE * inside[o, 2] for o in range(k) if high[o] and o != c)
            value = "Top value" if top else "High value"
        else:
            value = "Low value" if r_value[c] <= 1 / TWICE else "Mid value"
        if r_frequency[c] >= TWICE:
            often = "frequent"
        elif r_frequency[c] <= 1 / TWICE:
            often = "one-off" if mean_frequency[c] < 1.5 else "occasional"
        else:
            often = "regular"
        label = f"{value}, {often}"
        if r_recency[c] >= TWICE:
            label += ", lapsed"
        elif r_recency[c] <= 1 / TWICE:
            label += ", recent"
        if r_tenure[c] <= 1 / TWICE:
            label += ", new"
        labels.append(label)
    return labels


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def _match_previous(
    labels: list[str],
    centroids: np.ndarray,
    previous: pl.DataFrame,
    units: np.ndarray,
    mean: np.ndarray,
    scale: np.ndarray,
    warnings: list[str],
) -> list[str]:
    """Give each cluster the label of the previous group whose profile is nearest (one-to-one,
    Hungarian assignment in the current standardised feature space)."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    needed = ("segment", *KMEANS_FEATURES)
    missing = [c for c in needed if c not in previous.columns]
    if missing:
        warnings.append(
            TableMessage(
                f"{{--previous}} lacks {', '.join(missing)}: k-means labels could not be "
                "matched to it",
                {"--previous": "--previous"},
            )
        )
        return labels
    groups = previous.select(needed).drop_nulls().sort("segment")
    if groups.is_empty():
        # Every row lacks one of them: no profile to match (numpy was asked to stack none).
        warnings.append(
            TableMessage(
                f"{{--previous}} has no row with every one of {', '.join(KMEANS_FEATURES)}: "
                "k-means labels could not be matched to it",
                {"--previous": "--previous"},
            )
        )
        return labels
    names = groups.get_column("segment").unique(maintain_order=True).to_list()
    z_prev = (_log_features(groups, units) - mean) / scale
    codes = groups.get_column("segment").to_numpy()
    profiles = np.vstack([z_prev[codes == name].mean(axis=0) for name in names])
    cost = ((centroids[:, None, :] - profiles[None, :, :]) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    out = list(labels)
    for r, c in zip(rows, cols, strict=True):
        out[r] = names[c]
    # Clusters without a previous counterpart keep their own name, made distinct.
    taken = {out[r] for r in rows}
    for i in range(len(out)):
        if i not in set(rows) and out[i] in taken:
            out[i] = f"{out[i]} (new)"
    return out


def _check_previous(previous: pl.DataFrame, method: str) -> pl.DataFrame:
    """Before any work: ``previous`` has its columns and one row per customer (a customer
    twice was compared with its first row only, the other dropped without a word); for
    k-means, which matches its clusters to the previous groups by their profiles, those
    columns as numbers, each finite where given (a NaN, an infinite or a text value there
    stopped the matching with a traceback, exit 1)."""
    require_columns(previous.columns, ("customer_id", "segment"), source="--previous")
    check_customer_ids(previous, source="--previous", hint=PREVIOUS_HINT)
    check_one_row_per_customer(previous, source="--previous")
    # A customer with a blank segment was counted as new ('3 new customers') though listed.
    check_segment_cells(previous, source="--previous")
    if method != "kmeans":
        return previous  # its profile columns are not read
    keys = ("customer_id",)
    previous = numeric_columns(previous, KMEANS_FEATURES, source="--previous", keys=keys)
    problems = number_problems(previous, dict.fromkeys(KMEANS_FEATURES, ""), keys=keys)
    if problems:
        raise DataError(
            "--previous: " + "; ".join(problems),
            hint="give an earlier segments output as segment wrote it: k-means names its "
            "clusters after the previous groups nearest them by these columns",
        )
    return previous


def _compare(
    labelled: pl.DataFrame, previous: pl.DataFrame, method: str, warnings: list[str]
) -> tuple[pl.DataFrame, int, list[str]]:
    prev = previous.select(
        pl.col("customer_id").cast(pl.String),
        pl.col("segment").cast(pl.String).alias("previous_segment"),
    )
    both = labelled.select("customer_id", "segment").join(prev, on="customer_id", how="left")
    new_customers = both.get_column("previous_segment").null_count()
    ids = prev.get_column("customer_id").drop_nulls()
    if ids.len() and new_customers == both.height:
        # "0 customers changed segment; 7 new customers" read as a comparison made.
        here = examples(both.get_column("customer_id").to_list(), 3)
        warnings.append(
            TableMessage(
                f"{{--previous}} shares no customer_id with these orders: none of its "
                f"{plural(ids.len(), 'customer')} ({examples(ids.to_list(), 3)}) is "
                f"among these ({here}), so every customer counts as new; give the segments "
                "written from an earlier export of the same system",
                {"--previous": "--previous"},
            )
        )
    changed = (
        both.filter(
            pl.col("previous_segment").is_not_null()
            & (pl.col("previous_segment") != pl.col("segment"))
        )
        .select("customer_id", "previous_segment", "segment")
        .sort("customer_id")
    )
    now = set(labelled.get_column("segment").unique().to_list())
    before = set(prev.get_column("previous_segment").unique().to_list())
    # (k-means said already which method's segments --previous holds, ``_kmeans``.)
    said = method == "kmeans" and _other_method(previous) is not None
    if not now & before and not said:
        warnings.append(
            TableMessage(
                f"{{--previous}} shares no segment label with this run (--method {method}): "
                "was it made with another method?",
                {"--previous": "--previous"},
            )
        )
    # The other side of the migration: customers of the previous run absent from this one.
    gone = ids.filter(~ids.is_in(labelled.get_column("customer_id").implode())).unique().sort()
    return changed, new_customers, gone.to_list()


def _add_clv(
    df: pl.DataFrame, horizon: int, warnings: list[str]
) -> tuple[pl.DataFrame, dict[str, dict[str, float] | None] | None]:
    import numpy as np

    from segchain.clv import lifetime_value

    # A customer without a purchase day in the window (only returns or fees) has no first
    # purchase for BG/NBD's T to run from: it entered the fit as a one-time buyer whose
    # "purchase" was a return, and got p_alive 1 and a CLV (14,234 in all for Online Retail's 37).
    # One who bought nothing net (a sale returned in full: no units nor value kept) has no
    # purchase either: it was valued at the population's mean spend (427 on the demo for a sale
    # and its credit note).
    bought = (df.get_column("_purchase_days") > 0) & _kept_something(df)
    none = df.filter(~bought).get_column("customer_id")
    if none.len():
        n = none.len()
        warnings.append(
            f"{plural(n, 'customer')} with no purchase in the window, only returns or fees, or "
            f"purchases returned in full ({examples(none.sort(), 3)}), "
            f"{agree(n, 'has', 'have')} no CLV: p_alive, "
            "expected_purchases and clv are left empty, and the BG/NBD and Gamma-Gamma fits "
            "leave them out"
        )
    buyers = df.filter(bought)
    days = buyers.get_column("_purchase_days").to_numpy()
    if not (days > 1).any():
        return _without_clv(df, buyers.height, warnings), None
    repeats = np.maximum(days - 1, 1)
    # Rounded as monetary is (``_features``): a float sum in the lines' order differs in its last
    # bits from one order to another, and the Gamma-Gamma fit with it.
    repeat_value = buyers.get_column("_repeat_value").round(6)
    result = lifetime_value(
        days,
        buyers.get_column("_first_to_last").to_numpy(),
        # T runs to the last day observed, the day before as_of, as the purchases' times are
        # their days: Fader, Hardie & Lee's T (lifetimes and CLVTools measure it so).
        buyers.get_column("tenure_days").to_numpy() - 1,
        repeat_value.to_numpy() / repeats,
        horizon_days=horizon,
    )
    warnings.extend(result.warnings)
    bg, gg = result.bgnbd, result.gamma_gamma
    fit: dict[str, dict[str, float] | None] = {
        "bgnbd": {
            "r": float(bg.r),
            "alpha": float(bg.alpha),
            "a": float(bg.a),
            "b": float(bg.b),
            "log_likelihood": float(bg.log_likelihood),
            "customers": result.bgnbd_customers,
        },
        "gamma_gamma": None
        if gg is None
        else {
            "p": float(gg.p),
            "q": float(gg.q),
            "gamma": float(gg.gamma),
            "log_likelihood": float(gg.log_likelihood),
            "customers": result.gamma_gamma_customers,
        },
    }
    values = buyers.select(
        "customer_id",
        # NaN where the fitted models give no finite value (clv._unfinite_left_empty): empty.
        p_alive=pl.Series(result.p_alive).fill_nan(None).round(6),
        expected_purchases=pl.Series(result.expected_purchases).fill_nan(None).round(6),
        clv=pl.Series(result.clv).fill_nan(None).round(2),
    )
    return df.join(values, on="customer_id", how="left", maintain_order="left"), fit


def _without_clv(df: pl.DataFrame, buyers: int, warnings: list[str]) -> pl.DataFrame:
    """The segments with their CLV columns empty, and why, when no customer bought on a second
    day: BG/NBD is not identified without a repeat purchase. Refusing (exit 1) stopped a cron
    job's whole segmentation, RFM included, over three optional columns, until a customer came
    back; a customer whose values cannot be computed is left empty too
    (``clv._unfinite_left_empty``)."""
    warnings.append(
        f"CLV not fitted: none of the {plural(buyers, 'customer')} with a purchase bought on a "
        "second day before --as-of (BG/NBD needs repeat purchases): p_alive, "
        "expected_purchases and clv are left empty for every customer; a longer order history "
        "or a later --as-of gives the model repeat buyers"
    )
    return df.with_columns(pl.lit(None, dtype=pl.Float64).alias(c) for c in CLV_COLUMNS)


def _monthly_query(lf: pl.LazyFrame, in_window: pl.Expr) -> pl.LazyFrame:
    """Each customer's net product value per month (``_p``, its 1st) in which it has lines (for
    XYZ, ``_monthly_moments``)."""
    return (
        lf.filter(in_window & product_line())
        .group_by("customer_id", pl.col("order_date").dt.truncate(XYZ_PERIOD).alias("_p"))
        .agg(pl.col("amount").sum().alias("_v"))
    )


def _window_months(first: dt.date, as_of: dt.date) -> pl.DataFrame:
    """The calendar months (``_p``, their 1st) from ``first`` to the day before ``as_of``, each
    with ``_w``, the share of its days inside that window: 1 for a whole month, less for the
    first when ``first`` is after its 1st and for the last when ``as_of`` is before its end."""
    start = first.replace(day=1)
    months = pl.DataFrame(
        {"_p": pl.date_range(start, as_of - dt.timedelta(days=1), XYZ_PERIOD, eager=True)}
    )
    end = pl.col("_p").dt.offset_by(XYZ_PERIOD)
    inside = pl.min_horizontal(end, pl.lit(as_of)) - pl.max_horizontal("_p", pl.lit(first))
    return months.with_columns(_w=inside.dt.total_days() / (end - pl.col("_p")).dt.total_days())


def _monthly_moments(monthly: pl.DataFrame, months: pl.DataFrame) -> pl.DataFrame:
    """Per customer: ``_s`` the sum of its monthly values v, ``_sw`` of w x v (w: the month's
    share observed, ``_window_months``) and ``_ss`` of v^2."""
    return (
        monthly.join(months, on="_p", how="left")
        # (A month outside the window holds only lines dated before every first order: the
        # returns of an earlier purchase. Whole, as every month was.)
        .with_columns(pl.col("_w").fill_null(1.0))
        .group_by("customer_id")
        .agg(
            _s=pl.col("_v").sum(),
            _sw=(pl.col("_w") * pl.col("_v")).sum(),
            _ss=(pl.col("_v") ** 2).sum(),
        )
    )


def _ship_to_query(lf: pl.LazyFrame, in_window: pl.Expr, columns: list[str]) -> pl.LazyFrame:
    """Each customer's most frequent ship-to: the address (postal code, city, country) of its
    most orders, at that address's most frequent coordinates (a located point before none).
    Lines without an address are addressed by their point. Orders are distinct order ids (and
    days, for lines without one). Ties: more lines, then the lowest values, for determinism."""
    # Orders, not lines: one 10-line basket to Omaha outweighed 4 orders to Toronto (Superstore
    # AG-10270). And the address, not the whole tuple: a courier's GPS that differs per
    # delivery split one address into as many ship-tos as it has orders.
    # Lines are counted (and their orders kept) by their ship-to as read, then the groups'
    # values are cleaned: the few groups are cleaned instead of every line. The import's
    # postal codes may come as exported (trimmed here), its texts with "" (made null here, see
    # OrderImport.as_exported).
    schema = lf.collect_schema()
    raw_postal = "postal_code" in columns and RAW_POSTAL_CODE in schema
    keys = [RAW_POSTAL_CODE if raw_postal and c == "postal_code" else c for c in columns]
    texts = [c for c in ("city", "country") if c in columns and schema[c] == pl.String]
    cleaned = [text_expr(c, dtype=pl.String()) for c in texts]
    if raw_postal:
        cleaned.append(id_null(pl.col(RAW_POSTAL_CODE).str.strip_chars()).alias("postal_code"))
    present = pl.any_horizontal([pl.col(c).is_not_null() for c in columns])
    points = [c for c in ("lat", "lon") if c in columns]
    address = [c for c in columns if c not in points]
    addressed = pl.any_horizontal([pl.col(c).is_not_null() for c in address] or [pl.lit(False)])
    place = [pl.when(~addressed).then(pl.col(c)).alias(f"_{c}") for c in points]
    in_place = ["customer_id", *address, *(f"_{c}" for c in points)]
    read = (
        lf.group_by(_counted_customer(in_window), *keys)
        .agg(pl.len().alias("_n"), _order_key().unique().alias("_order"))
        .with_columns(cleaned)
        .filter(pl.col("customer_id").is_not_null() & present)
        .with_columns(place)
    )
    tally = [
        pl.col("_order").explode().n_unique().alias("_orders"),
        pl.col("_n").sum().alias("_lines"),
    ]
    most = ["_orders", "_lines"]
    # One chain from the lines, no join of two of its branches: a plan that used the lines
    # twice was cached apart from segment's other queries, which then scanned them twice.
    # The chosen address's orders at each of its points, kept for the choice of its point.
    at = [pl.struct(*points, "_order", "_n").alias("_at")] if points else []
    addresses = _first_per_customer(
        read.group_by(in_place).agg(*tally, *at), [*most, *in_place[1:]]
    )
    if not points:
        return addresses.select("customer_id", *columns)
    located = pl.all_horizontal([pl.col(c).is_not_null() for c in points])
    at_address = (
        addresses.select("customer_id", *address, "_at")
        .explode("_at")
        .unnest("_at")
        .group_by("customer_id", *address, *points)
        .agg(tally)
        .with_columns(_located=located)
    )
    return _first_per_customer(at_address, ["_located", *most, *points]).select(
        "customer_id", *columns
    )


def _order_key() -> pl.Expr:
    """An order's id, or its day for lines without one, as a 64-bit hash: each ship-to as read
    keeps the set of its orders, merged per address, which costs a fraction of the ids' texts,
    and two of a customer's orders collide with a chance of about 1e-13."""
    id_ = pl.col("order_id")
    return (
        pl.when(id_.is_null())
        .then(pl.col("order_date").hash())
        .otherwise(id_.hash())
        .alias("_order")
    )


def _first_per_customer(lf: pl.LazyFrame, by: list[str]) -> pl.LazyFrame:
    """Each customer's first row ordered by ``by``: flags and counts (leading ``_``) descending,
    values ascending with nulls last."""
    descending = [c in ("_located", "_orders", "_lines") for c in by]
    return (
        lf.sort(["customer_id", *by], descending=[False, *descending], nulls_last=True)
        .group_by("customer_id", maintain_order=True)
        .first()
    )


def profile_per_customer(prof: pl.DataFrame) -> pl.DataFrame:
    """The profile as stderr shows it: the segment's total CLV as a mean per customer
    (``clv_per_customer``), beside recency, frequency and monetary, which are means per
    customer too; a total there read as a customer's value (CDNOW's Champions: 615,327 beside
    a monetary of 304). The mean is over the customers that have a CLV, counted beside it
    (``clv_customers``): over every customer of the segment, one without a place in the model
    counted as worth 0 (Online Retail's Lost: 337 over 669 customers, 360 over the 627 with a
    CLV, as the report's mean from the segments table). The file keeps the total, named so
    (``clv_total``), and the count."""
    if "clv_total" not in prof.columns:
        return prof
    known = pl.col("clv_customers")
    mean = pl.when(known > 0).then(pl.col("clv_total") / known).alias("clv_per_customer")
    return prof.with_columns(mean).select(
        *[c for c in prof.columns if c not in ("clv_total", "clv_customers")],
        "clv_per_customer",
        "clv_customers",
    )


def profile(segments: pl.DataFrame) -> pl.DataFrame:
    """One row per segment: size, shares of customers and revenue, mean R/F/M (and the total
    CLV, ``clv_total``: the segments table's ``clv`` is a customer's, this the segment's sum;
    ``clv_customers``, how many of its customers have one)."""
    total_customers = segments.height
    total_revenue = float(segments.get_column("monetary").sum())
    aggs = [
        pl.len().cast(pl.Int64).alias("customers"),
        pl.col("monetary").sum().alias("_revenue"),
        # Kept to 1e-6, as the shares: rounded to 4 digits, Superstore's At Risk frequency
        # (6.314961) was 6.315, shown as 6.32 on stderr and in the report, where the report
        # from the segments table alone shows 6.31.
        pl.col("recency_days").mean().round(6).alias("recency_days"),
        pl.col("frequency").mean().round(6).alias("frequency"),
        pl.col("monetary").mean().round(6).alias("monetary"),
    ]
    if "clv" in segments.columns:
        # Empty where none of the segment's customers has a CLV (no repeat buyer in the
        # window, only returns): a sum over no value read as a segment worth 0.
        known = pl.col("clv").is_not_null().any()
        aggs.append(pl.when(known).then(pl.col("clv").sum().round(2)).alias("clv_total"))
        # The customers the total is of, for a mean per customer over them: one without a
        # place in the model (only returns or fees in the window) has no CLV, not one of 0.
        aggs.append(pl.col("clv").is_not_null().sum().cast(pl.Int64).alias("clv_customers"))
    out = segments.group_by("segment", "segment_rank").agg(aggs).sort("segment_rank", "segment")
    # No revenue to share (prices of 0, or returns above sales): the shares are unknown, empty
    # as the report makes them, not 0.0 each, which summed to 0 % of the revenue.
    share = (
        pl.col("_revenue") / total_revenue if total_revenue > 0 else pl.lit(None, dtype=pl.Float64)
    )
    columns = ["segment", "segment_rank", "customers", "share_customers", "share_revenue"]
    columns += ["recency_days", "frequency", "monetary"]
    if "clv" in segments.columns:
        columns += ["clv_total", "clv_customers"]
    return out.with_columns(
        share_customers=(pl.col("customers") / total_customers).round(6),
        share_revenue=share.round(6),
    ).select(columns)
