"""One section per stage: its three headline numbers, tables and charts, from the columns present.

A builder returns a Section, or a sentence saying why it was skipped (table absent, or the table
lacks the columns the section needs). Optional columns only add rows, columns or charts; their
absence never fails the report.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import polars as pl

from segchain.report import charts as ch
from segchain.report.model import (
    INT,
    MISSING,
    MONEY,
    NUM,
    PCT,
    TEXT,
    Block,
    Chart,
    Headline,
    Note,
    Section,
    TableBlock,
    finite,
    format_value,
)

Tables = Mapping[str, pl.DataFrame]
Meta = Mapping[str, Mapping[str, Any]]
Colours = dict[str | None, str]

TOP_SERIES = 3
MAP_LINES_UP_TO = 3000  # customer-to-site lines on the map; more would be a grey blur
RASTER_ABOVE = 5000  # scatter points drawn as one embedded image above this many customers


# ---------------------------------------------------------------------------------------------
# Small helpers


def has(df: pl.DataFrame | None, *columns: str) -> bool:
    return df is not None and all(c in df.columns for c in columns)


def lacks(df: pl.DataFrame, columns: Sequence[str]) -> list[str]:
    return [c for c in columns if c not in df.columns]


def num(col: str) -> pl.Expr:
    """A numeric column as float with NaN and infinities as null (so sums and means skip them)."""
    x = pl.col(col).cast(pl.Float64, strict=False)
    return pl.when(x.is_finite()).then(x).otherwise(None)


def total(df: pl.DataFrame, col: str) -> float | None:
    if col not in df.columns:
        return None
    s = df.select(num(col).sum().alias("s"), num(col).count().alias("n"))
    return finite(s.item(0, 0)) if s.item(0, 1) else None


def wmean(df: pl.DataFrame, value: str, weight: str | None) -> float | None:
    """Mean of ``value`` weighted by ``weight`` (plain mean when the weights are absent or 0)."""
    if value not in df.columns:
        return None
    if weight and weight in df.columns:
        both = df.select(num(value).alias("v"), num(weight).alias("w")).drop_nulls()
        wsum = finite(both["w"].sum())
        if wsum and wsum > 0:
            return finite(cast(float, (both["v"] * both["w"]).sum()) / wsum)
    return finite(df.select(num(value).mean()).item())


def pct(x: float | None) -> str:
    return format_value(x, PCT)


def money(x: float | None) -> str:
    return format_value(x, MONEY)


def count(x: float | int | None) -> str:
    return format_value(x, INT)


def params_of(meta: Meta, kind: str) -> dict[str, Any]:
    params = meta.get(kind, {}).get("params", {})
    return dict(params) if isinstance(params, Mapping) else {}


def segment_order(tables: Tables) -> list[str | None]:
    """Every segment label in the inputs: by segment_rank where known, then alphabetically."""
    ranks: dict[str | None, float] = {}
    names: set[str | None] = set()
    for df in tables.values():
        if "segment" not in df.columns or df.schema["segment"] not in (pl.String, pl.Categorical):
            continue
        names.update(df.get_column("segment").cast(pl.String).unique().to_list())
        if "segment_rank" in df.columns:
            pairs = df.select(pl.col("segment").cast(pl.String), num("segment_rank")).unique()
            for name, rank in pairs.iter_rows():
                if rank is not None:
                    ranks[name] = min(ranks.get(name, math.inf), rank)
    return sorted(names, key=lambda n: (ranks.get(n, math.inf), n is None, n or ""))


def _order_frame(df: pl.DataFrame, order: list[str | None], col: str = "segment") -> pl.DataFrame:
    """Sort rows by the report's segment order (unknown labels last, alphabetically)."""
    position = {name: i for i, name in enumerate(order)}
    keys = [position.get(v, len(order)) for v in df.get_column(col).to_list()]
    return (
        df.with_columns(pl.Series("_pos", keys, dtype=pl.Int64))
        .sort("_pos", col, nulls_last=True)
        .drop("_pos")
    )


def _colour_list(names: Sequence[Any], colours: Colours) -> list[str]:
    return [colours.get(n, ch.MUTED) for n in names]


# ---------------------------------------------------------------------------------------------
# Segments


def segment_profile(tables: Tables) -> pl.DataFrame | None:
    """One row per segment: rank, customers, shares, revenue and mean features, from the profile
    table when given, else aggregated from the segments table."""
    prof = tables.get("segment_profile")
    seg = tables.get("segments")
    if has(prof, "segment", "customers"):
        assert prof is not None
        df = prof.with_columns(pl.col("segment").cast(pl.String), num("customers"))
        if "monetary" in df.columns and "revenue" not in df.columns:
            df = df.with_columns((num("monetary") * pl.col("customers")).alias("revenue"))
    elif has(seg, "segment"):
        assert seg is not None
        aggs: list[pl.Expr] = [pl.len().cast(pl.Float64).alias("customers")]
        if "segment_rank" in seg.columns:
            aggs.append(num("segment_rank").min().alias("segment_rank"))
        if "monetary" in seg.columns:
            aggs.append(num("monetary").sum().alias("revenue"))
        for c in ("recency_days", "frequency", "monetary"):
            if c in seg.columns:
                aggs.append(num(c).mean().alias(c))
        if "clv" in seg.columns:
            aggs.append(num("clv").sum().alias("clv"))
        df = seg.with_columns(pl.col("segment").cast(pl.String)).group_by("segment").agg(aggs)
    else:
        return None
    customers = finite(df["customers"].sum()) or 0.0
    if "share_customers" not in df.columns:
        df = df.with_columns(
            (pl.col("customers") / customers if customers else pl.lit(None, pl.Float64)).alias(
                "share_customers"
            )
        )
    if "revenue" in df.columns and "share_revenue" not in df.columns:
        revenue = finite(df.select(num("revenue").sum()).item()) or 0.0
        df = df.with_columns(
            (num("revenue") / revenue if revenue else pl.lit(None, pl.Float64)).alias(
                "share_revenue"
            )
        )
    columns = [
        c
        for c in (
            "segment",
            "segment_rank",
            "customers",
            "share_customers",
            "revenue",
            "share_revenue",
            "recency_days",
            "frequency",
            "monetary",
            "clv",
        )
        if c in df.columns
    ]
    return _order_frame(df.select(columns), segment_order(tables))


