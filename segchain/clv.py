"""Customer lifetime value: BG/NBD (Fader, Hardie & Lee 2005) and Gamma-Gamma spend per purchase.

Time is measured in weeks inside the models (the unit of the paper, and well conditioned);
callers pass days and horizons in days. Both models are fitted by maximum likelihood with
scipy on the log of their parameters, with the log-likelihood evaluated over all customers at
once (customers sharing the same ``(x, t_x, T)`` are weighted, not repeated).

BG/NBD inputs per customer: ``x`` repeat purchases (distinct purchase days after the first),
``t_x`` time from the first to the last purchase day, ``T`` time from the first purchase day to
the last day of the observation period (both differences of days, as in the paper).
Gamma-Gamma inputs (Fader & Hardie 2013): ``x`` repeat purchases and ``m_x`` the mean value of
those repeat purchases, the first left out (it may differ: on CDNOW, repeat buyers' first day
averaged $36.14, their repeat days $38.81); customers without repeat purchases, or whose repeat
purchases net to nothing (returns, zero-price orders), do not enter the fit and are given the
population mean spend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segchain.errors import DataError
from segchain.formatting import plural

DAYS_PER_WEEK = 7.0
# Bounds on log-parameters keep the optimiser away from overflow on degenerate data.
_LOG_BOUNDS = (-12.0, 12.0)
# Newton steps polishing the Gamma-Gamma maximum (from L-BFGS-B's point 2-7 reached float
# precision on simulated customer bases of 15 to 2,000).
_NEWTON_STEPS = 20
# Damped Newton steps polishing the BG/NBD maximum (see _bgnbd_polish).
_BGNBD_POLISH_STEPS = 60
# Starting (a, b) of the BG/NBD fits (see fit_bgnbd): the paper's, and two U-shaped dropout
# distributions.
_BGNBD_STARTS = ((1.0, 1.0), (0.1, 1.0), (0.1, 0.1))


@dataclass(frozen=True)
class BGNBD:
    """Fitted BG/NBD parameters (time unit: weeks) and the total log-likelihood."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma parameters (spend unit of the data)."""

    p: float
    q: float
    gamma: float
    log_likelihood: float = float("nan")

    @property
    def mean_spend(self) -> float:
        """Population mean spend per purchase, p * gamma / (q - 1)."""
        return self.p * self.gamma / (self.q - 1.0)


