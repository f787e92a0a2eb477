"""Hostile-user findings of session 43: each test fails on the code before its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

HISTORY = "order_id,order_date,customer_id,sku,quantity,unit_price\n" + "".join(
    f"{i},2024-{1 + i * 3 // 28:02d}-{1 + i * 3 % 28:02d},C{i % 2 + 1},P{i % 3 + 1},{i % 4 + 1},5\n"
    for i in range(1, 41)
)
SEGMENTS = "customer_id,segment,lat,lon,quantity\nC1,A,50.1,8.7,10\nC2,B,48.9,2.3,5\n"


# ---- a handling rate so large that its sums overflow ----------------------------------------
# `[costs] cost_per_order = 1e308` was accepted: `segchain costs` wrote order_handling and
# cost_to_serve as inf for every segment, exit 0.


@pytest.mark.parametrize("key", ["cost_per_order", "cost_per_line", "cost_per_return"])
@pytest.mark.parametrize("value", ["1e308", "1e16"])
def test_a_handling_rate_beyond_1e15_is_a_usage_error(
    cli, tmp_path: Path, key: str, value: str
) -> None:
    (tmp_path / "orders.csv").write_text(HISTORY)
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "c.toml").write_text(f"[costs]\n{key} = {value}\n")
    result = cli("costs", "seg.csv", "--orders", "orders.csv", "--config", "c.toml", "-o", "c.csv")
    assert result.exit_code == 2, result.stderr
    assert (
        f"segchain costs: Error: c.toml [costs] {key}: must be at most 1e+15 (sums of larger "
        f"costs overflow), got {float(value):g}\n" in result.stderr
    ), result.stderr
    assert not (tmp_path / "c.csv").exists()


def test_a_handling_rate_of_1e15_is_still_summed(cli, tmp_path: Path) -> None:
    import polars as pl

    (tmp_path / "orders.csv").write_text(HISTORY)
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "c.toml").write_text("[costs]\ncost_per_order = 1e15\n")
    result = cli("costs", "seg.csv", "--orders", "orders.csv", "--config", "c.toml", "-o", "c.csv")
    assert result.exit_code == 0, result.stderr
    handling = pl.read_csv(tmp_path / "c.csv")["order_handling"]
    assert handling.is_finite().all() and handling.sum() == 40 * 1e15


def test_parse_rates_refuses_a_rate_beyond_1e15() -> None:
    from segchain.costs import parse_rates
    from segchain.errors import UsageError

    with pytest.raises(UsageError, match=r"cost_per_line must be at most 1e\+15"):
        parse_rates({"cost_per_line": 1e308})


# ---- [forecast] level as a TOML list ---------------------------------------------------------
# The README says `models` and `level` take a list in segchain.toml, but `level = [80, 95]` was
# refused: "segchain.toml [forecast] level: must be percentages between 0 and 100, e.g. 80,95,
# got [80, 95]" (exit 2): its rule's kind (text) took no list.


@pytest.mark.parametrize(
    ("value", "expected"), [([80, 95], "80,95"), ([95], "95"), ([80.5, "95"], "80.5,95")]
)
def test_forecast_level_may_be_a_toml_list(value, expected: str) -> None:
    from segchain import config

    sections = config.check_tables({"forecast": {"level": value}}, source="segchain.toml")
    assert sections["forecast"]["level"] == expected


@pytest.mark.parametrize("value", [[], [True], [[80]], [80, 120]])
def test_forecast_level_list_of_other_things_is_refused(value) -> None:
    from segchain import config
    from segchain.errors import UsageError

    with pytest.raises(UsageError, match=r"segchain.toml \[forecast\] level: "):
        config.check_tables({"forecast": {"level": value}}, source="segchain.toml")


def test_forecast_reads_its_levels_from_a_toml_list(cli, tmp_path: Path) -> None:
    import polars as pl

    (tmp_path / "orders.csv").write_text(HISTORY)
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "c.toml").write_text("[forecast]\nlevel = [80, 95]\n")
    result = cli(
        "forecast", "seg.csv", "--orders", "orders.csv", "--config", "c.toml",
        "--horizon", "1", "--n-jobs", "1", "-o", "fc.csv",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    columns = pl.read_csv(tmp_path / "fc.csv").columns
    assert [c for c in columns if c.startswith("forecast-")] == [
        "forecast-lo-80", "forecast-hi-80", "forecast-lo-95", "forecast-hi-95",
    ]  # fmt: skip


# ---- an interval level written as a share ----------------------------------------------------
# `segchain forecast ... --level 0.95` (a service level's way of writing 95 %) was read as a
# 0.95 % interval: forecast-lo-0.95 and forecast-hi-0.95, a band of almost no width, exit 0.


@pytest.mark.parametrize(
    ("level", "said", "hint"),
    [
        ("0.95", "0.95 would draw an interval of 0.95 %", "give 95"),
        ("0.8,0.95", "0.8, 0.95 would draw intervals of 0.8 % and 0.95 %", "give 80,95"),
        ("0.5,95", "0.5 would draw an interval of 0.5 %", "give 50,95"),
    ],
)
def test_an_interval_level_under_1_is_a_usage_error(
    cli, tmp_path: Path, level: str, said: str, hint: str
) -> None:
    (tmp_path / "orders.csv").write_text(HISTORY)
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    result = cli("forecast", "seg.csv", "--orders", "orders.csv", "--level", level, "-o", "f.csv")
    assert result.exit_code == 2, result.stderr
    assert f"segchain forecast: Error: --level: {said}\n" in result.stderr, result.stderr
    assert f"hint: levels are percentages: {hint}\n" in result.stderr, result.stderr
    assert not (tmp_path / "f.csv").exists()


def test_an_interval_level_under_1_in_the_config_is_refused_by_every_command(
    cli, tmp_path: Path
) -> None:
    (tmp_path / "orders.csv").write_text(HISTORY)
    (tmp_path / "c.toml").write_text("[forecast]\nlevel = 0.9\n")
    result = cli("segment", "orders.csv", "--config", "c.toml", "-o", "seg.csv")
    assert result.exit_code == 2, result.stderr
    assert "c.toml [forecast] level: 0.9 would draw an interval of 0.9 %" in result.stderr


def test_an_interval_level_of_1_is_still_a_level() -> None:
    from segchain.config import interval_levels

    assert interval_levels("1,99.5") == [1, 99.5]


# ---- previous segments of other customers ------------------------------------------------------
# `segchain segment orders.csv --previous prev.csv` with a prev.csv written from another export
# (no customer_id in common) said only "0 customers changed segment since prev.csv; 2 new
# customers", as if the run had been compared with it.


def segment_after(cli, tmp_path: Path, previous: str):  # type: ignore[no-untyped-def]
    """``segchain segment orders.csv --previous prev.csv`` on HISTORY, prev.csv holding
    ``previous``'s rows; exit 0."""
    (tmp_path / "orders.csv").write_text(HISTORY)
    (tmp_path / "prev.csv").write_text("customer_id,segment\n" + previous)
    result = cli("segment", "orders.csv", "--previous", "prev.csv", "-o", "seg.csv")
    assert result.exit_code == 0, result.stderr
    return result


