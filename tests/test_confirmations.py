"""A decision's confirmation mail leaves the request: record_decision queues it in
the decision's own transaction, send_queued_mail (from a timer) sends it."""

import re
import runpy
import smtplib
from io import StringIO
from unittest import mock

import pytest
from django.contrib import admin
from django.core.mail import get_connection
from django.core.mail.backends import locmem
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from consent import services
from consent.models import Choice, Decision, DecisionConfirmation
from tests.conftest import ROOT, acknowledge, decide, fresh_postgres_database, run_probe


def send():
    out = StringIO()
    call_command("send_queued_mail", stdout=out)
    return out.getvalue()


def decided(*people, choice=Choice.UNDECIDED):
    """Each confirms the explanation and records a decision, queueing a confirmation each."""
    for person in people:
        acknowledge(person)
        decide(person, choice)


def failing_for(address, error):
    """send_mail that raises ``error`` for mail to ``address`` and sends the rest."""
    real = services.send_mail

    def send_mail(subject, body, sender, to, **kwargs):
        if to == [address]:
            raise error
        return real(subject, body, sender, to, **kwargs)

    return mock.patch.object(services, "send_mail", send_mail)


def test_the_decision_queues_its_confirmation_and_the_command_sends_it(alice, mailoutbox):
    acknowledge(alice)
    decision = decide(alice, Choice.OPT_IN)
    assert mailoutbox == []
    assert DecisionConfirmation.objects.get(sent_at=None).decision == decision
    assert "Sent 1 decision confirmation(s); 0 failed" in send()
    [mail] = mailoutbox
    assert mail.to == ["alice@example.jp"]
    assert decision.receipt_id in mail.subject and "受付番号" in mail.subject
    assert decision.entry_hash in mail.body and f"/receipts/{decision.receipt_id}/" in mail.body
    assert "労働組合" in mail.body
    assert not DecisionConfirmation.objects.filter(sent_at=None).exists()
    assert "Sent 0 decision confirmation(s)" in send() and len(mailoutbox) == 1  # sent once


def test_the_confirmation_is_written_with_the_decision_under_the_head_lock(alice):
    """Queued in the decision's own audit write: on PostgreSQL the one statement that
    also updates the chain head, so the lock is held no round trip longer."""
    acknowledge(alice)
    with CaptureQueriesContext(connection) as queries:
        decide(alice, Choice.OPT_OUT)
    writes = [q["sql"] for q in queries if "consent_decisionconfirmation" in q["sql"]]
    assert len(writes) == 1
    if connection.vendor == "postgresql":
        assert 'INSERT INTO "consent_decision"' in writes[0] and 'UPDATE "consent_audithead"' in writes[0]


