"""orders: date detection, number styles, id normalisation, every reason code and flag."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from segchain import orders
from segchain.errors import DataError, MissingColumnsError, UsageError

CANONICAL = {
    c: c for c in ("order_id", "order_date", "customer_id", "sku", "quantity", "unit_price")
}


def frame(**columns: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame(columns, schema={k: pl.String for k in columns})


def lines(rows: list[tuple[str | None, ...]], **kwargs) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Import canonical rows; return (clean, everything with reasons)."""
    raw = pl.DataFrame(rows, schema={k: pl.String for k in CANONICAL}, orient="row")
    imp = orders.import_orders(raw, mapping=CANONICAL, **kwargs)
    return imp.clean.collect(), imp.lines.collect()


def dates(values: list[str], date_format: str | None = None) -> list[dt.date | None]:
    series = pl.Series("d", values)
    style = orders.detect_date_style(series, date_format=date_format)
    return pl.DataFrame({"d": values}).select(orders.date_expr("d", style))["d"].to_list()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2024-03-01"], [dt.date(2024, 3, 1)]),
        (["2024-03-01 08:26:00"], [dt.date(2024, 3, 1)]),
        (["2024-03-01T08:26:00Z"], [dt.date(2024, 3, 1)]),
        (["01.03.2024"], [dt.date(2024, 3, 1)]),
        (["1.3.24"], [dt.date(2024, 3, 1)]),
        (["20240301"], [dt.date(2024, 3, 1)]),
        (["2024/03/01"], [dt.date(2024, 3, 1)]),
        # Excel serials: 45000 is 2023-03-15, 44927 is 2023-01-01 (Excel's own DATEVALUE).
        (["45000", "44927"], [dt.date(2023, 3, 15), dt.date(2023, 1, 1)]),
        (["45000.75"], [dt.date(2023, 3, 15)]),
        # German Excel writes a serial's time of day after a decimal comma.
        (["45000,75", "44927"], [dt.date(2023, 3, 15), dt.date(2023, 1, 1)]),
        # English month names (were all bad_date): Oracle's DD-MON-RR, a spreadsheet's d-mmm-yy
        # and d mmmm yyyy, SAS's DATE9, US long dates with or without the weekday.
        (["01-MAR-24", "13-Dec-99"], [dt.date(2024, 3, 1), dt.date(1999, 12, 13)]),
        (["1-Mar-2024 14:05:00", "1 March 2024"], [dt.date(2024, 3, 1)] * 2),
        (["01MAR2024", "Tue 5 Mar 2024"], [dt.date(2024, 3, 1), dt.date(2024, 3, 5)]),
        (["Mar 1, 2024", "Sept 13th, 2024"], [dt.date(2024, 3, 1), dt.date(2024, 9, 13)]),
        (["Friday, March 1, 2024"], [dt.date(2024, 3, 1)]),
        (["31-Feb-2024", "Mai 1, 2024"], [None, None]),  # no such day; not an English month
        (["Mayday 5 2024", "5 Marchx 2024"], [None, None]),  # words that start like a month
        (["5 Sept. 2024", "JUNE 30, 2024"], [dt.date(2024, 9, 5), dt.date(2024, 6, 30)]),
    ],
)
def test_date_kinds_parse(values: list[str], expected: list[dt.date]) -> None:
    assert dates(values) == expected


def test_slash_dates_day_first_when_a_first_part_exceeds_12() -> None:
    assert dates(["03/01/19", "25/12/19"]) == [dt.date(2019, 1, 3), dt.date(2019, 12, 25)]


def test_slash_dates_month_first_when_a_second_part_exceeds_12() -> None:
    assert dates(["03/01/19", "12/25/19"]) == [dt.date(2019, 3, 1), dt.date(2019, 12, 25)]


def test_detect_date_style_says_which_order_it_chose() -> None:
    style = orders.detect_date_style(pl.Series(["01/02/2024", "13/02/2024"]))
    assert style.order == "day-first"
    assert "day-first" in style.note


