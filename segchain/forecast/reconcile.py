"""Hierarchical reconciliation of segment x sku forecasts with the sku and total forecasts.

The hierarchy is three levels: the total, each sku (or sku x site, whatever ``--by`` holds
besides ``segment``) and its segment series below it. Methods:

- ``bottom-up``: the segment forecasts as fitted; the sku forecast is their sum (Nixtla
  hierarchicalforecast ``BottomUp``).
- ``mint``: MinTrace over all three levels (Wickramasuriya, Athanasopoulos & Hyndman 2019),
  hierarchicalforecast ``MinTrace``: with the shrinkage covariance of the backtest errors
  (``mint_shrink``) up to ``DENSE_LIMIT`` series, with their variances only (``wls_var``,
  sparse) beyond, and with structural weights (``wls_struct``) when no usable errors exist.
  In the backtest each window is reconciled with the errors of the earlier windows only, so
  the window scored never informs its own weights. Negative reconciled forecasts are set to 0.
- ``top-down``: the sku forecast split by each segment's share of the sku's demand over the
  whole history (``history_shares``).

Whatever the method, the segment x sku rows written sum exactly to the sku forecast that goes
with them. ``auto`` keeps top-down (the sku forecast made directly, split) unless bottom-up or
MinT beats it at the sku level (the level ``stock`` plans at) both significantly over all
backtest windows and in each window (``auto_method``). Every fallback
(structural or variance-only weights, skus without a complete backtest window) is counted,
the backtest windows' MinT apart from the forecast's (``BACKTEST``).

With sites, the middle level is sku x site, and a sku x site series is forecast on its own. One
too thin to stand on its own (``thin_site_series``: its own model forecasts no demand over the
horizon though it sold in the year before, or its history is one period) is forecast instead as
the sku's forecast across sites times the site's share of the sku's history (``site_split``),
and its segment rows are split from that; their error_sd is the sku's, scaled alike.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from segchain.forecast.intervals import error_spread
from segchain.forecast.options import KEY_SEP
from segchain.forecast.selection import selection_error

METHODS = ("bottom-up", "mint", "top-down")
TOTAL_ID = "total"
# Up to this many series (all levels), MinT with the dense shrinkage covariance; beyond, the
# error variances only (sparse WLS): a dense covariance of 10,000 series is 800 MB and cubic.
DENSE_LIMIT = 2000
# Fallback counters (stderr and the backtest's metadata, ``fallbacks``).
MINT_STRUCTURAL = "mint_structural_weights"  # the forecast's, without usable errors
MINT_VARIANCES = "mint_variances_only"  # the forecast's, over DENSE_LIMIT series
# The same of the backtest windows' MinT, counted whichever method is chosen: MinT is
# backtested to be compared, and its numbers are written only when it is chosen.
BACKTEST = "backtest_"
BACKTEST_MINT_STRUCTURAL = BACKTEST + MINT_STRUCTURAL
BACKTEST_MINT_VARIANCES = BACKTEST + MINT_VARIANCES
NOT_BACKTESTED = "reconciliation_not_backtested"  # skus without a complete backtest window
# Top-down series whose error_sd stays their own model's: under two one-step errors of the split.
SPLIT_SD_OWN = "top_down_error_sd_own_model"
# Reconciled series without the method's backtest errors: normal bounds of their error_sd.
BOUNDS_OWN = "reconciled_bounds_own_model"
# Standard errors a method must beat top-down by. The paired test treats the sku-windows as
# independent, but the skus of one window share its shocks, so the evidence is weaker than it
# says: on Superstore MinT passed at 2.0 and 2.1 (and won every window), then lost to sku direct
# held out (0.910 against 0.899 at 2021-10-11, 1.029 against 1.017 at 2022-03-07).
SIGNIFICANCE = 3.0
# Weight of a backtest window against the next more recent one in the paired test of ``auto``.
# Steeper than the model selection's: a method replaces the sku forecast made directly only on
# recent evidence (at 0.9, MinT was chosen at three of five Superstore cut-offs and lost to sku
# direct held out at one, 0.904 against 0.899; at 0.5 top-down was kept at all five).
RECONCILE_DECAY = 0.5
# Backtest windows a method must win, every one: the windows are the independent evidence, and
# winning all of k by chance has probability 2^-k (a sign test): 1/16 for four, 1/4 for two. On
# Online Retail cut at 2011-07-04 bottom-up won both of its two complete windows (by 1.6 % and
# 0.6 %, 3.8 standard errors in the paired test) and lost to sku direct held out (0.964 against
# 0.954).
MIN_WINDOWS_WON = 4
# A sku x site series forecast under this share of its median period with a sale, over the
# whole horizon, is forecast no demand (ADIDA's smoothing decays to 1e-27 on a series whose last
# sale is long past): a thousandth of a unit where it sells whole units, in any unit.
NO_DEMAND = 1e-3
# Sold within this many days before the forecast: a sku x site series forecast no demand after
# such a sale is split from its sku's forecast (the year ``stock`` counts such points over).
SOLD_WITHIN_DAYS = 364
SITE_FROM_SKU = "site_series_from_sku_forecast"  # fallback counter: sku x site series split


def thin_site_series(top_y: pl.DataFrame, top_fc: pl.DataFrame) -> pl.DataFrame:
    """``unique_id`` of the sku x site series too thin to stand on their own (``top_y``:
    ``unique_id, ds, y``; ``top_fc``: their own ``unique_id, ds, forecast``):

    - those whose own forecast sums to under ``NO_DEMAND`` of their median period with a sale
      over the horizon although they sold in the ``SOLD_WITHIN_DAYS`` before their history's
      last period: `stock` holds nothing there and the next weeks' demand there is in no plan;
    - those whose history is one period (a series starts at its first sale, so the site first
      sold the sku in the history's last period): too short to backtest, their level is half
      that one sale every period (``final.young_level``), 4 times the sale over 8 weeks.
    """
    last = top_y.get_column("ds").max()
    since = last - dt.timedelta(days=SOLD_WITHIN_DAYS - 1)  # type: ignore[operator]
    sold = top_y.filter((pl.col("ds") >= since) & (pl.col("y") > 0)).select("unique_id").unique()
    usual = top_y.group_by("unique_id").agg(
        pl.col("y").filter(pl.col("y") > 0).median().fill_null(1.0).alias("usual")
    )
    silent = (
        top_fc.group_by("unique_id")
        .agg(pl.col("forecast").sum().alias("ahead"))
        .join(usual, on="unique_id", how="left")
        .filter(pl.col("ahead") < NO_DEMAND * pl.col("usual").fill_null(1.0))
        .select("unique_id")
    )
    young = top_y.group_by("unique_id").agg(pl.len().alias("n")).filter(pl.col("n") == 1)
    return (
        pl.concat([silent.join(sold, on="unique_id"), young.select("unique_id")])
        .unique()
        .sort("unique_id")
    )


def site_split(
    top_y: pl.DataFrame,
    top_keys: pl.DataFrame,
    sku_keys: pl.DataFrame,
    sku_fc: pl.DataFrame,
    thin: pl.DataFrame,
) -> pl.DataFrame:
    """``unique_id, ds, forecast, ...`` of the ``thin`` sku x site series: the forecast of their
    sku across sites (``sku_fc``: ``unique_id, ds, forecast`` of the series ``sku_keys`` names,
    and any more columns, such as its ``error_sd``) times the site's share of the sku's units
    over the whole history (the sku x site series of ``top_y`` / ``top_keys``, all of the sku's
    sites). The whole history, as ``history_shares``: a site that sold a sku three times in a
    year has a share of it, its last weeks none.

    Every column is scaled by the share: a series forecast as a share of its sku's demand has
    that share of its sku's error too. Its own model's error_sd, of a model that forecast no
    demand, goes with none of the numbers written: on Superstore by product with the region as
    the site, the split rows' held-out squared errors were 0.03-0.04 of what it allowed, pooled,
    and 9-71 times at those whose model was ADIDA; 0.22-0.29 with the sku's scaled, the other
    rows' 0.34-0.44 (docs/measurements.md, *A split site series' spread*)."""
    on = [c for c in sku_keys.columns if c != "unique_id"]
    # Each sku x site series is a bottom of its sku across sites, as a segment is of its sku.
    links = top_keys.join(sku_keys.rename({"unique_id": "top_id"}), on=on).select(
        "unique_id", "top_id"
    )
    shares = history_shares(top_y, links).join(thin, on="unique_id", how="semi")
    return top_down(
        sku_fc, shares, cols=[c for c in sku_fc.columns if c not in ("unique_id", "ds")]
    )


def hierarchy(bottom_keys: pl.DataFrame, top_keys: pl.DataFrame, top_by: Sequence[str]):
    """``unique_id`` (bottom) -> ``top_id``, for every bottom series."""
    return bottom_keys.join(
        top_keys.rename({"unique_id": "top_id"}), on=list(top_by), how="inner"
    ).select("unique_id", "top_id")


def history_shares(
    y: pl.DataFrame, links: pl.DataFrame, *, cutoffs: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Each bottom series' share of its top's demand over the whole history.

    Per cutoff when ``cutoffs`` (``cutoff`` column) is given, from the periods up to it: the
    shares a top-down forecast made at that cutoff would have used. Equal shares where the top
    has no demand. Returns ``unique_id, [cutoff,] share``.

    The whole history, not its last periods: a segment is a set of customers, and segments are
    most often defined by recency (RFM's recency score, k-means' lapsed clusters), so a
    segment's last periods hold no sale by construction while its customers go on buying.
    Splitting the true sku totals of the next 8 weeks among the segments (horizon-total WAPE
    at segment x sku) by the last 13 weeks against the whole history: RFM segments of Online
    Retail at 3 cut-offs 0.632 / 0.575 / 0.598 against 0.572 / 0.520 / 0.524, of Superstore's
    sub-categories at 3 cut-offs 1.104 / 0.999 / 1.096 against 0.569 / 0.400 / 0.524, CDNOW
    (one sku) 0.824 against 0.355; segments not defined by recency gain too (Online Retail's
    home and export customers 0.234 / 0.241 / 0.215 against 0.218 / 0.210 / 0.178,
    Superstore's own segments 0.218 / 0.255 / 0.156 against 0.185 / 0.203 / 0.148). On
    sparse products (Superstore by product, RFM) both are poor and within noise: 1.685 /
    1.546 / 1.654 against 1.663 / 1.574 / 1.621.
    """
    frame = y.join(links, on="unique_id")
    if cutoffs is None:
        cuts = frame.select(pl.col("ds").max().alias("cutoff"))
    else:
        cuts = cutoffs.select("cutoff").unique().sort("cutoff")
    sums = _sums_up_to(frame, cuts.get_column("cutoff").drop_nulls())
    every = links.join(sums.select("cutoff").unique(maintain_order=True), how="cross")
    sums = every.join(
        sums, on=["unique_id", "top_id", "cutoff"], how="left", maintain_order="left"
    ).with_columns(pl.col("all").fill_null(0.0))
    over = ["top_id", "cutoff"]
    share = (
        pl.when(pl.col("all").sum().over(over) > 0)
        .then(pl.col("all") / pl.col("all").sum().over(over))
        .otherwise(1.0 / pl.len().over(over))
    )
    out = sums.select("unique_id", "top_id", "cutoff", share.alias("share"))
    return out if cutoffs is not None else out.drop("cutoff")


