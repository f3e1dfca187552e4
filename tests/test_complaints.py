"""Complaints: named or anonymous, confidential from HR and administrators."""

import datetime
import json
import logging
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consent import services
from consent.models import AuditEvent, Complaint, ComplaintMessage
from tests.conftest import sign_in_with_mfa

GOOD = {
    "what": "told_compulsory",
    "occurred_on": "2026-06-10",
    "involved_role": "head_of_unit",
    "details": "所属長から一体化は強制だと言われました。",
    "identity": "anonymous",
}


def file_anonymous(client, **extra):
    response = client.post(
        "/complaints/new/", {**GOOD, **extra}, HTTP_USER_AGENT="TellTale/1.0", REMOTE_ADDR="203.0.113.77"
    )
    code = response.context["code"]
    return response, code


def test_every_employee_page_links_to_the_union(alice_client):
    for path in ("/", "/explanation/", "/history/"):
        assert reverse("complaint_new") in alice_client.get(path).content.decode()


def test_anonymous_complaint_keeps_no_account_ip_or_browser(alice_client, alice, caplog):
    caplog.set_level(logging.DEBUG)
    response, code = file_anonymous(alice_client)
    assert response.status_code == 200
    assert len(code) == 16 and code.isdigit()
    complaint = Complaint.objects.get()
    assert complaint.reporter is None and complaint.shared_pseudonym == ""
    assert code not in complaint.code_hash and complaint.code_hash.startswith("argon2")
    # Nothing anywhere in the database holds the address, the browser or a link to the account.
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            dump = repr(cursor.fetchall())
            assert "203.0.113.77" not in dump, table
            assert "TellTale" not in dump, table
            assert code not in dump, table
            if table == "django_session":
                assert complaint.number not in dump
    event = AuditEvent.objects.get(kind="complaint.filed")
    body = json.loads(event.body)
    assert body["actor"] == "complainant" and body["subject"] is None
    assert alice.pseudonym not in event.body
    assert "203.0.113.77" not in caplog.text and "TellTale" not in caplog.text


def test_the_code_is_shown_once_and_opens_the_complaint_without_signing_in(alice_client, db):
    _response, code = file_anonymous(alice_client)
    stranger = Client()
    response = stranger.post(
        "/complaints/follow-up/", {"code": f"{code[:4]} {code[4:8]} {code[8:12]} {code[12:]}"}
    )
    assert response.status_code == 302
    number = code[:6]
    page = stranger.get(response.url).content.decode()
    assert "所属長から" in page and "受付" in page
    stranger.post(f"/complaints/{number}/reply/", {"body": "追加の情報です。"})
    assert ComplaintMessage.objects.get().author == "reporter"
    stranger.post(f"/complaints/{number}/withdraw/")
    assert Complaint.objects.get().status == "withdrawn"


def test_a_wrong_code_reveals_nothing_and_is_rate_limited(alice_client, db):
    _response, code = file_anonymous(alice_client)
    stranger = Client()
    wrong = code[:6] + ("0000000000" if code[6:] != "0000000000" else "1111111111")
    unknown = ("999999" if code[:6] != "999999" else "888888") + "0000000000"
    answers = {
        stranger.post("/complaints/follow-up/", {"code": c}).content.decode().count("開けません")
        for c in (wrong, unknown)
    }
    assert answers == {2}  # the same message, in the summary and at the field
    for _ in range(5):
        stranger.post("/complaints/follow-up/", {"code": wrong})
    # Even the right code is refused once the number is rate-limited, with the same words.
    response = stranger.post("/complaints/follow-up/", {"code": code})
    assert response.status_code == 400 and "開けません" in response.content.decode()


def test_another_browser_cannot_open_an_anonymous_complaint(alice_client, bob):
    _response, code = file_anonymous(alice_client)
    other = Client()
    other.force_login(bob.user)
    assert other.get(f"/complaints/{code[:6]}/").status_code == 404
    assert alice_client.get(f"/complaints/{code[:6]}/").status_code == 404  # not even the sender's session


