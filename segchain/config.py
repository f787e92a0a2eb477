"""segchain.toml, presets and column mapping; the segment policy types live in ``segchain.policy``.

Precedence everywhere: command line, then environment (``SEGCHAIN_*``), then the config file,
then defaults. Typer resolves the first two (each option names its ``SEGCHAIN_*`` variable); this
module supplies the last two.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segchain.errors import UsageError
from segchain.policy import SERVICE_MEASURES, PolicyTable, SegmentPolicy
from segchain.schema import ORDER_COLUMNS

DEFAULT_CONFIG = "segchain.toml"

# Each canonical column maps to the export headers that may hold it, first present wins.
PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "sap": {
        "order_id": ("VBELN",),
        "order_date": ("AUDAT", "ERDAT"),
        "customer_id": ("KUNNR",),
        "sku": ("MATNR",),
        "quantity": ("KWMENG",),
        "amount": ("NETWR",),
        "site": ("WERKS",),
        "description": ("ARKTX",),
        "customer_name": ("NAME1",),
        "country": ("LAND1",),
        "postal_code": ("PSTLZ",),
        "city": ("ORT01",),
    },
    # Odoo's sale.order.line export, with its screen labels or its technical field names.
    "odoo": {
        "order_id": ("Order Reference", "order_id", "Order"),
        "order_date": ("Order Date", "order_id/date_order", "date_order", "Date"),
        "customer_id": ("Customer", "order_partner_id", "order_partner_id/id", "Customer/ID"),
        "sku": (
            "Product/Internal Reference",
            "product_id/default_code",
            "Product",
            "product_id",
        ),
        "quantity": ("Quantity", "product_uom_qty", "Ordered Quantity"),
        "unit_price": ("Unit Price", "price_unit"),
        "amount": ("Subtotal", "price_subtotal"),
        "site": ("Warehouse", "warehouse_id"),
        "description": ("Description", "name"),
    },
    "online-retail": {
        "order_id": ("InvoiceNo", "Invoice"),
        "order_date": ("InvoiceDate",),
        "customer_id": ("CustomerID", "Customer ID"),
        "sku": ("StockCode",),
        "quantity": ("Quantity",),
        "unit_price": ("UnitPrice", "Price"),
        "country": ("Country",),
        "description": ("Description",),
    },
}


@dataclass(frozen=True)
class Config:
    """A loaded segchain.toml (or the empty default when there is none)."""

    path: Path | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    preset: str | None = None
    segments: PolicyTable = field(default_factory=PolicyTable)
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def option(self, command: str, name: str, default: Any = None) -> Any:
        """A command option's value from the ``[<command>]`` table, else ``default``."""
        table = self.sections.get(command, {})
        key = name.replace("-", "_")
        return table.get(key, table.get(name, default))


def load_config(path: str | Path | None = None) -> Config:
    """Load ``path``, else $SEGCHAIN_CONFIG, else ./segchain.toml if present, else defaults.

    Raises:
        UsageError: the named file is missing, is not valid TOML, or holds invalid values.
    """
    explicit = path if path is not None else os.environ.get("SEGCHAIN_CONFIG") or None
    if explicit is None:
        candidate = Path(DEFAULT_CONFIG)
        if not candidate.is_file():
            return Config()
        file = candidate
    else:
        file = Path(explicit)
        if not file.is_file():
            raise UsageError(f"config file {str(file)!r} does not exist")
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{file}: not a valid TOML file: {exc}") from None
    return parse_config(raw, source=str(file), path=file)


def parse_config(
    raw: Mapping[str, Any], *, source: str = "config", path: Path | None = None
) -> Config:
    """Build a Config from a parsed TOML document, checking every value."""
    columns = raw.get("columns", {})
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise UsageError(f"{source}: [columns] must map canonical names to header strings")
    _check_canonical(columns, source=f"{source} [columns]")
    preset = raw.get("preset")
    if preset is not None:
        check_preset(preset)
    segments_raw = raw.get("segments", {})
    if not isinstance(segments_raw, dict):
        raise UsageError(f'{source}: [segments] must hold tables like [segments."Champions"]')
    policies = {
        str(label): parse_policy(table, where=f'{source} [segments."{label}"]')
        for label, table in segments_raw.items()
    }
    sections = {
        k: v for k, v in raw.items() if isinstance(v, dict) and k not in {"columns", "segments"}
    }
    return Config(
        path=path,
        columns=dict(columns),
        preset=preset,
        segments=PolicyTable(policies),
        sections=sections,
    )


