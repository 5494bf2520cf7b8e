"""Benchmark of the rule pack: the whole pack on each engine, and incremental detection of a new day.

Generates a synthetic operator (:mod:`jejak.detect.synth`: provisioning with its sessions,
shifts, consents, charges and locations) of N provisioning events over 90 days, ingested as
``--batches`` exports of consecutive days (an operator's exports arrive by the day), and:

1. runs the whole pack (rules and anomaly model) on DuckDB over the N events, storing the
   alerts (and the baseline incremental runs start from), and on PostgreSQL and Spark over a
   store of M events; checks that the engines found the same (rule, alert_id, record_ids);
2. ingests the next day's export of the same operator (``--new`` events) and runs
   ``detect(incremental=True)``, then the whole pack again over everything (the peer, in the
   same run), and checks that both stored the same alerts, field for field.

    python bench/bench_detect.py                  # 100,000,000 on DuckDB, 10,000,000 on the others, a new day of 1,000,000
    python bench/bench_detect.py --provisioning 10000000 --engines duckdb,postgres
    python bench/bench_detect.py --quick          # 200,000 (a new day of 20,000), seconds

With ``--keep --workdir DIR`` the stores are built once and kept: ``DIR/<N>/home`` (marked
complete by ``DIR/<N>/built.json``) is reused by later runs, which skip the build. The new
day's export is kept apart in ``DIR/<N>/export-new`` (``export-new.json`` when complete), and the
incremental step never writes into ``home``: it ingests the new day into ``DIR/<N>/next``, a copy
of ``home`` made after the whole pack saved its alerts and baseline (Parquet and Arrow files are
hard links: the store only ever adds files or replaces them by rename, so the copy costs no disk).
So the incremental step can be run again on the same 100 M without rebuilding anything::

    python bench/bench_detect.py --engines duckdb --keep --workdir /work/bdata/d100 --steps build
    python bench/bench_detect.py --engines duckdb --keep --workdir /work/bdata/d100   # whole pack + new day
    python bench/bench_detect.py --engines duckdb --keep --workdir /work/bdata/d100 --steps incremental,peer
    python bench/bench_detect.py --engines duckdb --keep --workdir /work/bdata/d100 --steps peer
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from jejak.detect import aggregates, detect, load_alerts
from jejak.detect.engines import PostgresEngine
from jejak.detect.synth import DAYS, generate
from jejak.store import Store

AGGREGATED = aggregates.RULES


def load(uptime: str = "/proc/loadavg") -> str:
    try:
        return " ".join(Path(uptime).read_text().split()[:3])
    except OSError:
        return "?"


def snapshot(src: Path, dst: Path) -> None:
    """Copy the home ``src`` to ``dst``: Parquet and Arrow files (never written in place, only
    added or replaced by rename) as hard links, everything else copied."""
    shutil.rmtree(dst, ignore_errors=True)
    for folder, _dirs, names in os.walk(src):
        rel = Path(folder).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for name in names:
            if name == ".lock":
                continue
            a, b = Path(folder) / name, dst / rel / name
            if name.endswith((".parquet", ".arrow", ".npy", ".npz")):
                os.link(a, b)
            else:
                shutil.copy2(a, b)


def kept(root: Path, events: int, batches: int) -> Store | None:
    """The store built by an earlier ``--keep`` run under ``root``, if it is there whole."""
    try:
        stamp = json.loads((root / "built.json").read_text())
    except (OSError, ValueError):
        return None
    if stamp.get("events") != events or stamp.get("batches") != batches:
        raise SystemExit(f"{root} holds another store ({stamp}); use another --workdir")
    print(f"<!-- {events:,} events: reusing the store built {stamp.get('built')} -->", flush=True)
    return Store(root / "home")


def build(root: Path, events: int, batches: int) -> tuple[Store, float, float]:
    """A store of ``events`` over :data:`DAYS` days, ingested as ``batches`` exports of
    consecutive days; (store, seconds generating, seconds ingesting)."""
    shutil.rmtree(root, ignore_errors=True)
    store = Store(root / "home")
    gen = ing = 0.0
    per_day = events / DAYS
    first = 0
    for b in range(batches):
        day0, day1 = b * DAYS // batches, (b + 1) * DAYS // batches
        n = round(per_day * day1) - first
        export = root / f"export-{b}"
        t = time.perf_counter()
        generate(export, n, days=(day0, day1 - day0), first_event=first, population=events)
        gen += time.perf_counter() - t
        t = time.perf_counter()
        result = store.ingest([export])
        ing += time.perf_counter() - t
        if result.quarantined:
            raise SystemExit(f"synthetic data was quarantined: {result.quarantined} rows")
        shutil.rmtree(export)
        first += n
        print(
            f"<!-- batch {b + 1}/{batches} of {events:,}: {first:,} events stored, "
            f"generating {gen:.0f} s, ingesting {ing:.0f} s, load {load()} -->",
            flush=True,
        )
    (root / "built.json").write_text(
        json.dumps(
            {
                "events": events,
                "batches": batches,
                "generate_seconds": round(gen, 1),
                "ingest_seconds": round(ing, 1),
                "built": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            }
        )
    )
    return store, gen, ing


def phases(result: Any) -> str:
    return ", ".join(f"{k} {v:.1f} s" for k, v in result.phases.items())


def whole_pack(store: Store, engine: str, n: int, save: bool) -> tuple[str, set, float]:
    if engine == "postgres":
        # load the kinds once (as a later run over the same store would find them)
        t = time.perf_counter()
        PostgresEngine(store).close()
        print(
            f"<!-- postgres: loaded {n:,} events in {time.perf_counter() - t:.1f} s -->", flush=True
        )
    before = load()
    t = time.perf_counter()
    result = detect(store, engine=engine, save=save)
    secs = time.perf_counter() - t
    slowest = sorted(result.rule_seconds.items(), key=lambda kv: -kv[1])[:3]
    row = (
        f"| {engine} | {n:,} | {secs:.1f} | {len(result.alerts):,} | "
        + ", ".join(f"{k} {v:.1f} s" for k, v in slowest)
        + f" | {before} |"
    )
    print(row, flush=True)
    print(f"<!-- {engine} at {n:,}: {phases(result)} -->", flush=True)
    return row, result.keys(), secs


def new_day(root: Path, events: int, new: int) -> Path:
    """The next day's export of the operator under ``root`` (reused when already made)."""
    export = root / "export-new"
    stamp = root / "export-new.json"
    if stamp.exists() and json.loads(stamp.read_text()).get("events") == new:
        return export
    shutil.rmtree(export, ignore_errors=True)
    generate(export, new, days=(DAYS, 1), first_event=events, population=events)
    stamp.write_text(json.dumps({"events": new}))
    return export


