"""The review interval is the user's: --policy sQ|RS and --review-days N (issue 11, item 6)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from segchain.errors import UsageError
from segchain.stock import simulate, stock

WEEKS = [date(2024, 1, 1) + timedelta(weeks=i) for i in range(4)]


def weekly(mu: float, sd: float, cls: str = "smooth", sku: str = "A") -> pl.DataFrame:
    return pl.DataFrame(
        {"sku": sku, "ds": WEEKS, "forecast": mu, "error_sd": sd, "demand_class": cls}
    )


@pytest.mark.parametrize(
    ("policy_type", "review_days", "expected"),
    [
        (None, None, ("sQ", 1.0)),  # nightly MRP run
        (None, 7.0, ("RS", 7.0)),  # --review-days alone: (R, S), as before --policy
        ("sQ", 7.0, ("sQ", 7.0)),
        ("RS", None, ("RS", 1.0)),
        ("rs", 3.0, ("RS", 3.0)),
        ("s,Q", None, ("sQ", 1.0)),
    ],
)
def test_policy_type_and_review_days_resolve(
    policy_type: str | None, review_days: float | None, expected: tuple[str, float]
) -> None:
    p = stock(weekly(10.0, 2.0), policy_type=policy_type, review_days=review_days).policy
    assert (p["policy_type"].item(), p["review_days"].item()) == expected


def test_unknown_policy_type_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--policy must be one of sQ, RS, got 'Ss'"):
        stock(weekly(10.0, 2.0), policy_type="Ss")


def test_rs_every_r_days_protects_lead_time_plus_r_days() -> None:
    # Weekly forecast (100, 20), L = 14 days, (R, S) every 3 days: the interval is 17 days, mean
    # 100*17/7, variance 400*17/7 (a week's demand the sum of independent daily demands).
    items = pl.DataFrame({"sku": ["A"], "lead_time_days": [14.0]})
    p = stock(
        weekly(100.0, 20.0), items=items, policy_type="RS", review_days=3, service_measure="csl"
    ).policy
    t = 17 / 7
    assert p["mean_demand_lt"].item() == pytest.approx(100 * t)
    assert p["sd_demand_lt"].item() == pytest.approx(20 * math.sqrt(t))
    assert p["order_up_to"].item() == math.ceil(100 * t + 1.6449 * 20 * math.sqrt(t))


def test_nightly_sq_holds_less_than_weekly_for_the_same_promise() -> None:
    items = pl.DataFrame({"sku": ["A"], "lead_time_days": [14.0], "unit_cost": [20.0]})
    kw = {"items": items, "service_level": 0.98, "policy_type": "sQ"}
    nightly = stock(weekly(100.0, 30.0), review_days=1, **kw).policy
    week = stock(weekly(100.0, 30.0), review_days=7, **kw).policy
    assert nightly["order_qty"].item() == week["order_qty"].item()
    assert nightly["reorder_point"].item() < week["reorder_point"].item()
    assert nightly["avg_inventory"].item() < week["avg_inventory"].item()


# (weekly mean, sd, class, fill-rate target, unit cost, order cost): Q small enough that the
# level matters (a normal, a Poisson and a negative binomial item).
NIGHTLY = {
    "smooth": (30.0, 8.0, "smooth", 0.95, 100.0, 20.0),
    "slow": (1.5, math.sqrt(1.5), "intermittent", 0.95, 100.0, 10.0),
    "lumpy": (2.0, 3.0, "lumpy", 0.90, 50.0, 10.0),
}
REPLICAS = 8
WEEKS_REPLAYED = 20_000


@pytest.fixture(scope="module")
def nightly_replay() -> dict[str, tuple[float, float, float]]:
    """Nightly (s, Q) replayed day by day for 20,000 weeks x REPLICAS: pooled fill rate, the
    policy's expected fill rate, the target."""
    out = {}
    for name, (mu, sd, cls, target, cost, order_cost) in NIGHTLY.items():
        items = pl.DataFrame(
            {
                "sku": [name],
                "lead_time_days": [10.0],
                "unit_cost": [cost],
                "order_cost": [order_cost],
            }
        )
        policy = stock(
            weekly(mu, sd, cls, sku=name),
            items=items,
            service_level=target,
            service_measure="fill-rate",
        ).policy
        assert (policy["policy_type"].item(), policy["review_days"].item()) == ("sQ", 1.0)
        sim = simulate(pl.concat([policy] * REPLICAS), periods=WEEKS_REPLAYED, seed=21)
        pooled = 1 - sim["shortage"].sum() / sim["demand"].sum()
        out[name] = (float(pooled), float(policy["expected_fill_rate"].item()), target)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", list(NIGHTLY))
def test_nightly_sq_meets_its_fill_rate_in_a_daily_replay(nightly_replay, name: str) -> None:
    # The simulator steps a day at a time (weekly demand split into 7 independent days) and
    # looks at the position every night, independently of the formulas.
    achieved, expected, target = nightly_replay[name]
    assert achieved >= target - 0.005
    assert achieved == pytest.approx(expected, abs=0.005)


def test_simulator_steps_days_for_a_nightly_review() -> None:
    from segchain.stock.sim import review_steps

    assert review_steps(np.array([7.0]), np.array([1.0])) == 7
    assert review_steps(np.array([7.0]), np.array([14.0])) == 1
    assert review_steps(np.array([7.0]), np.array([3.0])) == 7
    assert review_steps(np.array([1.0]), np.array([1.0])) == 1


def test_cli_policy_and_review_days(cli, tmp_path) -> None:
    fc, out = tmp_path / "forecast.csv", tmp_path / "policy.csv"
    weekly(10.0, 2.0).write_csv(fc)
    result = cli("stock", str(fc), "--policy", "sQ", "--review-days", "7", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "(s, Q) looked at every 7 days" in result.stderr
    p = pl.read_csv(out)
    assert (p["policy_type"].item(), p["review_days"].item()) == ("sQ", 7.0)
    result = cli("stock", str(fc), "--review-days", "7", "-o", str(out))
    assert "(R, S) every 7 days" in result.stderr
    assert pl.read_csv(out)["policy_type"].item() == "RS"
    result = cli("stock", str(fc), "--policy", "Ss", "-o", str(out))
    assert result.exit_code == 2
    assert "--policy: must be one of sQ, RS (s,Q and R,S too), got 'Ss'" in result.stderr
