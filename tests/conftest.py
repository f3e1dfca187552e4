"""Shared people and helpers. State is set up through the services, as the app does."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from consent import services
from consent.models import ExplanationVersion, Office, RoleGrant

PASSWORD = "correct-horse-battery-2026"


@pytest.fixture
def office(db):
    return Office.objects.create(code="200", name="名古屋国道事務所")


@pytest.fixture
def make_employee(office):
    from django.contrib.auth.hashers import make_password

    password_hash = make_password(PASSWORD)

    def make(name, number, email=None):
        return services.provision_employee(
            email=email or f"{name}@example.jp",
            display_name=name,
            employee_number=number,
            office=office,
            password_hash=password_hash,
        )

    return make


@pytest.fixture
def alice(make_employee):
    return make_employee("alice", "E0001")


@pytest.fixture
def bob(make_employee):
    return make_employee("bob", "E0002")


def grant(employee, role, *, with_totp=True):
    RoleGrant.objects.create(user=employee.user, role=role)
    if with_totp:
        TOTP.activate(employee.user, generate_totp_secret())
    return employee


@pytest.fixture
def hr(make_employee):
    return grant(make_employee("hana", "E0100"), "hr")


@pytest.fixture
def union(make_employee):
    return grant(make_employee("ichiro", "E0200"), "union")


@pytest.fixture
def version1(db):
    return ExplanationVersion.objects.get(number=1)


def acknowledge(employee):
    return services.acknowledge_explanation(user=employee.user, version=ExplanationVersion.current())


def decide(employee, choice, comment=""):
    return services.record_decision(user=employee.user, choice=choice, comment=comment)


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice.user)
    return client


def sign_in_with_mfa(client, user):
    """A session that passed password and TOTP, as allauth records it."""
    import time

    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time()},
        {"method": "mfa", "type": "totp", "at": time.time()},
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return client


@pytest.fixture
def hr_client(client, hr):
    return sign_in_with_mfa(client, hr.user)
