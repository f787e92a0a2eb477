"""``segchain report``: one HTML, Markdown or terminal report from any of the stages' outputs."""

from __future__ import annotations

import errno
import os
import stat
import sys
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from segchain.cli import common as c
from segchain.cli.app import app
from segchain.errors import DataError, SegchainError, UsageError
from segchain.formatting import not_utf8_shown, plural

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from segchain.config import Config
    from segchain.tableio import Table

Inputs = Annotated[
    list[str] | None,
    typer.Argument(
        help="Stage outputs (orders, segments, profile, forecast, backtest, policy, stock's "
        "--segments-out, assignments, sites, costs, costs by customer), CSV or Parquet, in any "
        "order; '-' reads stdin (default: -).",
        show_default=False,
    ),
    c.reads("INPUTS", folders=True),
]
ReportOutput = Annotated[
    str | None,
    typer.Option(
        "-o",
        "--output",
        help="report.html (self-contained page), report.md (charts in report_files/ beside it) "
        "or '-' (Markdown on stdout) (default: a summary on a terminal, else Markdown on "
        "stdout).",
    ),
    c.writes("-o"),
]
Title = Annotated[
    str | None,
    typer.Option("--title", help="The report's title.", envvar="SEGCHAIN_REPORT_TITLE"),
]


