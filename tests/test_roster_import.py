"""Importing the roster: preview first, all or nothing, idempotent, one audit event."""

import datetime
import json
import subprocess
import sys
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from consent.models import AuditEvent, Decision, Employee, Invitation, Office, RosterPreview
from tests.conftest import grant, sign_in_with_mfa

ROOT = Path(__file__).resolve().parents[1]
HEADER = "職員番号,氏名,メールアドレス,事務所コード,事務所名,上位事務所コード,在職"
ROSTER = "\n".join(
    [
        HEADER,
        "R0001,山田 太郎,taro@example.jp,100,中部地方整備局,,1",
        "R0002,鈴木 花子,hanako@example.jp,200,名古屋国道事務所,100,1",
        "R0003,佐藤 次郎,jiro@example.jp,200,名古屋国道事務所,100,1",
        "E0100,hana,hana@example.jp,200,名古屋国道事務所,100,1",  # the HR officer importing it
    ]
)


def upload(client, text, encoding="cp932", chosen=""):
    data = text.encode(encoding) if encoding != "utf-8-sig" else "\ufeff".encode() + text.encode()
    return client.post("/hr/roster/", {"file": SimpleUploadedFile("roster.csv", data), "encoding": chosen})


def confirm(client):
    sha = RosterPreview.objects.get(token=client.session["hr_roster_upload"]).sha256
    return client.post("/hr/roster/confirm/", {"sha256": sha}, follow=True)


@pytest.mark.parametrize("encoding", ["cp932", "utf-8", "utf-8-sig"])
def test_preview_changes_nothing_then_confirm_imports(hr_client, encoding, mailoutbox):
    employees, events = Employee.objects.count(), AuditEvent.objects.count()
    response = upload(hr_client, ROSTER, encoding)
    assert response.status_code == 200
    assert "山田 太郎" in response.content.decode()
    assert Employee.objects.count() == employees and AuditEvent.objects.count() == events
    response = confirm(hr_client)
    assert "3件" in response.content.decode() or "3" in response.content.decode()
    assert Employee.objects.filter(employee_number__startswith="R").count() == 3
    assert Office.objects.get(code="200").parent.code == "100"
    event = AuditEvent.objects.get(kind="roster.imported")
    payload = json.loads(event.body)["payload"]
    assert payload["created"] == 3 and len(payload["sha256"]) == 64
    assert "山田" not in event.body
    assert "3件を送信待ち" in response.content.decode()
    assert mailoutbox == [] and Invitation.objects.filter(sent_at=None).count() == 3  # queued, not sent
    assert not Decision.objects.exists()


def test_reimporting_the_same_file_changes_nothing(hr_client, hr):
    upload(hr_client, ROSTER)
    confirm(hr_client)
    events = AuditEvent.objects.count()
    response = upload(hr_client, ROSTER)
    assert "何も変わりません" in response.content.decode()
    assert AuditEvent.objects.count() == events


def test_leavers_are_deactivated_never_deleted(hr_client, hr):
    upload(hr_client, ROSTER)
    confirm(hr_client)
    upload(hr_client, "\n".join(line for line in ROSTER.splitlines() if not line.startswith("R0003")))
    confirm(hr_client)
    leaver = Employee.objects.get(employee_number="R0003")
    assert not leaver.is_active and not leaver.user.is_active


def test_a_bad_file_lists_every_problem_and_changes_nothing(hr_client):
    bad = "\n".join(
        [
            HEADER,
            "R0001,山田,not-an-email,100,本局,,1",
            "R0002,,b@example.jp,100,本局,,maybe",
            "R0003,佐藤,c@example.jp,100,本局,,1",
        ]
    )
    employees = Employee.objects.count()
    response = upload(hr_client, bad)
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count("<tr>") >= 4  # header row + at least three problems
    assert Employee.objects.count() == employees
    assert "hr_roster_upload" not in hr_client.session


def test_a_my_number_in_the_file_is_refused_without_echoing_it(hr_client):
    response = upload(hr_client, HEADER + "\nR0001,123456789018,a@example.jp,100,本局,,1")
    assert response.status_code == 400
    assert "123456789018" not in response.content.decode()
    assert not Employee.objects.filter(employee_number="R0001").exists()