def bgnbd_log_likelihood(params: BGNBD, x, t_x, T) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (Fader, Hardie & Lee 2005, equation 6)."""
    from scipy.special import betaln, gammaln

    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)
    base = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    alive = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    repeat = x > 0
    died = np.full_like(x, -np.inf)
    xr = x[repeat]
    died[repeat] = betaln(a + 1.0, b + xr - 1.0) - (r + xr) * np.log(alpha + t_x[repeat])
    return base + np.logaddexp(alive, died)


def fit_bgnbd(x, t_x, T) -> BGNBD:
    """Maximum-likelihood BG/NBD parameters for customers ``(x, t_x, T)`` (weeks).

    Raises:
        DataError: no customer has a repeat purchase (the model is not identified).
    """
    from scipy.optimize import minimize

    data = np.column_stack([np.asarray(v, dtype=float) for v in (x, t_x, T)])
    if data.shape[0] == 0 or not np.any(data[:, 0] > 0):
        raise DataError(
            "cannot fit the CLV model: no customer has a repeat purchase (a second purchase "
            "day) before --as-of",
            hint="drop --clv, or use a longer order history or a later --as-of",
        )
    uniq, counts = np.unique(data, axis=0, return_counts=True)
    ux, ut, uT = uniq[:, 0], uniq[:, 1], uniq[:, 2]
    n = counts.sum()

    def objective(theta: np.ndarray) -> float:
        r, alpha, a, b = np.exp(theta)
        ll = bgnbd_log_likelihood(BGNBD(r, alpha, a, b), ux, ut, uT)
        value = -float(np.dot(counts, ll)) / n
        return value if np.isfinite(value) else 1e300

    def derivatives(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        grad, hess = _bgnbd_derivatives(theta, ux, ut, uT, counts)
        return -grad / n, -hess / n

    # The likelihood has more than one maximum in (a, b): from a = b = 1 (the paper's start)
    # L-BFGS-B ran onto the ridge of no dropout (a -> 0, b -> infinity) where a U-shaped dropout
    # distribution (a, b < 1) fitted simulated customer bases better by up to 5 log-likelihood
    # units. The best of the polished fits from a few starts is kept (the first on a tie).
    mean_age = max(float(np.mean(uT)), 1e-3)
    fits = []
    for a_start, b_start in _BGNBD_STARTS:
        start = np.log([1.0, mean_age, a_start, b_start])
        found = _minimize(objective, start, minimize, jac=lambda theta: derivatives(theta)[0])
        fits.append(_bgnbd_polish(found.x, objective, derivatives))
    theta = min(fits, key=objective)
    r, alpha, a, b = np.exp(theta)
    return BGNBD(r, alpha, a, b, log_likelihood=-objective(theta) * n)


def _minimize(objective, start: np.ndarray, minimize, jac=None):
    bounds = [_LOG_BOUNDS] * len(start)
    best = minimize(objective, start, method="L-BFGS-B", jac=jac, bounds=bounds)
    if best.success:
        return best
    # A Nelder-Mead polish from the L-BFGS-B point when it stopped early (line-search failures
    # on the flat ridges these likelihoods have when the data are thin).
    polish = minimize(
        objective,
        best.x,
        method="Nelder-Mead",
        bounds=bounds,
        options={"xatol": 1e-6, "fatol": 1e-10, "maxiter": 4000},
    )
    return polish if polish.fun <= best.fun else best


def _bgnbd_derivatives(theta, x, t_x, T, weights) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian of the weighted BG/NBD log-likelihood in ``theta`` = log of
    ``(r, alpha, a, b)``.

    Each customer's log-likelihood is written ``M + softplus(D)``: ``M`` that of staying alive
    to ``T``, ``D`` the log-odds of having died after the last purchase (the ``log_odds_dead`` of
    ``bgnbd_p_alive``). Written so, the digamma terms of ``a`` alone cancel out on paper, not in
    floats, which keeps the gradient exact where ``a`` is tiny (a dropout of 0.3 % on Online
    Retail, digamma(a) near -300).
    """
    from scipy.special import digamma, expit, polygamma

    r, alpha, a, b = np.exp(theta)
    repeat = x > 0
    near, far = alpha + t_x, alpha + T
    # M's derivatives in (r, alpha, a, b), per customer.
    m_r = digamma(r + x) - digamma(r) + np.log(alpha) - np.log(far)
    m_alpha = r / alpha - (r + x) / far
    m_a = digamma(a + b) - digamma(a + b + x)
    m_b = digamma(b + x) - digamma(b) + m_a
    m_rr = polygamma(1, r + x) - polygamma(1, r)
    m_ralpha = 1.0 / alpha - 1.0 / far
    m_alphaalpha = (r + x) / far**2 - r / alpha**2
    m_aa = polygamma(1, a + b) - polygamma(1, a + b + x)
    m_bb = polygamma(1, b + x) - polygamma(1, b) + m_aa
    # D = log a - log(b + x - 1) + (r + x) log((alpha + T) / (alpha + t_x)), for x > 0; a
    # customer without a repeat purchase cannot have died after it (weight 0).
    lag = np.where(repeat, b + x - 1.0, 1.0)
    d_r = np.log(far) - np.log(near)
    d_alpha = (r + x) * (1.0 / far - 1.0 / near)
    d_ralpha = 1.0 / far - 1.0 / near
    d_alphaalpha = (r + x) * (1.0 / near**2 - 1.0 / far**2)
    log_odds = np.log(a) - np.log(lag) + (r + x) * d_r
    dead = np.where(repeat, expit(log_odds), 0.0)
    spread = dead * (1.0 - dead)

    grads = np.stack([m_r + dead * d_r, m_alpha + dead * d_alpha, m_a + dead / a, m_b - dead / lag])
    d = np.stack([d_r, d_alpha, 1.0 / a + 0.0 * x, -1.0 / lag])
    hess = np.einsum("i...,j...->ij...", d, d) * spread
    hess[0, 0] += m_rr
    hess[0, 1] += m_ralpha + dead * d_ralpha
    hess[1, 0] += m_ralpha + dead * d_ralpha
    hess[1, 1] += m_alphaalpha + dead * d_alphaalpha
    hess[2, 2] += m_aa - dead / a**2
    hess[2, 3] += m_aa
    hess[3, 2] += m_aa
    hess[3, 3] += m_bb + dead / lag**2
    grad = grads @ weights
    hess = hess @ weights
    # d(param)/d(theta) is the param itself, and so is its second derivative.
    slope = np.exp(theta)
    return grad * slope, hess * np.outer(slope, slope) + np.diag(grad * slope)


