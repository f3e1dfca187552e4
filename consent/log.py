"""The witnessed log (docs/log-v2.md §2-3): the server's signing key, signed
checkpoints, inclusion and consistency proofs from the stored Merkle nodes,
and the union's witness keys and cosignatures.

The formats (checkpoint, signed note, cosignature, tlog-proof) come from
``consent.chain``, which the union's verifier shares; signing uses
``cryptography``.
"""

import base64
import hashlib
from functools import cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from consent import audit, chain
from consent.models import (
    AuditHead,
    Cosignature,
    ExplanationVersion,
    LogNode,
    Notice,
    SignedCheckpoint,
    WitnessKey,
)


class LogRefused(Exception):
    """A checkpoint, witness key or cosignature the log does not accept; the message says why."""


# --- The server's key -------------------------------------------------------------


def _openssl_sign(seed, message):
    # The same bytes as chain.ed25519_sign (Ed25519 is deterministic), a hundred times faster.
    return Ed25519PrivateKey.from_private_bytes(seed).sign(message)


@cache
def _private_key():
    """The signing key's text (PRIVATE+KEY+...); settings checked it names the log's origin."""
    if settings.LOG_SIGNING_KEY:
        return settings.LOG_SIGNING_KEY.strip()
    # Settings refuse to start without a key unless DEBUG is on: this is a
    # development key, so that tests and DEBUG runs need no setup.
    seed = hashlib.sha256(b"consent-ledger development log key\n" + settings.SECRET_KEY.encode()).digest()
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    key_id = chain.note_key_id(settings.LOG_ORIGIN, chain.SIG_ED25519, public)
    encoded = base64.b64encode(bytes([chain.SIG_ED25519]) + seed).decode()
    return f"PRIVATE+KEY+{settings.LOG_ORIGIN}+{key_id.hex()}+{encoded}"


def verifier_key():
    """The server's key in the signed-note vkey form, as /log/key serves it."""
    return chain.parse_private_key(_private_key()).key.vkey


def sign_checkpoint(size, root):
    """The checkpoint for ``size`` leaves with ``root``, as a signed note."""
    text = chain.format_checkpoint(settings.LOG_ORIGIN, size, root)
    return chain.sign_note(text, _private_key(), sign=_openssl_sign)


def checkpoint_signed(checkpoint):
    """Whether a stored checkpoint is this log's signature on its own size and root.

    Ed25519 signatures are deterministic, so re-signing gives the same note
    exactly when origin, size, root and signature are all as stored."""
    return sign_checkpoint(checkpoint.size, bytes.fromhex(checkpoint.root)) == checkpoint.note


# --- Stored nodes and proofs ----------------------------------------------------------


def range_hashes(ranges):
    """MTH(D[a:b]) of each range, from the stored nodes, in one query."""
    needed = {node for a, b in ranges for node in chain.subtree_nodes(a, b)}
    if not needed:
        return []
    query = Q()
    for level, index in needed:
        query |= Q(level=level, index=index)
    nodes = {
        (level, index): bytes.fromhex(digest)
        for level, index, digest in LogNode.objects.filter(query).values_list("level", "index", "hash")
    }
    return [chain.range_hash(a, b, nodes) for a, b in ranges]


def root_at(size):
    """The tree's root at ``size`` leaves, from the stored nodes."""
    return range_hashes([(0, size)])[0] if size else chain.EMPTY_ROOT


def inclusion_proof(index, size):
    return range_hashes(chain.inclusion_path(index, size))


def consistency_proof(old, new):
    return range_hashes(chain.consistency_path(old, new))


# --- Checkpoints ----------------------------------------------------------------


def latest_checkpoint():
    return SignedCheckpoint.objects.order_by("-size").first()


def _check_extends(checkpoint, size, root):
    proof = consistency_proof(checkpoint.size, size)
    if not chain.verify_consistency(checkpoint.size, size, bytes.fromhex(checkpoint.root), root, proof):
        raise LogRefused(
            _("The log at %(size)d events is not consistent with the checkpoint at %(old)d events.")
            % {"size": size, "old": checkpoint.size}
        )


@transaction.atomic
def publish_checkpoint():
    """Sign the current tree head and keep it; return the latest signed checkpoint.

    Refuses (LogRefused) a tree smaller than the latest signed checkpoint or
    not consistent with it and with the latest cosigned one. Every stored
    checkpoint passed the same test when it was signed, so by induction the
    tree extends every one of them, cosigned or not.
    """
    head = AuditHead.objects.select_for_update().get(pk=1)
    size, root = head.seq, chain.root_from_frontier([bytes.fromhex(h) for h in head.frontier])
    latest = latest_checkpoint()
    if latest is not None:
        if size < latest.size:
            raise LogRefused(
                _("The log has %(size)d events, fewer than the %(signed)d of the latest signed checkpoint.")
                % {"size": size, "signed": latest.size}
            )
        _check_extends(latest, size, root)
        cosigned = SignedCheckpoint.objects.filter(cosignatures__isnull=False).order_by("-size").first()
        if cosigned is not None:
            _check_extends(cosigned, size, root)
        if latest.size == size:
            return latest
    return SignedCheckpoint.objects.create(
        size=size, root=root.hex(), note=sign_checkpoint(size, root), created_at=timezone.now()
    )


