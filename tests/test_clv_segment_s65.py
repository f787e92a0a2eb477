"""Audit M (session 65) F3-F4: a customer who bought nothing net (a sale returned in full) moves
no one's RFM scores and has no CLV; the Gamma-Gamma fit, and so the CLV, follows the currency."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from segchain.clv import GammaGamma, fit_gamma_gamma, lifetime_value
from segchain.segment import segment
from tests.conftest import SAMPLE_DATA
from tests.test_segment import customers, orders
from tests.test_segment_s60 import AS_OF, clv_base

CLV = ["customer_id", "p_alive", "expected_purchases", "clv"]

# --------------------------------------------------------------------------- F3: RFM scores

# Five customers with 1..5 orders of 10 each, the last 10..50 days before AS_OF: textbook
# quintiles give each its own score, 1..5 on F and M, 5..1 on R.
FIVE = {
    f"c{n}": [(AS_OF - dt.timedelta(days=10 * n + 3 * i), 10.0) for i in range(n)]
    for n in range(1, 6)
}
# The same customers' lines with one more customer who bought nothing net, in three ways.
NOTHING_NET = {
    "returned in full": [
        ("z-1", AS_OF - dt.timedelta(days=30), "zero", 5.0, 20.0, None),
        ("z-2", AS_OF - dt.timedelta(days=2), "zero", -5.0, 20.0, "return"),
    ],
    "only a return": [("z-2", AS_OF - dt.timedelta(days=2), "zero", -5.0, 20.0, "return")],
    "only a fee": [("z-3", AS_OF - dt.timedelta(days=2), "zero", 1.0, 15.0, "non_product")],
}


def _scores(result) -> list[tuple]:
    return result.segments.select("customer_id", "r_score", "f_score", "m_score").rows()


@pytest.mark.parametrize("case", list(NOTHING_NET))
def test_rfm_customer_without_net_value_moves_no_one(case):
    """Six customers with a nothing-net one among them score the five as the five alone
    (1..5 each, quintiles of five), and the nothing-net one F 1 and M 1: counted, the population
    of six gave c2's two orders the third quintile (mid-rank 3 of 6)."""
    base = customers(FIVE)
    plus = pl.concat([base, orders(NOTHING_NET[case])])
    alone = segment(base, as_of=AS_OF)
    both = segment(plus, as_of=AS_OF)
    assert _scores(alone) == [(f"c{n}", 6 - n, n, n) for n in range(1, 6)]
    others = both.segments.filter(pl.col("customer_id") != "zero")
    assert others.select("customer_id", "r_score", "f_score", "m_score").rows() == _scores(alone)
    assert others.get_column("segment").to_list() == alone.segments.get_column("segment").to_list()
    zero = both.segments.filter(pl.col("customer_id") == "zero").row(0, named=True)
    assert (zero["f_score"], zero["m_score"]) == (1, 1)


def test_rfm_recency_of_a_customer_returned_in_full_is_placed_among_the_others():
    """Its last sale 30 days before: among the five (10..50 days) it ties c3 (30 days, the
    middle quintile), so R 3 without counting; F and M 1 make it About to Sleep."""
    plus = pl.concat([customers(FIVE), orders(NOTHING_NET["returned in full"])])
    zero = segment(plus, as_of=AS_OF).segments.filter(pl.col("customer_id") == "zero")
    assert zero.select("r_score", "f_score", "m_score", "segment").row(0) == (
        3,
        1,
        1,
        "About to Sleep",
    )


def test_rfm_without_any_customer_of_positive_value_scores_them_all():
    """Nothing to score against: every customer counts, as before (returns of -10 and -20
    score M 2 and 4, the quantile scores of two)."""
    lines = [
        ("r1", AS_OF - dt.timedelta(days=5), "a", -1.0, 10.0, "return"),
        ("r2", AS_OF - dt.timedelta(days=5), "b", -2.0, 10.0, "return"),
    ]
    result = segment(orders(lines), as_of=AS_OF)
    assert result.segments.select("customer_id", "m_score").rows() == [("a", 4), ("b", 2)]


def test_clv_customer_returned_in_full_has_none():
    """A sale and its credit note bought nothing: no p_alive, expected purchases or CLV (it was
    valued at the population's mean spend), and the fits and others' CLVs are those without it."""
    base = clv_base()
    sale_and_return = [
        ("Z1", AS_OF - dt.timedelta(days=40), "zero", 5.0, 20.0, None),
        ("Z2", AS_OF - dt.timedelta(days=33), "zero", -5.0, 20.0, "return"),
    ]
    alone = segment(orders(base), clv=True, as_of=AS_OF)
    both = segment(orders(base + sale_and_return), clv=True, as_of=AS_OF)
    zero = both.segments.filter(pl.col("customer_id") == "zero").select(CLV)
    assert zero.rows() == [("zero", None, None, None)]
    kept = both.segments.filter(pl.col("customer_id") != "zero").select(CLV)
    assert kept.equals(alone.segments.select(CLV))
    assert both.clv_fit == alone.clv_fit
    assert any("purchases returned in full ('zero')" in w for w in both.warnings)


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
