"""A realistic organisation and a year of its events, for benchmarks (DEBUG only).

Offices in a tree (a ministry, its bureaus, their divisions), staff with the
accounts the roster import provisions, and a year of events in the formats
the services write: sign-ins, explanation views and acknowledgements,
decisions and changes of mind with their receipts, switch-over cases and
HR's steps on them, roster imports, HR's and the union's reads, weekly
released figures and signed checkpoints. Every event is built by
``audit.link``, the function ``audit.append`` stores, and written in bulk
(COPY on PostgreSQL), week by week, with the indexes over random keys (the
events' hashes and subjects, the openings' employee) made once at the end;
figures and checkpoints are published
through ``figures.publish_snapshot`` and ``log.publish_checkpoint`` at the end
of each week, so ``verify_audit --full`` passes on the result.

It writes decisions for made-up people, so it refuses unless DEBUG is on, and
it refuses a database that holds any account or employee it did not make
(its marker: user names starting with ``gen-``, employee numbers with
``GEN-``), or one it already filled.
"""

import contextlib
import datetime
import hashlib
import random
import time
from array import array
from unittest import mock

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from consent import audit, bulk, figures, log, services
from consent.management.commands.seed_demo import GIVEN, SURNAMES
from consent.models import (
    Acknowledgement,
    AuditEvent,
    AuditHead,
    Choice,
    Decision,
    Employee,
    EventOpening,
    ExplanationVersion,
    LogNode,
    Office,
    RoleGrant,
    SwitchoverCase,
    new_receipt_id,
    pseudonym_for,
)

USER_MARK = "gen-"
NUMBER_MARK = "GEN-"
EVENTS_PER_PERSON = 50 / 3  # ≈ 10 million events a year for 600,000 staff
WEEKS = 52
STAFF_PER_DIVISION = 150
STAFF_PER_BUREAU = 50_000
SIGN_IN_METHODS = ["password"] * 8 + ["password+totp", "code", "webauthn"]
CHOICES = [Choice.OPT_IN, Choice.OPT_OUT, Choice.UNDECIDED]
CHOICE_WEIGHTS = [30, 45, 25]
DAY = 86400
# Columns of random keys, indexed and checked once at the end (see _built_at_the_end).
RANDOM_KEYS = {AuditEvent: ["entry_hash", "prev_hash", "subject"], EventOpening: ["employee"]}
# Kinds of planned events, in the order a session makes them when they share a moment.
SIGN_IN, VIEW, ACK, DECIDE, STEP = range(5)


def real_staff_reason():
    """Why this database may not be filled (a sentence), or None when it holds no one."""
    users = get_user_model().objects.all()
    if (
        users.exclude(username__startswith=USER_MARK).exists()
        or Employee.objects.exclude(employee_number__startswith=NUMBER_MARK).exists()
    ):
        return "This database holds accounts or employees the generator did not make (real staff)."
    if users.exists() or Employee.objects.exists():
        return "This database already holds a generated organisation: drop it, migrate and generate again."
    return None


