"""Tables of the consent ledger.

Personal data (names, emails, employee numbers) lives here in ordinary
tables; the audit chain only ever sees pseudonyms. Rows of the audited
tables are written by ``consent.services`` alone.
"""

import datetime
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


# Crockford's base32: no I, L, O or U, so a receipt number read over the phone
# cannot be misheard as another letter or digit.
RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_GROUPS = 5  # 5 groups of 4 characters: 100 random bits
_RECEIPT_TYPED = str.maketrans("ILO", "110")  # what Crockford's base32 reads these as


def new_receipt_id():
    """A receipt number such as 7K3M-QX9P-2D4F-H8TB-W6RN."""
    chars = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(4 * RECEIPT_GROUPS))
    return "-".join(chars[i : i + 4] for i in range(0, len(chars), 4))


def normalise_receipt_id(value):
    """The receipt number as stored, from one typed in lower case, without hyphens
    or with O for 0 and I or L for 1; earlier receipt numbers pass unchanged."""
    chars = value.replace("-", "").replace(" ", "").upper().translate(_RECEIPT_TYPED)
    if len(chars) != 4 * RECEIPT_GROUPS or any(c not in RECEIPT_ALPHABET for c in chars):
        return value
    return "-".join(chars[i : i + 4] for i in range(0, len(chars), 4))


EMPLOYEE_NUMBER_RE = re.compile(r"^[A-Za-z0-9-]{1,20}$")


def validate_employee_number(value):
    if contains_my_number(value):
        raise ValidationError(
            _("This looks like a My Number (12-digit individual number). Never enter one here."),
            code="my_number",
        )
    if not EMPLOYEE_NUMBER_RE.match(value):
        raise ValidationError(_("An employee number is 1 to 20 letters, digits or hyphens."), code="invalid")


def validate_organisation_email(value):
    """Accounts are only for addresses in the organisation's domains (ALLOWED_EMAIL_DOMAINS):
    whoever controls an outside address would receive the invitation and act as staff."""
    domain = value.rpartition("@")[2].lower()
    if domain not in settings.ALLOWED_EMAIL_DOMAINS:
        raise ValidationError(
            _("%(email)s is not an address in the organisation's mail domains (%(domains)s).")
            % {"email": value, "domains": ", ".join(settings.ALLOWED_EMAIL_DOMAINS)},
            code="outside_domain",
        )


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
    # When the account was created or last given a new address by provisioning
    # (the roster import): the union's indicator watches decisions soon after.
    provisioned_at = models.DateTimeField(null=True, blank=True, editable=False)

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


class QueuedMail(models.Model):
    """A mail queued in the transaction that calls for it and sent by the
    send_queued_mail command (from a timer), never inside a request: stamped
    when sent, pending (and found by a partial index) until then."""

    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return f"#{self.pk} {'sent' if self.sent_at else 'pending'}"

    @staticmethod
    def pending_index(name):
        return models.Index(fields=["id"], condition=models.Q(sent_at__isnull=True), name=name)


class Invitation(QueuedMail):
    """A new account's invitation to set its password, queued by the roster import."""

    employee = models.OneToOneField(Employee, on_delete=models.CASCADE, related_name="invitation")
    queued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [QueuedMail.pending_index("consent_invitation_pending")]


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


def withdraws_consent(previous_choice, choice):
    """A change from opt-in to anything else withdraws the consent given (撤回)."""
    return previous_choice == Choice.OPT_IN and choice != Choice.OPT_IN


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

    @property
    def withdraws_consent(self):
        return withdraws_consent(self.previous_choice, self.choice)


class DecisionConfirmation(QueuedMail):
    """The mail telling an employee a decision was recorded under their account,
    queued in the decision's own transaction (inside its audit write).

    It names the decision by its receipt number, known before the decision is
    stored, and holds nothing a choice could be read from; it is not in the admin."""

    decision = models.OneToOneField(
        Decision,
        on_delete=models.CASCADE,
        to_field="receipt_id",
        db_column="decision_receipt_id",
        related_name="confirmation",
    )

    class Meta:
        indexes = [QueuedMail.pending_index("consent_confirmation_pending")]


class AuditHead(models.Model):
    """The single row every appender locks: it serialises writers to the chain.

    ``frontier`` holds the hex hashes of the Merkle tree's complete subtrees
    (the binary decomposition of ``seq``, left to right), so the root of the
    tree needs no read and an append knows which nodes it completes.
    """

    seq = models.PositiveBigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64)
    frontier = models.JSONField(default=list)

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
    subject = models.CharField(max_length=70, blank=True, default="", db_index=True)
    occurred_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["seq"]
        # The union's audit page lists one kind newest first, a page at a time (keyset on seq).
        indexes = [models.Index(fields=["kind", "seq"], name="consent_event_kind_seq")]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self):
        return f"#{self.seq} {self.kind}"


