"""The (s, Q) rationing search's cost (stock speed, session 64).

The replay of an (s, Q) cycle searches the day on which a reserve binds only for the (candidate,
cycle) pairs whose stock reaches a reserve before the cycle ends: a pair that gets through its
cycle served in full is read at the cycle's end, not bisected.
"""

from __future__ import annotations

import numpy as np
import pytest

from segchain.stock import rationing
from segchain.stock.rationing import Need, Segments, _levels_near, _meets, _replay_sq, sample_sq

# Three tiers, the lowest lumpy (variance 6x its mean), about 9 units a day in all.
SEGMENTS = Segments(
    mean=np.array([2.0, 3.0, 4.0]),
    var=np.array([2.0, 6.0, 24.0]),
    fill_target=np.array([0.99, 0.95, 0.8]),
    csl_target=np.full(3, np.nan),
)


def _bisected(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records how many pairs each of the replay's bisections searches."""
    sizes: list[int] = []
    real = rationing._last_at_most

    def spy(keys: np.ndarray, key: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        sizes.append(int(key.size))
        return real(keys, key, lo, hi)

    monkeypatch.setattr(rationing, "_last_at_most", spy)
    return sizes


def test_sq_replay_does_not_search_cycles_no_reserve_reaches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    smp = sample_sq(SEGMENTS, 5, 1, 60.0, 300, seed=3)
    # Independently of the replay: a level at which every cycle starts with its whole demand
    # above the largest reserve, so no reserve binds anywhere.
    reserves = np.array([[0.0, 10.0, 20.0], [0.0, 0.0, 30.0]])
    level = float((smp.lead + smp.total).max()) + 30.0 + 1.0
    sizes = _bisected(monkeypatch)
    short, _, on_hand, _ = _replay_sq(smp, np.full(2, level), reserves)
    assert short.sum() == 0.0
    # The stock on hand of a cycle served in full, summed day by day from the sample's days.
    tau = smp.days.astype(int)
    want = 0.0
    for i in range(smp.size):
        h = level - smp.lead[i]
        for d in range(tau[i]):
            day = smp.seq[smp.start[i] + d].sum()
            want += h - 0.5 * day
            h -= day
    np.testing.assert_allclose(on_hand, want / tau.sum(), rtol=1e-12)
    assert sum(sizes) == 0


def test_sq_replay_searches_only_the_cycles_where_a_reserve_binds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    smp = sample_sq(SEGMENTS, 5, 1, 60.0, 300, seed=3)
    reserves = np.array([[0.0, 5.0, 15.0]])
    level = 80.0
    # Independently: the cycles whose total demand takes the stock at the arrival to the lowest
    # tier's reserve or below (where the first stretch ends before the cycle does).
    h0 = np.maximum(level - smp.lead, 0.0)
    binding = int((smp.total > np.floor(h0 - 15.0)).sum() - (h0 <= 0).sum())
    sizes = _bisected(monkeypatch)
    _replay_sq(smp, np.array([level]), reserves)
    assert 0 < binding < smp.size
    # The first search takes those pairs only (later ones the pairs still short of their end).
    assert sizes[0] == binding


def _replays(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records how many candidates each replay of the search takes."""
    sizes: list[int] = []
    real = rationing._service

    def spy(smp, level, reserves, cycles=True):  # type: ignore[no-untyped-def]
        sizes.append(int(level.size))
        return real(smp, level, reserves, cycles)

    monkeypatch.setattr(rationing, "_service", spy)
    return sizes


@pytest.mark.parametrize(("guess", "most"), [(100.0, 24), (150.0, 27), (200.0, 38)])
def test_level_search_finds_the_smallest_level_in_fewer_replays(
    monkeypatch: pytest.MonkeyPatch, guess: float, most: int
) -> None:
    smp = sample_sq(SEGMENTS, 5, 1, 60.0, 2000, seed=5)
    need = Need(SEGMENTS.fill_target, SEGMENTS.csl_target)
    reserves = np.array([[0.0, 0.0, 0.0], [0.0, 4.0, 12.0], [0.0, 10.0, 10.0]])
    # Independently of the search: every level from 0 up, the first that meets every target.
    want = []
    for c in reserves:
        levels = np.arange(0.0, 300.0)
        ok, _ = _meets(smp, need, levels, np.tile(c, (levels.size, 1)))
        want.append(levels[np.argmax(ok)])
    replays = _replays(monkeypatch)
    got, _ = _levels_near(smp, need, reserves, np.full(3, guess))
    np.testing.assert_array_equal(got, want)
    # Candidates replayed in all: steps doubling outward and then bisection took 31, 35 and 45
    # from these guesses (to 115, 127 and 131).
    assert sum(replays) <= most


def test_slow_counts_search_only_the_draws_past_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    # A slow item's day: negative binomial with mean 0.2 and variance 1.0, P(X = 0) = p^a = 0.92.
    p = 0.2
    a = 0.2 * p / (1.0 - p)
    searched: list[int] = []
    real = np.searchsorted

    def spy(table, values, side="left"):  # type: ignore[no-untyped-def]
        searched.append(int(np.size(values)))
        return real(table, values, side=side)

    monkeypatch.setattr(np, "searchsorted", spy)
    got = rationing._counts(np.random.default_rng(1), a, p, (200_000,))
    monkeypatch.undo()
    # The same counts as the inverse CDF of every draw (the uniforms drawn again).
    u = np.random.default_rng(1).random(200_000)
    want = np.searchsorted(rationing._count_table(a, p), u, side="right")
    np.testing.assert_array_equal(got, want)
    assert abs((got == 0).mean() - p**a) < 0.003
    assert sum(searched) < 0.1 * 200_000


def test_sq_sample_stock_sums_are_the_days_stock_drawn_down_mid_day() -> None:
    smp = sample_sq(SEGMENTS, 5, 1, 60.0, 300, seed=3)
    assert smp.held is not None and smp.start is not None and smp.days is not None
    k = SEGMENTS.mean.size
    width = smp.held.size // k
    tau = smp.days.astype(int)
    for i in (0, 7, 299):
        days = smp.seq[smp.start[i] : smp.start[i] + tau[i]]
        order = smp.order[smp.start[i] : smp.start[i] + tau[i]]
        for j in range(k):
            # Tiers 0..j's demand each day, summed from the sample's days in arrival order.
            mine = np.where(order <= j, days, 0.0).sum(axis=1)
            drawn = np.concatenate([[0.0], np.cumsum(mine)])
            want = np.concatenate([[0.0], np.cumsum(drawn[:-1] + 0.5 * mine)])
            first = j * width + smp.start[i] + i
            np.testing.assert_array_equal(smp.held[first : first + tau[i] + 1], want)
