"""How fast the audit log verifies, proves and signs, against plain SHA-256 over the same bytes.

Writes an export of N events (default 1,000,000; version 2 bodies shaped like
the app's acknowledgements, decisions and sign-ins, each with a fresh
commitment) to a temporary directory, and every complete subtree of its
Merkle tree to an SQLite table shaped like ``LogNode(level, index, hash)``.
Then times:

- verifying the whole export, links and Merkle root, as the union runs it
  (``python -S -m consent.chain``, with its peak memory, which should not
  grow with N) and as ``chain.verify`` in this process;
- as floors, hashlib.sha256 over the file, once per line, and the exact
  hashes verification needs (leaf, link and tree nodes) with nothing else;
- building an inclusion proof from stored nodes (one query, then
  ``range_hash``), and checking it;
- signing a checkpoint as a signed note with the pure Ed25519 of chain.py
  and with OpenSSL (``cryptography``), and checking the signature.

    .venv/bin/python bench/verify_chain.py --events 1000000
"""

import argparse
import hashlib
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from consent import chain  # noqa: E402 (needs the path above)

ORIGIN = "ledger.example/consent-log"


def event_for(seq, rng, pseudonyms):
    """A kind, subject and public payload, in the proportions of a busy week."""
    secret = {"pseudonym": rng.choice(pseudonyms)}
    roll = rng.random()
    if roll < 0.45:
        kind, payload = "explanation.acknowledged", {"version": 3, "content_hash": rng.randbytes(32).hex()}
    elif roll < 0.8:
        kind, payload = "decision.recorded", {"acknowledgement_seq": max(1, seq - rng.randrange(1, 1000))}
        secret.update(choice=rng.choice(["opt_in", "opt_out", "undecided"]), channel="web")
    else:
        kind, payload = "account.signed_in", {}
        secret["methods"] = rng.choice(["password", "password+totp", "passkey"])
    return kind, chain.commitment(rng.randbytes(16), secret), payload


def build(path, database, count):
    """Write the export and the stored nodes; return the mean body length and the final frontier."""
    rng = random.Random(2026)
    pseudonyms = [rng.randbytes(16).hex() for _ in range(5000)]
    prev, frontier, body_bytes, rows = chain.GENESIS, [], 0, []
    start = 1_775_000_000
    with open(path, "w", encoding="utf-8") as out:
        for seq in range(1, count + 1):
            kind, subject, payload = event_for(seq, rng, pseudonyms)
            body = chain.make_body(
                seq=seq,
                kind=kind,
                occurred_at=time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime(start + seq * 3)),
                actor="employee",
                subject=subject,
                payload=payload,
            )
            leaf = chain.leaf_hash(body)
            entry = chain.entry_hash(prev, leaf)
            out.write(chain.export_line(seq=seq, body=body, leaf_hash=leaf, prev_hash=prev, entry_hash=entry))
            out.write("\n")
            frontier, nodes = chain.frontier_append(frontier, seq - 1, leaf)
            rows.extend(nodes)
            if len(rows) > 100_000:
                database.executemany("INSERT INTO node VALUES (?, ?, ?)", rows)
                rows.clear()
            body_bytes += len(body)
            prev = entry
    database.executemany("INSERT INTO node VALUES (?, ?, ?)", rows)
    database.commit()
    return body_bytes / count, frontier


def timed(action):
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def mean_time(action, repeat):
    seconds, _ = timed(lambda: [action() for _ in range(repeat)])
    return seconds / repeat


def signed_checkpoint_file(directory, count, root):
    private, vkey = chain.generate_key(ORIGIN)
    note = chain.sign_note(chain.format_checkpoint(ORIGIN, count, root), private)
    path = Path(directory) / "checkpoint.txt"
    path.write_text(note, encoding="utf-8")
    return path, vkey, private


