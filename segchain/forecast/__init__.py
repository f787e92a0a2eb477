"""Demand forecasts per series (segment x sku by default) with backtested model choice.

One concept per module: ``options`` (frequencies, model names, levels), ``series`` (order lines to
demand series), ``classes`` (Syntetos-Boylan), ``models`` (the model factory), ``engines`` (local,
Dask, Ray, Spark), ``selection`` (cross-validated choice), ``final`` (the refit), ``intervals``,
``backtest`` (accuracy reporting) and ``stage`` (the ``forecast`` call that ties them together).
"""

from segchain.forecast.classes import classify
from segchain.forecast.options import (
    FREQS,
    MODEL_NAMES,
    ForecastParams,
    parse_levels,
    parse_models,
)
from segchain.forecast.selection import selection_error
from segchain.forecast.series import Series, build_series
from segchain.forecast.stage import ForecastResult, forecast

__all__ = [
    "FREQS",
    "MODEL_NAMES",
    "ForecastParams",
    "ForecastResult",
    "Series",
    "build_series",
    "classify",
    "forecast",
    "parse_levels",
    "parse_models",
    "selection_error",
]
