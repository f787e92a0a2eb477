"""Hierarchical reconciliation of segment x sku forecasts with the sku forecasts above them.

The hierarchy is two levels per sku (or per sku x site, whatever ``--by`` holds besides
``segment``): the sku series and its segment series below it. Methods:

- ``bottom-up``: the segment forecasts as fitted; the sku forecast is their sum (Nixtla
  hierarchicalforecast ``BottomUp``).
- ``mint``: MinTrace with the shrinkage covariance of the backtest errors (``mint_shrink``;
  Wickramasuriya, Athanasopoulos & Hyndman 2019), hierarchicalforecast ``MinTrace``. The skus
  are independent blocks (no total level above them), so they are reconciled in chunks of
  ``CHUNK`` skus: the result does not need one dense matrix over every series. Negative
  reconciled forecasts are set to zero.
- ``top-down``: the sku forecast split by each segment's share of the sku's demand over the most
  recent periods (13 weeks, 28 days, 6 months; the whole history when those hold none).

Whatever the method, the segment x sku rows written sum exactly to the sku forecast that goes
with them. ``auto`` picks the method whose summed backtest forecasts have the least
recency-weighted selection error at the sku level (the level ``stock`` plans at), when it beats
top-down (the sku forecast made directly, split) significantly; else top-down.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from segchain.forecast.options import KEY_SEP
from segchain.forecast.selection import WINDOW_DECAY, selection_error

METHODS = ("bottom-up", "mint", "top-down")
CHUNK = 250
SIGNIFICANCE = 2.0


def hierarchy(bottom_keys: pl.DataFrame, top_keys: pl.DataFrame, top_by: Sequence[str]):
    """``unique_id`` (bottom) -> ``top_id``, for every bottom series."""
    return bottom_keys.join(
        top_keys.rename({"unique_id": "top_id"}), on=list(top_by), how="inner"
    ).select("unique_id", "top_id")


def recent_shares(
    y: pl.DataFrame, links: pl.DataFrame, *, recent: int, cutoffs: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Each bottom series' share of its top's demand over the last ``recent`` periods.

    Per cutoff when ``cutoffs`` (``cutoff`` column) is given, from the periods up to it: the
    shares a top-down forecast made at that cutoff would have used. Falls back to the whole
    history before the cutoff, then to equal shares. Returns ``unique_id, [cutoff,] share``.
    """
    frame = y.join(links, on="unique_id")
    if cutoffs is None:
        last = frame.get_column("ds").max()
        frame = frame.with_columns(pl.lit(last).alias("cutoff"))
    else:
        frame = frame.join(cutoffs.select("cutoff").unique(), how="cross").filter(
            pl.col("ds") <= pl.col("cutoff")
        )
    interval = frame.select(pl.col("ds").unique().sort().diff().min()).item()
    start = pl.col("cutoff") - interval * (recent - 1)
    sums = frame.group_by("unique_id", "top_id", "cutoff").agg(
        pl.col("y").filter(pl.col("ds") >= start).sum().alias("recent"),
        pl.col("y").sum().alias("all"),
    )
    every = links.join(sums.select("cutoff").unique(), how="cross")
    sums = every.join(sums, on=["unique_id", "top_id", "cutoff"], how="left").with_columns(
        pl.col("recent").fill_null(0.0), pl.col("all").fill_null(0.0)
    )
    over = ["top_id", "cutoff"]
    share = (
        pl.when(pl.col("recent").sum().over(over) > 0)
        .then(pl.col("recent") / pl.col("recent").sum().over(over))
        .when(pl.col("all").sum().over(over) > 0)
        .then(pl.col("all") / pl.col("all").sum().over(over))
        .otherwise(1.0 / pl.len().over(over))
    )
    out = sums.select("unique_id", "top_id", "cutoff", share.alias("share"))
    return out if cutoffs is not None else out.drop("cutoff")


def top_down(top: pl.DataFrame, shares: pl.DataFrame, on: Sequence[str] = ()) -> pl.DataFrame:
    """Bottom forecasts ``unique_id, ds, [on...], yhat`` = top forecast x share."""
    tops = top.rename({"unique_id": "top_id", "yhat": "top_yhat"})
    return shares.join(tops, on=["top_id", *on]).select(
        "unique_id", "ds", *on, (pl.col("top_yhat") * pl.col("share")).alias("yhat")
    )


