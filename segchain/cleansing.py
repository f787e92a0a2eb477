"""Demand cleansing: order lines that are not demand for planning (giveaways, one-off huge lines).

Two rules, both counted:

- zero-price lines (``flag = zero_price``: samples, giveaways, adjustments) are not sales and are
  left out of the history unless ``outliers = keep``;
- a line far beyond its sku's usual line size is capped at that size (``cap``, the default) or
  left out (``drop``). "Far beyond" is a fence on the sku's line quantities, above both ten times
  the median line and Tukey's far-out fence on the log scale (Q3 + 3 IQR of log quantity; Tukey,
  Exploratory Data Analysis, 1977), from skus with at least ``MIN_LINES`` lines. A return is
  capped like the line it cancels (its size, sign kept), so a capped order and its cancellation
  still net to zero.
"""

from __future__ import annotations

from typing import TypeVar

import polars as pl

from segchain.formatting import agree, plural
from segchain.schema import DEFAULT_OUTLIERS, FLAG_ZERO_PRICE, FLAG_ZERO_QUANTITY

# Order lines, held (a DataFrame) or a query over them (a LazyFrame): cleansed as given.
F = TypeVar("F", pl.DataFrame, pl.LazyFrame)

# The columns of routed order lines (``routing.route_orders``): the line each copy was made
# from, and that line's quantity as ordered. A customer split over two sites has each line
# twice, at quantity x share: counted once, and judged by the size it was ordered in.
LINE_ID = "_line"
LINE_QUANTITY = "_line_quantity"


def line_count(lines: pl.DataFrame | pl.LazyFrame) -> int:
    """The order lines ``lines`` holds: its rows, or the lines its rows were routed from."""
    routed = LINE_ID in lines.collect_schema().names()
    if isinstance(lines, pl.DataFrame):
        return lines.get_column(LINE_ID).n_unique() if routed else lines.height
    return int(lines.select(pl.col(LINE_ID).n_unique() if routed else pl.len()).collect().item())


MEDIAN_FACTOR = 10.0
TUKEY_K = 3.0
MIN_LINES = 5


def line_fences(lines: pl.DataFrame | pl.LazyFrame, size: str = "quantity") -> pl.DataFrame:
    """Per sku the largest usual line size (of column ``size``): ``sku, fence`` (skus with too
    few lines absent)."""
    q = pl.col(size)
    logq = q.log()
    q1, q3 = logq.quantile(0.25, "linear"), logq.quantile(0.75, "linear")
    return (
        lines.lazy()
        .filter(q > 0)
        .group_by("sku")
        .agg(
            pl.len().alias("lines"),
            (q.median() * MEDIAN_FACTOR).alias("by_median"),
            (q3 + TUKEY_K * (q3 - q1)).exp().alias("by_tukey"),
        )
        .filter(pl.col("lines") >= MIN_LINES)
        .select("sku", pl.max_horizontal("by_median", "by_tukey").alias("fence"))
        .sort("sku")
        .collect()
    )


def cleanse(lines: F, *, outliers: str = DEFAULT_OUTLIERS) -> tuple[F, dict[str, int]]:
    """Apply the rules to order lines with ``quantity`` (and ``flag``, ``sku`` when present).

    Returns the lines (``flag`` and ``LINE_QUANTITY`` dropped; lazy lines stay lazy, only the
    counts and the fences collected) and the counts: ``zero_price`` and ``zero_quantity`` lines
    left out, ``outlier_capped`` or ``outlier_dropped`` lines.
    """
    out, counts = _cleanse(lines, outliers)
    return (
        out.drop(LINE_QUANTITY) if LINE_QUANTITY in out.collect_schema().names() else out
    ), counts


def described(counts: dict[str, int]) -> list[tuple[str, str]]:
    """What ``cleanse`` did, in words, one ``(count key, phrase)`` per rule that changed a line:
    forecast and stock (whose demand history is the one the forecast read) say it alike."""
    out: list[tuple[str, str]] = []
    if counts.get(FLAG_ZERO_PRICE):
        n = counts[FLAG_ZERO_PRICE]
        out.append(
            (FLAG_ZERO_PRICE, f"{plural(n, 'zero-price order line')} (giveaways, samples) left out")
        )
    if counts.get(FLAG_ZERO_QUANTITY):
        n = counts[FLAG_ZERO_QUANTITY]
        out.append(
            (
                FLAG_ZERO_QUANTITY,
                f"{plural(n, 'zero-quantity order line')} (no goods moved) left out",
            )
        )
    for key, verb in (("outlier_capped", "capped at"), ("outlier_dropped", "left out beyond")):
        if counts.get(key):
            n = counts[key]
            out.append(
                (
                    key,
                    f"{plural(n, 'order line')} far beyond {agree(n, 'its', 'their')} sku's usual "
                    f"line size {verb} that size",
                )
            )
    return out


def _cleanse(lines: F, outliers: str) -> tuple[F, dict[str, int]]:
    counts: dict[str, int] = {}
    names = lines.collect_schema().names()
    has_flag = "flag" in names
    # Lazy lines are not counted first: without a line, every rule below changes nothing.
    if outliers == "keep" or (isinstance(lines, pl.DataFrame) and not lines.height):
        return (lines.drop("flag") if has_flag else lines), counts
    if has_flag:
        # Zero-quantity lines were flagged zero_price before they had a flag of their own:
        # both leave the history, as before, each counted under its flag.
        for flag in (FLAG_ZERO_PRICE, FLAG_ZERO_QUANTITY):
            zero = line_count(lines.filter(pl.col("flag") == flag))
            if zero:
                counts[flag] = zero
                lines = lines.filter((pl.col("flag") != flag) | pl.col("flag").is_null())
        lines = lines.drop("flag")
    if "sku" not in names:
        return lines, counts
    routed = LINE_QUANTITY in names
    # Routed copies are judged by the line as ordered, once each (not by its split shares).
    ordered = lines.unique(LINE_ID, keep="first", maintain_order=True) if routed else lines
    size = LINE_QUANTITY if routed else "quantity"
    fences = line_fences(ordered, size)
    lines = lines.join(
        fences.lazy() if isinstance(lines, pl.LazyFrame) else fences,
        on="sku",
        how="left",
        maintain_order="left",
    )
    over = pl.col("fence").is_not_null() & (pl.col(size).abs() > pl.col("fence"))
    n_over = line_count(lines.filter(over))
    if outliers == "drop":
        lines = lines.filter(~over)
        key = "outlier_dropped"
    else:
        # A copy keeps its share of the capped line.
        share = pl.col("quantity") / pl.col(size) if routed else pl.lit(1.0)
        capped = pl.col("quantity").sign() * pl.col("fence") * share.abs()
        lines = lines.with_columns(pl.when(over).then(capped).otherwise(pl.col("quantity")))
        key = "outlier_capped"
    if n_over:
        counts[key] = n_over
    return lines.drop("fence"), counts
