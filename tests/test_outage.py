"""The database down, errors, and headers: a page in the user's language, never a bare 500."""

import logging
import runpy
from pathlib import Path
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError
from django.test import Client

from tests.conftest import sign_in_with_mfa

SETTINGS = Path(__file__).resolve().parents[1] / "config" / "settings.py"


@pytest.fixture
def database_down():
    """Every new query fails as it does when PostgreSQL refuses connections."""
    refused = OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')
    with mock.patch(
        "django.db.backends.base.base.BaseDatabaseWrapper.ensure_connection", side_effect=refused
    ):
        yield


def outage_page(response):
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    html = response.content.decode()
    assert "Server Error" not in html
    assert 'class="site-header"' in html and 'class="site-footer"' in html  # the site's layout
    return html


def test_signed_out_visitor_gets_a_japanese_503_with_retry_after(db, database_down, caplog):
    caplog.set_level(logging.ERROR)
    html = outage_page(Client(raise_request_exception=False).get("/"))
    assert "一時的に利用できません" in html and 'lang="ja"' in html
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1 and records[0].exc_info is None
    assert "database unavailable: OperationalError" in records[0].getMessage()
    assert "Traceback" not in caplog.text and "5432" not in caplog.text


def test_the_503_follows_the_chosen_language(db, database_down):
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    html = outage_page(client.get("/complaints/new/"))
    assert "Temporarily unavailable" in html and 'lang="en"' in html


def test_signed_in_people_get_the_503_too_even_though_their_session_is_in_the_database(alice, hr):
    employee = Client(raise_request_exception=False)
    employee.force_login(alice.user)
    officer = sign_in_with_mfa(Client(raise_request_exception=False), hr.user)
    with mock.patch(
        "django.db.backends.base.base.BaseDatabaseWrapper.ensure_connection",
        side_effect=OperationalError("connection refused"),
    ):
        for client, path in ((employee, "/decision/"), (officer, "/hr/")):
            assert "一時的に利用できません" in outage_page(client.get(path))
            assert "一時的に利用できません" in outage_page(client.post(path, {"choice": "opt_in"}))


def test_a_missing_page_is_a_404_in_the_layout_even_without_the_database(db, database_down):
    response = Client(raise_request_exception=False).get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "ページが見つかりません" in html and 'class="site-header"' in html


def test_the_wrong_role_gets_a_403_page_in_the_layout(alice_client):
    response = alice_client.get("/hr/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Not allowed" in html and 'class="site-footer"' in html
    assert "アクセスできません" in alice_client.get("/union/").content.decode()


def test_any_other_error_is_a_500_page_in_the_layout(db):
    with mock.patch("consent.views.employee.ExplanationVersion.current", side_effect=RuntimeError("bug")):
        response = Client(raise_request_exception=False).get("/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "問題が発生しました" in html and "Server Error" not in html


@pytest.mark.parametrize("value", ["0", "-3", "1"])
def test_a_suppression_threshold_below_two_refuses_to_start(monkeypatch, value):
    monkeypatch.setenv("DEBUG", "1")
    monkeypatch.setenv("SUPPRESSION_K", value)
    with pytest.raises(ImproperlyConfigured, match="SUPPRESSION_K"):
        runpy.run_path(str(SETTINGS))
    monkeypatch.setenv("SUPPRESSION_K", "2")
    assert runpy.run_path(str(SETTINGS))["SUPPRESSION_K"] == 2


def test_personal_hr_and_union_pages_are_never_stored(alice_client, hr, union):
    pages = [(alice_client, "/history/"), (alice_client, "/explanation/"), (alice_client, "/complaints/")]
    officer = sign_in_with_mfa(Client(), hr.user)
    pages += [(officer, "/hr/"), (officer, "/hr/queue/")]
    pages += [(sign_in_with_mfa(Client(), union.user), "/union/")]
    for client, path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path


def test_a_failed_csrf_check_explains_itself_in_the_layout(db):
    response = Client(enforce_csrf_checks=True).post("/complaints/follow-up/", {"code": "1" * 16})
    assert response.status_code == 403
    html = response.content.decode()
    assert "フォームの有効期限が切れました" in html and 'class="site-header"' in html


def test_a_bad_request_is_a_400_page_in_the_layout(db):
    response = Client(raise_request_exception=False, HTTP_HOST="evil.example").get("/")
    assert response.status_code == 400
    html = response.content.decode()
    assert "リクエストを処理できません" in html and 'class="site-footer"' in html
