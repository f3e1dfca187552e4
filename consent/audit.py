"""The Django side of the audit chain: append under the head lock, export.

The hashing rules live in ``consent.chain`` (standard library only) so that
the union's verifier and this module cannot disagree. Bodies follow
docs/log-v2.md: an event about an employee names them only through a fresh
commitment whose opening is stored privately (``EventOpening``) and handed to
that employee alone; role holders act under a stable staff identity.
"""

import datetime
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.apps import apps as global_apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from consent import chain, events, hot
from consent.models import AuditEvent

EMPLOYEE = "employee"
SYSTEM = "system"
COMPLAINANT = "complainant"
SALT_BYTES = 16


def rfc3339(moment):
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def body_time(moment, *, hour):
    """The time a body carries: the hour for events about an employee, else the second.

    An observer who saw someone at their desk at 10:03 cannot pick out their
    event by the minute; role actions stay accountable to the second.
    """
    moment = moment.astimezone(datetime.UTC).replace(microsecond=0)
    if hour:
        moment = moment.replace(minute=0, second=0)
    return moment


def staff_identity(user):
    """The stable identity under which a user acts in a role (HR, union, administrator).

    A different keyed hash from the employee pseudonym, so it links none of
    the same person's own events as an employee.
    """
    digest = hmac.new(settings.PSEUDONYM_KEY.encode(), f"staff:{user.pk}".encode(), hashlib.sha256)
    return "staff:" + digest.hexdigest()[:32]


@dataclass(frozen=True)
class Link:
    """One event as the log stores it: the body and its hashes, the Merkle nodes it
    completes, the head's new frontier and, for an event about an employee, its opening."""

    seq: int
    body: bytes
    leaf: bytes
    prev: bytes
    entry: bytes
    frontier: list
    nodes: list  # (level, index, hash)
    kind: str
    subject: str | None
    occurred_at: datetime.datetime
    opening: dict | None  # {"salt", "secret"}


def link(
    kind, *, seq, prev, frontier, moment, actor, subject=None, payload=None, pseudonym=None, secret=None
):
    """The event ``seq`` that follows a head with entry hash ``prev`` and ``frontier``.

    Pure: ``append`` stores what it returns under the head lock, and the
    benchmark generator (``generate_org``) writes the same rows in bulk, so the
    body format and the hashing exist once. ``pseudonym`` (an employee's) makes
    the subject a commitment to it plus ``secret``.
    """
    events.check(kind, payload or {}, about_employee=pseudonym is not None)
    opening = None
    if pseudonym is not None:
        if subject is not None:
            raise ValueError("an event about an employee has the commitment as its subject")
        salt = secrets.token_bytes(SALT_BYTES)
        hidden = {**(secret or {}), "pseudonym": pseudonym}
        subject = chain.commitment(salt, hidden)
        opening = {"salt": salt.hex(), "secret": chain.canonical_json(hidden).decode()}
    moment = body_time(moment, hour=opening is not None)
    body = chain.make_body(
        seq=seq,
        kind=kind,
        occurred_at=moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        actor=actor,
        subject=subject,
        payload=payload or {},
    )
    leaf = chain.leaf_hash(body)
    frontier, nodes = chain.frontier_append(frontier, seq - 1, leaf)
    return Link(
        seq, body, leaf, prev, chain.entry_hash(prev, leaf), frontier, nodes, kind, subject, moment, opening
    )


