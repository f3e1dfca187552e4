"""What an employee can prove with their receipt, and what nobody else can learn from the log
(issue #7: the union's copy names no one and shows no choice; issue #8: proofs for the employee)."""

import hashlib
import json

import pytest
from django.urls import reverse

from consent import audit, chain, log, services
from consent.models import AuditEvent, Choice, EventOpening, SignedCheckpoint, SwitchoverCase
from tests.conftest import acknowledge, decide, sign_in_with_mfa

CHOICES = set(Choice.values)


@pytest.fixture
def decided(alice):
    acknowledge(alice)
    decide(alice, Choice.OPT_IN)
    return decide(alice, Choice.OPT_OUT)


def test_the_json_receipt_recomputes_its_leaf_and_opens_its_commitment(alice_client, decided):
    data = alice_client.get(reverse("receipt_json", args=[decided.receipt_id])).json()
    audit_part = data["audit"]
    body = audit_part["body"].encode()
    assert chain.leaf_hash(body).hex() == audit_part["leaf_hash"]
    event = AuditEvent.objects.get(seq=decided.audit_seq)
    assert audit_part["entry_hash"] == event.entry_hash == decided.entry_hash
    opened = data["opening"]["secret"]
    salt, secret = bytes.fromhex(data["opening"]["salt"]), chain.canonical_json(opened)
    commitment = "c:" + hashlib.sha256(salt + secret).hexdigest()
    assert commitment == json.loads(body)["subject"] == audit_part["commitment"]
    assert data["opening"]["seq"] == decided.audit_seq
    assert opened["choice"] == Choice.OPT_OUT and opened["previous_choice"] == Choice.OPT_IN
    assert opened["pseudonym"] == decided.employee.pseudonym


def test_the_receipt_proof_is_an_inclusion_proof_in_a_signed_checkpoint(client, alice_client, decided):
    assert not SignedCheckpoint.objects.exists()
    response = alice_client.get(reverse("receipt_tlog_proof", args=[decided.receipt_id]))
    assert response.status_code == 200
    # Published on demand: the proof is there at once.
    assert SignedCheckpoint.objects.get().size >= decided.audit_seq
    proof = chain.parse_tlog_proof(response.content.decode())
    key = chain.parse_vkey(client.get("/log/key").content.decode())
    checkpoint, _cosignatures = chain.verify_checkpoint(proof.checkpoint, key)
    leaf = bytes.fromhex(AuditEvent.objects.get(seq=decided.audit_seq).leaf_hash)
    assert proof.index == decided.audit_seq - 1
    assert chain.verify_inclusion(proof.index, checkpoint.size, leaf, proof.hashes, checkpoint.root)


def test_a_later_proof_reuses_the_covering_checkpoint(alice_client, decided):
    alice_client.get(reverse("receipt_tlog_proof", args=[decided.receipt_id]))
    alice_client.get(reverse("receipt_tlog_proof", args=[decided.receipt_id]))
    assert SignedCheckpoint.objects.count() == 1


@pytest.mark.parametrize("name", ["receipt_tlog_proof", "receipt_jsonld", "receipt_json"])
def test_someone_elses_receipt_is_a_404(client, bob, decided, name):
    client.force_login(bob.user)
    assert client.get(reverse(name, args=[decided.receipt_id])).status_code == 404


@pytest.mark.parametrize("name", ["receipt_tlog_proof", "receipt_jsonld"])
def test_anonymous_is_sent_to_sign_in_and_post_is_refused(client, alice_client, decided, name):
    url = reverse(name, args=[decided.receipt_id])
    assert alice_client.post(url).status_code == 405
    alice_client.logout()
    assert client.get(url).status_code == 302


def test_history_lists_every_event_with_its_own_proof(alice_client, alice, bob, decided):
    services.record_sign_in(user=alice.user, methods="password")
    acknowledge(bob)
    html = alice_client.get(reverse("history")).content.decode()
    mine = EventOpening.objects.filter(employee=alice)
    assert mine.count() == 4  # acknowledgement, two decisions, a sign-in
    assert "選択を記録した" in html and "ログイン" in html
    for opening in mine:
        assert reverse("event_proof", args=[opening.seq]) in html
        assert opening.salt in html
        response = alice_client.get(reverse("event_proof", args=[opening.seq]))
        assert response.status_code == 200
        assert chain.parse_tlog_proof(response.content.decode()).index == opening.seq - 1
    bobs = EventOpening.objects.get(employee=bob)
    assert reverse("event_proof", args=[bobs.seq]) not in html
    assert alice_client.get(reverse("event_proof", args=[bobs.seq])).status_code == 404
    assert alice_client.get(reverse("event_proof", args=[1])).status_code == 404  # no opening: a system event


