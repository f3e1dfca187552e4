"""What the server checks of everything it holds (docs/log-v2.md §5).

``verify(full=True)`` (the ``verify_audit`` command) starts from the first
event; ``verify()`` (the union's audit page) resumes from the last point
verified (``LogVerification``) and checks only what came after it, so its
cost follows the new events, not the length of the chain.

Each check walks the events in seq order alongside the rows that must agree
with them (Merkle nodes, openings, receipts), streaming, and reports the
first problem.
"""

import datetime
import json
from dataclasses import dataclass

from django.db.models import Count, Max, Q
from django.utils import timezone

from consent import chain, log, routers
from consent.models import (
    AuditEvent,
    AuditHead,
    Checkpoint,
    Cosignature,
    Decision,
    EventOpening,
    ExplanationVersion,
    LogNode,
    LogVerification,
    Notice,
    SignedCheckpoint,
)

CHUNK = 5000


@dataclass(frozen=True)
class Outcome:
    ok: bool
    size: int
    head_hash: str
    checkpoints: int = 0
    cosignatures: int = 0
    first_bad_seq: int | None = None
    reason: str | None = None
    resumed_from: int = 0

    def __str__(self):
        if self.ok:
            return (
                f"OK: {self.size} events, head seq {self.size} entry_hash {self.head_hash}; "
                f"{self.checkpoints} signed checkpoints, {self.cosignatures} cosignatures"
            )
        where = f" at seq {self.first_bad_seq}" if self.first_bad_seq is not None else ""
        return f"FAILED{where}: {self.reason}"


class Problem(Exception):
    def __init__(self, seq, reason):
        super().__init__(reason)
        self.seq, self.reason = seq, reason


def _parse_time(text):
    # fromisoformat is C code, strptime is not: this runs once per event.
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _next(rows):
    return next(rows, None)


def _nodes_between(start, end):
    """LogNode rows written by the appends of leaves start..end-1: node (L, i) is written
    with leaf (i + 1)·2^L − 1, so start < (i + 1)·2^L <= end."""
    query = Q(pk__in=[])  # matches nothing when no leaf was appended
    for level in range(end.bit_length()):
        low, high = ((start + (1 << level)) >> level) - 1, end >> level
        if low < high:
            query |= Q(level=level, index__gte=low, index__lt=high)
    return query


