"""report -o r.md run again: the charts folder keeps only what the new page references.

The charts a page references are read here from r.md's image links, not from the report's code.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import unquote

import polars as pl
import pytest

from segchain.tableio import provenance, write_table

MONDAY = date(2024, 1, 1)


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    seg = tmp_path / "segments.parquet"
    segments = pl.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "segment": ["Champions", "Champions", "Lost"],
            "segment_rank": [1, 1, 2],
            "monetary": [500.0, 300.0, 200.0],
        }
    )
    write_table(segments, str(seg), metadata=provenance("segments", params={"method": "rfm"}))
    fc = tmp_path / "forecast.csv"
    pl.DataFrame(
        {
            "unique_id": ["Champions/A"] * 3,
            "ds": [MONDAY + timedelta(weeks=i) for i in range(3)],
            "forecast": [5.0, 6.0, 7.0],
            "segment": ["Champions"] * 3,
            "sku": ["A"] * 3,
        }
    ).write_csv(fc)
    return {"segments": seg, "forecast": fc}


def referenced(page: Path) -> set[str]:
    """The files of r_files/ that the page's image links name."""
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text(encoding="utf-8"))
    return {unquote(link).split("/", 1)[1] for link in links}


def listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_a_rerun_with_fewer_inputs_leaves_only_the_charts_the_new_page_uses(cli, inputs, tmp_path):
    page, folder = tmp_path / "r.md", tmp_path / "r_files"
    both = cli("report", str(inputs["segments"]), str(inputs["forecast"]), "-o", str(page))
    assert both.exit_code == 0, both.stderr
    first = referenced(page)
    assert len(first) == 2 and listing(folder) == first
    again = cli("report", str(inputs["segments"]), "-o", str(page))
    assert again.exit_code == 0, again.stderr
    second = referenced(page)
    assert len(second) == 1 and second < first
    assert listing(folder) == second


def test_a_rerun_keeps_the_users_own_files_in_the_charts_folder(cli, inputs, tmp_path):
    page, folder = tmp_path / "r.md", tmp_path / "r_files"
    cli("report", str(inputs["segments"]), str(inputs["forecast"]), "-o", str(page))
    (folder / "notes.txt").write_text("mine")
    (folder / "my_forecast.png").write_bytes(b"mine")
    (folder / "sub").mkdir()
    again = cli("report", str(inputs["segments"]), "-o", str(page))
    assert again.exit_code == 0, again.stderr
    assert listing(folder) == referenced(page) | {"notes.txt", "my_forecast.png", "sub"}
    assert (folder / "notes.txt").read_text() == "mine"


def test_a_failed_rerun_leaves_the_earlier_charts(cli, inputs, tmp_path):
    """Nothing is removed unless the new page is written (here no input can be read)."""
    page, folder = tmp_path / "r.md", tmp_path / "r_files"
    cli("report", str(inputs["segments"]), str(inputs["forecast"]), "-o", str(page))
    before = listing(folder)
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    failed = cli("report", str(tmp_path / "bad.parquet"), "-o", str(page))
    assert failed.exit_code != 0
    assert listing(folder) == before == referenced(page)


def test_a_rerun_without_charts_removes_the_earlier_ones(cli, inputs, tmp_path):
    page, folder = tmp_path / "r.md", tmp_path / "r_files"
    cli("report", str(inputs["segments"]), str(inputs["forecast"]), "-o", str(page))
    assert listing(folder)
    backtest = tmp_path / "backtest.csv"
    pl.DataFrame(
        {
            "unique_id": ["overall"],
            "scope": ["overall"],
            "mase": [0.9],
            "wape": [0.3],
        }
    ).write_csv(backtest)
    again = cli("report", str(backtest), "-o", str(page))
    assert again.exit_code == 0, again.stderr
    assert referenced(page) == set()
    assert listing(folder) == set()
