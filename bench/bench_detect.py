"""Benchmark of the rule pack: DuckDB at N provisioning events, PostgreSQL and Spark at M, one run.

Generates a synthetic operator (:mod:`jejak.detect.synth`: provisioning with its
sessions, shifts, consents, charges and locations), ingests it into a fresh
store, runs the whole pack on each engine and prints a markdown table, and
checks that every engine found the same (rule, alert_id, record_ids).

    python bench/bench_detect.py --provisioning 100000000 --others 10000000
    python bench/bench_detect.py --quick          # 200,000 and 200,000, seconds
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from jejak.detect import detect
from jejak.detect.engines import PostgresEngine
from jejak.detect.synth import generate
from jejak.store import Store


def build(root: Path, events: int) -> tuple[Store, float, float]:
    t = time.perf_counter()
    generate(root / "export", events)
    gen = time.perf_counter() - t
    store = Store(root / "home")
    t = time.perf_counter()
    result = store.ingest([root / "export"])
    if result.quarantined:
        raise SystemExit(f"synthetic data was quarantined: {result.quarantined} rows")
    shutil.rmtree(root / "export")
    return store, gen, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--provisioning", type=int, default=10_000_000, help="events for the DuckDB run"
    )
    ap.add_argument(
        "--others",
        type=int,
        default=None,
        help="events for PostgreSQL and Spark (default: same, at most 10M)",
    )
    ap.add_argument("--engines", default="duckdb,postgres,spark")
    ap.add_argument("--quick", action="store_true", help="200,000 events everywhere")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    if args.quick:
        args.provisioning = args.others = 200_000
    others = args.others or min(args.provisioning, 10_000_000)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    work = Path(tempfile.mkdtemp(prefix="jejak-bench-", dir=args.workdir))
    rows: list[str] = []
    keys: dict[tuple[str, int], set] = {}
    stores: dict[int, tuple[Store, float, float]] = {}
    try:
        sizes = {args.provisioning} | ({others} if set(engines) - {"duckdb"} else set())
        for n in sorted(sizes):
            stores[n] = build(work / str(n), n)
            print(
                f"<!-- {n:,} events: generated in {stores[n][1]:.1f} s, ingested in {stores[n][2]:.1f} s -->",
                flush=True,
            )
        for engine in engines:
            for n in sorted(sizes) if engine == "duckdb" else [others]:
                store = stores[n][0]
                if engine == "postgres":
                    # load the kinds once (as a later run over the same store would find them)
                    t = time.perf_counter()
                    PostgresEngine(store).close()
                    print(
                        f"<!-- postgres: loaded {n:,} events in {time.perf_counter() - t:.1f} s -->",
                        flush=True,
                    )
                t = time.perf_counter()
                result = detect(store, engine=engine, save=False)
                secs = time.perf_counter() - t
                keys[(engine, n)] = result.keys()
                slowest = sorted(result.rule_seconds.items(), key=lambda kv: -kv[1])[:3]
                rows.append(
                    f"| {engine} | {n:,} | {secs:.1f} | {len(result.alerts):,} | "
                    + ", ".join(f"{k} {v:.1f} s" for k, v in slowest)
                    + " |"
                )
                print(rows[-1], flush=True)
        print()
        print(
            f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        )
        print()
        print(
            "| engine | provisioning events | seconds (whole pack + anomaly model) | alerts | slowest rules |"
        )
        print("|---|---:|---:|---:|---|")
        print("\n".join(rows))
        by_n: dict[int, list[tuple[str, set]]] = {}
        for (engine, n), k in keys.items():
            by_n.setdefault(n, []).append((engine, k))
        for n, results in by_n.items():
            if len(results) > 1:
                same = all(k == results[0][1] for _, k in results)
                names = ", ".join(e for e, _ in results)
                print(
                    f"\nAt {n:,} events {names} found {'identical' if same else 'DIFFERENT'} alerts."
                )
    finally:
        if "postgres" in engines:
            for store, _, _ in stores.values():
                eng = PostgresEngine(store)
                eng.drop()
                eng.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
