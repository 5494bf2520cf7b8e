"""Benchmark of the dispute workflow: case actions per second with the log, opening a case with
its evidence report, reading a 200-entry timeline.

- **actions/s, sustained, with the log**: comment and note actions, each its own transaction
  with its timeline entry and ledger outbox row, on SQLite and on PostgreSQL:
  - *one person, in turn*: one case, N actions one after the other, each waiting until its entry
    is in the log (one signed log append per action: what one CLI call does);
  - *many people at once*: T threads in each of P processes (as ``jejak serve --workers P``),
    each acting on a case of its own, each action returning only once its entry is in the log;
    concurrent actions share log appends (group commit, :mod:`jejak.cases.audit`): what the
    API does today, each response carrying the action's log index;
  - *many people at once, the log drained beside them*: the same people, each action
    returning once committed (its outbox row in the same transaction), while a drain loop
    appends what is pending every 50 ms (``--drain-every``; the log trails the database by that
    and one append); the clock stops when the last action is in the log. This is "sustained
    with the log": the rate at which actions become log entries.
  - *batched*: one thread, the log drained once per 100 actions (what a drain loop does).
  Every action is in the log at the end every way; the figure counts the actions and the drains.
- **case open p95**: ``open_case`` of the seed complaint on the seed store: the evidence report
  made, its JSON stored and hashed, the case, hold, entries and message written, the log
  drained; each sample in a fresh case database (the same complaint gives the same case), after
  the alerts and lookup files were refreshed as after an ingest. The first open (cold caches) is
  shown apart.
- **timeline read p95**: ``timeline(case_id)`` (the customer's view) of a case with 200 entries.

    python bench/bench_cases.py            # 5,000 actions per run, the case opened in 10 M events
    python bench/bench_cases.py --quick    # 500, the case opened in the seed store

Writes ``bench/out/cases.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SEED_DIR = REPO.parent / "shared" / "scenarios" / "seed-2016"
if not SEED_DIR.exists():
    SEED_DIR = REPO / "src" / "jejak" / "simulate" / "seed_2016"


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[18] if len(xs) >= 20 else max(xs)


def _cases(home: Path, url: str | None, schema: str | None, **kw: object):  # type: ignore[no-untyped-def]
    from jejak.cases import Cases
    from jejak.cases.users import add_user
    from jejak.home import Home

    h = Home(home)
    cases = Cases.open(home, url=url, schema=schema, store=h.store, log=h.log, **kw)  # type: ignore[arg-type]
    for name, role in (("rina", "cs"), ("tono", "cs")):
        add_user(cases.db, name, role)
    return cases


def actions(work: Path, n: int, url: str | None, schema: str | None, every: int) -> float:
    home = work / f"actions-{uuid.uuid4().hex[:6]}"
    cases = _cases(home, url, schema, auto_drain=every == 1)
    case, _ = cases.create(
        {
            "complaint_id": f"TCK-B-{uuid.uuid4().hex[:6]}",
            "msisdn": "6281100000077",
            "opened_at": "2026-01-05T09:00:00+07:00",
            "disputed_amount": 100000,
        }
    )
    cid = case["case_id"]
    version = case["version"]
    started = time.perf_counter()
    for i in range(n):
        who, action = (("rina", "comment"), ("tono", "note"))[i % 2]
        version = cases.act(cid, who, action, {"text": f"step {i}"}, version, view=False)["version"]
        if every > 1 and (i + 1) % every == 0:
            cases.drain()
    cases.drain()
    took = time.perf_counter() - started
    assert all(e["ledger_index"] is not None for e in cases.timeline(cid))
    cases.close()
    return n / took


def _act_many(
    home: Path,
    url: str | None,
    schema: str | None,
    ids: list[str],
    n: int,
    ready: Any = None,
    out: Any = None,
    wait: bool = True,
) -> tuple[int, float, float]:
    """One process of the concurrent run: a thread per case, ``n`` actions each, every action
    waiting for its log entry (``wait``; else returning once committed, the log drained by
    another thread); returns (actions done, start, end) with the clock started once every
    process is ready (``ready``, a barrier), so that start-up is not counted."""
    import threading

    from jejak.cases import Cases

    cases = Cases.open(home, url=url, schema=schema, auto_drain=wait)
    done = [0] * len(ids)
    errors: list[BaseException] = []

    def work(k: int, cid: str) -> None:
        try:
            version = None
            for i in range(n):
                who, action = (("rina", "comment"), ("tono", "note"))[(i + k) % 2]
                version = cases.act(cid, who, action, {"text": f"step {i}"}, version, view=False)[
                    "version"
                ]
                done[k] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k, cid)) for k, cid in enumerate(ids)]
    if ready is not None:
        ready.wait()
    began = time.time()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    ended = time.time()
    cases.close()
    if errors:
        raise errors[0]
    result = (sum(done), began, ended)
    if out is not None:
        out.put(result)
    return result


def concurrent(
    work: Path,
    n: int,
    url: str | None,
    schema: str | None,
    threads: int,
    processes: int,
    wait: bool = True,
    every: float = 0.05,
) -> tuple[float, int]:
    """``threads`` × ``processes`` people acting at once, ``n`` actions in all; returns
    (actions/s, log appends made). ``wait``: each action returns once its entry is in the log
    (group commit); else once committed, while a drain loop in this process appends what is
    pending every ``every`` seconds (``Cases.drain`` in a loop, as a sidecar would run it; 0:
    again as soon as one drain ends) and the clock stops when the last action is in the log."""
    import threading

    home = work / f"many-{uuid.uuid4().hex[:6]}"
    cases = _cases(home, url, schema)
    ids = []
    for k in range(threads * processes):
        case, _ = cases.create(
            {
                "complaint_id": f"TCK-M-{k:04d}",
                "msisdn": f"62811000{k:05d}",
                "opened_at": "2026-01-05T09:00:00+07:00",
                "disputed_amount": 100000,
            }
        )
        ids.append(case["case_id"])
    appends = len(cases.log.appends())
    per = max(1, n // len(ids))
    groups = [ids[p * threads : (p + 1) * threads] for p in range(processes)]
    stop = threading.Event()

    def drain_loop() -> None:
        while not stop.is_set():
            began = time.perf_counter()
            if not cases.drain() and not every:
                time.sleep(0.002)
            stop.wait(max(0.0, every - (time.perf_counter() - began)))

    ctx = multiprocessing.get_context("spawn")
    ready, out = ctx.Barrier(processes + 1), ctx.Queue()
    procs = [
        ctx.Process(target=_act_many, args=(home, url, schema, g, per, ready, out, wait))
        for g in groups
    ]
    for proc in procs:
        proc.start()
    drainer = None if wait else threading.Thread(target=drain_loop)
    ready.wait()
    if drainer is not None:
        drainer.start()
    results = [out.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join()
    stop.set()
    if drainer is not None:
        drainer.join()
    cases.drain()
    total = sum(r[0] for r in results)
    began = min(r[1] for r in results)
    took = (max(r[2] for r in results) if wait else time.time()) - began
    appends = len(cases.log.appends()) - appends
    for cid in ids:
        assert all(e["ledger_index"] is not None for e in cases.timeline(cid))
    cases.close()
    return total / took, appends


def _pg_schema(pg: str) -> tuple[str, str]:
    import psycopg

    schema = "jejak_bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(pg, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{schema}"')
    return pg.replace("postgresql://", "postgresql+psycopg://", 1), schema


def _drop(pg: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(pg, autocommit=True) as con:
        con.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--actions", type=int, default=5000)
    ap.add_argument("--samples", type=int, default=40)
    ap.add_argument(
        "--store-rows",
        type=int,
        default=10_000_000,
        help="synthetic events beside the seed for the case-open measure (0: the seed alone)",
    )
    ap.add_argument("--quick", action="store_true")
    ap.add_argument(
        "--only",
        choices=("actions", "sustained"),
        default=None,
        help="actions: the actions/s rows alone; sustained: only the rows with the log drained beside or every 100",
    )
    ap.add_argument(
        "--backends", default="SQLite,PostgreSQL", help="which databases (comma-separated)"
    )
    ap.add_argument(
        "--drain-every",
        type=float,
        default=0.05,
        help="seconds between the drain loop's appends when the log is drained beside (0: back to back)",
    )
    ap.add_argument("--work", type=Path, default=None)
    a = ap.parse_args()
    if a.quick:
        a.actions, a.samples, a.store_rows = 500, 20, 0
    from jejak.home import Home
    from jejak.settings import settings

    work = Path(tempfile.mkdtemp(prefix="jejak-bench-cases-", dir=a.work))
    results: dict[str, object] = {"actions": a.actions, "store_rows": a.store_rows}
    try:
        rows: list[tuple[str, str, float]] = []
        pg = settings().pg_url
        wanted = a.backends.split(",")
        backends: list[tuple[str, str | None]] = [("SQLite", None)] if "SQLite" in wanted else []
        try:
            if "PostgreSQL" in wanted:
                _drop(pg, _pg_schema(pg)[1])
                backends.append(("PostgreSQL", pg))
        except Exception as exc:  # no server: say so, measure SQLite alone
            print(f"(PostgreSQL not measured: {exc})")
        sustained = a.only == "sustained"

        def where(name: str) -> tuple[str | None, str | None]:
            if name == "SQLite":
                return None, None
            url, schema = _pg_schema(pg)
            made.append(schema)
            return url, schema

        made: list[str] = []
        for name, _ in backends:
            if not sustained:
                how = "one person, each action appended alone"
                rate = actions(work, min(a.actions, 1000), *where(name), 1)
                rows.append((name, how, rate))
                results[f"{name.lower()}_in_turn"] = rate
            for threads, processes in ((16, 1), (16, 2)):
                how = f"{threads * processes} people at once ({processes} process{'es' if processes > 1 else ''} × {threads} threads)"
                if not sustained:
                    rate, appends = concurrent(work, a.actions, *where(name), threads, processes)
                    rows.append(
                        (
                            name,
                            f"{how}, each waiting for its log entry; {appends:,} log appends",
                            rate,
                        )
                    )
                    results[f"{name.lower()}_{processes}x{threads}"] = rate
                rate, appends = concurrent(
                    work, a.actions, *where(name), threads, processes, False, a.drain_every
                )
                rows.append(
                    (name, f"{how}, the log drained beside them; {appends:,} log appends", rate)
                )
                results[f"{name.lower()}_{processes}x{threads}_drained"] = rate
            how = "one thread, log drained every 100 actions"
            rate = actions(work, a.actions, *where(name), 100)
            rows.append((name, how, rate))
            results[f"{name.lower()}_drain_every_100"] = rate
        for s in made:
            _drop(pg, s)

        if not a.only:  # the case opened among N events, a 200-entry timeline
            # opening the seed case with its evidence report, in the seed store or among N M events
            if a.store_rows:
                sys.path.insert(0, str(HERE))
                import bench_investigate

                data = a.work or HERE / "data"
                data.mkdir(parents=True, exist_ok=True)
                print(
                    f"building a store of {a.store_rows:,} rows plus the seed (once) ...",
                    flush=True,
                )
                seed_home = bench_investigate.build(data, a.store_rows)
                seed = Home(seed_home)
            else:
                seed_home = work / "seed"
                seed = Home(seed_home)
                seed.ingest([SEED_DIR])
                seed.refresh_alerts()  # what a deployment does after each ingest; reports read them
            if hasattr(seed, "refresh_lookups"):
                seed.refresh_lookups()
            opens = []
            first = None
            for i in range(a.samples + 1):
                from jejak.cases import Cases

                cases = Cases.open(
                    seed_home, url=f"sqlite:///{work}/open-{i}.db", store=seed.store, log=seed.log
                )
                t = time.perf_counter()
                cases.open_case("TCK-2017-0206-0001")
                took = (time.perf_counter() - t) * 1000
                cases.close()
                if i == 0:
                    first = took
                else:
                    opens.append(took)
            results["open_first_ms"] = first
            results["open_p50_ms"] = statistics.median(opens)
            results["open_p95_ms"] = p95(opens)

            # a 200-entry timeline
            home = work / "timeline"
            cases = _cases(home, None, None, auto_drain=False)
            case, _ = cases.create(
                {
                    "complaint_id": "TCK-B-T",
                    "msisdn": "6281100000078",
                    "opened_at": "2026-01-05T09:00:00+07:00",
                    "disputed_amount": 100000,
                }
            )
            cid = case["case_id"]
            while len(cases.timeline(cid)) < 200:
                cases.act(cid, "rina", "comment", {"text": "x" * 80}, view=False)
            cases.drain()
            reads = []
            for _ in range(a.samples * 5):
                t = time.perf_counter()
                tl = cases.timeline(cid)
                reads.append((time.perf_counter() - t) * 1000)
            assert len(tl) == 200
            cases.close()
            results["timeline200_p50_ms"] = statistics.median(reads)
            results["timeline200_p95_ms"] = p95(reads)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("| database | how | actions/s (target ≥ 1,000) |\n|---|---|---:|")
    for label, how, rate in rows:
        print(f"| {label} | {how} | {rate:,.0f} |")
    if a.only:
        return 0
    print()
    print("| measure | p50 | p95 | target |\n|---|---|---|---|")
    print(
        f"| open the seed case with its evidence report (SQLite, {a.store_rows:,} other events) | {results['open_p50_ms']:.0f} ms | "
        f"{results['open_p95_ms']:.0f} ms | p95 ≤ 300 ms |"
    )
    print(f"| first open (cold) | {results['open_first_ms']:.0f} ms | | |")
    print(
        f"| read a 200-entry timeline (SQLite) | {results['timeline200_p50_ms']:.1f} ms | "
        f"{results['timeline200_p95_ms']:.1f} ms | p95 ≤ 20 ms |"
    )
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "cases.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
