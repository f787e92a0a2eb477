"""UCI Online Retail from validate to report as exported: no coordinates, no sites, returns that
cancel purchases. The slow test runs the README's commands as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _retail(shared_data: Path) -> Path:
    path = shared_data / "online_retail" / "online_retail.csv.gz"
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent")
    return path


def test_online_retail_segment_network_report_without_coordinates(
    cli, shared_data: Path, tmp_path: Path
):
    source = _retail(shared_data)
    orders, segments = tmp_path / "orders.parquet", tmp_path / "segments.parquet"
    rejects = tmp_path / "rejects.csv"
    args = ["validate", str(source), "--preset", "online-retail", "--rejects", str(rejects)]
    assert cli(*args, "-o", str(orders)).exit_code == 0
    result = cli("segment", str(orders), "-o", str(segments))
    assert result.exit_code == 0, result.stderr
    # 38 country names in the data set; 'Unspecified' (4 customers) and 'European Community'
    # (1) are not places. Every other customer is placed at its country's centre.
    assert (
        "located 4,367 of 4,372 customers (exact 0, postal 0, city 0, country 4,367); not "
        "located 5 (unknown country 'Unspecified' 4, 'European Community' 1)" in result.stderr
    )
    seg = pl.read_parquet(segments)
    uk = seg.filter(pl.col("country") == "United Kingdom").select("lat", "lon").unique()
    assert uk.height == 1
    lat, lon = uk.row(0)
    assert 50 < lat < 55 and -4 < lon < 1  # England, not the geometric centre of the sea

    assign, sites = tmp_path / "assignments.parquet", tmp_path / "sites.csv"
    result = cli(
        "network", str(segments), "--candidates", "5", "--skip-unlocated",
        "--sites-out", str(sites), "-o", str(assign),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    a = pl.read_parquet(assign)
    # Net product quantity <= 0 after returns (or postage and fees only), computed here from
    # the orders independently of segment.
    lines = pl.read_parquet(orders)
    product = lines.filter(pl.col("flag").is_null() | (pl.col("flag") != "non_product"))
    net = product.group_by("customer_id").agg(pl.col("quantity").sum())
    positive = set(net.filter(pl.col("quantity") > 0)["customer_id"])
    no_demand = set(lines["customer_id"]) - positive
    assert len(no_demand) == 51
    assert set(a.filter(pl.col("left_out") == "no_demand")["customer_id"]) == no_demand
    assert a.filter(pl.col("left_out") == "unlocated").height == 5
    assert a.filter(pl.col("left_out").is_not_null())["site_id"].null_count() == 56
    assert a.height == 4372  # every customer listed, each once (single sourcing)
    s = pl.read_csv(sites)
    opened = s.filter(pl.col("open"))
    assert opened.height >= 1
    assert opened["lat"].null_count() == 0 and opened["lon"].null_count() == 0
    assert opened["city"].str.starts_with("near ").all()

    report = tmp_path / "report.md"
    result = cli(
        "report", str(orders), str(segments), str(assign), str(sites), str(rejects),
        "-o", str(report),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert (
        "rejected order lines (validate's or segment's --rejects), not reported on: skipped"
        in result.stderr
    )
    text = report.read_text()
    assert "within promise" not in text.lower().replace("within promise by", "")
    assert "**Delivery promise: none set**" in text
    assert "51 with no positive demand" in text


def _readme_chain() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- chain: online-retail -->\n```\n(.*?)```", readme, re.S)
    assert match, "README: the Online Retail chain block is missing"
    return match.group(1)


@pytest.mark.slow
def test_online_retail_readme_chain_runs_as_written(shared_data: Path, tmp_path: Path):
    _retail(shared_data)
    # ../shared/data from the working folder, as from the project root.
    work = tmp_path / "project"
    work.mkdir()
    (tmp_path / "shared").symlink_to(shared_data.parent)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _readme_chain()],
        cwd=work, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    report = (work / "retail" / "report.html").read_text()
    for section in ("Customer segments", "Demand forecast", "Inventory", "Distribution network"):
        assert section in report
    assert "none set" in report
    assert "retail/rejects.csv: rejected order lines" in run.stderr
