"""The Django admin: no decisions, no pseudonyms, no complaints; accounts cannot change hands."""

import json

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from consent import audit
from consent.models import AuditEvent, Choice, RoleGrant
from tests.conftest import acknowledge, decide, sign_in_with_mfa


@pytest.fixture
def admin_user(django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.jp", "x-long-password")
    TOTP.activate(admin, generate_totp_secret())
    return admin


@pytest.fixture
def admin_client(client, admin_user):
    return sign_in_with_mfa(client, admin_user)


def test_decisions_and_acknowledgements_are_not_in_the_admin(admin_client, alice):
    acknowledge(alice)
    decision = decide(alice, Choice.OPT_OUT, comment="私的なコメント")
    index = admin_client.get("/admin/").content.decode()
    assert "decision" not in index.lower() and "acknowledgement" not in index.lower()
    assert admin_client.get("/admin/consent/decision/").status_code == 404
    assert (
        admin_client.get(f"/admin/consent/acknowledgement/{decision.acknowledgement.pk}/change/").status_code
        == 404
    )


@pytest.mark.parametrize("model", ["auditevent", "explanationversion"])
def test_audit_events_and_explanations_are_read_only(admin_client, alice, model):
    acknowledge(alice)
    decision = decide(alice, Choice.OPT_IN)
    pk = AuditEvent.objects.get(seq=decision.audit_seq).pk if model == "auditevent" else 1
    assert admin_client.get(f"/admin/consent/{model}/").status_code == 200
    assert admin_client.get(f"/admin/consent/{model}/add/").status_code == 403
    assert admin_client.get(f"/admin/consent/{model}/{pk}/delete/").status_code == 403
    before = AuditEvent.objects.count()
    admin_client.post(f"/admin/consent/{model}/{pk}/change/", {"kind": "edited"})
    assert AuditEvent.objects.count() == before and not AuditEvent.objects.filter(kind="edited").exists()


def test_the_admin_never_shows_pseudonyms(admin_client, alice):
    acknowledge(alice)
    decide(alice, Choice.OPT_OUT)
    for path in (
        f"/admin/consent/employee/{alice.pk}/change/",
        "/admin/consent/employee/",
        "/admin/consent/auditevent/",
    ):
        assert alice.pseudonym not in admin_client.get(path).content.decode(), path


def test_employees_cannot_be_deleted_or_moved_to_another_account(admin_client, alice, bob):
    assert admin_client.get(f"/admin/consent/employee/{alice.pk}/delete/").status_code == 403
    admin_client.post(
        f"/admin/consent/employee/{alice.pk}/change/",
        {
            "display_name": "alice",
            "office": alice.office.pk,
            "is_active": "on",
            "user": bob.user.pk,
            "employee_number": "X9",
        },
    )
    alice.refresh_from_db()
    assert alice.user_id != bob.user_id and alice.employee_number == "E0001"


def test_account_emails_cannot_be_changed_in_the_admin(admin_client, alice):
    admin_client.post(
        f"/admin/auth/user/{alice.user.pk}/change/",
        {"username": "x", "email": "attacker@evil.example", "is_active": "on"},
    )
    alice.user.refresh_from_db()
    assert alice.user.email == "alice@example.jp"
    assert admin_client.get("/admin/account/emailaddress/").status_code == 404
    assert admin_client.get("/admin/mfa/authenticator/").status_code == 404


def test_role_grants_are_on_the_chain(admin_client, admin_user, alice):
    admin_client.post("/admin/consent/rolegrant/add/", {"user": alice.user.pk, "role": "union"})
    grant = RoleGrant.objects.get(user=alice.user)
    event = AuditEvent.objects.get(kind="role.granted")
    assert json.loads(event.body)["payload"] == {"role": "union"}
    assert event.subject == audit.staff_identity(alice.user) != alice.pseudonym
    admin_client.post(f"/admin/consent/rolegrant/{grant.pk}/delete/", {"post": "yes"})
    assert not RoleGrant.objects.exists()
    assert AuditEvent.objects.filter(kind="role.revoked").count() == 1


def test_the_admin_login_goes_through_allauth_and_totp(client, admin_user):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    client.force_login(admin_user)  # a session that never gave a TOTP code
    assert client.get("/admin/").status_code == 302


def test_a_non_staff_user_cannot_open_the_admin(alice_client):
    assert alice_client.get("/admin/").status_code in (302, 403)


def test_no_admin_page_shows_a_body_a_commitment_or_an_opening(admin_client, admin_user, alice, hr):
    """Walk every changelist and change page: sequence, kind, time, and only accountable actors."""
    from django.contrib import admin

    from consent import services
    from consent.models import EventOpening

    acknowledge(alice)
    decide(alice, Choice.OPT_IN)
    services.record_sign_in(user=alice.user, methods="password")
    services.grant_role(actor=admin_user, user=alice.user, role="union")
    paths = ["/admin/"]
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        paths.append(base)
        paths += [f"{base}{pk}/change/" for pk in model.objects.values_list("pk", flat=True)[:100]]
    pages = ""
    for path in paths:
        response = admin_client.get(path)
        assert response.status_code in (200, 302, 403), path
        pages += response.content.decode()
    for event in AuditEvent.objects.all():
        assert event.body not in pages
        if event.subject.startswith("c:"):
            assert event.subject not in pages
    for opening in EventOpening.objects.all():
        assert opening.salt not in pages and opening.secret not in pages
    assert alice.pseudonym not in pages and "opt_in" not in pages
    # Role holders stay accountable: the administrator's identity is shown with the grant.
    assert audit.staff_identity(admin_user) in pages
