"""The witnessed log's pure core: the Merkle tree, its proofs, and the stored-node layout."""

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from consent.chain import (
    EMPTY_ROOT,
    EXPLANATION_TEXT_FIELDS,
    GENESIS,
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    Checkpoint,
    NoteError,
    commitment,
    consistency_path,
    cosignature_line,
    entry_hash,
    explanation_digest,
    export_line,
    format_checkpoint,
    format_consistency_proof,
    format_tlog_proof,
    frontier_append,
    generate_key,
    inclusion_path,
    leaf_hash,
    main,
    make_body,
    node_hash,
    note_key_id,
    notice_digest,
    open_note,
    parse_checkpoint_text,
    parse_private_key,
    parse_tlog_proof,
    parse_vkey,
    range_hash,
    read_export,
    root_from_frontier,
    root_from_leaves,
    sign_note,
    signature_line,
    split_note,
    subtree_nodes,
    verify,
    verify_checkpoint,
    verify_consistency,
    verify_inclusion,
)

# Test vectors of transparency-dev/merkle (proof/verify_test.go), the RFC 6962
# reference tree of eight leaves used since Certificate Transparency's own tests.
LEAF_DATA = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657"]
LEAF_DATA.append("606162636465666768696a6b6c6d6e6f")
LEAVES = [leaf_hash(bytes.fromhex(data)) for data in LEAF_DATA]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, audit path); the Go file numbers leaves from 1.
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
ROOT = Path(__file__).resolve().parents[1]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def root(size):
    return bytes.fromhex(ROOTS[size - 1])


def stored_nodes(leaves):
    """Every complete subtree of the tree, as the log stores them: built by appending."""
    frontier, nodes = [], {}
    for size, leaf in enumerate(leaves):
        frontier, new = frontier_append(frontier, size, leaf)
        nodes.update({(level, index): value for level, index, value in new})
    return frontier, nodes


def leaves_of(count):
    return [leaf_hash(str(n).encode()) for n in range(count)]


def test_empty_tree_and_hash_prefixes():
    assert root_from_leaves([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert root_from_frontier([]) == EMPTY_ROOT
    assert node_hash(b"l", b"r") == hashlib.sha256(b"\x01lr").digest()


@pytest.mark.parametrize("size", range(1, 9))
def test_reference_roots(size):
    assert root_from_leaves(LEAVES[:size]) == root(size)
    frontier, _ = stored_nodes(LEAVES[:size])
    assert root_from_frontier(frontier) == root(size)


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_reference_inclusion_proofs(index, size, proof):
    proof = [bytes.fromhex(h) for h in proof]
    assert verify_inclusion(index, size, LEAVES[index], proof, root(size))
    _, nodes = stored_nodes(LEAVES[:size])
    assert [range_hash(a, b, nodes) for a, b in inclusion_path(index, size)] == proof


def corrupted_inclusion(index, size, proof, root_hash, leaf):
    """The probes transparency-dev/merkle plays against every good inclusion proof."""
    probes = [
        (index - 1, size, leaf, proof, root_hash),
        (index + 1, size, leaf, proof, root_hash),
        (index ^ 2, size, leaf, proof, root_hash),
        (index, size * 2, leaf, proof, root_hash),
        (index, size // 2, leaf, proof, root_hash),
        (index, size, b"WrongLeaf", proof, root_hash),
        (index, size, leaf, proof, EMPTY_ROOT),
        (index, size, leaf, proof, SOME_HASH),
        (index, size, leaf, [*proof, b""], root_hash),
        (index, size, leaf, [*proof, root_hash], root_hash),
        (index, size, leaf, [b"", *proof], root_hash),
        (index, size, leaf, [root_hash, *proof], root_hash),
    ]
    for i in range(len(proof)):
        flipped = bytes([proof[i][0] ^ 8]) + proof[i][1:]
        probes.append((index, size, leaf, [*proof[:i], flipped, *proof[i + 1 :]], root_hash))
    if proof:
        probes.append((index, size, leaf, proof[:-1], root_hash))
    if len(proof) > 1:
        probes.append((index, size, leaf, [proof[0], SOME_HASH, *proof[1:]], root_hash))
    return probes


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_corrupted_reference_inclusion_proofs_fail(index, size, proof):
    proof = [bytes.fromhex(h) for h in proof]
    for probe in corrupted_inclusion(index, size, proof, root(size), LEAVES[index]):
        assert not verify_inclusion(*probe), probe


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_inclusion_in_no_tree_or_beyond_it_fails(index, size):
    assert not verify_inclusion(index, size, SOME_HASH, [], b"")
    assert not verify_inclusion(index, size, b"", [], EMPTY_ROOT)
    assert not verify_inclusion(index, size, SOME_HASH, [], EMPTY_ROOT)


def test_inclusion_in_a_one_leaf_tree():
    leaf = leaf_hash(b"data")
    assert verify_inclusion(0, 1, leaf, [], leaf)
    assert not verify_inclusion(0, 1, b"", [], leaf)
    assert not verify_inclusion(0, 1, leaf, [], b"")


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_reference_consistency_proofs(old, new, proof):
    proof = [bytes.fromhex(h) for h in proof]
    assert verify_consistency(old, new, root(old), root(new), proof)
    _, nodes = stored_nodes(LEAVES[:new])
    assert [range_hash(a, b, nodes) for a, b in consistency_path(old, new)] == proof


def corrupted_consistency(old, new, old_root, new_root, proof):
    probes = [
        (old - 1, new, old_root, new_root, proof),
        (old + 1, new, old_root, new_root, proof),
        (old ^ 2, new, old_root, new_root, proof),
        (old, new * 2, old_root, new_root, proof),
        (old, new // 2, old_root, new_root, proof),
        (old, new, b"WrongRoot", new_root, proof),
        (old, new, old_root, b"WrongRoot", proof),
        (old, new, new_root, old_root, proof),
        (old, new, old_root, new_root, []),
        (old, new, old_root, new_root, [*proof, b""]),
        (old, new, old_root, new_root, [*proof, old_root]),
        (old, new, old_root, new_root, [*proof, new_root]),
        (old, new, old_root, new_root, [b"", *proof]),
        (old, new, old_root, new_root, [old_root, *proof]),
        (old, new, old_root, new_root, [new_root, *proof]),
        (old, new, old_root, new_root, [proof[0], *proof]),
        (old, new, old_root, new_root, proof[:-1]),
    ]
    for i in range(len(proof)):
        flipped = bytes([proof[i][0] ^ 16]) + proof[i][1:]
        probes.append((old, new, old_root, new_root, [*proof[:i], flipped, *proof[i + 1 :]]))
    return probes


@pytest.mark.parametrize(("old", "new", "proof"), [c for c in CONSISTENCY if c[2]])
def test_corrupted_reference_consistency_proofs_fail(old, new, proof):
    proof = [bytes.fromhex(h) for h in proof]
    for probe in corrupted_consistency(old, new, root(old), root(new), proof):
        assert not verify_consistency(*probe), probe


def test_trivial_consistency():
    other = hashlib.sha256(b"other").digest()
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(1, 1, other, other, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, root(5), [])
    # Stricter than transparency-dev/merkle: an empty tree has one root, so a
    # checkpoint of size 0 claiming another is not consistent with anything.
    assert not verify_consistency(0, 1, other, root(1), [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, other, [])
    assert not verify_consistency(1, 1, EMPTY_ROOT, other, [])
    assert not verify_consistency(1, 0, root(1), EMPTY_ROOT, [])
    assert not verify_consistency(2, 1, root(2), root(1), [])
    assert not verify_consistency(1, 2, root(1), root(2), [])
    for old, new in ((0, 0), (0, 1), (1, 1)):
        assert not verify_consistency(old, new, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])


def test_frontier_append_reports_every_completed_subtree():
    frontier, nodes = [], []
    for size in range(8):
        frontier, new = frontier_append(frontier, size, LEAVES[size])
        nodes.append([(level, index) for level, index, _ in new])
    assert nodes == [
        [(0, 0)],
        [(0, 1), (1, 0)],
        [(0, 2)],
        [(0, 3), (1, 1), (2, 0)],
        [(0, 4)],
        [(0, 5), (1, 2)],
        [(0, 6)],
        [(0, 7), (1, 3), (2, 1), (3, 0)],
    ]
    assert frontier == [root(8)]
    with pytest.raises(ValueError):
        frontier_append(frontier, 3, LEAVES[0])


def test_frontier_append_leaves_its_argument_alone():
    frontier, _ = stored_nodes(LEAVES[:3])
    before = list(frontier)
    frontier_append(frontier, 3, LEAVES[3])
    assert frontier == before


def test_frontier_root_matches_the_reference_for_every_size_to_300():
    leaves = leaves_of(300)
    frontier = []
    assert root_from_frontier(frontier) == root_from_leaves([])
    for size in range(300):
        frontier, _ = frontier_append(frontier, size, leaves[size])
        assert len(frontier) == bin(size + 1).count("1")
        assert root_from_frontier(frontier) == root_from_leaves(leaves[: size + 1])


def test_subtree_nodes_of_proof_ranges_are_few():
    assert subtree_nodes(0, 8) == [(3, 0)]
    assert subtree_nodes(4, 7) == [(1, 2), (0, 6)]
    assert subtree_nodes(0, 1000) == [(9, 0), (8, 2), (7, 6), (6, 14), (5, 30), (3, 124)]
    size = 1_000_003
    for a, b in inclusion_path(123_456, size) + consistency_path(999_999, size):
        assert len(subtree_nodes(a, b)) <= 2 * size.bit_length()


@pytest.mark.parametrize("bad", [(3, 3), (4, 2), (-1, 2), (0, 1.0)])
def test_empty_or_reversed_ranges_are_refused(bad):
    with pytest.raises(ValueError):
        subtree_nodes(*bad)
    with pytest.raises(ValueError):
        range_hash(*bad, {})


def test_paths_of_impossible_trees_are_refused():
    with pytest.raises(ValueError):
        inclusion_path(5, 5)
    with pytest.raises(ValueError):
        consistency_path(6, 5)
    assert consistency_path(0, 5) == consistency_path(5, 5) == []


TREE = leaves_of(70)
TREE_NODES = stored_nodes(TREE)[1]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 70).flatmap(lambda size: st.tuples(st.integers(0, size - 1), st.just(size))))
def test_inclusion_proofs_from_stored_nodes_verify(index_size):
    index, size = index_size
    proof = [range_hash(a, b, TREE_NODES) for a, b in inclusion_path(index, size)]
    assert verify_inclusion(index, size, TREE[index], proof, root_from_leaves(TREE[:size]))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 70).flatmap(lambda new: st.tuples(st.integers(0, new), st.just(new))))
