"""The (s, Q) cycle service level P(D_L + U <= s) of over-dispersed items off the pmf grid,
against an independent computation: the direct sum over the undershoot U's pmf (Hadley &
Whitin), P(U = u) = (P(D_1 > u) - P(D_1 > u + Q)) / sum_{j<Q} P(D_1 > j), with
scipy.stats.nbinom's tails (exact where P(D > 0) is 1e-18), or scipy.integrate.quad for gamma."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import integrate, stats

from segchain.stock.distributions import Fitted
from segchain.stock.levels import per_row
from segchain.stock.sq import undershoot_csl_bounds


def _nbinom(mean: float, var: float):  # type: ignore[no-untyped-def]
    p = mean / var
    return stats.nbinom(mean * p / (1.0 - p), p)


def _direct_csl(s: float, q: int, mean_1: float, var_1: float, mean_l: float, var_l: float):  # type: ignore[no-untyped-def]
    """P(D_L + U <= s) = sum_{u=0}^{s} P(U = u) P(D_L <= s - u), summed term by term."""
    d1, dl = _nbinom(mean_1, var_1), _nbinom(mean_l, var_l)
    norm = d1.sf(np.arange(q)).sum()
    u = np.arange(int(s) + 1, dtype=float)
    return float(np.sum((d1.sf(u) - d1.sf(u + q)) / norm * dl.cdf(s - u)))


def _policy_row(tmp_path: Path, cli, error_sd: float, measure: str) -> dict:  # type: ignore[no-untyped-def]
    weeks = [dt.date(2024, 1, 1) + dt.timedelta(weeks=i) for i in range(4)]
    rows = [
        {
            "unique_id": "S/A",
            "ds": d,
            "forecast": 5.0,
            "segment": "S",
            "sku": "A",
            "demand_class": "lumpy",
            "mean_demand": 5.0,
            "error_sd": error_sd,
        }
        for d in weeks
    ]
    fc, out = tmp_path / "fc.csv", tmp_path / "policy.csv"
    pl.DataFrame(rows).write_csv(fc)
    result = cli("stock", str(fc), "--service-measure", measure, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    row = pl.read_csv(out).row(0, named=True)
    # Weekly periods, a 14-day lead time, looked at daily: D_1 is a day's demand (1/7 period),
    # D_L two periods'; no lead-time variability.
    assert (row["period_days"], row["lead_time_days"], row["review_days"]) == (7.0, 14.0, 1.0)
    assert not row["lead_time_sd_days"]
    assert row["distribution"] == "negbin" and row["policy_type"] == "sQ"
    return row


def _moments(row: dict) -> tuple[float, float, float, float]:
    mu, var = row["mean_demand"], row["sd_demand"] ** 2
    r, lead = row["review_days"] / row["period_days"], row["lead_time_days"] / row["period_days"]
    return mu * r, var * r, mu * lead, var * lead


def test_sq_csl_at_absurd_dispersion_is_the_undershoots_not_zero(cli, tmp_path) -> None:
    # error_sd 1e10 on a mean of 5: a day's demand is 0 but for 1.6e-18 of days (r 3.6e-20).
    # The undershoot's moments put all of U at 1e19 units and the CSL read 0; at the level
    # planned it is P(U <= s) (D_L is 0 but for 1e-17), summed here over the Q tails.
    row = _policy_row(tmp_path, cli, 1e10, "fill-rate")
    mean_1, var_1, mean_l, var_l = _moments(row)
    s, q = row["reorder_point"], int(row["order_qty"])
    d1, dl = _nbinom(mean_1, var_1), _nbinom(mean_l, var_l)
    below = 1.0 - d1.sf(s + 1 + np.arange(q)).sum() / d1.sf(np.arange(q)).sum()
    lower, upper = below * (1.0 - dl.sf(0)), below  # P(U <= s) P(D_L = 0) <= CSL <= P(U <= s)
    assert upper - lower < 1e-12
    assert 0.3 < lower < 0.45  # 0.3706
    assert row["expected_csl"] == pytest.approx(lower, abs=2e-3)


def test_sq_csl_of_an_over_dispersed_item_is_the_direct_sums(cli, tmp_path) -> None:
    # error_sd 100 on a mean of 5 (off the grid): 0.9996 was reported where it is 0.9712.
    row = _policy_row(tmp_path, cli, 100.0, "fill-rate")
    truth = _direct_csl(row["reorder_point"], int(row["order_qty"]), *_moments(row))
    assert row["expected_csl"] == pytest.approx(truth, abs=2e-3)


def test_sq_csl_target_of_an_over_dispersed_item_is_met_by_the_direct_sums(cli, tmp_path) -> None:
    # A CSL target of 0.95 planned 1,253 units, a CSL of 0.837 by the direct sum.
    row = _policy_row(tmp_path, cli, 100.0, "csl")
    s, q = row["reorder_point"], int(row["order_qty"])
    assert _direct_csl(s, q, *_moments(row)) == pytest.approx(0.95, abs=2e-3)
    assert row["expected_csl"] == pytest.approx(0.95, abs=1e-3)


@pytest.mark.parametrize(
    "sd, s",
    [(30.0, 0.0), (30.0, 216.0), (100.0, 200.0), (100.0, 3431.0), (1000.0, 20000.0)],
)
def test_undershoot_csl_bounds_hold_the_direct_sum_negbin(sd, s) -> None:
    mean_1, var_1, mean_l, var_l = 5.0 / 7, sd * sd / 7, 10.0, 2 * sd * sd
    d = np.array(["negbin"])
    lo, hi = undershoot_csl_bounds(
        np.array([s]),
        per_row(Fitted, d, np.array([mean_1]), np.array([var_1]), "sf"),
        per_row(Fitted, d, np.array([mean_l]), np.array([var_l]), "cdf"),
        np.array([324.0]),
        continuous=False,
    )
    truth = _direct_csl(s, 324, mean_1, var_1, mean_l, var_l)
    assert lo[0] <= truth <= hi[0]
    assert hi[0] - lo[0] < 0.1


@pytest.mark.parametrize(
    "mean_1, cv2, lead, q, x",
    [(50.0, 5.0, 14, 400.0, 300.0), (50.0, 5.0, 14, 400.0, 1500.0), (200.0, 40.0, 5, 2000.0, 3e4)],
)
def test_undershoot_csl_bounds_hold_the_integral_gamma(mean_1, cv2, lead, q, x) -> None:
    var_1 = cv2 * mean_1 * mean_1

    def gamma(m: float, v: float):  # type: ignore[no-untyped-def]
        return stats.gamma(m * m / v, scale=v / m)

    d1, dl = gamma(mean_1, var_1), gamma(mean_1 * lead, var_1 * lead)
    norm = integrate.quad(d1.sf, 0, q, limit=200)[0]
    truth = integrate.quad(
        lambda u: (d1.sf(u) - d1.sf(u + q)) / norm * dl.cdf(x - u),
        0,
        x,
        limit=500,
        points=[min(q, x)],
    )[0]
    d = np.array(["gamma"])
    lo, hi = undershoot_csl_bounds(
        np.array([x]),
        per_row(Fitted, d, np.array([mean_1]), np.array([var_1]), "sf"),
        per_row(Fitted, d, np.array([mean_1 * lead]), np.array([var_1 * lead]), "cdf"),
        np.array([q]),
        continuous=True,
    )
    assert lo[0] <= truth <= hi[0]
