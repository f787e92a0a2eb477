"""Session 69: stderr's clv_per_customer is the mean over the customers that have a CLV.

A customer with only returns or fees in the window (or whose purchases were all returned) has
no place in BG/NBD: its clv is empty. stderr divided the segment's clv_total by every customer
of the segment, such customers counted as worth 0 (Online Retail's Lost: 337 over 669 customers
against 360 over the 627 with a CLV), while the report's mean from the segments table, and the
CLI test of the column, took the mean of the known values. Now stderr shows the mean over the
customers with a CLV and their count beside it (clv_customers), the profile file keeps the count,
and the report reads it: the profile and the segments table give the same mean.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from test_cli_segment import repeat_buyers_csv, stderr_table

from segchain.report.sections.segments import profile_notes, segment_profile
from segchain.segment import profile_per_customer


def _orders(path: Path) -> Path:
    """test_cli_segment's 60 repeat buyers of 2024 (CLV can be fitted), and 6 customers that
    only returned goods in the window: no CLV for them."""
    repeat_buyers_csv(path)
    returns = "".join(f"C{c},2024-{3 + c:02d}-10,back{c},A-0,-2,12.0\n" for c in range(6))
    path.write_text(path.read_text() + returns)
    return path


def test_stderr_and_profile_give_the_mean_over_the_customers_with_a_clv(cli, tmp_path):
    orders = _orders(tmp_path / "orders.csv")
    result = cli("segment", str(orders), "--clv", "--profile", "p.csv", "-o", "s.parquet")
    assert result.exit_code == 0, result.stderr
    segments = pl.read_parquet(tmp_path / "s.parquet")
    # By hand, from the customers' own clv: per segment the values there are, their count
    # and their plain mean.
    values: dict[str, list[float]] = {}
    sizes: dict[str, int] = {}
    for seg, clv in segments.select("segment", "clv").iter_rows():
        sizes[seg] = sizes.get(seg, 0) + 1
        values.setdefault(seg, [])
        if clv is not None:
            values[seg].append(clv)
    assert sum(sizes.values()) - sum(len(v) for v in values.values()) == 6
    short = [s for s in sizes if 0 < len(values[s]) < sizes[s]]
    assert short, "no segment mixes customers with and without a CLV"
    shown = stderr_table(result.stderr)
    profile = {row["segment"]: row for row in pl.read_csv(tmp_path / "p.csv").iter_rows(named=True)}
    for seg, known in values.items():
        assert int(shown[seg]["customers"]) == sizes[seg]
        assert int(shown[seg]["clv_customers"]) == len(known) == profile[seg]["clv_customers"]
        if not known:
            assert (
                shown[seg]["clv_per_customer"] in ("", "-", "—")
                and profile[seg]["clv_total"] is None
            )
            continue
        mean = sum(known) / len(known)
        cell = float(shown[seg]["clv_per_customer"].replace(",", ""))
        # Written as money: whole units from 100 up, else cents.
        assert abs(cell - mean) <= (0.5 if abs(mean) >= 100 else 0.005) + 1e-6, seg
        assert profile[seg]["clv_total"] == pytest.approx(sum(known), abs=0.005)
    # The report: from the profile alone, the same mean as from the segments table alone.
    from_profile = segment_profile({"segment_profile": pl.read_csv(tmp_path / "p.csv")})
    from_segments = segment_profile({"segments": segments})
    assert from_profile is not None and from_segments is not None
    got = dict(from_profile.select("segment", "clv_per_customer").iter_rows())
    want = dict(from_segments.select("segment", "clv_per_customer").iter_rows())
    for seg in short:
        assert got[seg] == pytest.approx(want[seg], abs=0.01)
        assert got[seg] == pytest.approx(sum(values[seg]) / len(values[seg]), abs=0.01)
    # And says over how many, as it says it of the segments table's mean.
    mixed = [s for s in profile if s in short]  # in the profile's order
    parts = [f"{len(values[s])} of {sizes[s]}" + " customers" * (s == mixed[0]) for s in mixed]
    said = ", ".join(f"{p} in {s}" for p, s in zip(parts, mixed, strict=True))
    notes, _ = profile_notes({"segment_profile": pl.read_csv(tmp_path / "p.csv")}, from_profile)
    assert f"clv_per_customer: a mean over {said} (the others unknown)" in notes


def test_per_customer_is_the_total_over_the_customers_with_a_clv() -> None:
    # By hand: 300 over 2 customers with a CLV (of 3) is 150, not 100; none with one: empty.
    prof = pl.DataFrame(
        {"segment": ["A", "B"], "customers": [3, 2], "monetary": [50.0, 5.0],
         "clv_total": [300.0, None], "clv_customers": [2, 0]}
    )  # fmt: skip
    shown = profile_per_customer(prof)
    assert shown.columns == [
        "segment",
        "customers",
        "monetary",
        "clv_per_customer",
        "clv_customers",
    ]
    assert shown["clv_per_customer"].to_list() == [150.0, None]
    assert shown["clv_customers"].to_list() == [2, 0]
