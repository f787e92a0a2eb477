"""Reading and writing tables: CSV dialects, Parquet, '-' for stdin/stdout, atomic writes, metadata.

Two readers: ``read_raw`` takes an ERP export as it is (every CSV field a string, so that ids keep
their leading zeros and the cleaning step decides how to parse numbers and dates), and
``read_table`` reads a stage's output with types (id columns stay strings).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import polars as pl

from segchain import __version__
from segchain.errors import DataError, UsageError
from segchain.schema import ID_COLUMNS

FORMATS = ("csv", "parquet")
DELIMITERS = (",", ";", "\t", "|")
PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
META_PREFIX = "segchain."


@dataclass(frozen=True)
class Dialect:
    """What was detected about a file: shown on stderr so the user can check it."""

    format: str
    delimiter: str | None = None
    encoding: str | None = None
    decimal_comma: bool = False
    compressed: bool = False

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
        return ", ".join(parts)


@dataclass
class Table:
    """A table read from a file, with what was detected and any provenance metadata."""

    frame: pl.DataFrame | pl.LazyFrame
    dialect: Dialect
    metadata: dict[str, Any]
    name: str

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
        if stream is None or (hasattr(stream, "isatty") and stream.isatty()):
            raise UsageError(
                "refusing to wait for a table typed at the terminal on stdin",
                hint="give a file name, or pipe a table in: segchain segment orders.csv | ...",
            )
        return _stdin().read(), "<stdin>"
    path = Path(source)
    if not path.exists():
        raise DataError(f"{source}: no such file")
    if path.is_dir():
        raise DataError(f"{source}: is a folder, not a table file")
    try:
        return path.read_bytes(), source
    except OSError as exc:
        raise DataError(f"{source}: cannot read the file: {exc.strerror}") from None


# ---------------------------------------------------------------------------------------------
# CSV dialect sniffing


def to_utf8(data: bytes) -> tuple[bytes, str]:
    """UTF-8 bytes without BOM, and the encoding found: UTF-8 (BOM or not), cp1252, latin-1.

    Valid UTF-8 is passed through without a copy; only legacy encodings are transcoded.
    """
    if data.startswith(UTF8_BOM):
        data, encoding = data[len(UTF8_BOM) :], "utf-8-sig"
    else:
        encoding = "utf-8"
    try:
        data.decode("utf-8")
        return data, encoding
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252").encode("utf-8"), "cp1252"
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 maps every byte.
        return data.decode("latin-1").encode("utf-8"), "latin-1"


def sniff_delimiter(sample: str) -> str:
    """The delimiter among , ; tab | that splits the first lines into the most consistent fields.

    Quoted fields are honoured (a comma inside quotes does not count), which a plain character
    count gets wrong on exports with free-text product names.
    """
    lines = sample.splitlines()[:50]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a sample may be cut in half
    text = "\n".join(lines)
    best, best_score = ",", (-1, -1)
    for delim in DELIMITERS:
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=delim) if r]
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


def read_csv_bytes(
    payload: bytes,
    *,
    delimiter: str,
    all_strings: bool,
    name: str,
) -> pl.DataFrame:
    """Parse CSV text with polars; raise DataError on an empty or malformed file."""
    if not payload.strip():
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
            first = payload.split(b"\n", 1)[0].decode("utf-8", errors="replace").rstrip("\r")
            header = next(csv.reader(io.StringIO(first), delimiter=delimiter), [])
            overrides = {c: pl.String for c in header if c in ID_COLUMNS}
            kwargs: dict[str, Any] = {
                "separator": delimiter,
                "schema_overrides": overrides,
                "try_parse_dates": True,
                "quote_char": '"',
            }
            try:
                df = pl.read_csv(payload, infer_schema_length=10_000, **kwargs)
            except pl.exceptions.ComputeError:
                # Types inferred from the first rows fail later (whole numbers first, then a
                # decimal: stock bug 4(e)); infer them from every row.
                df = pl.read_csv(payload, infer_schema_length=None, **kwargs)
    except pl.exceptions.NoDataError:
        raise DataError(f"{name}: the file is empty", hint="check the export") from None
    except pl.exceptions.ComputeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"{name}: cannot parse as CSV ({first})",
            hint="check the delimiter and quoting, or pass -f parquet for a Parquet file",
        ) from None
    return df


# ---------------------------------------------------------------------------------------------
# Readers


def read_raw(source: str, *, format: str | None = None) -> Table:
    """Read an ERP export as it is: CSV fields all strings; Parquet lazily with its own types.

    Args:
        source: a path, or '-' for stdin.
        format: 'csv' or 'parquet'; else from the name, else from the first bytes.

    Raises:
        DataError: the file does not exist, is empty, or cannot be parsed.
        UsageError: stdin is a terminal.
    """
    return _read(source, format=format, all_strings=True, lazy_parquet=True)


def read_table(source: str, *, format: str | None = None, lazy: bool = False) -> Table:
    """Read a stage's output (typed; id columns kept as strings)."""
    return _read(source, format=format, all_strings=False, lazy_parquet=lazy)


