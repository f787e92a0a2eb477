"""The messages the README quotes are messages segchain still prints.

The README quotes stderr lines, hints, errors and report texts in backticks, often with example
values filled in (`--sites sites.csv: no such file`). Sessions reworded the code's messages and
left the quotes: `unit_cost is not a number ('2,5') for lane 'S1/C7'` for what network prints as
`... for site_id@customer_id 'S1@C7'`, or a stock warning quoted without the backticks its
`stock` carries. tests/test_docs.py checks the options the README names; this checks its quoted
messages against segchain's source.

How: every code span the README presents as output (after a word such as "stderr", "says",
"warns", "refused" or "hint", or shaped as a message: `--items items.csv: ...`, `segchain stock:
...`) is split at `...` and at ``; : ( )`` into parts, and each part of two words or more must be a
piece of one string literal of segchain's code (docstrings excluded), whose fields (``{n}``,
``{plural(n, 'line')}``) stand for up to four words each. The words a field takes cost one each
against a small budget (one per five words of the part), except the README's example values:
numbers and dates, quoted names, file names and paths, options, upper-case arguments
(``SEGMENTS``), column names with an underscore, capitalised names inside the text (a segment
such as Champions) and the two words after a count (``3 rows``, ``1 line holds``: the code's
``plural`` and ``agree``). So a reworded message fails, while a filled-in one passes.

Quotes that are built from several literals (one message joined from parts in code), or that are
not segchain's words (click's), are listed in ``ALLOWED`` with where they are built; each was read
against that code, and many run, when it was listed (session 68). The list is long because most
of segchain's messages are joined from parts; an entry whose quote passes without it, or that no
README quote starts with any more, fails the second test, so the list only shrinks.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

PLACEHOLDER = "\x00"
# A field of the code's messages stands for at most this many words.
FIELD_WORDS = 4

# Code spans that are quoted output though a message starts them: after one of these words.
CUE = re.compile(
    r"stderr|\bsays?\b|\bsaid\b|warn|refuse|error|message|hint|shown|\bprints?\b|exit \d",
    re.IGNORECASE,
)
# Shaped as a message: a table or option named first, or segchain's own prefix.
LABEL = re.compile(
    r"(segchain [a-z]+: )?((Error|Warning): )?"
    r"((--[a-z][a-z-]*|-o|SEGMENTS|FORECAST|CUSTOMERS|\$SEGCHAIN_[A-Z_]+)( \S+)?"
    r"|\S+\.(csv|parquet|toml|tsv|xlsx|gz|bz2)|[a-z_]+|[\w.]+ \[\w+\]( \w+)?): "
)
# Commands, options, paths and config lines are no messages.
NOT_MESSAGE = re.compile(
    r"((segchain )?(sample|validate|segment|forecast|stock|network|costs|report)\s|segchain -"
    r"|pytest|make\s|\.venv|flock|timeout|pip\s|cat\s|ln\s|rm\s|sed\s|uconv"
    r"|(--?[a-z][\w-]*,?( [^-\s]\S*)? ?)+$|\S+$|[\w.\[\]\" ]+ = )"
)
COLUMN_LIST = re.compile(r"[\w\-*]+(, [\w\-*]+)+(, \.\.\.)?")
WORD = re.compile(r"[A-Za-z_]{2,}")
# The README's example values: what the code fills in.
VALUE = re.compile(
    r"(?<![\w'])'[^']*'(?!\w)"  # a quoted name or value
    r"|<stdin>|\S*/\S+|\S+\.(?:csv|parquet|tsv|xlsx|toml|gz|bz2|py)\b"  # files and paths
    r"|(?<=[\w,] )[A-Z][a-z]+\b"  # a name inside the text (a segment, a column)
    r"|(?<!\w)--?[a-z][\w-]*|\$?\b[A-Z][A-Z_]{2,}\b|\[\w+\]|\b\w+_\w+\b"  # options, keys
    r"|[+-]?\d[\d,.:]*(?:e[+-]?\d+)?%?(?:-\d+)*(?:m\d+)?s?(?!\w)"  # numbers, dates, times
)
COUNT_WORDS = re.compile(r"(?<!\S)-?\d[\d,.]*(?= )((?: [^ ]+){1,2})")

# Quotes the literal search cannot follow, read against the code named (session 68); the key is
# the start of the quote as the README writes it (spaces collapsed).
ALLOWED = {
    # An order option the running command lacks, named with the command that has it as the
    # message goes to stderr (cli/common.own_options, session 70).
    "(write the rejected lines out with segchain validate": "common.own_options names validate",
    "write them out with segchain validate": "common.own_options names validate",
    # Built from several literals (a message joined from parts in code).
    "1 line with a blank unit_price (Rate)": "orders.py joins the valued-by clause",
    "lat: 2 lines hold no number": "orders.py joins the coordinate warning and its fix",
    "lat: 1 line holds a value outside": "orders.py joins the range and the swap question",
    "located 4,367 of 4,372 customers": "geo.py: counts per precision joined",
    "--as-of 2018-01-02 ends the history on 2018-01-01": "forecast: the part-week warning",
    "--items items.csv: 3 rows at sites where FORECAST": "stock: site lists joined",
    "--on-hand oh.csv: 3 on-hand rows": "stock: on-hand without demand, parts joined",
    "2 of 40 items used default parameters": "stock_summary.defaults_cause joins the causes",
    "1 stocking point with under 1 unit": "stock: the Poisson-level note, parts joined",
    "Champions: expected fill rate 97.3%": "stock/compare.py: head + blended + capped",
    "capacity must be a number >= 0": "network/inputs.py: accepted values from a dict",
    "--sites sites.csv: lat outside [-90, 90]": "network/inputs.py: column and limit fields",
    "column 'lat' holds 1 value that is not a number": "schema.py: a plural and a key field",
    "forecast.csv: forecast must be a finite number": (
        "schema.number_problems joins the rule's words (>= 0, up to the bound) to the value"
    ),
    "2 product lines are not costed": "costs: the per-site unit costs joined",
    "--items items.csv: 3 rows at sites where --policy": "costs: site lists joined",
    "--stock-segments empty.csv: the per-segment": "costs: the table's name is a field",
    "read column 'Segment' as segment": "tableio: the renames joined",
    "segchain network: CUSTOMERS seg.csv: read column": "tableio: the renames joined",
    "Series: 2 (by segment × sku;": "report: the key names joined with ' × '",
    "distance_km: a mean over 1 of 2 lanes": "report: per-group counts joined",
    "history of Champions/A: 2 order lines'": "report: the series' gaps joined",
    "2011-12 is a part month": "report: the part month's caption, parts joined",
    "Give the orders (and segments) to plot": "report: the missing tables are a field",
    "The same two plans' stock, measured two ways": "report: sentence built from parts",
    "orders.csv.bz2: compressed with bzip2": "tableio: the compression's name is a field",
    "customer_id: 1 line holds a line break": "orders.py: plural and agree fields",
    "SEGMENTS seg.csv: column 'Segment' is not read": "tableio: the column names are fields",
    "(to read it instead: --map quantity=Quantity)": "config: the mapping is a field",
    "--sites sites.csv: column 'capacity (units)'": "network: the header is a field",
    "dates: day-first (dd/mm; ...)": "orders.py: the date orders found, joined with ' + '",
    "SEGMENTS seg.csv: customer_id: ids written as floats": "schema: parts joined",
    "...; 2 of them are ids of the segments": "schema.written_otherwise builds the ways",
    "customer_id: 2 ids are other ids of the column": "orders.py: parts joined",
    "U+212A KELVIN SIGN in one": "the characters' Unicode names (unicodedata)",
    "customer_id: 2 ids written as Excel formulas": "orders.py: agree(n, 'it', 'them')",
    "1 sku sold in more than one unit": "orders.py: the units listed per sku",
    "the header 'quantity' is mapped to quantity and unit_price": "orders.py: names joined",
    "2 customers whose every order line is on or after": "segment: the as-of's source",
    "held out: ... (the lines on or after": "forecast: the as-of's source is a field",
    "segchain forecast: backtesting models: fitting": "progress.py: the step and the time",
    "segchain stock: planning took 2m46s": "progress.py: '{step} took {time}'",
    "segchain stock: rationing by segment priority: 221": "progress.py: parts joined",
    "segchain forecast: backtesting models: 421": "progress.py: parts joined",
    "segchain <command>: Warning:": "a pattern, not one message",
    "--orders orders.csv: missing required column sku": "schema: plural field",
    "--orders orders.csv: csv, delimiter comma, ...": "orders.py: the dialect's parts joined",
    "--assignments asg.csv name a site not in --sites": "costs: both tables are fields",
    "--items items.csv: unit_cost must be a finite number": "stock: the rule from a dict",
    # Not segchain's words.
    "Fixed cost (per year)": "a --sites header the README names, read as a year's fixed cost",
    "Invalid value for '--horizon': ... valid integer": "click's own message for a bad integer",
    "No such option: -e": "click's own message, quoted as what segchain replaced",
}


def _collapse(text: str) -> str:
    return " ".join(text.split())


@cache
def readme() -> str:
    return README.read_text(encoding="utf-8")


def quotes() -> list[tuple[int, str, bool]]:
    """(line, text, whether a cue word comes just before it) of every code span outside the code
    blocks, and every ``segchain <command>: ...`` line inside them."""
    text = readme()
    blank = re.sub(
        r"^[ \t]*```.*?^[ \t]*```",
        lambda m: re.sub(r"[^\n]", " ", m.group(0)),
        text,
        flags=re.M | re.S,
    )
    found = []
    # A span between runs of the same number of backticks (``a `b` c`` holds backticks).
    for m in re.finditer(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", blank, flags=re.S):
        line = text.count("\n", 0, m.start()) + 1
        cued = bool(CUE.search(blank[max(0, m.start() - 160) : m.start()]))
        found.append((line, _collapse(m.group(2)), cued))
    for m in re.finditer(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", text, flags=re.M | re.S):
        first = text.count("\n", 0, m.start()) + 2
        for i, row in enumerate(m.group(1).splitlines()):
            if re.match(r"\s*segchain [a-z]+: ", row):
                found.append((first + i, row.strip(), True))
    return found


def is_message(quote: str, cued: bool) -> bool:
    if len(WORD.findall(quote)) < 3 or NOT_MESSAGE.match(quote) or COLUMN_LIST.fullmatch(quote):
        return False
    return cued or bool(LABEL.match(quote))


def messages() -> list[tuple[int, str]]:
    return [(line, q) for line, q, cued in quotes() if is_message(q, cued)]


def parts(quote: str) -> list[str]:
    """The pieces of a quote checked one by one: cut at an ellipsis and at ``; : ( )``, where
    messages are joined from parts; a piece needs two words to say anything."""
    quote = re.sub(r"^segchain [a-z]+: ((Warning|Error): )?", "", quote)
    pieces = (p.strip(" ,.") for p in re.split(r"\.\.\.|…|[;:()]", quote))
    return [p for p in pieces if len(WORD.findall(p)) >= 2]


def free_characters(part: str) -> list[bool]:
    """Per character of ``part``, whether it is an example value (a field costs nothing there)."""
    free = [False] * len(part)
    for pattern in (VALUE, COUNT_WORDS):
        for m in pattern.finditer(part):
            free[m.start() : m.end()] = [True] * (m.end() - m.start())
    return free


@cache
def literals() -> tuple[str, ...]:
    """segchain's string literals, spaces collapsed, each field of an f-string (or of a
    str.format template) a placeholder; docstrings left out, as nothing prints them."""
    found = []
    for path in sorted((ROOT / "segchain").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                skip.add(id(node.value))  # a docstring or a bare string
            if isinstance(node, ast.JoinedStr) and id(node) not in skip:
                skip.update(id(sub) for value in node.values for sub in ast.walk(value))
                text = "".join(
                    v.value if isinstance(v, ast.Constant) else PLACEHOLDER for v in node.values
                )
                found.append(text)
        found += [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
        ]
    cleaned = []
    for text in found:
        text = re.sub(r"\s+", " ", text)
        text = re.sub(r"\{[^{}\s]*\}", PLACEHOLDER, text)  # str.format fields, {{--items}}
        text = re.sub(PLACEHOLDER + "+", PLACEHOLDER, text)
        if text.strip(PLACEHOLDER + " "):
            cleaned.append(text)
    return tuple(cleaned)


# The matcher: every literal with each placeholder spelled out as FIELD_WORDS word slots (ENTER
# starts a word, costing one unless the word is an example value; IN continues it; GAP is the
# optional space between two slots), run as a bit-parallel automaton over all literals at once.
ENTER, IN, GAP, END = "\x04", "\x05", "\x06", "\x01"


class Matcher:
    def __init__(self, templates: tuple[str, ...]) -> None:
        slot = ENTER + IN
        field = (slot + GAP) * (FIELD_WORDS - 1) + slot
        text = END.join(t.replace(PLACEHOLDER, field) for t in templates)
        positions: dict[str, list[int]] = {}
        for i, ch in enumerate(text):
            positions.setdefault(ch, []).append(i)
        self.masks = {}
        for ch, where in positions.items():
            bits = bytearray(len(text) // 8 + 1)
            for i in where:
                bits[i >> 3] |= 1 << (i & 7)
            self.masks[ch] = int.from_bytes(bits, "little")
        self.enter = self.masks.get(ENTER, 0)
        self.inside = self.masks.get(IN, 0)
        self.gap = self.masks.get(GAP, 0)
        self.all = (1 << len(text)) - 1

    def _skip(self, state: int) -> int:
        """Add the positions reachable without reading: a word slot left empty, a word ended,
        a gap not taken."""
        while True:
            more = state | ((state & self.enter) << 2) | ((state & (self.inside | self.gap)) << 1)
            if more == state:
                return state
            state = more

    def fits(self, part: str, budget: int) -> bool:
        """Whether ``part`` is a piece of some literal, its fields taking at most ``budget``
        words that are not example values."""
        free = free_characters(part)
        layers = [self._skip(self.all & ~(self.inside | self.gap))] + [0] * budget
        if free and free[0]:
            layers[0] |= self._skip(self.inside)
        elif budget:
            layers[1] = self._skip(self.inside)
        for i, ch in enumerate(part):
            new = [(state & self.masks.get(ch, 0)) << 1 for state in layers]
            if ch == " ":
                new = [n | ((s & self.gap) << 1) for n, s in zip(new, layers, strict=True)]
            else:
                new = [n | (s & self.inside) for n, s in zip(new, layers, strict=True)]
                if free[i]:
                    for k in range(budget + 1):
                        new[k] |= (layers[k] & self.enter) << 1
                else:
                    for k in range(budget, 0, -1):
                        new[k] |= (layers[k - 1] & self.enter) << 1
            layers = [self._skip(state) for state in new]
            if not any(layers):
                return False
        return True


@cache
def matcher() -> Matcher:
    return Matcher(literals())


def unprinted(quote: str) -> list[str]:
    """The parts of ``quote`` that no literal of segchain's code holds."""
    return [p for p in parts(quote) if not matcher().fits(p, len(p.split()) // 5)]


def allowed(quote: str) -> bool:
    return any(quote.startswith(key) for key in ALLOWED)


def test_the_readmes_quoted_messages_are_segchains() -> None:
    stale = [
        f"README line {line}: `{quote}`: {unprinted(quote)}"
        for line, quote in messages()
        if not allowed(quote) and unprinted(quote)
    ]
    assert not stale, "quoted messages segchain no longer prints:\n" + "\n".join(stale)


def test_every_allowed_quote_is_still_in_the_readme_and_still_needs_its_place() -> None:
    """An entry whose quote left the README, or now passes the search, is dropped."""
    quoted = [q for _, q in messages()]
    gone = [key for key in ALLOWED if not any(q.startswith(key) for q in quoted)]
    assert not gone, f"ALLOWED keys no README message starts with: {gone}"
    passing = [key for key in ALLOWED if all(not unprinted(q) for q in quoted if q.startswith(key))]
    assert not passing, f"ALLOWED keys whose quotes pass without the list: {passing}"


def test_the_quotes_are_found() -> None:
    # The selection itself: a README edit that hid the messages would make the check vacuous.
    found = dict((q, line) for line, q in messages())
    assert len(found) > 150
    assert "--sites sites.csv: no such file" in found
    assert "-o out.parquet: cannot write: no space left on the device" in found
    assert any(q.startswith("--compare-uniform: at the 25 rationed") for q in found)
    assert not any(q.startswith("segchain validate export.csv") for q in found)  # a command


@pytest.mark.parametrize(
    ("quote", "printed"),
    [
        # Network's lane refusal, as the README quoted it before session 68 and as printed.
        ("unit_cost is not a number ('2,5') for lane 'S1/C7'", False),
        ("unit_cost is not a number ('2,5') for site_id@customer_id 'S1@C7'", True),
        # A reworded word inside a message is caught; its filled-in values are not wrong.
        ("--sites sites.csv: no such file", True),
        ("--sites sites.csv: no such table", False),
        ("SEGMENTS seg.parquet: not a readable Parquet file (...)", True),
        ("SEGMENTS seg.parquet: not a valid Parquet file (...)", False),
        ("1,099 customers without coordinates left out", True),
        ("1,099 customers without coordinates kept out", False),
        # stock's comparison warning spells its `stock` with backticks.
        ("`stock` run with that one target for every segment", True),
        ("stock run with that one target for every segment", False),
    ],
)
def test_the_check_tells_a_printed_message_from_a_reworded_one(quote: str, printed: bool) -> None:
    assert (not unprinted(quote)) is printed, unprinted(quote)
