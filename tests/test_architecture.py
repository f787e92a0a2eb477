"""The package's shape, checked: which layer may import which, and rules written once.

Read from the source with ``ast`` (nothing is imported), so a new module is covered by being added.
The layers: ``cli`` on top; the stages (pure functions over frames) below it; ``report`` beside the
stages, reading their tables only; shared modules (``schema``, ``tableio``, ``geo``,
``formatting``, ``config``, ``errors``, ``policy``, ``routing``, ``cleansing``, ``numbers``,
``cores``, ``high_levels``) at the bottom. A rule two stages share (``routing``: demand routed to
the network's sites, used by forecast and stock) is a shared module, so that no stage imports
another's internals; so is one the report shares with a stage (``cleansing``: the lines forecast
reads as demand, whose history the forecast chart draws; ``high_levels``: the stocking points whose
level stock warns of and the reorder list marks), and one ``tableio`` shares with a stage
(``numbers``: how an order export's numbers are read, decimal commas too, is how a side table's
are).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "segchain"
STAGES = ("segment", "clv", "orders", "sample", "forecast", "stock", "network", "costs")
SHARED = (
    "schema",
    "tableio",
    "geo",
    "formatting",
    "config",
    "errors",
    "policy",
    "routing",
    "cleansing",
    "numbers",
    "cores",
    "high_levels",
)


def _module(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every segchain module the file imports, at top level or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("segchain"):
                out.add(node.module)
                out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("segchain"))
    return out


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


SOURCES = sorted(PACKAGE.rglob("*.py"))


def _layer_of(module: str) -> str:
    return _top(module)


def _violations(allowed_from: dict[str, set[str]]) -> list[str]:
    bad = []
    for path in SOURCES:
        me = _module(path)
        rule = allowed_from.get(_layer_of(me))
        if rule is None:
            continue
        for imported in _imports(path):
            top = _top(imported)
            if top and top != _layer_of(me) and top in rule:
                bad.append(f"{me} imports {imported}")
    return sorted(set(bad))


def test_the_package_is_found():
    """Guards the checks below against passing on an empty file list."""
    modules = {_module(p) for p in SOURCES}
    assert {"segchain.cli", "segchain.report", "segchain.forecast.stage"} <= modules
    assert len(SOURCES) > 50


def test_no_stage_or_shared_module_imports_the_cli():
    below_cli = {name: {"cli"} for name in (*STAGES, *SHARED, "report")}
    assert _violations(below_cli) == []


def test_the_report_reads_tables_and_never_imports_a_stage():
    assert _violations({"report": set(STAGES)}) == []


def test_shared_modules_import_no_stage_and_no_report():
    rule = {name: {*STAGES, "report"} for name in SHARED}
    assert _violations(rule) == []


def test_the_checker_sees_a_forbidden_import(tmp_path):
    """The rule above can fail: an import of the cli from a stage is reported."""
    fake = tmp_path / "x.py"
    fake.write_text("def f():\n    from segchain.cli.common import Reporter\n")
    assert "segchain.cli.common" in _imports(fake)


# ---- rules written once -------------------------------------------------------------------------


def _hits(pattern: str) -> list[str]:
    rx = re.compile(pattern)
    out = []
    for path in SOURCES:
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if rx.search(line):
                out.append(f"{path.relative_to(PACKAGE.parent)}:{no}")
    return out


@pytest.mark.parametrize(
    ("rule", "pattern", "home"),
    [
        # A LazyFrame is collected through tableio.collect, which turns unreadable data into a
        # DataError with the table's name instead of a polars traceback.
        ("collect", r"\.collect\(\) if isinstance\(", []),
        # One great-circle distance: geo.haversine_km (the network, the report and the sample
        # must measure the same km, or a promise kept in one is broken in the other).
        ("haversine", r"np\.arcsin\(np\.sqrt\(", ["segchain/geo.py"]),
        ("earth radius", r"\b637[0-9]\.[0-9]", ["segchain/geo.py"]),
    ],
)
def test_a_rule_lives_in_one_place(rule, pattern, home):
    hits = _hits(pattern)
    assert sorted({h.rsplit(":", 1)[0] for h in hits}) == sorted(home), (rule, hits)


def test_forecast_and_stock_share_routing_without_importing_each_other():
    """Both route demand to the network's sites with one rule (``segchain.routing``); neither
    reaches into the other's package for it."""
    rule = {"forecast": {"stock"}, "stock": {"forecast"}}
    assert _violations(rule) == []
    users = {_module(p) for p in SOURCES if "segchain.routing" in _imports(p)}
    assert {"segchain.forecast.stage", "segchain.stock.stage"} <= users
