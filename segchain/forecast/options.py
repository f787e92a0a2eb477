"""Forecast options: frequencies, model names, interval levels and their checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Protocol

import polars as pl

from segchain.errors import UsageError

# The model vocabulary is declared in schema (config checks [forecast] models with it); the
# forecast package reads it from here.
from segchain.schema import BASELINES as BASELINES
from segchain.schema import DEFAULT_OUTLIERS
from segchain.schema import ENSEMBLE as ENSEMBLE
from segchain.schema import GLOBAL as GLOBAL
from segchain.schema import GROUP_SEASONAL as GROUP_SEASONAL
from segchain.schema import INTERMITTENT_MODELS as INTERMITTENT_MODELS
from segchain.schema import MODEL_NAMES as MODEL_NAMES
from segchain.schema import OUTLIERS as OUTLIERS
from segchain.schema import SMOOTH_MODELS as SMOOTH_MODELS
from segchain.schema import window_of as window_of

# freq -> (polars interval, season length, moving-average window, recent window for mean_demand)
FREQS: dict[str, tuple[str, int, int, int]] = {
    "D": ("1d", 7, 28, 28),
    "W": ("1w", 52, 8, 13),
    "M": ("1mo", 12, 3, 6),
}
# Further moving-average windows tried beside the default one: a month / quarter on weekly data.
EXTRA_WINDOWS = {"D": (7, 91), "W": (4, 13), "M": (6, 12)}

ENGINES = ("local", "dask", "ray", "spark")
RECONCILE = ("auto", "none", "bottom-up", "mint", "top-down")

KEY_SEP = "/"


def key_part(column: str) -> pl.Expr:
    """A key column as it goes into ``unique_id``: ``%`` and ``/`` percent-encoded, so that
    ``segment A + sku B/C`` (``A/B%2FC``) and ``segment A/B + sku C`` (``A%2FB/C``) never collide;
    keys without ``/`` or ``%`` are unchanged. A null part is spelled ``%00``."""
    text = pl.col(column).cast(pl.String)
    return (
        text.str.replace_all("%", "%25", literal=True)
        .str.replace_all("/", "%2F", literal=True)
        .fill_null("%00")
    )


KEY_CANDIDATES = ("segment", "sku", "site", "country", "customer_id")
# The same periods in pandas' spelling, for the distributed engines (they run on pandas).
PANDAS_FREQS = {"D": "D", "W": "W-MON", "M": "MS"}

# Options


def parse_levels(level: Sequence[float] | str | float) -> list[int | float]:
    """Parse ``80,95`` (or a sequence) into sorted interval levels strictly between 0 and 100
    (the rule is declared with the settings: ``segchain.config.interval_levels``)."""
    from segchain.config import Invalid, interval_levels

    try:
        return interval_levels(level)
    except Invalid as exc:
        raise UsageError(
            f"--level: {exc.reason}",
            hint="give one or more levels separated by commas, e.g. --level 80,95",
        ) from None


def parse_models(models: str | Sequence[str]) -> list[str] | None:
    """``auto`` -> None (route by demand class); else the list of known model names (the rule
    is declared with the settings: ``segchain.config.forecast_models``)."""
    from segchain.config import Invalid, forecast_models

    try:
        return forecast_models(models)
    except Invalid as exc:
        raise UsageError(f"--models: {exc.reason}", hint=exc.hint) from None


def check_options(
    freq: str,
    horizon: int,
    by: Sequence[str],
    engine: str,
    *,
    outliers: str = DEFAULT_OUTLIERS,
    reconcile: str = "auto",
) -> None:
    """Every problem with the options at once, as one usage error."""
    problems = []
    if freq not in FREQS:
        problems.append(f"--freq {freq!r} is not one of {', '.join(FREQS)}")
    if not isinstance(horizon, int) or horizon < 1:
        problems.append(f"--horizon must be a whole number of periods >= 1, got {horizon}")
    if not by:
        problems.append("--by needs at least one column, e.g. --by segment,sku")
    if len(set(by)) != len(by):
        problems.append(f"--by repeats a column: {','.join(by)}")
    if engine not in ENGINES:
        problems.append(f"--engine {engine!r} is not one of {', '.join(ENGINES)}")
    if outliers not in OUTLIERS:
        problems.append(f"--outliers {outliers!r} is not one of {', '.join(OUTLIERS)}")
    if reconcile not in RECONCILE:
        problems.append(f"--reconcile {reconcile!r} is not one of {', '.join(RECONCILE)}")
    if problems:
        raise UsageError("; ".join(problems))


@dataclass
class Plan:
    freq: str
    horizon: int
    season: int
    window: int
    models: list[str] | None
    # The orders' first day: a period begun before it holds part of a period's demand (The
    # Complete Journey's one-day week of 2016-12-26), which the seasonal lift reads as none.
    first_day: dt.date | None = None


class Tick(Protocol):
    """A step's progress callback: ``done`` of ``total`` series; ``doing``: what the step runs
    now, said with the count (``batch``), or apart from its series with no count (the global
    model's fit, which no series count measures: ``total`` 0)."""

    def __call__(self, done: int, total: int, doing: str | None = None) -> None: ...


def batch(n: int, models: Sequence[str]) -> str:
    """What a step runs while one statsforecast call works on a group of series, whose count
    moves only when the call is done: ``the next 184 series in one batch (AutoETS, AutoTheta,
    WindowAverage and 4 more)``. On The Complete Journey's 298 skus daily the line sat at '114
    of 298 series' for about 2 minutes without saying that the smooth skus' exponential
    smoothing and Theta models were fitting, all at once."""
    shown = ", ".join(models[:3]) + (f" and {len(models) - 3} more" if len(models) > 3 else "")
    return f"the next {f'{n:,} series' if n != 1 else 'series'} in one batch ({shown})"


@dataclass(frozen=True)
class ForecastParams:
    """The forecast options, resolved once (command line, environment, config, default).

    Each field is a keyword of ``forecast()`` and a CLI option (``n_jobs`` is ``--n-jobs``);
    the same object is passed to the stage and recorded in the output's provenance.
    """

    freq: str = "W"
    horizon: int = 13
    level: str = "80,95"
    by: str = "segment,sku"
    models: str = "auto"
    engine: str = "local"
    address: str | None = None
    n_jobs: int = -1
    outliers: str = DEFAULT_OUTLIERS
    reconcile: str = "auto"
    as_of: dt.date | None = None
    seed: int = 0

    @classmethod
    def resolve(cls, lookup: Callable[[str, Any], Any]) -> ForecastParams:
        """Each field from ``lookup(name, default)``, e.g. the CLI's setting() precedence."""
        defaults = cls()
        return cls(**{f.name: lookup(f.name, getattr(defaults, f.name)) for f in fields(cls)})

    def as_dict(self) -> dict[str, Any]:
        """Keyword arguments for ``forecast()``, and the provenance's ``params``."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
