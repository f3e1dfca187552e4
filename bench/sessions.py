"""Signed-in sessions for ``bench/run.py``, made in the benchmark database by the
checkout under test (``BENCH_APP_DIR``), with that checkout's session engine.

Prints one JSON object: ``employees`` (session key, current choice, whether the
current explanation is acknowledged) and ``hr`` (a session that gave a TOTP
code). A session is what signing in leaves behind; making it directly spares
the benchmark the password hash and the sign-in rate limit. Nothing here
records a decision or an acknowledgement: the harness does that through the
app, as the employee's own session. ``session_for`` and ``hr_session`` are also
how the other benchmarks sign in (``bench/roster_import.py``).
"""

import argparse
import json
import os
import sys
from importlib import import_module
from types import SimpleNamespace


def session_for(user, methods):
    """The key of a session signed in as ``user`` by ``methods``, as allauth's sign-in leaves it."""
    from allauth.account.internal.flows.login import record_authentication
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

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


def hr_session(user):
    """A session of an HR officer who gave a password and a TOTP code (activated when missing)."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, generate_totp_secret())
    return session_for(user, [{"method": "password", "email": user.email}, {"method": "mfa", "type": "totp"}])


def main():
    sys.path.insert(0, os.environ["BENCH_APP_DIR"])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from consent.models import Acknowledgement, Employee, ExplanationVersion, RoleGrant

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
        hr = hr_session(grant.user)
    json.dump({"employees": employees, "hr": hr}, sys.stdout)


if __name__ == "__main__":
    main()
