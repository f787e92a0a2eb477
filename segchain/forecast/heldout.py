"""The held-out check of a forecast made as of a past day (``forecast --as-of``).

The order lines on or after ``--as-of`` are left out of the history; when they cover whole
periods of the horizon, they are what happened next, and the forecast is scored on them as the
project scores itself (README, *Forecast accuracy*): at the level where stock is planned (the
series keys without the segment: the sku), in WAPE over the whole periods held out, against
the best in hindsight of naive, seasonal naive and moving averages of each series' own raw
history (4, 8 and 13 weeks at ``--freq W``). So a user can run the protocol on their own export
with ``segment --as-of D`` then ``forecast --as-of D``, and see whether the chain beats the
simple baselines there, and how far its sum is from the demand (bias).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import polars as pl

from segchain.forecast.options import EXTRA_WINDOWS, FREQS
from segchain.forecast.series import build_series
from segchain.routing import unrouted_demand
from segchain.schema import HELD_OUT_DIRECT, HELD_OUT_FORECAST

FORECAST = HELD_OUT_FORECAST
DIRECT = HELD_OUT_DIRECT  # the level's own forecast (the sku's), when the series are per segment
NAIVE = "naive"
SEASONAL_NAIVE = "seasonal naive"


@dataclass(frozen=True)
class HeldOut:
    """Scores of the forecast on the periods held out (``scores``: ``approach, wape, bias``,
    bias being the approach's sum over the demand's; the forecast first, then the baselines)."""

    level: list[str]
    start: dt.date
    periods: int
    series: int
    demand: float
    scores: pl.DataFrame
    unscored: int  # series with demand held out and no forecast (first sold on or after as_of)
    # Demand of customers in no segment (first seen on or after as_of, when the segments were
    # made as of it), scored: it happened. The segments' series hold the demand of the
    # customers won before as_of, those then new included, so their sum is a forecast of the
    # whole demand, newcomers' too; this says how much of what is scored came from them.
    unsegmented: float = 0.0
    # Demand of customers with no serving site in the assignments of a routed forecast, in the
    # periods scored: no site's series holds it, so it is counted, not scored (None: not
    # routed). Left out silently, the check's "every line kept" was false.
    unrouted: float | None = None
    unrouted_customers: int = 0

    @property
    def best_baseline(self) -> tuple[str, float]:
        rest = self.scores.filter(~pl.col("approach").is_in([FORECAST, self.direct_name]))
        rest = rest.sort("wape", "approach")
        return str(rest.item(0, "approach")), float(rest.item(0, "wape"))

    @property
    def direct_name(self) -> str:
        return f"{','.join(self.level)} {DIRECT}"

    def _wape_of(self, approach: str) -> float | None:
        row = self.scores.filter(pl.col("approach") == approach)
        return float(row.item(0, "wape")) if row.height else None

    @property
    def wape(self) -> float | None:
        """The forecast's own WAPE over the periods held out."""
        return self._wape_of(FORECAST)

    @property
    def ratio(self) -> float | None:
        """The forecast's WAPE over the best baseline's; None where that baseline forecast the
        periods exactly (WAPE 0: steady demand a naive forecast repeats), as no ratio says how
        far the forecast is from it (the division raised, a traceback, nothing written)."""
        return _over(self.wape, self.best_baseline[1])

    @property
    def vs_direct(self) -> float | None:
        """The forecast's WAPE over the level's own forecast's (segments summed against the
        sku forecast directly), when the series were per segment; None where that one's is 0."""
        return _over(self.wape, self._wape_of(self.direct_name))

    def as_metadata(self) -> dict[str, object]:
        return {
            "level": ",".join(self.level),
            "start": self.start.isoformat(),
            "periods": self.periods,
            "series": self.series,
            "demand": self.demand,
            "unscored_new_series": self.unscored,
            "unsegmented_demand": self.unsegmented,
            **(
                {
                    "unrouted_demand": self.unrouted,
                    "unrouted_customers": self.unrouted_customers,
                }
                if self.unrouted is not None
                else {}
            ),
            "wape": dict(zip(self.scores["approach"], self.scores["wape"], strict=True)),
            "bias": dict(zip(self.scores["approach"], self.scores["bias"], strict=True)),
            "vs_best_baseline": self.ratio,
            **({"vs_direct": self.vs_direct} if self.vs_direct is not None else {}),
        }


