"""The rationing decision does not follow the seed where the saving is within the simulation's
noise (session 66).

The two points are the demo's (``make demo``'s stock stage, (R, S) weekly): their segments'
demand, targets and lead time as ``rationing.ration`` hands them to ``plan``, and the stream
that point drew from under ``--seed 0``. Before session 66, point A was rationed under
``--seed 1`` and not under 0 (its search's 1,000-odd cycles found no reserves paying, the
check sample's 20,000 a unit of S saved, within the levels' rounding), and point B, saving about
six units of S under seeds 0, 1, 3 and 4, was not rationed under seed 2 (the search's small
sample again).
"""

from __future__ import annotations

import numpy as np
import pytest

from segchain.stock import rationing
from segchain.stock.rationing import Segments, plan, replay, sample, sample_sq

NAN = float("nan")


# Per point: each tier's demand and variance a day, fill-rate targets, the lead time's sd, the
# formulas' level, the stream drawn under --seed 0 and the two seeds that disagreed.
MEAN = {
    "A": [3.6149689412845194, 0.5137108728170144, 0.030750298724962134],
    "B": [10.622156459370789, 2.4362452861377295, 0.06906267184554657],
}
VAR = {
    "A": [144.58901117472786, 6.462999203717362, 0.3174560869431528],
    "B": [1751.9642880410283, 165.02254843869449, 0.04654018185245519],
}
FILL = {"A": [0.99, 0.98, 0.85], "B": [0.99, 0.98, 0.96]}
LEAD_SD = {"A": 3.5, "B": 2.1}
START = {"A": 275.0, "B": 736.0}
STREAM = {"A": 7590698949295446448, "B": 3542958173539913134}
SEEDS = {"A": (0, 1), "B": (0, 2)}


def _point(name):
    """A demo point's search: its tiers (fill-rate targets), 15-day lead, weekly review."""
    seg = Segments(
        mean=np.array(MEAN[name]),
        var=np.array(VAR[name]),
        fill_target=np.array(FILL[name]),
        csl_target=np.full(3, NAN),
    )
    search = {
        "lead_days": 15,
        "lead_sd_days": LEAD_SD[name],
        "review_days": 7,
        "start_level": START[name],
    }
    return seg, search, STREAM[name], SEEDS[name]


@pytest.mark.parametrize("name", ["A", "B"])
def test_rationing_decision_same_under_two_seeds(name):
    seg, kwargs, stream, seeds = _point(name)
    rationed = [plan(seg, seed=stream + s, **kwargs).unrationed is not None for s in seeds]
    assert rationed[0] == rationed[1], f"rationed under seeds {seeds}: {rationed}"


def test_a_unit_of_s_saved_is_not_rationing():
    """Point A's reserves save a unit of S under seed 1 (the two levels 294 and 293): that is
    the levels' rounding, and the point keeps every promise first come, first served."""
    seg, kwargs, stream, _ = _point("A")
    assert plan(seg, seed=stream + 1, **kwargs).unrationed is None


@pytest.mark.parametrize("sq", [False, True], ids=["RS", "sQ"])
def test_sample_parts_add_up_to_the_whole(sq):
    """The parts of a sample (``Sample.part``, on which the saving's standard error is
    measured) are samples of their cycles: their shortages, cycles short and stock add up to
    the whole's, and so does each tier's demand."""
    seg = Segments(
        mean=np.array([2.0, 3.0, 1.0]),
        var=np.array([5.0, 6.0, 3.0]),
        fill_target=np.array([0.99, 0.95, 0.9]),
        csl_target=np.array([NAN, NAN, NAN]),
    )
    smp = sample_sq(seg, 14, 1, 60.0, 3000, 5, 2.0) if sq else sample(seg, 14, 7, 3000, 5, 2.0)
    level = np.array([150.0, 170.0, 120.0])
    reserves = np.array([[0.0, 10.0, 20.0], [0.0, 0.0, 0.0], [0.0, 5.0, 5.0]])
    short, cycles_short, on_hand, any_short = replay(smp, level, reserves)
    days = smp.days if smp.days is not None else np.ones(smp.size)
    got = [np.zeros_like(short), np.zeros_like(cycles_short), np.zeros(3), np.zeros(3)]
    demand = np.zeros(3)
    for lo, hi in ((0, 1000), (1000, 1700), (1700, 3000)):
        part = smp.part(lo, hi)
        assert part.size == hi - lo
        p_short, p_cycles, p_on_hand, p_any = replay(part, level, reserves)
        got[0] += p_short
        got[1] += p_cycles
        got[2] += p_on_hand * days[lo:hi].sum()
        got[3] += p_any
        demand += part.demand
    np.testing.assert_array_equal(got[0], short)
    np.testing.assert_array_equal(got[1], cycles_short)
    np.testing.assert_allclose(got[2] / days.sum(), on_hand, rtol=1e-12)
    np.testing.assert_array_equal(got[3], any_short)
    np.testing.assert_array_equal(demand, smp.demand)
    assert rationing.SECTIONS >= 2
