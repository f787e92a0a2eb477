"""report compares its inputs so that it tells no story mixing runs: the three gaps session 65's
audit R left open. The known answers are counted by hand from the small tables below (or from
what the stages write, read back independently); tables of one run say nothing.

- A backtest known to be of another forecast run: its WAPE was still quoted as the forecast's
  headline ("Backtest WAPE 156.1 %") beside the warning that it is not.
- A costs table written as CSV, which records nothing of the policy or network plan it was made
  from, beside those of another run: nothing was said (Parquet costs record their totals).
- A forecast and a backtest as CSV (no metadata to compare their options): only series the
  forecast lacks were said, not another horizon, demand class or model of the series in both.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from test_report_mix_s65 import (
    BACKTEST,
    FIX,
    FORECAST,
    LANES,
    POLICY,
    RUN,
    SITES,
    said_of_costs_of_another_policy,
)

from segchain.report import build_report
from segchain.report.consistency import mismatches

# ---- a backtest of another run: its headlines marked

# test_report_mix_s65's three series forecast, the backtest scoring a and b (c too short, as
# the forecast records). No overall row: the headlines are means per series, WAPE
# (0.3 + 0.6) / 2 = 45.0 %, MASE (0.8 + 1.2) / 2 = 1.00.
OTHER = {**RUN, "params": {**RUN["params"], "as_of": "2022-06-06"}}
# A held-out check the forecast records (its own, whatever backtest is given beside it).
HELD = {
    "held_out": {
        "level": "sku",
        "wape": {"forecast": 0.5, "naive": 0.6},
        "bias": {"forecast": 1.1},
        "periods": 8,
        "start": "2022-10-10",
    }
}


def _heads(meta: dict) -> dict[str, str]:
    report = build_report({"forecast": FORECAST, "backtest": BACKTEST}, metadata=meta)
    (section,) = [s for s in report.sections if s.key == "accuracy"]
    return {h.label: f"{h.value} | {h.detail}" for h in section.headlines}


def test_the_backtest_of_this_run_is_quoted_as_the_forecasts() -> None:
    heads = _heads({"forecast": RUN, "backtest": RUN})
    assert heads["WAPE"].startswith("45.0% | ")
    assert heads["MASE"].startswith("1.00 | ")
    assert not any("other run" in label for label in heads)


def test_the_backtest_of_another_run_is_marked_so_in_every_headline_it_makes() -> None:
    heads = _heads({"forecast": RUN, "backtest": OTHER})
    assert "WAPE" not in heads and "MASE" not in heads
    assert set(heads) == {
        "WAPE (other run)",
        "MASE (other run)",
        "Series beating the baseline (other run)",
    }
    said = "another forecast run's backtest, as the warning at the top says, not this forecast's"
    assert all(said in text for text in heads.values())
    assert heads["WAPE (other run)"].startswith("45.0% | ")


def test_beside_the_held_out_check_only_the_backtest_is_marked() -> None:
    one = _heads({"forecast": {**RUN, **HELD}, "backtest": RUN})
    assert "Backtest WAPE" in one and "Held-out WAPE" in one
    mixed = _heads({"forecast": {**RUN, **HELD}, "backtest": OTHER})
    assert "Backtest WAPE" not in mixed
    assert "Backtest WAPE (other run)" in mixed
    # The held-out check is the forecast's own: not marked.
    assert "Held-out WAPE" in mixed
    assert "other run" not in mixed["Held-out WAPE"]


def test_the_held_out_check_of_another_runs_backtest_is_not_taken_for_the_forecasts() -> None:
    # The forecast records none; its backtest's metadata does, of the same run: shown.
    one = _heads({"forecast": RUN, "backtest": {**RUN, **HELD}})
    assert one["Held-out WAPE"].startswith("50.0% | ")
    # The backtest of another run records its own forecast's check: not this forecast's.
    mixed = _heads({"forecast": RUN, "backtest": {**OTHER, **HELD}})
    assert "Held-out WAPE" not in mixed
    assert "WAPE (other run)" in mixed


# ---- a costs CSV beside the policy or network plan of another run

# test_report_mix_s65's policy (42.50 of inventory value), lanes (transport 7 + 3 = 10) and
# sites (S1 and S2 open, fixed 100 + 50 = 150), and a costs table of them as costs writes it
# by segment: each column summed is the table's total (inventory value at most the policy's).
COSTS = pl.DataFrame(
    {"segment": ["Gold", "Tin"], "customers": [1, 1], "revenue": [9.0, 2.0],
     "transport": [7.0, 3.0], "warehouse_fixed": [100.0, 50.0],
     "inventory_value": [20.0, 22.5], "inventory_carrying": [5.0, 5.625]}
)  # fmt: skip
PLAN = {"policy": POLICY, "assignments": LANES, "sites": SITES}
COSTS_FIX = "tables of different runs? Rerun costs with"


def _costs(**columns: list[float]) -> pl.DataFrame:
    return COSTS.with_columns(**{k: pl.Series(v) for k, v in columns.items()})


def test_a_costs_csv_of_the_tables_given_raises_nothing() -> None:
    assert mismatches({**PLAN, "costs": COSTS}) == []
    # Rounded to the cent, as a spreadsheet may save it: 10.01 against 10.00 is rounding.
    assert mismatches({**PLAN, "costs": _costs(transport=[7.0, 3.01])}) == []
    # Less inventory value than the policy's: the value at stocking points no segment buys
    # from, which costs leaves out of every segment, cannot be told from another policy.
    assert mismatches({**PLAN, "costs": _costs(inventory_value=[20.0, 10.0])}) == []
    # A column costs left empty (made without assignments): nothing to compare.
    empty = COSTS.with_columns(transport=pl.lit(None, pl.Float64))
    assert mismatches({**PLAN, "costs": empty}) == []


def test_a_costs_csv_of_another_policy_is_named() -> None:
    # 30 + 22.5 = 52.50 of inventory value in the costs: more than the policy's 42.50.
    assert mismatches({**PLAN, "costs": _costs(inventory_value=[30.0, 22.5])}) == [
        "the costs were made from a policy other than the one given (inventory value: 52.50 "
        f"summed in the costs, 42.50 in the policy): {COSTS_FIX} this policy (--policy)"
    ]


def test_a_costs_csv_of_another_network_plan_is_named() -> None:
    # Transport 9 + 3 = 12 against the lanes' 10; fixed 100 + 0 against the open sites' 150.
    other = _costs(transport=[9.0, 3.0], warehouse_fixed=[100.0, 0.0])
    assert mismatches({**PLAN, "costs": other}) == [
        "the costs were made from assignments and sites other than the ones given (transport: "
        "12.00 summed in the costs, 10.00 in the assignments; warehouse fixed: 100 summed in the "
        "costs, 150 in the open sites): tables of different runs? Rerun costs with these "
        "assignments and these sites (--assignments, --sites)"
    ]
    # Lanes that serve no demand: costs shares no site's fixed cost, 0 in one run.
    idle = {
        "assignments": LANES.with_columns(demand=pl.lit(0.0)),
        "sites": SITES.with_columns(demand_served=pl.lit(0.0)),
    }
    assert mismatches({**idle, "costs": _costs(warehouse_fixed=[0.0, 0.0])}) == []


def test_a_customer_costs_csv_of_another_policy_is_named() -> None:
    customers = pl.DataFrame(
        {"customer_id": ["c1", "c2"], "segment": ["Gold", "Tin"], "revenue": [9.0, 2.0],
         "transport": [7.0, 3.0], "inventory_value": [30.0, 20.0]}
    )  # fmt: skip  # 50.00 of inventory value
    assert mismatches({**PLAN, "costs": COSTS, "customer_costs": customers}) == [
        "the customer costs were made from a policy other than the one given (inventory value: "
        "50.00 summed in the customer costs, 42.50 in the policy): tables of different runs? "
        "Rerun costs --by customer with this policy (--policy)"
    ]


def test_a_costs_csv_written_by_costs_of_another_policy_is_said(cli, tmp_path: Path) -> None:
    # The costs of p2.csv (72.50 of inventory value) beside p1.csv (42.50).
    said_of_costs_of_another_policy(
        cli,
        tmp_path,
        "c.csv",
        "the costs were made from a policy other than the one given (inventory value: 72.50 "
        "summed in the costs, 42.50 in the policy)",
    )


# ---- a CSV forecast beside a CSV backtest: what else both hold

# Two series forecast over 2 weeks (--horizon 2), each backtested in 2 windows of 2 weeks, as
# forecast writes them: each series' demand class and model, from one selection, in both.
FC = pl.DataFrame(
    {"unique_id": ["a", "a", "b", "b"], "ds": ["2024-01-01", "2024-01-08"] * 2,
     "forecast": [3.0, 3.0, 1.0, 1.0], "model": ["AutoETS"] * 2 + ["CrostonSBA"] * 2,
     "reconciliation": [None] * 4, "demand_class": ["smooth"] * 2 + ["intermittent"] * 2}
)  # fmt: skip
BT = pl.DataFrame(
    {"unique_id": ["a", "b", "overall"], "scope": ["series", "series", "overall"],
     "model": ["AutoETS", "CrostonSBA", None], "demand_class": ["smooth", "intermittent", None],
     "mase": [0.8, 1.2, 1.0], "baseline_mase": [1.0, 1.0, 1.0], "wape": [0.3, 0.6, 0.4],
     "baseline_wape": [0.4, 0.5, 0.45], "backtest_windows": [2, 2, None],
     "backtest_periods": [4, 4, 8]}
)  # fmt: skip


def _series(column: str, values: list[object]) -> pl.DataFrame:
    return BT.with_columns(pl.Series(column, values))


def test_a_csv_forecast_and_its_backtest_raise_nothing() -> None:
    assert mismatches({"forecast": FC, "backtest": BT}) == []
    # Reconciled top-down, a series names the model of the sku forecast split into it.
    split = FC.with_columns(model=pl.lit("AutoTheta"), reconciliation=pl.lit("top-down"))
    assert mismatches({"forecast": split, "backtest": BT}) == []
    # A forecast without the column cannot say whether its models are its series' own.
    assert mismatches({"forecast": split.drop("reconciliation"), "backtest": BT}) == []


def test_a_csv_backtest_of_another_horizon_is_named() -> None:
    # 8 periods in 2 windows: windows of 4 weeks, where the forecast runs 2.
    other = _series("backtest_periods", [8, 8, 16])
    assert mismatches({"forecast": FC, "backtest": other}) == [
        "the backtest scored windows of 4 periods and the forecast runs 2 periods (forecast "
        f"scores each window over its --horizon): {FIX}"
    ]


def test_a_csv_backtest_of_other_demand_classes_is_named() -> None:
    other = _series("demand_class", ["smooth", "smooth", None])
    assert mismatches({"forecast": FC, "backtest": other}) == [
        "1 series of 2 in both has another demand class in each (b: smooth in the backtest, "
        f"intermittent in the forecast): {FIX}"
    ]


def test_a_csv_backtest_of_other_models_is_named_where_the_forecast_is_its_own() -> None:
    other = _series("model", ["WindowAverage", "IMAPA", None])
    assert mismatches({"forecast": FC, "backtest": other}) == [
        "2 series of 2 in both have another model in each (a: WindowAverage in the backtest, "
        f"AutoETS in the forecast): {FIX}"
    ]
    # b reconciled top-down: only a is compared.
    part = FC.with_columns(
        reconciliation=pl.when(pl.col("unique_id") == "b").then(pl.lit("top-down"))
    )
    assert mismatches({"forecast": part, "backtest": other}) == [
        "1 series of 1 in both has another model in each (a: WindowAverage in the backtest, "
        f"AutoETS in the forecast): {FIX}"
    ]


def test_csv_tables_of_two_runs_are_said_and_the_backtest_marked(cli, tmp_path: Path) -> None:
    FC.write_csv(tmp_path / "fc.csv")
    _series("demand_class", ["smooth", "smooth", None]).write_csv(tmp_path / "bt.csv")
    made = cli("report", "fc.csv", "bt.csv", "-o", "r.md")
    assert made.exit_code == 0, made.stderr
    said = "1 series of 2 in both has another demand class in each"
    assert said in " ".join(made.stderr.split())
    page = " ".join((tmp_path / "r.md").read_text().split())
    assert page.index(said) < page.index("## ")
    assert "WAPE (other run)" in page
