"""network: choose sites and assign customers, keeping each segment's delivery promise (MILP).

==============  ==============================================================================
module          what it holds
==============  ==============================================================================
``inputs``      checked customers, sites and lanes; the options' checks; the defaults
``geometry``    great-circle distances, candidate sites (k-means), demand points, point x site
                pairs
``model``       the MILP: the ``within_promise`` rule, each constraint family as a named
                builder (algebra in its docstring), the HiGHS solve
``outputs``     assignments, sites and promise tables, totals, ``NetworkResult``
``params``      ``NetworkParams``: the options resolved once, for the call and the provenance
``stage``       ``network()``: the orchestration
==============  ==============================================================================
"""

from __future__ import annotations

from segchain.geo import EARTH_RADIUS_KM, haversine_km
from segchain.network.geometry import (
    MAX_PAIRS,
    Points,
    aggregate_points,
    candidate_sites,
)
from segchain.network.inputs import (
    DEFAULT_COST_PER_UNIT_KM,
    DEFAULT_GAP,
    DEFAULT_KM_PER_DAY,
    DEFAULT_NODE_LIMIT,
    NO_SEGMENT,
)
from segchain.network.model import EPS, build_constraints, within_promise
from segchain.network.outputs import (
    NetworkResult,
    NetworkTotals,
    promise_table,
)
from segchain.network.params import NetworkParams
from segchain.network.stage import network
from segchain.schema import ASSIGNMENT_COLUMNS, SITE_COLUMNS

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "DEFAULT_COST_PER_UNIT_KM",
    "DEFAULT_GAP",
    "DEFAULT_NODE_LIMIT",
    "DEFAULT_KM_PER_DAY",
    "EARTH_RADIUS_KM",
    "EPS",
    "MAX_PAIRS",
    "NO_SEGMENT",
    "SITE_COLUMNS",
    "NetworkParams",
    "NetworkResult",
    "NetworkTotals",
    "Points",
    "aggregate_points",
    "build_constraints",
    "candidate_sites",
    "haversine_km",
    "network",
    "promise_table",
    "within_promise",
]
