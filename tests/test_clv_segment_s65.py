"""Audit M (session 65) F4: the Gamma-Gamma fit, and so the CLV, follows the currency."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from segchain.clv import GammaGamma, fit_gamma_gamma, lifetime_value
from segchain.segment import segment
from tests.conftest import SAMPLE_DATA

# ------------------------------------------------------------------------ F4: the currency

# Fader & Hardie (2013)'s Gamma-Gamma estimates on CDNOW.
CDNOW_GG = GammaGamma(p=6.25, q=3.74, gamma=15.44)


def simulated_spends(n: int = 400, seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """``n`` repeat customers drawn from the Gamma-Gamma story: nu ~ Gamma(q, gamma), each of
    x = 1..12 purchases ~ Gamma(p, nu); returns x and the mean spend m_x."""
    rng = np.random.default_rng(seed)
    nu = rng.gamma(CDNOW_GG.q, 1 / CDNOW_GG.gamma, n)
    x = rng.integers(1, 13, n).astype(float)
    m = np.array([rng.gamma(CDNOW_GG.p, 1 / v, int(k)).mean() for v, k in zip(nu, x, strict=True)])
    return x, m


def _relative(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / np.abs(np.asarray(b))))


@pytest.mark.parametrize("c", [1000.0, 0.001])
def test_gamma_gamma_fit_is_equivariant_to_the_currency(c):
    """Spends x c: the same p and q, gamma x c (the likelihood of c m under c gamma is that of
    m under gamma less log c), to float rounding."""
    x, m = simulated_spends()
    fit = fit_gamma_gamma(x, m)
    scaled = fit_gamma_gamma(x, m * c)
    assert _relative([scaled.p, scaled.q, scaled.gamma / c], [fit.p, fit.q, fit.gamma]) < 1e-9
    assert scaled.log_likelihood == pytest.approx(fit.log_likelihood - len(x) * np.log(c))


@pytest.mark.parametrize("c", [1000.0, 0.001])
def test_lifetime_value_is_equivariant_to_the_currency(c):
    """CLV x c for repeat values x c, every customer within 1e-9 relative."""
    x, m = simulated_spends()
    rng = np.random.default_rng(5)
    days = x + 1
    first_to_last = rng.integers(30, 300, len(x)).astype(float)
    age = first_to_last + rng.integers(0, 60, len(x))
    base = lifetime_value(days, first_to_last, age, m, horizon_days=365)
    scaled = lifetime_value(days, first_to_last, age, m * c, horizon_days=365)
    assert _relative(scaled.clv / c, base.clv) < 1e-9


def _demo_orders() -> pl.DataFrame:
    from segchain.cli.common import OrderOptions
    from tests.realdata import _clean

    return _clean(SAMPLE_DATA / "orders.csv", OrderOptions())


@pytest.mark.parametrize("c", [1000.0, 0.001])
def test_demo_clv_fit_is_equivariant_to_the_currency(c):
    """The demo's prices x c (another currency): its Gamma-Gamma fit has the same p and q and
    gamma x c (x1000 moved p from 3.649 to 3.648 and 188 of 400 CLVs beyond the cents)."""
    lines = _demo_orders()
    scaled = lines.with_columns(pl.col("unit_price") * c, pl.col("amount") * c)
    fit = segment(lines, clv=True).clv_fit["gamma_gamma"]
    other = segment(scaled, clv=True).clv_fit["gamma_gamma"]
    got = [other["p"], other["q"], other["gamma"] / c]
    assert _relative(got, [fit["p"], fit["q"], fit["gamma"]]) < 1e-9
