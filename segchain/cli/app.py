"""The Typer application every command module registers on."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

HELP_OPTIONS = ["-h", "--help"]


class SegchainGroup(TyperGroup):
    """Typer's group, with usage errors written as segchain's own errors are.

    ``segchain <command>: Error: ...`` on one line (and a usage line, also prefixed) instead of a
    rich panel: in ``make -j2`` logs every line of stderr says which command wrote it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from segchain.cli.helptext import polish

        # Panels, metavars and defaults: one rule for every command's --help.
        for command in self.commands.values():
            polish(command)
            _guard_option_values(command)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from segchain.cli.helptext import polish

        # Typer adds the completion options after __init__: polish the group's own when shown.
        polish(self)
        super().format_help(ctx, formatter)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        # Typer's bundled click: its exception types are not exported by typer.
        from typer._click.exceptions import ClickException

        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except ClickException as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # the help was shown: nothing to add
                sys.exit(exc.exit_code)
            _usage_error(exc, args, commands=tuple(self.commands))
            sys.exit(exc.exit_code)
        except typer.Abort:
            _usage_error(None)
            sys.exit(1)
        # Without standalone mode Typer returns an Exit's code instead of exiting with it.
        sys.exit(result if isinstance(result, int) else 0)


def _guard_option_values(command: Any) -> None:
    """Refuse an option whose value would be another of the command's options.

    The parser takes the word after ``--rejects`` as its value whatever it is, so
    ``--rejects -o clean.csv`` wrote the rejects to a file named ``-o`` and then refused
    ``clean.csv`` as an extra argument, a message naming neither mistake. No file or value a
    user means is spelt like one of the command's own options (``-`` and negative numbers are
    not option names)."""
    options = [p for p in command.params if p.param_type_name == "option"]
    names = {name for p in options for name in (*p.opts, *p.secondary_opts)}
    names.update(HELP_OPTIONS)
    takes_value = _value_options(command)
    parse_args = command.parse_args

    def guarded(ctx: Any, args: list[str]) -> list[str]:
        from typer._click.exceptions import UsageError

        for option, value in zip(args, args[1:], strict=False):
            if option == "--":  # what follows is arguments, not options
                break
            if option in takes_value and value in names:
                raise UsageError(
                    f"{option} needs a value, but the next word is the option {value}", ctx=ctx
                )
        _refuse_dash_files(ctx, args, names, takes_value)
        _refuse_repeated(ctx, args, command, takes_value)
        return parse_args(ctx, args)

    command.parse_args = guarded


def _refuse_repeated(ctx: Any, args: list[str], command: Any, takes_value: set[str]) -> None:
    """Refuse an option that reads one table given twice with two files: the parser kept the
    last without a word (``stock --items a.csv --items b.csv`` read b.csv alone, where
    ``forecast --orders``, given so, reads both files). An option that takes several
    (``--orders`` of forecast and costs) may be repeated, and one given twice with the same
    file says nothing new. Other options keep the last value, as a wrapper script or an alias
    overrides its own (``-o x.csv`` then ``-o y.csv``, ``--service-level`` likewise)."""
    from typer._click.exceptions import UsageError

    from segchain.cli.common import path_roles

    function = getattr(command.callback, "__wrapped__", None)
    tables = {n for n, r in path_roles(function).items() if r.kind == "input"} if function else ()
    single = {
        name: p
        for p in command.params
        if p.param_type_name == "option" and not p.multiple and p.name in tables
        for name in p.opts
    }
    seen: dict[str, tuple[str, str]] = {}
    words = iter(args)
    for token in words:
        if token == "--":
            return
        name, equals, value = token.partition("=")
        if not (equals and name.startswith("--") and name in single):
            if token not in takes_value:
                continue
            name, value = token, next(words, "")
            if name not in single:
                continue  # the value of an option that may be repeated
        param = single[name].name
        if param in seen and seen[param][1] != value:
            first, before = seen[param]
            exc = UsageError(
                f"{first} is given twice, {before!r} and {value!r}: it reads one file, and "
                "only the last would be read",
                ctx=ctx,
            )
            exc.segchain_hint = f"give {first} once"  # type: ignore[attr-defined]
            raise exc
        seen[param] = (name, value)


def _value_options(command: Any) -> set[str]:
    """The names of ``command``'s options that take a value (the next word is theirs)."""
    return {
        name
        for p in command.params
        if p.param_type_name == "option" and not p.is_flag and not p.count
        for name in p.opts
    }


