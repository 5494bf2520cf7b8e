"""Benchmark of the transparency log (issues 6 and 13): appends against a bare tree hash, small
appends' latency, inclusion proofs, full verification.

    python bench/bench_ledger.py              # 1 M and 10 M leaves, 3 rounds; a 10 M-leaf log
    python bench/bench_ledger.py --quick      # 200 k and 1 M leaves, 3 rounds
    python bench/bench_ledger.py --profile    # where one 1 M-leaf append spends its time (cProfile)

**What an append is here.** One call that returns when the leaves are in the log for good:
the append's line in ``ledger/appends.jsonl``, every new tile and entry bundle written and
made durable (``syncfs(2)`` for a big append, fsyncs in parallel for a small one), a signed
C2SP checkpoint committed (fsynced, renamed, its folder fsynced) and the key's state written
(:mod:`jejak.ledger.log` explains each step). Entries look like jejak's (``kind || 0x20 ||
32-byte commitment``). Leaves are given with their leaf hashes (``Hashed`` chunks of 1 M), as
the ingest gives them after DuckDB computed them; one row also lets jejak hash the leaves.

**The floor**, measured in the same round right before each append on the same leaf hashes:
a bare RFC 6962 tree hash (MTH) of those leaf hashes with ``hashlib``, one thread, plain
Python, level by level — no tiles, no files, no signature. For reference the same tree is
also hashed in DuckDB (its ``sha256`` over one level at a time, all its threads): the
other way the issue proposed to hash in bulk.

Each round measures every case once; the table gives the median of the rounds, and the
ratio is taken per round (the machine is shared: a ratio in one round is fairer than two
medians). Prints markdown tables and writes ``bench/out/ledger.json``.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import random
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from jejak.ledger import log as L  # noqa: E402
from jejak.ledger import merkle as M  # noqa: E402
from jejak.ledger.log import Hashed, Log  # noqa: E402
from jejak.ledger.verify import verify_log  # noqa: E402

ORIGIN = "bench.example/ledger"
CHUNK = 1 << 20  # the ingest's chunk (jejak.audit.records.CHUNK_ROWS)
PUBLISHED = [
    ("Tessera (POSIX/GCP, NVMe)", "about 10,000 writes/s", "transparency-dev/tessera"),
    ("Trillian (MySQL)", "400 - 1,000 writes/s", "google/trillian docs"),
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


def bare_tree_root(leaves: bytes) -> bytes:
    """The floor: RFC 6962 MTH of concatenated leaf hashes, one thread, hashlib, level by level
    (an unpaired last node goes up a level unchanged, which is RFC 6962's split)."""
    sha = hashlib.sha256
    node = b"\x01"
    level = leaves
    while len(level) > 32:
        odd = len(level) // 32 % 2
        cut = len(level) - 32 if odd else len(level)
        up = b"".join([sha(node + level[i : i + 64]).digest() for i in range(0, cut, 64)])
        level = up + level[cut:] if odd else up
    return level


def duckdb_tree_root(leaves: bytes) -> bytes:
    """The same tree in DuckDB: each level's ``0x01 || left || right`` as a BLOB column, hashed
    by ``sha256`` in one query (all DuckDB's threads; it keeps the rows' order)."""
    import duckdb
    import numpy as np
    import pyarrow as pa

    con = duckdb.connect()
    level = leaves
    while len(level) > 32:
        n = len(level) // 64
        odd = level[n * 64 :]
        pairs = np.frombuffer(level, dtype=np.uint8, count=n * 64).reshape(n, 64)
        msg = np.empty((n, 65), dtype=np.uint8)
        msg[:, 0] = 1
        msg[:, 1:] = pairs
        offsets = np.arange(0, 65 * (n + 1), 65, dtype=np.int32)
        col = pa.Array.from_buffers(
            pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(msg)]
        )
        lvl = pa.Table.from_batches(pa.table({"m": col}).to_batches(max_chunksize=1 << 16))  # noqa: F841
        out = con.sql("SELECT unhex(sha256(m)) AS h FROM lvl").to_arrow_table()
        h = out.column("h").combine_chunks()
        start = int(np.frombuffer(h.buffers()[1], dtype=np.int32)[h.offset])
        up = h.buffers()[2].to_pybytes()[start : start + 32 * n]
        level = up + odd
    con.close()
    return level


def make_input(n: int) -> tuple[list[bytes], bytes]:
    raw = os.urandom(32 * n)
    entries = [b"provisioning " + raw[i : i + 32] for i in range(0, len(raw), 32)]
    sha = hashlib.sha256
    leaves = b"".join([sha(b"\x00" + e).digest() for e in entries])
    return entries, leaves


_made = 0


