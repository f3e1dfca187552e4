"""consent/hot.py reads what the ORM would: the same values, the same relations, the same roles."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.forms.models import model_to_dict

from consent import hot, services
from consent.access import roles_of
from consent.explanation_text import shipped_version
from consent.hot import user_with_roles
from consent.models import Acknowledgement, Choice, Employee, ExplanationVersion
from tests.conftest import acknowledge, decide, grant, unguard


def test_the_user_is_read_as_the_orm_reads_it(hr, django_assert_num_queries):
    with django_assert_num_queries(1):
        user = user_with_roles(hr.user.pk)
        assert user.employee.office.name == hr.office.name
    orm = get_user_model().objects.get(pk=hr.user.pk)
    assert model_to_dict(user) == model_to_dict(orm) and user.last_login == orm.last_login
    assert model_to_dict(user.employee) == model_to_dict(orm.employee)
    assert user.employee.provisioned_at == orm.employee.provisioned_at and user.employee.is_active is True
    assert model_to_dict(user.employee.office) == model_to_dict(orm.employee.office)
    assert roles_of(user) == {"employee", "hr"}


def test_a_user_without_an_employee_record_or_with_both_roles(db, alice, django_assert_num_queries):
    staff = get_user_model().objects.create_user("root", "root@example.jp", is_staff=True)
    with django_assert_num_queries(1):
        user = user_with_roles(staff.pk)
        assert getattr(user, "employee", None) is None
    assert roles_of(user) == {"admin"}
    grant(grant(alice, "hr"), "union", with_totp=False)
    assert roles_of(user_with_roles(alice.user.pk)) == {"employee", "hr", "union"}


def test_an_unknown_id_is_no_user(db):
    assert user_with_roles(10**9) is None


def _state(person):
    return user_with_roles(person.user.pk).employee.explanation_state


def test_the_user_read_carries_the_current_version_and_its_acknowledgement(
    alice, hr, django_assert_num_queries
):
    version1 = ExplanationVersion.current()
    assert _state(alice) == (version1, None)
    acknowledge(alice)
    with django_assert_num_queries(1):
        version, acknowledgement = _state(alice)
        assert version == version1 and acknowledgement.version.number == 1
    assert model_to_dict(version) == model_to_dict(version1) and version.published_at == version1.published_at
    assert model_to_dict(acknowledgement) == model_to_dict(Acknowledgement.objects.get(employee=alice))
    assert acknowledgement.created_at == Acknowledgement.objects.get(employee=alice).created_at
    # hr has not confirmed: alice's acknowledgement is not theirs.
    assert _state(hr) == (version1, None)
    # A newer version: the acknowledgement of the old one is not the current one.
    fields = {
        f"{name}_{lang}": getattr(version1, f"{name}_{lang}")
        for name in ("title", "body", "acknowledgement")
        for lang in ("ja", "en")
    }
    services.publish_explanation_version(user=hr.user, fields=fields)
    assert _state(alice) == (ExplanationVersion.current(), None)
    assert ExplanationVersion.current().number == 2
    acknowledge(alice)
    assert _state(alice).acknowledgement.version.number == 2
    assert roles_of(user_with_roles(alice.user.pk)) == {"employee"}


def test_no_version_at_all(alice):
    unguard("consent_explanationversion")
    ExplanationVersion.objects.all().delete()
    assert _state(alice) == (None, None)


def test_the_latest_decision(alice, bob, django_assert_num_queries):
    assert hot.latest_decision(alice) is None
    acknowledge(alice)
    decide(alice, Choice.OPT_IN)
    last = decide(alice, Choice.OPT_OUT, "理由")
    with django_assert_num_queries(1):
        latest = hot.latest_decision(alice)
    assert model_to_dict(latest) == model_to_dict(last) and latest.created_at == last.created_at
    assert latest.pk == last.pk and latest.get_choice_display() == last.get_choice_display()
    assert hot.latest_decision(bob) is None


def test_the_locked_employee_and_acknowledgement(alice, django_assert_num_queries):
    with transaction.atomic():
        assert hot.locked_employee_and_acknowledgement(alice.user)[1] is None
    acknowledge(alice)
    with transaction.atomic(), django_assert_num_queries(1) as captured:
        employee, acknowledgement = hot.locked_employee_and_acknowledgement(alice.user)
        assert employee.office.name == alice.office.name and acknowledgement.version.number == 1
    if connection.features.has_select_for_update_of:  # the employee row is locked, as the ORM's would be
        assert captured.captured_queries[0]["sql"].endswith("FOR UPDATE OF e")
    assert model_to_dict(employee) == model_to_dict(alice) and acknowledgement.employee_id == alice.pk
    # A new version is the current one: the acknowledgement of the old one is not it.
    services.publish_explanation(actor="system", number=2, fields=shipped_version(1))
    with transaction.atomic():
        assert hot.locked_employee_and_acknowledgement(alice.user) == (employee, None)
    Employee.objects.filter(pk=alice.pk).update(is_active=False)
    with transaction.atomic():
        assert hot.locked_employee_and_acknowledgement(alice.user) == (None, None)
    with pytest.raises(PermissionError):
        decide(alice, Choice.OPT_IN)


def test_the_history_rows_are_the_employees_own_as_the_orm_reads_them(alice, bob, django_assert_num_queries):
    from consent.models import AuditEvent

    for person in (alice, bob):
        acknowledge(person)
        for choice in (Choice.OPT_IN, Choice.OPT_OUT, Choice.UNDECIDED):
            decide(person, choice, comment=f"{person.display_name} {choice}")
    decisions = alice.decisions.order_by("audit_seq")
    expected = [
        (
            d.created_at,
            d.choice,
            d.previous_choice,
            d.comment,
            d.explanation_version.number,
            d.audit_seq,
            d.receipt_id,
        )
        for d in decisions
    ]
    with django_assert_num_queries(3):  # both counted in one query, then a page of each
        rows, openings_rows = hot.history(alice)
        assert rows.count() == 3 and rows[1:3] == expected[1:3]
        assert openings_rows[0:1]
    kinds = dict(AuditEvent.objects.values_list("seq", "kind"))
    openings = [(o.seq, o.created_at, kinds[o.seq], o.salt, o.secret) for o in alice.openings.order_by("seq")]
    rows = openings_rows
    assert rows.count() == len(openings) and rows[0:20] == openings
    assert rows[2:3] == openings[2:3]


def test_the_latest_switch_over_steps_are_read_as_the_orm_reads_them(alice, hr, django_assert_num_queries):
    from consent.models import SwitchoverCase

    acknowledge(alice)
    assert hot.latest_switch_steps(alice) is None
    decide(alice, Choice.OPT_IN)
    case = SwitchoverCase.objects.get(employee=alice)
    services.record_switchover_step(user=hr.user, case=case, step="card_received")
    with django_assert_num_queries(1):
        steps = hot.latest_switch_steps(alice)
    assert steps == SwitchoverCase.objects.get(pk=case.pk).steps_done and steps
    decide(alice, Choice.OPT_OUT)
    # The revert case opened now is not a switch-over: the switch-over's steps are still read.
    assert SwitchoverCase.objects.filter(employee=alice, kind=SwitchoverCase.REVERT).exists()
    assert hot.latest_switch_steps(alice) == steps
    decide(alice, Choice.OPT_IN)
    assert hot.latest_switch_steps(alice) == {}


def test_the_locked_head_is_read_as_the_orm_reads_it(alice, django_assert_num_queries):
    from consent.models import AuditHead

    acknowledge(alice)
    decide(alice, Choice.OPT_IN)
    with transaction.atomic(), django_assert_num_queries(1) as captured:
        head = hot.locked_head(AuditHead)
    orm = AuditHead.objects.get()
    assert model_to_dict(head) == model_to_dict(orm) and head.frontier == orm.frontier and head.pk == orm.pk
    if connection.features.has_select_for_update:  # held until the transaction ends
        assert captured.captured_queries[0]["sql"].endswith("FOR UPDATE")
    # A database without its head row says so by name, as the ORM's get() would.
    AuditHead.objects.all().delete()
    with pytest.raises(AuditHead.DoesNotExist), transaction.atomic():
        hot.locked_head(AuditHead)
