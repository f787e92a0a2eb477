"""Audit V (session 64): the closed chain per site, network -> costs (V1, V3) and segment --geo
(V5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from segchain.costs import _planned_units
from segchain.network import network

# ---------------------------------------------------------------------------------------------
# V1: the units a split plan is planned for


def _split_plan() -> pl.DataFrame:
    """Assignments as network writes them: the customer's whole demand on each of its lanes.
    C2 (80 units) is split 0.25 / 0.75; C3 was left out without coordinates (no site, no
    share)."""
    return pl.DataFrame(
        {
            "customer_id": ["C1", "C2", "C2", "C3"],
            "site_id": ["S1", "S1", "S2", None],
            "share": [1.0, 0.25, 0.75, None],
            "demand": [20.0, 80.0, 80.0, 10.0],
            "left_out": [None, None, None, "unlocated"],
        }
    )


def test_planned_units_of_a_split_plan_on_its_own_orders_say_nothing() -> None:
    """Network's split plan on exactly the orders' 110 units read as 190 (C2's 80 counted on
    both lanes): 'profit mixes two periods', exit 0, on a plan of the orders' own period."""
    lines = pl.DataFrame(
        {"customer_id": ["C1", "C2", "C2", "C3"], "quantity": [20.0, 50.0, 30.0, 10.0]}
    )
    assert _planned_units(_split_plan(), lines, 365) is None


def test_planned_units_of_a_split_plan_against_other_orders_are_said() -> None:
    """A real mismatch is still said, with the plan's units counted once: 20 + 80 + 10."""
    lines = pl.DataFrame({"customer_id": ["C1", "C2", "C3"], "quantity": [5.0, 30.0, 5.0]})
    assert _planned_units(_split_plan(), lines, 365) == {
        "planned": 110.0,
        "ordered": 40.0,
        "period_days": 365,
    }


# ---------------------------------------------------------------------------------------------
# V3: a share of the solver's tolerance is no lane

NOISE = 1.357e-7  # the share HiGHS left on customer 0000172's second lane (sample_data)


def _noisy_solver(monkeypatch: pytest.MonkeyPatch, sites: int) -> None:
    """The real solve, with NOISE of each customer's share moved off its site onto its other
    one, as HiGHS leaves it within its primal feasibility tolerance (1e-7)."""
    import segchain.network.model as model

    real = model._interruptible

    def noisy(solve, *args, **kwargs):  # type: ignore[no-untyped-def]
        res = real(solve, *args, **kwargs)
        x = np.array(res.x, dtype=float)
        share = x[sites:]
        x[sites:] = np.where(share > 0.5, share - NOISE, share + NOISE)
        res.x = x
        return res

    monkeypatch.setattr(model, "_interruptible", noisy)


def test_network_split_drops_a_share_of_solver_tolerance(monkeypatch) -> None:
    """A lane of share 1.4e-7 was written: the customer listed as split over two sites, served
    by a site for 8.7e-5 of its units. Customer x sits at A (0 km), 1 degree from B; both
    sites exist (open), with room for it: A serves it whole."""
    _noisy_solver(monkeypatch, sites=2)
    customers = pl.DataFrame({"customer_id": ["x"], "demand": [642.0], "lat": [0.0], "lon": [0.0]})
    sites = pl.DataFrame(
        {
            "site_id": ["A", "B"],
            "lat": [0.0, 1.0],
            "lon": [0.0, 0.0],
            "capacity": [1000.0, 1000.0],
            "existing": [True, True],
        }
    )
    result = network(customers, sites=sites, allow_split=True)
    lanes = result.assignments.select("customer_id", "site_id", "share", "transport_cost")
    assert lanes.rows() == [("x", "A", 1.0, 0.0)]
    served = dict(result.sites.select("site_id", "demand_served").iter_rows())
    assert served == {"A": 642.0, "B": 0.0}
    customers_at = dict(result.sites.select("site_id", "customers").iter_rows())
    assert customers_at == {"A": 1, "B": 0}
    assert result.totals.transport_cost == 0.0


# ---------------------------------------------------------------------------------------------
# V5: segment --geo on orders without a postal code


def test_segment_geo_on_orders_without_postal_code_says_it_placed_no_one(
    cli, tmp_path: Path
) -> None:
    """Online Retail (countries only) with a US ZIP table: 'postal 0', exit 0, nothing said;
    every customer sat at its country's centre."""
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price,country\n"
        "O1,2024-01-02,C1,A,2,5.0,United Kingdom\n"
        "O2,2024-02-03,C2,A,1,5.0,France\n"
        "O3,2024-03-04,C1,B,3,4.0,United Kingdom\n"
    )
    geo = tmp_path / "zip.csv"
    geo.write_text("zip,lat,lon\n10001,40.75,-73.99\n60601,41.88,-87.62\n")
    result = cli(
        "segment", str(orders), "--geo", str(geo), "--geo-country", "US", "-o", "seg.parquet"
    )
    assert result.exit_code == 0, result.stderr
    assert (
        f"Warning: --geo {geo} was not used: the orders have no postal_code column, so no "
        "customer is placed by postal code; if a column of the export holds postal codes, map "
        "it: --map postal_code=HEADER"
    ) in " ".join(result.stderr.split())
    assert pl.read_parquet("seg.parquet")["geo_precision"].to_list() == ["country", "country"]


def test_segment_geo_on_orders_with_postal_code_says_nothing_of_it(cli, tmp_path: Path) -> None:
    """The table used: no such warning, the customer placed by its code."""
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price,postal_code,country\n"
        "O1,2024-01-02,C1,A,2,5.0,10001,US\n"
        "O2,2024-02-03,C2,A,1,5.0,60601,US\n"
    )
    geo = tmp_path / "zip.csv"
    geo.write_text("zip,lat,lon\n10001,40.75,-73.99\n60601,41.88,-87.62\n")
    result = cli(
        "segment", str(orders), "--geo", str(geo), "--geo-country", "US", "-o", "seg.parquet"
    )
    assert result.exit_code == 0, result.stderr
    assert "was not used" not in result.stderr
    assert pl.read_parquet("seg.parquet")["geo_precision"].to_list() == ["postal", "postal"]
