"""Lead-time demand from the order history: the bootstrap of Willemain, Smart & Schwarz (2004).

For intermittent and lumpy items with little history, a negative binomial fitted to a tiny,
over-dispersed forecast mean asks for absurd levels (93,892 units for 0.00005 expected). The
empirical alternative resamples the item's own history:

1. demand per forecast period, each series from its first period with demand to the last period
   of the data (zeros in between; a period whose returns exceed its sales counts as zero);
2. a two-state Markov chain of zero / non-zero periods, its transition probabilities counted
   from the history (a state never left in the history: the overall share of non-zero periods);
   the first period of a draw starts from the chain's stationary distribution (a policy is
   planned for any time, not from the last observed period);
3. each non-zero period takes a size drawn from the history's non-zero periods and jittered:
   ``1 + int(x + z*sqrt(x))``, z standard normal, the drawn x itself when that is not positive;
4. demand over an interval of ``T`` periods is the sum over ``floor(T)`` periods plus the next
   period's demand, whole, with probability ``T - floor(T)`` (a slow item's non-zero period is
   mostly one order, which arrives on one day, whole); with a lead-time sd, each path's lead
   time is drawn from normal(L, sd_L) in whole days (``draw_leads``), as the fitted plan and
   the rationing model it;
5. a history whose mean per period is below the forecast's is brought up to it (``level_to``):
   the forecast sets the level, the history the shape.

The plan reads this model's distributions exactly (``chain_pmf``: the chain over the interval's
periods convolved with the jittered sizes), not estimated from draws, where they fit a grid of
whole units (``EXACT_WIDTH``). Draws remain for wider points and for ``--simulate``'s replay
(``PeriodPaths``); they are seeded, each point's from a stream of its own (``history_streams``,
from its history, not its names): the same history and seed give the same levels, whichever
other points are planned beside it and whatever they are called.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import polars as pl

from segchain.cleansing import LINE_ID, LINE_QUANTITY, cleanse, described
from segchain.errors import DataError, TableMessage
from segchain.formatting import plural
from segchain.schema import (
    DAYS_PER_MONTH,
    DAYS_PER_QUARTER,
    DEFAULT_OUTLIERS,
    ORDERS_OPTION,
    demand_line,
    require_columns,
)
from segchain.stock.distributions import whole_day_leads

# Draws per stocking point, where its demand is estimated from draws (a grid too wide for the
# exact pmfs, ``exact_pmfs``). At 4,000 the level's sampling error was not small: an item selling
# lumps of 4-8 units a fifth of the weeks, (s, Q) looked at nightly for a 0.97 fill rate, took
# levels of 11 to 15 over 8 seeds, delivering 0.955 to 0.988 in a long replay; at 16,000, 13
# to 15 (0.976 to 0.988). On Online Retail's 241 bootstrapped points (2011-10-10, every target
# 0.95) the bootstrap's CPU went from 0.5 s to 1.1 s, the stage's from 4.0-4.2 s to 4.6 s
# (alternated in one process).
DRAWS = 16000
# Stocking points bootstrapped at a time: DRAWS x CHUNK cells per array, about a million (a
# point's draws are its own, so the chunking does not change a level).
CHUNK = 64
# Widest pmf grid the level search builds for a row (a chunk's grid holds one row's demand
# and another's Q: at most twice this). The grid counts whole units of demand, so its width
# was the unit's: an export in grams instead of kilograms made it 1000 times wider, and the
# demo's stock ran 30+ min and several GB. Past this width a row's search works in steps of
# a power of ten units (``grid_step``); the demo as exported stays under it (1,824 at most).
GRID_WIDTH = 4096
# Widest grid of whole units on which a point's demand is computed exactly (``exact_pmfs``):
# its whole support (every period's largest jittered size over the longest lead time) and the
# level search's grid (demand to a tail of 1e-12, and Q). A point past it is drawn. A chunk's
# grids then hold 64 x 16,384 cells, 8 MB each.
EXACT_WIDTH = 4 * GRID_WIDTH


def period_interval(period_days: float) -> str:
    """The polars truncation interval of the forecast's period."""
    named = {1.0: "1d", 7.0: "1w", DAYS_PER_MONTH: "1mo", DAYS_PER_QUARTER: "1q"}
    return named.get(period_days, f"{max(round(period_days), 1)}d")