def _bgnbd_polish(theta: np.ndarray, objective, derivatives) -> np.ndarray:
    """``theta`` moved to where the BG/NBD gradient vanishes, by Newton steps damped as
    Levenberg and Marquardt do and kept inside the bounds, or left as it is where they do not
    lower the objective.

    L-BFGS-B stopped on the flat ridge of ``a`` and ``b`` 0.035 short of the maximum
    log-likelihood on Online Retail (a 0.0063 where the maximum has 0.0031), which moved 4
    customers' p_alive by more than 1 % (3.6 % at most). Where the maximum lies on a bound (no
    dropout: ``a`` runs to 0 and ``b`` off), the steps stop at it or short of it.
    """
    current = np.asarray(theta, dtype=float)
    value = objective(current)
    damping = 0.0
    for _ in range(_BGNBD_POLISH_STEPS):
        grad, hess = derivatives(current)
        step = _damped_newton_step(grad, hess, damping)
        trial = current + step if step is not None else current
        inside = np.all((trial >= _LOG_BOUNDS[0]) & (trial <= _LOG_BOUNDS[1]))
        trial_value = objective(trial) if step is not None and inside else np.inf
        if trial_value <= value:
            current, value = trial, trial_value
            damping /= 10.0
            # Newton converges quadratically: after a step this small the next would be below
            # the likelihood's float noise.
            if np.max(np.abs(step)) < 1e-10:
                break
        else:
            damping = max(10.0 * damping, 1e-6 * float(np.max(np.abs(np.diag(hess)))), 1e-12)
    return current


def _damped_newton_step(grad: np.ndarray, hess: np.ndarray, damping: float):
    """``-(hess + damping I)^-1 grad`` for the objective minimised, or None where that matrix is
    not positive definite (away from the maximum's concave neighbourhood) or the step is not
    finite."""
    try:
        factor = np.linalg.cholesky(hess + damping * np.eye(len(grad)))
    except np.linalg.LinAlgError:
        return None
    step = -np.linalg.solve(factor.T, np.linalg.solve(factor, grad))
    return step if np.all(np.isfinite(step)) else None


def bgnbd_p_alive(params: BGNBD, x, t_x, T) -> np.ndarray:
    """P(customer still alive at T | x, t_x, T); 1 for customers without repeat purchases."""
    from scipy.special import expit

    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)
    out = np.ones_like(x)
    repeat = x > 0
    xr = x[repeat]
    log_odds_dead = np.log(a / (b + xr - 1.0)) + (r + xr) * (
        np.log(alpha + T[repeat]) - np.log(alpha + t_x[repeat])
    )
    out[repeat] = expit(-log_odds_dead)
    return out


