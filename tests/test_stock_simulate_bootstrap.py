"""`stock --simulate` replays a bootstrapped point on its history's bootstrap, the demand its plan
was made for (``demand_model`` bootstrap), not on the fitted distribution its plan rejected."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from heldout import weekly_order_up_to

from segchain.stock import stock
from segchain.stock.sim import simulate

MONDAY = date(2024, 1, 1)
WEEKS = 104
PERIODS = 20_000
# Sampling error, measured on the plan of the first test: its achieved fill rate over a replay
# of PERIODS weeks had a standard deviation of 0.0033 over replay seeds 0-9 (mean 0.9082), its
# expected fill rate (16,000 bootstrap draws) one of 0.0041 over plan seeds 0-9 (mean 0.9059,
# level 11 at every seed); the independent replay gives 0.9074. A tolerance of 0.02 is 3.8
# standard deviations of their difference (0.0053). The old replay gave 0.269-0.306.
TOL = 0.02


def lumpy_history(seed: int = 3) -> np.ndarray:
    """Two years of weekly demand: lumps of 4 to 8 units in about a fifth of the weeks."""
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(WEEKS) < 0.2, rng.integers(4, 9, WEEKS).astype(float), 0.0)
    y[0] = 6.0
    return y


def orders(history: dict[str, np.ndarray]) -> pl.DataFrame:
    """Each week's demand one order line on the Wednesday of its week."""
    rows = [(s, w, q) for s, y in history.items() for w, q in enumerate(y) if q > 0]
    return pl.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(len(rows))],
            "order_date": [MONDAY + timedelta(weeks=w, days=2) for _, w, _ in rows],
            "customer_id": "C1",
            "sku": [s for s, _, _ in rows],
            "quantity": [float(q) for _, _, q in rows],
            "unit_price": 1.0,
        }
    )


def forecast(means: dict[str, float], sd: float = 12.0) -> pl.DataFrame:
    """Four weeks after the history; an error sd far wider than the history's lumps (C smooth)."""
    end = MONDAY + timedelta(weeks=WEEKS)
    weeks = [end + timedelta(weeks=i) for i in range(4)]
    return pl.DataFrame(
        {
            "sku": [s for s in means for _ in weeks],
            "ds": weeks * len(means),
            "forecast": [m for m in means.values() for _ in weeks],
            "error_sd": sd,
            "demand_class": ["smooth" if s == "C" else "lumpy" for s in means for _ in weeks],
        }
    )


def plan(history: dict[str, np.ndarray], means: dict[str, float], **kw):
    """Weekly (R, S), one week's lead time, a 0.9 fill rate: the fitted negative binomial asks
    for more than the history ever shows, so each point is held there on its bootstrap."""
    items = pl.DataFrame({"sku": list(means), "lead_time_days": 7.0, **kw})
    return stock(
        forecast(means), orders=orders(history), items=items, review_days=7, service_level=0.9
    )


def resampled_replay(y: np.ndarray, mean: float, order_up_to: float, weeks: int) -> float:
    """Fill rate of weekly order-up-to with a one-week lead time (``heldout.weekly_order_up_to``)
    on demand resampled from ``y`` as Willemain, Smart & Schwarz (2004) do, written here apart
    from segchain: a zero / non-zero chain counted from ``y`` (from its first sale), a non-zero
    week selling one of ``y``'s non-zero weeks jittered to 1 + trunc(x + z sqrt(x)); the chain's
    weeks without a sale sell too with the probability that brings its mean up to ``mean``
    (sizes unchanged, as long as that probability is below 1)."""
    rng = np.random.default_rng(11)
    nz = y > 0
    prev, nxt = nz[:-1], nz[1:]
    p01 = (nxt & ~prev).sum() / (~prev).sum()
    p11 = (nxt & prev).sum() / prev.sum()
    start = p01 / (1 - p11 + p01)
    ratio = max(mean / y.mean(), 1.0)
    assert start * ratio < 1.0  # brought up by how often it sells alone
    add = (start * ratio - start) / (1 - start)
    sizes = y[nz]
    demand = np.zeros(weeks)
    selling = rng.random() < start
    for w in range(weeks):
        if w:
            selling = rng.random() < (p11 if selling else p01)
        if selling or rng.random() < add:
            x = float(rng.choice(sizes))
            j = 1.0 + math.trunc(x + rng.standard_normal() * math.sqrt(x))
            demand[w] = j if j > 0 else x
    return weekly_order_up_to(demand.tolist(), order_up_to)


