"""Reads on a replica (consent/routers.py): the database each read is sent to.

Here the replica alias is the test database's own connection (as TEST MIRROR
makes it when DATABASE_REPLICA_URL is set), and each test already runs inside
a transaction of its own: ``replica`` counts only the transactions the app
opens, and records the router's answers, so the tests see where each read went."""

import runpy

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from consent import routers
from consent.models import AuditEvent, AuditHead, Choice, Decision, LogVerification, SwitchoverCase
from tests.conftest import ROOT, acknowledge, decide, sign_in_with_mfa

router = routers.ReplicaRouter()
REPLICA = routers.REPLICA


@pytest.fixture
def replica(db, monkeypatch):
    """The routed reads, as (model label, alias) pairs."""
    connections.settings[REPLICA] = {**connections.settings[DEFAULT_DB_ALIAS], "TEST": {"MIRROR": "default"}}
    connections[REPLICA] = connections[DEFAULT_DB_ALIAS]
    outer = len(connections[DEFAULT_DB_ALIAS].atomic_blocks)
    monkeypatch.setattr(routers, "in_transaction", lambda: len(connections["default"].atomic_blocks) > outer)
    reads = []
    db_for_read = routers.ReplicaRouter.db_for_read

    def recording(self, model, **hints):
        alias = db_for_read(self, model, **hints)
        reads.append((model._meta.label, alias))
        return alias

    monkeypatch.setattr(routers.ReplicaRouter, "db_for_read", recording)
    yield reads
    del connections[REPLICA]
    del connections.settings[REPLICA]


def test_without_a_replica_every_read_is_on_the_primary(db):
    with routers.replica_reads():
        assert router.db_for_read(Decision) == DEFAULT_DB_ALIAS


def test_reads_go_to_the_replica_only_where_asked(replica):
    assert router.db_for_read(Decision) == DEFAULT_DB_ALIAS
    with routers.replica_reads():
        assert router.db_for_read(Decision) == REPLICA
        assert router.db_for_read(AuditEvent) == REPLICA
        # The chain head, reads inside a transaction and the verification: the primary.
        assert router.db_for_read(AuditHead) == DEFAULT_DB_ALIAS
        with transaction.atomic():
            assert router.db_for_read(Decision) == DEFAULT_DB_ALIAS
        with routers.primary_reads():
            assert router.db_for_read(LogVerification) == DEFAULT_DB_ALIAS
        assert router.db_for_read(Decision) == REPLICA
        # Writes never.
        assert router.db_for_write(Decision) == DEFAULT_DB_ALIAS
    assert router.db_for_read(Decision) == DEFAULT_DB_ALIAS
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "consent")
    assert not router.allow_migrate(REPLICA, "consent")


def _routed(reads, response, status):
    assert response.status_code == status
    on = {alias: {label for label, a in reads if a == alias} for alias in (REPLICA, DEFAULT_DB_ALIAS)}
    reads.clear()
    return on


def test_hr_pages_read_on_the_replica_and_write_on_the_primary(replica, client, hr, alice):
    acknowledge(alice)
    decide(alice, Choice.OPT_IN)
    sign_in_with_mfa(client, hr.user)
    replica.clear()
    on = _routed(replica, client.get("/hr/", secure=True), 200)
    assert "consent.FigureSnapshot" in on[REPLICA]
    # The session and the signed-in user are read before the page, on the primary.
    assert {"sessions.Session", "auth.User"} <= on[DEFAULT_DB_ALIAS] and "auth.User" not in on[REPLICA]
    # Opening the queue appends to the chain: the append and what it reads are on the primary.
    appended = AuditEvent.objects.count()
    on = _routed(replica, client.get("/hr/queue/", secure=True), 200)
    assert "consent.SwitchoverCase" in on[REPLICA]
    # (The head is locked, which is a write; the append reads nothing else.)
    assert AuditEvent.objects.count() == appended + 1
    assert not {"consent.AuditHead", "consent.AuditEvent", "consent.LogNode"} & on[REPLICA]
    assert "consent.AuditHead" not in on[DEFAULT_DB_ALIAS]  # read only under its lock, routed as a write
    # A POST reads on the primary only.
    case = SwitchoverCase.objects.get(employee=alice)
    response = client.post(f"/hr/queue/{case.pk}/step/", {"step": "card_received"}, secure=True)
    assert _routed(replica, response, 302)[REPLICA] == set()
    assert SwitchoverCase.objects.get(pk=case.pk).steps_done


