"""The hash-chain core and its standalone verifier, without Django or a database."""

import base64
import hashlib
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consent.chain import (
    BODY_VERSION,
    GENESIS,
    ExportError,
    canonical_json,
    commitment,
    entry_hash,
    export_line,
    leaf_hash,
    main,
    make_body,
    parse_checkpoint,
    read_export,
    root_from_leaves,
    verify,
)

ROOT = Path(__file__).resolve().parents[1]


def salt(seq):
    return hashlib.sha256(f"salt {seq}".encode()).digest()[:16]


def export_lines(count, choice=lambda seq: "opt_in" if seq % 4 else "opt_out"):
    """An export of ``count`` events shaped like the app's version 2 bodies.

    Odd events are acknowledgements, even ones decisions; who and what they
    chose is in the subject commitment only.
    """
    prev = GENESIS
    for seq in range(1, count + 1):
        secret = {"pseudonym": f"{seq % 7:032x}"}
        if seq % 2:
            kind, payload = "explanation.acknowledged", {"version": 1, "content_hash": "ab" * 32}
        else:
            kind, payload = "decision.recorded", {"acknowledgement_seq": seq - 1, "note": "同意 ✓"}
            secret.update(choice=choice(seq), channel="web")
        body = make_body(
            seq=seq,
            kind=kind,
            occurred_at=f"2026-04-01T{seq // 3600 % 24:02d}:00:00Z",
            actor="employee",
            subject=commitment(salt(seq), secret),
            payload=payload,
        )
        leaf = leaf_hash(body)
        entry = entry_hash(prev, leaf)
        yield export_line(seq=seq, body=body, leaf_hash=leaf, prev_hash=prev, entry_hash=entry)
        prev = entry


def events(count, **kwargs):
    return list(read_export(export_lines(count, **kwargs)))


def rehash_row(event, body_text):
    """The row as someone who can write the table would redo it: new body, consistent hashes."""
    leaf = leaf_hash(body_text.encode())
    entry = entry_hash(bytes.fromhex(event["prev_hash"]), leaf)
    return {**event, "body": body_text, "leaf_hash": leaf.hex(), "entry_hash": entry.hex()}


def assert_fails(result, code, first_bad_seq):
    assert not result.ok
    assert result.reason.split(":")[0] == code, result.reason
    assert result.first_bad_seq == first_bad_seq


# Canonical JSON (RFC 8785)


def test_rfc8785_property_sorting_example():
    # RFC 8785 section 3.2.3: UTF-16 code unit order puts the emoji (a surrogate
    # pair, D83D…) before U+FB33, the reverse of code point order.
    obj = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    values = list(json.loads(canonical_json(obj)).values())
    assert values == [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]


def test_rfc8785_serialisation_example_without_floats():
    # RFC 8785 section 3.2.2, with the numbers array kept to integers.
    obj = {
        "numbers": [333333333, -7, 0, 9007199254740991],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333,-7,0,9007199254740991],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(obj) == expected.encode("utf-8")


def test_keys_sort_by_code_units_and_prefixes_first():
    assert canonical_json({"b": 1, "ab": 2, "a": 3, "B": 4, "é": 5, "z": 6}) == (
        '{"B":4,"a":3,"ab":2,"b":1,"z":6,"é":5}'.encode()
    )


def test_nested_values_have_no_whitespace_and_keep_non_ascii():
    obj = {"z": [{"b": [], "a": {}}, "名古屋"], "a": {"y": None, "x": [1, [2, [True]]]}}
    assert (
        canonical_json(obj) == '{"a":{"x":[1,[2,[true]]],"y":null},"z":[{"a":{},"b":[]},"名古屋"]}'.encode()
    )


def test_only_the_mandatory_escapes():
    controls = "".join(chr(code) for code in range(0x20))
    expected = (
        '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f'
        "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c"
        '\\u001d\\u001e\\u001f"'
    )
    assert canonical_json(controls) == expected.encode()
    # Slash, DEL, U+2028 and astral characters go out as they are.
    assert canonical_json("/\x7f\u2028\U0001f600") == '"/\x7f\u2028\U0001f600"'.encode()