@pytest.mark.parametrize(
    "choices,status",
    [
        ([Choice.OPT_IN], "dpv:ConsentGiven"),
        ([Choice.OPT_OUT], "dpv:ConsentRefused"),
        ([Choice.UNDECIDED], "dpv:ConsentRequestDeferred"),
        ([Choice.OPT_IN, Choice.OPT_OUT], "dpv:ConsentWithdrawn"),
        ([Choice.OPT_IN, Choice.UNDECIDED], "dpv:ConsentWithdrawn"),
        ([Choice.OPT_OUT, Choice.OPT_IN], "dpv:ConsentGiven"),
    ],
)
def test_the_jsonld_consent_record(alice_client, alice, choices, status):
    acknowledge(alice)
    for choice in choices:
        decision = decide(alice, choice)
    response = alice_client.get(reverse("receipt_jsonld", args=[decision.receipt_id]))
    assert response["Content-Type"] == "application/ld+json"
    record = json.loads(response.content)
    assert record["@type"] == "dpv:ConsentRecord"
    assert record["dct:conformsTo"] == "https://w3id.org/dpv/schema/iso-27560#record"
    assert record["dpv:hasConsentStatus"]["@id"] == status
    assert record["dpv:hasNotice"]["dct:hasVersion"] == str(decision.explanation_version.number)
    assert record["dpv:hasNotice"]["ledger:contentHash"] == decision.explanation_version.content_hash
    assert record["ledger:log"]["ledger:logIndex"] == decision.audit_seq - 1
    assert record["ledger:log"]["ledger:inclusionProof"]["@id"].endswith(".tlog-proof")


# --- Issue #7: nobody learns a choice from the log -----------------------------------


def scalars(value, path=()):
    """Every (path, leaf value) of a body."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from scalars(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from scalars(item, (*path, index))
    else:
        yield path, value


def bodies_about(employee, extra_seqs=()):
    seqs = set(EventOpening.objects.filter(employee=employee).values_list("seq", flat=True)) | set(extra_seqs)
    return [json.loads(b) for b in AuditEvent.objects.filter(seq__in=seqs).values_list("body", flat=True)]


def test_no_value_recurs_across_ones_events_and_no_choice_or_pseudonym_is_in_the_log(
    alice, bob, hr, django_user_model
):
    """Acknowledgement, decisions, a change, sign-ins, a switch-over step and a role grant:
    what alice's events share is shared with bob's too, so it identifies nobody."""
    for person in (alice, bob):
        services.record_sign_in(user=person.user, methods="password")
        acknowledge(person)
        decide(person, Choice.OPT_IN)
        services.record_sign_in(user=person.user, methods="password+totp")
    case = SwitchoverCase.objects.get(employee=alice)
    services.record_switchover_step(user=hr.user, case=case, step="card_received")
    decide(alice, Choice.OPT_OUT)
    decide(bob, Choice.UNDECIDED)
    administrator = django_user_model.objects.create_superuser("root", "root@example.jp", "x-long-password")
    grant = services.grant_role(actor=administrator, user=alice.user, role="union")
    role_event = AuditEvent.objects.filter(kind="role.granted").latest("seq")

    alices = bodies_about(alice, [role_event.seq])
    assert len(alices) == 7
    bobs_values = {value for body in bodies_about(bob) for _path, value in scalars(body)}
    acknowledgement_seq = next(b["seq"] for b in alices if b["kind"] == "explanation.acknowledged")
    seen = {}
    for body in alices:
        for path, value in set(scalars(body)):
            if path == ("payload", "acknowledgement_seq") and value == acknowledgement_seq:
                continue  # a decision may name the acknowledgement it relied on
            if path == ("seq",) and value == acknowledgement_seq:
                continue
            seen.setdefault(value, set()).add(body["seq"])
    recurring = {value for value, seqs in seen.items() if len(seqs) > 1}
    assert recurring <= bobs_values, recurring - bobs_values

    everything = "\n".join(AuditEvent.objects.values_list("body", flat=True))
    for person in (alice, bob):
        assert person.pseudonym not in everything
    for body in AuditEvent.objects.values_list("body", flat=True):
        values = {value for _path, value in scalars(json.loads(body))}
        assert not values & CHOICES, body
        assert "password" not in body and str(case.pk) not in json.loads(body)["payload"].values()
    assert grant.role == "union"


def test_the_administrators_attack_finds_no_decision(client, alice, django_user_model):
    """Grant a role to a named person, read the identity it puts on the chain, look for their decisions."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib import admin as django_admin

    acknowledge(alice)
    decision = decide(alice, Choice.OPT_OUT)
    root = django_user_model.objects.create_superuser("root", "root@example.jp", "x-long-password")
    TOTP.activate(root, generate_totp_secret())
    sign_in_with_mfa(client, root)
    client.post("/admin/consent/rolegrant/add/", {"user": alice.user.pk, "role": "union"})
    role_event = AuditEvent.objects.get(kind="role.granted")
    identity = role_event.subject
    assert identity == audit.staff_identity(alice.user) and identity.startswith("staff:")
    pages = []
    for model in django_admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        pages.append(client.get(base).content.decode())
        for obj in model.objects.order_by("pk")[:50]:
            pages.append(client.get(f"{base}{obj.pk}/change/").content.decode())
    seen = "\n".join(pages)
    event = AuditEvent.objects.get(seq=decision.audit_seq)
    opening = EventOpening.objects.get(seq=decision.audit_seq)
    for secret in (alice.pseudonym, event.subject, event.body, opening.salt, opening.secret, "opt_out"):
        assert secret not in seen
    # The identity the grant wrote links to no decision of hers.
    assert not AuditEvent.objects.filter(kind="decision.recorded", body__contains=identity).exists()
    assert not AuditEvent.objects.filter(kind="decision.recorded", subject=identity).exists()