class LogNode(models.Model):
    """A complete subtree of the Merkle tree over the chain's leaves (append-only).

    Node ``(level, index)`` covers leaves ``[index * 2**level, (index + 1) * 2**level)``;
    level 0 are the leaves. Any subtree hash is a combination of at most
    ``2 log n`` of them, so a proof is one query.
    """

    level = models.PositiveSmallIntegerField()
    index = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="unique_log_node")]

    def __str__(self):
        return f"({self.level}, {self.index})"


class EventOpening(models.Model):
    """What opens one event's commitment: only the employee it is about sees it.

    The body carries ``SHA-256(salt || canonical_json(secret))``; the salt and
    the secret (the employee's pseudonym and the fields hidden from everyone
    else) stay here and in the employee's own receipt. Append-only.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="openings")
    salt = models.CharField(max_length=32)
    secret = models.TextField()
    # The exact moment; the body carries only the hour.
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["seq"]

    def __str__(self):
        return f"opening #{self.seq}"


class SignedCheckpoint(models.Model):
    """A tree head the server signed (a C2SP checkpoint in a signed note). Append-only."""

    size = models.PositiveBigIntegerField(unique=True)
    root = models.CharField(max_length=64)
    note = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["size"]
        get_latest_by = "size"

    def __str__(self):
        return f"checkpoint {self.size}"


class WitnessKey(models.Model):
    """A witness's verifier key (signed-note vkey form), registered by the union on the chain."""

    name = models.CharField(max_length=200, unique=True)
    vkey = models.TextField(unique=True)
    registered_at = models.DateTimeField()
    audit_seq = models.PositiveBigIntegerField(unique=True)

    def __str__(self):
        return self.name


class Cosignature(models.Model):
    """A witness's cosignature line (tlog-cosignature v1) on one signed checkpoint. Append-only."""

    checkpoint = models.ForeignKey(SignedCheckpoint, on_delete=models.PROTECT, related_name="cosignatures")
    witness = models.ForeignKey(WitnessKey, on_delete=models.PROTECT, related_name="cosignatures")
    line = models.TextField()
    created_at = models.DateTimeField()
    audit_seq = models.PositiveBigIntegerField(unique=True)

    class Meta:
        ordering = ["checkpoint__size", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "witness"], name="one_cosignature_per_witness")
        ]

    def __str__(self):
        return f"{self.witness} on {self.checkpoint}"


class LogVerification(models.Model):
    """How far the server has verified the chain, so the union's page resumes from there."""

    size = models.PositiveBigIntegerField()
    entry_hash = models.CharField(max_length=64)
    root = models.CharField(max_length=64)
    verified_at = models.DateTimeField()
    # Counted at this point, so the next verification counts only what came after it: signed
    # checkpoints of a size below ``size`` (none more can be signed once the head passed it) and
    # cosignatures whose event is at or below ``size``.
    checkpoints_below = models.PositiveBigIntegerField()
    cosignatures = models.PositiveBigIntegerField()

    class Meta:
        get_latest_by = "size"

    def __str__(self):
        return f"verified to {self.size}"


class Notice(models.Model):
    """An HR announcement (周知); immutable once published. The standard statement
    that the choice is voluntary is always shown with it and cannot be removed."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    offices = models.ManyToManyField(Office, blank=True, verbose_name=_("offices"))
    flagged_words = models.JSONField(default=list, editable=False)
    content_hash = models.CharField(max_length=64, editable=False)
    published_at = models.DateTimeField(_("published"))
    audit_seq = models.PositiveBigIntegerField(unique=True)

    class Meta:
        ordering = ["-published_at", "-audit_seq"]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")

    def __str__(self):
        return self.title

    @property
    def flagged(self):
        return bool(self.flagged_words)


class SwitchoverCase(models.Model):
    """HR's work for one person: install the staff ID on the card, or undo it
    after a withdrawal. Opened and turned into a revert only by record_decision."""

    SWITCH = "switch"
    REVERT = "revert"
    KIND_CHOICES = [(SWITCH, _("Switch-over")), (REVERT, _("Revert"))]
    STEPS = {
        SWITCH: [
            ("card_received", _("Card received")),
            ("data_installed", _("Staff-ID data installed")),
            ("old_id_returned", _("Old ID returned")),
        ],
        REVERT: [
            ("data_removed", _("Staff-ID data removed")),
            ("ic_id_reissued", _("IC staff ID re-issued")),
        ],
    }

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="switchover_cases")
    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    opened_at = models.DateTimeField()
    # Set when the person withdraws before the switch is complete, or when
    # the last step is done.
    closed_at = models.DateTimeField(null=True, blank=True)
    steps_done = models.JSONField(default=dict)

    class Meta:
        ordering = ["opened_at", "pk"]

    def __str__(self):
        return f"{self.employee} {self.kind}"

    def step_list(self):
        return [
            {"code": code, "label": label, "done_at": self.steps_done.get(code)}
            for code, label in self.STEPS[self.kind]
        ]

    def next_step(self):
        return next((code for code, _label in self.STEPS[self.kind] if code not in self.steps_done), None)


class Complaint(models.Model):
    """A report of pressure, addressed to the union alone.

    An anonymous complaint stores no account, no IP and no browser data: the
    reporter holds a 16-digit receipt code whose first six digits are the
    public number and whose whole is kept only as a salted hash.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        INVESTIGATING = "investigating", _("Investigating")
        RAISED = "raised", _("Raised with management")
        RESOLVED = "resolved", _("Resolved")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class What(models.TextChoices):
        TOLD_COMPULSORY = "told_compulsory", _("I was told combining is compulsory")
        PRESSURED = "pressured", _("I was pressured to combine them")
        ASKED_DECISION = "asked_decision", _("I was asked what I decided")
        DISADVANTAGE = "disadvantage", _("I was told not combining would bring a disadvantage")
        OTHER = "other", _("Something else")

    class Role(models.TextChoices):
        HEAD_OF_UNIT = "head_of_unit", _("Head of unit")
        HR = "hr", _("HR")
        COLLEAGUE = "colleague", _("Colleague")
        OTHER = "other", _("Other")

    number = models.CharField(max_length=6, unique=True, editable=False)
    code_hash = models.CharField(max_length=200, blank=True, editable=False)
    reporter = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    shared_pseudonym = models.CharField(max_length=40, blank=True)
    what = models.CharField(_("what happened"), max_length=30, choices=What.choices)
    occurred_on = models.DateField(_("when"), null=True, blank=True)
    office = models.ForeignKey(
        Office, verbose_name=_("where"), null=True, blank=True, on_delete=models.PROTECT
    )
    involved_role = models.CharField(_("role of the person involved"), max_length=20, choices=Role.choices)
    details = models.TextField(_("details"))
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # Receipt-code attempts in the current window (services.complaint_for_code).
    code_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    code_attempts_since = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"#{self.number}"

    @property
    def anonymous(self):
        return self.reporter_id is None

    @property
    def is_open(self):
        return self.status not in (self.Status.RESOLVED, self.Status.WITHDRAWN)


