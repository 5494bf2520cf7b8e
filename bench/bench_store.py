"""Benchmark of the foundation: ingest speed and memory, and the subscriber lookup.

Measures, in one run:

1. ingest of N provisioning rows from Parquet and from CSV (rows/s, peak RSS of
   the ingesting process), at two sizes to show that memory does not grow
   with the input;
2. the lookup of everything about one subscriber (``Store.subscriber``) in a
   store of M provisioning rows, warm, p50/p95 over random subscribers;
3. the same lookup on PostgreSQL with a B-tree index on msisdn, same rows.

    python bench/bench_store.py                      # 10 M ingest, 100 M lookup
    python bench/bench_store.py --quick              # 1 M ingest, 5 M lookup
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen import generate  # noqa: E402

PG_URL = os.environ.get("JEJAK_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}"


def timed_ingest(home: Path, export: Path) -> tuple[float, float, int, float]:
    """(seconds, peak RSS in MiB, rows loaded, seconds spent committing to the ledger) of an
    ingest in its own process."""
    code = (
        "import sys, json, time; from jejak import Home; import jejak.home as H\n"
        "spent = [0.0]; commit = H.commit_store\n"
        "def timed(*a, **k):\n"
        "    t = time.perf_counter(); n = commit(*a, **k); spent[0] += time.perf_counter() - t; return n\n"
        "H.commit_store = timed\n"
        "r = Home(sys.argv[1]).ingest([sys.argv[2]]); print(json.dumps([r.seconds, r.loaded, spent[0]]))"
    )
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M", sys.executable, "-c", code, str(home), str(export)],
        capture_output=True,
        text=True,
        check=True,
    )
    import json

    seconds, loaded, ledger = json.loads(proc.stdout.strip().splitlines()[-1])
    peak_kib = int(proc.stderr.strip().splitlines()[-1])
    return seconds, peak_kib / 1024, loaded, ledger


FLOOR = """
import sys, time, duckdb
fmt, src, out, tmp = sys.argv[1:5]
con = duckdb.connect(config={"memory_limit": "1GB", "temp_directory": tmp, "threads": 2})
reader = f"read_parquet('{src}/*/*.parquet')" if fmt == "parquet" else f"read_csv('{src}/*/*.csv')"
t = time.perf_counter()
con.execute(f"COPY (SELECT * FROM {reader} ORDER BY msisdn) TO '{out}' "
            "(FORMAT parquet, COMPRESSION lz4_raw, ROW_GROUP_SIZE 32768)")
