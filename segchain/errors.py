"""The SegchainError hierarchy and the exit codes the CLI maps them to."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
# A table's reader closed the pipe (`segchain ... | head`): the code of a writer SIGPIPE kills.
EXIT_PIPE_CLOSED = 128 + 13


class SegchainError(Exception):
    """A problem with the user's data or model: exit 1, one clear message, no traceback."""

    exit_code = EXIT_DATA

    def __init__(
        self, message: str, *, hint: str | None = None, tables: Mapping[str, str] | None = None
    ) -> None:
        """``tables``: a message about several tables marks each as ``{KEY}``, KEY being how the
        command is given it (``--orders``, ``SEGMENTS``), and maps KEY to the word that names it
        when a stage is run from Python (``orders``); the CLI names it by its option and file
        instead (``name_tables``)."""
        self.template = message if tables else None
        self.tables = dict(tables or {})
        message = _named(message, self.tables)
        super().__init__(message)
        self.message = message
        self.hint = hint

    def name_tables(self, names: Mapping[str, str]) -> None:
        """Name the tables of a message about several (see ``tables``) by ``names``: KEY ->
        ``--orders orders.csv``; a table not in ``names`` keeps its word."""
        if self.template is not None:
            self.message = _named(self.template, {**self.tables, **names})
            self.args = (self.message,)

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class TableMessage(str):
    """A stage's warning or note about tables it was given, marked as an error's are (see
    ``SegchainError``'s ``tables``): ``{--orders}: 3 zero-price order lines left out``. As a
    string it reads with the stage's own words (``--orders: 3 ...``); the CLI names each table
    by its option and file (``name_tables``: ``--orders orders.csv: 3 ...``): a command that
    reads two tables said '3 order lines left out' and not of which file."""

    template: str
    tables: dict[str, str]

    def __new__(cls, message: str, tables: Mapping[str, str] | None = None) -> TableMessage:
        self = super().__new__(cls, _named(message, tables or {}))
        self.template = message
        self.tables = dict(tables or {})
        return self

    def name_tables(self, names: Mapping[str, str]) -> str:
        """The message with each table named by ``names`` (KEY -> ``--orders orders.csv``);
        a table not in ``names`` keeps its word."""
        return _named(self.template, {**self.tables, **names})


def named_tables(message: str, names: Mapping[str, str]) -> str:
    """``message`` with its tables named by ``names`` when it marks them (``TableMessage``)."""
    return message.name_tables(names) if isinstance(message, TableMessage) else message


def about(key: str, message: str, tables: Mapping[str, str] | None = None) -> TableMessage:
    """A message about the one table given as ``key`` (``--orders``, ``SEGMENTS``), which it
    begins with, as a stage's error about one table does: ``--orders: 3 lines ...``. ``tables``:
    the words of other tables the message marks, and ``key``'s if not itself."""
    return TableMessage(f"{{{key}}}: {message}", {key: key, **(tables or {})})


def _named(template: str, names: Mapping[str, str]) -> str:
    # Each {KEY} replaced as text: the message's values may hold braces of their own.
    for key, name in names.items():
        template = template.replace(f"{{{key}}}", name)
    return template


class Terminated(BaseException):
    """SIGTERM or SIGHUP (a scheduler's time limit, ``kill``, a closed terminal): the command
    stops as on Ctrl-C, every temporary output is removed, and it exits 128 + the signal's
    number. A BaseException, like KeyboardInterrupt, so that no ``except Exception`` stops it."""

    # The signal taken, if any (Ctrl-C's too: see ``stop_taken``). Its handler raises Terminated
    # wherever the interpreter runs it, and C code that runs it and clears what it raised (the
    # compiler, importing a module) lost it: the run went on and wrote its outputs, exit 0.
    # Outputs are not written once it is set.
    taken: int | None = None

    def __init__(self, signum: int) -> None:
        import signal

        super().__init__(signum)
        self.signum = signum
        self.exit_code = 128 + signum
        self.name = signal.Signals(signum).name