class ComplaintMessage(models.Model):
    REPORTER = "reporter"
    UNION = "union"

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(max_length=10, choices=[(REPORTER, _("Reporter")), (UNION, _("Union"))])
    # Internal notes are the union's own working notes; the reporter never sees them.
    internal = models.BooleanField(default=False)
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.complaint} {self.author}"


class Checkpoint(models.Model):
    """A chain head the union saved; later chains must still contain it."""

    seq = models.PositiveBigIntegerField()
    entry_hash = models.CharField(max_length=64)
    saved_at = models.DateTimeField()

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["seq", "entry_hash"], name="unique_checkpoint")]

    def __str__(self):
        return f"{self.seq}:{self.entry_hash}"


class RosterPreview(models.Model):
    """An uploaded roster between HR's preview and confirmation.

    Kept here, not in the session row, so a file of many MB does not ride on every
    request; the session holds only the random token. Deleted on
    confirmation, and expired ones whenever another roster is uploaded.
    """

    MAX_AGE = datetime.timedelta(minutes=30)

    token = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    data = models.BinaryField()
    encoding = models.CharField(max_length=20)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    def __str__(self):
        return self.token[:8]


class FigureSnapshot(models.Model):
    """One publication of HR's figures (see ``consent.stats``); never changed once stored."""

    number = models.PositiveIntegerField(unique=True)
    published_at = models.DateTimeField()
    k = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return f"figures #{self.number}"


class FigureRow(models.Model):
    """One published row of a snapshot, already protected: ``None`` is a hidden figure.

    The organisation's row has no office. ``parent`` is the office's place in the
    tree as published, and ``position``/``depth`` fix the page's order, so HR's
    pages read a snapshot without walking the tree.
    """

    snapshot = models.ForeignKey(FigureSnapshot, on_delete=models.PROTECT, related_name="rows")
    office = models.ForeignKey(Office, null=True, on_delete=models.PROTECT, related_name="+")
    parent = models.ForeignKey(Office, null=True, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    depth = models.PositiveSmallIntegerField()
    total = models.PositiveIntegerField(null=True)
    opt_in = models.PositiveIntegerField(null=True)
    opt_out = models.PositiveIntegerField(null=True)
    undecided = models.PositiveIntegerField(null=True)
    unanswered = models.PositiveIntegerField(null=True)

    class Meta:
        ordering = ["snapshot", "position"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "position"], name="one_row_per_position"),
            models.UniqueConstraint(fields=["snapshot", "office"], name="one_row_per_office"),
        ]

    def __str__(self):
        return f"{self.snapshot} {self.office or 'all'}"


class PublishedState(models.Model):
    """Private: how the latest snapshot counts each person (office and answer).

    The release rule compares it with the live state; no page reads it. A person
    the snapshot does not count (not yet published, or left) has no row.
    """

    employee = models.OneToOneField(Employee, primary_key=True, on_delete=models.PROTECT, related_name="+")
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=20)

    def __str__(self):
        return f"{self.employee_id} {self.office_id} {self.category}"