def segments_section(tables: Tables, meta: Meta, colours: Colours) -> Section | str:
    prof = segment_profile(tables)
    if prof is None:
        if "segments" in tables or "segment_profile" in tables:
            return "Customer segments: the segments table has no 'segment' column."
        return "Customer segments: no segments table (segchain segment) in the inputs."
    params = params_of(meta, "segments") or params_of(meta, "segment_profile")
    method = str(params.get("method") or "").upper().replace("KMEANS", "k-means")
    as_of = params.get("as_of")
    subtitle = " ".join(
        p
        for p in (
            f"{method} segments" if method else "Segments",
            f"as of {as_of}." if as_of else ".",
            "Rank 1 is the most valuable segment.",
        )
        if p
    ).replace(" .", ".")
    customers = finite(prof["customers"].sum()) or 0.0
    k = prof.height
    heads = [Headline("Customers", count(customers), f"in {k} segment{'s' * (k != 1)}")]
    top = prof.row(0, named=True)
    if "share_revenue" in prof.columns:
        heads.append(
            Headline(
                f"Revenue from {ch.label(top['segment'])}",
                pct(top.get("share_revenue")),
                f"with {pct(top.get('share_customers'))} of customers",
            )
        )
    else:
        heads.append(
            Headline(
                f"Customers in {ch.label(top['segment'])}",
                pct(top.get("share_customers")),
                f"{count(top.get('customers'))} customers",
            )
        )
    if "revenue" in prof.columns:
        heads.append(Headline("Revenue", money(total(prof, "revenue")), "net order value"))
    else:
        largest = prof.sort("customers", descending=True).row(0, named=True)
        heads.append(
            Headline("Largest segment", ch.label(largest["segment"]), count(largest["customers"]))
        )
    names = prof["segment"].to_list()
    cols = _colour_list(names, colours)
    cust = prof["customers"].to_list()
    revenue = prof["revenue"].to_list() if "revenue" in prof.columns else None

    def plot(fig: Any) -> None:
        axes = fig.subplots(1, 2 if revenue is not None else 1, sharey=True, squeeze=False)[0]
        ch.barh(axes[0], names, cust, colours=cols, title="Customers")
        if revenue is not None:
            ch.barh(axes[1], names, revenue, colours=cols, title="Revenue")

    blocks: list[Block] = [
        Chart("segments", "Segment sizes and value", plot, size=(9.0, 0.9 + 0.32 * k)),
        TableBlock(
            "Segment profile",
            prof,
            formats={
                "segment_rank": INT,
                "customers": INT,
                "share_customers": PCT,
                "revenue": MONEY,
                "share_revenue": PCT,
                "recency_days": NUM,
                "frequency": NUM,
                "monetary": MONEY,
                "clv": MONEY,
            },
            heat=tuple(
                c
                for c in ("share_customers", "share_revenue", "recency_days", "frequency")
                + ("monetary", "clv")
                if c in prof.columns
            ),
            note="recency_days, frequency and monetary are means per customer; "
            "the shading runs from the lowest to the highest value of each column.",
        ),
    ]
    return Section("segments", "Customer segments", subtitle, heads, blocks)


# ---------------------------------------------------------------------------------------------
# Forecast


_LO = re.compile(r"^(.+)-lo-(\d+(?:\.\d+)?)$")


def interval_levels(columns: Sequence[str], value: str = "forecast") -> list[str]:
    """Interval levels with both ``<value>-lo-L`` and ``<value>-hi-L`` columns, widest first."""
    levels = []
    for c in columns:
        m = _LO.match(c)
        if m and m.group(1) == value and f"{value}-hi-{m.group(2)}" in columns:
            levels.append(m.group(2))
    return sorted(levels, key=float, reverse=True)


def period_interval(ds: pl.Series) -> tuple[str, str]:
    """The polars interval and a name of the forecast's period, from the spacing of ``ds``."""
    days = ds.drop_nulls().unique().sort().cast(pl.Date).diff().dt.total_days().drop_nulls()
    step = float(days.median()) if days.len() else 7.0  # type: ignore[arg-type]
    if step <= 1:
        return "1d", "day"
    if step <= 8:
        return "1w", "week"
    if step <= 32:
        return "1mo", "month"
    return "1q", "quarter"


def history(
    tables: Tables, keys: Mapping[str, Any], interval: str
) -> tuple[list[dt.date], list[float]] | None:
    """Past demand of one series (summed quantity per period, returns netted, floored at 0), from
    the orders (and segments, for a segment key); None when the inputs cannot give it."""
    orders = tables.get("orders")
    if not has(orders, "order_date", "quantity") or not keys:
        return None
    assert orders is not None
    lf = orders.lazy()
    if "flag" in orders.columns:
        lf = lf.filter(pl.col("flag").is_null() | (pl.col("flag") != "non_product"))
    if "segment" in keys and "segment" not in orders.columns:
        seg = tables.get("segments")
        if not has(seg, "customer_id", "segment") or "customer_id" not in orders.columns:
            return None
        assert seg is not None
        lf = lf.join(
            seg.lazy().select(pl.col("customer_id").cast(pl.String), "segment"),
            on="customer_id",
            how="inner",
        )
    cols = lf.collect_schema().names()
    for key, value in keys.items():
        if key not in cols:
            return None
        lf = lf.filter(pl.col(key).cast(pl.String) == str(value))
    out = (
        lf.group_by(pl.col("order_date").cast(pl.Date).dt.truncate(interval).alias("ds"))
        .agg(num("quantity").sum().clip(0, None).alias("y"))
        .sort("ds")
        .collect()
    )
    if not out.height:
        return None
    full = pl.DataFrame(
        {
            "ds": pl.date_range(
                cast(dt.date, out["ds"].min()),
                cast(dt.date, out["ds"].max()),
                interval=interval,
                eager=True,
            )
        }
    ).join(out, on="ds", how="left")
    return full["ds"].to_list(), full["y"].fill_null(0.0).to_list()


