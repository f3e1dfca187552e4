"""How long HR's roster import takes with N staff: upload and preview, then confirm.

Generates a realistic roster CSV (Japanese names, addresses in the first of
ALLOWED_EMAIL_DOMAINS, offices from the database's office tree or, in an empty
database, a tree of its own), signs in as an HR officer and drives the same
views HR uses: POST the file to the roster page (parse, plan, preview stored,
page rendered), then POST the confirmation (parse, plan, import in one
transaction). Then a second import of the same staff with about 5% changed
(names, moves between offices, leavers, a few new starters), because
re-imports are the common case. Prints the time, number of queries and peak
memory (resident set) of each phase.

The file is the whole staff: everyone already in the database is written into
it unchanged, so nobody is deactivated by surprise. It writes into the
database DATABASE_URL names (SQLite when unset), so it runs only with DEBUG on
and refuses a database holding real staff (employee numbers not starting with
D, as seed_demo).

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/consent_bench \\
        .venv/bin/python bench/roster_import.py --rows 100000

``--app-dir`` runs another checkout's code (e.g. the code before a change)
against the same database, for figures side by side.
"""

import argparse
import codecs
import contextlib
import io
import os
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SURNAMES = [
    ("佐藤", "sato"),
    ("鈴木", "suzuki"),
    ("高橋", "takahashi"),
    ("田中", "tanaka"),
    ("伊藤", "ito"),
    ("渡辺", "watanabe"),
    ("山本", "yamamoto"),
    ("中村", "nakamura"),
    ("小林", "kobayashi"),
    ("加藤", "kato"),
    ("吉田", "yoshida"),
    ("山田", "yamada"),
    ("佐々木", "sasaki"),
    ("山口", "yamaguchi"),
    ("松本", "matsumoto"),
    ("井上", "inoue"),
    ("木村", "kimura"),
    ("林", "hayashi"),
    ("清水", "shimizu"),
    ("齋藤", "saito"),
]
GIVEN = [
    ("翔太", "shota"),
    ("美咲", "misaki"),
    ("大輔", "daisuke"),
    ("陽子", "yoko"),
    ("健一", "kenichi"),
    ("彩", "aya"),
    ("直樹", "naoki"),
    ("由美", "yumi"),
    ("拓也", "takuya"),
    ("恵", "megumi"),
    ("誠", "makoto"),
    ("真由美", "mayumi"),
    ("亮", "ryo"),
    ("香織", "kaori"),
    ("浩", "hiroshi"),
    ("麻衣", "mai"),
    ("聡", "satoshi"),
    ("裕子", "yuko"),
    ("隆", "takashi"),
    ("髙橋", "takahashi"),  # a variant kanji CP932 holds as an NEC extension
]
# Used only when the database has no offices: a national tree of 1 + 9 + 9 * 12.
REGIONS = ["北海道", "東北", "関東", "北陸", "中部", "近畿", "中国", "四国", "九州"]
KINDS = ["国道事務所", "河川事務所", "港湾事務所", "ダム管理所", "営繕事務所", "出張所"]
HEADER = "職員番号,氏名,メールアドレス,事務所コード,事務所名,上位事務所コード,在職"
FIRST_NUMBER = 3_000_000  # D3000001...: clear of seed_demo's D00001...


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000, help="staff in the first import")
    parser.add_argument("--change", type=float, default=0.05, help="share changed in the re-import")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--invitations", type=int, default=1000, help="invitations actually sent per import")
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="the checkout whose code runs")
    return parser.parse_args()


def setup(app_dir):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(app_dir))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    if not settings.DEBUG:
        sys.exit("The roster benchmark writes staff into the database; it runs only with DEBUG on.")
    # Invitations are still built (token, template) for every new account, then dropped.
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    call_command("migrate", verbosity=0)
    from consent.models import Employee

    if Employee.objects.exclude(employee_number__startswith="D").exists():
        sys.exit("This database holds real staff (employee numbers not starting with D); refused.")


def office_tree():
    """(code, name, parent code) of the database's offices, or of a national tree when it has none."""
    from consent.models import Office

    offices = [
        (o.code, o.name, o.parent.code if o.parent else "") for o in Office.objects.select_related("parent")
    ]
    if offices:
        return offices
    tree = [("J00", "本省", "")]
    for r, region in enumerate(REGIONS, 1):
        code = f"J{r:02d}"
        tree.append((code, f"{region}地方整備局", "J00"))
        for k in range(12):
            tree.append((f"{code}-{k + 1:02d}", f"{region}第{k + 1}{KINDS[k % len(KINDS)]}", code))
    return tree


