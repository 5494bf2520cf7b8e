"""Benchmark of the dispute workflow: case actions per second with the log, opening a case with
its evidence report, reading a 200-entry timeline.

- **actions/s, sustained, with the log**: one case, N actions (comment and note alternating,
  each its own transaction with its timeline entry, ledger outbox row and customer message),
  on SQLite and on PostgreSQL, two ways: the log drained after every action (one signed log
  append per action: what the CLI and a single API request do) and drained once per 100 actions
  (a group commit: what a busy server's drain loop does). Every action is in the log at the end
  either way; the figure counts both the actions and the drains.
- **case open p95**: ``open_case`` of the seed complaint on the seed store: the evidence report
  made, its JSON stored and hashed, the case, hold, entries and message written, the log
  drained; each sample in a fresh case database (the same complaint gives the same case), after
  the alerts and lookup files were refreshed as after an ingest. The first open (cold caches) is
  shown apart.
- **timeline read p95**: ``timeline(case_id)`` (the customer's view) of a case with 200 entries.

    python bench/bench_cases.py            # 5,000 actions per run
    python bench/bench_cases.py --quick    # 500

Writes ``bench/out/cases.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

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
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--work", type=Path, default=None)
    a = ap.parse_args()
    if a.quick:
        a.actions, a.samples = 500, 20
    from jejak.home import Home
    from jejak.settings import settings

    work = Path(tempfile.mkdtemp(prefix="jejak-bench-cases-", dir=a.work))
    results: dict[str, object] = {"actions": a.actions}
    try:
        rows = []
        backends: list[tuple[str, str | None, str | None]] = [("SQLite", None, None)]
        pg = settings().pg_url
        made: list[str] = []
        try:
            for every in (1, 100):
                url, schema = _pg_schema(pg)
                made.append(schema)
                backends.append((f"PostgreSQL#{every}", url, schema))
        except Exception as exc:  # no server: say so, measure SQLite alone
            print(f"(PostgreSQL not measured: {exc})")
        for every in (1, 100):
            for name, url, schema in backends:
                if name.startswith("PostgreSQL") and not name.endswith(f"#{every}"):
                    continue
                rate = actions(work, a.actions, url, schema, every)
                label = name.split("#")[0]
                rows.append((label, every, rate))
                results[f"{label.lower()}_drain_every_{every}"] = rate
        for s in made:
            _drop(pg, s)

        # opening the seed case with its evidence report
        seed_home = work / "seed"
        seed = Home(seed_home)
        seed.ingest([SEED_DIR])
        seed.refresh_alerts()  # what a deployment does after each ingest; reports read them
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

    print("| database | log drained every | actions/s (target ≥ 1,000) |\n|---|---|---|")
    for label, every, rate in rows:
        print(f"| {label} | {every} action{'s' if every > 1 else ''} | {rate:,.0f} |")
    print()
    print("| measure | p50 | p95 | target |\n|---|---|---|---|")
    print(
        f"| open the seed case with its evidence report (SQLite) | {results['open_p50_ms']:.0f} ms | "
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
