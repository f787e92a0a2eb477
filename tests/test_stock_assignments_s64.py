"""``stock --assignments`` given the assignments of another network run than the one the forecast
was routed by (audit V2, session 64): a cron job that re-ran network but not forecast, or two
output folders mixed. It routed the history by them without a word (the demo with two sites
fewer: inventory +11 %, +54 % with every customer on one site). forecast now records the
assignments' fingerprint and stock compares it; a forecast of an older segchain is checked by
its sites."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from segchain.tableio import provenance, write_table
from tests.test_stock_assignments import ASSIGNMENTS, ORDER_LINES, R_LINES, _forecast, _orders

# Plan B: the same customers, Q moved from C to B (every site still served).
MOVED = ASSIGNMENTS.with_columns(
    site_id=pl.when(pl.col("customer_id") == "Q").then(pl.lit("B")).otherwise("site_id")
)
# Plan C: every customer at B alone (C, a site of the forecast, serves no one).
ONE_SITE = pl.DataFrame({"customer_id": ["P", "Q", "R"], "site_id": ["B", "B", "B"]})


def _by_hand(lanes: list[tuple[str, str, float]]) -> dict[str, object]:
    """The fingerprint as the README gives it: the lanes sorted by customer and site, each
    share in billionths, as CSV lines, hashed; with the lanes and customers counted."""
    text = "".join(f"{c},{s},{round(x * 1e9)}\n" for c, s, x in sorted(lanes))
    return {
        "lanes": len(lanes),
        "customers": len({c for c, _, _ in lanes}),
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


# ASSIGNMENTS' fingerprint, computed apart from the code under test.
PLAN_A = _by_hand(
    [("P", "B", 0.25), ("P", "C", 0.75), ("Q", "C", 1.0), ("R", "B", 0.5), ("R", "C", 0.5)]
)


def _one_line(stderr: str) -> str:
    return " ".join(stderr.split())


def _error(stderr: str) -> str:
    """The error and its hint, on one line (the orders' read notes come before it)."""
    return _one_line(stderr[stderr.index("segchain stock: Error:") :])


def test_fingerprint_is_the_sha256_of_the_sorted_lanes_shares_in_billionths() -> None:
    from segchain.routing import assignments_fingerprint

    # Written out by hand: the lanes sorted by customer and site, each share x 1e9.
    text = "P,B,250000000\nP,C,750000000\nQ,C,1000000000\nR,B,500000000\nR,C,500000000\n"
    expected = {"lanes": 5, "customers": 3, "sha256": hashlib.sha256(text.encode()).hexdigest()}
    assert expected == PLAN_A  # the helper the other tests use
    assert assignments_fingerprint(ASSIGNMENTS) == expected


@pytest.mark.parametrize(
    "same",
    [
        ASSIGNMENTS.reverse(),  # row order
        ASSIGNMENTS.with_columns(segment=pl.lit("Gold"), transport_cost=pl.lit(3.5)),
        # a customer network left out: routed nowhere, as one absent from the table is
        pl.concat(
            [
                ASSIGNMENTS.with_columns(left_out=pl.lit(None, pl.String)),
                pl.DataFrame(
                    {"customer_id": ["U"], "site_id": [None], "share": [None], "left_out": ["x"]},
                    schema_overrides={"site_id": pl.String, "share": pl.Float64},
                ),
            ]
        ),
        ASSIGNMENTS.with_columns(share=pl.col("share") + 1e-12),  # a CSV's last digit
    ],
)
def test_fingerprint_is_the_same_for_the_same_routing(same: pl.DataFrame) -> None:
    from segchain.routing import assignments_fingerprint

    assert assignments_fingerprint(same) == assignments_fingerprint(ASSIGNMENTS)


@pytest.mark.parametrize(
    "other",
    [
        MOVED,  # a customer on another site: same lane and customer counts
        ASSIGNMENTS.with_columns(share=pl.Series([0.25, 0.75, 1.0, 0.4, 0.6])),  # R 40/60
    ],
)
def test_fingerprint_differs_for_another_routing(other: pl.DataFrame) -> None:
    from segchain.routing import assignments_fingerprint

    assert (
        assignments_fingerprint(other)["sha256"] != assignments_fingerprint(ASSIGNMENTS)["sha256"]
    )


# ---- the command ---------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {"orders": tmp_path / "orders.csv"}
    _orders(ORDER_LINES + R_LINES).write_csv(out["orders"])
    for name, frame in (("a", ASSIGNMENTS), ("moved", MOVED), ("one_site", ONE_SITE)):
        out[name] = tmp_path / f"asg_{name}.parquet"
        frame.write_parquet(out[name])
    out["a_csv"] = tmp_path / "asg_a.csv"
    ASSIGNMENTS.write_csv(out["a_csv"])
    inputs = {"orders": 7, "segments": 3, "assignments": 5}
    out["forecast"] = tmp_path / "fc.parquet"
    write_table(
        _forecast(),
        str(out["forecast"]),
        metadata=provenance("forecast", inputs=inputs, routed_by=PLAN_A),
    )
    # A forecast of segchain before the fingerprint: the assignments counted only.
    out["old"] = tmp_path / "fc_old.parquet"
    write_table(_forecast(), str(out["old"]), metadata=provenance("forecast", inputs=inputs))
    out["csv"] = tmp_path / "fc.csv"
    _forecast().write_csv(out["csv"])
    return out


def _stock(cli, files, forecast: str, assignments: str, tmp_path: Path):
    out = tmp_path / "policy.parquet"
    out.write_bytes(b"previous run")
    args = ["stock", str(files[forecast]), "--orders", str(files["orders"])]
    result = cli(*args, "--assignments", str(files[assignments]), "-o", str(out))
    return result, out


HINT = (
    "segchain stock: hint: give --assignments the assignments given to `forecast "
    "--assignments`, or re-run forecast --assignments with these"
)


@pytest.mark.parametrize(
    ("assignments", "message"),
    [
        (
            "moved",
            "segchain stock: Error: --assignments {asg} (5 lanes of 3 customers) are not the "
            "assignments FORECAST {fc} was routed by (5 lanes of 3 customers): their lanes "
            "(customer_id, site_id, share) differ, so they are of another network run, and each "
            "site's history would be another routing's demand " + HINT,
        ),
        (
            "one_site",
            "segchain stock: Error: --assignments {asg} (3 lanes of 3 customers) are not the "
            "assignments FORECAST {fc} was routed by (5 lanes of 3 customers): their lanes "
            "(customer_id, site_id, share) differ, so they are of another network run, and each "
            "site's history would be another routing's demand; they serve none of the 1 site "
            "where FORECAST {fc} has stocking points ('C') " + HINT,
        ),
    ],
)
def test_cli_stock_refuses_assignments_of_another_network_run(
    cli, files, tmp_path, assignments, message
) -> None:
    result, out = _stock(cli, files, "forecast", assignments, tmp_path)
    assert result.exit_code == 1, result.stderr
    asg, fc = files[assignments], files["forecast"]
    assert _error(result.stderr) == message.format(asg=asg, fc=fc)
    assert out.read_bytes() == b"previous run"


@pytest.mark.parametrize("assignments", ["a", "a_csv"])
def test_cli_stock_takes_the_assignments_the_forecast_was_routed_by(
    cli, files, tmp_path, assignments
) -> None:
    result, out = _stock(cli, files, "forecast", assignments, tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "network run" not in result.stderr
    assert "serve none of" not in result.stderr
    assert pl.read_parquet(out).height == 6


def test_cli_stock_checks_an_older_forecasts_sites_against_the_assignments(
    cli, files, tmp_path
) -> None:
    # Moved within the same sites: an older forecast records too little to tell (passes).
    moved, _ = _stock(cli, files, "old", "moved", tmp_path)
    assert moved.exit_code == 0, moved.stderr
    result, out = _stock(cli, files, "old", "one_site", tmp_path)
    assert result.exit_code == 1, result.stderr
    asg, fc = files["one_site"], files["old"]
    assert _error(result.stderr) == (
        f"segchain stock: Error: --assignments {asg} serve none of the 1 site where FORECAST "
        f"{fc} has stocking points ('C'), though the forecast was routed through network "
        "assignments: they are of another network run than the forecast's, and its points "
        f"there would be planned from no history {HINT} (this forecast, of an older segchain, "
        "records no fingerprint of its assignments: re-run forecast to have them compared whole)"
    )
    assert out.read_bytes() == b"previous run"


def test_cli_stock_warns_when_a_forecast_without_metadata_has_sites_the_assignments_skip(
    cli, files, tmp_path
) -> None:
    # A CSV forecast may be by the orders' own sites (documented: a warning), so not an error.
    result, out = _stock(cli, files, "csv", "one_site", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert (
        f"Warning: --assignments {files['one_site']} serve none of the 1 site where FORECAST "
        f"{files['csv']} has stocking points ('C'): those points are planned from no history"
    ) in _one_line(result.stderr)
    assert pl.read_parquet(out).height == 6


def test_forecast_records_the_fingerprint_stock_then_checks(cli, tmp_path: Path) -> None:
    """The chain as the audit ran it: forecast routed by plan A, stock given plan B."""
    from segchain.tableio import read_table

    (tmp_path / "orders.csv").write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        + "".join(
            f"{i},2024-{1 + i // 4:02d}-{1 + 7 * (i % 4):02d},C{1 + i % 2},A,{1 + i % 3},5\n"
            for i in range(24)
        )
    )
    (tmp_path / "seg.csv").write_text(
        "customer_id,segment,segment_rank\nC1,Champions,1\nC2,Champions,1\n"
    )
    (tmp_path / "a.csv").write_text("customer_id,site_id,share\nC1,S1,1.0\nC2,S2,1.0\n")
    (tmp_path / "b.csv").write_text("customer_id,site_id,share\nC1,S2,1.0\nC2,S1,1.0\n")
    args = ["seg.csv", "--orders", "orders.csv", "--assignments", "a.csv", "--horizon", "2"]
    made = cli("forecast", *args, "--models", "WindowAverage", "-o", "fc.parquet")
    assert made.exit_code == 0, made.stderr
    recorded = read_table("fc.parquet").metadata.get("routed_by")
    assert recorded == _by_hand([("C1", "S1", 1.0), ("C2", "S2", 1.0)])
    stock = ["stock", "fc.parquet", "--orders", "orders.csv", "-o", "p.parquet"]
    assert cli(*stock, "--assignments", "a.csv").exit_code == 0
    other = cli(*stock, "--assignments", "b.csv")
    assert other.exit_code == 1, other.stderr
    assert "are not the assignments FORECAST fc.parquet was routed by" in _one_line(other.stderr)


# ---- the report ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "assignments", "expected"),
    [
        ("fingerprint", ASSIGNMENTS, []),
        (
            "fingerprint",
            MOVED,
            [
                "the forecast was routed by other assignments (5 lanes of 3 customers) than "
                "the assignments (5 lanes of 3 customers): their lanes (customer_id, site_id, "
                "share) differ: tables of different runs?"
            ],
        ),
        ("old", MOVED, []),  # an older forecast: only its sites can be compared
        (
            "old",
            ONE_SITE,
            [
                "the forecast, routed through network assignments, has series at 1 "
                "site the assignments serve none of ('C'): tables of different runs?"
            ],
        ),
        ("unrouted", ONE_SITE, []),  # by the orders' own sites: nothing to compare
    ],
)
def test_report_says_a_forecast_routed_by_other_assignments(meta, assignments, expected) -> None:
    from segchain.report.consistency import mismatches

    inputs = {"orders": 7, "assignments": 5}
    recorded = {
        "fingerprint": {"inputs": inputs, "routed_by": PLAN_A},
        "old": {"inputs": inputs},
        "unrouted": {"inputs": {"orders": 7}},
    }[meta]
    tables = {"forecast": _forecast(), "assignments": assignments}
    assert mismatches(tables, {"forecast": recorded}) == expected
