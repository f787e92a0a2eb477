"""The model factory: statsforecast models by name, routes, ensembles and tie-break order."""

from __future__ import annotations

from typing import Any

import polars as pl

from segchain.forecast.group_seasonal import GROUP_SEASONAL_BASE
from segchain.forecast.options import (
    BASELINES,
    ENSEMBLE,
    EXTRA_WINDOWS,
    GLOBAL,
    GROUP_SEASONAL,
    INTERMITTENT_MODELS,
    MODEL_NAMES,
    SMOOTH_MODELS,
    Plan,
    window_of,
)

CV_CLASSES = ("smooth", "erratic")  # routed to AutoETS / AutoTheta; the rest to Croston & co.

# Models without a native interval get split-conformal ones from their backtest errors.
NATIVE_INTERVALS = frozenset({"AutoETS", "AutoTheta", "Naive", "SeasonalNaive", "HistoricAverage"})
# Models whose one-step-ahead fitted values come from the fit (statsforecast's, or the global
# model's in-sample predictions); the baselines' are exact rolling one-step forecasts.
FITTED_MODELS = frozenset((*SMOOTH_MODELS, *INTERMITTENT_MODELS, GLOBAL))


# Models and engines


def make_model(name: str, *, season_length: int, seasonal: bool, window: int):
    """One statsforecast model by name; ``seasonal`` turns on the seasonal variant."""
    from statsforecast import models as m

    sl = season_length if seasonal else 1
    kw: dict[str, Any] = {}
    if name == "AutoETS":
        # ETS with a season over 24 periods is slow and rarely estimable (Hyndman & Athanasopoulos,
        # FPP3 12.1); weekly seasonality goes to AutoTheta and SeasonalNaive instead.
        return m.AutoETS(season_length=sl if sl <= 24 else 1, **kw)
    if name == "AutoTheta":
        return m.AutoTheta(season_length=sl, **kw)
    if name == "SeasonalNaive":
        return m.SeasonalNaive(season_length=season_length, **kw)
    if name == "WindowAverage":
        return m.WindowAverage(window_size=window, **kw)
    if size := window_of(name):
        return m.WindowAverage(window_size=size, alias=name)
    if name == "TSB":
        return m.TSB(alpha_d=0.1, alpha_p=0.1, **kw)
    return getattr(m, name)(**kw)


def ensemble_members(smooth: bool) -> list[str]:
    """The models an ``Ensemble`` averages on a route."""
    return list(SMOOTH_MODELS if smooth else INTERMITTENT_MODELS)


def wants_global(plan: Plan) -> bool:
    return plan.models is None or GLOBAL in plan.models


def wants_group_seasonal(plan: Plan) -> bool:
    return plan.models is None or GROUP_SEASONAL in plan.models


def candidates(plan: Plan, *, smooth: bool, has_season: bool) -> list[str]:
    """statsforecast models to fit in cross-validation per series group (an Ensemble is derived
    from its members' forecasts, GroupSeasonal from the moving average's; the global model is
    cross-validated once, across groups)."""
    if plan.models is not None:
        chosen = [m for m in plan.models if m not in (GLOBAL, GROUP_SEASONAL)]
        if GROUP_SEASONAL in plan.models and GROUP_SEASONAL_BASE not in chosen:
            chosen.append(GROUP_SEASONAL_BASE)
    else:
        extra = [f"WindowAverage{w}" for w in EXTRA_WINDOWS[plan.freq]]
        chosen = list(SMOOTH_MODELS if smooth else INTERMITTENT_MODELS) + list(BASELINES) + extra
        # The mean of all history is a candidate only when asked for: it fits the early
        # backtest windows, then the level moves (the grocery data: chosen for 69 % of
        # the skus, 7 % worse than an 8-week average held out); the 13-period average covers
        # the long-memory case. It stays the forecast of series too short to backtest.
        chosen.remove("HistoricAverage")
    if ENSEMBLE in chosen:
        chosen.remove(ENSEMBLE)
        chosen += [m for m in ensemble_members(smooth) if m not in chosen]
    # The baselines of the backtest report are always evaluated (its comparison rows: with
    # --models restricted they stopped at the naive ones); only --models' are candidates.
    baselines = ["Naive", "SeasonalNaive", "WindowAverage"]
    baselines += [f"WindowAverage{w}" for w in EXTRA_WINDOWS[plan.freq]]
    chosen += [m for m in baselines if m not in chosen]
    if not has_season:
        chosen = [m for m in chosen if m != "SeasonalNaive"]
    return chosen


def with_ensemble(wide: pl.DataFrame, members: list[str]) -> pl.DataFrame:
    """Add the Ensemble's column to a wide CV frame: the mean of its members' (non-negative)
    forecasts that exist (none of them among the columns: no Ensemble)."""
    present = [m for m in members if m in wide.columns]
    if not present:
        return wide
    forecasts = [pl.col(m).fill_nan(None).clip(lower_bound=0.0) for m in present]
    return wide.with_columns(pl.mean_horizontal(forecasts).alias(ENSEMBLE))


def wants_ensemble(plan: Plan) -> bool:
    return plan.models is None or ENSEMBLE in plan.models


def model_rank(name: str) -> int:
    """Tie-break order: simpler models first; an Ensemble last."""
    rank = {m: i for i, m in enumerate(MODEL_NAMES)}
    if name in rank:
        return rank[name]
    return rank["WindowAverage"] if window_of(name) else 99
