"""Demand distributions over an interval: moment fits, cdfs, per-row families, pmf grids, the
smallest level meeting a monotone target, and the lead time drawn where it varies."""

from __future__ import annotations

from typing import Any

import numpy as np

from segchain.stock.loss_functions import dist_loss, dist_loss2, dist_sf

DISTRIBUTIONS = ("normal", "poisson", "negbin", "gamma")


def whole_day_leads(mean: np.ndarray | float, sd: np.ndarray | float, z: np.ndarray) -> np.ndarray:
    """Lead times drawn from normal(``mean``, ``sd``) by standard normal draws ``z``, rounded to
    whole units (days; steps in ``--simulate``), at least 0: the one model of a varying lead
    time, in the bootstrap (``bootstrap.draw_leads``), the rationing's cycles
    (``rationing.sample``), ``--simulate`` and the held-out replay (``heldout``).
    ``mean + sd * z`` is ``Generator.normal(mean, sd)``'s own computation, to the bit."""
    return np.maximum(np.rint(mean + sd * z), 0.0)


def fit_params(dist: str, mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parameters of ``dist`` with the given mean and variance (moment fit).

    poisson: (mu, unused); negbin: (r, p) as scipy's nbinom(n=r, p); gamma: (shape, scale).
    """
    mean = np.asarray(mean, dtype=float)
    var = np.asarray(var, dtype=float)
    if dist == "poisson":
        return mean, np.zeros_like(mean)
    if dist == "negbin":
        p = mean / var
        return mean * p / (1.0 - p), p
    if dist == "gamma":
        return mean * mean / var, var / mean
    raise ValueError(dist)


def dist_cdf(dist: str, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """P(D <= x) for integer x (real x for gamma)."""
    from scipy import special

    x = np.asarray(x, dtype=float)
    if dist == "gamma":
        return special.gammainc(a, np.maximum(x, 0.0) / b)
    xs = np.maximum(x, 0.0)
    # Negative binomial: P(D <= k) = I_p(r, k + 1) (regularised incomplete beta; r is real).
    out = special.pdtr(xs, a) if dist == "poisson" else special.betainc(a, xs + 1.0, b)
    return np.where(x < 0, 0.0, out)


class Fitted:
    """Demand over an interval, one distribution per row, fitted by mean and variance.

    ``family`` per row: poisson, negbin or gamma; rows with a zero mean are a point mass at 0
    and negative binomial rows whose variance does not exceed the mean fall back to Poisson.
    """

    def __init__(self, family: np.ndarray, mean: np.ndarray, var: np.ndarray) -> None:
        mean = np.asarray(mean, dtype=float)
        var = np.asarray(var, dtype=float)
        family = np.asarray(family).astype(object)
        family = np.where((family == "negbin") & (var <= mean * (1 + 1e-9)), "poisson", family)
        family = np.where((family == "gamma") & (var <= 0), "poisson", family)
        self.family = np.where(mean <= 0, "zero", family)
        self.mean = mean
        self.parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []
        for name in ("poisson", "negbin", "gamma"):
            m = np.flatnonzero(self.family == name)
            if m.size:
                a, b = fit_params(name, mean[m], var[m])
                self.parts.append((name, m, a, b))

    def _each(self, x: np.ndarray, fn: Any, zero: Any) -> np.ndarray:
        x = np.broadcast_to(np.asarray(x, dtype=float), self.mean.shape)
        out = zero(x).astype(float)
        for name, m, a, b in self.parts:
            out[m] = fn(name, x[m], a, b)
        return out

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """P(D <= x)."""
        return self._each(x, dist_cdf, lambda x: (x >= 0).astype(float))

    def sf(self, x: np.ndarray) -> np.ndarray:
        """P(D > x), as a tail: exact where it is far below 1e-16 (1 - cdf is 0 there)."""
        return self._each(x, dist_sf, lambda x: (x < 0).astype(float))

    def loss(self, x: np.ndarray) -> np.ndarray:
        """E[(D - x)^+]."""
        return self._each(x, dist_loss, lambda x: np.maximum(-x, 0.0))

    def loss2(self, x: np.ndarray) -> np.ndarray:
        """Second-order loss (``dist_loss2``), for x >= 0."""
        return self._each(x, dist_loss2, lambda x: np.zeros_like(x))


def smallest_level(
    ok: Any, mean: np.ndarray, sd: np.ndarray, hi: np.ndarray | None = None
) -> np.ndarray:
    """The smallest integer level s >= 0 with ``ok(s)``, by vectorised bisection.

    ``ok`` must be monotone (false below the answer, true from it on); the search starts from
    ``hi`` (levels known to meet it), else mean + 8 sd, and doubles the upper bound where
    needed.
    """
    if hi is None:
        hi = np.ceil(np.asarray(mean, dtype=float) + 8.0 * np.asarray(sd, dtype=float) + 8.0)
    hi = np.asarray(hi, dtype=float)
    for _ in range(64):
        bad = ~ok(hi)
        if not bad.any():
            break
        hi = np.where(bad, hi * 2.0, hi)
    lo = np.full_like(hi, -1.0)  # -1 never meets a target: levels start at 0
    while True:
        mid = np.floor((lo + hi) / 2.0)
        # Above 2**53 not every integer is a float: the midpoint can round to an end, and the
        # search stops there (it looped forever on a lead-time demand of 5e17).
        open_ = (hi - lo > 1) & (mid > lo) & (mid < hi)
        if not open_.any():
            break
        mid = np.where(open_, mid, hi)
        good = ok(mid)
        hi = np.where(open_ & good, mid, hi)
        lo = np.where(open_ & ~good, mid, lo)
    return hi


def grid_pmf(family: np.ndarray, mean: np.ndarray, var: np.ndarray, w: int) -> np.ndarray:
    """P(D = k) for k = 0..w-1, one row per (family, mean, variance), in log space.

    Poisson: k*log(m) - m - log(k!); negative binomial (r, p): r*log(p) + k*log(1 - p) +
    sum_{j<k} log(j + r) - log(k!), the pmf recurrence p(k+1) = p(k)*(k + r)*(1 - p)/(k + 1)
    summed in logs so large means do not underflow; 'zero': all mass at 0.
    """
    from scipy.special import gammaln

    out = np.zeros((family.size, w))
    k = np.arange(w, dtype=float)
    log_fact = gammaln(k + 1.0)
    pois = np.flatnonzero(family == "poisson")
    if pois.size:
        m = mean[pois][:, None]
        out[pois] = np.exp(k * np.log(m) - m - log_fact)
    nb = np.flatnonzero(family == "negbin")
    if nb.size:
        r, p = fit_params("negbin", mean[nb], var[nb])
        log_rise = np.zeros((nb.size, w))
        np.cumsum(np.log(k[None, :-1] + r[:, None]), axis=1, out=log_rise[:, 1:])
        log_p = (r * np.log(p))[:, None] + k[None, :] * np.log1p(-p)[:, None]
        out[nb] = np.exp(log_p + log_rise - log_fact)
    zero = np.flatnonzero(family == "zero")
    out[zero, 0] = 1.0
    return out
