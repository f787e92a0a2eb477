"""The cores scikit-learn counts, counted once without joblib's traceback on stderr."""

from __future__ import annotations

import contextlib
import io
import warnings


def count_cores_quietly() -> None:
    """Count the physical cores as scikit-learn will (``joblib.cpu_count(only_physical_cores=
    True)``, before its OpenMP models fit), with what joblib's loky prints kept off stderr.

    Where the count fails (no ``lscpu`` and no ``cat`` on PATH, a container whose /proc/cpuinfo
    has no ``core id``), loky warns and prints the
    traceback of the failure on stderr itself (``traceback.print_tb``), which no warning filter
    catches: a forecast that succeeded showed a traceback. loky caches the count, failed or
    not, and says nothing on later calls; it then uses the logical cores, as it would have.
    ``LOKY_MAX_CPU_COUNT``, which loky's warning suggests, does not help when set to the cores
    there are: only a value below them skips the count (docs/measurements.md).
    """
    try:
        from joblib import cpu_count
    except ImportError:  # scikit-learn not installed: nothing counts
        return
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        cpu_count(only_physical_cores=True)