@app.command("report")
@c.handle_errors
def report_command(
    inputs: Inputs = None,
    output: ReportOutput = None,
    title: Title = None,
    sheet: c.Sheet = None,
    quiet: c.Quiet = False,
    verbose: c.Verbose = False,
) -> None:
    """Report on any stage outputs: segments, forecast and accuracy, inventory, network.

    Recognises each input by its Parquet metadata or its key columns, and writes one section per
    stage present, each opening with its three headline numbers. The HTML page is one file with
    inline charts and no script, so it opens offline and survives e-mail.

    Example:

        segchain report segments.parquet profile.parquet forecast.parquet \\
          backtest.parquet policy.parquet -o report.html
    """
    from segchain.config import name_sources
    from segchain.report import (
        ReportParams,
        build_report,
        collect_tables,
        input_kind,
        is_rejects,
        recognise_table,
        unrecognised_message,
    )
    from segchain.report.checks import refuse_damaged
    from segchain.tableio import (
        NoSuchSheet,
        collect,
        expand_sources,
        may_be_workbook,
        read_bytes,
        read_table,
    )

    reporter = c.Reporter(quiet=quiet, verbose=verbose)
    # The charts are drawn off-screen (Figure, the Agg canvas, SVG): the backend of a shell set
    # up for interactive plots is no concern of a file, and a misspelt one (MPLBACKEND=bogus)
    # made `import matplotlib` raise, a traceback after every input was read.
    os.environ["MPLBACKEND"] = "agg"
    # validate takes $SEGCHAIN_PRESET, $SEGCHAIN_DATE_FORMAT and $SEGCHAIN_RETURNS as its
    # options: report reads a raw export with them too, checked before any input is read.
    order_options = c.env_order_options()
    stdout = sys.stdout
    params = ReportParams.resolve(
        inputs=inputs,
        output=output,
        title=title,
        stdout_is_terminal=stdout is not None and stdout.isatty(),
    )
    kind = params.layout
    if kind == "md":
        assert output is not None
        _check_charts_folder(output)
    # Globs (quoted) and folders name their files; raw order exports among them are read
    # together as one orders table, as every stage reads orders.
    sources = expand_sources(list(params.inputs))
    # A workbook is a raw order export: read at the sheet validate would read (--sheet,
    # SEGCHAIN_SHEET, the config's [orders] sheet), with the config validate would use.
    config: Config | None = None
    at_sheet = None
    if sheet is not None or any(s != "-" and may_be_workbook(s) for s in sources):
        config = c.load_config(None, reporter)
        at_sheet = c.order_sheet(sheet, config, sources)

    def config_now() -> Config:
        # Read once, when a table asks for it (a workbook, an export to map, raw orders).
        nonlocal config
        if config is None:
            config = c.load_config(None, reporter)
        return config

    books = 0
    named: list[tuple[str, str, str, Any, dict[str, Any]]] = []
    problems = []
    raw_orders: list[str] = []
    # Each file is read once: its bytes parsed as a stage table, and an order export's again as
    # an export (read_raw), which is mapped and cleaned as it is (load_orders' held).
    exports: dict[str, Table] = {}
    raw_at: int | None = None
    empty: list[str] = []
    for source in sources:
        # What reading a table says of its columns ('read column 'Quantity' as quantity') is
        # said once it is known to be a stage table: not for a rejects file it skips, nor for
        # an export read again as orders (their headers are an export's, not renamed).
        notes: list[str] = []
        data: bytes | None = None  # None: the file could not be read
        raw: Table | None = None  # the file read as an export, when it was
        try:
            data = read_bytes(source)
            # A pipe is counted as a workbook (books) if its parse as a stage table fails: not
            # known before that parse, which --sheet needs.
            if source != "-" and (at_sheet is None or _is_file(source)):
                found = _export_by_header(source, data, sheet=at_sheet, config=config_now)
                if isinstance(found, _Export):
                    raw_orders.append(source)
                    exports[source] = found.table
                    raw_at = len(named) if raw_at is None else raw_at
                    continue
                raw = found
            with _held_notes(notes):
                table = read_table(source, sheet=at_sheet, data=data)
                frame = collect(table.frame)
        except NoSuchSheet:
            raise
        except DataError as exc:
            # A raw export that only the order importer can read (lines with extra fields).
            export = (
                _raw_orders(source, data, sheet=at_sheet, config=config_now, raw=raw)
                if source != "-" and data is not None
                else None
            )
            if export is not None:
                books += may_be_workbook(source)
                raw_orders.append(source)
                exports[source] = export
                raw_at = len(named) if raw_at is None else raw_at
            else:
                if _zero_bytes(source, data):
                    # report reads every table it is given, and needs none of them.
                    exc.hint = (exc.hint or "check the file") + "; or leave it out of the report"
                problems.append(str(exc))
            continue
        name = "<stdin>" if source == "-" else source
        books += bool(table.dialect.sheets)
        if is_rejects(frame.columns, table.stage):
            # `report out/*.csv` picks up validate's --rejects file: not a stage output.
            reporter.info(
                f"{name}: rejected order lines (validate's or segment's --rejects), not reported "
                "on: skipped"
            )
            continue
        what, how = recognise_table(frame.columns, table.stage)
        if what == "orders" and how == "columns":
            # An export as it came from the ERP: read it as every stage reads orders.
            if source == "-":
                problems.append(
                    f"{name}: raw order lines on stdin: give the export as a file, or run "
                    "segchain validate on it first"
                )
                continue
            raw_orders.append(source)
            export = _read_export(source, data, sheet=at_sheet, held=raw)
            if export is not None:  # else load_orders reads it, and says why it cannot
                exports[source] = export
            raw_at = len(named) if raw_at is None else raw_at
            del table, frame  # its read as a stage table: not held while the orders load
            continue
        if what is None and source != "-":
            # An export whose headers need the mapping validate reads it with (the config's
            # [columns] and preset, $SEGCHAIN_MAP): 'Order ID' is order_id there too.
            mapping_config = config_now()
            export = _read_export(source, data, sheet=at_sheet, held=raw)
            mapped, needs = (
                _export_mapping(export, config=mapping_config) if export else (False, None)
            )
            if export is not None and mapped:
                raw_orders.append(source)
                exports[source] = export
                raw_at = len(named) if raw_at is None else raw_at
                del table, frame
                continue
        else:
            needs = None
        side = input_kind(frame.columns, table.stage) if what is None and not needs else None
        if side is not None:
            # `report out/*.csv` picks up an item master kept beside the outputs: an input of
            # another stage, which the report does not read (as validate's --rejects file).
            reporter.info(f"{name}: {side}, an input the report does not read: skipped")
            continue
        if what is None:
            for note in notes if not needs else ():
                reporter.info(note)  # the message lists the columns as renamed
            problems.append(
                _export_message(name, needs)
                if needs
                else unrecognised_message(name, frame.columns, table.stage) + _other_sheets(table)
            )
            continue
        if frame.height == 0:
            # A stage may rightly write an empty table (forecast's backtest on a short history):
            # skipped, unless it leaves nothing to report on.
            empty.append(f"{name}: the {what} table has no rows (only a header)")
            continue
        for note in notes:
            reporter.info(note)
        named.append((name, what, how, frame, table.metadata))
    if at_sheet is not None and books == 0 and name_sources("--sheet") == "--sheet":
        # stdin is known to be no workbook only now (files were checked before reading).
        raise UsageError(
            f"--sheet {at_sheet!r}: no input is a workbook (.xlsx, .xls, .ods): only a "
            "workbook has sheets",
            hint="leave --sheet out for CSV and Parquet files",
        )
    if at_sheet is not None and books:
        # Recorded, so the command under "About this report" reads the same sheet again.
        params = replace(params, sheet=at_sheet)
    raw_note: tuple[str, str] | None = None  # (source, what reading it as validate said)
    if raw_orders and not problems:
        # --sheet applies to the workbooks among the exports; CSV exports are read as they are.
        in_books = any(may_be_workbook(s) for s in raw_orders)
        with _date_order_by_variable():
            loaded = c.load_orders(
                raw_orders,
                replace(order_options, sheet=sheet if in_books else None),
                config=config_now(),
                reporter=c.Reporter(quiet=True),
                held=exports,
            )
            [frame], recon = loaded.collect(loaded.clean, customers=True)
        # Recorded, so the command under "About this report" reads the export the same way.
        params = replace(params, environment=tuple(c.order_variables(config_now()).items()))
        name = loaded.table.name
        dialect = loaded.table.dialect
        how = f" ({dialect.describe()})" if dialect.sheets and not loaded.table.parts else ""
        read_as = f"raw order lines{how}, read as validate would: {recon.line()}"
        if loaded.all_rejected:
            # The order history counts the customers with a line kept: one whose every line
            # was rejected is not among them, said here and on the page beside the lines.
            lost = c.all_rejected_line(
                loaded.all_rejected,
                None,
                "{customers} whose every line was rejected {verb} in no order line of the report",
                ("is", "are"),
            )
            read_as += f"; {lost.strip()}"
        reporter.info(f"{name}: {read_as}")
        raw_note = (name, read_as)
        assert raw_at is not None
        named.insert(raw_at, (name, "orders", "columns", frame, {}))
    if not named and not raw_orders and empty:
        problems += [f"{note}: nothing to report" for note in empty]
    if problems:
        raise DataError("\n".join(problems))
    for note in empty:
        reporter.info(f"{note}: skipped")
    tables, meta, infos = collect_tables(named)
    # What stock or costs would refuse of a table is refused here too: its figures are wrong.
    refuse_damaged(tables, {info.kind: info.source for info in infos})
    if raw_note is not None:
        # The page is what is forwarded: it says the export's rejected lines, as stderr does.
        infos = [
            replace(i, note=raw_note[1]) if (i.source, i.kind) == (raw_note[0], "orders") else i
            for i in infos
        ]
    for info in infos:
        reporter.info(
            f"{info.source}: {info.kind}, {plural(info.rows, 'row')} (recognised by its {info.how})"
        )
    report = build_report(tables, metadata=meta, inputs=infos, params=params)
    reporter.provenance(report.provenance)
    for note in report.skipped:
        reporter.info(f"  skipped: {note}")
    for mismatch in report.mismatched:
        reporter.warn(mismatch)
    if not report.sections:
        # A page saying only 'No section to show' (customer costs alone: their section needs
        # the costs) was written with exit 0, its table read for nothing.
        raise DataError(
            f"no section can be made from {', '.join(sorted(tables))} (why each section was "
            "skipped is said above)",
            hint="give the stage outputs a section reads, e.g. the costs beside the customer costs",
        )
    sections = plural(len(report.sections), "section")
    if kind == "terminal":
        _print_summary(report)
        reporter.info(f"{sections}; write the full report with -o report.html")
        return
    if kind == "-":
        from segchain.report import to_markdown

        text, _ = to_markdown(report, image_dir=None)
        _write("-", _page_bytes(text))
        _say_when_written(
            "-", reporter, f"wrote the report ({sections}, Markdown without charts) to stdout"
        )
        return
    assert output is not None
    from segchain.report.charts import said_plainly

    if kind == "html":
        from segchain.report import to_html

        with said_plainly(reporter.warn):
            page = to_html(report)
        _write(output, _page_bytes(page))
        _say_when_written(
            output,
            reporter,
            f"wrote the report ({sections}, {plural(len(report.charts()), 'chart')}) to {output}",
        )
        return
    from segchain.report import to_markdown

    path = Path(output)
    image_dir = charts_folder(output).name
    with said_plainly(reporter.warn):
        text, files = to_markdown(report, image_dir=image_dir)
    if files:
        from segchain.tableio import make_output_folder, os_message

        try:
            # Made through the command's outputs: removed again, when empty, if a later write
            # fails (the charts already renamed are taken back; the folder was left behind).
            make_output_folder(path.parent / image_dir)
        except OSError as exc:
            raise DataError(
                f"cannot create the charts folder {path.parent / image_dir}: {os_message(exc)}"
            ) from None
    for name, data in sorted(files.items()):
        _write(str(path.parent / name), data)
    _write(output, _page_bytes(text))
    _remove_stale_charts(output, {Path(name).name for name in files}, reporter)
    _say_when_written(
        output,
        reporter,
        f"wrote the report ({sections}) to {output}"
        + (f" and {plural(len(files), 'chart')} to {path.parent / image_dir}/" if files else ""),
    )