def bgnbd_expected_purchases(params: BGNBD, t, x, t_x, T) -> np.ndarray:
    """Expected purchases in the next ``t`` weeks (equation 10 of the paper).

    The hypergeometric term is evaluated after Euler's transformation,
    ``(1-z)^(r+x) 2F1(r+x, b+x; c; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; c; z)`` with
    ``c = a+b+x-1``, whose parameters do not grow with ``x``: the textbook form overflows for
    customers with many purchases.
    """
    from scipy.special import hyp2f1

    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = np.asarray(x, dtype=float)
    T = np.asarray(T, dtype=float)
    if abs(a - 1.0) < 1e-9:
        a = 1.0 + 1e-9
    c = a + b + x - 1.0
    z = t / (alpha + T + t)
    tail = np.asarray((1.0 - z) ** (a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, c, z))
    # scipy's hyp2f1 gives NaN where its first parameter is large and negative: r in the tens
    # of thousands, fitted to customers who buy as steadily as a clock. Those customers' CLV
    # was then 0 (NaN made finite). The textbook form's series has only positive terms there,
    # so it is summed in logs instead, where it overflowed no float.
    lost = ~np.isfinite(tail)
    if lost.any():
        x_lost = np.broadcast_to(x, tail.shape)[lost]
        z_lost = np.broadcast_to(z, tail.shape)[lost]
        tail = tail.copy()
        tail[lost] = np.exp(
            (r + x_lost) * np.log1p(-z_lost)
            + _log_hyp2f1_positive(r + x_lost, b + x_lost, a + b + x_lost - 1.0, z_lost)
        )
    expected = c / (a - 1.0) * (1.0 - tail) * bgnbd_p_alive(params, x, t_x, T)
    return np.clip(expected, 0.0, None)


def _log_hyp2f1_positive(A, B, C, z, *, chunk: int = 4096, max_terms: int = 10_000_000):
    """log 2F1(A, B; C; z) by its power series, for A, B, C > 0 and 0 <= z < 1 elementwise.

    Every term is positive, so the sum in logs loses nothing to cancellation; the terms rise
    while (A+k)(B+k)z > (C+k)(k+1) and then fall geometrically (ratio -> z), and the sum stops
    once a chunk of terms adds under 1e-17 of it.
    """
    from scipy.special import logsumexp

    out = np.empty(len(A))
    for i, (a_, b_, c_, z_) in enumerate(zip(A, B, C, z, strict=True)):
        if z_ <= 0.0:
            out[i] = 0.0
            continue
        total, last = 0.0, 0.0  # log of the sum so far (the first term is 1), log of a term
        for start in range(0, max_terms, chunk):
            k = np.arange(start, start + chunk, dtype=float)
            step = np.log(a_ + k) + np.log(b_ + k) + np.log(z_) - np.log(c_ + k) - np.log1p(k)
            logs = last + np.cumsum(step)
            total = float(np.logaddexp(total, logsumexp(logs)))
            last = float(logs[-1])
            if step[-1] < 0 and last < total + np.log(1e-17):
                break
        out[i] = total
    return out


