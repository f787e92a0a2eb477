"""Scale data for `make bench`: made once by `segchain sample`, cached in bench_data/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH_DATA = ROOT / "bench_data"


def _exe() -> str:
    return str(Path(sys.executable).with_name("segchain"))


@pytest.fixture(scope="session")
def segchain_exe() -> str:
    """The installed console script, run as users run it."""
    return _exe()


def _sample(folder: Path, fmt: str) -> Path:
    orders = folder / f"orders.{fmt}"
    if not orders.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                _exe(),
                "sample",
                "-o",
                str(folder),
                "--customers",
                "100000",
                "--skus",
                "5000",
                "--years",
                "3",
                "-f",
                fmt,
                "--quiet",
            ],
            check=True,
        )
    return orders


@pytest.fixture(scope="session")
def big_orders_csv() -> Path:
    """About 10 million order lines as CSV (100,000 customers, 5,000 SKUs, 3 years)."""
    return _sample(BENCH_DATA / "big", "csv")


@pytest.fixture(scope="session")
def big_orders_parquet() -> Path:
    """The same order lines as Parquet."""
    return _sample(BENCH_DATA / "big_parquet", "parquet")
