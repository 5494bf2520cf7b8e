"""``jejak demo``: the whole job in one command, on a simulated operator with the seed case in it.

:func:`run_demo` simulates an operator (:func:`jejak.simulate.simulate`: every
planted scenario kind, the seed case among them) into ``<home>/demo-export``,
ingests it, runs detection, and makes the seed complaint's evidence report,
with its HTML page in English and Indonesian under ``<home>/reports/``.

**Re-running.** ``<home>/demo.json`` records what the demo built (subscribers,
seed, days). Run again with the same parameters, the demo reuses the store
(the simulation is deterministic and ingest is idempotent, so it only checks
that nothing is new) and re-runs detection and the report. With other
parameters it removes what it built before (the export, store, alerts and
reports) and rebuilds. A home that holds data the demo did not build is
refused, never overwritten.

Example::

    >>> result = run_demo(Path("./jejak-data"), subscribers=2000, seed=1)   # doctest: +SKIP
    >>> result.report.verdict.hypothesis                                     # doctest: +SKIP
    'credential_misuse'
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jejak.errors import NotFoundError, UsageError
from jejak.home import Home
from jejak.investigate import Report
from jejak.investigate.render_html import report_path, write_html
from jejak.store import Store

Progress = Callable[[str, int, int], None]
MARKER = "demo.json"
EXPORT = "demo-export"
#: what the demo writes under its home, removed before a rebuild
BUILT = (EXPORT, "store", "alerts", "reports", "cases")
DAYS = 30


@dataclass
class DemoResult:
    """What one demo run built and found."""

    home: Path
    report: Report
    html: dict[str, Path]
    records: int
    alerts: int
    cases: int
    reused: bool
    seconds: dict[str, float] = field(default_factory=dict)


def _prepare(home: Path, params: dict[str, Any]) -> bool:
    """True when ``home`` already holds this very demo; clears an older demo; refuses other data."""
    marker = home / MARKER
    if marker.exists():
        try:
            old = json.loads(marker.read_text(encoding="utf-8"))
        except ValueError:
            old = None
        if old == params and (home / EXPORT / "truth.jsonl").exists() and Store(home).exists:
            return True
        for name in BUILT:
            shutil.rmtree(home / name, ignore_errors=True)
        marker.unlink()
        return False
    if Store(home).exists:
        raise UsageError(
            str(home),
            "holds an operator's data that the demo did not build; give the demo another --home",
        )
    return False


def run_demo(
    home: Path, *, subscribers: int = 2000, seed: int = 1, progress: Progress | None = None
) -> DemoResult:
    """Simulate, ingest, detect and investigate the seed complaint under ``home``."""
    try:
        from jejak.simulate import simulate
    except ImportError as exc:  # pragma: no cover - the simulator ships with jejak
        raise NotFoundError("jejak.simulate", f"the simulator is not installed: {exc}") from None
    if subscribers < 1:
        raise UsageError("--subscribers", "must be at least 1")
    params = {"subscribers": subscribers, "seed": seed, "days": DAYS}
    home.mkdir(parents=True, exist_ok=True)
    reused = _prepare(home, params)
    seconds: dict[str, float] = {}
    export = home / EXPORT
    where = Home(home)
    store = where.store

    t = time.perf_counter()
    if not reused:
        simulate(export, subscribers=subscribers, days=DAYS, seed=seed, progress=progress)
    truth = [
        json.loads(line)
        for line in (export / "truth.jsonl").read_text(encoding="utf-8").splitlines()
        if line
    ]
    seconds["simulate"] = time.perf_counter() - t

    t = time.perf_counter()
    ingested = where.ingest([export], progress=progress)
    if ingested.quarantined:
        raise UsageError(str(export), f"{ingested.quarantined} simulated row(s) were quarantined")
    (home / MARKER).write_text(json.dumps(params), encoding="utf-8")
    seconds["ingest"] = time.perf_counter() - t

    t = time.perf_counter()
    found = where.refresh_alerts(progress=progress)
    seconds["detect"] = time.perf_counter() - t

    t = time.perf_counter()
    where.refresh_lookups()
    seed_case = next((c for c in truth if c["kind"] == "seed-2016"), None)
    if seed_case is None:
        raise NotFoundError(str(export), "the simulated operator holds no seed case")
    report = where.investigate(seed_case["msisdns"][0], complaint_id=seed_case.get("complaint_id"))
    html = {
        lang: write_html(report, report_path(home, report, lang), lang) for lang in ("en", "id")
    }
    seconds["investigate"] = time.perf_counter() - t
    records = sum(int(b["rows"].get(k, 0)) for b in store.manifest()["batches"] for k in b["rows"])
    return DemoResult(
        home=home,
        report=report,
        html=html,
        records=records,
        alerts=len(found.alerts),
        cases=len(truth),
        reused=reused,
        seconds=seconds,
    )


#: the workbench accounts the demo makes (fictional names), one per role that works cases
DEMO_STAFF = (
    ("demo-cs", "cs"),
    ("demo-investigator", "investigator"),
    ("demo-supervisor", "supervisor"),
    ("demo-supervisor-2", "supervisor"),
    ("demo-auditor", "auditor"),
)


def demo_accounts(home: Path, complaint_id: str | None) -> list[tuple[str, str, str, str]]:
    """Open the seed complaint's case and make the demo's staff accounts (password and TOTP).

    Returns ``(name, role, password, totp secret)`` for each account made now — the only time
    its password is known — and nothing for accounts an earlier run made.
    """
    import secrets

    from jejak.auth.service import enroll_totp, set_password
    from jejak.cases.service import Cases
    from jejak.cases.users import add_user, list_users

    cases = Cases.open(home)
    try:
        if complaint_id:
            cases.open_case(complaint_id)
        have = {u.name for u in list_users(cases.db)}
        made = []
        for name, role in DEMO_STAFF:
            if name in have:
                continue
            add_user(cases.db, name, role)
            password = secrets.token_urlsafe(12)
            set_password(cases.db, name, password)
            made.append((name, role, password, enroll_totp(cases.db, name)))
        return made
    finally:
        cases.close()
