"""Exact pmfs of the order-history bootstrap's demand model (``bootstrap``), without drawing it.

The model (``bootstrap``'s docstring): a two-state chain of periods with and without demand,
started from its stationary distribution; a selling period's demand one of the history's sizes,
each equally likely, jittered ``1 + trunc(x + z sqrt(x))``; a fraction f of a period holding the
next period's demand whole with probability f. Its demand over n whole periods is a short
recursion over the chain's state, each step a convolution with the jittered size's pmf; over
n + f periods, the mixture (1 - f) P(S_n) + f P(S_{n+1}). Estimated from 16,000 draws instead,
a slow point's expected fill rate moved with the seed by up to 0.098 (Superstore by product,
2022-10-10, 34 bootstrapped points over seeds 0-3; audit S, S2, session 66).
"""

from __future__ import annotations

import math

import numpy as np

# Reach of the jitter's normal: P(|z| > 9) is 2e-19, under the grid's rounding.
SD_REACH = 9.0
# Mass of the longest interval left past a row's grid (its cdf reaches 1 - TAIL inside it):
# the expected shortage it leaves out is under TAIL times the largest demand.
TAIL = 1e-12


def size_reach(sizes: np.ndarray) -> int:
    """One past the largest jittered size with any mass, for sizes in whole units."""
    top = float(np.max(sizes)) if sizes.size else 0.0
    return int(top + math.ceil(SD_REACH * math.sqrt(top))) + 2


def jittered_size_pmf(sizes: np.ndarray, width: int) -> np.ndarray:
    """pmf on 0..width-1 of a selling period's demand: one of ``sizes`` (whole units, each equally
    likely) jittered to J = 1 + trunc(V), V = x + z sqrt(x) normal, or x itself where J is not
    positive (V <= -1). So P(J = 1) = P(-1 < V < 1), P(J = j) = P(j - 1 <= V < j) for j >= 2,
    and x gains P(V <= -1); a size of 0 is always 1."""
    from scipy.special import ndtr

    out = np.zeros(width)
    xs, counts = np.unique(sizes, return_counts=True)
    weight = counts / counts.sum()
    zero = xs <= 0
    out[1] += weight[zero].sum()
    xs, weight = xs[~zero], weight[~zero]
    if not xs.size:
        return out
    sd = np.sqrt(xs)
    out[1] += (weight * (ndtr((1 - xs) / sd) - ndtr((-1 - xs) / sd))).sum()
    np.add.at(out, xs.astype(np.int64), weight * ndtr((-1 - xs) / sd))
    # j = 2 .. x + 9 sd for every size at once, flattened.
    top = np.minimum(xs + np.ceil(SD_REACH * sd) + 1, width - 1).astype(np.int64)
    reach = np.maximum(top - 1, 0)
    each = np.repeat(np.arange(xs.size), reach)
    j = 2 + np.arange(each.size) - np.repeat(np.cumsum(reach) - reach, reach)
    mass = ndtr((j - xs[each]) / sd[each]) - ndtr((j - 1 - xs[each]) / sd[each])
    out += np.bincount(j, weights=weight[each] * mass, minlength=width)[:width]
    return out


def _convolve(a: np.ndarray, b: np.ndarray, width: int) -> np.ndarray:
    """a * b on 0..width-1 (both pmfs on a grid from 0)."""
    if a.size * b.size <= 1 << 16:
        return np.convolve(a, b)[:width]
    n = 1 << int(math.ceil(math.log2(a.size + b.size - 1)))
    out = np.fft.irfft(np.fft.rfft(a, n) * np.fft.rfft(b, n), n)[:width]
    return np.maximum(out, 0.0)  # the transform's rounding leaves specks below 0


def chain_sum_pmfs(
    p01: float, p11: float, start: float, add: float, size: np.ndarray, periods: int, width: int
) -> np.ndarray:
    """P(S_n = k) for n = 0..``periods`` whole periods, k on 0..width-1: (periods + 1, width).

    The first period's state is the chain's stationary one (``start`` selling); then P(sell |
    sold) ``p11``, P(sell | not) ``p01``. A selling period adds a jittered size (``size``, its
    pmf); a period the chain leaves empty sells all the same with probability ``add`` (a
    history brought up to its forecast, ``bootstrap.level_to``), which does not move the chain.
    """
    out = np.zeros((periods + 1, width))
    out[0, 0] = 1.0
    on = np.zeros(width)
    off = np.zeros(width)
    on[0], off[0] = start, 1.0 - start
    for n in range(1, periods + 1):
        sold = _convolve(on, size, width)
        empty = off if add <= 0 else (1.0 - add) * off + add * _convolve(off, size, width)
        out[n] = sold + empty
        on, off = p11 * sold + p01 * empty, (1.0 - p11) * sold + (1.0 - p01) * empty
    return out


def interval_pmf(sums: np.ndarray, length: float) -> np.ndarray:
    """Demand over ``length`` periods from ``chain_sum_pmfs``: over n + f periods, S_n, and the
    next period's demand whole with probability f (``bootstrap.draw_intervals``'s rule)."""
    full = int(math.floor(length + 1e-9))
    frac = min(max(length - full, 0.0), 1.0)
    if frac < 1e-9:
        return sums[full]
    return (1.0 - frac) * sums[full] + frac * sums[full + 1]


def lead_weights(lead: float, lead_sd: float, period_days: float) -> tuple[np.ndarray, np.ndarray]:
    """Lead times in periods and their probabilities: whole days of normal(lead, lead_sd), at
    least 0, as ``distributions.whole_day_leads`` draws them (``rint`` of the normal: day k has
    P(k - 1/2 < V < k + 1/2), day 0 P(V < 1/2)); ``lead`` itself where ``lead_sd`` is 0."""
    from scipy.special import ndtr

    days, sd = lead * period_days, lead_sd * period_days
    if sd <= 0:
        return np.array([lead]), np.array([1.0])
    lo = max(int(math.floor(days - SD_REACH * sd)), 0)
    k = np.arange(lo, int(math.ceil(days + SD_REACH * sd)) + 1, dtype=float)
    upper = ndtr((k + 0.5 - days) / sd)
    lower = np.where(k == 0, 0.0, ndtr((k - 0.5 - days) / sd))
    p = np.maximum(upper - lower, 0.0)
    keep = p > 0
    return k[keep] / period_days, p[keep] / p[keep].sum()


def protection_pmfs(
    sums: np.ndarray, leads: np.ndarray, weights: np.ndarray, review: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Demand over the lead time, the lead time + review and one review, each (width,): the
    mixture over the lead times ``leads`` (periods) of their intervals' pmfs."""
    pmf_l = sum(w * interval_pmf(sums, x) for x, w in zip(leads, weights, strict=True))
    pmf_t = sum(w * interval_pmf(sums, x + review) for x, w in zip(leads, weights, strict=True))
    return np.asarray(pmf_t), np.asarray(pmf_l), interval_pmf(sums, review)


def periods_needed(leads: np.ndarray, review: float) -> int:
    """Whole periods of ``chain_sum_pmfs`` that every interval's pmf reads."""
    return int(math.floor(float(np.max(leads)) + review + 1e-9)) + 1


def grid_end(pmf: np.ndarray) -> int:
    """The first k where the cdf of ``pmf`` reaches 1 - ``TAIL``: the demand a grid must reach."""
    cdf = np.cumsum(pmf)
    return min(int(np.searchsorted(cdf, 1.0 - TAIL)), pmf.size - 1)
