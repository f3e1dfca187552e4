"""The witnessed log on the server: checkpoints, witnesses, and the attacks of issue #8."""

import base64
import json
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consent import audit, chain, log, services, verification
from consent.models import (
    AuditEvent,
    AuditHead,
    Choice,
    Cosignature,
    EventOpening,
    ExplanationVersion,
    LogNode,
    LogVerification,
    Notice,
    SignedCheckpoint,
    WitnessKey,
)
from tests.conftest import decide, production_env, sign_in_with_mfa, start_django, unguard, verify_audit

WITNESS_NAME = "union.example.jp/witness"


@pytest.fixture
def witness_seed():
    """The union laptop's key pair: (private key, verifier key)."""
    return chain.generate_key(WITNESS_NAME, chain.SIG_COSIGNATURE_V1)


def witness_vkey(pair):
    return pair[1]


def cosign(pair, checkpoint):
    """What the union's laptop does: a cosignature line on the checkpoint's note."""
    text, _signatures = chain.split_note(checkpoint.note)
    return chain.cosignature_line(text, pair[0], int(time.time()))


def test_stored_nodes_give_the_reference_root_and_valid_proofs(history):
    leaves = [
        bytes.fromhex(h) for h in AuditEvent.objects.order_by("seq").values_list("leaf_hash", flat=True)
    ]
    for size in range(1, len(leaves) + 1):
        assert log.root_at(size) == chain.root_from_leaves(leaves[:size])
    root = chain.root_from_leaves(leaves)
    head = AuditHead.objects.get(pk=1)
    assert chain.root_from_frontier([bytes.fromhex(h) for h in head.frontier]) == root
    for index, leaf in enumerate(leaves):
        assert chain.verify_inclusion(index, len(leaves), leaf, log.inclusion_proof(index, len(leaves)), root)
    for old in range(1, len(leaves)):
        proof = log.consistency_proof(old, len(leaves))
        assert chain.verify_consistency(old, len(leaves), log.root_at(old), root, proof)


def test_a_proof_costs_one_query(history):
    with CaptureQueriesContext(connection) as queries:
        log.inclusion_proof(2, history)
    assert len(queries) == 1


def test_publish_signs_the_head_and_the_note_verifies(history):
    checkpoint = log.publish_checkpoint()
    assert checkpoint.size == history
    assert log.checkpoint_signed(checkpoint)
    origin, size, root = chain.split_note(checkpoint.note)[0].splitlines()
    assert (origin, int(size)) == (log.settings.LOG_ORIGIN, history)
    assert base64.b64decode(root).hex() == checkpoint.root
    # Nothing new: the same checkpoint, not another row.
    assert log.publish_checkpoint() == checkpoint
    assert SignedCheckpoint.objects.count() == 1


