"""The union's verification kit, checked the way the union checks it: unzipped, with a bare Python."""

import io
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from consent import chain
from consent.bundle import write_bundle

CREATED_AT = "2025-06-01T09:00:00.000000Z"
MEMBERS = {"events.jsonl", "checkpoints.txt", "verify_chain.py", "VERIFY.md", "README.txt", "texts.jsonl"}


def build_chain(count, *, choice="opt_in"):
    """Export lines of a real chain, and the entry_hash (hex) of each event."""
    lines = []
    hashes = []
    prev = chain.GENESIS
    for seq in range(1, count + 1):
        body = chain.make_body(
            seq=seq,
            kind="decision.recorded",
            occurred_at=f"2025-05-01T09:00:{seq:02d}.000000Z",
            actor=f"p-{seq:032x}",
            subject=f"p-{seq:032x}",
            payload={"choice": choice, "channel": "web", "sign_in_method": "password"},
        )
        leaf = chain.leaf_hash(body)
        entry = chain.entry_hash(prev, leaf)
        lines.append(chain.export_line(seq=seq, body=body, leaf_hash=leaf, prev_hash=prev, entry_hash=entry))
        hashes.append(entry.hex())
        prev = entry
    return lines, hashes


def unzip_bundle(directory, lines, hashes, checkpoints=()):
    """Write the kit for this chain, unzip it into directory and return its members."""
    out = io.BytesIO()
    write_bundle(
        out,
        export_lines=iter(lines),
        checkpoints=checkpoints,
        head_seq=len(hashes),
        head_hash=hashes[-1] if hashes else "",
        created_at=CREATED_AT,
    )
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        archive.extractall(directory)
        return archive.infolist()


def run_in(directory, *args):
    """Run as a laptop with only Python would: no site-packages, no project, an almost empty environment."""
    return subprocess.run(
        [sys.executable, "-S", *args],
        cwd=directory,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def verify_in(directory):
    return run_in(directory, "verify_chain.py", "events.jsonl", "--checkpoints-file", "checkpoints.txt")


def test_it_holds_the_kit(tmp_path):
    lines, hashes = build_chain(7)
    members = unzip_bundle(tmp_path, lines, hashes)

    assert {info.filename for info in members} == MEMBERS
    assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in members)
    assert (tmp_path / "verify_chain.py").read_bytes() == Path(chain.__file__).read_bytes()
    assert (tmp_path / "events.jsonl").read_text(encoding="utf-8") == "".join(line + "\n" for line in lines)
    guide = (tmp_path / "VERIFY.md").read_text(encoding="utf-8")
    assert guide.index("検証") < guide.index("What this kit is")
    for reason in ["edited", "gap", "reordered", "broken-link", "checkpoint-mismatch", "truncated"]:
        assert f"`{reason}`" in guide
    assert "py verify_chain.py events.jsonl --checkpoints-file checkpoints.txt" in guide
    assert "python3 verify_chain.py events.jsonl --checkpoints-file checkpoints.txt" in guide
    readme = (tmp_path / "README.txt").read_text(encoding="utf-8")
    assert len(readme.splitlines()) == 3
    assert "VERIFY.md" in readme


def test_checkpoints_file_lists_saved_checkpoints_then_the_head(tmp_path):
    lines, hashes = build_chain(6)
    unzip_bundle(tmp_path, lines, hashes, checkpoints=[(3, hashes[2].upper(), "2025-05-20T10:00:00Z")])

    text = (tmp_path / "checkpoints.txt").read_text(encoding="utf-8")
    entries = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert entries == [f"3:{hashes[2]}", f"6:{hashes[5]}"]
    assert text.startswith("#")
    assert CREATED_AT in text
    assert "2025-05-20T10:00:00Z" in text


def test_it_verifies_with_only_python(tmp_path):
    lines, hashes = build_chain(8)
    unzip_bundle(tmp_path, lines, hashes)

    result = verify_in(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"OK: 8 events, head seq 8 entry_hash {hashes[-1]}")
    assert run_in(tmp_path, "-c", "import django").returncode != 0


def test_an_edited_body_fails(tmp_path):
    unzip_bundle(tmp_path, *build_chain(8))
    events = tmp_path / "events.jsonl"
    edited = events.read_text(encoding="utf-8").splitlines()
    edited[4] = edited[4].replace(r"\"choice\":\"opt_in\"", r"\"choice\":\"opt_out\"")
    events.write_text("\n".join(edited) + "\n", encoding="utf-8")

    result = verify_in(tmp_path)

    assert result.returncode == 1
    assert result.stdout.startswith("FAILED at seq 5: edited")


def test_a_rewritten_chain_fails_an_earlier_checkpoint(tmp_path):
    unzip_bundle(tmp_path, *build_chain(8))
    earlier_checkpoints = (tmp_path / "checkpoints.txt").read_bytes()
    unzip_bundle(tmp_path, *build_chain(8, choice="opt_out"))

    assert run_in(tmp_path, "verify_chain.py", "events.jsonl").returncode == 0
    (tmp_path / "checkpoints.txt").write_bytes(earlier_checkpoints)
    result = verify_in(tmp_path)

    assert result.returncode == 1
    assert result.stdout.startswith("FAILED at seq 8: checkpoint-mismatch")


def test_an_empty_chain_still_verifies(tmp_path):
    unzip_bundle(tmp_path, [], [])

    text = (tmp_path / "checkpoints.txt").read_text(encoding="utf-8")
    assert all(line.startswith("#") for line in text.splitlines())
    result = verify_in(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 0 events")


def test_a_bad_checkpoint_is_refused_before_anything_is_written():
    out = io.BytesIO()
    with pytest.raises(ValueError, match="64 hexadecimal digits"):
        write_bundle(
            out,
            export_lines=[],
            checkpoints=[(3, "not-a-hash", "2025-05-20T10:00:00Z")],
            head_seq=0,
            head_hash="",
            created_at=CREATED_AT,
        )
    assert out.getvalue() == b""


def test_it_streams_many_lines():
    count = 200_000
    lines = (f'{{"seq":{seq}}}' for seq in range(1, count + 1))
    out = io.BytesIO()

    started = time.perf_counter()
    write_bundle(out, export_lines=lines, checkpoints=[], head_seq=0, head_hash="", created_at=CREATED_AT)
    elapsed = time.perf_counter() - started

    assert elapsed < 5
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive, archive.open("events.jsonl") as events:
        assert sum(1 for _ in events) == count


def test_it_builds_without_django():
    project = Path(chain.__file__).resolve().parents[1]
    result = run_in(project, "-c", "import consent.bundle, sys; assert 'django' not in sys.modules")
    assert result.returncode == 0, result.stderr