def forecast_section(tables: Tables, meta: Meta, colours: Colours) -> Section | str:
    fc = tables.get("forecast")
    if fc is None:
        return "Forecast: no forecast table (segchain forecast) in the inputs."
    missing = lacks(fc, ["unique_id", "ds", "forecast"])
    if missing:
        return f"Forecast: the forecast table lacks {', '.join(missing)}."
    fc = fc.with_columns(pl.col("unique_id").cast(pl.String), pl.col("ds").cast(pl.Date))
    params = params_of(meta, "forecast")
    interval, period = period_interval(fc["ds"])
    periods = fc["ds"].n_unique()
    series = fc["unique_id"].n_unique()
    by = [c for c in str(params.get("by") or "").split(",") if c]
    by = [c for c in by if c in fc.columns] or [c for c in ("segment", "sku") if c in fc.columns]
    demand = total(fc, "forecast")
    first, last = cast("dt.date | None", fc["ds"].min()), cast("dt.date | None", fc["ds"].max())
    heads = [
        Headline("Series", count(series), "by " + " × ".join(by) if by else "forecast series"),
        Headline("Horizon", f"{periods} {period}{'s' * (periods != 1)}", f"{first} to {last}"),
        Headline("Forecast demand", format_value(demand, NUM), "units over the horizon"),
    ]
    subtitle_parts = []
    if params.get("freq"):
        subtitle_parts.append(f"Periods of one {period}")
    if params.get("level"):
        subtitle_parts.append(f"prediction intervals {params['level']}%")
    subtitle = (", ".join(subtitle_parts) + ". " if subtitle_parts else "") + (
        "Each series' model was chosen by backtest."
    )
    blocks: list[Block] = []
    levels = interval_levels(fc.columns)
    sums = (
        fc.group_by("unique_id")
        .agg(num("forecast").sum().fill_null(0.0).alias("total"))
        .sort(["total", "unique_id"], descending=[True, False])
    )
    top_ids = sums["unique_id"].head(TOP_SERIES).to_list()
    panels = []
    with_history = 0
    for uid in top_ids:
        rows = fc.filter(pl.col("unique_id") == uid).sort("ds")
        keys = {c: rows[c][0] for c in by if c in rows.columns and rows[c][0] is not None}
        past = history(tables, keys, interval)
        if past is not None:
            keep = max(4 * periods, 26)
            past = (past[0][-keep:], past[1][-keep:])
            with_history += 1
        bands = [
            (lv, rows[f"forecast-lo-{lv}"].to_list(), rows[f"forecast-hi-{lv}"].to_list())
            for lv in levels
        ]
        colour = colours.get(keys.get("segment"), ch.ACCENT) if "segment" in keys else ch.ACCENT
        model = rows["model"][0] if "model" in rows.columns else None
        panels.append(
            (uid, rows["ds"].to_list(), rows["forecast"].to_list(), bands, past, colour, model)
        )

    def plot(fig: Any) -> None:
        import matplotlib.dates as mdates

        axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
        for ax, (uid, ds, yhat, bands, past, colour, model) in zip(axes, panels, strict=True):
            for i, (lv, lo, hi) in enumerate(bands):
                ax.fill_between(
                    ds,
                    [finite(v) or 0.0 for v in lo],
                    [finite(v) or 0.0 for v in hi],
                    color=colour,
                    alpha=0.15 + 0.15 * i,
                    linewidth=0,
                    label=f"{lv}% interval",
                )
            if past is not None:
                ax.plot(past[0], past[1], color=ch.INK, linewidth=1.1, label="history")
            ax.plot(
                ds, [finite(v) or 0.0 for v in yhat], color=colour, linewidth=1.8, label="forecast"
            )
            title = ch.label(uid) + (f"  ({model})" if model else "")
            ax.set_title(title, loc="left")
            locator = mdates.AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
            ax.set_ylabel("units")
            ch.style(ax, grid="y")
        axes[0].legend(loc="upper left", frameon=False, fontsize=8, ncol=4)

    if panels:
        caption = (
            f"The {len(panels)} largest series by forecast demand"
            + (", with their history." if with_history else ".")
            + ("" if with_history else " Give the orders (and segments) to plot the history.")
        )
        blocks.append(
            Chart(
                "forecast",
                "Forecast of the largest series",
                plot,
                size=(9.0, 2.3 * len(panels) + 0.4),
                caption=caption,
            )
        )
    if "segment" in fc.columns:
        by_seg = (
            fc.group_by(pl.col("segment").cast(pl.String))
            .agg(
                pl.col("unique_id").n_unique().alias("series"),
                num("forecast").sum().alias("forecast"),
            )
            .with_columns((pl.col("forecast") / (demand or float("nan"))).alias("share"))
        )
        by_seg = _order_frame(by_seg, segment_order(tables))
        blocks.append(
            TableBlock(
                "Forecast demand by segment",
                by_seg,
                formats={"series": INT, "forecast": NUM, "share": PCT},
                heat=("share",),
            )
        )
    if "demand_class" in fc.columns:
        by_class = (
            fc.group_by(pl.col("demand_class").cast(pl.String))
            .agg(
                pl.col("unique_id").n_unique().alias("series"),
                num("forecast").sum().alias("forecast"),
            )
            .with_columns((pl.col("forecast") / (demand or float("nan"))).alias("share"))
            .sort("series", "demand_class", descending=[True, False], nulls_last=True)
        )
        blocks.append(
            TableBlock(
                "Demand classes (Syntetos-Boylan)",
                by_class,
                formats={"series": INT, "forecast": NUM, "share": PCT},
            )
        )
    return Section("forecast", "Demand forecast", subtitle, heads, blocks)


