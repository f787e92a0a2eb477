"""report says when the tables given cannot be of one run (audit of session 58: the outputs of
two data sets shown side by side without a word: Superstore's segments under the demo's
profile, the demo's customers as Superstore's least profitable, a forecast's every series
'too short to backtest' beside another run's backtest)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from segchain.report.consistency import mismatches

SEGMENTS = pl.DataFrame({"customer_id": ["c1", "c2", "c3"], "segment": ["Gold", "Gold", "Tin"]})


def test_tables_of_one_run_raise_nothing() -> None:
    tables = {
        "segments": SEGMENTS,
        "segment_profile": pl.DataFrame({"segment": ["Gold", "Tin"], "customers": [2, 1]}),
        "assignments": pl.DataFrame({"customer_id": ["c1", "c3"], "site_id": ["S1", "S1"]}),
        "customer_costs": pl.DataFrame(
            {"customer_id": ["c1", "c2", "c3"], "segment": ["Gold", "Gold", "Tin"],
             "revenue": [10.0, 5.5, 2.25]}
        ),
        "costs": pl.DataFrame({"segment": ["Gold", "Tin"], "revenue": [15.5, 2.25]}),
        # Series too young to backtest are not in it: some shared is enough.
        "forecast": pl.DataFrame({"unique_id": ["a", "b"], "sku": ["A", "B"]}),
        "backtest": pl.DataFrame({"unique_id": ["a"]}),
        "policy": pl.DataFrame({"sku": ["A", "B"]}),
        "stock_segments": pl.DataFrame({"sku": ["A"]}),
    }  # fmt: skip
    assert mismatches(tables) == []


def test_tables_sharing_no_key_are_named() -> None:
    said = mismatches(
        {
            "segments": SEGMENTS,
            "assignments": pl.DataFrame({"customer_id": ["x1", "x2"], "site_id": ["S1", "S1"]}),
            "forecast": pl.DataFrame({"unique_id": ["a", "b"], "sku": ["A", "B"]}),
            "backtest": pl.DataFrame({"unique_id": ["z"]}),
        }
    )
    assert said == [
        "the segments (3 customers) and the assignments (2 customers) share no customer_id: "
        "tables of different runs?",
        "the forecast (2 series) and the backtest (1 series) share no unique_id: tables of "
        "different runs?",
    ]


def test_a_profile_of_other_customers_is_named() -> None:
    profile = pl.DataFrame({"segment": ["Gold", "Tin"], "customers": [11, 9]})
    assert mismatches({"segments": SEGMENTS, "segment_profile": profile}) == [
        "the segment profile counts 20 customers and the segments hold 3, not in the same "
        "segments: tables of different runs?"
    ]


def test_costs_that_are_not_the_customers_summed_are_named() -> None:
    customers = pl.DataFrame(
        {"customer_id": ["c1", "c2"], "segment": ["Gold", "Tin"], "revenue": [10.0, 4.0]}
    )
    costs = pl.DataFrame({"segment": ["Gold", "Tin"], "revenue": [10.0, 400.0]})
    assert mismatches({"costs": costs, "customer_costs": customers}) == [
        "the costs' revenue per segment is not the customer costs' summed (1 of 2 segments "
        "differ): tables of different runs?"
    ]


def _orders(path, prefix: str, n: int) -> None:
    rows = ["order_id,order_date,customer_id,sku,quantity,unit_price"]
    for c in range(n):
        for k in range(1 + c % 4):
            day = dt.date(2024, 1, 1) + dt.timedelta(days=23 * k + 3 * c)
            rows.append(f"{prefix}{c}-{k},{day},{prefix}{c},S{k % 3},{1 + k % 3},{5 + c}")
    path.write_text("\n".join(rows) + "\n")


def test_the_cli_warns_and_the_page_says_it_first(cli, tmp_path) -> None:
    # Run A's profile beside run B's segments, of other customers.
    for run, n in (("A", 12), ("B", 20)):
        _orders(tmp_path / f"{run}.csv", run, n)
        made = cli(
            "segment",
            f"{run}.csv",
            "--profile",
            f"{run}_profile.csv",
            "-o",
            f"{run}.csv.seg.parquet",
        )
        assert made.exit_code == 0, made.stderr
    result = cli("report", "B.csv.seg.parquet", "A_profile.csv", "-o", "r.html")
    assert result.exit_code == 0, result.stderr
    warning = "not in the same segments: tables of different runs?"
    assert warning in " ".join(result.stderr.split())
    page = (tmp_path / "r.html").read_text()
    assert page.index(warning) < page.index("<nav>")
    alone = cli("report", "B.csv.seg.parquet", "B_profile.csv", "-o", "b.html")
    assert alone.exit_code == 0 and "different runs" not in alone.stderr


def test_tables_that_make_no_section_are_an_error_not_an_empty_page(cli, tmp_path) -> None:
    # Customer costs alone: their section needs the costs. A page saying only 'No section to
    # show' was written, exit 0 (audit of session 58).
    pl.DataFrame(
        {"customer_id": ["c1", "c2"], "segment": ["Gold", "Tin"], "revenue": [10.0, 4.0],
         "cost_to_serve": [3.0, 2.0]}
    ).write_csv(tmp_path / "customer_costs.csv")  # fmt: skip
    result = cli("report", "customer_costs.csv", "-o", "r.html")
    assert result.exit_code == 1, result.stderr
    assert (
        "Error: no section can be made from customer_costs (why each section was skipped is "
        "said above)" in " ".join(result.stderr.split())
    )
    assert "skipped: Cost to serve: no costs table" in result.stderr
    assert not (tmp_path / "r.html").exists()
