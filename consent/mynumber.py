"""Spotting a My Number (個人番号) in text, only so that the text can be refused.

Nothing here keeps, logs or hashes what it is given.

A My Number is 12 digits whose last digit is a check digit (総務省令第85号
第5条). Text is first normalised the way a person might have typed or pasted
the number: NFKC (full-width digits and hyphens, ideographic spaces), then
every Unicode digit (Arabic-Indic, Devanagari, …) and every kanji numeral
〇一二三四五六七八九 becomes an ASCII digit. Then we look for runs of digits in
which up to three separator characters may sit between digits: any white
space (also newlines and tabs), invisible format characters such as the
zero-width space, and the punctuation people put between digit groups
(hyphens and dashes, ー, ・, ".", "/", ",", "_"), so "1234 - 5678 - 9012"
and "1234/5678/9012" count.

Within a run, any stretch of whole digit groups joined by one and the same
separator ("1234-5678-9012", "1234 / 5678 / 9012") counts when it has 12
digits with a valid check digit, or 13 digits of which the first or the last
12 are valid (a number with one more digit typed before or after it); so two
numbers in a list are both seen. A stretch whose separators differ
("03-1234-5678 / 090-1234-5678", "1,000, 25,000") is several numbers, not
one. Twelve digits cut out of the middle of a longer group are not checked
either: long digit strings are account or order numbers far more often than
an individual number, and any 12 digits inside them pass the check about one
time in eleven. What
this costs on ordinary text is measured by bench/mynumber_false_positives.py.
This guards against someone pasting their number by mistake, not against
someone set on hiding one.
"""

import re
import unicodedata

_KANJI_DIGITS = str.maketrans("〇一二三四五六七八九", "0123456789")
# After NFKC: full-width "－", "／", "，", "＿" and half-width "ｰ", "･" have
# become their ordinary forms.
_PUNCTUATION = "-./,_\u00b7\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fb\u30fc"
_SEPARATOR = "[\\s\\u200b-\\u200d\\u2060\\ufeff" + re.escape(_PUNCTUATION) + "]"
_RUN = re.compile("[0-9](?:" + _SEPARATOR + "{0,3}[0-9])*")
_DIGITS = re.compile("([0-9]+)")
_WITHOUT_DIGITS = str.maketrans("", "", "0123456789")


def _check_digit(first_eleven):
    # Pn is the n-th digit from the right; Qn = n + 1 for n <= 6, n - 5 for n >= 7.
    r = sum(int(p) * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed(first_eleven), start=1)) % 11
    return 0 if r <= 1 else 11 - r


def is_valid_my_number(digits: str) -> bool:
    """Exactly 12 ASCII digits with a valid check digit."""
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
        return False
    return _check_digit(digits[:11]) == int(digits[11])


class _AsciiDigits(dict):
    """A ``str.translate`` table, filled as characters are met: each Unicode
    digit and kanji numeral to its ASCII digit, anything else to itself. A roster holds a few
    thousand distinct characters; translating them in C keeps a 100,000-line
    file from costing a Python call per character."""

    LIMIT = 100_000  # distinct characters kept; a file of every code point cannot grow it further

    def __missing__(self, code):
        if len(self) >= self.LIMIT:
            self.clear()
        kanji = _KANJI_DIGITS.get(code)
        value = unicodedata.digit(chr(code), None)
        self[code] = chr(kanji) if kanji else chr(code) if value is None else str(value)
        return self[code]


_ASCII_DIGITS = _AsciiDigits()


def normalise(text: str) -> str:
    """NFKC, then every Unicode digit and kanji numeral as an ASCII digit."""
    if text.isascii():  # NFKC leaves ASCII as it is
        return text
    return unicodedata.normalize("NFKC", text).translate(_ASCII_DIGITS)


def _looks_like_one(digits):
    if len(digits) == 12:
        return is_valid_my_number(digits)
    return len(digits) == 13 and (is_valid_my_number(digits[:12]) or is_valid_my_number(digits[1:]))


def contains_my_number(text: str) -> bool:
    """Whether the text holds something that looks like a My Number (see the module docstring)."""
    text = normalise(text)
    # Most text has fewer than twelve digits in all: counted in C, that settles it.
    if len(text) < 12 or len(text) - len(text.translate(_WITHOUT_DIGITS)) < 12:
        return False
    for run in _RUN.finditer(text):
        # "1234-5678-9018, 03-1234-5678" splits into groups and the separators between them.
        parts = _DIGITS.split(run.group())
        groups, separators = parts[1::2], parts[2:-1:2]
        for start in range(len(groups)):
            digits, separator = groups[start], None
            for end in range(start + 1, len(groups) + 1):
                if _looks_like_one(digits):
                    return True
                if end == len(groups) or len(digits) > 13:
                    break
                # One number is written with one kind of separator throughout.
                separator = separator or separators[end - 1]
                if separators[end - 1] != separator:
                    break
                digits += groups[end]
    return False
