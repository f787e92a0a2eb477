"""Hostile inputs to the order import (session 25): what real exports do to their encoding, line
endings and prices. Each line is read right, or counted apart with a reason or flag, or the run
refused with one message; never a silently wrong number."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

HEADER = ["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"]


def validated(
    cli, path: Path, tmp_path: Path, *args: str
) -> tuple[pl.DataFrame, pl.DataFrame, str]:
    out, rejects = tmp_path / "out.csv", tmp_path / "rejects.csv"
    result = cli("validate", str(path), "-o", str(out), "--rejects", str(rejects), *args)
    assert result.exit_code == 0, result.stderr
    return pl.read_csv(out), pl.read_csv(rejects, infer_schema=False), result.stderr


# ---- UTF-16 without a byte-order mark ----------------------------------------------------------

UNICODE_TEXT = (
    "\t".join([*HEADER, "customer_name"])
    + "\r\n"
    + "O1\t2024-03-01\tC1\tS1\t2\t2.50\tMüller & Søn\r\n"
    + "O2\t2024-03-02\tC2\tS1\t1\t4.00\t東京商事 €\r\n"
)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_read_and_named(cli, tmp_path: Path, codec: str) -> None:
    # Some Windows tools write UTF-16 with no BOM. Before: read as cp1252, 'missing required
    # columns ...; found o r d e r _ i d ...', exit 1.
    path = tmp_path / f"{codec}.txt"
    path.write_bytes(UNICODE_TEXT.encode(codec))
    out, rejects, stderr = validated(cli, path, tmp_path)
    assert rejects.height == 0
    assert out["amount"].to_list() == [5.0, 4.0]
    assert out["customer_name"].to_list() == ["Müller & Søn", "東京商事 €"]
    assert f"delimiter tab, decimal point, encoding {codec} (no BOM)" in stderr


def test_utf16_without_a_bom_is_read_from_a_gzip_file_and_stdin(cli, tmp_path: Path) -> None:
    import gzip

    data = UNICODE_TEXT.encode("utf-16-le")
    path = tmp_path / "export.csv.gz"
    path.write_bytes(gzip.compress(data))
    out, _, _ = validated(cli, path, tmp_path)
    assert out["order_id"].to_list() == ["O1", "O2"]
    result = cli("validate", "-", "-o", str(tmp_path / "stdin.csv"), input=data)
    assert result.exit_code == 0, result.stderr
    assert "read 2 = used 2 + rejected 0" in result.stderr


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("order_id,sku\n".encode("utf-16-le"), "utf-16-le"),
        ("order_id,sku\n".encode("utf-16-be"), "utf-16-be"),
        ("Müller,sku\n".encode(), None),  # UTF-8: no NUL byte
        ("Bestell-Nr.;Menge (Stück);Betrag €\n".encode("cp1252"), None),
        ("order_id,sku\n".encode("utf-32-le"), None),  # three NULs in four: not UTF-16
        ("a\n".encode("utf-16-le")[:3], None),  # too short to tell
        (bytes(range(256)), None),  # binary
    ],
    ids=["le", "be", "utf-8", "cp1252", "utf-32", "short", "binary"],
)
def test_utf16_without_bom_is_told_from_its_first_bytes(data: bytes, expected: str | None) -> None:
    from segchain.tableio import utf16_without_bom

    assert utf16_without_bom(data) == expected
