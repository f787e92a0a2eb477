"""Reading and writing tables: CSV dialects, Parquet, '-' for stdin/stdout, atomic writes, metadata.

Two readers: ``read_raw`` takes an ERP export as it is (every CSV field a string, so that ids keep
their leading zeros and the cleaning step decides how to parse numbers and dates), and
``read_table`` reads a stage's output with types (id columns stay strings).
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import datetime as dt
import errno
import glob
import gzip
import io
import itertools
import json
import os
import re
import stat
import sys
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal
from urllib.parse import unquote

import polars as pl

from segchain import __version__
from segchain.errors import (
    DataError,
    MissingColumnsError,
    SegchainError,
    Terminated,
    UsageError,
    stop_taken,
    title_row_hint,
)
from segchain.formatting import agree, plural, quote_name, remember_name
from segchain.schema import (
    ID_COLUMNS,
    META_INPUTS,
    META_PARAMS,
    META_STAGE,
    META_VERSION,
    STAGE_COLUMNS,
    YEAR_LAST_DATE,
    FrameT,
    case_renames,
    case_twins,
    check_key_values,
    expected_type,
    overflows_read,
    parse_dates,
    readable_columns,
    remember_overflows,
    stage_ids,
    yearly_fixed_cost,
)

# Python's csv module refuses a field over 128 KiB (csv.Error), and the readers that look at the
# lines themselves (sniffing, ragged lines, the header) then gave up on a file polars reads: an
# export with a long free-text field (a product's HTML description) and a delimiter ending every
# line was refused as unparseable. Any field a file holds is accepted.
csv.field_size_limit(2**31 - 1)

FORMATS = ("csv", "parquet")
DELIMITERS = (",", ";", "\t", "|")
PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 (.xls)
SAVE_AS_CSV = (
    "save the sheet as CSV (Excel: File > Save As > CSV UTF-8; LibreOffice: File > Save As > "
    "Text CSV) and give that file"
)
DAMAGED_WORKBOOK = (
    "save it again from the spreadsheet, or download or copy it again; or " + SAVE_AS_CSV
)
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
WORKBOOKS = {
    "xlsx": "an Excel workbook",
    "xls": "an Excel 97-2003 workbook (.xls)",
    "ods": "an OpenDocument spreadsheet",
}
# UTF-32's little-endian BOM begins with UTF-16's: looked for first.
_UNICODE_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
META_PREFIX = "segchain."


@dataclass(frozen=True)
class Dialect:
    """What was detected about a file: shown on stderr so the user can check it."""

    format: str
    delimiter: str | None = None
    encoding: str | None = None
    decimal_comma: bool = False
    compressed: bool = False
    skipped: tuple[str, ...] = ()
    """The lines above the header that were not read (a report's title, company, period)."""
    sheets: tuple[str, ...] = ()
    """A workbook's sheet names; empty for a CSV."""
    sheet: int = 0
    """The position (from 0) among ``sheets`` of the sheet read: the first shown (not hidden)
    unless one was chosen."""
    hidden: tuple[int, ...] = ()
    """The positions of the hidden sheets before the one read, when none was chosen."""
    same_header: tuple[int, ...] = ()
    """The positions of the other sheets shown that begin with the header of the one read."""
    cr_lines: bool = False
    """The lines end in a bare CR (classic Mac OS, Excel for Mac's 'CSV (Macintosh)')."""
    cr_breaks: int = 0
    """Bare CRs read as line ends in a file whose lines end otherwise (see ``split_bare_crs``)."""
    cut_short: tuple[int, int, int] | None = None
    """The file ends inside its last line: its row, its fields, the header's (``cut_short``)."""

    def describe(self) -> str:
        if self.format == "parquet":
            return "parquet"
        names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
        parts = [
            "csv" + (".gz" if self.compressed else ""),
            f"delimiter {names.get(self.delimiter or ',', repr(self.delimiter))}",
            f"decimal {'comma' if self.decimal_comma else 'point'}",
            f"encoding {self.encoding}",
        ]
        if self.cr_lines:
            parts.append("line ends CR (old Mac)")
        if self.cr_breaks:
            n = self.cr_breaks
            parts.append(
                f"{n:,} bare CR{'s' if n > 1 else ''} (old Mac line end{'s' if n > 1 else ''}) "
                f"joining lines read as line break{'s' if n > 1 else ''}"
            )
        if self.sheets:
            rest = [
                quoted(t, 30) + " (hidden)" * (i in self.hidden)
                for i, t in enumerate(self.sheets)
                if i != self.sheet
            ]
            others = ", ".join(rest[:5])
            more = ", ..." if len(rest) > 5 else ""
            which = "the first" if self.sheet == 0 else f"{self.sheet + 1} of {len(self.sheets)}"
            if self.sheet and len(self.hidden) == self.sheet:
                which = "the first shown"
            parts = [
                f"workbook, sheet {quoted(self.sheets[self.sheet], 30)}"
                + (f" ({which}; not read: {others}{more})" if others else "")
            ]
            if self.same_header:
                import shlex

                alike = [self.sheets[i] for i in self.same_header]
                parts.append(
                    f"{agree(len(alike), 'sheet', 'sheets')} "
                    + ", ".join(quoted(t, 30) for t in alike[:5])
                    + f" {agree(len(alike), 'has', 'have')} the same header as the one read, and "
                    + f"{agree(len(alike), 'its', 'their')} lines are not read: more order lines "
                    "(another year?); read each with "
                    + " / ".join(f"--sheet {shlex.quote(t)}" for t in alike[:5])
                    + " into a file of its own, and give all the files to the next command"
                )
        if self.skipped:
            n = len(self.skipped)
            # A title as a spreadsheet saves it ends in the empty cells of its row.
            texts = [_shown_skipped(t) for t in self.skipped[:5]]
            shown = [quoted(t, 40) if t else "blank" for t in texts]
            shown += ["..."] if n > 5 else []
            parts.append(
                f"{n} line{'s' if n > 1 else ''} above the header skipped ({', '.join(shown)})"
            )
        return ", ".join(parts)


def _shown_skipped(line: str) -> str:
    """A line skipped above the header as stderr shows it: Excel's delimiter line whole
    (``sep=;``, not ``sep=``), a title without the empty cells a spreadsheet saves after it."""
    if excel_sep_line(line.encode())[0]:
        return line.strip()
    return line.strip().strip(",;\t|").strip()


@dataclass
class Table:
    """A table read from a file, with what was detected and any provenance metadata."""

    frame: pl.DataFrame | pl.LazyFrame
    dialect: Dialect
    metadata: dict[str, Any]
    name: str
    parts: list[Table] = field(default_factory=list)
    """The files read as this one table (several paths, a glob or a folder); empty for one file."""
    skipped: list[str] = field(default_factory=list)
    """Files a glob or folder named that are segchain's own rejected lines (not read)."""

    @property
    def stage(self) -> str | None:
        value = self.metadata.get("stage")
        return str(value) if value else None


# ---------------------------------------------------------------------------------------------
# Format detection


def format_from_name(name: str) -> str | None:
    """``csv`` or ``parquet`` from a file name's extension, else None."""
    lower = name.lower()
    if lower.endswith((".parquet", ".pq", ".parq")):
        return "parquet"
    if lower.endswith((".csv", ".csv.gz", ".tsv", ".txt", ".tsv.gz", ".txt.gz")):
        return "csv"
    return None


def check_format(fmt: str | None) -> str | None:
    """Normalise a ``-f/--format`` value, or raise UsageError naming the choices."""
    if fmt is None:
        return None
    value = fmt.strip().lower()
    if value not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return value


def _stdin() -> IO[bytes]:
    # Looked up at call time, not import time: test runners swap sys.stdin.
    return sys.stdin.buffer


def _stdout() -> IO[bytes]:
    return sys.stdout.buffer


def _read_source_bytes(source: str) -> tuple[bytes, str]:
    """All bytes of ``source`` ('-' is stdin) and a display name."""
    if source == "-":
        stream = sys.stdin
        if stream is None:  # fd 0 closed (`<&-`): Python has no stdin
            raise UsageError(
                "stdin is closed: there is no table to read on it",
                hint="give a file name, or pipe a table in: segchain segment orders.csv | ...",
            )
        if hasattr(stream, "isatty") and stream.isatty():
            raise UsageError(
                "refusing to wait for a table typed at the terminal on stdin",
                hint="give a file name, or pipe a table in: segchain segment orders.csv | ...",
            )
        data = _stdin().read()
        if not data and _stdin_is_pipe():
            # A stage whose source stage failed, or wrote its table elsewhere (validate without
            # -o -), was told to 'check the export; it has no header'.
            raise DataError(
                "<stdin>: the file is empty: nothing came down the pipe",
                hint="did the command before it in the pipe fail, or write its table elsewhere? "
                "(validate writes its table to stdout only with -o -)",
            )
        return data, "<stdin>"
    _note_input(source)
    if _stat_error(source) is not None:  # Path.exists raised for a name too long: a traceback
        raise missing_input(source)
    if Path(source).is_dir():
        raise DataError(f"{source}: is a folder, not a table file")
    _refuse_device(source)
    try:
        return Path(source).read_bytes(), source
    except OSError as exc:
        raise DataError(f"{source}: cannot read the file: {exc.strerror}") from None


def _stdin_is_pipe() -> bool:
    try:
        return stat.S_ISFIFO(os.fstat(_stdin().fileno()).st_mode)
    except (AttributeError, OSError, ValueError):  # a test runner's stdin
        return False


_STDIN_NAMES = ("/dev/stdin", "/dev/fd/0", "/proc/self/fd/0")


def names_stdin(source: str) -> bool:
    """Whether ``source`` is stdin by its name: '-' or ``/dev/stdin`` (``/dev/fd/0``,
    ``/proc/self/fd/0``), read as the same stream; not a file that stdin also is, which is
    opened anew."""
    return source == "-" or source in _STDIN_NAMES


def reads_stdin(source: str) -> bool:
    """Whether reading ``source`` reads this process's stdin: '-', a name of it
    (``/dev/stdin``), or the very file or pipe stdin is (``< seg.csv``)."""
    if source == "-" or source in _STDIN_NAMES:
        return True
    try:
        given, stdin = os.stat(source), os.fstat(0)
    except OSError:
        return False
    return (given.st_dev, given.st_ino) == (stdin.st_dev, stdin.st_ino)


def stdin_table(*, besides: Collection[str]) -> str | None:
    """The table the running command reads from stdin, as messages name it (``--sites <stdin>``,
    ``SEGMENTS /dev/stdin``), or None; the input given by the options ``besides`` (the config
    asking: ``--config``, or its variable) does not count."""
    active = _ACTIVE.get()
    if active is None:
        return None
    # Every option given '-', not only the first: `--config -` was taken for a table reading
    # stdin beside itself, and refused as clashing with its own stdin.
    for option in active.stdin_readers:
        if option not in besides:
            return f"{option} <stdin>"
    for option, source in active.inputs:
        if option not in besides and reads_stdin(source):
            return f"{option} {short(source)}"
    return None


def _refuse_device(source: str) -> None:
    """Refuse a device given as a table (``--items /dev/zero``, ``/dev/urandom``, a disk): it
    was read whole, and one whose reads never end filled the memory until the kernel killed the
    run (exit 137, no message). A terminal is refused as stdin's is; /dev/null, which reads
    as an empty file, is read (and said to be empty).

    Raises:
        UsageError: ``source`` is a terminal.
        DataError: ``source`` is another device.
    """
    try:
        st = os.stat(source)
    except OSError:
        return  # reading it says why
    if not (stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)):
        return
    with contextlib.suppress(OSError):
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == os.stat(os.devnull).st_rdev:
            return
    name = named_by_option(source)
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        fd = None
    if fd is not None:
        try:
            terminal = os.isatty(fd)
        finally:
            os.close(fd)
        if terminal:
            raise UsageError(
                f"{name}: is a terminal: refusing to wait for a table typed at it",
                hint="give a file name, or pipe a table in",
            )
    raise DataError(
        f"{name}: is a device, not a table file",
        hint="give the file the table was saved to",
    )


def refuse_long_name(source: str) -> None:
    """Refuse an input whose name no file can have: longer than the file system allows a name
    (255 bytes) or a path (4,096). Every check of the file (``Path.exists``) raised, so the run
    ended in a traceback.

    Raises:
        UsageError: the name is too long.
    """
    exc = _stat_error(source) if source != "-" else None
    if exc is not None and exc.errno == errno.ENAMETOOLONG:
        raise UsageError(
            f"{named_by_option(source)}: the file name is too long for the file system",
            hint="check the name: a file's name holds at most 255 bytes (a shell variable or a "
            "pasted list may have run several names into one)",
        )


