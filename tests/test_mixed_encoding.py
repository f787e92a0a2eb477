"""A file that mixes UTF-8 and cp1252 lines (two exports joined with ``cat``) is read line by line.

Before: one line that was not UTF-8 sent the whole file to cp1252, so every accented letter of
its UTF-8 lines was garbled without a word ('Müller' read as 'MÃ¼ller': one customer became
two), with only 'encoding cp1252' on stderr. A file wholly in cp1252 is read as before.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from segchain import tableio
from segchain.errors import DataError

HEADER = b"order_id,order_date,customer_id,sku,quantity,unit_price\n"
# Two UTF-8 lines of 'Müller' (0xc3 0xbc), then one saved in cp1252 (0xfc).
MIXED = (
    HEADER
    + b"1,2024-01-03,M\xc3\xbcller,A,1,10\n"
    + b"2,2024-02-04,M\xc3\xbcller,A,1,10\n"
    + b"3,2024-03-05,M\xfcller,A,1,10\n"
)
MIXED_ROWS = [
    "1,2024-01-03,Müller,A,1,10\n",
    "2,2024-02-04,Müller,A,1,10\n",
    "3,2024-03-05,Müller,A,1,10\n",
]
WARNING = (
    "Warning: all.csv: 1 line not UTF-8 read as cp1252 (line 4 of the file), the others as "
    "UTF-8: the file mixes two encodings (two exports joined?); save it as UTF-8 (Excel: File > "
    "Save As > CSV UTF-8), or check that line (numbered as an editor numbers the file's lines, "
    "the header line 1; a row of --rejects counts records from 1 after the header)"
)


def _customers(path: Path) -> dict[str, int]:
    seg = pl.read_csv(path, infer_schema=False)
    return dict(zip(seg["customer_id"], seg["frequency"].cast(int), strict=True))


def test_segment_reads_a_mixed_file_as_one_customer_and_warns(cli, tmp_path: Path) -> None:
    # segment needs two customers: an ASCII one beside Müller.
    (tmp_path / "all.csv").write_bytes(MIXED + b"4,2024-03-06,Schmidt,A,1,10\n")
    result = cli("segment", "all.csv", "-o", "seg.csv")
    assert result.exit_code == 0, result.stderr
    assert _customers(tmp_path / "seg.csv") == {"Müller": 3, "Schmidt": 1}
    lines = result.stderr.splitlines()
    assert [line for line in lines if "Warning" in line] == [f"segchain segment: {WARNING}"]
    assert "all.csv: csv, delimiter comma, decimal point, encoding utf-8 and cp1252" in (
        result.stderr
    )


def test_the_warning_is_counted_under_quiet(cli, tmp_path: Path) -> None:
    # A cron job's --quiet keeps warnings to one counting line: this one is counted, not lost.
    (tmp_path / "all.csv").write_bytes(MIXED + b"4,2024-03-06,Schmidt,A,1,10\n")
    result = cli("segment", "all.csv", "-o", "seg.csv", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [
        "segchain segment: 1 warning not shown (--quiet); run without --quiet to see them"
    ]


def test_validate_reads_the_reproduction_as_one_customer(cli, tmp_path: Path) -> None:
    (tmp_path / "all.csv").write_bytes(MIXED)
    result = cli("validate", "all.csv", "-o", "-")
    assert result.exit_code == 0, result.stderr
    out = pl.read_csv(result.stdout_bytes, infer_schema=False)
    assert out["customer_id"].to_list() == ["Müller"] * 3
    assert result.stderr.count("Warning:") == 1 and WARNING in result.stderr


def test_a_file_wholly_in_cp1252_is_read_as_before(cli, tmp_path: Path) -> None:
    # Its 'ß' before a no-break space is valid UTF-8 by chance (an N'Ko letter): no UTF-8 line.
    text = (
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        "1,2024-01-03,Müller,A,1,10\n"
        "2,2024-02-04,Hauptstraße\xa05,A,1,10\n"
        "3,2024-03-05,Müller,A€,1,10\n"
    )
    (tmp_path / "all.csv").write_bytes(text.encode("cp1252"))
    result = cli("validate", "all.csv", "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert "all.csv: csv, delimiter comma, decimal point, encoding cp1252\n" in result.stderr
    assert "Warning" not in result.stderr and "utf-8" not in result.stderr
    out = pl.read_csv(result.stdout_bytes, infer_schema=False)
    assert out["customer_id"].to_list() == ["Müller", "Hauptstraße\xa05", "Müller"]
    assert out["sku"].to_list() == ["A", "A", "A€"]
    payload, found = tableio.to_utf8(text.encode("cp1252"))
    assert (payload.decode(), found) == (text, "cp1252")


@pytest.mark.parametrize(
    ("data", "text", "codec", "lines"),
    [
        (MIXED, HEADER.decode() + "".join(MIXED_ROWS), "cp1252", [4]),
        # CRLF kept; a cp1252 line first, and a quoted line break in a UTF-8 field.
        (
            b'k,v\r\n1,"Gr\xfc\xdfe"\r\n2,"K\xc3\xb6ln\r\nDom"\r\n3,\x80\r\n',
            'k,v\r\n1,"Grüße"\r\n2,"Köln\r\nDom"\r\n3,€\r\n',
            "cp1252",
            [2, 5],
        ),
        # A byte cp1252 leaves undefined (0x81) in one legacy line: all of them read as latin-1.
        (b"a\n\xe9\n\xc3\xa9\n\x81\x80\n", "a\né\né\n\x81\x80\n", "latin-1", [2, 4]),
        # Lines ending in a bare CR (old Mac); a cell's line break there is an LF.
        (b"a\r\xc3\xa9\nx\r\xe9\r", "a\ré\nx\ré\r", "cp1252", [3]),
    ],
    ids=["reproduction", "crlf-quoted", "latin-1", "cr-lines"],
)
def test_decode_mixed_reads_each_line_in_its_encoding(
    data: bytes, text: str, codec: str, lines: list[int]
) -> None:
    assert tableio.decode_mixed(data) == (text.encode("utf-8"), codec, lines)
    legacy: list[int] = []
    payload, found = tableio.to_utf8(data, legacy_lines=legacy)
    assert (payload.decode("utf-8"), found, legacy) == (text, f"utf-8 and {codec}", lines)


@pytest.mark.parametrize(
    "data",
    [
        "Müller;5 €\nKöln\n".encode("cp1252"),
        b"a\nStra\xdfe\xa05\n\xe9\n",  # 'ß' + no-break space: valid UTF-8, an N'Ko letter
        b"a\n\xc4\xb0 M\xfcller\n",  # 'Ä°' is UTF-8 'İ', in a line that is not UTF-8
        b"plain ascii\n",
    ],
    ids=["cp1252", "nko", "part-of-a-line", "ascii"],
)
def test_decode_mixed_leaves_a_file_with_no_utf8_line_to_the_whole_reading(data: bytes) -> None:
    assert tableio.decode_mixed(data) is None


def test_to_utf8_with_a_bom_says_utf8_sig_and_keeps_the_cut_short_refusal() -> None:
    payload, found = tableio.to_utf8(b"\xef\xbb\xbfk\n\xc3\xa9\n\xe9\n")
    assert (payload.decode(), found) == ("k\né\né\n", "utf-8-sig and cp1252")
    with pytest.raises(DataError, match="ends inside a character"):
        tableio.to_utf8("city\nDüsseldorf\nM".encode() + b"\xc3", name="x.csv")


def test_the_warning_names_the_first_four_lines_and_counts_them_all() -> None:
    message = tableio.mixed_encoding_warning("--orders x.csv", "cp1252", [2, 3, 5, 8, 13, 1234])
    assert message.startswith(
        "--orders x.csv: 6 lines not UTF-8 read as cp1252 (lines 2, 3, 5, 8 and 2 more of the "
        "file), the others as UTF-8: the file mixes two encodings (two exports joined?); save it "
        "as UTF-8"
    )
    assert "or check those lines (numbered as an editor numbers" in message
