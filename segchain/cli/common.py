"""What every command shares: option aliases, error handling, the stderr console, order loading.

Heavy modules (polars, the stages) are imported inside functions so that ``segchain --help``
stays fast.
"""

from __future__ import annotations

import datetime as dt
import errno
import functools
import json
import logging
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from segchain.errors import (
    EXIT_DATA,
    EXIT_INTERRUPTED,
    EXIT_PIPE_CLOSED,
    SegchainError,
    Terminated,
    UsageError,
    examples,
    named_tables,
)
from segchain.formatting import (
    agree,
    count,
    escape_controls,
    forget_names,
    not_utf8_shown,
    plural,
    quote_names,
)

if TYPE_CHECKING:
    import polars as pl
    from rich.console import Console

    from segchain.config import Config
    from segchain.orders import OrderImport, Reconciliation, Returns
    from segchain.tableio import Table

# ---------------------------------------------------------------------------------------------
# Which parameters name files: declared once, in the Annotated aliases, for every command


@dataclass(frozen=True)
class PathRole:
    """Marks a parameter as a file the command reads (``input``) or writes (``output``).

    ``handle_errors`` checks every output before the command runs (folder exists, writable, not
    one of the inputs, not another output) and writes them all at the end, all or nothing.
    Typer ignores this marker; a new option that names a file only needs it in its Annotated.
    """

    kind: str  # "input" or "output"
    # How messages name it: "-o", "--profile", "INPUT"; ARGUMENT for a command's one input
    # table, named as its usage line shows it (SEGMENTS, FORECAST, CUSTOMERS).
    option: str
    # An input that reads every table of a folder or glob (order lines, report's inputs); any
    # other input names one file, and a folder there is refused by the reader as a folder.
    folders: bool = False
    # The option's environment variable (SEGCHAIN_CONFIG), taken from its typer.Option: a
    # message about a value that came from it names the variable, not the option.
    env: str | None = None


# A command's argument named by its parameter (see PathRole.option, path_roles).
ARGUMENT = ""


def reads(option: str, *, folders: bool = False) -> PathRole:
    return PathRole("input", option, folders)


def writes(option: str) -> PathRole:
    return PathRole("output", option)


# ---------------------------------------------------------------------------------------------
# Option aliases (Annotated), shared so every command spells them the same way

Input = Annotated[
    str,
    typer.Argument(help="Input table (CSV, CSV.gz or Parquet); '-' reads stdin."),
    reads(ARGUMENT),
]
OrdersInput = Annotated[
    list[str] | None,
    typer.Argument(
        help="Order lines: one or more files, quoted globs ('exports/*.csv') or folders of CSV, "
        "CSV.gz or Parquet (hive-partitioned too), read as one table; '-' reads stdin "
        "(default: -).",
        show_default=False,
    ),
    reads("INPUT", folders=True),
]
Output = Annotated[
    str,
    typer.Option("-o", "--output", help="Output file (.csv or .parquet); '-' writes stdout."),
    writes("-o"),
]
OptionalOutput = Annotated[
    str | None,
    typer.Option("-o", "--output", help="Output file (.csv or .parquet); '-' writes stdout."),
    writes("-o"),
]


def _check_format(value: str | None) -> str | None:
    # Checked while parsing, so a typo fails before any work is done (exit 2).
    if value is not None and value.strip().lower() not in ("csv", "parquet"):
        raise typer.BadParameter(f"unknown format {value!r}; choose one of: csv, parquet")
    return value.strip().lower() if value else None


Format = Annotated[
    str | None,
    typer.Option(
        "-f",
        "--format",
        help="Output format (default: from the -o name, else csv).",
        metavar="csv|parquet",
        envvar="SEGCHAIN_FORMAT",
        callback=_check_format,
    ),
]
ConfigFile = Annotated[
    # str, not Path: Typer turns a Path's '' (an unset variable) into '.', 'is a folder'.
    str | None,
    typer.Option(
        "--config",
        help='segchain.toml with [columns], [segments."LABEL"] policies and a table per '
        "command (default: ./segchain.toml if present).",
        envvar="SEGCHAIN_CONFIG",
    ),
    reads("--config"),
]
Map = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        help="Map a canonical column to an export header: CANONICAL=HEADER (repeatable; "
        "$SEGCHAIN_MAP holds such pairs separated by commas).",
        metavar="CANONICAL=HEADER",
    ),
]
Preset = Annotated[
    str | None,
    typer.Option(
        "--preset",
        help="Column names of a known export.",
        metavar="sap|odoo|online-retail",
        envvar="SEGCHAIN_PRESET",
    ),
]
DateFormat = Annotated[
    str | None,
    typer.Option(
        "--date-format",
        help="Date order (day-first, month-first) or a strptime format such as %d/%m/%Y.",
        metavar="ORDER|FORMAT",
        envvar="SEGCHAIN_DATE_FORMAT",
    ),
]
Sheet = Annotated[
    str | None,
    typer.Option(
        "--sheet",
        help="The sheet of a workbook (.xlsx, .xls, .ods) to read: its name, or its position "
        "from 1; a sheet named like the number wins (default: the first).",
        metavar="NAME|N",
        envvar="SEGCHAIN_SHEET",
    ),
]
ReturnsOpt = Annotated[
    str | None,
    typer.Option(
        "--returns",
        help="Returns and cancellations: net (subtract them), keep (as exported) or drop "
        "(reject with reason 'return') (default: net).",
        metavar="net|keep|drop",
        envvar="SEGCHAIN_RETURNS",
    ),
]
Rejects = Annotated[
    str | None,
    typer.Option(
        "--rejects",
        help="Write rejected lines (original fields, row, reason) here; written even when every "
        "line is rejected (the command then fails with exit 1 and writes nothing else).",
    ),
    writes("--rejects"),
]
Quiet = Annotated[
    bool,
    typer.Option(
        "-q",
        "--quiet",
        help="Print only errors on stderr (and how many warnings were hidden, in one line).",
        envvar="SEGCHAIN_QUIET",
    ),
]
Verbose = Annotated[
    bool, typer.Option("--verbose", help="Also print the provenance JSON on stderr.")
]
CsvSafe = Annotated[
    bool,
    typer.Option(
        "--csv-safe",
        help="Neutralise spreadsheet formulas in CSV outputs: a text cell starting with =, +, -, "
        "@, tab or CR gets a leading apostrophe; numbers (and text that is a plain number) stay "
        "as they are.",
        envvar="SEGCHAIN_CSV_SAFE",
    ),
]
Seed = Annotated[
    int | None,
    typer.Option("--seed", help="Seed for every random step (default: 0).", envvar="SEGCHAIN_SEED"),
]

F = TypeVar("F", bound=Callable[..., Any])

try:  # imported now: with no descriptor left, loading it for the message would fail too
    import resource as _resource
except ImportError:  # Windows
    _resource = None  # type: ignore[assignment]

# The running command's name, for the ``segchain <command>:`` prefix on messages.
COMMAND: ContextVar[str] = ContextVar("segchain_command", default="")
# Whether a KeyboardInterrupt raised now is said by ``handle_errors`` (segchain.cli._interrupt).
STOPS_SAID: ContextVar[bool] = ContextVar("segchain_stops_said", default=False)


