"""Placeholder dates on more than 1 % of the lines (audit Z2, session 64): SQL Server's empty
``1900-01-01`` on 2 % or 10 % of an export, or an ERP's open end ``2099-12-31`` on 2 %, was kept
without a word (the implausible-date rule looked only beyond the 1 % / 99 % lines), and segment
ran "as of 2100-01-01". A lump of a few days years apart from the body of the dates is now
rejected whatever its share under half; a real history, long or sparse at its start, is kept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price\n"
START = dt.date(2022, 1, 1)


def export(dates: list[str]) -> str:
    """One line per date, customers and skus cycling."""
    return HEADER + "".join(
        f"{i},{d},C{i % 7},S{i % 3},1,10\n" for i, d in enumerate(dates, start=1)
    )


def steady(n: int, start: dt.date = START, step: int = 1) -> list[str]:
    """``n`` dates from ``start``, ``step`` days apart."""
    return [(start + dt.timedelta(days=step * i)).isoformat() for i in range(n)]


def with_placeholder(n: int, every: int, placeholder: str) -> tuple[list[str], list[str]]:
    """``n`` dates of two years from 2022 where each ``every``-th line (rows every, 2 x every,
    ...) holds ``placeholder``; and the rows (from 1 after the header) of those lines."""
    dates = [(START + dt.timedelta(days=i % 730)).isoformat() for i in range(n)]
    rows = []
    for i in range(n):
        if (i + 1) % every == 0:
            dates[i] = placeholder
            rows.append(str(i + 1))
    return dates, rows


def validate(cli, tmp_path: Path, text: str):
    path = tmp_path / "orders.csv"
    path.write_text(text)
    rejects, out = tmp_path / "rejects.csv", tmp_path / "out.parquet"
    result = cli("validate", str(path), "--rejects", str(rejects), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    return result, rejects, out


@pytest.mark.parametrize(
    ("every", "placeholder"),
    [
        (50, "1900-01-01"),  # 2 % of the lines: SQL Server's empty date
        (10, "1900-01-01"),  # 10 %
        (50, "2099-12-31"),  # 2 %: an ERP's open end
    ],
)
def test_placeholder_lump_above_one_percent_is_rejected_and_said(
    cli, tmp_path: Path, every: int, placeholder: str
) -> None:
    dates, rows = with_placeholder(1000, every, placeholder)
    result, rejects, out = validate(cli, tmp_path, export(dates))
    n = len(rows)
    assert f"read 1,000 = used {1000 - n:,} + rejected {n} (implausible_date {n})" in (
        result.stderr
    )
    assert f"Warning: order_date: {n} lines are dated {placeholder}" in result.stderr
    assert "a placeholder for no date" in result.stderr
    rejected = pl.read_csv(rejects, infer_schema=False)
    assert rejected["row"].to_list() == rows
    assert set(rejected["reason"]) == {"implausible_date"}
    kept = pl.read_parquet(out)["order_date"]
    real = [dt.date.fromisoformat(d) for d in dates if d != placeholder]
    assert (kept.min(), kept.max()) == (min(real), max(real))


@pytest.mark.parametrize("n", [400, 490])
def test_placeholder_lump_of_up_to_half_the_lines_is_rejected(cli, tmp_path: Path, n: int) -> None:
    # 40 % and 49 % placeholders among 1,000 lines: the middle line in date order (the 500th)
    # is a real date, so the real dates are the body.
    dates = ["1900-01-01" if i < n else f"2023-{1 + i % 12:02d}-15" for i in range(1000)]
    result, rejects, _ = validate(cli, tmp_path, export(dates))
    assert f"rejected {n} (implausible_date {n})" in result.stderr
    rejected = pl.read_csv(rejects, infer_schema=False)
    assert rejected["order_date"].unique().to_list() == ["1900-01-01"]


def test_typed_placeholder_lump_is_rejected() -> None:
    # A Parquet export's typed dates go through the same rule: 10 % on 1900-01-01.
    from segchain import orders

    when = [
        dt.date(1900, 1, 1) if i % 10 == 0 else START + dt.timedelta(days=i) for i in range(500)
    ]
    raw = pl.DataFrame(
        {
            "order_id": [str(i) for i in range(500)],
            "order_date": when,
            "customer_id": ["1"] * 500,
            "sku": ["A"] * 500,
            "quantity": [1.0] * 500,
            "unit_price": [2.0] * 500,
        }
    )
    mapping = {c: c for c in raw.columns}
    imp = orders.import_orders(raw, mapping=mapping)
    reasons = imp.lines.collect()["reason"].to_list()
    assert reasons == ["implausible_date" if i % 10 == 0 else None for i in range(500)]
    assert any("50 lines are dated 1900-01-01" in w for w in imp.warnings)


def test_a_placeholder_split_over_two_days_is_one_lump(cli, tmp_path: Path) -> None:
    # The Unix epoch written from a zone west of UTC: 1969-12-31 and 1970-01-01, 5 % of lines.
    dates = [(START + dt.timedelta(days=i % 500)).isoformat() for i in range(1000)]
    for i in range(0, 1000, 20):
        dates[i] = "1969-12-31" if i % 40 else "1970-01-01"
    result, _, _ = validate(cli, tmp_path, export(dates))
    assert "rejected 50 (implausible_date 50)" in result.stderr
    assert "50 lines are dated from 1969-12-31 to 1970-01-01" in result.stderr


def test_segment_is_not_run_as_of_the_open_end_date(cli, tmp_path: Path) -> None:
    dates, _ = with_placeholder(1000, 50, "2099-12-31")
    path = tmp_path / "orders.csv"
    path.write_text(export(dates))
    result = cli("segment", str(path), "-o", str(tmp_path / "seg.csv"))
    assert result.exit_code == 0, result.stderr
    # The last real date is 2023-12-31: the as-of date is the day after it, not 2100-01-01.
    assert "as of 2024-01-01" in result.stderr


@pytest.mark.parametrize(
    "dates",
    [
        # 20 years of steady weekly orders, 2004 to 2023: no hole anywhere.
        steady(1043, dt.date(2004, 1, 1), 7),
        # A sparse start: one order every 2.4 years from 2008, then daily from mid-2020; every
        # hole under 3 years, so the early lines run up to the rest.
        ["2008-06-01", "2010-11-01", "2013-03-01", "2015-08-01", "2018-01-01"]
        + steady(300, dt.date(2020, 6, 1)),
        # A business dormant for 4 years: 60 % of the lines in 2010-2011, 40 % in 2016-2017,
        # each side many days; neither is a lump.
        steady(600, dt.date(2010, 1, 1)) + steady(400, dt.date(2016, 1, 1)),
    ],
    ids=["20 steady years", "sparse start", "dormant years"],
)
def test_real_history_is_kept(cli, tmp_path: Path, dates: list[str]) -> None:
    n = len(dates)
    result, _, _ = validate(cli, tmp_path, export(dates))
    assert f"read {n:,} = used {n:,} + rejected 0" in result.stderr
    assert "placeholder" not in result.stderr
