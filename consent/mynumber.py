import re
import unicodedata

_RUN = re.compile(r"\d(?:[ \-‐−ー－.]?\d)*")


def is_valid_my_number(digits):
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
        return False
    first = digits[:11][::-1]
    r = sum(int(p) * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(first, start=1)) % 11
    return int(digits[11]) == (0 if r <= 1 else 11 - r)


def contains_my_number(text):
    text = unicodedata.normalize("NFKC", text)
    return any(is_valid_my_number(re.sub(r"\D", "", m.group())) for m in _RUN.finditer(text))
