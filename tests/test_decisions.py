"""record_decision: the only way a decision comes into being."""

import json

import pytest
from django.core.exceptions import ValidationError

from consent import services
from consent.explanation_text import shipped_version
from consent.models import AuditEvent, Choice, Decision
from tests.conftest import acknowledge, decide

MY_NUMBER = "123456789018"  # 12 digits with a valid check digit


def last_event():
    return AuditEvent.objects.order_by("-seq").first()


def test_it_refuses_a_decision_without_acknowledgement(alice):
    before = AuditEvent.objects.count()
    with pytest.raises(services.NotAcknowledged):
        decide(alice, Choice.OPT_OUT)
    assert Decision.objects.count() == 0
    assert AuditEvent.objects.count() == before


def test_it_records_a_decision_with_its_audit_event(alice):
    ack = acknowledge(alice)
    decision = decide(alice, Choice.OPT_OUT, comment="考え中でしたが決めました")
    event = last_event()
    body = json.loads(event.body)
    assert event.kind == "decision.recorded"
    assert decision.audit_seq == event.seq and decision.entry_hash == event.entry_hash
    assert body["actor"] == "employee" and body["subject"].startswith("c:")
    assert body["payload"] == {
        "explanation_version": 1,
        "explanation_hash": ack.version.content_hash,
        "acknowledgement_seq": ack.audit_seq,
    }
    # The choice and how it was made are in the commitment, opened only by the receipt.
    opening = alice.openings.get(seq=event.seq)
    assert json.loads(opening.secret) == {
        "choice": "opt_out",
        "previous_choice": None,
        "channel": "web",
        "sign_in_method": "password",
        "pseudonym": alice.pseudonym,
    }
    # Personal data stays out of the chain.
    assert (
        "alice" not in event.body and "考え中" not in event.body and alice.employee_number not in event.body
    )
    alice.refresh_from_db()
    assert alice.current_choice == "opt_out"


def test_a_change_keeps_the_history_and_names_the_previous_choice(alice):
    acknowledge(alice)
    decide(alice, Choice.OPT_IN)
    withdrawal = decide(alice, Choice.OPT_OUT)
    assert withdrawal.previous_choice == "opt_in"
    assert list(alice.decisions.values_list("choice", flat=True)) == ["opt_in", "opt_out"]
    assert json.loads(alice.openings.get(seq=last_event().seq).secret)["previous_choice"] == "opt_in"


def test_repeating_the_current_choice_records_nothing(alice):
    acknowledge(alice)
    decide(alice, Choice.UNDECIDED)
    count = AuditEvent.objects.count()
    with pytest.raises(services.NoChange):
        decide(alice, Choice.UNDECIDED)
    assert alice.decisions.count() == 1
    assert AuditEvent.objects.count() == count


def test_a_new_explanation_version_requires_a_new_acknowledgement(alice):
    acknowledge(alice)
    decide(alice, Choice.OPT_IN)
    services.publish_explanation(actor="system", number=2, fields=shipped_version(1))
    with pytest.raises(services.NotAcknowledged):
        decide(alice, Choice.OPT_OUT)
    acknowledge(alice)
    decision = decide(alice, Choice.OPT_OUT)
    assert decision.explanation_version.number == 2
    # The earlier decision stays valid and keeps its version.
    assert alice.decisions.first().explanation_version.number == 1


@pytest.mark.parametrize(
    "comment",
    [MY_NUMBER, f"私の番号は{MY_NUMBER}です", "１２３４５６７８９０１８", "1234 5678 9018", "1234-5678-9018"],
)
def test_a_comment_with_a_my_number_is_refused_and_changes_nothing(alice, comment):
    acknowledge(alice)
    count = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as error:
        decide(alice, Choice.OPT_OUT, comment=comment)
    assert error.value.code == "my_number"
    assert Decision.objects.count() == 0
    assert AuditEvent.objects.count() == count


def test_twelve_digits_without_a_valid_check_digit_are_accepted(alice):
    acknowledge(alice)
    assert decide(alice, Choice.OPT_OUT, comment="123456789012").comment == "123456789012"


def test_an_unknown_choice_is_refused(alice):
    acknowledge(alice)
    with pytest.raises(ValidationError):
        decide(alice, "forced")


def test_an_inactive_employee_cannot_decide(alice):
    acknowledge(alice)
    alice.is_active = False
    alice.save()
    with pytest.raises(PermissionError):
        decide(alice, Choice.OPT_IN)


def test_acknowledging_twice_records_one_event(alice, version1):
    first = acknowledge(alice)
    count = AuditEvent.objects.count()
    assert acknowledge(alice) == first
    assert AuditEvent.objects.count() == count


def test_the_service_takes_no_parameter_naming_another_person():
    import inspect

    parameters = set(inspect.signature(services.record_decision).parameters)
    assert parameters == {"user", "choice", "comment", "channel", "sign_in_method", "demo"}
