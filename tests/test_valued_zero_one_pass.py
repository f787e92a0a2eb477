"""The note on lines of quantity 0 with a value of their own (Complete Journey's sales_value) is
counted in the import's look at the date column, not in a scan of its own (session 34: with
amount and quantity mapped, ``_valued_zero_quantities`` read every line once more)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from segchain import orders

MAPPING = {
    "order_id": "order_id",
    "order_date": "order_date",
    "customer_id": "customer_id",
    "sku": "sku",
    "quantity": "quantity",
    "amount": "amount",
}
NOTE = (
    "{lines} quantity 0 and a value (amount), flagged zero_quantity (or return, "
    "non_product): no demand, and the value counts in revenue (segment's monetary, costs) "
    "unless non_product"
)


def _raw(quantity: list, amount: list, date_kind: str) -> pl.DataFrame:
    n = len(quantity)
    days = [dt.date(2024, 3, 1) + dt.timedelta(days=i) for i in range(n)]
    date: pl.Series
    if date_kind == "text":
        date = pl.Series([d.isoformat() for d in days])
    elif date_kind == "typed":
        date = pl.Series(days)
    else:  # Excel serial numbers
        date = pl.Series([(d - dt.date(1899, 12, 30)).days for d in days])
    return pl.DataFrame(
        {
            "order_id": [str(i) for i in range(n)],
            "order_date": date,
            "customer_id": ["C1"] * n,
            "sku": ["P1"] * n,
            "quantity": quantity,
            "amount": amount,
            "unit_price": amount,
        }
    )


def _notes(raw: pl.DataFrame) -> list[str]:
    return [n for n in orders.import_orders(raw, mapping=MAPPING).notes if "quantity 0" in n]


DATE_KINDS = ["text", "typed", "serial"]


@pytest.mark.parametrize("date_kind", DATE_KINDS)
@pytest.mark.parametrize(
    ("quantity", "amount", "expected"),
    [
        # Text as exported: '0', '0.0', ' -0 ' are zero; '0,00' with a value is counted too.
        (["0", "2", "0.0", " -0 ", "0"], ["3.99", "7.98", "1,50", "2", "0.00"], 3),
        # Typed numbers: a blank or zero amount is no value; a negative one is.
        ([0, 1, 0, 0, 0], [25.49, 3.0, None, 0.0, -1.5], 2),
        # Nothing to say: no zero quantity with a value.
        (["1", "0", "2"], ["1.00", "0", ""], 0),
        ([1.0, 0.0, 2.0], [1.0, 0.0, float("nan")], 0),
    ],
)
def test_note_counts_lines_of_quantity_0_with_a_value(
    date_kind: str, quantity: list, amount: list, expected: int
) -> None:
    got = _notes(_raw(quantity, amount, date_kind))
    lines = "1 line has" if expected == 1 else f"{expected} lines have"
    assert got == ([NOTE.format(lines=lines)] if expected else [])


def test_note_needs_both_amount_and_quantity_mapped() -> None:
    raw = _raw(["0", "1"], ["3.99", "1"], "text")
    mapping = {**{k: v for k, v in MAPPING.items() if k != "amount"}, "unit_price": "unit_price"}
    assert not any("quantity 0" in n for n in orders.import_orders(raw, mapping=mapping).notes)


def test_the_note_stays_where_it_was_among_the_notes() -> None:
    """Before the dates' note, after nothing else here: as when it was counted first."""
    notes = orders.import_orders(_raw(["0", "1"], ["3.99", "1"], "text"), mapping=MAPPING).notes
    assert notes[0].startswith("1 line has quantity 0 and a value")
    assert notes[1].startswith("dates: ")


@pytest.mark.parametrize("date_kind", DATE_KINDS)
def test_mapping_amount_costs_the_import_no_extra_pass(monkeypatch, date_kind: str) -> None:
    """Counted with a wrapper of LazyFrame.collect: the import with amount mapped (and the
    note to give) collects as often as with unit_price in its place (no note to count)."""
    calls = []
    real = pl.LazyFrame.collect

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pl.LazyFrame, "collect", counting)
    raw = _raw(["0", "1", "2"], ["3.99", "1", "2"], date_kind)

    def collects(mapping: dict[str, str]) -> int:
        calls.clear()
        orders.import_orders(raw, mapping=mapping)
        return len(calls)

    without = collects(
        {**{k: v for k, v in MAPPING.items() if k != "amount"}, "unit_price": "unit_price"}
    )
    with_amount = collects(MAPPING)
    assert with_amount == without