def demand_history(
    orders: pl.DataFrame,
    keys: list[str],
    period_days: float,
    *,
    before: dt.date | None = None,
    outliers: str | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """Net product demand per stocking point and forecast period: ``keys, ds, y``.

    Returns the history and notes (lines left out). With a forecast by site and orders without
    a site column there is no history per site: an empty frame and a note. Lines on or after
    ``before`` (the forecast's first period) are left out, and counted in a note: the forecast
    was made without them (``forecast --as-of``), and its plan must not read the demand it is
    to meet. The lines are cleansed as the forecast cleansed them (``cleansing.cleanse`` with
    its ``outliers``; None, unrecorded: forecast's default), counted in a note: the plan's
    history is the demand the forecast read.
    A zero-price giveaway of 12,540 units (Online Retail, 84826, selling 15.7 a week) had held
    a reorder point at 12,643.
    """
    require_columns(
        orders.columns,
        ["order_date", "sku", "quantity"],
        source=ORDERS_OPTION,
        hint="pass the orders given to `segchain forecast` (the output of `segchain validate`)",
    )
    notes: list[str] = []
    if "site" in keys and "site" not in orders.columns:
        notes.append(
            TableMessage(
                f"{{{ORDERS_OPTION}}} has no site column: no history per site, so no bootstrap "
                "of lead-time demand (the forecast is by site)",
                {ORDERS_OPTION: ORDERS_OPTION},
            )
        )
        schema = {**dict.fromkeys(keys, pl.String), "ds": pl.Date, "y": pl.Float64}
        return pl.DataFrame(schema=schema), notes
    o = orders
    if "flag" in o.columns:
        o = o.filter(demand_line())
    # What the cleansing reads besides the quantity: the flag, and a routed line's number and
    # size as ordered (``routing``).
    extra = [c for c in ("flag", LINE_ID, LINE_QUANTITY) if c in o.columns]
    try:
        o = o.select(
            *[pl.col(k).cast(pl.String) for k in keys],
            pl.col("order_date").cast(pl.Date).alias("ds"),
            pl.col("quantity").cast(pl.Float64),
            *extra,
        )
    except pl.exceptions.PolarsError as exc:
        raise DataError(
            f"{ORDERS_OPTION}: order_date or quantity cannot be read ({exc.__class__.__name__})",
            hint="pass the output of `segchain validate`",
        ) from exc
    o = o.filter(pl.col("ds").is_not_null() & pl.col("quantity").is_not_null())
    if before is not None:
        later = o.filter(pl.col("ds") >= before).height
        if later:
            notes.append(
                TableMessage(
                    f"{{{ORDERS_OPTION}}}: {later:,} demand line{'s' if later != 1 else ''} on "
                    f"or after {before}, the forecast's first period, left out of the demand "
                    "history (the forecast was made without them)",
                    {ORDERS_OPTION: ORDERS_OPTION},
                )
            )
            o = o.filter(pl.col("ds") < before)
        end = o.get_column("ds").max() if o.height else None
        if isinstance(end, dt.date) and (before - end).days - 1 >= period_days:
            # A whole period or more without a line before the plan starts: the orders of an
            # older export (or cut short), not the ones the forecast was made from.
            notes.append(
                TableMessage(
                    f"{{{ORDERS_OPTION}}}: the order lines end on {end}, "
                    f"{plural((before - end).days - 1, 'day')} before the forecast's first "
                    f"period ({before}): the demand history stops there, and the periods between "
                    "are not read (give the orders the forecast was made from)",
                    {ORDERS_OPTION: ORDERS_OPTION},
                )
            )
    mode = outliers or DEFAULT_OUTLIERS
    o, cleansed = cleanse(o, outliers=mode)
    if cleansed:
        said = (
            f"--outliers {mode}"
            if outliers
            else f"forecast's default --outliers {mode}: the forecast does not record its own"
        )
        notes.append(
            TableMessage(
                f"{{{ORDERS_OPTION}}}: the demand history cleansed as the forecast read it "
                f"({said}): " + ", ".join(phrase for _, phrase in described(cleansed)),
                {ORDERS_OPTION: ORDERS_OPTION},
            )
        )
    o = o.drop(LINE_ID) if LINE_ID in o.columns else o
    if o.height == 0:
        return o.rename({"quantity": "y"}), notes
    o = o.with_columns(pl.col("ds").dt.truncate(period_interval(period_days)))
    last = o.get_column("ds").max()
    agg = (
        o.group_by([*keys, "ds"])
        .agg(pl.col("quantity").sum().alias("y"))
        .with_columns(pl.col("y").clip(lower_bound=0.0))
        .sort([*keys, "ds"])
    )
    first = agg.filter(pl.col("y") > 0).group_by(keys).agg(pl.col("ds").min().alias("start"))
    grid = first.with_columns(
        pl.date_ranges("start", pl.lit(last), interval=period_interval(period_days)).alias("ds")
    ).explode("ds")
    out = (
        grid.drop("start")
        .join(agg, on=[*keys, "ds"], how="left")
        .with_columns(pl.col("y").fill_null(0.0))
        .sort([*keys, "ds"])
    )
    return out, notes


@dataclass(frozen=True)
class Histories:
    """Per stocking point (rows aligned with the policy): the Markov chain and the sizes."""

    has: np.ndarray  # bool: a history with at least one non-zero period
    p01: np.ndarray  # P(non-zero | zero)
    p11: np.ndarray  # P(non-zero | non-zero)
    start: np.ndarray  # stationary P(non-zero)
    sizes: np.ndarray  # all points' non-zero sizes, concatenated
    offset: np.ndarray  # where each point's sizes start in ``sizes``
    count: np.ndarray  # how many sizes each point has
    periods: np.ndarray  # periods of history
    values: list[np.ndarray]  # each point's demand per period (for window maxima)
    streams: np.ndarray  # uint64: each point's random stream, from its history
    unseen: np.ndarray  # bool: how often it sells is unseen (``unseen_frequency``)

    def window_max(self, length: np.ndarray) -> np.ndarray:
        """The largest demand over any ``ceil(length)`` consecutive periods of each history."""
        out = np.full(self.has.size, np.nan)
        for i in np.flatnonzero(self.has):
            y = self.values[i]
            w = int(min(max(math.ceil(length[i] - 1e-9), 1), y.size))
            c = np.concatenate([[0.0], np.cumsum(y)])
            out[i] = float(np.max(c[w:] - c[:-w]))
        return out


def lump_variance(mu: np.ndarray, h: Histories) -> np.ndarray:
    """The variance per period of demand at mean ``mu`` arriving in lumps sized like each
    point's history: a period sells with probability p = mu / E[X] and then X, one of its
    non-zero periods' demands, so var = p E[X^2] - mu^2 = mu E[X^2] / E[X] - mu^2 (compound
    Bernoulli). 0 where a point has no history.

    A slow item's forecast error can look Poisson (its backtest windows held a sale or none),
    yet it sells 8 units at once: held out on Superstore by product, the points fitted as
    Poisson (variance <= mean) promised a 0.99 fill rate and gave 0.62."""
    n = h.has.size
    point = np.repeat(np.arange(n), h.count)  # the point of each size in ``h.sizes``
    first = np.bincount(point, weights=h.sizes, minlength=n)
    second = np.bincount(point, weights=h.sizes * h.sizes, minlength=n)
    ratio = np.divide(second, first, out=np.zeros(n), where=first > 0)  # E[X^2] / E[X]
    return np.where(first > 0, np.maximum(mu * ratio - mu * mu, 0.0), 0.0)


def histories(history: pl.DataFrame, points: pl.DataFrame, keys: list[str]) -> Histories:
    """The Markov chain and sizes of each stocking point's history (``demand_history``)."""
    n = points.height
    grouped = history.group_by(keys, maintain_order=True).agg(pl.col("y"))
    joined = points.select(keys).join(grouped, on=keys, how="left", maintain_order="left")
    values = [np.asarray(v if v is not None else [], dtype=float) for v in joined.get_column("y")]
    has = np.array([bool((v > 0).any()) for v in values])
    p01 = np.zeros(n)
    p11 = np.zeros(n)
    sizes: list[np.ndarray] = []
    count = np.zeros(n, dtype=np.int64)
    unseen = np.zeros(n, dtype=bool)
    for i, v in enumerate(values):
        nz = v > 0
        if not nz.any():
            continue
        unseen[i] = unseen_frequency(nz)
        sizes.append(v[nz])
        count[i] = int(nz.sum())
        share = nz.mean()
        prev, nxt = nz[:-1], nz[1:]
        from_zero, from_one = (~prev).sum(), prev.sum()
        p01[i] = (nxt & ~prev).sum() / from_zero if from_zero else share
        p11[i] = (nxt & prev).sum() / from_one if from_one else share
    offset = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    denom = 1.0 - p11 + p01
    start = np.where(denom > 0, p01 / np.where(denom > 0, denom, 1.0), 1.0)
    return Histories(
        has=has,
        p01=p01,
        p11=p11,
        start=start,
        sizes=np.concatenate(sizes) if sizes else np.zeros(0),
        offset=offset,
        count=count,
        periods=np.array([v.size for v in values]),
        values=values,
        streams=history_streams(values),
        unseen=unseen,
    )


def unseen_frequency(sells: np.ndarray) -> bool:
    """Whether a history (``sells``: its periods with demand, from its first sale on) never
    shows a sale after a period without one: a single period, or one run of sales followed by
    none (one sale is the common case). How often such an item sells is unseen: the chain's
    chance of a sale after an empty period rests on no transition at all, so its stationary
    share is 0 (the draws never sell again, and the expected fill rate reads 1) or, for a
    single period, 1 (every period sells its one size, and the fill rate held at that size
    reads 0). Held out on Superstore by product and region (RS weekly, 2022-06-06 and
    2022-10-10), such points expected 1.0 or 0.004 and delivered 0.64-1.0; the points whose
    history shows a sale after a pause expected 0.81-0.89 and delivered 0.78-0.88
    (docs/measurements.md, *Held points whose history shows one sale*). A history selling in
    every one of two or more periods is seen to sell every period, and is not unseen."""
    if sells.size == 1:
        return True
    restarts = bool((sells[1:] & ~sells[:-1]).any())
    return not restarts and not bool(sells.all())


def history_streams(values: list[np.ndarray]) -> np.ndarray:
    """Each stocking point's random stream number, from its own history (``history_stream``):
    a point draws the same numbers whichever other points are planned beside it, and whatever
    its sku and site are called. Drawn in turn from one generator, a point's draws depended on
    its place among the bootstrapped points: on Online Retail, leaving one sku out of the
    forecast moved the reorder points of 185 others (one from 811 to 1,261), and the plans
    compared by --compare-uniform, whose sets of bootstrapped points differ, were compared on
    different draws. A hash of the names (as before session 65) made renaming reseeding."""
    return np.array([history_stream(v) for v in values], dtype=np.uint64).reshape(-1)


def history_stream(y: np.ndarray) -> int:
    """One point's stream number from its demand per period, divided by its largest (so a
    history in other units, every quantity x1000, draws the same numbers and its levels are
    x1000 exactly), with the number of periods."""
    top = float(np.max(np.abs(y))) if y.size else 0.0
    return data_stream([float(y.size), *(y / top if top > 0 else y)])


def data_stream(values: Iterable[float]) -> int:
    """A stream number from numbers describing a point's data (not its names), each written
    to 9 significant digits, so that a ratio whose last bit differs after a change of units
    does not reseed the point, and hashed: different data, independent draws."""
    key = "\x1f".join(f"{float(v):.9g}" for v in values).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little")


def stream_generators(seed: int, streams: np.ndarray, purpose: int) -> list[np.random.Generator]:
    """One generator per point: the seed, its stream (``history_streams``), the draws' purpose."""
    return [
        np.random.default_rng([int(seed) & 0xFFFFFFFF, int(s) >> 32, int(s) & 0xFFFFFFFF, purpose])
        for s in streams
    ]


class RowStreams:
    """Random numbers drawn row by row, each row from its own generator (its point's stream
    and the purpose of the draws): ``random`` and ``standard_normal`` as a numpy Generator's,
    for a size of (rows, draws). A row's numbers do not depend on the other rows drawn with it.
    """

    def __init__(self, seed: int, streams: np.ndarray, purpose: int) -> None:
        self._gens = stream_generators(seed, streams, purpose)

    def random(self, size: tuple[int, int]) -> np.ndarray:
        return self._stack(size, lambda g, n: g.random(n))

    def standard_normal(self, size: tuple[int, int]) -> np.ndarray:
        return self._stack(size, lambda g, n: g.standard_normal(n))

    def _stack(
        self, size: tuple[int, int], draw: Callable[[np.random.Generator, int], np.ndarray]
    ) -> np.ndarray:
        rows, n = size
        if rows != len(self._gens):
            raise ValueError(f"{rows} rows asked of {len(self._gens)} streams")
        out = np.empty((rows, n))
        for i, g in enumerate(self._gens):
            out[i] = draw(g, n)
        return out


def draw_interval(
    h: Histories,
    rows: np.ndarray,
    length: np.ndarray,
    rng: np.random.Generator | RowStreams,
    draws: int,
    level: Level | None = None,
) -> np.ndarray:
    """Demand over ``length`` periods (real) for each of ``rows``: (rows, draws) integers."""
    return draw_intervals(h, rows, [length], rng, draws, level)[0]


@dataclass(frozen=True)
class Level:
    """How the draws of each row are brought up to its forecast's mean (``level_to``): a period
    the chain leaves empty sells with probability ``add``, and every size is multiplied by
    ``size``."""

    add: np.ndarray
    size: np.ndarray

    def take(self, rows: np.ndarray) -> Level:
        return Level(add=self.add[rows], size=self.size[rows])


# A history whose forecast is under this share of its rate (its mean per period since its first
# sale), which sold in two periods or more and has not sold since for longer than its longest
# pause between two sales, is the history of an item that has lapsed, not of one selling in
# lumps below its usual rate or of a forecast too low for a history still selling: its largest
# demand is brought down to the forecast's level (``lapsed_factor``). Planned on the history's
# busy months, 21399 at Online Retail's UK-LON, last sold in June and forecast 0.26 units a
# year, had a reorder point of 1,797.
LAPSED_SHARE = 0.1


def history_rates(h: Histories, rows: np.ndarray) -> np.ndarray:
    """Each row's mean demand per period over its history (0 without one)."""
    return np.array([float(h.values[i].mean()) if h.values[i].size else 0.0 for i in rows])


def stopped(h: Histories, rows: np.ndarray) -> np.ndarray:
    """Whether each row's history has not sold for longer than its longest pause between two
    sales. A sale in the last period, or a pause no longer than the history has shown before,
    says nothing of a lapse; nor does a single sale, which says nothing of how often the item
    sells (``unseen_frequency``). Held out on Superstore by product from 2022-06-06
    (``tests/acceptance/test_sparse_products_stock.py``), bringing single sales down too
    delivered 0.893 at a mean stock of 857,300; left at their sale, 0.896 at 883,529 (0.897
    at 892,264 before lapsed items were brought down)."""
    out = np.zeros(rows.size, dtype=bool)
    for j, i in enumerate(rows):
        sells = np.flatnonzero(h.values[i] > 0)
        if sells.size < 2:
            continue
        since = h.values[i].size - 1 - int(sells[-1])
        pauses = np.diff(sells) - 1
        out[j] = since > (int(pauses.max()) if pauses.size else 0)
    return out


def lapsed_factor(h: Histories, rows: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """The factor bringing each row's largest demand down to its forecast's level where its item
    has lapsed (``LAPSED_SHARE``): the forecast's share of the history's rate, else 1 (the
    history left as it is, ``level_to``). So a lapsed point forecast at a thousandth of its
    history's rate holds at most a thousandth of its history's largest demand, as one forecast
    at twice its rate, selling every period, holds twice it."""
    mean = history_rates(h, rows)
    ratio = np.divide(mu, mean, out=np.ones(rows.size), where=mean > 0)
    lapsed = (ratio < LAPSED_SHARE) & stopped(h, rows)
    return np.where(lapsed, np.maximum(ratio, 0.0), 1.0)


def level_to(h: Histories, rows: np.ndarray, mu: np.ndarray) -> Level:
    """The forecast sets the level, the history the shape: the draws of each row whose history's
    mean per period is below ``mu`` are brought up to it, by how often it sells first (up to
    every period), then by how much (an order's size is a habit of the item and its buyers, how
    often it is ordered follows the business). The bootstrap had kept the history's own level:
    on Superstore by sub-category from 2022-10-10, bootstrapped (R, S) points averaged 44-90 %
    of their forecast over the history since their first sale, and their plans delivered
    84.1 % where they expected 99.0 % on the forecast's demand.

    A history above its forecast is left as it is: thinned to a tiny forecast, few draws keep
    any demand, and a tiny point's expected fill rate varied by 0.038 from one seed to the next
    (0.0049 unthinned); planned on the history, a falling item errs on the side of service.
    Its largest demand, the level's cap, is brought down only where the item has lapsed: its
    forecast under ``LAPSED_SHARE`` of the history's rate, and no sale for longer than the
    history ever paused (``lapsed_factor``)."""
    share = h.start[rows]
    mean = history_rates(h, rows)
    ratio = np.divide(mu, mean, out=np.ones(rows.size), where=mean > 0)
    want = share * np.maximum(ratio, 1.0)  # the share of periods selling at the history's sizes
    busy = np.minimum(want, 1.0)
    add = np.divide(busy - share, 1.0 - share, out=np.zeros(rows.size), where=share < 1.0)
    return Level(add=np.clip(add, 0.0, 1.0), size=np.maximum(want, 1.0))


def draw_intervals(
    h: Histories,
    rows: np.ndarray,
    lengths: list[np.ndarray],
    rng: np.random.Generator | RowStreams,
    draws: int,
    level: Level | None = None,
) -> list[np.ndarray]:
    """Demand over each of ``lengths`` (periods, real; one per row, or one per row and draw)
    from the start of one drawn path per draw: the intervals share their periods, so a longer
    one holds at least a shorter one's demand. The (s, Q) fill rate is a difference between the
    lead time's and the lead time + review's expected shortages; drawn apart, with a nightly
    review (a seventh of a weekly period), that difference was smaller than their sampling
    noise and often came out as no shortage at all: levels of 0 promised a fill rate of 1."""
    m = rows.size
    # A length per row (m,) or per row and draw (m, draws): a lead time drawn for each path.
    lengths = [x if x.ndim == 2 else x[:, None] for x in lengths]
    fulls = [np.floor(x + 1e-9).astype(np.int64) for x in lengths]
    fracs = [np.clip(x - f, 0.0, 1.0) for x, f in zip(lengths, fulls, strict=True)]
    fracs = [np.where(f < 1e-9, 0.0, f) for f in fracs]
    steps = max(
        int(f.max(initial=0)) + int(bool((r > 0).any())) for f, r in zip(fulls, fracs, strict=True)
    )
    totals = [np.zeros((m, draws)) for _ in lengths]
    state = rng.random((m, draws)) < h.start[rows][:, None]
    p01, p11 = h.p01[rows][:, None], h.p11[rows][:, None]
    count, offset = h.count[rows][:, None], h.offset[rows][:, None]
    for t in range(steps):
        if t:
            u = rng.random((m, draws))
            state = np.where(state, u < p11, u < p01)
        pick = rng.random((m, draws))
        add = rng.random((m, draws)) if level is not None else None
        demand = _sizes(h, offset, count, state, pick, add, rng.standard_normal((m, draws)), level)
        # A fraction of a period holds the whole period's demand with that probability (a
        # slow item's non-zero period is mostly one order, on one day); one draw decides for
        # every interval, so the intervals stay nested.
        keep = rng.random((m, draws))
        for total, full, frac in zip(totals, fulls, fracs, strict=True):
            inside = (t < full) | ((t == full) & (frac > 0) & (keep < frac))
            total += np.where(inside, demand, 0.0)
    return totals


def _sizes(
    h: Histories,
    offset: np.ndarray,
    count: np.ndarray,
    state: np.ndarray,
    pick: np.ndarray,
    add: np.ndarray | None,
    z: np.ndarray,
    level: Level | None,
) -> np.ndarray:
    """A period's demand from its uniforms: a size picked (``pick``) from the point's non-zero
    periods (``offset``, ``count`` broadcast against the draws), brought to the forecast's
    level, jittered (``z``), where the chain's ``state`` (or, brought up, ``add``) sells."""
    at = offset + np.minimum((pick * count).astype(np.int64), count - 1)
    x = h.sizes[np.minimum(at, max(h.sizes.size - 1, 0))] if h.sizes.size else 0.0
    sells = state
    if level is not None:
        assert add is not None
        x = x * level.size[:, None]
        sells = state | (add < level.add[:, None])
    x = np.rint(x)  # whole units (a size under half a unit counts as 0, jittered to 1)
    jitter = 1.0 + np.trunc(x + z * np.sqrt(x))
    return np.where(sells, np.where(jitter > 0, jitter, x), 0.0)


class PeriodPaths:
    """One long path of demand per period for each of ``rows``, continued call after call
    (``next``), each row from its own stream (``seed``, the point's ``streams``, ``purpose``):
    the chain, sizes and level of ``draw_intervals``, so a replay (``sim.simulate``) meets the
    demand a bootstrapped plan was made for, and a row's path does not depend on the rows
    drawn with it."""

    def __init__(
        self, h: Histories, rows: np.ndarray, *, seed: int, purpose: int, level: Level | None
    ) -> None:
        self._h, self._rows, self._level = h, rows, level
        self._gens = stream_generators(seed, h.streams[rows], purpose)
        self._state: np.ndarray | None = None

    def next(self, periods: int, substeps: int = 1) -> np.ndarray:
        """The path's next ``periods`` periods in ``substeps`` steps each: (periods x substeps,
        rows) whole units. A period's demand lands whole on one of its steps, uniformly (the
        fraction rule of ``draw_intervals``: a slow item's period is mostly one order)."""
        h, r, m = self._h, self._rows, self._rows.size
        # The chain's, the size's, the level's and the step's uniforms, then the jitter.
        u = np.empty((4, m, periods))
        for i, g in enumerate(self._gens):
            u[:, i, :] = g.random((4, periods))
        z = np.empty((m, periods))
        for i, g in enumerate(self._gens):
            z[i] = g.standard_normal(periods)
        state = np.empty((m, periods), dtype=bool)
        prev = self._state
        p01, p11, start = h.p01[r], h.p11[r], h.start[r]
        for t in range(periods):
            # The first period from the chain's stationary distribution, as a plan's draws.
            prev = u[0, :, t] < (start if prev is None else np.where(prev, p11, p01))
            state[:, t] = prev
        self._state = prev
        add = u[2] if self._level is not None else None
        demand = _sizes(
            h, h.offset[r][:, None], h.count[r][:, None], state, u[1], add, z, self._level
        )
        out = np.zeros((periods, substeps, m))
        on = np.minimum((u[3] * substeps).astype(np.int64), substeps - 1)  # (m, periods)
        out[np.arange(periods)[None, :], on, np.arange(m)[:, None]] = demand
        return out.reshape(periods * substeps, m)


def draw_leads(
    lead: np.ndarray,
    lead_sd: np.ndarray,
    period_days: float,
    rng: np.random.Generator | RowStreams,
    draws: int,
) -> np.ndarray:
    """Each draw's lead time in periods, (rows, draws): normal(lead, lead_sd) rounded to whole
    days of ``period_days``, at least 0, the model of the rationing's cycles and of ``--simulate``
    (whose lead-time demand has the fitted plan's variance L sd^2 + mean^2 sd_L^2); a row whose
    ``lead_sd`` is 0 keeps ``lead``, unrounded."""
    days, sd_days = lead * period_days, lead_sd * period_days
    z = rng.standard_normal((lead.size, draws))
    drawn = whole_day_leads(days[:, None], sd_days[:, None], z) / period_days
    return np.where(sd_days[:, None] > 0, drawn, lead[:, None])


def empirical_pmf(samples: np.ndarray, width: int) -> np.ndarray:
    """Row-wise pmf of integer samples on 0..width-1 (samples beyond are not expected)."""
    m, draws = samples.shape
    idx = np.clip(samples.astype(np.int64), 0, width - 1) + (np.arange(m) * width)[:, None]
    counts = np.bincount(idx.ravel(), minlength=m * width).reshape(m, width)
    return counts / draws


def grid_step(need: np.ndarray, width: int = GRID_WIDTH) -> np.ndarray:
    """Per row, the smallest power of ten s putting ``need`` units on ``width`` cells of s units.

    A power of ten keeps the plan proportional to the unit: demand in grams plans 1000 times
    the levels in kilograms (at most one step apart), on a grid as wide.
    """
    over = np.maximum(np.asarray(need, dtype=float) / (width - 32), 1.0)
    step = 10.0 ** np.ceil(np.log10(over) - 1e-12)
    # log10 may land a hair under a whole power: one more step where it still does not fit.
    return np.where(need / step > width - 32, step * 10.0, step)


@dataclass(frozen=True)
class Levels:
    """What the bootstrap gives each of its rows (aligned with the rows asked for)."""

    level: np.ndarray
    fill: np.ndarray
    csl: np.ndarray
    avg_inventory: np.ndarray
    capped: np.ndarray  # the target asked for more than the cap


@dataclass(frozen=True)
class ChunkPmfs:
    """Demand over the protection interval, the lead time and one review of a chunk's rows, on
    one grid of ``width`` cells of ``step`` units each (``grid_step``), with Q and the cap in
    those steps."""

    pmf_t: np.ndarray
    pmf_l: np.ndarray
    pmf_r: np.ndarray
    step: np.ndarray
    q: np.ndarray
    cap: np.ndarray
    width: int


def exact_pmfs(
    h: Histories,
    i: int,
    *,
    lead: float,
    review: float,
    lead_sd: float,
    period_days: float,
    add: float,
    factor: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """One point's demand over the protection interval, the lead time and a review, exactly, on
    whole units up to where the interval's cdf reaches 1 - ``chain_pmf.TAIL`` (``chain_pmf``):
    the distributions its draws estimate. None where the grid would pass ``EXACT_WIDTH``.
    ``add``, ``factor``: its ``Level`` (0 and 1 where the history is not brought up)."""
    from segchain.stock import chain_pmf

    sizes = np.rint(h.sizes[h.offset[i] : h.offset[i] + h.count[i]] * factor)
    leads, weights = chain_pmf.lead_weights(lead, lead_sd, period_days)
    periods = max(chain_pmf.periods_needed(leads, review), 1)
    reach = chain_pmf.size_reach(sizes)
    width = periods * (reach - 1) + 1
    if width > EXACT_WIDTH:
        return None
    size = chain_pmf.jittered_size_pmf(sizes, reach)
    sums = chain_pmf.chain_sum_pmfs(h.p01[i], h.p11[i], h.start[i], add, size, periods, width)
    pmf_t, pmf_l, pmf_r = chain_pmf.protection_pmfs(sums, leads, weights, review)
    end = max(chain_pmf.grid_end(pmf_t), chain_pmf.grid_end(pmf_r)) + 1
    return pmf_t[:end], pmf_l[:end], pmf_r[:end]


@dataclass(frozen=True)
class Asked:
    """What the level search asks of some rows of ``Histories`` (``rows``): lead time, review
    and lead-time sd in periods, Q and the cap in units, the level brought to (``level_to``)."""

    rows: np.ndarray
    lead: np.ndarray
    review: np.ndarray
    lead_sd: np.ndarray
    q: np.ndarray
    cap: np.ndarray
    level: Level | None

    def take(self, at: np.ndarray) -> Asked:
        return Asked(
            rows=self.rows[at],
            lead=self.lead[at],
            review=self.review[at],
            lead_sd=self.lead_sd[at],
            q=self.q[at],
            cap=self.cap[at],
            level=None if self.level is None else self.level.take(at),
        )


def _chunk_pmfs(
    h: Histories, a: Asked, *, periodic: bool, period_days: float, seed: int
) -> ChunkPmfs:
    """The pmfs of a chunk's rows: exact (``exact_pmfs``) where they fit a grid of whole units,
    else from the draws (``_drawn_pmfs``), on one grid as wide as its widest row needs."""
    exact: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for j, i in enumerate(a.rows):
        got = exact_pmfs(
            h,
            int(i),
            lead=float(a.lead[j]),
            review=float(a.review[j]),
            lead_sd=float(a.lead_sd[j]),
            period_days=period_days,
            add=0.0 if a.level is None else float(a.level.add[j]),
            factor=1.0 if a.level is None else float(a.level.size[j]),
        )
        # Exact only on a grid of single units: a coarser step rounds the draws' totals up
        # (``_drawn_pmfs``), which a convolution of the periods' pmfs cannot do. Its demand
        # reaches to a tail of 1e-12, where 16,000 draws reach 1/16,000, so its grid may pass
        # ``GRID_WIDTH`` where the draws' did not (one point of the demo: DC-MUC 00061, S 1,666).
        if got is not None and got[0].size + (0 if periodic else a.q[j]) + 2 <= EXACT_WIDTH:
            exact[j] = got
    n = a.rows.size
    drawn = np.array([j for j in range(n) if j not in exact], dtype=np.int64)
    step, q_part, cap_part = np.ones(n), a.q.copy(), a.cap.copy()
    widths = [e[0].size + (0 if periodic else int(a.q[j])) + 2 for j, e in exact.items()]
    sampled = None
    if drawn.size:
        sampled = _drawn_pmfs(
            h, a.take(drawn), periodic=periodic, period_days=period_days, seed=seed
        )
        step[drawn], q_part[drawn], cap_part[drawn] = sampled.step, sampled.q, sampled.cap
        widths.append(sampled.width)
    w = int(math.ceil(max(widths) / 32.0) * 32)
    grids = [np.zeros((n, w)) for _ in range(3)]
    for j, pmfs in exact.items():
        for grid, pmf in zip(grids, pmfs, strict=True):
            grid[j, : pmf.size] = pmf
    if sampled is not None:
        for grid, pmf in zip(grids, (sampled.pmf_t, sampled.pmf_l, sampled.pmf_r), strict=True):
            grid[drawn, : pmf.shape[1]] = pmf
    pmf_t, pmf_l, pmf_r = grids
    return ChunkPmfs(pmf_t, pmf_l, pmf_r, step=step, q=q_part, cap=cap_part, width=w)


def _drawn_pmfs(
    h: Histories, a: Asked, *, periodic: bool, period_days: float, seed: int
) -> ChunkPmfs:
    """The pmfs of rows whose exact grid would be too wide, from ``DRAWS`` paths each
    (``draw_intervals``), on a grid of ``grid_step`` units per cell."""
    r, lead, review, lead_sd, level = a.rows, a.lead, a.review, a.lead_sd, a.level
    # Each point's own streams: the paths over the lead time and the interval, and the
    # review's apart (how many numbers the paths take depends on the chunk's longest one).
    paths = RowStreams(seed, h.streams[r], purpose=0)
    reviews = RowStreams(seed, h.streams[r], purpose=1)
    lead_part, review_part = lead, review
    if (lead_sd > 0).any():
        # The lead times from streams of their own: a row without a lead-time sd keeps its
        # paths' numbers, and its levels to the last digit.
        leads = RowStreams(seed, h.streams[r], purpose=3)
        lead_part = draw_leads(lead_part, lead_sd, period_days, leads, DRAWS)
        review_part = review_part[:, None]
    d_l, d_t = draw_intervals(h, r, [lead_part, lead_part + review_part], paths, DRAWS, level)
    d_r = draw_interval(h, r, review, reviews, DRAWS, level)
    q_part, cap_part = a.q, a.cap
    need = np.maximum(d_t.max(axis=1, initial=0.0), d_r.max(axis=1, initial=0.0))
    step = grid_step(need + (0 if periodic else q_part) + 2)
    coarse = step > 1
    if coarse.any():
        # A row's own step, its demand in steps rounded up: a level of L steps meets the
        # cycle's target exactly where L * step units do, and its shortage is not
        # understated. Q and the cap are rounded down (no level past the cap); the results
        # are brought back to units below. A row of step 1 keeps its draws as they are.
        in_steps = coarse[:, None]
        d_t, d_l, d_r = (np.where(in_steps, np.ceil(d / step[:, None]), d) for d in (d_t, d_l, d_r))
        q_part = np.where(coarse, np.maximum(np.floor(q_part / step), 1.0), q_part)
        cap_part = cap_part / step
    top = max(d_t.max(initial=0.0), d_r.max(initial=0.0))
    w = int(math.ceil((top + (0 if periodic else q_part.max()) + 2) / 32.0) * 32)
    pmf_t, pmf_l, pmf_r = (empirical_pmf(d, w) for d in (d_t, d_l, d_r))
    return ChunkPmfs(pmf_t, pmf_l, pmf_r, step=step, q=q_part, cap=cap_part, width=w)


def bootstrap_levels(
    h: Histories,
    rows: np.ndarray,
    *,
    periodic: bool,
    lead: np.ndarray,
    review: np.ndarray,
    fill: np.ndarray,
    target: np.ndarray,
    q: np.ndarray,
    cap: np.ndarray,
    seed: int,
    level: Level | None = None,
    hold: bool = False,
    lead_sd: np.ndarray | None = None,
    period_days: float = 7.0,
) -> Levels:
    """The smallest integer level meeting each row's target on its bootstrap distribution.

    ``lead`` and ``review`` in forecast periods (for ``rows``); demand over the lead time, the
    protection interval (lead + review) and the review computed exactly from the bootstrap's
    model (``exact_pmfs``), so a level and its expected service do not move with ``seed``:
    from 16,000 draws a slow point's fill rate had moved by up to 0.098 between seeds 0-3
    (Superstore by product). A row whose grid would be too wide for that (``EXACT_WIDTH``, or a
    step of more than one unit: ``grid_step``) is estimated from ``DRAWS`` paths, the lead time
    and the interval from the same paths (``draw_intervals``), the review from its own.
    The fill rate is against the bootstrap's mean demand per review; the (s, Q) CSL counts the
    undershoot from the review's draws, as for fitted distributions (``levels.pmf_levels``).
    No level exceeds ``cap`` (the history's largest demand over the interval): where the target
    asks for more, the level is the cap and the expected service is what it gives. ``hold``:
    every level is the cap (``capped`` where the target asks for more), with its service.
    ``level``: the draws brought to each row's forecast (``level_to``).
    ``lead_sd`` (periods, for ``rows``): each path's lead time drawn from normal(lead, lead_sd)
    in whole days of ``period_days`` (``draw_leads``), as the fitted plan's variance and the
    rationing's cycles have it; a row without one keeps its fixed lead time and its draws.
    Mean on hand: level - mean demand over the interval + half a cycle + mean backorders (the
    mean of E[(D - y)^+] over the lead time and the interval, y = S, or uniform on (s, s + Q]).
    """
    from segchain.stock.levels import grid_loss, pmf_levels, pmf_service

    zeros = np.zeros(rows.size)
    out = Levels(
        level=zeros.copy(),
        fill=zeros.copy(),
        csl=zeros.copy(),
        avg_inventory=zeros.copy(),
        capped=np.zeros(rows.size, dtype=bool),
    )
    qi = np.maximum(np.rint(q), 1.0)
    for start in range(0, rows.size, CHUNK):
        part = np.arange(start, min(start + CHUNK, rows.size))
        lv = None if level is None else level.take(part)
        sd_part = lead_sd[part] if lead_sd is not None else np.zeros(part.size)
        asked = Asked(
            rows=rows[part],
            lead=lead[part],
            review=review[part],
            lead_sd=sd_part,
            q=qi[part],
            cap=cap[part],
            level=lv,
        )
        grids = _chunk_pmfs(h, asked, periodic=periodic, period_days=period_days, seed=seed)
        pmf_t, pmf_l, pmf_r = grids.pmf_t, grids.pmf_l, grids.pmf_r
        step, q_part, cap_part, w = grids.step, grids.q, grids.cap, grids.width
        k = np.arange(w, dtype=float)
        mean_t, mean_l, mean_r = ((p * k).sum(axis=1) for p in (pmf_t, pmf_l, pmf_r))
        allowed = (1.0 - target[part]) * mean_r
        for kind in (True, False):
            sel = np.flatnonzero(fill[part] == kind)
            if not sel.size:
                continue
            found, lev, _, _ = pmf_levels(
                not periodic,
                fill=kind,
                pmf_t=pmf_t[sel],
                pmf_l=pmf_l[sel],
                pmf_1=pmf_r[sel],
                mean_t=mean_t[sel],
                mean_l=mean_l[sel],
                target=target[part][sel],
                allowed=allowed[sel],
                qi=q_part[sel],
            )
            # The grid reaches past every draw: a level is always found.
            lev = np.where(found, lev, w - 1.0)
            top_level = np.floor(cap_part[sel] + 1e-9)
            out.capped[part[sel]] = lev > top_level
            lev = top_level if hold else np.minimum(lev, top_level)
            csl, short = pmf_service(
                not periodic,
                lev,
                pmf_t=pmf_t[sel],
                pmf_l=pmf_l[sel],
                pmf_1=pmf_r[sel],
                mean_t=mean_t[sel],
                mean_l=mean_l[sel],
                qi=q_part[sel],
            )
            at = part[sel]
            out.level[at] = lev
            out.csl[at] = csl
            mr = mean_r[sel]
            out.fill[at] = np.where(mr > 0, 1.0 - short / np.maximum(mr, 1e-300), 1.0)
        loss_t = grid_loss(np.cumsum(pmf_t, axis=1), mean_t, k)
        loss_l = grid_loss(np.cumsum(pmf_l, axis=1), mean_l, k)
        lev = out.level[part].astype(np.int64)
        if periodic:
            at = np.minimum(lev, w - 1)[:, None]
            back = (
                0.5
                * (np.take_along_axis(loss_t, at, axis=1) + np.take_along_axis(loss_l, at, axis=1))[
                    :, 0
                ]
            )
            cycle = mean_r
        else:
            both = 0.5 * (loss_t + loss_l)
            cum = np.concatenate([np.zeros((part.size, 1)), np.cumsum(both, axis=1)], axis=1)
            qq = q_part.astype(np.int64)
            hi = np.minimum(lev + qq, w - 1)
            lo = np.minimum(lev, w - 1)
            back = (cum[np.arange(part.size), hi + 1] - cum[np.arange(part.size), lo + 1]) / qq
            # Whole units: the position after ordering is uniform on s+1, ..., s+Q.
            cycle = q_part + 1.0 + mean_r
        out.avg_inventory[part] = np.maximum(lev - mean_t + cycle / 2.0 + back, 0.0) * step
        out.level[part] = out.level[part] * step
    return out