def _sums_up_to(frame: pl.DataFrame, cuts: pl.Series) -> pl.DataFrame:
    """``unique_id, top_id, cutoff, all``: each series' demand (``frame``: ``unique_id, top_id,
    ds, y``) over its periods up to each of ``cuts``, for the cutoffs with any period before.

    One cutoff at a time, not the history joined with every cutoff: that join held the history
    once per cutoff (+2.8 GB at 9.4 M series-periods and 4 cutoffs; docs/measurements.md).
    Grouped by the same three keys as that join's rows were, not read from running sums: polars
    adds a group's floats by a compensated sum over its rows here, and otherwise (running sums,
    a group-by on ``unique_id`` alone or with the cutoff) in other orders, so fractional units'
    shares would move in their last digits (on random histories, at most of the sums)."""
    parts = []
    for cut in cuts:
        at = pl.lit(cut, dtype=cuts.dtype)
        part = (
            frame.filter(pl.col("ds") <= at)
            .with_columns(at.alias("cutoff"))
            .group_by("unique_id", "top_id", "cutoff")
            .agg(pl.col("y").sum().alias("all"))
        )
        if part.height:
            parts.append(part)
    if parts:
        return pl.concat(parts)
    schema = {**frame.select("unique_id", "top_id").schema, "cutoff": cuts.dtype}
    return pl.DataFrame(schema={**schema, "all": frame.schema["y"]})


