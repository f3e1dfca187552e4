"""Every write to audited state.

Each service is one transaction that changes state and appends its audit
event last, so the change and its record commit together or not at all.
Views, commands and tests call these; nothing else writes audited tables.
"""

import datetime
import functools
import logging
import secrets
import smtplib
from dataclasses import dataclass, field
from typing import NamedTuple

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, check_password, make_password
from django.core.exceptions import ValidationError
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from consent import audit, bulk, chain, explanation_text, hot, wording
from consent.models import (
    Acknowledgement,
    AuditEvent,
    AuditHead,
    Checkpoint,
    Choice,
    Complaint,
    ComplaintMessage,
    Decision,
    DecisionConfirmation,
    Employee,
    ExplanationVersion,
    Invitation,
    Notice,
    Office,
    RoleGrant,
    SwitchoverCase,
    pseudonym_for,
    validate_organisation_email,
)
from consent.mynumber import contains_my_number

logger = logging.getLogger(__name__)

COMMENT_MAX_LENGTH = 1000
# Far above any real text (the shipped explanation is about 2,500 characters),
# far below what would swell every page and the chain's export.
TITLE_MAX_LENGTH = 200
EXPLANATION_TEXT_MAX_LENGTH = 20_000
ACKNOWLEDGEMENT_MAX_LENGTH = 1_000
NOTICE_BODY_MAX_LENGTH = 10_000
MESSAGE_MAX_LENGTH = 5_000


class NotAcknowledged(Exception):
    """The employee has not acknowledged the current explanation version."""


class NoChange(Exception):
    """The submission repeats the employee's current choice; nothing is recorded."""


def check_free_text(text):
    if contains_my_number(text):
        raise ValidationError(
            _(
                "This text seems to contain a My Number (12-digit individual number). "
                "Remove it: this system never stores one."
            ),
            code="my_number",
        )


def check_length(text, limit):
    if len(text) > limit:
        raise ValidationError(
            _("This text is too long: %(length)d characters, at most %(max)d.")
            % {"length": len(text), "max": limit},
            code="too_long",
        )


EXPLANATION_LIMITS = {
    "title_ja": TITLE_MAX_LENGTH,
    "title_en": TITLE_MAX_LENGTH,
    "body_ja": EXPLANATION_TEXT_MAX_LENGTH,
    "body_en": EXPLANATION_TEXT_MAX_LENGTH,
    "acknowledgement_ja": ACKNOWLEDGEMENT_MAX_LENGTH,
    "acknowledgement_en": ACKNOWLEDGEMENT_MAX_LENGTH,
}


@transaction.atomic
def publish_explanation(*, actor, number, fields):
    """Store an explanation version; it is immutable from then on."""
    version = ExplanationVersion(
        number=number,
        content_hash=explanation_text.content_hash(number, fields),
        published_at=timezone.now(),
        audit_seq=0,
        **fields,
    )
    version.full_clean(exclude=["audit_seq"])
    audit.append(
        "explanation.published",
        actor=actor,
        payload={"version": number, "content_hash": version.content_hash},
        record=version,
    )
    return version


def _employee(user, *, locked=False):
    employees = Employee.objects.select_related("office")
    if locked:
        # Only the employee row: a plain FOR UPDATE would lock the office too.
        employees = employees.select_for_update(of=("self",))
    try:
        return employees.get(user=user, is_active=True)
    except Employee.DoesNotExist:
        raise _not_an_employee() from None


def _not_an_employee():
    return PermissionError("only an active employee records a decision")


def _locked_employee(user):
    """The user's employee row, locked until the transaction ends.

    Every service that locks takes the employee row first, then switch-over
    cases, then the chain head (audit.append, last): one order, so two
    services never wait on each other in a circle.
    """
    return _employee(user, locked=True)


@transaction.atomic
def record_explanation_viewed(*, user, version):
    employee = _employee(user)
    return audit.append(
        "explanation.viewed",
        actor=audit.EMPLOYEE,
        opening_for=employee,
        payload={"version": version.number, "content_hash": version.content_hash},
    )


@transaction.atomic
def acknowledge_explanation(*, user, version, demo=False):
    """Record that the employee read and acknowledged ``version``; repeats are no-ops."""
    # Lock the employee row first (the order every service keeps: employee,
    # then cases, then the chain head), so a double click waits here and then
    # finds the first acknowledgement instead of inserting a second one.
    employee = _locked_employee(user)
    existing = Acknowledgement.objects.filter(employee=employee, version=version).first()
    if existing:
        return existing
    payload = {"version": version.number, "content_hash": version.content_hash}
    if demo:
        payload["demo"] = True
    now = timezone.now()
    acknowledgement = Acknowledgement(employee=employee, version=version, created_at=now, audit_seq=0)
    audit.append(
        "explanation.acknowledged",
        actor=audit.EMPLOYEE,
        opening_for=employee,
        payload=payload,
        record=acknowledgement,
    )
    return acknowledgement


