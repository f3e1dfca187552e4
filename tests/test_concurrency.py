"""Concurrent writers never fork or gap the chain (file-based SQLite and PostgreSQL)."""

import pytest

from tests.conftest import fresh_postgres_database, run_probe

THREADS, PER_THREAD = 8, 25

pytestmark = pytest.mark.slow


def assert_intact(report):
    assert report["errors"] == []
    assert report["appended"] == THREADS * PER_THREAD
    assert report["contiguous"]
    assert report["verified"], report["reason"]


def test_threads_appending_to_file_sqlite(tmp_path):
    path = tmp_path / "concurrency.sqlite3"
    assert_intact(run_probe("concurrency_probe.py", THREADS, PER_THREAD, timeout=300, SQLITE_PATH=str(path)))


def test_threads_appending_to_postgresql():
    with fresh_postgres_database("consent_concurrency") as url:
        assert_intact(run_probe("concurrency_probe.py", THREADS, PER_THREAD, timeout=300, DATABASE_URL=url))
