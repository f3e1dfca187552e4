"""Tables of the consent ledger.

Personal data (names, emails, employee numbers) lives here in ordinary
tables; the audit chain only ever sees pseudonyms. Rows of the audited
tables are written by ``consent.services`` alone.
"""

import hashlib
import hmac
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from consent.mynumber import contains_my_number


def pseudonym_for(kind, identifier):
    """A stable keyed hash: the chain can follow a person without naming them."""
    digest = hmac.new(settings.PSEUDONYM_KEY.encode(), f"{kind}:{identifier}".encode(), hashlib.sha256)
    return "p-" + digest.hexdigest()[:32]


def new_receipt_id():
    return secrets.token_urlsafe(18)


EMPLOYEE_NUMBER_RE = re.compile(r"^[A-Za-z0-9-]{1,20}$")


def validate_employee_number(value):
    if contains_my_number(value):
        raise ValidationError(
            _("This looks like a My Number (12-digit individual number). Never enter one here."),
            code="my_number",
        )
    if not EMPLOYEE_NUMBER_RE.match(value):
        raise ValidationError(_("An employee number is 1 to 20 letters, digits or hyphens."), code="invalid")


class Office(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent office"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("office")
        verbose_name_plural = _("offices")

    def __str__(self):
        return f"{self.code} {self.name}"


class Employee(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="employee")
    employee_number = models.CharField(
        _("employee number"),
        max_length=20,
        unique=True,
        validators=[validate_employee_number],
    )
    display_name = models.CharField(_("name"), max_length=100)
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT)
    is_active = models.BooleanField(_("active"), default=True)
    pseudonym = models.CharField(_("pseudonym"), max_length=40, unique=True, editable=False)
    # The latest decision's choice, kept with the decision in one transaction
    # so aggregates need no scan of the decision history.
    current_choice = models.CharField(max_length=20, blank=True, default="", editable=False)

    class Meta:
        ordering = ["employee_number"]
        verbose_name = _("employee")
        verbose_name_plural = _("employees")

    def __str__(self):
        return f"{self.employee_number} {self.display_name}"

    def save(self, *args, **kwargs):
        if not self.pseudonym:
            self.pseudonym = pseudonym_for("employee", self.employee_number)
        super().save(*args, **kwargs)


class RoleGrant(models.Model):
    """A privileged role held by a user; being an employee needs no grant."""

    HR = "hr"
    UNION = "union"
    ROLE_CHOICES = [(HR, _("HR")), (UNION, _("Union auditor"))]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(_("role"), max_length=20, choices=ROLE_CHOICES)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="unique_role_per_user")]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self):
        return f"{self.user} {self.get_role_display()}"


class ExplanationVersion(models.Model):
    """One published text of the voluntary explanation; never edited once stored."""

    number = models.PositiveIntegerField(_("version"), unique=True)
    title_ja = models.CharField(max_length=200)
    body_ja = models.TextField()
    acknowledgement_ja = models.TextField()
    title_en = models.CharField(max_length=200)
    body_en = models.TextField()
    acknowledgement_en = models.TextField()
    content_hash = models.CharField(max_length=64, unique=True, editable=False)
    published_at = models.DateTimeField(_("published"))
    audit_seq = models.PositiveBigIntegerField(editable=False)

    class Meta:
        ordering = ["-number"]
        get_latest_by = "number"
        verbose_name = _("explanation version")
        verbose_name_plural = _("explanation versions")

    def __str__(self):
        return f"v{self.number}"

    def _localised(self, field):
        lang = "en" if (get_language() or "ja").startswith("en") else "ja"
        return getattr(self, f"{field}_{lang}")

    @property
    def title(self):
        return self._localised("title")

    @property
    def body(self):
        return self._localised("body")

    @property
    def acknowledgement(self):
        return self._localised("acknowledgement")

    @classmethod
    def current(cls):
        return cls.objects.order_by("-number").first()


class Acknowledgement(models.Model):
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="acknowledgements")
    version = models.ForeignKey(ExplanationVersion, on_delete=models.PROTECT)
    created_at = models.DateTimeField()
    audit_seq = models.PositiveBigIntegerField(unique=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["employee", "version"], name="one_acknowledgement_per_version")
        ]

    def __str__(self):
        return f"{self.employee} v{self.version.number} #{self.audit_seq}"


class Choice(models.TextChoices):
    OPT_IN = "opt_in", _("Combine them (opt in)")
    OPT_OUT = "opt_out", _("Do not combine them (opt out)")
    UNDECIDED = "undecided", _("Not decided yet")


class Decision(models.Model):
    """One decision an employee recorded; the latest one is their current choice."""

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="decisions")
    choice = models.CharField(_("choice"), max_length=20, choices=Choice.choices)
    previous_choice = models.CharField(max_length=20, choices=Choice.choices, blank=True, default="")
    comment = models.TextField(_("comment"), blank=True, default="")
    explanation_version = models.ForeignKey(ExplanationVersion, on_delete=models.PROTECT)
    acknowledgement = models.ForeignKey(Acknowledgement, on_delete=models.PROTECT)
    channel = models.CharField(max_length=20)
    sign_in_method = models.CharField(max_length=40)
    receipt_id = models.CharField(max_length=32, unique=True, default=new_receipt_id, editable=False)
    created_at = models.DateTimeField(_("recorded at"))
    audit_seq = models.PositiveBigIntegerField(unique=True)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["created_at", "audit_seq"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self):
        return f"{self.employee} {self.choice} #{self.audit_seq}"


class AuditHead(models.Model):
    """The single row every appender locks: it serialises writers to the chain."""

    seq = models.PositiveBigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64)

    def __str__(self):
        return f"head #{self.seq}"


class AuditEvent(models.Model):
    """One link of the append-only chain. ``body`` holds the exact hashed bytes.

    ``kind``, ``subject`` and ``occurred_at`` are copies of fields inside the
    body, kept for queries; verification only trusts the body and hashes.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    body = models.TextField()
    leaf_hash = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64, unique=True)
    entry_hash = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=60, db_index=True)
    subject = models.CharField(max_length=40, blank=True, default="", db_index=True)
    occurred_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self):
        return f"#{self.seq} {self.kind}"
