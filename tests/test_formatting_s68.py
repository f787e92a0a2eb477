"""A share that is not 0 never reads 0.0% (session 68).

The Complete Journey's smallest abc-xyz segment held about 0.04 % of the revenue and the profile
showed it as '0.0%', beside segments that held none: a planner reads that as nothing. As a value
short of 1 keeps the digits that tell it from 1 (``short_of_one``), a share short of 0 keeps the
digits that tell it from 0; within ``NOISE`` (1e-9) of 0 it is a computation's 0.
"""

from __future__ import annotations

import pytest

from segchain.formatting import NOISE, format_number


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0004, "0.04%"),
        (0.00004, "0.004%"),
        (0.000049, "0.005%"),
        (-0.0003, "-0.03%"),
        (0.0005, "0.1%"),  # one decimal already tells it from 0
        (0.123, "12.3%"),
        (0.0, "0.0%"),
        (NOISE / 2, "0.0%"),
        (-NOISE / 2, "0.0%"),
    ],
)
def test_pct_of_a_share_short_of_zero(value: float, text: str) -> None:
    assert format_number(value, "pct") == text


def test_the_digits_read_back_to_the_value() -> None:
    # Independent of the code: the text, read back, is within half its last digit of the value.
    for value in (0.0004, 0.00004, 3.3e-6, 7e-8):
        text = format_number(value, "pct")
        digits = len(text.rstrip("%").split(".")[1])
        assert float(text.rstrip("%")) / 100 != 0
        assert abs(float(text.rstrip("%")) / 100 - value) <= 0.5 * 10 ** (-digits - 2) + 1e-15
