"""Append to the chain from many threads at once; print what came out as JSON.

Run by tests/test_concurrency.py in a subprocess against a fresh database
(its own SQLite file, or its own PostgreSQL database), because the threads
need committed transactions that a test's rolled-back transaction cannot give.
"""

import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from consent import audit  # noqa: E402
from consent.models import AuditEvent  # noqa: E402


def main(threads, per_thread):
    call_command("migrate", verbosity=0)
    before = AuditEvent.objects.count()
    errors = []
    start_line = threading.Barrier(threads)

    def work(number):
        try:
            start_line.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    # Any registered kind will do: the probe measures the head lock, not the kind.
                    audit.append("figures.published", actor="system", payload={"number": number, "k": i})
        except Exception as error:  # reported, not swallowed: the test asserts none
            errors.append(repr(error))
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    result = audit.verify_database()
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "errors": errors,
                "appended": len(seqs) - before,
                "contiguous": seqs == list(range(1, len(seqs) + 1)),
                "verified": result.ok,
                "reason": result.reason,
                "seconds": round(elapsed, 3),
                "events_per_second": round((len(seqs) - before) / elapsed, 1),
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
