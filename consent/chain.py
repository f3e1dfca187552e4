"""The consent ledger's audit log, and a verifier for it that needs only Python.

This one file is the whole verifier. It uses nothing but Python's standard
library, so the union can copy it to a laptop and check an export of the
log without installing anything::

    python3 verify_chain.py events.jsonl
    python3 verify_chain.py events.jsonl --checkpoints-file our-checkpoints.txt
    python3 verify_chain.py events.jsonl --key log.vkey --witness union.vkey \\
        --checkpoint-note saved-checkpoint.txt --proof my-event.tlog-proof \\
        --texts texts.jsonl --opening my-receipt.json
    python3 verify_chain.py keygen union.example/witness
    python3 verify_chain.py cosign --key witness.key --checkpoint checkpoint.txt \\
        --log-key log.vkey --previous last-cosigned.txt --consistency-proof proof.txt

(Inside the project it runs as ``python -m consent.chain``. Only an exact
first word ``keygen`` or ``cosign`` starts those commands; any other first
argument is the export to verify.)

What an export looks like
-------------------------
A text file (UTF-8) with one event per line. Each line is a JSON object::

    {"body":"...","entry_hash":"...","leaf_hash":"...","prev_hash":"...","seq":7}

- ``seq`` numbers the events 1, 2, 3 ... with no gaps, in the order they
  were recorded.
- ``body`` is the event itself, exactly as it was hashed: a JSON object in
  the canonical form of RFC 8785 (the same event always gives the same
  bytes) with seven keys:

  - ``v``: the format version, 2;
  - ``seq``; ``kind``: what happened (``decision.recorded``,
    ``notice.published``, ...);
  - ``occurred_at``: UTC time. To the second for actions of people in a
    role and of the system; to the hour for employees' own events, so that
    nobody can pick out an event by the minute someone was seen at a desk;
  - ``actor``: ``"employee"`` (an employee acting on their own record,
    without saying who), ``"staff:"`` and 32 hex digits (a person acting in a
    role: HR, the union, an administrator; stable, so role holders stay
    accountable), ``"system"`` or ``"complainant"``;
  - ``subject``: ``null``, a ``"staff:..."`` value, or, when the event is
    about an employee, a commitment ``"c:"`` and 64 hex digits (below);
  - ``payload``: public details only (an explanation's version and hash, a
    notice's hash and offices, counts). A choice is never in a body.

- ``leaf_hash`` is SHA-256 of one zero byte followed by the body's UTF-8
  bytes.
- ``prev_hash`` is the ``entry_hash`` of the event before (32 zero bytes,
  i.e. 64 zeros in hex, for the first event).
- ``entry_hash`` is SHA-256 of the byte 0x02, then ``prev_hash``, then
  ``leaf_hash`` (the raw 32-byte values, not their hex text).

Hashes are written as 64 lowercase hexadecimal digits.

Commitments and receipts
------------------------
A commitment is SHA-256 of a random 16-byte salt followed by the canonical
JSON of a secret: an object holding the employee's pseudonym and what only
they may see (their choice, the channel, ...). The salt is new for every
event, so two events of one person never share a value, and nobody can tell
from the log who did what. The employee's receipt holds the opening::

    {"audit": {"seq": 7, "entry_hash": "..."},
     "opening": {"seq": 7, "salt": "32 hex digits", "secret": {...}}}

``--opening RECEIPT`` recomputes the commitment and checks that it is the
subject of the event at that seq (and that the receipt's ``entry_hash`` is
the event's): it proves the event is the employee's and what they chose.

The Merkle tree and signed checkpoints
--------------------------------------
The leaf hashes also form a Merkle tree (RFC 6962: a node is SHA-256 of the
byte 0x01 and its two children; leaf N is the event at seq N + 1). The
ledger regularly signs the tree's size and root as a *checkpoint*
(c2sp.org/tlog-checkpoint, a signed note with an Ed25519 key)::

    ledger.example/consent-log
    4521
    (the root of the first 4521 events, in base64)

    — ledger.example/consent-log (key ID and signature, in base64)

The log's verifier key (``/log/key``, a line ``NAME+HASH+KEY``) checks the
signature line. Save checkpoints as they are published: ``--checkpoint-note
FILE`` (repeatable, with ``--key``) checks the signature and that the export
still contains exactly that tree, so a history rewritten after the
checkpoint, or cut below it, fails. Unlike a single hash, the tree lets the
ledger prove any one event is in it (an inclusion proof, a
c2sp.org/tlog-proof file: ``--proof FILE``), and that a later tree extends
an earlier one (a consistency proof).

Older checkpoints of the form ``SEQ:HASH`` (an ``entry_hash`` at a seq, as
on receipts) still work with ``--checkpoint`` and ``--checkpoints-file``.

Witnessing: keygen and cosign
-----------------------------
So that the ledger cannot show the union one history and employees another,
the union cosigns checkpoints (c2sp.org/tlog-cosignature, cosignature/v1)
on its own laptop:

1. ``keygen NAME`` writes a private key to ``witness.key`` (keep it secret)
   and prints the verifier key to register on the union's audit page.
2. ``cosign --key witness.key --checkpoint FILE --log-key log.vkey``
   ``--previous LAST --consistency-proof PROOF`` checks the ledger's
   signature, checks your own cosignature on ``LAST`` (the checkpoint you
   cosigned before, saved with ``--output`` last time) and the consistency
   proof from it (a file ``old N`` followed by one base64 hash a line, as
   c2sp.org/tlog-witness sends it). Only if the new checkpoint extends the
   old one does it print the cosignature line to upload. Otherwise it says
   ``REFUSED`` (exit code 1): the ledger's history was changed. The first
   time, leave out ``--previous`` and ``--consistency-proof``.

``--witness VKEY`` (repeatable) reports which witnesses cosigned each
checkpoint and proof given; a cosignature that does not verify fails.

Texts
-----
Explanations and notices are named on the log only by their content hash.
``--texts FILE`` (JSON Lines, one text a line) recomputes each hash and
checks that every ``explanation.published`` and ``notice.published`` event
has its text, and every text its event::

    {"kind": "explanation", "number": 2, "title_ja": "...", "title_en": "...",
     "body_ja": "...", "body_en": "...", "acknowledgement_ja": "...", "acknowledgement_en": "..."}
    {"kind": "notice", "title": "...", "body": "...", "offices": ["A1", "B2"]}

An explanation's hash is SHA-256 of the canonical JSON of its number and
six texts; a notice's of its title, body and sorted office codes.

What the verifier prints
------------------------
``OK: N events, head seq N entry_hash HASH`` and ``Merkle root of the N
events: ROOT`` when the chain checks out, then one line for each signed
checkpoint, proof, texts file and opening given (exit code 0). Otherwise
``FAILED at seq N: REASON`` or ``FAILED: FILE: REASON`` for the first
problem found (exit code 1), where REASON starts with one of:

- ``edited``: the event's body does not match its hash, names another seq,
  or is not a version 2 event;
- ``gap``: an event is missing;
- ``reordered``: events are out of order or repeated;
- ``broken-link``: an event does not follow on from the one before it;
- ``checkpoint-mismatch``: the export differs from a checkpoint (another
  ``entry_hash`` at its seq, or another Merkle root at its size);
- ``truncated``: the export ends before a checkpoint, or before the event a
  proof or receipt is about;
- ``bad-signature``: a checkpoint is not signed by the log's key, names
  another log, or carries a signature (or cosignature) that does not verify;
- ``proof-failed``: an inclusion proof does not lead from the event to the
  signed root;
- ``text-missing``, ``text-mismatch``, ``text-unlogged``: a published text
  is missing from the texts file, is published under another version, or a
  text was published by no event (changed afterwards);
- ``opening-mismatch``: the receipt's opening is not the event's commitment.

A file that is not UTF-8 JSON Lines also fails (exit code 1). Bad
arguments, a malformed key, or a file that cannot be opened give exit
code 2.

Written for Python 3.8 or newer.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import functools
import hashlib
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _encode_string

GENESIS = bytes(32)
BODY_VERSION = 2
SALT_BYTES = 16
# What an explanation version's content hash covers, besides its number.
EXPLANATION_TEXT_FIELDS = tuple(
    f"{part}_{lang}" for part in ("title", "body", "acknowledgement") for lang in ("ja", "en")
)

# Beyond this, RFC 8785 would write the IEEE 754 double nearest the integer,
# which is not the integer; refusing keeps bodies exact.
_MAX_SAFE_INT = 2**53 - 1

_HEX64 = re.compile(r"[0-9a-f]{64}")
_CHECKPOINT_SEQ = re.compile(r"[0-9]+")


@functools.lru_cache(maxsize=4096)
def _utf16_order(key):
    # RFC 8785 sorts keys by UTF-16 code units; big-endian bytes compare the same way.
    # Bodies reuse a handful of keys, so each one's order is computed once.
    return key.encode("utf-16-be", "surrogatepass")


def _serialise(value):
    # Bool before int: True is an int in Python but must stay JSON true.
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        # Python's escaping with ensure_ascii=False is exactly RFC 8785's:
        # the short escapes, \u00xx in lowercase for other controls, the rest as is.
        # (json.dumps(value, ensure_ascii=False) calls this same function, at a cost.)
        return _encode_string(value)
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise ValueError(f"integer {value} is outside the range JSON numbers hold exactly (2**53 - 1)")
        return int.__repr__(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_serialise(item) for item in value) + "]"
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"object keys must be strings, not {type(key).__name__}")
        keys = sorted(value, key=_utf16_order)
        return "{" + ",".join(_encode_string(key) + ":" + _serialise(value[key]) for key in keys) + "}"
    # Floats end here too: their canonical form is subtle, and payloads keep to integers.
    raise TypeError(f"{type(value).__name__} is not allowed in canonical JSON here")


def canonical_json(obj) -> bytes:
    """RFC 8785 canonical JSON of dicts, lists, strings, integers, booleans and None."""
    text = _serialise(obj)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (it contains a lone surrogate)") from None


def make_body(
    *, seq: int, kind: str, occurred_at: str, actor: str | None, subject: str | None, payload: dict
) -> bytes:
    """The exact bytes hashed for one event."""
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


def digest(obj) -> str:
    """Hex SHA-256 of an object's canonical JSON: how payloads name texts they do not carry."""
    return hashlib.sha256(canonical_json(obj)).hexdigest()


