"""Session 69 (stage bounds): the report showed a costs table's damaged period_days as its span.
Given -5 or 0 days, the costs section said the order history was "(-5 days)", as if costs had
written it; costs writes the days of its order history, a positive whole number, on every row.
Such a cell (-5, 0, NaN, inf, text) is now unknown, left out of the page as any damaged cell is,
and a warning on stderr names the column."""

from __future__ import annotations

from pathlib import Path

import pytest

# The columns costs writes by segment (no unit costs given: cogs, margin and profit empty).
HEADER = (
    "segment,customers,orders,lines,return_lines,revenue,costed_revenue,cogs,gross_margin,"
    "order_handling,returns_handling,transport,warehouse_fixed,inventory_carrying,cost_to_serve,"
    "profit,profit_share,inventory_value,costs_missing,period_days\n"
)
ROW = 'S1,2,2,2,0,70.0,,,,8.0,0.0,,,,8.0,,,,"cogs, transport, warehouse_fixed",'
WARNING = "Warning: the costs' period_days is not a positive number of days in 1 of 1 row"


def report(cli, tmp_path: Path, period_days: str):  # type: ignore[no-untyped-def]
    costs = tmp_path / "costs.csv"
    costs.write_text(HEADER + ROW + period_days + "\n")
    result = cli("report", str(costs), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result, (tmp_path / "r.md").read_text()


@pytest.mark.parametrize("damaged", ["-5", "0", "nan", "inf", "soon"])
def test_report_leaves_out_a_damaged_period_days_and_says_so(
    cli, tmp_path: Path, damaged: str
) -> None:
    result, page = report(cli, tmp_path, damaged)
    assert f"({damaged} days)" not in page
    assert "days)" not in page
    assert f"{WARNING} ('{damaged}')" in result.stderr


def test_report_shows_a_period_days_costs_wrote(cli, tmp_path: Path) -> None:
    # 31 days, as costs writes them for orders from 2024-01-02 to 2024-02-01: shown, no warning.
    result, page = report(cli, tmp_path, "31")
    assert "over the order history (31 days)" in page
    assert "period_days" not in result.stderr
