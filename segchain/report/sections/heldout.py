"""The held-out check of a forecast made as of a past day (``forecast --as-of``): what happened.

forecast records in its metadata (and its backtest's) how its forecast, summed to the level
stock plans at, did on the whole periods after its as-of day that the order lines cover, against
naive, seasonal naive and moving averages of each series' own history (``held_out``). The
backtest is what the forecast expected of its error; this is what happened. The accuracy section
leads with it when it is there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from segchain.formatting import MISSING, agree, plural
from segchain.report.model import (
    NUM,
    PCT,
    UNITS,
    Headline,
    Note,
    TableBlock,
    finite,
    format_number,
)
from segchain.report.sections.common import Meta, Tables, count, params_of, pct, whole
from segchain.schema import HELD_OUT_DIRECT, HELD_OUT_FORECAST, META_HELD_OUT

# Two WAPEs this near (their ratio within 1 +- SAME) are the same forecast error: the segments'
# forecasts reconciled top-down sum to the sku's forecast made directly, up to rounding.
SAME = 0.0005
# forecast's --freq, in words (one period, several).
PERIOD_WORDS = {"D": ("day", "days"), "W": ("week", "weeks"), "M": ("month", "months")}


@dataclass(frozen=True)
class HeldOutCheck:
    """The held-out check as recorded (``forecast.heldout.HeldOut.as_metadata``), read for the
    page: ``scores`` is ``approach, wape, sum / demand``, the forecast first."""

    level: str
    start: str
    periods: int | None
    series: int | None
    demand: float | None
    unscored: int | None
    scores: pl.DataFrame
    period: tuple[str, str]  # the period in words: ("week", "weeks")
    # Demand of customers with no serving site of a routed forecast: no series holds it.
    unrouted: float | None = None
    unrouted_customers: int | None = None

    @property
    def level_words(self) -> str:
        """The level in words: ``site × sku`` (recorded as ``site,sku``)."""
        return " × ".join(self.level.split(","))

    @property
    def wape(self) -> float | None:
        return self._of(HELD_OUT_FORECAST, "wape")

    @property
    def bias(self) -> float | None:
        return self._of(HELD_OUT_FORECAST, "sum / demand")

    @property
    def direct_name(self) -> str:
        """The level's own forecast made directly ('sku direct'), scored beside the forecast
        when the series are per segment: no simple baseline."""
        return f"{self.level} {HELD_OUT_DIRECT}"

    @property
    def direct(self) -> float | None:
        """The WAPE of the level's forecast made directly, when scored."""
        return self._of(self.direct_name, "wape")

    @property
    def best(self) -> tuple[str, float] | None:
        """The simple baseline nearest the demand (lowest WAPE; ties: by name), None if none
        has a WAPE."""
        rest = self.scores.filter(
            ~pl.col("approach").is_in([HELD_OUT_FORECAST, self.direct_name])
            & pl.col("wape").is_not_null()
        ).sort("wape", "approach")
        if not rest.height:
            return None
        return str(rest.item(0, "approach")), float(rest.item(0, "wape"))

    @property
    def ratio(self) -> float | None:
        """The forecast's WAPE over the best baseline's (below 1: the forecast did better)."""
        best = self.best
        if self.wape is None or best is None or not best[1]:
            return None
        return self.wape / best[1]

    @property
    def lost(self) -> bool:
        ratio = self.ratio
        if ratio is None:
            # A baseline exact over the periods (WAPE 0) beat any forecast that missed at all:
            # no ratio, but a loss (the plan's warning was not given).
            best = self.best
            return best is not None and not best[1] and (self.wape or 0.0) > 0
        return ratio > 1

    def of_best(self) -> str:
        """How the forecast's WAPE compares with the best baseline's, in words after it."""
        ratio = self.ratio
        if ratio is None:
            return "exact, so no ratio"
        return f"{ratio_text(ratio)} of it"

    def span(self) -> str:
        """'the 8 weeks from 2011-10-10' ('the week of 2011-10-10' for one)."""
        one, many = self.period
        if self.periods == 1:
            return f"the {one} of {self.start}"
        n = count(self.periods) if self.periods is not None else "unknown number of"
        return f"the {n} {many} from {self.start}"

    def _of(self, approach: str, column: str) -> float | None:
        row = self.scores.filter(pl.col("approach") == approach)
        return finite(row.item(0, column)) if row.height else None