def _stat_error(path: str) -> OSError | None:
    """Why ``os.stat(path)`` fails, or None: a name too long raised through ``Path.exists``."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc
    return None


def missing_input(source: str) -> DataError:
    """Why ``source``, which ``Path.exists`` denies, cannot be read: not only 'no such file'
    (a dangling or looping symbolic link, a file in the path, a folder that may not be read).
    The message names the option that gave the file (``--orders x.csv: no such file``)."""
    name = named_by_option(source)
    exc = _stat_error(source)
    if exc is not None:
        if exc.errno == errno.ELOOP:
            return DataError(
                f"{name}: is a symbolic link loop (a link that leads back to itself)",
                hint="point the link at the file, or give the file's own path",
            )
        if exc.errno == errno.ENOENT and os.path.islink(source):
            return DataError(
                f"{name}: is a symbolic link to {short(os.readlink(source))}, which does not exist",
                hint="point the link at the file, or give the file's own path",
            )
        if exc.errno != errno.ENOENT:
            return DataError(f"{name}: cannot read the file: {os_message(exc)}")
    return DataError(f"{name}: no such file")


def named_by_option(source: str) -> str:
    """``source`` with the option that gave it to the running command (``--sites x.csv``), as
    the command registered its inputs (``OutputSet.add_input``), or with the argument that did
    (``SEGMENTS seg.csv``: ``OutputSet.named_arguments``); as it is for the order lines' INPUT
    and report's INPUTS, or outside a command. A command reads several files: the name alone
    may not say which of them is missing. Stdin is ``<stdin>``, named likewise (``--items
    <stdin>``) by the option or argument that reads it (``OutputSet.stdin_option``)."""
    active = _ACTIVE.get()
    if active is None:
        return "<stdin>" if source == "-" else short(source)
    if source == "-":
        named = active.stdin_option
        return f"{named} <stdin>" if named else "<stdin>"
    for option, given in active.inputs:
        by_option = option.startswith(("-", "$")) or option in active.named_arguments
        if given == source and by_option:
            return f"{option} {short(source)}"
    return short(source)


def rename_source(exc: SegchainError, plain: str, named: str) -> None:
    """``exc``'s message, when it starts with ``plain:`` (the table as a file or a stage names
    it: ``x.csv``, ``--costs``), starting with ``named:`` instead (``--costs lanes.csv``)."""
    if named != plain and exc.message.startswith(f"{plain}:"):
        exc.message = named + exc.message[len(plain) :]
        exc.args = (exc.message,)


# ---------------------------------------------------------------------------------------------
# CSV dialect sniffing


# The first bytes of the compressions segchain does not read (gzip and ZIP it does), with the
# command that undoes each: on a file, and into a pipe.
_OTHER_COMPRESSIONS = (
    (re.compile(rb"BZh[1-9]1AY&SY"), "bzip2", "bunzip2 -k {}", "bunzip2 -c {} | "),
    (re.compile(re.escape(b"\xfd7zXZ\x00")), "xz", "unxz -k {}", "unxz -c {} | "),
    (re.compile(re.escape(b"\x28\xb5\x2f\xfd")), "zstd", "unzstd {}", "unzstd -c {} | "),
    (re.compile(re.escape(b"\x04\x22\x4d\x18")), "lz4", "unlz4 {}", "unlz4 -c {} | "),
    (re.compile(re.escape(b"7z\xbc\xaf\x27\x1c")), "7-Zip", "7z x {}", "7z x -so {} | "),
)


def refuse_other_compression(data: bytes, name: str) -> None:
    """Refuse a file compressed with bzip2, xz, zstd, lz4 or 7-Zip (by its first bytes): read as
    text, its bytes were parsed as a CSV of garbage, refused as '547 rows have more fields than
    the header's 1' (a bzip2 export), which says nothing of what the file is.

    Raises:
        DataError: naming the compression and the command that undoes it.
    """
    import shlex

    for magic, what, on_file, in_pipe in _OTHER_COMPRESSIONS:
        if magic.match(data):
            undo = (
                in_pipe.format("FILE") + "segchain ..."
                if name == "<stdin>"
                else on_file.format(shlex.quote(name))
            )
            raise DataError(
                f"{name}: compressed with {what} (by its first bytes), which segchain does not "
                "read",
                hint=f"decompress it first ({undo}), or compress it with gzip (.gz)",
            )


def to_utf8(
    data: bytes, *, name: str = "input", legacy_lines: list[int] | None = None
) -> tuple[bytes, str]:
    """UTF-8 bytes without BOM, and the encoding found: UTF-8 (BOM or not), UTF-16 or UTF-32
    with a BOM (Excel's 'Unicode Text', a tab-delimited UTF-16 file), UTF-16 or UTF-32 without
    one (``utf16_without_bom``, ``utf32_without_bom``), cp1252, latin-1; or UTF-8 and one of
    these code pages line by line (``utf-8 and cp1252``), in a file that mixes them
    (``decode_mixed``): ``legacy_lines``, if given, gets the numbers of its lines read in the
    code page.

    Valid UTF-8 is passed through without a copy; only other encodings are transcoded.

    Raises:
        DataError: UTF-16 or UTF-32 text (by its BOM or its first bytes) whose length is no
            whole number of its characters' bytes: cut short, or a byte added (``name`` says
            which file).
    """
    for bom, codec in _UNICODE_BOMS:
        if data.startswith(bom):
            _check_whole_units(data, codec, name=name, how="BOM")
            try:
                return data[len(bom) :].decode(codec).encode("utf-8"), codec
            except UnicodeDecodeError:
                break  # not what its first bytes say: read as the legacy encodings below
    else:
        # UTF-8 and the code pages hold no NUL: the common case looks no further.
        wide = None
        if 0 in data[:UTF16_SAMPLE]:
            wide = utf32_without_bom(data) or utf16_without_bom(data)
        if wide is not None:
            _check_whole_units(data, wide, name=name, how="first bytes")
            try:
                return data.decode(wide).encode("utf-8"), f"{wide} (no BOM)"
            except UnicodeDecodeError:
                pass  # NULs that were not UTF-16/32: read as the encodings below
    if data.startswith(UTF8_BOM):
        data, encoding = data[len(UTF8_BOM) :], "utf-8-sig"
    else:
        encoding = "utf-8"
    try:
        data.decode("utf-8")
        return data, encoding
    except UnicodeDecodeError as exc:
        _check_whole_utf8(data, exc, name=name)
    mixed = decode_mixed(data)
    if mixed is not None:
        payload, codec, lines = mixed
        if legacy_lines is not None:
            legacy_lines.extend(lines)
        return payload, f"{encoding} and {codec}"
    try:
        return data.decode("cp1252").encode("utf-8"), "cp1252"
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 maps every byte.
        return data.decode("latin-1").encode("utf-8"), "latin-1"


# Each byte as the part it may play in a UTF-8 character: 'L' the first of two to four bytes,
# 'c' one of the others; 'a' ASCII or never UTF-8 (C0, C1, F5-FF).
_UTF8_ROLES = b"a" * 128 + b"c" * 64 + b"a" * 2 + b"L" * 51 + b"a" * 11
# A line of a legacy file can be valid UTF-8 by chance: cp1252's 'ß' (0xdf) before a no-break
# space, a degree sign or a quote ('Straße\xa05') is an N'Ko letter (U+07C0 to U+07FF) in UTF-8.
# Another character beyond ASCII says UTF-8.
_UTF8_TEXT = re.compile(r"[^\x00-\x7f\u07c0-\u07ff]")
_MIXED_BLOCK = 1 << 16
"""Bytes of a mixed file (``decode_mixed``) decoded at once where they are UTF-8 text: a block
that is not is read line by line."""


def _utf8_text(line: bytes) -> bool:
    """Whether ``line`` is UTF-8 text beyond ASCII: valid UTF-8, with a character that is no
    legacy 'ß' before a symbol (``_UTF8_TEXT``)."""
    if line.isascii():
        return False
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\xdf" not in line or _UTF8_TEXT.search(text) is not None


def _holds_utf8_line(data: bytes, sep: bytes) -> bool:
    """Whether a line of ``data`` (split on ``sep``) is UTF-8 text beyond ASCII
    (``_utf8_text``), in passes at C speed: a legacy file holds no whole UTF-8 character (left
    by decoding with errors ignored), or few (found by their bytes' roles, ``_UTF8_ROLES``), and
    only the lines that hold one are decoded."""
    if data.decode("utf-8", "ignore").isascii():
        return False
    roles = data.translate(_UTF8_ROLES)
    at = roles.find(b"Lc")
    while at >= 0:
        end = data.find(sep, at)
        end = len(data) if end < 0 else end
        if _utf8_text(data[data.rfind(sep, 0, at) + 1 : end]):
            return True
        at = roles.find(b"Lc", end)
    return False


def decode_mixed(data: bytes) -> tuple[bytes, str, list[int]] | None:
    """``data``, which is not UTF-8 as a whole, as UTF-8 bytes read line by line when it mixes
    encodings: a line of UTF-8 text beyond ASCII (``_utf8_text``) as UTF-8, every other line as
    cp1252 (latin-1 if one of them holds a byte cp1252 leaves undefined, as a whole file is
    read); with that code page and the numbers (from 1) of the lines read in it. Two exports
    joined with ``cat``, one UTF-8 and one cp1252: read whole as cp1252, every accented letter
    of the UTF-8 lines was garbled without a word ('Müller' as 'MÃ¼ller', one customer two).
    None where no line is UTF-8 text beyond ASCII: a legacy file, read whole as before.

    Lines are split at LF (at CR where the lines end in a bare CR, ``cr_line_ends``): both are
    ASCII in every encoding read here, so a line's bytes are one encoding's, and a quoted line
    break or a CRLF is kept as it is. A legacy file pays a pass or two at C speed
    (``_holds_utf8_line``); a mixed one is decoded by blocks, line by line only in a block that
    is not UTF-8 text as a whole (``_decode_lines``)."""
    sep = b"\r" if cr_line_ends(data) else b"\n"
    if not _holds_utf8_line(data, sep):
        return None
    codec = "cp1252"
    try:
        payload, lines = _decode_lines(data, sep, codec)
    except UnicodeDecodeError:
        codec = "latin-1"  # cp1252 leaves five bytes undefined; latin-1 maps every byte
        payload, lines = _decode_lines(data, sep, codec)
    return (payload, codec, lines) if lines else None


def _decode_lines(data: bytes, sep: bytes, codec: str) -> tuple[bytes, list[int]]:
    """``data`` as UTF-8 bytes, each line that is not UTF-8 text (``_utf8_text``) read in
    ``codec``, and those lines' numbers (from 1). Blocks of ``_MIXED_BLOCK`` bytes and whole
    lines that are UTF-8 text throughout (no legacy 'ß' among them) are kept as they are."""
    pieces: list[bytes] = []
    legacy: list[int] = []
    line = 1  # the number of the block's first line
    start = 0
    while start < len(data):
        end = data.find(sep, start + _MIXED_BLOCK)
        end = len(data) if end < 0 else end + 1
        block = data[start:end]
        if not block.isascii() and (b"\xdf" in block or not _valid_utf8(block)):
            parts = block.split(sep)
            for i, part in enumerate(parts):
                if not part.isascii() and not _utf8_text(part):
                    parts[i] = part.decode(codec).encode("utf-8")
                    legacy.append(line + i)
            pieces.append(sep.join(parts))
        else:
            pieces.append(block)
        line += block.count(sep)
        start = end
    return b"".join(pieces), legacy


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def mixed_encoding_warning(name: str, codec: str, lines: Sequence[int]) -> str:
    """What stderr says of a file read line by line in two encodings (``decode_mixed``):
    ``lines``, the numbers of those read in ``codec``, the first four named (``line 4 of the
    file``, ``lines 2, 3, 5, 8 and 2 more of the file``). The file's own lines, as an editor or
    ``sed -n`` numbers them (the header line 1): they are decoded before a record is parsed, so
    their record (the rejects' ``row``, from 1 after the header) is not known; after a field
    holding a line break the two differ by more than the header, and the warning says which it
    gives, as the rejects' rows stood beside it unnamed."""
    n = len(lines)
    shown = f"line {lines[0]:,}" if n == 1 else "lines " + ", ".join(f"{k:,}" for k in lines[:4])
    more = f" and {n - 4:,} more" if n > 4 else ""
    them = agree(n, "that line", "those lines")
    return (
        f"{name}: {plural(n, 'line')} not UTF-8 read as {codec} ({shown}{more} of the file), "
        "the others as UTF-8: the file mixes two encodings (two exports joined?); save it as "
        f"UTF-8 (Excel: File > Save As > CSV UTF-8), or check {them} (numbered as an editor "
        "numbers the file's lines, the header line 1; a row of "
        "--rejects counts records from 1 after the header)"
    )


def _check_whole_utf8(data: bytes, exc: UnicodeDecodeError, *, name: str) -> None:
    """Refuse UTF-8 text that ends inside a character (a copy or download stopped early): read
    as cp1252 instead, every other non-ASCII character of the file would be garbled without a
    word ('Düsseldorf' as 'DÃ¼sseldorf'). Only where the rest is UTF-8 holding a character
    beyond ASCII: a legacy file that is ASCII but for its last byte stays cp1252."""
    head = data[: exc.start]
    if exc.end != len(data) or "end of data" not in exc.reason or head.isascii():
        return
    need = 2 if data[exc.start] < 0xE0 else 3 if data[exc.start] < 0xF0 else 4
    have = len(data) - exc.start
    raise DataError(
        f"{name}: UTF-8 text that ends inside a character (its last {have} "
        f"{'byte' if have == 1 else 'bytes'} of {need}): the file is cut short",
        hint="export or copy it again in full",
    )


def _check_whole_units(data: bytes, codec: str, *, name: str, how: str) -> None:
    """Refuse UTF-16 text of an odd number of bytes (UTF-32: not a multiple of 4): decoded, its
    last character would be lost or garbled, or the whole file read as mojibake."""
    unit = 4 if codec.startswith("utf-32") else 2
    if len(data) % unit == 0:
        return
    what = "an odd number" if unit == 2 else "not a multiple of 4"
    raise DataError(
        f"{name}: {codec} text (by its {how}) of {len(data):,} bytes, {what}: the file is cut "
        "short, or a byte was added to it",
        hint="export or copy it again, or save it as CSV UTF-8 (Excel: File > Save As > CSV UTF-8)",
    )


UTF16_SAMPLE = 256
"""Bytes of a file's start in which ``utf16_without_bom`` looks for UTF-16's NUL bytes."""


def utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when ``data`` starts as UTF-16 text written without a BOM
    (some Windows tools do), else None.

    A header's characters are ASCII or Latin-1, whose UTF-16 code units hold one NUL byte each:
    every other byte of the first ones is NUL (the second of each pair in little-endian, the
    first in big-endian) and the bytes between them are not. Text in UTF-8 or a legacy code page
    holds no NUL at all, and UTF-32 holds three in four; three quarters of the pairs must fit
    (a character beyond Latin-1, a euro sign, has no NUL byte). Only the first bytes are looked
    at, so that a file of any size pays nothing for it.
    """
    sample = data[: min(len(data), UTF16_SAMPLE) // 2 * 2]
    if len(sample) < 4:
        return None
    pairs = len(sample) // 2
    first, second = sample[0::2].count(0), sample[1::2].count(0)
    if second * 4 >= pairs * 3 and first * 4 < pairs:
        return "utf-16-le"
    if first * 4 >= pairs * 3 and second * 4 < pairs:
        return "utf-16-be"
    return None


def utf32_without_bom(data: bytes) -> str | None:
    """``utf-32-le`` or ``utf-32-be`` when ``data`` starts as UTF-32 text written without a BOM,
    else None.

    A character's code point fits in 21 bits, so the highest byte of every 4-byte unit is NUL
    (the last in little-endian, the first in big-endian); a header's characters (Latin-1, or
    any of the Basic Multilingual Plane) leave the next byte NUL too, in three quarters of the
    units at least, and the lowest byte is seldom NUL. UTF-16 has no NUL in every other pair of
    bytes, UTF-8 and the code pages none at all. Only the first bytes are looked at.
    """
    sample = data[: min(len(data), UTF16_SAMPLE) // 4 * 4]
    if len(sample) < 8:
        return None
    units = len(sample) // 4
    zeros = [sample[i::4].count(0) for i in range(4)]
    if zeros[3] == units and zeros[2] * 4 >= units * 3 and zeros[0] * 4 < units:
        return "utf-32-le"
    if zeros[0] == units and zeros[1] * 4 >= units * 3 and zeros[3] * 4 < units:
        return "utf-32-be"
    return None


SNIFF_BYTES = 65536
"""The bytes of a CSV's text from its header on that its delimiter is told from."""


def sniff_delimiter(sample: str, prefer: Sequence[str] = ()) -> str:
    """The delimiter among , ; tab | that splits the first lines into the most consistent fields.

    Quoted fields are honoured (a comma inside quotes does not count), which a plain character
    count gets wrong on exports with free-text product names. ``prefer``: delimiters that win
    a tie, in this order (else the order of ``DELIMITERS``).
    """
    lines = sample.splitlines()[:50]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a sample may be cut in half
    text = "\n".join(lines)
    best, best_score = ",", (-1, -1)
    for delim in [*prefer, *(d for d in DELIMITERS if d not in prefer)]:
        try:
            rows = [r for r in csv.reader(io.StringIO(text), delimiter=delim) if r]
        except csv.Error:  # a stray CR or NUL: this delimiter cannot be judged from it
            continue
        if not rows:
            continue
        widths = [len(r) for r in rows]
        header = widths[0]
        if header < 2:
            continue
        consistent = sum(1 for w in widths if w == header)
        score = (consistent, header)
        if score > best_score:
            best, best_score = delim, score
    return best


def cr_line_ends(payload: bytes) -> bool:
    """Whether ``payload``'s lines end in a bare CR (classic Mac OS, Excel for Mac's 'CSV
    (Macintosh)'): its first line does. Only the first line is looked at, so that a file of any
    size pays nothing for it; a cell's line break is an LF in such files, which is why a file
    holding an LF may still be one."""
    head = payload[:65536]
    cr = head.find(b"\r")
    if cr < 0:
        return False
    lf = head.find(b"\n", 0, cr)
    return lf < 0 and payload[cr + 1 : cr + 2] != b"\n"


_BARE_CR = re.compile(rb"\r(?!\n)")


def split_bare_crs(payload: bytes, *, delimiter: str) -> tuple[bytes, int]:
    """``payload`` with the bare CRs that join two lines read as line breaks, and their number.

    A line saved by an old Mac tool into a file whose lines end in LF (or CRLF) ends in a bare
    CR, which polars does not take for a line end: the line and the next are one line with more
    fields than the header. A bare CR outside quotes on a line of more fields than the header is
    such a line end (the joined lines come apart; a piece that still has too many fields is
    rejected as any such line is). Elsewhere a bare CR is a cell's own (a text pasted from a
    Mac app, a quoted line break) and is left as it is: polars reads it within its field. Only
    the lines holding a bare CR are looked at in Python; called where polars cannot parse the
    text, never on a file that reads.
    """
    found = [m.start() for m in _BARE_CR.finditer(payload)]
    if not found:
        return payload, 0
    header_end = payload.find(b"\n")
    header = payload[: header_end if header_end >= 0 else len(payload)].rstrip(b"\r")
    width = _field_count(header, delimiter)
    breaks: list[int] = []
    quotes, counted = 0, 0  # quotes from the file's start up to ``counted``
    i = 0
    while i < len(found):
        start = payload.rfind(b"\n", 0, found[i]) + 1
        end = payload.find(b"\n", found[i])
        end = len(payload) if end < 0 else end
        on_line = []
        while i < len(found) and found[i] < end:
            on_line.append(found[i])
            i += 1
        quotes += payload.count(b'"', counted, start)
        counted = start
        if quotes % 2 or start == 0:
            continue  # within a quoted field that began on an earlier line, or the header
        line = payload[start:end].rstrip(b"\r")
        if _field_count(line.replace(b"\r", b" "), delimiter) <= width:
            continue
        breaks += [p for p in on_line if not payload.count(b'"', start, p) % 2]
    if not breaks:
        return payload, 0
    split = bytearray(payload)
    for p in breaks:
        split[p] = ord("\n")
    return bytes(split), len(breaks)


def _field_count(line: bytes, delimiter: str) -> int:
    text = line.decode("utf-8", errors="replace")
    try:
        return len(next(csv.reader([text], delimiter=delimiter), []))
    except csv.Error:
        return len(text.split(delimiter))


MAX_PREAMBLE = 20
"""Lines a report saved as CSV may carry above its header (title, company, period, blank lines)."""


def _named_fields(line: str, delimiter: str) -> int:
    try:
        fields = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        fields = line.split(delimiter)
    return sum(1 for f in fields if f.strip())


_EXCEL_SEP = re.compile(rb'"?sep=(.)"?([,;\t|]*)\r?', re.IGNORECASE)


def excel_sep_line(payload: bytes) -> tuple[bool, str | None]:
    """Whether the first line of ``payload`` is Excel's delimiter line (``sep=;``), and the
    delimiter it declares. Excel writes and reads that line above the header; segchain's own
    tables do not have it, so a segments table saved from Excel with it was refused ('401 rows
    have more fields than the header's 2'). The delimiter is None where a spreadsheet saved the
    line again as a cell, followed by another delimiter (``sep=;,,,``): that one is the file's."""
    first = payload.split(b"\n", 1)[0]
    match = _EXCEL_SEP.fullmatch(first)
    if match is None:
        return False, None
    declared, rest = match.group(1), match.group(2)
    if set(rest) - set(declared) or declared in (b'"', b"\r"):
        return True, None
    return True, declared.decode("latin-1")


def preamble(payload: bytes, *, delimiter: str | None = None) -> list[str]:
    """The lines above the header of a report saved as CSV ('Sales by Item Detail', the
    company, the period, blank lines), or [] for a plain table.

    A preamble line holds at most one non-empty field whatever the delimiter (a title, or a
    title followed by empty cells as a spreadsheet saves it, or Excel's ``sep=;``); the header
    is the first line with two or more, and the lines below it must split into as many fields
    as it does. A table's header never holds a single name (an order export has four columns
    or more), so a plain file is never cut. ``delimiter``: the one the text is known to be
    written with (a workbook's sheet), instead of any.
    """
    delimiters = DELIMITERS if delimiter is None else (delimiter,)
    sample = _preamble_sample(payload).decode("utf-8", errors="ignore")
    lines = [line.rstrip("\r") for line in sample.split("\n")]
    if len(lines) > 1 and not sample.endswith("\n"):
        lines = lines[:-1]  # the last line of a sample may be cut in half
    k = 0
    while k < min(len(lines), MAX_PREAMBLE + 1):
        if max(_named_fields(lines[k], d) for d in delimiters) > 1 and (
            delimiter is not None or _header_among(lines, k)
        ):
            break
        k += 1
    if k == 0 or k > MAX_PREAMBLE or k >= len(lines):
        return []
    rest = "\n".join(lines[k:]) + "\n"
    try:
        rows = [
            r
            for r in csv.reader(io.StringIO(rest), delimiter=delimiter or sniff_delimiter(rest))
            if r
        ]
    except csv.Error:
        return []
    width = len(rows[0])
    below = rows[1:]

    def splits_like(row: list[str]) -> bool:
        # A delimiter ending every data line but not the header (an export's convention, read
        # as such: see _read_ragged) leaves empty fields beyond the header's.
        return len(row) >= width and not any(f.strip() for f in row[width:])

    if width < 2 or sum(splits_like(r) for r in below) * 2 < len(below):
        return []
    return lines[:k]


PREAMBLE_LINES = MAX_PREAMBLE + 11
"""Lines ``preamble`` looks at however long they are: the title lines, the header and some
below it."""
PREAMBLE_BYTES = 4 * 1024 * 1024


def _preamble_sample(payload: bytes) -> bytes:
    """The start of ``payload`` that ``preamble`` looks at: 64 KB, or its first
    ``PREAMBLE_LINES`` lines where they are longer (up to ``PREAMBLE_BYTES``). A list saved
    through Excel with its used range at the last column (XFD, 16,384) pads every line with
    ';' to 16 KB: three title lines and the header filled the 64 KB, the header was cut off at
    its end, and the title was taken for it."""
    end = 0
    for _ in range(PREAMBLE_LINES):
        line_end = payload.find(b"\n", end, PREAMBLE_BYTES)
        if line_end < 0:
            break
        end = line_end + 1
    return payload[: max(65536, end)]


def _records(lines: Sequence[str]) -> Iterator[str]:
    """``lines`` joined into the records they hold: a quoted field may hold a line break (a
    note written on two lines), and its record goes on until its quotes close. Taken line by
    line, the half before the break held an open quote, and the sniffer read the lines below as
    one field with the delimiter the file is written in: a ';' export with decimal commas and
    such a note had its header taken for a title ('The file's headers are: 1000, 01.01.2024')."""
    record: list[str] = []
    quotes = 0
    for line in lines:
        record.append(line)
        quotes += line.count('"')
        if quotes % 2 == 0:
            yield "\n".join(record)
            record, quotes = [], 0
    if record:
        yield "\n".join(record)


def _header_among(lines: Sequence[str], k: int) -> bool:
    """Whether ``lines[k]``, which holds two fields or more with some delimiter, is a header:
    it does with the delimiter the lines below it are written in (the lines with two fields or
    more; a delimiter that makes it a header wins a tie). A title may hold a comma above a ';'
    or tab table ('Umsatz nach Artikel, Januar 2024'). Without such lines below, it is taken
    as the header."""
    below = []
    for line in _records(lines[k + 1 :]):
        if max(_named_fields(line, d) for d in DELIMITERS) > 1:
            below.append(line)
            if len(below) == 50:  # as many as the sniffer looks at
                break
    if not below:
        return True
    splitting = [d for d in DELIMITERS if _named_fields(lines[k], d) > 1]
    sniffed = sniff_delimiter("\n".join(below) + "\n", splitting)
    if _named_fields(lines[k], sniffed) > 1:
        return True
    # The lines below alone may mislead: in a ';' or tab export with decimal commas every line
    # holds one comma, so ',' splits them all alike, into 2 fields, and a single line with
    # fewer or more fields made ';' look less consistent: the header was skipped as a title
    # and the file not read. The line's own split counts too: it is the header of lines that
    # mostly split into its fields with one of its delimiters, as many as the sniffed
    # delimiter gives them or more (a title holding a comma above such a table splits into
    # fewer: it stays a title).
    return any(_heads(lines[k], below, d, than=sniffed) for d in splitting)


def _widths(lines: Sequence[str], delimiter: str) -> list[int]:
    try:
        return [len(r) for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)]
    except csv.Error:
        return [len(line.split(delimiter)) for line in lines]


