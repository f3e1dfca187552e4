"""Sign-in: email and password, no self sign-up, argon2, MFA for privileged roles."""

import json
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.hashers import identify_hasher
from django.urls import reverse

from consent.models import AuditEvent
from tests.conftest import PASSWORD, grant, production_env, start_django

ROOT = Path(__file__).resolve().parents[1]


def sign_in(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_passwords_are_hashed_with_argon2(alice):
    assert identify_hasher(alice.user.password).algorithm == "argon2"


@pytest.mark.parametrize("method", ["get", "post"])
def test_there_is_no_public_sign_up(client, db, django_user_model, method):
    count = django_user_model.objects.count()
    response = getattr(client, method)(
        "/accounts/signup/",
        {"email": "new@example.jp", "password1": "a-long-password-1", "password2": "a-long-password-1"},
        follow=True,
    )
    assert response.redirect_chain == [(reverse("account_login"), 302)]
    assert "人事課が職員名簿から作成します" in response.content.decode()
    assert django_user_model.objects.count() == count


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/password/reset/", "/help/"])
def test_no_page_links_to_sign_up(client, db, path):
    assert "/accounts/signup/" not in client.get(path).content.decode()


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
    assert response.status_code == 302 and response.url == reverse("mfa_activate_totp") + "?next=/"
    assert client.get("/history/?page=2").url == reverse("mfa_activate_totp") + "?next=/history/%3Fpage%3D2"


def test_an_administrator_without_totp_cannot_open_the_admin(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.jp", PASSWORD)
    client.force_login(admin)
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url == reverse("mfa_activate_totp") + "?next=/admin/"


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
    result = start_django(production_env(SECRET_KEY=None, ALLOWED_HOSTS=None, DATABASE_URL=None))
    assert result.returncode != 0
    assert "SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL" in result.stderr


def test_a_malformed_boolean_setting_is_refused():
    result = start_django(production_env(DEBUG="yes please"))
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_production_settings_are_secure():
    result = start_django(
        production_env(),
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0)",
    )
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


@pytest.fixture
def contacts(settings):
    settings.SUPPORT_CONTACT = "システム運用担当 内線 9999"
    settings.HR_CONTACT = "人事課 企画係 内線 1234"
    settings.SITE_URL = "https://ledger.example.go.jp"
    return settings


def test_the_password_reset_mail_is_ours_in_japanese(client, alice, contacts):
    from django.core import mail

    client.post(reverse("account_reset_password"), {"email": "alice@example.jp"})
    message = mail.outbox[-1]
    assert message.subject == "[一体化の意思確認台帳] パスワードの再設定"
    assert "alice@example.jp のアカウントについて、パスワードの再設定が求められました。" in message.body
    assert "/accounts/password/reset/key/" in message.body
    assert "システム運用担当 内線 9999" in message.body
    assert "https://ledger.example.go.jp/help/" in message.body
    assert "こんにちは" not in message.body and "testserver" not in message.subject


def test_the_password_reset_mail_follows_the_language(client, alice, contacts):
    from django.core import mail

    client.post(reverse("account_reset_password"), {"email": "alice@example.jp"}, HTTP_ACCEPT_LANGUAGE="en")
    message = mail.outbox[-1]
    assert message.subject == "[Consent ledger] Resetting your password"
    assert "Someone asked to reset the password of the account for alice@example.jp." in message.body
    assert "If you need help\nシステム運用担当 内線 9999" in message.body


def test_an_unknown_address_is_not_invited_to_sign_up(client, db, contacts):
    from django.core import mail

    response = client.post(reverse("account_reset_password"), {"email": "stranger@example.jp"})
    # The page says the same as for a known address: it reveals no account.
    assert response.status_code == 302 and response.url == reverse("account_reset_password_done")
    message = mail.outbox[-1]
    assert message.subject == "[一体化の意思確認台帳] このアドレスのアカウントはありません"
    assert "人事課が職員名簿から作成します" in message.body and "人事課 企画係 内線 1234" in message.body
    assert "signup" not in message.body and "sign up" not in message.body.lower()


def test_a_signed_in_session_cannot_add_an_address_to_take_the_account_over(alice_client, alice):
    """Someone at alice's unlocked desk adds their own address, then asks for a
    password reset through it: the account would be theirs."""
    from allauth.account.models import EmailAddress
    from django.core import mail
    from django.test import Client

    response = alice_client.post("/accounts/email/", {"email": "thief@example.com", "action_add": ""})
    assert response.status_code == 302 and response.url == reverse("home")
    assert list(EmailAddress.objects.filter(user=alice.user).values_list("email", flat=True)) == [
        "alice@example.jp"
    ]
    Client().post(reverse("account_reset_password"), {"email": "thief@example.com"})
    assert all("/accounts/password/reset/key/" not in message.body for message in mail.outbox)
    page = alice_client.get("/accounts/email/", follow=True).content.decode()
    assert "職員名簿" in page
