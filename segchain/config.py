"""segchain.toml, presets and column mapping; the segment policy types live in ``segchain.policy``.

Precedence everywhere: command line, then environment (``SEGCHAIN_*``), then the config file,
then defaults. Typer resolves the first two (each option names its ``SEGCHAIN_*`` variable); this
module supplies the last two.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn

from segchain.errors import MAP_HINT, UsageError, title_row_hint
from segchain.formatting import agree
from segchain.policy import SERVICE_MEASURES, PolicyTable, SegmentPolicy
from segchain.schema import (
    FIXED_COST_PERIODS,
    MAX_VALUE,
    MODEL_NAMES,
    ORDER_COLUMNS,
    ORDER_ID_FROM,
    ORDER_OPTIONAL,
    ORDER_REQUIRED,
    ORDER_VALUE,
    OUTLIERS,
    SUMS_OVERFLOW,
    model_name,
)

DEFAULT_CONFIG = "segchain.toml"
# Below a quarter of an hour, a review's demand vanishes beside the lead time's in the fill-rate
# formulas (1e-300 days planned every point at 0 stock and a fill rate of 1.0).
MIN_REVIEW_DAYS = 0.01
FOUND = "working folder"  # Config.source of a ./segchain.toml nobody named

# A missing required column that either of two may fill, as missing-column messages name it.
VALUE_WANTED = "unit_price or amount"
NO_SKU_HINT = (
    "an export without a product column (one product, or none recorded) needs one: add a column "
    "sku holding the same value on every line (e.g. the product's name)"
)

# Said where order_id has no header and the customer and date have one once mapped.
ORDER_ID_MADE_HINT = (
    "order_id needs no header once customer_id and order_date are mapped: each customer's "
    "lines of one day are then one order"
)

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
        "currency": ("WAERK",),
        "unit": ("VRKME",),
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
        "currency": ("Currency", "currency_id"),
        "unit": ("Unit of Measure", "product_uom"),
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


# Stock codes that a layout uses for lines that are not products, beyond the ones that say so in
# any export (orders.NON_PRODUCT_SKUS). Online Retail: M manual, D discount, B bad-debt
# adjustment, S samples, C2 carriage, DOT dotcom postage, PADS cushion padding, CRUK charity.
PRESET_NON_PRODUCT_SKUS: dict[str, frozenset[str]] = {
    "online-retail": frozenset({"M", "D", "B", "S", "C2", "DOT", "PADS", "CRUK"}),
}


@dataclass(frozen=True)
class Config:
    """A loaded segchain.toml (or the empty default when there is none)."""

    path: Path | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    preset: str | None = None
    segments: PolicyTable = field(default_factory=PolicyTable)
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # How the file was found: "--config", "$SEGCHAIN_CONFIG" or FOUND (in the working folder).
    source: str | None = None
    sha256: str | None = None  # of the file's bytes, as read

    def describe(self) -> str:
        """One line for stderr: which file, found how, its content hash (short)."""
        if self.path is None:
            return "none (no --config, no $SEGCHAIN_CONFIG, no ./segchain.toml): defaults"
        how, shown = self.source or "given", str(self.path)
        if how == FOUND:
            how = "found in the working folder; not named by --config or $SEGCHAIN_CONFIG"
            shown = f"./{self.path}"
        digest = f", sha256 {self.sha256[:12]}" if self.sha256 else ""
        return f"{shown} ({how}){digest}"

    def record(self) -> dict[str, Any] | None:
        """What the provenance of every output records of the config (None: none was read)."""
        if self.path is None:
            return None
        return {"path": str(self.path), "source": self.source, "sha256": self.sha256}

    def option(self, command: str, name: str, default: Any = None) -> Any:
        """A command option's value from the ``[<command>]`` table, else ``default``."""
        table = self.sections.get(command, {})
        key = name.replace("-", "_")
        return table.get(key, table.get(name, default))


# ---------------------------------------------------------------------------------------------
# Every setting, declared once: the config file, the environment and the command line are checked
# by these rules, and errors name where the value came from.


@dataclass(frozen=True)
class Rule:
    """What one setting accepts.

    ``kind`` is ``int``, ``float``, ``bool``, ``str``, ``choice``, ``date``, ``pair`` (two numbers,
    a list or ``"a,b"``), ``names`` (``"a,b"`` or a list of texts, read as ``"a,b"``),
    ``numbers`` (``"80,95"``, a number or a list of numbers, read as ``"80,95"``), ``level``
    (a service level) or ``text`` (free text or a number kept as text). ``low``/``high`` bound
    numbers (``low_open``: strictly above ``low``; ``high_open``: strictly below ``high``).
    ``check``, when given, is the setting's own rule beyond its kind: it takes the value (already
    of its kind) and returns it (normalised) or raises ``Invalid``; ``expect`` then says what it
    accepts.
    """

    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    env: str | None = None
    why_high: str = ""
    check: Callable[[Any], Any] | None = None
    expect: str = ""

    def describe(self) -> str:
        if self.expect:
            return self.expect
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind in ("int", "float"):
            noun = "a whole number" if self.kind == "int" else "a number"
            bounds = []
            if self.low is not None:
                bounds.append(f"{'>' if self.low_open else '>='} {self.low:g}")
            return noun + (" " + " and ".join(bounds) if bounds else "")
        return {
            "bool": "true or false",
            "date": "a date like 2024-03-31",
            "pair": "two numbers separated by a comma, e.g. 0.8,0.95",
            "level": "a service level between 0 and 1 (or 50-99.99 for percent)",
            "str": "a text value",
            "names": "names separated by commas, or a list of names",
            "text": "a text value or number",
        }.get(self.kind, self.kind)


def _int(low: float | None = None, high: float | None = None, **kw: Any) -> Rule:
    return Rule("int", low, high, **kw)


def _float(low: float | None = None, high: float | None = None, **kw: Any) -> Rule:
    return Rule("float", low, high, **kw)


def _choice(*choices: str, env: str | None = None) -> Rule:
    return Rule("choice", choices=choices, env=env)


