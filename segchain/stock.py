"""stock: inventory policies per stocking point whose service targets come from customer segments.

The stage reads a forecast (Nixtla long format, one row per series x future period), sums the
series of each stocking point (``sku``, and ``site`` when present), and computes a replenishment
policy with the textbook formulas:

* protection interval ``T``: ``L + R`` for periodic review ``(R, S)`` when ``review_days`` is
  given; ``L + 1`` period for continuous review ``(s, Q)``: demand is known per forecast period,
  so the stock is in effect looked at once per period and falls below ``s`` by up to a period's
  demand before the order goes out (the undershoot; see ``_compute``);
* demand over the interval: mean ``mu*T``, sd ``sqrt(T*sd^2 + mu^2*sd_L^2)`` with the forecast's
  one-step error sd (not the raw demand's deviation);
* cycle service level: ``s = mean_T + z*sd_T`` (for slow and lumpy ``(s, Q)`` items, the exact
  ``P(D_L + U <= s)`` with the undershoot ``U``); fill rate ``(R, S)``: ``sd_T*G(k) = (1 -
  target)*mu*R`` with the standard normal loss function ``G`` (Silver, Pyke & Peterson); fill
  rate ``(s, Q)``: the exact ``(R = 1 period, s, nQ)`` shortage, the position after ordering
  being uniform on ``(s, s + Q]``, with second-order loss functions (Hadley & Whitin; Axsaeter);
* slow and lumpy items (``demand_class`` intermittent or lumpy, or fewer than ``LOW_MEAN_UNITS``
  units over the interval): Poisson when the variance does not exceed the mean, else negative
  binomial, fitted by mean and sd (gamma above ``GAMMA_ABOVE_UNITS``), and the smallest integer
  level that meets the target, never a normal approximation (levels from a pmf grid built once
  per row, all candidate levels at once; the closed forms where the grid would be too wide);
* order quantity: EOQ ``sqrt(2*D*K/h)`` with ``h = holding_rate*unit_cost``, raised to the MOQ and
  rounded up to the pack size.

Levels are integers (units): the smallest integer level meeting the target, never below zero.
``simulate`` replays policies against demand drawn from the distribution they assumed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import polars as pl

from segchain.config import (
    PolicyTable,
    SegmentPolicy,
    check_service_level,
    check_service_measure,
)
from segchain.errors import DataError, UsageError, examples
from segchain.schema import require_columns

# Item master defaults, used column by column for items missing from the master or with an empty
# value (documented in the README; the count of items that used any default is reported).
ITEM_DEFAULTS: dict[str, float] = {
    "unit_cost": 1.0,  # inventory value is then in units
    "order_cost": 50.0,
    "holding_rate": 0.25,  # per year
    "lead_time_days": 14.0,
    "lead_time_sd_days": 0.0,
    "moq": 0.0,
    "pack_size": 1.0,
}
ITEM_COLUMNS = tuple(ITEM_DEFAULTS)
DEFAULT_SERVICE_LEVEL = 0.95
DEFAULT_SERVICE_MEASURE = "fill-rate"
BLENDS = ("weighted", "max")
# Below this mean over the protection interval a normal approximation under-protects.
LOW_MEAN_UNITS = 20.0
# Intermittent or lumpy items above this mean use a gamma (integer steps no longer matter).
GAMMA_ABOVE_UNITS = 1000.0
DAYS_PER_YEAR = 365.25
# Periods named by their length in days (from the forecast's `ds` spacing).
KNOWN_PERIODS = ((1.0, 1.0, 1.0), (6.0, 8.0, 7.0), (27.0, 32.0, 30.4375), (88.0, 93.0, 91.3125))
DEFAULT_PERIOD_DAYS = 7.0
DISTRIBUTIONS = ("normal", "poisson", "negbin", "gamma")


@dataclass(frozen=True)
class StockResult:
    """What ``stock`` returns: the policy table and what the CLI reports about it."""

    policy: pl.DataFrame
    comparison: pl.DataFrame | None = None
    items_defaulted: int = 0
    defaults_by_column: Mapping[str, int] = field(default_factory=dict)
    on_hand_missing: int = 0
    period_days: float = DEFAULT_PERIOD_DAYS
    notes: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------
# Textbook helpers


def normal_loss(k: Any) -> np.ndarray:
    """Standard normal loss function G(k) = phi(k) - k*(1 - Phi(k)) = E[(Z - k)^+]."""
    from scipy.special import ndtr

    k = np.asarray(k, dtype=float)
    return np.exp(-0.5 * k * k) / math.sqrt(2 * math.pi) - k * ndtr(-k)


def inverse_normal_loss(g: Any) -> np.ndarray:
    """The k with G(k) = g (g > 0), vectorised.

    G is convex and decreasing, so Newton's method started left of the root (G(k) >= -k, hence
    k0 = -g - 1 is left of it) climbs monotonically to the root without overshooting.
    """
    from scipy.special import ndtr

    g = np.asarray(g, dtype=float)
    k = -g - 1.0
    for _ in range(200):
        step = (normal_loss(k) - g) / np.maximum(ndtr(-k), 1e-300)
        k = k + step
        if np.all(np.abs(step) < 1e-12):
            break
    return k


def eoq(annual_demand: Any, order_cost: Any, holding_cost: Any) -> np.ndarray:
    """Economic order quantity sqrt(2*D*K/h) (Harris; Snyder & Shen eq. 3.4)."""
    d = np.asarray(annual_demand, dtype=float)
    k = np.asarray(order_cost, dtype=float)
    h = np.asarray(holding_cost, dtype=float)
    return np.sqrt(2.0 * d * k / h)


def round_order_qty(q: Any, moq: Any, pack_size: Any) -> np.ndarray:
    """Raise ``q`` to the MOQ, then round it up to a whole number of packs (at least one pack)."""
    q = np.maximum(np.asarray(q, dtype=float), np.asarray(moq, dtype=float))
    pack = np.asarray(pack_size, dtype=float)
    packs = np.maximum(np.ceil(q / pack - 1e-9), 1.0)
    return packs * pack


def fit_params(dist: str, mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parameters of ``dist`` with the given mean and variance (moment fit).

    poisson: (mu, unused); negbin: (r, p) as scipy's nbinom(n=r, p); gamma: (shape, scale).
    """
    mean = np.asarray(mean, dtype=float)
    var = np.asarray(var, dtype=float)
    if dist == "poisson":
        return mean, np.zeros_like(mean)
    if dist == "negbin":
        p = mean / var
        return mean * p / (1.0 - p), p
    if dist == "gamma":
        return mean * mean / var, var / mean
    raise ValueError(dist)


