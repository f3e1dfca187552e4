import datetime
import random
from contextlib import contextmanager
from functools import partial

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from consent import figures, services
from consent.models import (
    Choice,
    Complaint,
    Employee,
    ExplanationVersion,
    FigureSnapshot,
    Notice,
    Office,
    RoleGrant,
)

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - demo data only, refused without DEBUG
DOMAIN = "demo.example.jp"

# (code, name, parent code, headcount): a regional bureau with offices of
# realistic size, some below the suppression threshold of five.
OFFICES = [
    ("100", "中部地方整備局 本局", None, 0),
    ("110", "総務部", "100", 28),
    ("120", "企画部", "100", 18),
    ("200", "名古屋国道事務所", None, 56),
    ("210", "庄内川河川事務所", None, 32),
    ("220", "静岡国道事務所", None, 38),
    ("230", "岐阜国道事務所", None, 24),
    ("240", "三重河川国道事務所", None, 22),
    ("250", "設楽ダム工事事務所", None, 4),
    ("260", "飯田国道事務所", None, 3),
]
SURNAMES = [
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "林",
    "清水",
    "山崎",
]
GIVEN = [
    "翔太",
    "美咲",
    "大輔",
    "陽子",
    "健一",
    "彩",
    "直樹",
    "由美",
    "拓也",
    "恵",
    "誠",
    "真由美",
    "亮",
    "香織",
    "浩",
    "麻衣",
    "聡",
    "裕子",
    "隆",
    "愛",
]

# What each demo employee has done so far, with weights: some have not even
# read the explanation, some read it and stopped, some changed their minds.
STORIES = [
    ((), 22),
    (("ack",), 18),
    (("ack", Choice.OPT_OUT), 28),
    (("ack", Choice.UNDECIDED), 14),
    (("ack", Choice.OPT_IN), 14),
    (("ack", Choice.UNDECIDED, Choice.OPT_OUT), 5),
    (("ack", Choice.OPT_IN, Choice.OPT_OUT), 3),
    (("ack", Choice.UNDECIDED, Choice.OPT_IN), 1),
]
# How far back the demo's history starts, in weeks: HR's trend then has points.
WEEKS = 9


@contextmanager
def demo_clock(moment):
    """Let the services believe it is ``moment``, so that seed_demo writes weeks of
    history through the same code paths as real use. It replaces
    django.utils.timezone.now, which every service reads, for the duration of
    the block; only seed_demo uses it, and only with DEBUG on."""
    if not settings.DEBUG:
        raise CommandError("The demo clock only runs with DEBUG on.")
    real = timezone.now
    timezone.now = lambda: moment
    try:
        yield
    finally:
        timezone.now = real


