"""``make bench``: the ledger against bare Django, side by side, in one run.

Starts the app (``--app-dir``, this checkout by default) and a bare Django
project (``bench/bare``: one view answering "ok", one doing one INSERT and its
COMMIT) under the same gunicorn configuration (``gunicorn.conf.py``, 2 sync
workers), with DEBUG off, on the same PostgreSQL database, and prints:

- signed-in GET /history/, /decision/ and /explanation/ against the bare view;
- the decision POST (each request a valid CSRF'd POST from a signed-in employee,
  each recording a real decision) against the bare INSERT + COMMIT;
- HR's dashboard against a raw GROUP BY over the table its figures count;
- then ``bench/log_scale.py`` and ``bench/roster_import.py`` when present.

Ratios are the result: absolute figures depend on the machine and on what
else it is doing. The database must be a benchmark one (its name contains
"bench"); an empty one is filled with ``generate_org`` (or ``seed_demo`` in a
checkout without it). Migrations come from this checkout (they are additive),
so ``--app-dir`` can run an older checkout against the same database:

    .venv/bin/python bench/run.py --app-dir /path/to/old/checkout
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg

HERE = Path(__file__).resolve().parents[1]
SITE_URL = "http://127.0.0.1:8000"
CHOICES = ("opt_in", "opt_out", "undecided")
BARE_TABLE = "bench_bare_row"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app-dir", type=Path, default=HERE, help="checkout to run (default: this one)")
    parser.add_argument(
        "--database-url",
        default=os.getenv("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/consent_bench"),
    )
    parser.add_argument(
        "--redis-url",
        default=os.getenv("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
        help="the app's REDIS_URL when Redis answers there ('' for none); older checkouts ignore it",
    )
    parser.add_argument("--employees", type=int, default=100_000, help="size of the org made when empty")
    parser.add_argument("--sessions", type=int, default=200, help="signed-in employees taking turns")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--pages-only", action="store_true", help="skip the log and roster benchmarks")
    parser.add_argument("--roster-rows", type=int, default=100_000, help="roster file's rows")
    return parser.parse_args()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def python_of(directory):
    candidate = directory / ".venv" / "bin" / "python"
    return str(candidate if candidate.exists() else HERE / ".venv" / "bin" / "python")


def manage(directory, env, *args, capture=False):
    result = subprocess.run(
        [python_of(directory), "manage.py", *args],
        cwd=directory,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout


def prepare_database(url, employees):
    """Create, migrate (this checkout's migrations) and, when empty, fill the database."""
    name = urlsplit(url).path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"bench: refusing {name!r}: the benchmark database's name must contain 'bench'")
    server = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    env = dict(os.environ, DEBUG="1", DATABASE_URL=url, SITE_URL=SITE_URL)
    manage(HERE, env, "migrate", "--no-input", "-v", "0")
    manage(HERE, env, "createcachetable", "-v", "0")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} (id bigserial PRIMARY KEY, body text)")
        empty = not conn.execute("SELECT 1 FROM consent_employee LIMIT 1").fetchone()
    if empty:
        if (HERE / "consent" / "management" / "commands" / "generate_org.py").exists():
            manage(HERE, env, "generate_org", "--employees", str(employees))
        else:
            manage(HERE, env, "seed_demo")


def fresh(url):
    """An empty benchmark database at ``url`` (dropped first if it exists)."""
    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return url


def log_signing_key():
    """One key for the benchmark database across runs, kept in var/ like make run's."""
    path = HERE / "var" / "bench-log-signing.key"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        env = dict(os.environ, DEBUG="1", SITE_URL=SITE_URL)
        path.write_text(manage(HERE, env, "generate_log_key", capture=True).strip())
        path.chmod(0o600)
    return path.read_text().strip()


def answers(url):
    if not url:
        return False
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port or 6379), timeout=1).close()
    except OSError:
        return False
    return True


def production_env(url, redis_url):
    return dict(
        os.environ,
        DEBUG="false",
        SECRET_KEY="bench-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        ALLOWED_EMAIL_DOMAINS="example.jp,demo.example.jp,example.go.jp",
        DATABASE_URL=url,
        SITE_URL=SITE_URL,
        LOG_SIGNING_KEY=log_signing_key(),
        REDIS_URL=redis_url,
    )


