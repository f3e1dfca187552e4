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
        "123456789018 111111111118",
        "電話 03-1234-5678 番号 1234 5678 9018",
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
        "1234567890100",  # 13 digits, but neither the first nor the last 12 are valid
        # Twelve digits cut from a longer group are not flagged, by choice: see the module docstring.
        "12345678901855",
        "99123456789018 5",
        "1234----5678----9018",  # more than three separators apart: separate numbers
        "03-1234-5678",
        "090-1234-5678",
        "〒460-0001",
        "2026年4月1日 09:00",
        "2026/04/01",
        "1,000円",
        "一人ひとりの判断です。二〇二六年四月一日",
    ],
)
def test_other_text_is_left_alone(text):
    assert not contains_my_number(text)


ARABIC_INDIC = {ord(d): 0x0660 + int(d) for d in "0123456789"}
DEVANAGARI = {ord(d): 0x0966 + int(d) for d in "0123456789"}
KANJI = {ord(d): "〇一二三四五六七八九"[int(d)] for d in "0123456789"}

# How people type or paste 123456789018: the first nine were caught before
# issue 9, the other thirteen slipped through. bench/mynumber_false_positives.py
# reports how many of these are caught.
VARIANTS = {
    "plain": "123456789018",
    "hyphens": "1234-5678-9018",
    "spaces": "1234 5678 9018",
    "full-width": "１２３４５６７８９０１８",
    "full-width hyphens": "１２３４－５６７８－９０１８",
    "ideographic spaces": "1234\u30005678\u30009018",
    "full stops": "1234.5678.9018",
    "long-vowel marks": "1234ー5678ー9018",
    "minus signs": "1234−5678−9018",
    "newlines": "1234\n5678\n9018",
    "tabs": "1234\t5678\t9018",
    "double spaces": "1234  5678  9018",
    "zero-width spaces": "1234\u200b5678\u200b9018",
    "slashes": "1234/5678/9018",
    "commas": "1234,5678,9018",
    "underscores": "1234_5678_9018",
    "nakaguro": "1234・5678・9018",
    "spaced hyphens": "1234 - 5678 - 9018",
    "kanji numerals": "123456789018".translate(KANJI),
    "Arabic-Indic digits": "123456789018".translate(ARABIC_INDIC),
    "Devanagari digits": "123456789018".translate(DEVANAGARI),
    "one more digit after it": "1234567890185",
}


@pytest.mark.parametrize("name", VARIANTS)
def test_every_way_of_typing_a_number_is_caught(name):
    assert contains_my_number(f"私の番号は{VARIANTS[name]}です")


def test_every_way_of_typing_is_still_caught_after_the_translation_cache_is_emptied(monkeypatch):
    """The characters seen are cached for speed; a file of many distinct characters
    empties the cache, and kanji numerals and other scripts' digits must survive that."""
    from consent import mynumber

    monkeypatch.setattr(mynumber._AsciiDigits, "LIMIT", 5)
    contains_my_number("".join(chr(code) for code in range(0x4E00, 0x4E40)))  # fills and empties it
    assert len(mynumber._ASCII_DIGITS) <= 5  # bounded: a file of every code point cannot grow it
    for name, text in VARIANTS.items():
        assert contains_my_number(f"私の番号は{text}です"), name


@pytest.mark.parametrize("text", ["0123456789018", "1234-5678-9018-5", "番号 1234 5678 9018 5 です"])
def test_a_number_with_one_digit_more_on_either_side_is_caught(text):
    assert contains_my_number(text)


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


def _digits_a_person_could_mean(text):
    return sum(
        unicodedata.digit(c, None) is not None or c in "〇一二三四五六七八九"
        for c in unicodedata.normalize("NFKC", text)
    )


@given(st.text())
def test_anything_flagged_holds_at_least_twelve_digits(text):
    if contains_my_number(text):
        assert _digits_a_person_could_mean(text) >= 12


@given(st.text(st.sampled_from("0123456789 -/,_・\n\t\u200b〇一二三"), max_size=60))
def test_anything_flagged_holds_at_least_twelve_digits_in_digit_heavy_text(text):
    if contains_my_number(text):
        assert _digits_a_person_could_mean(text) >= 12
