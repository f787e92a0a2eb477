"""(s, Q) looked at once per period, i.e. (R = 1 period, s, nQ): the undershoot of s, the exact
shortage per period, and the normal levels that meet a fill rate (Hadley & Whitin ch. 5;
Axsaeter, Inventory Control, sec. 5.3)."""

from __future__ import annotations

from typing import Any

import numpy as np

from segchain.stock.distributions import smallest_level
from segchain.stock.loss_functions import normal_losses

# Newton steps for normal (s, Q) fill-rate levels before the rows left are bisected.
NEWTON_STEPS = 12


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


def normal_sq_shortage(
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
    t1, t2 = normal_losses(x, mean_t, sd_t)
    u1, u2 = normal_losses(x + q, mean_t, sd_t)
    l1, l2 = normal_losses(x, mean_l, sd_l)
    v1, v2 = normal_losses(x + q, mean_l, sd_l)
    short = np.maximum((t2 - u2) - (l2 - v2), 0.0) / q
    slope = ((u1 - v1) - (t1 - l1)) / q
    return short, slope


def normal_sq_levels(
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
        short, slope = normal_sq_shortage(x[i], mean_t[i], sd_t[i], mean_l[i], sd_l[i], q[i])
        step = (short - allowed[i]) / np.minimum(slope, -1e-300)
        new = np.clip(x[i] - step, -1.0, hi[i])
        moving = np.abs(new - x[i]) >= 1e-7
        x[i] = new
        active = i[moving]
        if not active.size:
            break
    level = np.clip(np.ceil(x - 1e-7), 0.0, hi)

    def ok(v: np.ndarray, i: np.ndarray | slice = slice(None)) -> np.ndarray:
        s, _ = normal_sq_shortage(v, mean_t[i], sd_t[i], mean_l[i], sd_l[i], q[i])
        return s <= allowed[i]

    good = ok(level) & ((level <= 0) | ~ok(level - 1.0))
    bad = np.flatnonzero(~good)
    if bad.size:
        level[bad] = smallest_level(lambda v: ok(v, bad), mean_t[bad], sd_t[bad])
    return level


def grid_undershoot_pmf(pmf_1: np.ndarray, q: np.ndarray) -> np.ndarray:
    """P(U = u) on the grid, U the undershoot of s under (R = 1 period, s, nQ).

    After ordering the position is uniform on s+1..s+Q; it then falls by D_1, and an order goes
    out when it reaches s - u <= s: P(U = u) = P(u < D_1 <= u + Q)/E[min(D_1, Q)] (Hadley &
    Whitin), the same for every s.

    The normaliser E[min(D_1, Q)] = sum_{j<Q} P(D_1 > j) is computed exactly (Q < W), not as
    the sum of the pmf over the grid: for over-dispersed items much of the undershoot lies beyond
    the grid, and renormalising the truncated pmf overstated the CSL (bug 4(a): 0.900 reported
    where the true CSL was 0.897). The mass beyond the grid is left out, so P(D_L + U <= x) is
    exact for x on the grid where u + Q stays on it, and never overstated.
    """
    w = pmf_1.shape[1]
    f1 = np.minimum(np.cumsum(pmf_1, axis=1), 1.0)
    up = np.minimum(np.arange(w)[None, :] + q[:, None], w - 1)
    g = np.maximum(np.take_along_axis(f1, up, axis=1) - f1, 0.0)
    below_q = np.arange(w)[None, :] < q[:, None]
    total = np.where(below_q, 1.0 - f1, 0.0).sum(axis=1)
    # No demand per period: no undershoot.
    g[total <= 0, 0] = 1.0
    g /= np.where(total > 0, total, 1.0)[:, None]
    return g


def grid_convolved_cdf(cdf_l: np.ndarray, g: np.ndarray) -> np.ndarray:
    """P(D_L + U <= x) for x on the grid: D_L and U independent, their pmfs convolved by FFT."""
    w = g.shape[1]
    pmf_l = np.diff(cdf_l, axis=1, prepend=0.0)
    n = 2 * w
    conv = np.fft.irfft(np.fft.rfft(pmf_l, n, axis=1) * np.fft.rfft(g, n, axis=1), n, axis=1)
    return np.clip(np.cumsum(np.maximum(conv[:, :w], 0.0), axis=1), 0.0, 1.0)
