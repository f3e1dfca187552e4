"""Shared people and helpers. State is set up through the services, as the app does."""

import contextlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.hashers import Argon2PasswordHasher

from consent import services
from consent.models import ExplanationVersion, Office, RoleGrant

PASSWORD = "correct-horse-battery-2026"


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 as in production, at the least cost: the suite hashes and checks
    passwords hundreds of times, and production's 100 MB per hash is not what it tests."""

    time_cost = 1
    memory_cost = 8
    parallelism = 1


# The suite's PASSWORD_HASHERS; the probes (run_probe) use them too.
CHEAP_HASHERS = [
    "tests.conftest.FastArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist (`make test`): a module's tests go to one worker (as with
    --dist loadfile, so a module-scoped fixture is made once), and all the browser
    tests to one worker, in order, so one server and one Chromium serve them
    (--dist loadgroup cannot do it: pytest 9 ignores the nodeid suffix of its groups)."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False  # in collection order: the browser tests first

    class BrowserTestsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return "tests/browser/" if nodeid.startswith("tests/browser/") else nodeid.split("::", 1)[0]

    return BrowserTestsTogether(config, log)


def pytest_collection_modifyitems(items):
    """The browser tests first: the longest run of the suite, so under pytest-xdist
    one worker starts on it while the others share out the rest."""
    items.sort(key=lambda item: not item.nodeid.startswith("tests/browser/"))


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=CHEAP_HASHERS):
        yield


@pytest.fixture
def office(db):
    return Office.objects.create(code="200", name="名古屋国道事務所")


@pytest.fixture
def make_employee(office):
    from django.contrib.auth.hashers import make_password

    password_hash = make_password(PASSWORD)

    def make(name, number, email=None):
        return services.provision_employee(
            email=email or f"{name}@example.jp",
            display_name=name,
            employee_number=number,
            office=office,
            password_hash=password_hash,
        )

    return make


@pytest.fixture
def alice(make_employee):
    return make_employee("alice", "E0001")


@pytest.fixture
def bob(make_employee):
    return make_employee("bob", "E0002")


def grant(employee, role, *, with_totp=True):
    RoleGrant.objects.create(user=employee.user, role=role)
    if with_totp:
        TOTP.activate(employee.user, generate_totp_secret())
    return employee


@pytest.fixture
def hr(make_employee):
    return grant(make_employee("hana", "E0100"), "hr")


@pytest.fixture
def union(make_employee):
    return grant(make_employee("ichiro", "E0200"), "union")


@pytest.fixture
def history(alice, bob):
    """A few events: acknowledgements and decisions of two people; the number of events."""
    from consent.models import AuditEvent, Choice

    for person in (alice, bob):
        acknowledge(person)
    decide(alice, Choice.OPT_IN)
    decide(bob, Choice.UNDECIDED)
    decide(alice, Choice.OPT_OUT)
    return AuditEvent.objects.count()


@pytest.fixture
def version1(db):
    return ExplanationVersion.objects.get(number=1)


def acknowledge(employee):
    return services.acknowledge_explanation(user=employee.user, version=ExplanationVersion.current())


def decide(employee, choice, comment=""):
    return services.record_decision(user=employee.user, choice=choice, comment=comment)


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice.user)
    return client


def sign_in_with_mfa(client, user):
    """A session that passed password and TOTP, as allauth records it."""
    import time

    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time()},
        {"method": "mfa", "type": "totp", "at": time.time()},
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return client


@pytest.fixture
def hr_client(client, hr):
    return sign_in_with_mfa(client, hr.user)


ROOT = Path(__file__).resolve().parents[1]


def production_env(**changes):
    """The environment of a production process that starts; a change to None removes the name."""
    from consent.chain import generate_key

    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "k" * 50,
        "ALLOWED_HOSTS": "ledger.example.jp",
        "DATABASE_URL": "postgres://u@localhost/db",
        "ALLOWED_EMAIL_DOMAINS": "example.jp",
        "SITE_URL": "https://ledger.example.jp",
        "LOG_SIGNING_KEY": generate_key("ledger.example.jp/consent-log")[0],
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def start_django(env, then=""):
    """Set Django up in a fresh process with ``env``, then run ``then``; the finished process."""
    code = "import django; django.setup()" + (f"; {then}" if then else "")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)


def run_probe(script, *args, timeout, **env_overrides):
    """Run a probe (tests/SCRIPT) in a fresh process against the database in
    ``env_overrides``; the JSON report it prints last."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    env.update(DEBUG="1", **env_overrides)
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / script), *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"\n{script} on {report['vendor']}: {json.dumps(report, ensure_ascii=False)}")
    return report


@contextlib.contextmanager
def fresh_postgres_database(prefix):
    """The URL of a new, empty PostgreSQL database on DATABASE_URL's server, dropped afterwards.
    Skips the test when DATABASE_URL is not PostgreSQL (CI sets it)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("DATABASE_URL is not PostgreSQL (CI runs this with it set)")
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    server = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def verify_audit(*args):
    """The verify_audit command's exit code and its combined output."""
    from io import StringIO

    from django.core.management import call_command

    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue() + err.getvalue()


def unguard(*tables):
    """Tamper as someone with database access would: lift the append-only
    triggers of ``tables``; the test transaction undoes it."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks pending in the test transaction would block ALTER TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            else:
                cursor.execute(f"DROP TRIGGER {table}_no_update")
                cursor.execute(f"DROP TRIGGER {table}_no_delete")