# ---------------------------------------------------------------------------------------------
# Backtest


def _rows(meta: Meta, kind: str, key: str) -> pl.DataFrame | None:
    """Rows stored in a table's provenance metadata (a list of records), if any."""
    value = meta.get(kind, {}).get(key)
    if isinstance(value, list) and value and all(isinstance(r, Mapping) for r in value):
        try:
            return pl.DataFrame(value, infer_schema_length=None)
        except (TypeError, ValueError, pl.exceptions.PolarsError):
            return None
    return None


def forecast_comparison(tables: Tables, meta: Meta) -> pl.DataFrame | None:
    """Segment x sku forecasts summed versus forecasting the sku total directly, when given."""
    if has(tables.get("forecast_comparison"), "approach", "wape"):
        return tables["forecast_comparison"]
    bt = tables.get("backtest")
    if has(bt, "scope", "approach"):
        assert bt is not None
        rows = bt.filter(pl.col("scope") == "comparison")
        if rows.height:
            return rows
    for kind in ("backtest", "forecast"):
        found = _rows(meta, kind, "comparison")
        if found is not None and "approach" in found.columns:
            return found
    return None


def backtest_section(tables: Tables, meta: Meta, colours: Colours) -> Section | str:
    bt = tables.get("backtest")
    if bt is None:
        return "Forecast accuracy: no backtest table (segchain forecast --backtest FILE)."
    metric = [c for c in ("wape", "mase") if c in bt.columns]
    if not metric:
        return "Forecast accuracy: the backtest table has neither wape nor mase."
    scope = bt["scope"].cast(pl.String) if "scope" in bt.columns else None
    series = bt.filter(scope == "series") if scope is not None else bt
    overall = bt.filter(scope == "overall") if scope is not None else bt.head(0)
    seg_rows = bt.filter(scope == "segment") if scope is not None else bt.head(0)

    def headline_value(col: str) -> tuple[float | None, str]:
        if overall.height and col in overall.columns:
            return finite(overall[col][0]), ""
        if col in series.columns:
            return wmean(series, col, None), " (mean per series)"
        return None, ""

    wape, wape_how = headline_value("wape")
    base_wape, _ = headline_value("baseline_wape")
    mase, mase_how = headline_value("mase")
    base_mase, _ = headline_value("baseline_mase")
    base_name = "baseline"
    if "baseline_model" in series.columns and series.height:
        models = series["baseline_model"].drop_nulls().unique().sort().to_list()
        base_name = " / ".join(str(m) for m in models) or base_name
    heads = [
        Headline("WAPE", pct(wape), f"vs {pct(base_wape)} for {base_name}{wape_how}"),
        Headline("MASE", format_value(mase, NUM), f"vs {format_value(base_mase, NUM)}{mase_how}"),
    ]
    if has(series, "mase", "baseline_mase"):
        both = series.select(num("mase").alias("m"), num("baseline_mase").alias("b")).drop_nulls()
        better = int((both["m"] < both["b"]).sum())
        heads.append(
            Headline(
                "Series beating the baseline",
                pct(better / both.height if both.height else None),
                f"{count(better)} of {count(both.height)} series (lower MASE)",
            )
        )
    else:
        heads.append(Headline("Series backtested", count(series.height), "held-out windows"))
    blocks: list[Block] = []
    if not seg_rows.height and has(series, "segment") and "wape" in series.columns:
        seg_rows = series.group_by(pl.col("segment").cast(pl.String)).agg(
            pl.len().alias("series"),
            *[
                num(c).mean().alias(c)
                for c in ("wape", "baseline_wape", "mase", "baseline_mase", "bias")
                if c in series.columns
            ],
        )
        blocks.append(Note("Per-segment figures are means over series (no pooled segment rows)."))
    if seg_rows.height and "segment" in seg_rows.columns:
        seg_rows = _order_frame(
            seg_rows.with_columns(pl.col("segment").cast(pl.String)), segment_order(tables)
        )
        show: list[str] = [
            c
            for c in ("segment", "series", "wape", "baseline_wape", "mase", "baseline_mase", "bias")
            if c in seg_rows.columns
        ]
        m = "wape" if has(seg_rows, "wape", "baseline_wape") else "mase"
        if has(seg_rows, m, f"baseline_{m}"):
            names = seg_rows["segment"].to_list()
            a = [finite(v) for v in seg_rows[m].to_list()]
            b = [finite(v) for v in seg_rows[f"baseline_{m}"].to_list()]
            fmt = "{:.0%}" if m == "wape" else "{:.2f}"

            def plot(fig: Any) -> None:
                ax = fig.subplots()
                ch.paired_barh(
                    ax,
                    names,
                    a,
                    b,
                    labels=("chosen models", base_name),
                    fmt=fmt,
                    title=f"{m.upper()} by segment (lower is better)",
                )

            blocks.append(
                Chart(
                    "accuracy",
                    "Backtest accuracy against the baseline",
                    plot,
                    size=(8.0, 1.0 + 0.45 * len(names)),
                )
            )
        blocks.append(
            TableBlock(
                "Accuracy by segment",
                seg_rows.select(show),
                formats={
                    "series": INT,
                    "wape": PCT,
                    "baseline_wape": PCT,
                    "mase": NUM,
                    "baseline_mase": NUM,
                    "bias": NUM,
                },
                heat=tuple(c for c in ("wape", "mase") if c in show),
            )
        )
    comparison = forecast_comparison(tables, meta)
    if comparison is not None:
        show = [
            c
            for c in ("approach", "series", "periods", "wape", "mae", "bias")
            if c in comparison.columns
        ]
        blocks.append(
            TableBlock(
                "Segment × sku forecasts summed vs forecasting the sku total",
                comparison.select(show),
                formats={"series": INT, "periods": INT, "wape": PCT, "mae": NUM, "bias": NUM},
                note="Same held-out periods on both sides; a lower WAPE means segment-level "
                "forecasts add up to a better total.",
            )
        )
    else:
        blocks.append(
            Note(
                "Segment × sku versus sku-total accuracy: not in the inputs (it is printed by "
                "segchain forecast; give its table to include it here)."
            )
        )
    if has(series, "model") and series.height:
        by_model = (
            series.group_by(pl.col("model").cast(pl.String))
            .agg(
                pl.len().alias("series"),
                *[num(c).mean().alias(c) for c in ("mase", "wape") if c in series.columns],
            )
            .sort(["series", "model"], descending=[True, False], nulls_last=True)
        )
        blocks.append(
            TableBlock("Models chosen", by_model, formats={"series": INT, "mase": NUM, "wape": PCT})
        )
    return Section(
        "accuracy",
        "Forecast accuracy",
        "Backtest on held-out windows; WAPE is pooled absolute error over actual demand, MASE "
        "scales each series' error by its naive one-step error.",
        heads,
        blocks,
    )