def stop_taken() -> BaseException | None:
    """What the stopping signal taken (``Terminated.taken``) asks for, if one was: a
    KeyboardInterrupt for Ctrl-C, a Terminated for SIGTERM or SIGHUP. Raised where the
    exception its handler raised may have been lost or replaced."""
    import signal

    if Terminated.taken is None:
        return None
    if Terminated.taken == signal.SIGINT:
        return KeyboardInterrupt()
    return Terminated(Terminated.taken)


class DataError(SegchainError):
    """The input table cannot be used as it is (missing columns, empty file, bad values)."""


class UsageError(SegchainError):
    """The command line or configuration asks for something impossible: exit 2."""

    exit_code = EXIT_USAGE


class InfeasibleError(DataError):
    """An optimisation model has no solution for the data given."""


def examples(values: Iterable[object], limit: int = 5) -> str:
    """Format a few values for an error message: ``'a', 'b', 'c' (and 7 more)``; a missing
    value is ``(blank)``, not ``'None'``, which reads as a value of that name."""
    items = list(values)
    shown = ", ".join("(blank)" if v is None else repr(str(v)) for v in items[:limit])
    more = len(items) - limit
    return shown + (f" (and {more:,} more)" if more > 0 else "")


def cut(text: str, limit: int) -> str:
    # A header line of a binary or mangled file can be a megabyte long: never echo it whole.
    return text if len(text) <= limit else text[: limit - 3] + "..."


MAP_HINT = (
    "map them with --map CANONICAL=HEADER (e.g. --map customer_id=KUNNR) "
    "or pick a --preset (sap, odoo, online-retail)"
)


def title_row_hint(headers: Sequence[str]) -> str | None:
    """A hint when an export's first line is a report's title, not its header (a finance or
    ERP report saved as CSV: 'Sales by Item Detail' above the real header), or None. The CSV
    reader names the blank fields of such a line ``_duplicated_N``."""
    named = [h for h in headers if h.strip() and not re.fullmatch(r"_duplicated_\d+", h)]
    # A title is words ('Sales by Item Detail'); a lone column name (KUNNR) is not one.
    if len(named) > 1 or (named and " " not in named[0].strip()):
        return None
    if len(headers) == 1 and re.search(r"\S {2,}\S", headers[0]):
        # The whole line is one field, its words apart by runs of spaces: a file separated by
        # spaces (CDNOW's log, a fixed-width listing), which no delimiter sniffed reads.
        words = ", ".join(repr(w) for w in headers[0].split()[:6])
        return (
            f"the first line seems to be columns separated by spaces ({cut(words, 80)}), which "
            "segchain does not read: save the file with commas, e.g. awk -v OFS=, "
            "'{$1=$1; print}' export.txt > export.csv (a field holding a space is split too)"
        )
    title = f" ({cut(named[0], 40)!r})" if named else ""
    return (
        f"the first line looks like a report's title{title}, not the header: drop the lines "
        "above the header, e.g. tail -n +N export.csv | segchain validate - (N = the header's "
        "line number)"
    )


def _blanks_counted(names: list[str]) -> list[str]:
    """Header names for a message, blank ones as ``(blank)`` and a run of them as ``(4 blank)``:
    the CSV reader names the empty fields past the first ``_duplicated_N``, which read as columns
    of the file ('found Period: 2024, x, , _duplicated_0, _duplicated_1')."""
    out: list[str] = []
    run = 0
    for name in [*names, None]:
        if name is not None and (not name.strip() or re.fullmatch(r"_duplicated_\d+", name)):
            run += 1
            continue
        if run:
            out.append("(blank)" if run == 1 else f"({run} blank)")
            run = 0
        if name is not None:
            out.append(name)
    return out


class MissingColumnsError(DataError):
    """One or more required columns are absent; lists all of them at once."""

    def __init__(
        self,
        missing: Sequence[str],
        found: Sequence[str],
        *,
        source: str = "input",
        hint: str | None = None,
    ) -> None:
        self.missing = list(missing)
        self.found = list(found)
        shown = _blanks_counted([cut(f, 40) for f in self.found[:30]])
        if len(self.found) > 30:
            shown.append(f"... ({len(self.found) - 30:,} more)")
        message = (
            f"{source}: missing required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}; found {', '.join(shown) if shown else 'no columns'}"
        )
        # No default hint: only commands that read order exports have --map and --preset.
        super().__init__(message, hint=hint)
