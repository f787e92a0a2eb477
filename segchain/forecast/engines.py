"""Where StatsForecast runs: locally, or on Dask / Ray / Spark through fugue."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import polars as pl

from segchain.errors import SegchainError, UsageError
from segchain.forecast.options import FREQS, PANDAS_FREQS

if TYPE_CHECKING:
    from distributed import Client, LocalCluster


# What the distributed engines say on every run that no user can act on: pandas deprecating
# the group-by apply that fugue's Dask backend runs (28 warnings on the demo's sample), and
# Dask's P2P shuffle announcing each shuffle it starts and stops at WARNING level (36 more).
# They buried the forecast's own warnings on stderr.
ENGINE_NOISE = ("DataFrameGroupBy.apply operated on the grouping columns",)
ENGINE_LOGGERS = ("distributed.shuffle._scheduler_plugin",)

# How long a scheduler at --address may have no worker before the run is stopped. Its tasks
# would wait in the 'no-worker' state for ever (a cron job hung: audit J of session 60), and the
# scheduler's own limit, distributed.scheduler.no-workers-timeout, is its config, unset by
# default. Long enough for a worker killed (OOM, kill -9) to come back: a nanny restarted one
# in 1 to 3 s here, a supervisor (systemd, Kubernetes' first back-off of 10 s) in tens.
NO_WORKER_GRACE_SECONDS = 30.0
# How often the watch asks the scheduler for its workers: one small message.
WORKER_POLL_SECONDS = 1.0


@contextlib.contextmanager
def _engine_noise_hidden() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in ENGINE_LOGGERS]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings():
        for text in ENGINE_NOISE:
            warnings.filterwarnings("ignore", message=text)
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)


def _connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps: fugue may re-raise) says the client lost its
    scheduler: Dask cancels every task then ('scheduler-connection-lost'), or its comm closed.
    A killed scheduler had printed Dask's traceback."""
    from distributed.client import FutureCancelledError
    from distributed.comm.core import CommClosedError

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, CommClosedError) or (
            isinstance(exc, FutureCancelledError) and "connection-lost" in str(exc)
        ):
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False


class WorkersWatch:
    """Closes a Dask client whose scheduler has had no worker for ``grace`` seconds, so that the
    call waiting on its tasks raises (a cancelled error) instead of waiting for ever. Dask has
    no client setting to fail tasks without workers, nor a public list of a client's tasks to
    cancel; closing cancels them all, and the scheduler drops them. ``lost`` says it fired."""

    def __init__(self, client: Client, *, grace: float, poll: float) -> None:
        self.client = client
        self.grace = grace
        self.poll = poll
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="segchain-workers-watch")
        self._thread.daemon = True

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        # A close the watch began is finished first (Dask's own limit is 20 s), the engine's
        # close following it; a poll the scheduler is slow to answer is not waited for.
        self._thread.join(timeout=self.poll + (30 if self.lost else 5))

    def _watch(self) -> None:
        none_since: float | None = None
        while not self._stop.wait(self.poll):
            try:
                workers = len(self.client.nthreads())
            except Exception:  # noqa: BLE001 - a question unanswered is no proof of no worker
                continue
            if workers:
                none_since = None
                continue
            now = time.monotonic()
            none_since = now if none_since is None else none_since
            if now - none_since >= self.grace:
                self.lost = True
                with contextlib.suppress(Exception):
                    self.client.close()
                return


