"""Alerts: the format of ``shared/spec/outputs.md``, stable ids, and their storage.

An alert id is ``AL-`` + the first 16 hex digits of
``sha256(rule id | rule version | sorted evidence record ids)``: the same finding
on the same data gets the same id on every run and on every engine.

Stored under ``<home>/alerts/``:

- ``alerts.parquet`` — the alerts of the latest run (replaced atomically: write a
  temporary file, fsync, ``os.replace``);
- ``runs.jsonl`` — one line per detection run (when, engine, rules and versions,
  counts), appended.

Example::

    >>> a = Alert(rule="JJK-007", version="1", severity="high", at=None, agent_id="16009045",
    ...           msisdn="6281100000001", outlet_id="SRG", record_ids=["EV0000170"],
    ...           explanation="x")
    >>> a.alert_id
    'AL-64ca9f3824220a0d'
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from jejak import fsio
from jejak.detect.pack import SEVERITIES, severity_rank
from jejak.errors import UsageError
from jejak.numbers import maybe_msisdn
from jejak.sqlq import literal
from jejak.store import Store

ALERTS_DIR = "alerts"
ALERTS_FILE = "alerts.parquet"
RUNS_FILE = "runs.jsonl"


def alert_id(rule: str, version: str, record_ids: list[str]) -> str:
    """The stable id of a finding."""
    text = "|".join([rule, version, *sorted(record_ids)])
    return "AL-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def split_ids(value: Any) -> list[str]:
    """Record ids from a rule's ``record_ids`` (``;``-joined text or a list): unique, sorted."""
    if value is None:
        return []
    parts = value if isinstance(value, list | tuple) else str(value).split(";")
    return sorted({p.strip() for p in parts if p and p.strip()})


@dataclass
class Alert:
    """One finding of one rule."""

    rule: str
    version: str
    severity: str
    at: datetime | None
    agent_id: str | None
    msisdn: str | None
    outlet_id: str | None
    record_ids: list[str]
    explanation: str
    title: str = ""
    score: float | None = None
    features: list[dict[str, Any]] = field(default_factory=list)
    suppressed_by: str | None = None

    @cached_property
    def alert_id(self) -> str:
        """The stable id of the finding (computed once: rule, version and evidence are fixed
        when the alert is made)."""
        return alert_id(self.rule, self.version, self.record_ids)

    def to_dict(self) -> dict[str, Any]:
        """The alert as outputs.md defines it (plus title, version, score, features, suppressed_by)."""
        return {
            "alert_id": self.alert_id,
            "rule": self.rule,
            "severity": self.severity,
            "at": self.at.astimezone(UTC).isoformat() if self.at else None,
            "agent_id": self.agent_id,
            "msisdn": self.msisdn,
            "outlet_id": self.outlet_id,
            "record_ids": list(self.record_ids),
            "explanation": self.explanation,
            "title": self.title,
            "version": self.version,
            "score": self.score,
            "features": self.features,
            "suppressed_by": self.suppressed_by,
        }


SCHEMA = pa.schema(
    [
        ("alert_id", pa.string()),
        ("rule", pa.string()),
        ("version", pa.string()),
        ("severity", pa.string()),
        ("at", pa.timestamp("us", tz="UTC")),
        ("agent_id", pa.string()),
        ("msisdn", pa.string()),
        ("outlet_id", pa.string()),
        ("record_ids", pa.list_(pa.string())),
        ("explanation", pa.string()),
        ("title", pa.string()),
        ("score", pa.float64()),
        ("features", pa.string()),  # JSON
        ("suppressed_by", pa.string()),
    ]
)


def alerts_dir(store: Store) -> Path:
    return store.home / ALERTS_DIR


def alerts_current(store: Store) -> bool:
    """Whether stored alerts exist and are newer than the store's latest batch."""
    path = alerts_dir(store) / ALERTS_FILE
    if not path.exists():
        return False
    try:
        return path.stat().st_mtime_ns >= store.manifest_path.stat().st_mtime_ns
    except FileNotFoundError:
        return True


