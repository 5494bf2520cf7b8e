"""Benchmark of appending with witnessing on (issue 16): checkpoints/s and leaves/s.

    python bench/bench_witness.py            # 200 x 1, 100 x 1,000, 10 x 100,000 entries per append
    python bench/bench_witness.py --quick    # 50 x 1, 20 x 1,000, 3 x 20,000

Two witnesses run as their own processes (``jejak ledger witness serve``) on
loopback; the log's policy (``keys/ledger.policy``) needs both (``group both all
w1 w2``). Every append then signs a checkpoint, makes it durable, submits it to
both witnesses over HTTP (``add-checkpoint`` with the consistency proof from
the size each holds), checks both cosignatures, and replaces the checkpoint
with the cosigned note: it counts only once published. The same appends are
timed without a policy for comparison. Entries look like jejak's
(``provisioning || 0x20 || 32-byte commitment``).

Prints a markdown table and writes ``bench/out/witness.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(SRC))

from jejak.ledger.checkpoint import open_checkpoint  # noqa: E402
from jejak.ledger.log import Log  # noqa: E402
from jejak.ledger.note import Verifier  # noqa: E402

PUBLISHED = [
    ("Tessera (POSIX/GCP, NVMe)", "about 10,000 writes/s", "transparency-dev/tessera README"),
    ("Trillian (MySQL)", "400 - 1,000 writes/s", "google/trillian docs, published figures"),
]


def start_witness(folder: Path, name: str, vkey: Path) -> tuple[subprocess.Popen[str], str]:
    code = "import sys; sys.path.insert(0, sys.argv.pop(1)); from jejak.cli import main; main()"
    args = ["ledger", "witness", "serve", "--dir", str(folder), "--name", name]
    args += ["--log", str(vkey), "--port", "0"]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(SRC), *args], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if " listening on " not in line:
        proc.kill()
        raise SystemExit(f"the witness did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[1].strip()


def entries(n: int) -> list[bytes]:
    raw = os.urandom(32 * n)
    return [b"provisioning " + raw[i : i + 32] for i in range(0, len(raw), 32)]


def run(log: Log, appends: int, size: int, keys: list[Verifier]) -> dict[str, float]:
    batches = [entries(size) for _ in range(appends)]
    started = time.perf_counter()
    for batch in batches:
        log.append(batch)
    seconds = time.perf_counter() - started
    if keys:  # every checkpoint ended up cosigned by both
        _, opened = open_checkpoint(log.signed_checkpoint(), log.verifier, witnesses=keys)
        assert len([1 for _, _, t in opened.verified if t > 0]) == len(keys)
    return {
        "appends": appends,
        "entries_per_append": size,
        "seconds": round(seconds, 3),
        "checkpoints_per_s": round(appends / seconds, 1),
        "leaves_per_s": round(appends * size / seconds),
        "ms_per_append": round(1000 * seconds / appends, 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--work", type=Path, default=HERE / "data" / "witness")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    plan = (
        [(50, 1), (20, 1_000), (3, 20_000)] if a.quick else [(200, 1), (100, 1_000), (10, 100_000)]
    )
    shutil.rmtree(a.work, ignore_errors=True)
    a.work.mkdir(parents=True)
    load_start = os.getloadavg()[0]
    results = []
    procs = []
    try:
        for witnessed in (False, True):
            home = a.work / ("witnessed" if witnessed else "plain")
            log = Log(home, origin="bench.example/witnessed")
            log.signed_checkpoint()
            keys: list[Verifier] = []
            if witnessed:
                vkey = home / "keys" / "ledger.vkey"
                policy = f"log {log.verifier}\n"
                for name in ("w1", "w2"):
                    proc, url = start_witness(a.work / name, f"bench.example/{name}", vkey)
                    procs.append(proc)
                    key = Verifier.parse((a.work / name / "witness.vkey").read_text())
                    keys.append(key)
                    policy += f"witness {name} {key} {url}\n"
                (home / "keys" / "ledger.policy").write_text(
                    policy + "group both all w1 w2\nquorum both\n"
                )
            for appends, size in plan:
                r = run(log, appends, size, keys)
                r["witnessed"] = witnessed
                results.append(r)
                print(json.dumps(r), file=sys.stderr, flush=True)
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
    load_end = os.getloadavg()[0]
    print(f"load average {load_start:.1f} -> {load_end:.1f}\n")
    print("| witnessing | appends x entries | checkpoints/s | leaves/s | ms per append |")
    print("|---|---|---:|---:|---:|")
    for r in results:
        print(
            f"| {'2 witnesses, HTTP' if r['witnessed'] else 'off'} "
            f"| {r['appends']} x {r['entries_per_append']:,} | {r['checkpoints_per_s']:,} "
            f"| {r['leaves_per_s']:,} | {r['ms_per_append']} |"
        )
    print("\nPublished, for scale:")
    for name, rate, src in PUBLISHED:
        print(f"- {name}: {rate} ({src})")
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "witness.json").write_text(
        json.dumps({"load": [load_start, load_end], "results": results}, indent=1)
    )
    shutil.rmtree(a.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