# ---------------------------------------------------------------------------------------------
# Inventory


def stock_comparison(tables: Tables, meta: Meta) -> pl.DataFrame | None:
    """Segmented targets versus one uniform target, per segment, when given."""
    if "stock_comparison" in tables:
        return tables["stock_comparison"]
    rows = _rows(meta, "policy", "comparison")
    if rows is not None and has(rows, "segment", "inventory_value_uniform"):
        return rows
    return None


def inventory_section(tables: Tables, meta: Meta, colours: Colours) -> Section | str:
    policy = tables.get("policy")
    if policy is None:
        return "Inventory: no policy table (segchain stock) in the inputs."
    missing = lacks(policy, ["sku"])
    if missing or not any(c in policy.columns for c in ("safety_stock", "inventory_value")):
        return "Inventory: the policy table lacks sku and safety_stock / inventory_value."
    cost = num("unit_cost") if "unit_cost" in policy.columns else pl.lit(None, pl.Float64)
    p = policy.with_columns(
        (
            num("safety_stock") * cost
            if "safety_stock" in policy.columns
            else pl.lit(None, pl.Float64)
        ).alias("safety_stock_value")
    )
    value = total(p, "inventory_value")
    ss_value = total(p, "safety_stock_value")
    ss_units = total(p, "safety_stock")
    points = p.height
    comparison = stock_comparison(tables, meta)
    heads = [
        Headline(
            "Inventory value", money(value), f"average stock of {count(points)} stocking points"
        ),
        Headline("Safety stock value", money(ss_value), "at unit cost")
        if ss_value is not None
        else Headline("Safety stock", format_value(ss_units, NUM), "units"),
    ]
    overall_cmp = None
    if has(comparison, "segment", "inventory_value_segmented", "inventory_value_uniform"):
        assert comparison is not None
        rows = comparison.filter(pl.col("segment") == "(all)")
        if rows.height:
            overall_cmp = rows.row(0, named=True)
        else:
            overall_cmp = {
                "inventory_value_segmented": total(comparison, "inventory_value_segmented"),
                "inventory_value_uniform": total(comparison, "inventory_value_uniform"),
            }
    if overall_cmp is not None:
        seg_v = finite(overall_cmp.get("inventory_value_segmented"))
        uni_v = finite(overall_cmp.get("inventory_value_uniform"))
        change = seg_v - uni_v if seg_v is not None and uni_v is not None else None
        rel = change / uni_v if change is not None and uni_v else None
        target = overall_cmp.get("uniform_target")
        heads.append(
            Headline(
                "Segmented vs uniform policy",
                ("+" if (change or 0) > 0 else "") + money(change),
                f"{'+' if (rel or 0) > 0 else ''}{pct(rel)} inventory value vs one target"
                + (f" of {format_value(target, NUM)}" if finite(target) is not None else ""),
            )
        )
    else:
        fill = wmean(p, "expected_fill_rate", "mean_demand")
        if fill is not None:
            heads.append(Headline("Expected fill rate", pct(fill), "demand-weighted"))
        else:
            target = wmean(p, "service_target", "mean_demand")
            if target is not None:
                heads.append(Headline("Service target", pct(target), "demand-weighted"))
            else:
                heads.append(Headline("Stocking points", count(points), "sku (x site)"))
    blocks: list[Block] = []
    if "order_now" in p.columns:
        due = p.filter(num("order_now") > 0)
        blocks.append(
            Note(
                f"{count(due.height)} of {count(points)} stocking points are at or below their "
                f"reorder point: order {format_value(total(due, 'order_now'), NUM)} units now."
            )
        )
    if "segment" in p.columns:
        aggs = [pl.len().alias("stocking_points")]
        for c in ("safety_stock", "safety_stock_value", "inventory_value"):
            if c in p.columns:
                aggs.append(num(c).sum().alias(c))
        for c in ("service_target", "expected_fill_rate"):
            if c in p.columns:
                aggs.append(num(c).mean().alias(c))
        by_seg = _order_frame(
            p.group_by(pl.col("segment").cast(pl.String)).agg(aggs), segment_order(tables)
        )
        if by_seg["safety_stock_value"].null_count() == by_seg.height:
            by_seg = by_seg.drop("safety_stock_value")
        names = by_seg["segment"].to_list()
        if has(comparison, "segment", "inventory_value_segmented", "inventory_value_uniform"):
            assert comparison is not None
            cmp = _order_frame(
                comparison.filter(pl.col("segment") != "(all)").with_columns(
                    pl.col("segment").cast(pl.String)
                ),
                segment_order(tables),
            )
            cnames = cmp["segment"].to_list()
            a = [finite(v) for v in cmp["inventory_value_segmented"].to_list()]
            b = [finite(v) for v in cmp["inventory_value_uniform"].to_list()]

            def plot(fig: Any) -> None:
                ch.paired_barh(
                    fig.subplots(),
                    cnames,
                    a,
                    b,
                    labels=("segmented", "uniform"),
                    title="Inventory value by segment: segmented vs uniform target",
                )

            blocks.append(
                Chart(
                    "inventory",
                    "Inventory value by segment",
                    plot,
                    size=(8.0, 1.0 + 0.45 * len(cnames)),
                )
            )
        elif "inventory_value" in by_seg.columns:
            vals = by_seg["inventory_value"].to_list()
            cols = _colour_list(names, colours)

            def plot(fig: Any) -> None:
                ax = fig.subplots()
                ch.barh(ax, names, vals, colours=cols, title="Inventory value by main segment")

            blocks.append(
                Chart(
                    "inventory",
                    "Inventory value by segment",
                    plot,
                    size=(8.0, 0.9 + 0.32 * len(names)),
                )
            )
        blocks.append(
            TableBlock(
                "Safety stock and inventory value by segment",
                by_seg,
                formats={
                    "stocking_points": INT,
                    "safety_stock": NUM,
                    "safety_stock_value": MONEY,
                    "inventory_value": MONEY,
                    "service_target": PCT,
                    "expected_fill_rate": PCT,
                },
                heat=tuple(
                    c for c in ("inventory_value", "safety_stock_value") if c in by_seg.columns
                ),
                note="Each SKU counts under the segment that buys most of it.",
            )
        )
    if comparison is not None:
        show: list[str] = [
            c
            for c in (
                "segment",
                "target",
                "skus",
                "inventory_value_segmented",
                "inventory_value_uniform",
                "value_change",
                "fill_rate_segmented",
                "fill_rate_uniform",
            )
            if c in comparison.columns
        ]
        blocks.append(
            TableBlock(
                "Segmented targets vs one uniform target",
                comparison.select(show),
                formats={
                    "target": PCT,
                    "skus": INT,
                    "inventory_value_segmented": MONEY,
                    "inventory_value_uniform": MONEY,
                    "value_change": MONEY,
                    "fill_rate_segmented": PCT,
                    "fill_rate_uniform": PCT,
                },
            )
        )
    else:
        blocks.append(
            Note(
                "Uniform-policy comparison: not in the inputs "
                "(segchain stock --compare-uniform prints it)."
            )
        )
    if "inventory_value" in p.columns:
        show = [
            c
            for c in (
                "sku",
                "site",
                "segment",
                "service_target",
                "safety_stock",
                "reorder_point",
                "order_qty",
                "inventory_value",
                "on_hand",
                "order_now",
            )
            if c in p.columns
        ]
        top = p.sort(["inventory_value", "sku"], descending=[True, False], nulls_last=True).head(10)
        blocks.append(
            TableBlock(
                "The 10 stocking points holding the most value",
                top.select(show),
                formats={
                    "service_target": PCT,
                    "safety_stock": NUM,
                    "reorder_point": NUM,
                    "order_qty": NUM,
                    "inventory_value": MONEY,
                    "on_hand": NUM,
                    "order_now": NUM,
                },
            )
        )
    return Section(
        "inventory",
        "Inventory",
        "Safety stock, reorder point and order quantity per stocking point; each SKU's service "
        "target comes from the segments that buy it.",
        heads,
        blocks,
    )


