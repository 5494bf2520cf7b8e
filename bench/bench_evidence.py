"""Detection and verdict quality on jejak's simulator, background habits and all (issue 14).

For each size: simulate an operator (every scenario kind planted, the background's real habits
in it), ingest it, run detection, score the alerts against ``truth.jsonl`` (``jejak evaluate``:
recall of planted cases, precision at medium severity and above), then investigate every
complaint the truth knows and check its verdict (hypothesis and liability) and its refund: a
liable verdict refunds every disputed charge, a not-liable one refunds nothing; a bar over a
dispute is lifted and compensated.

    python bench/bench_evidence.py --subscribers 2000 20000 --out bench/out/evidence.md
    python bench/bench_evidence.py --quick          # 500 subscribers, 14 days: does it run

Prints the tables (markdown), and writes them to ``--out`` when given.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from jejak import Home
from jejak.detect import evaluate
from jejak.simulate import simulate


def complaint_verdicts(home: Home, truth: list[dict]) -> tuple[str, int, int]:
    """(markdown table, complaints, right) for every planted complaint."""
    rows: Counter[tuple[str, str]] = Counter()
    wrong: list[str] = []
    for case in truth:
        cid = case.get("complaint_id")
        if not cid:
            continue
        r = home.investigate(complaint_id=cid)
        want = case["verdict"]
        verdict_ok = (r.verdict.hypothesis, r.verdict.operator_liable) == (
            want["hypothesis"],
            want["operator_liable"],
        )
        disputed = set((r.complaint or {}).get("disputed_charge_ids") or [])
        if want["operator_liable"]:
            refund_ok = disputed <= set(r.remedy.charge_ids)
        else:
            refund_ok = r.remedy.refund == 0
        if case["kind"] == "bar_over_dispute":
            refund_ok = refund_ok and r.remedy.unbar and r.remedy.compensation > 0
        rows[(case["kind"], "complaints")] += 1
        rows[(case["kind"], "verdict")] += verdict_ok
        rows[(case["kind"], "refund")] += refund_ok
        if not (verdict_ok and refund_ok):
            wrong.append(f"{case['case_id']}: {r.verdict.hypothesis} {r.remedy.to_dict()}")
    kinds = sorted({k for k, _ in rows})
    lines = [
        "| scenario kind | complaints | verdict right | refund right |",
        "|---|---:|---:|---:|",
    ]
    for k in kinds:
        lines.append(
            f"| {k} | {rows[(k, 'complaints')]} | {rows[(k, 'verdict')]} | {rows[(k, 'refund')]} |"
        )
    total = sum(rows[(k, "complaints")] for k in kinds)
    right = sum(min(rows[(k, "verdict")], rows[(k, "refund")]) for k in kinds)
    lines.append(f"| **all** | {total} | | **{right} of {total} both right** |")
    for w in wrong:
        lines.append(f"\nwrong: {w}")
    return "\n".join(lines), total, right


def run(subscribers: int, days: int, seed: int, work: Path) -> str:
    export, home_dir = work / f"sim-{subscribers}", work / f"home-{subscribers}"
    t0 = time.perf_counter()
    simulate(export, subscribers=subscribers, days=days, seed=seed)
    t1 = time.perf_counter()
    home = Home(home_dir)
    home.ingest([export])
    t2 = time.perf_counter()
    home.refresh_alerts()
    t3 = time.perf_counter()
    report = evaluate(home.store, export / "truth.jsonl", run=False)
    truth = [json.loads(x) for x in (export / "truth.jsonl").read_text().splitlines() if x]
    verdicts, total, _right = complaint_verdicts(home, truth)
    t4 = time.perf_counter()
    home.close()
    return (
        f"### {subscribers:,} subscribers × {days} days, seed {seed}\n\n"
        f"simulate {t1 - t0:.1f} s, ingest {t2 - t1:.1f} s, detect {t3 - t2:.1f} s, "
        f"evaluate and investigate {total} complaints {t4 - t3:.1f} s\n\n"
        f"{report.markdown()}\n\n{verdicts}\n"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subscribers", type=int, nargs="+", default=[2000, 20000])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--quick", action="store_true", help="500 subscribers, 14 days")
    args = ap.parse_args()
    if args.quick:
        args.subscribers, args.days = [500], 14
    parts = []
    with tempfile.TemporaryDirectory(prefix="jejak-evidence-") as tmp:
        for n in args.subscribers:
            parts.append(run(n, args.days, args.seed, Path(tmp)))
            print(parts[-1], flush=True)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(parts), encoding="utf-8")


if __name__ == "__main__":
    main()
