"""One error pattern on every form: a summary at the top (role=alert, a heading,
every item a link to its field), and each field's message between its label and
its input, named by the input's aria-describedby. Too-long input is refused with
a message, never cut short; a comment is never dropped without a word."""

import re

import pytest
from django.test import Client

from consent.models import AuditEvent, Choice, Complaint, Decision
from consent.services import COMMENT_MAX_LENGTH
from tests.conftest import acknowledge, decide, sign_in_with_mfa

SUMMARY = re.compile(
    r'<div class="notice notice--error error-summary" role="alert">\s*<h2[^>]*>.*?</h2>(.*?)</div>', re.S
)


def assert_error_pattern(html):
    summaries = SUMMARY.findall(html)
    assert summaries, html[:3000]
    for summary in summaries:
        items = re.findall(r"<li>(.*?)</li>", summary, re.S)
        assert items
        for item in items:
            anchor = re.fullmatch(r'<a href="#([^"]+)">.+</a>', item.strip(), re.S)
            assert anchor, item
            assert f'id="{anchor.group(1)}"' in html, f"the summary links to a missing #{anchor.group(1)}"
    messages = re.findall(r'<p class="field__error" id="([^"]+)-error">', html)
    assert messages
    for field_id in messages:
        assert re.search(rf'aria-describedby="[^"]*\b{field_id}-error\b', html), field_id
        at = html.index(f'id="{field_id}-error"')
        before = re.search(rf'<(label for="{field_id}(?:_0)?"|legend)', html[:at])
        # A tick box sits inside its label: the message comes just above both.
        checkbox = re.match(rf'[^<]*</p>\s*<label class="checkbox" for="{field_id}">', html[at + 20 :])
        assert before or checkbox, f"the message of {field_id} is not between its label and its input"


def test_the_explanations_acknowledgement_error_is_summarised_at_the_top(alice_client, version1):
    response = alice_client.post("/explanation/acknowledge/", {"version": version1.number})
    html = response.content.decode()
    assert response.status_code == 400
    assert_error_pattern(html)
    summary = html.index("error-summary")
    assert summary < html.index("<article"), "the summary must come before the long text"
    assert 'href="#id_understood"' in html[summary:]


def test_the_decision_forms_choice_error_links_to_the_first_option(alice_client, alice):
    acknowledge(alice)
    html = alice_client.post("/decision/", {"comment": ""}).content.decode()
    assert_error_pattern(html)
    assert 'href="#id_choice_0"' in html


def test_the_complaint_forms_summary_items_are_links(alice_client):
    response = alice_client.post("/complaints/new/", {"details": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert_error_pattern(html)
    for anchor in ("id_what_0", "id_involved_role_0", "id_details", "id_identity_0"):
        assert f'href="#{anchor}"' in html


def test_the_notice_form_separates_label_message_and_input(hr_client):
    response = hr_client.post("/hr/notices/", {"title": "", "body": "", "action": "publish"})
    assert response.status_code == 400
    html = response.content.decode()
    assert_error_pattern(html)
    assert re.search(
        r'<label for="id_title">[^<]+</label>\s*'
        r'<p class="field__error" id="id_title-error">[^<]+</p>\s*<input',
        html,
    )


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/hr/explanation/", {"action": "preview"}),
        ("/hr/roster/", {"encoding": ""}),
    ],
)
def test_every_hr_form_uses_the_pattern(hr_client, url, data):
    assert_error_pattern(hr_client.post(url, data).content.decode())


def test_the_sign_in_pages_use_the_pattern(db, alice):
    assert_error_pattern(Client().post("/accounts/login/", {"login": "", "password": ""}).content.decode())
    assert_error_pattern(Client().post("/accounts/password/reset/", {"email": ""}).content.decode())


def test_the_complaint_pages_use_the_pattern(alice_client, union):
    assert_error_pattern(Client().post("/complaints/follow-up/", {"code": ""}).content.decode())
    alice_client.post(
        "/complaints/new/", {"what": "other", "involved_role": "other", "details": "x", "identity": "named"}
    )
    number = Complaint.objects.get().number
    assert_error_pattern(alice_client.post(f"/complaints/{number}/reply/", {"body": ""}).content.decode())
    union_client = sign_in_with_mfa(Client(), union.user)
    response = union_client.post(f"/union/complaints/{number}/message/", {"body": "x" * 5001})
    assert response.status_code == 400
    html = response.content.decode()
    assert_error_pattern(html)
    assert "x" * 5001 in html, "the union's text stays in the box"
    assert_error_pattern(union_client.post("/union/witness/key/", {"vkey": ""}).content.decode())


def test_no_input_is_cut_short_by_the_browser(alice_client, alice, hr_client):
    acknowledge(alice)
    for page in ("/decision/", "/complaints/new/"):
        assert "maxlength" not in alice_client.get(page).content.decode()
    for page in ("/hr/notices/", "/hr/explanation/", "/hr/queue/"):
        assert "maxlength" not in hr_client.get(page).content.decode()


def test_a_too_long_comment_is_refused_with_a_message_not_cut(alice_client, alice):
    acknowledge(alice)
    comment = "あ" * (COMMENT_MAX_LENGTH + 1)
    response = alice_client.post("/decision/", {"choice": Choice.OPT_OUT, "comment": comment})
    assert response.status_code == 400
    html = response.content.decode()
    assert f"{COMMENT_MAX_LENGTH}文字" in html and comment in html
    assert not Decision.objects.exists()


def test_a_too_long_queue_search_is_refused_with_a_message_not_cut(hr_client):
    response = hr_client.get("/hr/queue/", {"q": "a" * 101})
    assert response.status_code == 400
    html = response.content.decode()
    assert_error_pattern(html)
    assert "100 文字以下" in html


def test_a_comment_with_an_unchanged_choice_is_not_dropped_silently(alice_client, alice):
    acknowledge(alice)
    decide(alice, Choice.OPT_OUT)
    events = AuditEvent.objects.count()
    response = alice_client.post("/decision/", {"choice": Choice.OPT_OUT, "comment": "家族と相談しました"})
    assert response.status_code == 400
    html = response.content.decode()
    assert_error_pattern(html)
    assert "このコメントは保存されていません" in html
    assert "家族と相談しました</textarea>" in html, "what the person typed stays in the box"
    assert AuditEvent.objects.count() == events and Decision.objects.count() == 1


def test_a_double_submission_with_its_comment_just_goes_to_the_history(alice_client, alice):
    acknowledge(alice)
    first = alice_client.post("/decision/", {"choice": Choice.OPT_OUT, "comment": "相談済み"})
    assert first.status_code == 302
    again = alice_client.post("/decision/", {"choice": Choice.OPT_OUT, "comment": "相談済み"})
    assert again.status_code == 302 and again["Location"] == "/history/"
    assert Decision.objects.count() == 1


def test_a_refused_checkpoint_file_shows_the_error_pattern_with_the_upload_again(union):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = sign_in_with_mfa(Client(), union.user).post(
        "/union/audit/verify-checkpoints/", {"file": SimpleUploadedFile("x.txt", b"hello")}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert_error_pattern(html)
    # The officer can choose another file right there.
    assert 'action="/union/audit/verify-checkpoints/"' in html and 'type="file"' in html
