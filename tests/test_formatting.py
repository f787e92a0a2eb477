"""The one number formatter: every kind written as a reader expects, and the raw-number check."""

from __future__ import annotations

import io
from datetime import date

import polars as pl
import pytest

from segchain.formatting import (
    MISSING,
    compact,
    count,
    format_number,
    kind_of,
    plural,
    raw_numbers,
)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((1, "site"), "1 site"),
        ((0, "site"), "0 sites"),
        ((2, "stocking point"), "2 stocking points"),
        ((3105, "customer"), "3,105 customers"),
        ((1, "entry", "entries"), "1 entry"),
        ((2, "entry", "entries"), "2 entries"),
    ],
)
def test_plural_singular_only_for_exactly_one(args, expected) -> None:
    assert plural(*args) == expected


@pytest.mark.parametrize(("n", "expected"), [(1, "has"), (0, "have"), (2, "have"), (1.0, "has")])
def test_agree_picks_the_word_of_the_count(n, expected) -> None:
    from segchain.formatting import agree

    assert agree(n, "has", "have") == expected


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (None, "num", MISSING),
        (float("nan"), "num", MISSING),
        (float("inf"), "pct", MISSING),
        (True, "int", "yes"),
        (3105, "int", "3,105"),
        (3104.6, "int", "3,105"),
        (0.7256, "pct", "72.6%"),
        (12.777, "pct", "1,278%"),
        (-0.0001, "pct", "-0.01%"),  # a share not 0 does not read 0 (session 68)
        (-1e-12, "pct", "0.0%"),  # a computation's 0: no "-0.0%"
        (1234567.8, "money", "1,234,568"),
        (12.345, "money", "12.35"),
        (23382.4, "units", "23,382"),
        (12.46, "units", "12.5"),
        (0.354, "units", "0.35"),
        (0.0, "units", "0"),
        (12.0, "units", "12"),  # whole units are written whole
        (2.0, "num", "2"),
        (2.0, "ratio", "2.00"),
        (9.151858259554439, "ratio", "9.15"),
        (1234.5, "ratio", "1,234"),
        (0.01234, "num", "0.012"),
        (12.34, "num", "12.3"),
        (4321.0, "num", "4,321"),
        (date(2024, 3, 1), "num", "2024-03-01"),
        ("a<b", "text", "a<b"),
        ("9.151858259554439", "units", "9.2"),  # a number read as text from a CSV
        ("3105", "int", "3,105"),
        ("DC-1", "int", "DC-1"),  # text that is not a number stays as it is
    ],
)
def test_format_number_table(value, kind, expected):
    assert format_number(value, kind) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, "0"), (999, "999"), (1000, "1,000"), (3105, "3,105"), (1234567, "1,234,567")],
)
def test_count_writes_thousands_separators(n, expected):
    assert count(n) == expected


def test_format_number_signed_marks_increases_only():
    assert format_number(65510.2, "money", signed=True) == "+65,510"
    assert format_number(-50, "money", signed=True) == "-50.00"
    assert format_number(0.0, "pct", signed=True) == "0.0%"


@pytest.mark.parametrize(
    ("x", "expected"),
    [(2_500_000, "2.5M"), (250_000, "250k"), (4000, "4,000"), (40, "40"), (0.5, "0.5")],
)
def test_compact_tick_text(x, expected):
    assert compact(x) == expected


@pytest.mark.parametrize(
    ("column", "integer", "numeric", "expected"),
    [
        ("fill_rate_segmented", False, True, "pct"),
        ("utilization", False, True, "pct"),
        ("mase", False, True, "ratio"),
        ("inventory_value", False, True, "money"),
        ("order_now", False, True, "units"),
        ("series", False, True, "int"),
        ("customers", True, True, "int"),
        ("distance_km", False, True, "num"),
        ("segment", False, False, "text"),
    ],
)
def test_kind_of_reads_the_column_name(column, integer, numeric, expected):
    assert kind_of(column, integer=integer, numeric=numeric) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mae 9.151858259554439", ["9.151858259554439"]),
        ("series 3105", ["3105"]),
        ("value 125001.5 units", ["125001.5"]),
        ("series 3,105, mae 9.15, 72.6%", []),
        ("from 2023-01-02 to 2025-12-28, year 2025", []),
        ("sku 00036, customer 0000241, site DC-1000, C001", []),
        ("-12345 units", ["-12345"]),
    ],
)
def test_raw_numbers_finds_numbers_not_written_by_the_formatter(text, expected):
    assert raw_numbers(text) == expected


def test_every_formatted_number_passes_the_raw_number_check():
    # The check and the formatter agree: nothing the formatter writes is flagged.
    values = [0.000123, 0.5, 9.15185, 99.99, 1000.0, 3105, 123456.789, -98765.4, 1e9]
    for kind in ("int", "units", "money", "pct", "ratio", "num"):
        for v in values:
            text = format_number(v, kind)
            assert raw_numbers(text) == [], (kind, v, text)


def test_cli_tables_write_numbers_as_the_report_does():
    from rich.console import Console

    from segchain.cli.common import frame_table

    df = pl.DataFrame(
        {
            "segment": ["Champions"],
            "series": [3105],
            "mae": [9.151858259554439],
            "fill_rate": [0.98765],
            "inventory_value": [125001.5],
        }
    )
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(frame_table(df, title="t"))
    text = console.export_text()
    assert "3,105" in text
    assert "9.15" in text and "9.1518" not in text
    assert "98.8%" in text
    assert "125,002" in text
    assert raw_numbers(text) == []
