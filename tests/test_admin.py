"""The Django admin: decisions, acknowledgements and events are read-only."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from consent.models import AuditEvent, Choice
from tests.conftest import acknowledge, decide


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.jp", "x-long-password")
    TOTP.activate(admin, generate_totp_secret())
    client.force_login(admin)
    return client


@pytest.mark.parametrize("model", ["decision", "acknowledgement", "auditevent", "explanationversion"])
def test_audited_models_cannot_be_added_changed_or_deleted(admin_client, alice, model):
    acknowledge(alice)
    decision = decide(alice, Choice.OPT_IN)
    pk = {
        "decision": decision.pk,
        "acknowledgement": decision.acknowledgement.pk,
        "auditevent": AuditEvent.objects.get(seq=decision.audit_seq).pk,
        "explanationversion": decision.explanation_version.pk,
    }[model]
    assert admin_client.get(f"/admin/consent/{model}/").status_code == 200
    assert admin_client.get(f"/admin/consent/{model}/add/").status_code == 403
    assert admin_client.get(f"/admin/consent/{model}/{pk}/delete/").status_code == 403
    before = AuditEvent.objects.count()
    admin_client.post(f"/admin/consent/{model}/{pk}/change/", {"choice": "opt_out", "kind": "edited"})
    assert AuditEvent.objects.count() == before
    decision.refresh_from_db()
    assert decision.choice == "opt_in"


def test_employees_cannot_be_deleted_only_deactivated(admin_client, alice):
    assert admin_client.get(f"/admin/consent/employee/{alice.pk}/delete/").status_code == 403


def test_a_non_staff_user_cannot_open_the_admin(alice_client):
    assert alice_client.get("/admin/").status_code == 302