@contextmanager
def _date_order_by_variable() -> Iterator[None]:
    """An export's dates whose day order needs saying: report has no --date-format, and its
    hint named validate's ('say which with segchain validate --date-format month-first'); it
    now names the variable report reads, validate's option as the other way."""
    from segchain.config import SETTINGS
    from segchain.orders import DateOrderError

    try:
        yield
    except DateOrderError as exc:
        exc.by_variable(SETTINGS["orders"]["date_format"].env or "SEGCHAIN_DATE_FORMAT")
        raise


def _is_file(source: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(source).st_mode)
    except OSError:
        return False


def _zero_bytes(source: str, data: bytes | None) -> bool:
    """Whether ``source`` held 0 bytes (an interrupted write, an emptied file): its bytes as
    read, where they were (a pipe's size on disk is 0, whatever it carries)."""
    if data is not None:
        return not data
    try:
        return source != "-" and Path(source).stat().st_size == 0
    except OSError:
        return False


@contextmanager
def _held_notes(notes: list[str]) -> Iterator[None]:
    """Collect in ``notes`` what the tables read meanwhile say on stderr (``tableio.note``)."""
    from segchain.tableio import active_outputs

    outputs = active_outputs()
    say = outputs.say if outputs is not None else None
    if outputs is not None:
        outputs.say = notes.append
    try:
        yield
    finally:
        if outputs is not None:
            outputs.say = say


