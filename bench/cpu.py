"""CPU per request, in process: what a page costs this Python, whatever else the machine does.

Wall-clock figures on a shared machine are mostly waiting; ``time.process_time``
counts only this process. Production settings (DEBUG off) on a benchmark
PostgreSQL database (a seeded one, e.g. consent_bench_demo), one signed-in
employee, Django's test client (no gunicorn, no network):

    .venv/bin/python bench/cpu.py /explanation/ 300            # signed-in GET
    .venv/bin/python bench/cpu.py /decision/ 300 --post        # a real decision each time
    .venv/bin/python bench/cpu.py /hello/ 300 --bare           # bench/bare's floor
    .venv/bin/python bench/cpu.py /insert/ 300 --bare --post   # its INSERT + COMMIT
    .venv/bin/python bench/cpu.py /explanation/ 300 --profile tottime

Run from the checkout; ``--database-url`` names another database (its name must
contain "bench"). ``var/bench-log-signing.key`` is the key ``make bench`` creates.
"""

import argparse
import cProfile
import itertools
import os
import pstats
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
CHOICES = ("opt_in", "opt_out", "undecided")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("n", type=int, nargs="?", default=300)
    parser.add_argument("--post", action="store_true", help="POST (a decision, or the bare INSERT)")
    parser.add_argument("--bare", action="store_true", help="bench/bare instead of the app")
    parser.add_argument("--profile", metavar="SORT", help="then print a cProfile sorted by SORT")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/consent_bench_demo")
    return parser.parse_args()


def setup(args):
    if "bench" not in args.database_url.rsplit("/", 1)[-1]:
        sys.exit("refusing: the database name must contain 'bench'")
    sys.path.insert(0, str(HERE))
    os.environ.update(
        DEBUG="false",
        SECRET_KEY="bench-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="testserver,127.0.0.1",
        ALLOWED_EMAIL_DOMAINS="example.jp,demo.example.jp,example.go.jp",
        DATABASE_URL=args.database_url,
        SITE_URL="http://127.0.0.1:8000",
        LOG_SIGNING_KEY=(HERE / "var" / "bench-log-signing.key").read_text().strip(),
        SECURE_SSL_REDIRECT="false",
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        DJANGO_SETTINGS_MODULE="bench.bare.settings" if args.bare else "config.settings",
    )
    import django

    django.setup()


def acknowledged_employees():
    """Active employees with an account who have read the current explanation, in id order."""
    from consent.models import Employee, ExplanationVersion

    return Employee.objects.filter(
        user__isnull=False, is_active=True, acknowledgements__version=ExplanationVersion.current()
    ).order_by("pk")


def signed_in(employee):
    from django.conf import settings
    from django.test import Client

    client = Client(secure=True)
    client.force_login(employee.user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return client


def decision_poster(client, employee, path="/decision/"):
    """A callable that posts the employee's next decision (each a change, so each is recorded)."""
    from django.conf import settings

    client.get(path)  # a CSRF cookie
    start = CHOICES.index(employee.current_choice) + 1 if employee.current_choice in CHOICES else 0
    choices = itertools.cycle(CHOICES[start:] + CHOICES[:start])

    def post():
        # Nobody follows the redirect here: drop its message, as wrk's fixed cookies do.
        client.cookies.pop("messages", None)
        token = client.cookies[settings.CSRF_COOKIE_NAME].value
        data = {"choice": next(choices), "comment": "", "warned": "1", "csrfmiddlewaretoken": token}
        return client.post(path, data)

    return post


def app_requests(args):
    """A signed-in employee who has read the current explanation; each POST changes the choice."""
    employee = acknowledged_employees().first()
    client = signed_in(employee)
    if not args.post:
        return lambda: client.get(args.path)
    return decision_poster(client, employee, args.path)


def bare_requests(args):
    from django.db import connection
    from django.test import Client

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_bare_row (id bigserial PRIMARY KEY, body text)")
    client = Client()
    body = "choice=opt_in&comment=&csrfmiddlewaretoken=" + "x" * 64
    if args.post:
        return lambda: client.post(args.path, body, content_type="application/x-www-form-urlencoded")
    return lambda: client.get(args.path)


def main():
    args = parse_args()
    setup(args)
    request = bare_requests(args) if args.bare else app_requests(args)
    response = request()
    print(response.status_code, len(response.content), response.get("Location", ""))
    for _ in range(50):
        request()
    start = time.process_time()
    for _ in range(args.n):
        request()
    print(
        f"{'bare ' if args.bare else ''}{'POST' if args.post else 'GET'} {args.path}: "
        f"{(time.process_time() - start) / args.n * 1000:.2f} ms CPU/request"
    )
    if args.profile:
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for _ in range(args.n):
            request()
        profile.disable()
        pstats.Stats(profile).sort_stats(args.profile).print_stats(int(os.environ.get("BENCH_LINES", 45)))


if __name__ == "__main__":
    main()
