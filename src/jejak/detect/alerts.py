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
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from jejak import fsio
from jejak.detect.pack import SEVERITIES, severity_rank
from jejak.errors import UsageError
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

    @property
    def alert_id(self) -> str:
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


def save_alerts(store: Store, alerts: list[Alert], run: dict[str, Any]) -> Path:
    """Replace the stored alerts atomically and append the run record."""
    folder = alerts_dir(store)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for a in alerts:
        d = a.to_dict()
        d["at"] = a.at
        d["features"] = json.dumps(a.features)
        rows.append(d)
    table = pa.Table.from_pylist(rows, SCHEMA)
    target = folder / ALERTS_FILE
    tmp = fsio.temp_beside(target)  # a name of its own: another detect may be writing too
    try:
        pq.write_table(table, tmp)
        fsio.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    fsio.append_line(folder / RUNS_FILE, json.dumps(run, sort_keys=True, default=str))
    return target


def load_alerts(
    store: Store,
    *,
    msisdn: str | None = None,
    agent_id: str | None = None,
    min_severity: str | None = None,
    include_suppressed: bool = True,
) -> list[dict[str, Any]]:
    """The stored alerts (of the latest ``detect`` run) as outputs.md dicts, filtered.

    Returns ``[]`` when detection has not run yet.
    """
    if min_severity is not None and min_severity not in SEVERITIES:
        raise UsageError("--min-severity", f"unknown severity {min_severity!r}")
    path = alerts_dir(store) / ALERTS_FILE
    if not path.exists():
        return []
    out = []
    for row in pq.read_table(path).to_pylist():
        if msisdn is not None and row["msisdn"] != msisdn:
            continue
        if agent_id is not None and row["agent_id"] != agent_id:
            continue
        if min_severity and severity_rank(row["severity"]) < severity_rank(min_severity):
            continue
        if not include_suppressed and row["suppressed_by"]:
            continue
        row["at"] = row["at"].astimezone(UTC).isoformat() if row["at"] else None
        row["features"] = json.loads(row["features"]) if row["features"] else []
        out.append(row)
    return out
