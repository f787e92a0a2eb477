"""The facility location MILP: variables, each constraint family as a named builder, the solve.

Variables, over sites ``i`` (m of them) and allowed point x site pairs ``(i, j)`` (P of them),
in this column order: ``y_i`` in {0, 1} (site i open; 1 for existing sites), then ``x_ij`` in
[0, 1] (share of point j's demand served by site i; binary for single sourcing when it matters).

Objective: minimise ``sum_i f_i y_i + sum_ij c_ij x_ij`` (fixed cost, then transport cost
``c_ij = unit_cost_ij d_j``).

Constraints (each family is a builder below whose docstring gives its algebra, as in spopt's
``FacilityModelBuilder``): every point assigned; assignments only to open sites; capacities;
the capacity cover cut; exactly K open sites; the delivery promise; at most L late demand.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from segchain.descriptors import stdout_on
from segchain.errors import InfeasibleError, SegchainError
from segchain.formatting import solver_budget

# Relative and absolute tolerance of the delivery promise (floating-point distances and days).
EPS = 1e-9
# A split share below this is the solver's tolerance, not a decision: HiGHS holds constraints
# only to its primal feasibility tolerance, 1e-7, and left a lane of share 1.4e-7 (a customer
# listed as split, and late for 8.7e-5 of its 642 units; audit V, session 64).
SHARE_NOISE = 1e-6


# ---------------------------------------------------------------------------------------------
# The delivery promise


def loosened(limit: Any) -> Any:
    """A limit with the model's tolerance: ``limit (1 + EPS) + EPS`` (numbers, arrays, exprs)."""
    return limit * (1 + EPS) + EPS


def within_promise(transit_days: Any, sla_days: Any) -> Any:
    """The delivery promise rule: ``transit_days <= sla_days (1 + EPS) + EPS``.

    Works on numbers, numpy arrays and polars expressions alike; an infinite ``sla_days`` (no
    promise) always holds. Transit days are great-circle km / ``km_per_day``.
    """
    return transit_days <= loosened(sla_days)


def promise_pairs(
    pairs: pl.DataFrame, sla: np.ndarray, radius: np.ndarray, km_per_day: float
) -> pl.DataFrame:
    """The delivery promise constraint, by leaving pairs out: ``x_ij = 0`` unless
    ``within_promise(t_ij, s_j)``, where ``t_ij`` is the transit time from site i to point j
    and ``s_j`` its segment's max_delivery_days.

    For an aggregated point the promise is kept for every member (``t_ij`` counts the point's
    radius) when some site can; else for the point itself; else (no site can keep it) every pair
    stays allowed and the point is late. Adds ``within`` (promise kept at the point).
    """
    j = pairs["j"].to_numpy()
    dist = pairs["distance_km"].fill_null(0.0).to_numpy()
    strict = within_promise((dist + radius[j]) / km_per_day, sla[j])
    loose = within_promise(dist / km_per_day, sla[j])
    n = len(sla)
    any_strict = np.bincount(j, weights=strict, minlength=n) > 0
    any_loose = np.bincount(j, weights=loose, minlength=n) > 0
    keep = np.where(any_strict[j], strict, np.where(any_loose[j], loose, True))
    return pairs.with_columns(within=pl.Series(loose)).filter(pl.Series(keep))


def late_demand(
    pairs: pl.DataFrame, sla: np.ndarray, km_per_day: float, demand: np.ndarray
) -> np.ndarray:
    """Per pair, ``late_ij = d_j`` if the pair breaks point j's promise, else 0."""
    j = pairs["j"].to_numpy()
    dist = pairs["distance_km"].fill_null(0.0).to_numpy()
    late = ~within_promise(dist / km_per_day, sla[j])
    return np.where(late, demand[j], 0.0)


# ---------------------------------------------------------------------------------------------
# Constraint builders: each appends its rows to a sparse matrix in coordinate form


@dataclass
class Rows:
    """Constraint rows in coordinate form over ``[y_0..y_m-1, x_0..x_P-1]``, with row bounds."""

    m: int
    p: int
    rows: list[np.ndarray] = field(default_factory=list)
    cols: list[np.ndarray] = field(default_factory=list)
    vals: list[np.ndarray] = field(default_factory=list)
    lb: list[np.ndarray] = field(default_factory=list)
    ub: list[np.ndarray] = field(default_factory=list)
    count: int = 0

    @property
    def xcol(self) -> np.ndarray:
        """The column of each pair's ``x_ij``."""
        return self.m + np.arange(self.p)

    def matrix(self) -> tuple[Any, np.ndarray, np.ndarray]:
        import scipy.sparse as sp

        A = sp.csr_matrix(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(self.count, self.m + self.p),
        )
        return A, np.concatenate(self.lb), np.concatenate(self.ub)


