"""Session 68: fixed costs given per year, which network and costs take over one span.

Every business quotes a warehouse's fixed cost per year (leases, staff), but network weighed a
site's fixed_cost against the transport of the demand it was given (units over the orders' span)
and costs set it against the revenue of its period_days: a yearly cost had to be multiplied by
the orders' days / 365.25 by hand, and a yearly header was refused. Set whole, 54,000 a year
against Superstore's 1,458 days overstated profit by 161,556 of 178,415 (audit C3, session 66).

Now ``--fixed-cost-period year`` (``SEGCHAIN_FIXED_COST_PERIOD``, ``[network]
fixed_cost_period``), or a yearly header (``annual_fixed_cost``, ``fixed_cost_per_year``), gives
them per year: network takes them x the span of the segments' first to last order / 365.25,
writes both in --sites-out (``fixed_cost`` over the span, ``annual_fixed_cost``) and records the
period; costs takes ``annual_fixed_cost`` x its period_days / 365.25 and warns when network took
them over another span. Every figure below is computed by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

YEAR = 365.25  # the mean calendar year, stated here rather than imported from the code

# Two customers whose orders run from 2020-01-01 to 2023-12-31: 1,461 days, both end days
# counted (1,096 to 2023-01-01 with the leap day of 2020, + 365), four years of 365.25 days.
# Their first and last orders fall on a Wednesday, a Monday, a Saturday and a Sunday, on the 1st
# and the 31st of a month: no period grain, so the span is the days between, both counted.
CUSTOMERS = (
    "customer_id,segment,quantity,first_order,last_order\n"
    "A,S1,6,2020-01-01,2021-05-01\n"
    "B,S1,4,2021-02-01,2023-12-31\n"
)
DAYS = 1461
# Lanes: a unit costs 1 from S1 and 3 from S2, so transport is 10 (6 + 4 units) from S1, 30
# from S2; one customer split nowhere: one site serves both.
LANES = "site_id,customer_id,unit_cost\nS1,A,1\nS1,B,1\nS2,A,3\nS2,B,3\n"
# S1 costs 10 and S2 4 (a year, or the whole span when read as the orders' period).
COSTS = {"S1": 10.0, "S2": 4.0}


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    return str(path)


def sites_file(folder: Path, header: str) -> str:
    rows = "".join(f"{site},{cost:g}\n" for site, cost in COSTS.items())
    return write(folder, "sites.csv", f"site_id,{header}\n{rows}")


def run_network(cli, tmp_path: Path, header: str, *args: str, customers: str = CUSTOMERS):  # type: ignore[no-untyped-def]
    cust = write(tmp_path, "cust.csv", customers)
    lanes = write(tmp_path, "lanes.csv", LANES)
    return cli(
        "network",
        cust,
        "--sites",
        sites_file(tmp_path, header),
        "--costs",
        lanes,
        *args,
        "--sites-out",
        str(tmp_path / "sites_out.parquet"),
        "-o",
        str(tmp_path / "a.parquet"),
    )


def opened(tmp_path: Path) -> dict[str, dict]:
    table = pl.read_parquet(tmp_path / "sites_out.parquet")
    return {r["site_id"]: r for r in table.iter_rows(named=True)}


def meta(path: Path) -> dict[str, object]:
    raw = pq.read_metadata(path).metadata
    return {
        k.decode()[len("segchain.") :]: json.loads(v)
        for k, v in raw.items()
        if k.startswith(b"segchain.")
    }


# By hand. Read over the orders' span, S1 alone costs 10 + 10 = 20, S2 alone 4 + 30 = 34, both
# 14 + 10 at least: S1 opens. A year's cost over 1,461 days is 4 years' worth: S1 40 + 10 = 50,
# S2 16 + 30 = 46, both 56 + 10: S2 opens instead.
ORDERS_PLAN = {"open": "S1", "fixed": 10.0, "total": 20.0}
YEAR_PLAN = {"open": "S2", "fixed": 4.0 * DAYS / YEAR, "total": 4.0 * DAYS / YEAR + 30.0}
assert YEAR_PLAN["fixed"] == 16.0 and YEAR_PLAN["total"] == 46.0


def test_network_default_reads_fixed_cost_over_the_orders_span_as_before(
    cli, tmp_path: Path
) -> None:
    result = run_network(cli, tmp_path, "fixed_cost")
    assert result.exit_code == 0, result.stderr
    sites = opened(tmp_path)
    assert [s for s, r in sites.items() if r["open"]] == [ORDERS_PLAN["open"]]
    assert sites["S1"]["fixed_cost"] == 10.0
    assert "annual_fixed_cost" not in pl.read_parquet(tmp_path / "sites_out.parquet").columns
    said = meta(tmp_path / "a.parquet")
    assert said["totals"]["total_cost"] == pytest.approx(ORDERS_PLAN["total"])
    assert said["params"]["fixed_cost_period"] == "orders"
    assert said["fixed_cost_period"] == {"period": "orders"}


@pytest.mark.parametrize(
    ("header", "args", "env", "config"),
    [
        ("annual_fixed_cost", (), None, None),
        ("fixed_cost_per_year", (), None, None),
        ("Fixed cost (per year)", (), None, None),
        ("fixed_cost", ("--fixed-cost-period", "year"), None, None),
        ("fixed_cost", (), "year", None),
        ("fixed_cost", (), None, '[network]\nfixed_cost_period = "year"\n'),
    ],
)
def test_network_takes_a_yearly_fixed_cost_over_the_orders_span_and_opens_the_other_site(
    cli, tmp_path: Path, monkeypatch, header: str, args: tuple[str, ...], env, config
) -> None:
    if env is not None:
        monkeypatch.setenv("SEGCHAIN_FIXED_COST_PERIOD", env)
    if config is not None:
        args = (*args, "--config", write(tmp_path, "s.toml", config))
    result = run_network(cli, tmp_path, header, *args)
    assert result.exit_code == 0, result.stderr
    sites = opened(tmp_path)
    assert [s for s, r in sites.items() if r["open"]] == [YEAR_PLAN["open"]]
    # Both figures in --sites-out: the span's (what the plan weighed) and the year's (given).
    assert sites["S2"]["fixed_cost"] == pytest.approx(16.0)
    assert sites["S1"]["fixed_cost"] == pytest.approx(40.0)
    assert sites["S2"]["annual_fixed_cost"] == 4.0
    columns = pl.read_parquet(tmp_path / "sites_out.parquet").columns
    assert columns[columns.index("fixed_cost") + 1] == "annual_fixed_cost"
    for output in ("a.parquet", "sites_out.parquet"):
        said = meta(tmp_path / output)
        assert said["totals"]["fixed_cost"] == pytest.approx(YEAR_PLAN["fixed"])
        assert said["totals"]["total_cost"] == pytest.approx(YEAR_PLAN["total"])
        assert said["params"]["fixed_cost_period"] == "year"
        assert said["fixed_cost_period"] == {
            "period": "year",
            "days": DAYS,
            "first": "2020-01-01",
            "last": "2023-12-31",
            "step": "1 day",
            "days_per_year": YEAR,
        }
    said = " ".join(result.stderr.split())
    assert "taken over the 1,461 days the orders behind the demand cover" in said
    assert "(2020-01-01 to 2023-12-31, 4.00 years)" in said


def test_network_refuses_a_yearly_header_with_the_orders_period_given(cli, tmp_path: Path) -> None:
    result = run_network(cli, tmp_path, "annual_fixed_cost", "--fixed-cost-period", "orders")
    assert result.exit_code == 2, result.stderr
    assert "--fixed-cost-period orders, but --sites" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "a.parquet").exists()
    assert not (tmp_path / "sites_out.parquet").exists()


def test_network_refuses_a_yearly_cost_without_the_orders_dates(cli, tmp_path: Path) -> None:
    # A customers table of the user's own: no first_order, last_order to tell the span by.
    plain = "customer_id,segment,quantity\nA,S1,6\nB,S1,4\n"
    result = run_network(cli, tmp_path, "annual_fixed_cost", customers=plain)
    assert result.exit_code == 1, result.stderr
    said = " ".join(result.stderr.split())
    assert "the customers have no first_order, last_order" in said
    assert "hint: give segment's output as CUSTOMERS" in said
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "a.parquet").exists()


def test_network_refuses_both_a_span_and_a_yearly_fixed_cost(cli, tmp_path: Path) -> None:
    cust = write(tmp_path, "cust.csv", CUSTOMERS)
    sites = write(tmp_path, "s.csv", "site_id,fixed_cost,annual_fixed_cost\nS1,40,10\nS2,16,4\n")
    lanes = write(tmp_path, "lanes.csv", LANES)
    result = cli("network", cust, "--sites", sites, "--costs", lanes, "-o", "a.csv")
    assert result.exit_code == 1, result.stderr
    assert "both fixed_cost and 'annual_fixed_cost'" in result.stderr
    assert not (tmp_path / "a.csv").exists()


def test_network_refuses_an_unknown_period(cli, tmp_path: Path) -> None:
    result = run_network(cli, tmp_path, "fixed_cost", "--fixed-cost-period", "month")
    assert result.exit_code == 2, result.stderr
    assert "--fixed-cost-period" in result.stderr and "orders, year" in result.stderr


# costs ----------------------------------------------------------------------------------------

# Superstore-like: 8 sites at 54,000 a year, orders from 2014-01-03 to 2017-12-30 (1,458 days:
# 1,096 to 2017-01-03 with the leap day of 2016, + 361, + 1), as the audit measured.
SS_DAYS = 1458
SS_YEARLY = 54_000.0
SS_SITES = [f"DC{i}" for i in range(1, 9)]
SS_ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2014-01-03,A,P1,5,10\n"
    "2,2015-06-10,B,P1,3,10\n"
    "3,2016-02-29,C,P1,4,10\n"
    "4,2017-12-30,D,P1,2,10\n"
)
SS_SEGMENTS = "customer_id,segment\nA,S1\nB,S1\nC,S2\nD,S2\n"


def ss_assignments(tmp_path: Path, sites: list[str]) -> str:
    # Each customer served whole by one site, its units as demand (as network plans them).
    rows = [("A", "S1", 5), ("B", "S1", 3), ("C", "S2", 4), ("D", "S2", 2)]
    text = "customer_id,segment,site_id,share,demand,transport_cost\n" + "".join(
        f"{c},{s},{sites[i % len(sites)]},1,{d},0\n" for i, (c, s, d) in enumerate(rows)
    )
    return write(tmp_path, "a.csv", text)


def run_ss_costs(cli, tmp_path: Path, sites_text: str, served_by: list[str]):  # type: ignore[no-untyped-def]
    seg = write(tmp_path, "seg.csv", SS_SEGMENTS)
    orders = write(tmp_path, "o.csv", SS_ORDERS)
    sites = write(tmp_path, "s.csv", sites_text)
    out = tmp_path / "c.csv"
    result = cli(
        "costs",
        seg,
        "--orders",
        orders,
        "--assignments",
        ss_assignments(tmp_path, served_by),
        "--sites",
        sites,
        "--verbose",
        "-o",
        str(out),
    )
    table = pl.read_csv(out) if out.exists() else None
    return result, table


@pytest.mark.parametrize("header", ["annual_fixed_cost", "fixed_cost_per_year", "yearlyFixedCost"])
def test_costs_takes_a_yearly_fixed_cost_over_period_days(cli, tmp_path: Path, header: str) -> None:
    # Every site open: the 8 sites' year, over 1,458 of 365.25 days.
    rows = "".join(f"{s},{SS_YEARLY:g},true\n" for s in SS_SITES)
    result, table = run_ss_costs(cli, tmp_path, f"site_id,{header},open\n{rows}", SS_SITES[:4])
    assert result.exit_code == 0, result.stderr
    assert table is not None and table["period_days"].to_list() == [SS_DAYS, SS_DAYS]
    expected = 8 * SS_YEARLY * SS_DAYS / YEAR
    assert expected == pytest.approx(1_724_451.75, abs=0.01)
    assert table["warehouse_fixed"].sum() == pytest.approx(expected)
    said = " ".join(result.stderr.replace("│", " ").split())
    assert "annual_fixed_cost (a year's) x period_days 1,458 / 365.25" in said
    assert "sites open annual_fixed_cost x 1,458 days / 365.25 1,724,451.75" in said


@pytest.mark.parametrize(
    ("network_days", "warned"),
    [
        # network's --sites-out over the orders' own 1,458 days: nothing to say.
        (SS_DAYS, False),
        # network's plan over 4 years (1,461 days) beside orders of 1,458: costs sets the
        # year's cost over its own 1,458 days and says the plan weighed another span.
        (4 * YEAR, True),
    ],
)
def test_costs_of_networks_yearly_sites_out_over_its_own_period_days(
    cli, tmp_path: Path, network_days: float, warned: bool
) -> None:
    # network's --sites-out of costs given per year: fixed_cost (the span's) beside the year's,
    # the first two sites open.
    span = SS_YEARLY * network_days / YEAR
    rows = "".join(
        f"{s},{span!r},{SS_YEARLY:g},{'true' if i < 2 else 'false'}\n"
        for i, s in enumerate(SS_SITES)
    )
    result, table = run_ss_costs(
        cli, tmp_path, f"site_id,fixed_cost,annual_fixed_cost,open\n{rows}", SS_SITES[:2]
    )
    assert result.exit_code == 0, result.stderr
    assert table is not None
    assert table["warehouse_fixed"].sum() == pytest.approx(2 * SS_YEARLY * SS_DAYS / YEAR)
    said = " ".join(result.stderr.split())
    told = "network took the sites' yearly fixed costs (annual_fixed_cost) over 1,461 days"
    assert (told in said) is warned
    assert ("the orders here cover 1,458 (period_days)" in said) is warned


def test_costs_without_a_yearly_column_keeps_fixed_cost_as_the_spans(cli, tmp_path: Path) -> None:
    rows = "".join(f"{s},{SS_YEARLY:g},true\n" for s in SS_SITES)
    result, table = run_ss_costs(cli, tmp_path, f"site_id,fixed_cost,open\n{rows}", SS_SITES[:4])
    assert result.exit_code == 0, result.stderr
    assert table is not None and table["warehouse_fixed"].sum() == pytest.approx(8 * SS_YEARLY)


def test_costs_refuses_two_yearly_fixed_cost_columns(cli, tmp_path: Path) -> None:
    text = "site_id,annual_fixed_cost,fixed_cost_per_year,open\nDC1,1,1,true\n"
    result, table = run_ss_costs(cli, tmp_path, text, ["DC1"])
    assert result.exit_code == 1, result.stderr
    assert "each give a fixed cost per year" in result.stderr
    assert table is None


# The orders behind CUSTOMERS: A's and B's first and last orders, 10 units in all.
CHAIN_ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2020-01-01,A,P1,3,10\n2,2021-05-01,A,P1,3,10\n"
    "3,2021-02-01,B,P1,2,10\n4,2023-12-31,B,P1,2,10\n"
)


def chain_costs(cli, tmp_path: Path, sites: str, out: Path):  # type: ignore[no-untyped-def]
    """costs on network's plan (``run_network``'s outputs) over CHAIN_ORDERS."""
    orders = write(tmp_path, "o.csv", CHAIN_ORDERS)
    return cli(
        "costs",
        str(tmp_path / "cust.csv"),
        "--orders",
        orders,
        "--assignments",
        str(tmp_path / "a.parquet"),
        "--sites",
        sites,
        "-o",
        str(out),
    )


def test_network_then_costs_one_span_end_to_end(cli, tmp_path: Path) -> None:
    # The chain: network's CSV --sites-out of yearly costs, then costs over the same orders.
    result = run_network(cli, tmp_path, "annual_fixed_cost")
    assert result.exit_code == 0, result.stderr
    pl.read_parquet(tmp_path / "sites_out.parquet").write_csv(tmp_path / "so.csv")
    out = tmp_path / "c.parquet"
    result = chain_costs(cli, tmp_path, str(tmp_path / "so.csv"), out)
    assert result.exit_code == 0, result.stderr
    table = pl.read_parquet(out)
    # S2 open, 4 a year over 1,461 days: 16, the plan's fixed cost.
    assert table["period_days"].to_list() == [DAYS]
    assert table["warehouse_fixed"].sum() == pytest.approx(16.0)
    assert "network took the sites' yearly fixed costs" not in result.stderr
    # The report says the fixed cost is a year's over the span, not "as given".
    result = cli("report", str(out), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "r.md").read_text().replace("\\_", "_")
    said = "warehouse fixed cost is the sites' yearly annual_fixed_cost taken over that span"
    assert said in page
    assert "their cost over that span, not a year" not in page
    # A costs CSV carries no sources: the sites given beside it say the costs were a year's.
    table.write_csv(tmp_path / "c.csv")
    args = (str(tmp_path / "c.csv"), str(tmp_path / "so.csv"), "-o", str(tmp_path / "r2.md"))
    result = cli("report", *args)
    assert result.exit_code == 0, result.stderr
    assert said in (tmp_path / "r2.md").read_text().replace("\\_", "_")


def test_costs_refuses_the_users_yearly_sites_beside_a_plan_of_yearly_costs(
    cli, tmp_path: Path
) -> None:
    # network took the costs per year (--fixed-cost-period year); the user then gives costs
    # the sites file it read, whose fixed_cost is a year's: set whole against the orders' span
    # it would be C3's harm again (4 a year counted as 4 over four years). Refused.
    result = run_network(cli, tmp_path, "fixed_cost", "--fixed-cost-period", "year")
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "c.csv"
    result = chain_costs(cli, tmp_path, str(tmp_path / "sites.csv"), out)
    assert result.exit_code == 1, result.stderr
    said = " ".join(result.stderr.split())
    assert "network took the sites' fixed costs as a year's (fixed_cost_period year)" in said
    assert "gives no annual_fixed_cost" in said
    assert "hint: give network's --sites-out of that run, as written" in said
    assert "Traceback" not in result.stderr and not out.exists()


def test_a_yearly_headers_bad_value_is_named_by_its_header(cli, tmp_path: Path) -> None:
    # Read as the year's fixed cost, a value out of range is named under the header the file
    # has, not 'fixed_cost' (which the file does not have).
    cust = write(tmp_path, "cust.csv", CUSTOMERS)
    lanes = write(tmp_path, "lanes.csv", LANES)
    sites = write(tmp_path, "s.csv", "site_id,fixed_cost_per_year\nS1,-5\nS2,abc\n")
    result = cli("network", cust, "--sites", sites, "--costs", lanes, "-o", "a.csv")
    assert result.exit_code == 1, result.stderr
    assert "column 'fixed_cost_per_year' holds 1 value that is not a number" in result.stderr
    text = "site_id,fixed_cost_per_year,open\nDC1,-5,true\n"
    result, table = run_ss_costs(cli, tmp_path, text, ["DC1"])
    assert result.exit_code == 1, result.stderr
    said = " ".join(result.stderr.split())
    assert "fixed_cost_per_year must be a finite number >= 0 up to 1e+15, got -5.0" in said
    assert table is None