def test_ambiguous_slash_dates_are_refused_naming_date_format() -> None:
    # Assumed day first, a US export's 01/02/2024 (2 January) became 1 February (session 32).
    with pytest.raises(DataError, match="can be read day first or month first") as info:
        orders.detect_date_style(pl.Series(["01/02/2024", "03/04/2024"]))
    assert "--date-format month-first" in str(info.value)


def test_mixed_day_and_month_first_is_an_error() -> None:
    with pytest.raises(DataError, match="mix day-first and month-first"):
        orders.detect_date_style(pl.Series(["25/01/2024", "01/25/2024"]))


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("month-first", dt.date(2024, 1, 2)),
        ("day-first", dt.date(2024, 2, 1)),
        ("%m/%d/%Y", dt.date(2024, 1, 2)),
    ],
)
def test_date_format_overrides_detection(fmt: str, expected: dt.date) -> None:
    assert dates(["01/02/2024"], date_format=fmt) == [expected]


def test_date_format_without_percent_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="strptime format"):
        orders.detect_date_style(pl.Series(["x"]), date_format="yyyy")


def test_unparseable_dates_become_null() -> None:
    assert dates(["2024-02-30", "n/a", "2024-02-29"]) == [None, None, dt.date(2024, 2, 29)]


@pytest.mark.parametrize(
    ("values", "comma", "expected"),
    [
        (["1,5", "2,25"], False, [1.5, 2.25]),  # clearly decimal commas
        (["1.5", "1,234.5"], False, [1.5, 1234.5]),  # thousands commas
        (["1.234,5", "7"], True, [1234.5, 7.0]),  # ';' file: comma by default
        (["1.25", "3.5"], True, [1.25, 3.5]),  # ';' file whose column clearly uses points
        (["5.00-", "1 000"], False, [-5.0, 1000.0]),  # SAP trailing minus, space thousands
        # Currency signs and accounting parentheses, as spreadsheets and finance exports write.
        (["$1,234.50", "($12.50)", "-$4", "€ 7.25"], False, [1234.5, -12.5, -4.0, 7.25]),
        (["12,50 €", "(1.234,5)", "£3"], True, [12.5, -1234.5, 3.0]),
        # A dollar sign with its country's capitals (US$, CA$, A$, NZ$, R$), as NetSuite, Xero
        # or a Brazilian ERP writes it: each line was rejected as bad_price.
        (["US$1,234.50", "(CA$12.50)", "-A$4", "NZ$ 7"], False, [1234.5, -12.5, -4.0, 7.0]),
        (["R$ 1.234,50", "R$2,25", "-R$ 3"], True, [1234.5, 2.25, -3.0]),
        # The other separator must group thousands, else the value is no number (rejected):
        # 1.234,56 among decimal points is not 1.23456, 2,5 not 25, 1,2,3 not 123.
        (["2.50", "3.75", "1.234,56"], False, [2.5, 3.75, None]),
        (["1,234.5", "2,5", "1,2,3", "12,34,567.5"], False, [1234.5, None, None, 1234567.5]),
        (["1.234,5", "0.5", "2,25", "7.000.000"], True, [1234.5, None, 2.25, 7000000.0]),
    ],
)
def test_number_styles(values: list[str], comma: bool, expected: list[float]) -> None:
    df = frame(x=values)
    cols = orders.decimal_comma_columns(df.lazy(), ["x"], default_comma=comma)
    out = df.select(orders.number_expr("x", is_string=True, decimal_comma="x" in cols))
    assert out["x"].to_list() == expected


def test_float_ids_lose_their_point_zero_and_leading_zeros_stay() -> None:
    df = frame(c=["17850.0", "13047.0", None], s=["0001", "0002", "0003"])
    found = orders.float_id_columns(df.lazy(), ["c", "s"])
    assert found == {"c"}
    out = df.select(
        orders.id_expr("c", dtype=pl.String, float_like=True),
        orders.id_expr("s", dtype=pl.String, float_like=False),
    )
    assert out["c"].to_list() == ["17850", "13047", None]
    assert out["s"].to_list() == ["0001", "0002", "0003"]


