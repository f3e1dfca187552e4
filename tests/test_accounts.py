"""Sign-in: email and password, no self sign-up, argon2, MFA for privileged roles."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.hashers import identify_hasher
from django.urls import reverse

from consent.models import AuditEvent
from tests.conftest import PASSWORD, grant

ROOT = Path(__file__).resolve().parents[1]


def sign_in(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_passwords_are_hashed_with_argon2(alice):
    assert identify_hasher(alice.user.password).algorithm == "argon2"


def test_there_is_no_public_sign_up(client, db, django_user_model):
    count = django_user_model.objects.count()
    response = client.post(
        reverse("account_signup"),
        {"email": "new@example.jp", "password1": "a-long-password-1", "password2": "a-long-password-1"},
    )
    assert response.status_code == 200
    assert django_user_model.objects.count() == count
    assert "signup_closed" in response.templates[0].name or "closed" in response.content.decode().lower()


def test_the_login_page_is_japanese_and_says_voluntary(client, db):
    html = client.get(reverse("account_login")).content.decode()
    assert 'lang="ja"' in html
    assert "任意" in html
    assert "メールアドレス" in html and "パスワード" in html


def test_an_employee_signs_in_by_email_and_the_sign_in_is_audited(client, alice):
    response = sign_in(client, "alice@example.jp")
    assert response.status_code == 302
    event = AuditEvent.objects.filter(kind="account.signed_in").get()
    # The methods are hers alone: in the commitment, opened by her history.
    assert json.loads(alice.openings.get(seq=event.seq).secret)["methods"] == "password"
    assert json.loads(event.body)["payload"] == {} and "password" not in event.body
    assert "alice" not in event.body


def test_a_wrong_password_is_refused_in_japanese(client, alice):
    response = sign_in(client, "alice@example.jp", "wrong-password")
    assert response.status_code == 200
    assert "正しくありません" in response.content.decode()
    assert not AuditEvent.objects.filter(kind="account.signed_in").exists()


def test_repeated_failures_are_rate_limited(client, alice):
    for i in range(5):
        sign_in(client, "alice@example.jp", f"wrong-{i}")
    # Even the right password is refused until the limit passes.
    response = sign_in(client, "alice@example.jp")
    assert response.status_code == 200
    assert "ログイン失敗が連続しています" in response.content.decode()
    assert not AuditEvent.objects.filter(kind="account.signed_in").exists()


def test_a_privileged_user_without_totp_is_sent_to_set_it_up(client, make_employee):
    person = grant(make_employee("hana", "E0100"), "hr", with_totp=False)
    client.force_login(person.user)
    response = client.get("/")
    assert response.status_code == 302 and response.url == reverse("mfa_activate_totp")
    assert client.get("/history/").url == reverse("mfa_activate_totp")


def test_an_administrator_without_totp_cannot_open_the_admin(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.jp", PASSWORD)
    client.force_login(admin)
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url == reverse("mfa_activate_totp")


def test_a_privileged_user_with_totp_must_give_the_code_at_sign_in(client, hr):
    assert Authenticator.objects.filter(user=hr.user, type="totp").exists()
    response = sign_in(client, "hana@example.jp")
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    # Not signed in until the code is given.
    assert client.get(reverse("history")).status_code == 302
    assert not AuditEvent.objects.filter(kind="account.signed_in").exists()


def test_an_employee_is_not_asked_for_totp(client, alice):
    client.force_login(alice.user)
    assert client.get("/").status_code == 200


def test_production_refuses_to_start_without_its_settings():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL")
    }
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL" in result.stderr


def test_a_malformed_boolean_setting_is_refused():
    env = {**os.environ, "DEBUG": "yes please", "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_production_settings_are_secure():
    from consent.chain import generate_key

    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "k" * 50,
        "ALLOWED_HOSTS": "ledger.example.jp",
        "DATABASE_URL": "postgres://u@localhost/db",
        "SITE_URL": "https://ledger.example.jp",
        "LOG_SIGNING_KEY": generate_key("ledger.example.jp/consent-log")[0],
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS > 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.stdout.split() == ["True", "True", "True", "True"], result.stderr


@pytest.mark.parametrize("path", ["/", "/explanation/", "/history/"])
def test_pages_send_a_content_security_policy(alice_client, path):
    assert "default-src 'self'" in alice_client.get(path)["Content-Security-Policy"]


def test_rate_limits_never_store_an_ip_address(client, alice):
    from django.db import connection

    client.post(
        reverse("account_login"),
        {"login": "alice@example.jp", "password": "wrong"},
        REMOTE_ADDR="203.0.113.9",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM consent_cache")
        keys = " ".join(row[0] for row in cursor.fetchall())
    assert keys and "203.0.113.9" not in keys