def _read_export(
    source: str, data: bytes | None, *, sheet: str | None, held: Table | None = None
) -> Table | None:
    """``source`` read as an export (``read_raw``) from its bytes ``data``, already read; None
    when it cannot be read so. ``held``: ``source`` read so already (by ``_export_by_header``),
    returned as it is: an input is parsed as an export once."""
    from segchain.tableio import read_raw

    if held is not None:
        return held
    if data is None:
        return None
    try:
        return read_raw(source, sheet=sheet, data=data)
    except DataError:
        return None


@dataclass
class _Export:
    """An input known to be an order export from its header, read as one (``read_raw``)."""

    table: Table


def _export_by_header(
    source: str, data: bytes, *, sheet: str | None, config: Callable[[], Config]
) -> _Export | Table | None:
    """``source`` read as an order export when its header says it is one, before any parse as a
    stage's table (which cost as much again: 1.3 s of Online Retail's 5.5): an ``_Export``.

    Its header as ``read_table`` would name the columns (``stage_header``) is recognised as the
    loop of ``report_command`` recognises the parsed table: order lines by their columns, or no
    stage's table and mapped as validate maps the export (``_export_mapping``). Such a table is
    an export whether its parse as a stage table would have failed or not (``_raw_orders``
    decides the same from the export read), so it is read as an export alone. Else, the
    export read on the way (a Table), to be used again instead of read twice, or None: the
    input is then read as a stage table first, as before."""
    from segchain.report import is_rejects, recognise_table
    from segchain.tableio import META_COLUMNS, stage_header

    header = stage_header(source, data)
    if header is None or is_rejects(header):
        return None
    what, how = recognise_table(header)
    if what not in ("orders", None):
        return None
    table = _read_export(source, data, sheet=sheet)
    if table is None:
        return None
    columns = [c for c in table.frame.collect_schema().names() if c not in META_COLUMNS]
    if what == "orders":
        # The parse as a stage table recognised it so, the export read (its failure's way) too.
        known = recognise_table(columns) == ("orders", "columns")
    else:
        known = _export_mapping(table, config=config())[0]
    return _Export(table) if known else table


