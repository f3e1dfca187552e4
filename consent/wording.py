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
def _entries():
    """(kind, text) per line of the list: kind is "word", "pattern" or "opposite"."""
    entries = []
    lines = (CONTENT_DIR / "compulsion_words.txt").read_text(encoding="utf-8").splitlines()
    for line in (line.strip() for line in lines):
        if not line or line.startswith("#"):
            continue
        kind = "word"
        if line.startswith("!"):
            kind, line = "opposite", line[1:]
        if len(line) > 2 and line.startswith("/") and line.endswith("/"):
            kind, line = ("pattern" if kind == "word" else kind), line[1:-1]
        elif kind == "opposite":
            line = _source(line)
        entries.append((kind, line))
    return tuple(entries)


def _source(word):
    # ASCII words match whole words only ("must" but not "mustard"); Japanese
    # has no spaces between words, so it matches anywhere.
    return rf"\b{re.escape(word)}\b" if word.isascii() else re.escape(word)


@cache
def _pattern():
    """One expression, a named group per entry. At one position the opposites
    come first (so "強制ではありません" is read past whole), then words
    longest first, then patterns."""
    order = {"opposite": 0, "word": 1, "pattern": 2}
    indexed = sorted(
        enumerate(_entries()),
        key=lambda item: (order[item[1][0]], -len(item[1][1]) if item[1][0] == "word" else 0),
    )
    parts = [f"(?P<e{index}>{_source(text) if kind == 'word' else text})" for index, (kind, text) in indexed]
    return re.compile("|".join(parts), re.IGNORECASE | re.MULTILINE)


def _flagged_matches(text):
    """(entry index, match) for every flagged match; opposites are skipped."""
    for match in _pattern().finditer(text):
        index = int(match.lastgroup[1:])
        if _entries()[index][0] != "opposite":
            yield index, match


def flagged_words(*texts):
    """What was flagged in the texts, each once, in the list's order: a word
    as the list writes it, a pattern as the text wrote it."""
    found = {}
    for text in texts:
        for index, match in _flagged_matches(text):
            kind, word = _entries()[index]
            found.setdefault((index, word if kind == "word" else match.group(0)), None)
    return [label for _index, label in sorted(found, key=lambda key: key[0])]


def highlight(text):
    """Escaped text with every flagged word wrapped in <mark>."""
    out, last = [], 0
    for _index, match in _flagged_matches(text):
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
