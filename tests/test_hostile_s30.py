"""Session 30: leftovers (one message for a customer twice, report's charts folder on a failed
write, sample's write errors, SEGCHAIN_GEO named as the source of a refused --geo table)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from segchain.errors import DataError
from segchain.schema import check_one_row_per_customer, duplicate_customers

HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price\n"
ORDERS = HEADER + "".join(
    f"{i},2024-{1 + i % 12:02d}-01,C{i % 3},P1,{1 + i % 4},5\n" for i in range(36)
)
# C1 on data rows 2 and 4: a segments table with a customer twice.
SEGMENTS = (
    "customer_id,segment,quantity,lat,lon\n"
    "C0,A,10,52,13\nC1,A,5,52,13\nC2,B,4,52,13\nC1,B,5,52,13\n"
)
SITES = "site_id,lat,lon,fixed_cost\nW1,52.5,13.4,100\n"
HINT = (
    "keep one row per customer_id: remove or merge the repeated rows, or give the table that "
    "segchain segment wrote, as it was written"
)


@pytest.mark.parametrize(
    ("args", "source"),
    [
        (["forecast", "seg.csv", "--orders", "orders.csv"], "SEGMENTS seg.csv"),
        (["costs", "seg.csv", "--orders", "orders.csv"], "SEGMENTS seg.csv"),
        (["network", "seg.csv", "--sites", "sites.csv"], "CUSTOMERS seg.csv"),
        (["segment", "orders.csv", "--previous", "seg.csv"], "--previous seg.csv"),
    ],
)
def test_a_customer_twice_is_one_message_in_every_stage(cli, tmp_path: Path, args, source):
    """forecast said '1 customer_id value appears more than once', costs 'a customer listed
    more than once', network 'duplicate customer_id ...: one row per customer expected', none
    of them which file or rows."""
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "sites.csv").write_text(SITES)
    result = cli(*args, "-o", "o.csv")
    assert result.exit_code == 1
    command = args[0]
    assert result.stderr == (
        f"segchain {command}: Error: {source}: 1 customer_id is on more than one row: "
        f"'C1' (rows 2, 4)\nsegchain {command}:   hint: {HINT}\n"
    )
    assert not (tmp_path / "o.csv").exists()


def test_duplicate_customers_counts_every_customer_and_cuts_long_lists() -> None:
    ids = ["a", "b", " ", None, "b", "c", "d", "e", "f", "g", "a", "b", "b", "b", "c", "d", "e"]
    ids += ["f", "g", " "]
    assert duplicate_customers(pl.DataFrame({"customer_id": ids})) == (
        "7 customer_ids are on more than one row: 'a' (rows 1, 11), 'b' (rows 2, 5, 12, 13 "
        "and 1 more), 'c' (rows 6, 15), 'd' (rows 7, 16), 'e' (rows 8, 17) (and 2 more)"
    )


def test_one_row_per_customer_passes_blank_ids_and_tables_without_the_column() -> None:
    check_one_row_per_customer(pl.DataFrame({"customer_id": [None, None, "", "a"]}), source="x")
    check_one_row_per_customer(pl.DataFrame({"sku": ["a", "a"]}), source="x")
    with pytest.raises(DataError, match=r"^x: 1 customer_id is on more than one row: '1' \(rows"):
        check_one_row_per_customer(pl.DataFrame({"customer_id": [1, 1]}), source="x")


def test_report_markdown_leaves_no_charts_folder_when_a_write_fails(cli, tmp_path, monkeypatch):
    """'report -o r.md' made r_files/ for its charts and left it behind, empty, when the last
    rename failed (the charts already renamed are taken back; the folder was not)."""
    import errno
    import os

    (tmp_path / "seg.csv").write_text(
        "customer_id,segment,segment_rank,monetary\nC0,A,1,50\nC1,A,1,40\nC2,B,2,5\n"
    )
    assert cli("report", "seg.csv", "-o", "probe.md").exit_code == 0
    assert (tmp_path / "probe_files").is_dir()  # the case has charts
    replace = os.replace

    def report_fails(src, dst) -> None:
        if str(dst).endswith("r.md"):
            raise OSError(errno.EIO, "Input/output error")
        replace(src, dst)

    monkeypatch.setattr(os, "replace", report_fails)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli("report", "seg.csv", "-o", "r.md")
    assert result.exit_code == 1, result.stderr
    assert "r.md: cannot write: Input/output error; no output file was changed" in (
        result.stderr.replace("\n", " ")
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == before


SMALL_SAMPLE = ("--customers", "20", "--skus", "3", "--years", "1")
EFBIG_TEXT = (
    "segchain sample: Error: smp/orders.csv: cannot write: the file is larger than the file "
    "system or the file size limit (ulimit -f) allows\n"
    "segchain sample:   hint: write it to a file system that takes larger files (FAT32 stops "
    "at 4 GiB), raise the file size limit, or write less\n"
)


@pytest.mark.parametrize(
    ("code", "strerror", "expected"),
    [
        ("EFBIG", "File too large", EFBIG_TEXT),
        (
            "ENOSPC",
            "No space left on device",
            "segchain sample: Error: smp/orders.csv: cannot write: no space left on the device\n"
            "segchain sample:   hint: free some space there or write the output to another disk\n",
        ),
    ],
)
def test_sample_write_refused_for_size_names_the_file(
    cli, tmp_path, monkeypatch, code, strerror, expected
):
    """'sample -o smp' on a full disk or past a file size limit said 'output smp/orders.csv:
    cannot write: File too large': 'output' is no option of sample, the reason was Python's."""
    import errno
    import os

    def refused(fd: int) -> None:
        raise OSError(getattr(errno, code), strerror)

    monkeypatch.setattr(os, "fsync", refused)
    result = cli("sample", "-o", "smp", *SMALL_SAMPLE)
    assert result.exit_code == 1
    assert result.stderr == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def _small_files() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_sample_past_the_file_size_limit_says_what_to_do(tmp_path) -> None:
    """The same with a real file size limit (EFBIG; Python ignores SIGXFSZ)."""
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("segchain")
    proc = subprocess.run(
        [str(exe), "sample", "-o", "smp", *SMALL_SAMPLE],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
        preexec_fn=_small_files,
    )
    assert proc.returncode == 1
    assert proc.stderr.decode() == EFBIG_TEXT
    assert list(tmp_path.iterdir()) == []


GEO_HINT = (
    "a table of postal codes with their latitude, longitude (and country), or the GeoNames "
    "postal dump"
)


@pytest.mark.parametrize(
    ("args", "geo", "what"),
    [
        (["segment", "orders.csv"], "orders.csv", "order lines"),
        (["network", "seg.csv", "--sites", "sites.csv"], "seg.csv", "segments (segchain segment)"),
    ],
)
def test_a_wrong_geo_table_from_the_environment_names_the_variable(
    cli, tmp_path, monkeypatch, args, geo, what
):
    """SEGCHAIN_GEO=orders.csv was refused as '--geo orders.csv: holds order lines', an
    option the command line did not have."""
    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "seg.csv").write_text(
        "customer_id,segment,segment_rank,quantity,postal_code\nC0,A,1,10,10115\n"
    )
    (tmp_path / "sites.csv").write_text(SITES)
    monkeypatch.setenv("SEGCHAIN_GEO", geo)
    result = cli(*args, "-o", "o.csv")
    assert result.exit_code == 1
    assert result.stderr == (
        f"segchain {args[0]}: Error: $SEGCHAIN_GEO {geo}: holds {what} (by its columns), not a "
        f"postal-code table\n"
        f"segchain {args[0]}:   hint: set SEGCHAIN_GEO to {GEO_HINT}, or unset it\n"
    )
    assert not (tmp_path / "o.csv").exists()


def test_a_wrong_geo_table_on_the_command_line_names_the_option(cli, tmp_path):
    (tmp_path / "orders.csv").write_text(ORDERS)
    result = cli("segment", "orders.csv", "--geo", "orders.csv", "-o", "o.csv")
    assert result.exit_code == 1
    assert result.stderr == (
        "segchain segment: Error: --geo orders.csv: holds order lines (by its columns), not a "
        "postal-code table\n"
        f"segchain segment:   hint: give --geo {GEO_HINT}\n"
    )


def test_report_sites_table_shows_odd_number_cells_as_unknown(cli, tmp_path):
    """A sites table edited by hand showed 'lots' customers, 2 for 2.5 customers, 'abc' as a
    fixed cost and 'zz' as utilization, while the decisions above it read them as unknown. (A
    fixed cost of 'abc' is refused now, as costs refuses it (session 70): an empty one is the
    unknown cell here.)"""
    (tmp_path / "sites.csv").write_text(
        "site_id,open,fixed_cost,capacity,demand_served,utilization,customers\n"
        "W1,true,100,50,30,0.6,lots\nW2,false,,50,0,0,2.5\nW3,true,100,1e400,20,zz,3\n"
    )
    result = cli("report", "sites.csv", "-o", "-")
    assert result.exit_code == 0, result.stderr
    page = result.stdout
    table = page[page.index("### Sites\n") :].split("\n\n")[1].splitlines()
    assert table[2:] == [
        "| W1 | yes | 100 | 50 | 30 | 60.0% | – |",
        "| W3 | yes | 100 | – | 20 | – | 3 |",
        "| W2 | no | – | 50 | 0 | 0.0% | – |",
    ]