def explanation_digest(number: int, fields: dict) -> str:
    """The content hash of explanation version ``number``: its number and its six texts."""
    return digest({"number": number, **{name: fields[name] for name in EXPLANATION_TEXT_FIELDS}})


def notice_digest(title: str, body: str, office_codes) -> str:
    """The content hash of a notice: title, body and the codes of the offices it addresses."""
    return digest({"title": title, "body": body, "offices": sorted(office_codes)})


def commitment(salt: bytes, secret: dict) -> str:
    """``"c:" + hex SHA-256(salt ‖ canonical JSON of secret)``: an event's subject, hiding who and what.

    The salt is fresh for every event, so no two events of one person share a
    value; the secret always names the employee's pseudonym.
    """
    if not (isinstance(salt, bytes) and len(salt) == SALT_BYTES):
        raise ValueError(f"a commitment's salt is {SALT_BYTES} bytes")
    if not (isinstance(secret, dict) and isinstance(secret.get("pseudonym"), str)):
        raise ValueError("a commitment's secret is an object naming the pseudonym")
    return commitment_to_text(salt, canonical_json(secret))


def commitment_to_text(salt: bytes, text: bytes) -> str:
    """The commitment to a secret already in canonical JSON, such as an opening as stored:
    what it opens is exactly these bytes, with no parsing and writing again."""
    return "c:" + hashlib.sha256(salt + text).hexdigest()


def open_commitment(value: str, salt: bytes, secret: dict) -> bool:
    """Whether ``salt`` and ``secret`` (a receipt's opening) are what ``value`` commits to."""
    try:
        return commitment(salt, secret) == value
    except (TypeError, ValueError):
        return False


def leaf_hash(body: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + body).digest()


