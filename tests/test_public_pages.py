"""Pages anyone may read before signing in: the explanation and help."""

import pytest
from django.urls import reverse

from consent import services
from consent.models import Acknowledgement, AuditEvent, ExplanationVersion


def test_the_explanation_is_readable_before_signing_in(client, db):
    version = ExplanationVersion.current()
    response = client.get(reverse("explanation_public"))
    assert response.status_code == 200
    html = response.content.decode()
    assert version.title_ja in html and "内閣人事局" in html
    assert f"{reverse('account_login')}?next={reverse('explanation')}" in html


def test_reading_it_signed_out_records_nothing_and_offers_no_acknowledgement(client, db):
    before = AuditEvent.objects.count()
    html = client.get(reverse("explanation_public")).content.decode()
    assert AuditEvent.objects.count() == before
    assert 'name="understood"' not in html and reverse("acknowledge") not in html


def test_an_employee_reading_it_still_confirms_on_the_signed_in_page(alice_client, alice):
    html = alice_client.get(reverse("explanation_public")).content.decode()
    assert f'href="{reverse("explanation")}"' in html
    assert not Acknowledgement.objects.filter(employee=alice).exists()
    assert not AuditEvent.objects.filter(kind="explanation.viewed").exists()


def test_it_shows_the_current_version(client, hr):
    version1 = ExplanationVersion.current()
    fields = {
        f"{name}_{lang}": getattr(version1, f"{name}_{lang}") + ("（改訂）" if lang == "ja" else " (revised)")
        for name in ("title", "body", "acknowledgement")
        for lang in ("ja", "en")
    }
    services.publish_explanation_version(user=hr.user, fields=fields)
    html = client.get(reverse("explanation_public")).content.decode()
    assert "（改訂）" in html


def test_the_welcome_page_links_to_it(client, db):
    assert reverse("explanation_public") in client.get("/").content.decode()


def test_the_help_page_shows_the_contacts_set_by_the_environment(client, db, settings):
    settings.HR_CONTACT = "人事課 企画係 内線 1234"
    settings.UNION_CONTACT = "国交労組 中部地本 union@example.jp"
    settings.SUPPORT_CONTACT = "システム運用担当 内線 9999"
    html = client.get(reverse("help")).content.decode()
    for contact in (settings.HR_CONTACT, settings.UNION_CONTACT, settings.SUPPORT_CONTACT):
        assert contact in html
    assert reverse("complaint_new") in html and reverse("account_reset_password") in html


def test_without_contacts_the_help_page_says_whom_to_ask(client, db, settings):
    settings.HR_CONTACT = settings.UNION_CONTACT = settings.SUPPORT_CONTACT = ""
    html = client.get(reverse("help")).content.decode()
    assert "所属の人事担当（人事課）" in html and "職場の労働組合の役員" in html


def test_a_contact_is_shown_as_text(client, db, settings):
    settings.HR_CONTACT = '<a href="https://evil.example">人事課</a>'
    html = client.get(reverse("help")).content.decode()
    assert "evil.example" in html and '<a href="https://evil.example">' not in html


def test_every_page_links_to_help(alice_client):
    for path in ("/", "/history/", reverse("complaint_new")):
        assert f'href="{reverse("help")}"' in alice_client.get(path).content.decode()


@pytest.mark.parametrize("name", ["explanation_public", "help"])
def test_public_pages_refuse_other_methods(client, db, name):
    assert client.post(reverse(name)).status_code == 405
