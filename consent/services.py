"""Every write to audited state.

Each service is one transaction that changes state and appends its audit
event last, so the change and its record commit together or not at all.
Views, commands and tests call these; nothing else writes audited tables.
"""

import logging

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from consent import audit, explanation_text
from consent.models import (
    Acknowledgement,
    Choice,
    Decision,
    Employee,
    ExplanationVersion,
    pseudonym_for,
)
from consent.mynumber import contains_my_number

logger = logging.getLogger(__name__)

COMMENT_MAX_LENGTH = 1000


class NotAcknowledged(Exception):
    """The employee has not acknowledged the current explanation version."""


class NoChange(Exception):
    """The submission repeats the employee's current choice; nothing is recorded."""


def actor_for(user):
    """The pseudonym under which a user acts on the chain."""
    employee = Employee.objects.filter(user=user).first()
    if employee:
        return employee.pseudonym
    return pseudonym_for("user", user.pk)


def check_free_text(text):
    if contains_my_number(text):
        raise ValidationError(
            _(
                "This text seems to contain a My Number (12-digit individual number). "
                "Remove it: this system never stores one."
            ),
            code="my_number",
        )


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
    event = audit.append(
        "explanation.published",
        actor=actor,
        payload={"version": number, "content_hash": version.content_hash},
    )
    version.audit_seq = event.seq
    version.save()
    return version


def _employee(user):
    try:
        return Employee.objects.select_related("office").get(user=user, is_active=True)
    except Employee.DoesNotExist:
        raise PermissionError("only an active employee records a decision") from None


@transaction.atomic
def record_explanation_viewed(*, user, version):
    employee = _employee(user)
    return audit.append(
        "explanation.viewed",
        actor=employee.pseudonym,
        subject=employee.pseudonym,
        payload={"version": version.number, "content_hash": version.content_hash},
    )


@transaction.atomic
def acknowledge_explanation(*, user, version, demo=False):
    """Record that the employee read and acknowledged ``version``; repeats are no-ops."""
    employee = _employee(user)
    existing = Acknowledgement.objects.filter(employee=employee, version=version).first()
    if existing:
        return existing
    payload = {"version": version.number, "content_hash": version.content_hash}
    if demo:
        payload["demo"] = True
    now = timezone.now()
    acknowledgement = Acknowledgement(employee=employee, version=version, created_at=now, audit_seq=0)
    event = audit.append(
        "explanation.acknowledged", actor=employee.pseudonym, subject=employee.pseudonym, payload=payload
    )
    acknowledgement.audit_seq = event.seq
    acknowledgement.save()
    return acknowledgement


def current_acknowledgement(employee):
    """The acknowledgement of the current explanation version, or None."""
    version = ExplanationVersion.current()
    if version is None:
        return None
    return (
        Acknowledgement.objects.filter(employee=employee, version=version).select_related("version").first()
    )


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
    employee = Employee.objects.select_for_update().get(pk=_employee(user).pk)
    acknowledgement = current_acknowledgement(employee)
    if acknowledgement is None:
        raise NotAcknowledged()
    if choice == employee.current_choice:
        raise NoChange()
    version = acknowledgement.version
    payload = {
        "choice": choice,
        "previous_choice": employee.current_choice or None,
        "explanation_version": version.number,
        "explanation_hash": version.content_hash,
        "acknowledgement_seq": acknowledgement.audit_seq,
        "channel": channel,
        "sign_in_method": sign_in_method,
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
    employee.current_choice = choice
    employee.save(update_fields=["current_choice"])
    event = audit.append(
        "decision.recorded", actor=employee.pseudonym, subject=employee.pseudonym, payload=payload
    )
    decision.audit_seq = event.seq
    decision.entry_hash = event.entry_hash
    decision.save()
    if user.email and not demo:
        transaction.on_commit(lambda: _send_confirmation(user, decision))
    return decision


def _send_confirmation(user, decision):
    """Tell the employee a decision was recorded, so one nobody made is noticed."""
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "decision": decision,
            "receipt_url": settings.SITE_URL + reverse("receipt", args=[decision.receipt_id]),
        }
        try:
            send_mail(
                _("Your decision was recorded (receipt %(id)s)") % {"id": decision.receipt_id},
                render_to_string("consent/email/decision_recorded.txt", context),
                None,
                [user.email],
            )
        except OSError:
            # The decision stands whether or not mail works; the page already
            # confirmed it and the receipt is in the history.
            logger.exception("could not send the decision confirmation")


@transaction.atomic
def record_sign_in(*, user, methods):
    """Append a sign-in event: which factors were used, never where from."""
    return audit.append(
        "account.signed_in", actor=actor_for(user), subject=actor_for(user), payload={"methods": methods}
    )


def provision_employee(*, email, display_name, employee_number, office, password_hash=None):
    """Create or update a person's account and employee record (no decision, no event).

    Accounts are provisioned, never self-registered; the roster import
    records one audit event for the whole file rather than one per person.
    """
    User = get_user_model()
    employee = Employee.objects.select_related("user").filter(employee_number=employee_number).first()
    user = employee.user if employee else User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(username=email.lower(), email=email)
        if password_hash:
            user.password = password_hash
        else:
            user.set_unusable_password()
    user.email = email
    user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=email.lower(), defaults={"verified": True, "primary": True}
    )
    if employee is None:
        employee = Employee(user=user, employee_number=employee_number)
    employee.display_name = display_name
    employee.office = office
    employee.is_active = True
    employee.full_clean()
    employee.save()
    return employee
