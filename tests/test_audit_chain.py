"""The chain in the database: append-only, verifiable, exportable."""

import io
import json
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from consent import audit, chain
from consent.models import Acknowledgement, AuditEvent, AuditHead, Choice, Decision, EventOpening
from tests.conftest import acknowledge, decide, unguard, verify_audit

ROOT = Path(__file__).resolve().parents[1]
GUARDED = [AuditEvent, Decision, Acknowledgement]


def run_verify(*checkpoints):
    """verify_audit --full against ``SEQ:HASH`` checkpoints."""
    return verify_audit("--full", *(arg for cp in checkpoints for arg in ("--checkpoint", cp)))


def edited_body(event):
    """The event's body with its kind changed: any edit will do, and version 2 bodies hold no choice."""
    edited = event.body.replace(f'"kind":"{event.kind}"', f'"kind":"{event.kind}.edited"')
    assert edited != event.body
    return edited


def test_the_chain_starts_with_explanation_v1(db):
    first = AuditEvent.objects.get(seq=1)
    assert first.kind == "explanation.published"
    assert first.prev_hash == chain.GENESIS.hex()
    assert json.loads(first.body)["payload"]["version"] == 1


def test_events_are_contiguous_and_linked(history):
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.entry_hash
    assert audit.verify_database().ok


def test_append_refuses_to_run_outside_a_transaction(db):
    with mock.patch.object(connection, "in_atomic_block", False), pytest.raises(RuntimeError):
        audit.append("audit.exported", actor="system")


@pytest.mark.parametrize("model", GUARDED, ids=lambda m: m.__name__)
def test_update_is_refused_by_the_database(history, model):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {model._meta.db_table} SET audit_seq = audit_seq"
            if model is not AuditEvent
            else "UPDATE consent_auditevent SET kind = 'edited'"
        )
    assert not AuditEvent.objects.filter(kind="edited").exists()


@pytest.mark.parametrize("model", GUARDED, ids=lambda m: m.__name__)
def test_delete_is_refused_by_the_database(history, model):
    count = model.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {model._meta.db_table}")
    assert model.objects.count() == count


@pytest.mark.parametrize("model", GUARDED, ids=lambda m: m.__name__)
def test_truncate_is_refused_on_postgresql(history, model):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; DELETE is covered above")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {model._meta.db_table} CASCADE")
    assert model.objects.exists()


def test_the_orm_cannot_edit_an_event_either(history):
    event = AuditEvent.objects.get(seq=2)
    event.kind = "edited"
    with pytest.raises(DatabaseError), transaction.atomic():
        event.save()


def test_verify_audit_reports_count_and_head(history):
    head = AuditEvent.objects.order_by("-seq").first()
    code, output = run_verify(
        f"{head.seq}:{head.entry_hash}", f"1:{AuditEvent.objects.get(seq=1).entry_hash}"
    )
    assert code == 0
    assert f"OK: {history} events, head seq {head.seq} entry_hash {head.entry_hash}" in output


def test_an_edited_body_is_named(history):
    unguard("consent_auditevent")
    event = AuditEvent.objects.get(seq=4)
    AuditEvent.objects.filter(pk=event.pk).update(body=edited_body(event))
    code, output = run_verify()
    assert code == 1
    assert "FAILED at seq 4: edited" in output


def test_an_edited_body_with_rehashed_row_breaks_the_next_link(history):
    unguard("consent_auditevent")
    event = AuditEvent.objects.get(seq=4)
    body = edited_body(event).encode()
    leaf = chain.leaf_hash(body)
    entry = chain.entry_hash(bytes.fromhex(event.prev_hash), leaf)
    AuditEvent.objects.filter(pk=event.pk).update(
        body=body.decode(), leaf_hash=leaf.hex(), entry_hash=entry.hex()
    )
    code, output = run_verify()
    assert code == 1
    assert "FAILED at seq 5: broken-link" in output


def test_a_deleted_row_is_named(history):
    unguard("consent_auditevent")
    AuditEvent.objects.filter(seq=3).delete()
    code, output = run_verify()
    assert code == 1
    assert "FAILED at seq 3: gap" in output


def test_a_reordered_row_is_named(history):
    """Swap the contents of two rows, as if the log had been re-sorted."""
    unguard("consent_auditevent")
    first, second = AuditEvent.objects.get(seq=3), AuditEvent.objects.get(seq=4)
    fields = ["seq", "body", "leaf_hash", "prev_hash", "entry_hash", "kind", "subject", "occurred_at"]
    with connection.cursor() as cursor:
        # Park the unique columns on non-hex values first so the swap never collides.
        cursor.execute(
            "UPDATE consent_auditevent SET seq = seq + 1000000, prev_hash = 'x' || substr(prev_hash, 2), "
            "entry_hash = 'y' || substr(entry_hash, 2) WHERE seq IN (3, 4)"
        )
    for row, source in ((first, second), (second, first)):
        AuditEvent.objects.filter(pk=row.pk).update(**{f: getattr(source, f) for f in fields})
    code, output = run_verify()
    assert code == 1
    assert "FAILED at seq 3: reordered" in output


