"""Race the services and the views against each other; print what came out as JSON.

Run by tests/test_races.py in a subprocess against a fresh database (its own
SQLite file, or its own PostgreSQL database): the threads need committed
transactions and their own connections, which a test's rolled-back
transaction cannot give. State is set up through the services, as the app does.
"""

import collections
import json
import os
import sys
import threading
import time
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.exceptions import ValidationError  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from consent import audit, hot, services  # noqa: E402
from consent.models import (  # noqa: E402
    Acknowledgement,
    AuditEvent,
    Complaint,
    Decision,
    ExplanationVersion,
    Office,
    SwitchoverCase,
)
from tests.conftest import CHEAP_HASHERS  # noqa: E402

CLIENTS = 8
GUESSES = 48
ROUNDS = 5


def in_thread(target, *args):
    """Run target in a thread with its own connection; collect what it raised."""
    outcome = {}

    def run():
        try:
            outcome["value"] = target(*args)
        except Exception as error:
            outcome["error"] = f"{type(error).__name__}: {error}"
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def employee(office, name):
    return services.provision_employee(
        email=f"{name}@example.jp", display_name=name, employee_number=name.upper(), office=office
    )


def forced_interleaving(office, hr_user):
    """HR records a switch-over step while the same person withdraws.

    The withdrawal is held just after it has locked the employee row; the step
    then starts, and the withdrawal goes on to close the case. With two lock
    orders this is a deadlock every time.
    """
    person = employee(office, "deadlock")
    services.acknowledge_explanation(user=person.user, version=ExplanationVersion.current())
    services.record_decision(user=person.user, choice="opt_in")
    case = SwitchoverCase.objects.get(employee=person)
    services.record_switchover_step(user=hr_user, case=case, step="card_received")

    holding, release = threading.Event(), threading.Event()
    original = hot.locked_employee_and_acknowledgement

    def hold_after_locking(user):
        locked = original(user)
        if user.pk == person.user_id:
            holding.set()
            release.wait(10)
        return locked

    def step():
        try:
            services.record_switchover_step(user=hr_user, case=case, step="data_installed")
        except ValidationError as refusal:
            return f"refused: {refusal.messages[0]}"
        return "recorded"

    with mock.patch.object(hot, "locked_employee_and_acknowledgement", hold_after_locking):
        withdraw = lambda: services.record_decision(user=person.user, choice="opt_out")  # noqa: E731
        withdrawal, withdrawn = in_thread(withdraw)
        withdrawal_started = holding.wait(10)
        hr_step, stepped = in_thread(step)
        time.sleep(1.5)  # long enough for the step to block on a lock, and for a deadlock check
        release.set()
        withdrawal.join(30)
        hr_step.join(30)
    errors = [o["error"] for o in (withdrawn, stepped) if "error" in o]
    return {
        "withdrawal_held": withdrawal_started,
        "errors": errors,
        "deadlocks": sum("deadlock" in e for e in errors),
        "step": stepped.get("value"),
        "decisions": Decision.objects.filter(employee=person).count(),
    }


def many_clients_post(user, path, data, count):
    """``count`` signed-in browsers of one user post the same form at the same moment."""
    clients = []
    for _ in range(count):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        clients.append(client)
    start = threading.Barrier(count)

    def post(client):
        start.wait()
        return client.post(path, data).status_code

    threads = [in_thread(post, client) for client in clients]
    statuses = collections.Counter()
    for thread, outcome in threads:
        thread.join(60)
        statuses[outcome.get("value", outcome.get("error"))] += 1
    return statuses


def double_clicks(office):
    """Acknowledgements and decisions submitted by several browsers at once."""
    version = ExplanationVersion.current()
    acknowledge, decide = collections.Counter(), collections.Counter()
    counts = []
    for n in range(ROUNDS):
        person = employee(office, f"double{n}")
        acknowledge += many_clients_post(
            person.user, "/explanation/acknowledge/", {"version": version.number, "understood": "on"}, CLIENTS
        )
        decide += many_clients_post(person.user, "/decision/", {"choice": "opt_in", "comment": ""}, CLIENTS)
        counts.append(
            {
                "acknowledgements": Acknowledgement.objects.filter(employee=person).count(),
                "acknowledged_events": AuditEvent.objects.filter(
                    kind="explanation.acknowledged", seq__in=person.openings.values("seq")
                ).count(),
                "decisions": Decision.objects.filter(employee=person).count(),
                "switchovers": SwitchoverCase.objects.filter(employee=person).count(),
            }
        )
    return {
        "requests": ROUNDS * CLIENTS * 2,
        "acknowledge_statuses": {str(k): v for k, v in acknowledge.items()},
        "decision_statuses": {str(k): v for k, v in decide.items()},
        "per_person": counts,
    }


def guessing_at_once():
    """48 wrong receipt codes for one complaint number at the same moment."""
    complaint, code = services.file_complaint(
        user=None, anonymous=True, what="pressured", involved_role="colleague", details="x"
    )
    other, other_code = services.file_complaint(
        user=None, anonymous=True, what="pressured", involved_role="colleague", details="y"
    )
    wrong = code[:6] + ("0" * 10 if code[6:] != "0" * 10 else "1" * 10)
    checked = collections.Counter()
    original = services.check_password

    def counting(password, encoded):
        checked[encoded == complaint.code_hash] += 1
        return original(password, encoded)

    start = threading.Barrier(GUESSES)

    def guess():
        start.wait()
        client = Client(raise_request_exception=False)
        return client.post("/complaints/follow-up/", {"code": wrong}).status_code

    with mock.patch.object(services, "check_password", counting):
        threads = [in_thread(guess) for _ in range(GUESSES)]
        statuses = collections.Counter()
        for thread, outcome in threads:
            thread.join(60)
            statuses[outcome.get("value", outcome.get("error"))] += 1
    right = Client(raise_request_exception=False).post("/complaints/follow-up/", {"code": code}).status_code
    other_opens = Client().post("/complaints/follow-up/", {"code": other_code}).status_code
    return {
        "guesses": GUESSES,
        "statuses": {str(k): v for k, v in statuses.items()},
        "checked_against_the_real_code": checked[True],
        "decoy_checks": checked[False],
        "limit": services.CODE_ATTEMPTS_PER_NUMBER,
        "right_code_after_the_flood": right,
        "another_number_still_opens": other_opens,
        "attempts_stored": Complaint.objects.get(pk=complaint.pk).code_attempts,
    }


# The suite's cheap Argon2: 48 guesses are 48 hashes at once, and production's
# 100 MB each is not what the races test (they count the hashes instead).
@override_settings(PASSWORD_HASHERS=CHEAP_HASHERS)
def main():
    setup_test_environment()
    call_command("migrate", verbosity=0)
    office = Office.objects.create(code="900", name="probe")
    hr_user = employee(office, "hrprobe").user
    report = {
        "vendor": connection.vendor,
        "interleaving": forced_interleaving(office, hr_user),
        "double_clicks": double_clicks(office),
        "guessing": guessing_at_once(),
    }
    result = audit.verify_database()
    report["chain_verified"], report["chain_reason"] = result.ok, result.reason
    print(json.dumps(report))


if __name__ == "__main__":
    main()