def test_consistency_proofs_from_stored_nodes_verify(old_new):
    old, new = old_new
    proof = [range_hash(a, b, TREE_NODES) for a, b in consistency_path(old, new)]
    assert verify_consistency(old, new, root_from_leaves(TREE[:old]), root_from_leaves(TREE[:new]), proof)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_changed_hash_fails_inclusion(data):
    size = data.draw(st.integers(2, 70))
    index = data.draw(st.integers(0, size - 1))
    proof = [range_hash(a, b, TREE_NODES) for a, b in inclusion_path(index, size)]
    values = [TREE[index], *proof, root_from_leaves(TREE[:size])]
    which = data.draw(st.integers(0, len(values) - 1))
    byte = data.draw(st.integers(0, 31))
    changed = bytearray(values[which])
    changed[byte] ^= data.draw(st.integers(1, 255))
    values[which] = bytes(changed)
    assert not verify_inclusion(index, size, values[0], values[1:-1], values[-1])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_changed_hash_fails_consistency(data):
    new = data.draw(st.integers(2, 70))
    old = data.draw(st.integers(1, new - 1))
    proof = [range_hash(a, b, TREE_NODES) for a, b in consistency_path(old, new)]
    values = [root_from_leaves(TREE[:old]), root_from_leaves(TREE[:new]), *proof]
    which = data.draw(st.integers(0, len(values) - 1))
    changed = bytearray(values[which])
    changed[data.draw(st.integers(0, 31))] ^= data.draw(st.integers(1, 255))
    values[which] = bytes(changed)
    assert not verify_consistency(old, new, values[0], values[1], values[2:])


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_a_rewritten_prefix_is_not_consistent(data):
    new = data.draw(st.integers(2, 70))
    old = data.draw(st.integers(1, new - 1))
    changed = data.draw(st.integers(0, old - 1))
    # The log rewrote leaf ``changed`` after signing the old checkpoint and proves from the rewrite.
    rewritten = list(TREE[:new])
    rewritten[changed] = leaf_hash(b"rewritten")
    nodes = stored_nodes(rewritten)[1]
    proof = [range_hash(a, b, nodes) for a, b in consistency_path(old, new)]
    assert not verify_consistency(old, new, root_from_leaves(TREE[:old]), root_from_leaves(rewritten), proof)