def test_the_union_verifies_on_the_primary_and_lists_on_the_replica(replica, client, union, alice):
    acknowledge(alice)
    sign_in_with_mfa(client, union.user)
    replica.clear()
    on = _routed(replica, client.get("/union/audit/", secure=True), 200)
    assert "consent.AuditEvent" in on[REPLICA]
    assert {"consent.AuditHead", "consent.LogVerification"} <= on[DEFAULT_DB_ALIAS]
    assert not {"consent.AuditHead", "consent.LogVerification"} & on[REPLICA]
    assert LogVerification.objects.exists()


def test_employee_pages_never_read_on_the_replica(replica, alice_client, alice):
    acknowledge(alice)
    for path in ("/explanation/", "/decision/", "/history/"):
        assert _routed(replica, alice_client.get(path, secure=True), 200)[REPLICA] == set()


def test_the_settings_add_the_replica_redis_and_pooler_options(monkeypatch):
    settings_file = ROOT / "config" / "settings.py"
    monkeypatch.setenv("DEBUG", "1")
    monkeypatch.setenv("DATABASE_URL", "postgres://app@primary/consent")
    for name in (
        "DATABASE_REPLICA_URL",
        "REDIS_URL",
        "CONN_MAX_AGE",
        "DISABLE_SERVER_SIDE_CURSORS",
        "DATABASE_PREPARED_STATEMENTS",
    ):
        monkeypatch.delenv(name, raising=False)
    plain = runpy.run_path(str(settings_file))
    assert set(plain["DATABASES"]) == {"default"} and plain["DATABASES"]["default"]["CONN_MAX_AGE"] == 60
    assert plain["DATABASES"]["default"]["CONN_HEALTH_CHECKS"]
    prepared = {"server_side_binding": True, "prepare_threshold": 5}
    assert plain["DATABASES"]["default"]["OPTIONS"] == prepared
    assert "db" in plain["CACHES"]["default"]["BACKEND"] and "SESSION_ENGINE" not in plain
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://app@replica/consent")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("CONN_MAX_AGE", "0")
    monkeypatch.setenv("DISABLE_SERVER_SIDE_CURSORS", "true")
    tuned = runpy.run_path(str(settings_file))
    replica = tuned["DATABASES"][REPLICA]
    # The PgBouncer set-up (CONN_MAX_AGE=0): nothing prepared, parameters bound on the client.
    assert all("OPTIONS" not in db for db in tuned["DATABASES"].values())
    assert replica["HOST"] == "replica" and replica["TEST"] == {"MIRROR": "default"}
    assert all(
        db["CONN_MAX_AGE"] == 0 and db["DISABLE_SERVER_SIDE_CURSORS"] for db in tuned["DATABASES"].values()
    )
    assert tuned["CACHES"]["default"]["BACKEND"].endswith("RedisCache")
    assert tuned["SESSION_ENGINE"] == "django.contrib.sessions.backends.cached_db"
    # Behind a PgBouncer with max_prepared_statements, asked for: both aliases prepare.
    monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", "true")
    pooled = runpy.run_path(str(settings_file))
    assert all(db["OPTIONS"] == prepared for db in pooled["DATABASES"].values())
    # Kept connections, asked not to.
    monkeypatch.setenv("CONN_MAX_AGE", "60")
    monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", "false")
    assert all("OPTIONS" not in db for db in runpy.run_path(str(settings_file))["DATABASES"].values())
    # SQLite named by URL takes no such options (psycopg's, not sqlite3's).
    monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", "true")
    monkeypatch.delenv("DATABASE_REPLICA_URL")
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/consent-settings-test.sqlite3")
    assert "OPTIONS" not in runpy.run_path(str(settings_file))["DATABASES"]["default"]
