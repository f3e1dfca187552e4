"""The benchmark generator: a chain that verifies, figures HR can read, and refusals."""

from io import StringIO
from unittest import mock

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from consent.management.commands.generate_org import Generator
from consent.models import (
    AuditEvent,
    Decision,
    Employee,
    EventOpening,
    FigureSnapshot,
    Office,
    SignedCheckpoint,
    SwitchoverCase,
)
from tests.conftest import sign_in_with_mfa, verify_audit


def generate(*args):
    out = StringIO()
    call_command("generate_org", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def generated(db, settings):
    settings.DEBUG = True
    return generate("--employees", "40", "--events", "900", "--releases", "3", "--seed", "3")


def test_the_generated_chain_verifies_in_full(generated):
    assert "Generated 40 employees" in generated
    code, output = verify_audit("--full")
    assert code == 0, output
    assert 850 <= AuditEvent.objects.count() <= 950
    assert Employee.objects.count() == 40
    assert Office.objects.filter(parent=None, code="GEN").exists()
    assert Office.objects.filter(parent__parent__code="GEN").count() >= 1
    # The last weeks' releases, a checkpoint a week, every employee event with its opening.
    assert FigureSnapshot.objects.count() == 3
    assert SignedCheckpoint.objects.count() == 52
    assert EventOpening.objects.count() == AuditEvent.objects.filter(subject__startswith="c:").count()
    assert Decision.objects.exists()
    assert SwitchoverCase.objects.exists()
    kinds = set(AuditEvent.objects.values_list("kind", flat=True))
    assert {
        "account.signed_in",
        "explanation.viewed",
        "explanation.acknowledged",
        "decision.recorded",
        "roster.imported",
        "figures.published",
        "role.granted",
    } <= kinds
    # The current choice is the latest decision's, as record_decision keeps it.
    for employee in Employee.objects.all():
        latest = employee.decisions.order_by("-audit_seq").first()
        assert employee.current_choice == (latest.choice if latest else "")


def test_hr_dashboard_renders_from_the_generated_figures(generated, client):
    from django.contrib.auth import get_user_model

    hr = get_user_model().objects.get(username__startswith="gen-hr@")
    TOTP.activate(hr, generate_totp_secret())
    response = sign_in_with_mfa(client, hr).get(reverse("hr_dashboard"))
    assert response.status_code == 200
    assert len(response.context["weeks"]) >= 2


def test_it_refuses_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        generate("--employees", "5")
    assert not Employee.objects.exists()


def test_it_refuses_a_database_with_real_staff(alice, settings):
    settings.DEBUG = True
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError, match="real staff"):
        generate("--employees", "5")
    assert Employee.objects.count() == 1
    assert AuditEvent.objects.count() == events


def test_it_refuses_an_account_it_did_not_make(db, settings):
    from django.contrib.auth import get_user_model

    settings.DEBUG = True
    get_user_model().objects.create_user("admin@example.jp", "admin@example.jp")
    with pytest.raises(CommandError, match="real staff"):
        generate("--employees", "5")
    assert not Employee.objects.exists()


def test_it_refuses_to_generate_twice(generated):
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError, match="already holds a generated organisation"):
        generate("--employees", "5")
    assert AuditEvent.objects.count() == events


def _event_indexes():
    """The indexes and constraints of the events and their openings, as their definitions."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes "
            "WHERE tablename IN ('consent_auditevent', 'consent_eventopening') "
            "UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid IN ('consent_auditevent'::regclass, 'consent_eventopening'::regclass) "
            "ORDER BY 1"
        )
        return [row[0] for row in cursor.fetchall()]


def test_the_indexes_and_keys_over_random_keys_are_made_once_after_the_weeks(db, settings):
    if connection.vendor != "postgresql":
        pytest.skip("COPY and the index rebuild are PostgreSQL's")
    settings.DEBUG = True
    before = _event_indexes()
    during = []
    week = Generator.week

    def spy(self, *args):
        during.append(_event_indexes())
        return week(self, *args)

    with mock.patch.object(Generator, "week", spy):
        generate("--employees", "20", "--events", "300", "--releases", "1")
    random_keys = ("(entry_hash", "(prev_hash", "(subject", "(employee_id")
    assert during and not [d for d in during[0] if any(key in d for key in random_keys)]
    # The same indexes, unique constraints and foreign key afterwards, checked over every row.
    assert _event_indexes() == before
    # Seven indexes, two of them backing unique constraints, and the openings' foreign key.
    assert sum(any(key in d for key in random_keys) for d in before) == 10
    code, output = verify_audit("--full")
    assert code == 0, output
