"""network's node limit (session 60): a bound on the solver's work that stops every run at the
same plan, so that a hard instance ends without the clock deciding where.

Single-sourced customers at tight capacities under promises had network search for the
cheapest least-late plan for over 20 minutes without finding one (400 customers, 12 sites of
capacity 40,000; audit of session 59), with no default limit: a cron job never ended."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from test_network_s59 import _Model as _TimedModel

from segchain.formatting import solver_budget
from segchain.network import network, stage
from segchain.network.model import NoPlanInTime


def _tight_single_source() -> tuple[pl.DataFrame, pl.DataFrame]:
    """50 customers of 20 to 119 units at 6 sites holding 0.5 % more than the demand: a
    generalized assignment that HiGHS proves only after branching (65 nodes)."""
    rng = np.random.default_rng(3)
    n, m = 50, 6
    customers = pl.DataFrame(
        {
            "customer_id": [f"C{k:02d}" for k in range(n)],
            "demand": rng.integers(20, 120, n).astype(float),
            "lat": rng.uniform(45, 52, n),
            "lon": rng.uniform(0, 10, n),
        }
    )
    capacity = float(customers["demand"].sum()) * 1.005 / m
    sites = pl.DataFrame(
        {
            "site_id": [f"S{k}" for k in range(m)],
            "lat": rng.uniform(45, 52, m),
            "lon": rng.uniform(0, 10, m),
            "fixed_cost": [0.0] * m,
            "capacity": [capacity] * m,
        }
    )
    return customers, sites


def test_a_node_limit_stops_every_run_at_the_same_plan_with_its_proven_gap() -> None:
    customers, sites = _tight_single_source()
    best = network(customers, sites=sites, node_limit=0)
    assert best.totals.status == "optimal"
    first = network(customers, sites=sites, node_limit=5)
    again = network(customers, sites=sites, node_limit=5)
    assert first.totals.status == "node_limit"
    assert first.assignments.equals(again.assignments)
    assert first.totals == again.totals
    # The gap HiGHS proved brackets the optimum found without the limit.
    cost, gap = first.totals.total_cost, first.totals.mip_gap
    assert best.totals.total_cost <= cost * (1 + 1e-9)
    assert cost * (1 - gap) <= best.totals.total_cost * (1 + 1e-9)
    assert first.assignments["site_id"].is_not_null().all()
    stopped = [w for w in first.warnings if "node limit" in w]
    assert stopped == [
        f"the solver stopped at its node limit (--node-limit 5): the plan is within "
        f"{gap:.4%} of optimal (the same command stops at the same plan); raise --node-limit "
        "(0: no limit) for a plan proven closer to optimal"
    ]


def test_the_default_node_limit_leaves_plans_proven_at_the_root_alone() -> None:
    customers, sites = _tight_single_source()
    unlimited = network(customers.head(12), sites=sites.head(3), node_limit=0)
    default = network(customers.head(12), sites=sites.head(3))
    assert default.totals.status == "optimal"
    assert default.assignments.equals(unlimited.assignments)


def test_a_negative_node_limit_is_a_usage_error() -> None:
    from segchain.errors import UsageError

    customers, sites = _tight_single_source()
    with pytest.raises(UsageError, match=r"--node-limit must be a whole number >= 0"):
        network(customers, sites=sites, node_limit=-1)


class _Model(_TimedModel):
    """The least-late plan found, the cheapest among such plans stopped by the node limit."""

    time_limit = None  # type: ignore[assignment]
    node_limit = 5000

    def budget(self) -> str:
        return solver_budget(self.time_limit, self.node_limit)[0]

    def raise_budget(self) -> str:
        return solver_budget(self.time_limit, self.node_limit)[1]

    def solve(self, pairs, *, late=None, late_limit=None):
        if late_limit is None:
            return self.least
        raise NoPlanInTime("the solver reached its node limit", stopped="node_limit")


def test_the_least_late_plan_stopped_by_the_node_limit_says_so(monkeypatch) -> None:
    monkeypatch.setattr(stage, "late_demand", lambda *args: np.zeros(2))
    warnings: list[str] = []
    model = _Model()
    plan, how = stage._least_late_plan(model, None, np.zeros(2), 300.0)  # type: ignore[arg-type]
    late = pl.DataFrame({"demand": [1.0, 1.0], "share": [1.0, 1.0], "sla_met": [False, True]})
    stage._least_late_warnings(how, model, late, 2.0, warnings)  # type: ignore[arg-type]
    assert plan.status == "node_limit"
    assert warnings[1] == (
        "the cheapest of the plans serving that least demand late was not found within "
        "--node-limit (5,000 nodes) per solve: this plan's cost is not minimised; a larger "
        "--node-limit may find a cheaper one"
    )


@pytest.mark.parametrize(
    ("time_limit", "node_limit", "said"),
    [
        (60.0, None, ("--time-limit (60 s) per solve", "a larger --time-limit")),
        (None, 5000, ("--node-limit (5,000 nodes) per solve", "a larger --node-limit")),
        (
            5,
            200,
            (
                "--time-limit (5 s) and --node-limit (200 nodes) per solve",
                "a larger --time-limit or --node-limit",
            ),
        ),
        # An output's provenance from before --node-limit, or with 0 (no limit), names none.
        (None, 0, ("the solver's limits", "a longer --time-limit")),
    ],
)
def test_the_solver_limits_in_words(time_limit, node_limit, said) -> None:
    assert solver_budget(time_limit, node_limit) == said


def test_the_cli_reads_the_node_limit_from_the_config_and_refuses_a_bad_one(cli, tmp_path) -> None:
    customers, sites = _tight_single_source()
    customers.write_csv(tmp_path / "customers.csv")
    sites.write_csv(tmp_path / "sites.csv")
    config = tmp_path / "segchain.toml"
    config.write_text("[network]\nnode_limit = 5\n")
    out = tmp_path / "assignments.parquet"
    args = ["network", str(tmp_path / "customers.csv"), "--sites", str(tmp_path / "sites.csv")]
    result = cli(*args, "--config", str(config), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "stopped at the node limit" in result.stderr
    result = cli(*args, "--node-limit", "-3", "-o", str(tmp_path / "bad.csv"))
    assert result.exit_code == 2
    assert "--node-limit: must be a whole number >= 0 (0: no limit), got -3" in result.stderr
    assert not (tmp_path / "bad.csv").exists()


def test_a_relative_sites_path_in_the_config_is_read_from_the_configs_folder(
    cli, tmp_path, monkeypatch
) -> None:
    # Under cron (another working folder) `[network] sites = "sites.csv"` failed, or read
    # another sites.csv without a word (audit I, session 60).
    customers, sites = _tight_single_source()
    project = tmp_path / "project"
    project.mkdir()
    customers.head(6).write_csv(project / "customers.csv")
    sites.head(2).with_columns(capacity=None).write_csv(project / "sites.csv")
    (project / "segchain.toml").write_text('[network]\nsites = "sites.csv"\n')
    elsewhere = tmp_path / "cron"
    elsewhere.mkdir()
    decoy = sites.tail(1).with_columns(site_id=pl.lit("DECOY"), capacity=None)
    decoy.write_csv(elsewhere / "sites.csv")
    monkeypatch.chdir(elsewhere)
    out = tmp_path / "assignments.csv"
    result = cli(
        "network", str(project / "customers.csv"), "--config", str(project / "segchain.toml"),
        "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert set(pl.read_csv(out)["site_id"]) <= {"S0", "S1"}