print(time.perf_counter() - t)
"""


def timed_floor(fmt: str, export: Path, work: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of the floor: DuckDB alone reading the same files, sorting by
    msisdn and writing LZ4 Parquet in 32 k row groups, under the store's memory cap (1 GB)."""
    out = work / "floor.parquet"
    tmp = work / "floor-tmp"
    proc = subprocess.run(
        [
            "/usr/bin/time",
            "-f",
            "%M",
            sys.executable,
            "-c",
            FLOOR,
            fmt,
            str(export),
            str(out),
            str(tmp),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out.unlink(missing_ok=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return float(proc.stdout.strip().splitlines()[-1]), int(
        proc.stderr.strip().splitlines()[-1]
    ) / 1024


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def bench_ingest(
    work: Path, sizes: list[int], repeat: int, keep: bool = False
) -> list[tuple[str, int, float, float, float, float, float, str]]:
    """Per size and format: the ingest (ledger included) and the floor, alternately, ``repeat``
    times; the medians.

    No home is deleted while anything is timed: each ingest gets a new folder, and the
    ingested homes are deleted at the end. ext4 will not reuse an inode for a few minutes
    after its file was deleted, and checks every such inode it passes when it creates a
    file (``recently_deleted`` in ``ext4_create``): deleting the previous run's home, tens
    of thousands of log tiles, just before an ingest made each of the ingest's own tile
    files cost about a millisecond of kernel time (perf, 2 M rows: a third of the log's
    time; 13-17 s of system time against 1.3-2.2 s in a folder without recent deletions).
    No ingest deletes files on that scale, so that cost belonged to the benchmark. ``keep``:
    leave the homes (to run another benchmark straight after this one without it paying
    for their deletion)."""
    rows_out = []
    done: list[Path] = []
    try:
        for rows in sizes:
            rows_out += _bench_size(work, rows, repeat, done)
    finally:
        for home in [] if keep else done:
            shutil.rmtree(home, ignore_errors=True)
    return rows_out


def _bench_size(
    work: Path, rows: int, repeat: int, done: list[Path]
) -> list[tuple[str, int, float, float, float, float, float, str]]:
    rows_out = []
    for fmt in ("parquet", "csv"):
        export = work / f"export-{fmt}-{rows}"
        if not export.exists():
            generate(export, rows, fmt, parts=max(1, rows // 5_000_000))
        runs, floors, peaks, ledgers, loads = [], [], [], [], []
        for i in range(repeat):
            home = work / f"home-ingest-{fmt}-{rows}-{os.getpid()}-{i}"
            shutil.rmtree(home, ignore_errors=True)  # only a crashed run leaves one
            done.append(home)
            loads.append(load_average())
            seconds, peak, loaded, ledger = timed_ingest(home, export)
            assert loaded == rows, (loaded, rows)
            floor, _ = timed_floor(fmt, export, work)
            runs.append(seconds)
            floors.append(floor)
            peaks.append(peak)
            ledgers.append(ledger)
            print(
                f"  ingest {fmt:7} {rows:>12,} rows: {seconds:6.1f} s ({ledger:.1f} s of it "
                f"committing to the ledger), peak {peak:,.0f} MiB; floor {floor:.1f} s "
                f"({seconds / floor:.2f}x); load {loads[-1]}",
                flush=True,
            )
        seconds = statistics.median(runs)
        ledger = statistics.median(ledgers)
        rows_out.append(
            (
                fmt,
                rows,
                seconds,
                max(peaks),
                seconds - ledger,
                ledger,
                statistics.median(floors),
                loads[0],
            )
        )
    return rows_out


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p * (len(values) - 1)))]


def build_lookup_store(work: Path, rows: int, batch_rows: int) -> Path:
    """The store of ``rows`` provisioning rows in batches of ``batch_rows`` (each ingest builds its
    batch's lookup index), made once and kept under ``work`` for re-runs."""
    from jejak.store import Store

    home = work / f"home-lookup-{rows}"
    ready = home / "bench-lookup-ready"  # bench_investigate.py may add the seed case to it later
    if not ready.exists():
        shutil.rmtree(home, ignore_errors=True)
        store = Store(home)
        done = 0
        while done < rows:
            n = min(batch_rows, rows - done)
            export = work / "lookup-part"
            shutil.rmtree(export, ignore_errors=True)
            generate(export, n, "parquet", parts=max(1, n // 5_000_000), start=done)
            t = time.perf_counter()
            store.ingest([export])
            print(
                f"  loaded {done + n:,} / {rows:,} ({time.perf_counter() - t:.1f} s for this batch)",
                flush=True,
            )
            done += n
        shutil.rmtree(work / "lookup-part", ignore_errors=True)
        ready.write_text(f"{rows}\n")
    return home


def bench_lookup(
    work: Path, rows: int, batch_rows: int, samples: int
) -> tuple[dict[str, Any], list[str], Path]:
    from jejak import index as X
    from jejak.store import Store

    home = build_lookup_store(work, rows, batch_rows)
    store = Store(home)
    con = store.connect()
    rng = random.Random(7)
    offsets = [rng.randrange(rows) for _ in range(samples)]
    msisdns = [
        con.execute("SELECT msisdn FROM provisioning LIMIT 1 OFFSET ?", [o]).fetchall()[0][0]
        for o in offsets[:5]
    ]
    subs = max(1, rows // 20)
    msisdns += [str(6281200000000 + rng.randrange(subs)) for _ in range(samples - len(msisdns))]
    con.close()
    designs = {
        "index": store.subscriber,
        "rowgroups": RowGroupDirectory(store).subscriber,
        "duckdb": duckdb_subscriber(store),
    }
    results: dict[str, Any] = {}
    expected = [len(store.subscriber(m)["provisioning"]) for m in msisdns]
    for name, look in designs.items():
        for m in msisdns[:5]:  # warm the caches, as a running service would be
            look(m)
        times = []
        load = load_average()
        for m, n in zip(msisdns, expected, strict=True):
            t = time.perf_counter()
            got = look(m)
            times.append(time.perf_counter() - t)
            assert len(got["provisioning"]) == n, (name, m)
        results[name] = {
            "p50_ms": statistics.median(times) * 1000,
            "p95_ms": percentile(times, 0.95) * 1000,
            "load": load,
        }
        print(
            f"  {name}: p50 {results[name]['p50_ms']:.2f} ms, p95 {results[name]['p95_ms']:.2f} ms, load {load}",
            flush=True,
        )
    files = store.files("provisioning")
    results["mean_rows"] = sum(expected) / len(expected)
    results["files"] = len(files)
    results["parquet_bytes"] = sum(f.stat().st_size for f in files)
    results["index_bytes"] = X.size_of(
        store.root, [str(f.relative_to(store.root)) for f in files], "provisioning"
    )
    return results, msisdns, home


class RowGroupDirectory:
    """The other design measured: no copy of the rows, only a directory of every row group's
    smallest and largest msisdn (from the Parquet footers, kept in memory), and pyarrow reading
    the one or two row groups that can hold the subscriber."""

    def __init__(self, store: Any) -> None:
        import numpy as np
        import pyarrow.parquet as pq

        from jejak.store import SUBSCRIBER_KINDS

        self.kinds: dict[str, list[tuple[Any, Any, Any, str | None]]] = {}
        for name in SUBSCRIBER_KINDS:
            entries = []
            for f in store.files(name):
                pf = pq.ParquetFile(f)
                col = pf.schema_arrow.get_field_index("msisdn")
                md = pf.metadata
                lows = [
                    md.row_group(i).column(col).statistics.min for i in range(md.num_row_groups)
                ]
                highs = [
                    md.row_group(i).column(col).statistics.max for i in range(md.num_row_groups)
                ]
                entries.append((pf, np.array(lows, dtype=str), np.array(highs, dtype=str), None))
            self.kinds[name] = entries
        from jejak.schema import KINDS

        self.time = {name: KINDS[name].time_field for name in SUBSCRIBER_KINDS}

    def subscriber(self, msisdn: str) -> dict[str, list[dict[str, Any]]]:
        import numpy as np
        import pyarrow.compute as pc

        out: dict[str, list[dict[str, Any]]] = {}
        for name, entries in self.kinds.items():
            rows: list[dict[str, Any]] = []
            for pf, lows, highs, _ in entries:
                first = int(np.searchsorted(highs, msisdn, side="left"))
                last = int(np.searchsorted(lows, msisdn, side="right"))
                for i in range(first, last):
                    t = pf.read_row_group(i, use_threads=False)
                    rows += t.filter(pc.equal(t.column("msisdn"), msisdn)).to_pylist()
            tf = self.time[name]
            if tf:
                rows.sort(key=lambda r: r[tf])
            out[name] = rows
        return out


def duckdb_subscriber(store: Any) -> Any:
    """The previous release's lookup: DuckDB over the Parquet files, one query per kind."""
    from jejak.schema import KINDS
    from jejak.sqlq import read_parquet
    from jejak.store import SUBSCRIBER_KINDS

    def look(msisdn: str) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for name in SUBSCRIBER_KINDS:
            files = store.files(name)
            if not files:
                out[name] = []
                continue
            tf = KINDS[name].time_field
            order = f'ORDER BY "{tf}"' if tf else ""
            out[name] = store.sql(
                f"SELECT * FROM {read_parquet(files)} WHERE msisdn = ? {order}", [msisdn]
            )
        return out

    return look


def bench_postgres(home: Path, msisdns: list[str]) -> dict[str, Any] | str:
    try:
        import psycopg
    except ImportError:
        return "psycopg not installed"
    from jejak.store import Store

    store = Store(home)
    files = store.files("provisioning")
    try:
        pg = psycopg.connect(PG_URL, autocommit=True)
    except Exception as exc:
        return f"no PostgreSQL at {PG_URL}: {exc}"
    rows = store.status(integrity=False).kinds["provisioning"].rows
    pg.execute("CREATE SCHEMA IF NOT EXISTS jejak_bench")
    have = pg.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema='jejak_bench' AND table_name='provisioning'"
    ).fetchone()[0]
    n = pg.execute("SELECT count(*) FROM jejak_bench.provisioning").fetchone()[0] if have else -1
    if n != rows:
        pg.execute("DROP TABLE IF EXISTS jejak_bench.provisioning")
        pg.execute(
            "CREATE UNLOGGED TABLE jejak_bench.provisioning (event_id text, at timestamptz, msisdn text, action text, "
            "package_id text, channel text, agent_id text, session_id text, outlet_id text, source_ip text, "
            "device_id text, consent_id text, price bigint, promo_ends date, _src text, _line bigint)"
        )
        import duckdb

        t = time.perf_counter()
        con = duckdb.connect()
        for f in files:
            tmp = home / "pg-load.csv"
            con.execute(
                f"COPY (SELECT * FROM read_parquet('{f}')) TO '{tmp}' (FORMAT csv, HEADER false)"
            )
            with (
                pg.cursor() as cur,
                cur.copy("COPY jejak_bench.provisioning FROM STDIN (FORMAT csv)") as copy,
                open(tmp, "rb") as fh,
            ):
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
            tmp.unlink()
        pg.execute("CREATE INDEX ON jejak_bench.provisioning (msisdn)")
        pg.execute("ANALYZE jejak_bench.provisioning")
        print(f"  loaded PostgreSQL in {time.perf_counter() - t:.0f} s", flush=True)
    query = "SELECT * FROM jejak_bench.provisioning WHERE msisdn = %s ORDER BY at"
    for m in msisdns[:5]:
        pg.execute(query, [m]).fetchall()
    load = load_average()
    times = []
    for m in msisdns:
        t = time.perf_counter()
        pg.execute(query, [m]).fetchall()
        times.append(time.perf_counter() - t)
    pg.close()
    return {
        "p50_ms": statistics.median(times) * 1000,
        "p95_ms": percentile(times, 0.95) * 1000,
        "load": load,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--ingest-rows", type=int, default=10_000_000)
    ap.add_argument("--lookup-rows", type=int, default=100_000_000)
    ap.add_argument("--batch-rows", type=int, default=10_000_000)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--work", type=Path, default=HERE / "data")
    ap.add_argument("--quick", action="store_true", help="1 M ingest, 5 M lookup")
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument(
        "--keep-homes",
        action="store_true",
        help="leave the ingested homes under --work (deleting them makes the next run's file "
        "creation slower for minutes on ext4)",
    )
    ap.add_argument("--repeat", type=int, default=1, help="paired ingest/floor runs per size")
    ap.add_argument(
        "--build-only",
        action="store_true",
        help="only build the lookup store (outside the benchmark lock: it is not a measure)",
    )
    ap.add_argument(
        "--only", choices=("ingest", "lookup"), help="run one half (the other prints nothing)"
    )
    a = ap.parse_args()
    if a.quick:
        a.ingest_rows, a.lookup_rows, a.batch_rows, a.samples = 1_000_000, 5_000_000, 5_000_000, 50
    a.work.mkdir(parents=True, exist_ok=True)
    if a.build_only:
        print(build_lookup_store(a.work, a.lookup_rows, a.batch_rows))
        return
    print(f"machine: {machine()}")
    print(f"command: python bench/bench_store.py {' '.join(sys.argv[1:])}", flush=True)
    sizes = sorted({max(1, a.ingest_rows // 5), a.ingest_rows})
    ingest = bench_ingest(a.work, sizes, a.repeat, a.keep_homes) if a.only != "lookup" else []
    if a.only != "ingest":
        lookup, msisdns, home = bench_lookup(a.work, a.lookup_rows, a.batch_rows, a.samples)
        pg = "skipped" if a.skip_postgres else bench_postgres(home, msisdns)
    if ingest:
        print_ingest(ingest)
    if a.only != "ingest":
        print_lookup(a, lookup, pg)


def print_ingest(ingest: list[tuple[str, int, float, float, float, float, float, str]]) -> None:
    print("\n### Ingest (provisioning rows), the lookup index and the ledger included\n")
    print(
        "| format | rows | seconds in all | rows/s in all | store part: seconds, rows/s | ledger part: seconds, rows/s "
        "| floor (DuckDB read+sort+write): seconds, rows/s | ingest / floor | peak RSS | load |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for fmt, rows, seconds, peak, store_s, ledger_s, floor, load in ingest:
        print(
            f"| {fmt} | {rows:,} | {seconds:.1f} | {rows / seconds:,.0f} | {store_s:.1f} s, {rows / store_s:,.0f} "
            f"| {ledger_s:.1f} s, {rows / max(ledger_s, 1e-9):,.0f} | {floor:.1f} s, {rows / floor:,.0f} "
            f"| {seconds / floor:.2f}x | {peak:,.0f} MiB | {load} |"
        )


LABELS = {
    "index": "jejak `Store.subscriber`: the lookup index (Arrow IPC copy + key directory), kept",
    "rowgroups": "sorted Parquet + in-memory row-group min/max directory, pyarrow reads (no copy)",
    "duckdb": "DuckDB over the Parquet files (the previous release)",
}


def print_lookup(a: argparse.Namespace, lookup: dict[str, Any], pg: dict[str, float] | str) -> None:
    print(
        f"\n### Everything about one subscriber among {a.lookup_rows:,} provisioning rows "
        f"({lookup['files']} batches; warm, {a.samples} lookups)\n"
    )
    print("| design | p50 | p95 | p95 / PostgreSQL's | load |")
    print("|---|---:|---:|---:|---|")
    pg95 = pg["p95_ms"] if isinstance(pg, dict) else None
    for name, label in LABELS.items():
        r = lookup[name]
        ratio = f"{r['p95_ms'] / pg95:.1f}x" if pg95 else ""
        print(f"| {label} | {r['p50_ms']:.2f} ms | {r['p95_ms']:.2f} ms | {ratio} | {r['load']} |")
    if isinstance(pg, dict):
        print(
            f"| PostgreSQL 15, B-tree index on msisdn, same rows | {pg['p50_ms']:.2f} ms | {pg['p95_ms']:.2f} ms | 1x | {pg['load']} |"
        )
    else:
        print(f"| PostgreSQL | {pg} | | | |")
    print(
        f"\nmean provisioning rows per subscriber looked up: {lookup['mean_rows']:.1f}; "
        f"Parquet {lookup['parquet_bytes'] / 2**30:.2f} GiB, its lookup index {lookup['index_bytes'] / 2**30:.2f} GiB"
    )


if __name__ == "__main__":
    main()
