"""HR's workspace: access, figures without refusals, the queue, notices, explanation versions."""

import csv
import datetime
import io
import json
import re
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from consent import audit, figures, services
from consent.explanation_text import shipped_version
from consent.models import (
    AuditEvent,
    Choice,
    Decision,
    Employee,
    FigureSnapshot,
    Notice,
    Office,
    RosterPreview,
    SwitchoverCase,
)
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
    figures.publish_snapshot()
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


def test_a_hidden_rate_reads_hidden_on_the_page_and_in_the_export(hr_client, make_employee):
    """A suppressed rate was "—" on the page but 秘匿 in the CSV; the page explains 秘匿 only."""
    for i in range(3):
        person = make_employee(f"few-{i}", f"F{i:04d}")
        acknowledge(person)
        decide(person, Choice.OPT_IN)
    figures.publish_snapshot()
    html = hr_client.get("/hr/").content.decode()
    assert "「秘匿」は、" in html
    rates = re.findall(r'<p class="status-card__value">([^<]*)</p>', html)
    assert rates[1] == "秘匿"
    table = html.split('id="office-heading"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    assert rows and all(re.findall(r'<td class="num">([^<]*)</td>', row)[-1] == "秘匿" for row in rows)
    assert "—" not in table
    text = hr_client.get("/hr/figures.csv").content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))[1:]
    assert lines and all(line[-1] == "秘匿" for line in lines)


def test_no_hr_page_publishes_figures(hr_client, staff):
    """Only the timer's command publishes: nothing HR opens or submits makes a snapshot."""
    before = list(FigureSnapshot.objects.values_list("pk", flat=True))
    for path in HR_GET_URLS:
        hr_client.get(path)
        hr_client.post(path, {"action": "publish"})
    assert list(FigureSnapshot.objects.values_list("pk", flat=True)) == before


def test_the_dashboard_says_when_the_figures_were_published_and_when_next(hr_client, staff, settings):
    settings.FIGURES_RELEASE_TIMES = [datetime.time(6), datetime.time(18)]
    figures.publish_snapshot(now=timezone.make_aware(datetime.datetime(2026, 11, 27, 6, 0)))
    with mock.patch(
        "django.utils.timezone.now", return_value=timezone.make_aware(datetime.datetime(2026, 11, 27, 9, 30))
    ):
        html = hr_client.get("/hr/").content.decode()
    assert "2026年11月27日 06:00 時点の集計" in html
    assert "次回の公開は 2026年11月27日 18:00 です" in html


def test_before_the_first_publication_hr_sees_no_figures(hr_client, alice):
    acknowledge(alice)
    decide(alice, Choice.OPT_OUT)
    html = hr_client.get("/hr/").content.decode()
    assert "集計はまだ公開されていません" in html
    assert "次回の公開は" in html
    assert "組織全体" not in html
    response = hr_client.get("/hr/figures.csv", follow=True)
    assert response.redirect_chain == [("/hr/", 302)]
    assert "ダウンロードできる集計はまだありません" in response.content.decode()
    assert not AuditEvent.objects.filter(kind="hr.figures_exported").exists()


def test_the_dashboard_reads_a_snapshot_in_a_fixed_number_of_queries(
    hr_client, make_employee, django_assert_max_num_queries
):
    figures.publish_snapshot()
    with django_assert_max_num_queries(13):  # a snapshot's first view also reads its office rows
        assert hr_client.get("/hr/").status_code == 200
    parent = Office.objects.first()
    for i in range(12):
        office = Office.objects.create(code=f"9{i:02d}", name=f"事務所{i}", parent=parent)
        person = make_employee(f"p{i}", f"P{i:04d}")
        services.provision_employee(
            email=person.user.email,
            display_name=person.display_name,
            employee_number=person.employee_number,
            office=office,
        )
        acknowledge(person)
        decide(person, [Choice.OPT_IN, Choice.OPT_OUT, Choice.UNDECIDED][i % 3])
        figures.publish_snapshot(now=timezone.now() - datetime.timedelta(weeks=12 - i))
    with django_assert_max_num_queries(13):
        assert hr_client.get("/hr/").status_code == 200
    with django_assert_max_num_queries(13):  # the export is also an audit event
        assert hr_client.get("/hr/figures.csv").status_code == 200


