"""Shared fixtures: tiny seeded data, a CLI runner, stable terminal output, the real-data folder."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest

# mlforecast installs a top-level package named ``tests``: ``from tests.test_x import ...`` in
# a test must reach this folder, not that package.
_tests = types.ModuleType("tests")
_tests.__path__ = [str(Path(__file__).resolve().parent)]
sys.modules["tests"] = _tests

# Stable, uncoloured output for exact-text assertions.
os.environ["NO_COLOR"] = "1"
os.environ["TERMINAL_WIDTH"] = "200"
os.environ["COLUMNS"] = "200"
for _var in [v for v in os.environ if v.startswith("SEGCHAIN_")]:
    del os.environ[_var]

# CI explores the same examples every run (a red run must be reproducible); developers get
# fresh random examples locally.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")


def _build_the_command_once() -> None:
    """Let every CliRunner.invoke of one app share the click command Typer builds from it.

    typer.testing.CliRunner.invoke rebuilds the whole command tree on each call (every
    command's signature read, its help polished: about 20 ms of CPU), where the installed
    `segchain` builds it once per process: a quarter of the CPU time of test files made of
    short CLI runs (docs/measurements.md). The tree holds no state of a run (each invoke makes
    its own click Context), so one per app serves every test, as one serves a real process.
    """
    import functools

    import typer.main
    import typer.testing

    build = getattr(typer.testing, "_get_command", None)
    if build is typer.main.get_command:  # a Typer that builds elsewhere: left as it is
        typer.testing._get_command = functools.cache(build)  # type: ignore[attr-defined]


_build_the_command_once()

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (ROOT / ".." / "shared" / "data").resolve()
SAMPLE_DATA = ROOT / "sample_data"


def shared_file(*parts: str) -> Path:
    """A file of ../shared/data, or skip the test saying what is missing."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (see ../shared/data/README.md)")
    return path


@pytest.fixture
def runner():
    from typer.testing import CliRunner

    return CliRunner()


@pytest.fixture
def cli(runner):
    """Invoke segchain in-process: ``cli("validate", "x.csv")`` -> Result."""
    from segchain.cli import app

    def invoke(*args: str, input: bytes | str | None = None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path, monkeypatch):
    # A segchain.toml in the developer's folder must not leak into tests.
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def orders_csv(tmp_path: Path) -> Path:
    """A small canonical export with one line per reason code and flag."""
    text = (
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        "1001,2024-03-01,0001,A-1,2,10.00\n"  # ok
        "1001,2024-03-01,0001,A-2,1,5.50\n"  # ok
        "1002,2024-03-04,0002,A-1,3,10.00\n"  # ok
        "C1003,2024-03-05,0002,A-1,-1,10.00\n"  # return (flag)
        "1004,2024-03-06,,A-1,1,10.00\n"  # missing_customer
        "1005,2024-03-07,0003,,1,10.00\n"  # missing_sku
        "1006,not a date,0003,A-1,1,10.00\n"  # bad_date
        "1007,,0003,A-1,1,10.00\n"  # missing_date
        "1008,2024-03-08,0003,A-1,lots,10.00\n"  # bad_quantity
        "1009,2024-03-08,0003,A-1,1,\n"  # bad_price
        "1010,2024-03-08,0003,A-1,inf,10.00\n"  # non_finite
        ",2024-03-08,0003,A-1,1,10.00\n"  # missing_order_id
        "1011,2024-03-09,0003,POST,1,6.90\n"  # non_product (flag)
        "1012,2024-03-09,0003,A-3,1,0\n"  # zero_price (flag)
    )
    path = tmp_path / "orders.csv"
    path.write_text(text, encoding="utf-8")
    return path
