"""The alert queue: filter and sort the stored alerts, triage them, link them to cases, export them.

Triage is a decision about an alert — ``true_positive``, ``benign`` or ``duplicate`` — with the
person who made it, when, and an optional note; a link ties an alert to a case. Both are lines
of ``<home>/alerts/triage.jsonl``: appended under the store's writer lock, never edited, the
latest line about an alert wins, and each line is committed to the transparency log like a
suppression (:data:`LINE_SOURCE`, source ``triage``, registered by :class:`jejak.Home`), so
``jejak ledger verify`` names a decision that was edited or removed.

The queue is one DuckDB query over ``alerts/alerts.parquet`` (the latest ``detect`` run), so it
answers in milliseconds for tens of thousands of alerts, in any worker.

Example::

    >>> q = queue(store, Filters(severity="critical", status="open"))   # doctest: +SKIP
    >>> triage(store, [q.alerts[0]["alert_id"]], "true_positive", actor="sari")  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from jejak import fsio
from jejak.audit.lines import LineSource, pending_path
from jejak.detect.alerts import ALERTS_DIR, ALERTS_FILE, alerts_dir
from jejak.detect.pack import SEVERITIES
from jejak.errors import NotFoundError, StoreLockedError, UsageError
from jejak.schema import KINDS
from jejak.store import Store

REASONS = ("true_positive", "benign", "duplicate")
STATUSES = ("open", "triaged", "all")
FORMATS = {
    "csv": "text/csv",
    "jsonl": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
}
#: sort key -> SQL expression
SORTS = {
    "at": '"at"',
    "severity": "sev_rank",
    "rule": "rule",
    "outlet": "outlet_id",
    "user": "agent_id",
    "msisdn": "msisdn",
}
TRIAGE_FILE = "triage.jsonl"
#: the triage file as a line source of the transparency log (the name is in the log)
LINE_SOURCE = LineSource("triage", Path(ALERTS_DIR) / TRIAGE_FILE)
MAX_BATCH = 500
COLUMNS = (
    "alert_id",
    "rule",
    "severity",
    "at",
    "agent_id",
    "msisdn",
    "outlet_id",
    "record_ids",
    "explanation",
    "title",
    "suppressed_by",
)
_QUOTED = ", ".join(f'"{c}"' for c in COLUMNS)


@dataclass
class Filters:
    """What the queue shows: every field optional; dates are inclusive, in UTC days."""

    rule: str | None = None
    severity: str | None = None
    outlet_id: str | None = None
    agent_id: str | None = None
    msisdn: str | None = None
    since: date | None = None
    until: date | None = None
    status: str = "open"
    sort: str = "at"
    desc: bool = True
    limit: int = 50
    offset: int = 0

    def check(self) -> Filters:
        if self.severity and self.severity not in SEVERITIES:
            raise UsageError("severity", f"one of {', '.join(SEVERITIES)}")
        if self.status not in STATUSES:
            raise UsageError("status", f"one of {', '.join(STATUSES)}")
        if self.sort not in SORTS:
            raise UsageError("sort", f"one of {', '.join(SORTS)}")
        if not 1 <= self.limit <= 10_000 or self.offset < 0:
            raise UsageError("limit", "1 to 10000, and offset 0 or more")
        return self


@dataclass
class Queue:
    total: int
    alerts: list[dict[str, Any]] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ triage state


def triage_path(store: Store) -> Path:
    return alerts_dir(store) / TRIAGE_FILE


def history(store: Store) -> list[dict[str, Any]]:
    """Every triage and link line, oldest first."""
    try:
        data = triage_path(store).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    # a last line without its newline is still being written
    return [json.loads(line) for line in data.split("\n")[:-1] if line.strip()]


def state(store: Store) -> dict[str, dict[str, Any]]:
    """alert_id -> ``{reason, by, at, note, case_ids}``: the latest triage and every linked case."""
    out: dict[str, dict[str, Any]] = {}
    for h in history(store):
        s = out.setdefault(h["alert_id"], {"reason": None, "by": None, "at": None, "case_ids": []})
        if h["kind"] == "triage":
            s.update(reason=h["reason"], by=h["by"], at=h["at"], note=h.get("note"))
        elif h["kind"] == "link" and h["case_id"] not in s["case_ids"]:
            s["case_ids"].append(h["case_id"])
    return out


def _append(store: Store, lines: list[dict[str, Any]], *, wait: float = 10.0) -> None:
    """Append under the store's one-writer lock, then run its commit hooks, which commit the
    lines to the log (``jejak.Home`` registers :data:`LINE_SOURCE`). Another writer (an ingest,
    a second worker's triage) is waited for, up to ``wait`` seconds."""
    folder = alerts_dir(store)
    folder.mkdir(parents=True, exist_ok=True)
    text = "\n".join(json.dumps(x, sort_keys=True, ensure_ascii=False) for x in lines)
    deadline = time.monotonic() + wait
    while True:
        try:
            with store.writer():
                # the log first, then the file (see jejak.audit.lines.add_line)
                fsio.append_line(pending_path(store.home, LINE_SOURCE), text)
                store.run_commit_hooks()
            return
        except StoreLockedError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def _known(store: Store, alert_ids: list[str]) -> None:
    path = alerts_dir(store) / ALERTS_FILE
    if not path.exists():
        raise NotFoundError("alerts", "detection has not run yet")
    con = store.con.cursor()  # the store's shared connection: a cursor costs microseconds
    try:
        found = {
            r[0]
            for r in con.execute(
                f"SELECT alert_id FROM read_parquet({_lit(path)}) WHERE list_contains(?, alert_id)",
                [alert_ids],
            ).fetchall()
        }
    finally:
        con.close()
    missing = [a for a in alert_ids if a not in found]
    if missing:
        raise NotFoundError(missing[0], "no such alert in the latest detection run")


def triage(
    store: Store,
    alert_ids: list[str],
    reason: str,
    *,
    actor: str,
    note: str | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Record ``reason`` for each alert (one line each) and commit the lines to the log."""
    if reason not in REASONS:
        raise UsageError("reason", f"one of {', '.join(REASONS)}")
    ids = list(dict.fromkeys(a.strip() for a in alert_ids if a and a.strip()))
    if not ids:
        raise UsageError("alert_ids", "choose at least one alert")
    if len(ids) > MAX_BATCH:
        raise UsageError("alert_ids", f"at most {MAX_BATCH} alerts at once")
    _known(store, ids)
    at = (now or datetime.now(UTC)).isoformat()
    note = (note or "").strip()[:2000] or None
    lines = [
        {"kind": "triage", "alert_id": a, "reason": reason, "by": actor, "at": at, "note": note}
        for a in ids
    ]
    _append(store, lines)
    return lines


def link(
    store: Store, alert_id: str, case_id: str, *, actor: str, now: datetime | None = None
) -> dict[str, Any]:
    """Tie an alert to a case (the caller has checked that the case exists)."""
    if not case_id.strip():
        raise UsageError("case_id", "name the case")
    _known(store, [alert_id])
    line = {
        "kind": "link",
        "alert_id": alert_id,
        "case_id": case_id.strip(),
        "by": actor,
        "at": (now or datetime.now(UTC)).isoformat(),
    }
    _append(store, [line])
    return line


# ------------------------------------------------------------------ the queue


def _lit(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _where(f: Filters, st: dict[str, dict[str, Any]]) -> tuple[str, list[Any]]:
    conds: list[str] = ["TRUE"]
    params: list[Any] = []
    for col, value in (
        ("rule", f.rule),
        ("severity", f.severity),
        ("outlet_id", f.outlet_id),
        ("agent_id", f.agent_id),
        ("msisdn", f.msisdn),
    ):
        if value:
            conds.append(f"{col} = ?")
            params.append(value)
    if f.since:
        conds.append('"at" >= CAST(? AS TIMESTAMPTZ)')
        params.append(datetime.combine(f.since, datetime.min.time(), UTC))
    if f.until:
        conds.append('"at" < CAST(? AS TIMESTAMPTZ) + INTERVAL 1 DAY')
        params.append(datetime.combine(f.until, datetime.min.time(), UTC))
    done = [a for a, s in st.items() if s["reason"]]
    if f.status == "open":
        conds.append("NOT list_contains(?, alert_id)")
        params.append(done)
    elif f.status == "triaged":
        conds.append("list_contains(?, alert_id)")
        params.append(done)
    return " AND ".join(conds), params


def _select(path: Path) -> str:
    ranks = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(SEVERITIES))
    return (
        f"SELECT *, CASE severity {ranks} ELSE -1 END AS sev_rank FROM read_parquet({_lit(path)})"
    )


def queue(store: Store, f: Filters) -> Queue:
    """One page of the alert queue, each alert with its triage state."""
    f.check()
    path = alerts_dir(store) / ALERTS_FILE
    if not path.exists():
        return Queue(0)
    st = state(store)
    where, params = _where(f, st)
    con = store.con.cursor()  # the store's shared connection: a cursor costs microseconds
    try:
        base = f"FROM ({_select(path)}) WHERE {where}"
        total = con.execute(f"SELECT count(*) {base}", params).fetchone()[0]  # type: ignore[index]
        order = f"{SORTS[f.sort]} {'DESC' if f.desc else 'ASC'} NULLS LAST, alert_id"
        cur = con.execute(
            f"SELECT {_QUOTED} {base} ORDER BY {order} LIMIT {int(f.limit)} OFFSET {int(f.offset)}",
            params,
        )
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        rules = [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT rule FROM read_parquet({_lit(path)}) ORDER BY 1"
            ).fetchall()
        ]
    finally:
        con.close()
    for r in rows:
        r["triage"] = st.get(r["alert_id"])
    return Queue(total, rows, rules)


def alert(store: Store, alert_id: str) -> dict[str, Any]:
    """One alert with the records it rests on and its triage history."""
    path = alerts_dir(store) / ALERTS_FILE
    if not path.exists():
        raise NotFoundError(alert_id, "detection has not run yet")
    con = store.con.cursor()  # the store's shared connection: a cursor costs microseconds
    try:
        cur = con.execute(
            f"SELECT * FROM read_parquet({_lit(path)}) WHERE alert_id = ?", [alert_id]
        )
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
    finally:
        con.close()
    if row is None:
        raise NotFoundError(alert_id, "no such alert in the latest detection run")
    a = dict(zip(names, row, strict=True))
    a["features"] = json.loads(a["features"]) if a.get("features") else []
    a["evidence"] = evidence(store, list(a["record_ids"] or []))
    a["history"] = [h for h in history(store) if h["alert_id"] == alert_id]
    return a


def evidence(store: Store, record_ids: list[str]) -> list[dict[str, Any]]:
    """The stored records named by ``record_ids``, each as ``{kind, record_id, record}``."""
    if not record_ids or not store.exists:
        return []
    found: dict[str, dict[str, Any]] = {}
    for name, kind in KINDS.items():
        if len(kind.key) != 1 or not store.files(name):
            continue
        key = kind.key[0]
        for rec in store.sql(f'SELECT * FROM {name} WHERE list_contains(?, "{key}")', [record_ids]):
            found.setdefault(
                str(rec[key]), {"kind": name, "record_id": str(rec[key]), "record": rec}
            )
    return [found[r] for r in record_ids if r in found] + [
        {"kind": None, "record_id": r, "record": None} for r in record_ids if r not in found
    ]


def export(store: Store, f: Filters, fmt: str) -> bytes:
    """Every alert the filters select (no paging), as CSV, JSON Lines or Parquet."""
    if fmt not in FORMATS:
        raise UsageError("format", f"one of {', '.join(FORMATS)}")
    f = Filters(**{**f.__dict__, "limit": 10_000, "offset": 0})
    rows: list[dict[str, Any]] = []
    while True:
        page = queue(store, f)
        rows += page.alerts
        if len(page.alerts) < f.limit:
            break
        f.offset += f.limit
    for r in rows:
        t = r.pop("triage") or {}
        r["triage_reason"] = t.get("reason")
        r["case_ids"] = list(t.get("case_ids") or [])
        r["at"] = r["at"].astimezone(UTC).isoformat() if r["at"] else None
        r["record_ids"] = list(r["record_ids"] or [])
    if fmt == "jsonl":
        return "".join(
            json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows
        ).encode()
    if fmt == "parquet":
        table = pa.Table.from_pylist(rows) if rows else pa.table({c: [] for c in COLUMNS})
        buf = io.BytesIO()
        pq.write_table(table, buf)
        return buf.getvalue()
    out = io.StringIO()
    names = [*COLUMNS, "triage_reason", "case_ids"]
    w = csv.DictWriter(out, fieldnames=names, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: _cell(r.get(k)) for k in names})
    return out.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    """A CSV cell; a text that a spreadsheet would run as a formula gets a leading apostrophe
    (OWASP "CSV injection")."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = ";".join(map(str, value))
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
