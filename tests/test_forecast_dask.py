"""The Dask engine gives the same forecast as the local one, on a real scheduler and worker."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from segchain.forecast import forecast

pytest.importorskip("distributed", reason="dask[distributed] is not installed (segchain[dask])")
pytest.importorskip("fugue", reason="fugue is not installed (segchain[dask])")


DASK_CLI = Path(sys.executable).with_name("dask")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def cluster(
    log: Path, *, nanny: bool, scheduler_out: list | None = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """A `dask scheduler` and one single-threaded `dask worker` on 127.0.0.1: (address, the
    worker's process: the worker itself without a nanny, else the nanny); the scheduler's
    process is appended to ``scheduler_out`` when given."""
    if not DASK_CLI.exists():
        pytest.skip(f"dask command line not found next to {sys.executable}")
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    out = log.open("w")
    scheduler = [
        str(DASK_CLI),
        "scheduler",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--dashboard-address",
        ":0",
        "--no-show",
    ]
    procs = [subprocess.Popen(scheduler, stdout=out, stderr=subprocess.STDOUT)]
    if scheduler_out is not None:
        scheduler_out.append(procs[0])
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                Client(address, timeout="2s").close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("dask scheduler did not start: " + log.read_text())
                time.sleep(0.5)
        worker = [str(DASK_CLI), "worker", address, "--nthreads", "1", "--no-dashboard"]
        worker += ["--host", "127.0.0.1"] + ([] if nanny else ["--no-nanny"])
        procs.append(subprocess.Popen(worker, stdout=out, stderr=subprocess.STDOUT))
        with Client(address) as client:
            client.wait_for_workers(1, timeout=60)
        yield address, procs[1]
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        out.close()


@pytest.fixture
def scheduler(tmp_path):
    """A `dask scheduler` and one `dask worker` (under a nanny) on 127.0.0.1; torn down after
    the test."""
    with cluster(tmp_path / "dask.log", nanny=True) as (address, _):
        yield address


def small_inputs():
    import datetime as dt

    rng = np.random.default_rng(2)
    rows = []
    start = dt.date(2023, 1, 2)
    for c in range(6):
        for w in range(60):
            for sku in ("a", "b"):
                q = rng.poisson(3 if sku == "a" else 0.4)
                if q:
                    rows.append(
                        (f"o{c}{w}{sku}", start + dt.timedelta(weeks=w), f"c{c}", sku, float(q))
                    )
    orders = pl.DataFrame(
        rows, schema=["order_id", "order_date", "customer_id", "sku", "quantity"], orient="row"
    ).with_columns(unit_price=pl.lit(1.0), amount=pl.col("quantity"), flag=pl.lit(None, pl.Utf8))
    segments = pl.DataFrame(
        {"customer_id": [f"c{c}" for c in range(6)], "segment": ["A", "B", "C"] * 2}
    )
    return orders, segments


def test_forecast_dask_equals_local(scheduler):
    orders, segments = small_inputs()
    local = forecast(orders, segments, horizon=6, n_jobs=1)
    dask = forecast(orders, segments, horizon=6, engine="dask", address=scheduler)
    assert_frame_equal(dask.forecast, local.forecast, check_exact=False, rel_tol=1e-6)
    # Backtest metrics near zero (a bias of -0.0228) are differences of sums that the engines add
    # in another order: equal to within 1e-5, not to 1e-6 of themselves.
    assert_frame_equal(dask.backtest, local.backtest, check_exact=False, rel_tol=1e-6, abs_tol=1e-5)


def test_forecast_dask_hides_what_the_engine_says_on_every_run(caplog):
    # pandas' deprecation of the group-by apply fugue runs, and Dask's P2P shuffle announcing
    # each shuffle at WARNING level: 64 of the 68 warnings on stderr of the demo's forecast
    # with --engine dask, none a user can act on. The forecast's own warnings stay.
    import logging
    import warnings

    orders, segments = small_inputs()
    with warnings.catch_warnings(record=True) as seen, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        forecast(orders, segments, horizon=6, engine="dask")
    said = [str(w.message) for w in seen] + [r.getMessage() for r in caplog.records]
    assert not [m for m in said if "DataFrameGroupBy.apply" in m or m.startswith("Shuffle ")], said
    # The filters are put back: a warning after the run is shown again.
    with warnings.catch_warnings(record=True) as after:
        warnings.simplefilter("always")
        warnings.warn("DataFrameGroupBy.apply operated on the grouping columns", stacklevel=1)
    assert len(after) == 1
    assert logging.getLogger("distributed.shuffle._scheduler_plugin").level == logging.NOTSET
