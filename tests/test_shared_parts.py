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


def test_the_menu_marks_the_page_it_is_on_whichever_page_was_shown_first(alice):
    """The menus are one shared part per page (URL name): the current page's link is marked,
    and no other, even when another page's menu was rendered first in this process."""
    from consent.templatetags import consent_tags

    consent_tags._rendered.clear()
    client = _signed_in(alice.user)
    for path in ("/help/", "/history/", "/explanation/read/", "/history/"):
        menu = re.search(
            r'<nav class="site-nav site-nav--wide".*?</nav>',
            client.get(path, secure=True).content.decode(),
            re.S,
        ).group(0)
        marked = re.findall(r'href="([^"]+)" aria-current="page"', menu)
        assert marked == (["/history/"] if path == "/history/" else []), path


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


def _csrf_of_form(page, action):
    form = rf'action="{action}"[^>]*>\s*<input[^>]*name="csrfmiddlewaretoken" value="([^"]+)"'
    return re.search(form, page).group(1)


def test_the_decision_form_is_shared_per_warning_and_carries_each_sessions_token(alice, bob, hr):
    """The unbound decision form is rendered once per language and warning: a
    warned employee gets the warned form, the next one not, each with their own token."""
    from consent import services
    from consent.models import Choice, SwitchoverCase
    from tests.conftest import acknowledge, decide

    for person in (alice, bob):
        acknowledge(person)
        decide(person, Choice.OPT_IN)
    services.record_switchover_step(
        user=hr.user, case=SwitchoverCase.objects.get(employee=bob), step="card_received"
    )
    warned = '<input type="hidden" name="warned" value="1">'
    pages, tokens = {}, []
    for person in (alice, bob, alice):
        client = _signed_in(person.user)
        page = client.get("/decision/", secure=True).content.decode()
        pages[person.pk] = page
        tokens.append(token := _csrf_of_form(page, "/decision/"))
        form = {"choice": Choice.UNDECIDED, "comment": "", "csrfmiddlewaretoken": token}
        if warned in page:
            form["warned"] = "1"
        response = client.post("/decision/", form, secure=True, headers={"origin": "https://testserver"})
        assert response.status_code == 302 and "/receipts/" in response["Location"]
        decide(person, Choice.OPT_IN)
    assert len(set(tokens)) == 3
    names_you = "カードの作業を元に戻す作業であなたの名前を見ます"
    assert warned in pages[bob.pk] and pages[bob.pk].count(names_you) == 2
    assert warned not in pages[alice.pk] and names_you not in pages[alice.pk]


def test_a_refused_decision_form_is_rendered_afresh(alice_client, alice):
    from consent.models import Choice
    from tests.conftest import acknowledge

    acknowledge(alice)
    assert "error-summary" not in alice_client.get("/decision/").content.decode()
    response = alice_client.post("/decision/", {"choice": "maybe", "comment": "my own words"})
    page = response.content.decode()
    assert response.status_code == 400 and "error-summary" in page and "my own words" in page
    again = alice_client.get("/decision/").content.decode()
    assert "error-summary" not in again and "my own words" not in again
    assert Choice.OPT_IN in again


def test_the_language_switch_is_shared_but_posts_each_sessions_token_and_page(alice, bob):
    tokens = []
    # The last is the same page as another, with its own query: the next is the request's own.
    pages = ((alice, "/help/"), (bob, "/history/"), (alice, "/explanation/"), (bob, "/history/?page=1"))
    for person, path in pages:
        client = _signed_in(person.user)
        page = client.get(path, secure=True).content.decode()
        form = re.search(r'<form class="lang-switch".*?</form>', page, re.S).group(0)
        token = _csrf_of_form(form, "/i18n/setlang/")
        tokens.append(token)
        assert f'name="next" type="hidden" value="{path}"' in form
        response = client.post(
            "/i18n/setlang/",
            {"language": "en", "next": path, "csrfmiddlewaretoken": token},
            secure=True,
            headers={"origin": "https://testserver"},
        )
        assert response.status_code == 302 and response["Location"].endswith(path)
    assert len(set(tokens)) == 4