def _raw_orders(
    source: str,
    data: bytes,
    *,
    sheet: str | None,
    config: Callable[[], Config],
    raw: Table | None = None,
) -> Table | None:
    """``source`` read as an export (from its bytes ``data``; ``raw``: so read already), when
    it reads as order lines (by its columns, or by the mapping validate would read it with);
    else None."""
    from segchain.report import recognise_table
    from segchain.tableio import META_COLUMNS

    table = _read_export(source, data, sheet=sheet, held=raw)
    if table is None:
        return None
    columns = [c for c in table.frame.collect_schema().names() if c not in META_COLUMNS]
    if recognise_table(columns, table.stage) == ("orders", "columns"):
        return table
    return table if _export_mapping(table, config=config())[0] else None


def _export_mapping(table: Table, *, config: Config) -> tuple[bool, str | None]:
    """Whether ``table``, read as an export, is an order export that the mapping validate reads
    it with maps (``$SEGCHAIN_MAP``, ``$SEGCHAIN_PRESET``, the config's ``[columns]`` and
    preset: Superstore's 'Order ID', ...);
    else, for a table that looks like one (a preset's layout, or an order date and an order id
    or customer among its headers as mapped or suggested), validate's hint for the columns it
    lacks."""
    from segchain.config import (
        env_map,
        env_preset,
        look_alikes,
        mapping_hint,
        missing_required,
        preset_layouts,
        resolve_mapping,
        synonym_headers,
    )
    from segchain.schema import ORDER_COLUMNS, ORDER_ID_FROM
    from segchain.tableio import META_COLUMNS

    headers = [h for h in table.frame.collect_schema().names() if h not in META_COLUMNS]
    try:
        mapping = resolve_mapping(headers, env_map=env_map(), config=config, preset=env_preset())
    except SegchainError:  # a mapping that names no header here
        return False, None
    missing = missing_required(mapping)
    if not missing:
        return True, None
    alike = look_alikes(headers, [m for m in missing if m in ORDER_COLUMNS], mapping.values())
    other = synonym_headers(
        headers, [m for m in missing if m not in alike], [*mapping.values(), *alike.values()]
    )
    found = {*mapping, *alike, *other}
    # An order id and a date, or the customer and the date the import makes the ids of
    # (derives_order_id): a purchase log without order numbers is an export too, and was
    # called no stage output without the mapping validate suggests (review of session 71).
    if preset_layouts(headers) or any(
        set(cols) <= found for cols in (("order_id", "order_date"), ORDER_ID_FROM)
    ):
        return False, mapping_hint(headers, missing, mapping.values())
    return False, None


