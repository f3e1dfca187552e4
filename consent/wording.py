"""Wording rules kept as data: compulsion words in notices, and the statements
every explanation version must keep."""

import json
import re
from functools import cache
from pathlib import Path

from django.utils.html import escape
from django.utils.safestring import mark_safe

CONTENT_DIR = Path(__file__).resolve().parent / "content"


@cache
def compulsion_words():
    lines = (CONTENT_DIR / "compulsion_words.txt").read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _pattern(words):
    # ASCII words match whole words only ("must" but not "mustard"); Japanese
    # has no spaces between words, so it matches anywhere.
    parts = [
        rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w) for w in sorted(words, key=len, reverse=True)
    ]
    return re.compile("|".join(parts), re.IGNORECASE)


def flagged_words(*texts):
    """The compulsion words found in the texts, in list order, each once."""
    found = {m.group(0).lower() for text in texts for m in _pattern(compulsion_words()).finditer(text)}
    return [w for w in compulsion_words() if w.lower() in found]


def highlight(text):
    """Escaped text with every compulsion word wrapped in <mark>."""
    pattern = _pattern(compulsion_words())
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece is escaped


@cache
def required_statements():
    data = json.loads((CONTENT_DIR / "required_statements.json").read_text(encoding="utf-8"))
    return {key: value for key, value in data.items() if not key.startswith("_")}


def missing_statements(fields):
    """(statement key, language) pairs an explanation's texts fail to state."""
    missing = []
    for key, statement in required_statements().items():
        for lang in ("ja", "en"):
            texts = (fields.get(f"{name}_{lang}", "") for name in ("title", "body", "acknowledgement"))
            text = " ".join(texts).lower()
            if not any(phrase.lower() in text for phrase in statement[lang]):
                missing.append((key, lang))
    return missing