def test_column_with_a_real_decimal_is_not_float_like() -> None:
    df = frame(c=["17850.0", "12.5"])
    assert orders.float_id_columns(df.lazy(), ["c"]) == set()


def test_typed_float_id_column_becomes_integer_strings() -> None:
    df = pl.DataFrame({"c": [17850.0, None]})
    out = df.select(orders.id_expr("c", dtype=pl.Float64, float_like=True))
    assert out["c"].to_list() == ["17850", None]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ((None, "2024-03-01", "1", "A", "1", "2"), "missing_order_id"),
        (("1", "2024-03-01", " ", "A", "1", "2"), "missing_customer"),
        (("1", "2024-03-01", "1", "", "1", "2"), "missing_sku"),
        (("1", "", "1", "A", "1", "2"), "missing_date"),
        (("1", "someday", "1", "A", "1", "2"), "bad_date"),
        (("1", "2024-03-01", "1", "A", "x", "2"), "bad_quantity"),
        (("1", "2024-03-01", "1", "A", None, "2"), "bad_quantity"),
        (("1", "2024-03-01", "1", "A", "1", "two"), "bad_price"),
        (("1", "2024-03-01", "1", "A", "nan", "2"), "non_finite"),
        (("1", "2024-03-01", "1", "A", "1", "inf"), "non_finite"),
        (("1", "2024-03-01", "1", "A", "-inf", "2"), "non_finite"),
        # Finite quantity and price whose product overflows: the amount is infinite, but the
        # export holds no infinite number, a quantity beyond 1e15 (audit of session 58: 1e308
        # said to be 'infinite or NaN').
        (("1", "2024-03-01", "1", "A", "1e308", "1e308"), "out_of_range"),
        (("1", "2024-03-01", "1", "A", "1e308", "5"), "out_of_range"),
        (("1", "2024-03-01", "1", "A", "1e16", "2"), "out_of_range"),
    ],
)
def test_each_reject_reason(row: tuple[str | None, ...], reason: str) -> None:
    good = ("9", "2024-03-01", "9", "B", "1", "1")
    clean, everything = lines([good, row])
    assert clean.height == 1
    assert everything["reason"].to_list() == [None, reason]


@pytest.mark.parametrize(
    ("lat", "lon", "kept"),
    [
        # NaN and infinity are no place: emptied, the line kept (s52), beside a blank.
        ("inf", None, (None, None)),
        (None, "nan", (None, None)),
        ("-inf", "1", (None, 1.0)),
        (None, None, (None, None)),
        # Finite but out of range: emptied too (s51).
        ("1e300", "1e300", (None, None)),
    ],
)
def test_non_finite_coordinates_with_blanks(lat: str | None, lon: str | None, kept) -> None:
    raw = pl.DataFrame(
        [("1", "2024-03-01", "1", "A", "1", "2", lat, lon)],
        schema={k: pl.String for k in (*CANONICAL, "lat", "lon")},
        orient="row",
    )
    mapping = {**CANONICAL, "lat": "lat", "lon": "lon"}
    everything = orders.import_orders(raw, mapping=mapping).lines.collect()
    assert everything.select("reason", "lat", "lon").rows() == [(None, *kept)]