def _over(wape: float | None, other: float | None) -> float | None:
    """``wape`` / ``other``, None when either is missing or ``other`` is 0 (or NaN)."""
    if wape is None or other is None or not other > 0:
        return None
    return wape / other


def baseline_windows(freq: str) -> list[int]:
    """The moving averages' lengths: the default window and the extra ones (4, 8, 13 weeks)."""
    return sorted({FREQS[freq][2], *EXTRA_WINDOWS[freq]})


def average_name(k: int, freq: str) -> str:
    """A moving average's name: ``8-week average``."""
    unit = {"D": "day", "W": "week", "M": "month"}[freq]
    return f"{k}-{unit} average"


def held_out(
    orders: pl.DataFrame,
    segments: pl.DataFrame,
    forecast: pl.DataFrame,
    *,
    freq: str,
    by: Sequence[str],
    direct: pl.DataFrame | None = None,
    unrouted: pl.DataFrame | None = None,
) -> HeldOut | None:
    """Score ``forecast`` (the stage's table) on the demand ``orders`` hold in its whole
    periods; None when the orders end before the forecast's first period is over. ``direct``
    (the level's columns, ``ds``, ``forecast``): the level's own forecast, scored beside it
    (``<level> direct``: the sku forecast directly, against the segments' summed).
    ``unrouted``: for a forecast routed to the network's sites, the lines of customers with no
    serving site (``routing.Routed.unrouted``), counted in the periods scored.

    ``orders`` are every line (history and after); the actuals and the baselines' history are
    net product quantity per series and period with every line kept (``--outliers keep``), as
    the acceptance tests compute them, not the cleansed history the models read.
    """
    level = [c for c in by if c != "segment"] or list(by)
    interval, season, _, _ = FREQS[freq]
    start = cast(dt.date, forecast.get_column("ds").min())
    end = cast(dt.date, orders.get_column("order_date").cast(pl.Date).max())
    # Every line counts, as the orders hold them: the customers in no segment too (those first
    # seen on or after as_of, with segments made as of it), whose lines build_series leaves out.
    # Their demand in the periods held out is demand the forecast had to meet; it went unscored.
    everyone = _with_unsegmented(orders, segments)
    full = build_series(orders, everyone, freq=freq, by=level, outliers="keep")
    y = full.y.join(full.keys, on="unique_id").with_columns(pl.col(level).cast(pl.String))
    # A period counts only if the orders cover it to its last day.
    whole = pl.col("ds").dt.offset_by(interval) <= pl.lit(end + dt.timedelta(days=1))
    horizon = forecast.get_column("ds").unique()
    actual = y.filter((pl.col("ds") >= start) & whole & pl.col("ds").is_in(horizon.implode()))
    periods = actual.get_column("ds").n_unique()
    if periods == 0:
        return None
    hist = y.filter(pl.col("ds") < start).sort("unique_id", "ds")
    windows = baseline_windows(freq)
    last = hist.group_by("unique_id").agg(
        pl.col("y").last().alias(NAIVE),
        *[pl.col("y").tail(k).mean().alias(average_name(k, freq)) for k in windows],
    )
    # A year-ago period the lines do not cover from its first day (the data's first period,
    # begun mid-way: The Complete Journey's one-day week of 2016-12-26, 1,002 units against
    # 7,600-9,600 a whole week) holds part of a period's demand: none, as the held-out side
    # scores only whole periods, so seasonal naive repeats the last period there.
    first_day = cast(dt.date, orders.get_column("order_date").cast(pl.Date).min())
    year_ago = hist.filter(pl.col("ds") >= first_day).select(
        "unique_id",
        pl.col("ds").dt.offset_by(f"{season}{interval[1:]}").alias("ds"),
        pl.col("y").alias("_season"),
    )
    # Every sum below runs over rows in one fixed order (series, then period), whatever order the
    # forecast's rows and the joins' came in: summed in the joins' order, three runs of one
    # routed forecast wrote three sets of last digits in the check's metadata.
    summed = (
        forecast.with_columns(pl.col(level).cast(pl.String))
        .sort(*[c for c in ("unique_id",) if c in forecast.columns], *level, "ds")
        .group_by(*level, "ds", maintain_order=True)
        .agg(pl.col("forecast").sum().alias(FORECAST))
    )
    scored = actual.join(summed, on=[*level, "ds"], how="inner")
    # A series with no forecast and no demand in those periods (every line of quantity 0, as
    # two of The Complete Journey's best sellers) lost no demand to the check: not counted.
    unscored = (
        actual.join(summed, on=[*level, "ds"], how="anti")
        .filter(pl.col("y") != 0)
        .get_column("unique_id")
        .n_unique()
    )
    if scored.height == 0:
        return None
    names = [FORECAST]
    if direct is not None:
        names.append(f"{','.join(level)} {DIRECT}")
        own = direct.select(
            pl.col(level).cast(pl.String), "ds", pl.col("forecast").alias(names[-1])
        )
        scored = scored.join(own, on=[*level, "ds"], how="left")
    scored = (
        scored.join(last, on="unique_id", how="left")
        .join(year_ago, on=["unique_id", "ds"], how="left")
        .with_columns(pl.col("_season").fill_null(pl.col(NAIVE)).alias(SEASONAL_NAIVE))
        .sort(*level, "ds")
    )
    names += [NAIVE, SEASONAL_NAIVE, *[average_name(k, freq) for k in windows]]
    demand = float(scored.get_column("y").sum())
    siteless = None
    if unrouted is not None:
        scored_ds = scored.get_column("ds")
        siteless = unrouted_demand(
            unrouted,
            [c for c in level if c != "site"],
            cast(dt.date, scored_ds.min()),
            cast(dt.date, pl.Series([scored_ds.max()]).dt.offset_by(interval).item()),
            interval,
        )
    unsegmented = _unsegmented_demand(orders, segments, everyone, scored, freq=freq, level=level)
    scores = pl.DataFrame(
        {
            "approach": names,
            "wape": [_wape(scored, n) for n in names],
            "bias": [float(scored.get_column(n).fill_null(0.0).sum()) / demand for n in names]
            if demand
            else [float("nan")] * len(names),
        }
    )
    return HeldOut(
        level=level,
        start=start,
        periods=periods,
        series=scored.get_column("unique_id").n_unique(),
        demand=demand,
        scores=scores,
        unscored=unscored,
        unsegmented=unsegmented,
        unrouted=siteless[0] if siteless is not None else None,
        unrouted_customers=siteless[1] if siteless is not None else 0,
    )