def fresh(work: Path, name: str) -> Log:
    """A new log in a folder of its own. Logs are deleted only at the end: ext4 skips inodes
    deleted in the last minutes when it makes a file (``recently_deleted``), so making tiles
    right after deleting an earlier log's would measure that, not the log."""
    global _made
    _made += 1
    return Log(work / f"{name}-{_made}", origin=ORIGIN)


def append_hashed(log: Log, entries: list[bytes], leaves: bytes, per_append: int) -> None:
    """``per_append`` leaves per append; each append streams its leaves in ``Hashed`` chunks."""
    for lo in range(0, len(entries), per_append):
        hi = min(lo + per_append, len(entries))
        with log.writer() as w:
            w.append_chunks(
                (
                    Hashed(
                        entries[a : min(a + CHUNK, hi)], leaves[a * 32 : min(a + CHUNK, hi) * 32]
                    )
                    for a in range(lo, hi, CHUNK)
                ),
                hi - lo,
            )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * q))]


def small_appends(log: Log, n: int, size: int) -> list[float]:
    """Latency (ms) of ``n`` appends of ``size`` leaves, each with a record as case actions have."""
    out = []
    for k in range(n):
        entries = [os.urandom(40) for _ in range(size)]
        t = time.perf_counter()
        log.append(entries, {"source": "cases", "outbox": [[k, k + size - 1]]})
        out.append((time.perf_counter() - t) * 1000)
    return out


