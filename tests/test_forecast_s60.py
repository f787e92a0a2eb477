"""forecast says when no seasonal model could be read from the history (session 60 audit).

Online Retail cut at its last day (54 weeks of history): November's peak was forecast flat
through Christmas to March, 2.4 times the same weeks a year before, and nothing said that the
history was too short for any seasonal model to be chosen."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from segchain.forecast import forecast


def _orders(weeks: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Four skus bought every week by six customers of two segments, with a yearly peak."""
    rng = np.random.default_rng(0)
    start = dt.date(2023, 1, 2)
    rows = []
    for w in range(weeks):
        peak = 3.0 if w % 52 in range(44, 50) else 1.0
        for c in range(6):
            for k in range(4):
                rows.append(
                    (start + dt.timedelta(weeks=w), f"C{c}", f"S{k}", float(rng.poisson(5 * peak)))
                )
    orders = pl.DataFrame(
        rows, schema=["order_date", "customer_id", "sku", "quantity"], orient="row"
    ).filter(pl.col("quantity") > 0)
    segments = pl.DataFrame(
        {"customer_id": [f"C{c}" for c in range(6)], "segment": ["A", "A", "A", "B", "B", "B"]}
    )
    return orders, segments


def _season_warnings(weeks: int) -> list[str]:
    orders, segments = _orders(weeks)
    result = forecast(orders, segments, horizon=8, n_jobs=1, models="WindowAverage,Naive")
    return [w for w in result.warnings if "under two seasons" in w]


def test_a_history_under_two_seasons_without_a_seasonal_model_is_said() -> None:
    said = _season_warnings(54)
    assert said == [
        "the history holds 54 weeks, under two seasons (104 weeks): no series took a seasonal "
        "model (SeasonalNaive, GroupSeasonal), so the forecast follows the recent level and "
        "carries no season (a peak or trough ahead is not in it); a longer history gives the "
        "seasonal candidates a season to read"
    ]


def test_two_seasons_of_history_say_nothing() -> None:
    assert _season_warnings(110) == []


def test_monthly_comparison_rows_hold_the_frequencys_three_moving_averages() -> None:
    # The rows named WindowAverage4 and WindowAverage13 literally: at --freq M only the
    # 3-month average was compared (audit J, session 60); the monthly three are 3, 6 and 12.
    orders, segments = _orders(160)
    result = forecast(orders, segments, freq="M", horizon=3, n_jobs=1, models="WindowAverage")
    approaches = result.comparison.get_column("approach").to_list()
    averages = [a for a in approaches if "moving average" in a]
    assert averages == [
        "sku 3-period moving average",
        "sku 6-period moving average",
        "sku 12-period moving average",
    ]


def test_an_empty_address_is_refused_not_run_on_a_local_cluster(cli, tmp_path) -> None:
    # `--address "$SCHEDULER"` with the variable unset ran on a local Dask cluster, unsaid,
    # while `--address " "` was refused (audit J, session 60).
    out = tmp_path / "fc.csv"
    result = cli(
        "forecast", "absent.csv", "--orders", "absent.csv", "--engine", "dask",
        "--address", "", "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--address is empty (an unset variable?): no cluster is named" in result.stderr
    assert not out.exists()


def test_one_absurd_line_does_not_make_a_busy_segment_forecast_no_demand() -> None:
    # A sku of three lines, one of 1e12 units (a barcode in the quantity; under 5 lines it is
    # not capped): pooled over the segment, Champions, forecast 1,857 units, was "forecast no
    # demand" (audit J, session 60). Series by series, only a segment whose every series that
    # sold is forecast nothing is.
    import datetime as dt

    from segchain.forecast.stage import _segments_forecast_nothing

    weeks = [dt.date(2024, 1, 1) + dt.timedelta(weeks=i) for i in range(20)]
    keys = pl.DataFrame({"unique_id": ["a", "big"], "segment": ["Champions", "Champions"]})
    y = pl.DataFrame(
        {
            "unique_id": ["a"] * 20 + ["big"] * 20,
            "ds": weeks * 2,
            "y": [5.0] * 20 + [5.0, 1e12, 7.0] + [0.0] * 17,
        }
    )
    out = pl.DataFrame(
        {"unique_id": ["a"] * 4 + ["big"] * 4, "segment": ["Champions"] * 8, "forecast": [5.0] * 8}
    )
    assert _segments_forecast_nothing(out, y, keys, "W", 4) == []
    silent = out.with_columns(pl.lit(0.0).alias("forecast"))
    assert len(_segments_forecast_nothing(silent, y, keys, "W", 4)) == 1


def test_a_horizon_too_far_names_the_limit_of_its_frequency(cli, tmp_path) -> None:
    # Over 3,660 the message said "at most 3,660 (ten years of days)" at every frequency, while
    # weekly refuses above 522 and monthly above 120 (audit J, session 60).
    for freq, horizon, limit in (
        ("W", "5000", "522"),
        ("M", "5000", "120"),
        ("D", "5000", "3,660"),
    ):
        result = cli(
            "forecast", "absent.csv", "--orders", "absent.csv", "--freq", freq,
            "--horizon", horizon, "-o", str(tmp_path / "fc.csv"),
        )  # fmt: skip
        assert result.exit_code == 2, result.stderr
        assert f"at most {limit} periods of {freq} (ten years ahead), got 5,000" in result.stderr


def test_a_setting_from_the_config_keeps_the_files_named_in_warnings(cli, tmp_path) -> None:
    # With any setting from --config or the environment, every warning about a table lost its
    # file: "--orders: 1,033 order lines ... without a segment in the segments" (audit J).
    orders, segments = _orders(30)
    orders.with_row_index("order_id").with_columns(amount=pl.col("quantity") * 2.0).write_csv(
        tmp_path / "orders.csv"
    )
    segments.filter(pl.col("customer_id") != "C5").write_csv(tmp_path / "segments.csv")
    (tmp_path / "c.toml").write_text("[forecast]\nhorizon = 4\n")
    result = cli(
        "forecast", str(tmp_path / "segments.csv"), "--orders", str(tmp_path / "orders.csv"),
        "--config", str(tmp_path / "c.toml"), "--models", "WindowAverage",
        "-o", str(tmp_path / "fc.csv"),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    said = " ".join(result.stderr.split())
    assert f"Warning: --orders {tmp_path / 'orders.csv'}: " in said
    assert f"without a segment in SEGMENTS {tmp_path / 'segments.csv'} left out" in said


def test_a_backtest_without_rows_keeps_the_documented_columns() -> None:
    # Nothing to backtest (monthly, a 120-month horizon on under three years): the file ended
    # at backtest_actual, without series, approach, periods and mae (audit J, session 60).
    from segchain.forecast.backtest import with_comparison

    empty = pl.DataFrame(schema={"unique_id": pl.String, "scope": pl.String, "wape": pl.Float64})
    comparison = pl.DataFrame(schema={"approach": pl.String, "wape": pl.Float64})
    out = with_comparison(empty, comparison)
    assert out.columns == ["unique_id", "scope", "wape", "series", "approach", "periods", "mae"]
    assert out.schema["series"] == pl.Int64 and out.schema["approach"] == pl.String