def _export_message(name: str, needs: str) -> str:
    """An order export that report cannot map: report has no --map or --preset, so validate
    reads it, or the config maps it (``needs``: validate's hint for the columns it lacks)."""
    return (
        f"{name}: an order export whose columns need a mapping to be read ({needs}); report "
        f"has no --map or --preset: give it what segchain validate {name} writes with that "
        "mapping (-o orders.parquet), or map them in segchain.toml's [columns] (or preset) or "
        "with $SEGCHAIN_MAP or $SEGCHAIN_PRESET, which report reads as validate does"
    )


def _other_sheets(table: Table) -> str:
    """For a workbook read at a sheet that is no stage output (a cover sheet first): its other
    sheets, and how to read the one holding the order lines."""
    sheets, read = table.dialect.sheets, table.dialect.sheet
    rest = [t for i, t in enumerate(sheets) if i != read]
    if not rest:
        return ""
    others = ", ".join(repr(t) for t in rest[:10]) + (", ..." if len(rest) > 10 else "")
    return (
        f". It is sheet {sheets[read]!r} of a workbook; its other sheets: {others}: read the "
        "one holding the order lines with --sheet NAME or --sheet N"
    )


def charts_folder(output: str) -> Path:
    """Where a Markdown report's charts go: ``report_files/`` beside ``report.md``."""
    path = Path(output)
    return path.parent / f"{path.name.rsplit('.', 1)[0]}_files"


def _check_charts_folder(output: str) -> None:
    """The charts folder is a destination too: checked before any input is read."""
    folder = charts_folder(output)
    try:
        os.stat(folder)
    except OSError as exc:
        # r.md's name fits, '<its stem>_files' may not: Path.exists raised, a traceback.
        if exc.errno == errno.ENAMETOOLONG:
            raise UsageError(
                f"-o {output}: its charts go to {folder}/, a name too long for the file system",
                hint="give the report a shorter name, or write it as .html (charts inline)",
            ) from None
    if folder.exists() and not folder.is_dir():
        raise UsageError(
            f"-o {output}: its charts go to {folder}/, which exists and is not a folder",
            hint="move that file away, or write the report as .html (charts inline)",
        )
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(
            f"-o {output}: its charts folder {folder}/ is not writable",
            hint="make it writable, or write the report elsewhere",
        )


def _remove_stale_charts(output: str, kept: set[str], reporter) -> None:  # type: ignore[no-untyped-def]
    """Once the page is written: remove from its charts folder the charts an earlier run wrote
    that the new page does not use (a report of fewer inputs), so that the folder a user
    forwards holds no chart of another plan. Only files named as the report's charts are
    (``CHART_KEYS``: ``map.png``); the user's own files stay, and the folder is removed only if
    that left it empty."""
    from segchain.report.model import CHART_KEYS
    from segchain.tableio import remove_stale_files, when_written

    stale = {f"{key}.png" for key in CHART_KEYS} - kept

    def remove() -> None:
        for name, problem in remove_stale_files(charts_folder(output), stale):
            reporter.warn(f"could not remove the earlier chart {name}: {problem}")

    when_written(output, remove)


def _say_when_written(dest: str, reporter, message: str) -> None:  # type: ignore[no-untyped-def]
    from segchain.tableio import when_written

    when_written(dest, lambda: reporter.info(message))


def _page_bytes(text: str) -> bytes:
    """A page (HTML, Markdown) as UTF-8, a file name's bytes that are not UTF-8 (in its inputs
    table, its provenance) shown as ``\\xe9``: the page could not be encoded at all."""
    return not_utf8_shown(text).encode("utf-8")


def _write(dest: str, data: bytes) -> None:
    from segchain.tableio import write_output_bytes

    write_output_bytes(dest, lambda stream: stream.write(data))


def _print_summary(report) -> None:  # type: ignore[no-untyped-def]
    """The rich summary, on stdout: it is what the user asked to see, not a diagnostic."""
    from rich.console import Console

    from segchain.report import to_rich

    console = Console(file=sys.stdout, highlight=False)
    for renderable in to_rich(report):
        console.print(renderable)
