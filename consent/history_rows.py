"""The rows of the employee's history page, each rendered once per content and language.

Decisions and event openings are append-only, and a row shows only its own
fields: so a row is a pure function of those fields, the language, the time
zone and the URL prefix, and is memoised on exactly these. Two rows with the
same key are the same HTML by construction, so a row can never show another
person's data; a new language or prefix is a new key. The template's loop over
20 + 20 rows ({% url %} three times a row, dates, translations) was most of the
page's CPU.
"""

from functools import lru_cache

from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from consent import events as event_kinds
from consent.models import Choice, withdraws_consent

# Bounded per process: about 1 kB a row.
ROWS_KEPT = 10_000
CHOICE_LABELS = dict(Choice.choices)


def _context():
    """What a row's HTML depends on besides its own fields."""
    return get_language(), timezone.get_current_timezone_name(), get_script_prefix()


def _when(moment):
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def decision_rows(values):
    """A page of ``hot.decision_rows`` as the table's rows."""
    key = _context()
    return mark_safe("\n".join(_decision_row(*row, key) for row in values))  # noqa: S308 - format_html's


@lru_cache(maxsize=ROWS_KEPT)
def _decision_row(created_at, choice, previous_choice, comment, version, seq, receipt_id, _key):
    when = _when(created_at)
    label = CHOICE_LABELS.get(choice, choice)
    if withdraws_consent(previous_choice, choice):
        shown = format_html("<strong>{}</strong>", _("Withdrawal: %(choice)s") % {"choice": label})
    else:
        shown = format_html("{}", label)
    links = [
        format_html(
            '<a href="{}">{}<span class="visually-hidden"> {}</span></a>',
            reverse(name, args=[receipt_id]),
            text,
            when,
        )
        for name, text in (
            ("receipt", _("Receipt")),
            ("receipt_json", "JSON"),
            ("receipt_tlog_proof", _("Proof")),
        )
    ]
    return format_html(
        "<tr>\n      <td>{}</td>\n      <td>{}</td>\n      <td>{}</td>\n"
        '      <td class="pre-line">{}</td>\n      <td>v{}</td>\n      <td class="num">{}</td>\n'
        "      <td>{}\n        · {}\n        · {}</td>\n    </tr>",
        when,
        shown,
        CHOICE_LABELS.get(previous_choice, previous_choice) if previous_choice else "—",
        comment or "—",
        version,
        seq,
        *links,
    )


def event_rows(values):
    """A page of ``hot.opening_rows`` as the table's rows."""
    key = _context()
    return mark_safe("\n".join(_event_row(*row, key) for row in values))  # noqa: S308 - format_html's


@lru_cache(maxsize=ROWS_KEPT)
def _event_row(seq, created_at, kind, salt, secret, _key):
    return format_html(
        '<tr>\n      <td class="num">{}</td>\n      <td>{}</td>\n      <td>{}</td>\n'
        '      <td><code class="hash small">{}</code><br><code class="hash small">{}</code></td>\n'
        '      <td><a href="{}">{}<span class="visually-hidden"> {}</span></a></td>\n    </tr>',
        seq,
        _when(created_at),
        event_kinds.label(kind),
        salt,
        secret,
        reverse("event_proof", args=[seq]),
        _("Proof"),
        seq,
    )