class Generator:
    def __init__(self, *, employees, events, releases, seed, out):
        self.n = employees
        self.target = events
        self.rng = random.Random(seed)
        self.out = out
        self.version = ExplanationVersion.current()
        # The year ends at the latest release time (06:00 local on a Monday) before now.
        due = figures.release_due()
        monday = due - datetime.timedelta(days=timezone.localtime(due).weekday())
        self.end = monday.replace(hour=6, minute=0, second=0, microsecond=0)
        self.start = self.end - datetime.timedelta(weeks=WEEKS)
        self.t0 = int(self.start.timestamp())
        self.buckets = [[] for _ in range(WEEKS)]
        self.written = 0
        self.releases = releases

    # --- helpers ---

    def say(self, text):
        self.out.write(text, ending="")
        self.out.flush()

    def moment(self, t):
        return datetime.datetime.fromtimestamp(t, datetime.UTC)

    def plan(self, t, kind, person, *extra):
        week = (t - self.t0) // (7 * DAY)
        if 0 <= week < WEEKS:
            self.buckets[week].append((t, kind, person, *extra))

    def working_time(self, week, rng):
        """A moment in office hours (Japan), mostly on weekdays, within ``week``."""
        day = rng.randrange(5) if rng.random() < 0.95 else rng.randrange(5, 7)
        # The week starts on Monday 06:00 local.
        return self.t0 + week * 7 * DAY + day * DAY + rng.randrange(2 * 3600, 13 * 3600)

    # --- the organisation ---

    def organisation(self):
        rng = self.rng
        bureaus = max(1, min(40, round(self.n / STAFF_PER_BUREAU)))
        divisions = max(bureaus, self.n // STAFF_PER_DIVISION)
        base = (Office.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        offices = [(base, "GEN", "本省", None)]
        for b in range(bureaus):
            offices.append((base + 1 + b, f"GEN-B{b + 1:02d}", f"第{b + 1}局", base))
        leaves = []
        for d in range(divisions):
            pk = base + 1 + bureaus + d
            bureau = base + 1 + d % bureaus
            offices.append((pk, f"GEN-B{d % bureaus + 1:02d}-{d // bureaus + 1:04d}", f"第{d + 1}課", bureau))
            leaves.append(pk)
        bulk.insert(Office, ["id", "code", "name", "parent_id"], offices)
        # Office sizes vary widely (a few below the suppression threshold), as in a real ministry.
        weights = [rng.lognormvariate(0, 0.9) for _ in leaves]
        scale = self.n / sum(weights)
        self.office_of = array("q")
        for pk, weight in zip(leaves, weights, strict=True):
            self.office_of.extend([pk] * int(weight * scale))
        while len(self.office_of) < self.n:
            self.office_of.append(rng.choice(leaves))
        self.offices = len(offices)
        self.say(f"offices: {self.offices} (1 ministry, {bureaus} bureaus, {divisions} divisions)\n")

    def staff(self):
        User = get_user_model()
        domain = settings.ALLOWED_EMAIL_DOMAINS[0]
        user_base = (User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        employee_base = (Employee.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        joined = self.start - datetime.timedelta(days=1)
        unusable = make_password(None)
        self.user_base, self.employee_base = user_base, employee_base
        self.pseudonyms = []
        chunk = 50_000
        for start in range(0, self.n, chunk):
            users, addresses, staff = [], [], []
            for i in range(start, min(self.n, start + chunk)):
                email = f"{USER_MARK}{i + 1:07d}@{domain}"
                number = f"{NUMBER_MARK}{i + 1:07d}"
                pseudonym = pseudonym_for("employee", number)
                self.pseudonyms.append(pseudonym)
                users.append((user_base + i, unusable, False, email, "", "", email, False, True, joined))
                addresses.append((user_base + i, email, True, True))
                name = f"{SURNAMES[i % len(SURNAMES)]} {GIVEN[(i * 7) % len(GIVEN)]}"
                staff.append(
                    (
                        employee_base + i,
                        user_base + i,
                        number,
                        name,
                        self.office_of[i],
                        True,
                        pseudonym,
                        "",
                        joined,
                    )
                )
            user_fields = [
                "id",
                "password",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
            ]
            bulk.insert(User, user_fields, users)
            bulk.insert(EmailAddress, ["user_id", "email", "verified", "primary"], addresses)
            employee_fields = [
                "id",
                "user_id",
                "employee_number",
                "display_name",
                "office_id",
                "is_active",
                "pseudonym",
                "current_choice",
                "provisioned_at",
            ]
            bulk.insert(Employee, employee_fields, staff)
            self.say(f"\rstaff: {min(self.n, start + chunk)}/{self.n}")
        self.say("\n")
        role_users = []
        for offset, role in enumerate((RoleGrant.HR, RoleGrant.UNION)):
            email = f"{USER_MARK}{role}@{domain}"
            role_users.append(
                (user_base + self.n + offset, unusable, False, email, "", "", email, False, True, joined)
            )
        bulk.insert(User, user_fields, role_users)
        _reset_sequences(User, Employee, Office)
        self.hr = User.objects.get(pk=user_base + self.n)
        self.union = User.objects.get(pk=user_base + self.n + 1)
        self.hr_actor = audit.staff_identity(self.hr)
        self.union_actor = audit.staff_identity(self.union)

    # --- the plan of everyone's year ---

    def plan_people(self):
        """Acknowledgements, decisions and changes of mind, each in a session opened by a sign-in."""
        rng = self.rng
        year = WEEKS * 7 * DAY
        planned = 0
        for person in range(self.n):
            if rng.random() >= 0.85:
                continue
            # Most people answer early in the campaign; some late.
            week = int(WEEKS * rng.random() ** 2)
            t = self.working_time(week, rng)
            self.plan(t - 120, SIGN_IN, person)
            self.plan(t - 60, VIEW, person)
            self.plan(t, ACK, person)
            planned += 3
            if rng.random() >= 0.85:
                continue
            choices = [rng.choices(CHOICES, CHOICE_WEIGHTS)[0]]
            changes = 1 if rng.random() < 0.15 else 0
            changes += 1 if changes and rng.random() < 0.2 else 0
            for _ in range(changes):
                choices.append(rng.choice([c for c in CHOICES if c != choices[-1]]))
            moment = t + 180 if rng.random() < 0.6 else None
            for choice in choices:
                if moment is None:
                    later = t + rng.randrange(DAY, max(2 * DAY, self.t0 + year - t))
                    moment = self.working_time((later - self.t0) // (7 * DAY), rng)
                    self.plan(moment - 60, SIGN_IN, person)
                    planned += 1
                self.plan(moment, DECIDE, person, choice)
                planned += 1
                t, moment = moment, None
        return planned

    # --- writing a week ---

    def run(self, started):
        if connection.vendor == "postgresql":
            # A benchmark database: a crash may lose the last weeks written, never their consistency.
            with connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit TO off")
        self.organisation()
        self.staff()
        with mock.patch("django.utils.timezone.now", return_value=self.start), transaction.atomic():
            services.grant_role(actor=None, user=self.hr, role=RoleGrant.HR)
            services.grant_role(actor=None, user=self.union, role=RoleGrant.UNION)
        planned = self.plan_people()
        # Each week: ten queue openings, two downloads, a release; a roster import every four weeks.
        system = WEEKS * 11 + WEEKS // 4 + 2 * self.releases
        filler = max(0, self.target - planned - system)
        self.say(
            f"planned: {planned} session events, {filler} more sign-ins and views, ~{system} HR/system\n"
        )
        self.current = {}  # person -> choice
        self.ack_at = {}  # person -> (acknowledgement id, seq)
        self.cases = {}  # case id -> [employee, kind, opened, closed, steps]
        self.open_case = {}  # person -> case id
        base = (Acknowledgement.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        self.next_ack = base
        self.next_case = (
            SwitchoverCase.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        ) + 1
        self.snapshot = 0
        self.spent = {"build": 0.0, "write": 0.0, "figures": 0.0}
        with _built_at_the_end(RANDOM_KEYS, self.say):
            for week in range(WEEKS):
                share = filler // WEEKS + (1 if week < filler % WEEKS else 0)
                self.week(week, share)
                rate = self.written / (time.monotonic() - started)
                spent = ", ".join(f"{name} {seconds:,.0f} s" for name, seconds in self.spent.items())
                self.say(f"\rweek {week + 1}/{WEEKS}: {self.written} events, {rate:,.0f} events/s ({spent})")
            self.say("\n")
        self.finish()

    def week(self, week, filler):
        rng = self.rng
        planned = self.buckets[week]
        self.buckets[week] = None
        for _ in range(filler):
            planned.append(
                (
                    self.working_time(week, rng),
                    SIGN_IN if rng.random() < 0.75 else VIEW,
                    rng.randrange(self.n),
                )
            )
        week_start = self.t0 + week * 7 * DAY
        if week % 4 == 0:
            planned.append((week_start + 3 * 3600, "roster", None))
        for day in range(5):
            for _ in range(2):
                planned.append((week_start + day * DAY + rng.randrange(3 * 3600, 11 * 3600), "queue", None))
        planned.append((week_start + 2 * DAY + 5 * 3600, "figures_exported", None))
        planned.append((week_start + 4 * DAY + 7 * 3600, "audit_exported", None))
        planned.sort(key=lambda item: (item[0], item[1] if isinstance(item[1], int) else 9))
        head = AuditHead.objects.get(pk=1)
        self.seq, self.prev = head.seq, bytes.fromhex(head.entry_hash)
        self.frontier = [bytes.fromhex(h) for h in head.frontier]
        self.rows = {"events": [], "nodes": [], "openings": [], "acks": [], "decisions": []}
        changed = {}
        clock = time.monotonic()
        for item in planned:
            self.event(item, changed)
        clock = self.lap("build", clock)
        with transaction.atomic():
            bulk.insert(
                AuditEvent,
                ["seq", "body", "leaf_hash", "prev_hash", "entry_hash", "kind", "subject", "occurred_at"],
                self.rows["events"],
            )
            bulk.insert(LogNode, ["level", "index", "hash"], self.rows["nodes"])
            bulk.insert(
                EventOpening, ["seq", "employee_id", "salt", "secret", "created_at"], self.rows["openings"]
            )
            bulk.insert(
                Acknowledgement,
                ["id", "employee_id", "version_id", "created_at", "audit_seq"],
                self.rows["acks"],
            )
            decision_fields = [
                "employee_id",
                "choice",
                "previous_choice",
                "comment",
                "explanation_version_id",
                "acknowledgement_id",
                "channel",
                "sign_in_method",
                "receipt_id",
                "created_at",
                "audit_seq",
                "entry_hash",
            ]
            bulk.insert(Decision, decision_fields, self.rows["decisions"])
            _set_choices({self.employee_base + person: choice for person, choice in changed.items()})
            AuditHead.objects.filter(pk=1).update(
                seq=self.seq, entry_hash=self.prev.hex(), frontier=[h.hex() for h in self.frontier]
            )
        clock = self.lap("write", clock)
        self.written += len(self.rows["events"])
        self.rows = None
        # The week's release and checkpoint, by the code that makes them, at the week's end.
        end = self.start + datetime.timedelta(weeks=week + 1)
        with mock.patch("django.utils.timezone.now", return_value=end):
            # Counting 600,000 people under the release rule takes a while: only the last weeks.
            if week >= WEEKS - self.releases:
                self.snapshot = figures.publish_snapshot(now=end).number
                self.written += 1
            log.publish_checkpoint()
        self.lap("figures", clock)

    def lap(self, name, clock):
        now = time.monotonic()
        self.spent[name] += now - clock
        return now

    def append(self, kind, moment, *, actor, payload=None, person=None, secret=None):
        """Build the next event with audit.link and keep its rows for the week's COPY."""
        self.seq += 1
        when = self.moment(moment)
        new = audit.link(
            kind,
            seq=self.seq,
            prev=self.prev,
            frontier=self.frontier,
            moment=when,
            actor=actor,
            payload=payload,
            pseudonym=self.pseudonyms[person] if person is not None else None,
            secret=secret,
        )
        rows = self.rows
        rows["events"].append(
            (
                new.seq,
                new.body.decode(),
                new.leaf.hex(),
                self.prev.hex(),
                new.entry.hex(),
                kind,
                new.subject or "",
                new.occurred_at,
            )
        )
        rows["nodes"].extend((level, index, digest.hex()) for level, index, digest in new.nodes)
        if new.opening is not None:
            rows["openings"].append(
                (new.seq, self.employee_base + person, new.opening["salt"], new.opening["secret"], when)
            )
        self.prev, self.frontier = new.entry, new.frontier
        return new

    def event(self, item, changed):
        t, kind, person = item[0], item[1], item[2]
        version = self.version
        text = {"version": version.number, "content_hash": version.content_hash}
        if kind == SIGN_IN:
            method = self.rng.choice(SIGN_IN_METHODS)
            self.append(
                "account.signed_in", t, actor=audit.EMPLOYEE, person=person, secret={"methods": method}
            )
        elif kind == VIEW:
            self.append("explanation.viewed", t, actor=audit.EMPLOYEE, person=person, payload=text)
        elif kind == ACK:
            new = self.append(
                "explanation.acknowledged", t, actor=audit.EMPLOYEE, person=person, payload=text
            )
            pk, self.next_ack = self.next_ack, self.next_ack + 1
            self.rows["acks"].append((pk, self.employee_base + person, version.pk, self.moment(t), new.seq))
            self.ack_at[person] = (pk, new.seq)
        elif kind == DECIDE:
            self.decide(t, person, item[3], changed)
        elif kind == STEP:
            self.step(t, person, item[3], item[4])
        elif kind == "roster":
            first = self.written == 0
            payload = {
                "sha256": hashlib.sha256(f"roster {t}".encode()).hexdigest(),
                "encoding": "utf-8",
                "rows": self.n,
                "created": self.n if first else 0,
                "updated": 0,
                "deactivated": 0,
                "unchanged": 0 if first else self.n,
                "offices_created": self.offices if first else 0,
                "offices_updated": 0,
            }
            self.append("roster.imported", t, actor=self.hr_actor, payload=payload)
        elif kind == "queue":
            self.append(
                "switchover.queue_opened", t, actor=self.hr_actor, payload={"page": 1, "searched": False}
            )
        elif kind == "figures_exported" and self.snapshot:
            self.append("hr.figures_exported", t, actor=self.hr_actor, payload={"snapshot": self.snapshot})
        elif kind == "audit_exported":
            self.append("audit.exported", t, actor=self.union_actor)

    def decide(self, t, person, choice, changed):
        """What services.record_decision writes: the decision, the current choice, the case."""
        previous = self.current.get(person, "")
        if choice == previous or person not in self.ack_at:
            return
        method = self.rng.choice(SIGN_IN_METHODS)
        secret = {
            "choice": choice,
            "previous_choice": previous or None,
            "channel": "web",
            "sign_in_method": method,
        }
        ack_pk, ack_seq = self.ack_at[person]
        payload = {
            "explanation_version": self.version.number,
            "explanation_hash": self.version.content_hash,
            "acknowledgement_seq": ack_seq,
        }
        new = self.append(
            "decision.recorded", t, actor=audit.EMPLOYEE, person=person, secret=secret, payload=payload
        )
        employee = self.employee_base + person
        when = self.moment(t)
        self.rows["decisions"].append(
            (
                employee,
                choice,
                previous,
                "",
                self.version.pk,
                ack_pk,
                "web",
                method,
                new_receipt_id(),
                when,
                new.seq,
                new.entry.hex(),
            )
        )
        self.current[person] = changed[person] = choice
        # services._follow_switchover: an opt-in opens a switch-over; a withdrawal
        # closes it, and opens a revert when card work was already done.
        if choice == Choice.OPT_IN:
            self.open(person, SwitchoverCase.SWITCH, t)
        elif previous == Choice.OPT_IN:
            case = self.cases.get(self.open_case.get(person))
            undo = case is not None and case[1] == SwitchoverCase.SWITCH and bool(case[4])
            if case is not None and case[3] is None:
                case[3] = when
            if undo:
                self.open(person, SwitchoverCase.REVERT, t)

    def open(self, person, kind, t):
        pk, self.next_case = self.next_case, self.next_case + 1
        self.cases[pk] = [self.employee_base + person, kind, self.moment(t), None, {}]
        self.open_case[person] = pk
        # HR works through the queue over the following weeks.
        at = t
        for step, _label in SwitchoverCase.STEPS[kind]:
            if self.rng.random() >= 0.85:
                break
            at = self.working_time((at - self.t0) // (7 * DAY) + self.rng.randrange(1, 3), self.rng)
            self.plan(at, STEP, person, pk, step)

    def step(self, t, person, pk, step):
        """What services.record_switchover_step writes, when the case is still open at that step."""
        case = self.cases[pk]
        if case[3] is not None:
            return
        steps = [code for code, _label in SwitchoverCase.STEPS[case[1]]]
        if steps[len(case[4])] != step:
            return
        when = self.moment(t)
        case[4][step] = audit.rfc3339(when)
        if len(case[4]) == len(steps):
            case[3] = when
        self.append(
            "switchover.step_recorded",
            t,
            actor=self.hr_actor,
            person=person,
            secret={"case": pk},
            payload={"kind": case[1], "step": step},
        )

    def finish(self):
        with transaction.atomic():
            bulk.insert(
                SwitchoverCase,
                ["id", "employee_id", "kind", "opened_at", "closed_at", "steps_done"],
                [(pk, *case) for pk, case in self.cases.items()],
            )
            _reset_sequences(Acknowledgement, SwitchoverCase)
        if connection.vendor == "postgresql":
            # Fresh statistics, as autovacuum would gather them in time: plans as in production.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")


def _set_choices(choices):
    """Employee.current_choice of many people ({employee id: choice}), as record_decision keeps it."""
    if connection.vendor == "postgresql":
        # One join with the arrays: bulk_update's CASE of thousands of branches is quadratic.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE consent_employee AS e SET current_choice = v.choice "
                "FROM unnest(%s::bigint[], %s::text[]) AS v(id, choice) WHERE e.id = v.id",
                [list(choices), list(choices.values())],
            )
    else:
        Employee.objects.bulk_update(
            [Employee(pk=pk, current_choice=choice) for pk, choice in choices.items()],
            ["current_choice"],
            batch_size=500,
        )


@contextlib.contextmanager
def _built_at_the_end(keys, say):
    """Drop the indexes, unique constraints and foreign keys on the given columns ({model: [field
    names]}) and make them again, from their own definitions, when the block ends: on PostgreSQL.

    A hash or an employee is a random key: each row COPY adds lands on a random page of such an
    index, and at millions of rows those pages no longer stay in the buffers; a foreign key costs
    each row a lookup at commit. One sorted build, and one join to check a foreign key, at the end
    are far cheaper. Nothing the weeks run looks rows up by these columns, and making a unique
    constraint or foreign key again checks it over every row.
    """
    if connection.vendor != "postgresql":
        yield
        return
    dropped = []
    with connection.cursor() as cursor:
        _check_deferred(cursor)
        for model, fields in keys.items():
            table = model._meta.db_table
            columns = [model._meta.get_field(name).column for name in fields]
            # Indexes (with the constraints they back) first, then foreign keys: made again in this order.
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid), c.conname, pg_get_constraintdef(c.oid) "
                "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                "JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0] "
                "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid "
                "WHERE x.indrelid = %s::regclass AND a.attname = ANY(%s) "
                "UNION ALL "
                "SELECT NULL, NULL, c.conname, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c "
                "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
                "WHERE c.conrelid = %s::regclass AND c.contype = 'f' AND a.attname = ANY(%s) "
                "ORDER BY 1 NULLS LAST, 3",
                [table, columns, table, columns],
            )
            for index, definition, constraint, rule in cursor.fetchall():
                if constraint:
                    name = connection.ops.quote_name(constraint)
                    cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
                    dropped.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} {rule}")
                else:
                    cursor.execute(f"DROP INDEX {connection.ops.quote_name(index)}")
                    dropped.append(definition)
    try:
        yield
    finally:
        started = time.monotonic()
        with connection.cursor() as cursor:
            _check_deferred(cursor)
            cursor.execute("SET maintenance_work_mem TO '1GB'")
            for statement in dropped:
                cursor.execute(statement)
            cursor.execute("RESET maintenance_work_mem")
        say(f"{len(dropped)} indexes and constraints made again in {time.monotonic() - started:,.0f} s\n")


def _check_deferred(cursor):
    """Inside an outer transaction (tests), rows still waiting for their deferred foreign key
    checks block ALTER TABLE: check them now."""
    if connection.in_atomic_block:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _reset_sequences(*models):
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


class Command(BaseCommand):
    help = (
        "Build a realistic organisation (offices in a tree, staff with accounts) and a year of its events "
        "in the formats the services write, with the Merkle nodes, receipts, weekly released figures and "
        "signed checkpoints, for benchmarks. DEBUG only; refused on a database holding any account or "
        "employee it did not make. Default: about 16.7 events a person (10 million for 600,000)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--employees", type=int, required=True)
        parser.add_argument("--events", type=int, help="total events (default: 16.7 per employee)")
        parser.add_argument(
            "--releases",
            type=int,
            default=4,
            help="weekly figure releases, the last ones of the year (default 4)",
        )
        parser.add_argument("--seed", type=int, default=11)

    def handle(self, *args, employees, events, releases, seed, **options):
        if not settings.DEBUG:
            raise CommandError("generate_org writes made-up people's decisions and only runs with DEBUG on.")
        if employees < 1:
            raise CommandError("--employees must be 1 or more.")
        if not 0 <= releases <= WEEKS:
            raise CommandError(f"--releases is between 0 and {WEEKS}.")
        if ExplanationVersion.current() is None:
            raise CommandError("No explanation is published; run migrate first.")
        reason = real_staff_reason()
        if reason:
            raise CommandError(f"{reason} generate_org refuses.")
        total = events if events is not None else round(employees * EVENTS_PER_PERSON)
        started = time.monotonic()
        Generator(employees=employees, events=total, releases=releases, seed=seed, out=self.stdout).run(
            started
        )
        elapsed = time.monotonic() - started
        count = AuditEvent.objects.count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated {employees} employees and a chain of {count} events in {elapsed:,.0f} s "
                f"({count / elapsed:,.0f} events/s). Run verify_audit --full to check it."
            )
        )