def test_a_bootstrapped_point_achieves_the_fill_rate_its_bootstrap_expects():
    y = lumpy_history()
    mean = 1.5 * float(y.mean())  # the forecast above the history: brought up to it
    res = plan({"A": y}, {"A": mean})
    p = res.policy
    assert p["demand_model"].item() == "bootstrap"
    assert p["distribution"].item() == "negbin"
    expected = p["expected_fill_rate"].item()
    level = p["order_up_to"].item()
    # The known answer, apart from segchain: the plan replayed on the history resampled.
    known = resampled_replay(y, mean, level, weeks=200_000)
    assert expected == pytest.approx(known, abs=TOL)

    sim = simulate(p, periods=PERIODS, seed=0, history=res.history, keys=["sku"])
    assert sim["distribution"].item() == "bootstrap"
    assert sim["achieved_fill_rate"].item() == pytest.approx(known, abs=TOL)
    assert sim["achieved_fill_rate"].item() == pytest.approx(expected, abs=TOL)
    # The old replay, on the negative binomial the plan rejected, is far from both (0.269-0.306
    # over seeds 0-9 against 0.91 expected).
    old = simulate(p, periods=PERIODS, seed=0)
    assert old["distribution"].item() == "negbin"
    assert old["achieved_fill_rate"].item() != pytest.approx(expected, abs=TOL)
    assert old["achieved_fill_rate"].item() < 0.5


def test_a_points_replay_does_not_depend_on_the_points_beside_it():
    # A planned alone, and beside another bootstrapped point and a fitted one with a variable
    # lead time (whose draws come from the replay's shared generator), on the same orders:
    # A's replay is the same.
    rng = np.random.default_rng(8)
    b = np.where(rng.random(WEEKS) < 0.3, rng.integers(2, 12, WEEKS).astype(float), 0.0)
    b[0] = 5.0
    history = {"A": lumpy_history(), "B": b, "C": np.full(WEEKS, 40.0)}
    alone = plan(history, {"A": 2.0})
    both = plan(history, {"A": 2.0, "B": 2.5, "C": 40.0}, lead_time_sd_days=[0.0, 0.0, 3.0])
    pb = both.policy
    assert pb.filter(pl.col("sku") != "C")["demand_model"].to_list() == ["bootstrap"] * 2
    assert pb.filter(pl.col("sku") == "C")["demand_model"].item() == "fit"
    cols = ["sku", "achieved_fill_rate", "achieved_csl", "cycles", "demand", "shortage"]
    # The warm-up is given: by default it grows with the longest lead time among the points.
    kw = {"periods": 500, "seed": 4, "warmup": 20, "keys": ["sku"]}
    one = simulate(alone.policy, history=alone.history, **kw)
    many = simulate(pb, history=both.history, **kw)
    assert one.select(cols).equals(many.filter(pl.col("sku") == "A").select(cols))
    assert many.filter(pl.col("sku") == "A")["demand"].item() > 0


def test_cli_replays_the_bootstrapped_point_on_its_bootstrap(cli, tmp_path):
    y = lumpy_history()
    fc, o, out = tmp_path / "fc.csv", tmp_path / "orders.csv", tmp_path / "p.csv"
    forecast({"A": 1.5 * float(y.mean())}).write_csv(fc)
    orders({"A": y}).write_csv(o)
    args = ["stock", str(fc), "--review-days", "7", "--service-level", "0.9", "-o", str(out)]
    result = cli(*args, "--orders", str(o), "--simulate", "5000")
    assert result.exit_code == 0, result.output
    table = result.stderr.split("replay of 5,000 periods")[1]
    (row,) = [line for line in table.splitlines() if "│ fill-rate" in line]
    assert row.split(": ", 1)[1].startswith("bootstrap ")
    # Without --orders nothing changes: the fitted distribution is replayed.
    result = cli(*args, "--simulate", "5000")
    assert result.exit_code == 0, result.output
    table = result.stderr.split("replay of 5,000 periods")[1]
    (row,) = [line for line in table.splitlines() if "│ fill-rate" in line]
    assert row.split(": ", 1)[1].startswith("negbin ")