@transaction.atomic
def record_decision(*, user, choice, comment="", channel="web", sign_in_method="password", demo=False):
    """Record the signed-in employee's own decision and return it.

    The requesting user is both actor and subject: there is deliberately no
    way to name another person. Refuses (NotAcknowledged) unless the current
    explanation version was acknowledged, and (NoChange) a repeat of the
    current choice, so a double submission records nothing.
    """
    if choice not in Choice.values:
        raise ValidationError(_("Choose one of the options."), code="invalid_choice")
    comment = comment.strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            _("The comment is too long (at most %(max)d characters).") % {"max": COMMENT_MAX_LENGTH},
            code="too_long",
        )
    check_free_text(comment)
    # Lock the employee row: two submissions at once must not both see the
    # same "current" choice.
    # The same lock as _locked_employee's, with the acknowledgement read in the same query.
    employee, acknowledgement = hot.locked_employee_and_acknowledgement(user)
    if employee is None:
        raise _not_an_employee()
    if acknowledgement is None:
        raise NotAcknowledged()
    if choice == employee.current_choice:
        raise NoChange()
    version = acknowledgement.version
    # The choice and how it was made are hidden in the commitment; the body
    # keeps only what names public records (the text and the acknowledgement).
    secret = {
        "choice": choice,
        "previous_choice": employee.current_choice or None,
        "channel": channel,
        "sign_in_method": sign_in_method,
    }
    payload = {
        "explanation_version": version.number,
        "explanation_hash": version.content_hash,
        "acknowledgement_seq": acknowledgement.audit_seq,
    }
    if demo:
        payload["demo"] = True
    decision = Decision(
        employee=employee,
        choice=choice,
        previous_choice=employee.current_choice,
        comment=comment,
        explanation_version=version,
        acknowledgement=acknowledgement,
        channel=channel,
        sign_in_method=sign_in_method,
        created_at=timezone.now(),
        audit_seq=0,
        entry_hash="",
    )
    previous = employee.current_choice
    employee.current_choice = choice
    employee.save(update_fields=["current_choice"])
    # The cases HR's queue opens and the confirmation mail are written in the
    # audit write itself (one statement on PostgreSQL). The mail is sent by
    # send_queued_mail: it commits with the decision or not at all, and a slow
    # or failing mail server neither holds this request nor loses it.
    written_with = _follow_switchover(employee, previous, choice, decision.created_at)
    if user.email and not demo:
        written_with.append(DecisionConfirmation(decision=decision))
    audit.append(
        "decision.recorded",
        actor=audit.EMPLOYEE,
        opening_for=employee,
        secret=secret,
        payload=payload,
        record=decision,
        also=written_with,
    )
    return decision


def _follow_switchover(employee, previous, choice, now):
    """Keep HR's queue in step with the decision: an opt-in opens a switch-over;
    a withdrawal closes it, and opens a revert when card work was already done.
    Returns the cases to open, unsaved: they are written with the decision's event.

    Without work to undo no revert is opened: it would show HR, by name,
    someone who withdrew."""
    if choice == Choice.OPT_IN:
        return [SwitchoverCase(employee=employee, kind=SwitchoverCase.SWITCH, opened_at=now)]
    if previous != Choice.OPT_IN:
        return []
    undo = card_work_to_undo(employee)
    SwitchoverCase.objects.filter(employee=employee, kind=SwitchoverCase.SWITCH, closed_at=None).update(
        closed_at=now
    )
    return [SwitchoverCase(employee=employee, kind=SwitchoverCase.REVERT, opened_at=now)] if undo else []


def card_work_to_undo(employee):
    """Whether HR already did card work on the employee's latest switch-over.

    If so, withdrawing opens a revert task that shows HR the employee's name,
    and the decision page must say so before they confirm."""
    return bool(hot.latest_switch_steps(employee))


def withdrawal_names_employee(employee):
    """Whether withdrawing now (opt out or not decided) would put the employee's name before HR."""
    return employee.current_choice == Choice.OPT_IN and card_work_to_undo(employee)


def revert_opened_by(decision):
    """Whether this decision opened a revert task, i.e. HR now sees the employee's name on one."""
    return SwitchoverCase.objects.filter(
        employee=decision.employee_id, kind=SwitchoverCase.REVERT, opened_at=decision.created_at
    ).exists()


@transaction.atomic
def record_sign_in(*, user, methods):
    """Append a sign-in event: which factors were used, never where from.

    An employee's sign-in is about them: the methods are hidden in its
    commitment. An account that is no employee (an administrator) signs in
    under its staff identity."""
    employee = Employee.objects.filter(user=user).first()
    if employee is None:
        return audit.append(
            "account.signed_in", actor=audit.staff_identity(user), payload={"methods": methods}
        )
    return audit.append(
        "account.signed_in", actor=audit.EMPLOYEE, opening_for=employee, secret={"methods": methods}
    )