def add_assignment_and_linking(rows: Rows, j: np.ndarray, i: np.ndarray, n: int) -> None:
    """Every point fully assigned, and only to open sites (the strong linking):

    ``sum_i x_ij = 1`` for each point j;  ``x_ij - y_i <= 0`` for each allowed pair (i, j).
    """
    p = rows.p
    xcol = rows.xcol
    rows.rows += [np.full(p, 0) + j, np.arange(p) + n, np.arange(p) + n]
    rows.cols += [xcol, xcol, i]
    rows.vals += [np.ones(p), np.ones(p), -np.ones(p)]
    rows.lb += [np.ones(n), np.full(p, -np.inf)]
    rows.ub += [np.ones(n), np.zeros(p)]
    rows.count += n + p


def add_capacity(
    rows: Rows, j: np.ndarray, i: np.ndarray, demand: np.ndarray, capacity: np.ndarray
) -> None:
    """Capacities, for each capacitated site i (NaN capacity = unlimited):

    ``sum_j d_j x_ij - C_i y_i <= 0``;  and, when every site is capacitated, the valid cut
    ``sum_i C_i y_i >= sum_j d_j`` (enough capacity open for the whole demand).

    A capacity above the total demand is clipped to it: the same constraints (no site can serve
    more), without coefficients so large against the demands that HiGHS misjudged the model
    (a capacity of 1e15 for a demand of 15 was called infeasible).
    """
    m = rows.m
    capacity = np.minimum(capacity, float(demand.sum()))  # NaN (unlimited) stays NaN
    capped = np.flatnonzero(~np.isnan(capacity))
    if not capped.size:
        return
    r = rows.count
    row_of = np.full(m, -1)
    row_of[capped] = r + np.arange(capped.size)
    sel = row_of[i] >= 0
    sel &= demand[j] != 0
    rows.rows += [row_of[i[sel]], r + np.arange(capped.size)]
    rows.cols += [rows.xcol[sel], capped]
    rows.vals += [demand[j[sel]], -capacity[capped]]
    rows.lb.append(np.full(capped.size, -np.inf))
    rows.ub.append(np.zeros(capped.size))
    rows.count += capped.size
    if capped.size == m:
        rows.rows.append(np.full(m, rows.count))
        rows.cols.append(np.arange(m))
        rows.vals.append(capacity.copy())
        rows.lb.append(np.array([float(demand.sum())]))
        rows.ub.append(np.array([np.inf]))
        rows.count += 1


def add_open_exactly(rows: Rows, k: int) -> None:
    """Exactly K sites open (the p-median form): ``sum_i y_i = K``."""
    m = rows.m
    rows.rows.append(np.full(m, rows.count))
    rows.cols.append(np.arange(m))
    rows.vals.append(np.ones(m))
    rows.lb.append(np.array([float(k)]))
    rows.ub.append(np.array([float(k)]))
    rows.count += 1


def late_at_most(
    A: Any, lb: np.ndarray, ub: np.ndarray, late: np.ndarray, limit: float
) -> tuple[Any, np.ndarray, np.ndarray]:
    """At most L demand served late: ``sum_ij late_ij x_ij <= L`` (appended to ``A``)."""
    import scipy.sparse as sp

    m = A.shape[1] - len(late)
    A = sp.vstack([A, sp.csr_matrix(np.concatenate([np.zeros(m), late])[None, :])])
    return A, np.append(lb, -np.inf), np.append(ub, limit)


def build_constraints(
    j: np.ndarray,
    i: np.ndarray,
    n: int,
    demand: np.ndarray,
    capacity: np.ndarray,
    *,
    open: int | None = None,
) -> tuple[Any, np.ndarray, np.ndarray]:
    """The sparse constraint matrix over ``[y_0..y_m-1, x_0..x_P-1]`` and its row bounds.

    Rows: each point fully assigned; ``x_p <= y_i`` (the strong linking); for each capacitated
    site ``sum_j demand_j x_ij <= capacity_i y_i``; if every site is capacitated, the valid cut
    ``sum_i capacity_i y_i >= total demand``; with ``open``, ``sum_i y_i = open``. The delivery
    promise is not a row: ``promise_pairs`` leaves out the pairs that would break it.
    """
    rows = Rows(m=len(capacity), p=len(j))
    add_assignment_and_linking(rows, j, i, n)
    add_capacity(rows, j, i, demand, capacity)
    if open is not None:
        add_open_exactly(rows, open)
    return rows.matrix()


# ---------------------------------------------------------------------------------------------
# The solve


