"""`--compare-uniform` at rationed points: the uniform plan compared there is the rationing's
simulation's, and the plan `stock` writes for that one target (the formulas, no reserves) is
given beside it, equal to a run of `stock` with that target for every segment (audit N, F1:
on The Complete Journey the comparison's uniform plan held 19,523 and the plan written 17,360,
so segmenting looked half as expensive against it as it is)."""

from __future__ import annotations

import polars as pl
import pytest
from test_stock_rationing import MIX, forecast

from segchain.config import PolicyTable, SegmentPolicy
from segchain.stock import stock

# test_stock_rationing's MIX: a fast SKU split 30/70 between gold and bronze (rationed at
# these targets), a slow one bought by the three segments, a lumpy one (variance 8x the mean).
TARGETS = {"gold": 0.99, "silver": 0.95, "bronze": 0.90}


def _forecast() -> pl.DataFrame:
    return forecast(MIX)


ITEMS = pl.DataFrame(
    {"sku": ["FAST", "SLOW", "LUMPY"], "lead_time_days": [14.0] * 3, "unit_cost": [2.0, 5.0, 3.0]}
)


@pytest.mark.parametrize("review", [7, None])
def test_the_plan_written_for_the_uniform_target_is_given_beside_the_comparison(review) -> None:
    table = PolicyTable({g: SegmentPolicy(service_level=t) for g, t in TARGETS.items()})
    res = stock(_forecast(), items=ITEMS, policies=table, review_days=review, compare_uniform=0.97)
    assert res.policy["rationed"].any()
    cmp = res.comparison
    assert cmp is not None
    everyone = PolicyTable({g: SegmentPolicy(service_level=0.97) for g in TARGETS})
    alone = stock(_forecast(), items=ITEMS, policies=everyone, review_days=review)
    assert not alone.policy["rationed"].any()
    written = float(alone.policy["inventory_value"].sum())
    total = cmp.filter(pl.col("segment") == "(all)").row(0, named=True)
    assert total["inventory_value_uniform_formulas"] == pytest.approx(written, rel=1e-9)
    # Per segment, the written plan's value is shared out by demand as the others are.
    per = cmp.filter(pl.col("segment") != "(all)")
    assert per["inventory_value_uniform_formulas"].sum() == pytest.approx(written, rel=1e-9)
    note = [n for n in res.notes if n.startswith("--compare-uniform:")]
    assert len(note) == 1 and f"{written:,.2f} in value in all" in note[0]


def test_without_rationing_there_is_one_uniform_plan_and_no_note() -> None:
    table = PolicyTable({g: SegmentPolicy(service_level=t) for g, t in TARGETS.items()})
    res = stock(_forecast(), items=ITEMS, policies=table, compare_uniform=0.97, rationing="none")
    assert res.comparison is not None
    assert "inventory_value_uniform_formulas" not in res.comparison.columns
    assert not [n for n in res.notes if n.startswith("--compare-uniform:")]


def test_the_report_headline_says_the_plan_written_when_the_comparison_simulated() -> None:
    from test_report import build_report, headline, policy_frame

    comparison = pl.DataFrame(
        {
            "segment": ["Champions", "Lost", "(all)"],
            "inventory_value_segmented": [150.0, 110.0, 260.0],
            "inventory_value_uniform": [120.0, 105.0, 225.0],
            "inventory_value_uniform_formulas": [110.0, 90.0, 200.0],
            "uniform_target": [0.95, 0.95, 0.95],
        }
    )
    report = build_report({"policy": policy_frame(), "stock_comparison": comparison})
    head = headline(report, "inventory", "Segmented vs uniform")
    assert head.value == "+35.00"
    # 260 / 225 - 1 = 15.6 %; 260 / 200 - 1 = 30.0 %.
    assert head.detail.startswith(
        "+15.6% expected inventory value vs one target of 95.0%; +30.0% vs the plan `stock` "
        "writes for that target (200;"
    )