def top_down(
    top: pl.DataFrame, shares: pl.DataFrame, on: Sequence[str] = (), cols: Sequence[str] = ("yhat",)
) -> pl.DataFrame:
    """Bottom forecasts ``unique_id, ds, [on...], yhat`` = top forecast x share (and so each of
    ``cols``, the top's, times the share)."""
    tops = top.rename({"unique_id": "top_id", **{c: f"top_{c}" for c in cols}})
    return shares.join(tops, on=["top_id", *on]).select(
        "unique_id", "ds", *on, *[(pl.col(f"top_{c}") * pl.col("share")).alias(c) for c in cols]
    )


def top_down_one_step(y: pl.DataFrame, links: pl.DataFrame, top_one: pl.DataFrame) -> pl.DataFrame:
    """``unique_id, ds, yhat1``: the tops' one-step-ahead forecasts (``unique_id, ds, yhat1``,
    clipped at 0) split top-down, each period's by the shares of the periods before it: what a
    top-down forecast made one period earlier would have said (``history_shares`` up to then;
    equal shares where the top had no demand yet). Every bottom series of a top has a row in
    every period of its top (a segment's series starts with its sku's), so the shares of one
    period are over all of them."""
    over = ["top_id", "ds"]
    before = (
        y.join(links, on="unique_id")
        .sort("unique_id", "ds")
        .with_columns((pl.col("y").cum_sum() - pl.col("y")).over("unique_id").alias("before"))
    )
    total = pl.col("before").sum().over(over)
    share = pl.when(total > 0).then(pl.col("before") / total).otherwise(1.0 / pl.len().over(over))
    tops = top_one.select(
        pl.col("unique_id").alias("top_id"),
        "ds",
        pl.col("yhat1").cast(pl.Float64).fill_nan(None).clip(lower_bound=0.0).alias("top_yhat1"),
    )
    return (
        before.with_columns(share.alias("share"))
        .join(tops, on=["top_id", "ds"], how="inner")
        .select("unique_id", "ds", (pl.col("share") * pl.col("top_yhat1")).alias("yhat1"))
    )