def test_a_tail_cut_below_a_checkpoint_is_named(history):
    head = AuditEvent.objects.order_by("-seq").first()
    checkpoint = f"{head.seq}:{head.entry_hash}"
    unguard("consent_auditevent")
    AuditEvent.objects.filter(seq__gte=head.seq - 1).delete()
    code, output = run_verify(checkpoint)
    assert code == 1
    assert f"FAILED at seq {head.seq - 1}: truncated" in output


def test_a_rewritten_chain_fails_an_earlier_checkpoint(history):
    """Someone with an export edits seq 4 and recomputes every hash after it: the
    links verify on their own, and only the union's earlier checkpoint catches it."""
    kept = AuditEvent.objects.get(seq=history - 1)
    checkpoint = (kept.seq, kept.entry_hash)
    rewritten, prev = [], None
    for event in audit.exported_events():
        if event["seq"] >= 4:
            body = edited_body(AuditEvent.objects.get(seq=4)) if event["seq"] == 4 else event["body"]
            leaf = chain.leaf_hash(body.encode())
            entry = chain.entry_hash(prev, leaf)
            event = {**event, "body": body, "leaf_hash": leaf.hex(), "prev_hash": prev.hex()}
            event["entry_hash"] = entry.hex()
        prev = bytes.fromhex(event["entry_hash"])
        rewritten.append(event)
    assert chain.verify(rewritten).ok
    result = chain.verify(rewritten, [checkpoint])
    assert not result.ok and result.first_bad_seq == kept.seq
    assert result.reason.startswith("checkpoint-mismatch")


def test_a_malformed_checkpoint_is_a_usage_error(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("verify_audit", "--checkpoint", "not-a-checkpoint")


def test_the_export_verifies_with_only_the_standard_library(history, tmp_path):
    path = tmp_path / "audit.jsonl"
    call_command("export_audit", "--output", str(path), stdout=io.StringIO())
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == history
    assert json.loads(lines[0])["seq"] == 1
    head = AuditEvent.objects.order_by("-seq").first()
    no_django = subprocess.run([sys.executable, "-S", "-c", "import django"], capture_output=True)
    assert no_django.returncode != 0
    result = subprocess.run(
        [
            sys.executable,
            "-S",
            "-m",
            "consent.chain",
            str(path),
            "--checkpoint",
            f"{head.seq}:{head.entry_hash}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"OK: {history} events" in result.stdout
    lines[2] = lines[2].replace("explanation.acknowledged", "explanation.forged")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-S", "-m", "consent.chain", str(path)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "FAILED at seq 3" in result.stdout


def test_bodies_carry_no_names_numbers_or_pseudonyms(history, alice, bob):
    for body in AuditEvent.objects.values_list("body", flat=True):
        for person in (alice, bob):
            assert person.display_name not in body
            assert person.employee_number not in body
            assert person.user.email not in body
            assert person.pseudonym not in body


def test_a_decision_holds_the_head_for_one_write_and_the_commit(alice):
    """Every append waits on the head row until the holder commits: the holder reads
    nothing under it, and on PostgreSQL writes the event, its tree nodes and opening,
    the new head and the decision in one statement (one round trip, then COMMIT)."""
    acknowledge(alice)
    with CaptureQueriesContext(connection) as queries:
        decision = decide(alice, Choice.OPT_IN)
    statements = [query["sql"] for query in queries.captured_queries]
    head = next(n for n, sql in enumerate(statements) if 'FROM "consent_audithead"' in sql)
    held = statements[head + 1 : -1]  # the last is the commit (a savepoint's release here)
    assert "SAVEPOINT" in statements[-1] and "SAVEPOINT" not in " ".join(held)
    assert not [sql for sql in held if sql.startswith("SELECT")]
    if connection.vendor == "postgresql":
        assert len(held) == 1 and held[0].startswith("WITH")
        assert statements[head].endswith("FOR UPDATE")  # the head is held: every other append waits
    # The rows written together are the ones the chain and the receipt name.
    event = AuditEvent.objects.get(seq=decision.audit_seq)
    assert Decision.objects.get(pk=decision.pk).entry_hash == event.entry_hash == decision.entry_hash
    assert not decision._state.adding  # saved, as a save() would leave it
    assert EventOpening.objects.get(seq=event.seq).employee == alice
    assert AuditHead.objects.get().entry_hash == event.entry_hash
    assert run_verify()[0] == 0


def test_the_union_s_saved_heads_are_matched_by_a_subquery_whatever_their_number(alice):
    """A statement takes at most 65,535 parameters (PostgreSQL, bound on the server): the
    saved heads are looked up in the chain by a subquery, not by a list that grows with them."""
    from django.utils import timezone

    from consent import verification
    from consent.models import Checkpoint

    acknowledge(alice)
    for choice in (Choice.OPT_IN, Choice.OPT_OUT):
        decide(alice, choice)

    def event_read():
        with CaptureQueriesContext(connection) as captured:
            verification._check_saved_heads()
        return [q["sql"] for q in captured.captured_queries if "consent_auditevent" in q["sql"]]

    events = list(AuditEvent.objects.order_by("seq"))
    Checkpoint.objects.create(seq=events[0].seq, entry_hash=events[0].entry_hash, saved_at=timezone.now())
    one = event_read()
    for event in events[1:]:
        Checkpoint.objects.create(seq=event.seq, entry_hash=event.entry_hash, saved_at=timezone.now())
    assert len(one) == 1 and event_read() == one