class Invalid(ValueError):
    """A value of the right kind that breaks its setting's own rule (see ``Rule.check``).

    ``reason`` completes ``<where>: ...``; ``got``: whether the message adds ``, got <value>``.
    """

    def __init__(self, reason: str, *, hint: str | None = None, got: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint
        self.got = got


def _abc_cutoffs(value: tuple[float, float]) -> tuple[float, float]:
    a, b = value
    # A value of 0 or below is no share either (-5,95 was said to mix a share, -5, and a
    # percent): it is refused as out of range below.
    if 0 < min(a, b) <= 1 < max(a, b):
        # 0.8,95 read as 0.8 % and 95 % made 1 A customer where 80,95 makes 32: a typo, not a
        # choice, as 80,0.95 (refused below) is.
        raise Invalid(
            f"mixes a share ({min(a, b):g}) and a percent ({max(a, b):g}): give both as shares "
            "(e.g. 0.8,0.95) or both in percent (80,95)"
        )
    if max(a, b) > 1:  # given in percent: 80,95
        a, b = a / 100, b / 100
    if not 0 < a < b <= 1:
        raise Invalid("must be two shares 0 < A < B <= 1 (e.g. 0.8,0.95, or 80,95 in percent)")
    return a, b


def _xyz_cutoffs(value: tuple[float, float]) -> tuple[float, float]:
    x, y = value
    if not 0 < x < y:
        raise Invalid("must be two coefficients of variation 0 < X < Y (e.g. 0.5,1.0)")
    return x, y


def _n_jobs(value: int) -> int:
    # 0 processes is no run: the local engine split the series into 0 parts (a traceback).
    if value == 0:
        raise Invalid("must be -1 (every core) or a whole number of processes >= 1")
    return value


LEVELS_HINT = "give one or more levels separated by commas, e.g. 80,95"


def interval_levels(value: Any) -> list[int | float]:
    """Prediction-interval levels from ``80,95`` (text), ``95`` (a number) or a list: sorted,
    each a percentage from 1 to under 100 (0.95 is refused: a share meant as 95 %).

    Raises:
        Invalid: a level is not such a number, is below 1, or none is given.
    """
    items: Sequence[Any]
    if isinstance(value, str):
        items = [s.strip() for s in value.split(",") if s.strip()]
    elif isinstance(value, int | float) and not isinstance(value, bool):
        items = [value]
    elif isinstance(value, list | tuple):
        items = value
    else:
        items = [value]
    out: list[int | float] = []
    bad, shares = [], []
    for item in items:
        try:
            v = float(item) if not isinstance(item, bool) else math.nan
        except (TypeError, ValueError):
            v = math.nan
        if not 0 < v < 100:  # NaN fails too
            bad.append(str(item))
            continue
        if v < 1:  # 0.95, a share as a service level is written, drew a 0.95 % interval
            shares.append(v)
        out.append(int(v) if v.is_integer() else v)
    if shares and not bad:
        s = "s" if len(shares) > 1 else ""
        meant = ",".join(f"{v * 100 if v < 1 else v:g}" for v in sorted(set(out)))
        raise Invalid(
            f"{', '.join(f'{v:g}' for v in shares)} would draw {'' if s else 'an '}interval{s} "
            f"of {' and '.join(f'{v:g} %' for v in shares)}",
            hint=f"levels are percentages: give {meant}",
            got=False,
        )
    if bad or not out:
        what = f"{', '.join(bad)} is not" if bad else "no level given: give"
        raise Invalid(
            f"{what} a percentage strictly between 0 and 100", hint=LEVELS_HINT, got=False
        )
    return sorted(set(out))


def _levels(value: Any) -> Any:
    interval_levels(value)
    return value


MODELS_HINT = (
    f"use auto or a comma-separated list of {', '.join(MODEL_NAMES)} "
    "(WindowAverage4: a 4-period moving average)"
)


def forecast_models(value: Any) -> list[str] | None:
    """``auto`` -> None: models routed by demand class; else the named models in their
    canonical spelling, each once (``"AutoETS,naive"`` or a list).

    Raises:
        Invalid: a name that is no model; no name at all.
    """
    items = (
        [s.strip() for s in value.split(",") if s.strip()]
        if isinstance(value, str)
        else [str(m).strip() for m in value]
    )
    if not items:
        # An unset shell variable (--models "$MODELS") ran every model, as auto, unsaid.
        raise Invalid("no model given: give auto or model names", hint=MODELS_HINT, got=False)
    if items == ["auto"]:
        return None
    unknown = [m for m in items if model_name(m) is None]
    if unknown:
        s = "s" if len(unknown) > 1 else ""
        raise Invalid(f"unknown model{s} {', '.join(unknown)}", hint=MODELS_HINT, got=False)
    return list(dict.fromkeys(k for m in items if (k := model_name(m)) is not None))


def _models(value: str) -> str:
    forecast_models(value)
    return value


# Columns a forecast series may be keyed by: the segment and the order lines' canonical columns.
BY_COLUMNS = ("segment", *ORDER_COLUMNS)


def _by(value: str) -> str:
    names = [b.strip() for b in value.split(",")]
    if not any(names) or not all(names):
        raise Invalid(
            "must name columns separated by commas, e.g. segment,sku",
            hint="name each column once; leave no empty name between commas",
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise Invalid(f"repeats the column {', '.join(repeated)}; name each column once")
    unknown = [n for n in names if n not in BY_COLUMNS]
    if unknown:
        raise Invalid(
            f"unknown column {unknown[0]!r}{did_you_mean(unknown[0], BY_COLUMNS)}",
            # The keys that make sense first: a list of every order-line column put quantity
            # and order_date beside sku as if they were.
            hint="series are keyed by segment and sku (the default), and by site, country or "
            f"customer_id; any order-line column is accepted: {', '.join(BY_COLUMNS[1:])}",
            got=False,
        )
    return value


def _compare_uniform(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("equal", "keep"):
        return value.strip().lower()
    try:
        check_service_level(value)
    except UsageError:
        raise Invalid(
            "must be equal, keep or a service level between 0 and 1 (or 50-99.99 for percent)"
        ) from None
    return value


# Stock's policy families: (s, Q) continuous review, (R, S) periodic review.
POLICY_TYPES = ("sQ", "RS")


def _policy(value: str) -> str:
    word = "".join(ch for ch in value if ch not in ", ()").lower()
    if word not in {p.lower() for p in POLICY_TYPES}:
        raise Invalid(f"must be one of {', '.join(POLICY_TYPES)} (s,Q and R,S too)")
    return value


# The strptime/chrono directives a date format may use.
STRPTIME_DIRECTIVES = frozenset("aAbBcCdDeFgGhHIjklmMnpPrRsStTuUVwWxXyYzZfL%+.:3692t")
DATE_ORDERS = {
    "day-first": "day-first",
    "dayfirst": "day-first",
    "dmy": "day-first",
    "month-first": "month-first",
    "monthfirst": "month-first",
    "mdy": "month-first",
}
DATE_FORMAT_HINT = (
    "use strptime directives such as %d/%m/%Y or %Y-%m-%d, or day-first / month-first"
)


def date_format_order(value: str) -> str | None:
    """``day-first`` or ``month-first`` when a date format names a date order, else None."""
    return DATE_ORDERS.get(value.strip().lower().replace("_", "-"))


def check_date_format(value: str) -> str:
    """A date order (``day-first``, ``month-first``) or a strptime format of known directives.

    Raises:
        Invalid: an unknown directive (``%Q``), or text that is neither.
    """
    import re

    if not value.strip() or date_format_order(value):
        return value  # blank: detected from the data
    bad = [d for d in re.findall(r"%[-_0^#]?(.)", value) if d not in STRPTIME_DIRECTIVES]
    if bad:
        raise Invalid(f"unknown directive {', '.join('%' + d for d in bad)}", hint=DATE_FORMAT_HINT)
    if "%" not in value:
        raise Invalid(
            "give a strptime format such as %d/%m/%Y, or day-first / month-first",
            hint=DATE_FORMAT_HINT,
        )
    # A directive of a whole date or of a year: %F is %Y-%m-%d, %D %m/%d/%y, %s seconds since
    # 1970, %c and %+ a date and time.
    if not re.search(r"%[-_0^#]?[YyGgCFDcxs+]", value):
        raise Invalid(
            "it has no year (%Y, %y), so no date can be read with it", hint=DATE_FORMAT_HINT
        )
    import polars as pl

    try:
        # As orders.parse_dates reads the column with it: the format is polars' to refuse.
        sample = pl.Series(["2024-01-01"])
        sample.str.strptime(pl.Datetime, value, strict=False)
        sample.str.strptime(pl.Date, value, strict=False)
    except pl.exceptions.PolarsError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise Invalid(
            f"polars cannot read dates with it ({first})", hint=DATE_FORMAT_HINT
        ) from None
    return value


def _sheet(value: Any) -> str:
    # A number in the config (sheet = 2) is a position as "2" is on the command line; a sheet
    # called "2" would still win (tableio.choose_sheet).
    if isinstance(value, float) or not str(value).strip():
        raise Invalid("give a sheet's name or its position counted from 1")
    return str(value)


SEED = _int(0, 2**32 - 1, env="SEGCHAIN_SEED")

SETTINGS: dict[str, dict[str, Rule]] = {
    "orders": {
        "returns": _choice("net", "keep", "drop", env="SEGCHAIN_RETURNS"),
        "date_format": Rule(
            "str",
            env="SEGCHAIN_DATE_FORMAT",
            check=check_date_format,
            expect="day-first, month-first or a strptime format such as %d/%m/%Y",
        ),
        "sheet": Rule(
            "text",
            env="SEGCHAIN_SHEET",
            check=_sheet,
            expect="a sheet's name or its position counted from 1",
        ),
    },
    "segment": {
        "method": _choice("rfm", "kmeans", "abc-xyz", env="SEGCHAIN_SEGMENT_METHOD"),
        "k": _int(2, 50),
        "as_of": Rule("date"),
        "clv": Rule("bool"),
        "clv_horizon": _int(1, 3660, why_high="ten years"),
        "abc_cutoffs": Rule("pair", check=_abc_cutoffs),
        # Its own example: a bad value was shown abc's, 'e.g. 0.8,0.95', coefficients that
        # put nearly every customer in Z.
        "xyz_cutoffs": Rule(
            "pair", check=_xyz_cutoffs, expect="two numbers separated by a comma, e.g. 0.5,1.0"
        ),
        "seed": SEED,
    },
    "forecast": {
        "freq": _choice("D", "W", "M", env="SEGCHAIN_FREQ"),
        # Its upper bound depends on --freq (ten years ahead: 3,660 days, 522 weeks, 120
        # months), checked with it; a bound here named 3,660 at every frequency.
        "horizon": _int(1),
        "level": Rule(
            "numbers", check=_levels, expect="percentages between 0 and 100, e.g. 80,95 (or a list)"
        ),
        "by": Rule("names", check=_by),
        "models": Rule(
            "names", check=_models, expect="auto or model names separated by commas (or a list)"
        ),
        "engine": _choice("local", "dask", "ray", "spark", env="SEGCHAIN_ENGINE"),
        "address": Rule("str", env="SEGCHAIN_ADDRESS"),
        "n_jobs": _int(
            -1, 4096, check=_n_jobs, expect="-1 (every core) or a whole number of processes >= 1"
        ),
        "outliers": _choice(*OUTLIERS),
        "reconcile": _choice("auto", "none", "bottom-up", "mint", "top-down"),
        "as_of": Rule("date"),
        "seed": SEED,
    },
    "stock": {
        "service_level": Rule("level", env="SEGCHAIN_SERVICE_LEVEL"),
        "service_measure": _choice(*SERVICE_MEASURES, env="SEGCHAIN_SERVICE_MEASURE"),
        "review_days": _float(
            MIN_REVIEW_DAYS,
            3660,
            why_high="ten years",
            expect=f"a number of days from {MIN_REVIEW_DAYS:g} (about a quarter of an hour) "
            "to 3660",
        ),
        "policy": Rule("str", check=_policy),
        "lead_time_days": _float(0, 3660, why_high="ten years"),
        "blend": _choice("weighted", "max"),
        "compare_uniform": Rule(
            "text",
            check=_compare_uniform,
            expect="equal, keep or a service level between 0 and 1 (or 50-99.99 for percent)",
        ),
        "rationing": _choice("critical-level", "none"),
        "simulate": _int(1, 100_000, why_high="more periods add no precision"),
        "n_jobs": _int(
            -1, 4096, check=_n_jobs, expect="-1 (every core) or a whole number of processes >= 1"
        ),
        "seed": SEED,
    },
    "network": {
        "sites": Rule("str"),
        "candidates": _int(1, 100_000),
        "costs": Rule("str"),
        "open": _int(1, 100_000),
        "allow_split": Rule("bool"),
        # At least 1 km a day: 1e-300 gave transit times of 1e302 days without a word.
        "km_per_day": _float(1, 1e6, env="SEGCHAIN_KM_PER_DAY"),
        "cost_per_unit_km": _float(0, 1e12, env="SEGCHAIN_COST_PER_UNIT_KM"),
        "time_limit": _float(0, 1e7, low_open=True, env="SEGCHAIN_TIME_LIMIT"),
        # As the solver takes it: a gap of 1 (100 %) stops at any plan; network refused it, while
        # every other command read a config holding it.
        "gap": _float(0, 1, high_open=True),
        # 0: no limit (HiGHS's own default).
        "node_limit": _int(
            0, 1e12, env="SEGCHAIN_NODE_LIMIT", expect="a whole number >= 0 (0: no limit)"
        ),
        "max_points": _int(1, 10_000_000),
        "skip_unlocated": Rule("bool"),
        # What a site's fixed_cost is a cost of: the orders' span, or a year (schema).
        "fixed_cost_period": _choice(*FIXED_COST_PERIODS, env="SEGCHAIN_FIXED_COST_PERIOD"),
        "seed": SEED,
    },
    "costs": {
        # Up to 1e15, as every cost and price segchain reads: 1e308 an order summed to inf.
        "cost_per_order": _float(0, MAX_VALUE, why_high=SUMS_OVERFLOW),
        "cost_per_line": _float(0, MAX_VALUE, why_high=SUMS_OVERFLOW),
        "cost_per_return": _float(0, MAX_VALUE, why_high=SUMS_OVERFLOW),
        "holding_rate": _float(0, 100, low_open=True),
    },
}

# Tables that hold other things than settings, and top-level keys.
STRUCTURE_TABLES = ("columns", "segments")
TOP_LEVEL_KEYS = ("preset",)


# Settings read from the environment only: no option, no config key; checked like the others.
ENVIRONMENT: dict[str, Rule] = {
    # At least a second: the heartbeat line counts whole seconds, so a shorter interval only
    # repeats it ("0s elapsed" a thousand times a second at 0.001) and floods the log.
    "SEGCHAIN_HEARTBEAT": Rule(
        "float",
        1,
        86_400,
        why_high="a day",
        expect="a number of seconds from 1 to 86400 (a day)",
    ),
}
ENVIRONMENT_HINTS = {
    "SEGCHAIN_HEARTBEAT": "unset it for the default (30 seconds), or give seconds, e.g. "
    "SEGCHAIN_HEARTBEAT=60",
}


def env_setting(name: str, default: Any) -> Any:
    """The value of the environment-only setting ``name``, checked, else ``default`` (unset or
    empty).

    Raises:
        UsageError: the value does not fit the declared rule (exit 2), naming the variable.
    """
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return check_rule(ENVIRONMENT[name], value, where=f"${name}")
    except UsageError as exc:
        raise UsageError(exc.message, hint=ENVIRONMENT_HINTS.get(name)) from None


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest known name, or nothing."""
    import difflib

    known = list(known)
    folded = {k.casefold().replace("-", "_"): k for k in known}
    match = difflib.get_close_matches(name.casefold().replace("-", "_"), folded, n=1, cutoff=0.6)
    return f" (did you mean {folded[match[0]]!r}?)" if match else ""


POLICY_KEYS = ("service_level", "service_measure", "max_delivery_days", "priority")
"""The settings of a ``[segments."<label>"]`` table."""


def misplaced(key: str, table: str | None) -> str:
    """Where an unknown ``key`` of ``[table]`` (None: the top level) belongs, if anywhere: TOML
    reads every key below a ``[table]`` line as that table's, so ``preset`` written after one is
    that table's unknown setting, and a command's setting above every table (``horizon = 4``) an
    unknown top-level one; both were refused without a word of where they go. "" when the key
    belongs nowhere else."""
    norm = key.replace("-", "_")
    if table is not None and norm in TOP_LEVEL_KEYS:
        return (
            f"{key!r} is a top-level setting, read here as one of [{table}] because TOML reads "
            "every key below a [table] line as that table's: write it above the first [table] "
            "line"
        )
    owners = [f"[{name}]" for name, rules in SETTINGS.items() if name != table and norm in rules]
    if norm in POLICY_KEYS and not (table or "").startswith("segments"):
        owners.append('[segments."<label>"]')
    if not owners:
        return ""
    where = owners[0] if len(owners) == 1 else f"{', '.join(owners[:-1])} or {owners[-1]}"
    line = f"the {owners[0]} line" if len(owners) == 1 else "the line of each table it is for"
    return f"{key!r} is a setting of {where}: write it below {line}"


def _number_text(value: Any) -> bool:
    """True for a string that reads as a number ("8", " 2.5"): other text is refused as not a
    number by the setting's own rule."""
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


def check_setting(table: str, key: str, value: Any, *, where: str) -> Any:
    """``value`` checked against the declared rule of ``[table] key`` (converted where needed).

    Args:
        where: how the message names the value's source, e.g. ``s.toml [network] km_per_day``,
            ``--km-per-day`` or ``$SEGCHAIN_KM_PER_DAY``.

    Raises:
        UsageError: the value does not fit the rule (exit 2).
    """
    return check_rule(SETTINGS[table][key], value, where=where)


def check_rule(rule: Rule, value: Any, *, where: str) -> Any:
    """``value`` checked against ``rule`` (converted where needed); see ``check_setting``."""
    checked = _check_kind(rule, value, where=where)
    if rule.check is None:
        return checked
    try:
        return rule.check(checked)
    except Invalid as exc:
        got = f", got {_got(value)}" if exc.got else ""
        raise UsageError(f"{where}: {exc.reason}{got}", hint=exc.hint) from None


def _shown(value: Any) -> Any:
    return value if not isinstance(value, str) or len(value) <= 60 else value[:57] + "..."


def _got(value: Any) -> str:
    """A value refused, as the config file writes it: ``true``, ``1979-05-27``, ``[true]``
    (Python's ``True`` and ``datetime.date(1979, 5, 27)`` were shown of a TOML file); text
    quoted, as the command line and environment give it."""
    import datetime as dt

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_got(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_got(v)}" for k, v in value.items()) + "}"
    return repr(_shown(value))


def _check_kind(rule: Rule, value: Any, *, where: str) -> Any:
    def bad(reason: str | None = None) -> UsageError:
        text = reason or f"must be {rule.describe()}"
        return UsageError(f"{where}: {text}, got {_got(value)}")

    kind = rule.kind
    if kind in ("int", "float"):
        number: float
        if isinstance(value, bool):
            raise bad()
        if isinstance(value, str):  # from the environment
            try:
                number = int(value) if kind == "int" else float(value)
            except ValueError:
                raise bad() from None
        elif isinstance(value, int | float):
            number = value
        else:
            raise bad()
        if kind == "int" and isinstance(number, float):
            if not number.is_integer():
                raise bad()
            number = int(number)
        if number != number or number in (float("inf"), float("-inf")):
            raise bad(f"must be a finite number ({rule.describe()})")
        low, high = rule.low, rule.high
        if low is not None and (number < low or (rule.low_open and number == low)):
            raise bad()
        if high is not None and (number > high or (rule.high_open and number == high)):
            why = f" ({rule.why_high})" if rule.why_high else ""
            # A whole number's bound in full: 4.29497e+09 read as less than 4294970000.
            shown = f"{int(high):,}" if kind == "int" else f"{high:g}"
            raise bad(f"must be {'below' if rule.high_open else 'at most'} {shown}{why}")
        return number
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad()
        return value
    if kind == "choice":
        text = str(value).strip() if isinstance(value, str) else None
        if text is None:
            raise bad()
        for choice in rule.choices:
            if text.casefold().replace("_", "-") == choice.casefold().replace("_", "-"):
                return choice
        raise bad(f"must be one of {', '.join(rule.choices)}{did_you_mean(text, rule.choices)}")
    if kind == "level":
        try:
            return check_service_level(value, where=where)
        except UsageError:
            raise bad() from None
    if kind == "date":
        import datetime as dt

        if isinstance(value, dt.datetime):
            # A TOML date-time: its day, when it names no time of day. A time was dropped
            # without a word (the lines of that morning left out all the same), where
            # --as-of refuses one.
            if value.time() != dt.time(0) or value.tzinfo is not None:
                raise bad(f"must be {rule.describe()}, a day without a time")
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise bad() from None
    if kind == "pair":
        parts = value if isinstance(value, list | tuple) else str(value).split(",")
        try:
            numbers = [float(p) for p in parts if not isinstance(p, bool)]
        except (TypeError, ValueError):
            numbers = []
        if (
            len(numbers) != 2
            or len(parts) != 2
            or any(n != n or abs(n) == float("inf") for n in numbers)
        ):
            raise bad()
        return numbers[0], numbers[1]
    if kind == "str":
        if not isinstance(value, str):
            raise bad()
        return value
    if kind == "names":
        # A TOML list of names, as level and the cutoffs take one, is the text the option takes.
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return ",".join(value)
        if not isinstance(value, str):
            raise bad()
        return value
    if kind == "numbers":
        # A TOML list of numbers (level = [80, 95]) is the text the option takes, "80,95".
        def one(v: Any) -> bool:
            return isinstance(v, str | int | float) and not isinstance(v, bool)

        if isinstance(value, list) and value and all(one(v) for v in value):
            return ",".join(str(v) for v in value)
        if not one(value):
            raise bad()
        return value
    if kind == "text":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise bad()
        return value
    raise AssertionError(f"unknown rule kind {kind!r}")


def check_tables(raw: Mapping[str, Any], *, source: str) -> dict[str, dict[str, Any]]:
    """Every settings table of a parsed config, checked; unknown tables and keys refused."""
    known_tables = [*SETTINGS, *STRUCTURE_TABLES]
    problems: list[str] = []
    sections: dict[str, dict[str, Any]] = {}
    for name, table in raw.items():
        if name in STRUCTURE_TABLES or name in TOP_LEVEL_KEYS:
            continue
        if name not in SETTINGS:
            known = known_tables + list(TOP_LEVEL_KEYS)
            if isinstance(table, dict):
                problems.append(f"{source}: unknown table [{name}]{did_you_mean(name, known)}")
            else:
                problems.append(
                    f"{source}: unknown top-level setting {name!r}"
                    + (
                        f"; {there}"
                        if (there := misplaced(name, None))
                        else did_you_mean(name, known)
                    )
                )
            continue
        if not isinstance(table, dict):
            problems.append(f"{source}: {name} must be a table ([{name}]), got {_got(table)}")
            continue
        rules = SETTINGS[name]
        checked: dict[str, Any] = {}
        for key, value in table.items():
            norm = key.replace("-", "_")
            if norm not in rules:
                there = misplaced(key, name)
                problems.append(
                    f"{source} [{name}]: unknown setting {key!r}"
                    + (
                        f"; {there}"
                        if there
                        else f"{did_you_mean(key, rules)}; known: {', '.join(rules)}"
                    )
                )
                continue
            if rules[norm].kind in ("int", "float") and _number_text(value):
                # Text is read as a number from the environment only; in TOML, "8" is a string
                # where a number was meant (cost_per_order = "8" was taken as 8 without a word,
                # "8,5" refused).
                problems.append(
                    f"{source} [{name}] {key}: must be {rules[norm].describe()}, written "
                    f"without quotes, got {_got(value)}"
                )
                continue
            try:
                checked[norm] = check_setting(name, norm, value, where=f"{source} [{name}] {key}")
            except UsageError as exc:
                problems.append(exc.message)
        sections[name] = checked
    if problems:
        raise UsageError("\n".join(problems) if len(problems) > 1 else problems[0])
    return sections


def option_name(key: str) -> str:
    """The command-line option of a setting: ``km_per_day`` is ``--km-per-day``."""
    return "--" + key.replace("_", "-")


def load_config(path: str | Path | None = None, *, stdin_table: str | None = None) -> Config:
    """Load ``path``, else $SEGCHAIN_CONFIG, else ./segchain.toml if present, else defaults.

    The Config records where the file came from (``source``) and the sha256 of its bytes.
    ``stdin_table``: the table the command reads from stdin (``--sites <stdin>``), if any.

    Raises:
        UsageError: the named file is missing, is not valid TOML, or holds invalid values; it
            is stdin, which ``stdin_table`` reads.
    """
    env_config = os.environ.get("SEGCHAIN_CONFIG") or None
    explicit = path if path is not None else env_config
    if explicit is None:
        candidate = Path(DEFAULT_CONFIG)
        # A link whose target is gone is a config meant and not found (a shared segchain.toml
        # moved): it was passed over as no config, and the run took the defaults unsaid.
        if not candidate.exists() and not candidate.is_symlink():
            return Config()
        # Nobody named it, so it is named here: "./segchain.toml", not a bare file name.
        file, via = Path(".", DEFAULT_CONFIG), f"./{DEFAULT_CONFIG} (found in the working folder)"
        source = FOUND
    else:
        file = Path(explicit)
        # Typer passes $SEGCHAIN_CONFIG in as the option's value: tell the two apart.
        source = "--config" if path is not None and str(path) != env_config else "$SEGCHAIN_CONFIG"
        via = f"{source} {file}"
    if stdin_table is not None:
        _refuse_shared_stdin(str(file), via, stdin_table)
    data = _read_config_bytes(file, label=via)
    text = _config_text(data, label=via)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{via}: not a valid TOML file: {exc}") from None
    # tomllib reads nested arrays and tables by recursion, and Python refuses to read an integer
    # of more than 4,300 digits: both ended in a traceback, no config holds either.
    except RecursionError:
        raise UsageError(
            f"{via}: not a segchain.toml: values nested too deeply to read",
            hint="a segchain.toml nests a table or a list a level or two: check the file",
        ) from None
    except ValueError as exc:
        if "digits" not in str(exc):
            raise
        raise UsageError(
            f"{via}: not a segchain.toml: a whole number too long to read (thousands of digits)",
            hint="give the setting a number of a sensible size",
        ) from None
    config = parse_config(raw, source=str(file), path=file)
    import hashlib

    return replace(config, source=source, sha256=hashlib.sha256(data).hexdigest())


def _refuse_shared_stdin(file: str, via: str, table: str) -> None:
    """Refuse a config read from stdin beside a table read from it: one stdin cannot be both.
    The config, read first, took the table's lines ('not a valid TOML file: Expected '=' after
    a key'), or the table found stdin empty once the config had been read.

    Raises:
        UsageError: ``file`` is stdin.
    """
    from segchain.tableio import reads_stdin

    if reads_stdin(file):
        raise UsageError(
            f"{via} and {table} both read stdin, which holds one of them only",
            hint="save the config to a file and give --config that file (or the table as a file)",
        )


MAX_CONFIG_BYTES = 1 << 20


def _read_config_bytes(file: Path, *, label: str) -> bytes:
    """The bytes of a config file (or a pipe's); a folder, a device, a socket or a huge file is
    a usage error; '-' is stdin's."""
    import stat

    if str(file) == "-":
        return _read_config_stdin(label=label)
    try:
        st = file.stat()
    except FileNotFoundError:
        if file.is_symlink():
            raise UsageError(
                f"{label}: a symbolic link to {os.readlink(file)}, which does not exist",
                hint="point the link at the config file, or remove the link",
            ) from None
        raise UsageError(f"{label}: config file does not exist") from None
    except OSError as exc:
        raise UsageError(f"{label}: cannot read the config file: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{label}: is a folder, not a config file", hint="name a segchain.toml")
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        raise UsageError(f"{label}: is a device, not a config file", hint="name a segchain.toml")
    # A pipe is read: a config is read once, in one go, so `--config <(sed ... segchain.toml)`
    # (process substitution: /dev/fd/63, a pipe) works as a file does.
    if stat.S_ISSOCK(st.st_mode):
        raise UsageError(f"{label}: is a socket, not a config file", hint="name a segchain.toml")
    try:
        with open(file, "rb") as stream:
            data = stream.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"{label}: cannot read the config file: {exc.strerror}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise UsageError(f"{label}: larger than 1 MiB: not a segchain.toml")
    return data


def _read_config_stdin(*, label: str) -> bytes:
    """The bytes of a config piped in on stdin (``--config -``), as a table's '-' is read:
    '-' was looked for as a file of that name ('config file does not exist')."""
    import sys

    stream = sys.stdin
    if stream is None:  # fd 0 closed (`<&-`): Python has no stdin
        raise UsageError(
            f"{label}: stdin is closed: there is no config to read on it",
            hint="give --config a file, or pipe the config in: cat segchain.toml | segchain ...",
        )
    if stream.isatty():
        raise UsageError(
            f"{label}: refusing to wait for a config typed at the terminal on stdin",
            hint="give --config a file, or pipe the config in: cat segchain.toml | segchain ...",
        )
    try:
        data = stream.buffer.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"{label}: cannot read the config on stdin: {exc.strerror}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise UsageError(f"{label}: larger than 1 MiB: not a segchain.toml")
    return data


# Byte order marks of the Unicode text a Windows editor saves ('Unicode' in Notepad is UTF-16):
# UTF-32's first, as its little-endian mark starts with UTF-16's.
_WIDE_MARKS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def _config_text(data: bytes, *, label: str) -> str:
    # A config saved as UTF-16 was 'not a text file (not UTF-8)', while the tables beside it
    # are read in UTF-16 as in UTF-8.
    codec = next((c for mark, c in _WIDE_MARKS if data.startswith(mark)), "utf-8")
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        if codec != "utf-8":
            raise UsageError(
                f"{label}: not a segchain.toml: it starts as {codec.upper()} text, but its "
                "bytes are not",
                hint="save it again as UTF-8",
            ) from None
        raise UsageError(f"{label}: not a text file (not UTF-8): not a segchain.toml") from None
    text = text.removeprefix("\ufeff")  # Windows editors save UTF-8 with a BOM
    if "\x00" in text:
        raise UsageError(f"{label}: a binary file, not a segchain.toml")
    return text


def parse_config(
    raw: Mapping[str, Any], *, source: str = "config", path: Path | None = None
) -> Config:
    """Build a Config from a parsed TOML document, checking every value."""
    columns = raw.get("columns", {})
    if not isinstance(columns, dict):
        # 'must map canonical names to header strings' named neither the key nor the value.
        raise UsageError(
            f"{source}: columns must be a table of canonical names and the export's headers, "
            f"got {_got(columns)}",
            hint='write a [columns] line, then one line per column: quantity = "Menge"',
        )
    for key, header in columns.items():
        if not isinstance(header, str):
            raise UsageError(
                f"{source} [columns] {key}: must be the export's header, as text, got "
                f"{_got(header)}",
                hint=f'write the one header it is read from, in quotes: {key} = "Menge"',
            )
    _check_canonical(columns, source=f"{source} [columns]", table="columns")
    for key, header in columns.items():
        # As --map sku= and an empty sheet or preset are refused: an empty header mapped the
        # column to a blank one (an export's trailing delimiter), every line's value blank.
        if not header.strip():
            raise UsageError(
                f"{source} [columns] {key}: the header is empty, got {header!r}",
                hint=f"give the export's header for {key}, or delete the line to read {key} "
                "under its own name; a column without a header cannot be mapped: name it in "
                "the export",
            )
    preset = raw.get("preset")
    if preset is not None:
        if not isinstance(preset, str):
            raise UsageError(f"{source}: preset must be a text value, got {_got(preset)}")
        try:
            preset = check_preset(preset)
        except UsageError as exc:
            raise UsageError(f"{source}: {exc.message}{did_you_mean(preset, PRESETS)}") from None
    segments_raw = raw.get("segments", {})
    if not isinstance(segments_raw, dict):
        raise UsageError(f'{source}: [segments] must hold tables like [segments."Champions"]')
    blank = [label for label in segments_raw if not str(label).strip()]
    if blank:
        raise UsageError(
            f'{source}: [segments."{blank[0]}"]: a segment label cannot be empty',
            hint='name the segment the policy is for, e.g. [segments."Champions"]; '
            'use [segments."*"] for every segment',
        )
    seen: dict[str, str] = {}
    for label in map(str, segments_raw):
        # A segment's policy is found whatever its capitals (PolicyTable.for_segment): of two
        # such tables one was never read, and which one depended on the segment's spelling.
        first = seen.setdefault(label.casefold(), label)
        if first != label:
            raise UsageError(
                f'{source}: [segments."{first}"] and [segments."{label}"] name one segment in '
                "other capitals (a segment's policy is found whatever its capitals)",
                hint="keep one of the two tables, with the settings meant for that segment",
            )
    loose = [label for label, table in segments_raw.items() if not isinstance(table, dict)]
    if loose:
        # [segments] service_level = 0.9 was named as a table [segments."service_level"].
        raise UsageError(
            f"{source} [segments]: {', '.join(map(repr, loose))} "
            f"{agree(len(loose), 'is', 'are')} written in [segments] itself, which holds one "
            'table per segment: write a setting below [segments."*"] (every segment) or '
            '[segments."<label>"] (one segment, as the segments table names it)',
        )
    policies = {
        str(label): parse_policy(table, where=f'{source} [segments."{label}"]')
        for label, table in segments_raw.items()
    }
    sections = check_tables(raw, source=source)
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
    known = set(POLICY_KEYS)
    unknown = sorted(set(table) - known)
    if unknown:
        hints = "".join(did_you_mean(u, known) for u in unknown[:1])
        there = [t for u in unknown if (t := misplaced(u, where.rpartition("[")[2].rstrip("]")))]
        raise UsageError(
            f"{where}: unknown {agree(len(unknown), 'setting', 'settings')} "
            f"{', '.join(unknown)}{hints}; "
            f"known: {', '.join(sorted(known))}" + "".join(f"; {t}" for t in there)
        )
    level = table.get("service_level")
    if level is not None:
        level = check_service_level(level, where=where)
    measure = table.get("service_measure")
    if measure is not None:
        measure = check_service_measure(measure, where=where)
    days = table.get("max_delivery_days")
    if days is not None and (
        isinstance(days, bool)
        or not isinstance(days, int | float)
        or not math.isfinite(days)
        or days < 0
    ):
        raise UsageError(
            f"{where}: max_delivery_days must be a finite number >= 0, got {_got(days)}"
        )
    if days is not None and days > 3660:
        # 1e308 was taken and printed as a 309-digit promise in network's table; lead times and
        # horizons stop at ten years too.
        raise UsageError(
            f"{where}: max_delivery_days must be at most 3660 (ten years), got {_got(days)}",
            hint="give the delivery promise in days, e.g. 2; leave it out for no promise",
        )
    priority = table.get("priority")
    if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)):
        raise UsageError(f"{where}: priority must be an integer, got {_got(priority)}")
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
        raise UsageError(f"{where}: service level must be a number, got {_got(value)}") from None
    if 50 <= level < 100:  # written as a percentage (95 for 95 %)
        level = level / 100
    if not 0 < level < 1:
        raise UsageError(
            f"{where}: service level must lie strictly between 0 and 1, got {_got(value)}"
        )
    return level