def forget_subscriber(store: Store, msisdn: str) -> None:
    """Rewrite the stored alerts without those about ``msisdn`` (erasure; writer lock held)."""
    path = alerts_dir(store) / ALERTS_FILE
    if not path.exists():
        return
    tmp = path.with_name(path.name + ".erase.tmp")
    con = duckdb.connect()
    try:
        con.execute(
            f"COPY (SELECT * FROM read_parquet({literal(path)}) WHERE msisdn IS DISTINCT FROM ?) "
            f"TO {literal(tmp)} (FORMAT parquet)",
            [msisdn],
        )
    finally:
        con.close()
    fsio.replace(tmp, path)


def alerts_table(alerts: list[Alert]) -> pa.Table:
    """Alerts as a typed Arrow table (:data:`SCHEMA`)."""
    rows = []
    for a in alerts:
        d = a.to_dict()
        d["at"] = a.at
        d["features"] = json.dumps(a.features)
        rows.append(d)
    return pa.Table.from_pylist(rows, SCHEMA)


def save_alerts(store: Store, alerts: list[Alert], run: dict[str, Any]) -> Path:
    """Replace the stored alerts atomically and append the run record."""
    save_alerts_table(store, alerts_table(alerts), run)
    return alerts_dir(store) / ALERTS_FILE


def save_alerts_table(store: Store, table: pa.Table, run: dict[str, Any]) -> str:
    """Replace the stored alerts with ``table`` (:data:`SCHEMA`) atomically, append the run
    record; returns the SHA-256 of the file written (what incremental detection checks)."""
    folder = alerts_dir(store)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / ALERTS_FILE
    tmp = fsio.temp_beside(target)  # a name of its own: another detect may be writing too
    try:
        pq.write_table(table.cast(SCHEMA), tmp)
        digest = file_sha256(tmp)
        fsio.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    fsio.append_line(folder / RUNS_FILE, json.dumps(run, sort_keys=True, default=str))
    return digest


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _parse_time(value: str | datetime | None, where: str, end: bool) -> datetime | None:
    """A ``--since``/``--until`` bound: ISO 8601 with offset, or a date (its start or end, UTC)."""
    if value is None or isinstance(value, datetime):
        if isinstance(value, datetime) and value.tzinfo is None:
            raise UsageError(where, f"{value.isoformat()} has no UTC offset")
        return value
    text = value.strip()
    try:
        if len(text) == 10:
            d = datetime.fromisoformat(text).replace(tzinfo=UTC)
            return d.replace(hour=23, minute=59, second=59, microsecond=999999) if end else d
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(where, f"{value!r} is not a date or an ISO 8601 timestamp") from None
    if t.tzinfo is None:
        raise UsageError(where, f"{value!r} has no UTC offset (e.g. 2016-07-18T21:00:00+07:00)")
    return t


#: what ``jejak alerts --by`` groups on
GROUPS = ("rule", "agent_id", "outlet_id", "msisdn", "severity")


