"""Every URL the project routes, for every role, with GET and POST: the attack run as a test.

The patterns are read from the URLconf, so a new URL is in the matrix the
day it is added; one of the app's own without an entry in ACCESS fails the
test until someone says who may open it. For the app's URLs the answer is
exact: anonymous → sign-in, wrong role → 403, someone else's object → 404,
wrong method → 405. For the rest (allauth, the admin, i18n) it is "never a
500". Nothing may ever answer 500.
"""

import collections
import time
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

from consent import chain, log, services
from consent.models import SwitchoverCase
from tests.conftest import acknowledge, decide, grant, sign_in_with_mfa

pytestmark = pytest.mark.slow  # about 1,100 requests

ROLES = ["anonymous", "employee", "other_employee", "hr", "union", "admin"]
PUBLIC = None


@dataclass(frozen=True)
class Access:
    role: str | None  # the role a view requires; PUBLIC for none
    methods: tuple
    owner_only: bool = False  # someone else's object is a 404
    signed_in_role: str | None = None  # a public page that, signed in, only this role may use


EMPLOYEE_GET = Access("employee", ("GET",))
HR_GET, HR_POST, HR_BOTH = Access("hr", ("GET",)), Access("hr", ("POST",)), Access("hr", ("GET", "POST"))
UNION_GET, UNION_POST = Access("union", ("GET",)), Access("union", ("POST",))

ACCESS = {
    "home": Access(PUBLIC, ("GET",)),
    "explanation_public": Access(PUBLIC, ("GET",)),
    "help": Access(PUBLIC, ("GET",)),
    # Our steps of allauth's first sign-in with a second factor keep allauth's
    # own answers (sign in first; 404 without recovery codes): never a 500.
    "mfa_activate_totp": None,
    "mfa_view_recovery_codes": None,
    "log_checkpoint": Access(PUBLIC, ("GET",)),
    "log_key": Access(PUBLIC, ("GET",)),
    "event_proof": Access("employee", ("GET",), owner_only=True),
    "receipt_jsonld": Access("employee", ("GET",), owner_only=True),
    "receipt_tlog_proof": Access("employee", ("GET",), owner_only=True),
    "explanation": EMPLOYEE_GET,
    "acknowledge": Access("employee", ("POST",)),
    "decision": Access("employee", ("GET", "POST")),
    "history": EMPLOYEE_GET,
    "receipt_json": Access("employee", ("GET",), owner_only=True),
    "receipt": Access("employee", ("GET",), owner_only=True),
    "hr_dashboard": HR_GET,
    "hr_export": HR_GET,
    "hr_roster": HR_BOTH,
    "hr_roster_confirm": HR_POST,
    "hr_queue": HR_GET,
    "hr_queue_step": HR_POST,
    "hr_explanation": HR_BOTH,
    "hr_notices": HR_BOTH,
    "complaints": EMPLOYEE_GET,
    "complaint_new": Access(PUBLIC, ("GET", "POST"), signed_in_role="employee"),
    "complaint_follow_up": Access(PUBLIC, ("GET", "POST")),
    "complaint": Access(PUBLIC, ("GET",), owner_only=True),
    "complaint_reply": Access(PUBLIC, ("POST",), owner_only=True),
    "complaint_withdraw": Access(PUBLIC, ("GET", "POST"), owner_only=True),
    "union_inbox": UNION_GET,
    "union_complaint": UNION_GET,
    "union_complaint_message": UNION_POST,
    "union_complaint_status": UNION_POST,
    "union_audit": UNION_GET,
    "union_checkpoint": UNION_POST,
    "union_verify_checkpoints": UNION_POST,
    "union_export": UNION_GET,
    "union_indicators": UNION_GET,
    "union_witness": UNION_GET,
    "union_witness_key": UNION_POST,
    "union_witness_sign": UNION_POST,
    "union_witness_checkpoint": UNION_GET,
    "union_witness_consistency": UNION_GET,
    "union_witness_cosignature": UNION_POST,
}