def entry_hash(prev_hash: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x02" + prev_hash + leaf).digest()


# The Merkle tree (RFC 6962 / RFC 9162)
#
# Leaves are the same leaf hashes as the chain; node (level L, index i)
# covers leaves [i * 2**L, (i + 1) * 2**L). Ranges are half-open: (a, b)
# is leaves a to b - 1, and MTH(D[a:b]) is the RFC 6962 hash of that range.

EMPTY_ROOT = hashlib.sha256(b"").digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n):
    """RFC 6962's k: the largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaves(leaves) -> bytes:
    """MTH of a list of leaf hashes: the reference, for tests and the verifier."""
    level = list(leaves)
    if not level:
        return EMPTY_ROOT
    # Pairing level by level and carrying an odd last node up unchanged is RFC 6962's split.
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def frontier_append(frontier, size: int, leaf: bytes):
    """Append leaf number ``size`` to a tree of ``size`` leaves with this frontier.

    The frontier is the hashes of the complete subtrees of size's binary
    decomposition, largest (leftmost) first. Returns the new frontier and the
    new complete nodes ``(level, index, hash)``: the leaf and every subtree it
    completes, the ones to store.
    """
    if len(frontier) != bin(size).count("1"):
        raise ValueError(f"a frontier of {len(frontier)} hashes does not fit a tree of {size} leaves")
    frontier = list(frontier)
    level, index, node = 0, size, leaf
    new_nodes = [(0, size, leaf)]
    while index & 1:
        node = node_hash(frontier.pop(), node)
        level, index = level + 1, index >> 1
        new_nodes.append((level, index, node))
    frontier.append(node)
    return frontier, new_nodes


def root_from_frontier(frontier) -> bytes:
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for node in reversed(frontier[:-1]):
        root = node_hash(node, root)
    return root


def _check_range(a, b):
    if not (_is_int(a) and _is_int(b) and 0 <= a < b):
        raise ValueError(f"({a}, {b}) is not a non-empty range of leaves")


def _stored(a, b):
    """``(level, index)`` when leaves [a, b) are exactly one complete subtree, else None."""
    width = b - a
    if width & (width - 1) or a % width:
        return None
    return width.bit_length() - 1, a // width


def subtree_nodes(a: int, b: int):
    """The stored nodes ``(level, index)``, left to right, whose hashes make MTH(D[a:b])."""
    _check_range(a, b)
    node = _stored(a, b)
    if node is not None:
        return [node]
    k = _split(b - a)
    return subtree_nodes(a, a + k) + subtree_nodes(a + k, b)


def range_hash(a: int, b: int, nodes) -> bytes:
    """MTH(D[a:b]) from stored nodes ``{(level, index): hash}``; KeyError names a missing one."""
    _check_range(a, b)
    node = _stored(a, b)
    if node is not None:
        return nodes[node]
    k = _split(b - a)
    return node_hash(range_hash(a, a + k, nodes), range_hash(a + k, b, nodes))


def inclusion_path(index: int, size: int):
    """The ranges whose MTH, in this order, are the audit path of leaf ``index`` (RFC 6962 PATH)."""
    if not (_is_int(index) and _is_int(size) and 0 <= index < size):
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    path = []
    lo, hi = 0, size
    # Walk from the root down, collecting siblings; the path lists them leaf first.
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo += k
    return path[::-1]


def consistency_path(old: int, new: int):
    """The ranges whose MTH, in this order, prove ``old`` leaves are a prefix of ``new`` (RFC 6962 PROOF)."""
    if not (_is_int(old) and _is_int(new) and 0 <= old <= new):
        raise ValueError(f"a tree of {old} leaves cannot be a prefix of one of {new}")
    if old in (0, new):
        return []
    path = []
    lo, hi, whole = 0, new, True
    # SUBPROOF(m, D[lo:hi], whole), unrolled: m = old - lo.
    while old - lo != hi - lo:
        k = _split(hi - lo)
        if old - lo <= k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo, whole = lo + k, False
    if not whole:
        path.append((lo, hi))
    return path[::-1]


def _valid_hash(value):
    return isinstance(value, bytes) and len(value) == 32


def verify_inclusion(index: int, size: int, leaf: bytes, proof, root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2: is leaf hash ``leaf`` at ``index`` in the tree of ``size`` and ``root``?"""
    if not (_is_int(index) and _is_int(size) and 0 <= index < size):
        return False
    if not (_valid_hash(leaf) and _valid_hash(root) and all(_valid_hash(p) for p in proof)):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof) -> bool:
    """RFC 9162 section 2.1.4.2: is the tree of ``old`` leaves with ``old_root`` a prefix of ``new``'s?"""
    if not (_is_int(old) and _is_int(new) and 0 <= old <= new):
        return False
    if not (_valid_hash(old_root) and _valid_hash(new_root) and all(_valid_hash(p) for p in proof)):
        return False
    proof = list(proof)
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        # Every tree extends the empty one, whose root is fixed.
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    if old & (old - 1) == 0:
        proof.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0


# Ed25519 (RFC 8032 section 5.1), so that checking a signed checkpoint and
# cosigning one need nothing outside this file. Points are in extended
# coordinates (X, Y, Z, T) with x = X/Z, y = Y/Z, x*y = T/Z. Not constant
# time: it signs only on the witness's own laptop, where timing is not observable.

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _point_add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


def _point_double(p):
    a = p[0] * p[0] % _P
    b = p[1] * p[1] % _P
    c = 2 * p[2] * p[2] % _P
    h = a + b
    e = h - (p[0] + p[1]) ** 2 % _P
    g = a - b
    f = c + g
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


_IDENTITY = (0, 1, 1, 0)


def _scalar_mult(scalar, point):
    result = _IDENTITY
    for bit in bin(scalar)[2:]:
        result = _point_double(result)
        if bit == "1":
            result = _point_add(result, point)
    return result


def _point_equal(p, q):
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


def _recover_x(y, sign):
    """RFC 8032 section 5.1.3: x from y and x's low bit, or None when there is none."""
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    if x & 1 != sign:
        x = _P - x
    return x


_BASE_Y = 4 * pow(5, _P - 2, _P) % _P
_BASE_X = _recover_x(_BASE_Y, 0)
_BASE = (_BASE_X, _BASE_Y, 1, _BASE_X * _BASE_Y % _P)


def _point_encode(p):
    z_inverse = pow(p[2], _P - 2, _P)
    x, y = p[0] * z_inverse % _P, p[1] * z_inverse % _P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def _point_decode(data):
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _recover_x(y, sign)
    if x is None:
        return None
    return x, y, 1, x * y % _P


def _sha512_int(*parts):
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little")


def _expand_seed(seed):
    if not (isinstance(seed, bytes) and len(seed) == 32):
        raise ValueError("an Ed25519 private key is a 32-byte seed")
    h = hashlib.sha512(seed).digest()
    scalar = int.from_bytes(h[:32], "little")
    scalar &= (1 << 254) - 8
    scalar |= 1 << 254
    return scalar, h[32:]


def ed25519_public_key(seed: bytes) -> bytes:
    """The 32-byte public key of a 32-byte seed (RFC 8032 section 5.1.5)."""
    scalar, _ = _expand_seed(seed)
    return _point_encode(_scalar_mult(scalar, _BASE))