def held_out_check(meta: Meta, tables: Tables | None = None) -> HeldOutCheck | None:
    """The forecast's held-out check from its metadata, else its backtest's (the same run's:
    not a backtest of ``tables`` known to be of another run, whose check is that run's forecast's);
    None when neither has one with the forecast's WAPE or sum (a forecast not made as of a past
    day, or whose orders after it held no whole period)."""
    from segchain.report.consistency import backtest_of_other_run

    other = tables is not None and backtest_of_other_run(tables, meta)
    for kind in ("forecast",) if other else ("forecast", "backtest"):
        found = _read(meta.get(kind, {}).get(META_HELD_OUT), params_of(meta, kind))
        if found is not None:
            return found
    return None


def _read(value: Any, params: Mapping[str, Any]) -> HeldOutCheck | None:
    if not isinstance(value, Mapping):
        return None
    wape, bias = value.get("wape"), value.get("bias")
    if not isinstance(wape, Mapping) or HELD_OUT_FORECAST not in wape:
        return None
    bias = bias if isinstance(bias, Mapping) else {}
    # The metadata's JSON keeps its keys sorted: the forecast first again, then the baselines
    # as forecast prints them (naive, seasonal naive, the averages shortest first).
    level = str(value.get("level") or "series")
    approaches = sorted((str(a) for a in wape), key=lambda a: _approach_order(a, level))
    scores = pl.DataFrame(
        {
            "approach": approaches,
            "wape": [finite(wape[a]) for a in approaches],
            "sum / demand": [finite(bias.get(a)) for a in approaches],
        },
        schema={"approach": pl.String, "wape": pl.Float64, "sum / demand": pl.Float64},
    )
    freq = str(params.get("freq") or "")
    return HeldOutCheck(
        level=level,
        start=str(value.get("start") or "its as-of day"),
        periods=whole(value.get("periods")),
        series=whole(value.get("series")),
        demand=finite(value.get("demand")),
        unscored=whole(value.get("unscored_new_series")),
        scores=scores,
        period=PERIOD_WORDS.get(freq, ("period", "periods")),
        unrouted=finite(value.get("unrouted_demand")),
        unrouted_customers=whole(value.get("unrouted_customers")),
    )


def _approach_order(name: str, level: str) -> tuple[int, float, str]:
    fixed = {HELD_OUT_FORECAST: 0, f"{level} {HELD_OUT_DIRECT}": 1, "naive": 2, "seasonal naive": 3}
    if name in fixed:
        return fixed[name], 0.0, name
    length = re.match(r"(\d+)-", name)
    return 4, float(length.group(1)) if length else math.inf, name


# ---- wording


def ratio_text(x: float | None) -> str:
    """A held-out ratio (a WAPE over another's) as forecast writes it on stderr (``= 0.921``,
    three decimals): the page quotes the same figure, not ``0.92``. The sums over the demand
    are written as forecast's stderr table writes them (``NUM``: 0.992, 1.43)."""
    return MISSING if x is None else f"{x:,.3f}"


def held_out_headline(check: HeldOutCheck) -> Headline:
    """The section's first headline: what happened, against the best simple baseline."""
    best = check.best
    detail = f"on {check.span()}, which the forecast did not see ({check.level_words} level)"
    if best is not None:
        name, wape = best
        against = f"{pct(wape)} ({name}): {check.of_best()}"
        # A forecast worse than a simple average says so where a reader looks first.
        detail += f"; lost to a simple baseline, {against}" if check.lost else ""
        detail += "" if check.lost else f"; best simple baseline {against}"
    return Headline("Held-out WAPE", pct(check.wape), detail)