def test_a_named_complaint_may_share_the_pseudonym(alice_client, alice):
    response = alice_client.post("/complaints/new/", {**GOOD, "identity": "named", "share_pseudonym": "on"})
    complaint = Complaint.objects.get()
    assert response.url == reverse("complaint", args=[complaint.number])
    assert complaint.reporter == alice and complaint.shared_pseudonym == alice.pseudonym
    assert "所属長から" in alice_client.get(response.url).content.decode()


def test_someone_elses_named_complaint_is_404(alice_client, bob):
    complaint, _code = services.file_complaint(
        user=bob.user, anonymous=False, what="pressured", involved_role="colleague", details="x"
    )
    assert alice_client.get(f"/complaints/{complaint.number}/").status_code == 404


@pytest.mark.parametrize(
    "data,message",
    [
        ({**GOOD, "details": "番号 1234 5678 9018"}, "マイナンバー"),
        ({**GOOD, "what": ""}, "選んでください"),
        ({**GOOD, "occurred_on": "2999-01-01"}, "未来"),
        ({**GOOD, "identity": ""}, "匿名"),
    ],
)
def test_bad_complaints_are_refused_with_a_message(alice_client, data, message):
    response = alice_client.post("/complaints/new/", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Complaint.objects.exists()


def test_a_signed_out_visitor_can_complain_anonymously_only(client, db):
    form = client.get("/complaints/new/").content.decode()
    assert 'value="named"' not in form and "share_pseudonym" not in form
    response = client.post("/complaints/new/", {**GOOD, "identity": "named"})
    assert response.status_code == 400 and not Complaint.objects.exists()
    response = client.post("/complaints/new/", GOOD)
    assert response.status_code == 200 and len(response.context["code"]) == 16
    assert Complaint.objects.get().reporter is None


def test_a_signed_in_account_without_an_employee_record_is_forbidden(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("x", "x@example.jp", "pw"))
    assert client.get("/complaints/new/").status_code == 403


def test_hr_and_administrators_have_no_way_to_complaints(client, hr, django_user_model, alice):
    complaint, _ = services.file_complaint(
        user=alice.user,
        anonymous=False,
        what="pressured",
        involved_role="hr",
        details="人事課から催促されました",
    )
    sign_in_with_mfa(client, hr.user)
    from django.urls import get_resolver

    paths = [
        p
        for p in ("/hr/", "/hr/queue/", "/hr/notices/", "/hr/explanation/", "/hr/roster/", "/hr/figures.csv")
    ]
    for path in paths:
        assert "人事課から催促" not in client.get(path).content.decode("utf-8-sig")
    for path in ("/union/", f"/union/complaints/{complaint.number}/", "/union/audit/", "/union/indicators/"):
        assert client.get(path).status_code == 403
    names = {name for name in get_resolver().reverse_dict if isinstance(name, str)}
    assert not any(name.startswith("admin:consent_complaint") for name in names)
    admin = django_user_model.objects.create_superuser("root", "root@example.jp", "x-long-password")
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(admin, generate_totp_secret())
    root = sign_in_with_mfa(Client(), admin)
    index = root.get("/admin/").content.decode()
    assert "complaint" not in index.lower() and "checkpoint" not in index.lower()
    assert root.get("/admin/consent/complaint/").status_code == 404


def test_no_admin_page_shows_a_complaint(client, alice, django_user_model):
    """Walk every changelist and change page the admin offers."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib import admin

    services.file_complaint(
        user=alice.user, anonymous=False, what="pressured", involved_role="hr", details="秘密の相談内容です"
    )
    root = django_user_model.objects.create_superuser("root", "root@example.jp", "x-long-password")
    TOTP.activate(root, generate_totp_secret())
    sign_in_with_mfa(client, root)
    paths = ["/admin/"]
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        paths.append(base)
        first = model.objects.order_by("pk").first()
        if first is not None:
            paths.append(f"{base}{first.pk}/change/")
    assert len(paths) > 8
    for path in paths:
        response = client.get(path)
        assert response.status_code in (200, 302, 403), path
        assert "秘密の相談内容" not in response.content.decode(), path


@pytest.mark.slow  # 100 password hashes
def test_wrong_codes_for_other_numbers_lock_nobody_else_out(alice_client, db):
    """The old global switch: 100 wrong codes from anyone locked every reporter out for an hour."""
    _response, code = file_anonymous(alice_client)
    stranger = Client()
    for n in range(100):
        number = f"{100000 + n:06d}" if f"{100000 + n:06d}" != code[:6] else "999999"
        assert stranger.post("/complaints/follow-up/", {"code": number + "0" * 10}).status_code == 400
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM consent_cache")
        assert cursor.fetchone()[0] == 0  # unknown numbers leave no state behind
    assert Complaint.objects.get().code_attempts == 0
    assert Client().post("/complaints/follow-up/", {"code": code}).status_code == 302


def test_the_limit_on_one_number_lifts_after_its_window_and_a_right_code_resets_it(alice_client, db):
    _response, code = file_anonymous(alice_client)
    wrong = code[:6] + ("0000000000" if code[6:] != "0000000000" else "1111111111")
    for _ in range(services.CODE_ATTEMPTS_PER_NUMBER):
        Client().post("/complaints/follow-up/", {"code": wrong})
    assert Client().post("/complaints/follow-up/", {"code": code}).status_code == 400
    later = timezone.now() + services.CODE_ATTEMPT_WINDOW + datetime.timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert Client().post("/complaints/follow-up/", {"code": code}).status_code == 302
    assert Complaint.objects.get().code_attempts == 0


def test_the_code_page_has_nothing_that_discards_the_code(alice_client):
    """Item: the language switch once posted away from the only copy of the code."""
    response, code = file_anonymous(alice_client)
    html = response.content.decode()
    assert code[:4] in html
    assert reverse("set_language") not in html and 'name="language"' not in html
    assert "書き留める" in html and "印刷" in html
    # Not kept in the browser's cache either, where the next user of the PC could find it.
    assert "no-store" in response["Cache-Control"]


def test_withdrawing_asks_for_confirmation_first(alice_client, db):
    _response, code = file_anonymous(alice_client)
    stranger = Client()
    stranger.post("/complaints/follow-up/", {"code": code})
    number = code[:6]
    detail = stranger.get(f"/complaints/{number}/").content.decode()
    withdraw_url = reverse("complaint_withdraw", args=[number])
    # The complaint's page only links to the confirmation; no form there withdraws.
    assert f'href="{withdraw_url}"' in detail and f'action="{withdraw_url}"' not in detail
    confirm = stranger.get(withdraw_url)
    assert confirm.status_code == 200
    assert f'action="{withdraw_url}"' in confirm.content.decode()
    assert Complaint.objects.get().status == "received"
    assert not AuditEvent.objects.filter(kind="complaint.status_changed").exists()
    stranger.post(withdraw_url)
    assert Complaint.objects.get().status == "withdrawn"
    event = AuditEvent.objects.get(kind="complaint.status_changed")
    assert json.loads(event.body)["payload"]["status"] == "withdrawn"
    # Once withdrawn, the confirmation is not offered again.
    assert stranger.get(withdraw_url).status_code == 302


def test_only_the_complaints_reporter_reaches_the_withdraw_confirmation(alice_client, bob):
    complaint, _code = services.file_complaint(
        user=bob.user, anonymous=False, what="other", involved_role="colleague", details="x"
    )
    assert alice_client.get(reverse("complaint_withdraw", args=[complaint.number])).status_code == 404
    assert Client().get(reverse("complaint_withdraw", args=[complaint.number])).status_code == 404
    assert alice_client.put(reverse("complaint_withdraw", args=[complaint.number])).status_code == 405