def test_the_public_endpoints(client, history):
    checkpoint = log.publish_checkpoint()
    response = client.get("/log/checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == checkpoint.note
    key = client.get("/log/key").content.decode().strip()
    assert chain.verify_checkpoint(checkpoint.note, chain.parse_vkey(key))[0].size == checkpoint.size
    assert client.post("/log/checkpoint").status_code == 405


def test_generate_log_key_prints_a_key_the_log_can_use(settings):
    out = StringIO()
    call_command("generate_log_key", stdout=out)
    signer = chain.parse_private_key(out.getvalue().strip())
    assert signer.key.name == settings.LOG_ORIGIN


def test_publish_checkpoint_command(history):
    out = StringIO()
    call_command("publish_checkpoint", stdout=out)
    assert out.getvalue().startswith(f"checkpoint {history} ")


# --- Attacks ---------------------------------------------------------------------


def test_emptying_the_table_is_caught_against_the_signed_checkpoint(history):
    log.publish_checkpoint()
    unguard("consent_auditevent")
    AuditEvent.objects.all().delete()
    code, output = verify_audit("--full")
    assert code == 1
    assert "truncated" in output


def test_deleting_the_last_events_is_caught_against_the_signed_checkpoint(history):
    log.publish_checkpoint()
    rewind(history - 2)
    code, output = verify_audit("--full")
    assert code == 1
    assert "truncated" in output
    with pytest.raises(log.LogRefused):
        log.publish_checkpoint()


def test_an_edited_indexed_column_is_caught(history):
    unguard("consent_auditevent")
    AuditEvent.objects.filter(seq=4).update(kind="explanation.viewed")
    code, output = verify_audit("--full")
    assert code == 1
    assert "FAILED at seq 4: indexed" in output


def test_an_edited_subject_column_is_caught_by_the_walk(history):
    unguard("consent_auditevent")
    AuditEvent.objects.filter(seq=3).update(subject="c:" + "0" * 64)
    assert not verification.verify().ok


def test_an_edited_column_before_the_resume_point_is_caught_by_the_full_walk(history):
    """A resumed check trusts the rows below its point (their hashes are unchanged);
    the full walk, which `verify_audit --full` runs, compares every column again."""
    assert verification.verify().ok
    unguard("consent_auditevent")
    AuditEvent.objects.filter(seq=3).update(subject="c:" + "0" * 64)
    assert not verification.verify(full=True).ok


def test_every_commitment_has_its_own_salt(history):
    """A fixed salt would let anyone test a guessed choice against a commitment."""
    salts = list(EventOpening.objects.values_list("salt", flat=True))
    subjects = list(AuditEvent.objects.filter(subject__startswith="c:").values_list("subject", flat=True))
    assert len(salts) == len(subjects) >= 5
    assert len(set(salts)) == len(salts) and len(set(subjects)) == len(subjects)


def rewind(size):
    """Cut the log back to ``size`` events everywhere, head row and Merkle nodes included,
    as a careful attacker with database access would."""
    unguard("consent_auditevent", "consent_lognode", "consent_eventopening", "consent_decision")
    AuditEvent.objects.filter(seq__gt=size).delete()
    EventOpening.objects.filter(seq__gt=size).delete()
    services.Decision.objects.filter(audit_seq__gt=size).delete()
    frontier = []
    leaves = AuditEvent.objects.order_by("seq").values_list("leaf_hash", flat=True)
    for index, leaf in enumerate(leaves):
        frontier, _nodes = chain.frontier_append(frontier, index, bytes.fromhex(leaf))
    for level in range(64):
        LogNode.objects.filter(level=level, index__gte=((size + (1 << level)) >> level) - 1).delete()
    head = AuditEvent.objects.get(seq=size)
    AuditHead.objects.filter(pk=1).update(
        seq=size, entry_hash=head.entry_hash, frontier=[h.hex() for h in frontier]
    )


def test_a_forged_append_after_a_cosigned_checkpoint_is_inconsistent(history, union, witness_seed):
    """Someone with database access replaces the last cosigned event with a correctly hashed one."""
    log.register_witness_key(user=union.user, vkey=witness_vkey(witness_seed))
    checkpoint = log.publish_checkpoint()
    log.add_cosignature(user=union.user, size=checkpoint.size, line=cosign(witness_seed, checkpoint))
    rewind(checkpoint.size - 1)
    with transaction.atomic():
        audit.append("role.granted", actor=audit.SYSTEM, payload={"role": "hr"})
        audit.append("role.granted", actor=audit.SYSTEM, payload={"role": "union"})
    assert log.root_at(checkpoint.size).hex() != checkpoint.root
    with pytest.raises(log.LogRefused):
        log.publish_checkpoint()
    code, output = verify_audit("--full")
    assert code == 1
    assert f"FAILED at seq {checkpoint.size}: checkpoint" in output


def test_an_update_of_an_explanation_text_is_refused_by_the_database(history):
    with pytest.raises(DatabaseError), transaction.atomic():
        ExplanationVersion.objects.filter(number=1).update(body_ja="任意ではありません。")
    assert "任意ではありません" not in ExplanationVersion.objects.get(number=1).body_ja


def test_an_edited_explanation_text_is_caught_by_recomputing_its_hash(history):
    unguard("consent_explanationversion")
    ExplanationVersion.objects.filter(number=1).update(body_ja="任意ではありません。")
    code, output = verify_audit("--full")
    assert code == 1
    assert "text: explanation version 1" in output


def test_notices_and_their_offices_are_append_only(hr, office):
    notice = services.publish_notice(user=hr.user, title="お知らせ", body="本文です。", offices=[office])
    for statement in (
        lambda: Notice.objects.filter(pk=notice.pk).update(body="改ざん"),
        lambda: Notice.objects.filter(pk=notice.pk).delete(),
        lambda: notice.offices.clear(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            statement()
    assert verify_audit("--full")[0] == 0


def test_an_edited_notice_is_caught(hr, office):
    notice = services.publish_notice(user=hr.user, title="お知らせ", body="本文です。", offices=[office])
    unguard("consent_notice")
    Notice.objects.filter(pk=notice.pk).update(body="全員必ず提出すること。")
    code, output = verify_audit("--full")
    assert code == 1
    assert "text: notice" in output


def test_a_receipt_pointing_elsewhere_is_caught(history):
    unguard("consent_decision")
    decision = services.Decision.objects.order_by("audit_seq").first()
    services.Decision.objects.filter(pk=decision.pk).update(entry_hash="f" * 64)
    code, output = verify_audit("--full")
    assert code == 1
    assert f"FAILED at seq {decision.audit_seq}: receipt" in output


def test_an_opening_that_does_not_open_is_caught(history):
    unguard("consent_eventopening")
    opening = EventOpening.objects.order_by("seq").first()
    secret = json.loads(opening.secret)
    EventOpening.objects.filter(pk=opening.pk).update(
        secret=chain.canonical_json({**secret, "choice": "opt_in"}).decode()
    )
    code, output = verify_audit("--full")
    assert code == 1
    assert f"FAILED at seq {opening.seq}: opening" in output


def test_a_forged_node_is_caught(history):
    unguard("consent_lognode")
    LogNode.objects.filter(level=1, index=0).update(hash="0" * 64)
    code, output = verify_audit("--full")
    assert code == 1
    assert "tree" in output
    # Caught where the node is rebuilt from the leaves, not only as a stray node at the end.
    assert "FAILED at seq 2: tree: the stored Merkle node (1, 0)" in output


def test_a_forged_checkpoint_row_is_caught(history):
    log.publish_checkpoint()
    unguard("consent_signedcheckpoint")
    SignedCheckpoint.objects.update(root="0" * 64)
    code, output = verify_audit("--full")
    assert code == 1
    assert "checkpoint" in output
    # The signature check refuses the row before any root is compared with it.
    assert "the note is not this log's signature" in output


def test_new_tables_are_append_only(history, union, witness_seed):
    log.register_witness_key(user=union.user, vkey=witness_vkey(witness_seed))
    checkpoint = log.publish_checkpoint()
    log.add_cosignature(user=union.user, size=checkpoint.size, line=cosign(witness_seed, checkpoint))
    tables = [LogNode, EventOpening, SignedCheckpoint, WitnessKey, Cosignature, ExplanationVersion]
    for model in tables:
        table = model._meta.db_table
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET id = id")
        if connection.vendor == "postgresql":
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {table} CASCADE")
    assert LogNode.objects.exists() and Cosignature.objects.exists()


# --- Incremental verification ------------------------------------------------------


def test_the_union_page_resumes_from_the_last_verified_point(client, union, history):
    sign_in_with_mfa(client, union.user)
    assert client.get(reverse("union_audit")).status_code == 200
    first = LogVerification.objects.latest()
    assert first.size >= history
    decide(services.Employee.objects.get(employee_number="E0001"), Choice.UNDECIDED)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("union_audit"))
    assert response.status_code == 200
    assert response.context["result"].ok
    assert response.context["result"].resumed_from == first.size
    walked = [q["sql"] for q in queries if "consent_auditevent" in q["sql"] and '"seq" >' in q["sql"]]
    assert walked and all(f'"seq" > {first.size}' in sql for sql in walked)
    assert LogVerification.objects.latest().size > first.size


def test_the_totals_of_checkpoints_and_cosignatures_count_only_what_came_after_the_last_point(
    union, history, witness_seed
):
    log.register_witness_key(user=union.user, vkey=witness_vkey(witness_seed))
    checkpoint = log.publish_checkpoint()
    log.add_cosignature(user=union.user, size=checkpoint.size, line=cosign(witness_seed, checkpoint))
    assert verification.verify().ok
    # Signed at exactly the point verified, after it was verified: still counted.
    assert log.publish_checkpoint().size == LogVerification.objects.latest().size
    decide(services.Employee.objects.get(employee_number="E0001"), Choice.UNDECIDED)
    checkpoint = log.publish_checkpoint()
    log.add_cosignature(user=union.user, size=checkpoint.size, line=cosign(witness_seed, checkpoint))
    with CaptureQueriesContext(connection) as queries:
        outcome = verification.verify()
    assert outcome.ok and outcome.resumed_from > 0
    assert (outcome.checkpoints, outcome.cosignatures) == (3, 2)
    assert (outcome.checkpoints, outcome.cosignatures) == (
        SignedCheckpoint.objects.count(),
        Cosignature.objects.count(),
    )
    counts = [
        q["sql"]
        for q in queries
        if "COUNT(" in q["sql"]
        and ("consent_signedcheckpoint" in q["sql"] or "consent_cosignature" in q["sql"])
    ]
    assert len(counts) == 2 and all("WHERE" in sql for sql in counts)
    # Two more points, the first with a checkpoint at exactly its size: each point carries
    # the totals below it forward, and the checkpoint at a point is counted once, after it.
    person = services.Employee.objects.get(employee_number="E0001")
    decide(person, Choice.OPT_IN)
    at_point = log.publish_checkpoint()
    assert verification.verify().ok and LogVerification.objects.latest().size == at_point.size
    decide(person, Choice.OPT_OUT)
    again = verification.verify()
    assert again.ok and again.resumed_from == at_point.size
    assert (again.checkpoints, again.cosignatures) == (4, 2)
    full = verification.verify(full=True)
    assert (full.checkpoints, full.cosignatures) == (4, 2)


def test_the_migration_counts_at_each_point_verified_before_it(union, history, witness_seed):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("consent.migrations.0011_gen10m_verification_counts")
    log.register_witness_key(user=union.user, vkey=witness_vkey(witness_seed))
    checkpoint = log.publish_checkpoint()
    log.add_cosignature(user=union.user, size=checkpoint.size, line=cosign(witness_seed, checkpoint))
    head = AuditHead.objects.get(pk=1).seq
    for size in (checkpoint.size - 1, checkpoint.size, head):
        LogVerification.objects.create(
            size=size, entry_hash="", root="", verified_at=timezone.now(), checkpoints_below=9, cosignatures=9
        )
    migration.count_at_each_point(apps, None)
    counted = list(LogVerification.objects.order_by("size").values_list("checkpoints_below", "cosignatures"))
    assert counted == [(0, 0), (0, 0), (1, 1)]


def test_incremental_verification_catches_a_rewrite_before_its_point(history):
    assert verification.verify().ok
    unguard("consent_auditevent")
    last = LogVerification.objects.latest()
    AuditEvent.objects.filter(seq=last.size).update(entry_hash="e" * 64)
    outcome = verification.verify()
    assert not outcome.ok and "rewritten" in outcome.reason


# --- Witnesses ---------------------------------------------------------------------


def test_witness_key_and_cosignature_are_checked_and_on_the_chain(union, history, witness_seed):
    witness = log.register_witness_key(user=union.user, vkey=witness_vkey(witness_seed))
    assert AuditEvent.objects.get(seq=witness.audit_seq).kind == "log.witness_registered"
    checkpoint = log.publish_checkpoint()
    cosignature = log.add_cosignature(
        user=union.user, size=checkpoint.size, line=cosign(witness_seed, checkpoint)
    )
    event = AuditEvent.objects.get(seq=cosignature.audit_seq)
    assert event.kind == "log.checkpoint_cosigned"
    assert json.loads(event.body)["actor"] == audit.staff_identity(union.user)
    assert cosignature.line in log.note_with_cosignatures(checkpoint)
    assert verify_audit("--full")[0] == 0


def test_a_cosignature_from_another_key_is_refused(union, history, witness_seed):
    log.register_witness_key(user=union.user, vkey=witness_vkey(witness_seed))
    checkpoint = log.publish_checkpoint()
    count = AuditEvent.objects.count()
    with pytest.raises(log.LogRefused):
        log.add_cosignature(
            user=union.user,
            size=checkpoint.size,
            line=cosign(chain.generate_key(WITNESS_NAME, chain.SIG_COSIGNATURE_V1), checkpoint),
        )
    with pytest.raises(log.LogRefused):
        log.add_cosignature(user=union.user, size=checkpoint.size, line="not a cosignature")
    assert AuditEvent.objects.count() == count


def test_a_malformed_witness_key_is_refused(union, db):
    with pytest.raises(log.LogRefused):
        log.register_witness_key(user=union.user, vkey="not a key")


@pytest.mark.parametrize(
    "key,message",
    [
        ("", "LOG_SIGNING_KEY must be set"),
        ("PRIVATE+KEY+junk", "not a signing key"),
        (chain.generate_key("other.example/log")[0], "must match"),
    ],
    ids=["unset", "junk", "another-log"],  # the same in every xdist worker (the key is random)
)
def test_production_refuses_to_start_without_a_fitting_signing_key(key, message):
    result = start_django(production_env(LOG_SIGNING_KEY=key))
    assert result.returncode != 0 and message in result.stderr


# --- The union's witness pages -------------------------------------------------------

WITNESS_GETS = ["/union/witness/", "/union/witness/checkpoint-1.txt", "/union/witness/consistency-1.txt"]
WITNESS_POSTS = ["/union/witness/key/", "/union/witness/sign/", "/union/witness/cosignature/"]


@pytest.fixture
def union_client(client, union):
    return sign_in_with_mfa(client, union.user)


def test_the_witness_round_on_the_union_pages(union_client, union, history, witness_seed):
    """Register the key, download the checkpoint, cosign it on the laptop, upload; then again with a proof."""
    response = union_client.post("/union/witness/key/", {"vkey": witness_vkey(witness_seed)})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(kind="log.witness_registered").count() == 1
    page = union_client.get("/union/witness/").content.decode()
    assert witness_vkey(witness_seed) in page
    assert union_client.post("/union/witness/sign/").status_code == 302
    checkpoint = SignedCheckpoint.objects.latest()
    assert (
        f"/union/witness/checkpoint-{checkpoint.size}.txt"
        in union_client.get("/union/witness/").content.decode()
    )
    first = union_client.get(f"/union/witness/checkpoint-{checkpoint.size}.txt")
    assert first.status_code == 200 and first["Content-Disposition"].startswith("attachment")
    assert first.content.decode() == checkpoint.note
    line = cosign(witness_seed, checkpoint)
    response = union_client.post("/union/witness/cosignature/", {"size": checkpoint.size, "line": line})
    assert response.status_code == 302
    assert checkpoint.cosignatures.count() == 1
    assert line.strip() in union_client.get("/log/checkpoint").content.decode()
    # Next round: the log grew; the laptop checks the consistency proof before cosigning.
    decide(services.Employee.objects.get(employee_number="E0002"), Choice.OPT_OUT)
    union_client.post("/union/witness/sign/")
    latest = SignedCheckpoint.objects.latest()
    second_note = union_client.get(f"/union/witness/checkpoint-{latest.size}.txt").content.decode()
    proof_text = union_client.get(f"/union/witness/consistency-{latest.size}.txt").content.decode()
    # The timer signs again meanwhile: the proof still runs to the checkpoint asked for.
    decide(services.Employee.objects.get(employee_number="E0002"), Choice.UNDECIDED)
    log.publish_checkpoint()
    assert union_client.get(f"/union/witness/consistency-{latest.size}.txt").content.decode() == proof_text
    old, hashes = chain.parse_consistency_proof(proof_text)
    assert old == checkpoint.size and second_note == latest.note
    assert chain.verify_consistency(
        old, latest.size, bytes.fromhex(checkpoint.root), bytes.fromhex(latest.root), hashes
    )
    kinds = set(AuditEvent.objects.values_list("kind", flat=True))
    assert {"log.checkpoint_cosigned", "log.checkpoint_downloaded", "log.consistency_downloaded"} <= kinds


def test_a_bad_cosignature_is_refused_with_a_message_and_changes_nothing(
    union_client, union, history, witness_seed
):
    log.register_witness_key(user=union.user, vkey=witness_vkey(witness_seed))
    checkpoint = log.publish_checkpoint()
    count = AuditEvent.objects.count()
    for line in ("これは連署ではありません", cosign(chain.generate_key(WITNESS_NAME, 4), checkpoint)):
        response = union_client.post("/union/witness/cosignature/", {"size": checkpoint.size, "line": line})
        assert response.status_code == 400
        assert "連署" in response.content.decode()
    assert AuditEvent.objects.count() == count and not checkpoint.cosignatures.exists()
    response = union_client.post("/union/witness/key/", {"vkey": "鍵ではない"})
    assert response.status_code == 400 and "立会人の鍵ではありません" in response.content.decode()


def test_the_consistency_proof_needs_a_cosigned_checkpoint_and_a_signed_size(union_client, history):
    checkpoint = log.publish_checkpoint()
    assert union_client.get(f"/union/witness/consistency-{checkpoint.size}.txt").status_code == 404
    assert union_client.get(f"/union/witness/checkpoint-{checkpoint.size + 1}.txt").status_code == 404


@pytest.mark.parametrize("path", WITNESS_GETS + WITNESS_POSTS)
def test_witness_pages_are_for_the_union_alone(client, alice, hr, path):
    method = client.post if path in WITNESS_POSTS else client.get
    assert method(path).status_code == 302  # anonymous: to sign in
    client.force_login(alice.user)
    assert method(path).status_code == 403
    sign_in_with_mfa(client, hr.user)
    assert method(path).status_code == 403


@pytest.mark.parametrize("path", WITNESS_POSTS)
def test_witness_writes_refuse_get(union_client, path):
    assert union_client.get(path).status_code == 405


@pytest.mark.parametrize("path", WITNESS_GETS)
def test_witness_downloads_refuse_post(union_client, history, path):
    log.publish_checkpoint()
    assert union_client.post(path).status_code == 405


def test_the_union_without_a_code_this_session_is_asked_for_one(client, union):
    client.force_login(union.user)
    response = client.get("/union/witness/")
    assert response.status_code == 302 and "reauthenticate" in response.url


def test_an_event_inserted_past_the_head_row_is_caught(history):
    """A correctly hashed event appended by INSERT alone, without the log's head row."""
    head = AuditEvent.objects.get(seq=history)
    body = chain.make_body(
        seq=history + 1,
        kind="role.granted",
        occurred_at="2026-11-27T10:00:00Z",
        actor=audit.SYSTEM,
        subject=None,
        payload={"role": "hr"},
    )
    leaf = chain.leaf_hash(body)
    AuditEvent.objects.create(
        seq=history + 1,
        body=body.decode(),
        leaf_hash=leaf.hex(),
        prev_hash=head.entry_hash,
        entry_hash=chain.entry_hash(bytes.fromhex(head.entry_hash), leaf).hex(),
        kind="role.granted",
        subject="",
        occurred_at=head.occurred_at,
    )
    outcome = verification.verify(full=True)
    assert not outcome.ok and "forged" in outcome.reason


def test_appends_during_a_verification_are_left_for_the_next(history, alice):
    """The walk stops at the head read first; rows committed meanwhile are no alarm."""
    from unittest import mock

    original = verification._check_checkpoints

    def check_then_append(checkpoints):
        # Between reading the head and walking the events, someone decides.
        original(checkpoints)
        decide(alice, Choice.UNDECIDED)

    with mock.patch.object(verification, "_check_checkpoints", check_then_append):
        assert verification.verify().ok
    assert verification.verify().ok
    assert verification.verify().ok


def test_a_checkpoint_signed_by_another_key_is_caught(history):
    """The same size and root, signed by a key that is not the log's."""
    checkpoint = log.publish_checkpoint()
    other, _vkey = chain.generate_key(log.settings.LOG_ORIGIN)
    forged = chain.sign_note(chain.split_note(checkpoint.note)[0], other)
    unguard("consent_signedcheckpoint")
    SignedCheckpoint.objects.filter(pk=checkpoint.pk).update(note=forged)
    code, output = verify_audit("--full")
    assert code == 1
    assert f"FAILED at seq {checkpoint.size}: checkpoint: the note" in output


def test_a_forged_cosignature_is_caught(history, union, witness_seed):
    log.register_witness_key(user=union.user, vkey=witness_vkey(witness_seed))
    checkpoint = log.publish_checkpoint()
    cosignature = log.add_cosignature(
        user=union.user, size=checkpoint.size, line=cosign(witness_seed, checkpoint)
    )
    assert verification.verify().ok
    unguard("consent_cosignature")
    other = cosign(chain.generate_key(WITNESS_NAME, 4), checkpoint).strip()
    Cosignature.objects.filter(pk=cosignature.pk).update(line=other)
    code, output = verify_audit("--full")
    assert code == 1
    assert "cosignature" in output


def test_the_cosigning_round_with_the_bundles_commands(union_client, union, history, alice, tmp_path):
    """VERIFY.md's witness steps, run as written: keygen once, then cosign, upload; next time with
    --previous and the consistency proof. The laptop refuses a rewritten log."""
    import io
    import subprocess
    import sys
    import zipfile

    def laptop(*args):
        return subprocess.run(
            [sys.executable, "-S", "verify_chain.py", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin"},
        )

    bundle = b"".join(union_client.get("/union/audit/export.zip").streaming_content)
    zipfile.ZipFile(io.BytesIO(bundle)).extractall(tmp_path)
    keygen = laptop("keygen", WITNESS_NAME)
    assert keygen.returncode == 0, keygen.stderr
    assert union_client.post("/union/witness/key/", {"vkey": keygen.stdout.strip()}).status_code == 302

    def cosign_round(*previous):
        union_client.post("/union/witness/sign/")
        size = SignedCheckpoint.objects.latest().size
        note = union_client.get(f"/union/witness/checkpoint-{size}.txt").content
        (tmp_path / f"checkpoint-{size}.txt").write_bytes(note)
        extra = []
        if previous:
            (old,) = previous
            proof = union_client.get(f"/union/witness/consistency-{size}.txt").content
            (tmp_path / f"consistency-{old}-{size}.txt").write_bytes(proof)
            extra = [
                "--previous",
                f"cosigned-{old}.txt",
                "--consistency-proof",
                f"consistency-{old}-{size}.txt",
            ]
        run = laptop(
            "cosign",
            "--key",
            "witness.key",
            "--checkpoint",
            f"checkpoint-{size}.txt",
            "--log-key",
            "log.vkey",
            *extra,
            "--output",
            f"cosigned-{size}.txt",
        )
        return size, run

    first, run = cosign_round()
    assert run.returncode == 0, run.stdout + run.stderr
    response = union_client.post("/union/witness/cosignature/", {"size": first, "line": run.stdout})
    assert response.status_code == 302
    decide(alice, Choice.UNDECIDED)
    second, run = cosign_round(first)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (
        union_client.post("/union/witness/cosignature/", {"size": second, "line": run.stdout}).status_code
        == 302
    )
    assert SignedCheckpoint.objects.get(size=second).cosignatures.count() == 1
    # A log rewritten below what the union cosigned: the server refuses to sign it, and a
    # checkpoint signed anyway (with the stolen key) is refused by the laptop.
    rewind(second - 1)
    with transaction.atomic():
        audit.append("role.granted", actor=audit.SYSTEM, payload={"role": "hr"})
        audit.append("role.granted", actor=audit.SYSTEM, payload={"role": "union"})
    with pytest.raises(log.LogRefused):
        log.publish_checkpoint()
    size = AuditHead.objects.get(pk=1).seq
    (tmp_path / f"checkpoint-{size}.txt").write_text(log.sign_checkpoint(size, log.root_at(size)))
    proof = chain.format_consistency_proof(second, log.consistency_proof(second, size))
    (tmp_path / "forged-proof.txt").write_text(proof)
    run = laptop(
        "cosign",
        "--key",
        "witness.key",
        "--checkpoint",
        f"checkpoint-{size}.txt",
        "--log-key",
        "log.vkey",
        "--previous",
        f"cosigned-{second}.txt",
        "--consistency-proof",
        "forged-proof.txt",
    )
    assert run.returncode == 1 and "REFUSED" in run.stdout


def test_an_opening_moved_to_another_employee_is_caught(history, bob):
    """Filed under bob, alice's event would show in bob's history, with her choice."""
    unguard("consent_eventopening")
    opening = EventOpening.objects.exclude(employee=bob).order_by("seq").first()
    EventOpening.objects.filter(pk=opening.pk).update(employee=bob)
    code, output = verify_audit("--full")
    assert code == 1
    assert f"FAILED at seq {opening.seq}: opening: the opening is filed under another employee" in output
