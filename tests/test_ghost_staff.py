"""No ghost staff (issue #7, attack 3).

HR imports the roster. A row with an address HR controls would get the
invitation, and HR could then set a password and record decisions that
count. Addresses must be in the organisation's domains, and a new account
that decides at once shows up, per office and suppressed, on the union's
indicators page.
"""

import datetime
from pathlib import Path
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone

from consent import indicators, roster, services
from consent.models import AuditEvent, Choice, Employee, RosterPreview
from tests.conftest import acknowledge, decide, production_env, sign_in_with_mfa, start_django

ROOT = Path(__file__).resolve().parents[1]
HEADER = "職員番号,氏名,メールアドレス,事務所コード,事務所名,上位事務所コード,在職"
# The file is the whole staff: HR and the union officer stay active.
STAFF = [
    "E0100,hana,hana@example.jp,200,名古屋国道事務所,,1",
    "E0200,ichiro,ichiro@example.jp,200,名古屋国道事務所,,1",
]
OFFICE = "200,名古屋国道事務所,,1"


def roster_with(*lines):
    return "\n".join([HEADER, *STAFF, *lines]).encode("utf-8")


def upload(client, data):
    return client.post("/hr/roster/", {"file": SimpleUploadedFile("roster.csv", data), "encoding": ""})


def confirm(client):
    sha = RosterPreview.objects.get(token=client.session["hr_roster_upload"]).sha256
    return client.post("/hr/roster/confirm/", {"sha256": sha}, follow=True)


@pytest.fixture
def union_client(union):
    # Its own client: the tests also use HR's, and one client holds one session.
    return sign_in_with_mfa(Client(), union.user)


def ghost_rows(response):
    """The rows of the new-accounts indicator, as the union's page computes them."""
    return response.context["new_accounts"]


def test_attack_3_hr_imports_a_row_with_an_address_it_controls_and_is_refused(hr_client, hr):
    employees, events = Employee.objects.count(), AuditEvent.objects.count()
    response = upload(hr_client, roster_with(f"G0001,幽霊 太郎,hana.private@gmail.com,{OFFICE}"))
    assert response.status_code == 400
    html = response.content.decode()
    refusal = "hana.private@gmail.com は、組織のメールドメイン（example.jp, demo.example.jp）の"
    assert refusal in html
    assert ">4<" in html  # the line of the file, so HR can find it
    assert Employee.objects.count() == employees and AuditEvent.objects.count() == events
    assert "hr_roster_upload" not in hr_client.session


def test_parsing_names_the_line_and_column_of_an_outside_address(db):
    parsed = roster.parse_roster(roster_with("G0001,幽霊,ghost@Example.JP.evil.test,200,名古屋国道事務所,,1"))
    assert [(e.line, e.column) for e in parsed.errors] == [(4, "メールアドレス")]
    assert roster.parse_roster(roster_with("G0001,幽霊,ghost@EXAMPLE.JP,200,名古屋国道事務所,,1")).ok


def test_provisioning_refuses_an_outside_address_whatever_the_caller(office):
    with pytest.raises(ValidationError) as refused:
        services.provision_employee(
            email="ghost@evil.example", display_name="幽霊", employee_number="G0001", office=office
        )
    assert refused.value.code == "outside_domain"
    assert not Employee.objects.filter(employee_number="G0001").exists()


@override_settings(ALLOWED_EMAIL_DOMAINS=["mlit.go.jp"])
def test_the_domains_come_from_the_setting(office):
    services.provision_employee(
        email="taro@mlit.go.jp", display_name="太郎", employee_number="M0001", office=office
    )
    with pytest.raises(ValidationError):
        services.provision_employee(
            email="jiro@example.jp", display_name="次郎", employee_number="M0002", office=office
        )


def test_attack_3_inside_the_domains_a_ghost_that_decides_shows_on_the_union_page(
    hr_client, hr, union, union_client
):
    """HR invents a colleague at an address inside the domains (say a shared
    mailbox it reads), sets the password from the invitation and decides."""
    upload(hr_client, roster_with("G0001,幽霊 太郎,shared-box@example.jp,200,名古屋国道事務所,,1"))
    confirm(hr_client)
    ghost = Employee.objects.get(employee_number="G0001")
    assert ghost.provisioned_at is not None
    before = ghost_rows(union_client.get("/union/indicators/"))
    assert before == []
    acknowledge(ghost)
    decide(ghost, Choice.OPT_IN)
    response = union_client.get("/union/indicators/")
    rows = ghost_rows(response)
    assert [(row["office"].code, row["count"]) for row in rows] == [("200", None)]  # one: hidden
    section = response.content.decode().split('id="i5"')[1]
    assert "200 名古屋国道事務所" in section and "秘匿" in section
    assert ghost.display_name not in section and "shared-box" not in section


def test_the_count_shows_from_k_accounts_and_names_no_one(hr_client, hr, union_client, settings):
    lines = [f"G000{n},幽霊{n},ghost{n}@example.jp,{OFFICE}" for n in range(settings.SUPPRESSION_K)]
    upload(hr_client, roster_with(*lines))
    confirm(hr_client)
    *first, last = Employee.objects.filter(employee_number__startswith="G").order_by("employee_number")
    for ghost in first:
        acknowledge(ghost)
        decide(ghost, Choice.OPT_OUT)
    # One fewer than k is a row whose count stays hidden.
    rows = ghost_rows(union_client.get("/union/indicators/"))
    assert [row["count"] for row in rows] == [None]
    acknowledge(last)
    decide(last, Choice.OPT_OUT)
    rows = ghost_rows(union_client.get("/union/indicators/"))
    assert [row["count"] for row in rows] == [settings.SUPPRESSION_K]


def test_accounts_that_decide_after_the_window_are_not_counted(make_employee, settings):
    long_ago = timezone.now() - datetime.timedelta(days=settings.NEW_ACCOUNT_DECISION_DAYS + 1)
    with mock.patch("django.utils.timezone.now", return_value=long_ago):
        settled = make_employee("settled", "E0300")
    fresh = make_employee("fresh", "E0301")
    for employee in (settled, fresh):
        acknowledge(employee)
        decide(employee, Choice.OPT_IN)
    rows = indicators.compute()["new_accounts"]
    assert [(row["office"].code, row["count"]) for row in rows] == [("200", None)]


def test_an_unchanged_reimport_does_not_restart_the_window(hr_client, hr, make_employee):
    """Updating a name or office is not re-addressing: the account is not new."""
    long_ago = timezone.now() - datetime.timedelta(days=30)
    with mock.patch("django.utils.timezone.now", return_value=long_ago):
        alice = make_employee("alice", "E0001")
    upload(hr_client, roster_with("E0001,alice renamed,alice@example.jp,200,名古屋国道事務所,,1"))
    confirm(hr_client)
    alice.refresh_from_db()
    assert alice.display_name == "alice renamed" and alice.provisioned_at == long_ago


def test_production_refuses_to_start_without_the_organisations_domains():
    result = start_django(production_env(ALLOWED_EMAIL_DOMAINS=None))
    assert result.returncode != 0 and "ALLOWED_EMAIL_DOMAINS" in result.stderr
    result = start_django(
        production_env(ALLOWED_EMAIL_DOMAINS="mlit.go.jp, @cbr.mlit.go.jp"),
        "from django.conf import settings; print(settings.ALLOWED_EMAIL_DOMAINS)",
    )
    assert result.stdout.strip() == "['mlit.go.jp', 'cbr.mlit.go.jp']", result.stderr