def incremental(base: Store, events: int, new: int, peer: bool = True) -> list[str]:
    """Copy the home (with the whole pack's alerts and baseline), ingest the next day of the
    operator into the copy, detect incrementally, then (``peer``) the whole pack."""
    root = base.home.parent
    if not (root / "home" / "alerts").exists():
        raise SystemExit(f"no stored alerts in {base.home}: run the whole pack first")
    export = new_day(root, events, new)
    t = time.perf_counter()
    snapshot(base.home, root / "next")
    copy = time.perf_counter() - t
    print(f"<!-- copied the home (hard links) in {copy:.1f} s -->", flush=True)
    store = Store(root / "next")
    t = time.perf_counter()
    store.ingest([export])
    ingest = time.perf_counter() - t
    before = load()
    t = time.perf_counter()
    inc = detect(store, incremental=True)
    inc_secs = time.perf_counter() - t
    run = inc.incremental
    if run is None:
        raise SystemExit("the incremental run fell back to a full run")
    slowest = sorted(inc.rule_seconds.items(), key=lambda kv: -kv[1])[:4]
    row = (
        f"| incremental (`detect(incremental=True)`) | {events + new:,} | {new:,} | {inc_secs:.1f} "
        f"| {len(inc.alerts):,} new, {run.removed:,} gone, {run.stored:,} stored | {before} |"
    )
    notes = (
        f"The new day was ingested in {ingest:.1f} s (not counted). Rules sliced: "
        f"{', '.join(run.sliced) or 'none'}; run whole: {', '.join(run.whole) or 'none'}; "
        "slowest: "
        + ", ".join(f"{k} {v:.2f} s" for k, v in slowest)
        + f". Where the incremental run's time went: {phases(inc)}. The slices: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in inc.slice_seconds.items())
        + ". The aggregated rules: "
        + ", ".join(f"{k} {inc.rule_seconds.get(k, 0):.2f} s" for k in AGGREGATED)
        + "."
    )
    print(f"<!-- {row} -->\n<!-- {notes} -->", flush=True)
    lines = [
        "| run | events stored | new events | seconds | alerts | load average |",
        "|---|---:|---:|---:|---:|---|",
        row,
    ]
    if peer:
        lines += whole_peer(store, events + new, inc_secs)
    return [*lines, "", notes]


