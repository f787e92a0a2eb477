"""The order-history bootstrap's level search in a small unit (audit M F6, session 65).

Its pmfs are on a grid of whole units of demand, so an export in grams instead of kilograms
made the grid 1000 times wider: the demo's stock ran 30+ min and several GB. The expected
levels below are computed from the bootstrap's draw model written out (each week sells its
size jittered: 1 + trunc(x + z sqrt(x))), not from the code under test.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from scipy import stats

import segchain.stock.bootstrap as bootstrap
from segchain.stock.bootstrap import bootstrap_levels, histories

MONDAY = date(2024, 1, 1)
SIZE = 10_000.0  # 10 kg a week, in grams
LEAD, REVIEW = 4.0, 1.0  # weeks: the protection interval holds five weeks' sales
WIDEST = 4096  # cells per row the level search may build


def weekly(size: float, weeks: int = 12) -> pl.DataFrame:
    days = [MONDAY + timedelta(weeks=i) for i in range(weeks)]
    return pl.DataFrame({"sku": "A", "ds": days, "y": [size] * weeks})


def interval_pmf(size: float, periods: int) -> tuple[np.ndarray, np.ndarray]:
    """The pmf of the sum of ``periods`` jittered sizes, 1 + trunc(a), a ~ N(size, size)."""
    sd = np.sqrt(size)
    k = np.arange(int(size - 8 * sd), int(size + 8 * sd) + 2)
    one = stats.norm.cdf((k - size) / sd) - stats.norm.cdf((k - 1 - size) / sd)
    pmf = one
    for _ in range(periods - 1):
        pmf = np.convolve(pmf, one)
    return k[0] * periods + np.arange(pmf.size), pmf


def plan(size: float, *, fill: bool, target: float, monkeypatch) -> tuple[object, list[int]]:
    widths: list[int] = []
    pmf = bootstrap.empirical_pmf

    def recorded(samples: np.ndarray, width: int) -> np.ndarray:
        widths.append(width)
        return pmf(samples, width)

    monkeypatch.setattr(bootstrap, "empirical_pmf", recorded)
    h = histories(weekly(size), pl.DataFrame({"sku": ["A"]}), ["sku"])
    found = bootstrap_levels(
        h,
        np.array([0]),
        periodic=True,
        lead=np.array([LEAD]),
        review=np.array([REVIEW]),
        fill=np.array([fill]),
        target=np.array([target]),
        q=np.array([1.0]),
        cap=np.array([np.inf]),
        seed=0,
    )
    return found, widths


def test_a_cycle_service_level_in_grams_is_the_quantile_rounded_up_to_the_grid_step(monkeypatch):
    # P(D_T <= S) >= 0.95 over five weeks of 10,000 g: the quantile is about 50,370 g (sampling
    # error of 16,000 draws: a few grams), far from a multiple of 100 g. The search works in
    # steps of 100 g (50,000 g on 4,096 cells needs more than 10): the level is the quantile
    # rounded up to the step, the target still met, and every pmf at most 4,096 cells wide
    # (before: 50,400 cells, one level in whole grams).
    k, pmf = interval_pmf(SIZE, int(LEAD + REVIEW))
    quantile = k[np.searchsorted(np.cumsum(pmf), 0.95)]
    assert 50_300 < quantile < 50_390
    found, widths = plan(SIZE, fill=False, target=0.95, monkeypatch=monkeypatch)
    assert found.level[0] == 100 * np.ceil(quantile / 100)
    assert found.csl[0] >= 0.95
    assert widths and max(widths) <= WIDEST


def test_mean_on_hand_in_grams_is_in_grams_within_the_grid_step(monkeypatch):
    # (R, S) mean on hand: S - E[D_T] + E[D_1] / 2 + E[(D_T - S)^+] (the last term, at S past
    # the 95th percentile, a few grams); computed from the written-out distribution at the
    # plan's own level, it agrees within one step of 100 g (the draws are rounded up to it).
    found, _ = plan(SIZE, fill=False, target=0.95, monkeypatch=monkeypatch)
    s = found.level[0]
    k, pmf_t = interval_pmf(SIZE, int(LEAD + REVIEW))
    k1, pmf_1 = interval_pmf(SIZE, 1)
    mean_t, mean_1 = (k * pmf_t).sum(), (k1 * pmf_1).sum()
    back = (np.maximum(k - s, 0) * pmf_t).sum()
    expected = s - mean_t + mean_1 / 2 + back
    assert found.avg_inventory[0] == pytest.approx(expected, abs=100)


def test_a_fill_rate_in_grams_keeps_its_promise_on_a_bounded_grid(monkeypatch):
    # Fill rate 0.98 per review: the shortage E[(D_T - S)^+] - E[(D_L - S)^+] at most 2 % of a
    # week's mean, computed on the written-out distributions. The plan's level is on the 100 g
    # grid, meets the target there, and is not more than one step above the smallest level
    # that meets it in whole grams.
    k_t, pmf_t = interval_pmf(SIZE, int(LEAD + REVIEW))
    k_l, pmf_l = interval_pmf(SIZE, int(LEAD))
    allowed = 0.02 * (SIZE + 0.5)

    def short(s: float) -> float:
        return (np.maximum(k_t - s, 0) * pmf_t).sum() - (np.maximum(k_l - s, 0) * pmf_l).sum()

    smallest = next(s for s in range(49_000, 52_000) if short(s) <= allowed)
    found, widths = plan(SIZE, fill=True, target=0.98, monkeypatch=monkeypatch)
    assert found.level[0] % 100 == 0
    assert smallest <= found.level[0] <= smallest + 100
    assert found.fill[0] >= 0.98
    assert max(widths) <= WIDEST
