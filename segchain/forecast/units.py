"""The unit the models see the demand in: the run's own, so that forecasts scale with quantities.

Every model is handed the history divided by the level's mean nonzero period demand
(``demand_unit``) and rounded to single precision (``in_unit``), and its forecasts, bounds and
fitted values are multiplied back (``from_unit``). Divided by a unit proportional to the unit of
quantity and rounded to 24 bits, the demand is the same numbers whether it was counted in units,
thousands, kilograms or grams, so every fit is the same and every forecast scales exactly.

Fitted as they came, they did not: statsforecast's optimisers (AutoETS, AutoTheta, the
optimised exponential smoothing in ADIDA and IMAPA) start from fixed values and stop at absolute
tolerances, so the demand's scale changed their fit, and the global model's trees split on the
last bits of a per-series standardisation (docs/measurements.md, *The forecast and the unit of
quantity*). Everything else (cleansing, demand classes, the selection's error grain, the
backtest's actuals, every table written) reads the demand as given.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import polars as pl


def demand_unit(y: pl.DataFrame) -> float:
    """The mean nonzero period demand of ``y`` (1.0 if it has none): the unit the models see the
    demand in, proportional to the unit of quantity. One per level of the run, not one per
    series: the models are then the ones they were, fitted on the same numbers in any unit.
    Summed exactly (``math.fsum``): a rounded running sum differs in its last bits between
    units, and so would every demand divided by it."""
    values = y.get_column("y").drop_nulls().drop_nans().abs().to_numpy()
    nonzero = values[values > 0]
    return math.fsum(nonzero) / nonzero.size if nonzero.size else 1.0


def in_unit(y: pl.DataFrame, unit: float) -> pl.DataFrame:
    """``y`` in ``unit``, rounded to single precision (24 bits): the same numbers whatever the
    unit of quantity. A demand divided by its unit differs between units by a few
    double-precision ulps, which round to one float32 but for a chance of about 1e-8 per period;
    the rounding itself moves the demand by at most 6e-8 of itself."""
    scaled = (pl.col("y") / unit).cast(pl.Float32).cast(pl.Float64)
    return y.with_columns(scaled.alias("y"))


def from_unit(frame: pl.DataFrame, unit: float, columns: Iterable[str]) -> pl.DataFrame:
    """``frame`` with ``columns`` (forecasts, bounds, fitted values made in ``unit``) multiplied
    back into the demand's own unit."""
    return frame.with_columns(pl.col(c).cast(pl.Float64) * unit for c in columns)
