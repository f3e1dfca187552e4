"""How long publishing HR's figures and rendering HR's dashboard take, and how
many queries the dashboard runs, with N employees.

Builds a fresh database (PostgreSQL when DATABASE_URL points at one: a new
database is created and dropped; SQLite otherwise), fills it with offices,
employees and a year of decisions by bulk insert (set-up only; the app
itself never writes this way). Then times the first publication (everyone
counted), changes 1% of the answers and times the next one (the release rule
compares every person), copies the latest snapshot into a year of daily ones
(set-up only, so the trend has 52 weeks to read) and renders /hr/ and
/hr/figures.csv as a signed-in HR officer.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/hr_dashboard.py --employees 10000 100000
"""

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def configure(args):
    url = os.environ.get("DATABASE_URL", "")
    os.environ["DEBUG"] = "1"
    if url.startswith("postgres"):
        import psycopg

        server = url.rsplit("/", 1)[0]
        name = f"consent_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{server}/{name}"

        def drop():
            from django.db import connections

            connections.close_all()
            with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return drop
    os.environ.pop("DATABASE_URL", None)
    os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "bench.sqlite3")
    return lambda: None


def fill(employees, offices=400):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from consent.models import Acknowledgement, Decision, Employee, ExplanationVersion, Office, pseudonym_for

    rng = random.Random(1)
    User = get_user_model()
    roots = Office.objects.bulk_create(
        [Office(code=f"{i:03d}", name=f"事務所{i}") for i in range(offices // 10)]
    )
    subs = Office.objects.bulk_create(
        [
            Office(code=f"{i:03d}-{j}", name=f"部署{i}-{j}", parent=roots[i])
            for i in range(len(roots))
            for j in range(9)
        ]
    )
    all_offices = roots + subs
    batch = 5000
    version = ExplanationVersion.current()
    now = timezone.now()
    seq = 1000
    for start in range(0, employees, batch):
        users = User.objects.bulk_create(
            [
                User(username=f"u{n}@bench.jp", email=f"u{n}@bench.jp")
                for n in range(start, min(employees, start + batch))
            ]
        )
        people = Employee.objects.bulk_create(
            [
                Employee(
                    user=u,
                    employee_number=f"B{start + i:07d}",
                    display_name=f"職員{start + i}",
                    office=rng.choice(all_offices),
                    pseudonym=pseudonym_for("employee", f"B{start + i:07d}"),
                )
                for i, u in enumerate(users)
            ]
        )
        acks, decisions = [], []
        for person in people:
            if rng.random() < 0.3:
                continue
            seq += 1
            ack = Acknowledgement(employee=person, version=version, created_at=now, audit_seq=seq)
            acks.append(ack)
        Acknowledgement.objects.bulk_create(acks)
        changed = []
        for ack in acks:
            when = now - timezone.timedelta(days=rng.randint(0, 364))
            choice = rng.choices(["opt_in", "opt_out", "undecided"], [1, 5, 2])[0]
            seq += 1
            decisions.append(
                Decision(
                    employee=ack.employee,
                    choice=choice,
                    explanation_version=version,
                    acknowledgement=ack,
                    channel="bench",
                    sign_in_method="bench",
                    created_at=when,
                    audit_seq=seq,
                    entry_hash=f"{seq:064x}",
                )
            )
            ack.employee.current_choice = choice
            changed.append(ack.employee)
        Decision.objects.bulk_create(decisions)
        Employee.objects.bulk_update(changed, ["current_choice"])
    return len(all_offices)


def publish_twice():
    from consent import figures
    from consent.models import Employee

    started = time.perf_counter()
    figures.publish_snapshot()
    first = time.perf_counter() - started
    rng = random.Random(2)
    people = list(Employee.objects.only("pk", "current_choice"))
    changed = rng.sample(people, len(people) // 100)
    for person in changed:
        person.current_choice = rng.choice(["opt_in", "opt_out", "undecided"])
    Employee.objects.bulk_update(changed, ["current_choice"], batch_size=5000)
    started = time.perf_counter()
    figures.publish_snapshot()
    return first, time.perf_counter() - started


def a_year_of_snapshots():
    from django.utils import timezone

    from consent.models import FigureRow, FigureSnapshot

    latest = FigureSnapshot.objects.order_by("-number").first()
    rows = list(latest.rows.all())
    for day in range(1, 366):
        published_at = timezone.now() - timezone.timedelta(days=366 - day)
        copy = FigureSnapshot.objects.create(number=latest.number + day, published_at=published_at, k=5)
        for row in rows:
            row.pk, row.snapshot = None, copy
        FigureRow.objects.bulk_create(rows)


def measure(repeat=5):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from consent import figures
    from consent.models import Employee, RoleGrant
    from tests.conftest import sign_in_with_mfa

    hr = Employee.objects.first()
    RoleGrant.objects.create(user=hr.user, role="hr")
    TOTP.activate(hr.user, generate_totp_secret())
    client = sign_in_with_mfa(Client(), hr.user)
    timings = {"latest": [], "weekly_trend": [], "GET /hr/": [], "GET /hr/figures.csv": []}
    queries = 0
    for _ in range(repeat):
        started = time.perf_counter()
        figures.latest()
        timings["latest"].append(time.perf_counter() - started)
        started = time.perf_counter()
        figures.weekly_trend()
        timings["weekly_trend"].append(time.perf_counter() - started)
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            assert client.get("/hr/").status_code == 200
            timings["GET /hr/"].append(time.perf_counter() - started)
        queries = len(captured)
        started = time.perf_counter()
        assert client.get("/hr/figures.csv").status_code == 200
        timings["GET /hr/figures.csv"].append(time.perf_counter() - started)
    return queries, {k: sorted(v)[len(v) // 2] for k, v in timings.items()}


def run(employees):
    drop = configure(None)
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()
    try:
        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)
        started = time.perf_counter()
        offices = fill(employees)
        filled = time.perf_counter() - started
        first, second = publish_twice()
        a_year_of_snapshots()
        queries, medians = measure()
        from django.db import connection

        print(
            f"{connection.vendor}: {employees:,} employees, {offices} offices (filled in {filled:.1f} s); "
            f"publish_figures {first:.1f} s first, {second:.1f} s after 1% changed; "
            f"GET /hr/ runs {queries} queries; median "
            + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in medians.items())
        )
    finally:
        drop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, nargs="+", default=[10000])
    args = parser.parse_args()
    if len(args.employees) > 1:
        import subprocess

        for n in args.employees:
            subprocess.run([sys.executable, __file__, "--employees", str(n)], check=True)
    else:
        run(args.employees[0])