def test_times_in_bodies_about_employees_are_hours_and_role_actions_seconds(alice, hr, decided):
    for body in bodies_about(alice):
        assert body["occurred_at"].endswith(":00:00Z"), body
        assert body["actor"] == audit.EMPLOYEE
    services.grant_role(actor=hr.user, user=alice.user, role="union")
    role = json.loads(AuditEvent.objects.get(kind="role.granted").body)
    assert role["actor"] == audit.staff_identity(hr.user)
    assert len(role["occurred_at"]) == len("2026-11-27T10:03:12Z")


def test_a_checkpoint_is_published_for_a_proof_when_none_covers_the_event(alice_client, decided):
    log.publish_checkpoint()
    decision = decide(decided.employee, Choice.UNDECIDED)
    alice_client.get(reverse("receipt_tlog_proof", args=[decision.receipt_id]))
    assert log.latest_checkpoint().size >= decision.audit_seq


def test_the_union_checks_a_receipt_with_the_bundle_as_verify_md_says(client, alice, union, tmp_path):
    """The commands of VERIFY.md, run on the union's laptop: the receipt's event is in the log
    the server signed, and its opening (the employee's choice) matches the commitment."""
    import io
    import subprocess
    import sys
    import zipfile

    acknowledge(alice)
    decision = decide(alice, Choice.OPT_OUT)
    client.force_login(alice.user)
    (tmp_path / "receipt.json").write_bytes(
        client.get(reverse("receipt_json", args=[decision.receipt_id])).content
    )
    proof = client.get(reverse("receipt_tlog_proof", args=[decision.receipt_id])).content
    (tmp_path / "receipt.tlog-proof").write_bytes(proof)
    sign_in_with_mfa(client, union.user)
    bundle = b"".join(client.get("/union/audit/export.zip").streaming_content)
    zipfile.ZipFile(io.BytesIO(bundle)).extractall(tmp_path)
    command = [
        sys.executable,
        "-S",
        "verify_chain.py",
        "events.jsonl",
        "--checkpoint-note",
        "checkpoint.txt",
        "--key",
        "log.vkey",
        "--texts",
        "texts.jsonl",
        "--opening",
        "receipt.json",
        "--proof",
        "receipt.tlog-proof",
    ]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("OK")
    # A receipt claiming another choice does not open the commitment.
    receipt = json.loads((tmp_path / "receipt.json").read_text())
    receipt["opening"]["secret"]["choice"] = Choice.OPT_IN
    (tmp_path / "receipt.json").write_text(json.dumps(receipt))
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert run.returncode == 1, run.stdout + run.stderr
