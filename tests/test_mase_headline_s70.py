"""The accuracy headline's MASE and its baseline's are means over the series the count beating
the baseline scores: those with demand in the backtest windows and a MASE (session 70). Over
every series with a MASE, the series without demand in the windows (a forecast near 0 against
nothing: a MASE about 0) made the demo read 1.09 against the baseline's 1.15, where over the
850 series scored it is 1.74 against 1.67, worse than the baseline (Superstore by product,
routed by network: 0.21 against 0.23, over the 371 scored 2.51 against 2.25)."""

from __future__ import annotations

import polars as pl
import pytest

from segchain.report import build_report
from segchain.report.model import format_number


def backtest() -> pl.DataFrame:
    """Five series: two with demand in the windows and a MASE (the forecast worse than the
    baseline on both), two without demand there (MASE 0.0 and 0.1, the baseline's 0.5), one
    with demand but no MASE; and the overall row forecast wrote before, its mean MASE over
    every series with one: (1.5 + 2.5 + 0.0 + 0.1) / 4 = 1.025 against (1.0 + 2.0 + 0.5 +
    0.5) / 4 = 1.0."""
    return pl.DataFrame(
        {
            "unique_id": ["S/A", "S/B", "S/C", "S/D", "S/E", "overall"],
            "scope": ["series"] * 5 + ["overall"],
            "segment": ["S"] * 5 + [None],
            "model": ["AutoETS"] * 5 + [None],
            "mase": [1.5, 2.5, 0.0, 0.1, None, 1.025],
            "wape": [0.6, 0.8, None, None, 0.5, 0.7],
            "baseline_model": ["Naive"] * 5 + [None],
            "baseline_mase": [1.0, 2.0, 0.5, 0.5, None, 1.0],
            "baseline_wape": [0.5, 0.7, 0.0, 0.0, 0.4, 0.6],
            "backtest_abs_error": [6.0, 8.0, 1.0, 2.0, 5.0, 22.0],
            "backtest_actual": [10.0, 10.0, 0.0, 0.0, 10.0, 30.0],
        }
    )


def headlines(frame: pl.DataFrame) -> dict[str, tuple[str, str]]:
    report = build_report({"backtest": frame})
    (section,) = [s for s in report.sections if s.key == "accuracy"]
    return {h.label: (h.value, h.detail) for h in section.headlines}


def test_the_mase_headline_is_over_the_series_the_beating_count_scores() -> None:
    heads = headlines(backtest())
    # By hand: S/A and S/B are the scored series (demand in the windows, both MASEs).
    mase, base = (1.5 + 2.5) / 2, (1.0 + 2.0) / 2
    value, detail = heads["MASE"]
    assert value == format_number(mase, "ratio")  # 2.00, not the overall row's 1.02
    assert detail == (
        f"vs {format_number(base, 'ratio')} (means over the 2 of 5 series with demand in the "
        "backtest windows and a MASE)"
    )
    # The count beside it is over the same 2 series: neither beats the baseline.
    assert heads["Series beating the baseline"][1].startswith("0 of 2 series (lower MASE)")


def test_without_idle_or_unscaled_series_the_mean_is_over_all_series() -> None:
    frame = backtest().filter(pl.col("unique_id").is_in(["S/A", "S/B"]))
    value, detail = headlines(frame)["MASE"]
    assert (value, detail) == ("2.00", "vs 1.50 (means over all 2 series)")


def test_the_backtests_overall_and_segment_rows_mean_the_scored_series() -> None:
    # forecast's own overall row: Idle/B sells weeks 0-29 only, so nothing in the windows
    # (its last 10 weeks are 0), yet its history before them changes: it has a MASE.
    from test_forecast import orders_from_series

    from segchain.forecast import forecast

    orders = orders_from_series(
        {
            ("S", "A"): [3.0 + (w * 7) % 5 for w in range(40)],
            ("T", "C"): [10.0 + (w * 3) % 7 for w in range(40)],
            ("I", "B"): [2.0 + (w * 5) % 4 for w in range(30)] + [0.0] * 10,
        }
    )
    segments = pl.DataFrame(
        {"customer_id": ["S", "T", "I"], "segment": ["Steady", "Steady", "Idle"]}
    )
    result = forecast(orders, segments, freq="W", horizon=2)
    bt = result.backtest
    series = bt.filter(pl.col("scope") == "series")
    by_id = {r["unique_id"]: r for r in series.iter_rows(named=True)}
    assert by_id["Idle/B"]["backtest_actual"] == 0.0 and by_id["Idle/B"]["mase"] is not None
    scored = [by_id["Steady/A"], by_id["Steady/C"]]
    overall = bt.filter(pl.col("scope") == "overall").row(0, named=True)
    for col in ("mase", "baseline_mase"):
        assert overall[col] == pytest.approx(sum(r[col] for r in scored) / 2)
    assert overall["series"] == 3  # the WAPE still pools all three
    idle = bt.filter(pl.col("unique_id") == "segment:Idle").row(0, named=True)
    assert idle["mase"] is None and idle["baseline_mase"] is None
    mase_of = dict(result.summary.select("unique_id", "mase_of").iter_rows())
    assert mase_of == {"segment:Idle": "0 of 1", "segment:Steady": "all", "overall": "2 of 3"}
    # The report's headline, read from the series rows, is the overall row's.
    value, detail = headlines(bt)["MASE"]
    assert value == format_number(overall["mase"], "ratio")
    assert detail.endswith("(means over the 2 of 3 series with demand in the backtest windows)")
