"""Parts of pages rendered once and reused ({% shared %}): each visitor still
gets their own menus, language and CSRF token."""

import re

from django.test import Client

from tests.conftest import sign_in_with_mfa


def _signed_in(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_the_menus_follow_each_visitors_roles_on_the_same_page(alice, hr):
    employee_page = _signed_in(alice.user).get("/help/", secure=True).content.decode()
    hr_page = sign_in_with_mfa(Client(), hr.user).get("/help/", secure=True).content.decode()
    assert 'href="/hr/"' in hr_page and 'href="/hr/"' not in employee_page
    anonymous = Client().get("/help/", secure=True).content.decode()
    assert 'href="/history/"' in employee_page and 'href="/history/"' not in anonymous


def test_the_sign_out_form_carries_each_sessions_own_csrf_token(alice, bob):
    tokens = []
    for person in (alice, bob, alice):
        client = _signed_in(person.user)
        page = client.get("/help/", secure=True).content.decode()
        token = re.search(r'action="/accounts/logout/"[^>]*>\s*<input[^>]*value="([^"]+)"', page).group(1)
        tokens.append(token)
        response = client.post(
            "/accounts/logout/",
            {"csrfmiddlewaretoken": token},
            secure=True,
            headers={"origin": "https://testserver"},
        )
        assert response.status_code == 302
    assert len(set(tokens)) == 3


def test_the_language_of_a_shared_part_is_the_visitors(alice):
    client = _signed_in(alice.user)
    assert "ホーム" in client.get("/help/", secure=True, headers={"accept-language": "ja"}).content.decode()
    client.cookies["django_language"] = "en"
    english = client.get("/help/", secure=True).content.decode()
    assert ">Home<" in english and "ホーム" not in english
