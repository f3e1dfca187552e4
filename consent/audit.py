"""The Django side of the audit chain: append under the head lock, verify, export.

The hashing rules live in ``consent.chain`` (standard library only) so that
the union's verifier and this module cannot disagree.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from consent import chain
from consent.models import AuditEvent, AuditHead

SYSTEM = "system"


def rfc3339(moment):
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def append(kind, *, actor, subject=None, payload=None, event_model=AuditEvent, head_model=AuditHead):
    """Append one event and return it. Must run inside the transaction it records.

    Call it last in the transaction: the head row stays locked until commit,
    and every other writer waits on it.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.append must run inside the transaction it records")
    head = head_model.objects.select_for_update().get(pk=1)
    now = timezone.now()
    seq = head.seq + 1
    body = chain.make_body(
        seq=seq,
        kind=kind,
        occurred_at=rfc3339(now),
        actor=actor,
        subject=subject,
        payload=payload or {},
    )
    leaf = chain.leaf_hash(body)
    entry = chain.entry_hash(bytes.fromhex(head.entry_hash), leaf)
    event = event_model.objects.create(
        seq=seq,
        body=body.decode(),
        leaf_hash=leaf.hex(),
        prev_hash=head.entry_hash,
        entry_hash=entry.hex(),
        kind=kind,
        subject=subject or "",
        occurred_at=now,
    )
    head.seq = seq
    head.entry_hash = entry.hex()
    head.save(update_fields=["seq", "entry_hash"])
    return event


def exported_events(queryset=None):
    """Events as the export format's dicts, streamed in stored order."""
    rows = (queryset if queryset is not None else AuditEvent.objects.all()).order_by("id")
    for seq, body, leaf, prev, entry in rows.values_list(
        "seq", "body", "leaf_hash", "prev_hash", "entry_hash"
    ).iterator(chunk_size=5000):
        yield {"seq": seq, "body": body, "leaf_hash": leaf, "prev_hash": prev, "entry_hash": entry}


def export_lines():
    for event in exported_events():
        yield chain.export_line(
            seq=event["seq"],
            body=event["body"].encode(),
            leaf_hash=bytes.fromhex(event["leaf_hash"]),
            prev_hash=bytes.fromhex(event["prev_hash"]),
            entry_hash=bytes.fromhex(event["entry_hash"]),
        )


def verify_database(checkpoints=()):
    """Verify the stored chain, in insertion order, against optional checkpoints."""
    return chain.verify(exported_events(), checkpoints)