def test_booleans_stay_booleans():
    assert (
        canonical_json({"t": True, "f": False, "one": 1, "zero": 0})
        == b'{"f":false,"one":1,"t":true,"zero":0}'
    )


@pytest.mark.parametrize("value", [1.0, 0.5, float("nan"), [1, 2.5], {"a": {"b": -0.0}}])
def test_floats_are_refused(value):
    with pytest.raises(TypeError):
        canonical_json(value)


@pytest.mark.parametrize("value", [{1: "a"}, {None: "a"}, {"a": b"bytes"}, {"a": {1, 2}}, object()])
def test_other_types_are_refused(value):
    with pytest.raises(TypeError):
        canonical_json(value)


@pytest.mark.parametrize("value", [2**53, -(2**53), 10**30])
def test_integers_json_cannot_hold_exactly_are_refused(value):
    with pytest.raises(ValueError, match="outside"):
        canonical_json([value])


def test_lone_surrogates_are_refused():
    with pytest.raises(ValueError, match="surrogate"):
        canonical_json({"\ud800": 1})


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=20,
    )
)
def test_canonical_json_round_trips(value):
    text = canonical_json(value)
    assert json.loads(text) == value
    assert canonical_json(json.loads(text)) == text


# Hashing and the export format


def test_body_is_canonical_json_of_the_event():
    body = make_body(
        seq=3, kind="k", occurred_at="2026-04-01T00:00:00.000000Z", actor=None, subject="s", payload={"b": 1}
    )
    assert body == (
        b'{"actor":null,"kind":"k","occurred_at":"2026-04-01T00:00:00.000000Z",'
        b'"payload":{"b":1},"seq":3,"subject":"s","v":2}'
    )
    assert BODY_VERSION == 2


def test_hashes_are_domain_separated_sha256():
    assert leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert (
        entry_hash(GENESIS, GENESIS).hex()
        == "977c6d24ff2b851777af4dce0615e547112c6c0128a37338b3a1db9d055fff09"
    )
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()


def test_export_line_is_one_canonical_object():
    line = export_line(
        seq=1, body=b'{"a":"\xc3\xa9"}', leaf_hash=b"\x01" * 32, prev_hash=GENESIS, entry_hash=b"\xff" * 32
    )
    assert line == (
        '{"body":"{\\"a\\":\\"é\\"}","entry_hash":"' + "ff" * 32 + '","leaf_hash":"' + "01" * 32 + '",'
        '"prev_hash":"' + "00" * 32 + '","seq":1}'
    )
    assert "\n" not in line
    # Written out by hand for speed: still exactly canonical_json of the five fields.
    body = '{"x":"\\u0001\\"\\\\ \U0001f600 \u2028"}'.encode()
    fields = {"seq": 2**40, "body": body.decode(), "leaf_hash": "01" * 32, "prev_hash": "00" * 32}
    line = export_line(
        seq=2**40, body=body, leaf_hash=b"\x01" * 32, prev_hash=GENESIS, entry_hash=b"\xff" * 32
    )
    assert line == canonical_json({**fields, "entry_hash": "ff" * 32}).decode()


def test_read_export_skips_blank_lines():
    lines = list(export_lines(2))
    assert [event["seq"] for event in read_export(["\n", lines[0] + "\n", "  \r\n", lines[1]])] == [1, 2]


def test_read_export_names_the_bad_line():
    lines = [*export_lines(2), "{not json", "[]"]
    reader = read_export(lines)
    next(reader), next(reader)
    with pytest.raises(ExportError, match="line 3 is not valid JSON"):
        next(reader)
    with pytest.raises(ExportError, match="line 4 is not a JSON object"):
        next(read_export(["", "", "", "[]"]))


# Verification


def test_an_intact_chain_verifies():
    chain = events(50)
    result = verify(chain)
    assert result.ok
    assert (result.count, result.head_seq, result.head_hash) == (50, 50, chain[-1]["entry_hash"])
    assert (result.first_bad_seq, result.reason) == (None, None)


def test_an_empty_chain_verifies_with_the_genesis_head():
    result = verify([])
    assert result.ok
    assert (result.count, result.head_seq, result.head_hash) == (0, 0, "00" * 32)


