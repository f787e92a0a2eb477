"""The network options, resolved once and used for both the call and the provenance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from segchain.network.inputs import (
    DEFAULT_COST_PER_UNIT_KM,
    DEFAULT_GAP,
    DEFAULT_KM_PER_DAY,
    DEFAULT_NODE_LIMIT,
    check_options,
)


@dataclass(frozen=True)
class NetworkParams:
    """The options of ``network()`` (command line, environment, config, default).

    Each field is a keyword of ``network()`` and a CLI option (``km_per_day`` is
    ``--km-per-day``); the same object is passed to the stage and recorded in the outputs'
    provenance, so the two cannot disagree.
    """

    candidates: int | None = None
    open: int | None = None
    allow_split: bool = False
    km_per_day: float = DEFAULT_KM_PER_DAY
    cost_per_unit_km: float = DEFAULT_COST_PER_UNIT_KM
    time_limit: float | None = None
    gap: float = DEFAULT_GAP
    node_limit: int = DEFAULT_NODE_LIMIT
    skip_unlocated: bool = False
    max_points: int | None = None
    # None: "orders", unless the --sites header says a year (annual_fixed_cost).
    fixed_cost_period: str | None = None
    seed: int = 0

    @classmethod
    def resolve(cls, lookup: Callable[[str, Any], Any]) -> NetworkParams:
        """Each field from ``lookup(name, default)``, e.g. the CLI's ``setting()`` precedence;
        numbers from a config file take the field's type (``km_per_day = 500`` is 500.0)."""
        defaults = cls()
        values: dict[str, Any] = {}
        for f in fields(cls):
            default = getattr(defaults, f.name)
            value = lookup(f.name, default)
            if value is not None and isinstance(default, bool):
                value = bool(value)
            elif value is not None and isinstance(default, float):
                value = float(value)
            elif value is not None and isinstance(default, int):
                value = int(value)
            values[f.name] = value
        return cls(**values)

    def check(self, *, sites_given: bool) -> None:
        """Every contradictory or impossible option at once (UsageError), before any work."""
        check_options(
            sites_given,
            self.candidates,
            self.open,
            self.km_per_day,
            self.cost_per_unit_km,
            self.time_limit,
            self.gap,
            self.max_points,
            self.node_limit,
        )

    def as_dict(self) -> dict[str, Any]:
        """Keyword arguments for ``network()``, and the provenance's ``params``."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
