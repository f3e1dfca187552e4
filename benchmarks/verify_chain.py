"""How fast the audit chain verifies, against plain SHA-256 over the same bytes.

Writes an export of N events (default 1,000,000; bodies of about 250 bytes,
shaped like the app's acknowledgements, decisions and sign-ins) to a
temporary directory, then times:

- the standalone verifier as the union runs it (``python -S -m consent.chain``),
  with its peak memory, which should not grow with N;
- ``chain.verify`` in this process;
- hashlib.sha256 over the whole file, and once per line, as floors.

    .venv/bin/python benchmarks/verify_chain.py --events 1000000
"""

import argparse
import hashlib
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from consent import chain  # noqa: E402 (needs the path above)


def payload_for(seq, rng):
    roll = rng.random()
    if roll < 0.45:
        return "explanation.acknowledged", {"version": 3, "content_hash": rng.randbytes(32).hex()}
    if roll < 0.8:
        return "decision.recorded", {
            "choice": rng.choice(["opt_in", "opt_out", "undecided"]),
            "previous_choice": rng.choice([None, "opt_in", "opt_out"]),
            "acknowledgement_seq": max(1, seq - rng.randrange(1, 1000)),
            "channel": "web",
        }
    return "account.signed_in", {"methods": rng.choice(["password", "password+totp", "passkey"])}


def build(path, count):
    """Write the export; return the mean body length in bytes and the checkpoint of its head."""
    rng = random.Random(2026)
    pseudonyms = [f"p-{rng.randbytes(16).hex()}" for _ in range(5000)]
    prev = chain.GENESIS
    body_bytes = 0
    start = 1_775_000_000
    with open(path, "w", encoding="utf-8") as out:
        for seq in range(1, count + 1):
            kind, payload = payload_for(seq, rng)
            person = rng.choice(pseudonyms)
            moment = time.gmtime(start + seq * 3)
            body = chain.make_body(
                seq=seq,
                kind=kind,
                occurred_at=time.strftime("%Y-%m-%dT%H:%M:%S", moment) + f".{seq % 1_000_000:06d}Z",
                actor=person,
                subject=person,
                payload=payload,
            )
            leaf = chain.leaf_hash(body)
            entry = chain.entry_hash(prev, leaf)
            out.write(chain.export_line(seq=seq, body=body, leaf_hash=leaf, prev_hash=prev, entry_hash=entry))
            out.write("\n")
            body_bytes += len(body)
            prev = entry
    return body_bytes / count, f"{count}:{prev.hex()}"


def timed(action):
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def run_cli(path, checkpoint):
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    child = subprocess.run(
        [sys.executable, "-S", "-m", "consent.chain", str(path), "--checkpoint", checkpoint],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        sys.exit(f"the verifier failed: {child.stdout}{child.stderr}")
    return child.stdout.strip()


def verify_in_process(path, checkpoint):
    with open(path, encoding="utf-8") as lines:
        result = chain.verify(chain.read_export(lines), [chain.parse_checkpoint(checkpoint)])
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    count = args.events
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "audit.jsonl"
        seconds, (mean_body, checkpoint) = timed(lambda: build(path, count))
        size = path.stat().st_size
        megabytes = size / 1e6
        print(f"{count:,} events, mean body {mean_body:.0f} B, export {megabytes:.1f} MB")
        print(f"  build the export            {seconds:8.2f} s  {count / seconds:>12,.0f} events/s")

        rows = []
        seconds, output = timed(lambda: run_cli(path, checkpoint))
        child_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rows.append(("verifier CLI (python -S)", seconds))
        seconds, _ = timed(lambda: verify_in_process(path, checkpoint))
        rows.append(("chain.verify in process", seconds))
        rows.append(("sha256 over the file", sha256_of_file(path)))
        seconds, _ = timed(lambda: sha256_per_line(path))
        rows.append(("sha256 per line", seconds))
        for label, seconds in rows:
            rate = f"{count / seconds:>12,.0f} events/s  {megabytes / seconds:8.1f} MB/s"
            print(f"  {label:<27} {seconds:8.2f} s  {rate}")
        print(f"  CLI said: {output}")
        print(f"  CLI peak resident memory: {child_peak_mb:.1f} MB")


if __name__ == "__main__":
    main()
