"""Spotting a My Number (個人番号) in text, only so that the text can be refused.

Nothing here keeps, logs or hashes what it is given.

A My Number is 12 digits whose last digit is a check digit (総務省令第85号
第5条). In free text we look for runs of digits in which single separators
(a space, a hyphen or dash, a long-vowel mark ー, a full stop) may sit
between digits, as people write "1234 5678 9012" or "1234-5678-9012". Text
is NFKC-normalised first, so full-width digits, full-width hyphens and
ideographic spaces count too.

A run counts only when it has exactly 12 digits and a valid check digit.
Longer runs are not flagged: they are account, order or phone numbers far
more often than an individual number, and any 12 digits inside them pass
the check about one time in eleven, so flagging them would refuse ordinary
text. The cost is that a number glued to further digits ("123456789018 5",
or two numbers joined by one space) slips through; this guards against
someone pasting their number by mistake, not against someone set on
hiding one.
"""

import re
import unicodedata

# After NFKC: full-width hyphen and half-width ｰ have become "-" and "ー",
# ideographic and no-break spaces have become " ".
_SEPARATORS = " -.\u2010\u2012\u2013\u2014\u2015\u2212\u30fc"
_RUN = re.compile("[0-9](?:[" + re.escape(_SEPARATORS) + "]?[0-9])*")
_NOT_DIGIT = re.compile("[^0-9]")


def _check_digit(first_eleven):
    # Pn is the n-th digit from the right; Qn = n + 1 for n <= 6, n - 5 for n >= 7.
    r = sum(int(p) * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed(first_eleven), start=1)) % 11
    return 0 if r <= 1 else 11 - r


def is_valid_my_number(digits: str) -> bool:
    """Exactly 12 ASCII digits with a valid check digit."""
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
        return False
    return _check_digit(digits[:11]) == int(digits[11])


def contains_my_number(text: str) -> bool:
    """Whether the text holds something that looks like a My Number (see the module docstring)."""
    normalised = unicodedata.normalize("NFKC", text)
    return any(is_valid_my_number(_NOT_DIGIT.sub("", run.group())) for run in _RUN.finditer(normalised))