def run_cli(path, note, vkey):
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    child = subprocess.run(
        [
            sys.executable,
            "-S",
            "-m",
            "consent.chain",
            str(path),
            "--checkpoint-note",
            str(note),
            "--key",
            vkey,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        sys.exit(f"the verifier failed: {child.stdout}{child.stderr}")
    return child.stdout.splitlines()[1]


def verify_in_process(path, count, root):
    with open(path, encoding="utf-8") as lines:
        result = chain.verify(chain.read_export(lines), tree_heads=[(count, root)])
    if not result.ok:
        sys.exit(f"verify failed: {result}")
    return result


def sha256_of_file(path):
    """Seconds to hash the file's bytes, read beforehand so that only hashing is timed."""
    content = path.read_bytes()
    seconds, _ = timed(lambda: hashlib.sha256(content).digest())
    return seconds


def sha256_per_line(path):
    with open(path, "rb") as lines:
        for line in lines:
            hashlib.sha256(line).digest()


def bare_hashes_seconds(path):
    """Seconds for only the SHA-256 calls verification needs: leaf, link and the tree's nodes."""
    with open(path, encoding="utf-8") as lines:
        bodies = [event["body"].encode() for event in chain.read_export(lines)]
    seconds, _ = timed(lambda: bare_hashes(bodies))
    return seconds


def bare_hashes(bodies):
    sha256 = hashlib.sha256
    prev, stack = bytes(32), []
    for size, body in enumerate(bodies):
        leaf = sha256(b"\x00" + body).digest()
        prev = sha256(b"\x02" + prev + leaf).digest()
        node = leaf
        while size & 1:
            node = sha256(b"\x01" + stack.pop() + node).digest()
            size >>= 1
        stack.append(node)


def proof_from_database(database, index, size):
    """An inclusion proof as the server builds it: one query for every node, then the hashes."""
    ranges = chain.inclusion_path(index, size)
    wanted = {node for a, b in ranges for node in chain.subtree_nodes(a, b)}
    query = "SELECT level, idx, hash FROM node WHERE " + " OR ".join(
        ["(level = ? AND idx = ?)"] * len(wanted)
    )
    nodes = {
        (level, idx): value for level, idx, value in database.execute(query, [v for n in wanted for v in n])
    }
    return [chain.range_hash(a, b, nodes) for a, b in ranges]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    count = args.events
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "audit.jsonl"
        database = sqlite3.connect(Path(directory) / "nodes.sqlite3")
        database.execute(
            "CREATE TABLE node (level INTEGER, idx INTEGER, hash BLOB, PRIMARY KEY (level, idx))"
        )
        seconds, (mean_body, frontier) = timed(lambda: build(path, database, count))
        root = chain.root_from_frontier(frontier)
        megabytes = path.stat().st_size / 1e6
        stored = database.execute("SELECT count(*) FROM node").fetchone()[0]
        print(f"{count:,} events, mean body {mean_body:.0f} B, export {megabytes:.1f} MB, {stored:,} nodes")
        print(f"  build export and nodes      {seconds:8.2f} s  {count / seconds:>12,.0f} events/s")

        note, vkey, private = signed_checkpoint_file(directory, count, root)
        rows = []
        seconds, output = timed(lambda: run_cli(path, note, vkey))
        child_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rows.append(("verifier CLI (python -S)", seconds))
        seconds, _ = timed(lambda: verify_in_process(path, count, root))
        rows.append(("chain.verify in process", seconds))
        rows.append(("sha256 over the file", sha256_of_file(path)))
        seconds, _ = timed(lambda: sha256_per_line(path))
        rows.append(("sha256 per line", seconds))
        rows.append(("the same hashes, bare", bare_hashes_seconds(path)))
        print("verify links and Merkle root against a signed checkpoint:")
        for label, seconds in rows:
            rate = f"{count / seconds:>12,.0f} events/s  {megabytes / seconds:8.1f} MB/s"
            print(f"  {label:<27} {seconds:8.2f} s  {rate}")
        print(f"  CLI said: {output}")
        print(f"  CLI peak resident memory: {child_peak_mb:.1f} MB")

        rng = random.Random(7)
        indexes = [rng.randrange(count) for _ in range(1000)]
        seconds, proofs = timed(lambda: [proof_from_database(database, index, count) for index in indexes])
        marks = ",".join("?" * len(indexes))
        leaves = dict(
            database.execute(f"SELECT idx, hash FROM node WHERE level = 0 AND idx IN ({marks})", indexes)
        )
        pairs = list(zip(indexes, proofs, strict=True))
        verify_seconds, checked = timed(
            lambda: [
                chain.verify_inclusion(index, count, leaves[index], proof, root) for index, proof in pairs
            ]
        )
        assert all(checked)
        print(f"inclusion proof in a tree of {count:,} ({len(proofs[0])} hashes), mean of {len(indexes)}:")
        print(f"  build from stored nodes     {seconds / len(indexes) * 1e3:8.3f} ms (one query, range_hash)")
        print(f"  verify                      {verify_seconds / len(indexes) * 1e3:8.3f} ms")

        text = chain.format_checkpoint(ORIGIN, count, root)
        sha_seconds = mean_time(lambda: hashlib.sha256(text.encode()).digest(), 10_000)

        def openssl(seed, message):
            return Ed25519PrivateKey.from_private_bytes(seed).sign(message)

        assert chain.sign_note(text, private) == chain.sign_note(text, private, sign=openssl)
        key, signed = chain.parse_vkey(vkey), note.read_text(encoding="utf-8")
        seed = chain.parse_private_key(private).seed
        timings = [
            ("pure Ed25519 (chain.py)", mean_time(lambda: chain.sign_note(text, private), 20)),
            ("OpenSSL (cryptography)", mean_time(lambda: chain.sign_note(text, private, sign=openssl), 200)),
            ("  of which the signature", mean_time(lambda: openssl(seed, text.encode()), 200)),
            ("verify, pure Ed25519", mean_time(lambda: chain.verify_checkpoint(signed, key), 20)),
            ("sha256 of the same text", sha_seconds),
        ]
        print(f"sign a checkpoint ({len(text.encode())} B of note text):")
        for label, seconds in timings:
            print(f"  {label:<27} {seconds * 1e3:8.4f} ms")


if __name__ == "__main__":
    main()
