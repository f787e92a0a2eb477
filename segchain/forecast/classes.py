"""Syntetos-Boylan demand classes (smooth, erratic, intermittent, lumpy) per series."""

from __future__ import annotations

import polars as pl

ADI_CUTOFF = 1.32  # Syntetos & Boylan (2005)
CV2_CUTOFF = 0.49


def classify(y: pl.DataFrame, *, recent: int = 13) -> pl.DataFrame:
    """Syntetos-Boylan class per series, plus history length and recent mean demand.

    ADI = periods / periods with demand; CV2 = squared coefficient of variation of the non-zero
    demand sizes (0 with fewer than two). Smooth: ADI < 1.32 and CV2 < 0.49; erratic: ADI < 1.32;
    intermittent: CV2 < 0.49; lumpy otherwise. An all-zero series is intermittent.
    """
    nz = pl.col("y").filter(pl.col("y") > 0)
    stats = y.group_by("unique_id").agg(
        pl.len().cast(pl.Int64).alias("n"),
        (pl.col("y") > 0).sum().cast(pl.Int64).alias("n_nonzero"),
        nz.mean().alias("nz_mean"),
        nz.std(ddof=0).alias("nz_sd"),
        pl.col("y").tail(recent).mean().alias("mean_demand"),
        pl.col("y").mean().alias("mean_all"),
        pl.col("y").std(ddof=1).alias("sd_all"),
    )
    adi = pl.col("n") / pl.col("n_nonzero")
    cv2 = pl.when(pl.col("n_nonzero") >= 2).then((pl.col("nz_sd") / pl.col("nz_mean")) ** 2)
    stats = stats.with_columns(
        pl.when(pl.col("n_nonzero") > 0).then(adi).otherwise(float("inf")).alias("adi"),
        cv2.fill_null(0.0).alias("cv2"),
    ).with_columns(
        pl.when((pl.col("adi") < ADI_CUTOFF) & (pl.col("cv2") < CV2_CUTOFF))
        .then(pl.lit("smooth"))
        .when(pl.col("adi") < ADI_CUTOFF)
        .then(pl.lit("erratic"))
        .when(pl.col("cv2") < CV2_CUTOFF)
        .then(pl.lit("intermittent"))
        .otherwise(pl.lit("lumpy"))
        .alias("demand_class"),
        pl.col("sd_all").fill_null(0.0),
    )
    return stats.drop("nz_mean", "nz_sd").sort("unique_id")