class Command(BaseCommand):
    help = (
        "Create the demo organisation (a regional bureau, offices of realistic size, "
        "employees, one HR officer, one union auditor, one administrator) and a spread "
        "of decisions made through the same service as the web form, marked as demo "
        "events. Idempotent: people already present are left alone. Refused unless "
        "DEBUG is on, and refused on a database holding real staff, because it records "
        "decisions on people's behalf."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo records decisions for demo people and only runs with DEBUG on.")
        if Employee.objects.exclude(employee_number__startswith="D").exists():
            raise CommandError(
                "This database holds real staff (employee numbers not starting with D); seed_demo refuses."
            )
        version = ExplanationVersion.current()
        if version is None:
            raise CommandError("No explanation is published; run migrate first.")
        password_hash = make_password(DEMO_PASSWORD)
        rng = random.Random(20170515)
        now = timezone.now()
        start = timezone.make_aware(
            datetime.datetime.combine(
                figures.week_start(now) - datetime.timedelta(weeks=WEEKS), datetime.time(8)
            )
        )
        with transaction.atomic():
            with demo_clock(start):
                offices = self._offices()
                created = []
                number = 0
                for code, _name, _parent, headcount in OFFICES:
                    for _ in range(headcount):
                        number += 1
                        employee_number = f"D{number:05d}"
                        if Employee.objects.filter(employee_number=employee_number).exists():
                            continue
                        name = f"{SURNAMES[number % len(SURNAMES)]} {GIVEN[(number * 7) % len(GIVEN)]}"
                        created.append(
                            services.provision_employee(
                                email=f"staff{number:03d}@{DOMAIN}",
                                display_name=name,
                                employee_number=employee_number,
                                office=offices[code],
                                password_hash=password_hash,
                            )
                        )
                hr = self._special_accounts(offices, password_hash)
            # Each office briefs its staff on some day of the demo's weeks; its staff act in the days after.
            days = (now - start).days
            briefing = {code: rng.randrange(max(1, days - 14)) for code, *_rest in OFFICES}
            timeline = [
                action
                for employee in created
                for action in self._story(
                    employee,
                    version,
                    start + datetime.timedelta(days=briefing[employee.office.code]),
                    now,
                    rng,
                )
            ]
            if not Notice.objects.exists():
                timeline += self._notices_and_complaints(hr, offices, start)
            # HR's pages show published figures only: the release timer's snapshots, every
            # day at the release times, from a week into the demo's history until now.
            if not FigureSnapshot.objects.exists():
                day = start.date() + datetime.timedelta(weeks=1)
                while day <= now.date():
                    for time in settings.FIGURES_RELEASE_TIMES:
                        moment = timezone.make_aware(datetime.datetime.combine(day, time))
                        if start < moment <= now:
                            timeline.append((moment, figures.publish_snapshot))
                    day += datetime.timedelta(days=1)
            for moment, action in sorted(timeline, key=lambda item: item[0]):
                with demo_clock(moment):
                    action()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({len(created)} employees created)."))
        self.stdout.write(
            f"Sign in at /accounts/login/ with password {DEMO_PASSWORD!r}:\n"
            f"  employee       staff001@{DOMAIN} … staff{number:03d}@{DOMAIN}\n"
            f"  HR             hr@{DOMAIN}     (asked to set up TOTP first)\n"
            f"  union auditor  union@{DOMAIN}  (asked to set up TOTP first)\n"
            f"  administrator  admin@{DOMAIN}  (asked to set up TOTP first)"
        )

    def _offices(self):
        offices = {}
        for code, name, parent, _headcount in OFFICES:
            offices[code], _ = Office.objects.update_or_create(
                code=code, defaults={"name": name, "parent": offices.get(parent)}
            )
        return offices

    def _story(self, employee, version, briefed, now, rng):
        """What one demo employee does, as (moment, action): in the ten days after their
        office's briefing, reading the explanation first and deciding over the days after."""
        steps = rng.choices([s for s, _ in STORIES], weights=[w for _, w in STORIES])[0]
        moment = briefed + datetime.timedelta(
            days=rng.randrange(10), hours=rng.randrange(9), minutes=rng.randrange(60)
        )
        actions = []
        for step in steps:
            if moment >= now:
                break
            if step == "ack":
                action = partial(
                    services.acknowledge_explanation, user=employee.user, version=version, demo=True
                )
            else:
                action = partial(
                    services.record_decision,
                    user=employee.user,
                    choice=step,
                    channel="demo-seed",
                    sign_in_method="demo",
                    demo=True,
                )
            actions.append((moment, action))
            moment += datetime.timedelta(days=rng.randrange(15), minutes=rng.randrange(1, 240))
        return actions

    def _special_accounts(self, offices, password_hash):
        specials = [("hr", "人事 花子", "D90001", "110"), ("union", "組合 一郎", "D90002", "200")]
        for role, name, employee_number, office in specials:
            employee = services.provision_employee(
                email=f"{role}@{DOMAIN}",
                display_name=name,
                employee_number=employee_number,
                office=offices[office],
                password_hash=password_hash,
            )
            if not RoleGrant.objects.filter(user=employee.user, role=role).exists():
                services.grant_role(actor=None, user=employee.user, role=role)
            if role == "hr":
                hr = employee
        User = get_user_model()
        admin, created = User.objects.get_or_create(
            username=f"admin@{DOMAIN}", defaults={"email": f"admin@{DOMAIN}", "password": password_hash}
        )
        if created:
            EmailAddress.objects.create(user=admin, email=admin.email, verified=True, primary=True)
            services.set_account_access(actor=None, user=admin, is_staff=True, is_superuser=True)
        return hr

    def _notices_and_complaints(self, hr, offices, start):
        """One clean notice, one published despite its compulsory wording, and two
        complaints, so the union's pages have something to show; as (moment, action)."""
        day = datetime.timedelta(days=1)
        reporters = list(Employee.objects.filter(office=offices["200"]).order_by("employee_number")[:2])
        return [
            (
                start + day,
                lambda: services.publish_notice(
                    user=hr.user,
                    title="職員証の切替についてのお知らせ",
                    body="マイナンバーカードへの職員証機能の搭載を希望する方は、この台帳で選択してください。",
                ),
            ),
            (
                start + 15 * day,
                lambda: services.publish_notice(
                    user=hr.user,
                    title="【至急】切替手続きについて",
                    body="全職員は期限までに必ずマイナンバーカードを提出すること。",
                    offices=[offices["200"]],
                    accept_flagged=True,
                ),
            ),
            (
                start + 17 * day,
                lambda: services.file_complaint(
                    user=reporters[0].user,
                    anonymous=True,
                    what=Complaint.What.TOLD_COMPULSORY,
                    involved_role=Complaint.Role.HEAD_OF_UNIT,
                    office=offices["200"],
                    occurred_on=timezone.localdate(),
                    details="朝礼で所属長から、一体化は全員の義務だと言われました。",
                ),
            ),
            (
                start + 30 * day,
                lambda: services.file_complaint(
                    user=reporters[1].user,
                    anonymous=False,
                    what=Complaint.What.ASKED_DECISION,
                    involved_role=Complaint.Role.COLLEAGUE,
                    office=offices["200"],
                    details="同僚から、どちらを選んだのか何度も聞かれて困っています。",
                    share_pseudonym=True,
                ),
            ),
        ]
