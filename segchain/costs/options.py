"""The option that gives costs each of its tables, by the stage's own name of the table
(``INPUT_RULES``): its messages name a table by the option (``schema.*_OPTION``)."""

from segchain.schema import (
    ASSIGNMENTS_OPTION,
    FORECAST_OPTION,
    ITEMS_OPTION,
    POLICY_OPTION,
    SITES_OPTION,
    STOCK_SEGMENTS_OPTION,
)

OPTION = {
    "policy": POLICY_OPTION,
    "per-segment stock": STOCK_SEGMENTS_OPTION,
    "forecast": FORECAST_OPTION,
    "assignments": ASSIGNMENTS_OPTION,
    "sites": SITES_OPTION,
    "items": ITEMS_OPTION,
}
