"""Command-line interface: one module per command, all registered on ``segchain.cli.app.app``."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import signal
import sys
from typing import Any, TextIO

# Order here is the order in --help: the pipeline's order.
COMMANDS = ("sample", "validate", "segment", "forecast", "stock", "network", "costs", "report")


def _interrupted_while_starting() -> None:
    """Say that Ctrl-C stopped the run before it began, and exit 130.

    The commands' modules (typer, rich, each command's) take a tenth of a second or more to
    import, before ``main`` can install its handlers: Ctrl-C then ended in a KeyboardInterrupt
    traceback. Said without segchain's own helpers: they may be the modules left half imported.
    """
    command = next((a for a in sys.argv[1:] if a in COMMANDS), "")
    with contextlib.suppress(Exception):
        sys.stderr.write(
            f"segchain{' ' + command if command else ''}: Error: interrupted; no output was "
            "written\n"
        )
        sys.stderr.flush()
    sys.exit(128 + signal.SIGINT)


def _hold_closed_descriptors() -> None:
    """Open the null device on descriptors 0, 1 and 2 where the shell closed them (``>&-``,
    ``<&-``, a daemon's cron line), before any library opens a file.

    Left free, the lowest of them went to the next file opened: polars' I/O runtime took 1 for
    its epoll descriptor, which ``descriptors.stdout_on`` then pointed at stderr; the runtime
    panicked and the command hung for ever, past ``timeout``'s SIGTERM (`segchain segment
    o.parquet -o seg.csv >&-`). Python already set ``sys.stdout`` (``sys.stdin``,
    ``sys.stderr``) to None for a closed one, and that is how segchain knows it was closed
    (``-o -`` onto a closed stdout is still refused): only the descriptor is taken."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
            if null != fd:  # a lower one was free too: it is taken on its own turn
                os.dup2(null, fd)
                os.close(null)


_hold_closed_descriptors()

try:
    from segchain.cli.app import app

    for _name in COMMANDS:
        if importlib.util.find_spec(f"segchain.cli.{_name}") is not None:
            importlib.import_module(f"segchain.cli.{_name}")
except KeyboardInterrupt:
    _interrupted_while_starting()


_STOPPING = ("SIGTERM", "SIGHUP")

# The signals whose handlers main() installed (none in a test runner's process, where
# ``settle_signals`` leaves them be), and whether the command has ended.
_INSTALLED: list[int] = []
_SETTLED: list[bool] = []


def _stop_under_way() -> bool:
    """True if the run is already stopping or ending: the exception being handled is a stop
    (KeyboardInterrupt, Terminated) or an exit whose status is decided (typer's, SystemExit).

    polars installs its own SIGINT handler over Python's when it is imported, and it calls
    Python's after its own: one Ctrl-C during a polars call both stops the call, which raises
    KeyboardInterrupt, and has Python run this handler at its next chance. That is inside the
    first one's clean-up: a second KeyboardInterrupt raised there cut ``OutputSet.__exit__``
    short (the temporary file stayed beside the output) or the message, and typer turned it
    into exit 130 without a word.
    """
    exc = sys.exc_info()[1]
    if isinstance(exc, (KeyboardInterrupt, SystemExit)) or type(exc).__name__ == "Terminated":
        return True
    return (
        exc is not None and type(exc).__module__.startswith("typer") and hasattr(exc, "exit_code")
    )


def _in_command() -> bool:
    common = sys.modules.get("segchain.cli.common")
    return common is not None and common.STOPS_SAID.get()


def _stop_now(signum: int) -> bool:
    """Record the first stopping signal taken; whether the handler raises for it: not once the
    command has ended (``settle_signals``), nor inside a stop already under way."""
    from segchain.errors import Terminated

    if _SETTLED:
        return False
    if Terminated.taken is None:
        Terminated.taken = signum
    return not _stop_under_way()


def _interrupt(signum: int, frame: object) -> None:
    """Ctrl-C: KeyboardInterrupt in a command (``handle_errors`` says it), once."""
    from segchain.errors import Terminated

    if not _stop_now(signum):
        return
    if not _in_command():
        # While the command line is read: typer turns a KeyboardInterrupt into exit 130
        # without a word. ``main`` says this one.
        raise Terminated(signum)
    raise KeyboardInterrupt


def _terminate(signum: int, frame: object) -> None:
    from segchain.errors import Terminated

    if _stop_now(signum):
        raise Terminated(signum)


def settle_signals() -> None:
    """The command has ended, its outputs written and its messages said: a stopping signal from
    here on changes nothing, and the process ends with the command's status.

    Python puts back each signal's default action as it shuts down (``_PySignal_Fini``), then
    spends a quarter of a second or more freeing its modules: Ctrl-C there killed the process
    by the signal itself (status -2, no message), its outputs new. Ignored, the signal is not
    taken at all. Nothing in a process whose handlers are not segchain's (a test runner's).
    """
    if not _INSTALLED or _SETTLED:
        return
    _SETTLED.append(True)
    for signum in _INSTALLED:
        signal.signal(signum, signal.SIG_IGN)


def _default_in_child(signums: tuple[int, ...]) -> None:
    # A forked child (the forecast engine's pool workers) must die at once on SIGTERM, as the pool
    # stops its workers that way. A Python handler only runs when the child's main thread gets
    # back to the interpreter: a SIGTERM taken by one of its other threads (BLAS, polars) while
    # the main thread waits on the pool's queue lock never ran, and the pool waited for that
    # worker for ever (the README's Online Retail forecast hung in `Pool.terminate`).
    for signum in signums:
        signal.signal(signum, signal.SIG_DFL)
    # Ctrl-C reaches the whole process group, workers included. A worker that took it died with
    # a KeyboardInterrupt traceback and took its task with it, and the pool waited for that
    # task's result for ever. The parent alone stops the run: it stops the pool, and the pool
    # stops its workers with SIGTERM (above).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def install_signal_handlers() -> None:
    """A closed pipe is an error to handle, not death; SIGTERM and SIGHUP stop a command as
    Ctrl-C does."""
    if hasattr(signal, "SIGPIPE"):
        # Not SIGPIPE's default: it killed the run at the first message that could not be
        # written to a closed stderr (`segchain segment orders.csv -o seg.csv 2>&1 | head -1`:
        # exit 141, seg.csv never written). Ignored, a write to a closed pipe raises
        # BrokenPipeError: stderr's is ignored (guard_stderr), stdout's ends the run quietly
        # with SIGPIPE's exit code, 141 (common.handle_errors), as `| head` ended it before.
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    # `timeout`, `kill` or a closed terminal must not leave a partial temporary file beside an
    # output (they kill at once by default): stop as on Ctrl-C. A signal ignored on purpose
    # (`nohup` ignores SIGHUP) stays ignored.
    caught = []
    for name in _STOPPING:
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, _terminate)
            caught.append(signum)
    if caught and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=lambda: _default_in_child(tuple(caught)))


class _BestEffortStream:
    """stderr whose write failures are ignored: messages never cost the run its outputs.

    A full disk under the log (``2>>run.log``: ENOSPC) made the first message fail, and the
    command exit 1 with nothing written, its outputs' own disk free; so did a closed stderr
    (``2>&-``), where Python has no ``sys.stderr`` at all ('NoneType' object has no attribute
    'write'). The exit code still says how the run ended.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError:
            return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError):
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_stderr() -> None:
    """Make stderr best effort (see ``_BestEffortStream``); a closed one writes nowhere."""
    stream = sys.stderr
    if stream is None:  # fd 2 was closed when Python started
        stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the whole run
    sys.stderr = _BestEffortStream(stream)  # type: ignore[assignment]


class _ReaderGone(BaseException):
    """stdout's reader closed the pipe while help or the version was written to it."""


class _StdoutGuard:
    """stdout whose closed pipe ends the run with SIGPIPE's code, 141, as a table's does
    (common.handle_errors). Help and the version are written by rich and click, which catch
    BrokenPipeError themselves and exit 1 (`segchain stock --help | head -1`): raised as
    ``_ReaderGone``, it passes them by to ``main``."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise _ReaderGone from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise _ReaderGone from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _install_interrupt() -> None:
    """Ctrl-C raises one KeyboardInterrupt in a command and stops the command line's reading
    (``_interrupt``). Ignored on purpose (a script's background job), it stays ignored."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupt)
    for name in ("SIGINT", *_STOPPING):
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) in (_interrupt, _terminate):
            _INSTALLED.append(signum)


def main() -> None:
    """Console-script entry point."""
    try:
        guard_stderr()
        install_signal_handlers()
        _install_interrupt()
    except KeyboardInterrupt:  # before segchain's handler was in place
        _interrupted_while_starting()
    if sys.stdout is not None:
        sys.stdout = _StdoutGuard(sys.stdout)  # type: ignore[assignment]
    from segchain.errors import Terminated

    try:
        app()
    except _ReaderGone:
        from segchain.cli.common import silence_stdout
        from segchain.errors import EXIT_PIPE_CLOSED

        silence_stdout()
        sys.exit(EXIT_PIPE_CLOSED)
    except Terminated as exc:
        # Taken before the command ran (the parser builds its option types lazily, a second
        # or so): it ended in a traceback, exit 1, and Ctrl-C in exit 130 without a word.
        # Nothing was written yet. Or taken as the command ends, held back while its table
        # went down a stream (``OutputSet.commit``).
        _stopped(exc)
    except KeyboardInterrupt:  # polars' own, raised outside the command and typer
        _stopped(Terminated(signal.SIGINT))


def _stopped(exc: Any) -> None:
    """Say that a signal (``exc``: a Terminated) stopped the run, as a command does, and exit
    with its code."""
    from segchain.cli.common import COMMAND, error, not_written, stopped_by

    if not COMMAND.get():
        COMMAND.set(next((a for a in sys.argv[1:] if a in COMMANDS), ""))
    error(f"{stopped_by(exc)}; {not_written()}")
    settle_signals()
    sys.exit(exc.exit_code)


__all__ = ["app", "main"]