def check_service_measure(value: Any, *, where: str = "--service-measure") -> str:
    """``csl`` (cycle service level) or ``fill-rate``."""
    measure = str(value).strip().lower().replace("_", "-")
    if measure not in SERVICE_MEASURES:
        raise UsageError(
            f"{where}: service measure must be one of {', '.join(SERVICE_MEASURES)}, got {value!r}"
        )
    return measure


def check_preset(name: str, *, where: str | None = None) -> str:
    """The preset ``name`` names, in any capitals (``SAP`` is ``sap``, as ``--method RFM`` is
    ``rfm``); UsageError naming the presets when it names none; ``where`` names the value's
    source (``--preset``, ``$SEGCHAIN_PRESET``) with the closest preset."""
    if name.lower() in PRESETS:
        return name.lower()
    head = (
        f"{where}: unknown preset {name!r}{did_you_mean(name, PRESETS)}"
        if where
        else (f"unknown preset {name!r}")
    )
    raise UsageError(f"{head}; choose one of: {', '.join(PRESETS)}")


def preset_found_none(name: str, headers: Sequence[str]) -> str | None:
    """What to say when the preset ``name`` finds none of the headers it reads among
    ``headers`` (an SAP list saved with its screen's labels, read with --preset sap: SAP's field
    names are not there); None when it finds one."""
    preset = check_preset(name)
    layout = PRESETS[preset]
    present = list(headers)
    by_fold = {h.casefold().strip(): h for h in present}
    if any(_find_header(h, present, by_fold) is not None for hs in layout.values() for h in hs):
        return None
    read = [h for c in (*ORDER_REQUIRED, *ORDER_VALUE) for h in layout.get(c, ())]
    return f"the preset {preset} finds none of the headers it reads here ({', '.join(read)})"


