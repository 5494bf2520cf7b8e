"""Every benchmark of jejak, one after the other: ``make bench`` (``make bench-quick`` for a smoke run).

Each benchmark is its own script beside this one, runnable alone with its own
options (``python bench/bench_store.py --help``). This runner calls them in
turn, shows their output as it comes, and keeps each one's markdown output in
``bench/out/<name>.md`` (and whatever JSON the script writes there) so that the
figures can be copied into ``docs/benchmarks.md`` with the machine they were
measured on. Work folders go under ``--work`` (default ``bench/data``): the
full run needs about 40 GB of disk and takes more than an hour on two cores.

    python bench/run.py                 # everything, at the sizes the issues name
    python bench/run.py --quick         # small sizes: checks that every benchmark runs
    python bench/run.py --only store,ledger
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: name -> (script, options for a full run, options for a quick run)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "store": ("bench_store.py", [], ["--quick"]),
    "simulate": ("bench_simulate.py", [], ["--quick"]),
    "detect": ("bench_detect.py", [], ["--quick"]),
    "investigate": ("bench_investigate.py", [], ["--quick"]),
    "ledger": ("bench_ledger.py", [], ["--quick"]),
    "evidence": ("bench_evidence.py", [], ["--quick"]),
    "cases": ("bench_cases.py", [], ["--quick"]),
    "witness": ("bench_witness.py", [], ["--quick"]),
    "web": ("bench_web.py", [], ["--quick"]),
}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="small sizes, a few minutes in all")
    ap.add_argument(
        "--only", default="", help="comma-separated benchmarks to run: " + ", ".join(BENCHMARKS)
    )
    a = ap.parse_args()
    names = [n for n in a.only.split(",") if n] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(
            f"error: unknown benchmark {unknown[0]!r} (known: {', '.join(BENCHMARKS)})",
            file=sys.stderr,
        )
        return 2
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    print(
        f"# jejak benchmarks ({'quick' if a.quick else 'full'})\n\nMachine: {machine()}\n",
        flush=True,
    )
    failed = []
    for name in names:
        script, full, quick = BENCHMARKS[name]
        cmd = [sys.executable, str(HERE / script), *(quick if a.quick else full)]
        print(f"## {name}: {' '.join(cmd[1:])}\n", flush=True)
        started = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        sys.stdout.write(proc.stdout)
        (out / f"{name}.md").write_text(proc.stdout, encoding="utf-8")
        took = time.perf_counter() - started
        if proc.returncode:
            failed.append(name)
            print(f"\n{name} FAILED (exit {proc.returncode}) after {took:.0f} s\n", flush=True)
        else:
            print(f"\n({name}: {took:.0f} s)\n", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