def top_down_error_sd(
    y: pl.DataFrame,
    links: pl.DataFrame,
    top_one: pl.DataFrame,
    top_first_cut: pl.DataFrame,
    own: pl.DataFrame,
) -> tuple[pl.DataFrame, int]:
    """error_sd of the top-down forecasts written: the standard deviation of the one-step
    errors of the split (``top_down_one_step``) over the top's backtest span (the periods after
    its first CV cutoff; ``top_first_cut``: the tops' ``unique_id, first_cut``).

    The series' own model's error_sd (``own``: ``unique_id, error_sd``) made none of the numbers
    written, and a segment's own model may track it far closer or far worse than its share of
    the sku's forecast does. Where the split has under two errors (the sku not backtested) the
    series keeps ``own``. Returns (``unique_id, error_sd``, how many kept ``own``).
    """
    cut = links.join(top_first_cut.rename({"unique_id": "top_id"}), on="top_id").select(
        "unique_id", "first_cut"
    )
    spread = error_spread(y, cut, top_down_one_step(y, links, top_one))
    out = own.join(spread, on="unique_id", how="left")
    split = (pl.col("n1") >= 2).fill_null(False)
    kept = int(out.filter(~split & pl.col("unique_id").is_in(links["unique_id"].implode())).height)
    return (
        out.select(
            "unique_id",
            pl.when(split)
            .then(pl.col("sd1").fill_nan(0.0).fill_null(0.0))
            .otherwise(pl.col("error_sd"))
            .alias("error_sd"),
        ),
        kept,
    )