def dist_cdf(dist: str, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """P(D <= x) for integer x (real x for gamma)."""
    from scipy import special

    x = np.asarray(x, dtype=float)
    if dist == "gamma":
        return special.gammainc(a, np.maximum(x, 0.0) / b)
    xs = np.maximum(x, 0.0)
    # Negative binomial: P(D <= k) = I_p(r, k + 1) (regularised incomplete beta; r is real).
    out = special.pdtr(xs, a) if dist == "poisson" else special.betainc(a, xs + 1.0, b)
    return np.where(x < 0, 0.0, out)


def _sf(dist: str, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy import special

    xs = np.maximum(x, 0.0)
    out = special.pdtrc(xs, a) if dist == "poisson" else special.betaincc(a, xs + 1.0, b)
    return np.where(x < 0, 1.0, out)


def dist_loss(dist: str, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Expected shortage E[(D - x)^+] in closed form.

    Uses k*f(k) = m*f'(k-1), where f' is the same family one shape step up (Poisson: itself;
    negative binomial: r + 1; gamma: shape + 1).
    """
    from scipy import special

    x = np.asarray(x, dtype=float)
    if dist == "gamma":
        z = np.maximum(x, 0.0) / b
        loss = a * b * special.gammaincc(a + 1.0, z) - np.maximum(x, 0.0) * special.gammaincc(a, z)
        return np.where(x < 0, a * b - x, np.maximum(loss, 0.0))
    if dist == "poisson":
        m = a
        loss = m * _sf(dist, x - 1, a, b) - x * _sf(dist, x, a, b)
    else:
        m = a * (1.0 - b) / b
        loss = m * _sf(dist, x - 1, a + 1.0, b) - x * _sf(dist, x, a, b)
    return np.where(x < 0, m - x, np.maximum(loss, 0.0))


def normal_loss2(k: Any) -> np.ndarray:
    """Second-order standard normal loss G2(k) = E[((Z - k)^+)^2] / 2 = integral of G from k on.

    G2(k) = ((k^2 + 1)*(1 - Phi(k)) - k*phi(k)) / 2 (Axsaeter, Inventory Control, sec. 5.3).
    """
    from scipy.special import ndtr

    k = np.asarray(k, dtype=float)
    phi = np.exp(-0.5 * k * k) / math.sqrt(2 * math.pi)
    return 0.5 * ((k * k + 1.0) * ndtr(-k) - k * phi)


def dist_loss2(dist: str, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Second-order loss in closed form, for x >= 0.

    Discrete families: sum over y > x of E[(D - y)^+] = E[(D - x)(D - x - 1)/2; D > x], written
    with the factorial moments E[D; D >= j] = m*P(D' >= j - 1) and E[D(D-1); D >= j] =
    m*m'*P(D'' >= j - 2), D' and D'' the family one and two shape steps up. Gamma (continuous):
    the integral of E[(D - y)^+] from x on, E[((D - x)^+)^2] / 2.
    """
    from scipy import special

    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    if dist == "gamma":
        z = x / b
        out = 0.5 * (
            a * (a + 1.0) * b * b * special.gammaincc(a + 2.0, z)
            - 2.0 * x * a * b * special.gammaincc(a + 1.0, z)
            + x * x * special.gammaincc(a, z)
        )
        return np.maximum(out, 0.0)
    if dist == "poisson":
        m = m2 = a
        sf1 = _sf(dist, x - 1, a, b)
        sf2 = _sf(dist, x - 2, a, b)
    else:
        m = a * (1.0 - b) / b
        m2 = (a + 1.0) * (1.0 - b) / b
        sf1 = _sf(dist, x - 1, a + 1.0, b)
        sf2 = _sf(dist, x - 2, a + 2.0, b)
    out = 0.5 * (m * m2 * sf2 - 2.0 * x * m * sf1 + x * (x + 1.0) * _sf(dist, x, a, b))
    return np.maximum(out, 0.0)


class Fitted:
    """Demand over an interval, one distribution per row, fitted by mean and variance.

    ``family`` per row: poisson, negbin or gamma; rows with a zero mean are a point mass at 0
    and negative binomial rows whose variance does not exceed the mean fall back to Poisson.
    """

    def __init__(self, family: np.ndarray, mean: np.ndarray, var: np.ndarray) -> None:
        mean = np.asarray(mean, dtype=float)
        var = np.asarray(var, dtype=float)
        family = np.asarray(family).astype(object)
        family = np.where((family == "negbin") & (var <= mean * (1 + 1e-9)), "poisson", family)
        family = np.where((family == "gamma") & (var <= 0), "poisson", family)
        self.family = np.where(mean <= 0, "zero", family)
        self.mean = mean
        self.parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []
        for name in ("poisson", "negbin", "gamma"):
            m = np.flatnonzero(self.family == name)
            if m.size:
                a, b = fit_params(name, mean[m], var[m])
                self.parts.append((name, m, a, b))

    def _each(self, x: np.ndarray, fn: Any, zero: Any) -> np.ndarray:
        x = np.broadcast_to(np.asarray(x, dtype=float), self.mean.shape)
        out = zero(x).astype(float)
        for name, m, a, b in self.parts:
            out[m] = fn(name, x[m], a, b)
        return out

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """P(D <= x)."""
        return self._each(x, dist_cdf, lambda x: (x >= 0).astype(float))

    def loss(self, x: np.ndarray) -> np.ndarray:
        """E[(D - x)^+]."""
        return self._each(x, dist_loss, lambda x: np.maximum(-x, 0.0))

    def loss2(self, x: np.ndarray) -> np.ndarray:
        """Second-order loss (``dist_loss2``), for x >= 0."""
        return self._each(x, dist_loss2, lambda x: np.zeros_like(x))


def smallest_level(ok: Any, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """The smallest integer level s >= 0 with ``ok(s)``, by vectorised bisection.

    ``ok`` must be monotone (false below the answer, true from it on); the search starts from
    mean + 8 sd and doubles the upper bound where needed.
    """
    hi = np.ceil(np.asarray(mean, dtype=float) + 8.0 * np.asarray(sd, dtype=float) + 8.0)
    for _ in range(64):
        bad = ~ok(hi)
        if not bad.any():
            break
        hi = np.where(bad, hi * 2.0, hi)
    lo = np.full_like(hi, -1.0)  # -1 never meets a target: levels start at 0
    while np.any(hi - lo > 1):
        open_ = hi - lo > 1
        mid = np.where(open_, np.floor((lo + hi) / 2.0), hi)
        good = ok(mid)
        hi = np.where(open_ & good, mid, hi)
        lo = np.where(open_ & ~good, mid, lo)
    return hi


# ---------------------------------------------------------------------------------------------
# The stage


def stock(
    forecast: pl.DataFrame | pl.LazyFrame,
    *,
    items: pl.DataFrame | pl.LazyFrame | None = None,
    on_hand: pl.DataFrame | pl.LazyFrame | None = None,
    policies: PolicyTable | None = None,
    service_level: float | None = None,
    service_measure: str | None = None,
    review_days: float | None = None,
    lead_time_days: float | None = None,
    blend: str = "weighted",
    compare_uniform: float | str | None = None,
) -> StockResult:
    """Inventory policy per stocking point (``sku``, and ``site`` when the forecast has one).

    Args:
        forecast: rows with ``sku, ds, forecast, error_sd`` (``mean_demand`` is the fallback for
            an empty forecast value) and optionally ``segment, demand_class, site, unique_id``.
        items: item master ``sku, unit_cost, order_cost, holding_rate, lead_time_days,
            lead_time_sd_days, moq, pack_size``; missing items or values use ``ITEM_DEFAULTS``
            (lead time: ``lead_time_days`` first).
        on_hand: ``sku, on_hand`` (optional ``site``, ``on_order``, ``backorders``).
        policies: the segment policy table; ``service_level``/``service_measure`` fill what
            neither a segment nor ``"*"`` sets (defaults 0.95 and fill-rate).
        review_days: periodic review (R, S) every so many days; None for continuous (s, Q).
        lead_time_days: lead time for items without one.
        blend: ``weighted`` (demand-weighted segment targets) or ``max`` (best-served segment).
        compare_uniform: also compute the policies with this one target, compared per segment;
            ``"equal"`` takes the demand-weighted mean of the segmented targets, so that both
            plans promise the same average service and only its allocation differs.

    Raises:
        DataError: negative or missing forecasts or sds, bad item master, unknown on-hand SKUs.
        UsageError: service level outside (0, 1), unknown blend or measure, negative days.
    """
    if blend not in BLENDS:
        raise UsageError(f"--blend must be one of {', '.join(BLENDS)}, got {blend!r}")
    level = check_service_level(
        service_level if service_level is not None else DEFAULT_SERVICE_LEVEL
    )
    measure = check_service_measure(service_measure or DEFAULT_SERVICE_MEASURE)
    equal = isinstance(compare_uniform, str) and compare_uniform.strip().lower() == "equal"
    uniform = (
        check_service_level(compare_uniform, where="--compare-uniform")
        if compare_uniform is not None and not equal
        else None
    )
    if review_days is not None and not review_days > 0:
        raise UsageError(f"--review-days must be a number of days > 0, got {review_days!r}")
    if lead_time_days is not None and not lead_time_days >= 0:
        raise UsageError(f"--lead-time-days must be a number of days >= 0, got {lead_time_days!r}")
    table = (policies or PolicyTable()).with_default(service_level=level, service_measure=measure)

    fc = forecast.collect() if isinstance(forecast, pl.LazyFrame) else forecast
    series, keys, period_days, notes = _series(fc)
    series = _segment_targets(series, table)
    points = _stocking_points(series, keys, blend)
    points, defaulted, by_column = _join_items(points, items, lead_time_days)
    notes = list(notes)

    policy = _compute(points, keys, period_days=period_days, review_days=review_days)
    missing_on_hand = 0
    if on_hand is not None:
        policy, missing_on_hand = _join_on_hand(policy, on_hand, keys)
    comparison = None
    if equal:
        uniform = _equal_service_level(points)
    if uniform is not None:
        alt = _compute(
            points.with_columns(service_target=pl.lit(uniform)),
            keys,
            period_days=period_days,
            review_days=review_days,
        )
        comparison = _compare(series, keys, policy, alt, uniform)
    return StockResult(
        policy=policy,
        comparison=comparison,
        items_defaulted=defaulted,
        defaults_by_column=by_column,
        on_hand_missing=missing_on_hand,
        period_days=period_days,
        notes=tuple(notes),
    )


def _series(fc: pl.DataFrame) -> tuple[pl.DataFrame, list[str], float, list[str]]:
    """One row per forecast series: mean demand per period, error sd, class, segment."""
    require_columns(
        fc.columns,
        ["sku", "ds", "forecast", "error_sd"],
        source="forecast",
        hint="pass the output of `segchain forecast` (or any table with these columns)",
    )
    if fc.height == 0:
        raise DataError("forecast: the table has no rows", hint="check the forecast stage's output")
    keys = ["site", "sku"] if "site" in fc.columns else ["sku"]
    cols: list[pl.Expr] = [pl.col(k).cast(pl.String) for k in keys]
    cols.append(
        pl.col("segment").cast(pl.String).fill_null("*")
        if "segment" in fc.columns
        else pl.lit("*").alias("segment")
    )
    cols.append(
        pl.col("demand_class").cast(pl.String)
        if "demand_class" in fc.columns
        else pl.lit(None, pl.String).alias("demand_class")
    )
    if "unique_id" in fc.columns:
        cols.append(pl.col("unique_id").cast(pl.String))
    else:
        parts = [*keys, "segment"] if "segment" in fc.columns else keys
        cols.append(
            pl.concat_str([pl.col(k).cast(pl.String) for k in parts], separator="/").alias(
                "unique_id"
            )
        )
    fcast = pl.col("forecast").cast(pl.Float64)
    if "mean_demand" in fc.columns:
        fcast = fcast.fill_null(pl.col("mean_demand").cast(pl.Float64))
    cols += [fcast.alias("forecast"), pl.col("error_sd").cast(pl.Float64).alias("error_sd")]
    df = fc.select(*cols, pl.col("ds"))
    _check_values(df)
    period_days, note = _period_days(df)
    notes = [note] if note else []
    # Demand below a billionth of a unit per period is no demand: distributions fitted to such
    # a mean underflow (a forecast of 5e-324 gave a NaN fill rate).
    mean = pl.col("forecast").mean()
    series = df.group_by([*keys, "segment", "unique_id"], maintain_order=True).agg(
        pl.when(mean < MIN_DEMAND).then(0.0).otherwise(mean).alias("mu"),
        pl.col("error_sd").mean().alias("sd"),
        pl.col("demand_class").drop_nulls().first().alias("demand_class"),
    )
    return series, keys, period_days, notes


MIN_DEMAND = 1e-9
"""Mean demand per period below which a series counts as having none."""


def _check_values(df: pl.DataFrame) -> None:
    problems: list[str] = []
    for col in ("forecast", "error_sd"):
        c = pl.col(col)
        bad = df.filter(c.is_null() | c.is_nan() | c.is_infinite() | (c < 0))
        if bad.height:
            ids = bad.get_column("unique_id").unique(maintain_order=True).to_list()
            problems.append(
                f"column {col!r} has {bad.height} negative, empty or non-finite value(s) "
                f"in series (unique_id) {examples(ids)}"
            )
    if problems:
        raise DataError(
            "forecast: " + "; ".join(problems),
            hint="forecasts and error sds must be numbers >= 0; rerun `segchain forecast` "
            "or fix those rows",
        )


def _period_days(df: pl.DataFrame) -> tuple[float, str | None]:
    ds = df.get_column("ds")
    if ds.dtype == pl.String:
        ds = ds.str.to_date(strict=False)
    if ds.dtype not in (pl.Date, pl.Datetime) and not isinstance(ds.dtype, pl.Datetime):
        raise DataError(f"forecast: column 'ds' must hold dates, found {ds.dtype}")
    uniq = ds.drop_nulls().unique().sort()
    if uniq.len() < 2:
        return DEFAULT_PERIOD_DAYS, (
            f"forecast has a single period; assumed {DEFAULT_PERIOD_DAYS:g}-day periods"
        )
    gaps = uniq.diff().drop_nulls().dt.total_seconds() / 86400.0
    days = float(cast(float, gaps.median()))
    for low, high, named in KNOWN_PERIODS:
        if low <= days <= high:
            return named, None
    return days, None


def _segment_targets(series: pl.DataFrame, table: PolicyTable) -> pl.DataFrame:
    labels = series.get_column("segment").unique().to_list()
    found: dict[str, SegmentPolicy] = {lab: table.for_segment(lab) for lab in labels}
    lookup = pl.DataFrame(
        {
            "segment": labels,
            "seg_level": [found[lab].service_level for lab in labels],
            "seg_measure": [found[lab].service_measure for lab in labels],
        },
        schema={"segment": pl.String, "seg_level": pl.Float64, "seg_measure": pl.String},
    )
    return series.join(lookup, on="segment", how="left")


def _stocking_points(series: pl.DataFrame, keys: list[str], blend: str) -> pl.DataFrame:
    if series.select(pl.struct(keys).n_unique()).item() == series.height:
        # One series per stocking point (a forecast by sku): nothing to blend, and the same
        # numbers as the general aggregation below without its per-group sorts.
        return series.select(
            *keys,
            "segment",
            pl.lit(1, pl.UInt32).alias("segments"),
            (pl.col("seg_level") * 1.0).alias("service_target"),
            pl.col("seg_measure").alias("service_measure"),
            pl.col("mu").alias("mean_demand"),
            pl.col("sd").pow(2).sqrt().alias("sd_demand"),
            "demand_class",
        )
    total = pl.col("mu").sum()
    weight = pl.when(total > 0).then(pl.col("mu") / total).otherwise(1.0 / pl.len())
    if blend == "weighted":
        target = (pl.col("seg_level") * weight).sum()
        driver = pl.col("segment").sort_by(["mu", "seg_level"], descending=True).first()
        driver_measure = pl.col("seg_measure").sort_by(["mu", "seg_level"], descending=True)
    else:
        target = pl.col("seg_level").max()
        driver = pl.col("segment").sort_by(["seg_level", "mu"], descending=True).first()
        driver_measure = pl.col("seg_measure").sort_by(["seg_level", "mu"], descending=True)
    return series.group_by(keys, maintain_order=True).agg(
        driver.alias("segment"),
        pl.len().alias("segments"),
        target.alias("service_target"),
        driver_measure.first().alias("service_measure"),
        pl.col("mu").sum().alias("mean_demand"),
        # Segment series of one SKU are treated as independent: variances add.
        pl.col("sd").pow(2).sum().sqrt().alias("sd_demand"),
        # The class of the dominant series (largest mean demand).
        pl.col("demand_class")
        .sort_by("mu", descending=True)
        .drop_nulls()
        .first()
        .alias("demand_class"),
    )


def _join_items(
    points: pl.DataFrame,
    items: pl.DataFrame | pl.LazyFrame | None,
    lead_time_days: float | None,
) -> tuple[pl.DataFrame, int, dict[str, int]]:
    fallback = dict(ITEM_DEFAULTS)
    if lead_time_days is not None:
        fallback["lead_time_days"] = float(lead_time_days)
    if items is None:
        out = points.with_columns([pl.lit(v, pl.Float64).alias(c) for c, v in fallback.items()])
        return out, points.height, {c: points.height for c in fallback}
    it = items.collect() if isinstance(items, pl.LazyFrame) else items
    require_columns(it.columns, ["sku"], source="items", hint="the item master needs a sku column")
    present = [c for c in ITEM_COLUMNS if c in it.columns]
    it = it.select(
        pl.col("sku").cast(pl.String),
        *[pl.col(c).cast(pl.Float64, strict=False) for c in present],
    )
    _check_items(it, present)
    joined = points.join(it, on="sku", how="left")
    by_column: dict[str, int] = {}
    used = pl.lit(False)
    fills = []
    for c, v in fallback.items():
        if c in present:
            by_column[c] = int(joined.get_column(c).null_count())
            used = used | pl.col(c).is_null()
            fills.append(pl.col(c).fill_null(v))
        else:
            by_column[c] = joined.height
            used = pl.lit(True)
            fills.append(pl.lit(v, pl.Float64).alias(c))
    defaulted = int(joined.select(used.sum() if present else pl.len()).item())
    if len(present) < len(ITEM_COLUMNS):
        defaulted = joined.height
    return joined.with_columns(fills), defaulted, {k: v for k, v in by_column.items() if v}


def _check_items(it: pl.DataFrame, present: list[str]) -> None:
    problems: list[str] = []
    dup = it.filter(pl.col("sku").is_duplicated()).get_column("sku").unique(maintain_order=True)
    if dup.len():
        problems.append(f"duplicate sku(s) {examples(dup.to_list())}")
    rules = {
        "unit_cost": (lambda c: c > 0, "> 0"),
        "order_cost": (lambda c: c >= 0, ">= 0"),
        "holding_rate": (lambda c: c > 0, "> 0"),
        "lead_time_days": (lambda c: c >= 0, ">= 0"),
        "lead_time_sd_days": (lambda c: c >= 0, ">= 0"),
        "moq": (lambda c: c >= 0, ">= 0"),
        "pack_size": (lambda c: c > 0, "> 0"),
    }
    for col in present:
        rule, text = rules[col]
        c = pl.col(col)
        bad = it.filter(c.is_not_null() & (c.is_nan() | c.is_infinite() | ~rule(c)))
        if bad.height:
            problems.append(f"{col} must be {text} for sku(s) {examples(bad['sku'].to_list())}")
    if problems:
        raise DataError(
            "items: " + "; ".join(problems),
            hint="fix the item master (one row per sku), or leave a value empty to use the default",
        )


def _compute(
    points: pl.DataFrame, keys: list[str], *, period_days: float, review_days: float | None
) -> pl.DataFrame:
    """The numbers of every policy, vectorised over stocking points.

    Demand is known per forecast period, so a continuous-review (s, Q) policy in effect sees the
    stock once per period: it is an (R, s, nQ) policy with R = one period (Hadley & Whitin ch. 5;
    Axsaeter, Inventory Control, sec. 5.3). Between two looks the position falls by a whole
    period's demand, so it is usually below s when the order goes out (the undershoot). The
    textbook (s, Q) formulas ignore that and promise more than they deliver when replayed (0.93
    against a 0.98 target on the sample). Here the protection interval of (s, Q) is L + 1 period
    and the fill rate is the exact one of (R, s, nQ): after ordering, the inventory position is
    uniform on (s, s + Q], so the expected shortage per period is the mean over that range of
    E[(D_{L+1} - y)^+] - E[(D_L - y)^+], a difference of second-order loss functions. The CSL
    is P(D_L + U <= s) with the undershoot U: exact for slow and lumpy items (whose undershoot
    can exceed a period's mean demand), and P(D_{L+1} <= s), a safe bound, for normal ones.
    (The alternative, adding E[U] = E[D^2]/(2E[D]) to the textbook reorder point, is a renewal
    approximation for Q much larger than a period's demand; the form used here is exact.)
    """
    n = points.height
    col = points.get_column
    mu = col("mean_demand").to_numpy().astype(float)
    sd = col("sd_demand").to_numpy().astype(float)
    target = col("service_target").to_numpy().astype(float)
    measure = col("service_measure").to_numpy().astype(str)
    lt = col("lead_time_days").to_numpy().astype(float) / period_days
    lt_sd = col("lead_time_sd_days").to_numpy().astype(float) / period_days
    cls = col("demand_class").fill_null("").to_numpy().astype(str)
    unit_cost = col("unit_cost").to_numpy().astype(float)
    periodic = review_days is not None
    # Review period in forecast periods; (s, Q) looks once per period (see the docstring).
    r = np.full(n, review_days / period_days if review_days is not None else 1.0)
    t = lt + r
    mean_t = mu * t
    var_t = t * sd**2 + mu**2 * lt_sd**2
    sd_t = np.sqrt(var_t)
    mean_l = mu * lt
    var_l = lt * sd**2 + mu**2 * lt_sd**2

    annual = mu * DAYS_PER_YEAR / period_days
    h = col("holding_rate").to_numpy() * unit_cost
    q_eoq = eoq(annual, col("order_cost").to_numpy(), h)
    # (R, S) orders what was sold since the last review: mean demand per review period.
    q_raw = mu * r if periodic else q_eoq
    order_qty = round_order_qty(q_raw, col("moq").to_numpy(), col("pack_size").to_numpy())
    # Fill rate: shortage per review period against the demand of a review period.
    q_fill = mu * r
    allowed_all = (1.0 - target) * q_fill

    slow = np.isin(cls, ["intermittent", "lumpy"]) | (mean_t < LOW_MEAN_UNITS)
    dist = np.where(
        mean_t <= 0,
        "poisson",
        np.where(
            ~slow,
            "normal",
            np.where(
                var_t <= mean_t * (1 + 1e-9),
                "poisson",
                np.where(mean_t >= GAMMA_ABOVE_UNITS, "gamma", "negbin"),
            ),
        ),
    )
    level = np.zeros(n)
    exp_fill = np.ones(n)
    exp_csl = np.ones(n)
    fill = measure == "fill-rate"

    m = np.flatnonzero((dist == "normal") & (sd_t > 0))
    if m.size:
        level[m], exp_csl[m], short = _normal_levels(
            periodic=periodic,
            fill=fill[m],
            target=target[m],
            allowed=allowed_all[m],
            mean_t=mean_t[m],
            sd_t=sd_t[m],
            mean_l=mean_l[m],
            sd_l=np.sqrt(var_l[m]),
            q=order_qty[m],
        )
        exp_fill[m] = 1.0 - short / np.maximum(q_fill[m], 1e-300)
    m = (dist == "normal") & (sd_t <= 0)
    level[m] = np.ceil(mean_t[m] - 1e-9)
    m = np.flatnonzero(dist != "normal")
    if m.size:
        level[m], exp_csl[m], short = _discrete_levels(
            dist[m],
            periodic=periodic,
            mean_1=mu[m],
            var_1=sd[m] ** 2,
            fill=fill[m],
            target=target[m],
            allowed=allowed_all[m],
            mean_t=mean_t[m],
            var_t=var_t[m],
            mean_l=mean_l[m],
            var_l=var_l[m],
            q=order_qty[m],
        )
        exp_fill[m] = 1.0 - short / np.maximum(q_fill[m], 1e-300)
    exp_fill = np.clip(np.where(q_fill > 0, exp_fill, 1.0), 0.0, 1.0)
    exp_csl = np.clip(exp_csl, 0.0, 1.0)

    safety = level - mean_t
    # Mean stock: safety stock plus half a cycle; (s, Q) also carries half a period's demand,
    # because the position after ordering is s + Q/2 on average, looked at once per period.
    cycle = mu * r if periodic else order_qty + mu
    avg_inv = np.maximum(safety + cycle / 2.0, 0.0)
    order_up_to = level if periodic else level + order_qty
    out = points.select(
        *keys,
        "segment",
        "segments",
        "service_target",
        "service_measure",
        "demand_class",
    ).with_columns(
        pl.Series("distribution", dist.astype(object), dtype=pl.String),
        pl.Series("period_days", np.full(n, period_days)),
        col("lead_time_days"),
        col("lead_time_sd_days"),
        pl.Series("review_days", np.full(n, float(review_days or 0.0))),
        pl.Series("mean_demand", mu),
        pl.Series("sd_demand", sd),
        pl.Series("mean_demand_lt", mean_t),
        pl.Series("sd_demand_lt", sd_t),
        pl.Series("safety_stock", safety),
        pl.Series("reorder_point", level),
        pl.Series("eoq", q_eoq),
        pl.Series("order_qty", order_qty),
        pl.Series("order_up_to", order_up_to),
        pl.Series("expected_fill_rate", exp_fill),
        pl.Series("expected_csl", exp_csl),
        pl.Series("avg_inventory", avg_inv),
        col("unit_cost"),
        pl.Series("inventory_value", avg_inv * unit_cost),
    )
    return out


def _normal_losses(
    x: np.ndarray, mean: np.ndarray, sd: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """First- and second-order loss of normal(mean, sd) at x (a point mass where sd = 0).

    E[(D - x)^+] = sd*G(k) and its integral from x on, sd^2*G2(k), with k = (x - mean)/sd.
    """
    from scipy.special import ndtr

    safe = np.where(sd > 0, sd, 1.0)
    # Far tails: G and G2 are exact there with k bounded, and k*k cannot overflow.
    k = np.clip((x - mean) / safe, -1e150, 1e150)
    tail = ndtr(-k)
    phi = np.exp(-0.5 * k * k) / math.sqrt(2 * math.pi)
    l1 = np.where(sd > 0, safe * (phi - k * tail), np.maximum(mean - x, 0.0))
    l2 = np.where(
        sd > 0,
        safe * safe * 0.5 * ((k * k + 1.0) * tail - k * phi),
        0.5 * np.maximum(mean - x, 0.0) ** 2,
    )
    return l1, l2


def _normal_levels(
    *,
    periodic: bool,
    fill: np.ndarray,
    target: np.ndarray,
    allowed: np.ndarray,
    mean_t: np.ndarray,
    sd_t: np.ndarray,
    mean_l: np.ndarray,
    sd_l: np.ndarray,
    q: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Levels of normal rows (sd over the interval > 0): level, CSL and shortage per period."""
    from scipy.special import ndtr, ndtri

    # CSL, and (R, S) fill rate: sd_T*G(k) = (1 - target)*mu*R (Silver, Pyke & Peterson). For
    # (s, Q) fill rates this level is an upper bound (see _normal_sq_levels).
    g = allowed / sd_t
    k = np.where(fill, inverse_normal_loss(np.where(fill, g, 1.0)), ndtri(target))
    level = np.maximum(np.ceil(mean_t + k * sd_t - 1e-9), 0.0)
    if periodic:
        kk = (level - mean_t) / sd_t
        return level, ndtr(kk), sd_t * normal_loss(kk)
    qs = np.maximum(q, 1e-9)
    # (s, Q) CSL: no stockout before the order arrives, P(D_L + U <= s) with U the undershoot.
    # A normal period demand has an increasing failure rate, hence is "new better than used in
    # expectation", so its equilibrium residual (the undershoot) is stochastically smaller than
    # the demand itself: P(D_{L+1} <= s), computed above, never over-states the CSL. (A normal
    # fitted to the undershoot's moments can: U is nearly uniform, whose 90 % quantile lies
    # further out than a normal's.)
    f = np.flatnonzero(fill)
    if f.size:
        level[f] = _normal_sq_levels(
            level[f], allowed[f], mean_t[f], sd_t[f], mean_l[f], sd_l[f], qs[f]
        )
    short, _ = _normal_sq_shortage(level, mean_t, sd_t, mean_l, sd_l, qs)
    return level, ndtr((level - mean_t) / sd_t), short


def undershoot_moments(mean: Any, var: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the undershoot of s when demand per look is (mean, var).

    Renewal approximation for a position that falls by a whole period's demand D between looks
    (Silver, Pyke & Peterson, "undershoots"): E[U] = E[D^2]/(2E[D]), E[U^2] = E[D^3]/(3E[D]),
    with the third moment of a normal D. Zero where the mean is zero.
    """
    mean = np.asarray(mean, dtype=float)
    var = np.asarray(var, dtype=float)
    safe = np.where(mean > 0, mean, 1.0)
    e_u = (var + mean**2) / (2.0 * safe)
    e_u2 = (mean**2 + 3.0 * var) / 3.0
    pos = mean > 0
    return np.where(pos, e_u, 0.0), np.where(pos, np.maximum(e_u2 - e_u**2, 0.0), 0.0)


def _normal_sq_shortage(
    x: np.ndarray,
    mean_t: np.ndarray,
    sd_t: np.ndarray,
    mean_l: np.ndarray,
    sd_l: np.ndarray,
    q: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(s, Q) looked at once per period, normal demand: shortage per period at s = x, and slope.

    The position after ordering is uniform on (s, s + Q], so the shortage per period is
    (A(s) - A(s + Q))/Q with A = G2-loss over L + 1 periods minus G2-loss over L (Axsaeter 5.3).
    """
    t1, t2 = _normal_losses(x, mean_t, sd_t)
    u1, u2 = _normal_losses(x + q, mean_t, sd_t)
    l1, l2 = _normal_losses(x, mean_l, sd_l)
    v1, v2 = _normal_losses(x + q, mean_l, sd_l)
    short = np.maximum((t2 - u2) - (l2 - v2), 0.0) / q
    slope = ((u1 - v1) - (t1 - l1)) / q
    return short, slope


def _normal_sq_levels(
    hi: np.ndarray,
    allowed: np.ndarray,
    mean_t: np.ndarray,
    sd_t: np.ndarray,
    mean_l: np.ndarray,
    sd_l: np.ndarray,
    q: np.ndarray,
) -> np.ndarray:
    """Smallest integer s >= 0 whose (s, Q) shortage per period is at most ``allowed``.

    ``hi`` (the level for the same allowance per period with Q = 0) meets the target, since the
    shortage is at most E[(D_{L+1} - s)^+]. Newton's method from there on the continuous
    shortage (convex and decreasing over the range that matters: the first step lands left of
    the root, the next climb to it), then the ceiling, checked on the integers; rows whose check
    fails are bisected.
    """
    x = hi.astype(float).copy()
    active = np.arange(x.size)
    for _ in range(NEWTON_STEPS):
        i = active
        short, slope = _normal_sq_shortage(x[i], mean_t[i], sd_t[i], mean_l[i], sd_l[i], q[i])
        step = (short - allowed[i]) / np.minimum(slope, -1e-300)
        new = np.clip(x[i] - step, -1.0, hi[i])
        moving = np.abs(new - x[i]) >= 1e-7
        x[i] = new
        active = i[moving]
        if not active.size:
            break
    level = np.clip(np.ceil(x - 1e-7), 0.0, hi)

    def ok(v: np.ndarray, i: np.ndarray | slice = slice(None)) -> np.ndarray:
        s, _ = _normal_sq_shortage(v, mean_t[i], sd_t[i], mean_l[i], sd_l[i], q[i])
        return s <= allowed[i]

    good = ok(level) & ((level <= 0) | ~ok(level - 1.0))
    bad = np.flatnonzero(~good)
    if bad.size:
        level[bad] = smallest_level(lambda v: ok(v, bad), mean_t[bad], sd_t[bad])
    return level


def _discrete_levels(
    dist: np.ndarray,
    *,
    periodic: bool,
    mean_1: np.ndarray,
    var_1: np.ndarray,
    fill: np.ndarray,
    target: np.ndarray,
    allowed: np.ndarray,
    mean_t: np.ndarray,
    var_t: np.ndarray,
    mean_l: np.ndarray,
    var_l: np.ndarray,
    q: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Smallest integer levels of slow and lumpy rows: level, CSL and shortage per period.

    Exact expected shortage per review period (Hadley & Whitin): (R, S):
    E[(D_{L+R} - S)^+] - E[(D_L - S)^+]; (s, Q) with R = 1 period: the mean over the position
    y in s+1..s+Q of the same difference. CSL: (R, S) P(D_{L+R} <= S); (s, Q) P(D_L + U <= s),
    U the undershoot of s, whose pmf P(u < D_1 <= u + Q)/E[min(D_1, Q)] does not depend on s.
    Rows of discrete families go through a pmf grid (``_grid_levels``); gamma rows and rows
    whose support is too wide for the grid use the closed forms with a bisection (the same
    levels, except the (s, Q) CSL: see ``_closed_form_levels``).
    """
    n = dist.size
    level = np.zeros(n)
    csl = np.ones(n)
    short = np.zeros(n)
    over_t = Fitted(dist, mean_t, var_t)
    over_l = Fitted(dist, mean_l, var_l)
    over_1 = Fitted(dist, mean_1, var_1)
    # Discrete rows average over whole positions: Q in whole units.
    qi = np.where(dist == "gamma", q, np.maximum(np.rint(q), 1.0))
    on_grid = (over_t.family != "gamma") & (over_l.family != "gamma")
    if not periodic:
        on_grid &= over_1.family != "gamma"
    done = np.zeros(n, dtype=bool)
    for kind in ("csl", "fill"):
        rows = np.flatnonzero(on_grid & ((fill) if kind == "fill" else ~fill))
        if not rows.size:
            continue
        found, x, c, sh = _grid_levels(
            "rs" if periodic else "sq",
            fill=kind == "fill",
            fam_t=over_t.family[rows],
            mean_t=mean_t[rows],
            var_t=var_t[rows],
            fam_l=over_l.family[rows],
            mean_l=mean_l[rows],
            var_l=var_l[rows],
            fam_1=over_1.family[rows],
            mean_1=mean_1[rows],
            var_1=var_1[rows],
            target=target[rows],
            allowed=allowed[rows],
            qi=qi[rows],
        )
        hit = rows[found]
        level[hit], csl[hit], short[hit] = x[found], c[found], sh[found]
        done[hit] = True
    rest = np.flatnonzero(~done)
    if rest.size:
        level[rest], csl[rest], short[rest] = _closed_form_levels(
            dist[rest],
            periodic=periodic,
            fill=fill[rest],
            target=target[rest],
            allowed=allowed[rest],
            mean_t=mean_t[rest],
            var_t=var_t[rest],
            mean_l=mean_l[rest],
            var_l=var_l[rest],
            mean_1=mean_1[rest],
            var_1=var_1[rest],
            qi=qi[rest],
        )
    return level, csl, short


def _closed_form_levels(
    dist: np.ndarray,
    *,
    periodic: bool,
    fill: np.ndarray,
    target: np.ndarray,
    allowed: np.ndarray,
    mean_t: np.ndarray,
    var_t: np.ndarray,
    mean_l: np.ndarray,
    var_l: np.ndarray,
    mean_1: np.ndarray,
    var_1: np.ndarray,
    qi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_discrete_levels`` by bisection over closed-form cdf and loss functions."""
    over_t = Fitted(dist, mean_t, var_t)
    over_l = Fitted(dist, mean_l, var_l)
    if periodic:
        cycle_cdf = over_t.cdf
    else:
        # Off the grid, D_L + U is fitted by its moments, and never credited with more than
        # P(D_{L+1} <= x) (the two disagree in both directions; the smaller is kept).
        e_u, var_u = undershoot_moments(mean_1, var_1)
        fitted = Fitted(dist, mean_l + e_u, var_l + var_u)

        def cycle_cdf(x: np.ndarray) -> np.ndarray:
            return np.minimum(fitted.cdf(x), over_t.cdf(x))

    def shortage(x: np.ndarray) -> np.ndarray:
        if periodic:
            return np.maximum(over_t.loss(x) - over_l.loss(x), 0.0)
        t2 = over_t.loss2(x) - over_t.loss2(x + qi)
        l2 = over_l.loss2(x) - over_l.loss2(x + qi)
        return np.maximum(t2 - l2, 0.0) / qi

    def ok(x: np.ndarray) -> np.ndarray:
        return np.where(fill, shortage(x) <= allowed, cycle_cdf(x) >= target - 1e-12)

    x = smallest_level(ok, mean_t, np.sqrt(var_t))
    return x, cycle_cdf(x), shortage(x)


# Newton steps for normal (s, Q) fill-rate levels before the rows left are bisected.
NEWTON_STEPS = 12
# A pmf grid holds at most this many cells at a time (8 bytes each, a few arrays of it).
GRID_CELLS = 1 << 21
# Rows whose support needs more columns than this use the closed forms.
GRID_MAX_WIDTH = 1 << 13


def _grid_levels(
    shortage: str,
    *,
    fill: bool,
    fam_t: np.ndarray,
    mean_t: np.ndarray,
    var_t: np.ndarray,
    fam_l: np.ndarray,
    mean_l: np.ndarray,
    var_l: np.ndarray,
    fam_1: np.ndarray,
    mean_1: np.ndarray,
    var_1: np.ndarray,
    target: np.ndarray,
    allowed: np.ndarray,
    qi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Smallest levels of discrete rows from each row's pmf on 0..W-1, all levels at once.

    ``shortage``: rs or sq, how the shortage per period is computed; ``fill``: the target is on
    the shortage per period (<= allowed), else on the cycle's cdf: rs P(D_T <= x), sq
    P(D_L + U <= x) with the undershoot pmf from D_1 (one period) convolved by FFT. Rows are
    grouped by a width W (a multiple of 32) >= mean + 10 sd (+ Q for sq) and taken in chunks of at
    most ``GRID_CELLS`` cells. cdf by cumulative sums; loss by the identity
    E[(D - x)^+] = E[D] - x + sum_{k<x} P(D <= k), exact for every x on the grid. A row whose
    answer is not on its grid is returned as not found (the caller uses the closed forms).

    Returns:
        found, level, the cycle's cdf at the level, shortage per period at the level.
    """
    n = mean_t.size
    found = np.zeros(n, dtype=bool)
    level = np.zeros(n)
    csl = np.ones(n)
    short = np.zeros(n)
    sq = shortage == "sq"
    need = np.ceil(mean_t + 10.0 * np.sqrt(var_t)) + 16.0 + (qi if sq else 0.0)
    width = np.ceil(np.maximum(need, 1.0) / 32.0) * 32.0
    width = np.where(width <= GRID_MAX_WIDTH, width, 0.0).astype(np.int64)
    for w in np.unique(width[width > 0]).tolist():
        rows = np.flatnonzero(width == w)
        step = max(GRID_CELLS // w, 1)
        k = np.arange(w, dtype=float)
        for start in range(0, rows.size, step):
            i = rows[start : start + step]
            f_t = np.cumsum(_grid_pmf(fam_t[i], mean_t[i], var_t[i], w), axis=1)
            np.minimum(f_t, 1.0, out=f_t)
            f_l = np.cumsum(_grid_pmf(fam_l[i], mean_l[i], var_l[i], w), axis=1)
            np.minimum(f_l, 1.0, out=f_l)
            d = _grid_loss(f_t, mean_t[i], k) - _grid_loss(f_l, mean_l[i], k)
            if sq:
                # Mean of d(y) over y = x+1..x+Q: differences of its cumulative sum.
                cum = np.cumsum(d, axis=1)
                q = qi[i].astype(np.int64)
                up = np.arange(w)[None, :] + q[:, None]
                valid = up <= w - 1
                upper = np.take_along_axis(cum, np.minimum(up, w - 1), axis=1)
                value = np.maximum(upper - cum, 0.0) / q[:, None]
                g = _grid_undershoot_pmf(_grid_pmf(fam_1[i], mean_1[i], var_1[i], w), q)
                # For fill-rate rows the CSL is only reported: it is needed at the level alone.
                cycle = None if fill else _grid_convolved_cdf(f_l, g)
            else:
                value = np.maximum(d, 0.0)
                valid = np.ones(value.shape, dtype=bool)
                cycle = f_t
            if fill:
                ok = valid & (value <= allowed[i][:, None])
            else:
                assert cycle is not None
                ok = cycle >= (target[i] - 1e-12)[:, None]
            first = np.argmax(ok, axis=1)
            at = np.arange(i.size)
            found[i] = ok[at, first] & valid[at, first]
            level[i] = first
            if cycle is not None:
                csl[i] = cycle[at, first]
            else:
                # P(D_L + U <= x) = sum over u <= x of P(U = u)*P(D_L <= x - u).
                back = first[:, None] - np.arange(w)[None, :]
                f_back = np.take_along_axis(f_l, np.maximum(back, 0), axis=1)
                csl[i] = np.minimum((g * np.where(back >= 0, f_back, 0.0)).sum(axis=1), 1.0)
            short[i] = value[at, first]
    return found, level, csl, short


def _grid_undershoot_pmf(pmf_1: np.ndarray, q: np.ndarray) -> np.ndarray:
    """P(U = u) on the grid, U the undershoot of s under (R = 1 period, s, nQ).

    After ordering the position is uniform on s+1..s+Q; it then falls by D_1, and an order goes
    out when it reaches s - u <= s: P(U = u) = P(u < D_1 <= u + Q)/E[min(D_1, Q)] (Hadley &
    Whitin), the same for every s.
    """
    w = pmf_1.shape[1]
    f1 = np.minimum(np.cumsum(pmf_1, axis=1), 1.0)
    up = np.minimum(np.arange(w)[None, :] + q[:, None], w - 1)
    g = np.maximum(np.take_along_axis(f1, up, axis=1) - f1, 0.0)
    total = g.sum(axis=1)
    # No demand per period: no undershoot.
    g[total <= 0, 0] = 1.0
    g /= np.where(total > 0, total, 1.0)[:, None]
    return g


def _grid_convolved_cdf(cdf_l: np.ndarray, g: np.ndarray) -> np.ndarray:
    """P(D_L + U <= x) for x on the grid: D_L and U independent, their pmfs convolved by FFT."""
    w = g.shape[1]
    pmf_l = np.diff(cdf_l, axis=1, prepend=0.0)
    n = 2 * w
    conv = np.fft.irfft(np.fft.rfft(pmf_l, n, axis=1) * np.fft.rfft(g, n, axis=1), n, axis=1)
    return np.clip(np.cumsum(np.maximum(conv[:, :w], 0.0), axis=1), 0.0, 1.0)


def _grid_loss(cdf: np.ndarray, mean: np.ndarray, k: np.ndarray) -> np.ndarray:
    """E[(D - x)^+] for x = 0..W-1 from the cdf on the grid: E[D] - x + sum_{k<x} F(k)."""
    below = np.zeros_like(cdf)
    np.cumsum(cdf[:, :-1], axis=1, out=below[:, 1:])
    return np.maximum(mean[:, None] - k[None, :] + below, 0.0)


def _grid_pmf(family: np.ndarray, mean: np.ndarray, var: np.ndarray, w: int) -> np.ndarray:
    """P(D = k) for k = 0..w-1, one row per (family, mean, variance), in log space.

    Poisson: k*log(m) - m - log(k!); negative binomial (r, p): r*log(p) + k*log(1 - p) +
    sum_{j<k} log(j + r) - log(k!), the pmf recurrence p(k+1) = p(k)*(k + r)*(1 - p)/(k + 1)
    summed in logs so large means do not underflow; 'zero': all mass at 0.
    """
    from scipy.special import gammaln

    out = np.zeros((family.size, w))
    k = np.arange(w, dtype=float)
    log_fact = gammaln(k + 1.0)
    pois = np.flatnonzero(family == "poisson")
    if pois.size:
        m = mean[pois][:, None]
        out[pois] = np.exp(k * np.log(m) - m - log_fact)
    nb = np.flatnonzero(family == "negbin")
    if nb.size:
        r, p = fit_params("negbin", mean[nb], var[nb])
        log_rise = np.zeros((nb.size, w))
        np.cumsum(np.log(k[None, :-1] + r[:, None]), axis=1, out=log_rise[:, 1:])
        log_p = (r * np.log(p))[:, None] + k[None, :] * np.log1p(-p)[:, None]
        out[nb] = np.exp(log_p + log_rise - log_fact)
    zero = np.flatnonzero(family == "zero")
    out[zero, 0] = 1.0
    return out


def _join_on_hand(
    policy: pl.DataFrame, on_hand: pl.DataFrame | pl.LazyFrame, keys: list[str]
) -> tuple[pl.DataFrame, int]:
    oh = on_hand.collect() if isinstance(on_hand, pl.LazyFrame) else on_hand
    qty = "on_hand" if "on_hand" in oh.columns else "quantity"
    require_columns(
        oh.columns, ["sku", qty], source="on-hand", hint="expected columns sku, on_hand (site)"
    )
    if "site" in keys and "site" not in oh.columns:
        raise DataError(
            "on-hand: the forecast is by site but the on-hand table has no site column",
            hint="add a site column to the on-hand table",
        )
    by = keys if "site" in keys else ["sku"]
    extra = [c for c in ("on_order", "backorders") if c in oh.columns]
    oh = oh.select(
        *[pl.col(k).cast(pl.String) for k in by],
        pl.col(qty).cast(pl.Float64, strict=False).alias("on_hand"),
        *[pl.col(c).cast(pl.Float64, strict=False).fill_null(0.0) for c in extra],
    )
    bad = oh.filter(
        pl.col("on_hand").is_null() | pl.col("on_hand").is_nan() | pl.col("on_hand").is_infinite()
    )
    problems = []
    if bad.height:
        problems.append(f"empty or non-numeric on_hand for sku(s) {examples(bad['sku'].to_list())}")
    unknown = oh.join(policy.select(by), on=by, how="anti")
    if unknown.height:
        problems.append(
            f"{unknown.height} row(s) for sku(s) not in the forecast: "
            f"{examples(unknown.get_column('sku').unique(maintain_order=True).to_list())}"
        )
    if problems:
        raise DataError(
            "on-hand: " + "; ".join(problems),
            hint="on-hand rows must name SKUs of the forecast; drop or fix those rows",
        )
    oh = oh.group_by(by).agg(pl.col(c).sum() for c in ["on_hand", *extra])
    joined = policy.join(oh, on=by, how="left", maintain_order="left")
    missing = int(joined.get_column("on_hand").null_count())
    ip = pl.col("on_hand")
    if "on_order" in extra:
        ip = ip + pl.col("on_order")
    if "backorders" in extra:
        ip = ip - pl.col("backorders")
    joined = joined.with_columns(
        pl.col("on_hand").fill_null(0.0), *[pl.col(c).fill_null(0.0) for c in extra]
    )
    joined = joined.with_columns(inventory_position=ip)
    periodic = pl.col("review_days") > 0
    need_periodic = pl.max_horizontal(pl.col("order_up_to") - pl.col("inventory_position"), 0.0)
    # (s, Q): enough whole order quantities to lift the position above s.
    n_orders = (
        (pl.col("reorder_point") - pl.col("inventory_position")) / pl.col("order_qty")
    ).floor() + 1
    need_continuous = (
        pl.when(pl.col("inventory_position") <= pl.col("reorder_point"))
        .then(n_orders * pl.col("order_qty"))
        .otherwise(0.0)
    )
    joined = joined.with_columns(
        order_now=pl.when(periodic).then(need_periodic).otherwise(need_continuous)
    )
    return joined.drop(extra), missing


def _equal_service_level(points: pl.DataFrame) -> float:
    """The demand-weighted mean target: one uniform level promising the same average service."""
    weights = points["mean_demand"].fill_null(0.0)
    total = float(weights.sum())
    targets = points["service_target"]
    level = (
        float(cast(float, (targets * weights).sum()) / total)
        if total > 0
        else float(cast(float, targets.mean()))
    )
    return min(max(level, 1e-6), 1 - 1e-6)


def _compare(
    series: pl.DataFrame,
    keys: list[str],
    segmented: pl.DataFrame,
    uniform: pl.DataFrame,
    level: float,
) -> pl.DataFrame:
    """Per segment and overall: inventory value and expected service, segmented vs uniform."""
    both = segmented.select(
        *keys,
        pl.col("inventory_value").alias("value_seg"),
        pl.col("expected_fill_rate").alias("fill_seg"),
        pl.col("expected_csl").alias("csl_seg"),
    ).join(
        uniform.select(
            *keys,
            pl.col("inventory_value").alias("value_uni"),
            pl.col("expected_fill_rate").alias("fill_uni"),
            pl.col("expected_csl").alias("csl_uni"),
        ),
        on=keys,
    )
    # Each segment carries the SKU's inventory in proportion to its share of the SKU's demand.
    share = series.with_columns(
        share=pl.when(pl.col("mu").sum().over(keys) > 0)
        .then(pl.col("mu") / pl.col("mu").sum().over(keys))
        .otherwise(1.0 / pl.len().over(keys))
    ).join(both, on=keys)

    def summary(df: pl.DataFrame, by: list[str]) -> pl.DataFrame:
        w = pl.col("mu")
        wsum = w.sum()

        def wmean(c: str) -> pl.Expr:
            return pl.when(wsum > 0).then((pl.col(c) * w).sum() / wsum).otherwise(pl.col(c).mean())

        aggs = [
            pl.col("sku").n_unique().alias("skus"),
            pl.col("mu").sum().alias("demand_per_period"),
            (pl.col("value_seg") * pl.col("share")).sum().alias("inventory_value_segmented"),
            (pl.col("value_uni") * pl.col("share")).sum().alias("inventory_value_uniform"),
            wmean("fill_seg").alias("fill_rate_segmented"),
            wmean("fill_uni").alias("fill_rate_uniform"),
            wmean("csl_seg").alias("csl_segmented"),
            wmean("csl_uni").alias("csl_uniform"),
        ]
        if by:
            return df.group_by(by).agg(pl.col("seg_level").first().alias("target"), *aggs)
        return df.select(
            pl.lit("(all)").alias("segment"), pl.lit(None, pl.Float64).alias("target"), *aggs
        )

    per = summary(share, ["segment"]).sort("segment")
    total = summary(share, [])
    out = pl.concat([per, total], how="vertical_relaxed")
    return out.with_columns(
        uniform_target=pl.lit(level),
        value_change=pl.col("inventory_value_segmented") - pl.col("inventory_value_uniform"),
    )


# ---------------------------------------------------------------------------------------------
# Simulation


def simulate(
    policy: pl.DataFrame,
    *,
    periods: int,
    seed: int = 0,
    substeps: int | None = None,
    demand: np.ndarray | None = None,
    warmup: int | None = None,
) -> pl.DataFrame:
    """Replay each policy against demand drawn from the distribution it assumed.

    Discrete-time replay with backorders: each step serves its demand from stock, then reviews
    (every step for (s, Q), every R for (R, S)); an order placed at the end of step t is on hand
    from step t + 1 + L, with L drawn per order from normal(L, sd_L) when sd_L > 0. By default a
    step is one forecast period, the granularity ``stock`` assumes (demand known per period, so
    (s, Q) looks once per period and the undershoot of s counts). ``substeps`` splits each period
    into that many steps with the period's distribution divided accordingly (all four families
    are infinitely divisible): an (s, Q) policy then looks more often and does better than
    promised.

    Achieved fill rate = 1 - demand not served from stock / demand; achieved CSL = share of
    replenishment cycles (order arrivals) without a backorder just before the arrival.

    Args:
        policy: the output of ``stock`` (needs its distribution and level columns).
        periods: forecast periods to replay after a warm-up.
        seed: random seed.
        substeps: steps per forecast period (default 1).
        demand: optional (periods, rows) array of demand per period to replay instead of draws
            (then ``substeps`` is 1).
        warmup: periods discarded first (default: 2 protection intervals + 10).

    Returns:
        one row per policy row: keys, target, achieved and expected fill rate and CSL, cycles.
    """
    need = [
        "sku",
        "service_target",
        "service_measure",
        "distribution",
        "period_days",
        "lead_time_days",
        "lead_time_sd_days",
        "review_days",
        "mean_demand",
        "sd_demand",
        "reorder_point",
        "order_qty",
        "order_up_to",
    ]
    require_columns(policy.columns, need, source="policy", hint="pass the output of `stock`")
    if periods < 1:
        raise UsageError(f"--simulate needs a number of periods >= 1, got {periods}")
    n = policy.height
    col = policy.get_column
    period_days = col("period_days").to_numpy().astype(float)
    periodic = col("review_days").to_numpy().astype(float) > 0
    if demand is not None:
        demand = np.asarray(demand, dtype=float)
        if demand.shape != (periods, n):
            raise ValueError(f"demand must have shape {(periods, n)}, got {demand.shape}")
        k = 1
    elif substeps is None:
        k = 1
    else:
        k = int(substeps)
    lt = col("lead_time_days").to_numpy() / period_days * k
    lt_sd = col("lead_time_sd_days").to_numpy() / period_days * k
    rev = np.where(
        periodic, np.maximum(np.rint(col("review_days").to_numpy() / period_days * k), 1), 1
    )
    rev = rev.astype(np.int64)
    lt_steps = np.rint(lt).astype(np.int64)
    max_lt = int(np.max(np.ceil(lt + 6 * lt_sd))) if n else 0
    ring = max_lt + 2
    s = col("reorder_point").to_numpy().astype(float)
    big_s = col("order_up_to").to_numpy().astype(float)
    q = col("order_qty").to_numpy().astype(float)
    warm = (
        int(warmup * k)
        if warmup is not None
        else int(2 * (max_lt + int(rev.max(initial=1))) + 10 * k)
    )
    steps = periods * k
    total = warm + steps

    rng = np.random.default_rng(seed)
    draw = _drawer(policy, k, rng) if demand is None else None

    ni = np.where(periodic, big_s, s + q)
    ip = ni.copy()
    # Ring buffers of what arrives at each future step (step-major: one contiguous row per step).
    pipe = np.zeros((ring, n))
    cyc = np.zeros((ring, n), dtype=bool)
    rows = np.arange(n)
    dem_sum = np.zeros(n)
    short_sum = np.zeros(n)
    cycles = np.zeros(n)
    stockouts = np.zeros(n)
    all_periodic = bool(periodic.all())
    any_periodic = bool(periodic.any())
    q_safe = np.where(q > 0, q, 1.0)
    random_lead = bool(lt_sd.any())
    block = 512
    buf = np.empty((0, n))
    for step in range(total):
        i = step % block
        if i == 0:
            if demand is not None:
                # Warm-up replays the first periods of the given demand.
                idx = np.arange(step, min(step + block, total))
                idx = np.where(idx < warm, idx % periods, idx - warm)
                buf = demand[idx]
            else:
                assert draw is not None
                buf = draw(min(block, total - step))
        d = buf[i]
        slot = step % ring
        arriving = cyc[slot]
        counting = step >= warm
        if counting:
            cycles += arriving
            stockouts += arriving & (ni < -1e-9)
        ni += pipe[slot]
        pipe[slot] = 0.0
        arriving[:] = False
        before = np.maximum(-ni, 0.0)
        ni -= d
        ip -= d
        if counting:
            short_sum += np.maximum(-ni, 0.0) - before
            dem_sum += d
        if all_periodic:
            due = (step + 1) % rev == 0
            amount = np.maximum(big_s - ip, 0.0)
        else:
            due = ip <= s
            amount = (np.floor((s - ip) / q_safe) + 1.0) * q
            if any_periodic:
                due = np.where(periodic, (step + 1) % rev == 0, due)
                amount = np.where(periodic, np.maximum(big_s - ip, 0.0), amount)
        if not due.any():
            continue
        if random_lead:
            lead = np.minimum(np.maximum(np.rint(rng.normal(lt, lt_sd)), 0), ring - 2)
            dest = (step + 1 + lead.astype(np.int64)) % ring
        else:
            dest = (step + 1 + lt_steps) % ring
        r = rows[due]
        pipe[dest[r], r] += amount[r]
        cyc[dest[r], r] = True
        ip[r] += amount[r]
    fill = np.where(dem_sum > 0, 1.0 - short_sum / np.where(dem_sum > 0, dem_sum, 1.0), 1.0)
    csl = np.where(cycles > 0, 1.0 - stockouts / np.where(cycles > 0, cycles, 1.0), 1.0)
    keys = [c for c in ("site", "sku") if c in policy.columns]
    measure = col("service_measure").to_numpy().astype(str)
    achieved = np.where(measure == "fill-rate", fill, csl)
    out = policy.select(
        *keys,
        "distribution",
        "service_measure",
        "service_target",
        "reorder_point",
        "order_up_to",
        *[c for c in ("expected_fill_rate", "expected_csl") if c in policy.columns],
    ).with_columns(
        pl.Series("achieved_fill_rate", np.clip(fill, 0.0, 1.0)),
        pl.Series("achieved_csl", csl),
        pl.Series("cycles", cycles.astype(np.int64)),
        pl.Series("demand", dem_sum),
        pl.Series("shortage", short_sum),
        pl.Series("periods", np.full(n, periods, dtype=np.int64)),
        pl.Series("target_met", achieved >= col("service_target").to_numpy()),
    )
    return out


def _drawer(policy: pl.DataFrame, k: int, rng: np.random.Generator) -> Any:
    """A function drawing (steps, rows) demand per step from each row's assumed distribution."""
    col = policy.get_column
    dist = col("distribution").to_numpy().astype(str)
    unknown = sorted(set(dist) - set(DISTRIBUTIONS))
    if unknown:
        raise DataError(f"policy: unknown distribution(s) {', '.join(unknown)}")
    mu = col("mean_demand").to_numpy().astype(float) / k
    var = col("sd_demand").to_numpy().astype(float) ** 2 / k
    groups: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []
    for name in DISTRIBUTIONS:
        m = np.flatnonzero(dist == name)
        if not m.size:
            continue
        mm, vv = mu[m], var[m]
        if name == "normal":
            groups.append((name, m, mm, np.sqrt(vv)))
        elif name == "poisson":
            groups.append((name, m, mm, mm))
        else:
            # Per-step parameters: the family's own moment fit; where the step variance does not
            # exceed the mean, the family degenerates and Poisson takes over.
            over = vv > mm * (1 + 1e-9)
            pois = m[~over]
            if pois.size:
                groups.append(("poisson", pois, mm[~over], mm[~over]))
            if over.any():
                fam = "negbin" if name == "negbin" else "gamma"
                a, b = fit_params(fam, mm[over], vv[over])
                groups.append((fam, m[over], a, b))

    def draw(size: int) -> np.ndarray:
        out = np.zeros((size, policy.height))
        for name, m, a, b in groups:
            shape = (size, m.size)
            if name == "normal":
                out[:, m] = rng.normal(a, b, shape)
            elif name == "poisson":
                out[:, m] = rng.poisson(a, shape)
            elif name == "negbin":
                out[:, m] = rng.negative_binomial(a, b, shape)
            else:
                out[:, m] = rng.gamma(a, b, shape)
        return out

    return draw


__all__ = [
    "ITEM_DEFAULTS",
    "StockResult",
    "stock",
    "simulate",
    "normal_loss",
    "inverse_normal_loss",
    "eoq",
    "round_order_qty",
]
