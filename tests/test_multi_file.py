"""Several order files read as one table (issue 13, item 3), and lines with extra fields or mixed
date orders (issue 12, findings 22 and 26).

Every expected count here is computed from how the files were written (the test decides which
lines are bad), never from segchain's own output.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import polars as pl
import pytest

HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price"


def good_line(i: int) -> str:
    return f"{1000 + i},2024-{1 + i % 12:02d}-{1 + i % 28:02d},C{i % 7},S{i % 5},{1 + i % 3},2.50"


def write_export(path: Path, lines: list[str]) -> None:
    text = "\n".join([HEADER, *lines]) + "\n"
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)


@pytest.fixture
def exports(tmp_path: Path) -> tuple[Path, dict[str, int], set[tuple[str, int, str]]]:
    """A folder of three exports (CSV, CSV.gz, Parquet); the CSV.gz holds bad lines.

    Returns the folder, the number of lines written per file and the (file, row, reason) of
    every bad line, as written.
    """
    folder = tmp_path / "exports"
    folder.mkdir()
    counts: dict[str, int] = {}
    bad: set[tuple[str, int, str]] = set()

    a = folder / "2024_01.csv"
    write_export(a, [good_line(i) for i in range(30)])
    counts[str(a)] = 30

    b = folder / "2024_02.csv.gz"
    lines = [good_line(i) for i in range(100, 140)]
    lines[4] = "1104,2024-02-30,C1,S1,1,2.50"  # no such day
    lines[9] = "1109,2024-02-03,,S1,1,2.50"  # no customer
    lines[20] = good_line(120) + ",surplus"  # one field too many
    lines[33] = "1133,2024-02-03,C2,S2,lots,2.50"  # not a number
    write_export(b, lines)
    counts[str(b)] = 40
    bad |= {
        (str(b), 5, "bad_date"),
        (str(b), 10, "missing_customer"),
        (str(b), 21, "extra_fields"),
        (str(b), 34, "bad_quantity"),
    }

    c = folder / "2024_03.parquet"
    rows = [good_line(i).split(",") for i in range(200, 225)]
    frame = pl.DataFrame(rows, schema=HEADER.split(","), orient="row")
    frame.with_columns(pl.col("quantity").cast(pl.Float64)).write_parquet(c)
    counts[str(c)] = 25

    # Not order exports: skipped by name, never read.
    (folder / ".hidden.csv").write_text("junk\n")
    (folder / "_SUCCESS").write_text("")
    (folder / "notes.md").write_text("# notes\n")
    return folder, counts, bad


def test_folder_reconciles_per_file_and_rejects_keep_file_and_row(cli, exports, tmp_path) -> None:
    folder, counts, bad = exports
    rejects, out = tmp_path / "rejects.csv", tmp_path / "clean.parquet"
    result = cli("validate", str(folder), "--rejects", str(rejects), "-o", str(out))
    assert result.exit_code == 0, result.stderr

    read = sum(counts.values())
    rejected = len(bad)
    assert f"all files: read {read:,} = used {read - rejected:,} + rejected {rejected:,}" in (
        result.stderr
    )
    for name, n in counts.items():
        own = sum(1 for f, _, _ in bad if f == name)
        assert f"{name}: " in result.stderr
        assert f"read {n:,} = used {n - own:,} + rejected {own:,}" in result.stderr

    rows = pl.read_csv(rejects, infer_schema=False)
    got = {(r["source_file"], int(r["row"]), r["reason"]) for r in rows.iter_rows(named=True)}
    assert got == bad
    surplus = rows.filter(pl.col("reason") == "extra_fields")
    assert surplus["extra_fields"].to_list() == ["surplus"]
    assert pl.read_parquet(out).height == read - rejected


def test_glob_and_paths_read_the_same_lines_as_one_concatenated_file(
    cli, exports, tmp_path
) -> None:
    folder, counts, _ = exports
    csvs = sorted(str(p) for p in folder.glob("2024_*.csv*"))
    one = tmp_path / "all.csv"
    lines = []
    for name in csvs:
        data = Path(name).read_bytes()
        text = gzip.decompress(data).decode() if name.endswith(".gz") else data.decode()
        lines += [ln for ln in text.splitlines()[1:] if ln.count(",") == 5]
    one.write_text("\n".join([HEADER, *lines]) + "\n")

    outs = []
    for args in ([str(folder / "2024_0[12].csv*")], csvs, [str(one)]):
        out = tmp_path / f"seg{len(outs)}.csv"
        result = cli("segment", *args, "-o", str(out))
        assert result.exit_code == 0, result.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]


def test_a_file_named_by_a_path_and_a_glob_is_read_once(cli, exports) -> None:
    folder, counts, _ = exports
    first = str(folder / "2024_01.csv")
    result = cli("validate", first, str(folder / "2024_0*.csv"))
    assert result.exit_code == 0, result.stderr
    assert f"read {counts[first]:,} = used {counts[first]:,} + rejected 0" in result.stderr


@pytest.mark.parametrize(
    ("second", "shown"),
    [
        ("a.csv", "a.csv: the same file is given twice among the inputs"),
        (
            "./a.csv",
            "./a.csv: the same file is given twice among the inputs (as a.csv and ./a.csv)",
        ),
        (
            "link.csv",
            "link.csv: the same file is given twice among the inputs (as a.csv and link.csv)",
        ),
    ],
)
def test_a_file_given_twice_as_a_path_is_a_usage_error(cli, tmp_path, second, shown) -> None:
    """`segment a.csv a.csv` (a typo for a second month, most likely) read a.csv once without a
    word; the same file named twice by path is a usage error, and nothing is written."""
    write_export(tmp_path / "a.csv", [good_line(i) for i in range(3)])
    (tmp_path / "link.csv").symlink_to(tmp_path / "a.csv")
    out = tmp_path / "seg.csv"
    result = cli("segment", "a.csv", second, "-o", str(out))
    assert result.exit_code == 2
    assert result.stderr == (
        f"segchain segment: Error: {shown}\n"
        "segchain segment:   hint: name each file once; to read another export, check the "
        "second name\n"
    )
    assert not out.exists()


def test_stdin_given_twice_is_a_usage_error(cli, tmp_path) -> None:
    result = cli("validate", "-", "-", input=HEADER + "\n" + good_line(1) + "\n")
    assert result.exit_code == 2
    assert "Error: stdin ('-') is given twice among the inputs" in result.stderr


def test_a_repeated_orders_option_naming_one_file_is_a_usage_error(cli, tmp_path) -> None:
    write_export(tmp_path / "a.csv", [good_line(i) for i in range(3)])
    assert cli("segment", "a.csv", "-o", "seg.csv").exit_code == 0
    result = cli("forecast", "seg.csv", "--orders", "a.csv", "--orders", "a.csv", "-o", "f.csv")
    assert result.exit_code == 2
    assert "Error: --orders a.csv: the same file is given twice among the inputs" in result.stderr


def test_byte_identical_copies_are_refused(cli, tmp_path) -> None:
    """A month's export saved twice (a.csv and its copy) doubled every line: refused (exit 1)
    with both names, before anything is written; with its rejects file too."""
    lines = [good_line(i) for i in range(5)] + ["1999,never,C1,S1,1,2.50"]
    write_export(tmp_path / "2024-01.csv", lines)
    write_export(tmp_path / "2024-01 (1).csv", lines)
    write_export(tmp_path / "2024-02.csv", [good_line(i) for i in range(40, 45)])
    out, rejects = tmp_path / "orders.csv", tmp_path / "rejects.csv"
    result = cli("validate", "2024-0*.csv", "--rejects", str(rejects), "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr == (
        "segchain validate: Error: 2024-01 (1).csv and 2024-01.csv are "
        "identical (the same bytes): read together, every order line in them would count "
        "twice\n"
        "segchain validate:   hint: give each export once (leave the copy out); if the files "
        "should hold different periods, export the missing one again\n"
    )
    assert not out.exists() and not rejects.exists()


def test_three_copies_are_listed_in_one_group(cli, tmp_path) -> None:
    for name in ("a.csv", "b.csv", "c.csv"):
        write_export(tmp_path / name, [good_line(1)])
    result = cli("segment", "a.csv", "b.csv", "c.csv", "-o", "seg.csv")
    assert result.exit_code == 1
    assert "these files are copies of each other (the same bytes)" in result.stderr
    assert "segchain segment:   a.csv = b.csv = c.csv\n" in result.stderr


def test_header_only_copies_double_nothing_and_are_read(cli, tmp_path) -> None:
    write_export(tmp_path / "2024-01.csv", [])
    write_export(tmp_path / "2024-02.csv", [])
    write_export(tmp_path / "2024-03.csv", [good_line(1), good_line(2)])
    result = cli("validate", "2024-01.csv", "2024-02.csv", "2024-03.csv", "-o", "o.csv")
    assert result.exit_code == 0, result.stderr
    assert "all files: read 2 = used 2 + rejected 0" in result.stderr


def test_identical_files_compares_content_not_size(tmp_path) -> None:
    from segchain.tableio import identical_files

    a, b, c, d = (tmp_path / n for n in "abcd")
    big = b"x" * 200_000
    a.write_bytes(big + b"1")
    b.write_bytes(big + b"2")  # same size, same first 64 KiB, differs at the end
    c.write_bytes(big + b"1")
    d.write_bytes(b"short")
    assert identical_files([str(p) for p in (d, a, b, c)]) == [[str(a), str(c)]]


def test_a_compressed_copy_is_refused(cli, tmp_path) -> None:
    """a.csv and a.csv.gz (the same export, once gzipped) doubled every line with only a note;
    two byte-identical files were refused."""
    lines = [good_line(i) for i in range(5)]
    write_export(tmp_path / "2024-01.csv", lines)
    write_export(tmp_path / "2024-01.csv.gz", lines)
    out = tmp_path / "orders.csv"
    result = cli("validate", "2024-01.csv", "2024-01.csv.gz", "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr == (
        "segchain validate: Error: 2024-01.csv and 2024-01.csv.gz are identical (the same "
        "bytes once decompressed): read together, every order line in them would count twice\n"
        "segchain validate:   hint: give each export once (leave the copy out); if the files "
        "should hold different periods, export the missing one again\n"
    )
    assert not out.exists()


def test_identical_files_compares_decompressed_bytes(tmp_path) -> None:
    from segchain.tableio import identical_files

    big = b"x" * 200_000
    (tmp_path / "a.csv").write_bytes(big + b"1")
    (tmp_path / "a.csv.gz").write_bytes(gzip.compress(big + b"1", compresslevel=9))
    (tmp_path / "b.csv.gz").write_bytes(gzip.compress(big + b"1", compresslevel=1))
    (tmp_path / "c.csv.gz").write_bytes(gzip.compress(big + b"2"))  # same size, other bytes
    (tmp_path / "d.csv.gz").write_bytes(gzip.compress(b"short"))
    names = [str(tmp_path / n) for n in ("d.csv.gz", "a.csv", "c.csv.gz", "a.csv.gz", "b.csv.gz")]
    assert identical_files(names) == [[names[1], names[3], names[4]]]


def test_a_copy_gzipped_in_several_members_is_refused(cli, tmp_path) -> None:
    """A gzip file of several members (parts gzipped apart and joined with cat, bgzip, a log
    appended with gzip >>) records only its last member's size: its copy a.csv, whose size
    differs from that, was read with it, every line counted twice with only a note."""
    lines = [good_line(i) for i in range(6)]
    write_export(tmp_path / "2024-01.csv", lines)
    text = ("\n".join([HEADER, *lines]) + "\n").encode()
    cut = len(text) // 2
    (tmp_path / "2024-01.csv.gz").write_bytes(gzip.compress(text[:cut]) + gzip.compress(text[cut:]))
    out = tmp_path / "orders.csv"
    result = cli("validate", "2024-01.csv", "2024-01.csv.gz", "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "segchain validate: Error: 2024-01.csv and 2024-01.csv.gz are identical (the same "
        "bytes once decompressed)"
    )
    assert not out.exists()


def test_identical_files_reads_every_member_of_a_gzip(tmp_path) -> None:
    from segchain.tableio import identical_files

    big = b"x" * 200_000
    members = gzip.compress(big) + gzip.compress(b"1")  # records the size 1
    (tmp_path / "a.csv").write_bytes(big + b"1")
    (tmp_path / "m.csv.gz").write_bytes(members)
    (tmp_path / "n.csv.gz").write_bytes(members)
    (tmp_path / "one.csv").write_bytes(b"1")  # the size the members record, other bytes
    (tmp_path / "other.csv.gz").write_bytes(gzip.compress(big) + gzip.compress(b"2"))
    names = [
        str(tmp_path / n) for n in ("one.csv", "m.csv.gz", "other.csv.gz", "a.csv", "n.csv.gz")
    ]
    assert identical_files(names) == [[names[1], names[3], names[4]]]


def test_hive_partitioned_parquet_folder(tmp_path: Path) -> None:
    from segchain.tableio import SOURCE_ROW, read_raw_sources

    root = tmp_path / "orders"
    expected = 0
    for year, n in (("2023", 4), ("2024", 6)):
        part = root / f"year={year}" / "country=DE"
        part.mkdir(parents=True)
        rows = [good_line(i).split(",") for i in range(n)]
        pl.DataFrame(rows, schema=HEADER.split(","), orient="row").write_parquet(
            part / "part-0.parquet"
        )
        expected += n
    table = read_raw_sources([str(root)])
    frame = table.frame.lazy().collect()
    assert frame.height == expected
    assert frame["year"].to_list() == ["2023"] * 4 + ["2024"] * 6
    assert set(frame["country"].to_list()) == {"DE"}
    assert frame[SOURCE_ROW].to_list() == [*range(1, 5), *range(1, 7)]


def test_mixed_schemas_name_the_file_that_differs(cli, exports) -> None:
    folder, _, _ = exports
    odd = folder / "2024_04.csv"
    odd.write_text(
        "order_id,order_date,customer_id,sku,qty,unit_price,note\n1,2024-04-01,C,S,1,2,x\n"
    )
    result = cli("validate", str(folder))
    assert result.exit_code == 1
    assert f"Error: {odd}: its columns differ from those of {folder / '2024_01.csv'}" in (
        result.stderr
    )
    assert "lacks quantity" in result.stderr and "has qty, note in addition" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: str(d / "nothing_*.csv"), "no file matches this pattern"),
        (
            lambda d: str(d / "empty"),
            "the folder holds no CSV, CSV.gz, Parquet or spreadsheet file",
        ),
    ],
)
def test_a_glob_or_folder_naming_nothing_is_one_message(cli, tmp_path, make, message) -> None:
    (tmp_path / "empty").mkdir()
    result = cli("validate", make(tmp_path))
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_output_onto_a_file_of_the_input_folder_is_refused(cli, exports) -> None:
    folder, _, _ = exports
    target = folder / "2024_01.csv"
    before = target.read_bytes()
    result = cli("validate", str(folder), "-o", str(target))
    assert result.exit_code == 2
    assert "writing it would destroy the input" in result.stderr
    assert target.read_bytes() == before


@pytest.mark.parametrize("command", ["forecast", "costs"])
def test_orders_option_takes_several_files_and_globs(cli, exports, command) -> None:
    folder, _, _ = exports
    segments = folder.parent / "segments.csv"
    segments.write_text("customer_id,segment\nC1,A\nC2,B\n")
    odd = folder.parent / "other.csv"
    odd.write_text("order_id,order_date,customer_id,sku,qty,unit_price\n1,2024-04-01,C,S,1,2\n")
    args = ["--orders", str(folder / "2024_01.csv"), "--orders", str(odd)]
    result = cli(command, str(segments), *args)
    assert result.exit_code == 1
    assert f"Error: --orders {odd}: its columns differ from those of {folder / '2024_01.csv'}" in (
        result.stderr
    )
    result = cli(command, str(segments), "--orders", str(folder / "nothing_*.csv"))
    assert result.exit_code == 1 and "no file matches this pattern" in result.stderr


# ---------------------------------------------------------------------------------------------
# Finding 22: lines with more fields than the header are rejected one by one


def test_extra_fields_reject_those_lines_only(cli, tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    lines = [good_line(i) for i in range(200)]
    ragged = list(range(5, 200, 10))  # 20 lines, rows 6, 16, ..., 196
    for i in ragged:
        lines[i] = lines[i] + f",x{i},y"
    write_export(export, lines)
    rejects = tmp_path / "rejects.csv"
    result = cli("validate", str(export), "--rejects", str(rejects))
    assert result.exit_code == 0, result.stderr
    assert "read 200 = used 180 + rejected 20 (extra_fields 20)" in result.stderr
    rows = pl.read_csv(rejects, infer_schema=False)
    assert [int(r) for r in rows["row"]] == [i + 1 for i in ragged]
    assert rows["extra_fields"].to_list() == [f"x{i},y" for i in ragged]
    assert set(rows["reason"]) == {"extra_fields"}
    # The line's own fields, as exported.
    assert rows["order_id"].to_list() == [str(1000 + i) for i in ragged]


def test_a_delimiter_ending_every_data_line_is_the_files_convention(cli, tmp_path) -> None:
    """Every data line ends with a tab the header lacks: an empty field beyond the header on
    every line holds nothing, so every line is read (it was rejected as extra_fields)."""
    export = tmp_path / "export.tsv"
    rows = [good_line(i).split(",") for i in range(12)]
    export.write_text(
        "\t".join(HEADER.split(",")) + "\n" + "".join("\t".join(r) + "\t\n" for r in rows)
    )
    result = cli("validate", str(export), "-o", str(tmp_path / "orders.csv"))
    assert result.exit_code == 0, result.stderr
    assert "read 12 = used 12 + rejected 0" in result.stderr
    out = pl.read_csv(tmp_path / "orders.csv", schema_overrides={"order_id": pl.String})
    assert out["quantity"].to_list() == [float(r[4]) for r in rows]


@pytest.mark.parametrize(
    "lines_above",
    [
        ["Sales by Item Detail"],
        ["Acme Corp,,,,,", ",,,,,"],  # a spreadsheet's title row, its empty cells saved
        ['"Sales by Item Detail, all customers"', "Acme Corp", "January - December 2024", ""],
    ],
)
def test_a_report_title_above_the_header_is_skipped_and_named(cli, tmp_path, lines_above) -> None:
    """A finance report saved as CSV (NetSuite's 'Sales by Item Detail', QuickBooks): title,
    company, period and a blank line above the header. The reader took the title for the header
    (exit 1, the title and _duplicated_N listed as columns); the lines above the header are now
    skipped, named on stderr, and every line below is read as from the bare table."""
    body = [HEADER, *[good_line(i) for i in range(5)]]
    export, plain = tmp_path / "report.csv", tmp_path / "plain.csv"
    export.write_text("\n".join([*lines_above, *body]) + "\n")
    plain.write_text("\n".join(body) + "\n")
    result = cli("validate", str(export), "-o", str(tmp_path / "from_report.csv"))
    assert result.exit_code == 0, result.stderr
    n = len(lines_above)
    assert f"{n} line{'s' if n > 1 else ''} above the header skipped (" in result.stderr
    assert "read 5 = used 5 + rejected 0" in result.stderr
    assert cli("validate", str(plain), "-o", str(tmp_path / "from_plain.csv")).exit_code == 0
    assert (tmp_path / "from_report.csv").read_bytes() == (tmp_path / "from_plain.csv").read_bytes()


def test_lines_above_the_header_that_are_not_a_title_stay_an_error(cli, tmp_path) -> None:
    """A line above the header with two fields ('Period:,2024') could be a header itself:
    nothing is guessed, the missing columns are named and nothing is written."""
    export = tmp_path / "report.csv"
    export.write_text("\n".join(["Period:,2024", HEADER, good_line(1)]) + "\n")
    out = tmp_path / "orders.csv"
    result = cli("validate", str(export), "-o", str(out))
    assert result.exit_code == 1
    assert "missing required column" in result.stderr and "Period:" in result.stderr
    assert not out.exists()


def test_a_title_is_skipped_in_each_file_of_a_folder(cli, tmp_path) -> None:
    """Monthly report files, each with its title: each file's lines above its header are
    skipped and named, and the folder reads as the bare files do."""
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "2024-01.csv").write_text(
        "\n".join(["Sales January", HEADER, good_line(1), good_line(2)]) + "\n"
    )
    write_export(folder / "2024-02.csv", [good_line(3)])
    result = cli("validate", str(folder), "-o", str(tmp_path / "orders.csv"))
    assert result.exit_code == 0, result.stderr
    assert "1 line above the header skipped ('Sales January')" in result.stderr
    assert "read 3 = used 3 + rejected 0" in result.stderr


def test_lines_in_two_files_are_noted_and_kept(cli, tmp_path: Path) -> None:
    """A month exported twice (its file copied) counted every line twice without a word (a
    sweep's doubled monthly file put 81 % on the forecast). Noted, and kept as exported; a line
    repeated within one file is not noted (Online Retail has genuine ones)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    january = [good_line(i) for i in range(6)]
    write_export(folder / "2024-01.csv", january)
    write_export(folder / "2024-01 copy.csv", january[:4])  # 4 of its lines again
    write_export(folder / "2024-02.csv", [good_line(50), good_line(50)])  # one line twice
    result = cli("validate", str(folder), "-o", str(tmp_path / "orders.csv"))
    assert result.exit_code == 0, result.stderr
    assert "4 lines appear field for field in more than one file" in result.stderr
    assert "all files: read 12 = used 12 + rejected 0" in result.stderr
    write_export(folder / "2024-01 copy.csv", [good_line(99)])
    again = cli("validate", str(folder), "-o", str(tmp_path / "orders.csv"))
    assert "more than one file" not in again.stderr


def test_cleaned_lines_in_two_files_are_noted_and_kept(cli, tmp_path: Path) -> None:
    """Two periods cleaned by validate whose dates overlap counted the shared lines twice
    without the note raw exports get."""
    write_export(tmp_path / "q1.csv", [good_line(i) for i in range(6)])
    write_export(tmp_path / "q2.csv", [good_line(i) for i in range(3, 9)])  # 3 shared
    for q in ("q1", "q2"):
        assert cli("validate", f"{q}.csv", "-o", f"{q}.parquet").exit_code == 0
    result = cli("segment", "q1.parquet", "q2.parquet", "-o", "seg.csv")
    assert result.exit_code == 0, result.stderr
    assert "3 lines appear field for field in more than one file" in result.stderr
    assert "all files: read 12 = used 12 + rejected 0" in result.stderr


# ---------------------------------------------------------------------------------------------
# Finding 26: the mixed date-order message shows the file's own values and their rows


def test_mixed_date_orders_show_the_files_values_and_rows(cli, tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    lines = [f"{i},0{1 + i % 9}/0{1 + i % 9}/2024,C{i},S,1,2" for i in range(10)]
    lines[3] = "3,17/05/2023,C3,S,1,2"  # row 4: day first
    lines[7] = "7,06/29/2023,C7,S,1,2"  # row 8: month first
    write_export(export, lines)
    result = cli("validate", str(export))
    assert result.exit_code == 1
    message = result.stderr
    assert "'17/05/2023' (row 4)" in message and "'06/29/2023' (row 8)" in message
    assert f"Error: {export}: order dates mix day-first and month-first" in message


def test_mixed_date_orders_across_files_name_the_file(cli, tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_export(a, ["1,17/05/2023,C1,S,1,2", "2,01/02/2023,C2,S,1,2"])
    write_export(b, ["3,01/02/2023,C3,S,1,2", "4,06/29/2023,C4,S,1,2"])
    result = cli("validate", str(a), str(b))
    assert result.exit_code == 1
    assert re.search(rf"'17/05/2023' \(row 1 of {re.escape(str(a))}\)", result.stderr)
    assert re.search(rf"'06/29/2023' \(row 2 of {re.escape(str(b))}\)", result.stderr)


def test_report_reads_a_folder_of_raw_exports_as_one_orders_table(cli, exports, tmp_path) -> None:
    folder, counts, bad = exports
    result = cli("report", str(folder), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.stderr
    read, rejected = sum(counts.values()), len(bad)
    assert (
        f"raw order lines, read as validate would: read {read:,} = used {read - rejected:,} "
        f"+ rejected {rejected:,}"
    ) in result.stderr


def test_a_rejects_file_in_the_folder_is_not_read_as_orders(cli, exports, tmp_path) -> None:
    folder, counts, bad = exports
    rejects = folder / "rejects.csv"
    first = cli("validate", str(folder), "--rejects", str(rejects))
    assert first.exit_code == 0, first.stderr
    again = cli("validate", str(folder), "--rejects", str(rejects))
    assert again.exit_code == 0, again.stderr
    assert f"{rejects}: rejected lines of an earlier run (--rejects): not read" in again.stderr
    read = sum(counts.values())
    assert f"all files: read {read:,} = used {read - len(bad):,}" in again.stderr
    assert pl.read_csv(rejects, infer_schema=False).height == len(bad)


# ---------------------------------------------------------------------------------------------
# Each file keeps its own decimal separator (a helper's sweep of real exports, session 23)


@pytest.mark.parametrize("comma_first", [True, False])
def test_each_file_keeps_its_own_decimal_separator(cli, tmp_path: Path, comma_first) -> None:
    """One export saved with ';' and decimal commas, one with ',' and points, in one folder:
    one decision for the column read one of them a hundred times too large (10.50 -> 1050),
    whichever sorted first. Amounts as written: 10.50 and 2.25; 37,32 and 1.234,50."""
    folder = tmp_path / "exports"
    folder.mkdir()
    names = ("a.csv", "b.csv") if comma_first else ("b.csv", "a.csv")
    (folder / names[0]).write_text(
        "order_id;order_date;customer_id;sku;quantity;amount\n"
        "2;05.01.2021;C2;B;3;37,32\n3;06.01.2021;C3;B;1;1.234,50\n"
    )
    (folder / names[1]).write_text(
        "order_id,order_date,customer_id,sku,quantity,amount\n"
        "1,2021-01-04,C1,A,2,10.50\n4,2021-01-07,C4,A,1,2.25\n"
    )
    out = tmp_path / "orders.csv"
    result = cli("validate", str(folder), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    got = dict(
        pl.read_csv(out, schema_overrides={"order_id": pl.String})
        .select("order_id", "amount")
        .iter_rows()
    )
    assert got == {"1": 10.5, "4": 2.25, "2": 37.32, "3": 1234.5}
    assert "decimal comma in: amount (1 of 2 files: " in result.stderr


SAP_LIST = """05.12.2024                 Dynamic List Display                  1
--------------------------------------------------------------------------------
|Sales Doc.|Created on|Sold-to pt|Material  |Order Qty |Net value |
--------------------------------------------------------------------------------
|0000012345|01.03.2024|0000100001|MAT-001   |     5,000|    125,00|
|0000012346|02.03.2024|0000100002|MAT-002   |    12,000|  1.250,50|
|0000012347|15.03.2024|0000100001|MAT-001   |     1,000|     25,00|
--------------------------------------------------------------------------------
"""
SAP_MAP = [
    *("--map", "order_id=Sales Doc.", "--map", "order_date=Created on"),
    *("--map", "customer_id=Sold-to pt", "--map", "sku=Material"),
    *("--map", "quantity=Order Qty", "--map", "amount=Net value"),
]


def test_an_sap_lists_quantities_follow_its_values_decimal_comma(cli, tmp_path) -> None:
    """An SAP list saved unconverted (title and rules above a '|' header): quantities with three
    decimals, '5,000', beside values '125,00'. The quantity column alone cannot tell '5,000'
    from five thousand, and was read 5000 (x1000); one export writes every number in one locale."""
    export = tmp_path / "sap.txt"
    export.write_text(SAP_LIST)
    out = tmp_path / "orders.csv"
    result = cli("validate", str(export), *SAP_MAP, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "2 lines above the header skipped" in result.stderr
    got = pl.read_csv(out, schema_overrides={"order_id": pl.String})
    assert got["order_id"].to_list() == ["0000012345", "0000012346", "0000012347"]
    assert got["quantity"].to_list() == [5.0, 12.0, 1.0]
    assert got["amount"].to_list() == [125.0, 1250.5, 25.0]


def test_a_semicolon_exports_grouped_quantities_follow_its_decimal_points(cli, tmp_path) -> None:
    """';' makes the comma the default, but prices '12.50' show this export's point: its
    quantities '1,234' are 1234 (were read 1.234)."""
    lines = [HEADER.replace(",", ";")] + [
        f"{100 + i};2024-03-0{1 + i};C{i};S{i};{q};{p}"
        for i, (q, p) in enumerate([("1,234", "12.50"), ("2,000", "3.25"), ("5", "0.99")])
    ]
    export = tmp_path / "export.csv"
    export.write_text("\n".join(lines) + "\n")
    out = tmp_path / "orders.csv"
    result = cli("validate", str(export), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    got = pl.read_csv(out)
    assert got["quantity"].to_list() == [1234.0, 2000.0, 5.0]
    assert got["unit_price"].to_list() == [12.5, 3.25, 0.99]


def test_each_file_of_a_folder_follows_its_own_number_columns(cli, tmp_path) -> None:
    """In a folder, each file's ambiguous quantities follow that file's own prices."""
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "de.csv").write_text(HEADER + "\n" + '1,2024-03-01,C1,S1,"2,000","12,50"\n')
    (folder / "us.csv").write_text(HEADER + "\n" + '2,2024-03-02,C2,S2,"2,000",12.50\n')
    out = tmp_path / "orders.csv"
    result = cli("validate", str(folder), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    got = pl.read_csv(out).sort("order_id")
    assert got["quantity"].to_list() == [2.0, 2000.0]
    assert got["unit_price"].to_list() == [12.5, 12.5]


def test_an_exports_currencies_and_units_are_noted_when_they_differ(cli, tmp_path) -> None:
    """SAP's WAERK and VRKME (the preset maps them): amounts in EUR and USD, and a material sold
    by the piece and by the case, were summed as one without a word. Noted, lines kept."""
    rows = [
        ("1", "EUR", "MAT-1", "EA"),
        ("2", "USD", "MAT-1", "CS"),
        ("3", "EUR", "MAT-2", "EA"),
        ("4", "EUR", "MAT-2", "EA"),
    ]
    text = "VBELN,AUDAT,KUNNR,MATNR,KWMENG,NETWR,WAERK,VRKME\n" + "".join(
        f"{o},2024-03-0{o},K{o},{m},2,10.00,{c},{u}\n" for o, c, m, u in rows
    )
    export = tmp_path / "sap.csv"
    export.write_text(text)
    out = tmp_path / "orders.csv"
    result = cli("validate", str(export), "--preset", "sap", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "amounts in 2 currencies are summed as one (lines: EUR 3, USD 1)" in result.stderr
    assert "1 sku sold in more than one unit" in result.stderr
    assert "(MAT-1: CS, EA)" in result.stderr
    got = pl.read_csv(out)
    assert got.height == 4 and got["currency"].to_list() == [c for _, c, _, _ in rows]
    # One currency and one unit per sku: nothing to say.
    single = tmp_path / "single.csv"
    single.write_text("".join(line for line in text.splitlines(keepends=True) if "USD" not in line))
    result = cli("validate", str(single), "--preset", "sap", "-o", str(tmp_path / "o2.csv"))
    assert result.exit_code == 0, result.stderr
    assert "amounts in" not in result.stderr and "more than one unit" not in result.stderr


def test_ids_a_spreadsheet_wrote_in_scientific_notation_are_warned_of(cli, tmp_path) -> None:
    """13-digit EANs saved from a spreadsheet's 'General' cells as 4.00638E+12: three products
    became one sku without a word. A warning names the column and counts; lines kept."""
    eans = ["4006381333931", "4006381333948", "4006381333955", "5012345678900"]
    shown = [f"{int(e[:6]) / 1e5:.5f}E+12" for e in eans]  # what Excel writes: 6 digits kept
    assert shown[:3] == ["4.00638E+12"] * 3
    lines = [f"{100 + i},2024-03-0{1 + i},C{i},{s},1,2.50" for i, s in enumerate(shown)]
    export = tmp_path / "export.csv"
    export.write_text("\n".join([HEADER, *lines, "200,2024-03-09,C9,1E5,1,2.50"]) + "\n")
    out = tmp_path / "orders.csv"
    result = cli("validate", str(export), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert (
        "Warning: sku: 4 lines hold an id in a spreadsheet's scientific notation "
        "(2 distinct, e.g. '4.00638E+12')" in result.stderr
    )
    assert "customer_id" not in result.stderr.split("Warning:")[-1]
    assert pl.read_csv(out).height == 5
    quiet = cli("validate", str(export), "-q", "-o", str(out))
    assert quiet.exit_code == 0 and "scientific" not in quiet.stderr


def test_headers_of_exports_joined_with_cat_are_rejected_as_such(cli, tmp_path) -> None:
    """`cat jan.csv feb.csv mar.csv`: the later headers are lines in the middle. They were
    rejected as bad_date (a date that is the word order_date); now as repeated_header."""
    months = [[good_line(i), good_line(i + 1)] for i in (0, 10, 20)]
    text = "".join("\n".join([HEADER, *m]) + "\n" for m in months)
    export = tmp_path / "joined.csv"
    export.write_text(text)
    rejects = tmp_path / "rejects.csv"
    result = cli("validate", str(export), "--rejects", str(rejects), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 0, result.stderr
    assert "read 8 = used 6 + rejected 2 (repeated_header 2)" in result.stderr
    # Rows counted from 1 after the first header: the second file's header is row 3.
    got = pl.read_csv(rejects, infer_schema=False)
    assert got["row"].to_list() == ["3", "6"] and set(got["reason"]) == {"repeated_header"}


def test_a_folder_of_workbooks_and_csv_files_reads_as_one_table(cli, tmp_path) -> None:
    """Monthly exports, some saved as .xlsx: every line of every file, per file in the
    reconciliation."""
    xlsxwriter = pytest.importorskip("xlsxwriter")
    folder = tmp_path / "exports"
    folder.mkdir()
    write_export(folder / "2024-01.csv", [good_line(1), good_line(2)])
    book = xlsxwriter.Workbook(str(folder / "2024-02.xlsx"))
    sheet = book.add_worksheet("Feb")
    for i, line in enumerate([HEADER, good_line(3), good_line(4), good_line(5)]):
        for j, value in enumerate(line.split(",")):
            sheet.write_string(i, j, value)
    book.close()
    out = tmp_path / "orders.csv"
    result = cli("validate", str(folder), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "read 5 = used 5 + rejected 0" in result.stderr
    assert "workbook, sheet 'Feb'" in result.stderr
    got = pl.read_csv(out, schema_overrides={"order_id": pl.String})
    assert sorted(got["order_id"].to_list()) == [str(1000 + i) for i in range(1, 6)]
