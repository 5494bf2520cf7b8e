"""Benchmark of the transparency log (issue 6): append, inclusion proof, full verification.

    python bench/bench_ledger.py            # 10 batches of 1 M leaves (a 10 M-leaf log)
    python bench/bench_ledger.py --quick    # 3 batches of 100 k

Each batch is one append: leaf hashes, tiles and entry bundles written and
fsynced, one signed checkpoint. Entries look like jejak's: ``kind || 0x20 ||
32-byte commitment``. Proof latency is for inclusion proofs of random leaves
served from the tiles on disk: each proof reads its tiles afresh, and the
log keeps the inner hashes of full tiles it has hashed (full tiles never
change), as a server would. Full verification re-hashes every
entry bundle and tile and checks the root against the signed checkpoint
(:func:`jejak.ledger.verify.verify_log`).

Prints a markdown table and writes ``bench/out/ledger.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from jejak.ledger import merkle as M  # noqa: E402
from jejak.ledger.log import Log  # noqa: E402
from jejak.ledger.verify import verify_log  # noqa: E402

PUBLISHED = [
    (
        "Tessera (POSIX/GCP, NVMe)",
        "about 10,000 writes/s",
        "transparency-dev/tessera README and benchmarks",
    ),
    ("Trillian (MySQL)", "400 - 1,000 writes/s", "google/trillian docs, published figures"),
]


def machine() -> str:
    cpu = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--batches", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=1_000_000)
    ap.add_argument("--proofs", type=int, default=2000)
    ap.add_argument("--work", type=Path, default=HERE / "data" / "ledger")
    ap.add_argument("--quick", action="store_true", help="3 batches of 100 k leaves")
    a = ap.parse_args()
    if a.quick:
        a.batches, a.batch_size, a.proofs = 3, 100_000, 500
    shutil.rmtree(a.work, ignore_errors=True)
    a.work.mkdir(parents=True)
    log = Log(a.work, origin="bench.example/ledger")
    load_start = os.getloadavg()[0]

    rates = []
    for b in range(a.batches):
        raw = os.urandom(32 * a.batch_size)
        entries = [b"provisioning " + raw[i : i + 32] for i in range(0, len(raw), 32)]
        t = time.perf_counter()
        log.append(entries)
        took = time.perf_counter() - t
        rates.append(a.batch_size / took)
        print(
            f"batch {b + 1}/{a.batches}: {a.batch_size:,} leaves in {took:.2f} s",
            file=sys.stderr,
            flush=True,
        )
    size = log.size
    total_append = sum(a.batch_size / r for r in rates)

    cp = log.checkpoint()
    rng = random.Random(1)
    lat = []
    for _ in range(a.proofs):
        i = rng.randrange(size)
        t = time.perf_counter()
        reader = log.reader(size)
        proof = M.inclusion_proof(i, size, reader.range_hash)
        leaf = reader.leaf_hash(i)
        lat.append(time.perf_counter() - t)
        M.verify_inclusion(leaf, i, size, proof, cp.root)
    lat.sort()
    p50 = lat[len(lat) // 2] * 1000
    p95 = lat[int(len(lat) * 0.95)] * 1000

    t = time.perf_counter()
    report, _ = verify_log(log)
    verify_s = time.perf_counter() - t
    assert report.ok, report.problems

    result = {
        "machine": machine(),
        "load_average_at_end": os.getloadavg()[0],
        "append_leaves_per_s_max": max(rates),
        "load_average_at_start": load_start,
        "batches": a.batches,
        "batch_size": a.batch_size,
        "log_size": size,
        "append_leaves_per_s_median": statistics.median(rates),
        "append_leaves_per_s_min": min(rates),
        "append_leaves_per_s_overall": size / total_append,
        "proof_ms_p50": p50,
        "proof_ms_p95": p95,
        "verify_s": verify_s,
        "verify_leaves_per_s": size / verify_s,
    }
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "ledger.json").write_text(json.dumps(result, indent=1))
    print(
        f"Machine: {result['machine']}; shared with other work, load average "
        f"{load_start:.1f} at the start and {result['load_average_at_end']:.1f} at the end\n"
    )
    print("| measure | jejak | target |")
    print("| --- | --- | --- |")
    print(
        f"| append, {a.batches} batches of {a.batch_size:,} (tiles + bundles fsynced, 1 signed checkpoint each) "
        f"| {result['append_leaves_per_s_overall']:,.0f} leaves/s overall (median batch {result['append_leaves_per_s_median']:,.0f}, "
        f"slowest {result['append_leaves_per_s_min']:,.0f}, fastest {result['append_leaves_per_s_max']:,.0f}) | >= 500,000 leaves/s |"
    )
    print(
        f"| inclusion proof from tiles, {size:,}-leaf log | p50 {p50:.3f} ms, p95 {p95:.3f} ms | < 1 ms |"
    )
    print(
        f"| full verification of the {size:,}-leaf log | {verify_s:.1f} s | < 60 s (10 M leaves) |"
    )
    print("\nPublished figures of other logs (writes/s, different hardware and durability):\n")
    print("| log | writes/s | source |")
    print("| --- | --- | --- |")
    for name, figure, src in PUBLISHED:
        print(f"| {name} | {figure} | {src} |")
    shutil.rmtree(a.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
