"""Where StatsForecast runs: locally, or on Dask / Ray / Spark through fugue."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import polars as pl

from segchain.errors import UsageError
from segchain.forecast.options import FREQS, PANDAS_FREQS

if TYPE_CHECKING:
    from distributed import Client, LocalCluster


# What the distributed engines say on every run that no user can act on: pandas deprecating
# the group-by apply that fugue's Dask backend runs (28 warnings on the demo's sample), and
# Dask's P2P shuffle announcing each shuffle it starts and stops at WARNING level (36 more).
# They buried the forecast's own warnings on stderr.
ENGINE_NOISE = ("DataFrameGroupBy.apply operated on the grouping columns",)
ENGINE_LOGGERS = ("distributed.shuffle._scheduler_plugin",)


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
            if self._client is not None:
                self._client.close()
            if self._cluster is not None:
                self._cluster.close()
        finally:
            self._quiet.close()

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
        out = sf.cross_validation(
            h=h, df=self._to_engine(df), n_windows=n_windows, step_size=h, refit=True
        )
        return self._from_engine(out)

    def forecast(
        self, models: list, df: pl.DataFrame, *, h: int, level: list | None, fitted: bool = False
    ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        """(forecast, in-sample one-step-ahead fitted values when ``fitted``, else None)."""
        sf = self._sf(models, df.get_column("unique_id").n_unique())
        out = self._from_engine(
            sf.forecast(h=h, df=self._to_engine(df), level=level, fitted=fitted)
        )
        return out, self._from_engine(sf.forecast_fitted_values()) if fitted else None
