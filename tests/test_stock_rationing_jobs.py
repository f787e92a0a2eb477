"""The rationing search on several processes, its progress, and its replay's chunking.

On 298 stocking points of The Complete Journey (every product bought by 9-11 RFM segments),
`stock --policy RS` ran ~45 minutes with nothing on stderr, on one core. The plans must not
depend on how many processes make them, nor on how the replay chunks its (plan, cycle) pairs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from test_stock_rationing import LEAD, MIX, REVIEW, TABLE, forecast
from typer.testing import CliRunner

from segchain.cli import app
from segchain.stock import rationing, stock

STEP = "rationing by segment priority"


def _plan(**kwargs: object):
    items = pl.DataFrame({"sku": ["FAST", "SLOW", "LUMPY"], "lead_time_days": [float(LEAD)] * 3})
    return stock(forecast(MIX), items=items, policies=TABLE, review_days=REVIEW, **kwargs)


def test_plans_are_the_same_on_one_process_and_on_two() -> None:
    one, two = _plan(n_jobs=1), _plan(n_jobs=2)
    # Three points rationed: two processes really shared them out.
    assert int(one.policy["rationed"].sum()) == 3
    assert one.policy.equals(two.policy)
    assert one.segments is not None and two.segments is not None
    assert one.segments.equals(two.segments)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_progress_counts_every_rationed_point_in_order(n_jobs: int) -> None:
    calls: list[tuple[str, int, int]] = []
    _plan(n_jobs=n_jobs, progress=lambda *a: calls.append(a))
    assert calls == [(STEP, done, 3) for done in range(4)]


def test_replay_does_not_depend_on_how_its_pairs_are_chunked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seg = rationing.Segments(
        mean=np.array([1.0, 2.0, 3.0]),
        var=np.array([2.0, 5.0, 9.0]),
        fill_target=np.array([0.99, 0.95, 0.9]),
        csl_target=np.full(3, np.nan),
    )
    smp = rationing.sample(seg, 14, 7, 3000, seed=4)
    level = np.array([120.0, 140.0, 160.0])
    reserves = np.array([[0.0, 5.0, 10.0], [0.0, 0.0, 20.0], [0.0, 15.0, 15.0]])
    whole = rationing.replay(smp, level, reserves)
    monkeypatch.setattr(rationing, "REPLAY_CHUNK", 7)
    chunked = rationing.replay(smp, level, reserves)
    # Cycles cut short, so the day-by-day replay ran on many chunks.
    assert whole[0].sum() > 0
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("args", "toml"),
    [(["--n-jobs", "0"], ""), ([], "[stock]\nn_jobs = 0\n")],
    ids=["option", "config"],
)
def test_zero_processes_is_a_usage_error(tmp_path: Path, args: list[str], toml: str) -> None:
    fc = tmp_path / "fc.csv"
    forecast(MIX).write_csv(fc)
    config = tmp_path / "segchain.toml"
    config.write_text(toml)
    out = tmp_path / "policy.csv"
    res = CliRunner().invoke(
        app, ["stock", str(fc), "-o", str(out), "--config", str(config), *args]
    )
    assert res.exit_code == 2, res.output
    assert "n-jobs" in res.output or "n_jobs" in res.output
    assert "-1 (every core) or a whole number of processes >= 1" in res.output
    assert not out.exists()


def test_cli_plans_with_two_processes_as_with_one(tmp_path: Path) -> None:
    fc = tmp_path / "fc.csv"
    forecast(MIX).write_csv(fc)
    items = tmp_path / "items.csv"
    pl.DataFrame({"sku": ["FAST", "SLOW", "LUMPY"], "lead_time_days": [float(LEAD)] * 3}).write_csv(
        items
    )
    config = tmp_path / "segchain.toml"
    config.write_text(
        "".join(
            f'[segments."{name}"]\nservice_level = {p.service_level}\n'
            for name, p in TABLE.policies.items()
        )
    )
    outs = []
    for n in ("1", "2"):
        out = tmp_path / f"policy{n}.csv"
        res = CliRunner().invoke(
            app,
            [
                "stock",
                str(fc),
                "--items",
                str(items),
                "--policy",
                "RS",
                "--review-days",
                str(REVIEW),
                "--config",
                str(config),
                "--n-jobs",
                n,
                "-o",
                str(out),
            ],
        )
        assert res.exit_code == 0, res.output
        assert "segchain stock: planning took" in res.output
        outs.append(out.read_bytes())
    assert pl.read_csv(tmp_path / "policy1.csv")["rationed"].sum() == 3
    assert outs[0] == outs[1]


@pytest.mark.parametrize(("name", "code", "message"), [
    ("SIGINT", 130, "interrupted"),
    ("SIGTERM", 143, "stopped by SIGTERM"),
])  # fmt: skip
def test_a_signal_during_the_pool_stops_every_process_and_writes_nothing(
    tmp_path: Path, name: str, code: int, message: str
) -> None:
    # The search's pool of forked workers: Ctrl-C (to the whole process group, as a terminal
    # sends it) or SIGTERM (to the command, as `timeout` sends it) must stop the command at
    # once, leave no worker behind and write nothing.
    import os
    import signal
    import subprocess
    import sys
    import time

    if not Path("/proc/self/stat").exists():
        pytest.skip("lists the command's processes from /proc (Linux)")
    rows = [(f"{sku}{i}", g, m, sd) for i in range(8) for sku, g, m, sd in MIX]
    forecast(rows).write_csv(tmp_path / "fc.csv")
    (tmp_path / "segchain.toml").write_text(
        "".join(
            f'[segments."{label}"]\nservice_level = {p.service_level}\n'
            for label, p in TABLE.policies.items()
        )
    )
    (tmp_path / "policy.csv").write_text("before\n")
    sig = getattr(signal, name)
    exe = str(Path(sys.executable).with_name("segchain"))
    proc = subprocess.Popen(
        [exe, "stock", "fc.csv", "--config", "segchain.toml", "--policy", "RS"]
        + ["--review-days", str(REVIEW), "--n-jobs", "2", "-o", "policy.csv"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SEGCHAIN_HEARTBEAT": "1"},
        start_new_session=True,
        # As from a terminal: a test run in the background hands SIGINT down ignored.
        preexec_fn=lambda: signal.signal(sig, signal.SIG_DFL),
    )
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:  # the pool is at work once the heartbeat counts its points
        lines.append(line)
        if "rationing by segment priority" in line:
            break
    assert any("rationing by segment priority" in x for x in lines), "".join(lines)

    def group() -> list[str]:
        # The live processes of the command's process group, from /proc (no pgrep needed).
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # ended meanwhile
                continue
            if fields[2] == str(proc.pid) and fields[0] != "Z":
                found.append(stat.parent.name)
        return found

    for _ in range(100):  # the pool starts right after the step is announced
        if len(group()) == 3:
            break
        time.sleep(0.1)
    assert len(group()) == 3  # the command and its two workers
    start = time.monotonic()
    if name == "SIGINT":
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    stderr = "".join(lines) + proc.stderr.read()
    assert proc.wait(timeout=60) == code, stderr
    assert time.monotonic() - start < 30
    assert stderr.rstrip().endswith(f"segchain stock: Error: {message}; no output was written")
    assert "Traceback" not in stderr
    time.sleep(0.5)
    assert group() == []
    assert (tmp_path / "policy.csv").read_text() == "before\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fc.csv", "policy.csv", "segchain.toml"]


def test_a_rationed_points_plan_does_not_depend_on_the_points_before_it() -> None:
    # Each point's sample was seeded by its row, so a sku added before it (or left out) gave
    # it other draws and another plan. It is now seeded by its own keys: the plan of LUMPY
    # alone is the known answer for LUMPY planned beside the others.
    items = pl.DataFrame({"sku": ["FAST", "SLOW", "LUMPY"], "lead_time_days": [float(LEAD)] * 3})
    fc = forecast(MIX)
    every = stock(fc, items=items, policies=TABLE, review_days=REVIEW).policy
    alone = stock(
        fc.filter(pl.col("sku") == "LUMPY"), items=items, policies=TABLE, review_days=REVIEW
    ).policy
    assert bool(alone["rationed"][0])
    assert alone.equals(every.filter(pl.col("sku") == "LUMPY"))
