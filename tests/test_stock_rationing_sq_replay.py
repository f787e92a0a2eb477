"""The (s, Q) replay (``rationing._replay_sq``) against a replay written here day by day.

The stage replays an (s, Q) cycle as a few stretches of days found by a sorted search on cumulative
demand, with only the days on which a reserve binds replayed position by position. Here every
cycle is replayed one day and one arriving segment at a time, from the same sampled cycles (the
lead-time demand, each day's demand in arrival order and the cycle's days): the shortages per
segment, the cycles short, and the mean stock on hand must be the same."""

from __future__ import annotations

import numpy as np
import pytest

from segchain.stock.rationing import (
    Need,
    Segments,
    _levels_below,
    _levels_near,
    _replay_sq,
    sample_sq,
)


def day_by_day(smp, level: np.ndarray, reserves: np.ndarray):
    """Shortage (C, K), cycles short (C, K), mean on hand (C,), cycles with any shortage (C,)."""
    c_count, k_count = reserves.shape
    tau = smp.days.astype(int)
    short = np.zeros((c_count, k_count))
    short_cycles = np.zeros((c_count, k_count))
    any_short = np.zeros(c_count)
    held = np.zeros(c_count)
    for c in range(c_count):
        for i in range(smp.size):
            h = max(level[c] - smp.lead[i], 0.0)
            hit = np.zeros(k_count, dtype=bool)
            for day in range(tau[i]):
                held[c] += 0.5 * h
                for pos in range(k_count):
                    k = int(smp.order[smp.start[i] + day, pos])
                    want = float(smp.seq[smp.start[i] + day, pos])
                    served = min(want, max(h - reserves[c, k], 0.0))
                    h -= served
                    short[c, k] += want - served
                    hit[k] |= want > served
                held[c] += 0.5 * h
            short_cycles[c] += hit
            any_short[c] += hit.any()
    return short, short_cycles, held / tau.sum(), any_short


# Three tiers, the lowest lumpy (variance 6x its mean), about 9 units a day in all.
SEGMENTS = Segments(
    mean=np.array([2.0, 3.0, 4.0]),
    var=np.array([2.0, 6.0, 24.0]),
    fill_target=np.array([0.99, 0.95, 0.8]),
    csl_target=np.full(3, np.nan),
)


@pytest.mark.parametrize("order_qty", [60.0, 37.5])
def test_sq_replay_by_stretches_equals_a_replay_day_by_day(order_qty: float) -> None:
    smp = sample_sq(SEGMENTS, 5, 1, order_qty, 150, seed=3, lead_sd_days=1.0)
    rng = np.random.default_rng(0)
    count = 14
    # Levels from out of stock at every arrival to never short; reserves non-decreasing down
    # the tiers, some equal, some above the stock at the start, the top tier's 0.
    level = np.concatenate([[0.0, 10.0], rng.integers(40, 160, count - 2)]).astype(float)
    reserves = np.zeros((count, 3))
    reserves[:, 1:] = np.sort(rng.integers(0, 60, (count, 2)), axis=1)
    reserves[2] = [0.0, 25.0, 25.0]
    reserves[3] = [0.0, 0.0, 0.0]
    level[-1], reserves[-1] = 400.0, [0.0, 0.0, 0.0]
    got = _replay_sq(smp, level, reserves)
    want = day_by_day(smp, level, reserves)
    # Whole units (and halves on hand) where Q is whole: the same numbers to the bit. A Q of
    # 37.5 puts the position after an order, so the stock, on fractions of a unit.
    for g, w in zip(got, want, strict=True):
        if float(order_qty).is_integer():
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-9)
    # The cases reach every branch: shortages in every tier, and some candidate never short.
    short = want[0]
    assert (short > 0).any(axis=0).all() and (short == 0).all(axis=1).any()


@pytest.mark.parametrize("slack", [0.0, 3.0])
def test_walk_skips_only_reserves_that_cannot_hold_less(slack: float) -> None:
    """The pattern walk searches S only for the reserve vectors that could hold less than the
    plan so far (``_levels_below``); the others, searched in full here, must hold at least as
    much, and the searched ones must get the full search's S. With ``slack`` the plan compared
    with holds that much more than its own stock, so that vectors failing at its S can still
    beat it one or two units above."""
    smp = sample_sq(SEGMENTS, 5, 1, 60.0, 400, seed=4)
    need = Need(SEGMENTS.fill_target, SEGMENTS.csl_target)
    level, held = _levels_near(smp, need, np.array([[0.0, 10.0, 20.0]]), np.array([100.0]))
    bar = float(held[0]) + slack
    vectors = np.zeros((30, 3))
    rng = np.random.default_rng(1)
    vectors[:, 1:] = np.sort(rng.integers(0, 50, (30, 2)), axis=1)
    got_level, got_held = _levels_below(smp, need, vectors, float(level[0]), bar)
    full_level, full_held = _levels_near(smp, need, vectors, np.full(30, level[0]))
    searched = np.isfinite(got_held)
    np.testing.assert_array_equal(got_level[searched], full_level[searched])
    np.testing.assert_array_equal(got_held[searched], full_held[searched])
    assert (full_held[~searched] >= bar - 1e-9).all()
    # Both kinds occur, and some vector holds less than the plan it is compared with, among
    # them (with slack) one that fails at the plan's S.
    assert searched.any() and (~searched).any() and (full_held < bar).any()
    if slack:
        assert ((full_level > level[0]) & (full_held < bar)).any()