@pytest.mark.parametrize("seed", range(40))
def test_date_tail_is_the_lower_99th_percentile_of_dates_in_the_window(seed: int) -> None:
    # Known answer: polars' own quantile over every line's date, against the tail taken from
    # each distinct date's count.
    rng = np.random.default_rng(seed)
    days = rng.choice(
        rng.integers(-30_000, 50_000, size=rng.integers(1, 30)), size=rng.integers(1, 500)
    )
    lines_ = pl.Series("order_date", days, dtype=pl.Int32).cast(pl.Date).to_frame()
    d = pl.col("order_date")
    window = (d >= orders.EARLIEST_DATE) & (d <= orders.LATEST_DATE)
    expected = lines_.select(d.filter(window).cast(pl.Int32).quantile(0.99, "lower")).item()
    counts = lines_.group_by("order_date").agg(pl.len().alias("n"))
    assert orders.date_tail(counts) == expected


def _lines_dated(when: list[dt.date], dtype) -> pl.DataFrame:
    """One canonical line per date, the dates typed ``dtype``."""
    n = len(when)
    return pl.DataFrame(
        {
            "order_id": [str(i) for i in range(n)],
            "order_date": pl.Series(when).cast(dtype),
            "customer_id": ["1"] * n,
            "sku": ["A"] * n,
            "quantity": [1.0] * n,
            "unit_price": [2.0] * n,
        }
    )


@pytest.mark.parametrize("dtype", [pl.Date, pl.Datetime])
def test_typed_dates_three_years_past_the_tail_are_implausible(dtype) -> None:
    # 200 lines on 2024-01-01 .. 2024-07-18 and two later: of 202 dated lines, 99 % fall on or
    # before the 199th (index floor(201 * 0.99) = 198), 2024-07-17. 2027-07-18 is 1,096 days
    # after it (allowed), 2027-07-19 is 1,097.
    when = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(200)]
    when += [dt.date(2027, 7, 18), dt.date(2027, 7, 19)]
    raw = _lines_dated(when, dtype)
    everything = orders.import_orders(raw, mapping=CANONICAL).lines.collect()
    assert everything["reason"].to_list()[-3:] == [None, None, "implausible_date"]