def _heads(line: str, below: Sequence[str], delimiter: str, *, than: str) -> bool:
    """Whether most lines of ``below`` (half or more) split with ``delimiter`` into ``line``'s
    fields (as many, or more that are empty: a delimiter ending every data line), and into no
    fewer fields than they split into, as most do, with the delimiter ``than``."""
    width = _widths([line], delimiter)[0]
    try:
        rows = list(csv.reader(io.StringIO("\n".join(below)), delimiter=delimiter))
    except csv.Error:
        return False
    alike = sum(len(r) >= width and not any(f.strip() for f in r[width:]) for r in rows)
    if alike * 2 < len(below):
        return False
    others = sorted(_widths(below, than))
    return width >= others[len(others) // 2]


def read_csv_bytes(
    payload: bytes,
    *,
    delimiter: str,
    all_strings: bool,
    name: str,
    cr_breaks: list[int] | None = None,
) -> pl.DataFrame:
    """Parse CSV text with polars; raise DataError on an empty or malformed file.

    Where polars cannot parse the text, bare CRs that join lines are read as line ends
    (``split_bare_crs``) and their number appended to ``cr_breaks``.
    """
    if not payload or payload.isspace():  # strip() would copy the whole file
        raise DataError(f"{name}: the file is empty", hint="check the export; it has no header")
    try:
        if all_strings:
            df = pl.read_csv(
                payload,
                separator=delimiter,
                infer_schema=False,
                quote_char='"',
            )
        else:
            first = _header_line(payload)
            try:
                header = next(csv.reader(io.StringIO(first), delimiter=delimiter), [])
            except csv.Error:
                header = first.split(delimiter)
            overrides = {c: pl.String for c in header if c in ID_COLUMNS}
            overrides |= {c: pl.String for c in _year_last_columns(payload, delimiter)}
            df = _read_typed(payload, delimiter=delimiter, overrides=overrides)
    except pl.exceptions.NoDataError:
        raise DataError(f"{name}: the file is empty", hint="check the export") from None
    except pl.exceptions.ComputeError as exc:
        split, breaks = split_bare_crs(payload, delimiter=delimiter)
        if breaks:
            if cr_breaks is not None:
                cr_breaks.append(breaks)
            # Each call turns bare CRs into LFs: the recursion ends.
            return read_csv_bytes(
                split, delimiter=delimiter, all_strings=all_strings, name=name, cr_breaks=cr_breaks
            )
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "more fields" in first:
            if all_strings:
                ragged = _read_ragged(payload, delimiter=delimiter)
                if ragged is not None:
                    return ragged
            _raise_ragged(payload, delimiter=delimiter, name=name)
        _raise_open_quote(payload, delimiter=delimiter, name=name)
        requoted = _requoted(payload, delimiter=delimiter)
        if requoted is not None and requoted != payload:
            # Each call's text has its mid-field quotes doubled within quotes: the recursion ends.
            return read_csv_bytes(
                requoted,
                delimiter=delimiter,
                all_strings=all_strings,
                name=name,
                cr_breaks=cr_breaks,
            )
        raise DataError(
            f"{name}: cannot parse as CSV ({first})",
            hint="check the delimiter and quoting",
        ) from None
    return df


# polars names the column whose value it cannot parse as the type it inferred.
_UNPARSED_COLUMN = re.compile(r"as dtype `[^`]*` at column '([^']*)' \(column number \d+\)")


def _read_typed(payload: bytes, *, delimiter: str, overrides: dict[str, Any]) -> pl.DataFrame:
    """A stage's CSV with the types polars infers, ``overrides`` kept as text. Types inferred
    from the first rows that fail later (whole numbers first, then a decimal: stock bug 4(e))
    are inferred from every row; a column whose value no inferred type holds (a whole number
    past 2**127, as a workbook's 1e300 is written in full: 'could not parse ... as dtype
    i128') is read as text, for the number columns' reading (``_numbers_as_written``) and the
    stage's checks; it was 'cannot parse as CSV', hint: check the delimiter and quoting."""
    overrides = dict(overrides)
    while True:
        kwargs: dict[str, Any] = {
            "separator": delimiter,
            "schema_overrides": overrides,
            "try_parse_dates": True,
            "quote_char": '"',
        }
        try:
            try:
                return pl.read_csv(payload, infer_schema_length=10_000, **kwargs)
            except pl.exceptions.ComputeError:
                return pl.read_csv(payload, infer_schema_length=None, **kwargs)
        except pl.exceptions.ComputeError as exc:
            found = _UNPARSED_COLUMN.search(str(exc))
            if found is None or found.group(1) in overrides:
                raise
            overrides[found.group(1)] = pl.String


EXTRA_FIELDS = "_segchain_extra"
"""A raw export's column holding, for a line with more fields than the header, the surplus fields
(joined by the delimiter); null on every other line. The importer rejects such lines
(``extra_fields``) and the rejects file shows the surplus, so nothing is lost."""


def _read_ragged(payload: bytes, *, delimiter: str) -> pl.DataFrame | None:
    """An export some of whose lines have more fields than the header: every line read (the
    header's width), the surplus kept in ``_extra``. None when the records cannot be matched
    one to one with polars' (then the caller names the rows in an error instead)."""
    extras: dict[int, str] = {}
    try:
        rows = csv.reader(_csv_lines(payload), delimiter=delimiter)
        width = len(next(rows, []))
        count = 0
        for i, row in enumerate(rows):
            count += 1
            if len(row) > width:
                extras[i] = delimiter.join(row[width:]).replace(_CR_HELD, "\r")
    except csv.Error:
        return None
    # Most data lines ending in the same empty fields beyond the header (a delimiter after the
    # last field, as some exports write each line but not the header) is the file's convention,
    # not damage, and holds nothing: those lines are read. A surplus on a few lines only stays
    # an error, and so does a line whose surplus differs from the convention (a stray ';;'):
    # an unquoted thousands separator (5,1,234.50) shifts the line's fields as much. With every
    # line bar one ending in ';' and that one in ';;', every line was rejected (audit Q).
    convention = _empty_surplus_convention(extras, count, delimiter)
    if convention is not None:
        extras = {i: v for i, v in extras.items() if v != convention}
    df = _truncated_read(payload, delimiter=delimiter, count=count)
    if df is None:
        # An unquoted inch mark (RECORD FRAME 7" SINGLE) trips polars as it does without a
        # surplus: read the text written again with such fields quoted, record for record.
        requoted = _requoted(payload, delimiter=delimiter)
        if requoted is None or requoted == payload:
            return None
        df = _truncated_read(requoted, delimiter=delimiter, count=count)
    if df is None:
        return None
    if not extras:
        return df
    column: list[str | None] = [None] * count
    for i, value in extras.items():
        column[i] = value
    return df.with_columns(pl.Series(EXTRA_FIELDS, column, dtype=pl.String))


def _truncated_read(payload: bytes, *, delimiter: str, count: int) -> pl.DataFrame | None:
    """``payload`` read by polars as text cut to the header's width, or None unless it reads
    as ``count`` records (as Python's csv module read them)."""
    try:
        df = pl.read_csv(
            payload,
            separator=delimiter,
            infer_schema=False,
            quote_char='"',
            truncate_ragged_lines=True,
        )
    except pl.exceptions.PolarsError:
        return None
    if df.height != count or EXTRA_FIELDS in df.columns:
        return None
    return df


def _empty_surplus_convention(extras: dict[int, str], count: int, delimiter: str) -> str | None:
    """The surplus (empty fields beyond the header) that more than half of an export's ``count``
    data lines end in, if it holds nothing: the file's convention. None if there is none."""
    if not extras:
        return None
    common, held = Counter(extras.values()).most_common(1)[0]
    if held * 2 <= count or common.replace(delimiter, "").strip():
        return None
    return common


_CR_HELD = "\ue000"  # a private-use character: never in an export's text


def _csv_text(payload: bytes) -> str:
    """``payload`` as text for Python's csv module, which stops at a bare CR outside quotes
    (a text pasted from a Mac app) that polars reads within its field: such CRs are held as
    ``_CR_HELD`` (a line end here is an LF, with or without CR)."""
    text = payload.decode("utf-8", errors="replace")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", _CR_HELD)
    return text


def _csv_lines(payload: bytes) -> Iterator[str]:
    """``_csv_text(payload)``'s lines, one at a time, for Python's csv module: the whole text
    in an io.StringIO (4 bytes a character) beside the file's bytes was a 1 M-line export's
    peak with a few extra-field lines (audit Z3). A line break is never inside a UTF-8
    character, so each line decodes as it does within the whole text."""
    for line in io.BytesIO(payload):  # shares payload's bytes: no copy
        text = line.decode("utf-8", errors="replace")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", _CR_HELD)
        yield text


def _csv_line(payload: bytes, number: int) -> str:
    """Line ``number`` (from 1) of ``_csv_text(payload)``, without its line end."""
    return next(itertools.islice(_csv_lines(payload), number - 1, None), "").removesuffix("\n")


def _raise_open_quote(payload: bytes, *, delimiter: str, name: str) -> None:
    """Name the row whose quoted field no quote closes (a stray quote opening a field, or a
    file cut inside a quoted field): polars says only that it could not parse the field."""
    rows = csv.reader(_csv_lines(payload), delimiter=delimiter, strict=True)
    records, line = 0, 1
    try:
        for _ in rows:
            records, line = records + 1, rows.line_num + 1
    except csv.Error as exc:
        if records == 0:  # the header's own quoting: polars' message says what it could not read
            return
        start = short(_csv_line(payload, line), 60)
        if "end of data" in str(exc):
            raise DataError(
                f"{name}: row {records:,} opens a quoted field that no quote closes, so the "
                f"rest of the file would be one field: {start!r} (rows counted from 1 after "
                "the header)",
                hint='remove the stray double quote, or double it inside a quoted field (""); '
                "if the export was cut short, export it again",
            ) from None
        # A quote closing a field with text after it ('"C2"x,'), or a stray quote that opened
        # a field lines before another one closed it.
        lines = rows.line_num - line + 1
        over = f" running over {lines:,} lines" if lines > 1 else ""
        raise DataError(
            f"{name}: row {records:,} has a quote out of place: text follows the quote that "
            f"closes a quoted field{over}: {start!r} (rows counted from 1 after the header)",
            hint='a double quote inside a field is doubled ("") in a quoted field: remove the '
            "stray quote, or export the file again with every field quoted",
        ) from None


def _requoted(payload: bytes, *, delimiter: str) -> bytes | None:
    """``payload`` written again with every field that holds a quote quoted and its quotes
    doubled, as read by Python's csv module (a quote inside an unquoted field is a character of
    it: ``RECORD FRAME 7" SINGLE``, as SAP's and many spreadsheets' unquoted downloads write
    an inch). polars stops at an odd number of such quotes in its chunk ('expected 0 rows,
    actual 3 rows'), naming no row. None when the csv module cannot read the text either."""
    out = io.BytesIO()
    # Written as UTF-8 as it goes: the text whole, in and out, was 3 copies of 4 bytes a
    # character beside the file's bytes.
    sink = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(sink, delimiter=delimiter, lineterminator="\n")
    try:
        writer.writerows(csv.reader(_csv_lines(payload), delimiter=delimiter, strict=True))
    except csv.Error:
        return None
    sink.flush()
    written = out.getvalue()
    held = _CR_HELD.encode()
    return written.replace(held, b"\r") if held in written else written


def _raise_ragged(payload: bytes, *, delimiter: str, name: str) -> None:
    """Name the rows that have more fields than the header (polars says only that some do)."""
    try:
        rows = csv.reader(_csv_lines(payload), delimiter=delimiter)
        width = len(next(rows, []))
        ragged = [i for i, row in enumerate(rows, start=1) if len(row) > width]
    except csv.Error:
        ragged = []
    if ragged:
        shown = ", ".join(str(r) for r in ragged[:10]) + (" ..." if len(ragged) > 10 else "")
        raise DataError(
            f"{name}: {plural(len(ragged), 'row')} {agree(len(ragged), 'has', 'have')} more "
            f"fields than the header's {width}: {agree(len(ragged), 'row', 'rows')} {shown} "
            "(rows counted from 1 after the header)",
            hint="quote fields that contain the delimiter, or remove the extra fields",
        )


# Invisible characters a header cell may carry around a name: a byte-order mark (pandas reads a
# CSV saved with one as '\ufeffcustomer_id' unless told utf-8-sig, and to_parquet keeps it),
# zero-width spaces and joiners, a word joiner (pasted from web pages and documents).
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"


def bare_name(name: str) -> str:
    """``name`` without the spaces and invisible characters (``_INVISIBLE``) around it."""
    while (bare := name.strip().strip(_INVISIBLE)) != name:
        name = bare
    return name


def stripped_names(columns: Sequence[str]) -> dict[str, str]:
    """The renames that strip the spaces and invisible characters around column names (a
    Parquet file's '\ufeffcustomer_id' was 'missing required column customer_id; found
    customer_id, ...', the mark unseen). ``check_header`` refuses two names equal once
    stripped; blank ones may still meet (' ' beside an empty name, a cell typed past the
    header): the first keeps the blank name, the others theirs (two becoming '' was a polars
    DuplicateError)."""
    taken = set(columns)
    renames = {}
    for column in columns:
        name = bare_name(column)
        if name != column and name not in taken:
            renames[column] = name
            taken.add(name)
    return renames


def check_header(payload: bytes, *, delimiter: str, name: str) -> None:
    """Refuse a header that names a column twice (one of the two would be lost or renamed)."""
    first = _header_line(payload)
    try:
        header = next(csv.reader(io.StringIO(first), delimiter=delimiter), [])
    except csv.Error:
        return
    names = [bare_name(h) for h in header]
    dups = sorted({h for h in names if names.count(h) > 1 and h})
    if dups:
        positions = {d: [str(i + 1) for i, h in enumerate(names) if h == d] for d in dups[:5]}
        where = "; ".join(
            f"{quoted(d, 40)} in columns {', '.join(positions[d])}" for d in positions
        )
        raise DataError(
            f"{name}: the header names a column twice: {where}",
            hint="give each column its own name in the export",
        )


# ---------------------------------------------------------------------------------------------
# Readers


def read_raw(
    source: str, *, format: str | None = None, sheet: str | None = None, data: bytes | None = None
) -> Table:
    """Read an ERP export as it is: CSV fields all strings; Parquet lazily with its own types.

    Args:
        source: a path, or '-' for stdin.
        format: 'csv' or 'parquet'; else from the name, else from the first bytes.
        sheet: a workbook's sheet to read (``choose_sheet``), else its first; a file that is
            no workbook is read as it is.
        data: ``source``'s bytes, already read (``read_bytes``): parsed, not read again.

    Raises:
        DataError: the file does not exist, is empty, or cannot be parsed; a workbook has no
            such sheet.
        UsageError: stdin is a terminal.
    """
    return _read(source, format=format, all_strings=True, lazy_parquet=True, sheet=sheet, data=data)


def read_table(
    source: str,
    *,
    format: str | None = None,
    lazy: bool = False,
    sheet: str | None = None,
    data: bytes | None = None,
) -> Table:
    """Read a stage's output (typed; id columns kept as strings); a workbook at ``sheet``, the
    bytes ``data`` already read (see ``read_raw``). A CSV that ends in the middle of a row is
    refused (``refuse_cut_row``)."""
    return _read(
        source, format=format, all_strings=False, lazy_parquet=lazy, sheet=sheet, data=data
    )


def read_bytes(source: str) -> bytes:
    """All bytes of ``source`` ('-' is stdin), to parse them more than one way without reading
    the file again (``read_table``, then ``read_raw`` with ``data``): report reads each input
    as a stage table, and an order export again as an export. A pipe or a FIFO can be read only
    once, and each read of a large gzipped export cost its read and its decompression.

    Raises:
        DataError, UsageError: as ``read_raw``, for a file that cannot be read.
    """
    with _named_reading(source):
        return _read_source_bytes(source)[0]


def may_be_workbook(source: str) -> bool:
    """Whether ``source`` may be a spreadsheet workbook, from its first bytes alone (a ZIP, as
    .xlsx and .ods are, or an .xls): False for a CSV, CSV.gz or Parquet file. stdin, a pipe
    (nothing is read from it here), and a file that cannot be opened (reading it says why), may
    be one."""
    if source == "-":
        return True
    try:
        if not stat.S_ISREG(os.stat(source).st_mode):
            # A pipe (`<(cat book.xlsx)`: /dev/fd/63) is read once: bytes looked at here
            # were gone when the table was read (report read a Parquet file as CSV).
            return True
        with open(source, "rb") as stream:
            head = stream.read(8)
    except OSError:
        return True
    return head[:4] == ZIP_MAGIC or head == OLE2_MAGIC


def _workbook_kind(data: bytes, names: set[str] | None = None) -> str | None:
    """``xlsx``, ``xls`` or ``ods`` when ``data`` is a spreadsheet workbook (``names``: the
    members of a ZIP archive), else None."""
    if data[:8] == OLE2_MAGIC:
        return "xls"
    if names is None:
        return None
    if names & {"xl/workbook.xml", "xl/workbook.bin"}:
        return "xlsx"
    if {"mimetype", "content.xml"} <= names:
        return "ods"
    return None


def _unwrap(data: bytes, name: str) -> tuple[bytes, str, str | None, str | None]:
    """The one table inside a ZIP archive (an ERP's zipped export), with its display name
    (``archive.zip:orders.csv``) and its format from its name; other bytes as they are. The
    last item is the workbook kind (``_workbook_kind``) of a spreadsheet."""
    if data[:4] != ZIP_MAGIC:
        return data, name, None, _workbook_kind(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        # A workbook is a ZIP archive too: one cut short by a download is no 'ZIP archive' to
        # whoever saved it, and was named so with nothing to do.
        if name.lower().endswith(WORKBOOK_SUFFIXES):
            raise DataError(
                f"{name}: a damaged workbook, or one cut short (not a readable ZIP archive: {exc})",
                hint=DAMAGED_WORKBOOK,
            ) from None
        raise DataError(
            f"{name}: a damaged ZIP archive ({exc})",
            hint="download or copy it again, or zip the export again",
        ) from None
    kind = _workbook_kind(data, {m.filename for m in members})
    if kind is not None:
        return data, name, None, kind
    tables = [
        m
        for m in members
        if format_from_name(m.filename) is not None
        and not any(
            part.startswith(_SKIPPED_PREFIXES) or part == "__MACOSX"
            for part in m.filename.split("/")
        )
    ]
    if len(tables) != 1:
        held = ", ".join(short(m.filename, 40) for m in tables[:5]) + (
            ", ..." if len(tables) > 5 else ""
        )
        what = f"{len(tables):,} table files ({held})" if tables else "no CSV or Parquet file"
        raise DataError(
            f"{name}: a ZIP archive holding {what}",
            hint="unzip it and give the folder (its files are read as one table) or one file",
        )
    member = tables[0]
    try:
        inner = archive.read(member)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as exc:
        raise DataError(f"{name}: cannot read {member.filename} from the archive ({exc})") from None
    return inner, f"{name}:{member.filename}", format_from_name(member.filename), None


class NoSuchSheet(DataError):
    """A workbook has no sheet that ``--sheet`` names (or two that differ only in case or
    spaces)."""


def choose_sheet(sheets: Sequence[str], wanted: str, *, name: str) -> int:
    """The position (from 0) of the sheet ``wanted`` names among a workbook's ``sheets``: a name
    as written, else the one name equal to it but for case and surrounding spaces, else a
    position counted from 1 (``"2"``). A sheet's name wins over a position: of the sheets
    ``2023, 2024``, ``"2024"`` is the second.

    Raises:
        NoSuchSheet: no sheet is called so and it is no position, or it names two sheets that
            differ only in case or spaces (the message names ``--sheet``, the file and its sheets).
    """
    if wanted in sheets:
        return list(sheets).index(wanted)
    folded = [i for i, t in enumerate(sheets) if t.strip().casefold() == wanted.strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    listed = ", ".join(quoted(t, 30) for t in sheets[:10]) + (", ..." if len(sheets) > 10 else "")
    if folded:
        raise NoSuchSheet(
            f"{name}: --sheet {wanted!r} names {len(folded)} sheets that differ only in case "
            f"or spaces ({', '.join(repr(sheets[i]) for i in folded)})",
            hint="give the sheet's name as the workbook writes it, or its position (--sheet N)",
        )
    text = wanted.strip()
    if text.isascii() and text.isdigit() and 1 <= int(text) <= len(sheets):
        return int(text) - 1
    import difflib

    close = difflib.get_close_matches(wanted, list(sheets), n=1, cutoff=0.6)
    count = f"{len(sheets)} sheet{'s' * (len(sheets) != 1)}"
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    raise NoSuchSheet(
        f"{name}: no sheet {wanted!r} (--sheet): the workbook has {count}: {listed}",
        hint=f"give one of these names{guess}, or a position from 1 to {len(sheets)}"
        if len(sheets) > 1
        else f"give that name{guess}, or 1",
    )


def _sheet_as_csv(
    data: bytes, name: str, kind: str, *, sheet: str | None = None
) -> tuple[bytes, list[str], int, tuple[int, ...], tuple[int, ...]]:
    """A workbook's sheet (``sheet``, see ``choose_sheet``; else the first not hidden) as the CSV a
    spreadsheet would save from it (every cell as its text, numbers in full: an EAN cell keeps
    its 13 digits; dates as ISO), the workbook's sheet names, the position of the one read,
    those of the hidden sheets passed over before it and those of the sheets shown that have
    the same header (``_same_header``).
    Rows with no value at all are left out, as CSV readers skip blank lines; lines above the
    header are then found as in any CSV."""
    what = WORKBOOKS[kind]
    try:
        import fastexcel
    except ImportError:  # a dependency; an install that lacks it still says what to do
        raise DataError(
            f"{name}: {what}, and reading one needs the fastexcel package (pip install fastexcel)",
            hint=SAVE_AS_CSV,
        ) from None
    try:
        book = fastexcel.read_excel(data)
        sheets = list(book.sheet_names)
    except Exception as exc:  # calamine's errors: a damaged or encrypted file, not a workbook
        raise DataError(
            f"{name}: cannot read {what} ({_first_line(exc)})", hint=DAMAGED_WORKBOOK
        ) from None
    if not sheets:
        raise DataError(f"{name}: {what} without a sheet", hint=SAVE_AS_CSV)

    def load(
        index: int,
        rows: int | None = None,
        dtypes: Literal["string", "float"] = "string",
        cols: list[int] | None = None,
    ) -> Any:
        try:
            return book.load_sheet(
                index, header_row=None, dtypes=dtypes, n_rows=rows, use_columns=cols
            )
        except Exception as exc:
            raise DataError(
                f"{name}: cannot read {what} ({_first_line(exc)})", hint=DAMAGED_WORKBOOK
            ) from None

    hidden: list[int] = []
    if sheet is None:
        # The first sheet shown: a hidden one before it (last year's copy, a lookup table) is
        # not the sheet a user sees first, and was read without a word but its name.
        index, loaded = 0, load(0)
        while loaded.visible != "visible" and index + 1 < len(sheets):
            hidden.append(index)
            index += 1
            loaded = load(index, rows=0)
        if loaded.visible != "visible":  # every sheet hidden: the first, as before
            index, hidden, loaded = 0, [], load(0)
        elif index:
            loaded = load(index)
    else:
        index = choose_sheet(sheets, sheet, name=name)
        loaded = load(index)
    try:
        cells = loaded.to_polars()
    except Exception as exc:
        raise DataError(
            f"{name}: cannot read {what} ({_first_line(exc)})", hint=DAMAGED_WORKBOOK
        ) from None
    cells = _numbers_in_full(cells, lambda cols: load(index, dtypes="float", cols=cols).to_polars())
    cells = cells.filter(
        ~pl.all_horizontal(pl.all().is_null() | (pl.all().str.strip_chars() == ""))
    )
    if cells.is_empty():
        which = "the first sheet" if index == 0 else f"sheet {index + 1}"
        if index and len(hidden) == index:
            which = "the first shown sheet"
        others = [t for i, t in enumerate(sheets) if i != index]
        hint = SAVE_AS_CSV
        if others:
            listed = ", ".join(quoted(t, 30) for t in others[:5])
            hint = f"read another sheet with --sheet NAME or --sheet N (the others: {listed})"
        raise DataError(f"{name}: {which} ({sheets[index]!r}) is empty", hint=hint)
    buffer = io.BytesIO()
    cells.write_csv(buffer, include_header=False)
    return buffer.getvalue(), sheets, index, tuple(hidden), _same_header(load, sheets, index, cells)


# The relative difference beyond which a number cell's text is not its value: fastexcel writes a
# float to at most 9 decimals, a spreadsheet saves 15 significant digits.
_TEXT_ROUNDED = 1e-13


def _numbers_in_full(
    cells: pl.DataFrame, numbers: Callable[[list[int]], pl.DataFrame]
) -> pl.DataFrame:
    """``cells`` (a sheet's cells as text) with each number cell whose text is not its value
    written to 15 significant digits, as a spreadsheet saves it to CSV. fastexcel writes a
    number cell's text to at most 9 decimals: a unit price of 1e-12 (0.000000000001 in the
    export) was read as 0, a giveaway flagged zero_price, and 1.23456789012e-05 as 0.000012346.
    ``numbers``: those columns of the sheet read as floats (a text cell null), read only for
    the columns whose text may be short of its value."""
    # A text so rounded is 0 or has 9 decimals (a value within 5e-10 of another whole number
    # loses less than that): the other columns, and most sheets, are read once.
    text = [i for i, t in enumerate(cells.dtypes) if t == pl.String]
    rounded = r"^-?0$|\.\d{9}$"
    found = cells.select(pl.nth(i).str.contains(rounded).any() for i in text).row(0) if text else ()
    columns = [i for i, hit in zip(text, found, strict=True) if hit]
    if not columns:
        return cells
    values = numbers(columns)
    if values.shape != (cells.height, len(columns)):
        return cells  # not the same cells: left as fastexcel wrote them
    fixed = cells.get_columns()
    for i, value in zip(columns, values.iter_columns(), strict=True):
        if not value.dtype.is_float():
            continue
        written = fixed[i]
        read = written.cast(pl.Float64, strict=False)
        off = (
            value.is_finite()
            & read.is_not_null()
            & ((read - value).abs() > _TEXT_ROUNDED * value.abs())
        )
        where = off.arg_true()
        if where.len():
            full = [format(v, ".15g") for v in value.gather(where).to_list()]
            fixed[i] = written.scatter(where, full)
    return pl.DataFrame(fixed)


def _first_row(cells: pl.DataFrame) -> tuple[str, ...]:
    """A sheet's first row with a value, its cells trimmed, without the empty cells after it."""
    for row in cells.iter_rows():
        values = [(v or "").strip() for v in row]
        if any(values):
            while values and not values[-1]:
                values.pop()
            return tuple(values)
    return ()


def _same_header(
    load: Callable[[int, int | None], Any], sheets: Sequence[str], index: int, cells: pl.DataFrame
) -> tuple[int, ...]:
    """The other sheets shown (the first 50) that begin with the same row as the one read: a
    workbook with a sheet per year (UCI's Online Retail II) holds more order lines in them."""
    header = _first_row(cells)
    if len(header) < 2:
        return ()
    out = []
    for i in range(min(len(sheets), 50)):
        if i == index:
            continue
        try:
            other = load(i, 20)
            if other.visible == "visible" and _first_row(other.to_polars()) == header:
                out.append(i)
        except DataError:
            continue  # a sheet that cannot be read is no more order lines to point at
        except Exception:  # calamine's errors on that sheet alone: the same
            continue
    return tuple(out)


def _read(
    source: str,
    *,
    format: str | None,
    all_strings: bool,
    lazy_parquet: bool,
    sheet: str | None = None,
    data: bytes | None = None,
) -> Table:
    with _named_reading(source):
        return _read_file(
            source,
            format=format,
            all_strings=all_strings,
            lazy_parquet=lazy_parquet,
            sheet=sheet,
            data=data,
        )


@contextlib.contextmanager
def _named_reading(source: str) -> Iterator[None]:
    """A DataError reading ``source`` names it as the command does (with its option)."""
    plain = "<stdin>" if source == "-" else short(source)
    try:
        yield
    except DataError as exc:
        # A command reads several files: 'empty.csv: the file is empty' did not say which of
        # them it was, while a missing one is named with its option ('--sites x.csv: ...').
        rename_source(exc, plain, named_by_option(source))
        raise
    except MemoryError:
        # A file larger than the memory the process may use (`ulimit -v`, a shared host's
        # limit), or an endless stream (`< /dev/zero`): a MemoryError traceback, exit 1.
        size = ""
        with contextlib.suppress(OSError, ValueError):
            if source != "-":
                size = f" ({os.stat(source).st_size:,} bytes)"
        error = DataError(
            f"{plain}: out of memory reading it{size}: the table needs more memory than this "
            "process may use",
            hint="run it where more memory is free or the limit is higher (ulimit -v), or export "
            "fewer lines (a shorter period)"
            + ("; on stdin, check that a table is what comes in" if source == "-" else ""),
        )
        rename_source(error, plain, named_by_option(source))
        raise error from None


def _read_file(
    source: str,
    *,
    format: str | None,
    all_strings: bool,
    lazy_parquet: bool,
    sheet: str | None = None,
    data: bytes | None = None,
) -> Table:
    fmt = check_format(format) or (format_from_name(source) if source != "-" else None)
    if fmt == "parquet" and source != "-" and lazy_parquet:
        table = _scan_parquet_file(source, data=data)
        if not all_strings:
            scanned = table.frame
            assert isinstance(scanned, pl.LazyFrame)
            table.frame = _as_stage_names(scanned, source)
        return table
    if data is None:
        data, name = _read_source_bytes(source)
    else:
        name = "<stdin>" if source == "-" else source
    data, name, inner, kind = _unwrap(data, name)
    fmt = inner or fmt
    sheets: list[str] = []
    index = 0
    hidden: tuple[int, ...] = ()
    alike: tuple[int, ...] = ()
    if kind is not None:
        # A workbook is read as one sheet (the first, else the one asked for) saved as CSV.
        data, sheets, index, hidden, alike = _sheet_as_csv(data, name, kind, sheet=sheet)
        fmt = "csv"
    claimed = fmt  # by -f or the file's name
    if fmt is None:
        fmt = "parquet" if data[:4] == PARQUET_MAGIC else "csv"
    compressed = fmt == "csv" and data[:2] == GZIP_MAGIC
    if compressed:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise DataError(f"{name}: corrupt gzip file: {exc}") from None
        if data[:4] == PARQUET_MAGIC and claimed is None:
            # A gzipped Parquet file (x.parquet.gz, or piped through gzip): neither -f nor its
            # name says CSV. It was refused as 'this is a Parquet file: give it a .parquet name'.
            fmt = "parquet"
    if fmt == "parquet":
        table = _read_parquet_bytes(data, name)
        if not all_strings:
            frame = _as_stage_names(collect(table.frame, name=name), source)
            # A Parquet file's number column of text (pandas' object column of '12,5', read
            # from a German CSV) is read as a CSV's is; its other columns have their types.
            texts = _written_numbers(frame)
            overflows: dict[str, list[tuple[int, str]]] = {}
            if texts:
                frame, overflows = _text_numbers(
                    frame, frame, texts, default_comma=False, source=source
                )
            frame = parse_dates(frame, source=name)
            check_key_values(frame, source=name)
            table.frame = _read_ids(frame, source)
            remember_overflows(table.frame, overflows)
        return table
    if data[:4] == PARQUET_MAGIC:
        raise DataError(f"{name}: this is a Parquet file", hint="give it a .parquet name")
    refuse_other_compression(data, name)
    legacy: list[int] = []
    payload, encoding = to_utf8(data, name=name, legacy_lines=legacy)
    # The text is read from ``payload`` alone: where it is a copy (a BOM cut off, cp1252 or
    # UTF-16 transcoded, and below a preamble cut off or bare CRs replaced), the file's bytes
    # were held beside it and beside the parsed frame, one file's size more at the peak.
    del data
    if legacy:
        # Named as its errors are (``_named_reading``): '--orders x.zip:orders.csv'.
        plain = "<stdin>" if source == "-" else source
        shown = named_by_option(source) + name[len(plain) :] if name.startswith(plain) else name
        note("Warning: " + mixed_encoding_warning(shown, encoding.rsplit(" and ", 1)[-1], legacy))
    cr_lines = cr_line_ends(payload)
    if cr_lines:
        payload = payload.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if not payload or payload.isspace():  # strip() would copy the whole file
        raise DataError(f"{name}: the file is empty", hint="check the export; it has no header")
    payload, skipped, delimiter = _from_header(payload, all_strings=all_strings, sheet=bool(sheets))
    check_header(payload, delimiter=delimiter, name=name)
    breaks: list[int] = []
    df = read_csv_bytes(
        payload, delimiter=delimiter, all_strings=all_strings, name=name, cr_breaks=breaks
    )
    df = df.rename(stripped_names(df.columns))
    if not all_strings:
        df = _as_stage_names(df, source)
        if not sheets:
            # Before its types are checked: a cut ds is no 'value that is not a date'.
            refuse_cut_row(payload, df, delimiter=delimiter, name=name)
        df, overflows = _numbers_as_written(
            df, payload, delimiter=delimiter, name=name, source=source
        )
        df = _without_trailing_empty_rows(df, source)
        df = parse_dates(df, source=name)
        check_key_values(df, source=name)
        df = _read_ids(df, source)
        remember_overflows(df, overflows)
    cut = cut_short(payload, delimiter=delimiter, rows=df.height) if all_strings else None
    dialect = Dialect(
        format="csv",
        delimiter=delimiter,
        encoding=encoding,
        decimal_comma=delimiter == ";",
        compressed=compressed,
        skipped=tuple(skipped),
        sheets=tuple(sheets),
        sheet=index,
        hidden=hidden,
        # Another sheet with the same header is more order lines of an export; a stage's
        # or side table's reader has no --sheet to read it with.
        same_header=alike if all_strings else (),
        cr_lines=cr_lines,
        cr_breaks=sum(breaks),
        cut_short=cut,
    )
    if not all_strings and len(sheets) > 1:
        # An export's reading is described on stderr (``Dialect.describe``); a stage's or side
        # table's is not, and its sheet was chosen without a word: the first of an item
        # master's 'Items' and 'Prices' read, the other left.
        named = named_by_option(source)
        note(f"{named}: {dialect.describe()}")
        active = _ACTIVE.get()
        if active is not None:
            active.sheets_read[named] = dialect
    return Table(frame=df, dialect=dialect, metadata={}, name=name)


_INFINITY_WORDS = ("inf", "infinity")


def _number_columns(df: pl.DataFrame) -> list[str]:
    """The columns of a stage's or side table that segchain reads as numbers (an item's
    ``unit_cost``, a site's ``capacity``) and ``df`` holds as numbers or text."""
    # A --sites header that says a year (fixed_cost_per_year, 'Fixed cost (per year)') is read as
    # annual_fixed_cost: its text numbers too (a German ';' file's '73730,0' was refused as no
    # number where fixed_cost's were read). Two such headers are the sites' reader's to refuse.
    try:
        yearly = yearly_fixed_cost(df.columns, source="")
    except DataError:
        yearly = None
    return [
        c
        for c, dtype in df.schema.items()
        if ((c in STAGE_COLUMNS and expected_type(c) == "numbers") or c == yearly)
        and (dtype.is_numeric() or dtype == pl.String)
    ]


def _written_numbers(df: pl.DataFrame) -> list[str]:
    """Those number columns (``_number_columns``) that ``df`` holds as text, a value in them:
    a column of empty values only is text to polars, and nothing to read (a stage's large table
    with one is not read a second time)."""
    return [
        c
        for c in _number_columns(df)
        if df.schema[c] == pl.String and df.get_column(c).null_count() < df.height
    ]


def _numbers_as_written(
    df: pl.DataFrame, payload: bytes, *, delimiter: str, name: str, source: str
) -> tuple[pl.DataFrame, dict[str, list[tuple[int, str]]]]:
    """A stage's or side table's CSV ``df`` (typed by polars) with its number columns read as an
    order export's are (``_text_numbers``), from the text of ``payload``: looked at only where
    polars left text, or the file is ';'-delimited (polars read ``165.890``, a German capacity
    of 165,890, as 165.89), or a value is infinite (written ``1e400``?). Also returns the values
    written as a number beyond a double's range (``_overflows``)."""
    numbers = _number_columns(df)
    floats = [c for c in numbers if df.schema[c].is_float()]
    infinite = [c for c in floats if df.get_column(c).is_infinite().any()]
    if not _written_numbers(df) and not infinite and not (delimiter == ";" and floats):
        return df, {}
    try:
        raw = read_csv_bytes(payload, delimiter=delimiter, all_strings=True, name=name)
    except DataError:
        return df, {}
    if raw.shape != df.shape:
        return df, {}
    raw.columns = df.columns  # the same header, read as text: names as the typed read gave them
    return _text_numbers(df, raw, numbers, default_comma=delimiter == ";", source=source)


def _text_numbers(
    df: pl.DataFrame,
    raw: pl.DataFrame,
    numbers: Sequence[str],
    *,
    default_comma: bool,
    source: str,
) -> tuple[pl.DataFrame, dict[str, list[tuple[int, str]]]]:
    """``df`` with its ``numbers`` columns read from their text (``raw``, the same rows) as an
    order export's are (``numbers``): a decimal comma (``12,5``: ``default_comma``, a ';'
    file's, else where a column clearly uses one, ``1.234,5``), thousands grouped by the other
    separator (only: a space or a currency sign, which an export's reading drops, is kept).
    Where the column is text, its values that read so become numbers (all of them: the column
    is a number column; else each becomes its number's text, and the others stay as written,
    for the stage to name); where it is numbers, the column is read again only with a decimal
    comma. The columns read with a decimal comma are said on stderr. Also returns the values
    written as a number beyond a double's range (``_overflows``)."""
    from segchain.numbers import plain_comma_columns, plain_number_expr

    schema = df.schema
    text = raw.lazy().select(numbers)
    commas = plain_comma_columns(text, numbers, default_comma=default_comma)
    read = text.select(plain_number_expr(c, decimal_comma=c in commas) for c in numbers).collect()
    changed = {}
    said = []
    for c in numbers:
        if schema[c] != pl.String and c not in commas:
            continue  # polars' own reading of a point column
        written = raw.get_column(c).str.strip_chars()
        value = read.get_column(c)
        unread = (written.is_not_null() & (written != "") & value.is_null()).any()
        if schema[c] != pl.String:
            if unread or written.str.contains(r"[.,]").not_().all():
                continue  # nothing read otherwise than polars did
            changed[c] = value
        elif not unread:
            changed[c] = value
        else:
            # Each value that reads as a number becomes its text; the stage names the others.
            changed[c] = (
                pl.select(pl.when(value.is_finite()).then(value.cast(pl.String)).otherwise(df[c]))
                .to_series()
                .alias(c)
            )
        if c in commas and (value.is_finite() & written.str.contains(r"[.,]")).any():
            said.append(c)  # a value read with a decimal comma
    if changed:
        df = df.with_columns(changed.values())
    if said:
        note(f"{named_by_option(source)}: decimal comma in: {', '.join(said)}")
    return df, _overflows(read, raw, numbers)


def _overflows(
    read: pl.DataFrame, raw: pl.DataFrame, columns: Sequence[str]
) -> dict[str, list[tuple[int, str]]]:
    """Per column of ``columns``, the values ``raw`` (the text as written) writes as a number
    beyond a double's range (``1e400``), which read as infinity in ``read``: (row from 0, text).
    ``inf`` as written is not one."""
    out = {}
    for c in columns:
        written = raw.get_column(c).str.strip_chars()
        word = written.str.to_lowercase().str.strip_chars_start("+-")
        huge = (read.get_column(c).is_infinite() & ~word.is_in(_INFINITY_WORDS)).fill_null(False)
        rows = huge.arg_true().to_list()
        if rows:
            out[c] = [(i, str(written[i])) for i in rows]
    return out


def _from_header(payload: bytes, *, all_strings: bool, sheet: bool) -> tuple[bytes, list[str], str]:
    """CSV text (UTF-8) from its header on, the lines skipped above it, and its delimiter.

    Excel's delimiter line is skipped above any table, and its delimiter taken; an export's
    title lines (``all_strings``: read as an export) are skipped too, while a stage's table
    starts with its header. ``sheet``: the text is a workbook's sheet written here, with
    commas. Only the first lines are looked at (``SNIFF_BYTES`` after those skipped)."""
    sep_line, declared = excel_sep_line(payload) if not sheet else (False, None)
    skipped = [payload.split(b"\n", 1)[0].decode("utf-8", errors="replace")] if sep_line else []
    if sep_line:
        payload = payload.split(b"\n", 1)[1] if b"\n" in payload else b""
    known = "," if sheet else declared
    skipped += preamble(payload, delimiter=known) if all_strings else []
    if len(skipped) > sep_line:
        payload = payload.split(b"\n", len(skipped) - sep_line)[-1]
    delimiter = known or sniff_delimiter(payload[:SNIFF_BYTES].decode("utf-8", errors="ignore"))
    return payload, skipped, delimiter


HEAD_BYTES = 2 * 65536
"""The bytes of a CSV's start ``stage_header`` reads its header from (decompressed)."""


def stage_header(source: str, data: bytes) -> list[str] | None:
    """The columns ``read_table(source, data=data)`` would give, from the first lines of
    ``data`` alone (a gzipped file's first ``HEAD_BYTES``, decompressed), or from a Parquet
    file's schema (its footer, ``_parquet_header``): what a table is can be told from its
    header before it is parsed in full (report reads an order export as one, not as a stage's
    table first). A compressed export is looked into as the read looks into it: a gzipped
    Parquet file (``x.parquet.gz``, decompressed in full: its footer is at its end) and the one
    table of a ZIP archive (an ERP's zipped export). None where the header alone cannot tell,
    or reading the table would fail: a Parquet file that carries segchain's metadata (a
    stage's output, known by it) or whose footer cannot be read, a workbook, a ZIP archive
    that does not hold one table, several gzip members, a CSV whose header is not whole in the
    window (a quoted line break), whose lines end in bare CRs, or whose header
    ``check_header`` refuses. A window that is not ASCII is read in the encoding of the whole
    text (UTF-8, else cp1252: a header reads otherwise in each), found as ``to_utf8`` finds
    it, which decompresses a gzipped file in full."""
    named = format_from_name(source) if source != "-" else None
    if data[:4] == PARQUET_MAGIC and named in ("parquet", None):
        names = _parquet_header(data)
        return _as_read(names) if names else None
    if data[:4] == ZIP_MAGIC and named is None:
        # Its one table, named 'archive.zip:orders.csv' as the read names it (a workbook is a
        # ZIP archive too, and has no header to tell here).
        try:
            inner, name, _, kind = _unwrap(data, source)
        except DataError:
            return None
        return None if kind is not None or inner[:4] == ZIP_MAGIC else stage_header(name, inner)
    if named == "parquet" or data[:4] in (PARQUET_MAGIC, ZIP_MAGIC):
        return None
    if _workbook_kind(data) is not None:
        return None
    head, whole = data[:HEAD_BYTES], len(data) <= HEAD_BYTES
    if data[:2] == GZIP_MAGIC:
        try:
            unzip = zlib.decompressobj(wbits=31)
            head = unzip.decompress(data, HEAD_BYTES)
        except zlib.error:
            return None
        if unzip.eof and unzip.unused_data:
            return None  # several gzip members: read as one text
        whole = unzip.eof
    if head[:4] == PARQUET_MAGIC:
        # A gzipped Parquet file: read as Parquet unless its name says CSV (then refused).
        if named is not None or data[:2] != GZIP_MAGIC:
            return None
        try:
            names = _parquet_header(gzip.decompress(data))
        except (OSError, EOFError, zlib.error):
            return None
        return _as_read(names) if names else None
    if head.startswith(UTF8_BOM):
        head = head[len(UTF8_BOM) :]
    if 0 in head or not head.isascii():
        # The window's bytes are the text's in ASCII alone: else decode the whole.
        try:
            text = gzip.decompress(data) if data[:2] == GZIP_MAGIC else data
            text = to_utf8(text)[0]
        except (OSError, EOFError, zlib.error, DataError):
            return None
        head, whole = text[:HEAD_BYTES], len(text) <= HEAD_BYTES
    first = head.find(b"\n")
    if not whole and (first < 0 or len(head) < first + 1 + SNIFF_BYTES):
        return None  # a first line too long for the window
    if cr_line_ends(head) or not head.strip():
        return None
    payload, _, delimiter = _from_header(head, all_strings=False, sheet=False)
    line = payload.split(b"\n", 1)[0]
    if line.count(b'"') % 2:
        return None  # a quoted line break in the header
    try:
        check_header(payload, delimiter=delimiter, name="")
        names = pl.read_csv(
            line + b"\n", separator=delimiter, n_rows=0, infer_schema=False, quote_char='"'
        ).columns
    except (DataError, pl.exceptions.PolarsError):
        return None
    return _as_read(names)


def _as_read(names: list[str]) -> list[str]:
    """A header's ``names`` as ``read_table`` names the columns: spaces around them stripped,
    capitals as segchain writes its columns' names (``_as_stage_names``)."""
    stripped = stripped_names(names)
    names = [stripped.get(n, n) for n in names]
    renames = case_renames(names)
    return [renames.get(n, n) for n in names]


def _parquet_header(data: bytes) -> list[str] | None:
    """The column names of the Parquet file ``data`` from its footer alone (no row is read),
    or None: the file carries segchain's metadata (its stage says what it is, as the read
    finds it), or polars cannot read its schema (the read says why)."""
    try:
        names = list(pl.read_parquet_schema(io.BytesIO(data)))
    except (pl.exceptions.PolarsError, OSError):
        return None
    if META_STAGE in read_metadata(io.BytesIO(data)):
        return None
    return names


def _as_stage_names(frame: FrameT, source: str) -> FrameT:
    """A stage table's ``frame`` with its columns named as segchain names them whatever their
    capitals (``schema.case_renames``), said on stderr (``note``). A segments table whose
    column was ``Segment`` (an export's, a spreadsheet's) was refused by forecast and costs
    ('missing required column segment') and run by network as one segment 'all'."""
    names = frame.collect_schema().names()
    say_case_twins(named_by_option(source), case_twins(names))
    renames = case_renames(names)
    if not renames:
        return frame
    read = ", ".join(f"{quoted(old, 40)} as {new}" for old, new in renames.items())
    note(
        f"{named_by_option(source)}: read column{'s' * (len(renames) > 1)} {read} (column "
        "names are matched whatever their capitals)"
    )
    return frame.rename(renames)


def _read_ids(df: pl.DataFrame, source: str) -> pl.DataFrame:
    """A stage table's ids read as an order export's are (``schema.stage_ids``), said on
    stderr."""
    df, notes = stage_ids(df)
    for message in notes:
        note(f"{named_by_option(source)}: {message}")
    return df


def say_case_twins(name: str, twins: Mapping[str, str], how: str = "") -> None:
    """Say which columns are not read beside the one of the same name in segchain's capitals
    (``case_twins``); ``how``: how to read the other instead."""
    for twin, column in twins.items():
        note(f"{name}: column {quoted(twin, 40)} is not read: {column} is, beside it{how}")


def cut_short(payload: bytes, *, delimiter: str, rows: int) -> tuple[int, int, int] | None:
    """(row, fields, the header's fields) when the export ends inside its last line: no line
    break after it, and fewer fields than the header and than the line before it. A download,
    copy or export stopped part way leaves such a line, which reads like any short line (its
    missing fields blank, quantity 16 for 160 possibly): the user must hear of it. A last line
    without a line break but with every field is common (many tools write none) and says
    nothing; lines that all stop short of the header are the file's convention."""
    if rows < 1 or payload.endswith((b"\n", b"\r")):
        return None
    width = len(next(csv.reader([_header_line(payload)], delimiter=delimiter), []))
    # The last records, parsed from a line start far enough back for a quoted line break.
    tail = payload[-65536:]
    if len(tail) < len(payload):
        tail = tail[tail.find(b"\n") + 1 :]
    try:
        records = list(csv.reader(io.StringIO(_csv_text(tail)), delimiter=delimiter))
    except csv.Error:
        return None
    if not records:
        return None
    fields = len(records[-1])
    before = len(records[-2]) if len(records) > 1 and rows > 1 else width
    if fields < width and fields < before:
        return rows, fields, width
    return None


_KINDS = {
    pl.Date: "a date",
    pl.Datetime: "a date and time",
    pl.Boolean: "true or false",
}


def refuse_cut_row(payload: bytes, df: pl.DataFrame, *, delimiter: str, name: str) -> None:
    """Refuse a stage's table read from CSV ``payload`` (``df``, typed) that ends in the middle
    of a row: no line break after its last row, and that row short of the header's fields
    (``cut_short``) or its last value no value of its column (``2025-01-0`` among dates,
    ``1.5e-`` among numbers). A copy interrupted, a disk that filled or ``head -c`` leaves such
    a file; read, its partial row had blank fields and the rows after it were gone without a
    word (costs wrote its table without the lost customers). An order export is only warned
    of (``cut_short``): a human export may lack its last line break and is read as it is. A
    stage's table segchain wrote always ends in one, and a complete last row without it (a
    table saved from a spreadsheet) is read.

    Raises:
        DataError: naming the row and what is missing, with the way out.
    """
    if not df.height or payload.endswith((b"\n", b"\r")):
        return
    cut = cut_short(payload, delimiter=delimiter, rows=df.height)
    where = (
        _cut_value(df)
        if cut is None
        else f"row {cut[0]:,}: {cut[1]} of the header's {cut[2]} fields"
    )
    if where is None:
        return
    raise DataError(
        f"{name}: the file ends in the middle of a row: it was cut short ({where}, and no line "
        "break after it); a partial row is no row, and any rows that followed it are missing",
        hint="rewrite the file by rerunning the stage that writes it (or copy it again in "
        "full); a table typed or edited by hand: complete its last row or delete it",
    )


def _cut_value(df: pl.DataFrame) -> str | None:
    """Where ``df``'s last value is cut inside (every field there): text in its last column
    whose other values all read as numbers, dates or true/false, as the CSV reader infers them
    (a value cut inside that still reads as one, 16 for 160, cannot be told)."""
    column = df.columns[-1]
    if df.height < 2 or column in ID_COLUMNS or df.schema[column] != pl.String:
        return None
    value = df.get_column(column)[-1]
    if value is None or not value.strip():
        return None
    others = df.select(pl.col(column).head(df.height - 1))
    if others.get_column(column).null_count() == others.height:
        return None
    kind = pl.read_csv(
        others.write_csv().encode(), try_parse_dates=True, infer_schema_length=None
    ).schema[column]
    if kind == pl.String:
        return None
    what = next((v for k, v in _KINDS.items() if kind == k), "a number")
    return (
        f"row {df.height:,}: its last value {quoted(value, 40)} is not {what} like the rest of "
        f"column {column!r}"
    )


def _without_trailing_empty_rows(df: pl.DataFrame, source: str) -> pl.DataFrame:
    """A stage table without the rows after its last one that hold no value at all, said on
    stderr: a spreadsheet saves rows it once held (cleared cells, a format) as ``,,,,`` lines,
    and every stage refused the table ('3 rows with a blank customer_id (rows 401, 402,
    403)'). Only trailing ones: an empty row between others is refused by its row number, which
    dropping it would shift for every row after it."""
    if not df.height or not df.width:
        return df
    blank = pl.all_horizontal(
        pl.col(c).is_null() | (pl.col(c).cast(pl.String).str.strip_chars() == "")
        for c in df.columns
    )
    empty = df.select(blank.alias("_empty")).to_series()
    filled = (~empty).arg_true()
    keep = int(filled[-1]) + 1 if filled.len() else 0
    n = df.height - keep
    if not n or not keep:  # a table of only empty rows is refused as it was
        return df
    rows = f"row {keep + 1:,}" if n == 1 else f"rows {keep + 1:,} to {df.height:,}"
    note(
        f"{named_by_option(source)}: {plural(n, 'empty row')} at the end skipped "
        f"({rows}: every field blank, as a spreadsheet saves rows it once held)"
    )
    return df.head(keep)


def _year_last_columns(payload: bytes, delimiter: str) -> list[str]:
    """The columns whose first value is a date with its year last (``1/2/2024``): kept as text
    for ``parse_dates``, which reads them in the column's day order, where polars reads them
    day first from that first value (a US spreadsheet's 2/1/2024, 1 February, as 2 January)."""
    try:
        head = pl.read_csv(
            payload, separator=delimiter, quote_char='"', infer_schema=False, n_rows=100
        )
    except pl.exceptions.PolarsError:  # the read proper says what is wrong
        return []
    return [
        c
        for c in head.columns
        if (v := head.get_column(c).drop_nulls().str.strip_chars()).len()
        and bool(v.str.contains(YEAR_LAST_DATE)[0])
    ]


def _header_line(payload: bytes) -> str:
    return payload.split(b"\n", 1)[0].decode("utf-8", errors="replace").rstrip("\r")


# ---------------------------------------------------------------------------------------------
# Several files as one table: paths, globs, folders (hive-partitioned Parquet included)

SOURCE_FILE = "_segchain_file"
"""A multi-file table's column naming each line's file (an Enum of the file names)."""
SOURCE_ROW = "_segchain_line"
"""A multi-file table's column: each line's row in its own file (1 = first after the header)."""
META_COLUMNS = (SOURCE_FILE, SOURCE_ROW, EXTRA_FIELDS)
GLOB_CHARS = "*?["
_SKIPPED_PREFIXES = (".", "_")  # hidden files, temporaries, Spark's _SUCCESS and _metadata


def expand_sources(sources: Sequence[str]) -> list[str]:
    """The files that paths, globs (expanded here, so they may be quoted) and folders name.

    A folder gives every CSV, CSV.gz and Parquet file under it (recursively, hidden files and
    names starting with '_' skipped); a glob its matches in sorted order. A file named twice is
    read once. '-' (stdin) stays as it is.

    Raises:
        DataError: a glob matches nothing, or a folder holds no table file.
        UsageError: one file (or stdin) named twice as a path, not through a glob or folder:
            ``segment a.csv a.csv`` is more likely a typo for a second file than a request.
    """
    files: list[str] = []
    seen: set[str] = set()
    named: dict[str, str] = {}  # a path given as it is -> how it was spelled
    for source in sources:
        if source == "-" or not (Path(source).is_dir() or _is_pattern(source)):
            key = source if source == "-" else os.path.realpath(source)
            if key in named:
                raise _named_twice(named[key], source)
            named[key] = source
        for path in _expand_one(source):
            key = path if path == "-" else os.path.realpath(path)
            if key not in seen:
                seen.add(key)
                files.append(path)
    return files


def _is_pattern(source: str) -> bool:
    return not Path(source).exists() and any(ch in source for ch in GLOB_CHARS)


def _named_twice(first: str, again: str) -> UsageError:
    if first == "-":
        return UsageError(
            "stdin ('-') is given twice among the inputs",
            hint="give '-' once; stdin can be read only once",
        )
    what = "" if first == again else f" (as {short(first, 60)} and {short(again, 60)})"
    return UsageError(
        f"{short(again)}: the same file is given twice among the inputs{what}",
        hint="name each file once; to read another export, check the second name",
    )


def _expand_one(source: str) -> list[str]:
    if source == "-":
        return ["-"]
    path = Path(source)
    if path.is_dir():
        return _folder_files(source)
    if path.exists() or not any(ch in source for ch in GLOB_CHARS):
        return [source]
    matches = sorted(glob.glob(source, recursive=True))
    if not matches:
        raise DataError(
            f"{named_by_option(source)}: no file matches this pattern",
            hint="check the pattern and the folder it runs in; '**' matches sub-folders",
        )
    out: list[str] = []
    for match in matches:
        out.extend(_folder_files(match) if Path(match).is_dir() else [match])
    return out


def _folder_files(folder: str) -> list[str]:
    found = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(_SKIPPED_PREFIXES))
        for name in names:
            readable = format_from_name(name) is not None or name.lower().endswith(
                WORKBOOK_SUFFIXES
            )
            if not name.startswith(_SKIPPED_PREFIXES) and readable:
                found.append(os.path.join(root, name))
    if not found:
        raise DataError(
            f"{short(folder)}: the folder holds no CSV, CSV.gz, Parquet or spreadsheet file",
            hint="name the files (.csv, .csv.gz, .tsv, .parquet, .xlsx), or give them one by one",
        )
    return sorted(found)


def hive_partitions(path: str) -> dict[str, str]:
    """``key=value`` folders on a file's path (hive partitioning), as string columns."""
    out: dict[str, str] = {}
    for part in Path(path).parent.parts:
        key, sep, value = part.partition("=")
        if sep and key and not key.startswith(_SKIPPED_PREFIXES):
            out[unquote(key)] = unquote(value)
    return out


def read_raw_sources(
    sources: Sequence[str],
    *,
    format: str | None = None,
    sheet: str | None = None,
    held: Mapping[str, Table] | None = None,
) -> Table:
    """Read one or several ERP exports (paths, globs, folders) lazily as one table.

    One plain file is read exactly as ``read_raw`` reads it. Several files become one lazy
    table with ``_file`` (each line's file) and ``_line`` (its row in that file), so that
    rejected lines can be traced back; hive ``key=value`` folders become string columns.
    ``sheet`` is read in every workbook among them (see ``read_raw``). ``held``: files among
    them already read by ``read_raw`` (at ``sheet``), by their name: not read again.

    Raises:
        DataError: a file cannot be read, a glob matches nothing, the files' columns differ
            (the message names the first file that differs and how), or a workbook lacks
            ``sheet``.
        UsageError: stdin is a terminal.
    """
    files = expand_sources(sources)
    held = held or {}
    if len(files) == 1 and (files[0] == "-" or not hive_partitions(files[0])):
        return held.get(files[0]) or read_raw(files[0], format=format, sheet=sheet)
    tables, skipped, read = [], [], []
    for f in files:
        try:
            table = held.get(f) or read_raw(f, format=format, sheet=sheet)
        except NoSuchSheet as exc:
            # One month's workbook without the sheet: neither its first sheet nor no lines
            # at all would be that month's orders.
            raise DataError(
                exc.message,
                hint=f"{exc.hint}; every workbook of the run is read at this sheet: rename "
                "the sheet in this one, or read it in a run of its own",
            ) from None
        # A rejects file of an earlier run, written into the folder the exports sit in.
        if f not in sources and is_rejects_table(table):
            skipped.append(f)
        else:
            tables.append(table)
            read.append(f)
    _refuse_copies(read, tables)
    if not tables:
        raise DataError(
            f"{short(', '.join(sources))}: names only segchain's rejected lines (--rejects), "
            "no order export",
            hint="give the exports themselves",
        )
    if len(tables) == 1 and not hive_partitions(tables[0].name):
        tables[0].skipped = skipped
        return tables[0]
    combined = combine_tables(tables)
    combined.skipped = skipped
    return combined


def _gzipped(path: str) -> bool:
    with open(path, "rb") as stream:
        return stream.read(2) == GZIP_MAGIC


def _open_content(path: str) -> gzip.GzipFile | io.BufferedReader:
    """``path``'s bytes as read: decompressed when gzipped."""
    return gzip.open(path, "rb") if _gzipped(path) else open(path, "rb")


def _content_head(path: str) -> bytes:
    """The first 64 KiB of ``path``'s bytes as read (decompressed when gzipped)."""
    with _open_content(path) as stream:
        return stream.read(65536)


def _content_digest(path: str) -> bytes:
    """A hash of ``path``'s bytes as read (decompressed when gzipped), in 1 MiB chunks."""
    import hashlib

    with _open_content(path) as stream:
        return hashlib.file_digest(stream, "blake2b").digest()  # type: ignore[arg-type]


def identical_files(paths: Sequence[str]) -> list[list[str]]:
    """Groups of two or more of ``paths`` whose bytes are identical, in the order given; a
    gzipped file is compared by its decompressed bytes (``a.csv`` and ``a.csv.gz``).

    Files are compared by their first 64 KiB, then (when those agree) by a hash of the whole
    file read in 1 MiB chunks; a plain file only with files of its own size. A gzip file's
    size is not known without decompressing it all (the size its last 4 bytes record is its
    last member's: a file of several members, parts gzipped apart and joined with ``cat`` or
    bgzip's, records another size than its bytes have), so when one is given every file's
    first 64 KiB is read. Monthly exports almost never share a size or a first 64 KiB, so a
    run of many files reads little more. Measured on a 412 MB export of 3.7 million lines and
    its 59 MB gzip: when the first 64 KiB agree, hashing both takes 1.6 s (of a 17 s validate
    of the two). stdin ('-') is never compared; a gzip file that cannot be read is left to the
    reader to refuse."""
    sizes: dict[str, int | None] = {}  # None: a gzip file
    for p in paths:
        if p != "-" and p not in sizes and os.path.isfile(p):
            try:
                sizes[p] = None if _gzipped(p) else os.path.getsize(p)
            except OSError:
                continue
    shared = Counter(n for n in sizes.values() if n is not None)
    gzipped = None in sizes.values()
    by_head: dict[bytes, list[str]] = {}
    for p, n in sizes.items():
        if gzipped or (n is not None and shared[n] > 1):
            try:
                by_head.setdefault(_content_head(p), []).append(p)
            except (OSError, EOFError, zlib.error):
                continue
    groups: list[list[str]] = []
    for alike in by_head.values():
        if len(alike) < 2:
            continue
        if all(sizes[p] is not None for p in alike):
            # Plain files only: only those of one size can be the same bytes.
            by_size: dict[int | None, list[str]] = {}
            for p in alike:
                by_size.setdefault(sizes[p], []).append(p)
            candidates = [g for g in by_size.values() if len(g) > 1]
        else:
            candidates = [alike]
        for same in candidates:
            by_digest: dict[bytes, list[str]] = {}
            for p in same:
                try:
                    by_digest.setdefault(_content_digest(p), []).append(p)
                except (OSError, EOFError, zlib.error):
                    continue
            groups += [g for g in by_digest.values() if len(g) > 1]
    order = {p: i for i, p in enumerate(paths)}
    return sorted((sorted(g, key=order.__getitem__) for g in groups), key=lambda g: order[g[0]])


def _refuse_copies(paths: Sequence[str], tables: Sequence[Table]) -> None:
    """Refuse files of one run that are copies of each other (one month's export saved twice,
    ``a.csv`` and ``a (1).csv``, or once gzipped, ``a.csv.gz``): read as one table, each of
    their lines would count twice. Copies without a line (a header only) double nothing and are
    read."""
    lines = {p: t for p, t in zip(paths, tables, strict=True)}
    copies = [
        g for g in identical_files(paths) if lines[g[0]].frame.lazy().head(1).collect().height
    ]
    if not copies:
        return
    listed = "\n".join(
        "  " + " = ".join(short(p, 60) for p in g[:4]) + (" = ..." * (len(g) > 4)) for g in copies
    )
    first = copies[0]
    twice = "read together, every order line in them would count twice"
    # A gzipped copy holds other bytes on disk: say which bytes are the same.
    same = "the same bytes"
    if any(_gzipped(p) for g in copies for p in g):
        same += " once decompressed"
    if len(copies) == 1 and len(first) == 2:
        what = f"{short(first[0], 60)} and {short(first[1], 60)} are identical ({same}): "
        what += twice
    else:
        what = f"these files are copies of each other ({same}); {twice}:\n{listed}"
    raise DataError(
        what,
        hint="give each export once (leave the copy out); if the files should hold different "
        "periods, export the missing one again",
    )


def looks_like_rejects(path: str) -> bool:
    """``is_rejects_table`` from a file's metadata or first line alone (nothing else is read)."""
    try:
        if format_from_name(path) == "parquet":
            return read_metadata(path).get("stage") == "rejects"
        with open(path, "rb") as stream:
            head = stream.read(65536)
        if head[:2] == GZIP_MAGIC:
            with gzip.open(path, "rb") as stream:
                head = stream.read(65536)
    except (OSError, EOFError):
        return False
    first = head.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace").lstrip("\ufeff")
    names = first.split(sniff_delimiter(first + "\n"))
    return names[:2] == ["row", "source_file"] and names[-1] == "reason"


def is_rejects_table(table: Table) -> bool:
    """Whether ``table`` is segchain's own rejected lines (``--rejects``): by its metadata, else
    by its columns (``row, source_file, ..., reason``)."""
    if table.stage:
        return table.stage == "rejects"
    names = table.frame.collect_schema().names()
    return names[:2] == ["row", "source_file"] and names[-1] == "reason"


def combine_tables(tables: Sequence[Table]) -> Table:
    """Several raw tables of one layout as one lazy table (see ``read_raw_sources``)."""
    frames: list[pl.LazyFrame] = []
    for table in tables:
        lf = table.frame.lazy()
        names = lf.collect_schema().names()
        hive = {k: v for k, v in hive_partitions(table.name).items() if k not in names}
        if table.name != "<stdin>" and hive:
            lf = lf.with_columns(pl.lit(v, dtype=pl.String).alias(k) for k, v in hive.items())
        frames.append(lf)
    schemas = [lf.collect_schema() for lf in frames]
    reference = [c for c in schemas[0].names() if c not in META_COLUMNS]
    _refuse_title_rows(tables, schemas)
    for table, schema in zip(tables[1:], schemas[1:], strict=True):
        names = [c for c in schema.names() if c not in META_COLUMNS]
        lacks = [c for c in reference if c not in names]
        extra = [c for c in names if c not in reference]
        if lacks or extra:
            what = []
            if lacks:
                what.append(f"lacks {', '.join(short(c, 40) for c in lacks[:10])}")
            if extra:
                what.append(f"has {', '.join(short(c, 40) for c in extra[:10])} in addition")
            raise DataError(
                f"{short(table.name)}: its columns differ from those of {short(tables[0].name)} "
                f"(it {'; it '.join(what)}): the files cannot be read as one table",
                hint="give together only files of one export layout (the same columns), or "
                "read the others in a separate run",
            )
    # A column typed differently across files (a Parquet's numbers, a CSV's text) is read as
    # text in all of them: the importer parses text the same way whatever its file.
    mixed = {c for c in reference if len({s[c] for s in schemas}) > 1}
    extra_fields = any(EXTRA_FIELDS in s for s in schemas)
    file_type = pl.Enum([t.name for t in tables])
    parts = []
    for table, lf, schema in zip(tables, frames, schemas, strict=True):
        cols = [pl.col(c).cast(pl.String) if c in mixed else pl.col(c) for c in reference]
        if extra_fields:
            cols.append(
                pl.col(EXTRA_FIELDS)
                if EXTRA_FIELDS in schema
                else pl.lit(None, dtype=pl.String).alias(EXTRA_FIELDS)
            )
        parts.append(
            lf.select(cols)
            .with_row_index(SOURCE_ROW, offset=1)
            .with_columns(pl.lit(table.name, dtype=file_type).alias(SOURCE_FILE))
        )
    stages = {t.stage for t in tables}
    metadata = tables[0].metadata if len(stages) == 1 else {}
    names = [t.name for t in tables]
    name = names[0] if len(names) == 1 else f"{len(names):,} files ({names[0]} ... {names[-1]})"
    return Table(
        frame=pl.concat(parts, how="vertical"),
        dialect=tables[0].dialect,
        metadata=metadata,
        name=name,
        parts=list(tables),
    )


def _refuse_title_rows(tables: Sequence[Table], schemas: Sequence[pl.Schema]) -> None:
    """Name the file whose first line is a report's title while another file's is a header:
    the difference of their columns said only that the two differ, and blamed the file with the
    header when the title came first."""
    names = [[c for c in schema.names() if c not in META_COLUMNS] for schema in schemas]
    if all(n == names[0] for n in names):
        return
    hints = [title_row_hint(n) for n in names]
    titled = [i for i, hint in enumerate(hints) if hint]
    headed = [i for i, hint in enumerate(hints) if not hint]
    if not titled or not headed:
        return
    first, other = titled[0], headed[0]
    raise DataError(
        f"{short(tables[first].name)}: its first line is not a header like that of "
        f"{short(tables[other].name)}: the files cannot be read as one table",
        hint=hints[first],
    )


def _note_input(source: str) -> None:
    active = _ACTIVE.get()
    if active is not None:
        active.add_input(source)


def _scan_parquet_file(path: str, *, data: bytes | None = None) -> Table:
    """A Parquet file scanned lazily from its bytes, read once: a copy in memory of the file
    as it was (compressed: a tenth or less of the frame it holds). Scanned by its path, a file
    replaced or cut short while the command ran (an export rewritten by the next cron job) made
    polars panic ('assertion failed: range.end as u64 <= self.size': a Rust backtrace and a
    Python traceback), and a name that is not UTF-8 was refused by polars ('TypeError: Object
    does not have a .read() method'). ``data``: its bytes, already read."""
    if data is None:
        data, _ = _read_source_bytes(path)
    if not data:
        # The same message as a stage table read whole.
        raise _empty_parquet(path)
    try:
        lf = pl.scan_parquet(io.BytesIO(data))
        lf.collect_schema()
        meta = read_metadata(io.BytesIO(data))
    # Any polars error here is the file's: a damaged footer raises InvalidOperationError (its
    # Arrow schema not base64), a damaged page ComputeError.
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable_parquet(io.BytesIO(data), path, exc) from None
    _check_parquet_columns(lf.collect_schema().names(), path)
    lf = lf.rename(stripped_names(lf.collect_schema().names()))
    lf = readable_columns(lf, source=path)
    return Table(frame=lf, dialect=Dialect(format="parquet"), metadata=meta, name=path)


def _empty_parquet(name: str) -> DataError:
    # A Parquet table, even one without rows, is never 0 bytes: it had no hint.
    return DataError(
        f"{name}: the file is empty",
        hint="a Parquet table, even one without rows, is never empty: the write was cut "
        "short or the file emptied; give the table as it was written, or rerun the stage "
        "or export that writes it",
    )


def _read_parquet_bytes(data: bytes, name: str) -> Table:
    if not data:
        raise _empty_parquet(name)
    try:
        df = pl.read_parquet(io.BytesIO(data))
        meta = read_metadata(io.BytesIO(data))
    except (pl.exceptions.PolarsError, OSError) as exc:  # as in _scan_parquet_file
        raise _unreadable_parquet(io.BytesIO(data), name, exc) from None
    _check_parquet_columns(df.columns, name)
    df = df.rename(stripped_names(df.columns))
    df = readable_columns(df, source=name)
    return Table(frame=df, dialect=Dialect(format="parquet"), metadata=meta, name=name)


def _unreadable_parquet(source: str | IO[bytes], name: str, exc: BaseException) -> DataError:
    """The error for a Parquet file polars cannot read: one that names a column twice (pyarrow
    writes such files; polars refuses them) is named as such, as a CSV header doing so is, not
    as a damaged file."""
    try:
        import pyarrow.parquet as pq  # only here: reading a good file never imports pyarrow

        names = list(pq.read_schema(source).names)
    except Exception:  # noqa: BLE001 - the file is damaged indeed: polars' error says how
        names = []
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        where = "; ".join(
            f"{quoted(d, 40)} in columns "
            + ", ".join(str(i + 1) for i, n in enumerate(names) if n == d)
            for d in dups[:5]
        )
        return DataError(
            f"{name}: the Parquet file names a column twice: {where}",
            hint="give each column its own name where the file is written",
        )
    return DataError(
        f"{name}: not a readable Parquet file ({_first_line(exc)})",
        hint="the file is damaged or was cut short (a copy, download or write that stopped "
        "early); give the table as it was written, or rerun the stage or export that writes it",
    )


def _check_parquet_columns(columns: Sequence[str], name: str) -> None:
    """Refuse a Parquet file without a column (written from an empty frame): no column can be
    mapped, and the hints for a CSV's missing columns (a title line above the header) do not
    apply to it. Its names are then stripped of spaces around them, as a CSV header's are: a
    'segment ' read from a spreadsheet was 'missing required column segment' in Parquet alone."""
    if not columns:
        raise DataError(
            f"{name}: the Parquet file has no columns",
            hint="write it again from the table it should hold (it was written from a table "
            "without columns)",
        )
    # Two names equal once stripped ('quantity' and 'quantity '): as in a CSV header, refused;
    # the exact-named one was read and the other left out without a word.
    names = [bare_name(c) for c in columns]
    dups = sorted({n for n in names if n and names.count(n) > 1})
    if dups:
        where = "; ".join(
            f"{quoted(d, 40)} in columns "
            + ", ".join(
                f"{i + 1} ({quoted(c, 40)})" for i, c in enumerate(columns) if names[i] == d
            )
            for d in dups[:5]
        )
        raise DataError(
            f"{name}: the Parquet file names a column twice once the spaces around its names "
            f"are dropped: {where}",
            hint="give each column its own name where the file is written",
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_metadata(source: str | Path | IO[bytes]) -> dict[str, Any]:
    """segchain provenance from a Parquet file's key-value metadata (``{}`` when there is none).

    Read by polars, which has the file open anyway: importing pyarrow for it cost 0.1 s of every
    command that reads a Parquet file.
    """
    try:
        kv = pl.read_parquet_metadata(source)
    except Exception:  # noqa: BLE001 - a file without readable metadata simply has none
        return {}
    out: dict[str, Any] = {}
    for k, text in kv.items():
        if not k.startswith(META_PREFIX):
            continue
        try:
            out[k[len(META_PREFIX) :]] = json.loads(text)
        except json.JSONDecodeError:
            out[k[len(META_PREFIX) :]] = text
    return out


# ---------------------------------------------------------------------------------------------
# Writers


def provenance(
    stage: str,
    *,
    params: Mapping[str, Any] | None = None,
    inputs: Mapping[str, int] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The metadata every output carries. No timestamps: reruns must be byte-identical.

    Inside a command, what the run records for all its outputs (``record_run_metadata``: the
    config read) is added.
    """
    meta: dict[str, Any] = {META_STAGE: stage, META_VERSION: __version__}
    meta[META_PARAMS] = {k: _jsonable(v) for k, v in (params or {}).items()}
    meta[META_INPUTS] = dict(inputs or {})
    active = _ACTIVE.get()
    if active is not None:
        meta.update({k: _jsonable(v) for k, v in active.run_metadata.items()})
    meta.update({k: _jsonable(v) for k, v in extra.items()})
    return meta


def record_run_metadata(key: str, value: Any) -> None:
    """Record ``key`` in the provenance of every output of the running command (if any)."""
    active = _ACTIVE.get()
    if active is not None:
        active.run_metadata[key] = value


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    if isinstance(value, dt.date):  # forecast's as_of: a date, as ISO text
        return value.isoformat()
    return value


# Names of files segchain reads but does not write: CSV bytes under them would be called corrupt.
_WORKBOOK_NAMES = (".xlsx", ".xlsm", ".xls", ".ods")
# Names of other formats and of compressions segchain does not write (.gz it does): '-o
# seg.json' or '-o seg.csv.bz2' wrote plain CSV under them, which the next reader (jq,
# pandas.read_csv inferring bz2 from the name, unzip) called corrupt.
_OTHER_NAMES = {
    "compressed": (".bz2", ".xz", ".zst", ".zstd", ".lz4", ".zip", ".7z", ".tar", ".tgz"),
    "JSON": (".json", ".jsonl", ".ndjson"),
    "Arrow": (".arrow", ".feather", ".ipc"),
    "Avro": (".avro",),
    "ORC": (".orc",),
}


def output_format(dest: str, format: str | None, *, option: str = "-o") -> str:
    """The format to write: -f, else the name, else CSV. Parquet to a terminal is refused, and
    so is a workbook's name (.xlsx)."""
    if dest != "-" and dest.lower().endswith(_WORKBOOK_NAMES):
        raise UsageError(
            f"{option} {short(dest)}: segchain writes CSV or Parquet, not a spreadsheet workbook",
            hint="name it .csv (a spreadsheet opens it; --csv-safe for one people open) or "
            ".parquet",
        )
    other = next((kind for kind, ends in _OTHER_NAMES.items() if dest.lower().endswith(ends)), None)
    if dest != "-" and other is not None:
        what = "compressed with gzip only (.gz)" if other == "compressed" else f"not {other}"
        raise UsageError(
            f"{option} {short(dest)}: segchain writes CSV or Parquet, {what}",
            hint="name it .csv, .csv.gz or .parquet (the name decides the format)",
        )
    named = format_from_name(dest.removesuffix(".gz")) if dest != "-" else None
    chosen = check_format(format)
    if chosen is not None and named is not None and chosen != named:
        # '-f parquet -o costs.csv' wrote Parquet into a file named .csv (and a standing
        # SEGCHAIN_FORMAT=parquet did so to every .csv output), which the next reader
        # refused as 'a Parquet file named .csv'.
        env = os.environ.get("SEGCHAIN_FORMAT")
        given = f"$SEGCHAIN_FORMAT={format}" if env == format else f"-f {format}"
        raise UsageError(
            f"{option} {short(dest)}: the name says {_FORMAT_WORDS[named]}, but {given} asks "
            f"for {_FORMAT_WORDS[chosen]}",
            hint=f"name it {_renamed(dest, chosen)}, or leave "
            + ("SEGCHAIN_FORMAT unset" if given.startswith("$") else "-f out")
            + ": the name decides the format",
        )
    fmt = chosen or named or "csv"
    if fmt == "parquet" and _is_terminal(dest):
        raise UsageError(
            "refusing to write Parquet to a terminal"
            + (f" ({short(dest)})" if dest != "-" else ""),
            hint="redirect stdout to a file or pipe (> out.parquet), or use -f csv",
        )
    return fmt


_FORMAT_WORDS = {"csv": "CSV", "parquet": "Parquet"}


def _renamed(dest: str, fmt: str) -> str:
    """``dest`` with the extension of ``fmt`` (``x.csv.gz`` -> ``x.parquet.gz``), cut short."""
    gz = dest.lower().endswith(".gz")
    core = dest[:-3] if gz else dest
    stem = os.path.splitext(core)[0]
    return short(stem + (".parquet" if fmt == "parquet" else ".csv") + (".gz" if gz else ""))


def _is_terminal(dest: str) -> bool:
    """Whether ``dest`` ('-', /dev/stdout and its aliases, a tty device) is a terminal."""
    fd = descriptor_of(dest)
    if fd is not None:
        stream = _fd_stream(fd)
        try:
            return stream is not None and stream.isatty()
        except (AttributeError, OSError, ValueError):
            return False
    try:
        if not stat.S_ISCHR(os.stat(dest).st_mode):
            return False
        # /dev/tty, /dev/pts/N: a character device that is a terminal (/dev/null is not).
        handle = os.open(dest, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        return os.isatty(handle)
    finally:
        os.close(handle)


def write_table(
    df: pl.DataFrame,
    dest: str,
    *,
    format: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> str:
    """Write ``df`` to ``dest`` ('-' is stdout); return the format written.

    Inside a command (an active ``OutputSet``) the table is staged and written together with the
    command's other outputs when it succeeds; outside one it is written at once, atomically.
    Parquet files carry ``metadata`` as ``segchain.*`` key-value pairs (JSON values).
    """
    fmt = output_format(dest, format)
    # The name's promise is kept: x.tsv holds tabs, x.csv.gz (x.parquet.gz) gzip, as read.
    tabs = fmt == "csv" and dest.lower().removesuffix(".gz").endswith(".tsv")
    if fmt == "parquet":
        writer = _parquet_writer(df, metadata)
    else:
        writer = _csv_writer(df, separator="\t") if tabs else _csv_writer(df)
    if dest != "-" and dest.lower().endswith(".gz"):
        writer = _gzip_writer(writer)
    write_output_bytes(dest, writer)
    return fmt


def _gzip_writer(writer: Callable[[IO[bytes]], None]) -> Callable[[IO[bytes]], None]:
    def write(stream: IO[bytes]) -> None:
        # No time and no (temporary) file name in the header: a rerun writes the same bytes.
        with gzip.GzipFile(filename="", mode="wb", fileobj=stream, mtime=0) as packed:
            writer(packed)  # type: ignore[arg-type]  # a GzipFile is a binary stream

    return write


def write_output_bytes(dest: str, writer: Callable[[IO[bytes]], object]) -> None:
    """Write what ``writer`` produces to ``dest``, through the active OutputSet if there is one."""
    active = _ACTIVE.get()
    if active is not None:
        active.stage(dest, writer)
        return
    with OutputSet() as outputs:
        outputs.stage(dest, writer)


# ---------------------------------------------------------------------------------------------
# Output sets: a command's outputs are checked before any work, written last, all or nothing

_ACTIVE: contextvars.ContextVar[OutputSet | None] = contextvars.ContextVar(
    "segchain_outputs", default=None
)

# Names that mean "this process's own descriptor N": written to the descriptor, never opened
# anew (see ``descriptor_of``).
_STREAM_NAMES = {"/dev/stdout": 1, "/dev/stderr": 2}
_FD_NAME = re.compile(r"/(?:dev/fd|proc/(?:self|thread-self|(\d+)(?:/task/\d+)?)/fd)/(\d+)")


def _fd_named(path: str) -> int | None:
    """The descriptor ``path`` names literally (``/dev/fd/3``, ``/proc/self/fd/3``, this
    process's ``/proc/PID/fd/3``, ``/dev/stdout``), else None."""
    if path in _STREAM_NAMES:
        return _STREAM_NAMES[path]
    found = _FD_NAME.fullmatch(path)
    if found is None or (found.group(1) is not None and int(found.group(1)) != os.getpid()):
        return None
    return int(found.group(2))


def descriptor_of(dest: str) -> int | None:
    """The descriptor of this process that the output ``dest`` names ('-' is 1), or None for
    a path to open.

    ``-o /dev/fd/3 3>>log.csv``: on Linux /dev/fd/3 is a link to the file the shell opened, so
    it was read as that file's path and replaced by the temporary file, the lines it held lost;
    opened anew it would be written from its start, not appended to as ``>>`` promises. Written
    to the descriptor itself, the shell's redirection decides (append, a pipe, a terminal). A
    symlink to such a name, or a name under a folder linked to /dev/fd, is followed to it.
    Stdin (/dev/fd/0) is no output: it is the file it reads, refused if that is an input.
    """
    if dest == "-":
        return 1
    path = os.path.abspath(dest)
    for _ in range(40):  # the kernel's own limit on links followed
        real = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
        fd = _fd_named(path)
        fd = _fd_named(real) if fd is None else fd
        if fd is not None:
            return fd if fd != 0 else None
        try:
            link = os.readlink(real)
        except OSError:  # no link (or no file): a path to open
            return None
        path = os.path.abspath(os.path.join(os.path.dirname(real), link))
    return None


def stream_name(fd: int) -> str:
    """How messages name descriptor ``fd``: stdout, stderr, descriptor 3."""
    return {1: "stdout", 2: "stderr"}.get(fd, f"descriptor {fd}")


def _redirect(fd: int) -> str:
    """How a shell sends descriptor ``fd`` to a file: ``>``, ``2>``, ``3>``."""
    return ">" if fd == 1 else f"{fd}>"


@dataclass(frozen=True)
class OutputTarget:
    """Where one output goes, as checked before any work is done."""

    dest: str  # as the user gave it
    option: str  # the option that named it, for messages ("-o", "--profile")
    path: Path | None  # the file written (a symlink resolved); None for a stream
    through: bool  # stdout, a device or a FIFO: written in place, never replaced
    mode: int | None = None  # an existing file's permission bits, kept
    owner: tuple[int, int] | None = None
    fd: int | None = None  # a descriptor of this process (stdout, /dev/fd/3): written to it
    links: int = 1  # an existing file's hard links: the others keep the previous table

    @property
    def label(self) -> str:
        return output_label(self.option, self.dest)


def output_label(option: str, dest: str) -> str:
    """How messages name an output: ``-o out.csv``; the file alone when no option named it
    (sample's files in its -o folder, a Markdown report's charts): 'output smp/orders.csv'
    named an option that does not exist."""
    return f"{option} {short(dest)}" if option else short(dest)


def short(value: object, limit: int = 120) -> str:
    """``value`` (a file's name) as messages show it: cut in the middle past ``limit``
    characters, and quoted when it holds a control character (``formatting.quote_name``: a
    newline in a name forged a line on stderr)."""
    return quote_name(_cut(str(value), limit))


def quoted(value: object, limit: int = 120) -> str:
    """``value`` (a cell, a sheet's or a column's name) quoted as ``repr`` quotes it, cut in the
    middle past ``limit`` characters; ``repr`` escapes control characters itself."""
    return repr(_cut(str(value), limit))


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    keep = (limit - 5) // 2
    return f"{text[:keep]} ... {text[-keep:]}"


def os_message(exc: OSError) -> str:
    """A short, plain reason for an OS error (no errno numbers, no Python repr)."""
    reasons = {
        errno.ENAMETOOLONG: "the file name is too long",
        errno.ENOSPC: "no space left on the device",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "the file system is read-only",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.EISDIR: "is a folder",
        errno.EPIPE: "the reader closed the pipe",
        errno.EBADF: "the stream is closed",
        errno.EDQUOT: "disk quota exceeded",
        errno.EFBIG: "the file is larger than the file system or the file size limit (ulimit -f) "
        "allows",
    }
    # polars' writers raise a bare OSError("No space left on device (os error 28)").
    exc = write_failure(exc) or exc
    return reasons.get(exc.errno or 0, exc.strerror or type(exc).__name__)


# How Rust libraries (polars) quote an OS error in their messages.
_OS_ERROR = re.compile(r"\s*\(os error (\d+)\)")


def cannot_write(label: str, exc: OSError) -> DataError:
    """The error for an output that could not be written, with what to do about a full disk."""
    code = (write_failure(exc) or exc).errno
    hints = {
        errno.ENOSPC: "free some space there or write the output to another disk",
        errno.EDQUOT: "free some space there or write the output to another disk",
        errno.EFBIG: "write it to a file system that takes larger files (FAT32 stops at 4 GiB), "
        "raise the file size limit, or write less",
    }
    return DataError(f"{label}: cannot write: {os_message(exc)}", hint=hints.get(code or 0))


def write_failure(exc: BaseException) -> OSError | None:
    """The OS error behind a writer's exception (None: not an I/O failure).

    polars reports a Parquet writer's I/O failure as a ComputeError ('parquet: File out of
    specification: underlying IO error: No space left on device (os error 28)'): a full disk
    printed a traceback instead of the 'cannot write' error a CSV output gets.
    """
    found = _OS_ERROR.search(str(exc))
    if isinstance(exc, OSError) and (exc.errno is not None or found is None):
        return exc
    if found is None:
        return None
    code = int(found.group(1))
    return OSError(code, os.strerror(code))


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError):
        return 255


def refuse_empty_name(
    value: str, option: str, *, what: str = "file", env: str | None = None
) -> None:
    """Refuse an empty (or blank) path name, the value of an unset shell variable.

    pathlib reads '' as the working folder: an input '' read every table in it, an output or
    ``sample -o ''`` wrote into it. Typer turns a ``Path`` option's '' into '.', so path options
    are ``str`` and come through here first. ``env``: the environment variable the value came
    from (``SEGCHAIN_CONFIG=' '``), named instead of ``option``.

    Raises:
        UsageError: ``value`` is empty or blank.
    """
    if value.strip():
        return
    if env is not None:
        raise UsageError(
            f"${env}: the {what} name is empty",
            hint=f"{env} is set but blank; unset it (unset {env}) or set it to the {what}'s path",
        )
    example = ", e.g. -o data" if what == "folder" else ""
    raise UsageError(
        f"{option}: the {what} name is empty",
        hint=f"an unset shell variable gives an empty name; give the {what}'s path{example}",
    )


def refuse_stray_end(value: str, option: str, *, output: bool, env: str | None = None) -> None:
    """Refuse a name ending in a carriage return (a script saved with Windows line ends passes
    one with each line's last word), and an output's ending in a space or a tab.

    Such an output was written as CSV under a name that shows as ``seg.parquet`` (or ``.xlsx``):
    its suffix, read for the format, was ``.parquet\r``. An input so named was 'no such file'
    (exit 1), the '\r' unseen. An input's trailing space is left to that message: a file may
    be named so. ``env``: the environment variable the value came from, named instead of
    ``option``.

    Raises:
        UsageError: ``value`` ends so.
    """
    if value.endswith("\r"):
        why = "ends in a carriage return ('\\r')"
        hint = (
            "a script saved with Windows (CRLF) line ends passes one with the last word of each "
            "line: save it with Unix (LF) line ends (dos2unix, or the editor's line-end setting)"
        )
    elif output and value.endswith((" ", "\t")):
        why = "ends in a space" if value.endswith(" ") else "ends in a tab"
        hint = "give the name without it: the format is read from the name's end"
    else:
        return
    named = f"${env}" if env is not None else option
    label = f"{named} {quoted(value)}" if named else quoted(value)
    raise UsageError(f"{label}: the name {why}", hint=hint)


def check_output(dest: str, *, option: str = "-o") -> OutputTarget:
    """Check that ``dest`` can be written; say where the bytes will go.

    Raises:
        UsageError: a folder, a read-only file, a missing or unwritable folder, a name too long,
            a closed stdout (exit 2: nothing was read or computed yet).
    """
    label = output_label(option, dest)
    fd = descriptor_of(dest)
    if fd is not None:
        _check_descriptor(fd, label)
        return OutputTarget(dest, option, None, True, fd=fd)
    refuse_empty_name(dest, option)
    refuse_stray_end(dest, option, output=True)
    raw = Path(dest)
    if dest.endswith("/") and not raw.is_dir():
        # pathlib drops the slash: `-o results/` wrote a file named 'results'.
        there = raw.exists() or raw.is_symlink()
        why = f"{quoted(str(raw))} is a file" if there else f"no folder {quoted(str(raw))} exists"
        raise UsageError(
            f"{label}: a name ending in '/' is a folder, and {why}",
            hint=f"name a file: {option or '-o'} {short(str(raw))} (no '/'), or a file inside "
            "an existing folder",
        )
    try:
        st: os.stat_result | None = raw.stat()  # follows a symlink to its target
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise UsageError(f"{label}: {os_message(exc)}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{label}: is a folder", hint="give a file name inside it")
    if st is not None and stat.S_ISSOCK(st.st_mode):
        # open() cannot write to a socket: 'cannot write: No such device or address', exit 1,
        # after the whole run.
        raise UsageError(
            f"{label}: is a socket, not a file",
            hint="name a file (or '-' for stdout, and pipe that where the socket's program reads)",
        )
    if st is not None and not stat.S_ISREG(st.st_mode):
        # A device, a FIFO: written through, never unlinked or replaced.
        return OutputTarget(dest, option, raw, True)
    path = Path(os.path.realpath(raw))  # a symlink's target is what gets written
    folder = path.parent
    mode = owner = None
    if st is not None:
        mode = stat.S_IMODE(st.st_mode)
        owner = (st.st_uid, st.st_gid)
        if _read_only_mount(folder):
            raise _read_only_disk(label, folder)
        if not mode & 0o222 or not os.access(path, os.W_OK):
            raise _not_writable(label, path, st)
        if _sticky_keeps(folder, st):
            who = _user_name(st.st_uid)
            raise UsageError(
                f"{label}: cannot replace it: its folder '{short(folder)}' has the sticky bit "
                f"(as /tmp has), and the file belongs to {who}: only they, the folder's owner "
                "or root may replace or remove it",
                hint=f"choose another name, or ask its owner ({who}) to remove the file",
            )
    else:
        if not folder.exists():
            raise UsageError(
                f"{label}: folder '{short(folder)}' does not exist", hint="create it first"
            )
        if not folder.is_dir():
            raise UsageError(f"{label}: '{short(folder)}' is a file, not a folder")
        name_max = _name_max(folder)
        if len(path.name.encode("utf-8", "surrogateescape")) > name_max:
            raise UsageError(f"{label}: the file name is longer than {name_max} bytes")
    if not os.access(folder, os.W_OK | os.X_OK):
        if _read_only_mount(folder):
            raise _read_only_disk(label, folder)
        raise UsageError(f"{label}: cannot write in folder '{short(folder)}': permission denied")
    links = st.st_nlink if st is not None else 1
    return OutputTarget(dest, option, path, False, mode, owner, links=links)


def _acts_as_any_owner() -> bool:
    """Whether this process may act on files as their owner would (CAP_FOWNER: root, unless
    its capabilities were dropped, as in many containers)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> 3 & 1)  # bit 3: CAP_FOWNER
    except (OSError, ValueError, IndexError):
        pass
    return os.geteuid() == 0


def _sticky_keeps(folder: Path, st: os.stat_result) -> bool:
    """Whether ``folder``'s sticky bit forbids this process to rename over (or remove) the file
    ``st`` describes, as the kernel decides: only the file's owner, the folder's owner and
    CAP_FOWNER may. The rename failed after the whole run ('permission denied', exit 1), and
    left a hard-linked backup there that the user could not remove either."""
    try:
        folder_st = os.stat(folder)
    except OSError:
        return False
    if not folder_st.st_mode & stat.S_ISVTX:
        return False
    euid = os.geteuid()
    return euid not in (st.st_uid, folder_st.st_uid) and not _acts_as_any_owner()


def _user_name(uid: int) -> str:
    """How messages name the user ``uid``: ``alice``, else ``uid 2002``."""
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return f"uid {uid}"


def _not_writable(label: str, path: Path, st: os.stat_result) -> UsageError:
    """The refusal of an existing file this process may not write, saying why: 'the file is
    read-only ... (chmod u+w)' was said of another user's file and of an immutable one, where
    chmod fails."""
    if st.st_uid != os.geteuid() and not _acts_as_any_owner():
        who = _user_name(st.st_uid)
        folder_ours = os.access(path.parent, os.W_OK | os.X_OK) and not _sticky_keeps(
            path.parent, st
        )
        return UsageError(
            f"{label}: the file belongs to {who} and is not writable by you",
            hint=f"choose another name, or ask its owner ({who}) to make it writable for you"
            + ("; or remove it first (the folder lets you), if it may go" if folder_ours else ""),
        )
    if st.st_mode & stat.S_IWUSR:
        # The owner may write by the mode, and is this process: a flag or an ACL forbids it.
        return UsageError(
            f"{label}: the file cannot be written although its mode allows it: it may be "
            "immutable (lsattr shows an 'i'), or an ACL forbids it (getfacl)",
            hint="choose another name; root clears an immutable flag with chattr -i",
        )
    return UsageError(
        f"{label}: the file is read-only",
        hint="choose another name, or make it writable first (chmod u+w)",
    )


def _read_only_mount(folder: Path) -> bool:
    """Whether ``folder`` is on a file system mounted read-only (a CD, a snapshot, a container's
    ``:ro`` volume), where 'permission denied' and 'chmod u+w' were no help."""
    try:
        return bool(os.statvfs(folder).f_flag & getattr(os, "ST_RDONLY", 0))
    except (OSError, AttributeError):
        return False


def _read_only_disk(label: str, folder: Path) -> UsageError:
    return UsageError(
        f"{label}: cannot write in folder '{short(folder)}': the file system is read-only",
        hint="write the output to another disk or folder",
    )


def _fd_open(stream: object, fd: int) -> bool:
    try:
        fileno = stream.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return True  # a test runner's stream: in memory, always writable
    try:
        os.fstat(fileno)
    except OSError:
        return False
    return True


class _FdStream:
    """Descriptor ``fd`` (not stdout or stderr) seen as the stream ``_write_fd_stream`` and
    ``_is_terminal`` use."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def flush(self) -> None:
        pass


def _fd_stream(fd: int) -> Any:
    """Where descriptor ``fd`` is written: sys.stdout and sys.stderr as they are now (a test
    runner swaps them), any other descriptor as itself."""
    if fd == 1:
        return sys.stdout
    if fd == 2:
        return sys.stderr
    return _FdStream(fd)


def _check_descriptor(fd: int, label: str) -> None:
    """Check that this process may write to descriptor ``fd`` (``-o /dev/fd/3``), before any
    work: a descriptor the shell did not open was written to as a path only at the end of the
    run ('cannot write: No such file or directory', exit 1), and one Python opened for itself
    (fd 3 of a pipe, a file being read) would have received the table.

    Raises:
        UsageError: the descriptor is closed, not given to segchain, or open only for reading.
    """
    name = stream_name(fd)
    if fd in (1, 2):
        stream = _fd_stream(fd)
        if stream is None or not _fd_open(stream, fd):
            raise UsageError(f"{label}: {name} is closed", hint="give a file name with -o FILE")
        return
    try:
        import fcntl

        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        given = os.get_inheritable(fd)
    except ImportError:  # no fcntl (Windows): written as it is
        flags, given = os.O_WRONLY, True
    except OSError:  # EBADF: not open
        given = False
    if not given:
        # Python makes its own descriptors non-inheritable (PEP 446); the shell's 3>> is not.
        raise UsageError(
            f"{label}: {name} is not open",
            hint=f"open it in the shell ({fd}>> file.csv), or give a file name with -o FILE",
        )
    if flags & os.O_ACCMODE == os.O_RDONLY:
        raise UsageError(
            f"{label}: {name} is open for reading only",
            hint=f"open it for writing in the shell ({fd}>> file.csv), or give a file name",
        )


def _destroys_input(target: OutputTarget, option: str, source: str) -> UsageError:
    return UsageError(
        f"{target.label}: is also the input {option} {short(source)}; "
        "writing it would destroy the input",
        hint="write the output to another file",
    )


def _stream_file(fd: int) -> os.stat_result | None:
    """The regular file this process's stdout (1), stderr (2) or other descriptor is
    redirected to; None for a pipe, a terminal, a device or a test runner's in-memory stream."""
    stream = _fd_stream(fd)
    try:
        st = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def _stream_writes(fd: int, path: str | Path) -> bool:
    """Whether descriptor ``fd`` (stdout, stderr, /dev/fd/3) is redirected to the file
    ``path``."""
    out = _stream_file(fd)
    if out is None:
        return False
    try:
        st = os.stat(path)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino)


def _same_stream_file(a: int, b: int) -> bool:
    """Whether descriptors ``a`` and ``b`` are redirected to the same regular file."""
    sa, sb = _stream_file(a), _stream_file(b)
    return sa is not None and sb is not None and (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _stream_clash(target: OutputTarget, other: OutputTarget, path: str) -> UsageError:
    """The error for an output on stdout whose file another output (``-o``) replaces:
    ``--profile - -o seg.csv > seg.csv`` wrote the profile into seg.csv, which the segments then
    replaced (exit 0, the profile lost)."""
    stream = stream_name(target.fd if target.fd is not None else other.fd or 1)
    return UsageError(
        f"{target.label}: is also the output {other.label} ({stream} goes to {short(path)}); "
        "one would be lost",
        hint=f"give each output its own file: send {stream} elsewhere, or name a file for each",
    )


def _stream_onto_input(fd: int, source: str) -> os.stat_result | None:
    """The file descriptor ``fd`` writes when the shell sent it to the input ``source`` ('-':
    stdin's file), else None."""
    out = _stream_file(fd)
    if out is None:
        return None
    try:
        st = os.fstat(_stdin().fileno()) if source == "-" else os.stat(source)
    except (AttributeError, OSError, ValueError):
        return None
    return out if (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino) else None


def _onto_input(
    fd: int, out: os.stat_result, option: str, source: str, *, label: str = "", fix: str = ""
) -> UsageError:
    """The error for descriptor ``fd`` sent to the input ``source`` (its file ``out``);
    ``label``: the output written there, if a table is (else the messages are); ``fix``: the
    hint's other way out."""
    stream = stream_name(fd)
    name = "<stdin>" if source == "-" else short(source)
    said = f"{label}: " if label else ""
    said += f"{stream} goes to the input {option} {name}"
    example = "other.csv" if label else "segchain.log"
    hint = f"send {stream} to a file that is no input ({_redirect(fd)} {example}){fix}"
    if out.st_size == 0:
        # The shell's '>' empties the file before segchain starts: the input is lost already.
        said += ", which is empty: the shell's '>' empties its file before the command starts"
        hint += f"; if {name} held data, restore it from its source"
    else:
        said += "; writing it would destroy the input"
    return UsageError(said, hint=hint)


def _refuse_stream_onto(target: OutputTarget, option: str, source: str) -> None:
    """Refuse a table on stdout (or stderr) when the shell sent that stream to an input file.

    ``segchain segment orders.csv >> orders.csv`` appended the segments to the orders (exit 0),
    and ``> orders.csv`` emptied them before segchain started, which then said 'orders.csv: the
    file is empty; check the export' (exit 1), as if the export were at fault.

    Raises:
        UsageError: the stream ``target`` writes is the file ``source`` ('-': stdin's file).
    """
    assert target.fd is not None
    out = _stream_onto_input(target.fd, source)
    if out is None:
        return
    fix = f", or give {target.option or '-o'} FILE"
    raise _onto_input(target.fd, out, option, source, label=target.label, fix=fix)


def _refuse_stderr_onto(option: str, source: str) -> None:
    """Refuse a command whose messages the shell sent to one of its inputs.

    ``segchain segment orders.csv -o seg.csv 2>> orders.csv`` appended 'wrote 400 customers to
    seg.csv' (and every warning) to the orders, exit 0; the next run read those lines as order
    lines or failed on them. The refusal itself is a message, which must not go there either:
    stderr is pointed at the terminal, if the run has one, else at /dev/null (the exit code, 2,
    still says the run was refused), before it is raised.

    Raises:
        UsageError: stderr is the file ``source`` ('-': stdin's file).
    """
    out = _stream_onto_input(2, source)
    if out is None:
        return
    exc = _onto_input(2, out, option, source)
    _stderr_away()
    raise exc


def stderr_onto_named_file(words: Iterable[str]) -> bool:
    """Whether the shell sent stderr to a regular file that a word of the command line names
    (the word, or what follows an option's '='): an input or an output of the run, which no
    message may be written into."""
    names = (name for word in words for name in (word, word.partition("=")[2]))
    return any(_stream_writes(2, name) for name in names if name and name != "-")


def messages_off_named_files(words: Iterable[str]) -> None:
    """Point stderr away (the terminal, else nowhere) when it goes to a file the command line
    names, before an error is written that came before the command knew its inputs.

    ``segchain segment orders.csv --bad 2>> orders.csv`` (a parse error), or a bad ``--map`` or
    ``$SEGCHAIN_HEARTBEAT``, appended its message to the orders, as the command's refusal of
    such a stderr (``_refuse_stderr_onto``) only runs once the inputs are known."""
    if stderr_onto_named_file(words):
        _stderr_away()


def _refuse_stderr_onto_output(target: OutputTarget) -> None:
    """Refuse an output file that the shell sent stderr to.

    ``segchain segment orders.csv -o seg.csv 2> seg.csv``: the table is written to a temporary
    file renamed over seg.csv, and every message written to the file it replaced went with it
    (exit 0, the run's warnings and its summary gone). The refusal is said on the terminal
    (see ``_refuse_stderr_onto``).

    Raises:
        UsageError: stderr is the regular file ``target`` replaces.
    """
    if target.path is None or target.through or not _stream_writes(2, target.path):
        return
    exc = UsageError(
        f"{target.label}: stderr goes to the same file: the messages would be lost when the "
        "table replaces it",
        hint="send stderr to another file (2> segchain.log)",
    )
    _stderr_away()
    raise exc


def _refuse_messages_into(target: OutputTarget) -> None:
    """Refuse a table on stdout (or another descriptor) when stderr goes to the same file.

    ``segchain segment orders.csv > seg.csv 2>&1`` (a cron line's idiom) wrote the messages
    ('orders.csv: csv, delimiter comma ...', the summary table, 'wrote 400 customers') into
    seg.csv around the segments, exit 0: the next stage read a table that began with them.
    The refusal is said on the terminal, not into that file (see ``_refuse_stderr_onto``).
    A pipe that both go to is left alone: ``2>&1 | less`` is a person reading both.

    Raises:
        UsageError: stderr is the regular file the table on ``target.fd`` is written to.
    """
    assert target.fd is not None
    if target.fd == 2 or not _same_stream_file(target.fd, 2):
        return
    stream = stream_name(target.fd)
    exc = UsageError(
        f"{target.label}: {stream} and stderr go to the same file: the messages would be "
        "written into the table",
        hint=f"send stderr to another file (2> segchain.log), or give {target.option or '-o'} "
        f"FILE for the table",
    )
    _stderr_away()
    raise exc


def _stderr_away() -> None:
    """Point descriptor 2 at the controlling terminal, else at /dev/null."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.flush()
    try:
        fd = os.open("/dev/tty", os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    except OSError:  # no controlling terminal (cron, CI, a pipe's far end)
        fd = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(fd, 2)
    finally:
        os.close(fd)


def register_input(source: str, *, option: str) -> None:
    """Tell the running command's outputs about an input named outside its options (see
    ``OutputSet.add_late_input``); nothing outside a command."""
    active = _ACTIVE.get()
    if active is not None:
        active.add_late_input(source, option=option)


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name the same file (same inode, else same resolved path)."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


@dataclass
class _Staged:
    target: OutputTarget
    tmp: str | None = None  # a temporary file beside the destination
    data: bytes | None = None  # bytes for a stream, device or FIFO
    keep_on_error: bool = False


def _identity(path: str | Path) -> tuple[int, int] | None:
    """Which file ``path`` names now (device, inode); None if none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


@dataclass
class _Backup:
    """An existing destination kept under another name while the outputs are renamed."""

    staged: _Staged
    existed: bool
    path: str | None  # the backup (a hard link, else a copy); None: none was needed or made
    before: tuple[int, int] | None = None  # the destination's file when it was kept
    renamed: tuple[int, int] | None = None  # the file this run renames over it
    # Another run wrote the destination after this one's rename: its file was left there.
    overtaken: bool = False

    @classmethod
    def keep(cls, staged: _Staged, kept: list[_Backup]) -> None:
        """Keep the destination of ``staged`` under a backup name, put on record in ``kept``
        before the backup is made: Ctrl-C just after the link left a .bak file that nothing
        removed."""
        dest = staged.target.path
        assert dest is not None
        try:
            st = os.stat(dest)
        except OSError:
            kept.append(cls(staged, False, None))
            return
        before = (st.st_dev, st.st_ino)
        if _sticky_keeps(dest.parent, st):
            # The rename will fail; a backup there could not be removed (check_output refuses
            # this before the work: the folder or file changed since).
            kept.append(cls(staged, True, None, before))
            return
        name = str(dest.parent / f".{dest.name[:60]}.{os.urandom(4).hex()}.bak")
        backup = cls(staged, True, name, before)
        kept.append(backup)
        try:
            os.link(dest, name)
        except OSError:
            try:  # a file system without hard links
                import shutil

                shutil.copy2(dest, name)
            except OSError:
                backup.remove()

    def restore(self) -> bool:
        """Put the destination back as it was before the commit; False if that failed.

        Only the file this run renamed there is undone: a second run on the same outputs (an
        overlapping cron job) that wrote it meanwhile keeps its file, where the backup, older
        than both runs, had replaced it (``overtaken``)."""
        dest = self.staged.target.path
        assert dest is not None
        now = _identity(dest)
        if self.renamed is not None and now != self.renamed:
            # Stopped before its rename (the file is still the one kept), or renamed over since.
            self.overtaken = now is not None and now != self.before
            return True
        try:
            if self.path is not None:
                os.replace(self.path, dest)
                self.path = None
            elif not self.existed:
                with contextlib.suppress(FileNotFoundError):  # stopped before its rename
                    os.unlink(dest)
            else:
                return False  # no backup could be made: the new file stays
        except OSError:
            return False
        return True

    def remove(self) -> None:
        if self.path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            self.path = None


def _overtaken(done: Sequence[_Backup]) -> str | None:
    """What to say of the outputs another run wrote while this one was replacing them (left as
    that run wrote them by ``_Backup.restore``); None: none."""
    labels = [backup.staged.target.label for backup in done if backup.overtaken]
    if not labels:
        return None
    return (
        f"{', '.join(labels)}: another run wrote {'it' if len(labels) == 1 else 'them'} while "
        "this one was replacing its outputs, and that run's file is left in place (runs that "
        "write the same outputs must take turns: flock)"
    )


def _temporary_file(target: OutputTarget, staged: _Staged) -> tuple[int, str]:
    """Make the temporary file of ``staged`` beside its destination, as ``tempfile.mkstemp``
    does (a new file of mode 0600), but named in ``staged.tmp`` before it exists: Ctrl-C just
    after mkstemp made it, before its name was on record, left the file beside the output.

    Raises:
        DataError: it cannot be made (a full disk, a folder made read-only meanwhile).
    """
    assert target.path is not None
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    prefix = f".{target.path.name[:60]}."
    for _ in range(100):
        tmp = str(target.path.parent / f"{prefix}{os.urandom(4).hex()}.tmp")
        staged.tmp = tmp
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            staged.tmp = None  # another file's name: not ours to remove
        except OSError as exc:
            staged.tmp = None
            if exc.errno == errno.ENOENT:
                # The folder was there when the command began ('cannot write: No such file or
                # directory' named no folder and no way out).
                import shlex

                folder = os.path.dirname(target.dest) or "."
                if os.path.isdir(target.path.parent):
                    # Still there: it refuses new files (/proc, /sys), and 'was removed while
                    # the command ran, mkdir -p /proc' was no way out.
                    raise DataError(
                        f"{target.label}: cannot write: the folder {quoted(folder)} cannot hold "
                        "new files (it is there, but not a normal folder: a system folder such "
                        "as /proc or /sys, or a file system that refuses new files)",
                        hint="write the output into another folder",
                    ) from None
                raise DataError(
                    f"{target.label}: cannot write: the folder {quoted(folder)} was removed while "
                    "the command ran",
                    hint=f"make it again (mkdir -p {shlex.quote(short(folder))}) and run the "
                    "command again",
                ) from None
            raise cannot_write(target.label, exc) from None
    raise cannot_write(target.label, OSError(errno.EEXIST, "no free temporary file name"))


def _disk_full(folder: Path) -> OSError | None:
    """ENOSPC when ``folder``'s file system has no block left, after a writer failed. polars'
    Parquet writer writes to the descriptor itself, and a disk that filled while it wrote the
    footer came back as 'parquet: File out of specification: Invalid thrift: transport error',
    the errno lost: a traceback (exit 1) where a CSV output said 'no space left'."""
    try:
        fs = os.statvfs(folder)
    except OSError:
        return None
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)) if fs.f_bavail == 0 else None


def _keep_owner(tmp: str, owner: tuple[int, int]) -> None:
    """Give the temporary file the owner and group of the file it replaces, as far as this
    process may: root keeps both; a user keeps the group when they belong to it. The kept mode
    then applies to the same people: a file of a team's group (664) became the user's own
    group's, and the team could no longer write it."""
    uid, gid = owner
    try:
        os.chown(tmp, uid, gid)
    except OSError:  # not root: the owner stays the user
        with contextlib.suppress(OSError):  # EPERM: the user is not in that group
            os.chown(tmp, -1, gid)


def _roll_back(done: Sequence[_Backup]) -> bool:
    """Restore the destinations already renamed, last first; False if any could not be."""
    return all([backup.restore() for backup in reversed(done)])


class OutputSet:
    """All of a command's outputs: checked before any work, written last, all or nothing.

    ``plan`` checks a destination before anything is read or computed; ``stage`` writes an output
    to a temporary file in its destination folder (or to memory for stdout, devices and FIFOs);
    leaving the ``with`` block without an error renames every temporary file over its destination
    and writes the streams; an error or interrupt removes them and leaves every previous output
    untouched. Used as a context manager it is the active set: ``write_table`` stages into it.
    """

    def __init__(self, inputs: Iterable[tuple[str, str]] = ()) -> None:
        self.inputs: list[tuple[str, str]] = []  # (option, path)
        # The arguments whose file messages name with them, as an option's (``SEGMENTS
        # seg.csv: ...``): a command's one input table; not the order lines' INPUT.
        self.named_arguments: set[str] = set()
        # The option or argument that reads stdin ('-'), when messages name it so.
        self.stdin_option: str | None = None
        self.stdin_readers: list[str] = []  # every option or argument given '-', in order
        self.planned: dict[str, OutputTarget] = {}
        self.staged: list[_Staged] = []
        self.csv_safe = False  # --csv-safe: neutralise formulas in CSV outputs
        # What every output's provenance records of this run (the config read).
        self.run_metadata: dict[str, Any] = {}
        # What to say once an output is written (see ``when_written``), by destination.
        self.announcements: list[tuple[str, Callable[[], None]]] = []
        # Folders the command made for its outputs (``make_output_folder``), parents first:
        # removed again, when empty, if the command fails.
        self.made_folders: list[Path] = []
        # How the command says a note about reading its inputs (``note``); none: unsaid.
        self.say: Callable[[str], None] | None = None
        # The workbooks of several sheets read as a stage's or side table (``read_table``), by
        # how messages name them: a missing column's hint names their other sheets.
        self.sheets_read: dict[str, Dialect] = {}
        self._scope = contextlib.ExitStack()  # the command's scope of ``schema.overflows_read``
        self._token: contextvars.Token[OutputSet | None] | None = None
        for option, source in inputs:
            self.add_input(source, option=option)

    @property
    def stdin_reader(self) -> str | None:
        """The first option or argument given '-' (stdin), whether messages name it or not."""
        return self.stdin_readers[0] if self.stdin_readers else None

    def add_input(self, source: str | Path, *, option: str = "input") -> None:
        """Remember a file that is read, so that no output replaces it."""
        source = str(source)
        remember_name(source)  # quoted where messages name it, if it holds a control character
        if source == "-" and option not in self.stdin_readers:
            self.stdin_readers.append(option)
        if source != "-" and source not in {s for _, s in self.inputs}:
            self.inputs.append((option, source))

    def refuse_stderr_onto_inputs(self) -> None:
        """Refuse the command when the shell sent its stderr to one of the inputs given so far
        (see ``_refuse_stderr_onto``); inputs added later are checked as they are added.

        Raises:
            UsageError: stderr is an input's file.
        """
        for option, source in self.inputs:
            _refuse_stderr_onto(option, source)
        if self.stdin_reader is not None:
            _refuse_stderr_onto(self.stdin_reader, "-")

    def add_late_input(self, source: str, *, option: str) -> None:
        """An input known only once the command runs (a path from the config: ``[network]
        sites``): remembered as ``add_input`` does, and refused if an output already planned
        would replace it.

        Raises:
            UsageError: the name is empty (``sites = ""`` was looked for as a file ' ', exit
                1), or a planned output is that file.
        """
        if not source.strip():
            raise UsageError(
                f"{option}: the file name is empty",
                hint="give the file's path, or delete the line to leave it out",
            )
        if source == "-" and self.stdin_option is None:
            # Messages name it as they name an option's stdin, '--sites <stdin>: ...' (the
            # config's key once name_sources rewrites the option), not '<stdin>: ...' alone.
            self.stdin_option = option
        self.add_input(source, option=option)
        if source == "-" or _stat_error(source) is not None:
            return
        _refuse_stderr_onto(option, source)
        for target in self.planned.values():
            if target.fd is not None:
                _refuse_stream_onto(target, option, source)
            if target.path is not None and not target.through and same_file(source, target.path):
                raise _destroys_input(target, option, source)

    def plan(self, dest: str, *, option: str = "-o") -> OutputTarget:
        """Check ``dest`` now (before any work): UsageError if it cannot or must not be written."""
        remember_name(dest)
        target = check_output(dest, option=option)
        if not target.through:
            assert target.path is not None
            for in_option, source in self.inputs:
                if Path(source).exists() and same_file(source, target.path):
                    raise _destroys_input(target, in_option, source)
            self._refuse_stdin_file(target)
            for other in self.planned.values():
                if (
                    other.path is not None
                    and not other.through
                    and same_file(other.path, target.path)
                ):
                    if other.dest == dest and other.option == option:
                        return other
                    raise UsageError(
                        f"{target.label}: is also the output {other.label}; one would be lost",
                        hint="give each output its own file",
                    )
                if other.fd is not None and _stream_writes(other.fd, target.path):
                    raise _stream_clash(target, other, target.dest)
            _refuse_stderr_onto_output(target)
        elif target.fd is not None:
            for other in self.planned.values():
                if other.fd is None or (other.dest, other.option) == (dest, option):
                    pass
                elif other.fd == target.fd or _same_stream_file(other.fd, target.fd):
                    # 3>>log.csv 4>>log.csv: both tables appended to one file, one after the other.
                    raise UsageError(
                        f"{target.label}: {other.label} already writes to the same stream",
                        hint="write one of them to a file",
                    )
                if (
                    other.path is not None
                    and not other.through
                    and _stream_writes(target.fd, other.path)
                ):
                    raise _stream_clash(target, other, other.dest)
            for in_option, source in self.inputs:
                _refuse_stream_onto(target, in_option, source)
            if self.stdin_reader is not None:
                _refuse_stream_onto(target, self.stdin_reader, "-")
            _refuse_messages_into(target)
        self.planned[dest] = target
        return target

    def _refuse_stdin_file(self, target: OutputTarget) -> None:
        """Refuse an output onto the file that stdin, read as an input, comes from.

        ``segchain segment -o orders.csv < orders.csv`` (or ``-o /dev/stdin``): '-' names no
        path to compare with, and renaming the output over that file replaced the orders.

        Raises:
            UsageError: ``target`` is the regular file stdin reads.
        """
        if self.stdin_reader is None or target.path is None:
            return
        try:
            st = os.fstat(_stdin().fileno())
            out = os.stat(target.path)
        except (AttributeError, OSError, ValueError):  # a test runner's stdin; a new file
            return
        if stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino):
            raise UsageError(
                f"{target.label}: is also the input {self.stdin_reader} <stdin> "
                f"(stdin reads {short(target.path)}); writing it would destroy the input",
                hint="write the output to another file",
            )

    def stage(
        self, dest: str, writer: Callable[[IO[bytes]], object], *, keep_on_error: bool = False
    ) -> None:
        """Write one output to its temporary file (or to memory); see the class docstring."""
        target = self.planned.get(dest) or self.plan(dest, option="")
        if target.through:
            buffer = io.BytesIO()
            writer(buffer)
            self.staged.append(_Staged(target, data=buffer.getvalue(), keep_on_error=keep_on_error))
            return
        assert target.path is not None
        staged = _Staged(target, keep_on_error=keep_on_error)
        self.staged.append(staged)
        fd, tmp = _temporary_file(target, staged)
        try:
            with os.fdopen(fd, "wb") as stream:
                writer(stream)
                stream.flush()
                os.fsync(stream.fileno())
            if target.owner is not None:
                _keep_owner(tmp, target.owner)  # first: chown clears a set-group-id bit
            os.chmod(tmp, target.mode if target.mode is not None else 0o666 & ~_umask())
        except Exception as exc:
            failure = write_failure(exc) or _disk_full(target.path.parent)
            if failure is None:
                raise
            raise cannot_write(target.label, failure) from None

    def keep_on_error(self, dest: str) -> None:
        """Write ``dest`` even when the command then fails (rejected lines that explain why)."""
        for staged in self.staged:
            if staged.target.dest == dest:
                staged.keep_on_error = True

    def commit(self, *, only_kept: bool = False) -> None:
        """Write the streams and devices, then rename every temporary file over its destination.

        The renames are all or nothing, as far as the OS allows: each existing destination is
        first kept under a backup name in its folder (a hard link: the same file, no copy), and
        when a rename fails (or Ctrl-C comes between two) the destinations already renamed get
        their previous file back, or are removed if they had none, before the error is raised.
        """
        chosen = [s for s in self.staged if s.keep_on_error or not only_kept]
        files = [s for s in chosen if s.tmp is not None]
        backups: list[_Backup] = []
        done: list[_Backup] = []
        try:
            stop = stop_taken()
            if stop is not None:  # a stopping signal whose exception was lost
                raise stop
            # Streams first: when a device refuses (disk full, closed pipe) no file is replaced.
            # Each goes out whole: a stage killed halfway down a pipe left the next one a cut
            # table to read as the whole (15 % of an export segmented, exit 0).
            streams = [staged for staged in chosen if staged.data is not None]
            for staged in streams:
                assert staged.data is not None
                _write_through(staged.target, staged.data)
            for staged in files:
                _Backup.keep(staged, backups)
            for backup in backups:
                staged = backup.staged
                assert staged.target.path is not None and staged.tmp is not None
                # On record before the rename: Ctrl-C just after it put every other output
                # back and left this one new, under 'no output was written'.
                backup.renamed = _identity(staged.tmp)
                done.append(backup)
                try:
                    os.replace(staged.tmp, staged.target.path)
                except OSError as exc:
                    done.pop()
                    kept = _roll_back(done)
                    overtaken = _overtaken(done)
                    done = []
                    others = (
                        "; no output file was changed"
                        if kept
                        else "; some outputs could not be put back as they were"
                    )
                    raise DataError(
                        f"{staged.target.label}: cannot write: {os_message(exc)}"
                        + (others if len(files) > 1 else "")
                        + (f"; {overtaken}" if overtaken else "")
                    ) from None
                staged.tmp = None
            _SENT.extend(backup.staged.target.label for backup in done)
            self._say_split_links(done)
        except BaseException:
            _roll_back(done)  # an interrupt between two renames
            overtaken = _overtaken(done)
            if overtaken and self.say is not None:
                self.say(f"Warning: {overtaken}")
            raise
        finally:
            for backup in backups:
                backup.remove()
            self.discard()

    def _say_split_links(self, done: Sequence[_Backup]) -> None:
        """Warn of each replaced file that had other hard links: they keep the previous table
        (a published copy, ``ln seg.csv share/``), which nothing said."""
        for backup in done:
            target = backup.staged.target
            if backup.existed and target.links > 1 and self.say is not None:
                others = target.links - 1
                self.say(
                    f"Warning: {target.label}: had {plural(others, 'other hard link')}, which "
                    f"still {agree(others, 'holds', 'hold')} the previous table: the new file "
                    "replaces this name only"
                )

    def discard(self) -> None:
        """Remove every temporary file not yet renamed."""
        for staged in self.staged:
            if staged.tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(staged.tmp)
                staged.tmp = None
        self.staged = []

    def __enter__(self) -> OutputSet:
        self._token = _ACTIVE.set(self)
        self._scope.enter_context(overflows_read())
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            if self._token is not None:
                _ACTIVE.reset(self._token)
                self._token = None
            self._scope.close()
            if isinstance(exc, MissingColumnsError):
                _other_sheets_hint(exc, self.sheets_read)
            if exc is None:
                self.commit()
            elif isinstance(exc, DataError):
                kept = {s.target.dest for s in self.staged if s.keep_on_error}
                self.commit(only_kept=True)
            else:
                self.discard()
        except BaseException:
            self.discard()  # Ctrl-C before the commit's own cleanup could run
            self._remove_made_folders()
            raise
        if exc is None:
            self._announce(None)
            return
        self._remove_made_folders()
        if isinstance(exc, DataError):
            self._announce(kept)

    def _remove_made_folders(self) -> None:
        """Remove the folders made for outputs that were not written (only if empty)."""
        for folder in reversed(self.made_folders):
            with contextlib.suppress(OSError):
                folder.rmdir()  # refuses a folder that holds anything (a kept --rejects)
        self.made_folders = []

    def _announce(self, dests: set[str] | None) -> None:
        for dest, say in self.announcements:
            if dests is None or dest in dests:
                say()
        self.announcements = []


def _other_sheets_hint(exc: MissingColumnsError, books: Mapping[str, Dialect]) -> None:
    """A table read from a workbook's first sheet lacks its columns (a cover or notes sheet
    first): the hint names the sheet read and the others, and how to read the right one (a
    stage's or side table has no ``--sheet``: that is the order export's)."""
    for named, dialect in books.items():
        if not exc.message.startswith(f"{named}:"):
            continue
        read = dialect.sheets[dialect.sheet]
        rest = [t for i, t in enumerate(dialect.sheets) if i != dialect.sheet]
        others = ", ".join(quoted(t, 30) for t in rest[:10]) + (", ..." if len(rest) > 10 else "")
        said = (
            f"the columns were looked for on sheet {quoted(read, 30)}; the workbook's other "
            f"{agree(len(rest), 'sheet', 'sheets')}: {others}: make the sheet that holds the "
            "table the workbook's first, or save it as CSV and give that file"
        )
        exc.hint = f"{said}; {exc.hint}" if exc.hint else said
        return


def make_output_folder(folder: Path) -> None:
    """Create ``folder`` and its missing parents for a command's outputs (``sample -o DIR``).

    The folders made here (not one that existed) are removed again, if still empty, when the
    active OutputSet's command fails: a failed write or Ctrl-C leaves no empty folder behind.

    Raises:
        OSError: a folder cannot be made.
    """
    missing: list[Path] = []
    level = folder
    while not level.exists() and level.parent != level:
        missing.append(level)
        level = level.parent
    active = _ACTIVE.get()
    made = active.made_folders if active is not None else []
    for path in reversed(missing):
        # On record before it is made: Ctrl-C just after the mkdir left the empty folder.
        made.append(path)
        try:
            path.mkdir()
        except FileExistsError:
            made.remove(path)
            if path.is_dir():
                continue  # made meanwhile by someone else: not ours to remove
            raise
        except OSError:
            made.remove(path)
            raise


def remove_stale_files(folder: Path, names: Iterable[str]) -> list[tuple[Path, str]]:
    """Remove the files of ``names`` from ``folder`` (files an earlier run wrote that the new
    output no longer uses); then the folder too if that left it empty. Names that are absent,
    or are folders, are left. Returns the files that could not be removed, with why."""
    failed: list[tuple[Path, str]] = []
    removed = False
    for name in sorted(names):
        path = folder / name
        if not path.is_symlink() and not path.is_file():
            continue
        try:
            path.unlink()
            removed = True
        except FileNotFoundError:
            continue
        except OSError as exc:
            failed.append((path, os_message(exc)))
    if removed:
        with contextlib.suppress(OSError):
            folder.rmdir()  # refuses a folder that holds anything
    return failed


def when_written(dest: str, say: Callable[[], None]) -> None:
    """Call ``say`` (a 'wrote ...' line) once ``dest`` is written: after the active OutputSet
    commits it, at once without one. Said when staged, 'wrote 400 customers to /dev/full' came
    just before the error that nothing could be written there."""
    active = _ACTIVE.get()
    if active is None:
        say()
    else:
        active.announcements.append((dest, say))


def note(message: str) -> None:
    """Say ``message`` on stderr through the running command (``OutputSet.say``); nothing
    outside a command (a stage run from Python). One that starts with 'Warning: ' is said as
    the command's warnings are (counted, not shown, under --quiet)."""
    active = _ACTIVE.get()
    if active is not None and active.say is not None:
        active.say(message)


def active_outputs() -> OutputSet | None:
    """The OutputSet of the running command, if any."""
    return _ACTIVE.get()


_SENT: list[str] = []


def sent() -> list[str]:
    """The outputs this command has written (streams whole, files renamed into place), for the
    message of a signal taken after them: 'no output was written' would be false."""
    return list(_SENT)


def forget_sent() -> None:
    """A new command starts with nothing written (the tests run many in one process)."""
    _SENT.clear()


# The signals that stop a command (Ctrl-C, kill, a closed terminal), held back while a table is
# written down a stream: bytes once sent cannot be taken back, so it is whole or not begun.
_STOPPING = ("SIGINT", "SIGTERM", "SIGHUP")


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Take ``_STOPPING`` signals during the block without stopping it, then stop as they would
    have. Their handlers are swapped, not the signals blocked: a signal blocked in this thread
    is taken by another (polars', BLAS'), and its Python handler still runs here, between two
    writes. A signal ignored on purpose (``nohup``) or left to the system stays as it is."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    taken: list[int] = []

    def record(signum: int, frame: object) -> None:
        taken.append(signum)

    before = {}
    for name in _STOPPING:
        signum = getattr(signal, name, None)
        handler = signal.getsignal(signum) if signum is not None else None
        if signum is not None and callable(handler):
            before[signum] = signal.signal(signum, record)
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
    if taken:
        if taken[0] == signal.SIGINT:
            raise KeyboardInterrupt
        Terminated.taken = taken[0]
        raise Terminated(taken[0])


def _write_through(target: OutputTarget, data: bytes) -> None:
    """Write ``data`` whole to a stream, device or FIFO and put it on record as sent (``sent``),
    stopping signals held (``_signals_held``) from the first byte on, not before: opening a
    FIFO waits for its reader, and a run held there (its loader crashed or not started) could
    not be stopped by ``timeout``, ``kill`` or Ctrl-C, then said the table had been written
    whole before the signal."""
    try:
        if target.fd is not None:
            with _signals_held():
                _write_fd_stream(target.fd, data)
                _SENT.append(target.label)
            return
        assert target.path is not None
        fd = _open_for_writing(target.path)
        try:
            with _signals_held():
                _write_all(fd, data)
                _SENT.append(target.label)
        finally:
            os.close(fd)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise cannot_write(target.label, exc) from None


def _open_for_writing(path: Path) -> int:
    """Open a device or FIFO to write it. A FIFO's open waits for its reader; that wait is
    polled (O_NONBLOCK fails with ENXIO while no reader is there) rather than left to a
    blocking open: the kernel restarts that open after a signal whose handler has SA_RESTART
    (polars installs its own SIGINT handler so), and Ctrl-C did not stop the wait."""
    flags = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
    nonblock = getattr(os, "O_NONBLOCK", 0)
    try:
        fifo = stat.S_ISFIFO(os.stat(path).st_mode)
    except OSError:
        fifo = False
    if not fifo or not nonblock:
        return os.open(path, flags)
    pause = 0.01
    while True:
        try:
            fd = os.open(path, flags | nonblock)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
            time.sleep(pause)  # never restarted by the kernel: a signal's handler runs here
            pause = min(pause * 2, 0.2)
            continue
        os.set_blocking(fd, True)  # the table goes out whole, whatever the reader's pace
        return fd


def _write_fd_stream(fd: int, data: bytes) -> None:
    stream = _fd_stream(fd)
    if stream is None:
        raise OSError(errno.EBADF, "closed")
    stream.flush()
    try:
        fileno = stream.fileno()
    except (AttributeError, OSError, ValueError):
        fileno = None
    if fileno is None:  # an in-memory stream (test runners)
        stream.buffer.write(data)
        stream.buffer.flush()
        return
    # Unbuffered: a failed write (disk full) must not be retried by Python at exit.
    _write_all(fileno, data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


# A cell a spreadsheet would run as a formula (OWASP's list), unless it is a plain number.
_FORMULA_START = r"^[=+\-@\t\r]"
_PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def csv_safe(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with every text cell that a spreadsheet would run as a formula prefixed by ``'``.

    Numeric columns are untouched, and so is text that is a plain number (``-5``, ``+1.5e3``).
    """
    exprs = []
    for name, dtype in df.schema.items():
        if dtype == pl.String:
            col = pl.col(name)
            risky = col.str.contains(_FORMULA_START) & ~col.str.contains(_PLAIN_NUMBER)
            exprs.append(pl.when(risky).then(pl.lit("'") + col).otherwise(col).alias(name))
    return df.with_columns(exprs) if exprs else df


def _csv_writer(df: pl.DataFrame, *, separator: str = ",") -> Callable[[IO[bytes]], None]:
    active = _ACTIVE.get()
    if active is not None and active.csv_safe:
        df = csv_safe(df)

    def write(stream: IO[bytes]) -> None:
        df.write_csv(stream, separator=separator, date_format="%Y-%m-%d", float_precision=None)

    return write


def _parquet_writer(
    df: pl.DataFrame, metadata: Mapping[str, Any] | None
) -> Callable[[IO[bytes]], None]:
    kv = {
        META_PREFIX + k: json.dumps(_jsonable(v), sort_keys=True)
        for k, v in (metadata or {}).items()
    }

    def write(stream: IO[bytes]) -> None:
        df.write_parquet(stream, metadata=kv or None, statistics=True)

    return write


def atomic_write(dest: str | Path, writer: Callable[[IO[bytes]], object]) -> None:
    """Write ``dest`` all at once: staged in the active OutputSet, else written at once.

    An exception or interrupt (Ctrl-C included) removes the temporary file and leaves any previous
    ``dest`` untouched.
    """
    write_output_bytes(str(dest), writer)


def _umask() -> int:
    # mkstemp creates 0600 files; give a new output the permissions a plain open() would.
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def reading(name: str) -> Iterator[None]:
    """Turn a failure to read a lazily scanned file (corrupt Parquet pages) into a DataError."""
    try:
        yield
    except (pl.exceptions.ComputeError, OSError) as exc:
        raise _unreadable_data(name, exc) from None


def collect(frame: pl.DataFrame | pl.LazyFrame, *, name: str = "input") -> pl.DataFrame:
    """A DataFrame from either kind of frame.

    Raises:
        DataError: a lazily scanned file turns out unreadable (corrupt Parquet data pages).
    """
    if not isinstance(frame, pl.LazyFrame):
        return frame
    try:
        return frame.collect()
    except (pl.exceptions.ComputeError, OSError) as exc:
        raise _unreadable_data(name, exc) from None


def _unreadable_data(name: str, exc: BaseException) -> Exception:
    """The error for a lazily read table that failed: the file's, unless no descriptor was
    free (``ulimit -n``; the command's way out is said by the CLI, not 'orders.csv: cannot
    read the data ([Errno 24] Too many open files)', which blamed the file)."""
    failure = write_failure(exc)
    if failure is not None and failure.errno in (errno.EMFILE, errno.ENFILE):
        return failure
    return DataError(f"{name}: cannot read the data ({short(_first_line(exc))})")