def checkpoint_covering(seq):
    """The latest signed checkpoint if it covers event ``seq``; otherwise a new one."""
    latest = latest_checkpoint()
    if latest is not None and latest.size >= seq:
        return latest
    return publish_checkpoint()


def note_with_cosignatures(checkpoint):
    """The signed note followed by every cosignature line kept for it."""
    return checkpoint.note + "".join(c.line + "\n" for c in checkpoint.cosignatures.all())


def tlog_proof(seq, checkpoint):
    """The inclusion proof of event ``seq`` in ``checkpoint`` (c2sp.org/tlog-proof)."""
    proof = inclusion_proof(seq - 1, checkpoint.size)
    return chain.format_tlog_proof(seq - 1, proof, note_with_cosignatures(checkpoint))


# --- Texts ------------------------------------------------------------------------


def text_lines():
    """Every explanation version and notice in full, one canonical JSON object a line, for the
    bundle's texts.jsonl: the verifier recomputes each content hash and finds the event naming it."""
    for version in ExplanationVersion.objects.order_by("number"):
        fields = {name: getattr(version, name) for name in chain.EXPLANATION_TEXT_FIELDS}
        record = {"kind": "explanation", "number": version.number, "seq": version.audit_seq, **fields}
        yield chain.canonical_json(record).decode()
    for notice in Notice.objects.order_by("audit_seq").prefetch_related("offices"):
        offices = sorted(o.code for o in notice.offices.all())
        record = {"kind": "notice", "seq": notice.audit_seq, "title": notice.title, "body": notice.body}
        yield chain.canonical_json({**record, "offices": offices}).decode()


# --- Witnesses --------------------------------------------------------------------


def _witness_key(text):
    key = chain.parse_vkey(text)
    if key.sig_type != chain.SIG_COSIGNATURE_V1:
        raise chain.NoteError("not a cosignature/v1 key")
    return key


@transaction.atomic
def register_witness_key(*, user, vkey):
    """The union registers the verifier key of its witness (its laptop's key pair)."""
    try:
        key = _witness_key(vkey)
    except chain.NoteError:
        raise LogRefused(
            _("This is not a witness key. Paste the one line of the .vkey file that keygen wrote.")
        ) from None
    if WitnessKey.objects.filter(Q(name=key.name) | Q(vkey=key.vkey)).exists():
        raise LogRefused(_("A witness key with this name is already registered."))
    witness = WitnessKey(name=key.name, vkey=key.vkey, registered_at=timezone.now())
    audit.append(
        "log.witness_registered", actor=audit.staff_identity(user), payload={"vkey": key.vkey}, record=witness
    )
    return witness


def _cosigned_by(checkpoint, line, witnesses):
    """The witness whose cosignature ``line`` is, on this checkpoint; None if none is."""
    text, _signatures = chain.split_note(checkpoint.note)
    keys = {w.vkey: w for w in witnesses}
    try:
        _text, verified = chain.open_note(f"{text}\n{line}\n", [chain.parse_vkey(v) for v in keys])
    except chain.NoteError:
        return None
    return next((keys[key.vkey] for key, timestamp in verified if timestamp is not None), None)


@transaction.atomic
def add_cosignature(*, user, size, line):
    """Keep a witness's cosignature on the checkpoint of ``size`` after checking its signature."""
    line = line.strip()
    checkpoint = SignedCheckpoint.objects.filter(size=size).first()
    if checkpoint is None:
        raise LogRefused(_("This log published no checkpoint of that size."))
    if "\n" in line or not line.startswith("\u2014 "):
        raise LogRefused(
            _("This is not a cosignature line. Upload the line that the cosign command printed.")
        )
    witness = _cosigned_by(checkpoint, line, WitnessKey.objects.all())
    if witness is None:
        raise LogRefused(
            _(
                "This cosignature does not verify with a registered witness key on this checkpoint. "
                "Register the key first, and cosign the checkpoint shown on this page."
            )
        )
    if Cosignature.objects.filter(checkpoint=checkpoint, witness=witness).exists():
        raise LogRefused(_("This checkpoint already carries this witness's cosignature."))
    cosignature = Cosignature(checkpoint=checkpoint, witness=witness, line=line, created_at=timezone.now())
    audit.append(
        "log.checkpoint_cosigned",
        actor=audit.staff_identity(user),
        payload={"size": checkpoint.size, "root": checkpoint.root, "witness": witness.name},
        record=cosignature,
    )
    return cosignature


def cosignature_valid(cosignature):
    """Whether a kept cosignature line is its witness's signature on its checkpoint."""
    return (
        _cosigned_by(cosignature.checkpoint, cosignature.line, [cosignature.witness]) == cosignature.witness
    )
