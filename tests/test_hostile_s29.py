"""Session 29: faults a byte-level fuzz of the stages' inputs found (stage outputs edited by hand,
cells cut or overwritten): each gave a traceback instead of a message."""

from __future__ import annotations

from pathlib import Path

import pytest

FORECAST_HEADER = "sku,ds,forecast,error_sd,forecast-hi-95\n"


@pytest.mark.parametrize("bound", ["é", "0.03  1903", "true1.8e-6"])
def test_stock_refuses_an_upper_bound_that_is_not_a_number(cli, tmp_path: Path, bound) -> None:
    """The widest upper bound caps slow points; a cell of text there was a polars traceback."""
    (tmp_path / "f.csv").write_text(
        FORECAST_HEADER + f"A,2024-01-01,0.01,0.5,{bound}\nA,2024-01-08,0.01,0.5,0.2\n"
    )
    result = cli("stock", "f.csv", "-o", "p.csv")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "column 'forecast-hi-95' holds 1 value that is not a number" in result.stderr
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.parametrize("bound", ["-5", "-inf", "inf", "nan", "1e309"])
def test_stock_refuses_an_upper_bound_below_zero_or_not_finite(cli, tmp_path: Path, bound) -> None:
    """A negative or infinite bound capped a point at nothing (or at infinity) without a word;
    bounds are checked as the forecast itself is (numbers >= 0)."""
    (tmp_path / "f.csv").write_text(
        FORECAST_HEADER + f"A,2024-01-01,0.01,0.5,{bound}\nA,2024-01-08,0.01,0.5,0.2\n"
    )
    result = cli("stock", "f.csv", "-o", "p.csv")
    assert result.exit_code == 1
    assert "forecast-hi-95 must be a finite number >= 0" in result.stderr
    assert "for unique_id@ds 'A@2024-01-01'" in result.stderr
    assert not (tmp_path / "p.csv").exists()


ASSIGNMENTS = (
    "customer_id,segment,site_id,distance_km,transit_days,sla_days,sla_met,demand\n"
    "C1,A,S1,10,1,2,true,5\n"
    "C2,B,S1,20,1,2,{},7\n"
    "C3,B,S1,30,3,2,false,7\n"
)


@pytest.mark.parametrize("cell", ["1e309", "1e15", "2", "yes?"])
def test_report_reads_an_odd_sla_met_cell_as_unknown(cli, tmp_path: Path, cell) -> None:
    """sla_met is true or false; a cell of 1e309 was an OverflowError and one of 1e15 a
    matplotlib raster overflow (the share of demand within promise read as a number). An odd
    cell counts as unknown, as an empty one does, and the other rows keep their flags (read as
    text because of it, 'true' and 'false' had become unknown too)."""
    (tmp_path / "a.csv").write_text(ASSIGNMENTS.format(""))
    assert cli("report", "a.csv", "-o", "r.md").exit_code == 0
    with_empty = (tmp_path / "r.md").read_text()
    assert "Delivery promise met by segment" in with_empty
    (tmp_path / "a.csv").write_text(ASSIGNMENTS.format(cell))
    odd = cli("report", "a.csv", "-o", "r.md")
    assert odd.exit_code == 0, odd.output
    assert (tmp_path / "r.md").read_text() == with_empty
    assert cli("report", "a.csv", "-o", "r.html").exit_code == 0


def test_report_draws_the_forecast_when_a_row_has_no_series_id(cli, tmp_path: Path) -> None:
    """The largest series are drawn by unique_id; a row without one made a series of its own
    with the null id, whose rows a filter on equality never finds: an IndexError traceback."""
    rows = ["unique_id,ds,forecast,forecast-lo-80,forecast-hi-80,segment,sku,model"]
    for week in range(1, 5):
        rows.append(f"Gold/A,2024-01-{7 * week - 6:02d},9,7,11,Gold,A,AutoETS")
        uid = "" if week == 2 else "Silver/B"
        rows.append(f"{uid},2024-01-{7 * week - 6:02d},50,40,60,Silver,B,Naive")
    (tmp_path / "f.csv").write_text("\n".join(rows) + "\n")
    result = cli("report", "f.csv", "-o", "r.md")
    assert result.exit_code == 0, result.output
    assert "Demand forecast" in (tmp_path / "r.md").read_text()


SITES = (
    "site_id,lat,lon,existing,open,decision,fixed_cost,capacity,demand_served,customers\n"
    "S1,50.11,8.68,true,true,keep,100,1000,300,3\n"
    "S2,48.86,2.35,{},{},,200,1000,0,0\n"
    "S3,52.52,13.40,false,true,open,300,1000,500,5\n"
)


@pytest.mark.parametrize("cell", ["maybe", "2", "1e309"])
def test_report_reads_an_odd_open_or_existing_cell_as_unknown(cli, tmp_path: Path, cell) -> None:
    """network's sites table with one odd cell in open or existing is read as text: polars cannot
    cast text to a boolean (a traceback), and bool('false') is true."""
    (tmp_path / "sites.csv").write_text(SITES.format("", ""))
    assert cli("report", "sites.csv", "-o", "r.md").exit_code == 0
    with_empty = (tmp_path / "r.md").read_text()
    assert "Open sites: 2" in with_empty
    for row in ((cell, ""), ("", cell)):
        (tmp_path / "sites.csv").write_text(SITES.format(*row))
        odd = cli("report", "sites.csv", "-o", "r.md")
        assert odd.exit_code == 0, odd.output
        assert (tmp_path / "r.md").read_text() == with_empty


