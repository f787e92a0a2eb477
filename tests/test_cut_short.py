"""An export that ends inside its last line (a download, copy or export stopped part way) is
named on stderr: its last line reads like any short line, its missing fields blank."""

from __future__ import annotations

from pathlib import Path

import pytest

from segchain.tableio import cut_short

HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price\n"
NOTE = HEADER.replace("\n", ",note\n")


@pytest.mark.parametrize(
    ("text", "rows", "expected"),
    [
        # Cut inside the quantity (16 of 160: every field there, nothing to tell), then after it
        # and inside the date.
        (HEADER + "1,2024-01-02,C1,A,2,10\n2,2024-01-02,C1,A,16", 2, (2, 5, 6)),
        (HEADER + "1,2024-01-02,C1,A,2,10\n2,2024-01-0", 2, (2, 2, 6)),
        (HEADER + "1,2024-01-02,C1,A,16", 1, (1, 5, 6)),
        # Every field, no line break at the end: common, and says nothing.
        (HEADER + "1,2024-01-02,C1,A,2,10\n2,2024-01-02,C1,A,2,1", 2, None),
        # A line break at the end: a short last line is a short line like any other.
        (HEADER + "1,2024-01-02,C1,A,2,10\n2,2024-01-02,C1,A,2\n", 2, None),
        # Lines that all stop short of the header (trailing empty fields left out).
        (
            HEADER.replace("\n", ",note\n") + "1,2024-01-02,C1,A,2,10\n2,2024-01-02,C1,A,2,10",
            2,
            None,
        ),
        # A quoted line break inside the last field: the record is whole.
        (
            NOTE + '1,2024-01-02,C1,A,2,10,"a\nb"\n2,2024-01-02,C1,A,2,10,"c\nd"',
            2,
            None,
        ),
    ],
)
def test_cut_short_finds_a_last_line_that_stops_part_way(text: str, rows: int, expected) -> None:
    assert cut_short(text.encode(), delimiter=",", rows=rows) == expected


def test_validate_warns_of_a_cut_export_and_reads_the_line(cli, tmp_path: Path) -> None:
    # Before: nothing said; the last line was read with its site blank.
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,order_date,customer_id,sku,unit_price,quantity,site\n"
        "1,2024-01-02,C1,A,10,2,DC1\n2,2024-01-03,C1,A,10,16"
    )
    result = cli("validate", str(path), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 0, result.stderr
    assert (
        f"Warning: {path}: the file ends inside its last line (row 2: 6 of the header's 7 "
        "fields, and no line break after it): the export looks cut short" in result.stderr
    )
    assert "read 2 = used 2" in result.stderr
