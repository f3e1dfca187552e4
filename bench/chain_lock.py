"""How long a decision holds the chain's head, and what that allows across processes.

Every event appends to one hash chain under one locked row (``AuditHead``), so
the time from taking that lock to COMMIT bounds the decisions per second of the
whole site, however many workers there are. This runs ``--procs`` processes,
each posting real decisions through the app (Django's test client, DEBUG off,
production middleware) for its own signed-in employees, and reports:

- the critical section: from the head's ``SELECT ... FOR UPDATE`` returning to
  COMMIT returning, median and 90th percentile, and the share of the wall time
  some process held the head (near 1: the chain is the bottleneck);
- decisions per second across all processes, and CPU per decision in process.

    .venv/bin/python bench/chain_lock.py --database-url postgres://…/consent_x_bench --procs 4

The database must be a benchmark one (its name contains "bench").
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
HEAD_LOCK = "consent_audithead"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/consent_bench_demo")
    parser.add_argument("--procs", type=int, default=4, help="processes posting at once")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--people", type=int, default=4, help="employees per process, taking turns")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def worker(args):
    sys.argv = ["cpu.py", "/decision/", "--post", "--database-url", args.database_url]
    sys.path.insert(0, str(HERE))
    from bench import cpu

    cpu.setup(cpu.parse_args())
    import itertools

    from django.db import connection

    people = cpu.acknowledged_employees()[args.worker * args.people : (args.worker + 1) * args.people]
    posts = [cpu.decision_poster(cpu.signed_in(employee), employee) for employee in people]

    held = []  # (acquired, released) of the head, per decision
    acquired = []

    def timing(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if HEAD_LOCK in sql and "FOR UPDATE" in sql:
            acquired.append(time.perf_counter())
        return result

    commit = connection.commit

    def timed_commit():
        commit()
        if acquired:
            held.append((acquired.pop(), time.perf_counter()))
            acquired.clear()

    connection.commit = timed_commit

    def post(poster):
        response = poster()
        if response.status_code != 302 or "/receipts/" not in response["Location"]:
            raise SystemExit(f"unexpected response {response.status_code}")

    with connection.execute_wrapper(timing):
        for poster in posts:  # warm up
            post(poster)
        held.clear()
        print("ready", flush=True)
        sys.stdin.readline()
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        turns = itertools.cycle(posts)
        while time.perf_counter() - wall_start < args.seconds:
            post(next(turns))
        cpu_used = time.process_time() - cpu_start
    print(json.dumps({"held": held, "cpu": cpu_used}), flush=True)


def main():
    args = parse_args()
    if args.worker is not None:
        return worker(args)
    if "bench" not in args.database_url.rsplit("/", 1)[-1]:
        sys.exit("refusing: the database name must contain 'bench'")
    command = [sys.executable, __file__, "--database-url", args.database_url, "--seconds", str(args.seconds)]
    command += ["--people", str(args.people)]
    procs = [
        subprocess.Popen(
            [*command, "--worker", str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for n in range(args.procs)
    ]
    for proc in procs:
        if proc.stdout.readline().strip() != "ready":
            sys.exit("a worker did not start")
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = [json.loads(proc.communicate()[0].strip().splitlines()[-1]) for proc in procs]
    spans = sorted(tuple(span) for result in results for span in result["held"])
    sections = [(released - acquired) * 1000 for acquired, released in spans]
    wall = spans[-1][1] - spans[0][0]
    deciles = statistics.quantiles(sections, n=10)
    print(
        f"{len(spans)} decisions by {args.procs} processes in {wall:.1f} s: "
        f"{len(spans) / wall:.0f} decisions/s; "
        f"{sum(r['cpu'] for r in results) / len(spans) * 1000:.2f} ms CPU each in process"
    )
    print(
        f"head held from lock to commit: median {statistics.median(sections):.2f} ms, "
        f"p90 {deciles[-1]:.2f} ms; held {sum(sections) / 1000 / wall:.0%} of the time"
    )


if __name__ == "__main__":
    main()
