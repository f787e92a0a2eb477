"""Feedback on long work: a progress bar on a terminal, a heartbeat line in logs, a timing line.

On a terminal, a transient rich bar shows the step, what is done of its total (when the stage
reports it) and the elapsed time; it never shows a percentage it does not know. When stderr is
not a terminal (cron, make logs), a plain line every ``SEGCHAIN_HEARTBEAT`` seconds (default 30)
says what is running::

    segchain forecast: backtesting models: 4,100 of 7,155 series, 2m10s elapsed, about 1m37s left

and one line at the end gives the time taken (the time left is given once half of the step's
units are done, and left out when half of it passed with no unit done: see ``Work.line``).
``--quiet`` silences all of it.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from segchain.descriptors import stdout_on

HEARTBEAT_SECONDS = 30.0


def heartbeat_seconds() -> float:
    """The heartbeat interval: ``SEGCHAIN_HEARTBEAT`` seconds (tests set it short), else 30.

    Raises:
        UsageError: the variable is not a number of seconds > 0 (declared in ``config``).
    """
    from segchain.config import env_setting

    return float(env_setting("SEGCHAIN_HEARTBEAT", HEARTBEAT_SECONDS))


def duration(seconds: float) -> str:
    """``42s``, ``2m10s``, ``1h05m``."""
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def stdout_to_stderr() -> contextlib.AbstractContextManager[None]:
    """Descriptor 1 on stderr while a stage works, so that what a library prints to stdout
    cannot reach a table written there (``-o -``): the tables are written after the work. Ray's
    driver printed its autoscaler's events ('(autoscaler +5s) Error: No available node types
    ...') to stdout ahead of the forecast's header, exit 0, and the next stage read a broken
    table (audit R of session 62). Said on stderr, such a line still reaches the user."""
    return stdout_on(2)


def _base(step: str) -> str:
    """A step's name without what it does now (``backtesting models: the next ...``)."""
    return step.split(": ", 1)[0]


class Work:
    """A long step of a command, reported on stderr while it runs; use as a context manager.

    ``update(step, done, total)`` is the stage's progress callback (``done`` of ``total`` units
    of the step; total 0 when unknown). Without updates, the heartbeat still says the step is
    running and for how long.
    """

    def __init__(
        self,
        command: str,
        step: str,
        *,
        unit: str = "",
        quiet: bool = False,
        interval: float | None = None,
        stream: Any = None,
        terminal: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.command = command
        self.label = step
        self.step = step
        self._given = self._named = step
        self.unit = unit
        self.quiet = quiet
        self.interval = interval if interval is not None else heartbeat_seconds()
        self._stream = stream
        self.terminal = terminal if terminal is not None else self.stream.isatty()
        self._clock = clock
        self._lock = threading.Lock()
        self._done = 0
        self._total = 0
        self._step_start = 0.0
        self._step_done = 0  # units already done when the step (re)started
        self._updated = 0.0
        self.start = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar: Any = None
        self._task: Any = None
        self._stdout_kept = contextlib.ExitStack()

    @property
    def stream(self) -> Any:
        return self._stream if self._stream is not None else sys.stderr

    def __enter__(self) -> Work:
        self.start = self._step_start = self._clock()
        self._stdout_kept.enter_context(stdout_to_stderr())
        try:
            return self._report()
        except BaseException:
            self._stdout_kept.close()
            raise

    def _report(self) -> Work:
        if self.quiet:
            return self
        if self.terminal:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                SpinnerColumn(),
                TextColumn(f"segchain {self.command}: {{task.description}}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(self.unit),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self._bar.start()
            # total=None: an indeterminate bar until the stage says how much there is.
            self._task = self._bar.add_task(self.step, total=None)
        else:
            self._thread = threading.Thread(target=self._beat, daemon=True)
            self._thread.start()
        return self

    def update(self, step: str, done: int, total: int) -> None:
        """Progress callback: ``done`` of ``total`` units of ``step`` (total 0: unknown)."""
        if step != self._given:
            from segchain.config import name_sources

            # A stage's step names its options (forecast's 'scoring the forecast on the
            # periods after --as-of'): one from the config is named by its key.
            self._given, self._named = step, name_sources(step)
        step = self._named
        with self._lock:
            # What the step does now, said after its name ('backtesting models: the next 184
            # series in one batch (...)'), is the same step while its count runs on: its rate
            # is kept. A new name, or a count of another total (the global model's fit, no
            # count, then the series resumed), starts the step's rate anew.
            same = _base(step) == _base(self.step) and total == self._total and total > 0
            news = not same or done != self._done
            if step != self.step and not same:
                self._step_start = self._clock()
                self._step_done = done
            self.step = step
            self._done, self._total = done, total
            if news:  # saying what runs now is no unit done: the rate is the units'
                self._updated = self._clock()
        if self._bar is not None:
            from rich.markup import escape

            self._bar.update(
                self._task,
                description=escape(step),
                completed=done,
                total=total if total > 0 else None,
            )

    def line(self) -> str:
        """The heartbeat line for the current state."""
        with self._lock:
            step, done, total = self.step, self._done, self._total
            # Units done since the step (re)started: forecast's final forecasts resume after
            # the global model's refit with its series done.
            units, todo = done - self._step_done, total - self._step_done
            now = self._clock()
            elapsed = now - self.start
            # The rate up to the last report; time since then counts against what is left.
            rate_time, since = self._updated - self._step_start, now - self._updated
        text = f"segchain {self.command}: {step}"
        if total > 0:
            text += f": {done:,} of {total:,}{' ' + self.unit if self.unit else ''}"
        text += f", {duration(elapsed)} elapsed"
        # Extrapolated only once half of the step's units (since it (re)started) are done: a
        # step's units cost unequally (forecast's statsforecast groups; a small group's start-up
        # costs most per series), and the final forecasts' first 84 of 188,976 series, done in
        # 0.7 s, said "about 26m18s left" of a step that took 4 minutes.
        if units > 0 and 2 * units >= todo and done < total and rate_time > 0:
            estimate = rate_time / units * (total - done)
            left = estimate - since
            # Shown only while less than half of it has passed without a unit done: work after
            # the last unit is not counted, so a countdown on stale news said "about 2s left"
            # minutes before a 189k-series step ended. The next unit done brings it back.
            if left >= 1 and since <= estimate / 2:
                text += f", about {duration(left)} left in this step"
        return text

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            self._write(self.line())

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._bar is not None:
            self._bar.stop()
        self._stdout_kept.close()
        if exc_type is None and not self.quiet:
            took = duration(self._clock() - self.start)
            self._write(f"segchain {self.command}: {self.label} took {took}")