class Staff:
    """The roster as data: employee number -> [name, email, office, active]."""

    def __init__(self, rng, domain, offices):
        self.rng, self.domain, self.offices = rng, domain, offices
        self.by_code = {code: (code, name, parent) for code, name, parent in offices}
        self.people = {}
        self.next_number = FIRST_NUMBER

    def existing(self):
        from consent.models import Employee

        for number, name, email, office, active in Employee.objects.values_list(
            "employee_number", "display_name", "user__email", "office__code", "is_active"
        ):
            self.people[number] = [name, email.lower(), office, active]

    def hire(self):
        self.next_number += 1
        surname, romaji_s = self.rng.choice(SURNAMES)
        given, romaji_g = self.rng.choice(GIVEN)
        number = f"D{self.next_number}"
        email = f"{romaji_g}.{romaji_s}.{self.next_number}@{self.domain}"
        office = self.rng.choice(self.offices)[0]
        self.people[number] = [f"{surname} {given}", email, office, self.rng.random() > 0.002]
        return number

    def fill(self, rows):
        while len(self.people) < rows:
            self.hire()

    def change(self, share, keep):
        """About ``share`` of the staff (never ``keep``) changed the way a month of personnel moves does."""
        numbers = sorted(number for number in self.people if number != keep)
        picked = self.rng.sample(numbers, int(len(numbers) * share))
        counts = {"renamed": 0, "moved": 0, "left": 0, "removed": 0, "hired": 0}
        for i, number in enumerate(picked):
            person = self.people[number]
            kind = i % 5
            if kind == 0:
                person[0] = f"{self.rng.choice(SURNAMES)[0]} {person[0].split(' ')[-1]}"
                counts["renamed"] += 1
            elif kind in (1, 2):
                person[2] = self.rng.choice(self.offices)[0]
                counts["moved"] += 1
            elif kind == 3:
                person[3] = False
                counts["left"] += 1
            else:
                del self.people[number]
                counts["removed"] += 1
        for _ in range(len(picked) // 10):
            self.hire()
            counts["hired"] += 1
        return counts

    def csv(self, encoding):
        lines = [HEADER]
        for number, (name, email, office, active) in self.people.items():
            code, office_name, parent = self.by_code[office]
            lines.append(
                f"{number},{name},{email},{code},{office_name},{parent},{'在職' if active else '退職'}"
            )
        text = "\r\n".join(lines) + "\r\n"
        if encoding == "utf-8-sig":
            return codecs.BOM_UTF8 + text.encode("utf-8")
        return text.encode(encoding)


def hr_client():
    """A client signed in as an HR officer who passed TOTP (bench/sessions.py's session)."""
    from django.conf import settings
    from django.test import Client
    from sessions import hr_session

    from consent import services
    from consent.models import Employee, Office, RoleGrant

    grant = RoleGrant.objects.filter(role="hr", user__employee__employee_number__startswith="D").first()
    if grant is None:
        office = Office.objects.order_by("pk").first() or Office.objects.create(code="J00", name="本省")
        employee = services.provision_employee(
            email=f"bench.hr@{settings_domain()}",
            display_name="人事 担当",
            employee_number="D2999999",
            office=office,
        )
        grant = RoleGrant.objects.create(user=employee.user, role="hr")
    user = grant.user
    Employee.objects.filter(user=user).update(is_active=True)
    client = Client(HTTP_HOST="localhost")
    client.hr_number = user.employee.employee_number
    client.cookies[settings.SESSION_COOKIE_NAME] = hr_session(user)
    return client


def settings_domain():
    from django.conf import settings

    return settings.ALLOWED_EMAIL_DOMAINS[0]


def peak_rss_reset():
    # Writing 5 resets the kernel's high-water mark of this process's resident set.
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def peak_rss_mb():
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


@contextlib.contextmanager
def phase(name, results):
    from django.db import connection

    count = [0]

    def counter(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    peak_rss_reset()
    start, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(counter):
        yield
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    results.append((name, seconds, count[0], peak_rss_mb()))
    # CPU time is this process's alone: on a shared machine it moves less than the wall clock.
    print(
        f"  {name:<42} {seconds:7.2f} s ({cpu:6.2f} s CPU here) {count[0]:>8,} queries"
        f"  peak RSS {peak_rss_mb():4.0f} MB",
        flush=True,
    )


class Invitations:
    """Emailing new accounts, timed apart from the import. Today the import only
    queues them and the send_queued_mail command (from a timer) sends them: it is
    run after each confirmation. Older code sent them after the commit inside
    the confirmation, which is then timed and subtracted. Only the first
    ``sample`` are sent (each costs the reset token's own queries) and the rest
    estimated from them, so a first import of 100,000 people does not spend its
    hours here."""

    def __init__(self, sample):
        from consent import services

        self.sample, self.seconds, self.sent, self.total = sample, 0.0, 0, 0
        # Queued since send_pending_invitations (its command send_invitations), now send_queued_mail.
        self.command = "send_queued_mail" if hasattr(services, "send_queued_mail") else "send_invitations"
        self.queued = hasattr(services, "send_queued_mail") or hasattr(services, "send_pending_invitations")
        if self.queued:
            return
        # The names before invitations were queued: one connection, then one per person.
        batched = hasattr(services, "_send_invitations")
        name = "_send_invitations" if batched else "_send_invitation"
        original = getattr(services, name)

        def timed(users):
            users = list(users) if batched else [users]
            self.total += len(users)
            users = users[: max(0, self.sample - self.sent)]
            start = time.perf_counter()
            if users:
                original(users) if batched else original(users[0])
            self.seconds += time.perf_counter() - start
            self.sent += len(users)

        setattr(services, name, timed)

    def send_queued(self):
        """Run the mail command on the first ``sample`` pending; the rest are stamped
        as sent without a mail (a benchmark database: nobody reads it)."""
        from django.core.management import call_command
        from django.utils import timezone

        from consent.models import Invitation

        pending = Invitation.objects.filter(sent_at=None).order_by("pk")
        self.total = pending.count()
        cutoff = pending.values_list("pk", flat=True)[self.sample : self.sample + 1]
        if cutoff:
            pending.filter(pk__gte=cutoff[0]).update(sent_at=timezone.now())
        start = time.perf_counter()
        call_command(self.command, stdout=io.StringIO())
        self.seconds = time.perf_counter() - start
        self.sent = min(self.sample, self.total)

    def report(self, confirm_seconds):
        if self.queued:
            self.send_queued()
        if self.total:
            estimate = self.seconds / max(1, self.sent) * self.total
            where = f"by {self.command} (timer)" if self.queued else "after the commit"
            print(
                f"  of which invitations {where}: {self.sent:,} of {self.total:,} sent"
                f" in {self.seconds:.2f} s (all {self.total:,}: about {estimate:.0f} s);"
                f" the import itself: {confirm_seconds - (0 if self.queued else self.seconds):.2f} s",
                flush=True,
            )
        self.seconds, self.sent, self.total = 0.0, 0, 0


def run_import(client, data, label, results, invitations):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from consent.models import RosterPreview

    print(f"{label}: {len(data) / 1e6:.1f} MB", flush=True)
    upload = SimpleUploadedFile("roster.csv", data, content_type="text/csv")
    with phase(f"{label}: upload + preview", results):
        response = client.post(reverse("hr_roster"), {"file": upload, "encoding": ""})
    if response.status_code != 200:
        body = response.content.decode(errors="replace")
        sys.exit(f"preview refused ({response.status_code}): {body[body.find('<table') :][:2000]}")
    print(f"  page {len(response.content) / 1e6:.1f} MB", flush=True)
    # What the browser sends back: the preview form's hidden field.
    sha256 = re.search(rb'name="sha256" value="([0-9a-f]{64})"', response.content).group(1).decode()
    stored = RosterPreview.objects.order_by("-pk").first()
    from django.db import connection

    size = len(stored.data)
    if connection.vendor == "postgresql":  # TOAST compresses the column
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_column_size(data) FROM consent_rosterpreview WHERE id = %s", [stored.pk]
            )
            size = cursor.fetchone()[0]
    print(f"  preview stored: {len(stored.data) / 1e6:.1f} MB file, {size / 1e6:.1f} MB on disk", flush=True)
    with phase(f"{label}: confirm (import)", results):
        response = client.post(reverse("hr_roster_confirm"), {"sha256": sha256})
    invitations.report(results[-1][1])
    from django.contrib.messages import get_messages

    notes = [str(m) for m in get_messages(response.wsgi_request)]
    if response.status_code != 302 or not notes or "expired" in notes[0] or "changed" in notes[0]:
        sys.exit(f"confirmation failed ({response.status_code}): {notes}")
    print(f"  {notes[0]}", flush=True)


def main():
    args = parse_args()
    setup(args.app_dir)
    from django.db import connection

    from consent.models import AuditEvent, Employee

    rng = random.Random(args.seed)
    print(f"{connection.vendor}, code from {args.app_dir}, {args.rows:,} rows", flush=True)
    staff = Staff(rng, settings_domain(), office_tree())
    client = hr_client()
    staff.existing()
    staff.fill(args.rows)
    results = []
    invitations = Invitations(args.invitations)
    events = AuditEvent.objects.count()
    run_import(client, staff.csv("utf-8-sig"), "first import (UTF-8 with BOM)", results, invitations)
    counts = staff.change(args.change, keep=client.hr_number)
    print(f"changes: {counts}", flush=True)
    run_import(client, staff.csv("cp932"), "re-import (CP932)", results, invitations)
    active = Employee.objects.filter(is_active=True).count()
    print(
        f"employees {Employee.objects.count():,} ({active:,} active), "
        f"audit events added {AuditEvent.objects.count() - events:,}"
    )


if __name__ == "__main__":
    main()