@pytest.mark.parametrize("dtype", [pl.Date, pl.Datetime])
@pytest.mark.parametrize(("gap", "reason"), [(1096, None), (1097, "implausible_date")])
def test_typed_dates_alone_three_years_before_the_data_are_implausible(dtype, gap, reason) -> None:
    # 300 lines from 2024-01-01 and two earlier, on one day `gap` days before the first: of
    # 302 dated lines, 1 % fall before the 4th (index floor(301 * 0.01) = 3), 2024-01-02.
    # Between the early day and 2024-01-01 no line: 1,096 days apart is allowed, 1,097 not.
    first = dt.date(2024, 1, 1)
    when = [first - dt.timedelta(days=gap)] * 2
    when += [first + dt.timedelta(days=i // 2) for i in range(300)]
    reasons = orders.import_orders(_lines_dated(when, dtype), mapping=CANONICAL).lines.collect()
    assert reasons["reason"].to_list() == [reason] * 2 + [None] * 300


@pytest.mark.parametrize("n", [3, 10, 51, 100, 101, 150])
@pytest.mark.parametrize(
    ("early", "late"),
    [
        # A placeholder before the data, and a typo years after it (2052 for 2024).
        (dt.date(1970, 1, 1), None),
        (None, dt.date(2052, 1, 1)),
    ],
    ids=["placeholder before", "typo after"],
)
def test_dates_apart_from_a_small_export_are_implausible_on_either_side(n, early, late) -> None:
    # n - 1 lines on consecutive days of 2024 and one line decades before or after them: the
    # lone line is the implausible one on either side. The future side caught it from three
    # lines (the tail's line is the last but one up to 101 lines); the early side only from
    # 102 (its line was the first itself, floor((n - 1) * 0.01) = 0): a 1970 placeholder
    # before 50 lines of 2024 was kept and started its sku's series 54 years early (s39).
    when = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(n - 1)]
    when = [early, *when] if early else [*when, late]
    reasons = orders.import_orders(_lines_dated(when, pl.Date), mapping=CANONICAL).lines
    got = reasons.collect()["reason"].to_list()
    alone = 0 if early else n - 1
    assert got == ["implausible_date" if i == alone else None for i in range(n)]


@pytest.mark.parametrize("placeholder", [dt.date(1900, 1, 1), dt.date(1970, 1, 1)])
def test_two_lines_decades_apart_are_judged_by_the_later_side(placeholder) -> None:
    # Two lines have no bulk to tell a placeholder from a typo by: [1970, 2024] and [2024,
    # 2078] are alike to a rule on the data alone. Each side's rule would reject the other
    # line (both rejected, no line left); the future side's rule judges them, as before the
    # early side's rule was mirrored on it (s39): the later line is rejected.
    when = [placeholder, dt.date(2024, 5, 1)]
    reasons = orders.import_orders(_lines_dated(when, pl.Date), mapping=CANONICAL).lines
    assert reasons.collect()["reason"].to_list() == [None, "implausible_date"]


@pytest.mark.parametrize("dtype", [pl.Date, pl.Datetime])
@pytest.mark.parametrize(
    ("first", "gap", "reason"),
    [
        # 200 lines on the first day (the tail) and one `gap` days later: 1,096 is allowed,
        # 1,097 is not; typed dates are looked at by their extremes first, by day only when
        # these do not rule every date plausible.
        (dt.date(2024, 1, 1), 1096, None),
        (dt.date(2024, 1, 1), 1097, "implausible_date"),
        # Every date close together, but before the window (1900-01-01) or after it.
        (dt.date(1899, 12, 1), 5, "implausible_date"),
        (dt.date(2099, 12, 1), 31, "implausible_date"),
        (dt.date(2099, 12, 1), 30, None),
    ],
)
def test_typed_dates_implausible_from_their_extremes_or_days(dtype, first, gap, reason) -> None:
    when = [first] * 200 + [first + dt.timedelta(days=gap)]
    raw = _lines_dated(when, dtype)
    imp = orders.import_orders(raw, mapping=CANONICAL)
    reasons = imp.lines.collect()["reason"].to_list()
    expected = "implausible_date" if first.year == 1899 else None
    assert reasons == [expected] * 200 + [reason]
    assert ("implausible_date" in imp.lines.explain()) is (reason is not None)


def test_typed_dates_undated_lines_keep_the_date_rules() -> None:
    raw = pl.DataFrame(
        {
            "order_id": ["1", "2"],
            "order_date": [dt.date(2024, 1, 1), None],
            "customer_id": ["1", "1"],
            "sku": ["A", "A"],
            "quantity": [1.0, 1.0],
            "unit_price": [2.0, 2.0],
        }
    )
    imp = orders.import_orders(raw, mapping=CANONICAL)
    assert imp.lines.collect()["reason"].to_list() == [None, "missing_date"]
    assert "implausible_date" not in imp.lines.explain()


def test_clean_lines_carry_flags_as_text() -> None:
    clean, _ = lines([("C5", "2024-03-01", "1", "A", "-2", "3")])
    assert clean.schema["flag"] == pl.String


@pytest.mark.parametrize(
    ("row", "flag"),
    [
        (("C5", "2024-03-01", "1", "A", "-2", "3"), "return"),
        (("5", "2024-03-01", "1", "A", "-2", "3"), "return"),
        (("5", "2024-03-01", "1", "POST", "1", "3"), "non_product"),
        (("5", "2024-03-01", "1", "gift_0001_20", "1", "3"), "non_product"),
        (("5", "2024-03-01", "1", "A", "1", "0"), "zero_price"),
        # Quantity 0 (a zeroed or text line) moved no goods: no giveaway (it was zero_price,
        # its amount being 0), whatever its price.
        (("5", "2024-03-01", "1", "A", "0", "3"), "zero_quantity"),
        (("5", "2024-03-01", "1", "A", "0", "0"), "zero_quantity"),
        (("5", "2024-03-01", "1", "A", "-0", "3"), "zero_quantity"),
        (("5", "2024-03-01", "1", "POST", "0", "3"), "non_product"),
        # A cancelled postage line is a non-product line, not a product return.
        (("C5", "2024-03-01", "1", "POST", "-1", "3"), "non_product"),
    ],
)
def test_flags_keep_the_line(row: tuple[str, ...], flag: str) -> None:
    clean, _ = lines([row])
    assert clean["flag"].to_list() == [flag]


def test_returns_net_makes_cancellations_negative() -> None:
    # SAP-style return order: positive quantity, cancellation marker on the order.
    clean, _ = lines([("C5", "2024-03-01", "1", "A", "2", "3")], returns="net")
    assert clean["quantity"].to_list() == [-2.0]
    assert clean["amount"].to_list() == [-6.0]


def test_returns_keep_leaves_sign_as_exported() -> None:
    clean, _ = lines([("C5", "2024-03-01", "1", "A", "2", "3")], returns="keep")
    assert clean["quantity"].to_list() == [2.0]
    assert clean["flag"].to_list() == ["return"]


def test_returns_drop_rejects_them_with_a_reason() -> None:
    clean, everything = lines(
        [("1", "2024-03-01", "1", "A", "2", "3"), ("C2", "2024-03-02", "1", "A", "-1", "3")],
        returns="drop",
    )
    assert clean.height == 1
    assert everything["reason"].to_list() == [None, "return"]


def test_unknown_returns_mode_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--returns must be one of net, drop, keep"):
        lines([("1", "2024-03-01", "1", "A", "2", "3")], returns="ignore")


def test_amount_only_export_derives_unit_price() -> None:
    raw = frame(
        order_id=["1"],
        order_date=["2024-03-01"],
        customer_id=["1"],
        sku=["A"],
        quantity=["4"],
        amount=["10"],
    )
    mapping = {c: c for c in raw.columns}
    clean = orders.import_orders(raw, mapping=mapping).clean.collect()
    assert clean["unit_price"].to_list() == [2.5]
    assert clean["amount"].to_list() == [10.0]


def test_missing_columns_are_all_listed() -> None:
    raw = frame(order_id=["1"], Datum=["x"])
    with pytest.raises(MissingColumnsError) as info:
        orders.import_orders(raw, mapping={"order_id": "order_id"}, source="export.csv")
    assert str(info.value).startswith(
        "export.csv: missing required columns order_date, customer_id, sku, quantity, "
        "unit_price or amount; found order_id, Datum"
    )


def test_reconciliation_counts_every_line(orders_csv) -> None:
    from segchain.tableio import read_raw

    table = read_raw(str(orders_csv))
    imp = orders.import_orders(table.frame, mapping=CANONICAL)
    recon = orders.Reconciliation.from_summary(imp.summary.collect())
    assert (recon.read, recon.used, recon.rejected) == (14, 6, 8)
    assert recon.by_reason == {
        "bad_date": 1,
        "bad_price": 1,
        "bad_quantity": 1,
        "missing_customer": 1,
        "missing_date": 1,
        "missing_order_id": 1,
        "missing_sku": 1,
        "non_finite": 1,
    }
    assert recon.by_flag == {"non_product": 1, "return": 1, "zero_price": 1}
    assert recon.line().startswith("read 14 = used 6 + rejected 8 (")


def test_rejects_keep_original_fields_and_row_numbers(orders_csv) -> None:
    from segchain.tableio import read_raw

    table = read_raw(str(orders_csv))
    rejects = orders.import_orders(
        table.frame, mapping=CANONICAL, source=table.name
    ).rejects.collect()
    first = rejects.row(0, named=True)
    assert first == {
        "row": 5,
        "source_file": str(orders_csv),
        "order_id": "1004",
        "order_date": "2024-03-06",
        "customer_id": None,
        "sku": "A-1",
        "quantity": "1",
        "unit_price": "10.00",
        "reason": "missing_customer",
    }
    assert rejects["quantity"].to_list()[4] == "lots"  # as exported, not as parsed


# One line per reason code, in the order they are tested, and used lines with each flag.
# Known answers written by hand: the rule each line breaks first.
EVERY_REASON = [
    (("1", "2024-03-01", "c1", "A", "1", "2", "x"), "extra_fields"),
    ((" ", "2024-03-01", "c1", "A", "1", "2", None), "missing_order_id"),
    (("2", "2024-03-01", "  ", "A", "1", "2", None), "missing_customer"),
    (("3", "2024-03-01", "c1", "", "1", "2", None), "missing_sku"),
    (("4", " ", "c1", "A", "1", "2", None), "missing_date"),
    (("5", "2024-02-30", "c1", "A", "1", "2", None), "bad_date"),
    (("6", "2024-03-01", "c1", "A", "one", "2", None), "bad_quantity"),
    (("7", "2024-03-01", "c1", "A", "1", "?", None), "bad_price"),
    (("8", "2024-03-01", "c1", "A", "inf", "2", None), "non_finite"),
    (("9", "2024-03-01", "c1", "A", "1", "1e16", None), "out_of_range"),
    (("10", "1850-01-01", "c1", "A", "1", "2", None), "implausible_date"),
    (("C11", "2024-03-02", "c2", "A", "-1", "2", None), None),  # a return
    (("12", "2024-03-02", "c2", "POST", "1", "5", None), None),  # non_product
    (("13", "2024-03-02", "c2", "B", "2", "0", None), None),  # zero_price
    (("14", "2024-03-03", "c3", "A", "1", "2", None), None),
]


@pytest.mark.parametrize("returns", ["net", "keep", "drop"])
def test_every_reason_code_in_the_reconciliation_and_the_rejected_lines(returns) -> None:
    # Each line's reason, the reconciliation's counts and the rejected lines' rows agree.
    from segchain.tableio import EXTRA_FIELDS

    rows = [fields for fields, _ in EVERY_REASON]
    raw = pl.DataFrame(
        rows, schema={k: pl.String for k in (*CANONICAL, EXTRA_FIELDS)}, orient="row"
    )
    imp = orders.import_orders(raw, mapping=CANONICAL, returns=returns)
    everything = imp.lines.collect()
    expected = [reason for _, reason in EVERY_REASON]
    if returns == "drop":
        expected[11] = "return"
    assert everything["reason"].cast(pl.String).to_list() == expected
    whole = (
        everything.group_by("reason", "flag")
        .agg(pl.len().alias("n"))
        .with_columns(pl.col("reason", "flag").cast(pl.String))
    )
    got = imp.summary.collect()
    assert got.sort("reason", "flag", nulls_last=True).equals(
        whole.sort("reason", "flag", nulls_last=True).select(got.columns)
    )
    rejects = imp.rejects.collect()
    assert rejects["reason"].to_list() == [r for r in expected if r is not None]
    assert rejects["row"].to_list() == [i + 1 for i, r in enumerate(expected) if r is not None]
    assert imp.clean.collect().height == expected.count(None)


def test_whitespace_is_every_character_that_trimming_removes() -> None:
    # Every Unicode scalar value, trimmed by polars alone: those that vanish are the set.
    chars = pl.Series([chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF])
    removed = chars.filter(chars.str.strip_chars() == "")
    assert sorted(removed.to_list()) == sorted(orders.WHITESPACE)
    # has_whitespace finds one anywhere: every value that trimming changes is among them.
    values = pl.DataFrame({"id": ["a b", "a", "\u3000a", "a\u0085", "", None, "\x1c"]})
    found = values.select(orders.has_whitespace("id"))["id"].to_list()
    assert found == [True, False, True, True, False, None, False]


INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize(
    ("columns", "differs"),
    [
        ({"quantity": [1.0, -2.0], "amount": [3.0, -1e15]}, False),
        ({"quantity": [1.0, None], "lat": [None, None]}, False),  # nulls: no line breaks
        ({"quantity": [1.0, INF]}, True),
        ({"quantity": [-INF, INF]}, True),  # the sum is NaN, not infinite
        ({"unit_price": [NAN, 1.0]}, True),
        ({"lon": [4.8, NAN]}, False),  # a coordinate NaN or inf is emptied, never a rule
        ({"amount": [1.0, 1.0000001e15]}, True),
        ({"quantity": [-2e15, 1.0]}, True),
        ({"lat": [2e15, 1.0]}, False),
        ({"amount": [1e308, 1e308]}, True),  # the sum overflows: on the safe side
        ({"order_id": ["1", "2 "]}, True),
        ({"sku": ["\u00a0A", "B"]}, True),
        ({"customer_id": [" C1", "C2"]}, False),  # the caller's to check
        ({"order_id": ["C1", None], "sku": ["A", "B"]}, False),
    ],
)
def test_as_exported_differs_when_a_line_may_break_a_rule_or_hold_whitespace(
    columns, differs
) -> None:
    df = pl.DataFrame(columns)
    assert df.select(orders.as_exported_differs(df.columns)).item() is differs


def test_date_rules_that_no_date_breaks_are_left_out_of_the_reason_chain() -> None:
    # Every date readable and plausible: the chain holds neither date rule, nor trims the
    # string dates of every line to find blanks. One blank date brings both back.
    values = {c: ["1", "2"] for c in CANONICAL}
    values["order_date"] = ["2024-03-01", "2024-03-02"]
    plan = orders.import_orders(frame(**values), mapping=CANONICAL).lines.explain()
    for code in ("missing_date", "bad_date", "implausible_date"):
        assert code not in plan
    assert 'col("order_date").str.strip_chars' not in plan
    values["order_date"] = ["2024-03-01", " "]
    plan = orders.import_orders(frame(**values), mapping=CANONICAL).lines.explain()
    assert "missing_date" in plan and "bad_date" in plan and "implausible_date" not in plan


def test_time_zone_aware_timestamps_give_the_day_of_their_own_zone() -> None:
    """00:30 in Berlin on 1 January is 23:30 UTC on 31 December: the order was placed in
    January, as the same instant written as text with its offset reads."""
    stamps = pl.Series(
        [dt.datetime(2021, 1, 1, 0, 30), dt.datetime(2021, 6, 15, 23, 45)]
    ).dt.replace_time_zone("Europe/Berlin")
    raw = frame(
        order_id=["A1", "A2"],
        customer_id=["C1", "C2"],
        sku=["S", "S"],
        quantity=["1", "2"],
        unit_price=["3", "4"],
    ).with_columns(stamps.alias("order_date"))
    clean = orders.import_orders(raw, mapping=CANONICAL).clean.collect()
    assert clean["order_date"].to_list() == [dt.date(2021, 1, 1), dt.date(2021, 6, 15)]
    as_text = frame(
        order_id=["A1"],
        order_date=["2021-01-01T00:30:00+01:00"],
        customer_id=["C1"],
        sku=["S"],
        quantity=["1"],
        unit_price=["3"],
    )
    text_day = orders.import_orders(as_text, mapping=CANONICAL).clean.collect()["order_date"]
    assert text_day.to_list() == [dt.date(2021, 1, 1)]


def test_a_price_that_does_not_fit_its_columns_separators_is_rejected() -> None:
    """A European 1.234,56 in a column of decimal points was read as 1.23456, exit 0."""
    rows = [
        ("1", "2024-01-01", "C1", "P1", "2", "1.234,56"),
        ("2", "2024-01-02", "C2", "P1", "2", "2.50"),
        ("3", "2024-01-03", "C3", "P1", "2", "3.75"),
    ]
    clean, everything = lines(rows)
    assert clean["unit_price"].to_list() == [2.5, 3.75]
    assert everything.filter(pl.col("order_id") == "1")["reason"].to_list() == ["bad_price"]