class NoPlanInTime(SegchainError):
    """The solver reached --time-limit or --node-limit before it found any feasible plan;
    ``stopped`` says which ('time_limit' or 'node_limit')."""

    def __init__(self, message: str, *, stopped: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.stopped = stopped


# HiGHS's model status when mip_max_nodes stops it: scipy maps it to its status 4 ("not
# recognized") and keeps HiGHS's own code in the message.
_NODE_LIMIT_STATUS = "HiGHS Status 16"


def stopped_by(res: Any) -> str | None:
    """Which limit ended a solve: 'time_limit', 'node_limit', or None (it ended otherwise)."""
    if res.status == 1:
        return "time_limit"
    if res.status == 4 and _NODE_LIMIT_STATUS in str(getattr(res, "message", "")):
        return "node_limit"
    return None


@dataclass
class Plan:
    open: np.ndarray  # bool per site
    j: np.ndarray  # pair point index
    i: np.ndarray  # pair site index
    share: np.ndarray
    status: str
    gap: float
    dual_bound: float  # proven lower bound on the model's optimum
    objective: float = 0.0


@dataclass
class Model:
    """The data of one network model; ``solve`` builds and solves the MILP over given pairs."""

    n: int
    fixed: np.ndarray
    capacity: np.ndarray  # NaN = unlimited
    existing: np.ndarray
    demand: np.ndarray
    open: int | None
    allow_split: bool
    time_limit: float | None
    gap: float
    node_limit: int = 0  # 0: none
    lanes_missing: bool = False  # --costs leaves some customer-site pairs out
    # Customers aggregated into demand points ('200 customers into 11 demand points'): a point
    # is served whole by one site when single-sourced, so a site may hold its customers apart
    # and not together.
    aggregated: str | None = None

    def solve(
        self,
        pairs: pl.DataFrame,
        *,
        baseline: bool = False,
        late: np.ndarray | None = None,
        late_limit: float | None = None,
    ) -> Plan:
        """Solve the facility location MILP over the allowed ``pairs`` (j, i, cost).

        With ``late`` (demand served beyond the promise, per pair): if ``late_limit`` is None,
        minimise late demand instead of cost; else minimise cost with late demand at most
        ``late_limit``.
        """
        from scipy.optimize import Bounds, LinearConstraint, milp

        j = pairs["j"].to_numpy()
        i = pairs["i"].to_numpy()
        cost = pairs["cost"].to_numpy()
        A, lb, ub = build_constraints(j, i, self.n, self.demand, self.capacity, open=self.open)
        m = len(self.fixed)
        fixed = self.fixed
        if late is not None and late_limit is None:
            fixed, cost = np.zeros(m), late
        elif late is not None and late_limit is not None:
            A, lb, ub = late_at_most(A, lb, ub, late, late_limit)
        capped = ~np.isnan(self.capacity)
        # Without capacities, a customer's best share goes wholly to its cheapest open site, so
        # single sourcing needs no integer assignment variables (unless late demand is capped).
        binary_x = (bool(capped.any()) or late is not None) and not self.allow_split
        integrality = np.concatenate([np.ones(m), np.full(len(j), 1.0 if binary_x else 0.0)])
        lower = np.concatenate([self.existing.astype(float), np.zeros(len(j))])
        options: dict[str, Any] = {"mip_rel_gap": self.gap, "disp": False}
        if self.time_limit is not None:
            options["time_limit"] = float(self.time_limit)
        if self.node_limit:
            options["node_limit"] = int(self.node_limit)
        res = _interruptible(
            milp,
            np.concatenate([fixed, cost]),
            integrality=integrality,
            bounds=Bounds(lower, np.ones(m + len(j))),
            constraints=LinearConstraint(A, lb, ub),
            options=options,
        )
        what = "the plan ignoring delivery promises" if baseline else "the network plan"
        if res.x is None:
            if res.status == 2:
                raise self._infeasible()
            stopped = stopped_by(res)
            if stopped is not None:
                raise NoPlanInTime(
                    f"the solver reached {self.limit_named(stopped)} before finding any "
                    f"feasible plan for {what}",
                    stopped=stopped,
                    hint=f"raise {self.option_of(stopped)}, or aggregate customers with "
                    "--max-points",
                )
            raise SegchainError(f"the solver failed on {what}: {res.message}")
        y = res.x[:m] > 0.5
        share = np.clip(res.x[m:], 0.0, 1.0)
        gap = float(res.mip_gap) if getattr(res, "mip_gap", None) is not None else 0.0
        if not math.isfinite(gap):
            gap = 1.0
        status = "optimal" if res.status == 0 else stopped_by(res) or "time_limit"
        if not binary_x and not self.allow_split:
            share = cheapest_open(j, cost, y[i])
        elif binary_x:
            share = np.round(share)
        else:
            share = np.where(share < SHARE_NOISE, 0.0, share)
            total = np.bincount(j, weights=share, minlength=self.n)
            share = share / total[j]
        keep = share > 0
        dual = getattr(res, "mip_dual_bound", None)
        if dual is None or not math.isfinite(dual):
            fun = getattr(res, "fun", None)
            dual = float(fun) * (1 - gap) if fun is not None else 0.0
        return Plan(
            open=y,
            j=j[keep],
            i=i[keep],
            share=share[keep],
            status=status,
            gap=gap,
            dual_bound=float(dual),
            objective=float(res.fun),
        )

    def limit_named(self, stopped: str) -> str:
        """The limit that stopped a solve, with its value: 'its node limit (--node-limit
        5,000)'."""
        if stopped == "node_limit":
            return f"its node limit (--node-limit {self.node_limit:,})"
        return f"its time limit (--time-limit {self.time_limit:g} s)"

    @staticmethod
    def option_of(stopped: str) -> str:
        """The option to raise for a solve ``stopped`` by its limit."""
        return "--node-limit (0: no limit)" if stopped == "node_limit" else "--time-limit"

    def budget(self) -> str:
        """The limits every solve runs under, for 'not found within ...' messages."""
        return solver_budget(self.time_limit, self.node_limit)[0]

    def raise_budget(self) -> str:
        """The options to raise for more search: 'a larger --node-limit'."""
        return solver_budget(self.time_limit, self.node_limit)[1]

    def limits(self) -> str:
        """What limits the plan, in words (for messages)."""
        parts = []
        if np.any(~np.isnan(self.capacity)):
            parts.append("the capacities")
        if self.open is not None:
            parts.append(f"--open {self.open}")
        return " and ".join(parts) or "the lanes given"

    def _infeasible(self) -> InfeasibleError:
        # Never the delivery promises: a customer no plan can serve in time is served late.
        capped = bool(np.any(~np.isnan(self.capacity)))
        single = capped and not self.allow_split
        limits = [
            (capped, "the capacities", "raise capacities"),
            (self.open is not None, f"--open {self.open}", "raise --open"),
            (self.lanes_missing, "the lanes in --costs", "add lanes to --costs"),
            (single, "single sourcing", "let customers be split over sites with --allow-split"),
            (
                single and self.aggregated is not None,
                f"the aggregation of {self.aggregated} (--max-points)",
                "raise --max-points (a demand point is served by one site)",
            ),
        ]
        named = [w for on, w, _ in limits if on]
        why = " and ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)
        why = why or "the lanes given"
        hint = ", or ".join(h for on, _, h in limits if on) or "check the lanes"
        return InfeasibleError(f"no plan serves every customer under {why}", hint=hint)


def _solver_output_dropped() -> contextlib.AbstractContextManager[None]:
    """Descriptor 1 on the null device while HiGHS runs: with disp off, its MIP solver still
    prints lines of its own debugging to C's stdout under tight capacities
    ('HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();', 14 in 50 s),
    into the table of `network -o -` or the terminal. The tables are written after the solve."""
    return stdout_on(None)


def _interruptible(solve: Any, *args: Any, **kwargs: Any) -> Any:
    """``solve(*args, **kwargs)`` in a daemon thread, the calling thread waiting in short steps.

    A signal's Python handler (Ctrl-C, SIGTERM) runs only when the main thread is back in the
    interpreter, and HiGHS gives it back only when the solve ends: Ctrl-C stopped `network` on
    30,000 customers 4 to 22 s later. Waiting here, the command stops at once; the abandoned
    solve ends with the process (a caller that goes on lets it finish in the background).
    """
    import threading

    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = solve(*args, **kwargs)
        except BaseException as exc:  # raised again in the calling thread
            out["error"] = exc

    worker = threading.Thread(target=run, name="highs", daemon=True)
    with _solver_output_dropped():
        worker.start()
        while worker.is_alive():
            worker.join(0.1)
    if "error" in out:
        raise out["error"]
    return out["result"]


def cheapest_open(j: np.ndarray, cost: np.ndarray, is_open: np.ndarray) -> np.ndarray:
    """Share 1 for each point's cheapest open pair (first in order on ties), else 0."""
    masked = np.where(is_open, cost, np.inf)
    order = np.lexsort((np.arange(len(j)), masked, j))
    first = np.ones(len(order), dtype=bool)
    first[1:] = j[order][1:] != j[order][:-1]
    share = np.zeros(len(j))
    share[order[first]] = 1.0
    share[~is_open] = 0.0
    return share
