"""Canonical column names, the contract of each stage's table, and checks against them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from segchain.errors import MissingColumnsError

# Order lines after mapping. Either unit_price or amount must be present.
ORDER_REQUIRED = ("order_id", "order_date", "customer_id", "sku", "quantity")
ORDER_VALUE = ("unit_price", "amount")
ORDER_OPTIONAL = (
    "site",
    "lat",
    "lon",
    "city",
    "postal_code",
    "country",
    "customer_name",
    "description",
)
ORDER_COLUMNS = ORDER_REQUIRED + ORDER_VALUE + ORDER_OPTIONAL

# Identifier columns anywhere in the pipeline: always strings, never numbers, so that
# `0001` stays `0001` when a table goes through CSV.
ID_COLUMNS = frozenset(
    {
        "order_id",
        "customer_id",
        "sku",
        "site",
        "site_id",
        "segment",
        "unique_id",
        "postal_code",
        "country",
        "city",
        "customer_name",
        "description",
        "model",
        "demand_class",
        "service_measure",
        "reason",
        "flag",
    }
)

# Key columns by which a table is recognised when it carries no metadata (report, stock).
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "segments": ("customer_id", "segment", "segment_rank"),
    "segment_profile": ("segment", "customers", "share_customers"),
    "forecast": ("unique_id", "ds", "forecast"),
    "backtest": ("unique_id", "mase", "wape"),
    "policy": ("sku", "safety_stock", "reorder_point"),
    "assignments": ("customer_id", "site_id", "distance_km"),
    "sites": ("site_id", "open", "demand_served"),
    "orders": ("order_id", "order_date", "customer_id", "sku", "quantity"),
    "costs": ("segment", "revenue", "cost_to_serve"),
}

# Reason codes for rejected order lines (written to --rejects).
REJECT_REASONS = {
    "missing_order_id": "order id is blank",
    "missing_customer": "customer id is blank",
    "missing_sku": "sku is blank",
    "missing_date": "order date is blank",
    "bad_date": "order date cannot be parsed",
    "bad_quantity": "quantity is blank or not a number",
    "bad_price": "unit price / amount is blank or not a number",
    "non_finite": "a number is infinite or NaN",
    "return": "return or cancellation (dropped by --returns drop)",
}


def require_columns(
    columns: Iterable[str],
    required: Sequence[str],
    *,
    source: str = "input",
    hint: str | None = None,
) -> None:
    """Raise MissingColumnsError naming every required column absent from ``columns``."""
    present = list(columns)
    missing = [c for c in required if c not in present]
    if missing:
        raise MissingColumnsError(missing, present, source=source, hint=hint)


def require_one_of(columns: Iterable[str], choices: Sequence[str], *, source: str = "input") -> str:
    """Return the first of ``choices`` present, or raise naming all of them."""
    present = list(columns)
    for c in choices:
        if c in present:
            return c
    raise MissingColumnsError(
        [" or ".join(choices)],
        present,
        source=source,
    )


def recognise(columns: Iterable[str], stage: str | None = None) -> str | None:
    """Name the stage table whose key columns are all present (or trust ``stage`` metadata)."""
    if stage:
        return stage
    present = set(columns)
    for name, keys in TABLE_KEYS.items():
        if set(keys) <= present:
            return name
    return None
