"""HR's workspace: access, figures without refusals, the queue, notices, explanation versions."""

import json

import pytest
from django.urls import reverse

from consent import audit, services
from consent.explanation_text import shipped_version
from consent.models import AuditEvent, Choice, Decision, Notice, Office, SwitchoverCase
from tests.conftest import acknowledge, decide, sign_in_with_mfa

HR_GET_URLS = [
    "/hr/",
    "/hr/figures.csv",
    "/hr/roster/",
    "/hr/queue/",
    "/hr/queue/?q=a",
    "/hr/explanation/",
    "/hr/notices/",
]


@pytest.fixture
def staff(make_employee):
    """Seven people in one office: two opt in, the rest refuse, hesitate or never answer."""
    people = {
        name: make_employee(f"staff-{name}", f"S{i:04d}")
        for i, name in enumerate(["in1", "in2", "out1", "out2", "undecided1", "silent1", "silent2"])
    }
    for name, person in people.items():
        if not name.startswith("silent"):
            acknowledge(person)
    decide(people["in1"], Choice.OPT_IN)
    decide(people["in2"], Choice.OPT_IN)
    decide(people["out1"], Choice.OPT_OUT)
    decide(people["out2"], Choice.OPT_IN)
    decide(people["out2"], Choice.OPT_OUT)  # withdrew
    decide(people["undecided1"], Choice.UNDECIDED)
    return people


@pytest.mark.parametrize("path", HR_GET_URLS)
def test_anonymous_is_sent_to_sign_in(client, db, path):
    response = client.get(path)
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("path", HR_GET_URLS)
def test_an_employee_is_forbidden(alice_client, path):
    assert alice_client.get(path).status_code == 403


@pytest.mark.parametrize("path", HR_GET_URLS)
def test_the_union_is_forbidden(client, union, path):
    sign_in_with_mfa(client, union.user)
    assert client.get(path).status_code == 403


def test_hr_without_a_code_this_session_is_asked_for_one(client, hr):
    client.force_login(hr.user)
    response = client.get("/hr/")
    assert response.status_code == 302 and response.url.startswith(reverse("mfa_reauthenticate"))


@pytest.mark.parametrize("path", HR_GET_URLS)
def test_hr_opens_every_page(hr_client, staff, path):
    assert hr_client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/hr/", "/hr/queue/", "/hr/figures.csv"])
def test_wrong_method_is_405(hr_client, path):
    assert hr_client.post(path).status_code == 405


def test_no_hr_page_or_export_names_anyone_who_did_not_opt_in(hr_client, staff):
    hidden = [p for name, p in staff.items() if not name.startswith("in")]
    for path in HR_GET_URLS + ["/hr/queue/?q=staff", "/hr/queue/?q=S000"]:
        body = hr_client.get(path).content.decode("utf-8-sig")
        for person in hidden:
            assert person.display_name not in body, (path, person.display_name)
            assert person.employee_number not in body, (path, person.employee_number)
            assert person.user.email not in body


def test_a_withdrawal_turns_work_in_progress_into_a_revert(hr_client, staff):
    html = hr_client.get("/hr/queue/").content.decode()
    assert "staff-in1" in html and "staff-in2" in html
    # out2 withdrew before any card work: the case closed and left no trace in the queue.
    assert "staff-out2" not in html
    case = SwitchoverCase.objects.get(employee=staff["in1"])
    hr_client.post(f"/hr/queue/{case.pk}/step/", {"step": "card_received"})
    decide(staff["in1"], Choice.UNDECIDED)
    revert = SwitchoverCase.objects.get(employee=staff["in1"], closed_at=None)
    assert revert.kind == "revert"
    html = hr_client.get("/hr/queue/").content.decode()
    assert "staff-in1" in html and "元に戻す" in html


def test_each_opening_of_the_queue_is_an_audit_event(hr_client, hr, staff):
    hr_client.get("/hr/queue/")
    hr_client.get("/hr/queue/?q=x")
    events = AuditEvent.objects.filter(kind="switchover.queue_opened")
    assert events.count() == 2
    assert json.loads(events.last().body)["actor"] == audit.staff_identity(hr.user)


def test_steps_are_recorded_in_order_as_audit_events(hr_client, staff):
    case = SwitchoverCase.objects.get(employee=staff["in1"])
    response = hr_client.post(f"/hr/queue/{case.pk}/step/", {"step": "old_id_returned"}, follow=True)
    assert "順番" in response.content.decode()
    for step in ("card_received", "data_installed", "old_id_returned"):
        hr_client.post(f"/hr/queue/{case.pk}/step/", {"step": step})
    case.refresh_from_db()
    assert case.closed_at is not None and list(case.steps_done) == [
        "card_received",
        "data_installed",
        "old_id_returned",
    ]
    events = AuditEvent.objects.filter(
        kind="switchover.step_recorded", seq__in=staff["in1"].openings.values("seq")
    )
    assert [json.loads(e.body)["payload"]["step"] for e in events] == [
        "card_received",
        "data_installed",
        "old_id_returned",
    ]
    assert hr_client.post(f"/hr/queue/{case.pk}/step/", {"step": "card_received"}).status_code == 404


def test_hr_cannot_create_or_change_a_decision_through_any_hr_path(hr_client, staff, alice):
    acknowledge(alice)
    before = list(Decision.objects.values_list("pk", "choice"))
    case = SwitchoverCase.objects.get(employee=staff["in1"])
    for path, data in [
        (f"/hr/queue/{case.pk}/step/", {"step": "card_received", "choice": "opt_in", "employee": alice.pk}),
        (
            "/hr/notices/",
            {"title": "t", "body": "b", "choice": "opt_in", "employee": alice.pk, "action": "publish"},
        ),
        ("/hr/explanation/", {"choice": "opt_in", "employee": alice.pk, "action": "publish"}),
        ("/hr/roster/confirm/", {"choice": "opt_in", "employee": alice.pk}),
    ]:
        hr_client.post(path, data)
    assert list(Decision.objects.values_list("pk", "choice")) == before
    alice.refresh_from_db()
    assert alice.current_choice == ""