def gamma_gamma_log_likelihood(params: GammaGamma, x, m) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of the mean spend ``m`` over ``x`` purchases."""
    from scipy.special import gammaln

    p, q, g = params.p, params.q, params.gamma
    x = np.asarray(x, dtype=float)
    m = np.asarray(m, dtype=float)
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(g + m * x)
    )


def fit_gamma_gamma(x, m) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma parameters (q is kept above 1 so the mean exists)."""
    from scipy.optimize import minimize

    # The customers in one order whatever theirs: the likelihood's sums then fall alike, and
    # L-BFGS-B stops at the same point of the flat ridge (CLVs moved by cents when the export's
    # lines, or customers renamed, came in another order).
    order = np.lexsort((np.asarray(m, dtype=float), np.asarray(x, dtype=float)))
    x = np.asarray(x, dtype=float)[order]
    m = np.asarray(m, dtype=float)[order]
    # Fitted on spends in units of their mean, gamma scaled back, and polished by Newton's method
    # to the likelihood's maximum itself: the model is scale-equivariant (spends x c give p, q and
    # gamma x c), L-BFGS-B's stopping point on the flat ridge was not. Fed the raw spends, its
    # tolerance moved with the objective's log(c) shift; fed the spends in units of their mean,
    # their last-bit differences still moved it by 1e-4 relative. Prices x1000 moved 188 of the
    # demo's 400 CLVs beyond the cents.
    scale = float(np.mean(m))
    unit_spend = m / scale

    def unpack(theta: np.ndarray) -> GammaGamma:
        # q = 1 + e^theta keeps the population mean finite.
        return GammaGamma(np.exp(theta[0]), 1.0 + np.exp(theta[1]), np.exp(theta[2]))

    def objective(theta: np.ndarray) -> float:
        value = -float(np.mean(gamma_gamma_log_likelihood(unpack(theta), x, unit_spend)))
        return value if np.isfinite(value) else 1e300

    best = _minimize(objective, np.zeros(3), minimize)
    theta = _newton_polish(best.x, x, unit_spend, objective)
    fitted = unpack(theta)
    # The likelihood of the spends themselves: each density in money units is that in units of
    # the mean divided by the mean.
    log_likelihood = float(-objective(theta) * len(x) - len(x) * np.log(scale))
    return GammaGamma(fitted.p, fitted.q, fitted.gamma * scale, log_likelihood=log_likelihood)


def _gamma_gamma_derivatives(theta: np.ndarray, x: np.ndarray, m: np.ndarray):
    """Gradient and Hessian of the summed Gamma-Gamma log-likelihood in ``theta`` =
    ``(log p, log(q - 1), log gamma)``, from the digamma and trigamma functions."""
    from scipy.special import digamma, polygamma

    p, q, g = np.exp(theta[0]), 1.0 + np.exp(theta[1]), np.exp(theta[2])
    px = p * x
    w = g + m * x
    both = digamma(px + q)
    tri = polygamma(1, px + q)
    grad = np.array(
        [
            np.sum(x * (both - digamma(px) + np.log(m * x) - np.log(w))),
            np.sum(both - digamma(q) + np.log(g) - np.log(w)),
            np.sum(q / g - (px + q) / w),
        ]
    )
    hess = np.empty((3, 3))
    hess[0, 0] = np.sum(x * x * (tri - polygamma(1, px)))
    hess[0, 1] = hess[1, 0] = np.sum(x * tri)
    hess[0, 2] = hess[2, 0] = -np.sum(x / w)
    hess[1, 1] = np.sum(tri - polygamma(1, q))
    hess[1, 2] = hess[2, 1] = np.sum(1.0 / g - 1.0 / w)
    hess[2, 2] = np.sum((px + q) / w**2 - q / g**2)
    # d(param)/d(theta) is the param itself (q - 1 for q); its second derivative too.
    slope = np.array([p, q - 1.0, g])
    return grad * slope, hess * np.outer(slope, slope) + np.diag(grad * slope)


def _newton_polish(theta: np.ndarray, x: np.ndarray, m: np.ndarray, objective) -> np.ndarray:
    """``theta`` moved by Newton steps to where the gradient vanishes to float precision, or
    left as it is where the likelihood is not concave around it or the steps do not settle."""
    start = np.asarray(theta, dtype=float)
    current = start
    for _ in range(_NEWTON_STEPS):
        grad, hess = _gamma_gamma_derivatives(current, x, m)
        try:
            np.linalg.cholesky(-hess)
        except np.linalg.LinAlgError:
            return start
        step = np.linalg.solve(hess, -grad)
        if not np.all(np.isfinite(step)) or np.max(np.abs(step)) > 1.0:
            return start
        current = current + step
        # Newton converges quadratically: after a step this small the next would be below the
        # likelihood's float noise.
        if np.max(np.abs(step)) < 1e-9:
            break
    inside = np.all((current > _LOG_BOUNDS[0]) & (current < _LOG_BOUNDS[1]))
    # Not worse than the optimiser's point beyond the objective's own rounding.
    kept = objective(current) <= objective(start) + 1e-12 * max(1.0, abs(objective(start)))
    return current if inside and kept else start