def test_range_hash_names_a_missing_node():
    with pytest.raises(KeyError):
        range_hash(0, 4, {(1, 0): b"x" * 32})


# Signed notes (c2sp.org/signed-note). The example key and note of Go's
# golang.org/x/mod/sumdb/note, the reference implementation of the format.

PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
ENOCH_SIG = (
    "— EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)
# An earlier signed-note example key and note.
FOO_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
FOO_NOTE = (
    "This is an example message.\n\n— example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
# c2sp.org/tlog-checkpoint's and tlog-cosignature's example (keys not published).
SOFA_NOTE = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "— example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— witness.example.com/w1 "
    "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)


def test_the_reference_key_signs_the_reference_note_byte_for_byte():
    signer = parse_private_key(PETER_SKEY)
    assert signer.key.vkey == PETER_VKEY
    assert signer.key == parse_vkey(PETER_VKEY)
    assert signer.key.key_id == note_key_id("PeterNeumann", SIG_ED25519, signer.key.public)
    assert sign_note(PETER_TEXT, PETER_SKEY) == PETER_TEXT + "\n" + PETER_SIG


def test_a_doubly_signed_note_opens_for_each_known_key():
    note = PETER_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    peter, enoch = parse_vkey(PETER_VKEY), parse_vkey(ENOCH_VKEY)
    text, verified = open_note(note, [peter, enoch])
    assert text == PETER_TEXT
    assert verified == [(peter, None), (enoch, None)]
    # Unknown signatures are ignored, as the spec requires.
    assert open_note(note, [enoch])[1] == [(enoch, None)]


def test_the_earlier_spec_example_verifies():
    assert open_note(FOO_NOTE, [parse_vkey(FOO_VKEY)])[0] == "This is an example message.\n"


def test_the_server_signing_with_openssl_gives_the_same_note():
    def openssl(seed, message):
        return Ed25519PrivateKey.from_private_bytes(seed).sign(message)

    text = format_checkpoint("ledger.example/consent-log", 7, root(7))
    private, _ = generate_key("ledger.example/consent-log")
    assert sign_note(text, private, sign=openssl) == sign_note(text, private)


def test_an_edited_note_is_refused():
    note = PETER_TEXT.replace("answer", "solution") + "\n" + PETER_SIG
    with pytest.raises(NoteError, match="does not verify"):
        open_note(note, [parse_vkey(PETER_VKEY)])


def test_a_note_signed_by_another_key_under_the_same_name_is_refused():
    # The attacker names their own key like the log's: the key ID differs, so it is unknown.
    private, _ = generate_key("PeterNeumann")
    forged = sign_note("PeterNeumann says otherwise\n", private)
    with pytest.raises(NoteError, match="no signature on the note is by a known key"):
        open_note(forged, [parse_vkey(PETER_VKEY)])


def test_a_forged_signature_with_the_right_key_id_is_refused():
    peter = parse_vkey(PETER_VKEY)
    forged = "Forged\n\n" + signature_line(peter, bytes(64))
    with pytest.raises(NoteError, match="does not verify"):
        open_note(forged, [peter])


@pytest.mark.parametrize(
    "note",
    [
        PETER_TEXT + PETER_SIG,  # no blank line
        PETER_TEXT + "\n" + PETER_SIG[:-1],  # no final newline
        PETER_TEXT + "\n" + PETER_SIG.replace("—", "-"),
        PETER_TEXT + "\n" + PETER_SIG.replace(" x08go", "  x08go"),
        PETER_TEXT + "\n" + PETER_SIG.replace("AM=", "AM"),  # not canonical base64
        PETER_TEXT + "\n" + "— PeterNeumann AAAA\n",  # too short
        "tab\there\n\n" + PETER_SIG,
        PETER_TEXT + "\n" + PETER_SIG * 101,
    ],
)
def test_malformed_notes_are_refused(note):
    with pytest.raises(NoteError):
        open_note(note, [parse_vkey(PETER_VKEY)])


@pytest.mark.parametrize(
    "key",
    [
        "",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong hash
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",  # wrong length
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # unknown algorithm
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
    ],
)
def test_malformed_verifier_keys_are_refused(key):
    with pytest.raises(NoteError):
        parse_vkey(key)


@pytest.mark.parametrize(
    "key",
    [
        PETER_VKEY,
        PETER_SKEY.replace("c74f20a3", "c74f20a4"),
        PETER_SKEY.replace("PRIVATE+KEY", "PRIVATE+KEYS"),
        PETER_SKEY[:-4],
    ],
)
def test_malformed_private_keys_are_refused(key):
    with pytest.raises(NoteError):
        parse_private_key(key)


def test_generated_keys_parse_and_match():
    private, vkey = generate_key("union.example/witness", SIG_COSIGNATURE_V1)
    assert private.startswith("PRIVATE+KEY+union.example/witness+")
    assert parse_private_key(private).key == parse_vkey(vkey)
    assert parse_vkey(vkey).sig_type == SIG_COSIGNATURE_V1
    assert generate_key("union.example/witness", SIG_COSIGNATURE_V1)[1] != vkey
    with pytest.raises(NoteError):
        generate_key("has space")


# Checkpoints (c2sp.org/tlog-checkpoint)


def test_the_spec_checkpoint_parses():
    text, signatures = split_note(SOFA_NOTE)
    assert parse_checkpoint_text(text) == Checkpoint(
        "example.com/behind-the-sofa",
        20852163,
        base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="),
    )
    (log_name, log_sig), (witness_name, witness_sig) = signatures
    assert (log_name, len(log_sig)) == ("example.com/behind-the-sofa", 4 + 64)
    # Key ID, then the big-endian timestamp the spec's example message shows (time 1679315147).
    assert (witness_name, len(witness_sig)) == ("witness.example.com/w1", 4 + 8 + 64)
    assert int.from_bytes(witness_sig[4:12], "big") == 1679315147


def test_format_checkpoint():
    assert format_checkpoint("ledger.example/consent-log", 0, EMPTY_ROOT) == (
        "ledger.example/consent-log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    )
    for bad in [("", 1, EMPTY_ROOT), ("a\nb", 1, EMPTY_ROOT), ("o", -1, EMPTY_ROOT), ("o", 1, b"x")]:
        with pytest.raises(NoteError):
            format_checkpoint(*bad)


@pytest.mark.parametrize(
    "text",
    [
        "o\n5\n",
        "o\n05\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        "o\n+5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        "o\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n",
        "o\n5\nAAAA\n",
        "\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        "o\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\nx\n",
        "o\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    ],
)
def test_malformed_checkpoints_are_refused(text):
    with pytest.raises(NoteError):
        parse_checkpoint_text(text)


def test_extension_lines_are_allowed_and_signed():
    text = "o\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nextension\n"
    assert parse_checkpoint_text(text).size == 5


LOG_SKEY, LOG_VKEY = generate_key("ledger.example/consent-log")
LOG_KEY = parse_vkey(LOG_VKEY)
WITNESS_SKEY, WITNESS_VKEY = generate_key("union.example/witness", SIG_COSIGNATURE_V1)
WITNESS_KEY = parse_vkey(WITNESS_VKEY)


def signed_checkpoint(size, leaves=None):
    leaves = leaves if leaves is not None else TREE
    return sign_note(format_checkpoint(LOG_KEY.name, size, root_from_leaves(leaves[:size])), LOG_SKEY)


def test_verify_checkpoint():
    note = signed_checkpoint(9)
    assert verify_checkpoint(note, LOG_KEY) == (Checkpoint(LOG_KEY.name, 9, root_from_leaves(TREE[:9])), [])


def test_a_checkpoint_of_another_origin_is_refused():
    # Signed by the log's key, but naming another log: not a checkpoint of this log.
    note = sign_note(format_checkpoint("other.example/log", 9, EMPTY_ROOT), LOG_SKEY)
    with pytest.raises(NoteError, match="not of"):
        verify_checkpoint(note, LOG_KEY)


def test_a_checkpoint_signed_only_by_a_witness_is_refused():
    text = format_checkpoint(LOG_KEY.name, 9, root_from_leaves(TREE[:9]))
    note = text + "\n" + cosignature_line(text, WITNESS_SKEY, 1_700_000_000)
    with pytest.raises(NoteError, match="not signed by the log key"):
        verify_checkpoint(note, LOG_KEY, [WITNESS_KEY])


def test_a_note_key_cannot_sign_notes_as_a_witness_or_the_reverse():
    with pytest.raises(NoteError, match="0x04"):
        cosignature_line("t\n", LOG_SKEY, 1)
    with pytest.raises(NoteError, match="0x01"):
        sign_note("t\n", WITNESS_SKEY)


# Cosignatures (c2sp.org/tlog-cosignature, cosignature/v1)


def test_cosignature_round_trip_and_its_exact_bytes():
    note = signed_checkpoint(12)
    text, _ = split_note(note)
    line = cosignature_line(text, WITNESS_SKEY, 1_779_000_000)
    checkpoint, cosignatures = verify_checkpoint(note + line, LOG_KEY, [WITNESS_KEY])
    assert checkpoint.size == 12
    assert cosignatures == [(WITNESS_KEY, 1_779_000_000)]
    # The bytes the spec defines, signed by an independent implementation.
    seed = parse_private_key(WITNESS_SKEY).seed
    message = b"cosignature/v1\ntime 1779000000\n" + text.encode()
    theirs = Ed25519PrivateKey.from_private_bytes(seed).sign(message)
    expected_id = hashlib.sha256(b"union.example/witness\n\x04" + WITNESS_KEY.public).digest()[:4]
    assert line == signature_line(WITNESS_KEY, (1_779_000_000).to_bytes(8, "big") + theirs)
    assert WITNESS_KEY.key_id == expected_id


def test_a_cosignature_moved_to_another_checkpoint_fails():
    old_text, _ = split_note(signed_checkpoint(12))
    line = cosignature_line(old_text, WITNESS_SKEY, 1_779_000_000)
    with pytest.raises(NoteError, match="union.example/witness does not verify"):
        verify_checkpoint(signed_checkpoint(13) + line, LOG_KEY, [WITNESS_KEY])


def test_a_cosignature_with_a_changed_time_fails():
    note = signed_checkpoint(12)
    line = cosignature_line(split_note(note)[0], WITNESS_SKEY, 1_779_000_000)
    raw = bytearray(split_note(note + line)[1][1][1])
    raw[11] ^= 1
    with pytest.raises(NoteError, match="does not verify"):
        verify_checkpoint(note + signature_line(WITNESS_KEY, bytes(raw[4:])), LOG_KEY, [WITNESS_KEY])


@pytest.mark.parametrize("timestamp", [-1, 2**63, 1.5])
def test_cosignature_times_out_of_range_are_refused(timestamp):
    with pytest.raises(NoteError):
        cosignature_line("t\n", WITNESS_SKEY, timestamp)


# Proofs (c2sp.org/tlog-proof)

SPEC_PROOF = """c2sp.org/tlog-proof@v1
extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ
index 73894
gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=
EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=
RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=
AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=

example.com/fancylog
109482
sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=

— example.com/fancylog hI2DJw[...]1roloI=
"""


def test_the_spec_proof_parses():
    proof = parse_tlog_proof(SPEC_PROOF)
    assert proof.index == 73894
    assert len(proof.hashes) == 5
    assert proof.hashes[0] == base64.b64decode("gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=")
    assert proof.checkpoint.startswith("example.com/fancylog\n109482\n")


def test_a_proof_round_trips_and_verifies():
    index, size = 5, 9
    hashes = [range_hash(a, b, TREE_NODES) for a, b in inclusion_path(index, size)]
    text = format_tlog_proof(index, hashes, signed_checkpoint(size))
    assert text.startswith(f"c2sp.org/tlog-proof@v1\nindex 5\n{base64.b64encode(hashes[0]).decode()}\n")
    proof = parse_tlog_proof(text)
    checkpoint, _ = verify_checkpoint(proof.checkpoint, LOG_KEY)
    assert verify_inclusion(proof.index, checkpoint.size, TREE[index], list(proof.hashes), checkpoint.root)
    assert format_tlog_proof(0, [], signed_checkpoint(1)).startswith("c2sp.org/tlog-proof@v1\nindex 0\n\n")


@pytest.mark.parametrize(
    "text",
    [
        "c2sp.org/tlog-proof@v2\nindex 1\n\nx\n",
        "c2sp.org/tlog-proof@v1\nindex 01\n\nx\n",
        "c2sp.org/tlog-proof@v1\nindex -1\n\nx\n",
        "c2sp.org/tlog-proof@v1\nextra AAAA\n\nx\n",
        "c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\nx\n",
        "c2sp.org/tlog-proof@v1\nindex 1\n",
    ],
)
def test_malformed_proofs_are_refused(text):
    with pytest.raises(NoteError):
        parse_tlog_proof(text)


def test_a_non_canonical_base64_spelling_is_refused():
    # 'V' differs from 'U' only in bits past the 32 bytes: the same root, spelled twice.
    assert parse_checkpoint_text("o\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n").root == EMPTY_ROOT
    with pytest.raises(NoteError, match="canonical"):
        parse_checkpoint_text("o\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=\n")


@pytest.mark.parametrize("text", ["tab\there\n", "cr\r\n", "no newline"])
def test_texts_a_note_cannot_hold_are_not_signed(text):
    with pytest.raises(NoteError):
        sign_note(text, LOG_SKEY)


def test_a_cosignature_dated_beyond_2_63_is_refused():
    from consent.chain import cosignature_message, ed25519_sign

    # A witness key that signed such a time anyway (not through cosignature_line).
    text, _ = split_note(signed_checkpoint(12))
    seed = parse_private_key(WITNESS_SKEY).seed
    late = 2**63
    line = signature_line(
        WITNESS_KEY, late.to_bytes(8, "big") + ed25519_sign(seed, cosignature_message(text, late))
    )
    with pytest.raises(NoteError, match="does not verify"):
        verify_checkpoint(signed_checkpoint(12) + line, LOG_KEY, [WITNESS_KEY])


# The verifier with signed checkpoints, proofs, texts and openings, as the union runs it

EXPLANATION = {name: f"{name}: 任意です" for name in EXPLANATION_TEXT_FIELDS}
NOTICE = {"title": "説明会のお知らせ", "body": "参加は任意です。", "offices": ["B2", "A1"]}
RECEIPT_SEQ = 7
RECEIPT_SECRET = {"pseudonym": "ab" * 16, "choice": "opt_out", "channel": "web"}


def salt(seq):
    return hashlib.sha256(f"salt {seq}".encode()).digest()[:16]


def log_bodies(count, rewrite=None, explanation_version=1):
    """Bodies of a log shaped like the app's: an explanation, a notice, employees' decisions."""
    for seq in range(1, count + 1):
        actor, subject = "employee", None
        if seq == 1:
            kind, actor = "explanation.published", "system"
            payload = {"version": explanation_version, "content_hash": explanation_digest(1, EXPLANATION)}
        elif seq == 5:
            kind, actor = "notice.published", "staff:" + "1" * 32
            digest_ = notice_digest(NOTICE["title"], NOTICE["body"], NOTICE["offices"])
            payload = {"content_hash": digest_, "offices": sorted(NOTICE["offices"]), "flagged_words": []}
        else:
            secret = (
                RECEIPT_SECRET if seq == RECEIPT_SEQ else {"pseudonym": f"{seq % 5:032x}", "choice": "opt_in"}
            )
            if rewrite == seq:
                secret = {**secret, "choice": "undecided"}
            kind, subject, payload = (
                "decision.recorded",
                commitment(salt(seq), secret),
                {"acknowledgement_seq": 1},
            )
        yield make_body(
            seq=seq,
            kind=kind,
            occurred_at="2026-11-27T10:00:00Z",
            actor=actor,
            subject=subject,
            payload=payload,
        )


class Log:
    """A log of ``count`` events: its export, leaves, stored nodes, and files the union would hold."""

    def __init__(self, directory, count=40, rewrite=None, explanation_version=1):
        self.directory = directory
        self.leaves, lines, prev = [], [], GENESIS
        for seq, body in enumerate(log_bodies(count, rewrite, explanation_version), start=1):
            leaf = leaf_hash(body)
            entry = entry_hash(prev, leaf)
            lines.append(export_line(seq=seq, body=body, leaf_hash=leaf, prev_hash=prev, entry_hash=entry))
            self.leaves.append(leaf)
            prev = entry
        self.entries = [json.loads(line)["entry_hash"] for line in lines]
        self.nodes = stored_nodes(self.leaves)[1]
        self.export = self.write("events.jsonl", "\n".join(lines) + "\n")

    def lines(self):
        with open(self.export, encoding="utf-8") as export:
            return export.read().splitlines()

    def first(self, count):
        """An export of the first ``count`` events only."""
        with open(self.export, encoding="utf-8") as export:
            return self.write(f"first{count}.jsonl", "".join(export.readlines()[:count]))

    def write(self, name, text):
        path = self.directory / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def checkpoint(self, size, key=LOG_SKEY):
        text = format_checkpoint(LOG_KEY.name, size, root_from_leaves(self.leaves[:size]))
        return sign_note(text, key)

    def cosigned(self, size, timestamp=1_790_000_000):
        note = self.checkpoint(size)
        return note + cosignature_line(split_note(note)[0], WITNESS_SKEY, timestamp)

    def proof(self, index, size, checkpoint=None):
        hashes = [range_hash(a, b, self.nodes) for a, b in inclusion_path(index, size)]
        return format_tlog_proof(index, hashes, checkpoint or self.checkpoint(size))

    def consistency(self, old, new):
        return format_consistency_proof(
            old, [range_hash(a, b, self.nodes) for a, b in consistency_path(old, new)]
        )


@pytest.fixture
def log(tmp_path):
    return Log(tmp_path)


def cli(capsys, *args):
    try:
        code = main([str(arg) for arg in args])
    except SystemExit as exit_:  # argparse's way of refusing arguments
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def test_signed_checkpoints_in_the_export(log, capsys):
    first = log.write("cp20.note", log.cosigned(20))
    second = log.write("cp40.note", log.checkpoint(40))
    vkey = log.write("log.vkey", LOG_VKEY + "\n")
    code, out, err = cli(
        capsys,
        log.export,
        "--checkpoint-note",
        first,
        "--checkpoint-note",
        second,
        "--key",
        vkey,
        "--witness",
        WITNESS_VKEY,
    )
    assert (code, err) == (0, ""), out
    assert out.splitlines()[1:] == [
        f"Merkle root of the 40 events: {base64.b64encode(root_from_leaves(log.leaves)).decode()}",
        f"checkpoint {first}: size 20, signed by {LOG_KEY.name}, in the export",
        "  cosigned by union.example/witness at 2026-09-21T14:13:20Z",
        f"checkpoint {second}: size 40, signed by {LOG_KEY.name}, in the export",
        "  not cosigned by union.example/witness",
    ]


def test_a_rewritten_history_fails_the_signed_checkpoint(tmp_path, capsys):
    saved = Log(tmp_path).cosigned(20)
    # Someone with the database changes event 9 and recomputes every hash and node after it.
    rewritten = Log(tmp_path, rewrite=9)
    note = rewritten.write("cp20.note", saved)
    assert main([rewritten.export]) == 0
    capsys.readouterr()
    code, out, _ = cli(capsys, rewritten.export, "--checkpoint-note", note, "--key", LOG_VKEY)
    assert (code, out) == (
        1,
        "FAILED at seq 20: checkpoint-mismatch: the Merkle root of events 1 to 20 is not the signed root\n",
    )


def test_an_export_cut_below_a_signed_checkpoint_is_truncated(log, capsys):
    note = log.write("cp40.note", log.checkpoint(40))
    short = log.first(30)
    code, out, _ = cli(capsys, short, "--checkpoint-note", note, "--key", LOG_VKEY)
    assert code == 1
    assert out == "FAILED at seq 31: truncated: the chain ends at seq 30, before the checkpoint at seq 40\n"


@pytest.mark.parametrize(
    "forge",
    [
        # A checkpoint signed by the attacker's key under the log's name.
        lambda log: log.checkpoint(20, key=generate_key(LOG_KEY.name)[0]),
        # The log's checkpoint with its root swapped for another tree's.
        lambda log: log.checkpoint(20).replace(
            base64.b64encode(root_from_leaves(log.leaves[:20])).decode(),
            base64.b64encode(root_from_leaves(log.leaves[:19])).decode(),
        ),
        # A witness cosignature moved from another checkpoint.
        lambda log: log.checkpoint(20) + log.cosigned(19).splitlines(keepends=True)[-1],
    ],
)
def test_a_forged_checkpoint_or_cosignature_is_refused(log, capsys, forge):
    note = log.write("cp.note", forge(log))
    code, out, _ = cli(
        capsys, log.export, "--checkpoint-note", note, "--key", LOG_VKEY, "--witness", WITNESS_VKEY
    )
    assert code == 1
    assert out.startswith(f"FAILED: {note}: bad-signature: ")


def test_a_checkpoint_of_size_0_must_be_the_empty_tree():
    assert verify([], tree_heads=[(0, EMPTY_ROOT)]).ok
    result = verify([], tree_heads=[(0, LEAVES[0])])
    assert (result.ok, result.first_bad_seq, result.reason.split(":")[0]) == (False, 1, "checkpoint-mismatch")


def test_verify_reports_the_root_and_shows_each_event(log):
    seen = []
    result = verify(
        read_export(log.lines()),
        on_event=lambda seq, body, leaf, entry, frontier: seen.append(
            (seq, body["seq"], leaf, root_from_frontier(frontier))
        ),
    )
    assert result.root == root_from_leaves(log.leaves)
    assert seen == [(n + 1, n + 1, log.leaves[n], root_from_leaves(log.leaves[: n + 1])) for n in range(40)]


@pytest.mark.parametrize(
    "args", [("--checkpoint-note", "{note}"), ("--proof", "{note}"), ("--key", "nonsense")]
)
def test_signed_files_need_a_valid_key(log, capsys, args):
    note = log.write("cp.note", log.checkpoint(20))
    code, out, err = cli(capsys, log.export, *(arg.format(note=note) for arg in args))
    assert (code, out) == (2, "")
    assert err.startswith("error: ")


# Inclusion proofs


def test_an_inclusion_proof_is_checked(log, capsys):
    proof = log.write("e8.tlog-proof", log.proof(7, 30, log.cosigned(30)))
    code, out, _ = cli(capsys, log.export, "--proof", proof, "--key", LOG_VKEY, "--witness", WITNESS_VKEY)
    assert code == 0, out
    assert out.splitlines()[2:] == [
        f"proof {proof}: index 7 (event seq 8) is in the log signed by {LOG_KEY.name}; "
        "its checkpoint of size 30 matches the export",
        "  cosigned by union.example/witness at 2026-09-21T14:13:20Z",
    ]


def test_a_proof_newer_than_the_export_still_proves_its_event(log, capsys, tmp_path):
    proof = log.write("e8.tlog-proof", log.proof(7, 40))
    short = log.first(30)
    code, out, _ = cli(capsys, short, "--proof", proof, "--key", LOG_VKEY)
    assert code == 0, out
    assert out.splitlines()[2].endswith("its checkpoint of size 40 is newer than the export")


def test_a_proof_for_another_event_fails(log, capsys):
    # The audit path of event 8 presented as the proof of event 9.
    text = log.proof(7, 30).replace("index 7\n", "index 8\n")
    code, out, _ = cli(capsys, log.export, "--proof", log.write("p", text), "--key", LOG_VKEY)
    assert code == 1
    assert "proof-failed: the event at seq 9 in the export does not lead to the signed root" in out


def test_a_proof_from_a_split_view_fails(tmp_path, capsys):
    # The log shows the employee a tree where event 9 differs, signed with its real key.
    split = Log(tmp_path, rewrite=9)
    proof = split.proof(7, 30)
    union = Log(tmp_path)
    code, out, _ = cli(capsys, union.export, "--proof", union.write("p", proof), "--key", LOG_VKEY)
    assert code == 1
    assert "checkpoint-mismatch: the Merkle root of events 1 to 30 in the export" in out


def test_a_proof_beyond_the_export_is_truncated(log, capsys):
    proof = log.write("p", log.proof(35, 40))
    short = log.first(30)
    code, out, _ = cli(capsys, short, "--proof", proof, "--key", LOG_VKEY)
    assert (code, out.splitlines()[-1]) == (
        1,
        f"FAILED: {proof}: truncated: the export ends at seq 30, before seq 36, which it proves",
    )


def test_a_malformed_proof_fails(log, capsys):
    code, out, _ = cli(capsys, log.export, "--proof", log.write("p", "not a proof\n"), "--key", LOG_VKEY)
    assert code == 1
    assert "a proof starts with the line c2sp.org/tlog-proof@v1" in out


# Texts


def texts_file(log, *extra, notice=NOTICE, explanation=EXPLANATION):
    lines = [{"kind": "explanation", "number": 1, **explanation}, {"kind": "notice", **notice}, *extra]
    return log.write("texts.jsonl", "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))


def test_texts_match_their_events(log, capsys):
    code, out, _ = cli(capsys, log.export, "--texts", texts_file(log))
    assert code == 0, out
    assert out.splitlines()[-1] == (
        f"texts {log.directory / 'texts.jsonl'}: 1 explanation versions and 1 notices: "
        "each matches the event publishing it"
    )


def test_a_notice_edited_after_publication_is_found(log, capsys):
    edited = {**NOTICE, "body": "参加は必須です。"}
    code, out, _ = cli(capsys, log.export, "--texts", texts_file(log, notice=edited))
    assert (code, out.splitlines()[-1]) == (
        1,
        f"FAILED at seq 5: text-missing: the notice published here is not in {log.directory / 'texts.jsonl'}",
    )


def test_a_text_no_event_published_is_found(log, capsys):
    unpublished = {"kind": "notice", "title": "後から追加", "body": "x", "offices": []}
    code, out, _ = cli(capsys, log.export, "--texts", texts_file(log, unpublished))
    assert code == 1
    assert out.splitlines()[-1].startswith(f"FAILED: {log.directory / 'texts.jsonl'}, line 3: text-unlogged")


def test_an_explanation_under_another_version_number_is_found(tmp_path, capsys):
    log = Log(tmp_path)
    with open(log.export, encoding="utf-8") as export:
        body = json.loads(json.loads(export.readline())["body"])
    assert body["payload"]["version"] == 1
    # The same text published as version 1 but presented as version 2 does not hash the same.
    code, out, _ = cli(
        capsys, log.export, "--texts", texts_file(log, {"kind": "explanation", "number": 2, **EXPLANATION})
    )
    assert code == 1
    assert "text-unlogged" in out


def test_an_event_naming_another_version_of_a_text_is_found(tmp_path, capsys):
    # The event says version 2 but names the content hash of the text numbered 1.
    log = Log(tmp_path, explanation_version=2)
    code, out, _ = cli(capsys, log.export, "--texts", texts_file(log))
    assert (code, out.splitlines()[-1]) == (
        1,
        "FAILED at seq 1: text-mismatch: the event publishes version 2, "
        "but the text with its content hash is version 1",
    )


@pytest.mark.parametrize(
    "line",
    [
        "[]",
        '{"kind": "memo"}',
        '{"kind": "notice", "title": "t"}',
        '{"kind": "explanation", "number": "1"}',
        "{",
    ],
)
def test_malformed_texts_fail_naming_the_line(log, capsys, line):
    code, out, _ = cli(capsys, log.export, "--texts", log.write("texts.jsonl", "\n" + line + "\n"))
    assert code == 1
    assert out.startswith(f"FAILED: {log.directory / 'texts.jsonl'}, line 2")


# Receipt openings


def receipt(log, **changes):
    opening = {"seq": RECEIPT_SEQ, "salt": salt(RECEIPT_SEQ).hex(), "secret": RECEIPT_SECRET, **changes}
    data = {"audit": {"seq": RECEIPT_SEQ, "entry_hash": log.entries[RECEIPT_SEQ - 1]}, "opening": opening}
    return log.write("receipt.json", json.dumps(data))


def test_a_receipt_opens_its_event(log, capsys):
    code, out, _ = cli(capsys, log.export, "--opening", receipt(log))
    assert code == 0, out
    assert out.splitlines()[-1] == (
        f"opening {log.directory / 'receipt.json'}: "
        "the event at seq 7 (decision.recorded) is this receipt's: "
        '{"channel":"web","choice":"opt_out","pseudonym":"' + "ab" * 16 + '"}'
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"secret": {**RECEIPT_SECRET, "choice": "opt_in"}},  # claiming another choice
        {"secret": {**RECEIPT_SECRET, "pseudonym": "cd" * 16}},  # claiming someone else's event
        {"seq": 8},  # claiming another event
    ],
)
def test_a_false_opening_is_refused(log, capsys, changes):
    code, out, _ = cli(capsys, log.export, "--opening", receipt(log, **changes))
    assert code == 1
    assert "opening-mismatch" in out


def test_a_receipt_whose_entry_hash_differs_is_refused(log, capsys):
    path = receipt(log)
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    data["audit"]["entry_hash"] = "ab" * 32
    code, out, _ = cli(capsys, log.export, "--opening", log.write("receipt.json", json.dumps(data)))
    assert (code, out.splitlines()[-1]) == (
        1,
        "FAILED at seq 7: opening-mismatch: the receipt's entry_hash is not the event's",
    )


@pytest.mark.parametrize(
    "content", ["{", "[]", '{"opening": {"seq": 7}}', '{"opening": {"seq": 7, "salt": "zz", "secret": {}}}']
)
def test_a_receipt_without_an_opening_fails(log, capsys, content):
    code, out, _ = cli(capsys, log.export, "--opening", log.write("receipt.json", content))
    assert code == 1
    assert out.startswith("FAILED: ")


def test_a_receipt_beyond_the_export_is_truncated(log, capsys):
    short = log.first(5)
    code, out, _ = cli(capsys, short, "--opening", receipt(log))
    assert code == 1
    assert "truncated: the export ends at seq 5, before seq 7 of this receipt" in out


def test_everything_at_once_with_only_the_standard_library(log):
    args = [
        log.export,
        "--checkpoint",
        f"10:{log.entries[9]}",
        "--checkpoint-note",
        log.write("cp.note", log.cosigned(40)),
        "--proof",
        log.write("p", log.proof(3, 40)),
        "--key",
        LOG_VKEY,
        "--witness",
        WITNESS_VKEY,
        "--texts",
        texts_file(log),
        "--opening",
        receipt(log),
    ]
    child = run_cli(*args)
    assert (child.returncode, child.stderr) == (0, ""), child.stdout
    assert len(child.stdout.splitlines()) == 8


# keygen and cosign, on the union's laptop


def run_cli(*args, cwd=None):
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-S", "-m", "consent.chain", *map(str, args)],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_keygen_writes_a_private_key_and_prints_the_verifier_key(tmp_path):
    child = run_cli("keygen", "union.example/witness", cwd=tmp_path)
    assert child.returncode == 0, child.stderr
    vkey = parse_vkey(child.stdout)
    assert vkey.sig_type == SIG_COSIGNATURE_V1
    key_file = tmp_path / "witness.key"
    assert parse_private_key(key_file.read_text()).key == vkey
    assert key_file.stat().st_mode & 0o777 == 0o600
    # Never over an existing key: that would lose the witness's identity.
    again = run_cli("keygen", "union.example/witness", cwd=tmp_path)
    assert (again.returncode, again.stdout) == (2, "")
    assert parse_private_key(key_file.read_text()).key == vkey


def test_keygen_refuses_a_bad_name(tmp_path):
    child = run_cli("keygen", "union witness", "--output", tmp_path / "k")
    assert child.returncode == 2
    assert not (tmp_path / "k").exists()


@pytest.fixture
def witness(log):
    return log.write("witness.key", WITNESS_SKEY + "\n")


def cosign(capsys, log, witness, size, *extra):
    return cli(
        capsys,
        "cosign",
        "--key",
        witness,
        "--checkpoint",
        log.write(f"cp{size}.note", log.checkpoint(size)),
        *extra,
    )


def test_a_first_cosignature(log, witness, capsys):
    output = log.directory / "cosigned20.note"
    code, out, err = cosign(capsys, log, witness, 20, "--log-key", LOG_VKEY, "--output", output)
    assert code == 0, out + err
    assert "No --previous" in err
    note = log.checkpoint(20) + out
    checkpoint, cosignatures = verify_checkpoint(note, LOG_KEY, [WITNESS_KEY])
    assert (checkpoint.size, [key for key, _ in cosignatures]) == (20, [WITNESS_KEY])
    assert output.read_text(encoding="utf-8") == note


def test_cosigning_after_a_consistent_append(log, witness, capsys):
    previous = log.write("cosigned20.note", log.cosigned(20))
    proof = log.write("proof", log.consistency(20, 40))
    code, out, err = cosign(
        capsys, log, witness, 40, "--log-key", LOG_VKEY, "--previous", previous, "--consistency-proof", proof
    )
    assert (code, err) == (0, ""), out
    assert verify_checkpoint(log.checkpoint(40) + out, LOG_KEY, [WITNESS_KEY])[1][0][0] == WITNESS_KEY


def test_cosign_refuses_a_rewritten_history(tmp_path, capsys):
    honest = Log(tmp_path)
    previous = honest.write("cosigned20.note", honest.cosigned(20))
    witness = honest.write("witness.key", WITNESS_SKEY)
    # The log rewrote event 9 and proves consistency from its rewritten tree.
    rewritten = Log(tmp_path, rewrite=9)
    proof = rewritten.write("proof", rewritten.consistency(20, 40))
    code, out, _ = cosign(
        capsys,
        rewritten,
        witness,
        40,
        "--log-key",
        LOG_VKEY,
        "--previous",
        previous,
        "--consistency-proof",
        proof,
    )
    assert code == 1
    assert out.startswith(
        "REFUSED: the checkpoint of size 40 does not extend the one of size 20 you cosigned"
    )


def test_cosign_refuses_a_log_that_went_back(log, witness, capsys):
    previous = log.write("cosigned30.note", log.cosigned(30))
    proof = log.write("proof", format_consistency_proof(30, []))
    code, out, _ = cosign(capsys, log, witness, 20, "--previous", previous, "--consistency-proof", proof)
    assert (
        code,
        out.startswith("REFUSED: the checkpoint has 20 events, fewer than the 30 you cosigned"),
    ) == (1, True)


def test_cosign_refuses_a_proof_from_another_size(log, witness, capsys):
    previous = log.write("cosigned20.note", log.cosigned(20))
    proof = log.write("proof", log.consistency(10, 40))
    code, out, _ = cosign(capsys, log, witness, 40, "--previous", previous, "--consistency-proof", proof)
    assert (code, out) == (
        1,
        "REFUSED: the consistency proof starts at size 10, but you last cosigned size 20\n",
    )


def test_cosign_refuses_a_previous_checkpoint_it_did_not_cosign(log, witness, capsys):
    # Someone hands the witness a "previous" it never saw, to skip the history it did see.
    previous = log.write("cp30.note", log.checkpoint(30))
    proof = log.write("proof", log.consistency(30, 40))
    code, out, _ = cosign(capsys, log, witness, 40, "--previous", previous, "--consistency-proof", proof)
    assert (code, out) == (1, "REFUSED: no signature on the note is by a known key\n")
    code, out, _ = cosign(
        capsys, log, witness, 40, "--log-key", LOG_VKEY, "--previous", previous, "--consistency-proof", proof
    )
    assert code == 1
    assert out.startswith("REFUSED: --previous does not carry your cosignature")


def test_cosign_refuses_a_previous_checkpoint_of_another_log(log, witness, capsys):
    other_key = generate_key("other.example/log")[0]
    text = format_checkpoint("other.example/log", 10, root_from_leaves(log.leaves[:10]))
    other = sign_note(text, other_key)
    previous = log.write("other.note", other + cosignature_line(text, WITNESS_SKEY, 1_790_000_000))
    proof = log.write("proof", log.consistency(10, 40))
    code, out, _ = cosign(capsys, log, witness, 40, "--previous", previous, "--consistency-proof", proof)
    assert (code, out) == (
        1,
        f"REFUSED: --previous is a checkpoint of other.example/log, not of {LOG_KEY.name}\n",
    )


def test_cosign_refuses_a_checkpoint_the_log_did_not_sign(log, witness, capsys):
    forged = log.write("forged.note", log.checkpoint(20, key=generate_key(LOG_KEY.name)[0]))
    code, out, _ = cli(capsys, "cosign", "--key", witness, "--checkpoint", forged, "--log-key", LOG_VKEY)
    assert (code, out) == (1, "REFUSED: no signature on the note is by a known key\n")


@pytest.mark.parametrize(
    "args",
    [
        ("--key", "{witness}"),
        ("--key", "{log_key}", "--checkpoint", "{note}"),
        ("--key", "{witness}", "--checkpoint", "{note}", "--previous", "{note}"),
        ("--key", "{witness}", "--checkpoint", "{missing}"),
    ],
)
def test_cosign_bad_arguments(log, witness, capsys, args):
    names = {
        "witness": witness,
        "log_key": log.write("log.key", LOG_SKEY),
        "note": log.write("cp.note", log.checkpoint(20)),
        "missing": log.directory / "missing",
    }
    code, out, err = cli(capsys, "cosign", *(arg.format(**names) for arg in args))
    assert (code, out) == (2, "")
    assert err


def test_subcommand_words_only_as_the_first_argument(log, capsys):
    # An export can still be named anything; only the exact first word is a command.
    code, out, _ = cli(capsys, log.export)
    assert code == 0
    with open(log.export, encoding="utf-8") as export:
        renamed = log.write("keygen.jsonl", export.read())
    assert cli(capsys, renamed)[0] == 0