def parse_policy(table: Any, *, where: str) -> SegmentPolicy:
    """Check one ``[segments."<label>"]`` table."""
    if not isinstance(table, dict):
        raise UsageError(f"{where}: expected a table of settings")
    known = {"service_level", "service_measure", "max_delivery_days", "priority"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise UsageError(
            f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    level = table.get("service_level")
    if level is not None:
        level = check_service_level(level, where=where)
    measure = table.get("service_measure")
    if measure is not None:
        measure = check_service_measure(measure, where=where)
    days = table.get("max_delivery_days")
    if days is not None and (not isinstance(days, int | float) or days < 0):
        raise UsageError(f"{where}: max_delivery_days must be a number >= 0, got {days!r}")
    priority = table.get("priority")
    if priority is not None and not isinstance(priority, int):
        raise UsageError(f"{where}: priority must be an integer, got {priority!r}")
    return SegmentPolicy(
        service_level=level,
        service_measure=measure,
        max_delivery_days=float(days) if days is not None else None,
        priority=priority,
    )


def check_service_level(value: Any, *, where: str = "--service-level") -> float:
    """A service level strictly between 0 and 1 (``95``, from 50 to 99.99, is read as 95 %)."""
    try:
        level = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{where}: service level must be a number, got {value!r}") from None
    if 50 <= level < 100:  # written as a percentage (95 for 95 %)
        level = level / 100
    if not 0 < level < 1:
        raise UsageError(f"{where}: service level must lie strictly between 0 and 1, got {value!r}")
    return level


def check_service_measure(value: Any, *, where: str = "--service-measure") -> str:
    """``csl`` (cycle service level) or ``fill-rate``."""
    measure = str(value).strip().lower().replace("_", "-")
    if measure not in SERVICE_MEASURES:
        raise UsageError(
            f"{where}: service measure must be one of {', '.join(SERVICE_MEASURES)}, got {value!r}"
        )
    return measure


def check_preset(name: str) -> str:
    """Raise UsageError naming the presets when ``name`` is not one of them."""
    if name not in PRESETS:
        raise UsageError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return name


def _check_canonical(mapping: Mapping[str, str], *, source: str) -> None:
    unknown = [k for k in mapping if k not in ORDER_COLUMNS]
    if unknown:
        raise UsageError(
            f"{source}: unknown canonical column(s) {', '.join(unknown)}; "
            f"canonical columns are: {', '.join(ORDER_COLUMNS)}"
        )


def parse_map_options(items: Iterable[str], *, source: str = "--map") -> dict[str, str]:
    """Parse ``CANONICAL=HEADER`` pairs (also comma-separated, as in $SEGCHAIN_MAP)."""
    mapping: dict[str, str] = {}
    for item in items:
        for part in _split_pairs(item):
            if "=" not in part:
                raise UsageError(f"{source}: expected CANONICAL=HEADER, got {part!r}")
            key, _, header = part.partition("=")
            key, header = key.strip(), header.strip()
            if not key or not header:
                raise UsageError(f"{source}: expected CANONICAL=HEADER, got {part!r}")
            mapping[key] = header
    _check_canonical(mapping, source=source)
    return mapping


def _split_pairs(item: str) -> list[str]:
    # A single --map may carry a header containing commas ("Ship, Date"): only split
    # on commas that are followed by another CANONICAL= key.
    parts: list[str] = []
    for chunk in item.split(","):
        if parts and "=" not in chunk:
            parts[-1] += "," + chunk
        else:
            parts.append(chunk)
    return [p for p in parts if p.strip()]


def resolve_mapping(
    headers: Sequence[str],
    *,
    cli_map: Mapping[str, str] | None = None,
    env_map: Mapping[str, str] | None = None,
    config: Config | None = None,
    preset: str | None = None,
) -> dict[str, str]:
    """Map canonical column -> export header, by precedence cli > env > config > preset > name.

    A header named explicitly (``--map``, environment or ``[columns]``) must exist; a preset's
    candidates are tried in order and skipped when absent. Columns already carrying their
    canonical name (case-insensitively) map to themselves.

    Raises:
        UsageError: an explicit mapping names a header the file does not have.
    """
    config = config or Config()
    present = list(headers)
    by_fold = {h.casefold().strip(): h for h in present}
    mapping: dict[str, str] = {}
    explicit: list[tuple[str, str, str]] = []
    for source, layer in (
        ("--map", cli_map or {}),
        ("SEGCHAIN_MAP", env_map or {}),
        (str(config.path or "config") + " [columns]", config.columns),
    ):
        for canonical, header in layer.items():
            if canonical not in mapping:
                mapping[canonical] = header
                explicit.append((source, canonical, header))
    bad = [(s, c, h) for s, c, h in explicit if _find_header(h, present, by_fold) is None]
    if bad:
        named = "; ".join(f"{s} {c}={h!r}" for s, c, h in bad)
        raise UsageError(f"no such column: {named}. The file's headers are: {', '.join(present)}")
    mapping = {c: _find_header(h, present, by_fold) or h for c, h in mapping.items()}
    preset_name = preset or config.preset
    if preset_name:
        for canonical, candidates in PRESETS[check_preset(preset_name)].items():
            if canonical in mapping:
                continue
            for candidate in candidates:
                found = _find_header(candidate, present, by_fold)
                if found is not None:
                    mapping[canonical] = found
                    break
    used = set(mapping.values())
    for canonical in ORDER_COLUMNS:
        if canonical not in mapping:
            found = by_fold.get(canonical)
            if found is not None and found not in used:
                mapping[canonical] = found
    return mapping


def _find_header(name: str, present: Sequence[str], by_fold: Mapping[str, str]) -> str | None:
    if name in present:
        return name
    return by_fold.get(name.casefold().strip())


def env_map() -> dict[str, str]:
    """The mapping in $SEGCHAIN_MAP (``canonical=header,canonical=header``), if any."""
    value = os.environ.get("SEGCHAIN_MAP", "").strip()
    return parse_map_options([value], source="SEGCHAIN_MAP") if value else {}


def setting(cli_value: Any, config: Config, command: str, name: str, default: Any) -> Any:
    """An option's value: command line or environment (in ``cli_value``), config, default."""
    if cli_value is not None:
        return cli_value
    return config.option(command, name, default)


def policy_table(config: Config, **defaults: Any) -> PolicyTable:
    """The config's segment policy table with command-line defaults under ``"*"``."""
    clean = {k: v for k, v in defaults.items() if v is not None}
    return config.segments.with_default(**clean) if clean else config.segments


__all__ = [
    "Config",
    "PolicyTable",
    "SegmentPolicy",
    "PRESETS",
    "load_config",
    "parse_config",
    "resolve_mapping",
    "parse_map_options",
    "env_map",
    "setting",
    "policy_table",
    "check_service_level",
    "check_service_measure",
]
