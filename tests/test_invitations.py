"""Invitations leave the request: the roster import queues them, send_queued_mail sends them."""

import smtplib
import subprocess
import sys
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consent import services
from consent.models import Choice, DecisionConfirmation, Employee, Invitation
from consent.roster import parse_roster
from tests.conftest import acknowledge, decide

ROOT = Path(__file__).resolve().parents[1]
HEADER = "職員番号,氏名,メールアドレス,事務所コード,事務所名,上位事務所コード,在職"


def import_rows(hr, *rows, invite=True):
    me = f"{hr.employee_number},hana,{hr.user.email},200,名古屋国道事務所,,1"  # HR stays in the roster
    return services.import_roster(
        user=hr.user, parsed=parse_roster("\n".join([HEADER, me, *rows]).encode()), invite=invite
    )


def send():
    out = StringIO()
    call_command("send_queued_mail", stdout=out)
    return out.getvalue()


ROWS = (
    "R0001,山田 太郎,taro@example.jp,100,中部地方整備局,,1",
    "R0002,鈴木 花子,hanako@example.jp,100,中部地方整備局,,1",
    "R0003,佐藤 次郎,jiro@example.jp,100,中部地方整備局,,1",
)


def test_the_command_sends_each_once_and_stamps_it(hr, mailoutbox):
    plan = import_rows(hr, *ROWS)
    assert plan.invitations == 3 and mailoutbox == []
    with CaptureQueriesContext(connection) as queries:
        output = send()
    assert "Sent 3 invitation(s); 0 failed" in output
    if connection.features.has_select_for_update_skip_locked:  # two runs at once skip each other's rows
        locks = [query["sql"] for query in queries if "FOR UPDATE" in query["sql"]]
        assert len(locks) == 3 and all(sql.endswith("SKIP LOCKED") for sql in locks)
    assert sorted(m.to[0] for m in mailoutbox) == ["hanako@example.jp", "jiro@example.jp", "taro@example.jp"]
    assert all("/accounts/password/reset/key/" in m.body for m in mailoutbox)
    assert not Invitation.objects.filter(sent_at=None).exists()
    assert "Sent 0 invitation(s)" in send() and len(mailoutbox) == 3  # a second run sends nothing


def test_a_failing_address_stays_pending_and_the_others_are_sent(hr, mailoutbox):
    import_rows(hr, *ROWS)
    real = services.send_mail

    def refusing(subject, body, sender, to, **kwargs):
        if to == ["hanako@example.jp"]:
            raise smtplib.SMTPRecipientsRefused({to[0]: (550, b"no")})
        return real(subject, body, sender, to, **kwargs)

    with mock.patch.object(services, "send_mail", refusing):
        assert "Sent 2 invitation(s); 1 failed" in send()
    pending = Invitation.objects.get(sent_at=None)
    assert pending.employee.employee_number == "R0002" and len(mailoutbox) == 2
    assert "Sent 1 invitation(s); 0 failed" in send()  # the next run retries it
    assert [m.to for m in mailoutbox[2:]] == [["hanako@example.jp"]]


def test_a_crash_mid_run_keeps_the_stamps_of_what_was_sent(hr, mailoutbox):
    """Each invitation is sent and stamped in a transaction of its own: a crash re-sends
    at most the one in flight, never the ones already delivered. (A killed worker
    raises SystemExit or KeyboardInterrupt, which no row's error handling catches.)"""
    import_rows(hr, *ROWS)
    real = services.send_mail

    class Killed(BaseException):
        pass

    def crashing(subject, body, sender, to, **kwargs):
        if len(mailoutbox) == 2:
            raise Killed("the worker was killed")
        return real(subject, body, sender, to, **kwargs)

    with mock.patch.object(services, "send_mail", crashing), pytest.raises(Killed):
        send()
    assert Invitation.objects.filter(sent_at__isnull=False).count() == 2
    assert "Sent 1 invitation(s); 0 failed" in send() and len(mailoutbox) == 3