def handle_errors(func: F) -> F:
    """Turn SegchainError into one message and its exit code; Ctrl-C into exit 130.

    Anything else is a bug and keeps its traceback (without local variables).
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # Messages say which command wrote them: `make -j2` logs interleave.
        COMMAND.set(func.__name__.removesuffix("_command"))
        try:
            with library_messages():
                return _run(*args, **kwargs)
        finally:
            _settle_signals()  # its outcome is said

    def _run(*args: Any, **kwargs: Any) -> Any:
        try:
            STOPS_SAID.set(True)
            # Imported here, where Ctrl-C is said: importing polars takes half a second, and a
            # KeyboardInterrupt raised before this ``try`` ended in exit 130 without a word.
            from segchain.cli.mplconfig import prepare_matplotlib
            from segchain.cli.progress import heartbeat_seconds
            from segchain.config import forget_sources
            from segchain.tableio import (
                OutputSet,
                forget_sent,
                names_stdin,
                output_format,
                refuse_long_name,
            )

            forget_sources()
            forget_names()
            heartbeat_seconds()  # a bad $SEGCHAIN_HEARTBEAT is a usage error before any work
            _check_polars_threads()
            _check_library_threads()
            if "preset" in kwargs:
                kwargs["preset"] = _check_preset(kwargs["preset"])
            _check_map(kwargs.get("map"))
            roles = path_roles(func)
            _refuse_relative_without_working_folder(roles, kwargs)
            prepare_matplotlib(COMMAND.get(), kwargs)
            forget_sent()
            with OutputSet() as outputs:
                outputs.csv_safe = bool(kwargs.get("csv_safe"))
                outputs.say = _note
                written = {
                    os.path.realpath(v)
                    for name, role in roles.items()
                    if role.kind == "output"
                    for v in _values(kwargs.get(name))
                    if v != "-"
                }
                stdin_readers: list[tuple[str, str]] = []
                for name, role in roles.items():
                    if role.kind == "input":
                        # A command's one input table is named in messages by its argument,
                        # as an option's is (SEGMENTS seg.csv: ...); the order lines' INPUT
                        # and report's INPUTS, any number of files, by their paths alone.
                        named = role.option.startswith("-") or not role.folders
                        if named and not role.option.startswith("-"):
                            outputs.named_arguments.add(role.option)
                        for value in _values(kwargs.get(name)):
                            if value == "-" and named:
                                outputs.stdin_option = role.option
                            _check_input_name(value, role)
                            # A path from the option's variable is named by it: '-o c.toml: is
                            # also the input $SEGCHAIN_CONFIG c.toml', not an option never given.
                            given = f"${role.env}" if from_env(value, role.env) else role.option
                            # A config read from stdin beside a table is refused when the
                            # config is loaded, with its own way out (config._refuse_shared_stdin).
                            if names_stdin(value) and name != "config":
                                stdin_readers.append((given if named else "", value))
                            outputs.add_input(value, option=given)
                            refuse_long_name(value)
                            for path in _expanded(value) if role.folders else ():
                                # A folder's rejects file of an earlier run is not read as
                                # orders: rewriting it with this run's --rejects is no loss.
                                if os.path.realpath(path) in written and _rejects_file(path):
                                    continue
                                outputs.add_input(path, option=given)
                # Before any other refusal: its message must not go into an input either.
                outputs.refuse_stderr_onto_inputs()
                _refuse_shared_stdin(stdin_readers)
                for name, role in roles.items():
                    if role.kind == "output":
                        for value in _values(kwargs.get(name)):
                            outputs.plan(value, option=role.option)
                main_output = kwargs.get("output")
                if "format" in kwargs and isinstance(main_output, str) and "output" in roles:
                    # -f parquet onto a terminal is refused now, not after the whole run.
                    output_format(main_output, kwargs["format"])
                if "format" in kwargs:
                    # A command's other tables named as a workbook (--rejects r.xlsx) are
                    # refused now too, not after the work.
                    for name, role in roles.items():
                        if role.kind == "output" and name != "output":
                            for value in _values(kwargs.get(name)):
                                output_format(value, None, option=role.option)
                result = func(*args, **kwargs)
            # Its outputs are written: a signal taken from here on is no longer raised, and a
            # KeyboardInterrupt just before this said that they had been written.
            _settle_signals()
            return result
        except SegchainError as exc:
            from segchain.config import name_sources

            # A stage's check names options; a value from the config or environment is named
            # by its real source.
            error(name_sources(str(exc)))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            error(f"interrupted; {not_written()}")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except MemoryError:
            # Past reading (tableio names the file it could not read): a MemoryError traceback.
            error(
                "out of memory: the command needs more memory than this process may use; no "
                "output was written\n  hint: run it where more memory is free or the limit is "
                "higher (ulimit -v), or give it fewer lines (a shorter period)"
            )
            raise typer.Exit(EXIT_DATA) from None
        except Terminated as exc:
            error(f"{stopped_by(exc)}; {not_written()}")
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            # The reader of a table on stdout (or a FIFO) is gone: `segchain ... | head` has
            # what it wanted. End quietly, as SIGPIPE ended the run when it killed it; stderr's
            # writes never raise (segchain.cli.guard_stderr), so this is never a message's.
            silence_stdout()
            raise typer.Exit(EXIT_PIPE_CLOSED) from None
        except OSError as exc:  # after BrokenPipeError, an OSError too
            if _working_folder_gone(exc):
                error(str(UsageError(WORKING_FOLDER_GONE, hint=WORKING_FOLDER_HINT)))
                raise typer.Exit(UsageError.exit_code) from None
            # `ulimit -n 16`: the forecast engine's worker pool, a library's subprocess or a
            # lazily imported module found no descriptor free, a traceback (exit 1). The limit
            # is the run's environment, not segchain's data: said as an out-of-memory is.
            if exc.errno not in (errno.EMFILE, errno.ENFILE):
                raise
            error(_too_many_open_files(exc.errno))
            raise typer.Exit(EXIT_DATA) from None
        except BaseException as exc:
            # `ulimit -n 5`: polars' thread pool found no descriptor free and stopped with a
            # Rust panic (a PanicException, no OSError), a traceback and exit 0 from the pipe.
            code = _descriptors_panic(exc)
            if code is None:
                raise
            error(_too_many_open_files(code))
            raise typer.Exit(EXIT_DATA) from None

    return wrapper  # type: ignore[return-value]


WORKING_FOLDER_GONE = "the working folder no longer exists (it was deleted)"
WORKING_FOLDER_HINT = "cd to an existing folder, or give an absolute path"


def _cwd_gone() -> bool:
    try:
        os.getcwd()
    except FileNotFoundError:
        return True
    return False


def _refuse_relative_without_working_folder(
    roles: Mapping[str, PathRole], kwargs: Mapping[str, Any]
) -> None:
    """Refuse a relative file name when the working folder has been deleted (a cron job whose
    release folder a deploy replaced), before any input is read: it names nothing, and
    resolving it (``os.path.realpath``, which asks ``os.getcwd``) ended in a traceback.
    Absolute names work there, and stdin and stdout need no folder.

    Raises:
        UsageError: a file name of the command line is relative, and there is no working
            folder.
    """
    for name, role in roles.items():
        for value in _values(kwargs.get(name)):
            if value == "-" or os.path.isabs(value) or not _cwd_gone():
                continue
            # Named as every message names it: by its option or argument, or by its path
            # alone for the order lines' INPUT and report's INPUTS.
            named = role.option.startswith("-") or not role.folders
            given = f"${role.env}" if from_env(value, role.env) else role.option
            where = f"{given} {value}" if named else value
            raise UsageError(f"{where}: {WORKING_FOLDER_GONE}", hint=WORKING_FOLDER_HINT)


def _working_folder_gone(exc: OSError) -> bool:
    """Whether ``exc`` is ``os.getcwd``'s: a relative name resolved where the working folder
    has been deleted (one the command line did not give: ``_refuse_relative_without_working_
    folder`` names those)."""
    return isinstance(exc, FileNotFoundError) and exc.filename is None and _cwd_gone()


def _check_polars_threads() -> None:
    """Refuse the thread counts polars stops on with a panic at the first table it reads (a
    Rust backtrace and a Python traceback, exit 1): POLARS_MAX_THREADS or
    POLARS_ASYNC_THREAD_COUNT of 0, and a POLARS_ASYNC_THREAD_COUNT that is no whole number
    (polars reads both as Rust does: digits with an optional '+'). Other values of
    POLARS_MAX_THREADS (-1, 'four', '') polars ignores, saying so itself.

    Raises:
        UsageError: one of them is set so.
    """
    import re

    for name in ("POLARS_MAX_THREADS", "POLARS_ASYNC_THREAD_COUNT"):
        value = os.environ.get(name)
        if value is None:
            continue
        whole = re.fullmatch(r"\+?[0-9]+", value) is not None
        if (whole and int(value) == 0) or (not whole and name == "POLARS_ASYNC_THREAD_COUNT"):
            raise UsageError(
                f"${name}={value!r}: not a number of threads polars can use (a whole number "
                ">= 1; polars stops with a panic on it)",
                hint=f"unset it (unset {name}) or set it to a number of threads, e.g. {name}=2",
            )


# Thread counts the libraries read with Python's int(), at their first use: hierarchicalforecast
# OMP_NUM_THREADS when reconciliation is imported (after the whole backtest), joblib's loky
# LOKY_MAX_CPU_COUNT when scikit-learn or joblib counts the cores. A value int() refuses ended
# the run there in a traceback (exit 1).
_LIBRARY_THREAD_VARIABLES = ("OMP_NUM_THREADS", "LOKY_MAX_CPU_COUNT")


def _check_library_threads() -> None:
    """Take an empty OMP_NUM_THREADS or LOKY_MAX_CPU_COUNT for unset, and refuse one that is no
    whole number, before any work (see ``_LIBRARY_THREAD_VARIABLES``).

    An empty value (`export OMP_NUM_THREADS=$(THREADS)` with THREADS unset) is removed from the
    environment, as segchain's own variables count an empty value as unset: OpenMP itself
    ignores it (saying 'Invalid value' on stderr), so the libraries then run as they do
    without it. A value such as '4,2' (OpenMP's nested list, which OpenMP reads) or 'four' has
    no such reading for hierarchicalforecast or loky, and is refused.

    Raises:
        UsageError: one of them is set to something that is no whole number.
    """
    for name in _LIBRARY_THREAD_VARIABLES:
        value = os.environ.get(name)
        if value is None:
            continue
        if not value.strip():
            del os.environ[name]  # before any library reads it; worker processes inherit this
            continue
        try:
            int(value)
        except ValueError:
            raise UsageError(
                f"${name}={value!r}: not a whole number of threads (the libraries segchain "
                "uses read it as one whole number, and stop on anything else)",
                hint=f"unset it (unset {name}) or set it to a whole number, e.g. {name}=2",
            ) from None


def _descriptors_panic(exc: BaseException) -> int | None:
    """EMFILE or ENFILE when ``exc`` is a Rust panic (polars') over no descriptor free, else
    None: the panic's message is the Rust error's debug form, ``Os { code: 24, kind:
    TooManyOpenFiles, ... }``."""
    if type(exc).__name__ != "PanicException":
        return None
    text = str(exc)
    if f"code: {errno.ENFILE}," in text or "Too many open files in system" in text:
        return errno.ENFILE
    if f"code: {errno.EMFILE}," in text or "Too many open files" in text:
        return errno.EMFILE
    return None


def _too_many_open_files(code: int) -> str:
    """The message for EMFILE (this process's limit) or ENFILE (the system's), with its hint."""
    if code == errno.ENFILE:
        return (
            "too many open files on this system: no file or pipe could be opened; no output "
            "was written\n  hint: run it again when fewer programs are running, or raise the "
            "system's limit (fs.file-max)"
        )
    try:
        limit = f" {_resource.getrlimit(_resource.RLIMIT_NOFILE)[0]}"
    except (AttributeError, OSError, ValueError):  # no resource module (Windows)
        limit = ""
    return (
        f"too many open files: this process may have only{limit} files and pipes open at once "
        f"(ulimit -n{limit}); no output was written\n  hint: raise the limit (ulimit -n 1024) "
        "and run it again"
    )


# A note of the I/O module that starts so is a warning (``tableio.note``).
WARNING = "Warning: "


def _note(message: str) -> None:
    """A note of the I/O module (``tableio.note``), as the command's Reporter says notes; a
    table whose path came from the config named by its key, as its errors are (``--sites
    s.csv: decimal comma in: ...`` named an option never given)."""
    from segchain.config import name_sources

    message = name_sources(message)
    if _ACTIVE and message.startswith(WARNING):
        # Counted under --quiet as the command's own warnings are, not dropped as a note.
        _ACTIVE[0].warn(message.removeprefix(WARNING))
    elif _ACTIVE:
        _ACTIVE[0].info(message)
    else:
        write_lines(message)


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's flush at exit does not fail on the closed
    pipe again (the Python docs' recipe for SIGPIPE)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # closed, or a test runner's in-memory stream
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


# The command's Reporter (the first one it makes), for messages that libraries write: Python
# warnings and log records. Module state, not a ContextVar: worker threads warn too.
_ACTIVE: list[Reporter] = []


class _LibraryLog(logging.Handler):
    """Library log records of WARNING and above, as the command's warnings."""

    def __init__(self, name: str) -> None:
        super().__init__(logging.WARNING)
        self.command = name

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _library_warning(self.command, f"{record.getMessage()} ({record.name})")
        except Exception:  # a log line must never break the command
            self.handleError(record)


def _library_warning(name: str, text: str) -> None:
    if _ACTIVE:
        _ACTIVE[0].warn(text)
    else:
        head = f"segchain {name}: " if name else "segchain: "
        sys.stderr.write(f"{head}Warning: {readable(text)}\n")
        sys.stderr.flush()


@contextmanager
def library_messages() -> Iterator[None]:
    """Route what libraries print on stderr (statsforecast, scikit-learn, polars... through
    ``warnings`` or ``logging``) through the command's Reporter: prefixed with
    ``segchain <command>:`` like every message, and counted, not shown, under --quiet. The count
    is given once at the end (if the output was not written, or warnings came after it)."""
    name = COMMAND.get()
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # type: ignore[no-untyped-def]
        where = "/".join(Path(filename).parts[-2:])
        _library_warning(name, f"{message} ({category.__name__}, {where}:{lineno})")

    handler = _LibraryLog(name)
    root = logging.getLogger()
    warnings.showwarning = show
    root.addHandler(handler)
    _ACTIVE.clear()
    try:
        yield
    finally:
        warnings.showwarning = shown
        root.removeHandler(handler)
        if _ACTIVE:
            _ACTIVE[0].count_hidden()
        _ACTIVE.clear()


@functools.cache
def path_roles(func: Callable[..., Any]) -> dict[str, PathRole]:
    """The parameters of a command that name files it reads or writes (see PathRole)."""
    import typing
    from dataclasses import replace

    from typer.models import OptionInfo

    hints = typing.get_type_hints(func, include_extras=True)
    roles: dict[str, PathRole] = {}
    for name, hint in hints.items():
        if typing.get_origin(hint) is Annotated:
            extras = typing.get_args(hint)[1:]
            envvar = next((e.envvar for e in extras if isinstance(e, OptionInfo)), None)
            for extra in extras:
                if isinstance(extra, PathRole):
                    roles[name] = replace(
                        extra,
                        # 'stock fc.csv -o fc.csv' named FORECAST 'the input INPUT fc.csv'.
                        option=extra.option or name.upper(),
                        env=envvar if isinstance(envvar, str) else None,
                    )
    return roles


def env_order_options() -> OrderOptions:
    """The options report reads a raw export with. It has no --preset, --date-format or
    --returns, so it takes their variables, as every other command that reads orders takes them
    for the options (the config's [orders] below them, in ``load_orders``); it took only
    $SEGCHAIN_PRESET, and refused a day-first export validate read under $SEGCHAIN_DATE_FORMAT.
    Each is checked as its option is, before any input is read."""
    from segchain.config import SETTINGS, check_option, env_preset, option_name

    # Empty is unset, as click reads an option's variable; blank is refused, as for --preset.
    _check_preset(os.environ.get("SEGCHAIN_PRESET") or None)
    given: dict[str, str | None] = {}
    for key in ("date_format", "returns"):
        rule = SETTINGS["orders"][key]
        given[key] = os.environ.get(rule.env or "") or None
        if given[key] is not None:
            check_option(rule, given[key], option=option_name(key))  # names the variable
    return OrderOptions(preset=env_preset(), **given)


def order_variables(config: Config) -> dict[str, str]:
    """The variables that set how report read a raw export, by name, those set only: the command
    under "About this report" showed none, and run again without them it read the export
    otherwise (another day order, returns kept). $SEGCHAIN_CONFIG too when the config came from
    it: its [columns] and [orders] read the export as well."""
    from segchain.config import SETTINGS

    names = [
        "SEGCHAIN_PRESET",
        "SEGCHAIN_MAP",
        *(SETTINGS["orders"][key].env or "" for key in ("date_format", "returns")),
    ]
    if config.source == "$SEGCHAIN_CONFIG":
        names.append("SEGCHAIN_CONFIG")
    # Empty or blank is unset, as env_order_options and env_map read them.
    return {n: v for n in sorted(names) if n and (v := os.environ.get(n, "")).strip()}


def _check_preset(value: Any) -> Any:
    # Checked once the export's headers were read, and named neither the option nor the
    # preset meant ('unknown preset 'sapp''); now before any input, as every option is. The
    # preset's own spelling is returned (--preset SAP is sap).
    from segchain.config import PRESETS, check_preset

    if isinstance(value, str):
        env = "SEGCHAIN_PRESET"
        choices = ", ".join(PRESETS)
        if not value.strip():
            # --preset "$PRESET" of an unset variable said "unknown preset ''", no way out.
            if from_env(value, env):
                raise UsageError(
                    f"${env}: the preset name is empty",
                    hint=f"{env} is set but blank; unset it (unset {env}) or set it to one of: "
                    f"{choices}",
                )
            raise UsageError(
                "--preset: the preset name is empty",
                hint="an unset shell variable gives an empty value; leave --preset out for none, "
                f"or give one of: {choices}",
            )
        return check_preset(value, where=f"${env}" if from_env(value, env) else "--preset")
    return value


def _check_map(values: object) -> None:
    # --map "$MAP" of an unset variable ran with no mapping, unsaid, where an empty --by or
    # --models is refused.
    if isinstance(values, list) and any(not str(v).strip() for v in values):
        raise UsageError(
            "--map: the value is empty",
            hint="an unset shell variable gives an empty value; leave --map out for none, or "
            "give CANONICAL=HEADER, e.g. --map customer_id=KUNNR",
        )


def _refuse_shared_stdin(readers: Sequence[tuple[str, str]]) -> None:
    """Refuse two inputs that read stdin where one names it as ``/dev/stdin``: stdin was read
    once and given to both (``stock --items /dev/stdin --on-hand -`` said '--on-hand <stdin>:
    missing required column on_hand; found sku, unit_cost', the items). Two '-' are each
    command's own message, as before.

    Raises:
        UsageError: two of ``readers`` (option, path) read stdin, one of them by a name.
    """
    if len(readers) < 2 or all(path == "-" for _, path in readers):
        return
    # Named as every message names them: by option or argument, report's INPUTS by path alone.
    shown = [f"{option} {'<stdin>' if path == '-' else path}".strip() for option, path in readers]
    raise UsageError(
        f"{', '.join(shown[:-1])} and {shown[-1]} all read stdin, which holds one of them only"
        if len(shown) > 2
        else f"{shown[0]} and {shown[1]} both read stdin, which holds one of them only",
        hint="give all but one of them as a file",
    )


def _check_input_name(value: str, role: PathRole) -> None:
    # '' is read as the working folder by pathlib ('segment ""' read every table in it, or
    # said ': is a folder'); outputs refuse it the same way.
    from segchain.tableio import refuse_empty_name, refuse_stray_end

    # Typer gives SEGCHAIN_CONFIG=' ' as --config's value: the message names the variable.
    # (An empty variable counts as unset: Typer passes None.)
    env = role.env if from_env(value, role.env) else None
    refuse_empty_name(value, role.option, env=env)
    refuse_stray_end(value, role.option, output=False, env=env)


def from_env(value: object, env: str | None) -> bool:
    """Whether an option's ``value`` came from its environment variable ``env``: Typer passes
    the variable in as the option's value, and a message about it must name the variable."""
    return env is not None and value is not None and os.environ.get(env) == str(value)


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def _rejects_file(path: str) -> bool:
    from segchain.tableio import looks_like_rejects

    return looks_like_rejects(path)


def _expanded(value: str) -> list[str]:
    """The files a glob or folder names (none when it names nothing: reading says so later)."""
    from segchain.tableio import GLOB_CHARS, expand_sources

    if value == "-" or not (Path(value).is_dir() or any(ch in value for ch in GLOB_CHARS)):
        return []
    try:
        return expand_sources([value])
    except SegchainError:
        return []


def _settle_signals() -> None:
    from segchain.cli import settle_signals

    settle_signals()


def stopped_by(exc: Terminated) -> str:
    """How a message says what a signal did: 'interrupted' (Ctrl-C), 'stopped by SIGTERM'."""
    return "interrupted" if exc.name == "SIGINT" else f"stopped by {exc.name}"


def not_written() -> str:
    """What a stopped command left: nothing, or the outputs written whole before the signal was
    taken (``OutputSet.commit`` holds it back while a table goes down a stream)."""
    from segchain.tableio import sent

    done = sent()
    if not done:
        return "no output was written"
    return f"{', '.join(done)} had been written whole before it"


def error(message: str) -> None:
    """Write ``segchain <command>: Error: message`` to stderr, unstyled (scripts may parse it).

    Every line carries the prefix (a hint, each problem of a list), so interleaved logs of
    parallel runs (``make -j2``) stay attributable; one write keeps the lines together.
    """
    from segchain.tableio import messages_off_named_files

    # An error raised before the command knew its inputs would go into one (`2>> orders.csv`).
    messages_off_named_files(sys.argv[1:])
    write_lines("Error: " + message)


# The order-reading options that some commands lack, though their messages are shared: report
# reads raw exports as validate does (mapped by the config, $SEGCHAIN_MAP and $SEGCHAIN_PRESET),
# forecast, stock and costs read --orders so but write no rejects, network reads segment's
# output. Such an option is named by the command that has it.
_ORDER_OPTIONS = re.compile(r"(?<![\w{-])--(map|preset|date-format|returns|rejects)(?![\w}-])")
# Which command a message names for them: the one whose output the running command reads.
_OWNER = {"network": "segment"}
# Where a message's clause starts: an option after a command's name within it is that command's.
_CLAUSE = re.compile(r"; |\.\s(?=[A-Z])|\n|: |, and |, or ")
_COMMAND_WORD = re.compile(
    r"\b(sample|validate|segment|forecast|stock|network|costs|report)\b(?!\.\w)"
)


@functools.cache
def command_options(name: str) -> frozenset[str]:
    """The long options of ``segchain <name>`` (none for a name that is no command)."""
    from segchain.cli.app import app

    command = typer.main.get_command(app)
    sub = getattr(command, "commands", {}).get(name)
    if sub is None:
        return frozenset()
    return frozenset(o for p in sub.params for o in (*p.opts, *p.secondary_opts) if o[:2] == "--")


def own_options(text: str) -> str:
    """``text`` with each order option the running command lacks named by the command that has
    it: report's 'check --date-format' is 'check segchain validate --date-format', as 'report
    --date-format' is 'No such option'. The import's and the stages' messages are shared by every
    command that reads orders; every message on stderr passes here, so this decides it once.
    An option whose clause already names a command is left as it is ('validate --returns drop',
    'report has no --map'); from Python (no command) nothing changes."""
    name = COMMAND.get()
    if not name or not _ORDER_OPTIONS.search(text):
        return text
    own = command_options(name)
    owner = _OWNER.get(name, "validate")
    out: list[str] = []
    at = 0
    for match in _ORDER_OPTIONS.finditer(text):
        starts = [m.end() for m in _CLAUSE.finditer(text, 0, match.start())]
        start = starts[-1] if starts else 0
        # Left as it is: the clause names a command, or an option of it was named so just now.
        named = (out and at >= start) or _COMMAND_WORD.search(text, start, match.start())
        if match.group() in own or not own or named:
            continue
        out.append(text[at : match.start()] + f"segchain {owner} ")
        at = match.start()
    return "".join(out) + text[at:]


def prefix() -> str:
    """``segchain <command>: `` for messages on stderr (``segchain: `` outside a command)."""
    name = COMMAND.get()
    return f"segchain {name}: " if name else "segchain: "


def readable(text: str, *, styled: bool = False, names: Iterable[str] = ()) -> str:
    """``text`` with the bytes of a file name that are not UTF-8 shown as ``\\xff``, and every
    control character but the newlines between its lines escaped (``\\x1b``).

    Python gives such a name (``bad\\xff.csv`` on disk) a lone surrogate per byte, which
    stderr showed as ``bad\\udcff.csv``. Every message goes through here on its way to stderr,
    so file names are shown one way wherever they appear; and a file name that holds a control
    character (a newline forged a line on stderr, an escape sequence reached the terminal) is
    quoted wherever a message names it: those ``tableio.short`` formats, those the command was
    given (``formatting.remember_name``) and ``names``. Any other control character (a cell, a
    header, a library's warning) is escaped. ``styled``: a table rich rendered for a terminal,
    whose escape sequences are its own colours (its cells were escaped: ``frame_table``).
    """
    if not styled:
        text = escape_controls(quote_names(text, names), keep="\n")
    return not_utf8_shown(text)


def write_lines(text: str, *, styled: bool = False) -> None:
    """Write ``text`` to stderr with the command prefix on every line, in one write
    (``styled``: see ``readable``)."""
    head = prefix()
    if not styled:
        text = own_options(text)
    lines = readable(text, styled=styled).rstrip("\n").split("\n")
    sys.stderr.write("".join(f"{head}{line}".rstrip() + "\n" for line in lines))
    sys.stderr.flush()


def _sourced(message: str) -> str:
    """``message`` with each option whose value came from the environment or the config named by
    it (``config.name_sources``), as errors are: network's 'stopped at its node limit
    (--node-limit 1): ... raise --node-limit' under $SEGCHAIN_NODE_LIMIT, validate's 'dates:
    day-first (from --date-format)' under $SEGCHAIN_DATE_FORMAT named an option not given."""
    from segchain.config import name_sources

    return name_sources(message)


class Reporter:
    """stderr output of a command: notes, warnings and rich tables, each message prefixed with
    ``segchain <command>:``. --quiet silences all but errors; warnings are then counted and the
    count given in one line when the command writes its output."""

    def __init__(self, *, quiet: bool = False, verbose: bool = False) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self._console: Console | None = None
        self.hidden_warnings = 0
        self._counted = False
        # How a stage's messages about tables name them (``name_tables``); none until set.
        self.tables: dict[str, str] = {}
        if not _ACTIVE:
            _ACTIVE.append(self)

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            # Logs from make and cron are not terminals: give tables room instead of 80 columns.
            # On a terminal, leave room for the prefix every line carries.
            width = None if sys.stderr.isatty() else 160
            console = Console(stderr=True, highlight=False, soft_wrap=True, width=width)
            if width is None:
                console.width = max(40, console.width - len(prefix()))
            self._console = console
        return self._console

    def name_tables(self, given: Mapping[str, str | Sequence[str] | None]) -> None:
        """Name the tables a stage's notes and warnings mark (``errors.TableMessage``) by the
        option or argument and file that gave each (``given``: see ``tables_named``), as its
        errors are: ``--orders orders.csv: 3 zero-price order lines left out``."""
        self.tables = table_names(given)

    def info(self, message: str) -> None:
        if not self.quiet:
            write_lines(named_tables(_sourced(message), self.tables))

    def warn(self, message: str) -> None:
        if self.quiet:
            # cron mails any stderr: --quiet keeps warnings to one counting line at the end.
            self.hidden_warnings += 1
            return
        write_lines(f"Warning: {named_tables(_sourced(message), self.tables)}")

    def count_hidden(self) -> None:
        """With --quiet, say once how many warnings were not shown (nothing if none)."""
        if self.quiet and self.hidden_warnings and not self._counted:
            self._counted = True
            n = self.hidden_warnings
            write_lines(
                f"{plural(n, 'warning')} not shown (--quiet); run without --quiet to see them"
            )

    def table(self, renderable: Any) -> None:
        """A rich table, each of its lines prefixed like every other message."""
        if not self.quiet:
            with self.console.capture() as captured:
                self.console.print(renderable)
            write_lines(captured.get(), styled=True)

    def provenance(self, metadata: Mapping[str, Any]) -> None:
        """With --verbose, show CSV outputs' provenance (Parquet carries it in the file)."""
        if self.verbose:
            write_lines("provenance: " + json.dumps(metadata, sort_keys=True))


def frame_table(
    df: pl.DataFrame, *, title: str | None = None, kinds: Mapping[str, str] | None = None
) -> Any:
    """A rich Table of a small polars frame: numbers right-aligned and written as the report
    writes them (``segchain.formatting``), each column by its kind: given in ``kinds``, else
    from its name and dtype (``fill_rate`` a share, ``inventory_value`` money)."""
    from rich.markup import escape
    from rich.table import Table as RichTable

    from segchain.formatting import NUMERIC, format_number, kind_of

    # A title is text, not markup: '[forecast] as_of' in it was dropped as a style tag.
    title = escape(title) if title is not None else None
    table = RichTable(title=title, title_justify="left", show_edge=False, pad_edge=False)
    kind = {
        c: (kinds or {}).get(c) or kind_of(c, integer=t.is_integer(), numeric=t.is_numeric())
        for c, t in df.schema.items()
    }
    for c in df.columns:
        table.add_column(escape_controls(c), justify="right" if kind[c] in NUMERIC else "left")
    for row in df.iter_rows(named=True):
        table.add_row(
            *(
                "" if v is None else escape_controls(format_number(v, kind[c]))
                for c, v in row.items()
            )
        )
    return table


# ---------------------------------------------------------------------------------------------
# Loading order lines the same way in every command


@dataclass
class OrderOptions:
    """The options with which any command reads an order-line export."""

    map: Sequence[str] | None = None
    preset: str | None = None
    date_format: str | None = None
    returns: str | None = None
    rejects: str | None = None
    sheet: str | None = None


# Reasons that say the dates were read the wrong way, not that a column is mapped wrong.
_DATE_REASONS = ("bad_date", "implausible_date")
# Reasons only --returns drop gives: the lines were read right and rejected on request.
_RETURN_REASONS = ("return", "negative_price")


def _what_to_check(by_reason: Mapping[str, int]) -> str:
    """The options to check when every line is rejected, from the commonest reason."""
    top = max(by_reason.items(), key=lambda kv: kv[1])[0] if by_reason else None
    if top in _DATE_REASONS:
        return "--date-format (leave it out and the dates' order is detected) and --map / --preset"
    if top in _RETURN_REASONS:
        return (
            "--returns (drop rejects returns and credits; net, the default, keeps them as "
            "negative lines)"
        )
    return "--map / --preset"


@dataclass
class LoadedOrders:
    """An order export read and mapped, still lazy; ``collect`` runs the one pass."""

    imp: OrderImport
    table: Table
    rejects_path: str | None
    reporter: Reporter
    option: str | None = None  # see load_orders
    all_rejected: list[str] = field(default_factory=list)
    """After ``collect(customers=True)``: the customers whose every line was rejected."""

    @property
    def clean(self) -> pl.LazyFrame:
        return self.imp.clean

    @property
    def name(self) -> str:
        """The orders as messages name them: ``--orders orders.csv``, ``orders.csv``."""
        return by_option(self.option, self.table.name)

    def collect(
        self, *frames: pl.LazyFrame, customers: bool = False
    ) -> tuple[list[pl.DataFrame], Reconciliation]:
        """Collect ``frames`` and the reconciliation together, write rejects, report.

        ``customers``: also count the customers whose every line was rejected
        (``all_rejected``), in the same pass: a stage whose figures are per customer or
        segment lost them unsaid (``say_all_rejected``).

        Raises:
            DataError: no line of the export is usable.
        """
        import polars as pl

        from segchain.tableio import reading

        query = self.imp.customers_of(self.imp.lines) if customers else None
        asked = [*frames, *([query] if query is not None else [])]
        with reading(self.name):
            results = pl.collect_all([*asked, *self.tally()])
        if query is not None:
            self.all_rejected = self.imp.all_rejected(results[len(frames)])
        recon = self.settle(results[len(asked) :])
        return list(results[: len(frames)]), recon

    def say_all_rejected(self, message: str, verbs: tuple[str, str] = ("has", "have")) -> None:
        """Say ``all_rejected`` on stderr (``all_rejected_line``), if any."""
        if self.all_rejected:
            self.reporter.info(
                all_rejected_line(self.all_rejected, self.rejects_path, message, verbs)
            )

    def tally(self, lines: pl.LazyFrame | None = None) -> list[pl.LazyFrame]:
        """The queries of the reconciliation (and of the rejected lines, with --rejects): collect
        them in the same pass as the command's own queries, then give them to ``settle``.
        ``lines``: the import's lines as a stage reads them (else the import's own)."""
        lines = self.imp.lines if lines is None else lines
        rejects = [self.imp.rejects_of(lines)] if self.rejects_path else []
        orders = self.imp.derived_orders_of(lines)
        return [
            self.imp.summary_of(lines),
            *rejects,
            # Counted in the pass: the note of the ids the import made says how many orders.
            *([orders] if orders is not None else []),
            self.imp.grouped_by_order_of(lines),
            self.imp.other_forms_of(lines),
            self.imp.lost_zeros_of(lines),
        ]

    def settle(self, tallied: Sequence[pl.DataFrame]) -> Reconciliation:
        """The reconciliation from the collected ``tally``: writes rejects, reports.

        Raises:
            DataError: no line of the export is usable.
        """
        from segchain.errors import DataError
        from segchain.orders import Reconciliation
        from segchain.tableio import active_outputs, provenance, when_written, write_table

        recon = Reconciliation.from_summary(tallied[0], files=[t.name for t in self.table.parts])
        if self.rejects_path:
            written = write_table(
                tallied[1],
                self.rejects_path,
                metadata=provenance("rejects", inputs={"orders": recon.read}),
            )
            lines = plural(tallied[1].height, "rejected line")
            where = "stdout" if self.rejects_path == "-" else self.rejects_path
            said = f"wrote {lines} to {where} ({written})"
            renamed = ", ".join(f"{a!r} as {b!r}" for a, b in self.imp.rejects_renamed.items())
            if renamed:
                # The export's own reason (of a return) beside the rejects' reason code.
                said += f"; the export's columns named as its own are written {renamed}"
            when_written(self.rejects_path, functools.partial(self.reporter.info, said))
        one_file = None if self.table.parts else self.table.name
        warnings = self.imp.grouped_by_order(tallied[-3])
        warnings += self.imp.other_forms(tallied[-2], source=one_file)
        notes = [self.imp.derived_orders(tallied[-4])] if self.imp.derived else []
        self.report(recon, warnings + self.imp.lost_zeros(tallied[-1]), notes=notes)
        if recon.read == 0:
            # A header and nothing below it (an export of an empty period): no line to reject,
            # and no rejects file to keep.
            what = "no file has" if self.table.parts else "the export has no"
            raise DataError(
                f"{self.name}: {what} order lines (only a header)",
                hint="check the export's period and filters",
            )
        if recon.used == 0:
            # The rejected lines say why nothing is usable: they are written although the
            # command fails (and writes none of its other outputs).
            active = active_outputs()
            if active is not None and self.rejects_path:
                active.keep_on_error(self.rejects_path)
            raise DataError(
                f"{self.name}: no usable order lines: "
                + (
                    "its one line was rejected"
                    if recon.read == 1
                    else f"all {recon.read:,} lines were rejected"
                )
                + f" ({', '.join(f'{k} {v:,}' for k, v in recon.by_reason.items())})",
                hint=(
                    f"the rejected lines and their reasons are in {self.rejects_path}; check "
                    + _what_to_check(recon.by_reason)
                    if self.rejects_path
                    else "write them out with --rejects FILE to see why, and check "
                    + _what_to_check(recon.by_reason)
                ),
            )
        return recon

    def report(
        self, recon: Reconciliation, warnings: Sequence[str] = (), notes: Sequence[str] = ()
    ) -> None:
        """Say how the export was read; ``warnings`` and ``notes``: the import's, found in the
        pass."""
        r = self.reporter
        if self.table.parts:
            # Several files: each one's dialect and reconciliation, then the run's total.
            r.info(f"{self.name}:")
            for part in self.table.parts:
                own = recon.by_file.get(part.name)
                r.info(
                    f"  {part.name}: {part.dialect.describe()}"
                    + (f"; {own.line()}" if own is not None else "")
                )
        else:
            r.info(f"{self.name}: {self.table.dialect.describe()}")
        for skipped in self.table.skipped:
            r.info(f"  {skipped}: rejected lines of an earlier run (--rejects): not read")
        for part in self.table.parts or [self.table]:
            if part.dialect.cut_short is not None:
                r.warn(
                    cut_short_warning(by_option(self.option, part.name), *part.dialect.cut_short)
                )
        for note in [*self.imp.notes, *notes]:
            r.info(f"  {note}")
        for warning in [*self.imp.warnings, *warnings]:
            # Given by an option, the orders are one of the command's tables: say which.
            r.warn(f"{self.name}: {warning}" if self.option else warning)
        r.info(f"  {'all files: ' if self.table.parts else ''}{recon.line()}")
        if recon.by_flag:
            flags = ", ".join(f"{k} {v:,}" for k, v in recon.by_flag.items())
            r.info(f"  flagged (kept): {flags}")
        if recon.rejected and not self.rejects_path:
            r.info("  (write the rejected lines out with --rejects FILE)")


def all_rejected_line(
    customers: Sequence[str], rejects: str | None, message: str, verbs: tuple[str, str]
) -> str:
    """The customers whose every line was rejected, on one line of stderr (segment's and
    validate's, in the same words): the reconciliation counts their lines, and they vanished
    from the output unsaid. ``message`` says what became of them, its ``{customers}`` the count
    and ``{verb}`` one of ``verbs`` (singular, plural): whole at the caller, so the README's quote
    of it is checked against one literal. Without ``rejects`` it ends at the examples: the
    reconciliation above already says how to write the rejected lines out (one hint, not two)."""
    n = len(customers)
    where = f"; their lines are in {'stdout' if rejects == '-' else rejects}" if rejects else ""
    return (
        f"  {message.format(customers=plural(n, 'customer'), verb=agree(n, *verbs))}: "
        f"{examples(customers, 3)}{where}"
    )


def cut_short_warning(name: str, row: int, fields: int, width: int) -> str:
    return (
        f"{name}: the file ends inside its last line (row {row:,}: {fields} of the header's "
        f"{width} fields, and no line break after it): the export looks cut short; that line "
        "is read with its missing fields blank. Export the file again, or check that line"
    )


def warn_unmatched_policies(config: Config, frame: pl.DataFrame, reporter: Reporter) -> None:
    """Warn about segment policies that name no segment in ``frame`` (a misspelt label)."""
    from segchain.config import unmatched_policies

    if "segment" in frame.columns and config.segments.labels:
        for message in unmatched_policies(config, frame.get_column("segment").unique().to_list()):
            reporter.warn(message)


def load_config(path: str | None, reporter: Reporter | None = None) -> Config:
    """The config of this run (see ``segchain.config.load_config``), named on stderr.

    A config changes the numbers, so which file was read, and how it was found, is said on
    stderr (through ``reporter``; ``say_config`` for a command that first registers the tables
    the config names) and recorded with its sha256 in every output's provenance.
    """
    from segchain.config import FOUND
    from segchain.config import load_config as _load
    from segchain.schema import META_CONFIG
    from segchain.tableio import record_run_metadata, register_input, stdin_table

    config = _load(path, stdin_table=stdin_table(besides=("--config", "$SEGCHAIN_CONFIG")))
    if config.source == FOUND and config.path is not None:
        # Read as --config's file is, but named by no option: `-o segchain.toml` replaced it.
        # Registered before anything is said: `2>> segchain.toml` must not get the note.
        register_input(f"./{config.path}", option="config")
    if reporter is not None:
        say_config(config, reporter)
    record_run_metadata(META_CONFIG, config.record())
    return config


def say_config(config: Config, reporter: Reporter) -> None:
    """Say which config was read and how it was found (see ``load_config``)."""
    if config.path is not None:
        reporter.info(f"config: {config.describe()}")


def load_orders(
    source: str | Sequence[str],
    opts: OrderOptions,
    *,
    config: Config,
    reporter: Reporter,
    option: str | None = None,
    held: Mapping[str, Table] | None = None,
    coordinates: bool = False,
) -> LoadedOrders:
    """Read, map and prepare an order export (lazy); see LoadedOrders.collect.

    ``source`` may name several files: paths, globs and folders, read as one table.
    ``option``: the option that gives the orders (``--orders`` of forecast, stock and costs):
    every message about them begins with it and the file (``--orders bad.csv: ...``), as a side
    table's does; None for the command's INPUT, which is named by its path.
    ``held``: files already read as exports (``read_raw``), by name: mapped and cleaned as they
    are, not read again (report reads each input once).
    ``coordinates``: the command uses the orders' lat and lon (validate writes them, segment
    places customers by them), so it says which ones are emptied; the other stages read none,
    and a warning the user had from segment is not repeated by each stage downstream.
    """
    from segchain.config import setting
    from segchain.tableio import read_raw_sources

    # Options first: a bad value is a usage error before the export is opened.
    returns = setting(opts.returns, config, "orders", "returns", "net")
    date_format = setting(opts.date_format, config, "orders", "date_format", None)
    sources = [source] if isinstance(source, str) else list(source) or ["-"]
    sheet = order_sheet(opts.sheet, config, sources)
    with _named_by(option, _file_names(sources)):
        table = read_raw_sources(sources, sheet=sheet, held=held)
    if sheet is not None:
        _sheet_applies(table, sheet, reporter)
    with _named_by(option, [table.name]):
        imp = _import_table(
            table,
            opts,
            config=config,
            returns=returns,
            date_format=date_format,
            name=by_option(option, table.name),
            coordinates=coordinates,
        )
    return LoadedOrders(
        imp=imp, table=table, rejects_path=opts.rejects, reporter=reporter, option=option
    )


def _clean_returns(table: Table, opts: OrderOptions) -> Returns | None:
    """What --returns asks of validate's output beyond what validate did: ``drop`` of lines it
    netted or kept (their flags say which), else None. Asked to keep what validate netted or
    dropped, or to net what it dropped or kept, the lines cannot say how: refused. It was
    ignored, the output the same to the byte, nothing said. (The config's [orders] returns is
    for exports: the table keeps the treatment it was cleaned with.)"""
    asked = opts.returns
    params = table.metadata.get("params") or {}
    done = params.get("returns", "net") if isinstance(params, dict) else "net"
    if asked is None or asked == done:
        return None
    if asked == "drop":
        return "drop"
    raise UsageError(
        f"--returns {asked}: {table.name} is segchain validate's output, whose returns were "
        f"handled there with --returns {done}; its lines cannot be "
        f"{ {'net': 'netted', 'drop': 'dropped', 'keep': 'kept'}[asked] } now",
        hint=f"validate the export with --returns {asked}, or give the export itself",
    )


def _import_table(
    table: Table,
    opts: OrderOptions,
    *,
    config: Config,
    returns: Returns,
    date_format: str | None,
    name: str,
    coordinates: bool,
) -> OrderImport:
    """The order lines of ``table``: validate's output as it is, an export mapped and imported.
    ``name``: the table as messages name it."""
    import shlex

    from segchain.config import PRESET_NON_PRODUCT_SKUS, env_map, parse_map_options, resolve_mapping
    from segchain.orders import (
        NON_PRODUCT_SKUS,
        from_clean,
        import_orders,
        typed_as_validated,
        validate_flags,
    )
    from segchain.schema import case_twins
    from segchain.tableio import META_COLUMNS, reading, say_case_twins

    as_is = not opts.map and not opts.preset
    if table.stage == "orders" and as_is:
        return from_clean(table.frame, source=table.name, returns=_clean_returns(table, opts))
    # Validate's output rewritten by another tool (a polars filter, a conversion) has lost the
    # metadata that says it is clean, not its flags: derived again without validate's preset,
    # 712 of Online Retail's 1,920 postage and fee lines counted as sales, without a word.
    flags = validate_flags(table.frame) if table.stage is None and as_is else None
    if flags is not None and typed_as_validated(table.frame):
        return from_clean(
            table.frame,
            source=table.name,
            returns=_clean_returns(table, opts),
            note=f"validate's columns and flags ({_flag_counts(flags)}) without its metadata: "
            "read as validate's output, its flags kept (--preset reads it as an export, its "
            "flags derived again)",
        )
    headers = [h for h in table.frame.collect_schema().names() if h not in META_COLUMNS]
    with _other_sheets_hint(table), _not_order_lines(table, headers, name):
        mapping = resolve_mapping(
            headers,
            cli_map=parse_map_options(opts.map or []),
            env_map=env_map(),
            config=config,
            preset=opts.preset,
        )
    # `quantity` is read beside `Quantity`; which one holds the quantities the file cannot say.
    for twin, column in case_twins(headers).items():
        if mapping.get(column) == column:
            instead = shlex.quote(f"{column}={twin}")
            say_case_twins(name, {twin: column}, how=f" (to read it instead: --map {instead})")
    with (
        reading(name),
        _other_sheets_hint(table),
        _not_order_lines(table, headers, name),
        _preset_found_none(opts.preset or config.preset, headers),
    ):
        imp = import_orders(
            table.frame,
            mapping=mapping,
            returns=returns,
            date_format=date_format,
            # Each file of several keeps its own decimal separator.
            decimal_comma=(
                {t.name: t.dialect.decimal_comma for t in table.parts}
                if table.parts
                else table.dialect.decimal_comma
            ),
            non_product_skus=NON_PRODUCT_SKUS
            | PRESET_NON_PRODUCT_SKUS.get(opts.preset or config.preset or "", frozenset()),
            source=table.name,
            say_coordinates=coordinates,
        )
    if flags is not None:
        imp.warnings.append(
            f"the column flag holds segchain's flag codes ({_flag_counts(flags)}), as "
            "validate's output does: it is not read, the lines are flagged again here (without "
            "the --preset validate may have had); to keep validate's flags, give the Parquet "
            "validate wrote, or read this file with validate's --preset"
        )
    return imp


def _flag_counts(flags: Mapping[str, int]) -> str:
    """``non_product 1,920, return 8,539``: lines per flag code, in the codes' order."""
    from segchain.schema import LINE_FLAGS

    return ", ".join(f"{code} {flags[code]:,}" for code in LINE_FLAGS if code in flags)


def by_option(option: str | None, name: str) -> str:
    """``name`` (a file, ``<stdin>``) as messages name it: with the option that gave it."""
    return f"{option} {name}" if option else name


def _file_names(sources: Sequence[str]) -> Iterator[str]:
    """The names by which reading ``sources`` may name them: each source, each file of a
    folder or glob, ``<stdin>`` (a generator: folders are listed only for an error)."""
    for s in sources:
        yield "<stdin>" if s == "-" else s
    for s in sources:
        yield from _expanded(s)


@contextmanager
def _named_by(option: str | None, names: Iterable[str]) -> Iterator[None]:
    """An error about orders given by ``option`` that begins with one of their ``names``
    (``bad.csv: missing required column sku``) begins with the option too (``--orders bad.csv:
    ...``), as a side table's does (``tables_named``). Unchanged for the INPUT (no option)."""
    from segchain.tableio import rename_source, short

    try:
        yield
    except SegchainError as exc:
        for name in names if option else ():
            # Messages name a file as given, or cut short (``tableio.short``) when long.
            rename_source(exc, name, by_option(option, name))
            rename_source(exc, short(name), by_option(option, short(name)))
        raise


@contextmanager
def _not_order_lines(table: Table, headers: Sequence[str], name: str) -> Iterator[None]:
    """Another stage's output given as order lines ('forecast --orders segments.csv') said
    'missing required columns order_id, ...; hint: map them with --map': name what it is.
    Only when columns are missing: an export may carry another table's key columns.
    ``name``: the table as messages name it."""
    from segchain.errors import MissingColumnsError

    try:
        yield
    except MissingColumnsError:
        from segchain.schema import check_table_kind

        check_table_kind(
            headers,
            table.stage,
            "orders",
            source=name,
            hint="give the order lines here: the ERP export, or validate's output",
        )
        raise


def order_sheet(value: str | None, config: Config, sources: Sequence[str]) -> str | None:
    """The sheet at which the order exports ``sources`` are read when they are workbooks:
    ``--sheet`` (or ``SEGCHAIN_SHEET``, in ``value``), else the config's ``[orders] sheet``.

    Raises:
        UsageError: ``--sheet`` on the command line for sources none of which may be a
            workbook; checked by their first bytes, before any is read.
    """
    from segchain.config import name_sources, setting
    from segchain.tableio import expand_sources, may_be_workbook

    sheet = setting(value, config, "orders", "sheet", None)
    if sheet is not None and name_sources("--sheet") == "--sheet":
        files = expand_sources(sources)
        if not any(may_be_workbook(f) for f in files):
            raise _no_workbook(sheet, files)
    return sheet


def _no_workbook(sheet: str, names: Sequence[str]) -> SegchainError:
    """``--sheet`` on the command line for inputs none of which is a workbook: a mistake (a CSV
    has no sheets), a usage error."""
    what = (
        f"{names[0]} is not"
        if len(names) == 1
        else f"none of {count(len(names))} files ({names[0]} ... {names[-1]}) is"
    )
    return UsageError(
        f"--sheet {sheet!r}: {what} a workbook (.xlsx, .xls, .ods): only a workbook has sheets",
        hint="leave --sheet out for CSV and Parquet files",
    )


def _sheet_applies(table: Table, sheet: str, reporter: Reporter) -> None:
    """After reading: refuse ``--sheet`` on the command line when no input was a workbook
    (stdin, a zipped CSV: not known before); a sheet from the config or the environment is a
    standing setting for the workbooks of other runs, and is not refused. With workbooks among
    other files (a folder of monthly exports), say that the others are read as they are.

    Raises:
        UsageError: ``--sheet`` given on the command line, and no input is a workbook.
    """
    from segchain.config import name_sources

    parts = table.parts or [table]
    books = sum(1 for t in parts if t.dialect.sheets)
    where = name_sources("--sheet")
    if books == 0:
        if where == "--sheet":
            raise _no_workbook(sheet, [t.name for t in parts])
        return
    if books < len(parts):
        others = len(parts) - books
        reporter.info(
            f"{where} {sheet!r}: read in {plural(books, 'workbook')}; "
            + (
                "1 other file (CSV, Parquet) read as it is"
                if others == 1
                else f"{count(others)} other files (CSV, Parquet) read as they are"
            )
        )


@contextmanager
def _preset_found_none(preset: str | None, headers: Sequence[str]) -> Iterator[None]:
    """Columns missing where the preset read finds none of its headers: the hint says so first
    (an SAP list of screen labels read with --preset sap failed as without it)."""
    from segchain.config import preset_found_none
    from segchain.errors import MissingColumnsError

    try:
        yield
    except MissingColumnsError as exc:
        said = preset_found_none(preset, headers) if preset else None
        if said is not None:
            exc.hint = said + (f"; {exc.hint}" if exc.hint else "")
        raise


@contextmanager
def _other_sheets_hint(table: Table) -> Iterator[None]:
    """A workbook whose sheet read lacks the order columns (a cover or summary sheet first), or
    the headers a mapping names (``--map``, ``[columns]``): the hint names its other sheets and
    ``--sheet``, not the CSV way of cutting lines."""
    from segchain.config import NoSuchHeader
    from segchain.errors import MissingColumnsError

    try:
        yield
    except (MissingColumnsError, NoSuchHeader) as exc:
        sheets = table.dialect.sheets
        if table.parts or len(sheets) < 2:
            raise
        read = table.dialect.sheet
        rest = [t for i, t in enumerate(sheets) if i != read]
        others = ", ".join(repr(t) for t in rest[:10]) + (", ..." if len(rest) > 10 else "")
        exc.hint = (
            f"they were looked for on sheet {sheets[read]!r}; the workbook's other sheets: "
            f"{others}: read the one holding the order lines with --sheet NAME or --sheet N"
        )
        raise


def write_output(
    df: pl.DataFrame,
    dest: str,
    *,
    fmt: str | None,
    metadata: Mapping[str, Any],
    reporter: Reporter,
    what: str,
) -> None:
    """Write a stage's table and say where it went (stderr); ``what`` names its rows in the
    plural (``stocking points``), the singular being that without its final s."""
    from segchain.tableio import when_written, write_table

    written = write_table(df, dest, format=fmt, metadata=metadata)
    reporter.count_hidden()
    if written == "csv":
        reporter.provenance(metadata)
    where = "stdout" if dest == "-" else dest
    rows = plural(df.height, what.removesuffix("s"), what)
    when_written(dest, lambda: reporter.info(f"wrote {rows} to {where} ({written})"))


@contextmanager
def tables_named(given: Mapping[str, str | Sequence[str] | None]) -> Iterator[None]:
    """A stage's error about a table given by an option, named by the option and its file.

    A stage names such a table by its option alone (``--items: 1 sku is on more than one row:
    ...``): it does not know the file. Here the file is added (``--items items.csv: ...``) as a read
    error is named (``tableio.named_by_option``); a path from the config is named by its key
    when the error is shown (``config.name_sources``). A message about several tables names
    each where it marks it (``SegchainError.name_tables``): ``SEGMENTS seg.csv and --orders
    orders.csv have no customer_id in common``. ``given`` maps each option or argument to its
    path (several for a repeated --orders), or None when the option was not given. A stage
    names its argument by a word (``forecast: forecast must be a finite number``,
    ``schema.ARGUMENT_WORDS``): that message names it as the command does (``FORECAST fc.csv:
    forecast must be ...``).
    """
    from segchain.schema import ARGUMENT_WORDS
    from segchain.tableio import rename_source

    try:
        yield
    except SegchainError as exc:
        names = table_names(given)
        exc.name_tables(names)
        for option, named in names.items():
            rename_source(exc, option, named)
            if option in ARGUMENT_WORDS:
                rename_source(exc, ARGUMENT_WORDS[option], named)
        raise


def table_name(option: str, path: str | None) -> str:
    """How messages name the table ``path`` given by ``option`` (see ``table_names``):
    ``SEGMENTS <stdin>``, where ``f"SEGMENTS {path}"`` wrote ``SEGMENTS -``."""
    return table_names({option: path}).get(option, option)


def table_names(given: Mapping[str, str | Sequence[str] | None]) -> dict[str, str]:
    """How messages name each table of ``given`` (see ``tables_named``): ``--items items.csv``,
    ``--orders <stdin>``, ``--orders a.csv, b.csv``, ``SEGMENTS seg.csv``."""
    from segchain.tableio import named_by_option, short

    names = {}
    for option, value in given.items():
        paths = [] if value is None else [value] if isinstance(value, str) else list(value)
        if not paths:
            continue
        named = named_by_option(paths[0]) if len(paths) == 1 else ""
        if not named.startswith(f"{option} "):  # stdin, several files, an argument
            limit = 120 if len(paths) == 1 else 60  # as named_by_option cuts one file's name
            shown = ["<stdin>" if p == "-" else short(p, limit) for p in paths[:3]]
            more = f" (+{len(paths) - 3})" if len(paths) > 3 else ""
            named = f"{option} {', '.join(shown)}{more}"
        names[option] = named
    return names


def segments_as_of_note(
    metadata: dict,
    orders,
    name: str,
    *,
    as_of: dt.date | None = None,
    option: str = "--as-of",
    holder: str = "the forecast",
) -> str | None:
    """What to say when segment's output was made as of another day than the forecast's.

    Without ``as_of``, a day before the orders end: the lines since are forecast with segments
    that knew nothing of them (customers first seen since are in no segment), where a backtest
    of the chain meant to stop at that day. With an ``as_of`` before the segments' day: the
    segments were made from the lines the forecast holds out and scores itself on (each
    customer's segment from its orders after the day), so the held-out check of the chain is
    no backtest of it (``holder`` holds them out: the forecast, or stock's replay of its plan on
    the periods after the forecast's start). ``option`` names where ``as_of`` came from."""
    import polars as pl

    from segchain.schema import META_PARAMS, META_STAGE

    params = metadata.get(META_PARAMS) if metadata.get(META_STAGE) == "segments" else None
    try:
        seg_as_of = dt.date.fromisoformat(str((params or {}).get("as_of")))
    except ValueError:
        return None
    day = orders.get_column("order_date").cast(pl.Date)
    if as_of is not None:
        seen = orders.filter((day >= as_of) & (day < seg_as_of)).height
        if as_of >= seg_as_of or not seen:
            return None
        return (
            f"{name} was made from the order lines before {seg_as_of}, a later day than "
            f"{option} {as_of}: its segments read {seen:,} line{'s' if seen != 1 else ''} "
            f"{holder} holds out, so the held-out check scores segments that knew that "
            f"demand; give segment --as-of {as_of} too for a backtest of the chain"
        )
    after = orders.filter(day >= seg_as_of).height
    if not after:
        return None
    lines = f"{after:,} order line{'s' if after != 1 else ''}"
    if after == orders.height:
        # Forecasting as of that day would leave no history (exit 1): these segments are of
        # another, older export, and describe none of these orders.
        return (
            f"{name} was made as of {seg_as_of}, before every one of the {lines}: its segments "
            "were made from other orders; run segment on these orders"
        )
    return (
        f"{name} was made as of {seg_as_of}; {lines} on or after it are in the history too; "
        f"give --as-of {seg_as_of} to forecast as of the segments' date"
    )
