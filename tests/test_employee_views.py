"""The employee's pages: happy paths, refusals, and who may see what."""

import json

import pytest
from django.urls import reverse

from consent.models import AuditEvent, Choice, Decision
from tests.conftest import acknowledge, decide

PAGES = ["home", "explanation", "decision", "history"]


def test_anonymous_home_states_voluntary_first(client, db):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "任意" in html
    assert reverse("account_login") in html


@pytest.mark.parametrize(
    "path", ["/explanation/", "/decision/", "/history/", "/receipts/abc/", "/receipts/abc.json"]
)
def test_anonymous_is_sent_to_sign_in(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("path", ["/explanation/", "/decision/", "/history/"])
def test_an_account_without_an_employee_record_is_forbidden(client, django_user_model, path):
    user = django_user_model.objects.create_user("nobody", "nobody@example.jp", "x")
    client.force_login(user)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize(
    "path,method",
    [
        ("/", "post"),
        ("/explanation/", "post"),
        ("/explanation/acknowledge/", "get"),
        ("/history/", "post"),
        ("/decision/", "put"),
    ],
)
def test_wrong_method_is_405(alice_client, path, method):
    assert getattr(alice_client, method)(path).status_code == 405


def test_home_shows_status_and_leads_to_the_explanation(alice_client):
    html = alice_client.get("/").content.decode()
    assert "選択はまだ記録されていません" in html
    assert reverse("explanation") in html


def test_viewing_the_explanation_is_recorded_once_per_session(alice_client, alice, version1):
    response = alice_client.get("/explanation/")
    html = response.content.decode()
    assert response.status_code == 200
    for phrase in [
        "任意",
        "強制はできない",
        "不利益",
        "有効期限まで",
        "いつでも変更・撤回",
        "9.0%",
        "約1割",
        "マスキングカード",
        "10年",
        "千円程度",
        "個人番号（12桁）",
        "労働組合",
    ]:
        assert phrase in html, phrase
    # The acknowledgement box is never ticked in advance.
    assert 'name="understood"' in html and "checked" not in html.split('name="understood"')[1].split(">")[0]
    alice_client.get("/explanation/")
    events = AuditEvent.objects.filter(kind="explanation.viewed", seq__in=alice.openings.values("seq"))
    assert events.count() == 1
    assert json.loads(events.get().body)["payload"]["version"] == 1


def test_the_explanation_is_in_english_when_chosen(alice_client):
    alice_client.post("/i18n/setlang/", {"language": "en", "next": "/explanation/"})
    html = alice_client.get("/explanation/").content.decode()
    assert 'lang="en"' in html
    assert "this is voluntary" in html and "cannot be made compulsory" in html


def test_acknowledging_records_an_event_and_opens_the_decision(alice_client, alice, version1):
    response = alice_client.post("/explanation/acknowledge/", {"version": 1, "understood": "on"})
    assert response.status_code == 302 and response.url == reverse("decision")
    event = AuditEvent.objects.get(kind="explanation.acknowledged")
    assert alice.openings.get(seq=event.seq).employee == alice and event.subject.startswith("c:")
    assert alice_client.get("/decision/").status_code == 200


def test_acknowledging_without_the_tick_is_refused_and_changes_nothing(alice_client, alice):
    count = AuditEvent.objects.count()
    response = alice_client.post("/explanation/acknowledge/", {"version": 1})
    assert response.status_code == 400
    assert "チェックを入れて" in response.content.decode()
    assert AuditEvent.objects.count() == count
    assert not alice.acknowledgements.exists()


def test_acknowledging_a_superseded_version_is_refused(alice_client, alice):
    from consent import services
    from consent.explanation_text import shipped_version

    services.publish_explanation(actor="system", number=2, fields=shipped_version(1))
    response = alice_client.post("/explanation/acknowledge/", {"version": 1, "understood": "on"})
    assert response.status_code == 302 and response.url == reverse("explanation")
    assert not alice.acknowledgements.exists()


def test_the_explanation_shows_a_new_version_at_once(alice_client, alice):
    """The explanation's text is a shared part, keyed on the version's content."""
    from consent import services
    from consent.explanation_text import shipped_version

    first = alice_client.get("/explanation/").content.decode()
    services.publish_explanation(
        actor="system", number=2, fields={**shipped_version(1), "body_ja": "改訂された本文です。"}
    )
    second = alice_client.get("/explanation/").content.decode()
    assert "改訂された本文です。" in second and "改訂された本文です。" not in first


def test_the_decision_page_sends_the_unacknowledged_to_the_explanation(alice_client):
    response = alice_client.get("/decision/")
    assert response.status_code == 302 and response.url == reverse("explanation")


def test_a_crafted_decision_post_without_acknowledgement_changes_nothing(alice_client, alice):
    count = AuditEvent.objects.count()
    response = alice_client.post("/decision/", {"choice": "opt_in"})
    assert response.status_code == 302 and response.url == reverse("explanation")
    assert not Decision.objects.exists()
    assert AuditEvent.objects.count() == count
    alice.refresh_from_db()
    assert alice.current_choice == ""


def test_a_stale_acknowledgement_is_refused_after_a_new_version(alice_client, alice):
    from consent import services
    from consent.explanation_text import shipped_version

    acknowledge(alice)
    services.publish_explanation(actor="system", number=2, fields=shipped_version(1))
    response = alice_client.post("/decision/", {"choice": "opt_out"})
    assert response.status_code == 302 and response.url == reverse("explanation")
    assert not Decision.objects.exists()


def test_a_version_published_during_the_request_refuses_the_decision(alice_client, alice, monkeypatch):
    """The request's user read says the current version was confirmed; a new version is
    published right after it. The decision is refused all the same: the acknowledgement is
    looked for again under the employee's lock, not taken from the start of the request."""
    from consent import access, services
    from consent.explanation_text import shipped_version

    acknowledge(alice)
    read = access.user_with_roles

    def read_then_publish(user_id):
        user = read(user_id)
        assert user.employee.explanation_state.acknowledgement is not None
        services.publish_explanation(actor="system", number=2, fields=shipped_version(1))
        return user

    monkeypatch.setattr(access, "user_with_roles", read_then_publish)
    response = alice_client.post("/decision/", {"choice": "opt_out"})
    assert response.status_code == 302 and response.url == reverse("explanation")
    assert not Decision.objects.exists()


def test_the_decision_form_offers_three_equal_unselected_choices(alice_client, alice):
    acknowledge(alice)
    html = alice_client.get("/decision/").content.decode()
    radios = [part.split(">")[0] for part in html.split('type="radio"')[1:]]
    assert len(radios) == 3
    assert all("checked" not in radio for radio in radios)
    for value in ("opt_in", "opt_out", "undecided"):
        assert f'value="{value}"' in html
    assert html.count('class="choice"') == 3


def test_recording_a_decision_shows_the_receipt(alice_client, alice):
    acknowledge(alice)
    response = alice_client.post("/decision/", {"choice": "opt_out", "comment": ""}, follow=True)
    decision = Decision.objects.get()
    assert response.redirect_chain[-1][0] == reverse("receipt", args=[decision.receipt_id])
    html = response.content.decode()
    assert "記録しました" in html
    assert decision.entry_hash in html and str(decision.audit_seq) in html
    event = AuditEvent.objects.get(seq=decision.audit_seq)
    assert event.kind == "decision.recorded"
    assert json.loads(alice.openings.get(seq=event.seq).secret)["channel"] == "web"
    assert "web" not in event.body


def test_a_double_submission_records_one_decision(alice_client, alice):
    acknowledge(alice)
    alice_client.post("/decision/", {"choice": "opt_in"})
    response = alice_client.post("/decision/", {"choice": "opt_in"}, follow=True)
    assert Decision.objects.count() == 1
    assert "すでに" in response.content.decode()


def test_withdrawing_takes_the_same_single_step(alice_client, alice):
    acknowledge(alice)
    alice_client.post("/decision/", {"choice": "opt_in"})
    alice_client.post("/decision/", {"choice": "opt_out"})
    assert list(alice.decisions.values_list("choice", flat=True)) == ["opt_in", "opt_out"]


@pytest.mark.parametrize(
    "data,message",
    [
        ({}, "3つの選択肢"),
        ({"choice": "forced"}, "3つの選択肢"),
        ({"choice": "opt_out", "comment": "番号 123456789018"}, "マイナンバー"),
        ({"choice": "opt_out", "comment": "あ" * 1001}, "長すぎ"),
    ],
)
def test_bad_decision_input_gets_a_japanese_message_and_changes_nothing(alice_client, alice, data, message):
    acknowledge(alice)
    count = AuditEvent.objects.count()
    response = alice_client.post("/decision/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert AuditEvent.objects.count() == count
    assert not Decision.objects.exists()


def test_history_lists_decisions_oldest_first(alice_client, alice, django_assert_max_num_queries):
    acknowledge(alice)
    for choice in (Choice.UNDECIDED, Choice.OPT_IN, Choice.OPT_OUT):
        decide(alice, choice)
    with django_assert_max_num_queries(12):
        html = alice_client.get("/history/").content.decode()
    table = html[html.index("<tbody>") :]  # the page's introduction names the choices too
    positions = [table.index(label) for label in ("まだ決めていない<", "一体化する<", "一体化しない<")]
    assert positions == sorted(positions)


def test_history_is_paginated(alice_client, alice):
    acknowledge(alice)
    for i in range(21):
        decide(alice, [Choice.OPT_IN, Choice.OPT_OUT][i % 2])
    first = alice_client.get("/history/").content.decode()
    second = alice_client.get("/history/?page=2").content.decode()
    # Three links per decision: the receipt, its JSON and its proof.
    assert first.count("/receipts/") // 3 == 20
    assert second.count("/receipts/") // 3 == 1
    assert alice_client.get("/history/?page=999").status_code == 200


def test_history_is_empty_before_any_decision(alice_client):
    assert "まだ何も記録していません" in alice_client.get("/history/").content.decode()


def test_history_rows_are_each_employees_own(client, alice, bob):
    """Rows are built in Python (consent/history_rows.py): each person sees only their
    own decisions and events, whoever opened a history first."""
    seen = {}
    for employee, comment in ((alice, "alice's own note"), (bob, "bob's own note")):
        acknowledge(employee)
        decide(employee, Choice.OPT_IN, comment=comment)
        client.force_login(employee.user)
        client.get("/history/")
        seen[employee.pk] = client.get("/history/").content.decode()
    for employee, other in ((alice, bob), (bob, alice)):
        html = seen[employee.pk]
        for own in (employee.decisions.get(), *employee.openings.all()):
            assert (own.receipt_id if hasattr(own, "receipt_id") else own.salt) in html
        assert other.decisions.get().comment not in html
        assert other.decisions.get().receipt_id not in html
        assert all(opening.salt not in html for opening in other.openings.all())


def test_history_rows_follow_the_language(alice_client, alice):
    acknowledge(alice)
    decide(alice, Choice.OPT_IN)
    decide(alice, Choice.OPT_OUT)
    japanese = alice_client.get("/history/").content.decode()
    alice_client.cookies["django_language"] = "en"
    english = alice_client.get("/history/").content.decode()
    assert "撤回：一体化しない" in japanese and ">受付票<" in japanese
    assert "Withdrawal: Do not combine them (opt out)" in english and ">Receipt<" in english
    assert "撤回" not in english and "受付票" not in english
    # And the URL prefix the site is served under: the links are the prefix's own.
    from django.test.utils import override_script_prefix

    with override_script_prefix("/ledger/"):
        prefixed = alice_client.get("/history/").content.decode()
    assert 'href="/ledger/receipts/' in prefixed and 'href="/receipts/' not in prefixed


def test_a_comment_with_markup_is_shown_as_text_in_the_history(alice_client, alice):
    """The rows are written as HTML by hand (consent/history_rows.py): every value is escaped."""
    acknowledge(alice)
    decide(alice, Choice.OPT_IN, comment="<script>alert(\"x\")</script> & '引用'")
    html = alice_client.get("/history/").content.decode()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;引用&#x27;" in html
    # The events' secrets are JSON: their quotes are escaped too, as every other value.
    from html import escape

    for opening in alice.openings.all():
        assert f'<code class="hash small">{escape(opening.secret)}</code>' in html and '"' in opening.secret


def test_the_json_receipt_carries_what_an_employee_needs(alice_client, alice):
    acknowledge(alice)
    decision = decide(alice, Choice.OPT_IN)
    response = alice_client.get(f"/receipts/{decision.receipt_id}.json")
    assert response.status_code == 200
    data = response.json()
    assert data["receipt_id"] == decision.receipt_id
    assert data["choice"] == "opt_in"
    assert (data["audit"]["seq"], data["audit"]["entry_hash"]) == (decision.audit_seq, decision.entry_hash)
    assert data["explanation"]["version"] == 1 and len(data["explanation"]["content_hash"]) == 64
    assert data["pseudonym"] == alice.pseudonym
    assert "/decision/" in data["how_to_withdraw"]
    assert decision.entry_hash in data["how_to_verify"]


def test_someone_elses_receipt_is_404(alice_client, bob):
    acknowledge(bob)
    decision = decide(bob, Choice.OPT_OUT)
    assert alice_client.get(f"/receipts/{decision.receipt_id}/").status_code == 404
    assert alice_client.get(f"/receipts/{decision.receipt_id}.json").status_code == 404
    assert alice_client.get("/receipts/does-not-exist/").status_code == 404


def test_receipt_ids_are_unguessable(alice):
    acknowledge(alice)
    ids = {decide(alice, [Choice.OPT_IN, Choice.OPT_OUT][i % 2]).receipt_id for i in range(20)}
    assert len(ids) == 20
    assert all(len(receipt_id) >= 24 for receipt_id in ids)


@pytest.mark.parametrize(
    "path", ["/receipts/%00/", "/receipts/%00.json", "/complaints/%00/", "/history/?page=%00"]
)
def test_a_nul_byte_is_a_clear_400_not_a_500(alice_client, path):
    assert alice_client.get(path).status_code == 400


@pytest.mark.parametrize("version", ["", "x", "99999999999999999999"])
def test_a_garbled_version_sends_back_to_the_explanation_with_a_message(alice_client, alice, version):
    response = alice_client.post("/explanation/acknowledge/", {"version": version, "understood": "on"})
    assert response.status_code == 302 and response.url == reverse("explanation")
    assert not alice.acknowledgements.exists()
    page = alice_client.get(response.url).content.decode()
    assert "notice--warning" in page


def test_confirming_again_without_the_tick_goes_on_to_the_decision(alice_client, alice):
    acknowledge(alice)
    response = alice_client.post("/explanation/acknowledge/", {"version": 1})
    assert response.status_code == 302 and response.url == reverse("decision")
    assert alice.acknowledgements.count() == 1
