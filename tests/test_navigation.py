"""The main menu and the language switch work on every page."""

import re

import pytest
from django.urls import reverse

from tests.conftest import sign_in_with_mfa


def main_menu(html):
    return re.search(r'<nav class="site-nav".*?</nav>', html, re.S).group(0)


@pytest.mark.parametrize("path", ["/union/", "/union/?role=head_of_unit"])
def test_the_union_inbox_keeps_the_main_menu(client, union, path):
    """The inbox's filter choices once shadowed the menu's own `roles`."""
    sign_in_with_mfa(client, union.user)
    menu = main_menu(client.get(path).content.decode())
    assert f'href="{reverse("union_inbox")}"' in menu
    assert f'href="{reverse("history")}"' in menu