@transaction.atomic
def provision_employee(*, email, display_name, employee_number, office, is_active=True, password_hash=None):
    """Create or update a person's account and employee record (no decision, no event).

    Accounts are provisioned, never self-registered; the roster import
    records one audit event for the whole file rather than one per person.
    Only addresses in the organisation's domains get an account, and the
    moment an account is created or re-addressed is kept for the union's
    indicator of new accounts that decide at once.
    """
    User = get_user_model()
    email = email.strip()
    validate_organisation_email(email)
    employee = Employee.objects.select_related("user").filter(employee_number=employee_number).first()
    user = employee.user if employee else User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(username=email.lower(), email=email)
        if password_hash:
            user.password = password_hash
        else:
            user.set_unusable_password()
    readdressed = user.pk is None or employee is None or user.email.lower() != email.lower()
    user.email = email
    user.is_active = is_active
    user.save()
    EmailAddress.objects.filter(user=user).exclude(email__iexact=email).delete()
    EmailAddress.objects.update_or_create(
        user=user, email=email.lower(), defaults={"verified": True, "primary": True}
    )
    if employee is None:
        employee = Employee(user=user, employee_number=employee_number)
    employee.display_name = display_name
    employee.office = office
    employee.is_active = is_active
    if readdressed:
        employee.provisioned_at = timezone.now()
    employee.full_clean()
    if employee.pk is None:
        employee.save()
    else:
        # Never write current_choice back: a decision may have committed since we read the row.
        employee.save(update_fields=["display_name", "office", "is_active", "provisioned_at"])
    return employee


# --- HR -------------------------------------------------------------------


class Refusal(Exception):
    """A write refused for reasons the caller can show; nothing was changed."""

    def __init__(self, reasons):
        super().__init__(reasons)
        self.reasons = reasons


class ExplanationIncomplete(Refusal):
    """A new explanation version drops statements every version must keep."""


class CompulsionWording(Refusal):
    """A notice's wording implies compulsion and HR did not choose to publish anyway."""


class RosterRefused(Refusal):
    """A roster with problems; every one is listed."""


@transaction.atomic
def publish_explanation_version(*, user, fields):
    """HR publishes the next explanation version; everyone re-acknowledges before deciding again."""
    missing = wording.missing_statements(fields)
    if missing:
        raise ExplanationIncomplete(missing)
    for name, value in fields.items():
        check_length(value, EXPLANATION_LIMITS[name])
        check_free_text(value)
    # Take the chain's lock first, so two HR officers publishing at once get
    # consecutive numbers instead of a clash.
    AuditHead.objects.select_for_update().get(pk=1)
    current = ExplanationVersion.current()
    return publish_explanation(
        actor=audit.staff_identity(user), number=(current.number if current else 0) + 1, fields=fields
    )


@transaction.atomic
def publish_notice(*, user, title, body, offices=(), accept_flagged=False):
    """Publish an HR notice. Wording that implies compulsion is refused unless
    HR explicitly publishes anyway, and then it stays flagged for the union."""
    check_length(title, TITLE_MAX_LENGTH)
    check_length(body, NOTICE_BODY_MAX_LENGTH)
    check_free_text(title)
    check_free_text(body)
    flagged = wording.flagged_words(title, body)
    if flagged and not accept_flagged:
        raise CompulsionWording(flagged)
    offices = list(offices)
    content_hash = chain.notice_digest(title, body, [o.code for o in offices])
    notice = Notice(
        title=title,
        body=body,
        flagged_words=flagged,
        content_hash=content_hash,
        published_at=timezone.now(),
        audit_seq=0,
    )
    audit.append(
        "notice.published",
        actor=audit.staff_identity(user),
        payload={
            "content_hash": content_hash,
            "offices": sorted(o.code for o in offices),
            "flagged_words": flagged,
        },
        record=notice,
    )
    notice.offices.set(offices)
    return notice


def notices_for(employee):
    """Notices addressed to everyone or to the employee's office or an office above it."""
    codes, office = [], employee.office
    while office is not None:
        codes.append(office.pk)
        office = office.parent
    return Notice.objects.filter(Q(offices__isnull=True) | Q(offices__in=codes)).distinct()


