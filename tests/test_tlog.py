"""The witnessed log's pure core: the Merkle tree, its proofs, and the stored-node layout."""

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consent.chain import (
    EMPTY_ROOT,
    consistency_path,
    frontier_append,
    inclusion_path,
    leaf_hash,
    node_hash,
    range_hash,
    root_from_frontier,
    root_from_leaves,
    subtree_nodes,
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


@settings(max_examples=200)
@given(st.integers(1, 70).flatmap(lambda size: st.tuples(st.integers(0, size - 1), st.just(size))))
def test_inclusion_proofs_from_stored_nodes_verify(index_size):
    index, size = index_size
    proof = [range_hash(a, b, TREE_NODES) for a, b in inclusion_path(index, size)]
    assert verify_inclusion(index, size, TREE[index], proof, root_from_leaves(TREE[:size]))


@settings(max_examples=200)
@given(st.integers(1, 70).flatmap(lambda new: st.tuples(st.integers(0, new), st.just(new))))
def test_consistency_proofs_from_stored_nodes_verify(old_new):
    old, new = old_new
    proof = [range_hash(a, b, TREE_NODES) for a, b in consistency_path(old, new)]
    assert verify_consistency(old, new, root_from_leaves(TREE[:old]), root_from_leaves(TREE[:new]), proof)


@settings(max_examples=300)
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


@settings(max_examples=300)
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


@settings(max_examples=100)
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
