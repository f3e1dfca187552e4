"""The log at scale: the union's audit page, the bundle export and verification,
on the database DATABASE_URL names (a generated one: see generate_org).

Prints figures, not a pass or a fail:

- the audit page (/union/audit/) as the generator's union officer: median time
  of the first page, a kind, a rare kind, HR's actions, a page deep in the
  chain and one day, with the queries each runs; the first opening verifies
  what was not verified yet, so it is timed apart;
- the export (the same pieces the union's download streams): time and peak
  memory (RSS of a fresh process) at two sizes, to show it does not grow;
- verification (verification.verify(full=True), what verify_audit --full
  runs) in events/s, against reading the same bodies and hashing each with
  raw SHA-256.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/consent_bench DEBUG=1 \\
        .venv/bin/python bench/log_scale.py [--small 1000000] [--skip-verify]
"""

import argparse
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def setup():
    import django

    django.setup()
    from django.conf import settings

    # Recording every query would grow with the chain and time the recorder.
    settings.DEBUG = False


def export_child(size):
    """Stream the bundle of the first ``size`` events (0: all) to nowhere; print time and peak RSS."""
    setup()
    from django.utils import timezone

    from consent import audit, bundle, log
    from consent.models import AuditEvent

    events = AuditEvent.objects.all()
    if size:
        events = events.filter(seq__lte=size)
    head = events.order_by("-seq").only("seq", "entry_hash").first()
    started = time.perf_counter()
    written = 0
    for piece in bundle.bundle_pieces(
        export_lines=audit.export_lines(events),
        checkpoints=[],
        head_seq=head.seq,
        head_hash=head.entry_hash,
        created_at=audit.rfc3339(timezone.now()),
        checkpoint_note="",
        log_key=log.verifier_key(),
        texts_lines=log.text_lines(),
    ):
        written += len(piece)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{head.seq} {elapsed:.3f} {written} {peak:.1f}")


def measure_export(size):
    out = subprocess.run(
        [sys.executable, __file__, "--export-child", str(size)], check=True, capture_output=True, text=True
    ).stdout.split()
    events, seconds, written, peak = int(out[0]), float(out[1]), int(out[2]), float(out[3])
    print(
        f"export   {events:>11,} events: {seconds:8.1f} s, {events / seconds:9,.0f} events/s, "
        f"{written / 2**20:8,.0f} MiB zip, peak RSS {peak:6.0f} MiB"
    )
    return peak


def timed(function, repeat):
    """Median wall time and median CPU time of this process (Python's share, without the database's)."""
    times, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        function()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return statistics.median(times), statistics.median(cpu)


def audit_page(repeat, explain):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from consent import verification
    from consent.models import AuditEvent, AuditHead
    from tests.conftest import sign_in_with_mfa

    union = get_user_model().objects.filter(username__startswith="gen-union@").first()
    if union is None:
        sys.exit("No generated union officer: build the database with generate_org first.")
    if not Authenticator.objects.filter(user=union, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(union, generate_totp_secret())
    client = Client(HTTP_HOST=next((h for h in settings.ALLOWED_HOSTS if h != "*"), "localhost"))
    # Signed in with a password and TOTP, as the tests sign in a role holder.
    sign_in_with_mfa(client, union)

    size = AuditHead.objects.get(pk=1).seq
    started = time.perf_counter()
    outcome = verification.verify()
    print(
        f"page     first opening verifies {outcome.size - outcome.resumed_from:,} new events: "
        f"{time.perf_counter() - started:.1f} s ({'OK' if outcome.ok else outcome.reason})"
    )
    middle = AuditEvent.objects.filter(seq=size // 2).values_list("seq", "occurred_at").first()
    day = timezone.localdate(middle[1]).isoformat()
    for name, query in [
        ("newest", ""),
        ("kind: sign-ins", "?kind=account.signed_in"),
        ("kind: decisions", "?kind=decision.recorded"),
        ("kind: rare (roles)", "?kind=role.granted"),
        ("HR actions", "?hr=1"),
        ("deep (seq 50)", "?before=51"),
        ("deep kind", f"?kind=decision.recorded&before={middle[0]}"),
        ("one day", f"?start={day}&end={day}"),
        ("one day, a kind", f"?kind=explanation.acknowledged&start={day}&end={day}"),
    ]:
        queries = []

        def count(execute, sql, params, *rest, queries=queries):
            queries.append((sql, params))
            return execute(sql, params, *rest)

        with connection.execute_wrapper(count):
            response = client.get(f"/union/audit/{query}")
        assert response.status_code == 200, (query, response.status_code)
        seconds, cpu = timed(lambda q=query: client.get(f"/union/audit/{q}"), repeat)
        print(
            f"page     {name:<20} {seconds * 1000:7.1f} ms (Python CPU {cpu * 1000:5.1f} ms) "
            f"median of {repeat}, {len(queries)} queries"
        )
        if explain:
            # The listing's own queries: the events of a page (one per kind filtered).
            for sql, params in queries:
                if sql.startswith('SELECT "consent_auditevent"."id"') and "LIMIT" in sql:
                    with connection.cursor() as cursor:
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                        plan = [row[0] for row in cursor.fetchall()]
                    print("           " + "\n           ".join(plan))
    return size


def verification_rate():
    from consent import verification
    from consent.models import AuditEvent

    started = time.perf_counter()
    outcome = verification.verify(full=True)
    verify_seconds = time.perf_counter() - started
    size = outcome.size
    started = time.perf_counter()
    bodies = 0
    for (body,) in AuditEvent.objects.order_by("seq").values_list("body").iterator(chunk_size=5000):
        hashlib.sha256(body.encode()).digest()
        bodies += 1
    read_seconds = time.perf_counter() - started
    # The hashing alone, on a sample held in memory.
    sample = [b.encode() for b in AuditEvent.objects.order_by("seq").values_list("body", flat=True)[:200_000]]
    started = time.perf_counter()
    for body in sample:
        hashlib.sha256(body).digest()
    hash_rate = len(sample) / (time.perf_counter() - started)
    verify_rate = size / verify_seconds
    read_rate = bodies / read_seconds
    print(
        f"verify   {size:,} events ({'OK' if outcome.ok else outcome.reason}): "
        f"verify_audit --full {verify_rate:,.0f} events/s ({verify_seconds:.1f} s)"
    )
    print(
        f"verify   raw: read every body and SHA-256 it {read_rate:,.0f} events/s; "
        f"SHA-256 alone {hash_rate:,.0f}/s"
    )
    print(
        f"verify   ratio full verification / (read + raw SHA-256) = {verify_rate / read_rate:.3f}; "
        f"/ raw SHA-256 = {verify_rate / hash_rate:.4f}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--small", type=int, default=1_000_000, help="the smaller export (events)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-verify", action="store_true")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--explain", action="store_true", help="print the plans of the page's event queries")
    args = parser.parse_args()
    if args.export_child is not None:
        export_child(args.export_child)
        return
    setup()
    size = audit_page(args.repeat, args.explain)
    if not args.skip_export:
        small = args.small if args.small < size else max(1, size // 10)
        measure_export(small)
        measure_export(0)
    if not args.skip_verify:
        verification_rate()


if __name__ == "__main__":
    main()