class Engine:
    """Runs StatsForecast calls locally or on Dask / Ray / Spark through fugue."""

    def __init__(self, name: str, *, address: str | None, n_jobs: int, freq: str) -> None:
        self.name = name
        self.address = address
        self.n_jobs = n_jobs
        self.freq = freq
        self._client: Client | None = None
        self._cluster: LocalCluster | None = None
        # pyspark is an optional, untyped dependency.
        self._spark: Any = None
        self._watch: WorkersWatch | None = None
        self._quiet = contextlib.ExitStack()

    def __enter__(self) -> Engine:
        if self.name != "local":
            self._quiet.enter_context(_engine_noise_hidden())
        try:
            return self._start()
        except BaseException:
            self._quiet.close()
            raise

    def _start(self) -> Engine:
        if self.name == "dask":
            try:
                import dask.dataframe  # noqa: F401
                from distributed import Client, LocalCluster
            except ImportError as e:
                raise UsageError(
                    f"--engine dask needs Dask ({e.name} is not installed)",
                    hint="pip install 'segchain[dask]'",
                ) from None
            if self.address:
                try:
                    self._client = Client(self.address, timeout="10s", set_as_default=True)
                except OSError as e:
                    raise UsageError(
                        f"--address {self.address}: cannot reach a Dask scheduler ({e})",
                        hint="start one with `dask scheduler` or leave --address out for a "
                        "local cluster",
                    ) from None
                self._watch = WorkersWatch(
                    self._client, grace=NO_WORKER_GRACE_SECONDS, poll=WORKER_POLL_SECONDS
                )
                self._watch.start()
            else:
                self._cluster = LocalCluster(processes=False, n_workers=1, dashboard_address=None)
                self._client = Client(self._cluster, set_as_default=True)
        elif self.name == "ray":
            try:
                import fugue_ray  # noqa: F401
                import ray
            except ImportError:
                raise UsageError(
                    "--engine ray needs Ray and fugue[ray], which are not installed",
                    hint="pip install 'segchain[ray]'",
                ) from None
            if not ray.is_initialized():
                ray.init(address=self.address, ignore_reinit_error=True)
        elif self.name == "spark":
            try:
                import fugue_spark  # noqa: F401
                from pyspark.sql import SparkSession
            except ImportError:
                raise UsageError(
                    "--engine spark needs PySpark and fugue[spark], which are not installed",
                    hint="pip install 'segchain[spark]'",
                ) from None
            builder = SparkSession.builder
            if self.address:
                builder = builder.master(self.address)
            self._spark = builder.getOrCreate()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._watch is not None:
                self._watch.stop()
            if self._client is not None:
                self._client.close()
            if self._cluster is not None:
                self._cluster.close()
        finally:
            self._quiet.close()

    @contextlib.contextmanager
    def _workers_kept(self) -> Iterator[None]:
        """Raise SegchainError when the watch found the cluster without workers, whatever the
        cancelled call raised (fugue may wrap Dask's CancelledError) or returned: a closed
        client's later computations would run on this machine's threads unsaid."""
        watch = self._watch
        if watch is not None and watch.lost:
            raise self._workers_lost()
        try:
            yield
        except Exception as exc:
            if watch is not None and watch.lost:
                raise self._workers_lost() from None
            if watch is not None and _connection_lost(exc):
                raise self._scheduler_lost() from None
            raise
        if watch is not None and watch.lost:
            raise self._workers_lost()

    def _scheduler_lost(self) -> SegchainError:
        address = (self.address or "").strip()
        return SegchainError(
            f"--address {address}: the connection to the Dask scheduler was lost during the "
            "run (the scheduler stopped, or the network to it failed); the run was stopped",
            hint="check that the scheduler is running and reachable, and run it again, or leave "
            "--address out for a local cluster",
        )

    def _workers_lost(self) -> SegchainError:
        address = (self.address or "").strip()
        return SegchainError(
            f"--address {address}: the Dask cluster lost its workers during the run (the "
            f"scheduler there had none for {NO_WORKER_GRACE_SECONDS:g} s), and its tasks "
            "would have waited for one without end; the run was stopped",
            hint="a worker killed (out of memory, kill -9) comes back only under a nanny "
            f"(`dask worker {address}` starts one) or a supervisor; start workers with "
            "the memory the run needs and run it again, or leave --address out for a local "
            "cluster",
        )

    def _sf(self, models: list, n_series: int):
        from statsforecast import StatsForecast
        from statsforecast.models import HistoricAverage

        # A process pool costs more than it saves on a handful of series.
        n_jobs = 1 if n_series < 200 else self.n_jobs
        return StatsForecast(
            models=models,
            freq=FREQS[self.freq][0] if self.name == "local" else PANDAS_FREQS[self.freq],
            n_jobs=n_jobs,
            fallback_model=HistoricAverage(),
        )

    def _to_engine(self, df: pl.DataFrame):
        if self.name == "local":
            return df
        pdf = df.with_columns(pl.col("ds").cast(pl.Datetime("ns"))).to_pandas()
        if self.name == "dask":
            import dask.dataframe as dd

            parts = max(1, min(64, df.get_column("unique_id").n_unique() // 50))
            return dd.from_pandas(pdf, npartitions=parts)
        if self.name == "ray":
            import ray.data

            return ray.data.from_pandas(pdf)
        return self._spark.createDataFrame(pdf)

    def _from_engine(self, out: Any) -> pl.DataFrame:
        if isinstance(out, pl.DataFrame):
            return out
        if self.name == "dask":
            out = out.compute()
        elif self.name == "ray":
            out = out.to_pandas()
        elif self.name == "spark":
            out = out.toPandas()
        frame = pl.from_pandas(out.reset_index() if "unique_id" not in out.columns else out)
        casts = [pl.col(c).cast(pl.Date) for c in ("ds", "cutoff") if c in frame.columns]
        floats = [
            pl.col(c).cast(pl.Float64)
            for c, t in frame.schema.items()
            if c not in ("unique_id", "ds", "cutoff") and t.is_numeric()
        ]
        return frame.with_columns(*casts, *floats)

    def cross_validation(self, models: list, df: pl.DataFrame, *, h: int, n_windows: int):
        sf = self._sf(models, df.get_column("unique_id").n_unique())
        with self._workers_kept():
            out = sf.cross_validation(
                h=h, df=self._to_engine(df), n_windows=n_windows, step_size=h, refit=True
            )
            return self._from_engine(out)

    def forecast(
        self, models: list, df: pl.DataFrame, *, h: int, level: list | None, fitted: bool = False
    ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        """(forecast, in-sample one-step-ahead fitted values when ``fitted``, else None)."""
        sf = self._sf(models, df.get_column("unique_id").n_unique())
        with self._workers_kept():
            out = self._from_engine(
                sf.forecast(h=h, df=self._to_engine(df), level=level, fitted=fitted)
            )
            return out, self._from_engine(sf.forecast_fitted_values()) if fitted else None
