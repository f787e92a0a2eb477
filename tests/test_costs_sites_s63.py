"""Session 63: ``costs --sites`` reads a header written otherwise as network does.

A candidate sites table whose ``existing`` column was headed ``existing_site`` was read as no site
existing: an existing site that serves no customer was left out of the fixed cost, with exit 0.
``fixed_cost_eur`` was refused as a missing ``fixed_cost`` without naming the column that holds it.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.test_costs_hostile import LANES, costs, write

# S1 serves both customers; S2 exists and serves no one, so its fixed cost is still paid.
SITES_ROWS = "S1,100,true\nS2,40,true\n"


def test_costs_candidate_sites_with_existing_read_charge_an_idle_existing_site(
    cli, tmp_path: Path
) -> None:
    out = tmp_path / "c.csv"
    sites = write(tmp_path, "s.csv", "site_id,fixed_cost,existing\n" + SITES_ROWS)
    result = costs(
        cli, tmp_path, "--assignments", write(tmp_path, "a.csv", LANES), "--sites", sites, out=out
    )
    assert result.exit_code == 0, result.stderr
    # Both sites' fixed costs, 100 + 40, are shared out: the two customers' sum is every open
    # site's cost (the control for the case below).
    assert pl.read_csv(out)["warehouse_fixed"].sum() == pytest.approx(140.0)


@pytest.mark.parametrize(
    ("header", "column", "name"),
    [
        ("site_id,fixed_cost,existing_site", "existing_site", "existing"),
        ("site_id,fixed_cost,isExisting", "isExisting", "existing"),
        ("site_id,fixed_cost_eur,existing", "fixed_cost_eur", "fixed_cost"),
        ("site_id,opening_cost,existing", "opening_cost", "fixed_cost"),
        ("site_id,fixed_cost,is_open", "is_open", "open"),
    ],
)
def test_costs_sites_columns_written_otherwise_are_refused_naming_the_rename(
    cli, tmp_path: Path, header: str, column: str, name: str
) -> None:
    out = tmp_path / "c.csv"
    sites = write(tmp_path, "s.csv", header + "\n" + SITES_ROWS)
    result = costs(
        cli, tmp_path, "--assignments", write(tmp_path, "a.csv", LANES), "--sites", sites, out=out
    )
    assert result.exit_code == 1, result.stderr
    assert f"column {column!r} is not read: segchain reads {name} by that name only" in (
        result.stderr
    )
    assert f"hint: rename it {name}," in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


@pytest.mark.parametrize("extra", ["capacity_used", "opening_date", "handling_cost", "utilization"])
def test_costs_sites_columns_that_are_something_else_are_kept(
    cli, tmp_path: Path, extra: str
) -> None:
    # network's --sites-out and candidate tables carry such columns; costs reads none of them.
    out = tmp_path / "c.csv"
    rows = "".join(line + ",1\n" for line in SITES_ROWS.splitlines())
    sites = write(tmp_path, "s.csv", f"site_id,fixed_cost,existing,{extra}\n" + rows)
    result = costs(
        cli, tmp_path, "--assignments", write(tmp_path, "a.csv", LANES), "--sites", sites, out=out
    )
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(out)["warehouse_fixed"].sum() == pytest.approx(140.0)
