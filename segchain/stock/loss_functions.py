"""Loss functions: E[(D - x)^+] and its second order, normal (standard tables) and in closed form
for the Poisson, negative binomial and gamma families (Hadley & Whitin; Axsaeter, sec. 5.3)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# Beyond this many standard deviations above the mean, G and G2 are below 1e-300: zero.
_FAR_TAIL = 38.0


def _normal_pdf(k: np.ndarray) -> np.ndarray:
    # k*k overflows for |k| > 1e154 (a forecast of 1e308, say); exp(-inf) = 0 is the right limit.
    with np.errstate(over="ignore"):
        return np.exp(-0.5 * k * k) / math.sqrt(2 * math.pi)


def normal_loss(k: Any) -> np.ndarray:
    """Standard normal loss function G(k) = phi(k) - k*(1 - Phi(k)) = E[(Z - k)^+]."""
    from scipy.special import ndtr

    k = np.asarray(k, dtype=float)
    return _normal_pdf(k) - k * ndtr(-k)


def inverse_normal_loss(g: Any) -> np.ndarray:
    """The k with G(k) = g (g > 0), vectorised.

    G is convex and decreasing, so Newton's method started left of the root (G(k) >= -k, hence
    k0 = -g - 1 is left of it) climbs monotonically to the root without overshooting.
    """
    from scipy.special import ndtr

    g = np.asarray(g, dtype=float)
    k = -g - 1.0
    for _ in range(200):
        step = (normal_loss(k) - g) / np.maximum(ndtr(-k), 1e-300)
        k = k + step
        if np.all(np.abs(step) < 1e-12):
            break
    return k


def dist_sf(dist: str, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """P(D > x), computed as a tail (never 1 - cdf, which is 0 below 1e-16)."""
    from scipy import special

    xs = np.maximum(x, 0.0)
    if dist == "gamma":
        return np.where(x < 0, 1.0, special.gammaincc(a, xs / b))
    out = special.pdtrc(xs, a) if dist == "poisson" else special.betaincc(a, xs + 1.0, b)
    return np.where(x < 0, 1.0, out)


def dist_loss(dist: str, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Expected shortage E[(D - x)^+] in closed form.

    Uses k*f(k) = m*f'(k-1), where f' is the same family one shape step up (Poisson: itself;
    negative binomial: r + 1; gamma: shape + 1).
    """
    from scipy import special

    x = np.asarray(x, dtype=float)
    if dist == "gamma":
        z = np.maximum(x, 0.0) / b
        loss = a * b * special.gammaincc(a + 1.0, z) - np.maximum(x, 0.0) * special.gammaincc(a, z)
        return np.where(x < 0, a * b - x, np.maximum(loss, 0.0))
    if dist == "poisson":
        m = a
        loss = m * dist_sf(dist, x - 1, a, b) - x * dist_sf(dist, x, a, b)
    else:
        m = a * (1.0 - b) / b
        loss = m * dist_sf(dist, x - 1, a + 1.0, b) - x * dist_sf(dist, x, a, b)
    return np.where(x < 0, m - x, np.maximum(loss, 0.0))


def normal_loss2(k: Any) -> np.ndarray:
    """Second-order standard normal loss G2(k) = E[((Z - k)^+)^2] / 2 = integral of G from k on.

    G2(k) = ((k^2 + 1)*(1 - Phi(k)) - k*phi(k)) / 2 (Axsaeter, Inventory Control, sec. 5.3).
    """
    from scipy.special import ndtr

    k = np.asarray(k, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        g2 = 0.5 * ((k * k + 1.0) * ndtr(-k) - k * _normal_pdf(k))
    return np.where(k > _FAR_TAIL, 0.0, g2)


def dist_loss2(dist: str, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Second-order loss in closed form, for x >= 0.

    Discrete families: sum over y > x of E[(D - y)^+] = E[(D - x)(D - x - 1)/2; D > x], written
    with the factorial moments E[D; D >= j] = m*P(D' >= j - 1) and E[D(D-1); D >= j] =
    m*m'*P(D'' >= j - 2), D' and D'' the family one and two shape steps up. Gamma (continuous):
    the integral of E[(D - y)^+] from x on, E[((D - x)^+)^2] / 2.
    """
    from scipy import special

    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    if dist == "gamma":
        z = x / b
        out = 0.5 * (
            a * (a + 1.0) * b * b * special.gammaincc(a + 2.0, z)
            - 2.0 * x * a * b * special.gammaincc(a + 1.0, z)
            + x * x * special.gammaincc(a, z)
        )
        return np.maximum(out, 0.0)
    if dist == "poisson":
        m = m2 = a
        sf1 = dist_sf(dist, x - 1, a, b)
        sf2 = dist_sf(dist, x - 2, a, b)
    else:
        m = a * (1.0 - b) / b
        m2 = (a + 1.0) * (1.0 - b) / b
        sf1 = dist_sf(dist, x - 1, a + 1.0, b)
        sf2 = dist_sf(dist, x - 2, a + 2.0, b)
    out = 0.5 * (m * m2 * sf2 - 2.0 * x * m * sf1 + x * (x + 1.0) * dist_sf(dist, x, a, b))
    return np.maximum(out, 0.0)


def normal_losses(x: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First- and second-order loss of normal(mean, sd) at x (a point mass where sd = 0).

    E[(D - x)^+] = sd*G(k) and its integral from x on, sd^2*G2(k), with k = (x - mean)/sd.
    """
    from scipy.special import ndtr

    safe = np.where(sd > 0, sd, 1.0)
    # Far tails: G and G2 are exact there with k bounded, and k*k cannot overflow.
    k = np.clip((x - mean) / safe, -1e150, 1e150)
    tail = ndtr(-k)
    phi = np.exp(-0.5 * k * k) / math.sqrt(2 * math.pi)
    l1 = np.where(sd > 0, safe * (phi - k * tail), np.maximum(mean - x, 0.0))
    l2 = np.where(
        sd > 0,
        safe * safe * 0.5 * ((k * k + 1.0) * tail - k * phi),
        0.5 * np.maximum(mean - x, 0.0) ** 2,
    )
    return l1, l2
