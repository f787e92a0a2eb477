"""The import of an export whose lines have more fields than the header (audit Z, session 64)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price,description\n"


@pytest.mark.parametrize("inch_line", [1, 3, 5])
def test_an_inch_mark_beside_extra_field_lines_keeps_the_export(
    cli, tmp_path: Path, inch_line: int
) -> None:
    """An unquoted inch mark (RECORD FRAME 7" SINGLE) and a line with an extra field were each
    read alone, but together the whole export was refused, exit 1: '1 row has more fields than
    the header's 7: row 2', as polars' read of the ragged lines stopped at the quote. Now the
    extra-field lines alone are rejected and the inch mark is kept as a character."""
    lines = [f"{i},2024-01-0{i},C{i},S{i},{i},2.5,plain {i}\n" for i in range(1, 7)]
    lines[inch_line - 1] = f'{inch_line},2024-01-0{inch_line},C{inch_line},S1,1,2.5,FRAME 7" X\n'
    lines[1] = "2,2024-01-02,C2,S2,1,4.5,x,EXTRA\n"
    lines[3] = '4,2024-01-04,C4,S4,1,4.5,12" RULER,MORE\n'  # a ragged line with an inch of its own
    path = tmp_path / "o.csv"
    path.write_text(HEADER + "".join(lines))
    out, rejects = tmp_path / "x.csv", tmp_path / "r.csv"
    result = cli("validate", str(path), "-o", str(out), "--rejects", str(rejects))
    assert result.exit_code == 0, result.stderr
    assert "read 6 = used 4 + rejected 2 (extra_fields 2)" in result.stderr
    got = pl.read_csv(out, infer_schema=False)
    kept = [i for i in range(1, 7) if i not in (2, 4)]
    assert got.get_column("order_id").to_list() == [str(i) for i in kept]
    want = {i: f"plain {i}" for i in kept} | {inch_line: 'FRAME 7" X'}
    assert got.get_column("description").to_list() == [want[i] for i in kept]
    rows = pl.read_csv(rejects, infer_schema=False)
    assert rows.select("row", "description", "extra_fields").rows() == [
        ("2", "x", "EXTRA"),
        ("4", '12" RULER', "MORE"),
    ]
