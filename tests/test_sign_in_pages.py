"""The sign-in library's pages in our words, and a privileged account's first
sign-in in three screens: password, authenticator app, recovery codes."""

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail
from django.test import Client
from django.urls import reverse

from consent.models import AuditEvent
from tests.conftest import PASSWORD, grant, sign_in_with_mfa

HR_SECRET_CODE_PERIOD = 30


def code_for(secret):
    return format_hotp_value(hotp_value(secret, int(time.time()) // HR_SECRET_CODE_PERIOD))


@pytest.fixture
def new_hr(make_employee):
    """An HR officer whose role was just granted: no authenticator yet."""
    return grant(make_employee("hana", "E0100"), "hr", with_totp=False)


def test_first_privileged_sign_in_takes_three_screens_and_lands_where_it_was_going(client, new_hr):
    screens = []
    # Screen 1: the password.
    screens.append(client.get(reverse("account_login") + "?next=/hr/"))
    response = client.post(
        reverse("account_login"), {"login": "hana@example.jp", "password": PASSWORD, "next": "/hr/"}
    )
    response = client.get(response.url)
    assert response.url == reverse("mfa_activate_totp") + "?next=/hr/"
    # Screen 2: the app, with no second password prompt on the way.
    page = client.get(response.url)
    assert page.status_code == 200, page.get("Location")
    screens.append(page)
    secret = page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": code_for(secret), "next": "/hr/"})
    assert response.url == reverse("mfa_view_recovery_codes") + "?next=%2Fhr%2F"
    # Screen 3: the recovery codes, shown (not masked) with a way on.
    page = client.get(response.url)
    assert page.status_code == 200, page.get("Location")
    screens.append(page)
    codes = page.context["unused_codes"]
    assert codes and "****" not in codes and codes[0] in page.content.decode()
    assert 'class="button button--primary" href="/hr/"' in page.content.decode()
    # And the HR page opens: no code asked again.
    assert client.get("/hr/").status_code == 200
    assert len(screens) == 3
    assert Authenticator.objects.filter(user=new_hr.user, type="totp").exists()
    assert AuditEvent.objects.filter(kind="account.signed_in").count() == 1


def test_setting_up_long_after_signing_in_asks_for_the_password_first(client, new_hr):
    client.post(reverse("account_login"), {"login": "hana@example.jp", "password": PASSWORD})
    session = client.session
    for record in session["account_authentication_methods"]:
        record["at"] -= 3600
    session.save()
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302 and response.url.startswith(reverse("account_reauthenticate"))


def test_other_mfa_changes_still_ask_to_confirm(client, hr):
    """The shortcut is for the first authenticator only: new recovery codes
    or turning the app off still need the password or a code."""
    sign_in_with_mfa(client, hr.user)
    for name in ("mfa_generate_recovery_codes", "mfa_deactivate_totp"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and reverse("account_reauthenticate") in response.url, name


def test_a_wrong_code_sets_nothing_up(client, new_hr):
    client.post(reverse("account_login"), {"login": "hana@example.jp", "password": PASSWORD})
    client.get(reverse("mfa_activate_totp"))
    response = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Authenticator.objects.filter(user=new_hr.user).exists()
    assert client.get("/hr/").status_code == 302


def test_the_code_page_offers_no_password_loop(client, hr):
    """「パスワードを使用する」 once led back to the same page."""
    client.force_login(hr.user)
    response = client.get("/hr/")
    assert response.url.startswith(reverse("mfa_reauthenticate"))
    html = client.get(response.url).content.decode()
    assert reverse("account_reauthenticate") not in html
    secret = Authenticator.objects.get(user=hr.user, type="totp").data["secret"]
    response = client.post(response.url, {"code": code_for(secret)})
    assert response.url == "/hr/"
    assert client.get("/hr/").status_code == 200


def test_a_signed_in_session_offers_no_code_by_mail(alice_client):
    html = alice_client.get(reverse("account_reauthenticate")).content.decode()
    assert reverse("account_request_reauthentication_code") not in html
    assert alice_client.get(reverse("account_request_reauthentication_code")).status_code != 200


# Every sign-in page: our layout, one primary button, labels without colons.


def _reset_link(client):
    client.post(reverse("account_reset_password"), {"email": "alice@example.jp"})
    return re.search(r"http://testserver(/accounts/password/reset/key/\S+)", mail.outbox[-1].body).group(1)


def sign_in_pages(client, alice, hr, new_hr):
    """(name, response) for every sign-in page a person can meet."""
    anonymous = Client()
    yield "login", anonymous.get(reverse("account_login"))
    yield (
        "login failed",
        anonymous.post(reverse("account_login"), {"login": "alice@example.jp", "password": "x"}),
    )
    yield "reset", anonymous.get(reverse("account_reset_password"))
    yield "reset failed", anonymous.post(reverse("account_reset_password"), {"email": "not an address"})
    yield "reset done", anonymous.get(reverse("account_reset_password_done"))
    link = _reset_link(anonymous)
    page = anonymous.get(link, follow=True)
    yield "reset from key", page
    yield (
        "reset from key failed",
        anonymous.post(page.redirect_chain[-1][0], {"password1": "short", "password2": "other"}),
    )
    yield "reset bad link", anonymous.get(link.replace("-", "-x", 1), follow=True)
    yield "reset key done", anonymous.get(reverse("account_reset_password_from_key_done"))
    stage = Client()
    stage.post(reverse("account_login"), {"login": "ichiro@example.jp", "password": PASSWORD})
    yield "2fa at sign-in", stage.get(reverse("mfa_authenticate"))
    yield "2fa at sign-in failed", stage.post(reverse("mfa_authenticate"), {"code": "123"})
    employee = Client()
    employee.force_login(alice.user)
    yield "password change", employee.get(reverse("account_change_password"))
    yield "reauthenticate", employee.get(reverse("account_reauthenticate"))
    yield "sign out", employee.get(reverse("account_logout"))
    privileged = Client()
    privileged.force_login(hr.user)
    yield "2fa again", privileged.get(reverse("mfa_reauthenticate"))
    sign_in_with_mfa(privileged, hr.user)
    yield "security", privileged.get(reverse("mfa_index"))
    fresh = Client()
    fresh.post(reverse("account_login"), {"login": new_hr.user.email, "password": PASSWORD})
    page = fresh.get(reverse("mfa_activate_totp") + "?next=/hr/")
    yield "set up app", page
    fresh.post(reverse("mfa_activate_totp"), {"code": code_for(page.context["form"].secret)})
    yield "recovery codes", fresh.get(reverse("mfa_view_recovery_codes") + "?next=/hr/")
    yield "new recovery codes", fresh.get(reverse("mfa_generate_recovery_codes"))
    yield "turn off app", fresh.get(reverse("mfa_deactivate_totp"))


@pytest.fixture
def pages(alice, hr, union, make_employee):
    new_hr = grant(make_employee("hana2", "E0101"), "hr", with_totp=False)
    return list(sign_in_pages(Client(), alice, hr, new_hr))


def test_every_sign_in_page_is_ours(pages):
    for name, response in pages:
        assert response.status_code in (200, 400), name
        html = response.content.decode()
        assert 'class="site-header"' in html, name
        # One primary action; the security overview, with the app on, has none to urge.
        assert html.count("button--primary") == (0 if name == "security" else 1), name
        for label in re.findall(r"<label[^>]*>(.*?)</label>", html, re.S):
            text = re.sub(r"<[^>]+>", "", label).strip()
            assert not text.endswith((":", "：")), (name, text)
        assert "/accounts/signup/" not in html, name


# Product names and key labels that stay in Latin letters in Japanese text.
LATIN_ALLOWED = {"Google", "Microsoft", "Authenticator", "Ctrl", "Mac"}


def test_sign_in_pages_are_japanese_first(pages):
    for name, response in pages:
        main = re.search(r"<main.*?</main>", response.content.decode(), re.S).group(0)
        # Codes, keys and the signed-in address are data, not words.
        main = re.sub(r"<code.*?</code>|<div class=\"messages\".*?</div>", " ", main, flags=re.S)
        text = re.sub(r"<[^>]+>", " ", main)
        english = set(re.findall(r"[A-Za-z]{3,}", text)) - LATIN_ALLOWED
        assert not english, (name, english)


def test_sign_in_errors_are_summarised_and_tied_to_their_field(pages):
    failed = dict(pages)
    html = failed["reset from key failed"].content.decode()
    assert 'role="alert"' in html and 'href="#id_password1"' in html or 'href="#id_password2"' in html
    assert 'aria-invalid="true"' in html
    assert 'role="alert"' in failed["login failed"].content.decode()


def test_the_way_on_never_leaves_the_site(client, new_hr):
    client.post(reverse("account_login"), {"login": "hana@example.jp", "password": PASSWORD})
    evil = "https://evil.example/"
    page = client.get(reverse("mfa_activate_totp") + "?next=" + evil)
    assert f'<input type="hidden" name="next" value="{evil}">' not in page.content.decode()
    response = client.post(
        reverse("mfa_activate_totp"), {"code": code_for(page.context["form"].secret), "next": evil}
    )
    assert response.url == reverse("mfa_view_recovery_codes")
    html = client.get(reverse("mfa_view_recovery_codes") + "?next=" + evil).content.decode()
    assert f'href="{evil}"' not in html
    assert f'class="button button--primary" href="{reverse("mfa_index")}"' in html


def test_each_help_text_belongs_to_one_field(pages):
    """A help text once leaked from the new password to its confirmation."""
    html = dict(pages)["password change"].content.decode()
    assert html.count("10文字以上") == 1