# ---------------------------------------------------------------------------------------------
# Network


def _days(value: Any) -> str:
    x = finite(value)
    return MISSING if x is None else f"{x:g} d"


def _customer_points(tables: Tables, assignments: pl.DataFrame) -> pl.DataFrame | None:
    if has(assignments, "lat", "lon"):
        return assignments
    seg = tables.get("segments")
    if has(seg, "customer_id", "lat", "lon") and "customer_id" in assignments.columns:
        assert seg is not None
        return assignments.join(
            seg.select(pl.col("customer_id").cast(pl.String), "lat", "lon"),
            on="customer_id",
            how="left",
        )
    return None


def network_section(tables: Tables, meta: Meta, colours: Colours) -> Section | str:
    asg = tables.get("assignments")
    sites = tables.get("sites")
    if asg is None and sites is None:
        return "Network: no assignments or sites table (segchain network) in the inputs."
    heads: list[Headline] = []
    blocks: list[Block] = []
    totals = meta.get("assignments", {}).get("totals") or meta.get("sites", {}).get("totals")
    totals = dict(totals) if isinstance(totals, Mapping) else {}
    weight = None
    if asg is not None and "demand" in asg.columns:
        # A customer split across sites has one row per site, each serving demand x share.
        served = (
            num("demand") * num("share").fill_null(1.0) if "share" in asg.columns else num("demand")
        )
        asg = asg.with_columns(served.alias("_served"))
        weight = "_served"
    if asg is not None and "sla_met" in asg.columns:
        met = asg.with_columns(pl.col("sla_met").cast(pl.Float64, strict=False).alias("_met"))
        share = wmean(met, "_met", weight)
        if "customer_id" in met.columns:
            per_customer = met.group_by("customer_id").agg(pl.col("_met").min())
            n_met, n_all = int(per_customer["_met"].fill_null(0).sum()), per_customer.height
        else:
            n_met, n_all = int(met["_met"].fill_null(0).sum()), met.height
        heads.append(
            Headline(
                "Demand within promise" if weight else "Customers within promise",
                pct(share),
                f"{count(n_met)} of {count(n_all)} customers",
            )
        )
    open_ids: list[str] = []
    if has(sites, "site_id", "open"):
        assert sites is not None
        open_ids = sorted(
            str(s) for s in sites.filter(pl.col("open").cast(pl.Boolean, strict=False))["site_id"]
        )
    elif has(asg, "site_id"):
        assert asg is not None
        open_ids = sorted(str(s) for s in asg["site_id"].drop_nulls().unique())
    if open_ids:
        shown = ", ".join(open_ids[:4]) + (
            f" and {len(open_ids) - 4} more" if len(open_ids) > 4 else ""
        )
        heads.append(Headline("Open sites", count(len(open_ids)), shown))
    # Cost split: fixed cost of open sites, transport cost of the assignments when given.
    fixed = finite(totals.get("fixed_cost"))
    if fixed is None and has(sites, "fixed_cost", "open"):
        assert sites is not None
        fixed = total(sites.filter(pl.col("open").cast(pl.Boolean, strict=False)), "fixed_cost")
    transport = finite(totals.get("transport_cost"))
    for c in ("transport_cost", "cost") if transport is None else ():
        if asg is not None and c in asg.columns:
            transport = total(asg, c)
            break
    if fixed is not None or transport is not None:
        parts = {"fixed cost of open sites": fixed, "transport cost": transport}
        known = {k: v for k, v in parts.items() if v is not None}
        grand = sum(known.values())
        split = (
            " / ".join(
                f"{k.split(' ')[0]} {pct(v / grand if grand else None)}" for k, v in known.items()
            )
            if len(known) > 1
            else next(iter(known))
        )
        heads.append(Headline("Network cost", money(grand), split))
        base = finite(totals.get("baseline_total_cost"))
        if base:
            blocks.append(
                Note(
                    f"Keeping every segment's delivery promise costs {money(grand - base)} "
                    f"({pct((grand - base) / base)}) more than the cheapest network without "
                    f"promises ({money(base)})."
                )
            )
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
            )
        )
    elif has(asg, "distance_km"):
        assert asg is not None
        heads.append(
            Headline(
                "Mean distance",
                f"{format_value(wmean(asg, 'distance_km', weight), NUM)} km",
                "demand-weighted" if weight else "per customer",
            )
        )
    points = _customer_points(tables, asg) if asg is not None else None
    site_xy = sites if has(sites, "site_id", "lat", "lon") else None
    if points is not None or site_xy is not None:
        blocks.append(_map_chart(points, site_xy, colours, segment_order(tables)))
    if asg is not None and "segment" in asg.columns:
        aggs: list[pl.Expr] = [
            pl.col("customer_id").n_unique().alias("customers")
            if "customer_id" in asg.columns
            else pl.len().alias("customers")
        ]
        if weight:
            aggs.append(pl.col(weight).sum().alias("demand"))
        if "sla_met" in asg.columns:
            met_expr = pl.col("sla_met").cast(pl.Float64, strict=False)
            if weight:
                aggs.append(
                    ((met_expr * pl.col(weight)).sum() / pl.col(weight).sum()).alias(
                        "within_promise"
                    )
                )
            else:
                aggs.append(met_expr.mean().alias("within_promise"))
        for c in ("sla_days", "transit_days", "distance_km"):
            if c in asg.columns:
                aggs.append(num(c).mean().alias(c))
        if "transport_cost" in asg.columns:
            aggs.append(num("transport_cost").sum().alias("transport_cost"))
        by_seg = _order_frame(
            asg.group_by(pl.col("segment").cast(pl.String)).agg(aggs), segment_order(tables)
        )
        if "within_promise" in by_seg.columns:
            names = by_seg["segment"].to_list()
            shares = [finite(v) for v in by_seg["within_promise"].to_list()]
            promise = by_seg["sla_days"].to_list() if "sla_days" in by_seg.columns else None
            cols = _colour_list(names, colours)

            def plot(fig: Any) -> None:
                ax = fig.subplots()
                labels = [
                    f"{ch.label(n)} (≤ {_days(d)})" if finite(d) is not None else ch.label(n)
                    for n, d in zip(names, promise or [None] * len(names), strict=True)
                ]
                ch.barh(
                    ax,
                    labels,
                    shares,
                    colours=cols,
                    fmt="{:.0%}",
                    title="Share of demand delivered within its promise",
                )
                ax.set_xlim(0, 1.15)

            blocks.append(
                Chart(
                    "promise",
                    "Delivery promise met by segment",
                    plot,
                    size=(8.0, 0.9 + 0.32 * len(names)),
                )
            )
        blocks.append(
            TableBlock(
                "Delivery by segment",
                by_seg,
                formats={
                    "customers": INT,
                    "demand": NUM,
                    "within_promise": PCT,
                    "sla_days": NUM,
                    "transit_days": NUM,
                    "distance_km": NUM,
                    "transport_cost": MONEY,
                },
                heat=tuple(c for c in ("within_promise",) if c in by_seg.columns),
            )
        )
    if has(sites, "site_id"):
        assert sites is not None
        show = [
            c
            for c in (
                "site_id",
                "city",
                "open",
                "fixed_cost",
                "capacity",
                "demand_served",
                "utilization",
                "customers",
            )
            if c in sites.columns
        ]
        srt = (
            sites.sort(["open", "site_id"], descending=[True, False], nulls_last=True)
            if "open" in sites.columns
            else sites.sort("site_id")
        )
        blocks.append(
            TableBlock(
                "Sites",
                srt.select(show),
                formats={
                    "fixed_cost": MONEY,
                    "capacity": NUM,
                    "demand_served": NUM,
                    "utilization": PCT,
                    "customers": INT,
                },
                heat=tuple(c for c in ("utilization",) if c in show),
            )
        )
    if not heads:
        return "Network: the assignments / sites tables lack sla_met, site_id and cost columns."
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
    return Section("network", "Distribution network", subtitle, heads[:3], blocks)


