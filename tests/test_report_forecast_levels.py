"""The forecast section's subtitle names the prediction intervals in words: Superstore's
report read "prediction intervals 80,95%", one percent sign for two levels."""

from __future__ import annotations

import pytest

from segchain.report.sections.forecast import levels_text


@pytest.mark.parametrize(
    ("level", "words"),
    [
        ("80,95", "80% and 95%"),  # as forecast records --level 80,95
        ("50, 80,95", "50%, 80% and 95%"),
        ([80, 95], "80% and 95%"),  # a config's list
        (90, "90%"),
        ("90", "90%"),
    ],
)
def test_levels_text_names_each_level_with_its_percent_sign(level, words) -> None:  # type: ignore[no-untyped-def]
    assert levels_text(level) == words


def test_forecast_section_subtitle_reads_the_levels_forecast_recorded() -> None:
    import datetime as dt

    import polars as pl

    from segchain.report.sections.forecast import forecast_section

    fc = pl.DataFrame(
        {
            "unique_id": ["a", "a"],
            "ds": [dt.date(2024, 1, 1), dt.date(2024, 1, 8)],
            "forecast": [1.0, 2.0],
        }
    )
    meta = {"forecast": {"params": {"freq": "W", "level": "80,95"}}}
    section = forecast_section({"forecast": fc}, meta, {})
    assert not isinstance(section, str)
    assert section.subtitle.startswith("Periods of one week, prediction intervals 80% and 95%.")