def _structure(links: pl.DataFrame, with_total: bool):
    """The summing matrix (sparse, hierarchicalforecast ``SMatrix``), tags and id maps of the
    hierarchy total -> top -> bottom (no total level when ``with_total`` is False)."""
    import numpy as np
    import scipy.sparse as sp
    from hierarchicalforecast.utils import SMatrix

    ordered = links.sort("top_id", "unique_id")
    bottoms = ordered.get_column("unique_id").to_list()
    uppers = ordered.get_column("top_id").unique(maintain_order=True).to_list()
    # The levels share no id: prefix them so that a sku named like a series cannot clash.
    top_hid = [f"T{KEY_SEP}{t}" for t in uppers]
    bottom_hid = [f"B{KEY_SEP}{b}" for b in bottoms]
    total_hid = [f"A{KEY_SEP}{TOTAL_ID}"] if with_total else []
    n_b, n_t = len(bottoms), len(uppers)
    top_pos = {t: k for k, t in enumerate(uppers)}
    parent = [top_pos[t] for t in ordered.get_column("top_id").to_list()]
    cols = np.arange(n_b)
    blocks = [
        sp.csr_matrix((np.ones(n_b), (np.array(parent, dtype=int), cols)), shape=(n_t, n_b)),
        sp.identity(n_b, format="csr"),
    ]
    if with_total:
        blocks.insert(0, sp.csr_matrix(np.ones((1, n_b))))
    s = sp.vstack(blocks)
    labels = np.array(total_hid + top_hid + bottom_hid, dtype=object)
    s_matrix = SMatrix(s, labels, np.array(bottom_hid, dtype=object), backend="polars")
    tags = {"top": np.array(top_hid, dtype=object), "bottom": np.array(bottom_hid, dtype=object)}
    if with_total:
        tags = {"total": np.array(total_hid, dtype=object), **tags}
    maps = {
        "bottom": pl.DataFrame({"unique_id": bottoms, "hid": bottom_hid}),
        "top": pl.DataFrame({"unique_id": uppers, "hid": top_hid}),
        "total": pl.DataFrame({"unique_id": [TOTAL_ID] * len(total_hid), "hid": total_hid}),
    }
    return s_matrix, tags, maps, labels


