"""Concurrent writers never fork or gap the chain (file-based SQLite and PostgreSQL)."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
THREADS, PER_THREAD = 8, 25

pytestmark = pytest.mark.slow


def run_probe(env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    env.update(DEBUG="1", **env_overrides)
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "concurrency_probe.py"), str(THREADS), str(PER_THREAD)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"\nconcurrency on {report['vendor']}: {report}")
    return report


def assert_intact(report):
    assert report["errors"] == []
    assert report["appended"] == THREADS * PER_THREAD
    assert report["contiguous"]
    assert report["verified"], report["reason"]


def test_threads_appending_to_file_sqlite(tmp_path):
    assert_intact(run_probe({"SQLITE_PATH": str(tmp_path / "concurrency.sqlite3")}))


def test_threads_appending_to_postgresql():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("DATABASE_URL is not PostgreSQL (CI runs this with it set)")
    import psycopg

    name = f"consent_concurrency_{uuid.uuid4().hex[:8]}"
    server = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        assert_intact(run_probe({"DATABASE_URL": f"{server}/{name}"}))
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