def _refuse_dash_files(ctx: Any, args: list[str], names: set[str], takes_value: set[str]) -> None:
    """Refuse a file whose name starts with a dash, given where the parser reads options.

    ``segchain validate -export.csv`` said "No such option: -e", and ``-o.csv`` was read as
    ``-o .csv``: neither message named the file or said how to give it. A word that names an
    existing file and is no option of the command (nor an option's value) is that file.
    """
    from typer._click.exceptions import UsageError

    skip = False
    for token in args:
        if token == "--":
            return
        if skip:
            skip = False
            continue
        if token in takes_value:
            skip = True
            continue
        if (
            len(token) > 1
            and token.startswith("-")
            and token not in names
            and token.split("=", 1)[0] not in names
            and os.path.lexists(token)
        ):
            exc = UsageError(
                f"{token} is a file, but a word starting with a dash is read as an option",
                ctx=ctx,
            )
            exc.segchain_hint = f"write it as ./{token} (or put -- before it)"  # type: ignore[attr-defined]
            raise exc


def _usage_error(exc: Any, args: Sequence[str] | None = None, commands: Sequence[str] = ()) -> None:
    """``segchain <command>: Error: <what the parser said>`` and where to find the options.

    ``args``: the command line (default ``sys.argv``), to show the value of an option the
    parser refused, which its message does not say ('Input should be a valid integer');
    ``commands``: the group's commands, to name the one a message without its context is of
    (``--quiet=yes``: 'Option '--quiet' does not take a value' came as ``segchain: Error``)."""
    ctx = getattr(exc, "ctx", None)
    words = sys.argv[1:] if args is None else list(args)
    named = next((w for w in words if not w.startswith("-")), None)
    if ctx is not None and ctx.parent is not None:
        head, path = f"segchain {ctx.info_name}: ", ctx.command_path
    elif ctx is None and named in commands:
        head, path = f"segchain {named}: ", f"segchain {named}"
    else:
        head, path = "segchain: ", "segchain"
    if exc is None:
        lines = ["Error: aborted"]
    else:
        given = _refused_value(exc, words)
        lines = [f"Error: {exc.format_message()}{given}"]
        if ctx is None and path != "segchain":
            lines.append(f"  hint: {path} -h lists the options")
        if ctx is not None:
            lines.append(f"  usage: {ctx.get_usage().removeprefix('Usage: ')}")
            hint = (
                getattr(exc, "segchain_hint", None)
                or _positional_hint(exc, ctx, path, words)
                or _surplus_hint(exc, ctx, path, words)
            )
            lines.append(f"  hint: {hint or f'{path} -h lists the options'}")
    from segchain.cli.common import readable
    from segchain.tableio import messages_off_named_files

    # The parser's errors come before any input is known: not into one (`2>> orders.csv`).
    messages_off_named_files(words)
    # The words given (`-o 'a\nb.csv'`) are quoted where the parser's message echoes them.
    names = [part for word in words for part in (word, word.partition("=")[2])]
    sys.stderr.write("".join(f"{head}{readable(line, names=names)}\n" for line in lines))
    sys.stderr.flush()


