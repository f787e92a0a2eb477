"""The ``[costs]`` table of segchain.toml: handling rates and the default holding rate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from segchain.errors import UsageError
from segchain.formatting import agree
from segchain.schema import MAX_VALUE, SUMS_OVERFLOW

# Each setting, what it means (for messages and the column sources).
RATE_SETTINGS: dict[str, str] = {
    "cost_per_order": "handling cost per sales order",
    "cost_per_line": "handling cost per sales order line",
    "cost_per_return": "handling cost per returned or cancelled order line",
    "holding_rate": "inventory carrying rate per year for items without their own holding_rate",
}


@dataclass(frozen=True)
class CostRates:
    """Rates from ``[costs]``; None means not given (the cost it drives is missing, not zero)."""

    cost_per_order: float | None = None
    cost_per_line: float | None = None
    cost_per_return: float | None = None
    holding_rate: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        return {k: getattr(self, k) for k in RATE_SETTINGS}


def parse_rates(table: Mapping[str, Any] | None, *, where: str = "[costs]") -> CostRates:
    """Check a ``[costs]`` table: known keys only, each a number from 0 to 1e15 (holding_rate > 0).

    Raises:
        UsageError: naming every bad setting at once (exit 2).
    """
    if not table:
        return CostRates()
    problems = []
    unknown = sorted(set(table) - set(RATE_SETTINGS))
    if unknown:
        problems.append(
            f"unknown {agree(len(unknown), 'setting', 'settings')} {', '.join(unknown)} "
            f"(known: {', '.join(RATE_SETTINGS)})"
        )
    values: dict[str, float] = {}
    for key in RATE_SETTINGS:
        if key not in table:
            continue
        value = table[key]
        # TOML booleans are ints to Python; a rate written as "2.5" (a string) is a mistake.
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{key} must be a number, got {value!r} ({type(value).__name__})")
        elif value != value or value in (float("inf"), float("-inf")) or value < 0:
            problems.append(f"{key} must be a finite number >= 0, got {value!r}")
        elif key != "holding_rate" and value > MAX_VALUE:
            problems.append(f"{key} must be at most {MAX_VALUE:g} ({SUMS_OVERFLOW}), got {value!r}")
        elif key == "holding_rate" and value == 0:
            problems.append("holding_rate must be > 0 (a yearly rate such as 0.25)")
        else:
            values[key] = float(value)
    if problems:
        raise UsageError(
            f"{where}: " + "; ".join(problems),
            hint="e.g. [costs] cost_per_order = 12.0, cost_per_line = 1.5, "
            "cost_per_return = 8.0, holding_rate = 0.25",
        )
    return CostRates(**values)