def reattributed(body_text):
    """The body with its subject swapped for another commitment: the event made someone else's."""
    subject = json.loads(body_text)["subject"]
    return body_text.replace(subject, commitment(salt(0), {"pseudonym": "someone else"}))


def test_an_edited_body_is_named():
    chain = events(10)
    chain[3]["body"] = reattributed(chain[3]["body"])
    result = verify(chain)
    assert_fails(result, "edited", 4)
    assert (result.count, result.head_seq, result.head_hash) == (3, 3, chain[2]["entry_hash"])


def test_an_edited_body_with_its_row_rehashed_breaks_the_next_link():
    chain = events(10)
    chain[3] = rehash_row(chain[3], reattributed(chain[3]["body"]))
    assert_fails(verify(chain), "broken-link", 5)


def test_a_body_moved_to_another_seq_is_edited():
    chain = events(10)
    # Rows 5 and 6 swap contents but keep their seq column: each body names the other seq.
    chain[4], chain[5] = {**chain[5], "seq": 5}, {**chain[4], "seq": 6}
    assert_fails(verify(chain), "edited", 5)


def test_an_edited_hash_is_named():
    chain = events(10)
    chain[6]["entry_hash"] = "ab" * 32
    assert_fails(verify(chain), "broken-link", 7)
    chain = events(10)
    chain[6]["prev_hash"] = "ab" * 32
    assert_fails(verify(chain), "broken-link", 7)
    chain = events(10)
    chain[6]["leaf_hash"] = "ab" * 32
    assert_fails(verify(chain), "edited", 7)


def test_hashes_must_be_exactly_as_exported():
    chain = events(3)
    chain[1]["leaf_hash"] = chain[1]["leaf_hash"].upper()
    assert_fails(verify(chain), "edited", 2)
    chain = events(3)
    chain[1]["entry_hash"] = " " + chain[1]["entry_hash"]
    assert_fails(verify(chain), "broken-link", 2)
    chain = events(3)
    del chain[1]["prev_hash"]
    assert_fails(verify(chain), "broken-link", 2)
    chain = events(3)
    del chain[1]["body"]
    assert_fails(verify(chain), "edited", 2)


def test_a_body_that_is_not_a_version_2_event_is_edited():
    chain = events(3)
    # A version 1 body, as the log wrote before bodies hid who acted: no longer accepted.
    chain[2] = rehash_row(chain[2], json.dumps({"v": 1, "seq": 3}))
    assert_fails(verify(chain), "edited", 3)
    chain[2] = rehash_row(chain[2], json.dumps({"v": True, "seq": 3}))
    assert_fails(verify(chain), "edited", 3)
    chain[2] = rehash_row(chain[2], "[3]")
    assert_fails(verify(chain), "edited", 3)


def test_a_deleted_row_is_a_gap():
    chain = events(10)
    del chain[2]
    result = verify(chain)
    assert_fails(result, "gap", 3)
    assert "expected seq 3 but found seq 4" in result.reason


def test_swapped_rows_are_reordered_at_the_first_misplaced_seq():
    chain = events(10)
    chain[4], chain[5] = chain[5], chain[4]
    assert_fails(verify(chain), "reordered", 5)
    chain = events(10)
    chain[4], chain[8] = chain[8], chain[4]
    assert_fails(verify(chain), "reordered", 5)


def test_a_repeated_row_is_reordered():
    chain = events(10)
    chain.insert(5, chain[4])
    assert_fails(verify(chain), "reordered", 6)


def test_a_missing_seq_is_edited():
    chain = events(3)
    chain[1]["seq"] = "2"
    assert_fails(verify(chain), "edited", 2)


def test_a_matching_checkpoint_passes():
    chain = events(20)
    checkpoints = [(10, chain[9]["entry_hash"].upper()), (20, chain[19]["entry_hash"])]
    assert verify(chain, checkpoints).ok


def test_a_rewritten_history_fails_an_earlier_checkpoint():
    original = events(20)
    checkpoint = (12, original[11]["entry_hash"])
    # Someone with the database changes seq 4's choice and recomputes every hash after it.
    rewritten = events(20, choice=lambda seq: "opt_in")
    assert verify(rewritten).ok
    result = verify(rewritten, [checkpoint])
    assert_fails(result, "checkpoint-mismatch", 12)
    assert result.head_seq == 11