def test_previous_segments_sharing_no_customer_are_warned_about(cli, tmp_path: Path) -> None:
    result = segment_after(cli, tmp_path, "0001,Lost\n0002,Champions\n")
    assert (
        "segchain segment: Warning: --previous prev.csv shares no customer_id with these orders: "
        "none of its 2 customers ('0001', '0002') is among these ('C1', 'C2'), so every customer "
        "counts as new; give the segments written from an earlier export of the same system\n"
    ) in result.stderr, result.stderr
    assert (
        "0 customers changed segment since prev.csv; 2 new customers; 2 customers of prev.csv "
        "not in this run ('0001', '0002')\n"
    ) in result.stderr


def test_previous_segments_sharing_one_customer_are_compared_without_a_warning(
    cli, tmp_path: Path
) -> None:
    result = segment_after(cli, tmp_path, "C1,Lost\n0002,Champions\n")
    assert "shares no customer_id" not in result.stderr
    assert (
        "changed segment since prev.csv; 1 new customer; 1 customer of prev.csv not in this run "
        "('0002')\n"
    ) in result.stderr


# ---- one segment's policy twice, in other capitals --------------------------------------------
# A config with [segments."Champions"] and [segments."CHAMPIONS"] was read: a segment's policy is
# found whatever its capitals, so one table was never used, without a word (for the segment
# 'Champions' the first, for 'champions' the last), and neither was named as matching nothing.


