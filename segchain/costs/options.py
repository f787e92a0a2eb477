"""The options that give costs its tables: the stage names a table by its option in a message
(``--items: sku listed more than once``), the CLI adds the file (``--items items.csv: ...``);
'items: ...' did not say which file, nor that it came from an option."""

ORDERS = "--orders"
POLICY = "--policy"
STOCK_SEGMENTS = "--stock-segments"
FORECAST = "--forecast"
ASSIGNMENTS = "--assignments"
SITES = "--sites"
ITEMS = "--items"
# The stage's own name of each table (``INPUT_RULES``) and its option.
OPTION = {
    "policy": POLICY,
    "per-segment stock": STOCK_SEGMENTS,
    "forecast": FORECAST,
    "assignments": ASSIGNMENTS,
    "sites": SITES,
    "items": ITEMS,
}
