"""Order lines in a workbook damaged the way spreadsheets are: cells of another type (numbers,
dates and times, booleans, formulas' error values such as #N/A and #DIV/0!, very long text, huge
numbers, negative zero), empty or repeated rows, title rows above the header, extra and hidden
sheets, and the file's bytes cut or changed. validate answers with exit 0, 1 or 2 and a message,
never a traceback, and writes nothing when it fails.

A seeded sample of the session 30 workbook fuzz (make fuzz runs it longer)."""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import zipfile
from pathlib import Path

import pytest

xlsxwriter = pytest.importorskip("xlsxwriter")

HEADER = ["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"]
ERRORS = [("=NA()", "#N/A"), ("=1/0", "#DIV/0!"), ("=#REF!", "#REF!"), ('="a"+1', "#VALUE!")]
VALUES: list[object] = [
    3, 3.5, -2, 0, -0.0, 1e20, 1e300, -1e300, 1e-300, 4006381333931, 45000, 45000.75, 2**63,
    True, False, "", " ", "x" * 32767, "é€\u200b", "1,5", "#N/A", "'0001", "a\nb", "NaN",
    "2024-02-30", "31.02.2024", "-",
]  # fmt: skip


def cell(rng: random.Random) -> tuple:
    """A cell of any kind a spreadsheet holds."""
    r = rng.random()
    if r < 0.15:
        return ("date", dt.datetime(rng.choice([1899, 2024, 2200]), rng.randint(1, 12), 3))
    if r < 0.2:
        return ("time", dt.time(rng.randint(0, 23), 30))
    if r < 0.35:
        return ("error", *rng.choice(ERRORS))
    if r < 0.4:
        return ("formula", "=1+2")  # no value cached: xlsxwriter writes 0
    return ("value", rng.choice(VALUES))


def grid(rng: random.Random) -> list[list[tuple]]:
    """The header and 40 order lines, typed as a spreadsheet types them, then damaged."""
    rows: list[list[tuple]] = [[("value", h) for h in HEADER]]
    for i in range(40):
        rows.append(
            [
                ("value", f"{1000 + i // 3}"),
                ("date", dt.datetime(2024, 1 + i % 12, 1 + i % 28)),
                ("value", f"C{i % 7:03d}"),
                ("value", f"S{i % 5}"),
                ("value", float(1 + i % 4)),
                ("value", 2.5 + i % 3),
            ]
        )
    for _ in range(rng.randint(1, 6)):
        op, i = rng.random(), rng.randrange(1, len(rows)) if len(rows) > 1 else 0
        if op < 0.5 and rows[i]:
            rows[i][rng.randrange(len(rows[i]))] = cell(rng)
        elif op < 0.6:
            rows.insert(i, [])
        elif op < 0.7:
            rows.insert(i, list(rng.choice(rows)))
        elif op < 0.75:
            del rows[i]
        elif op < 0.85 and rows[0]:
            rows[0][rng.randrange(len(rows[0]))] = cell(rng)
        elif op < 0.95:
            rows.insert(0, [("value", rng.choice(["Sales report", "ACME", "Period: 2024"]))])
        else:
            rows = rows[: rng.randrange(1, len(rows) + 1)]
    return rows


def book(rng: random.Random) -> bytes:
    """A workbook of the damaged grid, sometimes behind a hidden or cover sheet; its bytes
    sometimes cut, changed, or a member of its ZIP left out or garbled."""
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    formats = {
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "time": wb.add_format({"num_format": "hh:mm"}),
    }
    sheets = [("Orders", grid(rng))]
    r = rng.random()
    if r < 0.15:
        sheets.insert(0, ("Old", sheets[0][1][:10]))
    elif r < 0.25:
        sheets.insert(0, ("Cover", [[("value", "Report")]]))
    for name, rows in sheets:
        ws = wb.add_worksheet(name)
        for i, row in enumerate(rows):
            for j, c in enumerate(row):
                kind, value = c[0], c[1]
                if kind in formats:
                    ws.write_datetime(i, j, value, formats[kind])
                elif kind == "error":
                    ws.write_formula(i, j, value, None, c[2])
                elif kind == "formula":
                    ws.write_formula(i, j, value)
                elif isinstance(value, bool):
                    ws.write_boolean(i, j, value)
                elif isinstance(value, (int, float)):
                    ws.write_number(i, j, value)
                elif value:
                    ws.write_string(i, j, value)
    if r < 0.15 or rng.random() < 0.1:
        wb.worksheets()[0].hide()
        wb.worksheets()[-1].activate()
    wb.close()
    data = buffer.getvalue()
    r = rng.random()
    if r < 0.1:
        return data[: rng.randrange(len(data))]
    if r < 0.2:
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        return bytes(damaged)
    if r < 0.3:
        source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
        victim = rng.choice(source.namelist())
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for member in source.namelist():
                body = source.read(member)
                if member == victim:
                    if rng.random() < 0.5:
                        continue
                    body = body[: rng.randrange(len(body) + 1)] + b"<&\x00"
                target.writestr(member, body)
        return out.getvalue()
    return data


@pytest.mark.parametrize("seed", range(int(os.environ.get("FUZZ_SEEDS", "0")) or 30))
def test_a_damaged_workbook_gets_a_message_not_a_traceback(runner, tmp_path: Path, seed) -> None:
    from segchain.cli import app

    (tmp_path / "in.xlsx").write_bytes(book(random.Random(f"workbook-{seed}")))
    args = ["validate", "in.xlsx", "--rejects", "rej.csv", "-o", "out.csv"]
    result = runner.invoke(app, args, catch_exceptions=True)
    raised = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not raised, repr(result.exception)
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        assert result.stderr.count("Error:") == 1, result.stderr
        assert not (tmp_path / "out.csv").exists()
