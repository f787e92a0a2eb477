"""Session 63: Spark's JVM logs errors only from its start under ``forecast --engine spark``.

Its default log4j profile printed 7 lines (the profile, the default level and how to change it,
the host's loopback address, the native-hadoop library) on stderr before segchain could set a
level; the user's own log configuration is kept."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from segchain.forecast.engines import SPARK_LOG_CONFIG, quiet_spark_start

OPTION = f"-Dlog4j2.configurationFile={SPARK_LOG_CONFIG.as_uri()}"


def test_the_configuration_ships_with_segchain_and_logs_errors_only() -> None:
    text = SPARK_LOG_CONFIG.read_text()
    assert "rootLogger.level = error" in text
    # The logger whose level PySpark's JVM announces as "Setting default log level".
    assert "org.apache.spark.api.python.PythonGatewayServer" in text


def test_spark_start_gets_the_configuration_through_spark_submit_opts() -> None:
    env: dict[str, str] = {}
    quiet_spark_start(env)
    assert env == {"SPARK_SUBMIT_OPTS": OPTION}


def test_the_users_spark_submit_opts_are_kept() -> None:
    env = {"SPARK_SUBMIT_OPTS": "-Dhttp.proxyHost=proxy"}
    quiet_spark_start(env)
    assert env["SPARK_SUBMIT_OPTS"] == f"-Dhttp.proxyHost=proxy {OPTION}"
    # A log configuration of the user's there is left alone.
    own = {"SPARK_SUBMIT_OPTS": "-Dlog4j2.configurationFile=/etc/mine.properties"}
    quiet_spark_start(own)
    assert own == {"SPARK_SUBMIT_OPTS": "-Dlog4j2.configurationFile=/etc/mine.properties"}


@pytest.mark.parametrize("where", ["SPARK_CONF_DIR", "SPARK_HOME"])
def test_a_log4j2_file_of_the_users_is_kept(tmp_path: Path, where: str) -> None:
    conf = tmp_path / "conf" if where == "SPARK_HOME" else tmp_path
    conf.mkdir(exist_ok=True)
    (conf / "log4j2.properties").write_text("rootLogger.level = info\n")
    env = {where: str(tmp_path)}
    quiet_spark_start(env)
    assert "SPARK_SUBMIT_OPTS" not in env


def test_real_spark_starts_without_its_default_profiles_notes(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    pytest.importorskip("fugue_spark")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        pytest.skip("no Java for Spark")
    script = textwrap.dedent(
        """
        from segchain.forecast.engines import Engine
        with Engine("spark", address="local[1]", n_jobs=1, freq="W") as eng:
            print(eng._spark.sparkContext.parallelize([1, 2], 1).count())
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPARK_")}
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "2"
    for note in ("default log4j profile", "Setting default log level", "sc.setLogLevel"):
        assert note not in ran.stderr, ran.stderr