def test_inactive_and_deactivated_people_are_not_invited(hr, mailoutbox):
    import_rows(hr, *ROWS[:2], "R0003,佐藤 次郎,jiro@example.jp,100,中部地方整備局,,0")
    assert Invitation.objects.count() == 2  # nobody inactive is queued
    Employee.objects.filter(employee_number="R0002").update(is_active=False)
    assert "Sent 1 invitation(s)" in send()
    assert [m.to for m in mailoutbox] == [["taro@example.jp"]]
    assert Invitation.objects.get(sent_at=None).employee.employee_number == "R0002"  # waits
    # An account switched off on its own, its employee record still active, waits too.
    waiting = Employee.objects.get(employee_number="R0002")
    Employee.objects.filter(pk=waiting.pk).update(is_active=True)
    get_user_model().objects.filter(pk=waiting.user_id).update(is_active=False)
    assert "Sent 0 invitation(s)" in send() and len(mailoutbox) == 1


def test_without_invite_nothing_is_queued(hr, mailoutbox):
    plan = import_rows(hr, *ROWS, invite=False)
    assert plan.invitations == 0 and not Invitation.objects.exists()
    assert "Sent 0 invitation(s)" in send() and mailoutbox == []


def test_the_command_help_states_its_rule():
    result = subprocess.run(
        [sys.executable, "manage.py", "help", "send_queued_mail"], cwd=ROOT, capture_output=True, text=True
    )
    assert "timer" in result.stdout and "pending" in result.stdout


def test_every_waiting_confirmation_goes_before_each_batch_of_invitations(hr, alice, mailoutbox, monkeypatch):
    """A first import queues thousands of invitations: a decision made while they go
    out waits for the batch in flight at most, not for all of them."""
    five = [f"R00{n:02d},職員 {n},staff{n}@example.jp,100,中部地方整備局,,1" for n in range(1, 6)]
    import_rows(hr, "E0001,alice,alice@example.jp,200,名古屋国道事務所,,1", *five)  # alice stays
    acknowledge(alice)
    decide(alice, Choice.OPT_IN)  # waiting before the run
    monkeypatch.setattr(services, "MAIL_BATCH", 2)
    real = services.send_mail

    def deciding_meanwhile(subject, body, sender, to, **kwargs):
        if to == ["staff1@example.jp"]:  # alice decides again while the first batch goes out
            decide(alice, Choice.OPT_OUT)
        return real(subject, body, sender, to, **kwargs)

    monkeypatch.setattr(services, "send_mail", deciding_meanwhile)
    output = send()
    assert "Sent 2 decision confirmation(s); 0 failed" in output
    assert "Sent 5 invitation(s); 0 failed" in output
    assert [m.to[0].split("@")[0] for m in mailoutbox] == [
        *["alice", "staff1", "staff2"],
        *["alice", "staff3", "staff4"],
        "staff5",
    ]


def test_a_confirmation_is_sent_after_the_account_is_deactivated_and_an_invitation_is_not(
    hr, alice, mailoutbox
):
    """The confirmation is about a decision already made: a leaver deactivated by the
    next import is still told of it. An invitation waits while its account is off."""
    acknowledge(alice)
    decide(alice, Choice.OPT_OUT)
    import_rows(hr, *ROWS)  # alice is not in the file: she left
    alice.refresh_from_db()
    alice.user.refresh_from_db()
    assert not alice.is_active and not alice.user.is_active
    get_user_model().objects.filter(email="hanako@example.jp").update(is_active=False)
    output = send()
    assert "Sent 1 decision confirmation(s); 0 failed" in output
    assert "Sent 2 invitation(s); 0 failed" in output
    assert sorted(m.to[0] for m in mailoutbox) == ["alice@example.jp", "jiro@example.jp", "taro@example.jp"]
    assert not DecisionConfirmation.objects.filter(sent_at=None).exists()
    assert Invitation.objects.get(sent_at=None).employee.user.email == "hanako@example.jp"
