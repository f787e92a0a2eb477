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