def profile(work: Path) -> int:
    entries, leaves = make_input(CHUNK)
    warm = fresh(work, "warm")
    append_hashed(warm, entries[: 1 << 16], leaves[: 32 << 16], 1 << 16)  # start the workers
    log = fresh(work, "profile")
    prof = cProfile.Profile()
    took, _ = timed(lambda: prof.runcall(append_hashed, log, entries, leaves, CHUNK))
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(15)
    print(f"one append of {CHUNK:,} hashed leaves: {took:.2f} s under cProfile")
    print(text.getvalue())
    shutil.rmtree(work, ignore_errors=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--big", type=int, default=10_000_000, help="leaves of the big append")
    ap.add_argument("--one", type=int, default=1_000_000, help="leaves of the 1 M cases")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--small", type=int, default=1000, help="small appends of each size")
    ap.add_argument("--proofs", type=int, default=2000)
    ap.add_argument("--work", type=Path, default=HERE / "data" / "ledger")
    ap.add_argument("--quick", action="store_true", help="200 k and 1 M leaves")
    ap.add_argument("--profile", action="store_true", help="profile one 1 M-leaf append")
    a = ap.parse_args()
    if a.profile:
        return profile(a.work)
    if a.quick:
        a.big, a.one, a.small, a.proofs = 1_000_000, 200_000, 200, 500
    shutil.rmtree(a.work, ignore_errors=True)
    a.work.mkdir(parents=True)
    load_start = os.getloadavg()
    started = time.time()

    entries, leaves = make_input(max(a.big, a.one))
    one_e, one_l = entries[: a.one], leaves[: 32 * a.one]
    # the first big append of a process starts its worker processes: timed once, apart
    cold, _ = timed(lambda: append_hashed(fresh(a.work, "cold"), one_e, one_l, a.one))

    cases: list[tuple[str, int, Callable[[Log], None]]] = [
        (f"{a.one:,} in one append", a.one, lambda log: append_hashed(log, one_e, one_l, a.one)),
        (
            f"{a.big:,} in one append ({CHUNK:,}-leaf chunks)",
            a.big,
            lambda log: append_hashed(log, entries[: a.big], leaves[: 32 * a.big], a.big),
        ),
        (
            f"{a.one:,} in appends of 10,000",
            a.one,
            lambda log: append_hashed(log, one_e, one_l, 10_000),
        ),
        (
            f"{a.one:,} in one append, leaf hashes by jejak",
            a.one,
            lambda log: log.append(one_e),
        ),
    ]
    rows: dict[str, dict[str, list[float]]] = {name: {} for name, _, _ in cases}
    duck: list[float] = []
    for r in range(a.rounds):
        for name, n, run in cases:
            floor_s, root = timed(lambda n=n: bare_tree_root(leaves[: 32 * n]))
            log = fresh(a.work, "log")
            took, _ = timed(lambda run=run, log=log: run(log))
            assert log.checkpoint().root == root, name
            row = rows[name]
            row.setdefault("floor", []).append(n / floor_s)
            row.setdefault("jejak", []).append(n / took)
            row.setdefault("ratio", []).append(floor_s / took)
            row.setdefault("load", []).append(os.getloadavg()[0])
            print(
                f"round {r + 1}: {name}: jejak {n / took:,.0f} leaves/s, "
                f"floor {n / floor_s:,.0f} ({floor_s / took:.2f}x)",
                file=sys.stderr,
                flush=True,
            )
        d_s, d_root = timed(lambda: duckdb_tree_root(one_l))
        assert d_root == bare_tree_root(one_l)
        duck.append(a.one / d_s)

    # small appends: latency, and whether it grows with the number of appends before
    log = fresh(a.work, "small")
    lat1 = small_appends(log, a.small, 1)
    lat100 = small_appends(log, a.small, 100)
    tenth = max(1, a.small // 10)

    # proofs and verification on the big log
    log = fresh(a.work, "big")
    append_hashed(log, entries[: a.big], leaves[: 32 * a.big], a.big)
    size = log.size
    cp = log.checkpoint()
    rng = random.Random(1)
    lat = []
    for _ in range(a.proofs):
        i = rng.randrange(size)
        t = time.perf_counter()
        reader = log.reader(size)
        proof = M.inclusion_proof(i, size, reader.range_hash)
        leaf = reader.leaf_hash(i)
        lat.append((time.perf_counter() - t) * 1000)
        M.verify_inclusion(leaf, i, size, proof, cp.root)
    verify_s, (report, _) = timed(lambda: verify_log(log))
    assert report.ok, report.problems
    load_end = os.getloadavg()

    med = {name: {k: statistics.median(v) for k, v in row.items()} for name, row in rows.items()}
    result: dict[str, Any] = {
        "machine": machine(),
        "started_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime(started)),
        "load_average_start": load_start,
        "load_average_end": load_end,
        "rounds": a.rounds,
        "cases": rows,
        "medians": med,
        "duckdb_tree_leaves_per_s": duck,
        "cold_first_append_s": cold,
        "worker_processes": L._pool_workers,
        "small_1_ms": {"p50": pct(lat1, 0.5), "p95": pct(lat1, 0.95)},
        "small_100_ms": {"p50": pct(lat100, 0.5), "p95": pct(lat100, 0.95)},
        "small_1_first_tenth_p50_ms": pct(lat1[:tenth], 0.5),
        "small_1_last_tenth_p50_ms": pct(lat1[-tenth:], 0.5),
        "small_100_last_tenth_p50_ms": pct(lat100[-tenth:], 0.5),
        "log_size": size,
        "proof_ms_p50": pct(lat, 0.5),
        "proof_ms_p95": pct(lat, 0.95),
        "verify_s": verify_s,
    }
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "ledger.json").write_text(json.dumps(result, indent=1))

    print(
        f"Machine: {result['machine']}; {L._pool_workers} worker process(es); started "
        f"{result['started_utc']} UTC; load average {load_start[0]:.1f} at the start, "
        f"{load_end[0]:.1f} at the end (1 min)\n"
    )
    print(
        f"Append (journal line, tiles and bundles durable, signed checkpoint committed), "
        f"medians of {a.rounds} rounds; the floor is a bare RFC 6962 tree hash of the same "
        "leaf hashes (hashlib, one thread) in the same round:\n"
    )
    print("| append | jejak leaves/s | floor leaves/s | jejak / floor | load |")
    print("|---|---:|---:|---:|---:|")
    for name, m in med.items():
        print(
            f"| {name} | {m['jejak']:,.0f} | {m['floor']:,.0f} | {m['ratio']:.2f}x "
            f"| {m['load']:.1f} |"
        )
    print(
        f"\nThe same {a.one:,}-leaf tree hashed by DuckDB (sha256 a level at a time): "
        f"{statistics.median(duck):,.0f} leaves/s (median). First append of a process "
        f"({a.one:,} leaves, starting the workers): {cold:.2f} s.\n"
    )
    print("| small append (with a record) | p50 | p95 | p50, first tenth | p50, last tenth |")
    print("|---|---:|---:|---:|---:|")
    for label, v in (("1 leaf", lat1), ("100 leaves", lat100)):
        print(
            f"| {label}, {a.small:,} appends | {pct(v, 0.5):.1f} ms | {pct(v, 0.95):.1f} ms "
            f"| {pct(v[:tenth], 0.5):.1f} ms | {pct(v[-tenth:], 0.5):.1f} ms |"
        )
    print(
        f"\n| {size:,}-leaf log | |\n|---|---:|\n"
        f"| inclusion proof from tiles, p50 / p95 | {result['proof_ms_p50']:.3f} / "
        f"{result['proof_ms_p95']:.3f} ms |\n| full verification | {verify_s:.1f} s |"
    )
    print("\nPublished figures of other logs (writes/s, other hardware and durability):\n")
    print("| log | writes/s | source |")
    print("| --- | --- | --- |")
    for name, figure, src in PUBLISHED:
        print(f"| {name} | {figure} | {src} |")
    shutil.rmtree(a.work, ignore_errors=True)
    return 0


if __name__ == "__main__":  # the log's worker processes import this module again
    sys.exit(main())