@pytest.mark.parametrize(
    "cell", ["-", "customers", "1e309", "2.5", "45999999999999999225842882314240"]
)
def test_report_reads_an_odd_customers_count_of_a_site_as_unknown(
    cli, tmp_path: Path, cell
) -> None:
    """The site decisions table holds whole customer counts; a cell of text there, or a count
    beyond a 64-bit integer, was a polars ComputeError traceback."""
    (tmp_path / "sites.csv").write_text(SITES.format("false", "true").replace(",0\n", ",\n"))
    assert cli("report", "sites.csv", "-o", "r.md").exit_code == 0
    with_empty = (tmp_path / "r.md").read_text()
    assert "| S2 |" in with_empty
    (tmp_path / "sites.csv").write_text(SITES.format("false", "true").replace(",0\n", f",{cell}\n"))
    odd = cli("report", "sites.csv", "-o", "r.md")
    assert odd.exit_code == 0, odd.output

    def decisions(page: str) -> str:  # the site decisions; the sites table shows cells as read
        return page.split("## What to do now")[1].split("\n## ")[0]

    assert "| S2 |" in decisions(with_empty)
    assert decisions((tmp_path / "r.md").read_text()) == decisions(with_empty)


def test_report_lists_costs_left_out_whatever_their_type(cli, tmp_path: Path) -> None:
    """costs_missing names what cost to serve left out; read as numbers (a hand-edited file
    whose fields moved), the note's join raised a TypeError traceback."""
    header = "segment,customers,revenue,cost_to_serve,profit,costs_missing\n"
    (tmp_path / "c.csv").write_text(header + "Gold,2,100,60,40,7\nSilver,3,90,80,10,\n")
    result = cli("report", "c.csv", "-o", "r.md")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.md").read_text()
    assert "Left out of cost to serve for lack of input: 7 (Gold)." in page


def _parquet_with_a_damaged_schema(path: Path) -> bytes:
    """A Parquet file whose Arrow schema (base64 in the footer's key-value metadata) holds a
    byte that is not base64, as a disk or a transfer damages a file."""
    import polars as pl

    pl.DataFrame(
        {"sku": ["A"], "ds": ["2024-01-01"], "forecast": [1.0], "error_sd": [0.5]}
    ).write_parquet(path)
    data = bytearray(path.read_bytes())
    at = data.find(b"ARROW:schema") + len(b"ARROW:schema") + 20
    data[at] = ord("=")
    return bytes(data)


@pytest.mark.parametrize("via", ["file", "stdin"])
def test_a_parquet_file_with_a_damaged_schema_is_named(cli, tmp_path: Path, via) -> None:
    """polars raises InvalidOperationError, not ComputeError, for it: a traceback."""
    data = _parquet_with_a_damaged_schema(tmp_path / "f.parquet")
    (tmp_path / "f.parquet").write_bytes(data)
    if via == "file":
        result = cli("stock", "f.parquet", "-o", "p.csv")
        name = "f.parquet"
    else:
        result = cli("stock", "-o", "p.csv", input=data)
        name = "<stdin>"
    assert result.exit_code == 1
    assert f"{name}: not a readable Parquet file (unable to decode the encoded schema" in (
        result.stderr
    )
    assert not (tmp_path / "p.csv").exists()


def test_a_blank_key_in_a_message_is_shown_as_blank_not_none(cli, tmp_path: Path) -> None:
    """A sku literally named 'None' and a blank sku read alike in 'empty on_hand for sku
    'None''; a blank value is now shown as (blank)."""
    (tmp_path / "f.csv").write_text(
        "sku,ds,forecast,error_sd\nA,2024-01-01,1,0.5\nA,2024-01-08,1,0.5\n"
    )
    # The empty row before another: one at the end is skipped as a spreadsheet's (s45).
    (tmp_path / "oh.csv").write_text("sku,on_hand\n,\nA,3\n")
    result = cli("stock", "f.csv", "--on-hand", "oh.csv", "-o", "p.csv")
    assert result.exit_code == 1
    assert "None" not in result.stderr
    assert "(blank)" in result.stderr


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["forecast", "s.csv", "--orders", "o.csv", "--horizon", "abc"], {},
         "Invalid value for '--horizon': Input should be a valid integer, unable to parse "
         "string as an integer, got 'abc'"),
        (["forecast", "s.csv", "--orders", "o.csv", "--horizon=1O"], {}, ", got '1O'"),
        (["segment", "o.csv", "--k", "2", "--k", "2.5"], {}, ", got '2.5'"),
        (["stock", "f.csv"], {"SEGCHAIN_SERVICE_LEVEL": "95%"},
         ", got '95%' (from SEGCHAIN_SERVICE_LEVEL)"),
    ],
)  # fmt: skip
def test_an_option_value_the_parser_refuses_is_shown(runner, args, env, expected) -> None:
    """The parser said 'Input should be a valid integer' without the value given: a typo in a
    long command line (or a variable set long ago) had to be found by eye."""
    from segchain.cli import app

    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 2
    assert expected in result.stderr.splitlines()[0]