def stored_alerts_table(
    store: Store,
    *,
    msisdn: str | None = None,
    agent_id: str | None = None,
    outlet_id: str | None = None,
    rules: list[str] | None = None,
    severities: list[str] | None = None,
    min_severity: str | None = None,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    include_suppressed: bool = True,
) -> pa.Table:
    """The stored alerts (of ``detect``'s latest runs) that pass every filter given, as a typed
    Arrow table (:data:`SCHEMA`: ``at`` a UTC timestamp, ``record_ids`` a list), in time order.

    ``msisdn`` is normalised (:func:`jejak.numbers.msisdn`); ``rules`` and ``severities`` are
    exact; ``since``/``until`` bound ``at`` (inclusive). Empty when detection has not run yet.
    """
    for sev in [*(severities or []), *([min_severity] if min_severity else [])]:
        if sev not in SEVERITIES:
            raise UsageError(
                "--severity", f"unknown severity {sev!r} (choose from: {', '.join(SEVERITIES)})"
            )
    number = maybe_msisdn(msisdn, where="--msisdn")
    start = _parse_time(since, "--since", end=False)
    stop = _parse_time(until, "--until", end=True)
    path = alerts_dir(store) / ALERTS_FILE
    if not path.exists():
        return SCHEMA.empty_table()
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    for column, value in (("msisdn", number), ("agent_id", agent_id), ("outlet_id", outlet_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if rules:
        where.append(f"rule IN ({', '.join('?' for _ in rules)})")
        params.extend(rules)
    if severities:
        where.append(f"severity IN ({', '.join('?' for _ in severities)})")
        params.extend(severities)
    if min_severity:
        keep = [s for s in SEVERITIES if severity_rank(s) >= severity_rank(min_severity)]
        where.append(f"severity IN ({', '.join('?' for _ in keep)})")
        params.extend(keep)
    if start is not None:
        where.append('"at" >= ?')
        params.append(start)
    if stop is not None:
        where.append('"at" <= ?')
        params.append(stop)
    if not include_suppressed:
        where.append("suppressed_by IS NULL")
    con = store.con.cursor()  # the store's shared connection: a cursor costs microseconds
    try:
        table = con.sql(
            f"SELECT * FROM read_parquet({literal(path)}) WHERE {' AND '.join(where)} "
            'ORDER BY "at" NULLS FIRST, rule, alert_id',
            params=params,
        ).to_arrow_table()
    finally:
        con.close()
    return table.cast(SCHEMA)


def rows_of(table: pa.Table) -> list[dict[str, Any]]:
    """A stored-alerts Arrow table as outputs.md dicts (``at`` ISO 8601 UTC, ``features`` parsed)."""
    out = []
    for row in table.to_pylist():
        row["at"] = row["at"].astimezone(UTC).isoformat() if row["at"] else None
        row["features"] = json.loads(row["features"]) if row["features"] else []
        out.append(row)
    return out


def load_alerts(
    store: Store,
    *,
    msisdn: str | None = None,
    agent_id: str | None = None,
    min_severity: str | None = None,
    include_suppressed: bool = True,
    **filters: Any,
) -> list[dict[str, Any]]:
    """The stored alerts (of the latest ``detect`` runs) as outputs.md dicts, filtered (the
    filters of :func:`stored_alerts_table`).

    Returns ``[]`` when detection has not run yet.
    """
    return rows_of(
        stored_alerts_table(
            store,
            msisdn=msisdn,
            agent_id=agent_id,
            min_severity=min_severity,
            include_suppressed=include_suppressed,
            **filters,
        )
    )


def group_alerts(rows: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """Counts of ``rows`` per value of ``by`` (one of :data:`GROUPS`), most first: the value,
    ``alerts``, one count per severity, ``suppressed``, and the first and last ``at``."""
    if by not in GROUPS:
        raise UsageError("--by", f"cannot group by {by!r} (choose from: {', '.join(GROUPS)})")
    groups: dict[Any, dict[str, Any]] = {}
    for r in rows:
        key = r.get(by)
        g = groups.setdefault(
            key,
            {
                by: key,
                "alerts": 0,
                **dict.fromkeys(reversed(SEVERITIES), 0),
                "suppressed": 0,
                "first": None,
                "last": None,
            },
        )
        g["alerts"] += 1
        g[r["severity"]] += 1
        g["suppressed"] += 1 if r.get("suppressed_by") else 0
        at = r.get("at")
        if at:
            g["first"] = min(g["first"] or at, at)
            g["last"] = max(g["last"] or at, at)
    return sorted(groups.values(), key=lambda g: (-g["alerts"], str(g[by] or "")))


def merge_runs(stored: list[Alert], fresh: list[Alert], rules: set[str]) -> list[Alert]:
    """The alert set after a run of only ``rules``: the stored alerts of every other rule, and
    the fresh alerts of those rules (a partial run adds to the stored set, never empties it)."""
    kept = [a for a in stored if a.rule not in rules]
    return [*kept, *fresh]


def stored_alerts(store: Store) -> list[Alert]:
    """The stored alerts as :class:`Alert` objects (to merge a partial run into)."""
    return alerts_of(stored_alerts_table(store))


def alerts_of(table: pa.Table) -> list[Alert]:
    """Stored-alert rows (:data:`SCHEMA`) as :class:`Alert` objects."""
    out = []
    for r in rows_of(table):
        out.append(
            Alert(
                rule=r["rule"],
                version=r["version"],
                severity=r["severity"],
                at=datetime.fromisoformat(r["at"]) if r["at"] else None,
                agent_id=r["agent_id"],
                msisdn=r["msisdn"],
                outlet_id=r["outlet_id"],
                record_ids=list(r["record_ids"] or []),
                explanation=r["explanation"],
                title=r["title"] or "",
                score=r["score"],
                features=r["features"],
                suppressed_by=r["suppressed_by"],
            )
        )
    return out