def test_the_request_never_waits_for_the_mail_server(alice, alice_client, django_capture_on_commit_callbacks):
    acknowledge(alice)
    with (
        mock.patch.object(services, "send_mail") as send_mail,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = alice_client.post("/decision/", {"choice": Choice.OPT_OUT, "comment": ""}, secure=True)
        assert response.status_code == 302
        assert send_mail.call_count == 0  # nothing talks to the mail server inside the request
        send()
        assert send_mail.call_count == 1


def test_a_failing_mail_server_leaves_it_pending_and_a_later_run_sends_it(alice, bob, mailoutbox):
    decided(alice, bob)
    with failing_for("bob@example.jp", smtplib.SMTPServerDisconnected("Connection unexpectedly closed")):
        assert "Sent 1 decision confirmation(s); 1 failed and stay pending" in send()
    assert [m.to for m in mailoutbox] == [["alice@example.jp"]]
    assert DecisionConfirmation.objects.get(sent_at=None).decision.employee == bob
    assert "Sent 1 decision confirmation(s); 0 failed" in send()  # the next run sends it
    assert [m.to for m in mailoutbox[1:]] == [["bob@example.jp"]]


def test_each_is_locked_so_that_runs_at_once_skip_each_others(alice, bob):
    decided(alice, bob, choice=Choice.OPT_IN)
    with CaptureQueriesContext(connection) as queries:
        send()
    if connection.features.has_select_for_update_skip_locked:
        locks = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
        assert len(locks) == 2 and all(sql.endswith("SKIP LOCKED") for sql in locks)
        # Only the queued row is locked, never the (append-only) decision it names.
        assert all('FOR UPDATE OF "consent_decisionconfirmation"' in sql for sql in locks)


@pytest.mark.slow
@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_two_runs_at_once_send_each_mail_once(vendor, tmp_path):
    """Two send_queued_mail runs in threads of their own over the same queue, each
    send slow enough for them to overlap (tests/mail_probe.py). On SQLite (BEGIN
    IMMEDIATE) the second waits for the database and finds everything sent."""
    if vendor == "sqlite":
        report = run_probe("mail_probe.py", timeout=300, SQLITE_PATH=str(tmp_path / "mail.sqlite3"))
    else:
        with fresh_postgres_database("consent_mail") as url:
            report = run_probe("mail_probe.py", timeout=300, DATABASE_URL=url)
    assert report["errors"] == [], report
    if vendor == "postgresql":  # SKIP LOCKED: both runs send, never the same mail
        assert min(report["sent_by_each"]) > 0, "the runs did not overlap: the probe tested nothing"
    assert sum(report["sent_by_each"]) == report["queued"]
    assert report["mails_per_address"] == {"1": report["queued"]}, report
    assert report["pending"] == 0


def test_a_rolled_back_decision_queues_nothing(alice, mailoutbox):
    acknowledge(alice)
    with pytest.raises(RuntimeError), transaction.atomic():
        decide(alice, Choice.OPT_IN)
        assert DecisionConfirmation.objects.count() == 1
        raise RuntimeError("the request failed after the decision")
    assert not Decision.objects.exists() and not DecisionConfirmation.objects.exists()
    assert "Sent 0 decision confirmation(s)" in send() and mailoutbox == []


def test_a_demo_decision_or_an_account_without_email_queues_nothing(alice, bob, mailoutbox):
    acknowledge(alice)
    services.record_decision(user=alice.user, choice=Choice.OPT_IN, demo=True)
    bob.user.email = ""
    bob.user.save(update_fields=["email"])
    acknowledge(bob)
    decide(bob, Choice.OPT_OUT)
    assert Decision.objects.count() == 2 and not DecisionConfirmation.objects.exists()
    assert "Sent 0 decision confirmation(s)" in send() and mailoutbox == []


def test_the_mail_never_says_the_choice(alice, mailoutbox):
    """Mail passes through servers other people run: apart from the receipt's own
    number, sequence, hash and time, every confirmation is the same text."""
    acknowledge(alice)
    decisions = [decide(alice, choice) for choice in (Choice.OPT_IN, Choice.UNDECIDED, Choice.OPT_OUT)]
    decisions.append(decide(alice, Choice.OPT_IN, comment="家族と相談しました"))
    send()
    assert len(mailoutbox) == 4
    labels = []
    for language in ("ja", "en"):
        with translation.override(language):
            labels += [str(label) for label in Choice.labels]
    texts = set()
    for decision, mail in zip(decisions, mailoutbox, strict=True):
        text = mail.subject + "\n" + mail.body
        assert not any(word in text for word in [*Choice.values, *labels, "家族", "一体化"]), text
        for own in (decision.receipt_id, decision.entry_hash):
            text = text.replace(own, "…")
        texts.add(re.sub(r"\d", "0", text))
    assert len(texts) == 1


def test_the_queued_row_holds_nothing_to_read_a_choice_from():
    fields = {field.name for field in DecisionConfirmation._meta.get_fields()}
    assert fields == {"id", "decision", "sent_at"}
    assert not admin.site.is_registered(DecisionConfirmation)


def test_a_mail_that_cannot_be_composed_does_not_hold_back_the_ones_after_it(alice, bob, mailoutbox, caplog):
    """Rows go in pk order and confirmations first: one poisoned row (a bad header, a
    template error) that ended the run would block every later mail on every run."""
    decided(alice, bob, choice=Choice.OPT_IN)
    real = services._confirmation_mail

    def poisoned(confirmation):
        if confirmation.decision.employee == alice:
            raise ValueError("Header values can't contain newlines")
        return real(confirmation)

    with mock.patch.object(services, "_confirmation_mail", poisoned):
        assert "Sent 1 decision confirmation(s); 1 failed and stay pending" in send()
    assert [m.to for m in mailoutbox] == [["bob@example.jp"]]
    assert DecisionConfirmation.objects.get(sent_at=None).decision.employee == alice
    assert "could not send a decision confirmation" in caplog.text


def test_a_run_with_nothing_queued_opens_no_mail_connection(alice, mailoutbox):
    """The timer runs every minute: with nothing to send, no SMTP login (and with the
    mail server down, no traceback) every minute."""
    opened = []

    class Counting(locmem.EmailBackend):
        def open(self):
            opened.append(self)
            return super().open()

    with mock.patch.object(services, "get_connection", Counting):
        assert "Sent 0 decision confirmation(s)" in send()
        assert opened == []
        acknowledge(alice)
        decide(alice, Choice.OPT_IN)
        assert "Sent 1 decision confirmation(s)" in send()
        assert len(opened) == 1 and len(mailoutbox) == 1


def test_a_hung_mail_server_times_out(monkeypatch, settings):
    """Each mail is sent inside its row's transaction, holding the row's lock: without
    a timeout a mail server that accepts the connection and never answers hangs the
    run there for good."""
    settings_file = ROOT / "config" / "settings.py"
    monkeypatch.setenv("DEBUG", "1")
    monkeypatch.delenv("EMAIL_TIMEOUT", raising=False)
    assert runpy.run_path(str(settings_file))["EMAIL_TIMEOUT"] == 30
    monkeypatch.setenv("EMAIL_TIMEOUT", "5")
    assert runpy.run_path(str(settings_file))["EMAIL_TIMEOUT"] == 5
    settings.EMAIL_TIMEOUT = 30
    assert get_connection("django.core.mail.backends.smtp.EmailBackend").timeout == 30


@pytest.mark.parametrize(
    "down",
    [
        TimeoutError("timed out"),
        ConnectionRefusedError(111, "refused"),
        smtplib.SMTPServerDisconnected("closed"),
    ],
)
def test_a_mail_server_that_does_not_answer_ends_the_run_at_the_first_mail(alice, bob, make_employee, down):
    """Each mail would wait out EMAIL_TIMEOUT on a hung server: the run stops at the first,
    and every mail stays pending for the next run."""
    carol = make_employee("carol", "C0001")
    decided(alice, bob, carol)
    with mock.patch.object(services, "send_mail", side_effect=down) as send_mail:
        assert "Sent 0 decision confirmation(s); 1 failed and stay pending" in send()
    assert send_mail.call_count == 1
    assert DecisionConfirmation.objects.filter(sent_at=None).count() == 3


def test_a_mail_the_server_refuses_is_only_that_mails_failure(alice, bob, mailoutbox):
    """A refused address is the server answering: the mails after it are still sent."""
    decided(alice, bob)
    refused = smtplib.SMTPRecipientsRefused({"alice@example.jp": (550, b"no such user")})
    with failing_for("alice@example.jp", refused):
        assert "Sent 1 decision confirmation(s); 1 failed and stay pending" in send()
    assert [m.to for m in mailoutbox] == [["bob@example.jp"]]
