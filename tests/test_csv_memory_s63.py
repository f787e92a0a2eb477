"""An export's bytes are not held beside the text parsed from them (audit U1, session 63).

Where the text handed to the CSV parser is a copy of the file's bytes (a UTF-8 BOM cut off,
cp1252 transcoded, a title line cut off, bare CRs replaced), the file's bytes stayed referenced
by the reader through the parse: one file's size more at the read's peak, beside the all-text
frame (a 340 MB export with a BOM: 1.45 GB where the same file without one took 1.1 GB).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from segchain import tableio

HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price"
ROWS = [
    f"{1000 + i},2024-01-{1 + i % 28:02d},C{i % 7},Caf\u00e9-{i},{1 + i % 5},2.50"
    for i in range(200)
]


def _text(newline: str = "\n") -> str:
    return newline.join([HEADER, *ROWS]) + newline


CASES = {
    "utf8_bom": b"\xef\xbb\xbf" + _text().encode("utf-8"),
    "cp1252": _text().encode("cp1252"),
    "title_line": ("Order lines of January 2024\n\n" + _text()).encode("utf-8"),
    "bare_crs": _text("\r").encode("utf-8"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_read_raw_holds_no_file_bytes_beside_the_parsed_text(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = CASES[case]
    path = tmp_path / "orders.csv"
    path.write_bytes(data)
    held: list[int] = []
    parse = tableio.read_csv_bytes

    def spy(payload: bytes, **kwargs: Any) -> pl.DataFrame:
        # The reader's frame: every bytes object it still holds while the text is parsed.
        reader = sys._getframe(1).f_locals
        held.extend(len(v) for v in reader.values() if isinstance(v, bytes) and v is not payload)
        return parse(payload, **kwargs)

    monkeypatch.setattr(tableio, "read_csv_bytes", spy)
    table = tableio.read_raw(str(path))
    frame = table.frame
    assert isinstance(frame, pl.DataFrame)
    # Read as it was: every line, the header's names, the accented text decoded.
    assert frame.columns == HEADER.split(",")
    assert frame.height == len(ROWS)
    assert frame.get_column("sku")[0] == "Caf\u00e9-0"
    # Nothing the size of the file (or larger than a few header bytes) held beside the text.
    assert [n for n in held if n >= len(HEADER)] == []