def test_the_csv_export_opens_in_japanese_excel(hr_client, staff):
    response = hr_client.get("/hr/figures.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    text = response.content.decode("utf-8-sig")
    assert "組織全体" in text and "秘匿" in text and "集計時点" in text
    event = AuditEvent.objects.get(kind="hr.figures_exported")
    assert json.loads(event.body)["payload"] == {"snapshot": 1}


# --- attacks on the figures -----------------------------------------------------------------------

HEADER = "職員番号,氏名,メールアドレス,事務所コード,事務所名,上位事務所コード,在職"


def roster_upload(client, lines):
    data = "\n".join([HEADER, *lines]).encode("cp932")
    client.post("/hr/roster/", {"file": SimpleUploadedFile("roster.csv", data), "encoding": ""})
    sha = RosterPreview.objects.get(token=client.session["hr_roster_upload"]).sha256
    client.post("/hr/roster/confirm/", {"sha256": sha})


def csv_figures(client):
    """The exported table without its "as of" column: what HR would compare."""
    rows = list(csv.reader(io.StringIO(client.get("/hr/figures.csv").content.decode("utf-8-sig"))))
    return [row[1:] for row in rows]


@pytest.fixture
def office_staff(make_employee, hr):
    """24 staff beside the HR officer, in one office: 8 opted out, 8 undecided, 4 opted in, 4 silent."""
    pattern = [Choice.OPT_OUT, Choice.OPT_OUT, Choice.OPT_IN, Choice.UNDECIDED, None, Choice.UNDECIDED]
    people = [make_employee(f"t{i:02d}", f"T{i:04d}") for i in range(24)]
    for person, choice in zip(people, pattern * 4, strict=True):
        if choice:
            acknowledge(person)
            decide(person, choice)
    return people


def test_attack_deactivate_one_person_by_roster_export_reactivate_export(hr_client, hr, office_staff):
    """Attack 2: HR removes one person from the roster and compares the exports around it."""
    target = office_staff[0]  # opted out
    everyone = [hr, *office_staff]
    lines = [
        f"{p.employee_number},{p.display_name},{p.user.email},200,名古屋国道事務所,,{int(active)}"
        for p in everyone
        for active in [p != target]
    ]
    figures.publish_snapshot()
    before = csv_figures(hr_client)
    roster_upload(hr_client, lines)
    target.refresh_from_db()
    assert not target.is_active
    figures.publish_snapshot()
    without = csv_figures(hr_client)
    roster_upload(hr_client, [line[:-1] + "1" for line in lines])
    target.refresh_from_db()
    assert target.is_active
    figures.publish_snapshot()
    assert before == without == csv_figures(hr_client)
    organisation = next(row for row in before if row[0] == "" and row[1] == "組織全体")
    assert organisation[4] == "8"  # the opt-outs are shown: the figure could have moved


def test_attack_one_withdrawal_between_two_views_moves_nothing(hr_client, office_staff):
    """Attack 2, passively: an opted-in person with no card work withdraws between two publications."""
    figures.publish_snapshot()
    before = csv_figures(hr_client)
    html_before = hr_client.get("/hr/").content.decode()
    decide(office_staff[2], Choice.OPT_OUT)
    figures.publish_snapshot()
    assert csv_figures(hr_client) == before
    assert _figures_part(hr_client.get("/hr/").content.decode()) == _figures_part(html_before)


def _figures_part(html):
    return html[html.index('id="org-heading"') : html.index('id="reference-heading"')]


def test_k_people_making_the_same_change_move_the_figures(hr_client, office_staff):
    figures.publish_snapshot()
    before = figures.latest().organisation.counts["opt_out"]
    undecided = [office_staff[3], office_staff[5], office_staff[9]]
    for person in [*undecided, office_staff[2]]:
        decide(person, Choice.OPT_OUT)  # three from undecided, one from opt-in: two different changes
    figures.publish_snapshot()
    assert figures.latest().organisation.counts["opt_out"] == before
    extra = [
        services.provision_employee(
            email=f"x{i}@example.jp",
            display_name=f"x{i}",
            employee_number=f"X{i:04d}",
            office=office_staff[0].office,
        )
        for i in range(2)
    ]
    for person in extra:
        acknowledge(person)
        decide(person, Choice.UNDECIDED)
    figures.publish_snapshot()  # two joined and decided: too few alike, still nothing
    assert figures.latest().organisation.counts["opt_out"] == before
    for person in extra:
        decide(person, Choice.OPT_OUT)
    figures.publish_snapshot()  # joined as opt-out: the two, with nobody alike, stay unpublished
    assert figures.latest().organisation.counts["opt_out"] == before
    more = [
        services.provision_employee(
            email=f"y{i}@example.jp",
            display_name=f"y{i}",
            employee_number=f"Y{i:04d}",
            office=office_staff[0].office,
        )
        for i in range(3)
    ]
    for person in more:
        acknowledge(person)
        decide(person, Choice.OPT_OUT)
    figures.publish_snapshot()  # five joined and opted out: published together
    assert figures.latest().organisation.counts["opt_out"] == before + 5


def test_attack_the_trend_cannot_show_what_the_office_table_hides(hr_client, make_employee):
    """Attack 1: the trend's organisation row minus the office rows shown must not give a hidden office."""
    root = Office.objects.get(code="200")
    offices = {
        "A": Office.objects.create(code="A", name="小さな事務所"),
        "B": Office.objects.create(code="B", name="大きな事務所"),
    }
    offices["C1"] = Office.objects.create(code="C1", name="課1", parent=offices["B"])
    offices["C2"] = Office.objects.create(code="C2", name="課2", parent=offices["B"])
    plan = {
        root: [Choice.OPT_IN] * 6,
        offices["A"]: [Choice.OPT_IN] * 5 + [Choice.OPT_OUT, None, None],
        offices["C1"]: [Choice.OPT_OUT] * 8 + [Choice.UNDECIDED] * 6 + [None] * 6 + [Choice.OPT_IN] * 5,
        offices["C2"]: [Choice.OPT_OUT] * 8 + [Choice.UNDECIDED] * 6 + [None] * 6 + [Choice.OPT_IN] * 5,
    }
    for office, choices in plan.items():
        for choice in choices:
            n = Employee.objects.count()
            person = services.provision_employee(
                email=f"w{n}@example.jp", display_name=f"w{n}", employee_number=f"W{n:04d}", office=office
            )
            if choice:
                acknowledge(person)
                decide(person, choice)
    last_week = timezone.now() - datetime.timedelta(weeks=1)
    figures.publish_snapshot(now=last_week)
    figures.publish_snapshot()
    response = hr_client.get("/hr/")
    published = response.context["published"]
    shown = {row.office.code: row.figure for row in published.rows}
    assert shown["A"].counts["opt_out"] is None
    # HR knows office 200: six people whose cards it processes, and the HR officer herself. So any
    # organisation opt-out count printed anywhere, trend included, minus B's gives A's.
    organisation_figures = [published.organisation] + [figure for _week, figure in response.context["weeks"]]
    for figure in organisation_figures:
        if figure.counts["opt_out"] is not None and shown["B"].counts["opt_out"] is not None:
            pytest.fail(f"office A opted out: {figure.counts['opt_out'] - shown['B'].counts['opt_out']}")
    assert [week for week, _figure in response.context["weeks"]] == [figures.week_start(last_week)]


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
    assert flagged_words("Mustard is required") == ["required"]


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
    assert "件名：" in html and "本文：" in html


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


def test_a_snapshots_office_table_is_rendered_once_and_a_new_snapshot_reads_its_own(
    hr_client, staff, django_assert_max_num_queries
):
    """The office table (thousands of rows in a ministry) is read and rendered once per snapshot
    and language, then comes from the cache; the next release reads and shows its own rows."""

    def view():
        with django_assert_max_num_queries(20) as captured:
            html = hr_client.get("/hr/").content.decode()
        rows_read = [
            q
            for q in captured.captured_queries
            if 'JOIN "consent_office" ON ("consent_figurerow"' in q["sql"]
        ]
        return html[html.index("<table") : html.index("</table>")], len(rows_read)

    first, reads = view()
    assert reads == 1
    assert view() == (first, 0)
    figures.publish_snapshot()
    assert view()[1] == 1
    # Each language has its own table: English is read and rendered afresh, not Japanese reused.
    hr_client.cookies["django_language"] = "en"
    english, reads = view()
    assert reads == 1 and "Decisions by office" in english and "Decisions by office" not in first
