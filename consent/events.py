"""The one registry of event kinds: every kind the chain may hold, declared once.

Each kind has its label in the reader's language, who may see it, and the
keys its public payload may carry. ``audit.append`` refuses a kind that is not
here and a payload key the kind does not declare, so nothing reaches the chain
undocumented. The union's audit page, its filters and the employee's history
read labels and details from here.

Who may see an event: the union sees every event (its audit page and the
bundle hold the whole chain); the employee an event is about also sees it in
their own history, through its opening. A kind not visible to the employee
cannot carry an opening, so nothing lands in a history unannounced.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

UNION = "union"
EMPLOYEE = "employee"


@dataclass(frozen=True)
class EventKind:
    name: str
    label: str
    payload: frozenset
    visible_to: frozenset = field(default=frozenset({UNION}))
    # payload -> a short readable line (public fields only); none when the label says it all.
    detail: object = None
    # HR acts: the union's audit page can list these alone.
    by_hr: bool = False

    def describe(self, payload):
        text = self.detail(payload) if self.detail else ""
        if payload.get("demo"):
            text = _note(text, _("demo")) if text else _("demo")
        return text


def _join(items):
    return _(", ").join(str(item) for item in items)


def _note(text, note):
    """``text (note)``, with the reader's language's brackets."""
    return _("%(text)s (%(note)s)") % {"text": text, "note": note}


def _version(payload):
    return _("Version %(number)s") % {"number": payload["version"]}


def _decision(payload):
    return _("Explanation version %(version)s, confirmed at sequence number %(seq)s") % {
        "version": payload["explanation_version"],
        "seq": payload["acknowledgement_seq"],
    }


SIGN_IN_METHODS = {
    "password": gettext_lazy("password"),
    "totp": gettext_lazy("authenticator app"),
    "recovery_codes": gettext_lazy("recovery code"),
    "code": gettext_lazy("sign-in code by mail"),
    "webauthn": gettext_lazy("security key"),
    "session": gettext_lazy("earlier session"),
}


def _methods(payload):
    if "methods" not in payload:
        return ""
    parts = payload["methods"].split("+")
    return _("With: %(methods)s") % {"methods": _join(SIGN_IN_METHODS.get(p, p) for p in parts)}


ACCESS_FLAGS = {
    "is_active": gettext_lazy("may sign in"),
    "is_staff": gettext_lazy("may open the administration site"),
    "is_superuser": gettext_lazy("holds every permission"),
}


def _access(payload):
    return _join(
        f"{ACCESS_FLAGS[name]}: {_('yes') if value else _('no')}" for name, value in sorted(payload.items())
    )


EMPLOYEE_FIELDS = {
    "display_name": gettext_lazy("name"),
    "office": gettext_lazy("office"),
    "is_active": gettext_lazy("active"),
}


def _employee_fields(payload):
    return _("Changed: %(fields)s") % {"fields": _join(EMPLOYEE_FIELDS.get(f, f) for f in payload["fields"])}


def _office(payload):
    text = f"{payload['code']} {payload['name']}"
    if payload.get("parent"):
        text += " " + _("(under %(parent)s)") % {"parent": payload["parent"]}
    return text


def _role(payload):
    from consent.models import RoleGrant

    return str(dict(RoleGrant.ROLE_CHOICES).get(payload["role"], payload["role"]))


def _roster(payload):
    return (
        _(
            "%(rows)s lines: %(created)s new, %(updated)s updated, %(deactivated)s deactivated, "
            "%(unchanged)s unchanged; offices: %(offices_created)s new, %(offices_updated)s updated"
        )
        % payload
    )


def _notice(payload):
    offices = payload.get("offices") or []
    text = _("To: %(offices)s") % {"offices": _join(offices)} if offices else _("To: every office")
    if payload.get("flagged_words"):
        text = _note(text, _("flagged words: %(words)s") % {"words": _join(payload["flagged_words"])})
    return text


def _step(payload):
    from consent.models import SwitchoverCase

    kinds = dict(SwitchoverCase.KIND_CHOICES)
    steps = dict(SwitchoverCase.STEPS.get(payload["kind"], []))
    return f"{kinds.get(payload['kind'], payload['kind'])}: {steps.get(payload['step'], payload['step'])}"


def _queue(payload):
    text = _("Page %(page)s") % {"page": payload["page"]}
    return _note(text, _("with a search")) if payload.get("searched") else text


def _snapshot(payload):
    return _("Released figures no. %(number)s") % {"number": payload["snapshot"]}


def _figures(payload):
    return _("Released figures no. %(number)s; counts under %(k)s hidden") % payload


def _complaint(payload):
    return _("Complaint %(number)s") % {"number": payload["complaint"]}


def _complaint_filed(payload):
    how = _("anonymous") if payload["anonymous"] else _("with a name")
    return _note(_complaint(payload), how)


def _complaint_message(payload):
    from consent.models import ComplaintMessage

    authors = dict(ComplaintMessage._meta.get_field("author").choices)
    author = authors.get(payload["from"], payload["from"])
    return _note(_complaint(payload), _("from %(author)s") % {"author": author})


def _complaint_status(payload):
    from consent.models import Complaint

    status = dict(Complaint.Status.choices).get(payload["status"], payload["status"])
    return f"{_complaint(payload)}: {status}"


def _checkpoint_saved(payload):
    return _("Up to sequence number %(seq)s") % payload


def _checkpoint(payload):
    return _("Checkpoint of %(size)s events") % payload


def _consistency(payload):
    return _("From %(old)s to %(new)s events") % payload


def _witness_key(payload):
    return _("Key: %(name)s") % {"name": payload["vkey"].split("+")[0]}


def _cosigned(payload):
    return _("Checkpoint of %(size)s events, witness %(witness)s") % payload


def _kind(name, label, payload=(), *, employee=False, detail=None, by_hr=False):
    visible = frozenset({UNION, EMPLOYEE}) if employee else frozenset({UNION})
    return EventKind(name, label, frozenset(payload), visible, detail, by_hr)


KINDS = {
    kind.name: kind
    for kind in (
        # The employee's own steps (subject: a commitment only they can open).
        _kind("account.signed_in", gettext_lazy("Signed in"), ["methods"], employee=True, detail=_methods),
        _kind(
            "explanation.viewed",
            gettext_lazy("Opened the explanation"),
            ["version", "content_hash"],
            employee=True,
            detail=_version,
        ),
        _kind(
            "explanation.acknowledged",
            gettext_lazy("Confirmed the explanation"),
            ["version", "content_hash", "demo"],
            employee=True,
            detail=_version,
        ),
        _kind(
            "decision.recorded",
            gettext_lazy("Recorded a decision"),
            ["explanation_version", "explanation_hash", "acknowledgement_seq", "demo"],
            employee=True,
            detail=_decision,
        ),
        # HR's work.
        _kind(
            "explanation.published",
            gettext_lazy("Published an explanation version"),
            ["version", "content_hash"],
            by_hr=True,
            detail=_version,
        ),
        _kind(
            "notice.published",
            gettext_lazy("Published a notice"),
            ["content_hash", "offices", "flagged_words"],
            by_hr=True,
            detail=_notice,
        ),
        _kind(
            "roster.imported",
            gettext_lazy("Imported the roster"),
            [
                "sha256",
                "encoding",
                "rows",
                "created",
                "updated",
                "deactivated",
                "unchanged",
                "offices_created",
                "offices_updated",
            ],
            by_hr=True,
            detail=_roster,
        ),
        _kind(
            "switchover.queue_opened",
            gettext_lazy("HR opened the switch-over queue"),
            ["page", "searched"],
            by_hr=True,
            detail=_queue,
        ),
        _kind(
            "switchover.step_recorded",
            gettext_lazy("HR recorded a switch-over step"),
            ["kind", "step"],
            employee=True,
            by_hr=True,
            detail=_step,
        ),
        _kind(
            "hr.figures_exported",
            gettext_lazy("HR downloaded figures"),
            ["snapshot"],
            by_hr=True,
            detail=_snapshot,
        ),
        _kind("figures.published", gettext_lazy("Figures released"), ["number", "k"], detail=_figures),
        # The administrator (or a command).
        _kind("role.granted", gettext_lazy("Role granted"), ["role"], detail=_role),
        _kind("role.revoked", gettext_lazy("Role revoked"), ["role"], detail=_role),
        _kind(
            "account.access_changed",
            gettext_lazy("Account access changed"),
            list(ACCESS_FLAGS),
            detail=_access,
        ),
        _kind(
            "employee.updated",
            gettext_lazy("Employee record corrected"),
            ["fields"],
            employee=True,
            detail=_employee_fields,
        ),
        _kind("office.created", gettext_lazy("Office created"), ["code", "name", "parent"], detail=_office),
        _kind("office.updated", gettext_lazy("Office changed"), ["code", "name", "parent"], detail=_office),
        # Complaints to the union (numbers only; never who).
        _kind(
            "complaint.filed",
            gettext_lazy("Complaint filed"),
            ["complaint", "anonymous"],
            detail=_complaint_filed,
        ),
        _kind(
            "complaint.message_added",
            gettext_lazy("Complaint message"),
            ["complaint", "from"],
            detail=_complaint_message,
        ),
        _kind(
            "complaint.note_added",
            gettext_lazy("Union's internal note"),
            ["complaint", "from"],
            detail=_complaint_message,
        ),
        _kind(
            "complaint.status_changed",
            gettext_lazy("Complaint status changed"),
            ["complaint", "status"],
            detail=_complaint_status,
        ),
        # The log itself.
        _kind(
            "audit.checkpoint_saved",
            gettext_lazy("Union saved a checkpoint"),
            ["seq", "entry_hash"],
            detail=_checkpoint_saved,
        ),
        _kind("audit.exported", gettext_lazy("Union downloaded the audit bundle")),
        _kind(
            "log.checkpoint_downloaded",
            gettext_lazy("Union downloaded a signed checkpoint"),
            ["size"],
            detail=_checkpoint,
        ),
        _kind(
            "log.consistency_downloaded",
            gettext_lazy("Union downloaded a consistency proof"),
            ["old", "new"],
            detail=_consistency,
        ),
        _kind(
            "log.witness_registered", gettext_lazy("Witness key registered"), ["vkey"], detail=_witness_key
        ),
        _kind(
            "log.checkpoint_cosigned",
            gettext_lazy("Checkpoint cosigned"),
            ["size", "root", "witness"],
            detail=_cosigned,
        ),
    )
}


def get(name):
    """The registered kind, or a ValueError naming the kind that is not declared."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"event kind {name!r} is not in consent/events.py") from None


def check(name, payload, *, about_employee):
    """Refuse what the registry does not declare: the kind, a payload key, an opening."""
    kind = get(name)
    undeclared = set(payload) - kind.payload
    if undeclared:
        raise ValueError(f"{name} declares no payload key {', '.join(sorted(undeclared))}")
    if about_employee and EMPLOYEE not in kind.visible_to:
        raise ValueError(f"{name} is not shown to the employee, so it carries no opening")
    return kind


def hr_actions():
    return sorted(name for name, kind in KINDS.items() if kind.by_hr)


def label(name):
    """The kind's label; a stored kind the registry lacks (only a forged row can
    hold one, and verification reports it) is shown as it is."""
    kind = KINDS.get(name)
    return kind.label if kind else name


def choices():
    """(kind, label) for every declared kind, in the registry's order (grouped by who acts)."""
    return [(name, kind.label) for name, kind in KINDS.items()]