def held_out_blocks(check: HeldOutCheck) -> list[Note | TableBlock]:
    """What happened after the forecast was made, in one sentence, and the table of approaches."""
    level, (one, many) = check.level_words, check.period
    those = f"in that {one}" if check.periods == 1 else f"in those {many}"
    series = f" over {plural(check.series, f'{level} series', f'{level} series')}"
    demand = f" (demand {format_number(check.demand, UNITS)} units)"
    kept = (
        # A customer with no site has no site's series to be scored in: said, not claimed kept.
        f"every line kept but the {format_number(check.unrouted, UNITS)} units of "
        f"{plural(check.unrouted_customers, 'customer')} with no serving site in the network's "
        f"assignments, which no {level} series holds: not scored"
        if check.unrouted
        else "every line kept"
    )
    text = (
        f"Held out: {check.span()}, which the forecast did not see (the order lines on or after "
        f"its --as-of day, {kept}), scored at {level} level"
        f"{series if check.series is not None else ''}"
        f"{demand if check.demand is not None else ''}: "
    )
    best, ratio = check.best, check.ratio
    if check.wape is None:
        text += "no WAPE (no demand in those periods to score against)."
    elif best is None:
        # No period here: the sentence's own ends after the forecast's sum.
        text += f"forecast WAPE {pct(check.wape)}; no simple baseline could be scored"
    elif ratio is None:
        # The baseline forecast every period exactly (WAPE 0): it was scored, and no ratio
        # says how far the forecast is from it (forecast's stderr says the same).
        name, wape = best
        text += (
            f"forecast WAPE {pct(check.wape)} against the best simple baseline's {pct(wape)} "
            f"({name}), which forecast every period exactly, so no ratio"
            + (
                f": the forecast lost; the {name} of each {level}'s own history was nearer "
                "what happened"
                if check.wape > 0
                else ": the forecast did as well"
            )
        )
    else:
        name, wape = best
        text += (
            f"forecast WAPE {pct(check.wape)} against the best simple baseline's {pct(wape)} "
            f"({name}), {ratio_text(ratio)} of it"
        )
        if check.lost:
            text += (
                f": the forecast lost; the {name} of each {level}'s own history was nearer what "
                "happened"
            )
        elif ratio == 1:
            text += ": no better than that baseline"
    if check.wape is not None:
        if check.bias is not None:
            text += f"; the forecast summed to {format_number(check.bias, NUM)} of the demand"
        text += "."
    direct = check.direct
    if check.wape is not None and direct:
        vs_direct = check.wape / direct
        same = abs(vs_direct - 1) < SAME
        text += (
            f" Made directly at {level} level, without segments, the forecast's WAPE is "
            f"{pct(direct)}: the segments' forecasts summed are "
            f"{ratio_text(vs_direct)} of "
            + (
                "it."
                if same
                else f"it, so segmenting {'cost' if vs_direct > 1 else 'gained'} accuracy {those}."
            )
        )
    if check.unscored:
        text += (
            f" {plural(check.unscored, f'{level} series', f'{level} series')} sold {those} "
            f"{agree(check.unscored, 'has', 'have')} no forecast (first sold on or after "
            f"{check.start}): not scored."
        )
    return [
        Note(text),
        TableBlock(
            f"Held out: each approach on {check.span()} ({level} level)",
            check.scores,
            formats={"wape": PCT, "sum / demand": NUM},
            heat=("wape",),
            note=(
                f"The forecast summed to the {level}; the simple baselines from each {level}'s "
                f"own history before {check.start}, every line kept: naive repeats its last "
                f"{one}, seasonal naive its {one} a year before (naive where there is none), an "
                f"N-{one} average the mean of its last N {many}. sum / demand: the approach's "
                "units over the units ordered (1 is neither over nor under)."
                + (
                    f" {check.direct_name}: the {level} forecast made directly, without "
                    "segments, which the segments' forecasts are reconciled with."
                    if direct is not None
                    else ""
                )
            ),
        ),
    ]