def test_two_different_hashes_for_one_checkpoint_cannot_both_pass():
    chain = events(5)
    assert_fails(verify(chain, [(3, chain[2]["entry_hash"]), (3, "ab" * 32)]), "checkpoint-mismatch", 3)


def test_a_tail_cut_below_a_checkpoint_is_truncated():
    chain = events(20)
    checkpoint = (20, chain[19]["entry_hash"])
    result = verify(chain[:15], [checkpoint])
    assert_fails(result, "truncated", 16)
    assert (result.count, result.head_seq, result.head_hash) == (15, 15, chain[14]["entry_hash"])
    # Without a checkpoint a cut tail looks like a shorter chain: that is what checkpoints are for.
    assert verify(chain[:15]).ok


def test_an_empty_chain_below_a_checkpoint_is_truncated():
    assert_fails(verify([], [(1, "ab" * 32)]), "truncated", 1)


def test_invalid_checkpoints_are_refused():
    with pytest.raises(ValueError):
        verify([], [(0, "00" * 32)])
    with pytest.raises(ValueError):
        verify([], [(1, "xyz")])


def test_verify_streams():
    tracemalloc.start()
    try:
        assert verify(read_export(export_lines(5_000))).count == 5_000
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Holding 5,000 events takes over 6 MB; streaming them, about 15 KB.
    assert peak < 1_000_000


BODIES = [event["body"].encode() for event in events(6)]


@settings(max_examples=300)
@given(st.data())
def test_any_single_byte_change_in_any_body_is_detected(data):
    index = data.draw(st.integers(0, len(BODIES) - 1))
    body = bytearray(BODIES[index])
    position = data.draw(st.integers(0, len(body) - 1))
    body[position] = data.draw(st.integers(0, 255).filter(lambda byte: byte != body[position]))
    chain = events(6)
    # Bytes that are no longer UTF-8 survive as lone surrogates, as a lenient reader would keep them.
    chain[index]["body"] = bytes(body).decode("utf-8", "surrogateescape")
    assert_fails(verify(chain), "edited", index + 1)


EXPORT = ("\n".join(export_lines(4)) + "\n").encode()


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_single_byte_change_in_an_export_file_fails_or_changes_nothing(data, tmp_path_factory):
    content = bytearray(EXPORT)
    position = data.draw(st.integers(0, len(content) - 1))
    content[position] = data.draw(st.integers(0, 255).filter(lambda byte: byte != content[position]))
    path = tmp_path_factory.mktemp("export") / "audit.jsonl"
    path.write_bytes(content)
    if main([str(path)]) != 1:
        # Only whitespace JSON ignores, such as the last newline becoming a space.
        assert list(read_export(bytes(content).decode().splitlines())) == events(4)


# Checkpoints


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12:" + "ab" * 32, (12, "ab" * 32)),
        (" 7:" + "AB" * 32 + "\n", (7, "ab" * 32)),
        ("007:" + "0" * 64, (7, "0" * 64)),
    ],
)
def test_parse_checkpoint(text, expected):
    assert parse_checkpoint(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no ':'"),
        ("ab" * 32, "no ':'"),
        (":" + "ab" * 32, "SEQ"),
        ("0:" + "ab" * 32, "SEQ"),
        ("-1:" + "ab" * 32, "SEQ"),
        ("１２:" + "ab" * 32, "SEQ"),
        ("1.5:" + "ab" * 32, "SEQ"),
        ("12:" + "ab" * 31, "HASH"),
        ("12:" + "ab" * 33, "HASH"),
        ("12:" + "gh" * 32, "HASH"),
        ("12:" + "ab" * 32 + ":1", "HASH"),
        ("12:0x" + "ab" * 31, "HASH"),
    ],
)
def test_parse_checkpoint_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_checkpoint(text)


# The command line, as the union runs it: no site-packages, so no Django


# PYTHONSAFEPATH would keep the working directory, and so the consent package, off sys.path.
CHILD_ENV = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONSAFEPATH")}