@transaction.atomic
def record_switchover_step(*, user, case, step):
    """HR marks one processing step done; the step is an audit event."""
    # The employee first, then the case: the order record_decision keeps.
    employee = Employee.objects.select_for_update().get(pk=case.employee_id)
    case = SwitchoverCase.objects.select_for_update().get(pk=case.pk)
    case.employee = employee
    if case.closed_at is not None:
        raise ValidationError(_("This case is closed."), code="closed")
    if step != case.next_step():
        raise ValidationError(_("Steps are done in order; this is not the next step."), code="order")
    now = timezone.now()
    case.steps_done[step] = audit.rfc3339(now)
    if case.next_step() is None:
        case.closed_at = now
    case.save(update_fields=["steps_done", "closed_at"])
    audit.append(
        "switchover.step_recorded",
        actor=audit.staff_identity(user),
        opening_for=case.employee,
        secret={"case": case.pk},
        payload={"kind": case.kind, "step": step},
    )
    return case


@transaction.atomic
def record_access(*, user, kind, payload=None):
    """Reads that must leave a trace: HR opening the queue or exporting figures,
    the union exporting the chain."""
    return audit.append(kind, actor=audit.staff_identity(user), payload=payload or {})


@dataclass
class RosterPlan:
    """What importing a parsed roster would do; nothing is written to build it."""

    create: list = field(default_factory=list)  # RosterRow
    update: list = field(default_factory=list)  # (Employee, RosterRow, [changed field names])
    deactivate: list = field(default_factory=list)  # Employee
    unchanged: int = 0
    offices_create: list = field(default_factory=list)  # office codes
    offices_update: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # roster.RosterError
    invitations: int = 0  # queued by the import, for send_queued_mail to send

    @property
    def changes(self):
        return (
            len(self.create)
            + len(self.update)
            + len(self.deactivate)
            + len(self.offices_create)
            + len(self.offices_update)
        )


def plan_roster(parsed, *, user):
    """Compare a parsed roster (the whole staff) with the database.

    Employees missing from the file are leavers: they are deactivated, never
    deleted, and their history stays.
    """
    from consent.roster import RosterError

    plan = RosterPlan(errors=list(parsed.errors))
    if not parsed.ok:
        return plan
    offices = {o.code: o for o in Office.objects.select_related("parent")}
    file_offices = {}
    for row in parsed.rows:
        file_offices.setdefault(row.office_code, (row.office_name, row.parent_office_code, row.line))
    for code, (name, parent, line) in file_offices.items():
        if parent and parent not in file_offices and parent not in offices:
            plan.errors.append(
                RosterError(line, None, _("The parent office %(code)s does not exist.") % {"code": parent})
            )
        existing = offices.get(code)
        if existing is None:
            plan.offices_create.append(code)
        elif existing.name != name or (existing.parent.code if existing.parent else "") != parent:
            plan.offices_update.append(code)
    # Plain tuples, not model instances: a roster is the whole staff, 100,000 people and more.
    employees = {
        number: _Staff(pk, number, name, active, user_id, office, email.lower())
        for pk, number, name, active, user_id, office, email in Employee.objects.values_list(
            "pk", "employee_number", "display_name", "is_active", "user_id", "office__code", "user__email"
        )
    }
    emails = {email.lower(): pk for email, pk in get_user_model().objects.values_list("email", "pk")}
    for row in parsed.rows:
        employee = employees.get(row.employee_number)
        owner = emails.get(row.email)
        if owner is not None and (employee is None or employee.user_id != owner):
            plan.errors.append(
                RosterError(
                    row.line,
                    None,
                    _("The email %(email)s belongs to another account.") % {"email": row.email},
                )
            )
            continue
        if employee is None:
            plan.create.append(row)
            continue
        if employee.email != row.email:
            # Changing the address would let whoever imports the file receive
            # the account's password reset and act as that person.
            plan.errors.append(
                RosterError(
                    row.line, None, _("An import cannot change the email address of an existing account.")
                )
            )
            continue
        changed = [
            name
            for name, old, new in (
                ("name", employee.display_name, row.name),
                ("office", employee.office, row.office_code),
                ("active", employee.is_active, row.active),
            )
            if old != new
        ]
        if changed == ["active"] and not row.active:
            plan.deactivate.append(employee.model())
        elif changed:
            plan.update.append((employee.model(), row, changed))
        else:
            plan.unchanged += 1
    listed = {row.employee_number for row in parsed.rows}
    # The leavers are few: pick them, then sort them, not the whole staff.
    leavers = sorted(number for number in employees.keys() - listed if employees[number].is_active)
    plan.deactivate += [employees[number].model() for number in leavers]
    if any(employee.user_id == user.pk for employee in plan.deactivate):
        plan.errors.append(
            RosterError(None, None, _("This file would deactivate your own account. Is it the whole staff?"))
        )
    return plan


