"""The union's workspace: inbox, audit view, checkpoints, bundle, indicators."""

import io
import json
import re
import subprocess
import sys
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from consent import chain, services
from consent.models import AuditEvent, Checkpoint, Choice
from tests.conftest import acknowledge, decide, sign_in_with_mfa, unguard

UNION_GET_URLS = [
    "/union/",
    "/union/audit/",
    "/union/audit/?hr=1",
    "/union/indicators/",
    "/union/audit/export.zip",
]


@pytest.fixture
def union_client(client, union):
    return sign_in_with_mfa(client, union.user)


@pytest.fixture
def complaint(alice):
    item, _ = services.file_complaint(
        user=alice.user,
        anonymous=False,
        what="pressured",
        involved_role="head_of_unit",
        details="圧力がありました",
        office=alice.office,
        share_pseudonym=True,
    )
    return item


@pytest.mark.parametrize("path", UNION_GET_URLS)
def test_anonymous_is_sent_to_sign_in(client, db, path):
    assert client.get(path).status_code == 302


@pytest.mark.parametrize("path", UNION_GET_URLS)
def test_employees_and_hr_are_forbidden(alice_client, hr, path):
    assert alice_client.get(path).status_code == 403
    hr_client = sign_in_with_mfa(alice_client, hr.user)
    assert hr_client.get(path).status_code == 403


@pytest.mark.parametrize("path", UNION_GET_URLS)
def test_the_union_opens_every_page(union_client, complaint, path):
    assert union_client.get(path).status_code == 200


def test_inbox_filters(union_client, complaint, bob):
    services.file_complaint(
        user=bob.user, anonymous=True, what="other", involved_role="colleague", details="y"
    )
    assert union_client.get("/union/").context["page"].paginator.count == 2
    assert union_client.get("/union/?identity=anonymous").context["page"].paginator.count == 1
    assert union_client.get("/union/?role=head_of_unit").context["page"].paginator.count == 1
    assert union_client.get("/union/?status=resolved").context["page"].paginator.count == 0
    assert union_client.get("/union/?status=nonsense").status_code == 200


def test_status_messages_and_notes(union_client, complaint, alice):
    from django.test import Client

    alice_client = Client()
    alice_client.force_login(alice.user)
    union_client.post(f"/union/complaints/{complaint.number}/status/", {"status": "investigating"})
    union_client.post(
        f"/union/complaints/{complaint.number}/message/", {"body": "お話を聞かせてください", "internal": "0"}
    )
    union_client.post(f"/union/complaints/{complaint.number}/message/", {"body": "内部メモ", "internal": "1"})
    complaint.refresh_from_db()
    assert complaint.status == "investigating"
    page = alice_client.get(f"/complaints/{complaint.number}/").content.decode()
    assert "お話を聞かせてください" in page and "内部メモ" not in page and "調査中" in page
    kinds = list(AuditEvent.objects.filter(kind__startswith="complaint.").values_list("kind", flat=True))
    assert kinds == [
        "complaint.filed",
        "complaint.status_changed",
        "complaint.message_added",
        "complaint.note_added",
    ]


def test_a_shared_pseudonym_shows_the_reporters_decisions(union_client, complaint, alice):
    acknowledge(alice)
    decide(alice, Choice.OPT_IN)
    page = union_client.get(f"/union/complaints/{complaint.number}/").content.decode()
    assert alice.pseudonym in page and "一体化する" in page


def test_the_audit_view_verifies_and_filters(union_client, complaint, hr):
    hr_client = sign_in_with_mfa(type(union_client)(), hr.user)
    hr_client.get("/hr/queue/")
    response = union_client.get("/union/audit/?hr=1")
    assert response.context["result"].ok
    from consent.views.union import HR_ACTION_KINDS

    kinds = {e.kind for e in response.context["page"].object_list}
    assert "switchover.queue_opened" in kinds and kinds <= set(HR_ACTION_KINDS)
    assert union_client.get("/union/audit/?start=bad-date").status_code == 200


def test_a_checkpoint_saved_before_tampering_fails_afterwards(union_client, complaint):
    response = union_client.post("/union/audit/checkpoint/")
    text = response.content.decode()
    assert response["Content-Disposition"].startswith("attachment")
    checkpoint = Checkpoint.objects.get()
    assert f"{checkpoint.seq}:{checkpoint.entry_hash}" in text
    upload = {"file": SimpleUploadedFile("cp.txt", text.encode())}
    ok = union_client.post("/union/audit/verify-checkpoints/", upload)
    assert ok.status_code == 200 and "含まれています" in ok.content.decode()
    unguard("consent_auditevent")
    # Rewrite every event after the first, consistently: the chain alone still
    # verifies, and only the checkpoint the union kept shows the rewrite.
    prev = bytes.fromhex(AuditEvent.objects.get(seq=1).entry_hash)
    for event in AuditEvent.objects.filter(seq__gte=2).order_by("seq"):
        body = event.body.replace('"anonymous":false', '"anonymous":true').encode()
        leaf = chain.leaf_hash(body)
        entry = chain.entry_hash(prev, leaf)
        AuditEvent.objects.filter(pk=event.pk).update(
            body=body.decode(), leaf_hash=leaf.hex(), prev_hash=prev.hex(), entry_hash=entry.hex()
        )
        prev = entry
    from consent import audit

    assert audit.verify_database().ok
    bad = union_client.post(
        "/union/audit/verify-checkpoints/", {"file": SimpleUploadedFile("cp.txt", text.encode())}
    )
    html = bad.content.decode()
    assert "一致しません" in html and f"{checkpoint.seq}" in html and "checkpoint-mismatch" in html
    # In Japanese, with the verifier's English words kept behind a disclosure.
    assert "署名済みまたは保存済みのチェックポイントと一致しない" in html
    disclosure = r"<details><summary>検証プログラムの出力[^<]*</summary><p><code>checkpoint-mismatch:"
    assert re.search(disclosure, html)