def test_one_segments_policy_twice_in_other_capitals_is_a_usage_error(cli, tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(HISTORY)
    (tmp_path / "c.toml").write_text(
        '[segments."Champions"]\nservice_level = 0.99\n'
        '[segments."CHAMPIONS"]\nservice_level = 0.5\n'
    )
    result = cli("segment", "orders.csv", "--config", "c.toml", "-o", "seg.csv")
    assert result.exit_code == 2, result.stderr
    assert (
        'segchain segment: Error: c.toml: [segments."Champions"] and [segments."CHAMPIONS"] name '
        "one segment in other capitals (a segment's policy is found whatever its capitals)\n"
    ) in result.stderr, result.stderr
    assert not (tmp_path / "seg.csv").exists()


def test_policies_of_segments_that_differ_beyond_capitals_are_read() -> None:
    from segchain.config import parse_config

    cfg = parse_config({"segments": {"Loyal": {"priority": 1}, "Loyal 2": {"priority": 2}}})
    assert cfg.segments.for_segment("loyal 2").priority == 2


# ---- [network] gap = 1 -------------------------------------------------------------------------
# The declared rule of gap took [0, 1] while network refuses 1 ("gap must lie in [0, 1)"): a
# segchain.toml with gap = 1 was read by segment, forecast, stock and costs, exit 0, and refused
# by network only, against the rule that every command refuses a bad setting.


def test_a_gap_of_1_in_the_config_is_refused_by_every_command(cli, tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(HISTORY)
    (tmp_path / "c.toml").write_text("[network]\ngap = 1\n")
    result = cli("segment", "orders.csv", "--config", "c.toml", "-o", "seg.csv")
    assert result.exit_code == 2, result.stderr
    assert "segchain segment: Error: c.toml [network] gap: must be below 1, got 1\n" in (
        result.stderr
    ), result.stderr
    assert not (tmp_path / "seg.csv").exists()


def test_a_gap_just_below_1_is_still_a_gap() -> None:
    from segchain.config import check_setting

    assert check_setting("network", "gap", 0.999, where="--gap") == 0.999


# ---- a review period of almost no time ---------------------------------------------------------
# `segchain stock fc.csv --policy RS --review-days 1e-300` planned: the review's demand vanished
# beside the lead time's in the fill-rate formulas, so a point of positive forecast demand got
# order_up_to 0, avg_inventory 0 and expected_fill_rate 1.0, exit 0 (1e-15 already drifted).

FORECAST = "unique_id,ds,forecast,segment,sku,mean_demand,error_sd\n" + "".join(
    f"A/P1,2024-01-{1 + 7 * i:02d},5,A,P1,5,1\n" for i in range(4)
)


@pytest.mark.parametrize("days", ["1e-300", "1e-15", "0.009"])
def test_a_review_period_under_a_quarter_of_an_hour_is_a_usage_error(
    cli, tmp_path: Path, days: str
) -> None:
    (tmp_path / "fc.csv").write_text(FORECAST)
    result = cli("stock", "fc.csv", "--policy", "RS", "--review-days", days, "-o", "p.csv")
    assert result.exit_code == 2, result.stderr
    assert (
        "segchain stock: Error: --review-days: must be a number of days from 0.01 (about a "
        f"quarter of an hour) to 3660, got {float(days)!r}\n"
    ) in result.stderr, result.stderr
    assert not (tmp_path / "p.csv").exists()


def test_stock_refuses_a_review_period_under_001_days_from_python() -> None:
    import polars as pl

    from segchain.errors import UsageError
    from segchain.stock import stock

    fc = pl.read_csv(FORECAST.encode(), try_parse_dates=True)
    with pytest.raises(UsageError, match="--review-days must be a number of days from 0.01"):
        stock(fc, policy_type="RS", review_days=1e-300)


def test_a_review_period_of_001_days_plans_stock(cli, tmp_path: Path) -> None:
    import polars as pl

    (tmp_path / "fc.csv").write_text(FORECAST)
    result = cli("stock", "fc.csv", "--policy", "RS", "--review-days", "0.01", "-o", "p.csv")
    assert result.exit_code == 0, result.stderr
    row = pl.read_csv(tmp_path / "p.csv").row(0, named=True)
    assert row["order_up_to"] > 0 and row["expected_fill_rate"] < 1


# ---- the config found in the working folder as an output -------------------------------------
# `segchain segment orders.csv -o segchain.toml` in a folder whose segchain.toml the run reads
# (found there, named by no option) replaced the config with the segments table, exit 0;
# `--config segchain.toml -o segchain.toml` was refused.


@pytest.mark.parametrize(
    ("args", "option"),
    [(["-o", "segchain.toml"], "-o"), (["--profile", "segchain.toml", "-o", "s.csv"], "--profile")],
)
def test_an_output_onto_the_config_found_in_the_working_folder_is_refused(
    cli, tmp_path: Path, args: list[str], option: str
) -> None:
    config = '[segments."*"]\nservice_level = 0.9\n'
    (tmp_path / "orders.csv").write_text(HISTORY)
    (tmp_path / "segchain.toml").write_text(config)
    result = cli("segment", "orders.csv", *args)
    assert result.exit_code == 2, result.stderr
    assert (
        f"segchain segment: Error: {option} segchain.toml: is also the input config "
        "./segchain.toml; writing it would destroy the input\n"
    ) in result.stderr, result.stderr
    assert (tmp_path / "segchain.toml").read_text() == config
    assert not (tmp_path / "s.csv").exists()
