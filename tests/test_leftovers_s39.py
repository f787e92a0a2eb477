"""Session 39, leftovers of the s38 hostile sweep: a command's one input table (SEGMENTS,
FORECAST, CUSTOMERS) is named by its argument in the messages of its reading, as an option's
table is ('SEGMENTS seg.parquet: not a readable Parquet file', not 'seg.parquet: ...'); a
damaged Parquet file says how to fix it; a 0-byte Parquet export of order lines is told as a
stage's 0-byte table is; an empty header in the config's [columns] is refused as --map sku= is."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest

SEGMENTS = "customer_id,segment,lat,lon,quantity\nC1,A,50.1,8.7,12\nC2,A,48.9,2.3,5\n"
ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-01,C1,P1,10,5\n2,2024-02-01,C2,P1,5,5\n3,2024-03-01,C1,P2,2,7\n"
)
SITES = "site_id,lat,lon,fixed_cost\nS1,50.0,8.6,100\nS2,48.8,2.4,100\n"
FORECAST = "sku,ds,forecast,error_sd\nP1,2025-01-06,10,2\nP2,2025-01-06,5,1\n"

DAMAGED_HINT = (
    "hint: the file is damaged or was cut short (a copy, download or write that stopped early); "
    "give the table as it was written, or rerun the stage or export that writes it\n"
)
EMPTY_HINT = (
    "hint: a Parquet table, even one without rows, is never empty: the write was cut short or "
    "the file emptied; give the table as it was written, or rerun the stage or export that "
    "writes it\n"
)


def _cut_parquet(path: Path, csv_text: str) -> None:
    """``csv_text`` written as Parquet, its second half cut off (a copy that stopped)."""
    buf = io.BytesIO()
    pl.read_csv(io.StringIO(csv_text)).write_parquet(buf)
    data = buf.getvalue()
    path.write_bytes(data[: len(data) // 2])


def _write(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "sites.csv").write_text(SITES)
    (tmp_path / "segments.csv").write_text(SEGMENTS)
    (tmp_path / "forecast.csv").write_text(FORECAST)


# (command and its arguments, with BAD for the damaged table; how messages name that table)
ARGUMENTS = {
    "forecast SEGMENTS": (["forecast", "BAD", "--orders", "orders.csv"], "SEGMENTS", SEGMENTS),
    "costs SEGMENTS": (["costs", "BAD", "--orders", "orders.csv"], "SEGMENTS", SEGMENTS),
    "network CUSTOMERS": (["network", "BAD", "--sites", "sites.csv"], "CUSTOMERS", SEGMENTS),
    "stock FORECAST": (["stock", "BAD"], "FORECAST", FORECAST),
}


@pytest.mark.parametrize(("args", "named", "text"), ARGUMENTS.values(), ids=ARGUMENTS.keys())
def test_argument_damaged_parquet_named_by_argument_with_hint(
    cli, tmp_path: Path, args: list[str], named: str, text: str
) -> None:
    # 'seg.parquet: not a readable Parquet file (...)' named neither the argument nor a way out.
    _write(tmp_path)
    _cut_parquet(tmp_path / "bad.parquet", text)
    out = tmp_path / "out.csv"
    args = [a.replace("BAD", "bad.parquet") for a in args]
    result = cli(*args, "-o", str(out))
    assert result.exit_code == 1, result.stderr
    command = args[0]
    assert f"segchain {command}: Error: {named} bad.parquet: not a readable Parquet file (" in (
        result.stderr
    )
    assert result.stderr.endswith(f"segchain {command}:   {DAMAGED_HINT}")
    assert "Traceback" not in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(("args", "named", "text"), ARGUMENTS.values(), ids=ARGUMENTS.keys())
def test_argument_missing_file_named_by_argument(
    cli, tmp_path: Path, args: list[str], named: str, text: str
) -> None:
    _write(tmp_path)
    args = [a.replace("BAD", "nowhere.csv") for a in args]
    result = cli(*args, "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 1, result.stderr
    assert result.stderr.endswith(f"segchain {args[0]}: Error: {named} nowhere.csv: no such file\n")


def test_argument_csv_read_error_named_by_argument(cli, tmp_path: Path) -> None:
    # A stray quote in SEGMENTS: the message named the path alone.
    _write(tmp_path)
    (tmp_path / "seg.csv").write_text('customer_id,segment\n"C1,A\nC2,B\n')
    result = cli("costs", "seg.csv", "--orders", "orders.csv", "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 1, result.stderr
    assert "segchain costs: Error: SEGMENTS seg.csv: row 1 opens a quoted field that no quote " in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("args", "named"),
    [(["stock", "-"], "FORECAST"), (["stock", "forecast.csv", "--items", "-"], "--items")],
    ids=["argument", "option"],
)
def test_stdin_damaged_parquet_named_by_what_reads_it(
    cli, tmp_path: Path, args: list[str], named: str
) -> None:
    # '<stdin>: not a readable Parquet file' did not say which input read stdin.
    _write(tmp_path)
    _cut_parquet(tmp_path / "bad.parquet", FORECAST)
    result = cli(
        *args, "-o", str(tmp_path / "out.csv"), input=(tmp_path / "bad.parquet").read_bytes()
    )
    assert result.exit_code == 1, result.stderr
    assert f"segchain stock: Error: {named} <stdin>: not a readable Parquet file (" in (
        result.stderr
    )


def test_validate_input_damaged_parquet_keeps_its_path_with_hint(cli, tmp_path: Path) -> None:
    # validate's INPUT is named by its path alone (README); the damaged file had no hint.
    _cut_parquet(tmp_path / "bad.parquet", ORDERS)
    result = cli("validate", "bad.parquet", "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 1, result.stderr
    assert "segchain validate: Error: bad.parquet: not a readable Parquet file (" in result.stderr
    assert result.stderr.endswith(f"segchain validate:   {DAMAGED_HINT}")


# ---- a 0-byte Parquet export of order lines: told as a stage's 0-byte table -----------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["validate", "empty.parquet"], "empty.parquet"),
        (["segment", "empty.parquet"], "empty.parquet"),
        (["forecast", "segments.csv", "--orders", "empty.parquet"], "--orders empty.parquet"),
        (["forecast", "empty.parquet", "--orders", "orders.csv"], "SEGMENTS empty.parquet"),
    ],
    ids=["validate", "segment", "--orders", "a stage's table"],
)
def test_empty_parquet_one_message(cli, tmp_path: Path, args: list[str], named: str) -> None:
    # validate, segment and --orders said 'not a readable Parquet file (... at least 12 bytes)'
    # without a hint, where a stage's 0-byte table says it is empty and how to fix it (25b7ab6).
    _write(tmp_path)
    (tmp_path / "empty.parquet").write_bytes(b"")
    out = tmp_path / "out.csv"
    result = cli(*args, "-o", str(out))
    assert result.exit_code == 1, result.stderr
    assert result.stderr.endswith(
        f"segchain {args[0]}: Error: {named}: the file is empty\nsegchain {args[0]}:   {EMPTY_HINT}"
    )
    assert not out.exists()


# ---- the config's [columns] with an empty header: refused as --map sku= is -----------------

SITE_TRAILING = (
    "order_id,order_date,customer_id,sku,quantity,unit_price,site,\n"
    "1,2024-01-01,C1,P1,10,5,S1,\n2,2024-02-01,C2,P1,5,5,S2,\n"
)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("value", ['""', '"  "'], ids=["empty", "blank"])
def test_config_columns_empty_header_refused(cli, tmp_path: Path, fmt: str, value: str) -> None:
    # site = "" took the export's trailing empty column (a delimiter at each line's end) for
    # site: every line's site blank, exit 0, the real site column unread. An export without
    # such a column said 'no such column'. Refused now, as --map site= is, before any input.
    export = tmp_path / f"o.{fmt}"
    if fmt == "csv":
        export.write_text(SITE_TRAILING)
    else:
        pl.read_csv(io.StringIO(SITE_TRAILING)).write_parquet(export)
    (tmp_path / "cfg.toml").write_text(f"[columns]\nsite = {value}\n")
    out = tmp_path / "out.csv"
    result = cli("validate", str(export), "--config", "cfg.toml", "-o", str(out))
    assert result.exit_code == 2, result.stderr
    shown = value.strip('"')
    assert result.stderr.endswith(
        f"segchain validate: Error: cfg.toml [columns] site: the header is empty, got {shown!r}\n"
        "segchain validate:   hint: give the export's header for site, or delete the line to "
        "read site under its own name; a column without a header cannot be mapped: name it in "
        "the export\n"
    )
    assert not out.exists()