def append(
    kind, *, actor, subject=None, payload=None, opening_for=None, secret=None, record=None, also=(), apps=None
):
    """Append one event and return it. Must run inside the transaction it records.

    ``opening_for`` (an Employee) makes the subject a commitment to the
    employee's pseudonym plus ``secret`` (the fields only they may see); the
    opening is stored with the event. ``record`` is the unsaved row the event
    records (a decision, ...): its ``audit_seq`` (and ``entry_hash``, when it
    has one) are set to the event's and it is inserted with it. ``also`` are
    further unsaved rows that go into the same write, values known before the
    head is locked (a decision's queued confirmation mail). ``apps`` is a
    migration's app registry. ``kind`` and the payload's keys must be declared
    in ``consent.events``.

    Call it last in the transaction: the head row stays locked until commit,
    and every other writer waits on it. Under the lock there is one read (the
    head) and one write (``_store``); everything else is done before or after.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.append must run inside the transaction it records")
    if opening_for is None and secret is not None:
        raise ValueError("a secret needs the employee it is about (opening_for)")
    registry = apps or global_apps
    head_model = registry.get_model("consent", "AuditHead")
    head = hot.locked_head(head_model)
    now = timezone.now()
    new = link(
        kind,
        seq=head.seq + 1,
        prev=bytes.fromhex(head.entry_hash),
        frontier=[bytes.fromhex(h) for h in head.frontier],
        moment=now,
        actor=actor,
        subject=subject,
        payload=payload,
        pseudonym=opening_for.pseudonym if opening_for is not None else None,
        secret=secret,
    )
    event = registry.get_model("consent", "AuditEvent")(
        seq=new.seq,
        body=new.body.decode(),
        leaf_hash=new.leaf.hex(),
        prev_hash=head.entry_hash,
        entry_hash=new.entry.hex(),
        kind=kind,
        subject=new.subject or "",
        occurred_at=new.occurred_at,
    )
    node_model = registry.get_model("consent", "LogNode")
    rows = [[event], [node_model(level=lv, index=i, hash=h.hex()) for lv, i, h in new.nodes]]
    if new.opening is not None:
        opening_model = registry.get_model("consent", "EventOpening")
        rows.append([opening_model(seq=new.seq, employee=opening_for, created_at=now, **new.opening)])
    if record is not None:
        record.audit_seq = event.seq
        if hasattr(record, "entry_hash"):
            record.entry_hash = event.entry_hash
        rows.append([record])
    rows += [[row] for row in also]
    head.seq = new.seq
    head.entry_hash = event.entry_hash
    head.frontier = [h.hex() for h in new.frontier]
    _store(rows, head)
    return event


def _store(rows, head):
    """Insert ``rows`` (lists of new instances of one model each; a list of one gets
    its primary key) and save ``head``'s seq, entry hash and frontier.

    On PostgreSQL this is one statement, each write a data-modifying WITH, so the
    head is held for one round trip after its read, and the commit. Elsewhere
    (SQLite: in process, no round trips) the writes are made one by one."""
    connection = transaction.get_connection()
    head_fields = ["seq", "entry_hash", "frontier"]
    if connection.vendor != "postgresql":
        for objs in rows:
            if len(objs) == 1:
                objs[0].save(force_insert=True)
            elif objs:
                type(objs[0])._base_manager.bulk_create(objs)
        head.save(update_fields=head_fields)
        return
    q = connection.ops.quote_name
    writes, params, returned = [], [], []
    # The statements the ORM's compilers would write, without their per-call
    # machinery: it was most of the time spent holding the head.
    for objs in rows:
        if not objs:
            continue
        opts = objs[0]._meta
        fields = [f for f in opts.local_concrete_fields if f is not opts.auto_field]
        name = f"w{len(writes)}"
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = (
            f"INSERT INTO {q(opts.db_table)} ({', '.join(q(f.column) for f in fields)})"  # noqa: S608
            f" VALUES {', '.join([row] * len(objs))} RETURNING {q(opts.pk.column)}"
        )
        writes.append(f"{name} AS ({sql})")
        params += [f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in objs for f in fields]
        if len(objs) == 1:
            returned.append((objs[0], f"(SELECT {q(opts.pk.column)} FROM {name})"))  # noqa: S608
    fields = [head._meta.get_field(name) for name in head_fields]
    assignments = ", ".join(f"{q(f.column)} = %s" for f in fields)
    writes.append(
        f"w{len(writes)} AS (UPDATE {q(head._meta.db_table)} SET {assignments}"  # noqa: S608
        f" WHERE {q(head._meta.pk.column)} = %s)"
    )
    params += [f.get_db_prep_save(getattr(head, f.attname), connection) for f in fields] + [head.pk]
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(writes)} SELECT {', '.join(key for _, key in returned)}", params)
        keys = cursor.fetchone()
    for (obj, _), key in zip(returned, keys, strict=True):
        obj.pk = key
        obj._state.adding = False
        obj._state.db = connection.alias


def exported_events(queryset=None):
    """Events as the export format's dicts, streamed in stored order."""
    rows = (queryset if queryset is not None else AuditEvent.objects.all()).order_by("id")
    for seq, body, leaf, prev, entry in rows.values_list(
        "seq", "body", "leaf_hash", "prev_hash", "entry_hash"
    ).iterator(chunk_size=5000):
        yield {"seq": seq, "body": body, "leaf_hash": leaf, "prev_hash": prev, "entry_hash": entry}


def export_lines(queryset=None):
    for event in exported_events(queryset):
        yield chain.export_line(
            seq=event["seq"],
            body=event["body"].encode(),
            leaf_hash=bytes.fromhex(event["leaf_hash"]),
            prev_hash=bytes.fromhex(event["prev_hash"]),
            entry_hash=bytes.fromhex(event["entry_hash"]),
        )


def verify_database(checkpoints=()):
    """Links and leaves of the stored chain, in insertion order, against ``SEQ:HASH`` checkpoints.

    ``consent.verification`` checks everything else the server holds.
    """
    return chain.verify(exported_events(), checkpoints)
