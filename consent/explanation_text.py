"""The explanation's text: loading the shipped version, hashing, rendering.

Texts use a tiny, safe subset of Markdown (``## heading``, ``- item`` and
paragraphs); everything is escaped before any markup is added, so a text can
never inject HTML.
"""

from functools import lru_cache
from pathlib import Path

from django.utils.html import escape
from django.utils.safestring import mark_safe

from consent import chain

CONTENT_DIR = Path(__file__).resolve().parent / "content"
FIELDS = ("title", "body", "acknowledgement")
LANGS = ("ja", "en")


def parse(text):
    """Split a shipped file into title (``# ``), body and acknowledgement (``> ``)."""
    lines = text.strip().splitlines()
    if not lines or not lines[0].startswith("# ") or not lines[-1].startswith("> "):
        raise ValueError("an explanation file starts with '# title' and ends with '> acknowledgement'")
    return {
        "title": lines[0][2:].strip(),
        "body": "\n".join(lines[1:-1]).strip(),
        "acknowledgement": lines[-1][2:].strip(),
    }


def shipped_version(number=1):
    """The fields of a shipped version, as ExplanationVersion keyword arguments."""
    fields = {}
    for lang in LANGS:
        path = CONTENT_DIR / f"explanation-v{number}.{lang}.md"
        for name, value in parse(path.read_text(encoding="utf-8")).items():
            fields[f"{name}_{lang}"] = value
    return fields


def content_hash(number, fields):
    """SHA-256 over the version number and every text, as the chain and the verifier compute it."""
    return chain.explanation_digest(number, fields)


@lru_cache(maxsize=32)
def render(body):
    """The body as HTML; texts are never edited once stored, so each is rendered once per process."""
    html = []
    items = []

    def close_list():
        if items:
            html.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
            items.clear()

    for line in body.splitlines():
        line = line.strip()
        if line.startswith("## "):
            close_list()
            html.append(f"<h2>{escape(line[3:])}</h2>")
        elif line.startswith("- "):
            items.append(escape(line[2:]))
        elif line:
            close_list()
            html.append(f"<p>{escape(line)}</p>")
        else:
            close_list()
    close_list()
    return mark_safe(  # noqa: S308 - every text was escaped above
        "\n".join(html)
    )
