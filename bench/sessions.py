"""Signed-in sessions for ``bench/run.py``, made in the benchmark database by the
checkout under test (``BENCH_APP_DIR``), with that checkout's session engine.

Prints one JSON object: ``employees`` (session key, current choice, whether the
current explanation is acknowledged) and ``hr`` (a session that gave a TOTP
code). A session is what signing in leaves behind; making it directly spares
the benchmark the password hash and the sign-in rate limit. Nothing here
records a decision or an acknowledgement: the harness does that through the
app, as the employee's own session.
"""

import argparse
import json
import os
import sys
from importlib import import_module
from types import SimpleNamespace

sys.path.insert(0, os.environ["BENCH_APP_DIR"])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from allauth.account.internal.flows.login import record_authentication  # noqa: E402
from allauth.mfa.models import Authenticator  # noqa: E402
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402

from consent.models import Acknowledgement, Employee, ExplanationVersion, RoleGrant  # noqa: E402


def session_for(user, methods):
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    # allauth's own record of how the session signed in, as its sign-in leaves it.
    request = SimpleNamespace(session=store)
    for method in methods:
        record_authentication(request, user, **method)
    store.save()
    return store.session_key


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--employees", type=int, default=200)
    args = parser.parse_args()
    version = ExplanationVersion.current()
    people = list(
        Employee.objects.filter(is_active=True, user__is_staff=False, user__role_grants__isnull=True)
        .select_related("user")
        .order_by("?")[: args.employees]
    )
    acknowledged = set(
        Acknowledgement.objects.filter(employee__in=people, version=version).values_list(
            "employee_id", flat=True
        )
    )
    employees = [
        {
            "session": session_for(e.user, [{"method": "password", "email": e.user.email}]),
            "choice": e.current_choice or "",
            "acknowledged": e.pk in acknowledged,
        }
        for e in people
    ]
    hr = None
    grant = RoleGrant.objects.filter(role="hr", user__is_active=True).select_related("user").first()
    if grant is not None:
        if not Authenticator.objects.filter(user=grant.user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(grant.user, generate_totp_secret())
        hr = session_for(
            grant.user, [{"method": "password", "email": grant.user.email}, {"method": "mfa", "type": "totp"}]
        )
    json.dump({"employees": employees, "hr": hr}, sys.stdout)


if __name__ == "__main__":
    main()
