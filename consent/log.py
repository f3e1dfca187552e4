"""The witnessed log (docs/log-v2.md §2-3): the server's signing key, signed
checkpoints, inclusion and consistency proofs from the stored Merkle nodes,
and the union's witness keys and cosignatures.

The formats (checkpoint, signed note, cosignature, tlog-proof) come from
``consent.chain``, which the union's verifier shares; signing uses
``cryptography``.
"""

import hashlib
from functools import cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from consent import audit, chain
from consent.models import AuditHead, Cosignature, LogNode, SignedCheckpoint, WitnessKey


class LogRefused(Exception):
    """A checkpoint, witness key or cosignature the log does not accept; the message says why."""


# --- The server's key -------------------------------------------------------------


@cache
def _signing_key():
    if settings.LOG_SIGNING_KEY:
        name, seed = chain.parse_private_key(settings.LOG_SIGNING_KEY)
    else:
        # Settings refuse to start without a key unless DEBUG is on: this is a
        # development key, so that tests and `make run` need no setup.
        name = settings.LOG_ORIGIN
        seed = hashlib.sha256(b"consent-ledger development log key\n" + settings.SECRET_KEY.encode()).digest()
    return name, Ed25519PrivateKey.from_private_bytes(seed)


def _public_bytes(key):
    return key.public_key().public_bytes_raw()


def verifier_key():
    """The server's key in the signed-note vkey form, as /log/key serves it."""
    name, key = _signing_key()
    return chain.vkey_text(name, _public_bytes(key))


def sign_checkpoint(size, root):
    """The checkpoint for ``size`` leaves with ``root``, as a signed note."""
    name, key = _signing_key()
    text = chain.checkpoint_text(settings.LOG_ORIGIN, size, root)
    return chain.signed_note(text, name, _public_bytes(key), key.sign(text.encode()))


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
    lines = [c.line for c in checkpoint.cosignatures.all()]
    return chain.add_signature_lines(checkpoint.note, lines)


def tlog_proof(seq, checkpoint):
    """The inclusion proof of event ``seq`` in ``checkpoint`` (c2sp.org/tlog-proof)."""
    proof = inclusion_proof(seq - 1, checkpoint.size)
    return chain.tlog_proof_text(seq - 1, proof, note_with_cosignatures(checkpoint))


# --- Witnesses --------------------------------------------------------------------


@transaction.atomic
def register_witness_key(*, user, vkey):
    """The union registers the verifier key of its witness (its laptop's key pair)."""
    try:
        name, _key_hash, _public = chain.parse_vkey(vkey.strip(), chain.COSIGNATURE_KEY_TYPE)
    except ValueError:
        raise LogRefused(
            _("This is not a witness key. Paste the one line of the .vkey file that keygen wrote.")
        ) from None
    if WitnessKey.objects.filter(Q(name=name) | Q(vkey=vkey.strip())).exists():
        raise LogRefused(_("A witness key with this name is already registered."))
    event = audit.append(
        "log.witness_registered", actor=audit.staff_identity(user), payload={"vkey": vkey.strip()}
    )
    return WitnessKey.objects.create(
        name=name, vkey=vkey.strip(), registered_at=timezone.now(), audit_seq=event.seq
    )


@transaction.atomic
def add_cosignature(*, user, size, line):
    """Keep a witness's cosignature on the checkpoint of ``size`` after checking its signature."""
    line = line.strip()
    checkpoint = SignedCheckpoint.objects.filter(size=size).first()
    if checkpoint is None:
        raise LogRefused(_("This log published no checkpoint of that size."))
    try:
        name, key_hash, timestamp, signature = chain.parse_cosignature_line(line)
    except ValueError:
        raise LogRefused(
            _("This is not a cosignature line. Upload the line that the cosign command printed.")
        ) from None
    witness = next(
        (
            w
            for w in WitnessKey.objects.filter(name=name)
            if chain.parse_vkey(w.vkey, chain.COSIGNATURE_KEY_TYPE)[1] == key_hash
        ),
        None,
    )
    if witness is None:
        raise LogRefused(_("No registered witness key matches this cosignature. Register the key first."))
    if not _cosignature_verifies(checkpoint, witness, timestamp, signature):
        raise LogRefused(
            _("The cosignature does not match this checkpoint. Cosign the checkpoint shown on this page.")
        )
    if Cosignature.objects.filter(checkpoint=checkpoint, witness=witness).exists():
        raise LogRefused(_("This checkpoint already carries this witness's cosignature."))
    event = audit.append(
        "log.checkpoint_cosigned",
        actor=audit.staff_identity(user),
        payload={"size": checkpoint.size, "root": checkpoint.root, "witness": witness.name},
    )
    return Cosignature.objects.create(
        checkpoint=checkpoint, witness=witness, line=line, created_at=timezone.now(), audit_seq=event.seq
    )


def _cosignature_verifies(checkpoint, witness, timestamp, signature):
    public = chain.parse_vkey(witness.vkey, chain.COSIGNATURE_KEY_TYPE)[2]
    message = chain.cosignature_message(chain.note_text(checkpoint.note), timestamp)
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def cosignature_valid(cosignature):
    """Whether a kept cosignature line is its witness's signature on its checkpoint."""
    try:
        name, key_hash, timestamp, signature = chain.parse_cosignature_line(cosignature.line)
    except ValueError:
        return False
    witness = cosignature.witness
    return (
        name == witness.name
        and chain.parse_vkey(witness.vkey, chain.COSIGNATURE_KEY_TYPE)[1] == key_hash
        and _cosignature_verifies(cosignature.checkpoint, witness, timestamp, signature)
    )