def test_the_dashboard_suppresses_small_cells(hr_client, staff):
    html = hr_client.get("/hr/").content.decode()
    assert "秘匿" in html
    assert "一体化しない" in html


def test_the_dashboard_query_count_does_not_grow(hr_client, make_employee, django_assert_max_num_queries):
    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert hr_client.get("/hr/").status_code == 200
        return len(captured)

    small = count_queries()
    for i in range(12):
        office = Office.objects.create(code=f"9{i:02d}", name=f"事務所{i}", parent=Office.objects.first())
        person = make_employee(f"p{i}", f"P{i:04d}")
        person.office = office
        person.save()
        acknowledge(person)
        decide(person, [Choice.OPT_IN, Choice.OPT_OUT, Choice.UNDECIDED][i % 3])
    assert count_queries() == small


def test_the_csv_export_opens_in_japanese_excel(hr_client, staff):
    response = hr_client.get("/hr/figures.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    text = response.content.decode("utf-8-sig")
    assert "組織全体" in text and "秘匿" in text
    assert AuditEvent.objects.filter(kind="hr.figures_exported").count() == 1


def test_notice_with_compulsion_wording_is_flagged_before_publishing(hr_client):
    data = {"title": "切替について", "body": "全員必ず提出すること。", "action": "publish"}
    response = hr_client.post("/hr/notices/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "<mark>必ず</mark>" in html and "<mark>提出すること</mark>" in html
    assert not Notice.objects.exists()
    response = hr_client.post("/hr/notices/", {**data, "accept_flagged": "on"})
    notice = Notice.objects.get()
    assert notice.flagged and notice.flagged_words == ["必ず", "提出すること"]
    event = AuditEvent.objects.get(kind="notice.published")
    assert json.loads(event.body)["payload"]["content_hash"] == notice.content_hash
    from consent.chain import digest

    assert notice.content_hash == digest({"title": data["title"], "body": data["body"], "offices": []})


def test_english_compulsion_words_match_whole_words(hr_client):
    from consent.wording import flagged_words

    assert flagged_words("You must apply") == ["must"]
    assert flagged_words("Mustard is not required") == ["required"]


def test_a_clean_notice_reaches_its_office_with_the_standard_statement(hr_client, alice, bob, make_employee):
    other = Office.objects.create(code="300", name="別の事務所")
    carol = make_employee("carol", "E0003")
    carol.office = other
    carol.save()
    hr_client.post(
        "/hr/notices/",
        {
            "title": "説明会のご案内",
            "body": "説明会を開きます。",
            "offices": [alice.office.code],
            "action": "publish",
        },
    )
    notice = Notice.objects.get()
    assert not notice.flagged
    from django.test import Client

    for person, sees in ((alice, True), (carol, False)):
        viewer = Client()
        viewer.force_login(person.user)
        html = viewer.get("/").content.decode()
        assert ("説明会のご案内" in html) is sees
        if sees:
            assert "一体化は任意です" in html


def test_an_empty_notice_names_the_missing_fields(hr_client):
    html = hr_client.post("/hr/notices/", {"action": "publish"}).content.decode()
    assert "件名: " in html and "本文: " in html


def test_a_notice_with_a_my_number_is_refused(hr_client):
    response = hr_client.post(
        "/hr/notices/", {"title": "t", "body": "番号 123456789018", "action": "publish"}
    )
    assert response.status_code == 400
    assert not Notice.objects.exists()


def test_publishing_a_new_explanation_version(hr_client, alice):
    acknowledge(alice)
    decide(alice, Choice.OPT_OUT)
    fields = shipped_version(1)
    response = hr_client.post("/hr/explanation/", {**fields, "action": "publish"})
    assert response.status_code == 302
    event = AuditEvent.objects.filter(kind="explanation.published").last()
    assert json.loads(event.body)["payload"]["version"] == 2
    with pytest.raises(services.NotAcknowledged):
        decide(alice, Choice.OPT_IN)
    assert alice.decisions.get().explanation_version.number == 1


@pytest.mark.parametrize(
    "lang,remove",
    [
        ("ja", ["任意"]),
        ("ja", ["不利益"]),
        ("en", ["until its expiry", "until expiry"]),
        ("ja", ["有効期限まで"]),
        ("en", ["individual number", "My Number"]),
        ("ja", ["いつでも変更", "いつでも撤回"]),
    ],
)
def test_a_version_that_drops_a_required_statement_is_refused(hr_client, lang, remove):
    fields = shipped_version(1)
    for name in ("title", "body", "acknowledgement"):
        for phrase in remove:
            fields[f"{name}_{lang}"] = fields[f"{name}_{lang}"].replace(phrase, "")
    response = hr_client.post("/hr/explanation/", {**fields, "action": "publish"})
    assert response.status_code == 400
    assert "公開されていません" in response.content.decode()
    assert AuditEvent.objects.filter(kind="explanation.published").count() == 1


@pytest.mark.parametrize("offices", [["999999999999999999999"], ["no-such-office"]])
def test_an_unknown_office_is_a_form_error(hr_client, offices):
    response = hr_client.post(
        "/hr/notices/", {"title": "t", "body": "b", "offices": offices, "action": "publish"}
    )
    assert response.status_code == 400 and not Notice.objects.exists()