def _walk(start, end, prev, frontier, checkpoints):
    """Check events start+1..end against their links, indexed columns, nodes,
    openings and receipts; return (size, entry_hash, frontier) at the end.

    Bounded by ``end`` (the head read first), so appends committed meanwhile
    are left for the next verification instead of looking like extra rows."""
    events = (
        AuditEvent.objects.filter(seq__gt=start, seq__lte=end)
        .order_by("seq")
        .values_list("seq", "body", "leaf_hash", "prev_hash", "entry_hash", "kind", "subject", "occurred_at")
        .iterator(chunk_size=CHUNK)
    )
    nodes = (
        LogNode.objects.filter(_nodes_between(start, end))
        .order_by("id")
        .values_list("level", "index", "hash")
        .iterator(chunk_size=CHUNK)
    )
    openings = (
        EventOpening.objects.filter(seq__gt=start, seq__lte=end)
        .order_by("seq")
        .values_list("seq", "salt", "secret", "employee__pseudonym")
        .iterator(chunk_size=CHUNK)
    )
    receipts = (
        Decision.objects.filter(audit_seq__gt=start, audit_seq__lte=end)
        .order_by("audit_seq")
        .values_list("audit_seq", "entry_hash")
        .iterator(chunk_size=CHUNK)
    )
    opening, receipt = _next(openings), _next(receipts)
    pending = iter(checkpoints)
    checkpoint = _next(pending)
    seq = start
    for seq, body, leaf, prev_hash, entry_hash, kind, subject, occurred_at in events:
        if seq != start + 1:
            raise Problem(start + 1, f"gap: seq {start + 1} is missing")
        exported = {
            "seq": seq,
            "body": body,
            "leaf_hash": leaf,
            "prev_hash": prev_hash,
            "entry_hash": entry_hash,
        }
        # The verifier's own check of one link, so the server and the union's laptop agree.
        inner, _leaf, entry, problem = chain._check_event(exported, seq, prev)
        if problem:
            raise Problem(seq, problem)
        if (kind, subject or None, occurred_at) != (
            inner["kind"],
            inner["subject"],
            _parse_time(inner["occurred_at"]),
        ):
            raise Problem(seq, "indexed: kind, subject or occurred_at differs from the body")
        frontier, expected_nodes = chain.frontier_append(frontier, seq - 1, bytes.fromhex(leaf))
        for level, index, digest in expected_nodes:
            if _next(nodes) != (level, index, digest.hex()):
                raise Problem(
                    seq, f"tree: the stored Merkle node ({level}, {index}) does not match the leaves"
                )
        if (inner["subject"] or "").startswith("c:"):
            if opening is None or opening[0] != seq:
                raise Problem(seq, "opening: the event's commitment has no opening")
            _, salt, secret, pseudonym = opening
            if chain.commitment_to_text(bytes.fromhex(salt), secret.encode()) != inner["subject"]:
                raise Problem(seq, "opening: the opening does not open the event's commitment")
            # Otherwise another employee's history would show them this person's event.
            if json.loads(secret).get("pseudonym") != pseudonym:
                raise Problem(seq, "opening: the opening is filed under another employee")
            opening = _next(openings)
        elif opening is not None and opening[0] == seq:
            raise Problem(seq, "opening: an opening is stored for an event without a commitment")
        if kind == "decision.recorded":
            if receipt is None or receipt != (seq, entry_hash):
                raise Problem(seq, "receipt: no decision has this event's seq and entry_hash")
            receipt = _next(receipts)
        elif receipt is not None and receipt[0] == seq:
            raise Problem(seq, "receipt: a decision names an event that records no decision")
        while checkpoint is not None and checkpoint.size == seq:
            if chain.root_from_frontier(frontier).hex() != checkpoint.root:
                raise Problem(seq, f"checkpoint: the signed checkpoint at {seq} has another root")
            checkpoint = _next(pending)
        prev, start = entry, seq
    if checkpoint is not None:
        raise Problem(
            seq + 1, f"truncated: the log ends at seq {seq}, below the signed checkpoint at {checkpoint.size}"
        )
    if opening is not None:
        raise Problem(opening[0], "opening: an opening names an event that does not exist")
    if receipt is not None:
        raise Problem(receipt[0], "receipt: a decision names an event that does not exist")
    if _next(nodes) is not None:
        raise Problem(seq, "tree: the log holds Merkle nodes beyond its leaves")
    return seq, prev, frontier


def _check_checkpoints(checkpoints):
    for checkpoint in checkpoints:
        if not log.checkpoint_signed(checkpoint):
            raise Problem(
                checkpoint.size, "checkpoint: the note is not this log's signature on its size and root"
            )


def _check_cosignatures(start, end):
    """Cosignatures whose event is among those walked: the rows are append-only, each is
    kept with its event, and each check costs a pure-Python Ed25519 verification."""
    rows = Cosignature.objects.filter(audit_seq__gt=start, audit_seq__lte=end)
    for cosignature in rows.select_related("checkpoint", "witness"):
        if not log.cosignature_valid(cosignature):
            raise Problem(
                cosignature.checkpoint.size, f"cosignature: {cosignature.witness.name} does not verify"
            )


def _check_nothing_beyond_the_head():
    """An event stored past the head row was not appended by the log (which moves both at once).

    The highest seq is read before the head, so an append committed in between is not mistaken."""
    top = AuditEvent.objects.aggregate(top=Max("seq"))["top"] or 0
    head = AuditHead.objects.get(pk=1)
    if top > head.seq:
        raise Problem(head.seq + 1, "forged: an event is stored beyond the head of the log")


def _check_saved_heads():
    """The union's saved ``seq:entry_hash`` heads must still be in the chain."""
    saved = dict(Checkpoint.objects.values_list("seq", "entry_hash"))
    # A subquery, not the list: a statement takes at most 65,535 parameters.
    saved_seqs = Checkpoint.objects.values("seq")
    stored = dict(AuditEvent.objects.filter(seq__in=saved_seqs).values_list("seq", "entry_hash"))
    for seq, entry_hash in sorted(saved.items()):
        if stored.get(seq) != entry_hash:
            raise Problem(seq, "checkpoint-mismatch: a head the union saved is not in the chain")


