"""Segments on every stage's stderr tables in one order: by rank where one is known (segment's
segment_rank, stock's priority), as segment and costs list them; by label otherwise."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
from test_cli_forecast import write_inputs


def _column(stderr: str, title: str) -> list[str]:
    """The first cells of the body rows of the stderr table under ``title``."""
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.endswith(title))
    rows = []
    for line in lines[start + 3 :]:
        if "│" not in line:
            break
        rows.append(line.split(": ", 1)[1].split("│")[0].strip())
    return rows


def test_network_lists_segments_by_segment_rank(cli, tmp_path: Path) -> None:
    # Ranks from the segments table: Zulu 1, Mike 2, Alpha 3 (alphabetically the reverse).
    customers = tmp_path / "segments.csv"
    customers.write_text(
        "customer_id,segment,segment_rank,quantity,lat,lon\n"
        "c1,Alpha,3,5,0.0,0.0\n"
        "c2,Zulu,1,5,0.0,0.1\n"
        "c3,Mike,2,5,0.1,0.0\n"
        "c4,Zulu,1,5,0.1,0.1\n"
    )
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,lat,lon,fixed_cost\nS1,0.0,0.0,10\n")
    out = tmp_path / "a.parquet"
    result = cli("network", str(customers), "--sites", str(sites), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert _column(result.stderr, "delivery promise by segment") == ["Zulu", "Mike", "Alpha"]
    promise = json.loads(pq.read_metadata(out).metadata[b"segchain.promise"])
    assert [r["segment"] for r in promise] == ["Zulu", "Mike", "Alpha"]


def test_network_without_ranks_lists_segments_by_label(cli, tmp_path: Path) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "customer_id,segment,quantity,lat,lon\nc1,Zulu,5,0.0,0.0\nc2,Alpha,5,0.0,0.1\n"
    )
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,lat,lon,fixed_cost\nS1,0.0,0.0,10\n")
    result = cli("network", str(customers), "--sites", str(sites), "-o", str(tmp_path / "a.csv"))
    assert result.exit_code == 0, result.stderr
    assert _column(result.stderr, "delivery promise by segment") == ["Alpha", "Zulu"]


def test_forecast_lists_segments_by_segment_rank(cli, tmp_path: Path) -> None:
    # write_inputs ranks Champions 1 and 'At risk' 2 (alphabetically the reverse).
    orders, segments = write_inputs(tmp_path)
    bt = tmp_path / "bt.csv"
    args = ["forecast", str(segments), "--orders", str(orders), "--horizon", "4"]
    result = cli(*args, "--n-jobs", "1", "--backtest", str(bt), "-o", str(tmp_path / "fc.csv"))
    assert result.exit_code == 0, result.stderr
    title = "backtest (held-out windows; baseline = seasonal naive or naive)"
    assert _column(result.stderr, title) == ["segment:Champions", "segment:At risk", "overall"]
    summary = pl.read_csv(bt).filter(pl.col("scope").is_in(["segment", "overall"]))
    assert summary["unique_id"].to_list() == ["segment:Champions", "segment:At risk", "overall"]


def test_stock_lists_segments_by_priority(cli, tmp_path: Path) -> None:
    # Priorities from the config: Zulu 1, Alpha 2; Mike has none, so it follows them.
    weeks = [dt.date(2024, 1, 1) + dt.timedelta(weeks=i) for i in range(4)]
    rows = [
        {
            "unique_id": f"{seg}/A",
            "ds": d,
            "forecast": mu,
            "segment": seg,
            "sku": "A",
            "demand_class": "smooth",
            "mean_demand": mu,
            "error_sd": math.sqrt(mu),
        }
        for seg, mu in (("Alpha", 10.0), ("Mike", 5.0), ("Zulu", 20.0))
        for d in weeks
    ]
    fc = tmp_path / "fc.csv"
    pl.DataFrame(rows).write_csv(fc)
    config = tmp_path / "segchain.toml"
    config.write_text(
        '[segments."Zulu"]\nservice_level = 0.9\npriority = 1\n\n'
        '[segments."Alpha"]\nservice_level = 0.95\npriority = 2\n\n'
        '[segments."Mike"]\nservice_level = 0.99\n'
    )
    args = ["stock", str(fc), "--config", str(config), "--compare-uniform", "equal"]
    result = cli(*args, "--simulate", "50", "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 0, result.stderr
    title = next(
        line.split(": ", 1)[1]
        for line in result.stderr.splitlines()
        if "segmented targets vs" in line
    )
    assert _column(result.stderr, title) == ["Zulu", "Alpha", "Mike", "(all)"]
    title = "achieved service per segment, replay of 50 periods"
    assert _column(result.stderr, title) == ["Zulu", "Alpha", "Mike"]
