"""The rows of the employee's history page, built in Python in one place.

The template's loop over 20 + 20 rows ({% url %} three times a row, dates,
translations) was most of the page's CPU. Here each row is one format string:
every value is escaped with the standard library's ``html.escape`` (what
Django's ``escape`` calls, without its lazy-string wrapper), and each link's
URL is reversed once per page with a stand-in value that the row's own then
replaces. Rows are not kept between requests: a person rarely opens their
history twice in the same worker, and a kept row would hold the salts and
secrets that open their events.
"""

from html import escape

from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from consent import events as event_kinds
from consent.models import Choice, withdraws_consent

CHOICE_LABELS = dict(Choice.choices)
# Stands in for a receipt number or sequence number while a URL is reversed once per page.
_MARK = "0000999999999999990000"


def _url(name):
    """``name``'s URL as a function of its one argument, reversed once."""
    head, tail = reverse(name, args=[_MARK]).split(_MARK)
    return lambda value: escape(f"{head}{value}{tail}")


class _When:
    """Moments in the local time zone, in the language's DATETIME_FORMAT, looked up once."""

    def __init__(self):
        self.format = get_format("DATETIME_FORMAT")

    def __call__(self, moment):
        return escape(dateformat.format(timezone.localtime(moment), self.format))


def _text(value):
    """A value (a lazy translation too) as escaped HTML text."""
    return escape(str(value))


def decision_rows(values):
    """A page of ``hot.history``'s decisions as the table's rows."""
    when = _When()
    receipt, receipt_json, proof = _url("receipt"), _url("receipt_json"), _url("receipt_tlog_proof")
    receipt_word, proof_word = _text(_("Receipt")), _text(_("Proof"))

    def row(created_at, choice, previous_choice, comment, version, seq, receipt_id):
        moment = when(created_at)
        label = CHOICE_LABELS.get(choice, choice)
        if withdraws_consent(previous_choice, choice):
            shown = f"<strong>{_text(_('Withdrawal: %(choice)s') % {'choice': label})}</strong>"
        else:
            shown = _text(label)
        previous = _text(CHOICE_LABELS.get(previous_choice, previous_choice)) if previous_choice else "—"
        hidden = f'<span class="visually-hidden"> {moment}</span></a>'
        return (
            f"<tr>\n      <td>{moment}</td>\n      <td>{shown}</td>\n      <td>{previous}</td>\n"
            f'      <td class="pre-line">{_text(comment) if comment else "—"}</td>\n'
            f'      <td>v{version}</td>\n      <td class="num">{seq}</td>\n'
            f'      <td><a href="{receipt(receipt_id)}">{receipt_word}{hidden}\n'
            f'        · <a href="{receipt_json(receipt_id)}">JSON{hidden}\n'
            f'        · <a href="{proof(receipt_id)}">{proof_word}{hidden}</td>\n    </tr>'
        )

    return mark_safe("\n".join(row(*values_row) for values_row in values))  # noqa: S308 - every value escaped


def event_rows(values):
    """A page of ``hot.history``'s event openings as the table's rows."""
    when = _When()
    proof, proof_word = _url("event_proof"), _text(_("Proof"))

    def row(seq, created_at, kind, salt, secret):
        return (
            f'<tr>\n      <td class="num">{seq}</td>\n      <td>{when(created_at)}</td>\n'
            f"      <td>{_text(event_kinds.label(kind))}</td>\n"
            f'      <td><code class="hash small">{_text(salt)}</code><br>'
            f'<code class="hash small">{_text(secret)}</code></td>\n'
            f'      <td><a href="{proof(seq)}">{proof_word}'
            f'<span class="visually-hidden"> {seq}</span></a></td>\n    </tr>'
        )

    return mark_safe("\n".join(row(*values_row) for values_row in values))  # noqa: S308 - every value escaped
