"""Two send_queued_mail runs at once over the same queue; print what was sent as JSON.

Run by tests/test_confirmations.py in a subprocess against a fresh database, as
tests/race_probe.py is: the runs need committed rows and connections of their own.
Each send is slowed so that the runs overlap; every mail must still go out once.
"""

import collections
import json
import os
import sys
import time
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core import mail  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from consent import services  # noqa: E402
from consent.models import Choice, DecisionConfirmation, ExplanationVersion, Office  # noqa: E402
from tests.conftest import CHEAP_HASHERS  # noqa: E402
from tests.race_probe import employee, in_thread  # noqa: E402

PEOPLE = 12


@override_settings(PASSWORD_HASHERS=CHEAP_HASHERS)
def main():
    setup_test_environment()  # the in-memory mail outbox
    call_command("migrate", verbosity=0)
    office = Office.objects.create(code="900", name="probe")
    version = ExplanationVersion.current()
    for n in range(PEOPLE):
        user = employee(office, f"mail{n:02d}").user
        services.acknowledge_explanation(user=user, version=version)
        services.record_decision(user=user, choice=Choice.OPT_IN)
    real = services.send_mail

    def slow(*args, **kwargs):
        time.sleep(0.05)  # a slow mail server: the other run comes by meanwhile
        return real(*args, **kwargs)

    with mock.patch.object(services, "send_mail", slow):
        runs = [in_thread(services.send_queued_mail) for _ in range(2)]
        for thread, _outcome in runs:
            thread.join()
    per_address = collections.Counter(message.to[0] for message in mail.outbox)
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "queued": PEOPLE,
                "errors": [outcome["error"] for _thread, outcome in runs if "error" in outcome],
                "sent_by_each": [
                    outcome.get("value", {}).get("confirmations", (0, 0))[0] for _t, outcome in runs
                ],
                "mails_per_address": collections.Counter(map(str, per_address.values())),
                "pending": DecisionConfirmation.objects.filter(sent_at=None).count(),
            }
        )
    )


if __name__ == "__main__":
    main()
