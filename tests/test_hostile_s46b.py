"""Hostile-user findings of session 46 (second part): each test fails on the code before its fix."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import pytest

# ---- one export whose ids come in two Unicode forms ---------------------------------------------
# Two systems' extracts joined into one export: one writes 'Müller KG' with its ü one character
# (U+00FC, NFC), the other as 'u' and a combining U+0308 (NFD). They look the same on screen;
# validate and segment read them as two customers (two skus) without a word.


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _export(path: Path, customers: list[str], skus: list[str]) -> Path:
    """One order line per customer and week for eight weeks, its sku taken in turn from skus."""
    rows = ["order_id,order_date,customer_id,sku,quantity,unit_price"]
    order = 0
    for week in range(8):
        for i, customer in enumerate(customers):
            order += 1
            day = dt.date(2024, 1, 1) + dt.timedelta(weeks=week, days=i)
            rows.append(f"{order},{day},{customer},{skus[order % len(skus)]},1,2.50")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


NAMES = ["Müller KG", "Café Zoë", "Björk AB", "Plain Ltd"]
# Both forms of the first two customers and of the sku 'Crème': the others once, composed.
MIXED = [_nfc(NAMES[0]), _nfd(NAMES[0]), _nfc(NAMES[1]), _nfd(NAMES[1]), *NAMES[2:]]
SKUS = [_nfc("Crème"), _nfd("Crème"), "A-1"]


@pytest.mark.parametrize("command", ["validate", "segment"])
def test_ids_in_two_unicode_forms_in_one_export_are_said(cli, tmp_path: Path, command: str) -> None:
    _export(tmp_path / "orders.csv", MIXED, SKUS)
    result = cli(command, "orders.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    # The code points written out by hand: é is U+00E9, ë U+00EB, ü U+00FC, è U+00E8; the
    # combining acute U+0301, diaeresis U+0308, grave U+0300.
    fix = (
        "save the export's text in one form, NFC, and read it again (e.g. uconv -x any-nfc "
        "orders.csv > orders-nfc.csv): segchain does not merge them"
    )
    assert (
        "Warning: customer_id: 2 ids are other ids of the column in another Unicode form only "
        "(an accent one character in one, combining in the other), so one customer is read as "
        "two: 'Caf\\xe9 Zo\\xeb' / 'Cafe\\u0301 Zoe\\u0308', 'M\\xfcller KG' / 'Mu\\u0308ller KG'; "
        + fix
    ) in result.stderr, result.stderr
    assert (
        "Warning: sku: 1 id is another id of the column in another Unicode form only (an accent "
        "one character in one, combining in the other), so one product is read as two: "
        "'Cr\\xe8me' / 'Cre\\u0300me'; " + fix
    ) in result.stderr, result.stderr


def test_an_id_with_a_kelvin_sign_is_said_to_be_the_plain_letters_one(cli, tmp_path: Path) -> None:
    # NFC makes the Kelvin sign (U+212A) the letter K: the one pair whose other id is ASCII.
    _export(tmp_path / "orders.csv", NAMES, ["BOLT-10K", "BOLT-10\u212a"])
    result = cli("validate", "orders.csv")
    assert result.exit_code == 0, result.stderr
    assert (
        "Warning: sku: 1 id is another id of the column in another Unicode form only (an accent "
        "one character in one, combining in the other), so one product is read as two: "
        "'BOLT-10K' / 'BOLT-10\\u212a'"
    ) in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("customers", "skus"),
    [
        (NAMES, [_nfc("Crème"), "A-1"]),  # composed throughout
        ([_nfd(n) for n in NAMES], [_nfd("Crème"), "A-1"]),  # combining throughout (macOS)
        (["17850", "17851", "C-3"], ["85123A", "22423"]),  # plain ASCII
    ],
    ids=["nfc", "nfd", "ascii"],
)
def test_an_export_in_one_unicode_form_is_said_nothing_of(
    cli, tmp_path: Path, customers: list[str], skus: list[str]
) -> None:
    _export(tmp_path / "orders.csv", customers, skus)
    result = cli("validate", "orders.csv")
    assert result.exit_code == 0, result.stderr
    assert "Unicode form" not in result.stderr, result.stderr
    assert "Warning" not in result.stderr, result.stderr
