"""Audit R of session 62: the Ray and Spark engines, and stdout kept for the table."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
ORDERS = ROOT / "sample_data" / "orders.csv"

# A stage whose work prints to stdout, as Ray's driver printed its autoscaler's events: through
# Python's sys.stdout and straight to descriptor 1 (as C code and child processes write).
NOISY_SEGMENT = """
import os, sys
import segchain.segment as stage
real = stage.segment
def noisy(*args, **kwargs):
    print("(autoscaler +5s) Error: No available node types can fulfill resource request")
    os.write(1, b"raw line from a library\\n")
    return real(*args, **kwargs)
if sys.argv[2] == "noisy":
    stage.segment = noisy
from segchain.cli import main
sys.argv = ["segchain", "segment", sys.argv[1], "--quiet", "-o", "-"]
main()
"""


def _run(script: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-c", script, *args], env=env, capture_output=True, timeout=300
    )


def test_stage_work_printing_to_stdout_leaves_the_table_on_stdout_clean():
    run = _run(NOISY_SEGMENT, str(ORDERS), "noisy")
    assert run.returncode == 0, run.stderr.decode()
    quiet = _run(NOISY_SEGMENT, str(ORDERS), "quiet")
    # The table the same run writes when its work prints nothing, byte for byte.
    assert run.stdout == quiet.stdout
    assert pl.read_csv(io.BytesIO(run.stdout)).columns[0] == "customer_id"
    assert b"autoscaler" not in run.stdout and b"raw line" not in run.stdout
    # Said on stderr instead: a library's message still reaches the user.
    assert b"(autoscaler +5s)" in run.stderr and b"raw line from a library" in run.stderr


# --- Ray and Spark start-up, with stand-ins for their modules (CI has neither) -------------

import signal  # noqa: E402
import types  # noqa: E402

import pytest  # noqa: E402

from segchain.errors import SegchainError, Terminated, UsageError  # noqa: E402
from segchain.forecast import engines  # noqa: E402
from segchain.forecast.engines import Engine  # noqa: E402


@pytest.fixture
def fast_grace(monkeypatch):
    monkeypatch.setattr(engines, "NO_WORKER_GRACE_SECONDS", 0.3)
    monkeypatch.setattr(engines, "WORKER_POLL_SECONDS", 0.05)


def fake_ray(monkeypatch, *, init=None, cpus: float = 2.0) -> types.SimpleNamespace:
    calls = types.SimpleNamespace(init_kwargs=None, shutdowns=0)
    ray = types.ModuleType("ray")
    data = types.ModuleType("ray.data")

    class DataContext:
        current = types.SimpleNamespace(enable_progress_bars=True)

        @classmethod
        def get_current(cls):
            return cls.current

    def ray_init(**kwargs):
        calls.init_kwargs = kwargs
        if init is not None:
            init()

    def shutdown():
        calls.shutdowns += 1

    data.DataContext = DataContext  # type: ignore[attr-defined]
    data.from_pandas = lambda pdf: pdf  # type: ignore[attr-defined]
    ray.data = data  # type: ignore[attr-defined]
    ray.is_initialized = lambda: False  # type: ignore[attr-defined]
    ray.init = ray_init  # type: ignore[attr-defined]
    ray.cluster_resources = lambda: {"CPU": cpus} if cpus else {}  # type: ignore[attr-defined]
    ray.shutdown = shutdown  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ray", ray)
    monkeypatch.setitem(sys.modules, "ray.data", data)
    monkeypatch.setitem(sys.modules, "fugue_ray", types.ModuleType("fugue_ray"))
    calls.context = DataContext.current
    return calls


def test_ray_start_failure_is_one_message_not_a_traceback(monkeypatch):
    def refuse():
        raise ConnectionError(
            "Could not find any running Ray instance. Please specify the one to connect to\n"
            "by setting `--address` flag"
        )

    fake_ray(monkeypatch, init=refuse)
    with pytest.raises(SegchainError) as err, Engine("ray", address="auto", n_jobs=1, freq="W"):
        pass
    assert not isinstance(err.value, UsageError)  # exit 1: the cluster, not the command line
    assert str(err.value).startswith(
        "--address auto: Ray could not start (Could not find any running Ray instance. "
        "Please specify the one to connect to)"
    )


def test_ray_init_keeps_segchains_sigterm_handler(monkeypatch):
    def handler(signum, frame):  # stands for cli._terminate
        raise AssertionError

    def install_abseil_handler():
        signal.signal(signal.SIGTERM, lambda *a: None)  # Ray's failure-signal handler

    monkeypatch.setattr(signal, "getsignal", signal.getsignal)
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        fake_ray(monkeypatch, init=install_abseil_handler)
        with Engine("ray", address=None, n_jobs=1, freq="W"):
            assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_ray_is_started_quiet_and_stopped_at_the_end(monkeypatch):
    calls = fake_ray(monkeypatch)
    with Engine("ray", address=None, n_jobs=1, freq="W"):
        pass
    assert calls.init_kwargs["log_to_driver"] is False
    assert calls.init_kwargs["logging_level"] >= 30  # WARNING or above
    assert calls.context.enable_progress_bars is False
    assert calls.shutdowns == 1


def test_ray_cluster_without_a_cpu_stops_the_run(monkeypatch, fast_grace):
    calls = fake_ray(monkeypatch, cpus=0)
    with (
        pytest.raises(SegchainError) as err,
        Engine("ray", address="10.0.0.5:6379", n_jobs=1, freq="W"),
    ):
        pass
    assert not isinstance(err.value, UsageError)
    assert str(err.value).startswith(
        "--address 10.0.0.5:6379: the Ray cluster there has no CPU (no worker node with one "
        "joined) for 0.3 s, so nothing would run the models"
    )
    assert "ray start --address" in (err.value.hint or "")
    assert calls.shutdowns == 1  # disconnected from that cluster


class FakeSparkContext:
    def __init__(self, master: str, executors: int) -> None:
        self.master = master
        self.levels: list[str] = []
        status = types.SimpleNamespace(size=lambda: executors + 1)  # the driver is listed
        self._jsc = types.SimpleNamespace(
            sc=lambda: types.SimpleNamespace(getExecutorMemoryStatus=lambda: status)
        )

    def getConf(self):  # noqa: N802 - pyspark's name
        return types.SimpleNamespace(contains=lambda key: False)

    def setLogLevel(self, level: str) -> None:  # noqa: N802
        self.levels.append(level)

    def cancelAllJobs(self) -> None:  # noqa: N802
        pass


def fake_spark(monkeypatch, *, master="local[*]", executors=0, fail=None):
    seen = types.SimpleNamespace(env=None, conf={}, stopped=0, session=None)

    class Session:
        def __init__(self) -> None:
            self.sparkContext = FakeSparkContext(master, executors)
            self.conf = types.SimpleNamespace(set=seen.conf.__setitem__)

        def createDataFrame(self, pdf):  # noqa: N802 - pyspark's name
            return pdf

        def stop(self) -> None:
            seen.stopped += 1

    class Builder:
        def config(self, key, value):
            seen.conf[key] = value
            return self

        def master(self, value):
            return self

        def getOrCreate(self):  # noqa: N802
            seen.env = {k: os.environ.get(k) for k in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
            if fail is not None:
                raise fail
            seen.session = Session()
            return seen.session

    sql = types.ModuleType("pyspark.sql")
    sql.SparkSession = types.SimpleNamespace(builder=Builder())  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pyspark", types.ModuleType("pyspark"))
    monkeypatch.setitem(sys.modules, "pyspark.sql", sql)
    monkeypatch.setitem(sys.modules, "fugue_spark", types.ModuleType("fugue_spark"))
    return seen


def test_spark_workers_run_this_interpreter_unless_told(monkeypatch):
    monkeypatch.delenv("PYSPARK_PYTHON", raising=False)
    monkeypatch.delenv("PYSPARK_DRIVER_PYTHON", raising=False)
    seen = fake_spark(monkeypatch)
    with Engine("spark", address=None, n_jobs=1, freq="W"):
        pass
    assert seen.env == {"PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}


def test_spark_workers_python_set_by_the_user_is_kept(monkeypatch):
    monkeypatch.setenv("PYSPARK_PYTHON", "/opt/cluster/python3")
    seen = fake_spark(monkeypatch)
    with Engine("spark", address=None, n_jobs=1, freq="W"):
        pass
    assert seen.env["PYSPARK_PYTHON"] == "/opt/cluster/python3"


def test_spark_is_started_quiet_and_stopped_at_the_end(monkeypatch):
    seen = fake_spark(monkeypatch)
    with Engine("spark", address=None, n_jobs=1, freq="W"):
        pass
    assert seen.conf["spark.ui.showConsoleProgress"] == "false"
    assert seen.session.sparkContext.levels[0] in ("WARN", "ERROR")
    assert seen.stopped == 1


def test_spark_start_failure_is_one_message_not_a_traceback(monkeypatch):
    fail = RuntimeError(
        "[JAVA_GATEWAY_EXITED] Java gateway process exited before sending its port number.\n"
        "JVM stacktrace: ..."
    )
    fake_spark(monkeypatch, fail=fail)
    with (
        pytest.raises(SegchainError) as err,
        Engine("spark", address="k8s://https://127.0.0.1:1", n_jobs=1, freq="W"),
    ):
        pass
    assert str(err.value).splitlines()[0] == (
        "--address k8s://https://127.0.0.1:1: Spark could not start ([JAVA_GATEWAY_EXITED] Java "
        "gateway process exited before sending its port number.); no output was computed"
    )


def test_spark_master_without_an_executor_stops_the_run(monkeypatch, fast_grace):
    seen = fake_spark(monkeypatch, master="spark://127.0.0.1:7177", executors=0)
    with (
        pytest.raises(SegchainError) as err,
        Engine("spark", address="spark://127.0.0.1:7177", n_jobs=1, freq="W"),
    ):
        pass
    assert not isinstance(err.value, UsageError)
    assert "the Spark cluster there gave the run no executor" in str(err.value)
    assert seen.stopped == 1  # the application it registered is ended


def test_spark_master_with_an_executor_runs(monkeypatch, fast_grace):
    seen = fake_spark(monkeypatch, master="spark://127.0.0.1:7177", executors=1)
    with Engine("spark", address="spark://127.0.0.1:7177", n_jobs=1, freq="W"):
        pass
    assert seen.stopped == 1


def test_sigterm_lost_inside_the_engines_call_still_stops_the_run(monkeypatch):
    fake_spark(monkeypatch)
    monkeypatch.setattr(Terminated, "taken", signal.SIGTERM)
    with (
        pytest.raises(Terminated) as err,
        Engine("spark", address=None, n_jobs=1, freq="W") as eng,
        eng._workers_kept(),
    ):
        # pyspark's toPandas: its clean-up's Py4JJavaError replaced the Terminated
        raise RuntimeError("An error occurred while calling o195.getResult")
    assert err.value.exit_code == 143


def test_spark_stopped_with_its_log_off_after_a_failure(monkeypatch):
    seen = fake_spark(monkeypatch)
    with pytest.raises(KeyboardInterrupt), Engine("spark", address=None, n_jobs=1, freq="W"):
        raise KeyboardInterrupt
    assert seen.session.sparkContext.levels[-1] == "OFF"
    assert seen.stopped == 1


def _series(n: int) -> pl.DataFrame:
    import datetime as dt

    return pl.DataFrame(
        {
            "unique_id": [f"s{i}" for i in range(n) for _ in range(3)],
            "ds": [dt.date(2024, 1, 1 + 7 * k) for _ in range(n) for k in range(3)],
            "y": [1.0] * (3 * n),
        }
    )


@pytest.mark.parametrize(("series", "parts"), [(46, 1), (236, 4), (491, 9), (10_000, 64)])
def test_spark_and_ray_partitions_follow_the_series_count(monkeypatch, series, parts):
    # Dask's rule (about 50 series a partition, up to 64): the engines' default of 200 made the
    # demo's sample take 14x (Ray) and 18x (Spark) the local run's time.
    seen = fake_spark(monkeypatch)
    with Engine("spark", address=None, n_jobs=1, freq="W") as eng:
        eng._to_engine(_series(series))
    assert seen.conf["spark.sql.shuffle.partitions"] == str(parts)
    calls = fake_ray(monkeypatch)
    with Engine("ray", address=None, n_jobs=1, freq="W") as eng:
        eng._to_engine(_series(series))
    assert calls.context.default_hash_shuffle_parallelism == parts


# --- checked before any input is read (the standard library only) --------------------------

from segchain.cli import endpoint  # noqa: E402


@pytest.mark.parametrize("master", ["bogus-master", "spark//host:7077", "http://host:8080"])
def test_spark_master_spark_does_not_know_is_refused(master):
    with pytest.raises(UsageError) as err:
        endpoint.check_spark_master(master)
    assert str(err.value).startswith(f"--address {master}: not a Spark master")


@pytest.mark.parametrize("master", ["local", "local[2]", "LOCAL[*]", "k8s://https://h:6443"])
def test_spark_masters_spark_knows_pass_unprobed(master):
    endpoint.check_spark_master(master)


def test_spark_yarn_without_its_configuration_is_refused(monkeypatch):
    monkeypatch.delenv("HADOOP_CONF_DIR", raising=False)
    monkeypatch.delenv("YARN_CONF_DIR", raising=False)
    with pytest.raises(UsageError, match="neither HADOOP_CONF_DIR nor YARN_CONF_DIR is set"):
        endpoint.check_spark_master("yarn")
    monkeypatch.setenv("HADOOP_CONF_DIR", "/etc/hadoop/conf")
    endpoint.check_spark_master("yarn")


def test_spark_without_java_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk-removed"))
    with pytest.raises(UsageError) as err:
        endpoint.check_java()
    assert str(err.value).startswith(
        f"--engine spark needs Java: JAVA_HOME is {tmp_path / 'jdk-removed'}, which has no bin/java"
    )
    monkeypatch.delenv("JAVA_HOME")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UsageError, match="no java is on PATH and JAVA_HOME is not set"):
        endpoint.check_java()
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("#!/bin/sh\n")
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    endpoint.check_java()


def test_ray_auto_with_no_cluster_started_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(UsageError) as err:
        endpoint.check_ray_cluster("auto")
    assert str(err.value).startswith("--address auto: no Ray cluster was started on this machine")
    endpoint.check_ray_cluster(None)  # no address, no file: Ray starts its own


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("address", ["auto", None])
def test_ray_cluster_left_by_ray_start_is_probed(monkeypatch, tmp_path, address):
    # `ray start` left its head's address; that head is gone. Ray connects to it for `auto` and
    # without --address, and waited for minutes on an address that did not answer.
    port = _closed_port()
    (tmp_path / "ray").mkdir()
    (tmp_path / "ray" / "ray_current_cluster").write_text(f"127.0.0.1:{port}")
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(UsageError) as err:
        endpoint.check_ray_cluster(address)
    where = "--address auto" if address else "--engine ray"
    assert str(err.value).startswith(
        f"{where}: the Ray cluster that {tmp_path / 'ray' / 'ray_current_cluster'} names: "
        f"nothing listens on 127.0.0.1:{port} (connection refused)"
    )
    assert "ray stop" in (err.value.hint or "")


def test_ray_address_from_the_environment_is_the_one_probed(monkeypatch):
    port = _closed_port()
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{port}")
    with pytest.raises(UsageError) as err:
        endpoint.check_ray_cluster("10.0.0.5:6379")
    assert str(err.value).startswith(
        f"--address 10.0.0.5:6379 (RAY_ADDRESS 127.0.0.1:{port}, which Ray connects to "
        f"instead): nothing listens on 127.0.0.1:{port}"
    )


# --- the real engines, where installed (CI has neither) ----------------------------------


def test_real_ray_starts_with_segchains_sigterm_handler_and_stops(monkeypatch):
    ray = pytest.importorskip("ray")
    pytest.importorskip("fugue_ray")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")

    def handler(signum, frame):  # stands for cli._terminate
        raise AssertionError

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        with Engine("ray", address="local", n_jobs=1, freq="W"):
            assert ray.is_initialized()
            assert signal.getsignal(signal.SIGTERM) is handler  # not abseil's: exit 134
        assert not ray.is_initialized()
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_real_spark_workers_run_this_interpreter(monkeypatch):
    import shutil

    pytest.importorskip("pyspark")
    pytest.importorskip("fugue_spark")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        pytest.skip("no Java for Spark")
    monkeypatch.delenv("PYSPARK_PYTHON", raising=False)
    monkeypatch.delenv("PYSPARK_DRIVER_PYTHON", raising=False)
    # A PATH whose python3 is not this interpreter, as for a venv not activated.
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    with Engine("spark", address="local[1]", n_jobs=1, freq="W") as eng:
        rdd = eng._spark.sparkContext.parallelize([0], 1)
        seen = rdd.map(lambda _: __import__("sys").executable).collect()
    assert seen == [sys.executable]