def hierarchical(
    bottom: pl.DataFrame,
    top: pl.DataFrame,
    links: pl.DataFrame,
    bottom_res: pl.DataFrame,
    top_res: pl.DataFrame,
) -> dict[str, pl.DataFrame]:
    """BottomUp and MinTrace(mint_shrink) with hierarchicalforecast, chunk by chunk of skus.

    Args:
        bottom, top: ``unique_id, ds, yhat`` of the segment series and of the sku series
            (``ds`` unique per id; a bottom series without a row there forecasts 0).
        links: bottom ``unique_id`` -> ``top_id``.
        bottom_res, top_res: ``unique_id, ds, y, yhat`` backtest forecasts, for the error
            covariance.

    Returns:
        ``{"bottom-up": frame, "mint": frame}`` of bottom ``unique_id, ds, yhat``.
    """
    import numpy as np
    from hierarchicalforecast.core import HierarchicalReconciliation
    from hierarchicalforecast.methods import BottomUp, MinTrace

    tops = links.get_column("top_id").unique().sort().to_list()
    out: dict[str, list[pl.DataFrame]] = {"bottom-up": [], "mint": []}
    names = {"bottom-up": "yhat/BottomUp", "mint": "yhat/MinTrace_method-mint_shrink"}
    for i in range(0, len(tops), CHUNK):
        chunk = links.filter(pl.col("top_id").is_in(tops[i : i + CHUNK])).sort(
            "top_id", "unique_id"
        )
        bottoms = chunk.get_column("unique_id").to_list()
        uppers = chunk.get_column("top_id").unique(maintain_order=True).to_list()
        # The two levels share no id: prefix them so that a sku named like a series cannot clash.
        ids = [f"T{KEY_SEP}{t}" for t in uppers] + [f"B{KEY_SEP}{b}" for b in bottoms]
        parent = chunk.get_column("top_id").to_list()
        top_pos = {t: k for k, t in enumerate(uppers)}
        s = np.zeros((len(ids), len(bottoms)))
        for j, t in enumerate(parent):
            s[top_pos[t], j] = 1.0
            s[len(uppers) + j, j] = 1.0
        s_df = pl.DataFrame({"unique_id": ids}).with_columns(
            pl.Series(ids[len(uppers) + j], s[:, j]) for j in range(len(bottoms))
        )
        tags = {
            "top": [f"T{KEY_SEP}{t}" for t in uppers],
            "bottom": [f"B{KEY_SEP}{b}" for b in bottoms],
        }

        top_ids = pl.DataFrame({"unique_id": uppers, "hid": ids[: len(uppers)]})
        bottom_ids = pl.DataFrame({"unique_id": bottoms, "hid": ids[len(uppers) :]})

        def relabel(
            b: pl.DataFrame,
            t: pl.DataFrame,
            bi: pl.DataFrame = bottom_ids,
            ti: pl.DataFrame = top_ids,
        ) -> pl.DataFrame:
            parts = [f.join(m, on="unique_id").drop("unique_id") for f, m in ((t, ti), (b, bi))]
            return pl.concat(parts).rename({"hid": "unique_id"})

        all_ids = pl.DataFrame({"unique_id": ids})
        part = relabel(
            bottom.select("unique_id", "ds", "yhat"), top.select("unique_id", "ds", "yhat")
        )
        y_hat = (
            all_ids.join(part.select("ds").unique(), how="cross")
            .join(part, on=["unique_id", "ds"], how="left")
            .with_columns(pl.col("yhat").fill_null(0.0))
            .sort("unique_id", "ds")
        )
        res = relabel(
            bottom_res.select("unique_id", "ds", "y", "yhat"),
            top_res.select("unique_id", "ds", "y", "yhat"),
        )
        res_grid = all_ids.join(res.select("ds").unique(), how="cross")
        # A series without a backtest in a window counts as error 0 there: covariances from
        # pairwise-complete errors need not be positive definite, and then MinT's weights
        # explode (seen on Online Retail: WAPE 3.4), while zeros keep W a covariance matrix.
        y_in = (
            res_grid.join(res, on=["unique_id", "ds"], how="left")
            .with_columns(pl.col("y").fill_null(0.0), pl.col("yhat").fill_null(0.0))
            .sort("unique_id", "ds")
        )
        arrays = {k: np.array(v) for k, v in tags.items()}
        try:
            reconciled = HierarchicalReconciliation(
                reconcilers=[BottomUp(), MinTrace(method="mint_shrink")]
            ).reconcile(Y_hat_df=y_hat, Y_df=y_in, S_df=s_df, tags=arrays)
        except Exception:  # noqa: BLE001 - hierarchicalforecast raises bare Exception
            # No usable backtest errors (too few, or all zero: a perfect fit): weights from
            # the structure alone (WLS, Hyndman & Athanasopoulos FPP3 11.4).
            reconciled = HierarchicalReconciliation(
                reconcilers=[BottomUp(), MinTrace(method="wls_struct")]
            ).reconcile(Y_hat_df=y_hat, S_df=s_df, tags=arrays)
            reconciled = reconciled.rename({"yhat/MinTrace_method-wls_struct": names["mint"]})
        rec_bottom = reconciled.filter(pl.col("unique_id").str.starts_with(f"B{KEY_SEP}"))
        for method, col in names.items():
            out[method].append(
                rec_bottom.select(
                    pl.col("unique_id").str.slice(2),
                    pl.col("ds").cast(pl.Date),
                    pl.col(col).cast(pl.Float64).clip(lower_bound=0.0).alias("yhat"),
                )
            )
    empty = pl.DataFrame(schema={"unique_id": pl.Utf8, "ds": pl.Date, "yhat": pl.Float64})
    return {m: pl.concat(frames) if frames else empty for m, frames in out.items()}