class _Staff(NamedTuple):
    """One employee as the roster plan compares them (a tuple: 100,000 are made per plan)."""

    pk: int
    employee_number: str
    display_name: str
    is_active: bool
    user_id: int
    office: str  # code
    email: str  # lower-cased

    def model(self):
        """An Employee holding what the plan shows and the import writes (not a full row)."""
        return Employee(
            pk=self.pk,
            employee_number=self.employee_number,
            display_name=self.display_name,
            is_active=self.is_active,
            user_id=self.user_id,
        )


@transaction.atomic
def import_roster(*, user, parsed, invite=True):
    """Apply a roster in one transaction: all of it or, on any problem, none of it.

    Written in bulk (consent.bulk: COPY on PostgreSQL), not person by person:
    the plan has already checked every row against the database inside this
    transaction, and the one audit event is appended in it too. New accounts get
    an unusable password and, with ``invite``, an invitation to set one is
    queued (send_queued_mail sends it, from a timer, not this request).
    """
    plan = plan_roster(parsed, user=user)
    if plan.errors:
        raise RosterRefused(plan.errors)
    if not plan.changes:
        return plan
    offices = dict(Office.objects.values_list("code", "pk"))
    rows_by_office = {}
    for row in parsed.rows:
        rows_by_office.setdefault(row.office_code, row)
    created = bulk.insert(
        Office,
        ["code", "name"],
        ((code, rows_by_office[code].office_name) for code in plan.offices_create),
        new_ids=True,
    )
    offices.update(zip(plan.offices_create, created, strict=True))
    # Parents once every office has its id: a new office may sit under another new one.
    bulk.update(
        Office,
        ["name", "parent"],
        (
            (offices[code], row.office_name, offices.get(row.parent_office_code))
            for code in plan.offices_create + plan.offices_update
            for row in [rows_by_office[code]]
        ),
    )
    now = timezone.now()
    invited = _create_accounts(plan.create, offices, now) if plan.create else []
    # Never write current_choice back: a decision may have committed since we read the row.
    bulk.update(
        Employee,
        ["display_name", "office", "is_active"],
        ((e.pk, row.name, offices[row.office_code], row.active) for e, row, _changed in plan.update),
    )
    for batch in bulk.batches(plan.update):
        for active in (True, False):
            get_user_model().objects.filter(
                pk__in=[e.user_id for e, row, _changed in batch if row.active is active]
            ).update(is_active=active)
    for batch in bulk.batches(plan.deactivate):
        Employee.objects.filter(pk__in=[e.pk for e in batch]).update(is_active=False)
        get_user_model().objects.filter(pk__in=[e.user_id for e in batch]).update(is_active=False)
    audit.append(
        "roster.imported",
        actor=audit.staff_identity(user),
        payload={
            "sha256": parsed.sha256,
            "encoding": parsed.encoding,
            "rows": len(parsed.rows),
            "created": len(plan.create),
            "updated": len(plan.update),
            "deactivated": len(plan.deactivate),
            "unchanged": plan.unchanged,
            "offices_created": len(plan.offices_create),
            "offices_updated": len(plan.offices_update),
        },
    )
    if invite:  # without it nothing is queued: the staff may still reset their password
        bulk.insert(Invitation, ["employee_id", "queued_at"], ((pk, now) for pk in invited))
        plan.invitations = len(invited)
    return plan


def _create_accounts(rows, offices, now):
    """The accounts and employee records of new staff, as provision_employee makes
    them one by one, written as plain rows (COPY on PostgreSQL); the ids of the
    employees to invite (the active ones)."""
    # Each table's rows in the order of its text indexes (accounts and addresses by
    # address, employees by number), ids following: PostgreSQL then appends to the
    # right edge of each index instead of descending to a random page per row
    # (100,000 addresses into a table indexed as auth_user: 2.3 s in order, 6.0 s not).
    rows = sorted(rows, key=lambda row: row.email)
    # What set_unusable_password stores (a random string nothing hashes to), drawn
    # at once: its 40 calls to secrets.choice per account took half the import.
    user_ids = bulk.insert(
        get_user_model(),
        ["username", "email", "password", "is_active", "is_superuser", "is_staff"]
        + ["first_name", "last_name", "date_joined"],
        (
            (row.email, row.email, UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30), row.active)
            + (False, False, "", "", now)
            for row in rows
        ),
        new_ids=True,
    )
    bulk.insert(
        EmailAddress,
        ["user_id", "email", "verified", "primary"],
        ((pk, row.email, True, True) for pk, row in zip(user_ids, rows, strict=True)),
    )
    accounts = sorted(zip(user_ids, rows, strict=True), key=lambda account: account[1].employee_number)
    employee_ids = bulk.insert(
        Employee,
        ["user_id", "employee_number", "pseudonym", "display_name", "office_id", "is_active"]
        + ["current_choice", "provisioned_at"],
        (
            (pk, row.employee_number, pseudonym_for("employee", row.employee_number), row.name)
            + (offices[row.office_code], row.active, "", now)
            for pk, row in accounts
        ),
        new_ids=True,
    )
    return [pk for pk, (_user, row) in zip(employee_ids, accounts, strict=True) if row.active]