def _map_chart(
    points: pl.DataFrame | None,
    sites: pl.DataFrame | None,
    colours: Colours,
    order: list[str | None],
) -> Chart:
    groups: list[tuple[str | None, list[float], list[float], list[float]]] = []
    lines: list[tuple[float, float, float, float]] = []
    site_pos: dict[str, tuple[float, float, bool]] = {}
    lats: list[float] = []
    if sites is not None:
        open_col = (
            sites["open"].cast(pl.Boolean, strict=False).to_list()
            if "open" in sites.columns
            else [True] * sites.height
        )
        for sid, lat, lon, is_open in zip(
            sites["site_id"].to_list(),
            sites["lat"].to_list(),
            sites["lon"].to_list(),
            open_col,
            strict=True,
        ):
            if finite(lat) is not None and finite(lon) is not None:
                site_pos[str(sid)] = (float(lon), float(lat), bool(is_open))
                lats.append(float(lat))
    n_points = 0
    if points is not None:
        pts = points.filter(num("lat").is_not_null() & num("lon").is_not_null())
        n_points = pts.height
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
            groups.append(
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
                if sid is not None and str(sid) in site_pos:
                    sx, sy, _ = site_pos[str(sid)]
                    lines.append((float(lon), float(lat), sx, sy))
    mean_lat = sum(lats) / len(lats) if lats else 0.0
    aspect = 1 / max(math.cos(math.radians(mean_lat)), 0.2)

    def plot(fig: Any) -> None:
        ax = fig.subplots()
        if lines:
            from matplotlib.collections import LineCollection

            ax.add_collection(
                LineCollection(
                    [((a, b), (c, d)) for a, b, c, d in lines],
                    colors="#d1d5db",
                    linewidths=0.5,
                    zorder=1,
                )
            )
        for name, xs, ys, sizes in groups:
            ax.scatter(
                xs,
                ys,
                s=sizes,
                color=colours.get(name, ch.MUTED),
                alpha=0.8,
                linewidths=0,
                label=ch.label(name),
                zorder=2,
                rasterized=n_points > RASTER_ABOVE,
            )
        for sid, (x, y, is_open) in sorted(site_pos.items()):
            ax.scatter(
                [x],
                [y],
                marker="^",
                s=140 if is_open else 70,
                color=ch.INK if is_open else "white",
                edgecolors=ch.INK,
                linewidths=1.2,
                zorder=3,
            )
            ax.annotate(
                ch.label(sid),
                (x, y),
                xytext=(5, 5),
                textcoords="offset points",
                fontsize=8,
                color=ch.INK if is_open else ch.MUTED,
                zorder=4,
            )
        ax.set_aspect(aspect, adjustable="datalim")
        ax.set_xlabel("longitude")
        ax.set_ylabel("latitude")
        if groups:
            legend = ax.legend(
                loc="center left",
                bbox_to_anchor=(1.01, 0.5),
                frameon=False,
                fontsize=8,
                markerscale=0.8,
                title="segment",
            )
            for handle in legend.legend_handles:
                handle.set_sizes([30])  # type: ignore[union-attr]
        ch.style(ax, grid="")
        ax.set_title("▲ open site   △ closed site", loc="left", fontsize=8, fontweight="normal")

    return Chart(
        "map",
        "Customers by segment and the sites that serve them",
        plot,
        size=(9.0, 6.0),
        caption="Marker area grows with the customer's demand."
        if points is not None
        else "No customer coordinates in the inputs: only the sites are shown.",
    )


# ---------------------------------------------------------------------------------------------
# Orders


def orders_section(tables: Tables, meta: Meta, colours: Colours) -> Section | str:
    orders = tables.get("orders")
    if orders is None:
        return (
            "Order history: no order lines in the inputs "
            "(optional; they add the forecast's history)."
        )
    missing = lacks(orders, ["order_date", "quantity"])
    if missing:
        return f"Order history: the order lines lack {', '.join(missing)}."
    value = (
        num("amount")
        if "amount" in orders.columns
        else num("quantity") * num("unit_price")
        if "unit_price" in orders.columns
        else None
    )
    o = orders.with_columns(pl.col("order_date").cast(pl.Date))
    if value is not None:
        product = (
            pl.col("flag").is_null() | (pl.col("flag") != "non_product")
            if "flag" in o.columns
            else pl.lit(True)
        )
        o = o.with_columns(pl.when(product).then(value).otherwise(0.0).alias("_value"))
    heads = [
        Headline(
            "Order lines",
            count(o.height),
            f"{cast('dt.date | None', o['order_date'].min())} to "
            f"{cast('dt.date | None', o['order_date'].max())}",
        )
    ]
    if "customer_id" in o.columns:
        heads.append(
            Headline("Customers", count(o["customer_id"].n_unique()), "with an order line")
        )
    if value is not None:
        heads.append(
            Headline("Net value", money(total(o, "_value")), "product lines, returns netted")
        )
    elif "sku" in o.columns:
        heads.append(Headline("SKUs", count(o["sku"].n_unique()), "ordered"))
    blocks: list[Block] = []
    if value is not None:
        monthly = (
            o.group_by(pl.col("order_date").dt.truncate("1mo").alias("month"))
            .agg(pl.col("_value").sum())
            .drop_nulls("month")
            .sort("month")
        )
        months = monthly["month"].to_list()
        values = [finite(v) or 0.0 for v in monthly["_value"].to_list()]

        def plot(fig: Any) -> None:
            import matplotlib.dates as mdates

            ax = fig.subplots()
            ax.bar(months, values, width=25, color=ch.ACCENT)
            locator = mdates.AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
            ch.style(ax, grid="y")

        blocks.append(Chart("orders", "Net order value per month", plot, size=(9.0, 2.6)))
    if "flag" in o.columns:
        flags = (
            o.filter(pl.col("flag").is_not_null())
            .group_by(pl.col("flag").cast(pl.String))
            .agg(pl.len().alias("lines"))
            .sort("flag")
        )
        if flags.height:
            blocks.append(TableBlock("Flagged lines (kept)", flags, formats={"lines": INT}))
    return Section(
        "orders", "Order history", "The order lines the stages were run on.", heads, blocks
    )


BUILDERS: tuple[Callable[[Tables, Meta, Colours], Section | str], ...] = (
    orders_section,
    segments_section,
    forecast_section,
    backtest_section,
    inventory_section,
    network_section,
)


def build_sections(tables: Tables, meta: Meta) -> tuple[list[Section], list[str]]:
    """Every section the inputs allow, in pipeline order, and why the others were skipped."""
    colours = ch.segment_colours(segment_order(tables))
    sections: list[Section] = []
    skipped: list[str] = []
    for builder in BUILDERS:
        result = builder(tables, meta, colours)
        if isinstance(result, Section):
            sections.append(result)
        else:
            skipped.append(result)
    return sections, skipped


__all__ = ["build_sections", "segment_order", "segment_profile", "TEXT"]
