"""OR-Library warehouse location instances solved to their published optima (Beasley's cap*)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from segchain.network import network

ORLIB = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "orlib").resolve()

UNCAPACITATED = [
    "cap71", "cap72", "cap73", "cap74", "cap101", "cap102", "cap103", "cap104",
    "cap131", "cap132", "cap133", "cap134",
]  # fmt: skip
UNCAPACITATED_LARGE = ["capa", "capb", "capc"]
CAPACITATED = [
    "cap41", "cap44", "cap61", "cap62", "cap63", "cap64", "cap82", "cap111", "cap124", "cap133",
]  # fmt: skip
CAPACITATED_LARGE = ["capa"]


def orlib_file(folder: str, name: str) -> Path:
    path = ORLIB / folder / f"{name}.txt"
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (see ../shared/data/README.md)")
    return path


def read_beasley(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Capacities, fixed costs, demands and the m x n cost of serving ALL of j's demand from i."""
    tokens = path.read_text().split()
    m, n = int(tokens[0]), int(tokens[1])
    head = np.array(
        [float(t) if t.lower() != "capacity" else np.nan for t in tokens[2 : 2 + 2 * m]]
    ).reshape(m, 2)
    body = np.array(tokens[2 + 2 * m :], dtype=float).reshape(n, m + 1)
    return head[:, 0], head[:, 1], body[:, 0], body[:, 1:].T


def optima(folder: str) -> dict[str, float]:
    """Published optima; for capacitated capa the value at capacity 10000 (the file's)."""
    values: dict[str, float] = {}
    for line in (ORLIB / folder / "optima.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) < 2 or line.startswith("#") or parts[0] == "Data":
            continue
        if parts[0].startswith("cap"):
            name = parts[0]
            if "(capacity" not in line or "10000)" in line:
                values[name] = float(parts[1])
        elif "(capacity 10000)" in line:
            values["capa"] = float(parts[0])
    return values


def as_tables(path: Path, *, capacitated: bool) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Customers, sites and a lane table (unit_cost = cost_ij / demand_j) for one instance."""
    capacity, fixed, demand, cost = read_beasley(path)
    m, n = cost.shape
    zero = demand == 0
    # A customer without demand costs nothing wherever it goes; the format never says otherwise.
    assert not np.any(cost[:, zero]), "an instance charges for a customer without demand"
    unit = np.divide(cost, demand[None, :], out=np.zeros_like(cost), where=~zero[None, :])
    cust_ids = [f"c{j + 1}" for j in range(n)]
    site_ids = [f"w{i + 1}" for i in range(m)]
    customers = pl.DataFrame({"customer_id": cust_ids, "demand": demand})
    sites = pl.DataFrame(
        {
            "site_id": site_ids,
            "fixed_cost": fixed,
            "capacity": capacity if capacitated else np.full(m, np.inf),
        }
    )
    lanes = pl.DataFrame(
        {
            "site_id": np.repeat(site_ids, n),
            "customer_id": np.tile(cust_ids, m),
            "unit_cost": unit.ravel(),
        }
    )
    return customers, sites, lanes


def solve(folder: str, name: str) -> tuple[float, float]:
    path = orlib_file(folder, name)
    capacitated = folder == "capacitated"
    customers, sites, lanes = as_tables(path, capacitated=capacitated)
    result = network(customers, sites=sites, costs=lanes, allow_split=capacitated)
    return result.totals.total_cost, optima(folder)[name]


@pytest.mark.parametrize("name", UNCAPACITATED)
def test_orlib_uncapacitated_reaches_published_optimum(name: str) -> None:
    total, optimum = solve("uncapacitated", name)
    assert total == pytest.approx(optimum, rel=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("name", UNCAPACITATED_LARGE)
def test_orlib_uncapacitated_large_reaches_published_optimum(name: str) -> None:
    total, optimum = solve("uncapacitated", name)
    assert total == pytest.approx(optimum, rel=1e-6)


@pytest.mark.parametrize("name", CAPACITATED)
def test_orlib_capacitated_split_reaches_published_optimum(name: str) -> None:
    total, optimum = solve("capacitated", name)
    assert total == pytest.approx(optimum, rel=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("name", CAPACITATED_LARGE)
def test_orlib_capacitated_large_split_reaches_published_optimum(name: str) -> None:
    total, optimum = solve("capacitated", name)
    assert total == pytest.approx(optimum, rel=1e-6)