MAIL_BATCH = 500  # queued mails of one kind read at a time by send_queued_mail


# The mail server itself did not answer (timed out, refused, hung up): every
# mail after this one would wait out the same timeout, so the run ends there.
MAIL_SERVER_DOWN = (TimeoutError, ConnectionError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)


class _MailServerDown(Exception):
    """Ends a send_queued_mail run: what is left stays pending for the next."""


class _MailQueue:
    """One kind of queued mail: its pending rows (each with a ``sent_at``), how
    one becomes a message (subject, body, address), and a run's counts."""

    def __init__(self, pending, compose, what):
        self.pending, self.compose, self.what = pending, compose, what
        self.last = self.sent = self.failed = 0

    def send_batch(self, connection):
        """Send the next MAIL_BATCH pending mails; False when there were none.

        Each is locked, sent and stamped in a transaction of its own, so a crash
        re-sends at most the one in flight, and two runs at once skip each other's
        rows (SKIP LOCKED; SQLite has one writer anyway). A mail that fails, to
        send or to be composed (a bad header, a template error), is logged and
        stays pending for the next run; the ones after it go on: rows go in pk
        order, so one that ended the run would hold back every later mail."""
        ids = list(
            self.pending.filter(pk__gt=self.last).order_by("pk").values_list("pk", flat=True)[:MAIL_BATCH]
        )
        if not ids:
            return False
        self.last = ids[-1]
        for pk in ids:
            try:
                self.sent += self._send_one(pk, connection)  # counted once committed
            except MAIL_SERVER_DOWN as error:
                logger.exception("the mail server did not answer; every queued mail stays pending")
                self.failed += 1
                raise _MailServerDown from error
            except Exception:  # its transaction is rolled back: the row stays pending, unlocked
                logger.exception("could not send %s; it stays pending", self.what)
                self.failed += 1
        return True

    @transaction.atomic
    def _send_one(self, pk, connection):
        """Lock, send and stamp one row; 1 if this run sent it, 0 if another run has it."""
        row = self.pending.select_for_update(skip_locked=True, of=("self",)).filter(pk=pk).first()
        if row is None:  # sent or being sent by another run
            return 0
        subject, body, address = self.compose(row)
        send_mail(subject, body, None, [address], connection=connection)
        row.sent_at = timezone.now()
        row.save(update_fields=["sent_at"])
        return 1


