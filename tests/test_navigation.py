"""The main menu and the language switch work on every page."""

import re

import pytest
from django.urls import reverse

from tests.conftest import sign_in_with_mfa


def main_menu(html):
    return re.search(r'<nav class="site-nav site-nav--wide".*?</nav>', html, re.S).group(0)


@pytest.mark.parametrize("path", ["/union/", "/union/?role=head_of_unit"])
def test_the_union_inbox_keeps_the_main_menu(client, union, path):
    """The inbox's filter choices once shadowed the menu's own `roles`."""
    sign_in_with_mfa(client, union.user)
    menu = main_menu(client.get(path).content.decode())
    assert f'href="{reverse("union_inbox")}"' in menu
    assert f'href="{reverse("history")}"' in menu


def language_next(html):
    form = re.search(r'<form class="lang-switch".*?</form>', html, re.S).group(0)
    return re.search(r'name="next" type="hidden" value="([^"]*)"', form).group(1)


def test_the_switch_returns_to_the_page_it_was_pressed_on(alice_client):
    html = alice_client.get("/history/?page=1").content.decode()
    assert language_next(html) == "/history/?page=1"


def test_after_a_failed_post_to_a_post_only_page_the_switch_goes_home(alice_client):
    """A failed acknowledgement is shown at /explanation/acknowledge/, which a
    GET answers with 405: the switch must not send the browser there."""
    response = alice_client.post(reverse("acknowledge"), {"version": "1"})
    assert response.status_code == 400
    target = language_next(response.content.decode())
    assert target == reverse("home")
    switched = alice_client.post(reverse("set_language"), {"language": "en", "next": target}, follow=True)
    assert switched.status_code == 200
    assert switched.redirect_chain[-1][0] == reverse("home")


def test_after_a_failed_sign_in_the_switch_stays_on_the_sign_in_page(client, alice):
    response = client.post(reverse("account_login"), {"login": "alice@example.jp", "password": "wrong"})
    target = language_next(response.content.decode())
    assert target == reverse("account_login")
    switched = client.post(reverse("set_language"), {"language": "en", "next": target}, follow=True)
    assert switched.status_code == 200
    assert '<html lang="en">' in switched.content.decode()