def _check_canonical(mapping: Mapping[str, str], *, source: str, table: str | None = None) -> None:
    """``table``: the config table the mapping is (``columns``), to say where a key written
    below it belongs (``misplaced``)."""
    unknown = [k for k in mapping if k not in ORDER_COLUMNS]
    if unknown:
        there = [t for u in unknown if table and (t := misplaced(u, table))]
        raise UsageError(
            f"{source}: unknown canonical {agree(len(unknown), 'column', 'columns')} "
            f"{', '.join(unknown)}; "
            f"canonical columns are: {', '.join(ORDER_COLUMNS)}" + "".join(f"; {t}" for t in there)
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
            if key in mapping and mapping[key] != header:
                raise UsageError(
                    f"{source}: {key} is mapped twice ({key}={mapping[key]!r} and "
                    f"{key}={header!r})",
                    hint=f"give one header for {key}",
                )
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


class NoSuchHeader(UsageError):
    """A mapping (``--map``, ``$SEGCHAIN_MAP``, ``[columns]``) names a header the export lacks."""


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
        NoSuchHeader: an explicit mapping names a header the file does not have.
        UsageError: two headers could both be one column; a header taken twice.
    """
    config = config or Config()
    present = list(headers)
    # Each header under its case-folded name; the last of several variants is the one found.
    variants: dict[str, list[str]] = {}
    for h in present:
        variants.setdefault(h.casefold().strip(), []).append(h)
    by_fold = {fold: names[-1] for fold, names in variants.items()}
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
        raise NoSuchHeader(
            f"no such column: {named}. The file's headers are: {', '.join(present)}",
            hint=title_row_hint(present),
        )
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
            # The exact name wins over a case variant (`sku` over `SKU` when both are headers).
            found = _find_header(canonical, present, by_fold)
            if found is not None and found not in used:
                if found != canonical and len(variants[canonical]) > 1:
                    shown = " and ".join(repr(v) for v in variants[canonical])
                    raise UsageError(
                        f"headers {shown} could both be {canonical}",
                        hint=f"say which with --map {canonical}=HEADER",
                    )
                mapping[canonical] = found
            elif found is not None and canonical in ORDER_REQUIRED:
                _taken(found, canonical, mapping)
    if not any(c in mapping for c in ORDER_VALUE):
        # Of the value columns one is needed: '--map quantity=unit_price' left none, and was
        # told 'missing required column unit_price or amount; found ..., unit_price, ...'.
        for canonical in ORDER_VALUE:
            found = _find_header(canonical, present, by_fold)
            if found is not None:
                _taken(found, canonical, mapping)
    return mapping


def derives_order_id(mapping: Mapping[str, str]) -> bool:
    """No header gives ``order_id`` but the customer and date do: the import makes each
    customer's lines of one day one order (``orders.derived_order_id``), as a purchase log
    without an order number (CDNOW's, a till's summary) is read in the CLV literature. Without
    the customer or the date no id can be made, and order_id is missing as any required
    column is."""
    return "order_id" not in mapping and all(c in mapping for c in ORDER_ID_FROM)


def missing_required(mapping: Mapping[str, str]) -> list[str]:
    """The required canonical columns ``mapping`` leaves without a header, each listed (the
    value columns as one, ``VALUE_WANTED``); ``order_id`` not where ``derives_order_id``."""
    derived = derives_order_id(mapping)
    missing = [c for c in ORDER_REQUIRED if c not in mapping and not (derived and c == "order_id")]
    if not any(c in mapping for c in ORDER_VALUE):
        missing.append(VALUE_WANTED)
    return missing


def _taken(header: str, canonical: str, mapping: Mapping[str, str]) -> NoReturn:
    """Refuse a mapping that gave ``canonical``'s own ``header`` to another column.

    Raises:
        UsageError: always.
    """
    taken = next(c for c, h in mapping.items() if h == header)
    raise UsageError(
        f"the header {header!r} is mapped to {taken}, so {canonical} has no column",
        hint=f"map {canonical} to its own header too: --map {canonical}=HEADER",
    )


# German letters as German headers spell them without (HEADER_SYNONYMS' 'waehrung').
_SPELLED_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def _squeezed(name: str) -> str:
    """A header without case, spaces or punctuation: 'Customer ID' and 'customer_id' alike;
    umlauts spelled out and other accents dropped ('Währung' is 'waehrung', 'Catégorie'
    'categorie'), where the letter itself had gone ('whrung')."""
    import unicodedata

    spelled = unicodedata.normalize("NFKD", name.casefold().translate(_SPELLED_OUT))
    return re.sub(r"[^0-9a-z]", "", spelled)


def preset_layouts(headers: Sequence[str]) -> list[str]:
    """The presets that find every required column among ``headers`` by their own names."""
    present = list(headers)
    by_fold = {h.casefold().strip(): h for h in present}

    def finds(candidates: Iterable[str]) -> bool:
        return any(_find_header(c, present, by_fold) is not None for c in candidates)

    return [
        name
        for name, layout in PRESETS.items()
        if all(finds(layout.get(c, ())) for c in ORDER_REQUIRED)
        and any(finds(layout.get(c, ())) for c in ORDER_VALUE)
    ]


# The headers other ERPs and data sets give a canonical column, squeezed (see _squeezed), most
# telling first: NetSuite's saved searches, Dynamics 365's sales lines, SAP's German screen
# labels, dunnhumby's Complete Journey, Shopify, Magento. Only suggested in hints, never taken:
# 'Name' or 'Date' may be something else in another export.
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "order_id": (
        "ordernumber", "orderno", "ordernr", "salesorder", "salesordernumber", "salesorderid",
        "salesid", "documentnumber", "documentno", "docnumber", "invoice", "invoiceno",
        "invoicenumber", "invoiceid", "basketid", "transactionid", "receiptnumber", "receiptid",
        "incrementid", "verkaufsbeleg", "auftragsnummer", "auftrag", "belegnummer",
        "bestellnummer",
    ),
    "order_date": (
        "orderdate", "invoicedate", "documentdate", "transactiondate", "transactiontimestamp",
        "orderpurchasetimestamp", "trandate", "salesdate", "postingdate", "createdat", "date",
        "belegdatum", "auftragsdatum", "angelegtam", "datum",
    ),
    "customer_id": (
        "customer", "customerno", "customernumber", "customeraccount", "custaccount",
        "customercode", "customerkey", "customeruniqueid", "customeruserid", "accountnumber",
        "householdid", "householdkey", "clientid", "client", "customeremail", "email",
        "billingemail",
        "buyerid", "soldto", "soldtoparty", "entity", "name", "auftraggeber", "kunde",
        "kundennummer", "kundennr", "debitor",
    ),
    "sku": (
        "item", "itemid", "itemnumber", "itemno", "itemcode", "productid", "productcode",
        "productnumber", "productkey", "lineitemsku", "product", "stockcode", "material",
        "materialnumber", "article",
        "articlenumber", "partnumber", "partno", "artikel", "artikelnummer",
    ),
    "quantity": (
        "qty", "salesquantity", "salesqty", "orderquantity", "quantityordered",
        "orderedquantity", "orderqty", "lineitemquantity",
        "qtyordered", "units", "unitssold", "menge", "auftragsmenge", "anzahl",
    ),
    "unit_price": (
        "price", "unitprice", "salesprice", "priceunit", "lineitemprice", "itemcost", "rate",
        "netprice", "einzelpreis",
        "nettopreis", "preis",
    ),
    "amount": (
        "lineamount", "salesvalue", "salesamount", "netamount", "netvalue", "linetotal",
        "linevalue", "rowtotal",
        "extendedprice", "extendedamount", "sales", "revenue", "subtotal", "total", "nettowert",
        "umsatz", "betrag",
    ),
    "site": (
        "store", "storeid", "storeno", "storenumber", "warehouse", "warehouseid", "warehousecode",
        "inventlocationid", "plant", "location", "locationid", "branch", "depot", "werk", "lager",
        "filiale",
    ),
    "currency": ("currencycode", "currencyid", "ccy", "waehrung"),
    "country": ("countryregion", "countrycode", "countryname", "land"),
    "city": ("town", "shiptocity", "ort", "stadt"),
    "postal_code": ("zip", "zipcode", "postcode", "plz", "postleitzahl"),
    "lat": ("latitude", "shiptolatitude", "breitengrad"),
    "lon": ("longitude", "lng", "long", "shiptolongitude", "laengengrad"),
    "description": (
        "itemdescription", "productname", "itemname", "productdescription", "materialdescription",
        "bezeichnung",
    ),
    "customer_name": ("clientname", "accountname"),
    "unit": ("uom", "unitofmeasure", "salesunit", "einheit", "vme", "verkaufsmengeneinheit"),
}  # fmt: skip


def look_alikes(headers: Sequence[str], missing: Sequence[str], mapped: Iterable[str]) -> dict:
    """Canonical column -> the one header not yet mapped that reads as its name once case,
    spaces and punctuation are set aside ('Order Date' for order_date); none where two do."""
    free = [h for h in headers if h not in set(mapped)]
    out: dict[str, str] = {}
    for canonical in missing:
        alike = [h for h in free if _squeezed(h) == _squeezed(canonical)]
        if len(alike) == 1:
            out[canonical] = alike[0]
    return out


def synonym_headers(
    headers: Sequence[str], missing: Sequence[str], mapped: Iterable[str]
) -> dict[str, str]:
    """Canonical column -> the header not yet mapped (nor suggested for another column) that
    other ERPs give it (``HEADER_SYNONYMS``: 'SalesOrderNumber' for order_id), by the first of
    its names that one header has. ``missing`` may hold 'unit_price or amount'."""
    free = [h for h in headers if h not in set(mapped)]
    out: dict[str, str] = {}
    for wanted in missing:
        for canonical in ("amount", "unit_price") if wanted == VALUE_WANTED else (wanted,):
            for name in HEADER_SYNONYMS.get(canonical, ()):
                found = [h for h in free if _squeezed(h) == name and h not in out.values()]
                if len(found) == 1:
                    out[canonical] = found[0]
                    break
            if canonical in out:
                break
    if "order_date" in missing and "order_date" not in out:
        # The one header that names a date or timestamp (Olist's order_purchase_timestamp),
        # where no name above is one: several (a ship date too) are left to the user.
        dated = [
            h for h in free if re.search("date|timestamp", _squeezed(h)) and h not in out.values()
        ]
        if len(dated) == 1:
            out["order_date"] = dated[0]
    return out


def _pasted_maps(alike: Mapping[str, str]) -> str:
    """``--map 'order_id=Order ID' ...``: each canonical column and its header, shell-quoted."""
    import shlex  # only for these messages: not on every command's import path

    return " ".join(f"--map {shlex.quote(f'{c}={h}')}" for c, h in alike.items())


def mapping_hint(headers: Sequence[str], missing: Sequence[str], mapped: Iterable[str]) -> str:
    """How to map this file's ``missing`` required columns: the preset whose layout it is, or
    a --map ready to paste for each look-alike header, then what is left."""
    presets = preset_layouts(headers)
    if presets:
        return "these are the headers of a known layout: add " + " or ".join(
            f"--preset {p}" for p in presets
        )
    alike = look_alikes(headers, [c for c in missing if c in ORDER_COLUMNS], mapped)
    left = [c for c in missing if c not in alike]
    other = synonym_headers(headers, left, [*mapped, *alike.values()])
    # No header for order_id is none needed once the customer and date are mapped (the import
    # makes each customer's day one order): told so, not sent to look for one.
    made = "order_id" in left and "order_id" not in other
    made = made and all(c not in missing or c in alike or c in other for c in ORDER_ID_FROM)
    left = [c for c in left if not (made and c == "order_id")]
    made_note = f"; {ORDER_ID_MADE_HINT}" if made else ""
    # No header can answer a sku that was never exported (a shop of one product: CDNOW's log),
    # told where it is the one column without a header (several: a layout not understood).
    no_sku = "; " + NO_SKU_HINT if [c for c in left if c not in other] == ["sku"] else ""
    optional = _optional_look_alikes(headers, [*mapped, *alike.values(), *other.values()])
    # Said with the first fix, not once it is made: the coordinates, postal codes and
    # countries network places customers by (Superstore's 'Postal Code', 'Country/Region').
    also = (
        "; optional columns it could read too: "
        + ", ".join(f"{h!r} ({c})" for c, h in optional.items())
        + f" ({_pasted_maps(optional)}; all are listed in the README, Column mapping)"
        if optional
        else ""
    )
    if not alike and not other:
        return MAP_HINT + also + no_sku  # (made needs a header suggested for customer or date)
    value = "amount" in other or "unit_price" in other
    rest = [c for c in left if c not in other and not (c == VALUE_WANTED and value)]
    parts = [f"add {_pasted_maps(alike)}"] if alike else []
    if other:
        parts.append(
            ("and, " if alike else "")
            + "as other exports name "
            + ("it" if len(other) == 1 else "them")
            + f" (check that {agree(len(other), 'it holds', 'they hold')} what you mean): "
            + _pasted_maps(other)
        )
    if rest:
        parts.append(
            f"{' and '.join(rest)} {agree(len(rest), 'has', 'have')} no such header: "
            "map with --map CANONICAL=HEADER" + (" too" if alike or other else "")
        )
    return "; ".join(parts) + made_note + also + no_sku


def _optional_look_alikes(headers: Sequence[str], mapped: Iterable[str]) -> dict[str, str]:
    """Optional canonical column -> the header not yet mapped or suggested that reads as it
    (by name, else as other exports name it)."""
    taken = list(mapped)
    alike = look_alikes(headers, ORDER_OPTIONAL, taken)
    alike |= synonym_headers(
        headers, [c for c in ORDER_OPTIONAL if c not in alike], [*taken, *alike.values()]
    )
    return {c: alike[c] for c in ORDER_OPTIONAL if c in alike}


def unmapped_look_alikes_note(headers: Sequence[str], mapping: Mapping[str, str]) -> str | None:
    """A note naming the headers left unread that look like optional columns segchain reads
    ('Postal Code' for postal_code), with the --map that reads them; None when there are none."""
    missing = [c for c in ORDER_OPTIONAL if c not in mapping]
    alike = look_alikes(headers, missing, mapping.values())
    alike |= synonym_headers(
        headers, [c for c in missing if c not in alike], [*mapping.values(), *alike.values()]
    )
    if not alike:
        return None
    named = ", ".join(f"{h!r} ({c})" for c, h in alike.items())
    pasted = _pasted_maps(alike)
    return f"not read, though they look like columns segchain reads: {named}; add {pasted}"


def order_id_look_alike_warning(headers: Sequence[str], mapping: Mapping[str, str]) -> list[str]:
    """Where the import makes the order ids (``derives_order_id``) though a header not read
    looks like them (by name, 'Order ID', else as other exports name it, 'InvoiceNo'): a
    warning naming it, with the --map that reads it. Its orders are the export's own, and two
    orders of a customer's day would be counted as one."""
    if not derives_order_id(mapping):
        return []
    alike = look_alikes(headers, ["order_id"], mapping.values())
    alike = alike or synonym_headers(headers, ["order_id"], mapping.values())
    if not alike:
        return []
    return [
        f"{alike['order_id']!r} looks like the export's order ids and is not read: to count "
        f"its orders rather than each customer's days, add {_pasted_maps(alike)}"
    ]


def _find_header(name: str, present: Sequence[str], by_fold: Mapping[str, str]) -> str | None:
    if name in present:
        return name
    return by_fold.get(name.casefold().strip())


def env_map() -> dict[str, str]:
    """The mapping in $SEGCHAIN_MAP (``canonical=header,canonical=header``), if any."""
    value = os.environ.get("SEGCHAIN_MAP", "").strip()
    return parse_map_options([value], source="SEGCHAIN_MAP") if value else {}


def env_preset() -> str | None:
    """The preset in $SEGCHAIN_PRESET, if any: for report, which reads an export as validate
    would but has no --preset of its own (the other commands take the variable as --preset's)."""
    value = os.environ.get("SEGCHAIN_PRESET")
    return check_preset(value, where="$SEGCHAIN_PRESET") if value else None


def setting(cli_value: Any, config: Config, command: str, name: str, default: Any) -> Any:
    """An option's value: command line or environment (in ``cli_value``), config, default.

    A value from the command line or the environment is checked by the setting's declared rule
    (config values were checked when the file was loaded); the message names its source. Where a
    value from the environment or the config came from is remembered (``name_sources``).
    """
    key = name.replace("-", "_")
    option = option_name(key)
    if cli_value is not None:
        rule = SETTINGS.get(command, {}).get(key)
        if rule is None:
            return cli_value
        return check_option(rule, cli_value, option=option)
    value = config.option(command, key, None)
    if value is None:
        _remember(option, None)
        return default
    _remember(option, f"{config.path or 'config'} [{command}] {key}")
    return value


def path_setting(cli_value: str | None, config: Config, command: str, name: str) -> str | None:
    """A file option's value as ``setting`` gives it, a relative path from the config read from
    the config's own folder, as a file that names its neighbours means: under cron (another
    working folder) ``[network] sites = "sites.csv"`` failed, or read another sites.csv."""
    value = setting(cli_value, config, command, name, None)
    if cli_value is not None or config.path is None or not isinstance(value, str):
        return value
    if value.strip() in ("", "-"):
        return value  # said as it is: an empty path by its key, stdin as stdin
    path = Path(value).expanduser()
    return value if path.is_absolute() else str(config.path.parent / path)


def check_option(rule: Rule, value: Any, *, option: str) -> Any:
    """A value typer gave for ``option`` (from the command line, or from the rule's environment
    variable), checked by ``rule``; a message names the variable when the value came from it.

    Raises:
        UsageError: the value does not fit the rule (exit 2).
    """
    where = option
    env_value = os.environ.get(rule.env) if rule.env else None
    if env_value is not None and _same_value(env_value, value):
        where = f"${rule.env}"
    _remember(option, where)
    return check_rule(rule, value, where=where)


# Where each setting of the running command came from, when not from its option: a stage's own
# checks name options (``--k applies to --method kmeans only``); ``name_sources`` rewrites such a
# message to name the config key or environment variable the value really came from.
_SOURCES: ContextVar[dict[str, str] | None] = ContextVar("segchain_sources", default=None)


def _remember(option: str, where: str | None) -> None:
    sources = _SOURCES.get()
    if sources is None:
        sources = {}
        _SOURCES.set(sources)
    if where is None or where == option:
        sources.pop(option, None)
    else:
        sources[option] = where


def forget_sources() -> None:
    """Start a command with no remembered sources (commands may run in one process)."""
    _SOURCES.set({})


# The commands whose options a message may name beside the running command's own.
_COMMANDS = ("validate", "segment", "forecast", "stock", "costs", "network", "report")


def name_sources(message: str) -> str:
    """``message`` with each option whose value came from the config or the environment named
    by its real source: ``--k`` becomes ``segchain.toml [segment] k``. The messages of a
    command's errors, warnings and notes all go through it. An option after a command's name
    is that command's, not the running one's (forecast's 'give segment --as-of 2024-03-01
    too'): left as it is."""
    import re

    from segchain.errors import TableMessage

    # A warning about tables stays one (its template renamed, its {--orders} marks kept): made
    # plain text, it lost the files it names whenever a setting came from the config.
    table = message if isinstance(message, TableMessage) else None
    text = table.template if table is not None else message
    other = "".join(f"(?<!{command} )" for command in _COMMANDS)
    for option, where in sorted((_SOURCES.get() or {}).items(), key=lambda kv: -len(kv[0])):
        pattern = rf"(?<![\w{{-]){other}{re.escape(option)}(?![\w}}-])"
        text = re.sub(pattern, where.replace("\\", "\\\\"), text)
    return TableMessage(text, table.tables) if table is not None else text


def unmatched_policies(config: Config, labels: Iterable[object]) -> list[str]:
    """Messages for ``[segments."<label>"]`` tables that name no segment of the input."""
    present = sorted({str(v) for v in labels if v is not None})
    folded = {p.casefold() for p in present}
    where = str(config.path or "config")
    return [
        f'{where} [segments."{label}"] matches no segment of the input'
        f"{did_you_mean(label, present)}; its policy is not used"
        for label in config.segments.labels
        if label.casefold() not in folded
    ]


def _same_value(text: str, value: Any) -> bool:
    # Typer has already converted an environment value: "0" arrives as 0.0.
    if text.strip() == str(value).strip():
        return True
    try:
        return float(text) == float(value)
    except (TypeError, ValueError):
        return False


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
    "NoSuchHeader",
    "resolve_mapping",
    "parse_map_options",
    "env_map",
    "setting",
    "policy_table",
    "check_service_level",
    "check_service_measure",
]