def gamma_gamma_expected_spend(params: GammaGamma, x, m) -> np.ndarray:
    """Posterior mean spend per purchase, ``(p*gamma + p*x*m) / (p*x + q - 1)``."""
    x = np.asarray(x, dtype=float)
    m = np.asarray(m, dtype=float)
    p, q, g = params.p, params.q, params.gamma
    return (p * g + p * x * m) / (p * x + q - 1.0)


@dataclass(frozen=True)
class CLVResult:
    """Per-customer CLV arrays (in the input order), fitted models and warnings."""

    p_alive: np.ndarray
    expected_purchases: np.ndarray
    expected_spend: np.ndarray
    clv: np.ndarray
    bgnbd: BGNBD
    gamma_gamma: GammaGamma | None
    warnings: list[str]
    bgnbd_customers: int = 0
    gamma_gamma_customers: int = 0


MIN_GAMMA_GAMMA = 10


def lifetime_value(
    purchase_days, first_to_last_days, age_days, repeat_value, *, horizon_days: float
) -> CLVResult:
    """Fit both models and return p_alive, expected purchases and CLV per customer.

    Args:
        purchase_days: distinct purchase days per customer (>= 1; 0 is treated as 1).
        first_to_last_days: days from the first to the last purchase.
        age_days: days from the first purchase to the last day of the observation period (the
            day before ``as_of``): a purchase on that day has ``t_x = T``, as in the paper.
        repeat_value: the mean net value of the repeat purchase days, the first purchase day
            left out as in Fader & Hardie's m_x (may be <= 0; ignored without repeat purchases).
        horizon_days: CLV horizon.

    Returns:
        CLVResult; ``clv = expected_purchases * expected_spend`` (undiscounted revenue).

    Raises:
        DataError: no customer has a repeat purchase.
    """
    n_days = np.maximum(np.asarray(purchase_days, dtype=float), 1.0)
    x = n_days - 1.0
    t_x = np.asarray(first_to_last_days, dtype=float) / DAYS_PER_WEEK
    T = np.asarray(age_days, dtype=float) / DAYS_PER_WEEK
    # T >= t_x (a purchase on the last day observed has T = t_x); a first purchase on that day
    # has T = 0 and x = 0, whose likelihood is 1 (no purchase in no time).
    T = np.maximum(T, t_x)
    m = np.asarray(repeat_value, dtype=float)
    warnings: list[str] = []
    if len(x) < 50:
        warnings.append(
            f"CLV fitted on only {plural(len(x), 'customer')}: treat p_alive and clv as rough "
            "estimates"
        )
    bg = fit_bgnbd(x, t_x, T)
    warnings.extend(_bgnbd_bound_warnings(bg))
    horizon = horizon_days / DAYS_PER_WEEK
    p_alive = bgnbd_p_alive(bg, x, t_x, T)
    expected = bgnbd_expected_purchases(bg, horizon, x, t_x, T)

    # A customer without repeat purchases (or whose repeat purchases net to nothing) has no
    # observed spend: the population mean.
    usable = (m > 0) & np.isfinite(m) & (x > 0)
    gg: GammaGamma | None = None
    if usable.sum() >= MIN_GAMMA_GAMMA and np.ptp(m[usable]) > 0:
        gg = fit_gamma_gamma(x[usable], m[usable])
        spend = np.where(
            usable,
            gamma_gamma_expected_spend(gg, x, np.where(usable, m, 1.0)),
            gg.mean_spend,
        )
    else:
        fallback = float(np.mean(m[usable])) if np.any(usable) else 0.0
        n_usable = int(usable.sum())
        needs = f"(Gamma-Gamma needs at least {MIN_GAMMA_GAMMA} with differing spend)"
        # Which reason holds is said: "only 10 ... needs at least 10" was said of ten customers
        # who all spend the same, "only 0 ... the mean of those" of customers buying at no price.
        if not n_usable:
            text = (
                "no repeat customer has a positive spend on its repeat purchases (prices of 0, "
                f"or returns netting them out): spend per purchase and clv are 0 {needs}"
            )
        elif n_usable >= MIN_GAMMA_GAMMA:
            text = (
                f"all {n_usable} repeat customers with positive spend on their repeat purchases "
                f"spend the same, {fallback:,.2f} a purchase: spend per purchase is that {needs}"
            )
        else:
            text = (
                f"only {plural(n_usable, 'repeat customer')} with positive spend on their repeat "
                "purchases: spend per purchase is each one's own mean, the other customers' the "
                f"mean of those {needs}"
            )
        warnings.append(text)
        spend = np.where(usable, m, fallback)
    p_alive, expected, spend = _unfinite_left_empty(p_alive, expected, spend, warnings)
    return CLVResult(
        p_alive,
        expected,
        spend,
        expected * spend,
        bg,
        gg,
        warnings,
        bgnbd_customers=len(x),
        gamma_gamma_customers=int(usable.sum()) if gg is not None else 0,
    )


