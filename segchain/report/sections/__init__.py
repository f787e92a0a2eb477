"""One section per stage: its three headline numbers, tables and charts, from the columns present.

Each module prepares its section's data (polars, no wording), then words it (headlines, notes,
table titles); the drawing is in ``segchain.report.charts``. A builder returns a Section, or a
sentence saying why it was skipped (table absent, or the table lacks the columns the section
needs). Optional columns only add rows, columns or charts; their absence never fails the report.

================= =====================================================
module            section
================= =====================================================
``actions``       What to do now (reorder list, sites and why, promises not kept)
``orders``        Order history
``segments``      Customer segments
``forecast``      Demand forecast (fan chart of the largest series)
``accuracy``      Forecast accuracy (the held-out check of a forecast made --as-of, backtest)
``heldout``       the held-out check, read from the forecast's metadata and worded
``inventory``     Inventory (the plan held out, safety stock, segmented vs uniform)
``stock_heldout`` the stock plan replayed held out, read from the policy's metadata and worded
``network``       Distribution network (promise, sites, cost, map)
``costs``         Cost to serve and profit (cost stack, promises, least profitable customers)
``common``        helpers every section shares
================= =====================================================
"""

from __future__ import annotations

from collections.abc import Callable

from segchain.report import charts as ch
from segchain.report.model import Section
from segchain.report.sections.accuracy import backtest_section
from segchain.report.sections.actions import actions_section
from segchain.report.sections.common import Colours, Meta, Tables, segment_order
from segchain.report.sections.costs import costs_section
from segchain.report.sections.forecast import forecast_section, interval_levels, period_interval
from segchain.report.sections.inventory import inventory_section
from segchain.report.sections.network import network_section
from segchain.report.sections.orders import orders_section
from segchain.report.sections.segments import segment_profile, segments_section

BUILDERS: tuple[Callable[[Tables, Meta, Colours], Section | str], ...] = (
    actions_section,
    orders_section,
    segments_section,
    forecast_section,
    backtest_section,
    inventory_section,
    network_section,
    costs_section,
)


def build_sections(tables: Tables, meta: Meta) -> tuple[list[Section], list[str]]:
    """Every section the inputs allow: the actions first, then the stages in pipeline order;
    and why the others were skipped."""
    colours = ch.segment_colours(segment_order(tables))
    sections: list[Section] = []
    skipped: list[str] = []
    for builder in BUILDERS:
        result = builder(tables, meta, colours)
        if isinstance(result, Section):
            sections.append(result)
        else:
            skipped.append(result)
    return sections, skipped


__all__ = [
    "BUILDERS",
    "build_sections",
    "interval_levels",
    "period_interval",
    "segment_order",
    "segment_profile",
]
