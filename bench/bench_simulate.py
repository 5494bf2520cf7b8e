"""Benchmark of the simulator: records written per second, provisioning events per second, peak memory.

Sizes the operator so that it writes about ``--provisioning`` provisioning
events over ``--days`` days (the background makes about 0.146 events per
subscriber and day), runs :func:`jejak.simulate.simulate` once in Parquet
with every scenario planted, and reports wall time, records and provisioning
events per second, the export's size on disk and the process's peak resident
memory. Writes ``bench/out/simulate.json`` and prints a markdown table.

    python bench/bench_simulate.py --provisioning 10000000
    python bench/bench_simulate.py --provisioning 100000000
    python bench/bench_simulate.py --quick          # about 500,000 events, seconds

The issue's targets: at least 1,000,000 records per second, 100 million
provisioning events in at most 180 seconds, peak memory under 4 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

from jejak.simulate import simulate
from jejak.simulate import writer as writer_module

#: provisioning events the background makes per subscriber and day (measured)
EVENTS_PER_SUBSCRIBER_DAY = 0.146
TARGET_RECORDS_PER_SECOND = 1_000_000
TARGET_SECONDS_PER_100M = 180
TARGET_PEAK_GB = 4.0


def peak_rss_bytes() -> int:
    """The peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class WriterClock:
    """Adds up the CPU time the writer thread spends encoding and compressing (``thread_time``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._original = writer_module.ExportWriter._write

    def __enter__(self) -> WriterClock:
        original, clock = self._original, self

        def timed(w: writer_module.ExportWriter, kind: str, table: object) -> None:
            t = time.thread_time()
            try:
                original(w, kind, table)  # type: ignore[arg-type]
            finally:
                clock.seconds += time.thread_time() - t

        writer_module.ExportWriter._write = timed  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        writer_module.ExportWriter._write = self._original  # type: ignore[method-assign]


def cpu_seconds() -> float:
    """User and system CPU time of this process (all its threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--provisioning", type=int, default=10_000_000, help="provisioning events to aim for"
    )
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="about 500,000 provisioning events")
    ap.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where to write the export (a temp folder by default)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the export")
    ap.add_argument("--json", type=Path, default=Path(__file__).with_name("out") / "simulate.json")
    args = ap.parse_args()
    if args.quick:
        args.provisioning = 500_000
    subscribers = max(1000, round(args.provisioning / (EVENTS_PER_SUBSCRIBER_DAY * args.days)))
    root = Path(tempfile.mkdtemp(prefix="bench-simulate-", dir=args.workdir))
    try:
        load_before = os.getloadavg()
        cpu0 = cpu_seconds()
        with WriterClock() as clock:
            result = simulate(
                root / "export", subscribers=subscribers, days=args.days, seed=args.seed
            )
        seconds = result.seconds
        cpu = cpu_seconds() - cpu0
        writer_cpu = clock.seconds
        # the two threads overlap: on two idle cores the run takes about as long as the busier one
        critical = max(cpu - writer_cpu, writer_cpu)
        load_after = os.getloadavg()
        size = du(root / "export")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    prov = result.counts["provisioning"]
    records = result.records
    per_100m = seconds * 100_000_000 / prov
    peak = peak_rss_bytes()
    report = {
        "subscribers": subscribers,
        "days": args.days,
        "seed": args.seed,
        "provisioning": prov,
        "records": records,
        "counts": result.counts,
        "cases": len(result.cases),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "writer_thread_cpu_seconds": round(writer_cpu, 2),
        "generating_thread_cpu_seconds": round(cpu - writer_cpu, 2),
        "estimated_seconds_on_two_idle_cores": round(critical, 2),
        "estimated_seconds_per_100m_on_two_idle_cores": round(critical * 100_000_000 / prov, 1),
        "records_per_second": round(records / seconds),
        "provisioning_per_second": round(prov / seconds),
        "seconds_per_100m_provisioning": round(per_100m, 1),
        "export_bytes": size,
        "peak_rss_bytes": peak,
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "targets_met": {
            "records_per_second": records / seconds >= TARGET_RECORDS_PER_SECOND,
            "seconds_per_100m_provisioning": per_100m <= TARGET_SECONDS_PER_100M,
            "peak_memory": peak < TARGET_PEAK_GB * 2**30,
        },
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"simulate: {subscribers:,} subscribers x {args.days} days, seed {args.seed}, Parquet (lz4), every scenario"
    )
    print(
        f"machine: {report['machine']['cpu']}, {os.cpu_count()} cores, load average {report['machine']['load_average_before']} before, {report['machine']['load_average_after']} after\n"
    )
    print("| measure | value | target |")
    print("|---|---:|---:|")
    print(f"| provisioning events | {prov:,} | |")
    print(f"| records (13 kinds) | {records:,} | |")
    print(f"| wall time | {seconds:,.1f} s | |")
    print(f"| CPU time (all threads) | {cpu:,.1f} s | |")
    print(f"| records / CPU-second | {records / cpu:,.0f} | |")
    print(
        f"| CPU: generating thread / writer thread | {cpu - writer_cpu:,.1f} s / {writer_cpu:,.1f} s | |"
    )
    print(f"| records / s | {records / seconds:,.0f} | ≥ {TARGET_RECORDS_PER_SECOND:,} |")
    print(f"| provisioning / s | {prov / seconds:,.0f} | |")
    print(f"| time per 100 M provisioning | {per_100m:,.0f} s | ≤ {TARGET_SECONDS_PER_100M} s |")
    print(
        f"| time per 100 M provisioning, two idle cores (estimate: the busier thread's CPU time) "
        f"| {critical * 100_000_000 / prov:,.0f} s | ≤ {TARGET_SECONDS_PER_100M} s |"
    )
    print(f"| peak RSS | {peak / 2**30:,.2f} GB | < {TARGET_PEAK_GB} GB |")
    print(f"| export size | {size / 2**20:,.0f} MB | |")
    print(f"\nwritten to {args.json}")


if __name__ == "__main__":
    main()
