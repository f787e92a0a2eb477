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
    # The floors read every field as text, as validate does before it parses them itself, and
    # (second floor) also write the same Parquet output validate writes.
    extra = ", infer_schema=False" if reader == "csv" else ""
    read = f"import polars as pl; df = pl.read_{reader}('{path}'{extra})"
    floor = wall([sys.executable, "-c", read], repeat=2)
    out = tmp_path / "clean.parquet"
    floor_rw = wall([sys.executable, "-c", f"{read}; df.write_parquet('{out}')"], repeat=2)
    t = wall([exe, "validate", str(path), "-o", str(out), "--quiet"], repeat=2)
    print(
        f"\nvalidate {path.name} -> parquet: {lines:,} lines in {t:.2f} s = "
        f"{lines / t / 1e6:.2f} M lines/s; bare polars read_{reader}: {floor:.2f} s "
        f"(ratio {t / floor:.2f}x); bare read + write_parquet: {floor_rw:.2f} s "
        f"(ratio {t / floor_rw:.2f}x)"
    )


def test_bench_validate_csv(segchain_exe: str, big_orders_csv: Path, tmp_path: Path) -> None:
    _validate_vs_floor(segchain_exe, big_orders_csv, "csv", tmp_path)


def test_bench_validate_parquet(
    segchain_exe: str, big_orders_parquet: Path, tmp_path: Path
) -> None:
    _validate_vs_floor(segchain_exe, big_orders_parquet, "parquet", tmp_path)