@dataclass
class Reconciliation:
    """The chosen method, its backtest rows per method and the reconciled final forecast."""

    method: str
    scores: dict[str, float]  # recency-weighted sku-level selection error per method
    rows: dict[str, pl.DataFrame]  # method -> segment rows unique_id, cutoff, ds, yhat
    forecast: pl.DataFrame  # unique_id, ds, yhat of the segment series


def _windows(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.select("ds", "cutoff").unique()


def _top_errors(
    rows: pl.DataFrame, links: pl.DataFrame, top_rows: pl.DataFrame, slots: pl.DataFrame
) -> pl.DataFrame:
    """Selection error per (top_id, cutoff) of segment rows summed to their tops, on ``slots``,
    with the window's recency weight ``w``."""
    summed = (
        rows.join(links, on="unique_id")
        .sort("top_id", "cutoff", "ds", "unique_id")
        .group_by("top_id", "cutoff", "ds", maintain_order=True)
        .agg(pl.col("yhat").fill_null(0.0).sum())
    )
    actual = top_rows.select(pl.col("unique_id").alias("top_id"), "cutoff", "ds", "y").join(
        slots, on=["top_id", "cutoff"]
    )
    both = actual.join(summed, on=["top_id", "cutoff", "ds"], how="left").with_columns(
        pl.col("yhat").fill_null(0.0)
    )
    return (
        both.group_by("top_id", "cutoff")
        .agg((selection_error(pl.col("yhat") - pl.col("y")) * 1000).round().alias("e"))
        .with_columns(
            pl.lit(WINDOW_DECAY).pow(pl.col("cutoff").rank("dense", descending=True) - 1).alias("w")
        )
        .sort("top_id", "cutoff")
    )


def significant_gain(reference: pl.DataFrame, other: pl.DataFrame) -> float:
    """How many standard errors ``other`` beats ``reference`` by (paired, recency-weighted).

    A Diebold-Mariano-style test on the per-(sku, window) loss differences d = reference -
    other: weighted mean over its standard error, with the effective sample size of the
    weights ((sum w)^2 / sum w^2). Positive when ``other`` has the smaller loss.
    """
    both = reference.join(other, on=["top_id", "cutoff"], suffix="_o").with_columns(
        (pl.col("e") - pl.col("e_o")).alias("d")
    )
    if both.height < 2:
        return 0.0
    w, d = both.get_column("w").to_numpy(), both.get_column("d").to_numpy()
    mean = float((w * d).sum() / w.sum())
    var = float((w * (d - mean) ** 2).sum() / w.sum())
    n_eff = float(w.sum() ** 2 / (w**2).sum())
    if var <= 0:
        return 0.0 if mean == 0 else math.copysign(math.inf, mean)
    return mean / math.sqrt(var / n_eff)


def complete_slots(
    bottom_rows: pl.DataFrame, top_rows: pl.DataFrame, links: pl.DataFrame
) -> pl.DataFrame:
    """(top_id, cutoff) where the segment series' actuals add up to the sku's: every segment
    series of the sku was backtested there, so every method forecasts the same demand."""
    y_sum = (
        bottom_rows.join(links, on="unique_id")
        .sort("top_id", "cutoff", "ds", "unique_id")
        .group_by("top_id", "cutoff", "ds", maintain_order=True)
        .agg(pl.col("y").sum().alias("y_sum"))
    )
    return (
        top_rows.select(pl.col("unique_id").alias("top_id"), "cutoff", "ds", "y")
        .join(y_sum, on=["top_id", "cutoff", "ds"], how="left")
        .group_by("top_id", "cutoff")
        .agg(((pl.col("y_sum").fill_null(0.0) - pl.col("y")).abs().sum() < 1e-9).alias("ok"))
        .filter("ok")
        .select("top_id", "cutoff")
    )


def reconcile(
    *,
    method: str,
    links: pl.DataFrame,
    y_bottom: pl.DataFrame,
    bottom_rows: pl.DataFrame,
    top_rows: pl.DataFrame,
    bottom_fc: pl.DataFrame,
    top_fc: pl.DataFrame,
    recent: int,
) -> Reconciliation:
    """Backtest every method on the honest backtest rows of both levels, choose (``auto``) or
    take ``method``, and reconcile the final forecasts with it.

    Args:
        bottom_rows, top_rows: ``unique_id, ds, cutoff, y, yhat`` backtest forecasts.
        bottom_fc, top_fc: ``unique_id, ds, yhat`` final forecasts.
        y_bottom: the segment series' history (for the top-down shares).
        recent: periods of recent history for the top-down shares.
    """
    rows: dict[str, pl.DataFrame] = {}
    scores: dict[str, float] = {}
    gains: dict[str, float] = {}
    if bottom_rows.height and top_rows.height:
        windows = pl.concat([_windows(bottom_rows), _windows(top_rows)]).unique()
        hier = hierarchical(bottom_rows, top_rows, links, bottom_rows, top_rows)
        for name in ("bottom-up", "mint"):
            rows[name] = (
                hier[name].join(windows, on="ds").select("unique_id", "cutoff", "ds", "yhat")
            )
        shares = recent_shares(
            y_bottom, links, recent=recent, cutoffs=top_rows.select("cutoff").unique()
        )
        rows["top-down"] = top_down(
            top_rows.select("unique_id", "ds", "cutoff", "yhat"), shares, on=["cutoff"]
        ).select("unique_id", "cutoff", "ds", "yhat")
        slots = complete_slots(bottom_rows, top_rows, links)
        errors = {m: _top_errors(rows[m], links, top_rows, slots) for m in METHODS}
        scores = {m: float((e["e"] * e["w"]).sum()) for m, e in errors.items()}
        gains = {m: significant_gain(errors["top-down"], errors[m]) for m in METHODS}
    if method == "auto":
        # Top-down adds up to the sku forecast made directly, so segmenting cannot make the
        # sku total worse; another method replaces it only when its backtest gain is
        # significant (over SIGNIFICANCE standard errors), not a near tie that noise decides.
        method = "top-down"
        best = max(("bottom-up", "mint"), key=lambda m: (gains.get(m, 0.0), m == "bottom-up"))
        if gains.get(best, 0.0) > SIGNIFICANCE:
            method = best
    if method == "top-down":
        final = top_down(
            top_fc.select("unique_id", "ds", "yhat"), recent_shares(y_bottom, links, recent=recent)
        )
    elif method == "mint":
        final = hierarchical(bottom_fc, top_fc, links, bottom_rows, top_rows)["mint"]
    else:
        final = bottom_fc.select("unique_id", "ds", "yhat")
    return Reconciliation(method=method, scores=scores, rows=rows, forecast=final)