def test_a_file_that_is_not_a_checkpoint_is_refused(union_client):
    response = union_client.post(
        "/union/audit/verify-checkpoints/", {"file": SimpleUploadedFile("x.txt", b"# saved\n\nhello")}
    )
    assert response.status_code == 400
    # The line is named in Japanese; the parser's English reason is not shown.
    html = response.content.decode()
    assert "3 行目はチェックポイントではありません" in html and "SEQ:HASH" not in html


def test_a_binary_file_is_refused_in_japanese_without_the_decoder_error(union_client):
    response = union_client.post(
        "/union/audit/verify-checkpoints/", {"file": SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\n")}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "テキストのファイルではありません" in html and "codec" not in html


def test_the_bundle_verifies_on_a_laptop_without_django(union_client, complaint, tmp_path):
    union_client.post("/union/audit/checkpoint/")
    response = union_client.get("/union/audit/export.zip")
    data = b"".join(response.streaming_content)
    zipfile.ZipFile(io.BytesIO(data)).extractall(tmp_path)
    assert {
        "events.jsonl",
        "checkpoints.txt",
        "verify_chain.py",
        "VERIFY.md",
        "checkpoint.txt",
        "log.vkey",
        "texts.jsonl",
    } <= {p.name for p in tmp_path.iterdir()}
    texts = [json.loads(line) for line in (tmp_path / "texts.jsonl").read_text().splitlines()]
    assert [t["kind"] for t in texts] == ["explanation"] and texts[0]["body_ja"]
    result = subprocess.run(
        [
            sys.executable,
            "-S",
            "verify_chain.py",
            "events.jsonl",
            "--checkpoints-file",
            "checkpoints.txt",
            "--checkpoint-note",
            "checkpoint.txt",
            "--key",
            "log.vkey",
            "--texts",
            "texts.jsonl",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK:")
    assert AuditEvent.objects.filter(kind="audit.exported").count() == 1


def test_indicators_flag_notices_and_never_name_people(union_client, hr, alice, complaint):
    services.publish_notice(user=hr.user, title="至急", body="必ず提出すること", accept_flagged=True)
    page = union_client.get("/union/indicators/").content.decode()
    assert "至急" in page and "<mark>必ず</mark>" in page
    assert alice.display_name not in page.split("<main")[1]


def test_the_audit_page_offers_no_office_filter(union_client, alice):
    """Bodies name no office or person, so no filter can pick out an office's events."""
    acknowledge(alice)
    response = union_client.get(f"/union/audit/?office={alice.office.code}")
    assert response.status_code == 200
    assert 'name="office"' not in response.content.decode()


def test_the_audit_page_says_why_employee_events_look_out_of_time_order(union_client):
    """Employee events carry the hour, role events the second: the page says so, in both
    languages, and says what the log does."""
    import datetime

    from consent.audit import body_time

    page = union_client.get("/union/audit/").content.decode()
    assert "1時間単位（分は切り捨て）で記録しています" in page
    assert "秒まで記録する" in page and "一覧の日時が前後して見えることがあります" in page
    english = union_client.get("/union/audit/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "rounded down to the hour" in english and "to the second" in english
    moment = datetime.datetime(2026, 11, 28, 10, 3, 27, 500, tzinfo=datetime.UTC)
    assert body_time(moment, hour=True) == moment.replace(minute=0, second=0, microsecond=0)
    assert body_time(moment, hour=False) == moment.replace(microsecond=0)


def test_a_reversed_date_range_is_named_in_the_users_language(union_client, alice):
    """A start after the end matched nothing in silence; now the page says why."""
    acknowledge(alice)
    reversed_range = union_client.get("/union/audit/?start=2026-05-02&end=2026-05-01")
    assert reversed_range.status_code == 200 and reversed_range.context["rows"] == []
    assert "開始日が終了日より後になっている" in reversed_range.content.decode()
    english = union_client.get("/union/audit/?start=2026-05-02&end=2026-05-01", HTTP_ACCEPT_LANGUAGE="en")
    assert "The start date is after the end date" in english.content.decode()
    for query in ("?start=2026-05-01&end=2026-05-01", "?start=2026-05-01", "?end=2026-05-01", ""):
        assert "開始日が終了日より後" not in union_client.get(f"/union/audit/{query}").content.decode(), query