def whole_peer(store: Store, n: int, inc_secs: float | None = None) -> list[str]:
    """The whole pack over the store the incremental run stored its alerts in, compared."""
    stored = {a["alert_id"]: a for a in load_alerts(store)}
    before_full = load()
    t = time.perf_counter()
    full = detect(store, save=False)
    full_secs = time.perf_counter() - t
    same = stored == {a.to_dict()["alert_id"]: a.to_dict() for a in full.alerts}
    ratio = f" Incremental / whole pack: {inc_secs / full_secs:.2f}." if inc_secs else ""
    return [
        f"| whole pack over everything (peer) | {n:,} | — | {full_secs:.1f} "
        f"| {len(full.alerts):,} | {before_full} |",
        "",
        f"The whole pack's time: {phases(full)}.{ratio} The incremental run stored "
        f"{'the same alerts as' if same else 'DIFFERENT alerts from'} the whole pack (every "
        "field of every alert).",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--provisioning", type=int, default=100_000_000, help="events on DuckDB")
    ap.add_argument(
        "--others",
        type=int,
        default=None,
        help="events for PostgreSQL and Spark (default: same, at most 10M)",
    )
    ap.add_argument("--new", type=int, default=None, help="events of the new day (default N/100)")
    ap.add_argument("--batches", type=int, default=10, help="exports the N events arrive in")
    ap.add_argument("--engines", default="duckdb,postgres,spark")
    ap.add_argument("--quick", action="store_true", help="200,000 events everywhere")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument(
        "--keep",
        action="store_true",
        help="keep the stores in --workdir and reuse them on later runs (see above)",
    )
    ap.add_argument(
        "--steps",
        default="build,whole,incremental,peer",
        help="what to do: build (always, unless kept), whole (the pack on each engine), "
        "incremental (the new day, on DuckDB), peer (the whole pack after it, compared)",
    )
    args = ap.parse_args()
    steps = {s.strip() for s in args.steps.split(",")}
    if args.keep and args.workdir is None:
        raise SystemExit("--keep needs --workdir")
    if args.quick:
        args.provisioning = args.others = 200_000
    others = args.others or min(args.provisioning, 10_000_000)
    new = args.new or max(1, args.provisioning // 100)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if args.keep:
        work = args.workdir
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="jejak-bench-", dir=args.workdir))
    rows: list[str] = []
    keys: dict[tuple[str, int], set] = {}
    stores: dict[int, Store] = {}
    try:
        sizes = {args.provisioning} | ({others} if set(engines) - {"duckdb"} else set())
        for n in sorted(sizes):
            batches = args.batches if n == args.provisioning else 1
            reused = kept(work / str(n), n, batches) if args.keep else None
            if reused is not None:
                stores[n] = reused
                continue
            stores[n], gen, ing = build(work / str(n), n, batches)
            print(
                f"<!-- {n:,} events: generated in {gen:.1f} s, ingested in {ing:.1f} s "
                f"({batches} batches) -->",
                flush=True,
            )
        for engine in engines if "whole" in steps else []:
            for n in sorted(sizes) if engine == "duckdb" else [others]:
                save = engine == "duckdb" and n == args.provisioning
                row, keys[(engine, n)], _ = whole_pack(stores[n], engine, n, save)
                rows.append(row)
        print()
        print(
            f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        )
        print()
        print(
            "| engine | provisioning events | seconds (whole pack + anomaly model) | alerts "
            "| slowest rules | load average before |"
        )
        print("|---|---:|---:|---:|---|---|")
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
        if "duckdb" in engines and "incremental" in steps:
            print()
            lines = incremental(
                stores[args.provisioning], args.provisioning, new, peer="peer" in steps
            )
            print("\n".join(lines))
        elif "duckdb" in engines and "peer" in steps:
            store = Store(work / str(args.provisioning) / "next")
            print("\n".join(whole_peer(store, args.provisioning + new)))
    finally:
        if "postgres" in engines and not args.keep:
            for store in stores.values():
                eng = PostgresEngine(store)
                eng.drop()
                eng.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