def _read(source: str, *, format: str | None, all_strings: bool, lazy_parquet: bool) -> Table:
    fmt = check_format(format) or (format_from_name(source) if source != "-" else None)
    if fmt == "parquet" and source != "-" and lazy_parquet:
        return _scan_parquet_file(source)
    data, name = _read_source_bytes(source)
    if fmt is None:
        fmt = "parquet" if data[:4] == PARQUET_MAGIC else "csv"
    if fmt == "parquet":
        return _read_parquet_bytes(data, name)
    compressed = data[:2] == GZIP_MAGIC
    if compressed:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise DataError(f"{name}: corrupt gzip file: {exc}") from None
    if data[:4] == PARQUET_MAGIC:
        raise DataError(f"{name}: this is a Parquet file", hint="use -f parquet or a .parquet name")
    payload, encoding = to_utf8(data)
    if not payload.strip():
        raise DataError(f"{name}: the file is empty", hint="check the export; it has no header")
    delimiter = sniff_delimiter(payload[:65536].decode("utf-8", errors="ignore"))
    df = read_csv_bytes(payload, delimiter=delimiter, all_strings=all_strings, name=name)
    df = df.rename({c: c.strip() for c in df.columns if c != c.strip()})
    dialect = Dialect(
        format="csv",
        delimiter=delimiter,
        encoding=encoding,
        decimal_comma=delimiter == ";",
        compressed=compressed,
    )
    return Table(frame=df, dialect=dialect, metadata={}, name=name)


def _scan_parquet_file(path: str) -> Table:
    if not Path(path).exists():
        raise DataError(f"{path}: no such file")
    try:
        lf = pl.scan_parquet(path)
        lf.collect_schema()
        meta = read_metadata(path)
    except (pl.exceptions.ComputeError, OSError) as exc:
        raise DataError(f"{path}: not a readable Parquet file ({_first_line(exc)})") from None
    return Table(frame=lf, dialect=Dialect(format="parquet"), metadata=meta, name=path)


def _read_parquet_bytes(data: bytes, name: str) -> Table:
    if not data:
        raise DataError(f"{name}: the file is empty")
    try:
        df = pl.read_parquet(io.BytesIO(data))
        meta = read_metadata(io.BytesIO(data))
    except (pl.exceptions.ComputeError, OSError) as exc:
        raise DataError(f"{name}: not a readable Parquet file ({_first_line(exc)})") from None
    return Table(frame=df, dialect=Dialect(format="parquet"), metadata=meta, name=name)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_metadata(source: str | Path | IO[bytes]) -> dict[str, Any]:
    """segchain provenance from a Parquet file's key-value metadata (``{}`` when there is none)."""
    import pyarrow.parquet as pq

    try:
        kv = pq.read_metadata(source).metadata or {}
    except Exception:  # noqa: BLE001 - a file without readable metadata simply has none
        return {}
    out: dict[str, Any] = {}
    for key, value in kv.items():
        k = key.decode("utf-8", "replace")
        if not k.startswith(META_PREFIX):
            continue
        text = value.decode("utf-8", "replace")
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
    """The metadata every output carries. No timestamps: reruns must be byte-identical."""
    meta: dict[str, Any] = {"stage": stage, "version": __version__}
    meta["params"] = {k: _jsonable(v) for k, v in (params or {}).items()}
    meta["inputs"] = dict(inputs or {})
    meta.update({k: _jsonable(v) for k, v in extra.items()})
    return meta


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def output_format(dest: str, format: str | None) -> str:
    """The format to write: -f, else the name, else CSV. Parquet to a terminal is refused."""
    fmt = check_format(format) or (format_from_name(dest) if dest != "-" else None) or "csv"
    if dest == "-" and fmt == "parquet" and sys.stdout is not None and sys.stdout.isatty():
        raise UsageError(
            "refusing to write Parquet to a terminal",
            hint="redirect stdout to a file or pipe (> out.parquet), or use -f csv",
        )
    return fmt


def write_table(
    df: pl.DataFrame,
    dest: str,
    *,
    format: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> str:
    """Write ``df`` to ``dest`` ('-' is stdout) atomically; return the format written.

    Parquet files carry ``metadata`` as ``segchain.*`` key-value pairs (JSON values).
    """
    fmt = output_format(dest, format)
    writer = _parquet_writer(df, metadata) if fmt == "parquet" else _csv_writer(df)
    if dest == "-":
        buffer = io.BytesIO()
        writer(buffer)
        out = _stdout()
        out.write(buffer.getvalue())
        out.flush()
    else:
        atomic_write(dest, writer)
    return fmt


def _csv_writer(df: pl.DataFrame) -> Callable[[IO[bytes]], None]:
    def write(stream: IO[bytes]) -> None:
        df.write_csv(stream, date_format="%Y-%m-%d", float_precision=None)

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
    """Write through a temporary file in the destination folder, then rename over ``dest``.

    An exception or interrupt (Ctrl-C included) removes the temporary file and leaves any previous
    ``dest`` untouched.
    """
    path = Path(dest)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists():
        raise DataError(f"{dest}: folder {str(folder)!r} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            writer(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    # mkstemp creates 0600 files; give the output the permissions a plain open() would.
    mask = os.umask(0)
    os.umask(mask)
    return mask


def collect(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """A DataFrame from either kind of frame."""
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame
