"""A rationed point's plan and its ``--simulate`` replay take one demand: the point's.

``ration`` searches a point's reserve levels on the segments' variances brought to the point's
``sd_demand`` (``point_variances``: raised where the history's lumps raised the point's); the
replay of ``stock --simulate`` (``simulate_rationed``) drew the segments' own variances, so it
checked the plan against a narrower demand than the one it was planned for. Known answers:
the (R, S) cycle's expected shortage E[(D_{L+R} - S)^+] - E[(D_L - S)^+] (Hadley & Whitin;
Axsaeter, Inventory Control, sec. 5.3), over the negative binomial a day's demand of mean m and
variance v sums to, computed here with scipy, independently of the stage.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from segchain.stock.rationing import point_variances, simulate_rationed

PERIOD, LEAD, REVIEW = 7.0, 7, 7
# Two segments of one point, each 14 a week with a Poisson forecast error (variance 14); the
# point's history sells in lumps: variance 4x its mean, 112 a week against the segments' 28.
MEAN, SEG_VAR, POINT_VAR = 14.0, 14.0, 112.0
LEVEL = 60.0


def expected_fill(level: float, mean_day: float, var_day: float) -> float:
    """Fill rate of an (R, S) cycle with no reserves: 1 - E[shortage] / E[D_R], demand per day
    negative binomial (Poisson at var = mean), summed over L + R and L days."""

    def loss(days: int) -> float:
        m = mean_day * days
        if var_day <= mean_day * (1 + 1e-9):
            dist = stats.poisson(m)
        else:
            p = mean_day / var_day
            dist = stats.nbinom(mean_day * p / (1 - p) * days, p)
        x = np.arange(0, int(m + 60 * np.sqrt(var_day * days)) + 1)
        return float((np.maximum(x - level, 0.0) * dist.pmf(x)).sum())

    return 1.0 - (loss(LEAD + REVIEW) - loss(LEAD)) / (mean_day * REVIEW)


def frames() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    policy = pl.DataFrame(
        {
            "sku": ["A"],
            "rationed": [True],
            "review_days": [float(REVIEW)],
            "lead_time_days": [float(LEAD)],
            "lead_time_sd_days": [0.0],
            "order_up_to": [LEVEL],
            "sd_demand": [POINT_VAR**0.5],
        }
    )
    # Reserve 0 for the lower tier: both segments served first come, first served, each at the
    # point's fill rate.
    service = pl.DataFrame(
        {
            "sku": ["A", "A"],
            "segment": ["gold", "bronze"],
            "reserve_level": [0.0, 0.0],
            "tier": [0, 1],
        }
    )
    series = pl.DataFrame(
        {
            "sku": ["A", "A"],
            "segment": ["gold", "bronze"],
            "mu": [MEAN, MEAN],
            "sd": [SEG_VAR**0.5, SEG_VAR**0.5],
            "seg_level": [0.99, 0.90],
            "seg_measure": ["fill-rate", "fill-rate"],
        }
    )
    return policy, service, series


def test_simulate_rationed_draws_the_points_variance_its_plan_was_searched_on() -> None:
    policy, service, series = frames()
    out = simulate_rationed(
        policy, service, series, ["sku"], period_days=PERIOD, periods=20000, seed=3
    )
    lumpy = expected_fill(LEVEL, 2 * MEAN / PERIOD, POINT_VAR / PERIOD)
    poisson = expected_fill(LEVEL, 2 * MEAN / PERIOD, 2 * SEG_VAR / PERIOD)
    # The two demands differ by far more than the replay's noise (20,000 cycles).
    assert poisson - lumpy > 0.05
    for fill in out.get_column("achieved_fill_rate").to_list():
        assert fill == pytest.approx(lumpy, abs=0.01)


@pytest.mark.parametrize(
    ("var", "mu", "sd", "want"),
    [
        # Raised: the 8 added in proportion to the means 1 : 3.
        ([2.0, 6.0], [1.0, 3.0], 4.0, [4.0, 12.0]),
        # Lowered: the sum 8 brought to 4, each scaled by 1/2 (taking the 4 off in proportion
        # to the means would leave the next case 6 - 1 and 2 - 3: a negative variance).
        ([2.0, 6.0], [1.0, 3.0], 2.0, [1.0, 3.0]),
        ([6.0, 2.0], [1.0, 3.0], 2.0, [3.0, 1.0]),
        # Equal: unchanged.
        ([2.0, 6.0], [1.0, 3.0], 8.0**0.5, [2.0, 6.0]),
    ],
)
def test_point_variances_add_up_to_the_points_variance(
    var: list[float], mu: list[float], sd: float, want: list[float]
) -> None:
    got = point_variances(np.array(var), np.array(mu), sd)
    assert got.tolist() == pytest.approx(want)
    assert got.sum() == pytest.approx(sd * sd)
