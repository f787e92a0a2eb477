"""``segchain report`` through the CLI runner: recognition, outputs, exit codes, exact messages."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from segchain.tableio import provenance, write_table

MONDAY = date(2024, 1, 1)


def segments() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "segment": ["Champions", "Champions", "Lost"],
            "segment_rank": [1, 1, 2],
            "monetary": [500.0, 300.0, 200.0],
        }
    )


def forecast() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "unique_id": ["Champions/A"] * 3,
            "ds": [MONDAY + timedelta(weeks=i) for i in range(3)],
            "forecast": [5.0, 6.0, 7.0],
            "segment": ["Champions"] * 3,
            "sku": ["A"] * 3,
        }
    )


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    """segments.parquet with segchain metadata, forecast.csv recognised by its columns."""
    seg = tmp_path / "segments.parquet"
    write_table(segments(), str(seg), metadata=provenance("segments", params={"method": "rfm"}))
    fc = tmp_path / "forecast.csv"
    forecast().write_csv(fc)
    return {"segments": seg, "forecast": fc}


def test_cli_report_writes_html_and_says_what_it_recognised(cli, inputs, tmp_path):
    out = tmp_path / "report.html"
    result = cli("report", str(inputs["segments"]), str(inputs["forecast"]), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert "<h2>Customer segments</h2>" in page and "<h2>Demand forecast</h2>" in page
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"segchain report: {inputs['segments']}: segments, 3 rows (recognised by its metadata)"
    )
    assert lines[1] == (
        f"segchain report: {inputs['forecast']}: forecast, 3 rows (recognised by its columns)"
    )
    assert lines[-1] == f"segchain report: wrote the report (2 sections, 2 charts) to {out}"
    assert result.stdout == ""


def test_cli_report_rerun_writes_identical_bytes(cli, inputs, tmp_path):
    args = ("report", str(inputs["segments"]), str(inputs["forecast"]))
    cli(*args, "-o", "a.html")
    cli(*args, "-o", "b.html")
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()


def test_cli_report_reads_one_table_from_stdin_by_default(cli, inputs):
    result = cli("report", "-o", "-", input=inputs["segments"].read_bytes())
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# segchain report\n")
    assert "<stdin>: segments, 3 rows (recognised by its metadata)" in result.stderr


def test_cli_report_dash_writes_markdown_without_charts_to_stdout(cli, inputs):
    result = cli("report", str(inputs["segments"]), "-o", "-", "--title", "Q3 <review>")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# Q3 &lt;review&gt;\n")
    assert "- **Customers: 3** (in 2 segments)" in result.stdout
    assert "1 chart left out" in result.stdout
    assert result.stderr.endswith(
        "wrote the report (1 section, Markdown without charts) to stdout\n"
    )


def test_cli_report_markdown_file_writes_charts_beside_it(cli, inputs, tmp_path):
    result = cli("report", str(inputs["segments"]), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.stderr
    png = tmp_path / "r_files" / "segments.png"
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "![Segment sizes and value](r_files/segments.png)" in (tmp_path / "r.md").read_text()


def test_cli_report_charts_folder_is_checked_before_any_input_is_read(cli, tmp_path):
    """A file where the charts folder goes was found only after every input was read (exit 1);
    it is a destination like -o: a usage error before reading (the input here does not even
    exist), and the report already there is left as it was."""
    (tmp_path / "r_files").write_text("not a folder")
    (tmp_path / "r.md").write_text("previous report")
    result = cli("report", str(tmp_path / "missing.parquet"), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 2, result.stderr
    assert "r_files/, which exists and is not a folder" in result.stderr
    assert (tmp_path / "r.md").read_text() == "previous report"


def test_cli_report_unknown_output_suffix_is_a_usage_error(cli, inputs):
    result = cli("report", str(inputs["segments"]), "-o", "report.pdf")
    assert result.exit_code == 2
    assert result.stderr == (
        "segchain report: Error: -o report.pdf: a report is written as .html or .md\n"
        "segchain report:   hint: use -o report.html, -o report.md, or -o - for Markdown on "
        "stdout\n"
    )


def test_cli_report_stdin_twice_is_a_usage_error(cli):
    result = cli("report", "-", "-", "-o", "-", input=b"")
    assert result.exit_code == 2
    assert (
        result.stderr
        == "segchain report: Error: stdin ('-') can be given only once among the inputs\n"
    )


def test_cli_report_two_tables_of_one_kind_is_a_usage_error(cli, inputs, tmp_path):
    copy = tmp_path / "again.csv"
    segments().write_csv(copy)
    result = cli("report", str(inputs["segments"]), str(copy), "-o", "-")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "segchain report: Error: more than one input of the same kind "
        f"(segments (segchain segment): {inputs['segments']}, {copy})\n"
    )


def test_cli_report_lists_every_unusable_input_at_once(cli, inputs, tmp_path):
    # A table of no kind (an item master is skipped with a note: test_report_s49).
    odd = tmp_path / "odd.csv"
    odd.write_text("sku,colour\nA,red\n")
    result = cli("report", "nope.csv", str(odd), str(inputs["segments"]), "-o", "-")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "segchain report: Error: nope.csv: no such file"
    assert lines[1].startswith(
        f"segchain report: {odd}: not a segchain stage output; columns sku, colour. A table "
        "is recognised "
        "by its Parquet metadata or by the key columns of one kind: segments: customer_id, "
        "segment, segment_rank;"
    )
    assert result.stdout == ""


def test_cli_report_failed_run_leaves_previous_report_untouched(cli, inputs, tmp_path):
    out = tmp_path / "report.html"
    out.write_text("previous")
    result = cli("report", "nope.csv", "-o", str(out))
    assert result.exit_code == 1
    assert out.read_text() == "previous"


def test_cli_report_records_its_resolved_options_in_the_page(cli, inputs, tmp_path, monkeypatch):
    import html
    import json
    import re

    from segchain import __version__

    monkeypatch.setenv("SEGCHAIN_REPORT_TITLE", "From <env>")
    out = tmp_path / "report.html"
    result = cli("report", str(inputs["segments"]), str(inputs["forecast"]), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    found = re.search(r'<meta name="segchain-provenance" content="([^"]*)">', page)
    assert found is not None
    recorded = json.loads(html.unescape(found.group(1)))
    assert recorded["stage"] == "report" and recorded["version"] == __version__
    # The title came from the environment; the same resolved value titles the page.
    assert recorded["params"] == {
        "inputs": [str(inputs["segments"]), str(inputs["forecast"])],
        "title": "From <env>",
        "layout": "html",
    }
    assert "<title>From &lt;env&gt;</title>" in page
    assert recorded["inputs"] == {str(inputs["segments"]): 3, str(inputs["forecast"]): 3}


def test_cli_report_verbose_prints_the_provenance(cli, inputs):
    result = cli("report", str(inputs["segments"]), "-o", "-", "--verbose")
    assert result.exit_code == 0, result.stderr
    line = next(x for x in result.stderr.splitlines() if "provenance: " in x)
    assert '"stage": "report"' in line and '"layout": "-"' in line


def test_report_params_checks_every_option_before_reading():
    from segchain.errors import UsageError
    from segchain.report import ReportParams

    with pytest.raises(UsageError, match="stdin"):
        ReportParams.resolve(inputs=["-", "-"], output=None, title=None, stdout_is_terminal=False)
    with pytest.raises(UsageError, match="written as .html or .md"):
        ReportParams.resolve(inputs=None, output="r.pdf", title=None, stdout_is_terminal=False)
    p = ReportParams.resolve(inputs=None, output=None, title=None, stdout_is_terminal=True)
    assert (p.inputs, p.layout, p.title) == (("-",), "terminal", "segchain report")


def test_cli_report_skips_an_empty_stage_output_among_others(cli, inputs, tmp_path):
    """forecast on a short history writes a backtest with no rows; `report out/*` then failed
    (exit 1) on it, whatever the other tables held. An empty table is skipped with a note; alone
    it is still an error (test_contracts)."""
    empty = tmp_path / "backtest.parquet"
    write_table(forecast().head(0), str(empty), metadata=provenance("forecast", params={}))
    result = cli("report", str(inputs["segments"]), str(empty), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 0, result.stderr
    assert f"{empty}: the forecast table has no rows (only a header): skipped" in result.stderr
