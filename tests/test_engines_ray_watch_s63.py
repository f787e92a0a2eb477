"""Audit G of session 63: a Ray cluster that loses its CPUs during the run stops it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest

from segchain.errors import SegchainError, UsageError
from segchain.forecast import engines
from segchain.forecast.engines import NO_WORKER_GRACE_SECONDS, RAY_WORKER_HINT, Engine


@pytest.fixture
def fast_grace(monkeypatch):
    monkeypatch.setattr(engines, "NO_WORKER_GRACE_SECONDS", 0.3)
    monkeypatch.setattr(engines, "WORKER_POLL_SECONDS", 0.05)


class FakeRayCluster:
    """A Ray whose cluster has ``cpus`` until its worker node dies; a driver waiting on it
    waits until disconnected (``ray.shutdown``), as Ray's retried tasks wait for a CPU."""

    def __init__(self, monkeypatch, *, cpus: float = 2.0) -> None:
        self.cpus = cpus
        self.disconnected = threading.Event()
        ray = types.ModuleType("ray")
        data = types.ModuleType("ray.data")
        context = types.SimpleNamespace(enable_progress_bars=True)
        data.DataContext = types.SimpleNamespace(get_current=lambda: context)  # type: ignore[attr-defined]
        ray.data = data  # type: ignore[attr-defined]
        ray.is_initialized = lambda: False  # type: ignore[attr-defined]
        ray.init = lambda **kwargs: None  # type: ignore[attr-defined]
        ray.cluster_resources = lambda: {"CPU": self.cpus} if self.cpus else {}  # type: ignore[attr-defined]
        ray.shutdown = self.disconnected.set  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "ray", ray)
        monkeypatch.setitem(sys.modules, "ray.data", data)
        monkeypatch.setitem(sys.modules, "fugue_ray", types.ModuleType("fugue_ray"))

    def wait_on_tasks(self, timeout: float) -> bool:
        """The engine's call: whether it was released (by a disconnection) within ``timeout``."""
        return self.disconnected.wait(timeout)


def test_ray_cluster_losing_its_cpus_during_the_run_stops_it(monkeypatch, fast_grace):
    cluster = FakeRayCluster(monkeypatch)
    released = None
    started = time.monotonic()
    with (
        pytest.raises(SegchainError) as err,
        Engine("ray", address="10.0.0.5:6379", n_jobs=1, freq="W") as eng,
        eng._workers_kept(),
    ):
        cluster.cpus = 0  # the only worker node with CPUs is killed
        released = cluster.wait_on_tasks(timeout=5.0)
    # Released by the watch after the grace (0.3 s), not by the 5 s stand-in for 'for ever'.
    assert released is True
    assert time.monotonic() - started < 4.0
    assert not isinstance(err.value, UsageError)  # exit 1: the cluster, not the command line
    assert err.value.message == (
        "--address 10.0.0.5:6379: the Ray cluster lost its CPUs during the run (no worker node "
        "with one for 0.3 s), and its tasks would have waited for one without end; the run was "
        "stopped"
    )
    assert err.value.hint == RAY_WORKER_HINT


def test_ray_get_exiting_when_disconnected_is_the_lost_cpus_error(monkeypatch, fast_grace):
    # A ray.get waiting in the main thread when another thread calls ray.shutdown raises
    # SystemExit(0) (measured on Ray 2.60): the run had ended with exit 0 and no output.
    cluster = FakeRayCluster(monkeypatch)
    with (
        pytest.raises(SegchainError) as err,
        Engine("ray", address="10.0.0.5:6379", n_jobs=1, freq="W") as eng,
        eng._workers_kept(),
    ):
        cluster.cpus = 0
        if cluster.wait_on_tasks(timeout=5.0):
            raise SystemExit(0)
    assert err.value.message.startswith("--address 10.0.0.5:6379: the Ray cluster lost its CPUs")


def test_system_exit_without_a_lost_cluster_is_kept(monkeypatch, fast_grace):
    FakeRayCluster(monkeypatch)
    with (
        pytest.raises(SystemExit),
        Engine("ray", address="10.0.0.5:6379", n_jobs=1, freq="W") as eng,
        eng._workers_kept(),
    ):
        raise SystemExit(3)


def test_ray_cluster_keeping_its_cpus_runs_to_the_end(monkeypatch, fast_grace):
    cluster = FakeRayCluster(monkeypatch)
    with Engine("ray", address="10.0.0.5:6379", n_jobs=1, freq="W") as eng, eng._workers_kept():
        # A run longer than the grace, the cluster's CPUs all the while.
        assert cluster.wait_on_tasks(timeout=1.0) is False
    assert cluster.disconnected.is_set()  # the engine's own shutdown at the end