def run_cli(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-S", "-m", "consent.chain", *args],
        cwd=ROOT,
        env=CHILD_ENV,
        input=stdin,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture
def export(tmp_path):
    path = tmp_path / "audit.jsonl"
    path.write_text("\n".join(export_lines(30)) + "\n", encoding="utf-8")
    return path


def bodies(path):
    return [event["body"].encode() for event in read_export(path.read_text(encoding="utf-8").splitlines())]


def head(path, seq):
    """The entry_hash at ``seq`` in an intact export: what the union would have saved."""
    return list(read_export(path.read_text(encoding="utf-8").splitlines()))[seq - 1]["entry_hash"]


def test_django_is_out_of_reach_of_the_verifier(export):
    child = subprocess.run(
        [sys.executable, "-S", "-c", "import django"], cwd=ROOT, env=CHILD_ENV, capture_output=True
    )
    assert child.returncode != 0
    assert b"No module named 'django'" in child.stderr
    # And running the verifier loads nothing outside the standard library but itself.
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['chain', sys.argv[1]]\n"
        "try:\n"
        "    runpy.run_module('consent.chain', run_name='__main__')\n"
        "except SystemExit as done:\n"
        "    print(done.code, sorted({m.split('.')[0] for m in sys.modules} - sys.stdlib_module_names))\n"
    )
    child = subprocess.run(
        [sys.executable, "-S", "-c", probe, str(export)],
        cwd=ROOT,
        env=CHILD_ENV,
        capture_output=True,
        text=True,
    )
    assert child.stdout.splitlines()[-1] == "0 ['__main__', 'consent']", child.stderr


def test_cli_intact(export):
    child = run_cli(
        str(export), "--checkpoint", f"10:{head(export, 10)}", "--checkpoint", f"30:{head(export, 30)}"
    )
    assert (child.returncode, child.stderr) == (0, b"")
    root = base64.b64encode(root_from_leaves([leaf_hash(body) for body in bodies(export)])).decode()
    assert child.stdout.decode() == (
        f"OK: 30 events, head seq 30 entry_hash {head(export, 30)}\nMerkle root of the 30 events: {root}\n"
    )


def test_cli_reads_standard_input(export):
    child = run_cli("-", stdin=export.read_bytes())
    assert child.returncode == 0
    assert child.stdout.startswith(b"OK: 30 events")


def test_cli_tampered(export):
    text = export.read_text(encoding="utf-8")
    export.write_text(text.replace("decision.recorded", "decision.withdrawn", 1), encoding="utf-8")
    child = run_cli(str(export))
    assert child.returncode == 1
    assert child.stdout.decode() == "FAILED at seq 2: edited: the body does not match its leaf_hash\n"


def test_cli_truncated_below_a_checkpoint(export):
    checkpoint = f"30:{head(export, 30)}"
    export.write_text("\n".join(export.read_text(encoding="utf-8").splitlines()[:25]), encoding="utf-8")
    child = run_cli(str(export), "--checkpoint", checkpoint)
    assert child.returncode == 1
    assert child.stdout.decode().startswith("FAILED at seq 26: truncated: the chain ends at seq 25")


def test_cli_checkpoints_file(export, tmp_path):
    checkpoints = tmp_path / "checkpoints.txt"
    checkpoints.write_text(
        f"# saved at the April meeting\n\n10:{head(export, 10)}\n  # and later\n20:{head(export, 20)}\n"
    )
    assert run_cli(str(export), "--checkpoints-file", str(checkpoints)).returncode == 0
    checkpoints.write_text(f"10:{head(export, 10)}\n20:{head(export, 19)}\n")
    child = run_cli(str(export), "--checkpoints-file", str(checkpoints))
    assert child.returncode == 1
    assert child.stdout.decode().startswith("FAILED at seq 20: checkpoint-mismatch")


