"""Audit P (session 62): network's inputs and outputs said nothing, or the wrong thing.

P1: a --sites header holding a column's name or a word for it (``capacity_units``,
``fixed_cost_eur``, ``existing_site``) was not read: every site free, uncapacitated and new, exit
0. P6: mean_km counted a lane of unknown distance as 0 km. P7: a NaN capacity was refused as
"not a finite number" though inf is accepted. P8: ``-o`` into a folder that is there but cannot
hold files (/proc) was said to be "removed while the command ran", with ``mkdir -p /proc``.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

import polars as pl
import pytest

CUSTOMERS = (
    "customer_id,segment,demand,lat,lon\n"
    "C1,A,10,52.52,13.40\nC2,A,20,48.14,11.58\nC3,B,5,50.11,8.68\nC4,B,7,53.55,9.99\n"
)
SITES_ROWS = "S1,52,13,100,12,true\nS2,48,11,100,40,false\n"


def _network(cli, tmp_path: Path, header: str, rows: str = SITES_ROWS):
    (tmp_path / "cust.csv").write_text(CUSTOMERS)
    (tmp_path / "sites.csv").write_text(header + "\n" + rows)
    return cli(
        "network",
        "cust.csv",
        "--sites",
        "sites.csv",
        "--cost-per-unit-km",
        "1",
        "-o",
        "a.csv",
        "--sites-out",
        "s.csv",
    )


# ---- P1: a sites column named with a prefix, a suffix or another word -------------------------


def test_network_sites_with_unit_suffixes_are_refused_naming_each_column(
    cli, tmp_path: Path
) -> None:
    # The audit's table: planned at total 4,862.28 with no fixed cost, S1 over its capacity of 12.
    result = _network(cli, tmp_path, "site_id,lat,lon,fixed_cost_eur,capacity_units,existing_site")
    assert result.exit_code == 1, result.stderr
    assert (
        "Error: --sites sites.csv: columns 'fixed_cost_eur', 'capacity_units', 'existing_site' "
        "are not read: segchain reads fixed_cost, capacity, existing by those names only"
    ) in result.stderr, result.stderr
    assert "hint: rename them fixed_cost, capacity, existing" in result.stderr
    assert not (tmp_path / "a.csv").exists() and not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize(
    ("column", "name"),
    [
        ("capacity_units", "capacity"),
        ("max_capacity", "capacity"),
        ("maxCapacity", "capacity"),
        ("cap", "capacity"),
        ("throughput_per_year", "capacity"),
        ("current_capacity", "capacity"),
        ("fixed_cost_eur", "fixed_cost"),
        # annual_fixed_cost is read as a year's cost since session 68
        # (tests/test_fixed_cost_period_s68.py).
        ("fixedcost", "fixed_cost"),
        ("fixed", "fixed_cost"),
        ("opening_cost", "fixed_cost"),
        ("open_cost", "fixed_cost"),
        ("cost", "fixed_cost"),
        ("existing_site", "existing"),
        ("is_existing", "existing"),
        ("open", "existing"),
        ("is_open", "existing"),
        ("current", "existing"),
    ],
)
def test_network_refuses_a_sites_header_holding_a_name_or_its_word(
    cli, tmp_path: Path, column: str, name: str
) -> None:
    value = "true" if name == "existing" else "12"
    result = _network(cli, tmp_path, f"site_id,lat,lon,{column}", f"S1,52,13,{value}\n")
    assert result.exit_code == 1, result.stderr
    assert (
        f"Error: --sites sites.csv: column {column!r} is not read: segchain reads {name} by that "
        "name only"
    ) in result.stderr, result.stderr
    assert f"hint: rename it {name}," in result.stderr


def test_network_two_headers_for_one_column_are_both_named(cli, tmp_path: Path) -> None:
    result = _network(cli, tmp_path, "site_id,lat,lon,is_open,existing_site", "S1,52,13,1,1\n")
    assert result.exit_code == 1, result.stderr
    assert (
        "columns 'is_open', 'existing_site' are not read: segchain reads existing by that name only"
    ) in result.stderr, result.stderr
    assert "hint: keep one column for existing, renamed so" in result.stderr


@pytest.mark.parametrize(
    "extra",
    [
        "name",
        "region",
        "capacity_used",
        "capacity_utilization",
        "opening_date",
        "opening_hours",
        "handling_cost",
        "cost_per_unit",
        "notes",
    ],
)
def test_network_keeps_a_sites_column_that_is_something_else(
    cli, tmp_path: Path, extra: str
) -> None:
    # With the read columns there, the plan is the one the user meant: S1 exists (keep) and
    # serves at most its capacity of 12; both fixed costs are paid.
    result = _network(
        cli,
        tmp_path,
        f"site_id,lat,lon,fixed_cost,capacity,existing,{extra}",
        "S1,52,13,100,12,true,x\nS2,48,11,100,40,false,y\n",
    )
    assert result.exit_code == 0, result.stderr
    sites = pl.read_csv(tmp_path / "s.csv")
    s1 = sites.filter(pl.col("site_id") == "S1").row(0, named=True)
    assert s1["decision"] == "keep" and s1["demand_served"] <= 12
    assert "fixed 200.00" in result.stderr


def test_network_keeps_a_look_alike_beside_the_name_it_stands_for(cli, tmp_path: Path) -> None:
    result = _network(
        cli,
        tmp_path,
        "site_id,lat,lon,fixed_cost,capacity,capacity_units,existing",
        "S1,52,13,100,12,pallets,true\nS2,48,11,100,40,pallets,false\n",
    )
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("column", ["distance", "dist_km", "km", "distance_miles"])
def test_network_refuses_a_lane_distance_under_another_name(
    cli, tmp_path: Path, column: str
) -> None:
    (tmp_path / "cust.csv").write_text("customer_id,segment,demand\nC1,A,10\n")
    (tmp_path / "sites.csv").write_text("site_id,fixed_cost\nS1,0\n")
    (tmp_path / "lanes.csv").write_text(f"site_id,customer_id,unit_cost,{column}\nS1,C1,1,100\n")
    result = cli(
        "network", "cust.csv", "--sites", "sites.csv", "--costs", "lanes.csv", "-o", "a.csv"
    )
    assert result.exit_code == 1, result.stderr
    assert (
        f"--costs lanes.csv: column {column!r} is not read: segchain reads distance_km"
    ) in result.stderr, result.stderr


def test_network_keeps_a_lane_rate_per_km(cli, tmp_path: Path) -> None:
    (tmp_path / "cust.csv").write_text("customer_id,segment,demand\nC1,A,10\n")
    (tmp_path / "sites.csv").write_text("site_id,fixed_cost\nS1,0\n")
    (tmp_path / "lanes.csv").write_text(
        "site_id,customer_id,unit_cost,distance_km,cost_per_km\nS1,C1,1,100,0.01\n"
    )
    result = cli(
        "network", "cust.csv", "--sites", "sites.csv", "--costs", "lanes.csv", "-o", "a.csv"
    )
    assert result.exit_code == 0, result.stderr


# ---- P6: the mean distance over the known distances only ----------------------------------------


def _lanes_run(cli, tmp_path: Path, c1_km: str, c2_km: str):
    (tmp_path / "cust.csv").write_text("customer_id,segment,demand\nC1,A,10\nC2,A,30\n")
    (tmp_path / "sites.csv").write_text("site_id,fixed_cost\nS1,0\n")
    (tmp_path / "lanes.csv").write_text(
        f"site_id,customer_id,unit_cost,distance_km\nS1,C1,1,{c1_km}\nS1,C2,1,{c2_km}\n"
    )
    result = cli(
        "network", "cust.csv", "--sites", "sites.csv", "--costs", "lanes.csv", "-o", "a.parquet"
    )
    assert result.exit_code == 0, result.stderr
    import pyarrow.parquet as pq

    meta = pq.read_metadata(tmp_path / "a.parquet").metadata
    (row,) = json.loads(meta[b"segchain.promise"])
    return result, row


def _mean_km_cell(stderr: str) -> str:
    lines = [line.split("network: ", 1)[1] for line in stderr.splitlines() if "┃" in line]
    head = [c.strip() for c in lines[0].split("┃")]
    row = next(line for line in stderr.splitlines() if line.split("network: ", 1)[-1][:2] == "A ")
    return [c.strip() for c in row.split("network: ", 1)[1].split("│")][head.index("mean_km")]


def test_network_mean_distance_leaves_out_lanes_of_unknown_distance(cli, tmp_path: Path) -> None:
    # C1's lane is 100 km; C2's (30 units) has no distance: the mean of what is known is 100,
    # not (10 * 100 + 30 * 0) / 40 = 25.
    result, row = _lanes_run(cli, tmp_path, "100", "")
    assert row["mean_distance_km"] == pytest.approx(100.0)
    assert _mean_km_cell(result.stderr) == "100"
    assert (
        "1 of 2 assignments (customer and site) has no known distance (lanes without "
        "distance_km, and no lat, lon): mean_km is over the demand whose distance is known"
    ) in result.stderr, result.stderr


def test_network_mean_distance_is_weighted_by_demand_when_all_known(cli, tmp_path: Path) -> None:
    result, row = _lanes_run(cli, tmp_path, "100", "300")
    assert row["mean_distance_km"] == pytest.approx((10 * 100 + 30 * 300) / 40)
    assert "no known distance" not in result.stderr


def test_network_mean_distance_is_empty_when_no_distance_is_known(cli, tmp_path: Path) -> None:
    # OR-Library through --costs: no distances at all, and mean_km was 0.
    result, row = _lanes_run(cli, tmp_path, "", "")
    assert row["mean_distance_km"] is None
    assert _mean_km_cell(result.stderr) == ""
    assert "no assignment has a known distance" in result.stderr, result.stderr


# ---- P7: a NaN capacity is refused with what is accepted --------------------------------------


def test_network_nan_capacity_message_says_what_is_accepted(cli, tmp_path: Path) -> None:
    result = _network(
        cli, tmp_path, "site_id,lat,lon,fixed_cost,capacity", "S1,52,13,1,nan\nS2,48,11,1,inf\n"
    )
    assert result.exit_code == 1, result.stderr
    assert (
        "Error: --sites sites.csv: capacity must be a number >= 0 (empty or inf: unlimited), got "
        "nan for site_id 'S1'"
    ) in result.stderr, result.stderr


# ---- P8: an output folder that is there but cannot hold files ---------------------------------

FOLDER_MESSAGE = (
    "cannot write: the folder '{folder}' cannot hold new files (it is there, but not a normal "
    "folder: a system folder such as /proc or /sys, or a file system that refuses new files)"
)


def test_an_output_folder_that_makes_no_files_is_not_said_removed(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As /proc does: the folder is there and writable by its mode, but creating a file in it
    # fails with ENOENT.
    odd = tmp_path / "odd"
    odd.mkdir()
    real_open = os.open

    def refuse(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path).startswith(str(odd)) and flags & os.O_CREAT:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))
        return real_open(path, flags, *args, **kwargs)

    (tmp_path / "cust.csv").write_text(CUSTOMERS)
    (tmp_path / "sites.csv").write_text("site_id,lat,lon\nS1,52,13\n")
    monkeypatch.setattr(os, "open", refuse)
    result = cli("network", "cust.csv", "--sites", "sites.csv", "-o", "odd/x.csv")
    monkeypatch.undo()
    assert result.exit_code == 1, result.stderr
    assert "Error: -o odd/x.csv: " + FOLDER_MESSAGE.format(folder="odd") in result.stderr
    assert "hint: write the output into another folder" in result.stderr
    assert "removed" not in result.stderr and "mkdir" not in result.stderr
    assert list(odd.iterdir()) == []


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0 or not os.path.isdir("/proc"),
    reason="/proc takes a write check only as root on Linux",
)
def test_an_output_into_proc_is_named_a_folder_that_makes_no_files(cli, tmp_path: Path) -> None:
    (tmp_path / "cust.csv").write_text(CUSTOMERS)
    (tmp_path / "sites.csv").write_text("site_id,lat,lon\nS1,52,13\n")
    result = cli("network", "cust.csv", "--sites", "sites.csv", "-o", "/proc/x.csv")
    assert result.exit_code == 1, result.stderr
    assert FOLDER_MESSAGE.format(folder="/proc") in result.stderr, result.stderr
