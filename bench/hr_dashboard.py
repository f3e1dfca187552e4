"""How long publishing HR's figures and rendering HR's dashboard take, and how
many queries the dashboard runs, with N employees.

Builds a fresh database (PostgreSQL when DATABASE_URL points at one: a new
database is created and dropped; SQLite otherwise) and fills it with
``generate_org`` (offices in a tree, staff and a year of their events, no
releases). Then times the first publication (everyone counted), changes 1% of
the answers and times the next one (the release rule compares every person),
copies the latest snapshot into a year of daily ones (set-up only, so the
trend has 52 weeks to read) and renders /hr/ and /hr/figures.csv as a
signed-in HR officer.

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


def fill(employees):
    """The organisation ``generate_org`` makes, with no releases: the first is timed here."""
    from django.core.management import call_command

    from consent.models import Office

    call_command("generate_org", employees=employees, releases=0, verbosity=0)
    return Office.objects.count()


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
