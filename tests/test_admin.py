"""The Django admin: no decisions, no pseudonyms, no complaints; accounts cannot change hands."""

import json
from unittest import mock

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.utils import translation

from consent import audit, services
from consent.models import AuditEvent, Choice, Office, RoleGrant
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
    listing = admin_client.get("/admin/consent/auditevent/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "役割を付与した" in listing and "役割を外した" in listing
    assert '<td class="field-event">role.granted' not in listing
    filtered = admin_client.get("/admin/consent/auditevent/?kind=role.revoked")
    assert [e.kind for e in filtered.context["cl"].result_list] == ["role.revoked"]


def test_the_admin_login_goes_through_allauth_and_totp(client, admin_user):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    client.force_login(admin_user)  # a session that never gave a TOTP code
    assert client.get("/admin/").status_code == 302


def test_a_non_staff_user_cannot_open_the_admin(alice_client):
    assert alice_client.get("/admin/").status_code in (302, 403)


# --- Attack 4 (admin part): the administrator sees no choice, and every change is on the record.

# Every model the admin offers; the walk below visits each, so a new admin
# page cannot slip past it.
ADMIN_MODELS = {
    "auth.user",
    "consent.office",
    "consent.employee",
    "consent.rolegrant",
    "consent.explanationversion",
    "consent.auditevent",
}


def test_the_walk_covers_every_admin_model():
    from django.contrib import admin

    assert {f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry} == ADMIN_MODELS


@pytest.fixture
def decided(alice, bob, office):
    """Two people with decisions and a comment, one withdrawn, and a sub-office."""
    acknowledge(alice)
    acknowledge(bob)
    decisions = [
        decide(alice, Choice.OPT_IN),
        decide(alice, Choice.OPT_OUT, comment="私的なコメントです"),
        decide(bob, Choice.UNDECIDED),
    ]
    services.save_office(actor=None, code="201", name="名古屋第一出張所", parent=office)
    return decisions


def admin_pages(model):
    from django.apps import apps

    app_label, model_name = model.split(".")
    base = f"/admin/{app_label}/{model_name}/"
    pages = [base, f"{base}?q=E0", f"{base}add/"]
    for pk in apps.get_model(app_label, model_name).objects.order_by("pk").values_list("pk", flat=True)[:25]:
        pages += [f"{base}{pk}/change/", f"{base}{pk}/history/"]
    return pages


@pytest.mark.parametrize("model", sorted(ADMIN_MODELS))
def test_no_admin_page_shows_a_choice_a_pseudonym_or_decision_data(admin_client, decided, alice, bob, model):
    secrets = [*Choice.values, "current_choice", "私的なコメントです"]
    secrets += [person.pseudonym for person in (alice, bob)]
    # Receipt numbers open a person's receipt; entry hashes are public on the chain.
    secrets += [d.receipt_id for d in decided]
    if model != "consent.explanationversion":  # the explanation itself discusses the options
        # A label as a value of its own (a cell, an option), not inside the voluntary
        # statement's sentence ("一体化しないこと…で不利益を受けることはありません").
        secrets += [f">{label}<" for label in Choice.labels]
        with translation.override("en"):
            secrets += [f">{label}<" for label in Choice.labels]
    pages = admin_pages(model)
    assert len(pages) >= 3
    for path in pages:
        response = admin_client.get(path)
        assert response.status_code in (200, 403), path
        html = response.content.decode()
        assert [secret for secret in secrets if secret in html] == [], path


def events_of(kind):
    return [json.loads(body) for body in AuditEvent.objects.filter(kind=kind).values_list("body", flat=True)]


def test_access_flags_set_in_the_admin_are_on_the_chain(admin_client, admin_user, alice):
    form = {"is_active": "on", "is_staff": "on", "is_superuser": ""}
    response = admin_client.post(f"/admin/auth/user/{alice.user.pk}/change/", form)
    assert response.status_code == 302
    alice.user.refresh_from_db()
    assert alice.user.is_staff and not alice.user.is_superuser
    [event] = events_of("account.access_changed")
    assert event["payload"] == {"is_staff": True}
    assert event["actor"] == audit.staff_identity(admin_user)
    # Saving the form again with nothing changed records nothing.
    admin_client.post(f"/admin/auth/user/{alice.user.pk}/change/", form)
    assert len(events_of("account.access_changed")) == 1
    admin_client.post(f"/admin/auth/user/{alice.user.pk}/change/", {"is_staff": "on"})
    alice.user.refresh_from_db()
    assert not alice.user.is_active
    assert events_of("account.access_changed")[-1]["payload"] == {"is_active": False}


def test_moving_an_employee_in_the_admin_is_on_the_chain_without_the_office(admin_client, alice, office):
    other = services.save_office(actor=None, code="300", name="静岡国道事務所", parent=None)
    form = {"display_name": "alice", "office": other.pk, "is_active": "on"}
    assert admin_client.post(f"/admin/consent/employee/{alice.pk}/change/", form).status_code == 302
    alice.refresh_from_db()
    assert alice.office == other
    [event] = events_of("employee.updated")
    assert event["payload"] == {"fields": ["office"]}
    assert "300" not in json.dumps(event["payload"]) and "静岡" not in json.dumps(event)


def test_offices_added_and_reparented_in_the_admin_are_on_the_chain(admin_client, office):
    form = {"code": "210", "name": "庄内川河川事務所", "parent": ""}
    assert admin_client.post("/admin/consent/office/add/", form).status_code == 302
    created = Office.objects.get(code="210")
    assert events_of("office.created")[-1]["payload"] == {
        "code": "210",
        "name": "庄内川河川事務所",
        "parent": None,
    }
    form.update(parent=office.pk, code="999")  # the code is read-only once the office exists
    admin_client.post(f"/admin/consent/office/{created.pk}/change/", form)
    created.refresh_from_db()
    assert created.parent == office and created.code == "210"
    assert events_of("office.updated")[-1]["payload"]["parent"] == office.code


def test_an_office_cannot_be_placed_below_its_own_sub_office(admin_client, office):
    child = services.save_office(actor=None, code="201", name="出張所", parent=office)
    events = AuditEvent.objects.count()
    response = admin_client.post(
        f"/admin/consent/office/{office.pk}/change/",
        {"code": office.code, "name": office.name, "parent": child.pk},
    )
    assert response.status_code == 200 and "下に置くことはできません" in response.content.decode()
    office.refresh_from_db()
    assert office.parent is None and AuditEvent.objects.count() == events
    assert admin_client.get(f"/admin/consent/office/{office.pk}/delete/").status_code == 403


def test_an_admin_change_and_its_event_commit_together(admin_user, alice):
    with mock.patch("consent.audit.append", side_effect=RuntimeError("chain down")):
        with pytest.raises(RuntimeError):
            services.set_account_access(actor=admin_user, user=alice.user, is_staff=True)
        with pytest.raises(RuntimeError):
            services.update_employee(
                actor=admin_user, employee=alice, display_name="renamed", office=alice.office, is_active=True
            )
    alice.refresh_from_db()
    alice.user.refresh_from_db()
    assert not alice.user.is_staff and alice.display_name == "alice"


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