def _invitation_mail(invitation):
    """An active account's invitation: allauth's link to set a password."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    user = invitation.employee.user
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
    )
    body = render_to_string("consent/email/invitation.txt", {"user": user, "url": settings.SITE_URL + path})
    return _("Your account on the consent ledger"), body, user.email


def _confirmation_mail(confirmation):
    """Tell the employee a decision was recorded, so one nobody made is noticed.
    The mail passes through servers other people run: it never says the choice."""
    decision = confirmation.decision
    context = {
        "decision": decision,
        "receipt_url": settings.SITE_URL + reverse("receipt", args=[decision.receipt_id]),
    }
    return (
        _("Your decision was recorded (receipt %(id)s)") % {"id": decision.receipt_id},
        render_to_string("consent/email/decision_recorded.txt", context),
        decision.employee.user.email,
    )


def send_queued_mail():
    """Send every queued mail over one connection to the mail server: the
    confirmations of decisions and the roster import's invitations. Returns
    {"confirmations": (sent, failed), "invitations": (sent, failed)}.

    Every waiting confirmation goes before each batch of invitations, so a first
    import's thousands of invitations hold a decision's confirmation back by one
    batch at most. A confirmation is sent whatever became of the account since
    (it is about a decision already made); an invitation waits while its
    account or employee is inactive. A mail server that does not answer ends
    the run at the first mail it failed (each would wait out EMAIL_TIMEOUT);
    a mail it refuses (a bad address) is only that mail's failure.
    """
    confirmations = _MailQueue(
        DecisionConfirmation.objects.filter(sent_at__isnull=True).select_related("decision__employee__user"),
        _confirmation_mail,
        "a decision confirmation",
    )
    invitations = _MailQueue(
        Invitation.objects.filter(
            sent_at__isnull=True, employee__is_active=True, employee__user__is_active=True
        ).select_related("employee__user"),
        _invitation_mail,
        "an invitation",
    )
    # The timer runs every minute: the mail server is not even logged in to (nor,
    # when it is down, a traceback logged) unless there is something to send.
    if confirmations.pending.exists() or invitations.pending.exists():
        with translation.override(settings.LANGUAGE_CODE), get_connection() as connection:
            try:
                while True:
                    while confirmations.send_batch(connection):
                        pass
                    if not invitations.send_batch(connection):
                        break
            except _MailServerDown:
                pass  # logged where it happened; the next run tries again
    return {
        "confirmations": (confirmations.sent, confirmations.failed),
        "invitations": (invitations.sent, invitations.failed),
    }


# --- Complaints and the union -------------------------------------------------


def _new_complaint_number():
    while True:
        number = f"{secrets.randbelow(900000) + 100000}"
        if not Complaint.objects.filter(number=number).exists():
            return number


@transaction.atomic
def file_complaint(
    *, user, anonymous, what, involved_role, details, occurred_on=None, office=None, share_pseudonym=False
):
    """File a complaint for the union. Returns (complaint, receipt code or None).

    Anonymous: no link to the account is stored, and the receipt code is shown
    once and kept only as a salted hash. Named: linked to the employee, who may
    also share their audit pseudonym so the union can read their decisions.
    The audit event names neither, so no other role can tell who complained.
    """
    check_length(details, MESSAGE_MAX_LENGTH)
    check_free_text(details)
    employee = None if anonymous else _employee(user)
    now = timezone.now()
    number = _new_complaint_number()
    code = None
    complaint = Complaint(
        number=number,
        what=what,
        involved_role=involved_role,
        details=details.strip(),
        occurred_on=occurred_on,
        office=office,
        created_at=now,
        updated_at=now,
    )
    if anonymous:
        code = number + "".join(secrets.choice("0123456789") for _ in range(10))
        complaint.code_hash = make_password(code)
    else:
        complaint.reporter = employee
        complaint.shared_pseudonym = employee.pseudonym if share_pseudonym else ""
    complaint.full_clean()
    complaint.save()
    audit.append(
        "complaint.filed", actor=audit.COMPLAINANT, payload={"complaint": number, "anonymous": anonymous}
    )
    return complaint, code


CODE_ATTEMPTS_PER_NUMBER = 5
CODE_ATTEMPT_WINDOW = datetime.timedelta(hours=1)


@functools.cache
def _decoy_code_hash():
    """A hash to check against when no complaint can open, so that every answer
    costs the same time and timing does not tell which numbers exist."""
    return make_password(secrets.token_hex(8))


def complaint_for_code(code):
    """The anonymous complaint a receipt code opens, or None (revealing nothing about why).

    Every attempt is counted against its complaint number before the code is
    checked, in one UPDATE that only succeeds below the limit, so simultaneous
    guesses cannot slip past it. The count lives on the complaint itself: a
    number that does not exist creates no state, and nobody's guesses lock
    anyone out of another complaint.
    """
    code = "".join(code.split())
    if len(code) != 16 or not (code.isascii() and code.isdigit()):
        return None
    now = timezone.now()
    window_over = Q(code_attempts_since=None) | Q(code_attempts_since__lt=now - CODE_ATTEMPT_WINDOW)
    anonymous = Complaint.objects.filter(number=code[:6], reporter=None)
    counted = anonymous.filter(Q(code_attempts__lt=CODE_ATTEMPTS_PER_NUMBER) | window_over).update(
        code_attempts=Case(When(window_over, then=Value(1)), default=F("code_attempts") + 1),
        code_attempts_since=Case(When(window_over, then=Value(now)), default=F("code_attempts_since")),
    )
    complaint = anonymous.first() if counted else None
    if complaint is None:
        check_password(code, _decoy_code_hash())
        return None
    if not check_password(code, complaint.code_hash):
        return None
    anonymous.update(code_attempts=0, code_attempts_since=None)
    return complaint


@transaction.atomic
def add_complaint_message(*, complaint, author, body, internal=False, user=None):
    check_length(body, MESSAGE_MAX_LENGTH)
    check_free_text(body)
    if not body.strip():
        raise ValidationError(_("Write a message first."), code="required")
    if author == ComplaintMessage.REPORTER and not complaint.is_open:
        raise ValidationError(_("This complaint is closed."), code="closed")
    message = ComplaintMessage.objects.create(
        complaint=complaint, author=author, body=body.strip(), internal=internal, created_at=timezone.now()
    )
    Complaint.objects.filter(pk=complaint.pk).update(updated_at=message.created_at)
    audit.append(
        "complaint.note_added" if internal else "complaint.message_added",
        actor=audit.staff_identity(user) if user else audit.COMPLAINANT,
        payload={"complaint": complaint.number, "from": author},
    )
    return message


@transaction.atomic
def set_complaint_status(*, complaint, status, user=None):
    """The union moves a complaint along; the reporter (user None) may only withdraw."""
    if status not in Complaint.Status.values:
        raise ValidationError(_("Choose a status."), code="invalid")
    if user is None and status != Complaint.Status.WITHDRAWN:
        raise PermissionError("a reporter can only withdraw")
    if not complaint.is_open and user is None:
        raise ValidationError(_("This complaint is closed."), code="closed")
    Complaint.objects.filter(pk=complaint.pk).update(status=status, updated_at=timezone.now())
    complaint.refresh_from_db()
    audit.append(
        "complaint.status_changed",
        actor=audit.staff_identity(user) if user else audit.COMPLAINANT,
        payload={"complaint": complaint.number, "status": status},
    )
    return complaint


@transaction.atomic
def save_checkpoint(*, user):
    """Keep the current head as a checkpoint the union holds (and downloads)."""
    head = AuditEvent.objects.order_by("-seq").only("seq", "entry_hash").first()
    checkpoint, _created = Checkpoint.objects.get_or_create(
        seq=head.seq, entry_hash=head.entry_hash, defaults={"saved_at": timezone.now()}
    )
    audit.append(
        "audit.checkpoint_saved",
        actor=audit.staff_identity(user),
        payload={"seq": head.seq, "entry_hash": head.entry_hash},
    )
    return checkpoint


@transaction.atomic
def grant_role(*, actor, user, role, grant=None):
    """Give a privileged role; on the chain, so the union sees who can read what.
    ``actor`` None is a command (seed_demo), recorded as the system."""
    grant = grant or RoleGrant(user=user, role=role)
    grant.user, grant.role = user, role
    grant.save()
    audit.append(
        "role.granted", actor=_admin_actor(actor), subject=audit.staff_identity(user), payload={"role": role}
    )
    return grant


@transaction.atomic
def revoke_role(*, actor, grant):
    audit.append(
        "role.revoked",
        actor=_admin_actor(actor),
        subject=audit.staff_identity(grant.user),
        payload={"role": grant.role},
    )
    grant.delete()


# --- The administrator ----------------------------------------------------------
#
# Every change the Django admin can make goes through one of these, so each is
# on the chain in the same transaction. The administrator acts under a staff
# identity, which links no employee events (docs/log-v2.md).

ACCESS_FLAGS = ("is_active", "is_staff", "is_superuser")


def _admin_actor(actor):
    """The administrator making a change, or the system when a command makes it."""
    return audit.SYSTEM if actor is None else audit.staff_identity(actor)


@transaction.atomic
def set_account_access(*, actor, user, **flags):
    """Change an account's access flags (signing in, the admin, superuser)."""
    if not set(flags) <= set(ACCESS_FLAGS):
        raise ValueError(f"only {', '.join(ACCESS_FLAGS)} change here")
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    changed = {name: bool(value) for name, value in flags.items() if getattr(user, name) != bool(value)}
    if not changed:
        return user
    for name, value in changed.items():
        setattr(user, name, value)
    user.save(update_fields=list(changed))
    audit.append(
        "account.access_changed",
        actor=_admin_actor(actor),
        subject=audit.staff_identity(user),
        payload=changed,
    )
    return user


