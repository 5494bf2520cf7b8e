"""Benchmark of the evidence report: latency of ``investigate`` for one subscriber in a large store.

The store holds N synthetic provisioning rows (``bench/gen.py``: 1 subscriber
per 20 events, 2,000 user IDs) plus the seed case (``shared/scenarios/seed-2016``).
Detection does not run over the synthetic rows: the alerts are those of the seed
case, detected in a seed-only store and copied in (the report only reads them).
The store is built without committing its records to the transparency log
(``jejak.ledger``), which a report does not read.
Every ingest builds its batch's lookup index (:mod:`jejak.index`); the benchmark
checks that no report has anything left to build. ``--store`` reuses a store that
``bench_store.py`` built (its 100 M-row lookup store), adding the seed case to it.

Measured (with the peak RSS of each process), for the seed subscriber 6281100000001 (its report reads the roster,
the sessions, and scans provisioning for the blast radius) and for random
synthetic subscribers (about 20 events each, every one without a consent record,
so each is weighed as an unconsented action — a heavier report than most):

- **warm**: one process, one open store, repeated reports (p50, p95);
- **cold, fresh connection**: a new ``Store`` (new DuckDB connection, views and
  Parquet metadata read again) for each report, in one process;
- **cold, fresh process**: ``python -c`` that imports jejak and makes one report,
  timing the report alone and the whole process (interpreter start and imports
  included); the OS file cache is warm.

    python bench/bench_investigate.py                 # 10 M rows
    python bench/bench_investigate.py --rows 100000000
    python bench/bench_investigate.py --quick         # 1 M rows, fewer samples

Writes ``bench/out/investigate.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen import generate  # noqa: E402

REPO = HERE.parent
SEED_DIR = REPO.parent / "shared" / "scenarios" / "seed-2016"
SEED_MSISDN = "6281100000001"
BATCH = 10_000_000


def machine() -> str:
    from bench_store import machine as m

    return m()


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p * (len(values) - 1)))]


def stats(times: list[float]) -> dict[str, float]:
    if not times:
        return {"n": 0}
    return {
        "n": len(times),
        "p50_ms": round(statistics.median(times) * 1000, 2),
        "p95_ms": round(percentile(times, 0.95) * 1000, 2),
        "max_ms": round(max(times) * 1000, 2),
    }


def add_seed(home: Path) -> None:
    """Ingest the seed case into ``home`` and put the seed's alerts beside it (once)."""
    from jejak.detect import detect
    from jejak.detect.alerts import ALERTS_FILE, alerts_dir
    from jejak.store import Store

    store = Store(home)
    if (home / "bench-seed").exists():
        return
    store.ingest([SEED_DIR])
    with tempfile.TemporaryDirectory() as tmp:
        seed_only = Store(Path(tmp) / "seed")
        seed_only.ingest([SEED_DIR])
        detect(seed_only, save=True)
        target = alerts_dir(store)
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(alerts_dir(seed_only) / ALERTS_FILE, target / ALERTS_FILE)
    (home / "bench-seed").write_text("seeded\n")