class Server:
    """One gunicorn (its own process group, ended when the benchmark ends)."""

    def __init__(self, directory, module, env, workers):
        self.port = free_port()
        gunicorn = Path(python_of(directory)).with_name("gunicorn")
        self.process = subprocess.Popen(
            [str(gunicorn), "-c", str(HERE / "gunicorn.conf.py"), "--workers", str(workers)]
            + ["--log-level", "warning", "--bind", f"127.0.0.1:{self.port}"]
            + ["--chdir", str(directory), module],
            env=dict(env, WEB_CONCURRENCY=str(workers)),
            start_new_session=True,
        )
        self.origin = f"https://127.0.0.1:{self.port}"

    def wait(self):
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    sys.exit("bench: gunicorn did not start")
                time.sleep(0.1)
        sys.exit("bench: gunicorn did not answer")

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)

    def request(self, method, path, session=None, csrf=None, form=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"X-Forwarded-Proto": "https"}
        cookies = [f"sessionid={session}"] if session else []
        if csrf:
            cookies.append(f"csrftoken={csrf}")
        if cookies:
            headers["Cookie"] = "; ".join(cookies)
        body = None
        if form is not None:
            body = urlencode(form)
            headers.update(
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Origin": self.origin,
                    "Referer": self.origin + path,
                }
            )
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        conn.close()
        return response, text


def csrf_of(response, text, csrf):
    cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
    return (cookie.group(1) if cookie else csrf), token.group(1)


def sign_in(server, prepared):
    """Each employee's session reads the explanation, confirms it when it has not
    (through the app, as they would), and opens the decision page for its CSRF token."""
    lines = []
    for person in prepared["employees"]:
        session, csrf = person["session"], None
        response, text = server.request("GET", "/explanation/", session)
        if response.status != 200:
            sys.exit(f"bench: /explanation/ answered {response.status} to a signed-in employee")
        if not person["acknowledged"]:
            csrf, token = csrf_of(response, text, csrf)
            version = re.search(r'name="version" value="(\d+)"', text).group(1)
            form = {"csrfmiddlewaretoken": token, "version": version, "understood": "on"}
            response, _ = server.request("POST", "/explanation/acknowledge/", session, csrf, form)
            if response.status != 302:
                sys.exit(f"bench: acknowledging answered {response.status}")
        response, text = server.request("GET", "/decision/", session, csrf)
        if response.status != 200:
            sys.exit(f"bench: /decision/ answered {response.status} to a signed-in employee")
        csrf, token = csrf_of(response, text, csrf)
        current = CHOICES.index(person["choice"]) + 1 if person["choice"] else 0
        lines.append(f"{session} {csrf} {token} {current}\n")
    return lines