@transaction.atomic
def update_employee(*, actor, employee, display_name, office, is_active):
    """Correct a person's name, office or active flag between roster imports.

    The event names which fields changed, not their values: an office in an
    employee's event would help single the person out."""
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    changed = [
        name
        for name, value in (("display_name", display_name), ("office", office), ("is_active", is_active))
        if getattr(employee, name) != value
    ]
    if not changed:
        return employee
    employee.display_name, employee.office, employee.is_active = display_name, office, is_active
    employee.full_clean()
    # Never write current_choice back: a decision may have committed since we read the row.
    employee.save(update_fields=changed)
    audit.append(
        "employee.updated", actor=_admin_actor(actor), opening_for=employee, payload={"fields": changed}
    )
    return employee


@transaction.atomic
def save_office(*, actor, code, name, parent, office=None):
    """Create an office (office None), or rename, re-code or re-parent one.
    An office cannot sit below itself: the roll-up of figures would never end."""
    check_office_parent(office, parent)
    if office is None:
        office, kind = Office(), "office.created"
    else:
        office, kind = Office.objects.select_for_update().get(pk=office.pk), "office.updated"
        if (office.code, office.name, office.parent_id) == (code, name, parent.pk if parent else None):
            return office
    office.code, office.name, office.parent = code, name, parent
    office.full_clean()
    office.save()
    audit.append(
        kind,
        actor=_admin_actor(actor),
        payload={"code": code, "name": name, "parent": parent.code if parent else None},
    )
    return office


def check_office_parent(office, parent):
    """Refuse a parent that is the office itself or one of its sub-offices."""
    ancestor = parent
    while ancestor is not None:
        if office is not None and ancestor.pk == office.pk:
            raise ValidationError(
                {"parent": _("An office cannot be placed below itself or one of its sub-offices.")},
                code="cycle",
            )
        ancestor = ancestor.parent