def test_cli_a_damaged_file_fails_naming_the_line(export):
    lines = export.read_bytes().splitlines()
    lines[2] = lines[2][:-1]
    export.write_bytes(b"\n".join(lines))
    child = run_cli(str(export))
    assert child.returncode == 1
    assert child.stdout.decode().startswith("FAILED: line 3 is not valid JSON")
    lines[2] = b'{"seq": "\xff"}'
    export.write_bytes(b"\n".join(lines))
    assert run_cli(str(export)).stdout.decode() == "FAILED: line 3 is not UTF-8 text\n"


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("{export}", "--checkpoint", "10"),
        ("{export}", "--checkpoint", "10:nothex"),
        ("{export}", "--checkpoints-file", "{missing}"),
        ("{missing}",),
        ("{directory}",),
        ("{export}", "--no-such-option"),
    ],
)
def test_cli_bad_arguments(args, export, tmp_path):
    names = {"export": export, "missing": tmp_path / "missing.jsonl", "directory": tmp_path}
    child = run_cli(*(arg.format(**names) for arg in args))
    assert child.returncode == 2
    assert child.stdout == b""
    assert child.stderr


def test_digest_is_sha256_of_the_canonical_form():
    from consent.chain import digest

    assert digest({"b": 1, "a": "é"}) == hashlib.sha256('{"a":"é","b":1}'.encode()).hexdigest()


# Commitments and text digests


def test_commitment_is_sha256_of_salt_and_canonical_secret():
    secret = {"pseudonym": "ab" * 16, "choice": "opt_in", "channel": "web"}
    expected = hashlib.sha256(
        b"\x00" * 16 + b'{"channel":"web","choice":"opt_in","pseudonym":"' + b"ab" * 16 + b'"}'
    ).hexdigest()
    assert commitment(bytes(16), secret) == "c:" + expected


def test_an_opening_proves_only_what_was_committed():
    from consent.chain import open_commitment

    secret = {"pseudonym": "ab" * 16, "choice": "opt_out"}
    value = commitment(salt(1), secret)
    assert open_commitment(value, salt(1), secret)
    # An employee cannot claim another choice, nor someone else the event.
    assert not open_commitment(value, salt(1), {**secret, "choice": "opt_in"})
    assert not open_commitment(value, salt(1), {**secret, "pseudonym": "cd" * 16})
    assert not open_commitment(value, salt(2), secret)
    assert not open_commitment(value, salt(1)[:8], secret)
    assert not open_commitment(value, salt(1), {"choice": "opt_out"})
    assert not open_commitment(value, salt(1), {**secret, "x": 1.5})


@pytest.mark.parametrize(
    ("salt_value", "secret"),
    [
        (bytes(15), {"pseudonym": "p"}),
        (bytes(32), {"pseudonym": "p"}),
        ("0" * 32, {"pseudonym": "p"}),
        (bytes(16), {"choice": "opt_in"}),
        (bytes(16), ["pseudonym"]),
    ],
)
def test_weak_or_anonymous_commitments_are_refused(salt_value, secret):
    with pytest.raises(ValueError):
        commitment(salt_value, secret)


def test_the_same_secret_commits_differently_under_fresh_salts():
    secret = {"pseudonym": "ab" * 16, "choice": "opt_in"}
    assert len({commitment(salt(seq), secret) for seq in range(50)}) == 50


def test_text_digests():
    from consent.chain import EXPLANATION_TEXT_FIELDS, explanation_digest, notice_digest

    fields = {name: f"{name} テキスト" for name in EXPLANATION_TEXT_FIELDS}
    expected = hashlib.sha256(canonical_json({"number": 3, **fields})).hexdigest()
    # Extra fields (a model's other columns) are not part of the content.
    assert explanation_digest(3, {**fields, "published_at": "x"}) == expected
    assert explanation_digest(4, fields) != expected
    assert (
        notice_digest("件名", "本文", ["B2", "A1"])
        == hashlib.sha256('{"body":"本文","offices":["A1","B2"],"title":"件名"}'.encode()).hexdigest()
    )
    assert notice_digest("件名", "本文", []) != notice_digest("件名", "本文", ["A1"])


def test_explanation_digest_is_the_hash_the_app_records():
    from consent import explanation_text
    from consent.chain import explanation_digest

    fields = explanation_text.shipped_version(1)
    assert explanation_digest(1, fields) == explanation_text.content_hash(1, fields)
