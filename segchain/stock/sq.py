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
# An order quantity under this share of the demand's spread over L + 1 periods is a sliver: the
# shortage is read from the losses' slope at the middle of (s, s + Q] (normal_sq_shortage).
SLIVER = 1e-5


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


def undershoot_fit_fails(mean: Any, var: Any) -> np.ndarray:
    """Rows where ``undershoot_moments`` has no variance to give: E[U^2] < E[U]^2, from a
    squared coefficient of variation above 1 + 2/sqrt(3) ~ 2.15 (the normal third moment
    misfits such a D), so it clips the variance to 0 and leaves a point mass at E[U], which is
    huge: (var + mean^2)/(2 mean) is 1e19 units at a mean of 0.7 and a variance of 1.4e19."""
    mean = np.asarray(mean, dtype=float)
    var = np.asarray(var, dtype=float)
    safe = np.where(mean > 0, mean, 1.0)
    e_u = (var + mean**2) / (2.0 * safe)
    e_u2 = (mean**2 + 3.0 * var) / 3.0
    return (mean > 0) & (e_u2 < e_u**2)


# Block sums of a tail, sum over j = a .. a + Q - 1 of P(D > j): the block is cut into cells
# one unit long up to 16, then 32 cells growing geometrically to Q (33 from 1e-12 Q to Q for a
# continuous D).
_CELLS_EXACT = 16
_CELLS_GEOMETRIC = 32