def _bgnbd_bound_warnings(bg: BGNBD) -> list[str]:
    """What a BG/NBD fit stopped at a bound of its log-parameters does not estimate: the
    likelihood's maximum lies there or beyond (a -> 0 on customer bases with little dropout:
    seed 0 of tests/test_bgnbd_fit_s68.py), and the parameter printed is the bound's."""
    at_bound = [
        f"{name} {value:.4g}"
        for name, value in (("r", bg.r), ("alpha", bg.alpha), ("a", bg.a), ("b", bg.b))
        # Within 0.01 %: the last steps towards a bound the likelihood rises to stop short of it.
        if min(abs(np.log(value) - limit) for limit in _LOG_BOUNDS) < 1e-4
    ]
    if not at_bound:
        return []
    return [
        f"the BG/NBD fit stopped at the bound of its parameters ({', '.join(at_bound)}, "
        f"e^-{-_LOG_BOUNDS[0]:.0f} to e^{_LOG_BOUNDS[1]:.0f}): the likelihood's maximum lies "
        "there or beyond, so that value is the bound's, not an estimate (p_alive and "
        "expected_purchases are the model's at the bound)"
    ]


def _unfinite_left_empty(
    p_alive: np.ndarray, expected: np.ndarray, spend: np.ndarray, warnings: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The customers whose p_alive, expected purchases or spend the fitted models give as NaN
    or infinite, all three made NaN (written empty) and counted in ``warnings``. They were made
    0, a customer valued at nothing without a word (the steadiest buyers, before
    ``_log_hyp2f1_positive``)."""
    p_alive, expected, spend = (
        np.asarray(v, dtype=float).copy() for v in (p_alive, expected, spend)
    )
    bad = ~(np.isfinite(p_alive) & np.isfinite(expected) & np.isfinite(spend))
    if bad.any():
        n = int(bad.sum())
        warnings.append(
            f"{n:,} of {bad.size:,} customers' "
            f"{'value' if n == 1 else 'values'} could not be computed from the fitted models (not "
            "a finite number): their p_alive, expected_purchases and clv are left empty"
        )
        for values in (p_alive, expected, spend):
            values[bad] = np.nan
    return p_alive, expected, spend