def test_an_image_uploaded_as_the_roster_is_named_as_not_csv_text_and_nothing_is_written(hr_client):
    employees, offices, events = Employee.objects.count(), Office.objects.count(), AuditEvent.objects.count()
    png = SimpleUploadedFile("roster.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    response = hr_client.post("/hr/roster/", {"file": png, "encoding": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "CSV形式のテキストファイルではありません" in html and "列の見出し" not in html
    # A file that could not be read is not described as one with a header and no data lines.
    assert "roster.csv（" not in html and "見出しの1行" not in html
    assert (Employee.objects.count(), Office.objects.count(), AuditEvent.objects.count()) == (
        employees,
        offices,
        events,
    )
    assert not RosterPreview.objects.exists() and "hr_roster_upload" not in hr_client.session


@pytest.mark.parametrize(
    ("encoding", "chosen", "label"),
    [("utf-8", "", "UTF-8"), ("utf-8-sig", "utf-8", "UTF-8"), ("cp932", "", "Shift_JIS (CP932)")],
)
def test_the_preview_names_the_encoding_as_the_upload_form_does(hr_client, encoding, chosen, label):
    form = hr_client.get("/hr/roster/").content.decode()
    assert f">{label}</option>" in form
    preview = upload(hr_client, ROSTER, encoding, chosen).content.decode()
    assert f"roster.csv（{label}）" in preview
    assert "（utf-8" not in preview and "（cp932" not in preview


def test_the_preview_is_kept_server_side_not_in_the_session_row_and_dropped_on_confirm(hr_client):
    upload(hr_client, ROSTER)
    session_row = Session.objects.get(session_key=hr_client.session.session_key)
    assert "山田" not in session_row.get_decoded().__repr__()
    assert len(session_row.session_data) < 1000
    assert RosterPreview.objects.count() == 1
    confirm(hr_client)
    assert not RosterPreview.objects.exists()
    assert "hr_roster_upload" not in hr_client.session


def test_an_expired_preview_is_refused_and_cleaned_up(hr_client):
    upload(hr_client, ROSTER)
    sha = RosterPreview.objects.get().sha256
    later = timezone.now() + RosterPreview.MAX_AGE + datetime.timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = hr_client.post("/hr/roster/confirm/", {"sha256": sha}, follow=True)
    assert "もう一度" in response.content.decode()
    assert not Employee.objects.filter(employee_number="R0001").exists()
    assert not RosterPreview.objects.exists()


def test_another_officer_cannot_confirm_someone_elses_preview(hr_client, make_employee):
    upload(hr_client, ROSTER)
    preview = RosterPreview.objects.get()
    other = sign_in_with_mfa(Client(), grant(make_employee("jun", "E0101"), "hr").user)
    session = other.session
    session["hr_roster_upload"] = preview.token
    session.save()
    response = other.post("/hr/roster/confirm/", {"sha256": preview.sha256}, follow=True)
    assert "もう一度" in response.content.decode()
    assert not Employee.objects.filter(employee_number="R0001").exists()


def test_a_stale_preview_is_refused(hr_client):
    upload(hr_client, ROSTER)
    response = hr_client.post("/hr/roster/confirm/", {"sha256": "0" * 64}, follow=True)
    assert "もう一度" in response.content.decode()
    assert not Employee.objects.filter(employee_number="R0001").exists()


def test_the_command_has_the_same_rules_and_exit_codes(hr, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(ROSTER.encode("cp932"))
    out = StringIO()
    call_command("import_roster", str(path), "--dry-run", "--as", hr.user.email, stdout=out)
    assert "3 to create" in out.getvalue()
    assert not Employee.objects.filter(employee_number="R0001").exists()
    call_command("import_roster", str(path), "--as", hr.user.email, "--no-invite", stdout=out)
    assert Employee.objects.filter(employee_number__startswith="R").count() == 3
    assert not Invitation.objects.exists()  # --no-invite queues nothing
    path.write_bytes((HEADER + "\nR0009,x,bad,100,本局,,1").encode())
    with pytest.raises(SystemExit) as exit_:
        call_command("import_roster", str(path), "--as", hr.user.email, stderr=StringIO())
    assert exit_.value.code == 1


def test_the_command_refuses_an_actor_who_is_not_hr(alice, tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_roster", str(path), "--as", alice.user.email)


def test_the_command_help_states_its_rule():
    result = subprocess.run(
        [sys.executable, "manage.py", "help", "import_roster"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"DEBUG": "1", "PATH": "/usr/bin:/bin"},
    )
    assert "never records a decision" in " ".join(result.stdout.split())


def test_an_import_cannot_change_an_accounts_email(hr_client, alice):
    text = HEADER + f"\n{alice.employee_number},alice,someone.else@example.jp,200,名古屋国道事務所,,1"
    response = upload(hr_client, text)
    assert response.status_code == 400
    assert "メールアドレスは変更できません" in response.content.decode()
    alice.user.refresh_from_db()
    assert alice.user.email == "alice@example.jp"


def test_an_import_that_would_deactivate_the_importer_is_refused(hr_client, hr):
    without_me = "\n".join(line for line in ROSTER.splitlines() if not line.startswith("E0100"))
    response = upload(hr_client, without_me)
    assert response.status_code == 400
    assert "あなた自身のアカウント" in response.content.decode()
    hr.refresh_from_db()
    assert hr.is_active


def test_the_batched_import_writes_what_provisioning_one_by_one_does(hr, alice, bob):
    """Created, renamed, moved, reactivated and deactivated in one file, written in batches:
    each row as provision_employee would leave it, decisions untouched, one event."""
    from allauth.account.models import EmailAddress

    from consent import services
    from consent.models import Choice, pseudonym_for
    from consent.roster import parse_roster
    from tests.conftest import acknowledge, decide

    acknowledge(alice)
    decide(alice, Choice.OPT_IN)
    services.update_employee(
        actor=hr.user, employee=bob, display_name="bob", office=bob.office, is_active=False
    )
    bob.user.is_active = False
    bob.user.save()
    provisioned = Employee.objects.get(pk=alice.pk).provisioned_at
    events = AuditEvent.objects.count()
    rows = [
        HEADER,
        "R0001,山田 太郎,Taro@Example.jp,200,名古屋国道事務所,,1",
        "R0002,鈴木 花子,hanako@example.jp,200,名古屋国道事務所,,0",
        f"{alice.employee_number},アリス,alice@example.jp,300,静岡国道事務所,,1",
        f"{bob.employee_number},bob,bob@example.jp,200,名古屋国道事務所,,1",
        f"{hr.employee_number},hana,hana@example.jp,200,名古屋国道事務所,,1",
    ]
    services.import_roster(user=hr.user, parsed=parse_roster("\n".join(rows).encode()), invite=False)
    new = Employee.objects.select_related("user").get(employee_number="R0001")
    assert new.pseudonym == pseudonym_for("employee", "R0001") and new.provisioned_at is not None
    assert new.user.email == new.user.username == "taro@example.jp" and new.user.is_active
    assert not new.user.has_usable_password()
    assert list(EmailAddress.objects.filter(user=new.user).values_list("email", "verified", "primary")) == [
        ("taro@example.jp", True, True)
    ]
    inactive = Employee.objects.select_related("user").get(employee_number="R0002")
    assert not inactive.is_active and not inactive.user.is_active
    alice = Employee.objects.select_related("office").get(pk=alice.pk)
    assert (alice.display_name, alice.office.code, alice.current_choice) == ("アリス", "300", Choice.OPT_IN)
    assert alice.provisioned_at == provisioned
    bob = Employee.objects.select_related("user").get(pk=bob.pk)
    assert bob.is_active and bob.user.is_active
    assert AuditEvent.objects.count() == events + 1


def test_a_new_account_from_the_import_is_the_one_provision_employee_makes(hr, office):
    """The import writes new staff as plain rows (services._create_accounts), provisioning
    one person makes them through the models: every column but the person's own must agree,
    so a field one of them starts to set cannot be missed by the other."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from consent import services

    _import(hr, [f"P0002,二人,two@example.jp,{office.code},{office.name},,1"])
    two = Employee.objects.get(employee_number="P0002")
    one = services.provision_employee(
        email="one@example.jp", display_name="一人", employee_number="P0001", office=office
    )
    own = {
        get_user_model(): {"id", "password", "username", "email", "date_joined", "last_login"},
        EmailAddress: {"id", "user_id", "email"},
        Employee: {"id", "user_id", "employee_number", "display_name", "pseudonym", "provisioned_at"},
    }
    for model, rows in (
        (get_user_model(), [one.user, two.user]),
        (EmailAddress, [EmailAddress.objects.get(user=one.user), EmailAddress.objects.get(user=two.user)]),
        (Employee, [one, two]),
    ):
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in own[model]]
        first, second = ({name: getattr(row, name) for name in fields} for row in rows)
        assert first == second, model
    assert not one.user.has_usable_password() and not two.user.has_usable_password()
    assert two.user.username == two.user.email == "two@example.jp"
    assert one.provisioned_at is not None and two.provisioned_at is not None


def test_the_preview_names_the_first_people_and_counts_the_rest(hr_client, monkeypatch):
    from consent.views import hr

    monkeypatch.setattr(hr, "PREVIEW_NAMES", 1)
    html = upload(hr_client, ROSTER).content.decode()
    assert "山田 太郎" in html and "鈴木 花子" not in html
    assert "ほか 2 人" in html


def _import(hr, lines):
    from consent import services
    from consent.roster import parse_roster

    parsed = parse_roster(
        "\n".join([HEADER, *lines, "E0100,hana,hana@example.jp,200,名古屋国道事務所,,1"]).encode()
    )
    return services.import_roster(user=hr.user, parsed=parsed)


def _staff(count):
    """``count`` new people, each in an office of their own under office 200."""
    return [f"N{i:05d},新人 {i},n{i}@example.jp,O{i},事務所{i},200,1" for i in range(count)]


def test_the_import_costs_the_same_statements_for_3_people_as_for_60(hr):
    """Staff and offices are written in bulk (COPY on PostgreSQL), never a statement per person or office."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for lines, new in ((_staff(3), 3), (_staff(63), 60)):  # the second file lists the first three too
        with CaptureQueriesContext(connection) as queries:
            plan = _import(hr, lines)
        assert len(plan.create) == len(plan.offices_create) == new
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert Invitation.objects.filter(employee__employee_number__startswith="N").count() == 63


def test_imported_ids_are_the_databases_own_so_later_accounts_do_not_collide(hr, office):
    from consent import services

    _import(hr, _staff(5))
    later = services.provision_employee(
        email="later@example.jp", display_name="後任", employee_number="L0001", office=office
    )
    assert not Employee.objects.filter(pk=later.pk).exclude(employee_number="L0001").exists()
    assert Office.objects.create(code="LATER", name="後から").pk > Office.objects.get(code="O4").pk


def test_renaming_only_top_offices_keeps_them_at_the_top(hr):
    """Every office written has no parent: a column of NULLs, which PostgreSQL must not read as text."""
    _import(hr, ["X0001,誰か,x@example.jp,TOP,本省,,1"])
    Office.objects.filter(code="TOP").update(name="旧本省")
    _import(hr, ["X0001,誰か,x@example.jp,TOP,本省,,1"])
    top = Office.objects.get(code="TOP")
    assert (top.name, top.parent) == ("本省", None)


def test_an_import_that_fails_after_writing_the_staff_leaves_nothing(hr):
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    before = [
        model.objects.count() for model in (get_user_model(), EmailAddress, Employee, Invitation, Office)
    ]
    with (
        mock.patch("consent.audit.append", side_effect=RuntimeError("the chain refused")),
        pytest.raises(RuntimeError),
    ):
        _import(hr, _staff(4))
    after = [
        model.objects.count() for model in (get_user_model(), EmailAddress, Employee, Invitation, Office)
    ]
    assert after == before


def test_new_staff_are_written_in_the_order_of_their_indexes(hr):
    """Accounts by address and employees by number, ids following: PostgreSQL appends to each index."""
    from django.contrib.auth import get_user_model

    _import(hr, ["Z9,末,a@example.jp,200,名古屋国道事務所,,1", "A1,初,z@example.jp,200,名古屋国道事務所,,1"])
    accounts = get_user_model().objects.filter(email__in=["a@example.jp", "z@example.jp"]).order_by("pk")
    assert [user.email for user in accounts] == ["a@example.jp", "z@example.jp"]
    employees = Employee.objects.filter(employee_number__in=["A1", "Z9"]).order_by("pk")
    assert [employee.employee_number for employee in employees] == ["A1", "Z9"]
