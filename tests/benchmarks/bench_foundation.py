"""Foundation figures: `segchain --help` start-up, validate throughput against a bare polars read.

Prints figures; asserts nothing about time (machines are noisy). Run with `make bench`.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench


def wall(cmd: list[str], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def test_bench_help_startup(segchain_exe: str) -> None:
    t = wall([segchain_exe, "--help"], repeat=7)
    floor = wall([sys.executable, "-c", "pass"], repeat=7)
    print(
        f"\nsegchain --help: median {t:.3f} s (bare python start-up {floor:.3f} s; target < 0.5 s)"
    )


def _validate_vs_floor(exe: str, path: Path, reader: str, tmp_path: Path) -> None:
    count = (
        f"import polars as pl; print(pl.scan_{reader}('{path}').select(pl.len()).collect().item())"
    )
    lines = int(
        subprocess.run(
            [
                sys.executable,
                "-c",
                count,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    # The floor reads every field as text, as validate does before it parses them itself.
    extra = ", infer_schema=False" if reader == "csv" else ""
    floor = wall(
        [sys.executable, "-c", f"import polars as pl; pl.read_{reader}('{path}'{extra})"], repeat=2
    )
    out = tmp_path / "clean.parquet"
    t = wall([exe, "validate", str(path), "-o", str(out), "--quiet"], repeat=2)
    print(
        f"\nvalidate {path.name}: {lines:,} lines in {t:.2f} s = {lines / t / 1e6:.2f} M lines/s; "
        f"bare polars read_{reader}: {floor:.2f} s; ratio {t / floor:.2f}x"
    )


def test_bench_validate_csv(segchain_exe: str, big_orders_csv: Path, tmp_path: Path) -> None:
    _validate_vs_floor(segchain_exe, big_orders_csv, "csv", tmp_path)


def test_bench_validate_parquet(
    segchain_exe: str, big_orders_parquet: Path, tmp_path: Path
) -> None:
    _validate_vs_floor(segchain_exe, big_orders_parquet, "parquet", tmp_path)