NO_SEGMENT = "\x00no segment"
"""The segment the held-out check gives the customers in no segment: no label a table holds."""


def _with_unsegmented(orders: pl.DataFrame, segments: pl.DataFrame) -> pl.DataFrame:
    """``segments`` (``customer_id, segment``) with every customer of ``orders`` in none of
    them, in ``NO_SEGMENT``."""
    seg = segments.select(pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String))
    ids = orders.select(pl.col("customer_id").cast(pl.String)).drop_nulls().unique()
    missing = ids.join(seg, on="customer_id", how="anti")
    if not missing.height:
        return seg
    return pl.concat([seg, missing.with_columns(pl.lit(NO_SEGMENT).alias("segment"))])


def _unsegmented_demand(
    orders: pl.DataFrame,
    segments: pl.DataFrame,
    everyone: pl.DataFrame,
    scored: pl.DataFrame,
    *,
    freq: str,
    level: list[str],
) -> float:
    """The demand of the customers in no segment in the periods and series scored: what the
    scored demand holds beyond the segments' customers' (each series-period's net demand
    clipped at 0, as the actuals are)."""
    if everyone.height == segments.height:
        return 0.0
    known = build_series(orders, segments, freq=freq, by=level, outliers="keep")
    theirs = known.y.join(known.keys, on="unique_id").with_columns(pl.col(level).cast(pl.String))
    kept = scored.select(*level, "ds", "y").join(
        theirs.select(*level, "ds", pl.col("y").alias("_known")),
        on=[*level, "ds"],
        how="left",
        maintain_order="left",
    )
    return float((kept.get_column("y") - kept.get_column("_known").fill_null(0.0)).sum())


def _wape(scored: pl.DataFrame, column: str) -> float:
    demand = float(scored.get_column("y").sum())
    if not demand:
        return float("nan")
    error = (scored.get_column(column).fill_null(0.0) - scored.get_column("y")).abs().sum()
    return float(error) / demand
