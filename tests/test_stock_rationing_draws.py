"""The rationing simulation's demand draws (``rationing._counts``) against scipy's laws.

The simulation draws Poisson and negative binomial counts by inverse CDF from a table (and, for
the rare draws beyond the table, from the survival function). The frequencies of many draws must
match scipy.stats' probability mass functions (an implementation independent of the table), in
the body and in the tail, and the laws too wide for a table fall back to numpy's samplers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from segchain.stock import rationing
from segchain.stock.rationing import _beyond, _count_table, _counts

DRAWS = 400_000


def chi_square_p(x: np.ndarray, dist, cut: list[int]) -> float:
    """Pearson's test of the counts ``x`` against ``dist`` on bins [c_i, c_{i+1}), the last
    open above."""
    edges = [*cut, np.inf]
    seen = np.array(
        [np.sum((x >= lo) & (x < hi)) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    )
    cdf = np.array([dist.cdf(c - 1) if c > 0 else 0.0 for c in cut] + [1.0])
    expected = np.diff(cdf) * x.size
    return float(stats.chisquare(seen, expected).pvalue)


@pytest.mark.parametrize(
    ("a", "p", "dist", "cut"),
    [
        (0.7, 0.0, stats.poisson(0.7), [0, 1, 2, 3, 4, 5]),
        (3.2, 0.4, stats.nbinom(3.2, 0.4), [0, 1, 2, 3, 4, 6, 8, 11, 15, 20]),
        # Over-dispersed (variance 100 times the mean): mostly zeros, a long tail.
        (0.05, 0.01, stats.nbinom(0.05, 0.01), [0, 1, 3, 10, 30, 100, 300, 1000]),
    ],
)
def test_counts_follow_the_law(a, p, dist, cut):
    x = _counts(np.random.default_rng(7), a, p, (DRAWS,))
    assert x.dtype == float and np.all(x == np.floor(x)) and x.min() >= 0
    assert chi_square_p(x, dist, cut) > 1e-3
    assert abs(x.mean() - dist.mean()) < 5 * dist.std() / np.sqrt(DRAWS)


def test_tail_beyond_the_table_follows_the_law(monkeypatch):
    # A table cut where 40 % of the probability is still above it: the draws beyond it come
    # from the survival function, and must follow the law there too.
    monkeypatch.setattr(rationing, "TABLE_TAIL", 0.4)
    _count_table.cache_clear()
    try:
        dist = stats.nbinom(0.3, 0.002)  # mean 149.7, P(X > 64) about 0.41
        assert dist.sf(64) > 0.4
        x = _counts(np.random.default_rng(3), 0.3, 0.002, (DRAWS,))
        assert np.mean(x > 64) > 0.35
        assert chi_square_p(x, dist, [0, 1, 5, 20, 64, 65, 100, 200, 400, 800, 1600]) > 1e-3
    finally:
        _count_table.cache_clear()


def test_beyond_inverts_the_survival_function():
    # The smallest k >= first with P(X > k) < 1 - u, from scipy's survival function.
    dist = stats.nbinom(0.05, 0.01)
    left = np.array([1e-3, 1e-6, 1e-9, 1e-12, 3e-14])
    got = _beyond(0.05, 0.01, 10, left)
    ks = np.arange(10, 20_000)
    sf = dist.sf(ks)
    want = np.array([ks[np.argmax(sf < v)] for v in left])
    np.testing.assert_array_equal(got, want)


def test_large_means_fall_back_to_numpy():
    assert _count_table(2e6, 0.0) is None
    x = _counts(np.random.default_rng(1), 2e6, 0.0, (20_000,))
    assert x.dtype == float
    assert abs(x.mean() - 2e6) < 5 * np.sqrt(2e6) / np.sqrt(x.size)
    assert abs(x.std() / np.sqrt(2e6) - 1.0) < 0.05