def _one_blas_thread():
    """BLAS limited to one thread, so that the reconciliation's numbers do not depend on the
    cores the run has (threadpoolctl: numpy's BLAS is loaded by then)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _relabel(frames: dict[str, pl.DataFrame], maps: dict[str, pl.DataFrame], cols: list[str]):
    parts = [
        frames[level].select("unique_id", *cols).join(maps[level], on="unique_id").drop("unique_id")
        for level in maps
        if level in frames
    ]
    return pl.concat(parts).rename({"hid": "unique_id"}).select("unique_id", *cols)


def hierarchical(
    base: dict[str, pl.DataFrame],
    links: pl.DataFrame,
    residuals: dict[str, pl.DataFrame] | None,
) -> tuple[dict[str, pl.DataFrame], str]:
    """BottomUp and MinTrace with hierarchicalforecast over total -> sku -> segment x sku.

    Args:
        base: per level (``bottom``, ``top`` and optionally ``total``) ``unique_id, ds, yhat``
            base forecasts (``ds`` unique per id; a series without a row there forecasts 0;
            the total's ``unique_id`` is ``TOTAL_ID``).
        links: bottom ``unique_id`` -> ``top_id``.
        residuals: per level ``unique_id, ds, y, yhat`` forecasts of periods before the ones
            reconciled (never the reconciled periods themselves), for MinT's error covariance;
            None or empty: weights from the structure alone.

    Returns:
        (``{"bottom-up": frame, "mint": frame}`` of bottom ``unique_id, ds, yhat``, the MinT
        estimator used: ``mint_shrink`` (shrinkage covariance, Wickramasuriya et al. 2019) up
        to ``DENSE_LIMIT`` series, ``wls_var`` (error variances only, sparse) beyond, or
        ``wls_struct`` (structural weights) without usable errors).
    """
    from hierarchicalforecast.core import HierarchicalReconciliation
    from hierarchicalforecast.methods import BottomUpSparse, MinTrace, MinTraceSparse

    with_total = "total" in base
    s_matrix, tags, maps, labels = _structure(links, with_total)
    all_ids = pl.DataFrame({"unique_id": labels.tolist()})
    part = _relabel(base, maps, ["ds", "yhat"])
    y_hat = (
        all_ids.join(part.select("ds").unique(), how="cross")
        .join(part, on=["unique_id", "ds"], how="left")
        .with_columns(pl.col("yhat").fill_null(0.0))
        .sort("unique_id", "ds")
    )
    y_in = None
    if residuals and all(f.height for f in residuals.values()):
        res = _relabel(residuals, maps, ["ds", "y", "yhat"])
        # A series without a forecast in a period counts as error 0 there: covariances from
        # pairwise-complete errors need not be positive definite, and then MinT's weights
        # explode (seen on Online Retail: WAPE 3.4), while zeros keep W a covariance matrix.
        y_in = (
            all_ids.join(res.select("ds").unique(), how="cross")
            .join(res, on=["unique_id", "ds"], how="left")
            .with_columns(pl.col("y").fill_null(0.0), pl.col("yhat").fill_null(0.0))
            .sort("unique_id", "ds")
        )
    # BLAS on one thread: OpenBLAS splits MinT's matrix products over its threads, and the
    # order of their sums with them (the demo's MinT comparison row in the backtest had
    # another bias on one core, `taskset -c 0`, than on two).
    with _one_blas_thread():
        estimator = "mint_shrink" if len(labels) <= DENSE_LIMIT else "wls_var"
        reconciled = None
        if y_in is not None:
            mint = (
                MinTrace(method="mint_shrink")
                if estimator == "mint_shrink"
                else MinTraceSparse(method="wls_var")
            )
            try:
                reconciled = HierarchicalReconciliation(
                    reconcilers=[BottomUpSparse(), mint]
                ).reconcile(Y_hat_df=y_hat, Y_df=y_in, S_df=s_matrix, tags=tags)
            except Exception:  # noqa: BLE001 - hierarchicalforecast raises bare Exception
                reconciled = None
        if reconciled is None:
            # No usable errors (none before these periods, too few, or all zero: a perfect fit):
            # weights from the structure alone (WLS, Hyndman & Athanasopoulos FPP3 11.4).
            estimator = "wls_struct"
            reconciled = HierarchicalReconciliation(
                reconcilers=[BottomUpSparse(), MinTraceSparse(method="wls_struct")]
            ).reconcile(Y_hat_df=y_hat, S_df=s_matrix, tags=tags)
    mint_col = next(c for c in reconciled.columns if "MinTrace" in c)
    bu_col = next(c for c in reconciled.columns if "BottomUp" in c)
    rec_bottom = reconciled.filter(pl.col("unique_id").str.starts_with(f"B{KEY_SEP}"))
    out = {
        method: rec_bottom.select(
            pl.col("unique_id").str.slice(2),
            pl.col("ds").cast(pl.Date),
            pl.col(col).cast(pl.Float64).clip(lower_bound=0.0).alias("yhat"),
        ).sort("unique_id", "ds")
        for method, col in (("bottom-up", bu_col), ("mint", mint_col))
    }
    return out, estimator


@dataclass
class Reconciliation:
    """The chosen method, its backtest rows per method and the reconciled final forecast."""

    method: str
    scores: dict[str, float]  # recency-weighted sku-level selection error per method
    rows: dict[str, pl.DataFrame]  # method -> segment rows unique_id, cutoff, ds, yhat
    forecast: pl.DataFrame  # unique_id, ds, yhat of the segment series
    fallbacks: dict[str, int] = field(default_factory=dict)


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
            pl.lit(RECONCILE_DECAY)
            .pow(pl.col("cutoff").rank("dense", descending=True) - 1)
            .alias("w")
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


def window_wins(reference: pl.DataFrame, other: pl.DataFrame) -> bool:
    """Whether ``other`` has the smaller sku-level error than ``reference`` in every backtest
    window (summed over the skus both scored there), the most recent one included, over at
    least ``MIN_WINDOWS_WON`` windows."""
    both = reference.join(other, on=["top_id", "cutoff"], suffix="_o")
    per_window = both.group_by("cutoff").agg(pl.col("e").sum(), pl.col("e_o").sum())
    if per_window.height < MIN_WINDOWS_WON:
        return False
    return bool((per_window.get_column("e_o") < per_window.get_column("e")).all())


def auto_method(errors: dict[str, pl.DataFrame]) -> str:
    """``auto``'s choice from the per-(sku, window) backtest errors of each method.

    Top-down adds up to the sku forecast made directly, so segmenting cannot make the sku
    total worse; bottom-up or MinT replaces it only when it (1) beats it significantly in the
    paired test (``significant_gain`` over ``SIGNIFICANCE`` standard errors) and (2) beats it
    in every backtest window, the most recent included, over at least ``MIN_WINDOWS_WON``.
    The skus' loss differences within one window share that window's demand shocks (a season's
    rise moves them all), so the paired test over sku-windows overstates the evidence: the
    windows are the independent units, and a method that loses any of them is not a safe bet
    for the next one (on Online Retail a bottom-up that passed the paired test alone lost 0.6 %
    held out).
    """
    reference = errors["top-down"]
    gains = {m: significant_gain(reference, errors[m]) for m in ("bottom-up", "mint")}
    passed = [m for m, g in gains.items() if g > SIGNIFICANCE and window_wins(reference, errors[m])]
    if not passed:
        return "top-down"
    return max(passed, key=lambda m: (gains[m], m == "bottom-up"))


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


def _backtest_hierarchical(
    rows: dict[str, pl.DataFrame], links: pl.DataFrame, fallbacks: dict[str, int]
) -> dict[str, pl.DataFrame]:
    """BottomUp and MinT rows ``unique_id, cutoff, ds, yhat`` for every backtest window, each
    reconciled with the errors of the earlier windows only (the window scored never informs
    its own weights; the earliest window has structural weights)."""
    cutoffs = pl.concat([f.select("cutoff") for f in rows.values()]).unique().sort("cutoff")
    out: dict[str, list[pl.DataFrame]] = {"bottom-up": [], "mint": []}
    for cut in cutoffs.get_column("cutoff").to_list():
        base = {k: f.filter(pl.col("cutoff") == cut) for k, f in rows.items()}
        if not base["bottom"].height or not base["top"].height:
            continue
        earlier = {k: f.filter(pl.col("cutoff") < cut) for k, f in rows.items()}
        rec, estimator = hierarchical(base, links, earlier)
        if earlier["bottom"].height:  # the earliest window has no errors before it by design
            _count_estimator(estimator, fallbacks)
        for method, frame in rec.items():
            out[method].append(
                frame.join(base["bottom"].select("ds").unique(), on="ds").select(
                    "unique_id", pl.lit(cut).alias("cutoff"), "ds", "yhat"
                )
            )
    empty = pl.DataFrame(
        schema={"unique_id": pl.Utf8, "cutoff": pl.Date, "ds": pl.Date, "yhat": pl.Float64}
    )
    return {m: pl.concat(f) if f else empty for m, f in out.items()}


def _count_estimator(estimator: str, fallbacks: dict[str, int]) -> None:
    key = {"wls_struct": MINT_STRUCTURAL, "wls_var": MINT_VARIANCES}.get(estimator)
    if key:
        fallbacks[key] = fallbacks.get(key, 0) + 1


def reconcile(
    *,
    method: str,
    links: pl.DataFrame,
    y_bottom: pl.DataFrame,
    bottom_rows: pl.DataFrame,
    top_rows: pl.DataFrame,
    bottom_fc: pl.DataFrame,
    top_fc: pl.DataFrame,
    total_rows: pl.DataFrame | None = None,
    total_fc: pl.DataFrame | None = None,
) -> Reconciliation:
    """Backtest every method on the honest backtest rows of every level, choose (``auto``) or
    take ``method``, and reconcile the final forecasts with it.

    Args:
        bottom_rows, top_rows, total_rows: ``unique_id, ds, cutoff, y, yhat`` backtest
            forecasts (the total's ``unique_id`` is ``TOTAL_ID``; None: no total level).
        bottom_fc, top_fc, total_fc: ``unique_id, ds, yhat`` final forecasts.
        y_bottom: the segment series' history (for the top-down shares).
    """
    rows: dict[str, pl.DataFrame] = {}
    scores: dict[str, float] = {}
    errors: dict[str, pl.DataFrame] = {}
    fallbacks: dict[str, int] = {}
    with_total = total_rows is not None and total_fc is not None
    if bottom_rows.height and top_rows.height:
        level_rows = {"bottom": bottom_rows, "top": top_rows}
        if with_total and total_rows is not None and total_rows.height:
            level_rows["total"] = total_rows
        windows: dict[str, int] = {}
        rows.update(_backtest_hierarchical(level_rows, links, windows))
        fallbacks.update({BACKTEST + k: n for k, n in windows.items()})
        shares = history_shares(y_bottom, links, cutoffs=top_rows.select("cutoff").unique())
        rows["top-down"] = top_down(
            top_rows.select("unique_id", "ds", "cutoff", "yhat"), shares, on=["cutoff"]
        ).select("unique_id", "cutoff", "ds", "yhat")
        slots = complete_slots(bottom_rows, top_rows, links)
        errors = {m: _top_errors(rows[m], links, top_rows, slots) for m in METHODS}
        scores = {m: float((e["e"] * e["w"]).sum()) for m, e in errors.items()}
        unscored = links.get_column("top_id").n_unique() - slots.get_column("top_id").n_unique()
    else:
        unscored = links.get_column("top_id").n_unique()
    if unscored:
        fallbacks[NOT_BACKTESTED] = unscored
    if method == "auto":
        method = auto_method(errors) if errors else "top-down"
    if method == "top-down":
        final = top_down(top_fc.select("unique_id", "ds", "yhat"), history_shares(y_bottom, links))
    elif method == "mint":
        base = {"bottom": bottom_fc, "top": top_fc}
        residuals = {"bottom": bottom_rows, "top": top_rows}
        if with_total and total_fc is not None and total_rows is not None:
            base["total"], residuals["total"] = total_fc, total_rows
        rec, estimator = hierarchical(base, links, residuals)
        _count_estimator(estimator, fallbacks)
        final = rec["mint"]
    else:
        final = bottom_fc.select("unique_id", "ds", "yhat")
    return Reconciliation(
        method=method, scores=scores, rows=rows, forecast=final, fallbacks=fallbacks
    )