def _block_tail_sums(
    tail: Any, a: np.ndarray, q: np.ndarray, *, continuous: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds on sum_{j=a}^{a+Q-1} P(D > j) (the integral from a to a + Q for
    a continuous D), per row of ``a`` (rows x starts), from ``tail`` (P(D > x) for x of the
    same rows, any number of columns) at the cells' ends: P(D > j) decreases, so a cell's sum
    lies between its length times the tail at its last point and at its first. Tails only,
    so the bounds hold where P(D > 0) is 1e-18 (1 - cdf is 0 there)."""
    a = np.asarray(a, dtype=float)
    q = np.asarray(q, dtype=float)[:, None]
    steps = np.arange(1, _CELLS_GEOMETRIC + 1)[None, :] / _CELLS_GEOMETRIC
    if continuous:
        cuts = np.concatenate([np.zeros_like(q), q * 1e-12 ** (1.0 - steps)], axis=1)
        first, length = cuts[:, :-1], np.diff(cuts, axis=1)
        last = cuts[:, 1:]
    else:
        exact = np.minimum(np.arange(_CELLS_EXACT + 1.0)[None, :], q)
        top = np.maximum(q, _CELLS_EXACT)
        grown = np.minimum(np.ceil(_CELLS_EXACT * (top / _CELLS_EXACT) ** steps), q)
        cuts = np.maximum.accumulate(np.concatenate([exact, grown], axis=1), axis=1)
        first, length = cuts[:, :-1], np.diff(cuts, axis=1)
        last = first + np.maximum(length - 1.0, 0.0)
    # rows x starts x cells, in one call of the tail.
    n, k, c = a.shape[0], a.shape[1], first.shape[1]
    at_first = a[:, :, None] + first[:, None, :]
    at_last = a[:, :, None] + last[:, None, :]
    both = tail(np.concatenate([at_first, at_last], axis=2).reshape(n, -1)).reshape(n, k, 2 * c)
    w = length[:, None, :]
    return (w * both[:, :, c:]).sum(axis=2), (w * both[:, :, :c]).sum(axis=2)


def undershoot_csl_bounds(
    x: np.ndarray,
    tail_1: Any,
    cdf_l: Any,
    q: np.ndarray,
    *,
    continuous: bool,
    cuts: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds on the (s, Q) CSL P(D_L + U <= x), U the undershoot of s, from
    the tails of D_1 (``tail_1``) and the cdf of D_L (``cdf_l``), one row each; both take
    arrays of rows x points.

    P(U > y) = sum_{j=y+1}^{y+Q} P(D_1 > j) / sum_{j<Q} P(D_1 > j) (Hadley & Whitin; for a
    continuous D_1 the integral from y to y + Q over the one from 0 to Q), each sum bounded by
    ``_block_tail_sums``. D_L and U are independent: cutting 0..x at t_0 = 0 < ... < t_K = x,
    sum_k P(t_{k-1} < D_L <= t_k) P(U <= x - t_k) <= P(D_L + U <= x) <= the same sum with
    P(U <= x - t_{k-1}) (Stieltjes sums; t_{-1} = 0), the cuts packed near 0 and near x,
    where either cdf moves fastest, and evenly between.
    """
    x = np.asarray(x, dtype=float)
    q = np.asarray(q, dtype=float)
    n = x.size
    steps = np.geomspace(1e-9, 0.5, cuts)
    frac = np.unique(np.concatenate([steps, 1.0 - steps, np.linspace(0.0, 1.0, 2 * cuts + 1)]))
    t = x[:, None] * frac[None, :]
    if not continuous:
        t = np.floor(t)
    # D_L in (t_{k-1}, t_k]: for integers at least t_{k-1} + 1; the first cell is D_L <= 0.
    before = np.concatenate([np.zeros((n, 1)), t[:, :-1] + (0.0 if continuous else 1.0)], 1)
    before[:, 0] = 0.0
    ys = np.concatenate([x[:, None] - t, x[:, None] - before, np.zeros((n, 1))], axis=1)
    start = np.where(ys[:, :-1] < 0, 0.0, ys[:, :-1] if continuous else np.floor(ys[:, :-1]) + 1)
    start = np.concatenate([np.maximum(start, 0.0), np.zeros((n, 1))], axis=1)
    t_lo, t_hi = _block_tail_sums(tail_1, start, q, continuous=continuous)
    norm_lo = np.maximum(t_lo[:, -1:], 1e-300)
    norm_hi = np.maximum(t_hi[:, -1:], 1e-300)
    # Bounds on P(U <= y) at each y (0 where y < 0).
    neg = ys[:, :-1] < 0
    p_lo = np.where(neg, 0.0, np.clip(1.0 - t_hi[:, :-1] / norm_lo, 0.0, 1.0))
    p_hi = np.where(neg, 0.0, np.clip(1.0 - t_lo[:, :-1] / norm_hi, 0.0, 1.0))
    k = frac.size
    f = np.maximum.accumulate(cdf_l(t), axis=1)
    mass = np.diff(f, axis=1, prepend=0.0)
    lo = (mass * p_lo[:, :k]).sum(axis=1)
    hi = (mass * p_hi[:, k:]).sum(axis=1)
    return np.clip(lo, 0.0, 1.0), np.clip(np.maximum(hi, lo), 0.0, 1.0)


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

    Where Q is a sliver of the demand's spread that difference of two G2-losses (of size sd^2)
    keeps only its rounding: its relative error grows as 2^-52 x sd / Q, 8e-10 at Q = 6e-6 sd,
    19 % at 6e-15 sd (an order quantity of 145 against 1e15 units a week for ten years' lead
    time planned a safety stock of -1.55e17 with an expected fill rate of 1.0). There the mean of
    A' over (s, s + Q] is taken at its midpoint instead, G1-loss over L + 1 minus over L, whose
    error is (Q / sd)^2 / 24 relative: both are under 2e-11 where they meet (Q = 1e-5 sd).
    """
    t1, t2 = normal_losses(x, mean_t, sd_t)
    u1, u2 = normal_losses(x + q, mean_t, sd_t)
    l1, l2 = normal_losses(x, mean_l, sd_l)
    v1, v2 = normal_losses(x + q, mean_l, sd_l)
    short = np.maximum((t2 - u2) - (l2 - v2), 0.0) / q
    slope = ((u1 - v1) - (t1 - l1)) / q
    sliver = q < SLIVER * sd_t
    if sliver.any():
        mid = x + 0.5 * q
        m1, _ = normal_losses(mid, mean_t, sd_t)
        n1, _ = normal_losses(mid, mean_l, sd_l)
        short = np.where(sliver, np.maximum(m1 - n1, 0.0), short)
        slope = np.where(sliver, _beyond(mid, mean_l, sd_l) - _beyond(mid, mean_t, sd_t), slope)
    return short, slope


def _beyond(x: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """P(D > x) for normal(mean, sd) demand, a point mass where sd = 0: minus the slope of the
    G1-loss at x."""
    from scipy.special import ndtr

    safe = np.where(sd > 0, sd, 1.0)
    return np.where(sd > 0, ndtr((mean - x) / safe), (x < mean).astype(float))


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
        # Far above the demand the shortage is flat to the last bit (slope -1e-300 or so) and
        # the step overflows to infinity: the clip below brings it back to the range's end.
        with np.errstate(over="ignore"):
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


# Composite Gauss-Legendre rule of ``gamma_undershoot_csl``: nodes per panel, and the
# panels' cuts (fractions of the level near its ends, standard deviations about the bulks).
_GL_NODES = 8
_CUTS_GEOMETRIC = 20
_CUTS_UNIFORM = 16
_Z_LEAD = np.linspace(-7.0, 7.0, 15)
_Z_DAY = np.linspace(-4.0, 4.0, 9)


def gamma_undershoot_csl(
    x: np.ndarray,
    q: np.ndarray,
    *,
    mean_1: np.ndarray,
    var_1: np.ndarray,
    mean_l: np.ndarray,
    var_l: np.ndarray,
) -> np.ndarray:
    """(s, Q) CSL P(D_L + U <= x) with gamma demand per look (D_1) and over the lead time (D_L;
    a point mass at 0 where its mean is 0), by quadrature.

    U, the undershoot of s, has the density f_U(u) = P(u < D_1 <= u + Q)/E[min(D_1, Q)]
    (Hadley & Whitin), so the CSL is the integral over 0..x of P(D_L <= x - u) f_U(u) du, taken
    by an 8-point Gauss-Legendre rule on panels cut geometrically towards 0 (a gamma day of
    shape < 1 has an unbounded density there) and towards x (so has D_L's), evenly between, and
    every few standard deviations across the bulk of D_L (u = x - D_L) and of D_1 (u = D_1 and
    D_1 - Q, where f_U falls): within 1e-9 of scipy's adaptive quadrature.

    The moment fit capped at P(D_{L+1} <= x) that it replaces over-states the CSL where a day's
    demand has a decreasing failure rate (a lumpy day, gamma shape < 1): its undershoot is then
    stochastically larger than a day's demand (0.9501 reported where it is 0.9452).
    """
    from scipy import special

    x = np.asarray(x, dtype=float)
    q = np.asarray(q, dtype=float)
    n = x.size
    sd_1, sd_l = np.sqrt(var_1), np.sqrt(var_l)
    ends = np.geomspace(1e-12, 0.5, _CUTS_GEOMETRIC)
    frac = np.concatenate([[0.0], ends, 1.0 - ends, np.linspace(0.0, 1.0, _CUTS_UNIFORM + 1)])
    cuts = np.concatenate(
        [
            x[:, None] * frac[None, :],
            (x - mean_l)[:, None] - sd_l[:, None] * _Z_LEAD[None, :],
            mean_1[:, None] + sd_1[:, None] * _Z_DAY[None, :],
            (mean_1 - q)[:, None] + sd_1[:, None] * _Z_DAY[None, :],
        ],
        axis=1,
    )
    cuts = np.sort(np.clip(cuts, 0.0, np.maximum(x, 0.0)[:, None]), axis=1)
    nodes, weights = np.polynomial.legendre.leggauss(_GL_NODES)
    half = np.diff(cuts, axis=1) / 2.0
    mid = (cuts[:, 1:] + cuts[:, :-1]) / 2.0
    u = (mid[:, :, None] + half[:, :, None] * nodes[None, None, :]).reshape(n, -1)
    w = (half[:, :, None] * weights[None, None, :]).reshape(n, -1)
    a1 = (mean_1 * mean_1 / var_1)[:, None]
    b1 = (var_1 / mean_1)[:, None]
    norm = (mean_1 * special.gammainc(a1[:, 0] + 1.0, q / b1[:, 0])) + q * special.gammaincc(
        a1[:, 0], q / b1[:, 0]
    )
    # P(u < D_1 <= u + Q) as a difference of cdfs, each within 1e-16, so the CSL within
    # 2e-16 x/E[min(D_1, Q)]; rows where that could exceed 1e-11 (a huge variance leaves
    # E[min(D_1, Q)] tiny) take the difference of tails, exact there (gammaincc is 50 times
    # slower at shape 0.1, so only there).
    lo, hi = special.gammainc(a1, u / b1), special.gammainc(a1, (u + q[:, None]) / b1)
    density = hi - lo
    far = np.flatnonzero(x > 5e4 * norm)
    if far.size:
        a, b = a1[far], b1[far]
        density[far] = special.gammaincc(a, u[far] / b) - special.gammaincc(
            a, (u[far] + q[far, None]) / b
        )
    pos = mean_l > 0
    al = np.where(pos, mean_l * mean_l / np.where(pos, var_l, 1.0), 1.0)[:, None]
    bl = np.where(pos, var_l / np.where(pos, mean_l, 1.0), 1.0)[:, None]
    v = x[:, None] - u
    cdf_l = np.where(pos[:, None], special.gammainc(al, np.maximum(v, 0.0) / bl), 1.0)
    csl = (w * np.maximum(density, 0.0) * cdf_l).sum(axis=1) / np.maximum(norm, 1e-300)
    return np.where(x < 0, 0.0, np.clip(csl, 0.0, 1.0))