def ed25519_sign(seed: bytes, message: bytes) -> bytes:
    """The 64-byte signature (RFC 8032 section 5.1.6): deterministic, as every implementation's."""
    scalar, prefix = _expand_seed(seed)
    public = _point_encode(_scalar_mult(scalar, _BASE))
    r = _sha512_int(prefix, message) % _L
    big_r = _point_encode(_scalar_mult(r, _BASE))
    k = _sha512_int(big_r, public, message) % _L
    return big_r + ((r + k * scalar) % _L).to_bytes(32, "little")


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """RFC 8032 section 5.1.7, with its cofactored check ``[8][S]B = [8]R + [8][k]A``."""
    if not (isinstance(public, bytes) and isinstance(signature, bytes) and len(signature) == 64):
        return False
    a = _point_decode(public)
    r = _point_decode(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    k = _sha512_int(signature[:32], public, message) % _L
    left = _scalar_mult(8 * s, _BASE)
    right = _scalar_mult(8, _point_add(r, _scalar_mult(k, a)))
    return _point_equal(left, right)


# Signed notes, checkpoints, cosignatures and proofs (C2SP)
#
# c2sp.org/signed-note, tlog-checkpoint, tlog-cosignature (cosignature/v1)
# and tlog-proof, as far as this log uses them: Ed25519 only.

SIG_ED25519 = 0x01
SIG_COSIGNATURE_V1 = 0x04
_SIG_TYPES = (SIG_ED25519, SIG_COSIGNATURE_V1)
_EM_DASH_SPACE = "\u2014 "
_MAX_SIGNATURES = 100
TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"


class NoteError(ValueError):
    """A key, note, checkpoint or proof that is malformed or does not verify."""


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def _unb64(text, what):
    # Only the one canonical encoding passes, so two spellings cannot name one value.
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not base64") from None
    if _b64(data) != text:
        raise NoteError(f"{what} is not base64 in its canonical form")
    return data


def _check_key_name(name):
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")


def note_key_id(name: str, sig_type: int, public: bytes) -> bytes:
    """SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4], the key ID of signed-note and tlog-cosignature."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public).digest()[:4]


@dataclass(frozen=True)
class NoteKey:
    """A verifier key: who signs (name), which key (key_id), how (sig_type) and the public key."""

    name: str
    key_id: bytes
    sig_type: int
    public: bytes

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([self.sig_type]) + self.public)}"


@dataclass(frozen=True)
class NoteSigner:
    """A private key: the verifier key it matches, and the Ed25519 seed."""

    key: NoteKey
    seed: bytes = field(repr=False)


def _parse_key(name, hash_text, key_text):
    _check_key_name(name)
    if not re.fullmatch(r"[0-9a-f]{8}", hash_text):
        raise NoteError("the key hash must be 8 lowercase hexadecimal digits")
    data = _unb64(key_text, "the key")
    if len(data) != 33 or data[0] not in _SIG_TYPES:
        raise NoteError("the key is not an Ed25519 or cosignature/v1 key (type byte and 32 bytes)")
    return bytes.fromhex(hash_text), data[0], data[1:]


def parse_vkey(text: str) -> NoteKey:
    """``<name>+<hash>+<base64(type ‖ public key)>``."""
    # Base64 has '+' too: the key is everything after the second '+'.
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("a verifier key has the form NAME+HASH+KEY")
    key_id, sig_type, public = _parse_key(*parts)
    if key_id != note_key_id(parts[0], sig_type, public):
        raise NoteError("the verifier key's hash does not match its name and key")
    return NoteKey(parts[0], key_id, sig_type, public)


def parse_private_key(text: str) -> NoteSigner:
    """``PRIVATE+KEY+<name>+<hash>+<base64(type ‖ seed)>``."""
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise NoteError("a private key has the form PRIVATE+KEY+NAME+HASH+KEY")
    key_id, sig_type, seed = _parse_key(*parts[2:])
    public = ed25519_public_key(seed)
    if key_id != note_key_id(parts[2], sig_type, public):
        raise NoteError("the private key's hash does not match its name and key")
    return NoteSigner(NoteKey(parts[2], key_id, sig_type, public), seed)


def generate_key(name: str, sig_type: int = SIG_ED25519) -> tuple[str, str]:
    """A new key pair ``(private key, verifier key)`` for signing notes or, with type 0x04, cosigning."""
    _check_key_name(name)
    if sig_type not in _SIG_TYPES:
        raise NoteError(f"signature type {sig_type} is not supported")
    seed = os.urandom(32)
    public = ed25519_public_key(seed)
    key = NoteKey(name, note_key_id(name, sig_type, public), sig_type, public)
    return f"PRIVATE+KEY+{name}+{key.key_id.hex()}+{_b64(bytes([sig_type]) + seed)}", key.vkey


def _check_note_text(text):
    if not text.endswith("\n"):
        raise NoteError("a note's text ends with a newline")
    if any(ch < " " and ch != "\n" for ch in text):
        raise NoteError("a note holds no control characters but newlines")


def signature_line(key: NoteKey, signature: bytes) -> str:
    """``— <name> base64(key ID ‖ signature)`` and its newline."""
    return f"{_EM_DASH_SPACE}{key.name} {_b64(key.key_id + signature)}\n"


def sign_note(text: str, private_key: str, sign=ed25519_sign) -> str:
    """The signed note: text, a blank line, the signature line.

    ``sign(seed, message)`` makes the Ed25519 signature; the server passes
    OpenSSL's, which gives the same bytes (Ed25519 is deterministic).
    """
    _check_note_text(text)
    signer = parse_private_key(private_key)
    if signer.key.sig_type != SIG_ED25519:
        raise NoteError("notes are signed with an Ed25519 key (type 0x01); this one is for cosigning")
    return text + "\n" + signature_line(signer.key, sign(signer.seed, text.encode("utf-8")))


def split_note(note: str) -> tuple[str, list]:
    """A signed note's text and its signatures ``[(name, key ID ‖ signature bytes)]``, unchecked."""
    _check_note_text(note)
    cut = note.rfind("\n\n")
    if cut < 0:
        raise NoteError("the note has no signature (no blank line before signature lines)")
    text, lines = note[: cut + 1], note[cut + 2 : -1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise NoteError(f"the note has more than {_MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        if not line.startswith(_EM_DASH_SPACE) or line.count(" ") != 2:
            raise NoteError(f"{line!r} is not a signature line ('— NAME SIGNATURE')")
        name, encoded = line[len(_EM_DASH_SPACE) :].split(" ")
        _check_key_name(name)
        signature = _unb64(encoded, f"the signature of {name}")
        if len(signature) < 5:
            raise NoteError(f"the signature of {name} is too short")
        signatures.append((name, signature))
    return text, signatures


def cosignature_message(text: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: header line, time line, then the checkpoint's text."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def cosignature_line(text: str, private_key: str, timestamp: int, sign=ed25519_sign) -> str:
    """A witness's cosignature/v1 signature line on a checkpoint's text, made at ``timestamp``."""
    _check_note_text(text)
    signer = parse_private_key(private_key)
    if signer.key.sig_type != SIG_COSIGNATURE_V1:
        raise NoteError("cosignatures are made with a cosignature/v1 key (type 0x04)")
    if not (_is_int(timestamp) and 0 <= timestamp < 2**63):
        raise NoteError("a cosignature's time is seconds since 1970, below 2**63")
    signature = sign(signer.seed, cosignature_message(text, timestamp))
    return signature_line(signer.key, timestamp.to_bytes(8, "big") + signature)


def _signature_verifies(key, text, signature):
    """``(True, timestamp or None)`` when a known key's signature checks out."""
    if key.sig_type == SIG_ED25519:
        return ed25519_verify(key.public, text.encode("utf-8"), signature), None
    if len(signature) != 72:
        return False, None
    timestamp = int.from_bytes(signature[:8], "big")
    if timestamp >= 2**63:
        return False, None
    return ed25519_verify(key.public, cosignature_message(text, timestamp), signature[8:]), timestamp


def open_note(note: str, keys) -> tuple[str, list]:
    """The text of a signed note and ``[(key, timestamp or None)]`` for the known keys that signed it.

    Signatures by unknown keys are ignored; one by a known key that fails to
    verify rejects the note, as does a note no known key signed (NoteError).
    """
    text, signatures = split_note(note)
    known = {(key.name, key.key_id): key for key in keys}
    verified = []
    for name, signature in signatures:
        key = known.get((name, signature[:4]))
        if key is None:
            continue
        ok, timestamp = _signature_verifies(key, text, signature[4:])
        if not ok:
            raise NoteError(f"the signature of {name} does not verify: the note was changed or forged")
        verified.append((key, timestamp))
    if not verified:
        raise NoteError("no signature on the note is by a known key")
    return text, verified


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log (origin), its size and its root."""

    origin: str
    size: int
    root: bytes


def format_checkpoint(origin: str, size: int, root: bytes) -> str:
    """The checkpoint's note text: origin, size and base64 root, each on its line."""
    checkpoint = Checkpoint(origin, size, root)
    text = f"{origin}\n{size}\n{_b64(root)}\n"
    if parse_checkpoint_text(text) != checkpoint:
        raise NoteError("a checkpoint needs a one-line origin, a size from 0 and a 32-byte root")
    return text


def parse_checkpoint_text(text: str) -> Checkpoint:
    """The tree head in a checkpoint's note text; extension lines, if any, are signed but unused here."""
    _check_note_text(text)
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not all(lines):
        raise NoteError("a checkpoint is at least three non-empty lines: origin, size, root")
    origin, size, root = lines[:3]
    if not re.fullmatch(r"0|[1-9][0-9]*", size):
        raise NoteError("a checkpoint's size is a whole number without leading zeros")
    root = _unb64(root, "the checkpoint's root")
    if len(root) != 32:
        raise NoteError("a checkpoint's root is 32 bytes")
    return Checkpoint(origin, int(size), root)


def verify_checkpoint(note: str, log_key: NoteKey, witness_keys=()) -> tuple[Checkpoint, list]:
    """A signed checkpoint of the log whose key is ``log_key``, and its verified cosignatures.

    Returns the checkpoint and ``[(witness key, timestamp)]``; NoteError when
    the log's signature is missing or bad, when any known key's signature is
    bad, or when the origin is not the log key's name.
    """
    text, verified = open_note(note, [log_key, *witness_keys])
    if not any(key == log_key for key, _ in verified):
        raise NoteError(f"the checkpoint is not signed by the log key {log_key.name}")
    checkpoint = parse_checkpoint_text(text)
    if checkpoint.origin != log_key.name:
        raise NoteError(f"the checkpoint is of {checkpoint.origin!r}, not of {log_key.name!r}")
    return checkpoint, [(key, timestamp) for key, timestamp in verified if key != log_key]


@dataclass(frozen=True)
class TlogProof:
    """A c2sp.org/tlog-proof: a leaf index, its audit path and the signed checkpoint it leads to."""

    index: int
    hashes: tuple
    checkpoint: str


def format_tlog_proof(index: int, hashes, checkpoint: str) -> str:
    lines = [TLOG_PROOF_HEADER, f"index {index}", *(_b64(h) for h in hashes), ""]
    return "\n".join(lines) + "\n" + checkpoint


def parse_tlog_proof(text: str) -> TlogProof:
    """The parts of a tlog-proof; its ``extra`` line, unauthenticated by design, is skipped."""
    header, _, rest = text.partition("\n")
    if header != TLOG_PROOF_HEADER:
        raise NoteError(f"a proof starts with the line {TLOG_PROOF_HEADER}")
    proof, blank, checkpoint = rest.partition("\n\n")
    if not blank:
        raise NoteError("the proof has no blank line before its checkpoint")
    lines = proof.split("\n")
    if lines[0].startswith("extra "):
        lines.pop(0)
    first = lines[0] if lines else ""
    index = first[len("index ") :]
    if not first.startswith("index ") or not re.fullmatch(r"0|[1-9][0-9]*", index):
        raise NoteError("the proof's index line is 'index N', N a whole number without leading zeros")
    hashes = tuple(_unb64(line, "a proof hash") for line in lines[1:])
    if any(len(h) != 32 for h in hashes):
        raise NoteError("each proof hash is 32 bytes")
    return TlogProof(int(index), hashes, checkpoint)


def format_consistency_proof(old_size: int, hashes) -> str:
    """A consistency proof as c2sp.org/tlog-witness sends it: ``old N``, then one base64 hash a line."""
    return "".join([f"old {old_size}\n", *(_b64(h) + "\n" for h in hashes)])


def parse_consistency_proof(text: str) -> tuple[int, list]:
    """``(old size, hashes)`` of a consistency proof file."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    first = lines[0] if lines else ""
    if not re.fullmatch(r"old (0|[1-9][0-9]*)", first):
        raise NoteError("a consistency proof starts with the line 'old N', N the earlier size")
    hashes = [_unb64(line, "a proof hash") for line in lines[1:]]
    if any(len(h) != 32 for h in hashes):
        raise NoteError("each proof hash is 32 bytes")
    return int(first[4:]), hashes


def export_line(*, seq: int, body: bytes, leaf_hash: bytes, prev_hash: bytes, entry_hash: bytes) -> str:
    """One line of an export, without its newline: the canonical JSON of the five fields,
    written out directly (keys in their canonical order; hex needs no escaping), since
    exports write millions of them."""
    if not (_is_int(seq) and 0 <= seq <= _MAX_SAFE_INT):
        raise ValueError(f"seq {seq!r} is not an integer JSON holds exactly")
    return (
        '{"body":'
        + _encode_string(body.decode("utf-8"))
        + ',"entry_hash":"'
        + entry_hash.hex()
        + '","leaf_hash":"'
        + leaf_hash.hex()
        + '","prev_hash":"'
        + prev_hash.hex()
        + '","seq":'
        + str(seq)
        + "}"
    )


class ExportError(ValueError):
    """The export is not JSON Lines of objects; the message names the line."""


def read_export(lines):
    """Yield each line's object, skipping blank lines; ExportError names a line that is not one."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError as error:
            problem = f"{error.msg} at column {error.colno}"
            raise ExportError(f"line {number} is not valid JSON ({problem})") from None
        if not isinstance(event, dict):
            raise ExportError(f"line {number} is not a JSON object")
        yield event


def parse_checkpoint(text: str) -> tuple[int, str]:
    """``"SEQ:HASH"`` as ``(seq, lowercase hex hash)``."""
    seq_text, colon, digest = text.strip().partition(":")
    if not colon:
        raise ValueError(f"checkpoint {text!r} should be SEQ:HASH, e.g. 120:3f5a... (no ':' found)")
    if not _CHECKPOINT_SEQ.fullmatch(seq_text) or int(seq_text) < 1:
        raise ValueError(f"checkpoint {text!r}: SEQ should be a whole number from 1 up")
    digest = digest.lower()
    if not _HEX64.fullmatch(digest):
        raise ValueError(f"checkpoint {text!r}: HASH should be 64 hexadecimal digits (0-9, a-f)")
    return int(seq_text), digest


@dataclass(frozen=True)
class Verification:
    """The outcome. On failure, count and head_* describe the last event that checked out."""

    ok: bool
    count: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str | None = None
    root: bytes = EMPTY_ROOT


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _check_event(event, seq, prev):
    """``(body, leaf, entry, None)`` when the event follows on from ``prev``, else ``(…, reason)``."""
    body_text = event.get("body")
    if not isinstance(body_text, str):
        return None, None, None, "edited: the event has no body"
    try:
        body = body_text.encode("utf-8")
    except UnicodeEncodeError:
        return None, None, None, "edited: the body is not valid Unicode text"
    leaf = leaf_hash(body)
    # Hashes are compared as hex text, so only the exact form export_line writes passes.
    if event.get("leaf_hash") != leaf.hex():
        return None, None, None, "edited: the body does not match its leaf_hash"
    try:
        inner = json.loads(body_text)
    except json.JSONDecodeError:
        return None, None, None, "edited: the body is not JSON"
    if not isinstance(inner, dict):
        return None, None, None, "edited: the body is not a JSON object"
    if not (_is_int(inner.get("v")) and inner["v"] == BODY_VERSION):
        return None, None, None, f"edited: the body is not a version {BODY_VERSION} event"
    if not (_is_int(inner.get("seq")) and inner["seq"] == seq):
        return None, None, None, f"edited: the body does not say seq {seq}, where it is stored"
    if event.get("prev_hash") != prev.hex():
        return None, None, None, "broken-link: prev_hash is not the previous event's entry_hash"
    entry = entry_hash(prev, leaf)
    if event.get("entry_hash") != entry.hex():
        return None, None, None, "broken-link: entry_hash does not follow from prev_hash and leaf_hash"
    return inner, leaf, entry, None


def _out_of_place(expected, found, rest):
    if found < expected:
        return f"reordered: expected seq {expected} but found seq {found} again or out of order"
    # Telling a missing event from a moved one means reading on, one event at a time.
    for event in rest:
        if isinstance(event, dict) and _is_int(event.get("seq")) and event["seq"] == expected:
            return f"reordered: expected seq {expected} but found seq {found}; seq {expected} comes later"
    return f"gap: expected seq {expected} but found seq {found}; seq {expected} is missing"


def verify(events, checkpoints=(), tree_heads=(), on_event=None) -> Verification:
    """Check events (export dicts, in stored order) and stop at the first problem.

    ``checkpoints`` are ``(seq, entry_hash hex)`` pairs the chain must still
    have; ``tree_heads`` are ``(size, root)`` pairs of signed checkpoints: the
    Merkle root of the first ``size`` events must be ``root``. ``on_event(seq,
    body, leaf, entry, frontier)`` sees each event that checked out, its body
    parsed and the tree's frontier after it. Streams: memory does not grow with
    the number of events.
    """
    pending = {}
    for seq, digest in checkpoints:
        seq, digest = parse_checkpoint(f"{seq}:{digest}")
        # A set, so two different hashes claimed for one seq cannot both pass.
        pending.setdefault(seq, set()).add(digest)
    heads = {}
    for size, root in tree_heads:
        heads.setdefault(size, set()).add(root)
    events = iter(events)
    expected = 1
    prev = GENESIS
    count = 0
    frontier = []

    def failed(seq, reason):
        return Verification(False, count, expected - 1, prev.hex(), seq, reason, root_from_frontier(frontier))

    if heads.pop(0, {EMPTY_ROOT}) != {EMPTY_ROOT}:
        return failed(
            1, "checkpoint-mismatch: a signed checkpoint of size 0 has a root other than the empty tree's"
        )
    for event in events:
        seq = event.get("seq")
        if not _is_int(seq):
            return failed(expected, "edited: an event has no whole-number seq")
        if seq != expected:
            return failed(expected, _out_of_place(expected, seq, events))
        body, leaf, entry, problem = _check_event(event, seq, prev)
        if problem:
            return failed(seq, problem)
        if seq in pending and pending.pop(seq) != {entry.hex()}:
            return failed(seq, "checkpoint-mismatch: the chain has a different entry_hash at this checkpoint")
        next_frontier, _ = frontier_append(frontier, count, leaf)
        if seq in heads and heads.pop(seq) != {root_from_frontier(next_frontier)}:
            return failed(
                seq, f"checkpoint-mismatch: the Merkle root of events 1 to {seq} is not the signed root"
            )
        prev, frontier = entry, next_frontier
        count += 1
        expected += 1
        if on_event is not None:
            on_event(seq, body, leaf, entry, frontier)
    if pending or heads:
        first = min([*pending, *heads])
        return failed(
            expected, f"truncated: the chain ends at seq {expected - 1}, before the checkpoint at seq {first}"
        )
    return Verification(True, count, expected - 1, prev.hex(), root=root_from_frontier(frontier))


def _decoded_lines(binary):
    # Decoding line by line lets an encoding error name its line, as read_export does.
    for number, raw in enumerate(binary, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            # Some editors add a byte order mark when saving; it is not part of any event.
            raw = raw[3:]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ExportError(f"line {number} is not UTF-8 text") from None


def _read_checkpoints_file(path):
    checkpoints = []
    with open(path, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                checkpoints.append(parse_checkpoint(line))
            except ValueError as error:
                raise ValueError(f"{path}, line {number}: {error}") from None
    return checkpoints


class _Failed(Exception):
    """A problem found in what was given; the message is the whole FAILED line."""


def _read_text(path):
    # Universal newlines: a note saved by a Windows editor still reads as signed.
    with open(path, encoding="utf-8-sig") as handle:
        return handle.read()


def _load_vkey(value):
    """A verifier key given as itself or as a file holding it."""
    return parse_vkey(_read_text(value) if os.path.isfile(value) else value)


def _utc(timestamp):
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
    except (OverflowError, OSError, ValueError):
        return f"{timestamp} seconds after 1970"


def _cosignature_report(cosignatures, witnesses):
    times = dict(cosignatures)
    return [
        f"  cosigned by {key.name} at {_utc(times[key])}" if key in times else f"  not cosigned by {key.name}"
        for key in witnesses
    ]


def _signed(path, note, log_key, witnesses):
    try:
        return verify_checkpoint(note, log_key, witnesses)
    except NoteError as error:
        raise _Failed(f"FAILED: {path}: bad-signature: {error}") from None


def _read_texts(path, content):
    """``{(kind, content hash): (line number, version number or None)}`` of a texts file."""
    texts = {}
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            raise _Failed(f"FAILED: {path}, line {number} is not valid JSON") from None
        kind = item.get("kind") if isinstance(item, dict) else None
        version = None
        if kind == "explanation":
            version = item.get("number")
            if not (_is_int(version) and all(isinstance(item.get(f), str) for f in EXPLANATION_TEXT_FIELDS)):
                fields = ", ".join(EXPLANATION_TEXT_FIELDS)
                raise _Failed(f"FAILED: {path}, line {number}: an explanation needs number, {fields}")
            content_hash = explanation_digest(version, item)
        elif kind == "notice":
            offices = item.get("offices")
            if not (
                isinstance(item.get("title"), str)
                and isinstance(item.get("body"), str)
                and isinstance(offices, list)
                and all(isinstance(code, str) for code in offices)
            ):
                raise _Failed(
                    f"FAILED: {path}, line {number}: a notice needs title, body and offices (a list)"
                )
            content_hash = notice_digest(item["title"], item["body"], offices)
        else:
            raise _Failed(f'FAILED: {path}, line {number}: kind must be "explanation" or "notice"')
        texts[(kind, content_hash)] = (number, version)
    return texts


def _read_opening(path, content):
    """``(seq, salt, secret, entry_hash or None)`` of a receipt's opening."""
    try:
        receipt = json.loads(content)
    except json.JSONDecodeError:
        raise _Failed(f"FAILED: {path} is not valid JSON") from None
    opening = receipt.get("opening") if isinstance(receipt, dict) else None
    if not (
        isinstance(opening, dict)
        and _is_int(opening.get("seq"))
        and isinstance(opening.get("salt"), str)
        and re.fullmatch(f"[0-9a-f]{{{2 * SALT_BYTES}}}", opening["salt"])
        and isinstance(opening.get("secret"), dict)
    ):
        raise _Failed(f"FAILED: {path}: the receipt has no opening (seq, salt in hex and secret)")
    audit = receipt.get("audit")
    entry = audit.get("entry_hash") if isinstance(audit, dict) else None
    return opening["seq"], bytes.fromhex(opening["salt"]), opening["secret"], entry


class _Collector:
    """What the checks after the chain need from the export, gathered while it streams past."""

    def __init__(self, proof_indexes, proof_sizes, opening_seq):
        self.leaves = dict.fromkeys(proof_indexes)
        self.roots = {size: None for size in proof_sizes if size}
        self.roots[0] = EMPTY_ROOT
        self.opening_seq = opening_seq
        self.opened = None
        self.published = []

    def __call__(self, seq, body, leaf, entry, frontier):
        if seq - 1 in self.leaves:
            self.leaves[seq - 1] = leaf
        if seq in self.roots:
            self.roots[seq] = root_from_frontier(frontier)
        if seq == self.opening_seq:
            self.opened = body, entry
        kind = {"explanation.published": "explanation", "notice.published": "notice"}.get(body.get("kind"))
        if kind:
            payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
            self.published.append((seq, kind, payload.get("content_hash"), payload.get("version")))


def _check_proof(path, proof, checkpoint, collector, count):
    seq = proof.index + 1
    leaf = collector.leaves.get(proof.index)
    if leaf is None:
        raise _Failed(
            f"FAILED: {path}: truncated: the export ends at seq {count}, before seq {seq}, which it proves"
        )
    if not verify_inclusion(proof.index, checkpoint.size, leaf, list(proof.hashes), checkpoint.root):
        raise _Failed(
            f"FAILED: {path}: proof-failed: the event at seq {seq} in the export "
            "does not lead to the signed root"
        )
    if checkpoint.size > count:
        return f"its checkpoint of size {checkpoint.size} is newer than the export"
    if collector.roots[checkpoint.size] != checkpoint.root:
        raise _Failed(
            f"FAILED: {path}: checkpoint-mismatch: the Merkle root of events 1 to {checkpoint.size} "
            "in the export is not the root its checkpoint signs"
        )
    return f"its checkpoint of size {checkpoint.size} matches the export"


def _check_texts(path, texts, published):
    unlogged = set(texts)
    for seq, kind, content_hash, version in published:
        if (kind, content_hash) not in texts:
            raise _Failed(f"FAILED at seq {seq}: text-missing: the {kind} published here is not in {path}")
        number = texts[(kind, content_hash)][1]
        if kind == "explanation" and version != number:
            raise _Failed(
                f"FAILED at seq {seq}: text-mismatch: the event publishes version {version}, "
                f"but the text with its content hash is version {number}"
            )
        unlogged.discard((kind, content_hash))
    if unlogged:
        line = min(texts[key][0] for key in unlogged)
        raise _Failed(
            f"FAILED: {path}, line {line}: text-unlogged: no event publishes this text "
            "(changed after publication, or never published)"
        )
    kinds = [kind for kind, _ in texts]
    return (
        f"texts {path}: {kinds.count('explanation')} explanation versions and {kinds.count('notice')} notices"
    )


def _check_opening(path, opening, opened, count):
    seq, salt, secret, receipt_entry = opening
    if opened is None:
        raise _Failed(
            f"FAILED: {path}: truncated: the export ends at seq {count}, before seq {seq} of this receipt"
        )
    body, entry = opened
    if not open_commitment(body.get("subject"), salt, secret):
        raise _Failed(
            f"FAILED at seq {seq}: opening-mismatch: "
            "the event's subject is not the commitment of this receipt"
        )
    if receipt_entry is not None and receipt_entry != entry.hex():
        raise _Failed(f"FAILED at seq {seq}: opening-mismatch: the receipt's entry_hash is not the event's")
    opened_secret = canonical_json(secret).decode()
    return f"opening {path}: the event at seq {seq} ({body.get('kind')}) is this receipt's: {opened_secret}"


def _verify_command(argv):
    parser = argparse.ArgumentParser(
        prog="verify_chain.py",
        description="Verify an export of the consent ledger's audit log (JSON Lines, one event a line).",
        epilog="Exit codes: 0 intact, 1 a problem was found, 2 bad arguments or unreadable file. "
        "Also: verify_chain.py keygen --help, verify_chain.py cosign --help.",
    )
    parser.add_argument("file", help="the export; - reads standard input")
    parser.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="SEQ:HASH",
        help="an entry_hash saved earlier that the chain must still have at that seq (repeatable)",
    )
    parser.add_argument(
        "--checkpoints-file",
        metavar="FILE",
        help="a file of SEQ:HASH lines, one a line; lines starting with # are ignored",
    )
    parser.add_argument(
        "--checkpoint-note",
        action="append",
        default=[],
        metavar="FILE",
        help="a signed checkpoint saved earlier: the export must contain its tree (repeatable; needs --key)",
    )
    parser.add_argument("--key", metavar="VKEY_OR_FILE", help="the log's verifier key (from /log/key)")
    parser.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="VKEY_OR_FILE",
        help="a witness's verifier key: its cosignatures are checked and reported (repeatable)",
    )
    parser.add_argument(
        "--proof",
        action="append",
        default=[],
        metavar="FILE",
        help="an inclusion proof (.tlog-proof) of one event (repeatable; needs --key)",
    )
    parser.add_argument("--texts", metavar="FILE", help="the explanations and notices (JSON Lines) to check")
    parser.add_argument(
        "--opening", metavar="FILE", help="a receipt (JSON): its opening must match its event"
    )
    args = parser.parse_args(argv)
    try:
        checkpoints = [parse_checkpoint(text) for text in args.checkpoint]
        if args.checkpoints_file:
            checkpoints += _read_checkpoints_file(args.checkpoints_file)
        if (args.checkpoint_note or args.proof) and not args.key:
            raise ValueError("--checkpoint-note and --proof need --key, the log's verifier key")
        log_key = _load_vkey(args.key) if args.key else None
        witnesses = [_load_vkey(value) for value in args.witness]
        notes = [(path, _read_text(path)) for path in args.checkpoint_note]
        proofs = [(path, _read_text(path)) for path in args.proof]
        texts = _read_text(args.texts) if args.texts else None
        receipt = _read_text(args.opening) if args.opening else None
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        signed = [(path, *_signed(path, note, log_key, witnesses)) for path, note in notes]
        proven = []
        for path, text in proofs:
            try:
                proof = parse_tlog_proof(text)
            except NoteError as error:
                raise _Failed(f"FAILED: {path}: {error}") from None
            proven.append((path, proof, *_signed(path, proof.checkpoint, log_key, witnesses)))
        texts = _read_texts(args.texts, texts) if texts is not None else None
        opening = _read_opening(args.opening, receipt) if receipt is not None else None
    except _Failed as problem:
        print(problem)
        return 1
    collector = _Collector(
        [proof.index for _, proof, _, _ in proven],
        [checkpoint.size for _, _, checkpoint, _ in proven],
        opening[0] if opening else None,
    )
    heads = [(checkpoint.size, checkpoint.root) for _, checkpoint, _ in signed]
    from_stdin = args.file == "-"
    try:
        with open(sys.stdin.fileno() if from_stdin else args.file, "rb", closefd=not from_stdin) as binary:
            result = verify(read_export(_decoded_lines(binary)), checkpoints, heads, collector)
    except ExportError as error:
        print(f"FAILED: {error}")
        return 1
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not result.ok:
        print(f"FAILED at seq {result.first_bad_seq}: {result.reason}")
        return 1
    print(f"OK: {result.count} events, head seq {result.head_seq} entry_hash {result.head_hash}")
    print(f"Merkle root of the {result.count} events: {_b64(result.root)}")
    try:
        for path, checkpoint, cosignatures in signed:
            print(f"checkpoint {path}: size {checkpoint.size}, signed by {log_key.name}, in the export")
            print(*_cosignature_report(cosignatures, witnesses), sep="\n", end="\n" if witnesses else "")
        for path, proof, checkpoint, cosignatures in proven:
            where = _check_proof(path, proof, checkpoint, collector, result.count)
            print(
                f"proof {path}: index {proof.index} (event seq {proof.index + 1}) is in the log "
                f"signed by {log_key.name}; {where}"
            )
            print(*_cosignature_report(cosignatures, witnesses), sep="\n", end="\n" if witnesses else "")
        if texts is not None:
            print(
                _check_texts(args.texts, texts, collector.published)
                + ": each matches the event publishing it"
            )
        if opening is not None:
            print(_check_opening(args.opening, opening, collector.opened, result.count))
    except _Failed as problem:
        print(problem)
        return 1
    return 0


def _keygen_command(argv):
    parser = argparse.ArgumentParser(
        prog="verify_chain.py keygen",
        description="Make a witness key for cosigning the log's checkpoints; prints the key to register.",
    )
    parser.add_argument("name", help="the witness's name, e.g. union.example/witness (no spaces, no '+')")
    parser.add_argument(
        "--output",
        default="witness.key",
        metavar="FILE",
        help="where to write the private key (default witness.key); an existing file is never overwritten",
    )
    args = parser.parse_args(argv)
    try:
        private, vkey = generate_key(args.name, SIG_COSIGNATURE_V1)
        descriptor = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(descriptor, "w", encoding="utf-8") as handle:
            handle.write(private + "\n")
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(vkey)
    print(f"The private key is in {args.output}: keep it secret. Register the line above.", file=sys.stderr)
    return 0


def _cosign_command(argv):
    parser = argparse.ArgumentParser(
        prog="verify_chain.py cosign",
        description="Cosign a checkpoint of the log, after checking that it extends the last one "
        "you cosigned. Prints the cosignature line to upload.",
        epilog="Exit codes: 0 cosigned, 1 refused (the log's history changed), 2 bad arguments.",
    )
    parser.add_argument("--key", required=True, metavar="FILE", help="your witness private key (from keygen)")
    parser.add_argument("--checkpoint", required=True, metavar="FILE", help="the signed checkpoint to cosign")
    parser.add_argument(
        "--log-key", metavar="VKEY_OR_FILE", help="the log's verifier key: check its signature"
    )
    parser.add_argument(
        "--previous", metavar="FILE", help="the checkpoint you cosigned last, with your cosignature"
    )
    parser.add_argument(
        "--consistency-proof", metavar="FILE", help="the proof from --previous's size to the checkpoint's"
    )
    parser.add_argument(
        "--output",
        metavar="FILE",
        help="also write the checkpoint with your cosignature: your next --previous",
    )
    args = parser.parse_args(argv)
    try:
        if bool(args.previous) != bool(args.consistency_proof):
            raise ValueError("--previous and --consistency-proof go together")
        private = _read_text(args.key).strip()
        witness = parse_private_key(private).key
        if witness.sig_type != SIG_COSIGNATURE_V1:
            raise ValueError(f"{args.key} is not a witness key (make one with keygen)")
        log_key = _load_vkey(args.log_key) if args.log_key else None
        note = _read_text(args.checkpoint)
        previous = _read_text(args.previous) if args.previous else None
        proof = _read_text(args.consistency_proof) if args.consistency_proof else None
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        if log_key:
            checkpoint, _ = verify_checkpoint(note, log_key)
        else:
            checkpoint = parse_checkpoint_text(split_note(note)[0])
        if previous is None:
            print(
                "No --previous: nothing to check this checkpoint against; keep it for next time.",
                file=sys.stderr,
            )
        else:
            _check_extends(previous, proof, checkpoint, witness, log_key)
        line = cosignature_line(split_note(note)[0], private, int(time.time()))
    except NoteError as error:
        print(f"REFUSED: {error}")
        return 1
    if args.output:
        try:
            with open(args.output, "x", encoding="utf-8") as handle:
                handle.write(note + line)
        except OSError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    print(line, end="")
    return 0


def _check_extends(previous, proof, checkpoint, witness, log_key):
    """NoteError unless ``checkpoint`` extends the one this witness cosigned last."""
    if log_key:
        before, cosignatures = verify_checkpoint(previous, log_key, [witness])
        if not cosignatures:
            raise NoteError(
                "--previous does not carry your cosignature: give the checkpoint you cosigned last"
            )
    else:
        before = parse_checkpoint_text(open_note(previous, [witness])[0])
    if before.origin != checkpoint.origin:
        raise NoteError(f"--previous is a checkpoint of {before.origin}, not of {checkpoint.origin}")
    old, hashes = parse_consistency_proof(proof)
    if old != before.size:
        raise NoteError(
            f"the consistency proof starts at size {old}, but you last cosigned size {before.size}"
        )
    if checkpoint.size < before.size:
        raise NoteError(
            f"the checkpoint has {checkpoint.size} events, fewer than the {before.size} you cosigned: "
            "the log went back; do not cosign"
        )
    if not verify_consistency(before.size, checkpoint.size, before.root, checkpoint.root, hashes):
        raise NoteError(
            f"the checkpoint of size {checkpoint.size} does not extend the one of size {before.size} you "
            "cosigned: the log's history was changed (or the proof is wrong); do not cosign"
        )


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # Only these exact words are commands, so every export name still verifies as before.
    commands = {"keygen": _keygen_command, "cosign": _cosign_command}
    if argv and argv[0] in commands:
        return commands[argv[0]](argv[1:])
    return _verify_command(argv)


if __name__ == "__main__":
    sys.exit(main())