app = typer.Typer(
    cls=SegchainGroup,
    name="segchain",
    help=(
        "Segment-driven supply-chain decisions from ERP order exports.\n\n"
        "Each command reads tables (CSV or Parquet, files or '-' for stdin), runs one stage and "
        "writes one table to -o (default: -, stdout):\n\n"
        "    segchain segment orders.csv \\\n"
        "      | segchain forecast --orders orders.csv \\\n"
        "      | segchain stock --orders orders.csv \\\n"
        "      | segchain report -o report.html\n\n"
        "Each command's options: segchain COMMAND -h."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
    # --install-completion / --show-completion for bash, zsh, fish and PowerShell.
    add_completion=True,
    # ERP rows must never leak into logs through a traceback's local variables.
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": HELP_OPTIONS},
)


def _print_version(value: bool) -> None:
    if value:
        from segchain import __version__

        typer.echo(f"segchain {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "-V",
        "--version",
        help="Print the version and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """Segment-driven supply-chain decisions from ERP order exports."""


def _positional_hint(exc: Any, ctx: Any, path: str, args: list[str]) -> str | None:
    """For ``costs --segments seg.parquet``: the input is the command's argument, named by
    place, not an option (the parser offers only options spelt alike)."""
    option = getattr(exc, "option_name", None)
    if type(exc).__name__ != "NoSuchOption" or not option:
        return None
    name = option.lstrip("-").split("=", 1)[0].replace("-", "_")
    arguments = [p for p in ctx.command.params if p.param_type_name == "argument"]
    if not any(p.name == name for p in arguments):
        return None
    value = next(
        (
            after
            for token, after in zip(args, [*args[1:], None], strict=True)
            if token == option and after is not None
        ),
        None,
    )
    if value is None:
        value = next((t.split("=", 1)[1] for t in args if t.startswith(option + "=")), "FILE")
    return (
        f"{name.upper()} is given without an option name: {path} {value} ... "
        f"(no {option.split('=', 1)[0]})"
    )


def _surplus_hint(exc: Any, ctx: Any, path: str, args: list[str]) -> str | None:
    """For ``forecast seg.parquet orders.csv``: more inputs by place than the command takes,
    the others being options' files. The parser names only the missing ``--orders`` (or the
    extra argument), not that the file meant for it was given."""
    from segchain.cli.helptext import PANEL_INPUT

    params = ctx.command.params
    arguments = [p for p in params if p.param_type_name == "argument"]
    if not arguments or any(p.nargs < 0 for p in arguments):
        return None
    given = _positional_words(ctx, args)
    takes = sum(p.nargs for p in arguments)
    if len(given) <= takes:
        return None
    names = ", ".join(str(p.metavar or p.name).upper() for p in arguments)
    head = (
        f"{path} takes {takes} input{'s' if takes > 1 else ''} by place ({names}) and was given "
        f"{len(given)} ({', '.join(given)})"
    )
    missing = getattr(exc, "param", None)
    if type(exc).__name__ == "MissingParameter" and missing is not None and missing.opts:
        option = missing.opts[0]
        first, other = _by_what_they_are(given[: takes + 1], arguments)
        example = " ".join([*first, option, other])
        return f"{head}: the other goes in {option}, e.g. {path} {example}"
    used = {word.split("=", 1)[0] for word in args}
    files = [
        p.opts[0]
        for p in params
        if p.param_type_name == "option"
        and p.metavar == "FILE"
        and getattr(p, "rich_help_panel", None) == PANEL_INPUT
        and not used.intersection((*p.opts, *p.secondary_opts))
    ]
    if not files:
        return None
    extra = len(given) - takes
    where = files[0] if len(files) == 1 else f"its option, one of {', '.join(files)}"
    if extra == 1:
        return f"{head}: the other goes in {where}"
    return f"{head}: the others go in their options ({', '.join(files)})"


def _by_what_they_are(given: list[str], arguments: list[Any]) -> tuple[list[str], str]:
    """The files given by place split into the command's own inputs and the one for the missing
    option: given order, but for a command taking SEGMENTS when exactly one file is a segments
    table (segment's Parquet metadata, or a header with segment_rank), which then comes first.
    ``forecast orders.parquet seg.parquet`` was told ``forecast orders.parquet --orders
    seg.parquet``, the segments where the orders go (session 66)."""
    takes = len(given) - 1
    if takes == 1 and str(arguments[0].metavar or arguments[0].name).upper() == "SEGMENTS":
        segments = [g for g in given if _is_segments_table(g)]
        if len(segments) == 1:
            return segments, next(g for g in given if g != segments[0])
    return given[:takes], given[takes]


def _is_segments_table(path: str) -> bool:
    """Whether ``path`` holds segment's output, by what costs nothing to read: a Parquet file's
    metadata, else a text file's first line. Never raises: a hint must not fail."""
    from segchain.tableio import read_metadata

    try:
        if read_metadata(path).get("stage") == "segments":
            return True
        with open(path, "rb") as handle:
            first = handle.readline(65536)
    except (OSError, ValueError):
        return False
    return b"segment_rank" in first and b"customer_id" in first


def _positional_words(ctx: Any, args: list[str]) -> list[str]:
    """The words of ``args`` after the command's name that the parser reads by place."""
    takes_value = _value_options(ctx.command)
    start = args.index(ctx.info_name) + 1 if ctx.info_name in args else 0
    words: list[str] = []
    skip = False
    rest = iter(args[start:])
    for token in rest:
        if skip:
            skip = False
        elif token == "--":
            words.extend(rest)
        elif token in takes_value:
            skip = True
        elif not (token.startswith("-") and len(token) > 1):
            words.append(token)
    return words


def _refused_value(exc: Any, args: list[str]) -> str:
    """``, got 'abc'`` for the option whose value the parser refused (its last occurrence, as
    the parser takes the last), ``(from SEGCHAIN_X)`` when it came from the environment; empty
    when the message names no option or already holds the value."""
    param = getattr(exc, "param", None)
    opts = [o for o in getattr(param, "opts", None) or [] if o.startswith("-")]
    if not opts:
        return ""
    value = None
    for i, token in enumerate(args):
        if token == "--":  # what follows is arguments, not options
            break
        for opt in opts:
            if token == opt and i + 1 < len(args):
                value = args[i + 1]
            elif opt.startswith("--") and token.startswith(opt + "="):
                value = token[len(opt) + 1 :]
    source = ""
    envvar = getattr(param, "envvar", None)
    if value is None and isinstance(envvar, str) and envvar in os.environ:
        value, source = os.environ[envvar], f" (from {envvar})"
    if value is None or repr(value) in exc.format_message():
        return ""
    return f", got {value!r}{source}"