def test_ray_call_after_the_cpus_were_lost_is_not_started(monkeypatch, fast_grace):
    cluster = FakeRayCluster(monkeypatch)
    with Engine("ray", address=None, n_jobs=1, freq="W") as eng:
        with pytest.raises(SegchainError), eng._workers_kept():
            cluster.cpus = 0
            cluster.wait_on_tasks(timeout=5.0)
        ran = False
        with pytest.raises(SegchainError) as err, eng._workers_kept():
            ran = True  # the forecast after the backtest: it would start a local Ray
    assert ran is False
    assert str(err.value).startswith("--engine ray: the Ray cluster lost its CPUs")


# --- the real Ray, where installed (CI has none): run by hand in a venv with ray ----------

ROOT = Path(__file__).resolve().parent.parent
HEAD_PORT = "6396"


def _ray_start(*args: str) -> subprocess.Popen:
    ray_cli = Path(sys.executable).parent / "ray"
    return subprocess.Popen(
        [str(ray_cli), "start", "--block", *args],
        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its raylet and workers in its process group, killed together
    )


def _segchain(*args: str | Path, **kwargs: Any) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "TERMINAL_WIDTH": "200"}
    cmd = [sys.executable, "-m", "segchain", *map(str, args)]
    return subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.slow
def test_real_ray_worker_node_killed_mid_run_stops_with_one_message(tmp_path):
    pytest.importorskip("ray")
    pytest.importorskip("fugue_ray")
    if not (Path(sys.executable).parent / "ray").exists():
        pytest.skip("no ray command beside this interpreter")
    orders, segments = tmp_path / "orders.parquet", tmp_path / "segments.parquet"
    for args in (
        ("validate", ROOT / "sample_data" / "orders.csv", "-o", orders),
        ("segment", orders, "-o", segments),
    ):
        assert _segchain(*args).wait(timeout=120) == 0
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    address = f"127.0.0.1:{HEAD_PORT}"
    # Ray's advice for a head node: no CPU, so the worker node runs every task.
    head = _ray_start("--head", f"--port={HEAD_PORT}", "--num-cpus=0", "--include-dashboard=false")
    node = run = None
    try:
        time.sleep(10)
        node = _ray_start(f"--address={address}", "--num-cpus=2")
        time.sleep(10)
        run = _segchain(
            "forecast", segments, "--orders", orders, "--engine", "ray", "--address", address,
            "-o", out_dir / "forecast.parquet",
        )  # fmt: skip
        assert run.stderr is not None
        seen = ""
        while "backtesting models" not in seen:  # the models' tasks are on the node
            chunk = run.stderr.read(200)
            assert chunk, f"the run ended before its models ran: {seen}"
            seen += chunk
        time.sleep(10)
        os.killpg(node.pid, signal.SIGKILL)
        killed = time.monotonic()
        # The old code waited for ever: a generous bound fails the test instead of hanging it.
        stderr = seen + run.communicate(timeout=NO_WORKER_GRACE_SECONDS + 90)[1]
        took = time.monotonic() - killed
    finally:
        for proc in (run, node, head):
            if proc is not None and proc.poll() is None:
                if proc is run:
                    proc.kill()
                else:  # not `ray stop --force`: it stops every cluster on the machine
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert run.returncode == 1, stderr
    # segchain's own: Ray's lines about the node's death ('(raylet) Task ... failed ... Error:
    # Task failed because the node it was running on is dead') come before, some after a
    # progress line on the same line.
    lines = re.findall(r"segchain forecast: +(?:Error|hint): .*", stderr)
    assert lines == [
        f"segchain forecast: Error: --address {address}: the Ray cluster lost its CPUs during "
        f"the run (no worker node with one for {NO_WORKER_GRACE_SECONDS:g} s), and its tasks "
        "would have waited for one without end; the run was stopped",
        f"segchain forecast:   hint: {RAY_WORKER_HINT}",
    ], stderr
    assert "Traceback" not in stderr
    assert list(out_dir.iterdir()) == []  # neither the output nor a temporary file
    # Ray drops a killed node's CPUs about 15 s after; then the grace period.
    assert took < 15 + NO_WORKER_GRACE_SECONDS + 15, took
    print(f"ended {took:.1f} s after the worker node was killed")
