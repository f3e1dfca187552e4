"""The consent ledger's audit chain, checkable with nothing but Python.

This file is the whole verifier: it imports only the standard library, so
the union can run it on its own laptop against an export of the chain::

    python3 chain.py audit.jsonl --checkpoint 120:3f5a…

Format. An export has one JSON object per line::

    {"seq": 7, "body": "<canonical JSON text>", "leaf_hash": "<hex>",
     "prev_hash": "<hex>", "entry_hash": "<hex>"}

``body`` is the event exactly as hashed: RFC 8785 canonical JSON of
``{"v", "seq", "kind", "occurred_at", "actor", "subject", "payload"}``.
``leaf_hash = SHA-256(0x00 || body)`` and
``entry_hash = SHA-256(0x02 || prev_hash || leaf_hash)``, where
``prev_hash`` is the previous event's ``entry_hash`` (32 zero bytes for the
first). Changing, removing or reordering any event changes every entry
hash after it, so a checkpoint (``seq:entry_hash``) saved earlier by
someone else no longer matches.

Exit codes: 0 intact, 1 the first problem found (printed with its seq and
reason), 2 bad arguments or an unreadable file.
"""

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass

GENESIS = bytes(32)
BODY_VERSION = 1


def _escape(text):
    out = []
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\b":
            out.append("\\b")
        elif char == "\f":
            out.append("\\f")
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _utf16_key(text):
    return text.encode("utf-16-be")


def _serialise(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_serialise(item) for item in value) + "]"
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("object keys must be strings")
        keys = sorted(value, key=_utf16_key)
        return "{" + ",".join(_escape(k) + ":" + _serialise(value[k]) for k in keys) + "}"
    # Floats are refused: their canonical form is subtle and payloads never need one.
    raise TypeError(f"{type(value).__name__} is not allowed in a chain body")


def canonical_json(obj):
    """RFC 8785 canonical JSON (for strings, integers, booleans, null, lists, objects)."""
    return _serialise(obj).encode("utf-8")


def make_body(*, seq, kind, occurred_at, actor, subject, payload):
    return canonical_json(
        {
            "v": BODY_VERSION,
            "seq": seq,
            "kind": kind,
            "occurred_at": occurred_at,
            "actor": actor,
            "subject": subject,
            "payload": payload,
        }
    )


def leaf_hash(body):
    return hashlib.sha256(b"\x00" + body).digest()


def entry_hash(prev_hash, leaf):
    return hashlib.sha256(b"\x02" + prev_hash + leaf).digest()


def export_line(*, seq, body, leaf_hash, prev_hash, entry_hash):
    return canonical_json(
        {
            "seq": seq,
            "body": body.decode("utf-8"),
            "leaf_hash": leaf_hash.hex(),
            "prev_hash": prev_hash.hex(),
            "entry_hash": entry_hash.hex(),
        }
    ).decode("utf-8")


class ExportError(ValueError):
    """An export file that is not JSON Lines of events."""


def read_export(lines):
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError as error:
            raise ExportError(f"line {number} is not JSON: {error.msg}") from None
        if not isinstance(event, dict):
            raise ExportError(f"line {number} is not a JSON object")
        yield event


def parse_checkpoint(text):
    """ "SEQ:HASH" as (seq, lowercase hex); ValueError with a readable message otherwise."""
    seq_text, sep, digest = text.strip().partition(":")
    digest = digest.lower()
    if (
        not sep
        or not seq_text.isdigit()
        or int(seq_text) < 1
        or len(digest) != 64
        or any(c not in "0123456789abcdef" for c in digest)
    ):
        raise ValueError(f"a checkpoint is SEQ:HASH with a 64-digit hex hash, not {text!r}")
    return int(seq_text), digest


@dataclass(frozen=True)
class Verification:
    ok: bool
    count: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str | None = None


def _fromhex(value):
    try:
        return bytes.fromhex(value) if isinstance(value, str) else None
    except ValueError:
        return None


def verify(events, checkpoints=()):
    """Check a chain in stored order; stop at the first problem. Streams: constant memory."""
    pending = {}
    for seq, digest in checkpoints:
        pending[int(seq)] = digest.lower()
    expected = 1
    prev = GENESIS
    count = 0

    def failed(seq, reason):
        return Verification(False, count, expected - 1, prev.hex(), seq, reason)

    for event in events:
        seq = event.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            return failed(expected, "edited: an event has no integer seq")
        if seq > expected:
            return failed(expected, f"gap: expected seq {expected} but found {seq} (missing or moved)")
        if seq < expected:
            return failed(
                expected, f"reordered: expected seq {expected} but found {seq} again or out of order"
            )
        body_text = event.get("body")
        leaf = _fromhex(event.get("leaf_hash"))
        stored_prev = _fromhex(event.get("prev_hash"))
        entry = _fromhex(event.get("entry_hash"))
        if not isinstance(body_text, str) or leaf is None or stored_prev is None or entry is None:
            return failed(seq, "edited: the event lacks its body or hashes")
        body = body_text.encode("utf-8")
        if leaf_hash(body) != leaf:
            return failed(seq, "edited: the body does not match its leaf hash")
        try:
            inner = json.loads(body_text)
        except json.JSONDecodeError:
            return failed(seq, "edited: the body is not JSON")
        if not isinstance(inner, dict) or inner.get("seq") != seq or inner.get("v") != BODY_VERSION:
            return failed(seq, "edited: the body's own seq or version does not match")
        if stored_prev != prev:
            return failed(seq, "broken-link: prev_hash is not the previous event's entry_hash")
        if entry_hash(prev, leaf) != entry:
            return failed(seq, "broken-link: entry_hash does not follow from prev_hash and leaf_hash")
        if seq in pending and pending.pop(seq) != entry.hex():
            return failed(seq, "checkpoint-mismatch: the chain has a different entry_hash at this checkpoint")
        prev = entry
        count += 1
        expected += 1
    if pending:
        lowest = min(pending)
        return Verification(
            False,
            count,
            expected - 1,
            prev.hex(),
            expected,
            f"truncated: the chain ends at seq {expected - 1}, below the checkpoint at seq {lowest}",
        )
    return Verification(True, count, expected - 1, prev.hex())


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m consent.chain",
        description="Verify an export of the consent ledger's audit chain (JSON Lines).",
    )
    parser.add_argument("file", help="the export (JSON Lines); - for standard input")
    parser.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="SEQ:HASH",
        help="a head saved earlier that the chain must still contain (repeatable)",
    )
    parser.add_argument(
        "--checkpoints-file",
        metavar="FILE",
        help="a file of SEQ:HASH lines (lines starting with # are ignored)",
    )
    args = parser.parse_args(argv)
    try:
        texts = list(args.checkpoint)
        if args.checkpoints_file:
            with open(args.checkpoints_file, encoding="utf-8") as handle:
                texts += [line for line in handle if line.strip() and not line.lstrip().startswith("#")]
        checkpoints = [parse_checkpoint(text) for text in texts]
        handle = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8")  # noqa: SIM115
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        with handle:
            result = verify(read_export(handle), checkpoints)
    except (ExportError, UnicodeDecodeError) as error:
        print(f"FAILED: {error}")
        return 1
    if result.ok:
        print(f"OK: {result.count} events, head seq {result.head_seq} entry_hash {result.head_hash}")
        return 0
    print(f"FAILED at seq {result.first_bad_seq}: {result.reason}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