def wrk(args, server, mode, path, sessions_file):
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "30s"]
    command += ["-s", str(HERE / "bench" / "wrk.lua"), f"http://127.0.0.1:{server.port}{path}"]
    command += ["--", mode, path, sessions_file, str(args.threads), server.origin]
    output = subprocess.run(command, check=True, text=True, capture_output=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    bad = int(re.search(r"unexpected responses: (\d+)", output).group(1))
    errors = re.search(r"Socket errors: (.*)", output)
    if bad or errors:
        print(f"  ! {mode} {path}: {bad} unexpected responses; {errors.group(0) if errors else ''}")
    return rate, requests


def count(url, sql):
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


def median_ms(action, times=15):
    action()
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def hr_dashboard(server, url, session):
    def page():
        response, _ = server.request("GET", "/hr/", session)
        if response.status != 200:
            sys.exit(f"bench: /hr/ answered {response.status} to HR")

    sql = "SELECT office_id, category, count(*) FROM consent_publishedstate GROUP BY office_id, category"
    with psycopg.connect(url) as conn:
        raw = median_ms(lambda: conn.execute(sql).fetchall())
    return median_ms(page), raw


def revision(directory):
    result = subprocess.run(
        ["git", "-C", str(directory), "log", "-1", "--format=%h %s"], text=True, capture_output=True
    )
    return result.stdout.strip()[:72]


def row(what, value, floor, target, unit=",.0f"):
    print(f"{what:<34}{value:>14{unit}}{floor:>14{unit}}{value / floor:>8.2f}   {target}")


def main():
    args = parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is missing (apt-get install wrk; `make bench` does it)")
    app_dir = args.app_dir.resolve()
    url = args.database_url
    prepare_database(url, args.employees)
    redis_url = args.redis_url if answers(args.redis_url) else ""
    env = production_env(url, redis_url)
    manage(app_dir, env, "collectstatic", "--no-input", "-v", "0")
    prepared = json.loads(
        subprocess.run(
            [python_of(app_dir), str(HERE / "bench" / "sessions.py"), "--employees", str(args.sessions)],
            env=dict(env, BENCH_APP_DIR=str(app_dir)),
            check=True,
            text=True,
            capture_output=True,
        ).stdout
    )
    bare_env = dict(env, DJANGO_SETTINGS_MODULE="bench.bare.settings")
    app = Server(app_dir, "config.wsgi", env, args.workers)
    bare = Server(HERE, "bench.bare.wsgi", bare_env, args.workers)
    try:
        app.wait()
        bare.wait()
        with tempfile.NamedTemporaryFile("w", suffix=".sessions", delete=False) as handle:
            handle.writelines(sign_in(app, prepared))
        staff = count(url, "SELECT count(*) FROM consent_employee WHERE is_active")
        events = count(url, "SELECT count(*) FROM consent_auditevent")
        print(f"app: {app_dir} ({revision(app_dir)})")
        print(
            f"database {urlsplit(url).path.lstrip('/')}: {staff:,} active employees, {events:,} events; "
            f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s; "
            f"gunicorn {args.workers} sync workers, DEBUG off, REDIS_URL {redis_url or 'unset'}"
        )
        print(f"{'':<34}{'req/s':>14}{'floor req/s':>14}{'ratio':>8}   target")
        floor = [wrk(args, bare, "get", "/hello/", handle.name)[0]]
        pages = {path: wrk(args, app, "get", path, handle.name)[0] for path in ("/history/", "/decision/")}
        floor.append(wrk(args, bare, "get", "/hello/", handle.name)[0])
        pages["/explanation/"] = wrk(args, app, "get", "/explanation/", handle.name)[0]
        floor_get = statistics.mean(floor)
        for path, rate in pages.items():
            row(f"GET {path}", rate, floor_get, ">= 0.2")
        print(f"{'':<34}(bare view: {floor[0]:,.0f} and {floor[1]:,.0f} req/s, before and after)")
        before = count(url, "SELECT count(*) FROM consent_decision")
        rate, requests = wrk(args, app, "decide", "/decision/", handle.name)
        recorded = count(url, "SELECT count(*) FROM consent_decision") - before
        insert = wrk(args, bare, "bare", "/insert/", handle.name)[0]
        row("POST /decision/ vs INSERT+COMMIT", rate, insert, ">= 0.3")
        print(f"{'':<34}({recorded:,} decisions recorded for {requests:,} requests)")
        if prepared["hr"]:
            page, raw = hr_dashboard(app, url, prepared["hr"])
            row("HR dashboard vs raw GROUP BY (ms)", page, raw, "<= 1.5", ",.1f")
        os.unlink(handle.name)
    finally:
        app.stop()
        bare.stop()
    # The helpers' own benchmarks (DEBUG on, as they require): the log's runs this
    # checkout's code on the generated database; the roster import's runs
    # --app-dir's on a database of its own, made afresh (it writes staff, and
    # refuses a database holding any it did not write).
    roster = ["--app-dir", str(app_dir), "--rows", str(args.roster_rows)]
    for script, extra, database in (("log_scale.py", [], url), ("roster_import.py", roster, url + "_roster")):
        if not args.pages_only and (HERE / "bench" / script).exists():
            print(f"--- bench/{script}", flush=True)
            if database != url:
                fresh(database)
            done = subprocess.run(
                [python_of(HERE), str(HERE / "bench" / script), *extra],
                env=dict(env, DEBUG="1", DATABASE_URL=database),
                check=False,
            )
            if done.returncode:
                print(f"  ! bench/{script} exited with {done.returncode}")


if __name__ == "__main__":
    main()