def build(work: Path, rows: int) -> Path:
    """A store of ``rows`` synthetic provisioning rows plus the seed case, with the seed's alerts.
    The store is built through :class:`jejak.store.Store` alone: the transparency log is not
    what a report reads (committing 10^8 records to it is bench/bench_ledger.py's business)."""
    from jejak.store import Store

    home = work / f"home-investigate-{rows}"
    store = Store(home)
    done_flag = home / "bench-ready"
    if store.exists and done_flag.exists():
        return home
    shutil.rmtree(home, ignore_errors=True)
    store = Store(home)
    began = time.perf_counter()
    done = 0
    while done < rows:
        n = min(BATCH, rows - done)
        export = work / "investigate-part"
        shutil.rmtree(export, ignore_errors=True)
        t = time.perf_counter()
        generate(export, n, "parquet", parts=max(1, n // 5_000_000), start=done)
        store.ingest([export])
        done += n
        print(
            f"  loaded {done:,} / {rows:,} ({time.perf_counter() - t:.1f} s for this batch)",
            flush=True,
        )
    shutil.rmtree(work / "investigate-part", ignore_errors=True)
    add_seed(home)
    done_flag.write_text(
        json.dumps({"rows": rows, "build_seconds": round(time.perf_counter() - began, 1)})
    )
    return home


def synthetic_msisdns(rows: int, count: int) -> list[str]:
    rng = random.Random(7)
    subs = max(1, rows // 20)
    return [str(6281200000000 + rng.randrange(subs)) for _ in range(count)]


def warm(home: Path, msisdns: list[str], repeat: int) -> tuple[list[float], list[int]]:
    from jejak.investigate import investigate
    from jejak.store import Store

    store = Store(home)
    for m in msisdns[:3]:  # a running service has its caches warm
        investigate(store, m)
    times, actions = [], []
    for _ in range(repeat):
        for m in msisdns:
            t = time.perf_counter()
            r = investigate(store, m)
            times.append(time.perf_counter() - t)
            actions.append(len(r.actions))
    return times, actions


def cold_connection(home: Path, msisdns: list[str]) -> list[float]:
    from jejak.investigate import investigate
    from jejak.store import Store

    times = []
    for m in msisdns:
        t = time.perf_counter()
        store = Store(home)
        investigate(store, m)
        times.append(time.perf_counter() - t)
        store.close()
    return times


CHILD = (
    "import json, sys, time\n"
    "t0 = time.perf_counter()\n"
    "from jejak.store import Store\n"
    "from jejak.investigate import investigate\n"
    "t1 = time.perf_counter()\n"
    "r = investigate(Store(sys.argv[1]), sys.argv[2])\n"
    "t2 = time.perf_counter()\n"
    "print(json.dumps([t1 - t0, t2 - t1, r.verdict.hypothesis]))\n"
)

#: a process that makes warm reports for every number given, and prints their times
WARM_CHILD = (
    "import json, sys, time\n"
    "from jejak.store import Store\n"
    "from jejak.investigate import investigate\n"
    "store = Store(sys.argv[1]); nums = sys.argv[2:]\n"
    "for m in nums[:3]: investigate(store, m)\n"
    "out = []\n"
    "for m in nums:\n"
    "    t = time.perf_counter(); investigate(store, m); out.append(time.perf_counter() - t)\n"
    "print(json.dumps(out))\n"
)


def peak_rss(home: Path, msisdns: list[str]) -> tuple[float, list[float]]:
    """Peak RSS (MiB) of a process making a warm report for each of ``msisdns``, and the times."""
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M", sys.executable, "-c", WARM_CHILD, str(home), *msisdns],
        capture_output=True,
        text=True,
        check=True,
    )
    times = json.loads(proc.stdout.strip().splitlines()[-1])
    return int(proc.stderr.strip().splitlines()[-1]) / 1024, times


def cold_process(
    home: Path, msisdns: list[str]
) -> tuple[list[float], list[float], list[float], float]:
    report, imports, wall, peak = [], [], [], 0.0
    for m in msisdns:
        t = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M", sys.executable, "-c", CHILD, str(home), m],
            capture_output=True,
            text=True,
            check=True,
        )
        wall.append(time.perf_counter() - t)
        imp, rep, _ = json.loads(proc.stdout.strip().splitlines()[-1])
        imports.append(imp)
        report.append(rep)
        peak = max(peak, int(proc.stderr.strip().splitlines()[-1]) / 1024)
    return report, imports, wall, peak


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=10_000_000, help="synthetic provisioning rows")
    ap.add_argument(
        "--work",
        type=Path,
        default=HERE / "data",
        help="where the store is built (kept for re-runs)",
    )
    ap.add_argument("--samples", type=int, default=30, help="synthetic subscribers per measure")
    ap.add_argument("--quick", action="store_true", help="1 M rows, 10 samples")
    ap.add_argument(
        "--synthetic",
        type=int,
        help="synthetic subscribers to measure (default: --samples); their blast radius grows "
        "with the store (about 50,000 actions per user ID at 100 M rows), 0 skips them",
    )
    ap.add_argument(
        "--store",
        type=Path,
        help="an existing store of --rows synthetic rows (bench_store.py's lookup store): the "
        "seed case is added to it instead of building one",
    )
    ap.add_argument("--out", type=Path, default=HERE / "out" / "investigate.json")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.samples = min(args.rows, 1_000_000), 10
    args.work.mkdir(parents=True, exist_ok=True)

    t = time.perf_counter()
    if args.store is not None:
        home = args.store
        print(f"the store {home} (+ the seed case), {args.rows:,} synthetic rows", flush=True)
        add_seed(home)
        info: dict[str, object] = {}
    else:
        print(
            f"store of {args.rows:,} provisioning rows + the seed case under {args.work}",
            flush=True,
        )
        home = build(args.work, args.rows)
        info = json.loads((home / "bench-ready").read_text())
    build_s = time.perf_counter() - t
    synth = synthetic_msisdns(args.rows, args.samples)

    from jejak.investigate import investigate
    from jejak.investigate.lookup import LookupIndex
    from jejak.store import Store

    built = LookupIndex(Store(home)).ensure()
    assert built == 0, f"{built} data files had no lookup index: every ingest builds its own"
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    check = investigate(Store(home), SEED_MSISDN)
    assert check.verdict.hypothesis == "credential_misuse", check.verdict.to_dict()
    assert check.remedy.refund == 500_000

    if args.synthetic is not None:
        synth = synth[: args.synthetic]
    n_proc = min(5 if args.quick else 10, args.samples)
    seed_warm, _ = warm(home, [SEED_MSISDN], repeat=max(20, args.samples))
    seed_cold_conn = cold_connection(home, [SEED_MSISDN] * min(10, args.samples))
    seed_proc, seed_imports, seed_wall, seed_peak = cold_process(home, [SEED_MSISDN] * n_proc)
    warm_peak, _ = peak_rss(home, [SEED_MSISDN] * 20 + synth)
    synth_warm, synth_actions = warm(home, synth, repeat=1) if synth else ([], [])
    synth_cold_conn = cold_connection(home, synth[: min(10, args.samples)])
    synth_proc, _, synth_wall, synth_peak = cold_process(home, synth[:n_proc])

    result = {
        "machine": machine(),
        "provisioning_rows": args.rows + 176,
        "store": str(home),
        "store_build_seconds": info.get("build_seconds"),
        "lookup_files_built_by_reports": built,
        "reused_store": build_s < 5,
        "load_average": load,
        "peak_rss_mib": {
            "warm_process_all_reports": round(warm_peak),
            "cold_process_seed": round(seed_peak),
            "cold_process_synthetic": round(synth_peak),
        },
        "seed_subscriber": {
            "msisdn": SEED_MSISDN,
            "warm": stats(seed_warm),
            "cold_fresh_connection": stats(seed_cold_conn),
            "cold_fresh_process_report": stats(seed_proc),
            "cold_fresh_process_wall": stats(seed_wall),
            "import_seconds_median": round(statistics.median(seed_imports), 3),
        },
        "synthetic_subscribers": {
            "count": len(synth),
            "mean_actions_weighed": round(statistics.mean(synth_actions), 1)
            if synth_actions
            else None,
            "warm": stats(synth_warm),
            "cold_fresh_connection": stats(synth_cold_conn),
            "cold_fresh_process_report": stats(synth_proc),
            "cold_fresh_process_wall": stats(synth_wall),
        },
        "targets": {
            "warm_p95_ms": 20,
            "cold_ms": 1000,
            "report_peak_rss_mib": 1024,
            "at_rows": 100_000_000,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