def _check_texts():
    events = {}

    def payload_at(seq):
        if seq not in events:
            event = AuditEvent.objects.filter(seq=seq).only("body").first()
            events[seq] = json.loads(event.body)["payload"] if event else {}
        return events[seq]

    for version in ExplanationVersion.objects.all():
        fields = {name: getattr(version, name) for name in chain.EXPLANATION_TEXT_FIELDS}
        digest = chain.explanation_digest(version.number, fields)
        if digest != version.content_hash or payload_at(version.audit_seq).get("content_hash") != digest:
            raise Problem(
                version.audit_seq, f"text: explanation version {version.number} is not the text recorded"
            )
    for notice in Notice.objects.prefetch_related("offices"):
        digest = chain.notice_digest(notice.title, notice.body, [o.code for o in notice.offices.all()])
        if digest != notice.content_hash or payload_at(notice.audit_seq).get("content_hash") != digest:
            raise Problem(notice.audit_seq, f"text: notice {notice.audit_seq} is not the text recorded")


@routers.primary_reads()
def verify(*, full=False):
    """Check what the server holds; on success remember how far (LogVerification).

    On the primary, even from a union page: the head, the events and the point
    recorded must be one database's."""
    # Checkpoints first, then the head: a checkpoint signed meanwhile is never above the head read.
    latest = SignedCheckpoint.objects.order_by("-size").first()
    head = AuditHead.objects.get(pk=1)
    last = None if full else LogVerification.objects.order_by("-size").first()
    start = last.size if last else 0
    try:
        if last is not None:
            stored = AuditEvent.objects.filter(seq=last.size).values_list("entry_hash", flat=True).first()
            if stored != last.entry_hash or log.root_at(last.size).hex() != last.root:
                raise Problem(last.size, "rewritten: the log differs from what was verified at this seq")
            prev = bytes.fromhex(last.entry_hash)
            frontier = log.range_hashes(_decomposition(last.size))
        else:
            prev, frontier = chain.GENESIS, []
        checkpoints = list(
            SignedCheckpoint.objects.filter(size__gt=start, size__lte=head.seq).order_by("size")
        )
        if latest is not None and head.seq < latest.size:
            raise Problem(
                head.seq + 1, f"truncated: the head is below the signed checkpoint at {latest.size}"
            )
        _check_checkpoints(checkpoints)
        size, entry, frontier = _walk(start, head.seq, prev, frontier, checkpoints)
        if (size, entry.hex(), [h.hex() for h in frontier]) != (head.seq, head.entry_hash, head.frontier):
            raise Problem(size, "head: the head row does not match the last event")
        _check_nothing_beyond_the_head()
        _check_cosignatures(start, head.seq)
        _check_saved_heads()
        _check_texts()
    except Problem as problem:
        return Outcome(False, start, "", first_bad_seq=problem.seq, reason=problem.reason, resumed_from=start)
    # The totals shown, counting from the last point on: a count of every row grows with the log.
    signed = SignedCheckpoint.objects.filter(size__gte=start).aggregate(
        now=Count("pk"), below=Count("pk", filter=Q(size__lt=size))
    )
    cosigned = Cosignature.objects.filter(audit_seq__gt=start).aggregate(
        now=Count("pk"), up_to=Count("pk", filter=Q(audit_seq__lte=size))
    )
    checkpoints_below, cosignatures = (last.checkpoints_below, last.cosignatures) if last else (0, 0)
    if size > start:
        LogVerification.objects.create(
            size=size,
            entry_hash=entry.hex(),
            root=chain.root_from_frontier(frontier).hex(),
            verified_at=timezone.now(),
            checkpoints_below=checkpoints_below + signed["below"],
            cosignatures=cosignatures + cosigned["up_to"],
        )
    return Outcome(
        True,
        size,
        entry.hex(),
        checkpoints=checkpoints_below + signed["now"],
        cosignatures=cosignatures + cosigned["now"],
        resumed_from=start,
    )


def _decomposition(size):
    """The ranges of the complete subtrees of ``size``'s binary decomposition, left to right."""
    ranges, at = [], 0
    for bit in reversed(range(size.bit_length())):
        if size >> bit & 1:
            ranges.append((at, at + (1 << bit)))
            at += 1 << bit
    return ranges
