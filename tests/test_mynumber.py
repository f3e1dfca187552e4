"""Spotting a My Number so that text holding one is refused; no Django, no database."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent.mynumber import contains_my_number, is_valid_my_number

# Worked by hand from 総務省令第85号 第5条, e.g. for 12345678901: the digits from the
# right times Q = 2,3,4,5,6,7,2,3,4,5,6 sum to 212; 212 mod 11 = 3; 11 − 3 = 8.
VALID = ["123456789018", "111111111118", "999999999996", "000000000000", "000000000060"]


def reference_check_digit(first_eleven):
    """The rule as the ordinance words it, kept apart from the module's own arithmetic."""
    total = 0
    for n in range(1, 12):
        p = int(first_eleven[11 - n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    r = total % 11
    return 0 if r <= 1 else 11 - r


@pytest.mark.parametrize("number", VALID)
def test_known_valid_numbers(number):
    assert reference_check_digit(number[:11]) == int(number[11])
    assert is_valid_my_number(number)


@pytest.mark.parametrize(
    "text",
    [
        "123456789010",
        "123456789019",
        "12345678901",
        "1234567890180",
        "",
        "12345678901a",
        "1234-5678-9018",
        " 123456789018",
        "１２３４５６７８９０１８",  # full-width: callers normalise first
        "١٢٣٤٥٦٧٨٩٠١٨",  # Arabic-Indic digits are digits, but not ASCII ones
    ],
)
def test_not_valid_numbers(text):
    assert not is_valid_my_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "123456789018",
        "番号は123456789018です",
        "my number: 123456789018.",
        "abc123456789018xyz",
        "１２３４５６７８９０１８",
        "１２３４－５６７８－９０１８",
        "1234 5678 9018",
        "1234-5678-9018",
        "1234‐5678‐9018",
        "1234−5678−9018",
        "1234ー5678ー9018",
        "1234–5678–9018",
        "1234.5678.9018",
        "1234\u30005678\u30009018",
        "1234\u00a05678\u00a09018",
        "1-2-3-4-5-6-7-8-9-0-1-8",
        "12 3456 789018",
        "電話 03-1234-5678、番号 111111111118",
        "123456789018, 111111111118",
    ],
)
def test_numbers_in_text_are_found(text):
    assert contains_my_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no digits here",
        "123456789010",
        "12345678901",
        "1234-5678-901",
        "1234567890185",
        "0123456789018",
        "1234-5678-9018-5",
        # Runs longer than 12 digits are not flagged, by choice: see the module docstring.
        "123456789018 111111111118",
        "1234  5678  9018",
        "1234--5678--9018",
        "1234/5678/9018",
        "03-1234-5678",
        "2026年4月1日 09:00",
    ],
)
def test_other_text_is_left_alone(text):
    assert not contains_my_number(text)


@given(st.text("0123456789", min_size=11, max_size=11))
def test_exactly_one_check_digit_completes_any_eleven_digits(first_eleven):
    valid = [digit for digit in "0123456789" if is_valid_my_number(first_eleven + digit)]
    assert valid == [str(reference_check_digit(first_eleven))]


def _no_digits_after_nfkc(char):
    return not any(c.isdigit() for c in unicodedata.normalize("NFKC", char))


NON_DIGIT_TEXT = st.text(st.characters(codec="utf-8").filter(_no_digits_after_nfkc), max_size=30)
FULL_WIDTH = {ord(digit): 0xFF10 + int(digit) for digit in "0123456789"}
LAYOUTS = [
    lambda n: n,
    lambda n: f"{n[:4]}-{n[4:8]}-{n[8:]}",
    lambda n: f"{n[:4]} {n[4:8]} {n[8:]}",
    lambda n: n.translate(FULL_WIDTH),
]


@given(
    st.text("0123456789", min_size=11, max_size=11),
    st.sampled_from(LAYOUTS),
    NON_DIGIT_TEXT,
    NON_DIGIT_TEXT,
)
def test_a_valid_number_is_found_in_any_surrounding_text(first_eleven, layout, before, after):
    number = first_eleven + str(reference_check_digit(first_eleven))
    assert contains_my_number(before + layout(number) + after)


@given(st.text())
def test_anything_flagged_holds_at_least_twelve_digits(text):
    if contains_my_number(text):
        assert sum(c in "0123456789" for c in unicodedata.normalize("NFKC", text)) >= 12
