"""(s, Q) with an order quantity that is a sliver of the demand's spread (session 69).

The shortage per period is (A(s) - A(s + Q)) / Q, a difference of two G2-losses of size sd^2:
with Q tiny against sd only its rounding was left (19 % off at Q = 6e-15 sd), and stock planned
a safety stock of -1.55e17 with an expected fill rate of 1.0 for 1e15 units a week, ten years'
lead time and an order quantity of 145. The references here are the textbook's own: the mean of
G1-loss over L + 1 periods minus over L across (s, s + Q] (A' = -(G1_t - G1_l)), G1 from
``math.erfc``, integrated by Simpson's rule.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

WEEKS = 3660 / 7  # ten years' lead time, in weekly periods


def g1(x: float, mean: float, sd: float) -> float:
    """E[(D - x)^+] for normal demand (Hadley & Whitin): sd (phi(k) - k (1 - Phi(k)))."""
    k = (x - mean) / sd
    return sd * (math.exp(-0.5 * k * k) / math.sqrt(2 * math.pi) - k * 0.5 * math.erfc(k / 2**0.5))


def reference(x: float, q: float, mt: float, st: float, ml: float, sl: float) -> float:
    n = 200
    h = q / n
    weights = [1 if i in (0, n) else (4 if i % 2 else 2) for i in range(n + 1)]
    total = sum(w * (g1(x + i * h, mt, st) - g1(x + i * h, ml, sl)) for i, w in enumerate(weights))
    return total * h / 3 / q


def shortage(x: float, q: float, mt: float, st: float, ml: float, sl: float) -> float:
    from segchain.stock.sq import normal_sq_shortage

    a = [np.array([v]) for v in (x, mt, st, ml, sl, q)]
    short, _ = normal_sq_shortage(a[0], a[1], a[2], a[3], a[4], a[5])
    return float(short[0])


@pytest.mark.parametrize(("scale", "q"), [(1e15, 145.0), (1e10, 145.0), (1e6, 1e-3), (1e2, 6.0)])
def test_shortage_matches_the_textbook_integral_whatever_q_against_the_spread(
    scale: float, q: float
) -> None:
    # Weekly demand of mean and sd `scale`, lead time 3660 days; s half a spread above the mean.
    mt, st = scale * (WEEKS + 1), scale * math.sqrt(WEEKS + 1)
    ml, sl = scale * WEEKS, scale * math.sqrt(WEEKS)
    x = mt + 0.5 * st
    assert shortage(x, q, mt, st, ml, sl) == pytest.approx(
        reference(x, q, mt, st, ml, sl), rel=1e-9
    )


def test_shortage_is_continuous_where_the_sliver_rule_starts() -> None:
    from segchain.stock.sq import SLIVER

    mt, st, ml, sl = (
        1e6 * (WEEKS + 1),
        1e6 * math.sqrt(WEEKS + 1),
        1e6 * WEEKS,
        1e6 * math.sqrt(WEEKS),
    )
    x = mt + 0.5 * st
    below, above = SLIVER * st * (1 - 1e-9), SLIVER * st * (1 + 1e-9)
    assert shortage(x, below, mt, st, ml, sl) == pytest.approx(
        shortage(x, above, mt, st, ml, sl), rel=1e-9
    )


def plan(cli, tmp_path: Path, weekly: float) -> dict:
    # Unit cost 1e15: an EOQ of a few units against ten years' lead time of `weekly` a week.
    fc = tmp_path / f"fc{weekly:g}.csv"
    fc.write_text(
        f"sku,ds,forecast,error_sd\nP1,2025-01-06,{weekly},{weekly}\nP1,2025-01-13,{weekly},{weekly}\n"
    )
    items = tmp_path / "items.csv"
    items.write_text("sku,unit_cost\nP1,1e15\n")
    out = tmp_path / f"out{weekly:g}.csv"
    result = cli(
        "stock", str(fc), "--items", str(items), "--lead-time-days", "3660", "-o", str(out)
    )
    assert result.exit_code == 0, result.stderr
    assert "overflow" not in result.stderr
    return pl.read_csv(out).row(0, named=True)


def test_stock_plans_a_sliver_order_quantity_to_its_fill_rate(cli, tmp_path: Path) -> None:
    big = plan(cli, tmp_path, 1e15)
    assert big["order_qty"] < 1e-10 * big["sd_demand_lt"]  # the case: a sliver
    assert big["expected_fill_rate"] == pytest.approx(0.95, abs=1e-6)
    assert big["safety_stock"] > 0
    # Normal demand scales: with Q negligible at both sizes, the plan for 1e15 a week is the
    # plan for 1e9 a week (where the old difference was still exact to 5e-6) times 1e6.
    small = plan(cli, tmp_path, 1e9)
    assert small["order_qty"] < 1e-10 * small["sd_demand_lt"]
    assert big["reorder_point"] / 1e15 == pytest.approx(small["reorder_point"] / 1e9, rel=1e-5)
    assert big["expected_csl"] == pytest.approx(small["expected_csl"], abs=1e-5)
