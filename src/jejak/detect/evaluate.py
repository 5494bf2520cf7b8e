"""Detection quality against a simulator's ``truth.jsonl``: precision and recall per scenario kind.

Each truth line is one planted case (``kind``, ``hard_negative``, ``msisdns``,
``agent_id``, ``record_ids`` per record kind). A case is **caught** when an
alert of at least ``min_severity`` names one of its record ids. Per scenario
kind (at ``min_severity`` and above):

- *recall* = caught planted cases / planted cases (hard negatives excluded);
- *precision* = alerts that touch a planted case / alerts attributed to the kind.
  An alert is attributed to every case it touches; an alert touching no planted
  case is a false positive, attributed to a hard negative it touches (by record
  id, or by msisdn) or else to ``(none)``.

Example::

    >>> report = evaluate(store, "sim/truth.jsonl")   # doctest: +SKIP
    >>> report.rows[0].kind, report.rows[0].recall    # doctest: +SKIP
    ('owner_no_consent', 1.0)
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jejak.detect.pack import severity_rank
from jejak.errors import InputError, NotFoundError, UsageError
from jejak.schema import KINDS
from jejak.sqlq import ident
from jejak.store import Store


@dataclass
class KindScore:
    kind: str
    hard_negative: bool
    cases: int
    caught: int
    alerts: int
    true_alerts: int

    @property
    def recall(self) -> float | None:
        return None if self.hard_negative or not self.cases else self.caught / self.cases

    @property
    def precision(self) -> float | None:
        return self.true_alerts / self.alerts if self.alerts else None


@dataclass
class EvaluationReport:
    min_severity: str
    rows: list[KindScore] = field(default_factory=list)
    missed: list[dict[str, Any]] = field(default_factory=list)
    false_alerts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        cases = sum(r.cases for r in self.rows if not r.hard_negative)
        return sum(r.caught for r in self.rows if not r.hard_negative) / cases if cases else 1.0

    @property
    def precision(self) -> float:
        total = sum(r.true_alerts for r in self.rows) + len(self.false_alerts)
        return sum(r.true_alerts for r in self.rows) / total if total else 1.0

    def markdown(self) -> str:
        def pct(v: float | None) -> str:
            return "—" if v is None else f"{100 * v:.1f}%"

        lines = [
            f"| scenario kind | planted | caught | recall | alerts (≥ {self.min_severity}) | precision |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in self.rows:
            label = r.kind + (" (hard negative)" if r.hard_negative else "")
            lines.append(
                f"| {label} | {r.cases} | {r.caught} | {pct(r.recall)} | {r.alerts} | {pct(r.precision)} |"
            )
        lines.append(
            f"| **all** | | | **{pct(self.recall)}** | {sum(r.true_alerts for r in self.rows) + len(self.false_alerts)} | **{pct(self.precision)}** |"
        )
        return "\n".join(lines)


def _case_ids(case: dict[str, Any]) -> set[str]:
    ids: set[str] = set()
    for v in (case.get("record_ids") or {}).values():
        ids.update(v if isinstance(v, list) else [v])
    return ids


def score(
    alerts: list[dict[str, Any]], truth: list[dict[str, Any]], min_severity: str = "medium"
) -> EvaluationReport:
    """Score alert dicts against truth cases (pure: no store)."""
    rank = severity_rank(min_severity)
    kept = [
        a for a in alerts if severity_rank(a["severity"]) >= rank and not a.get("suppressed_by")
    ]
    report = EvaluationReport(min_severity)
    per: dict[tuple[str, bool], KindScore] = {}
    case_ids = [(c, _case_ids(c)) for c in truth]
    for c, _ in case_ids:
        key = (c["kind"], bool(c.get("hard_negative")))
        per.setdefault(key, KindScore(c["kind"], key[1], 0, 0, 0, 0))
        per[key].cases += 1
    touched: dict[int, list[int]] = defaultdict(list)
    for ai, a in enumerate(kept):
        rids = set(a["record_ids"])
        for ci, (_c, ids) in enumerate(case_ids):
            if rids & ids:
                touched[ai].append(ci)
    caught: set[int] = set()
    for ai, a in enumerate(kept):
        planted = [ci for ci in touched[ai] if not case_ids[ci][0].get("hard_negative")]
        if planted:
            for ci in planted:
                c = case_ids[ci][0]
                caught.add(ci)
                k = per[(c["kind"], False)]
                k.alerts += 1
                k.true_alerts += 1
            continue
        report.false_alerts.append(a)
        hard = [ci for ci in touched[ai]] or [
            ci
            for ci, (c, _) in enumerate(case_ids)
            if c.get("hard_negative")
            and a.get("msisdn")
            and a["msisdn"] in (c.get("msisdns") or [])
        ]
        if hard:
            c = case_ids[hard[0]][0]
            per[(c["kind"], True)].alerts += 1
    for ci, (c, _) in enumerate(case_ids):
        if not c.get("hard_negative"):
            if ci in caught:
                per[(c["kind"], False)].caught += 1
            else:
                report.missed.append(c)
    report.rows = sorted(per.values(), key=lambda r: (r.hard_negative, r.kind))
    unattributed = len(report.false_alerts) - sum(r.alerts for r in report.rows if r.hard_negative)
    if unattributed:
        report.rows.append(KindScore("(none)", True, 0, 0, unattributed, 0))
    return report


def read_truth(path: str | Path) -> list[dict[str, Any]]:
    p = Path(path)
    if p.is_dir():
        p = p / "truth.jsonl"
    if not p.exists():
        raise NotFoundError(str(p), "no truth.jsonl here")
    try:
        return [
            json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
    except ValueError as exc:
        raise UsageError(str(p), f"not JSON lines: {exc}") from exc


#: the share of a truth's planted records that may be absent or about other numbers
MISMATCH_SHARE = 0.1


def check_truth(store: Store, truth: list[dict[str, Any]], source: str = "truth") -> None:
    """Refuse (:class:`InputError`, exit 1, one line) a truth that does not describe the store.

    A record a truth case names should be in the store, and a record with an ``msisdn`` about
    one of the case's numbers. When more than :data:`MISMATCH_SHARE` of them are not, the truth
    is another operator's (or the store holds other data) and its precision and recall would be
    meaningless figures. (A few may differ on purpose: a planted record about a third number.)
    """
    wanted: dict[str, dict[str, set[str]]] = defaultdict(dict)
    for case in truth:
        numbers = set(case.get("msisdns") or [])
        for kind, ids in (case.get("record_ids") or {}).items():
            spec = KINDS.get(kind)
            if spec is None or len(spec.key) != 1:
                continue
            for rid in ids if isinstance(ids, list) else [ids]:
                wanted[kind].setdefault(str(rid), set()).update(numbers)
    checked = missing = other = 0
    example = ""
    for kind, ids in wanted.items():
        key = KINDS[kind].key[0]
        has_msisdn = any(f.name == "msisdn" for f in KINDS[kind].fields)
        cols = f"{ident(key)} AS k" + (", msisdn" if has_msisdn else "")
        try:
            rows = store.sql(
                f"SELECT {cols} FROM {ident(kind)} WHERE {ident(key)} IN "
                "(SELECT unnest(?::VARCHAR[]))",
                [sorted(ids)],
            )
        except Exception:  # the kind is not in the store at all
            rows = []
        found = {str(r["k"]): r.get("msisdn") for r in rows}
        for rid, numbers in ids.items():
            checked += 1
            if rid not in found:
                missing += 1
                example = example or f"{kind} {rid} is not in the store"
            elif has_msisdn and numbers and found[rid] not in numbers:
                other += 1
                example = example or f"{kind} {rid} is about another number"
    if checked == 0 or missing + other > MISMATCH_SHARE * checked:
        raise InputError(
            source,
            f"does not describe the store at {store.home}: {missing + other} of {checked} planted "
            f"record(s) absent or about other numbers ({example}); evaluate a simulated "
            "operator's truth against a store that holds that operator",
        )