def walk(patterns, prefix=""):
    """(name, pattern) for every named URL pattern, namespaces included."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from walk(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{prefix}{entry.name}", entry


def argument_names(pattern):
    if isinstance(pattern.pattern, RoutePattern):
        return list(pattern.pattern.converters)
    return list(pattern.pattern.regex.groupindex)


SAMPLES = {"app_label": ["consent", "auth"], "url": ["nothing-here"]}
FALLBACK = ["1", "x"]


def urls_for(name, pattern, objects):
    """The URL with the attacked employee's own objects, or sample values."""
    names = argument_names(pattern)
    if not names:
        return reverse(name)
    kwargs = {key: objects.get(key, (SAMPLES.get(key) or FALLBACK)[0]) for key in names}
    for attempt in range(2):
        try:
            return reverse(name, kwargs=kwargs)
        except Exception:
            kwargs = {key: objects.get(key, (SAMPLES.get(key) or FALLBACK)[-1]) for key in names}
            if attempt:
                raise
    return None


@pytest.fixture
def world(alice, bob, hr, union, office):
    """Alice is the employee whose objects are attacked; everyone else tries them."""
    acknowledge(alice)
    decision = decide(alice, "opt_in")
    complaint, _code = services.file_complaint(
        user=alice.user, anonymous=False, what="pressured", involved_role="colleague", details="x"
    )
    admin_user = get_user_model().objects.create_user("root@example.jp", "root@example.jp", is_staff=True)
    grant_admin = type("Admin", (), {"user": admin_user})()
    grant(grant_admin, "admin")
    users = {
        "employee": alice.user,
        "other_employee": bob.user,
        "hr": hr.user,
        "union": union.user,
        "admin": admin_user,
    }
    objects = {
        "receipt_id": decision.receipt_id,
        "number": complaint.number,
        "case_id": str(SwitchoverCase.objects.get(employee=alice).pk),
        "object_id": str(alice.pk),
        "seq": str(decision.audit_seq),
        "size": str(cosigned_checkpoint_and_a_later_one(union)),
    }
    return users, objects


def cosigned_checkpoint_and_a_later_one(union):
    """The size of a signed checkpoint that follows one the union cosigned."""
    key, vkey = chain.generate_key("union.example.jp/witness", chain.SIG_COSIGNATURE_V1)
    log.register_witness_key(user=union.user, vkey=vkey)
    first = log.publish_checkpoint()
    text, _signatures = chain.split_note(first.note)
    log.add_cosignature(
        user=union.user, size=first.size, line=chain.cosignature_line(text, key, int(time.time()))
    )
    return log.publish_checkpoint().size


def client_for(role, users):
    client = Client(raise_request_exception=False)
    if role != "anonymous":
        sign_in_with_mfa(client, users[role])
    return client


def roles_of(role):
    return {
        "anonymous": set(),
        "employee": {"employee"},
        "other_employee": {"employee"},
        "hr": {"employee", "hr"},
        "union": {"employee", "union"},
        "admin": {"admin"},
    }[role]


def expected(access, role, method):
    """The status codes the app's own view may answer, or None when any but 500 will do."""
    if method not in access.methods:
        return {405}
    if access.role is not PUBLIC:
        if role == "anonymous":
            return {302}
        if access.role not in roles_of(role):
            return {403}
    elif access.signed_in_role and role != "anonymous" and access.signed_in_role not in roles_of(role):
        return {403}
    if access.owner_only and role != "employee":
        return {404}
    return {200, 302, 400}


def test_every_url_for_every_role_and_method(world):
    users, objects = world
    patterns = list(walk(get_resolver().url_patterns))
    app_names = {name for name, pattern in patterns if pattern.callback.__module__.startswith("consent.")}
    assert app_names == set(ACCESS), "say in ACCESS who may open each of the app's URLs"
    results, failures = collections.Counter(), []
    for role in ROLES:
        for name, pattern in patterns:
            url = urls_for(name, pattern, objects)
            for method in ("GET", "POST"):
                # A fresh session each time: signing out or a password change must not leak into the next row.
                client = client_for(role, users)
                response = getattr(client, method.lower())(url)
                results[response.status_code] += 1
                allowed = expected(ACCESS[name], role, method) if ACCESS.get(name) else None
                wrong = response.status_code >= 500 or (allowed and response.status_code not in allowed)
                if allowed == {302} and not wrong:
                    # Anonymous: to sign-in, and back here afterwards.
                    wrong = not response.url.startswith(reverse("account_login"))
                if wrong:
                    failures.append((role, method, url, response.status_code, allowed))
    total = sum(results.values())
    print(f"\nurl matrix: {len(patterns)} patterns x {len(ROLES)} roles x 2 methods = {total} requests")
    print(f"url matrix statuses: {dict(sorted(results.items()))}")
    assert failures == [], "\n".join(map(str, failures))
    assert results[500] == 0
