"""The regulator's quarterly service-quality figures for complaints, from the cases and the store.

Indonesia's service-quality standard for cellular operators (the quarterly QoS report) asks,
for complaints, that at least 90 % of billing complaints be settled within 15 working days, and
that complaints over billing accuracy stay at or below 5 % of the bills issued. jejak computes:

- ``settled_within_deadline``: billing complaints received in the quarter and decided by their
  decision deadline (the end of the 15th working day, :mod:`jejak.cases.workdays`), over the
  billing complaints received in the quarter whose deadline has passed or that were decided
  (``pending``: undecided, deadline still ahead — counted in neither);
- ``billing_complaints_share``: billing complaints received in the quarter over the bills of the
  quarter's cycles (one bill per number and cycle with a charge, from the store's ``charges``);
- ``insider_incidents``: cases received in the quarter whose decision (or, undecided, whose
  evidence report) finds an insider (``credential_misuse``, ``owner_misuse``), counted by kind
  and by outlet of the disputed activations;
- ``time_to_decision``: median and 95th percentile (nearest rank) of decided_at − opened_at, in
  days, over the cases received in the quarter and decided.

A billing complaint is a case that disputes at least one charge. Every figure lists the case ids
it counts (``cases``), so that each can be traced to its cases.

Example::

    >>> quarter_bounds("2017Q1", "Asia/Jakarta")[0].isoformat()
    '2017-01-01T00:00:00+07:00'
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from jejak.cases.models import Case, Report
from jejak.errors import UsageError

if TYPE_CHECKING:
    from jejak.cases.service import Cases

INSIDER = ("credential_misuse", "owner_misuse")
SETTLED_STANDARD = 0.90
BILLING_SHARE_STANDARD = 0.05


def quarter_bounds(quarter: str, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of ``2017Q1`` in the zone ``tz``."""
    m = re.fullmatch(r"(\d{4})Q([1-4])", quarter.strip().upper())
    if not m:
        raise UsageError("--quarter", f"{quarter!r}: give it as 2017Q1")
    year, q = int(m.group(1)), int(m.group(2))
    zone = ZoneInfo(tz)
    start = datetime(year, 3 * q - 2, 1, tzinfo=zone)
    end = datetime(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1, tzinfo=zone)
    return start, end


def _nearest_rank(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def _bills(cases: Cases, start: datetime, end: datetime) -> int:
    """Bills of the quarter: distinct (number, cycle) with a charge in a cycle of the quarter."""
    cycles = []
    month = start.replace(tzinfo=None)
    while month < end.replace(tzinfo=None):
        cycles.append(f"{month:%Y-%m}")
        month = month.replace(year=month.year + (month.month == 12), month=month.month % 12 + 1)
    try:
        rows = cases.store.sql(
            "SELECT count(*) AS n FROM (SELECT DISTINCT msisdn, cycle FROM charges "
            f"WHERE cycle IN ({', '.join('?' for _ in cycles)}))",
            cycles,
        )
    except Exception:  # a store without charges has issued no bills
        return 0
    return int(rows[0]["n"]) if rows else 0


def qos(cases: Cases, quarter: str, *, at: datetime | None = None) -> dict[str, Any]:
    """The quarter's figures (see the module's docstring); ``at``: when to judge pending cases."""
    now = at or datetime.now(UTC)
    start, end = quarter_bounds(quarter, cases.policy.timezone)
    with cases.db.read() as s:
        rows = list(
            s.scalars(
                select(Case)
                .where(Case.opened_at >= start, Case.opened_at < end)
                .order_by(Case.opened_at, Case.case_id)
            )
        )
        reports = {
            r.case_id: r.body
            for r in s.scalars(select(Report).where(Report.case_id.in_([c.case_id for c in rows])))
        }
    billing = [c for c in rows if c.disputed_charge_ids]
    in_time, late, pending = [], [], []
    for c in billing:
        if c.decided_at is not None and c.decided_at <= c.decision_due:
            in_time.append(c.case_id)
        elif c.decided_at is None and now <= c.decision_due:
            pending.append(c.case_id)
        else:
            late.append(c.case_id)
    judged = len(in_time) + len(late)
    bills = _bills(cases, start, end)
    by_kind: dict[str, list[str]] = {}
    by_outlet: dict[str, list[str]] = {}
    for c in rows:
        doc = json.loads(reports[c.case_id]) if c.case_id in reports else {}
        kind = (c.decision or {}).get("hypothesis") or (doc.get("verdict") or {}).get("hypothesis")
        if kind not in INSIDER:
            continue
        by_kind.setdefault(kind, []).append(c.case_id)
        outlets = sorted({a.get("outlet_id") or "?" for a in doc.get("actions") or []}) or ["?"]
        for o in outlets:
            by_outlet.setdefault(o, []).append(c.case_id)
    days = {
        c.case_id: (c.decided_at - c.opened_at).total_seconds() / 86400
        for c in rows
        if c.decided_at is not None
    }
    settled_share = len(in_time) / judged if judged else None
    billing_share = len(billing) / bills if bills else None
    return {
        "quarter": quarter.upper(),
        "from": start.isoformat(),
        "to": end.isoformat(),
        "cases": len(rows),
        "settled_within_deadline": {
            "share": settled_share,
            "standard": SETTLED_STANDARD,
            "meets_standard": None if settled_share is None else settled_share >= SETTLED_STANDARD,
            "in_time": in_time,
            "late": late,
            "pending": pending,
        },
        "billing_complaints_share": {
            "share": billing_share,
            "standard": BILLING_SHARE_STANDARD,
            "meets_standard": None
            if billing_share is None
            else billing_share <= BILLING_SHARE_STANDARD,
            "complaints": len(billing),
            "bills": bills,
            "cases": [c.case_id for c in billing],
        },
        "insider_incidents": {
            "by_kind": {k: {"count": len(v), "cases": v} for k, v in sorted(by_kind.items())},
            "by_outlet": {k: {"count": len(v), "cases": v} for k, v in sorted(by_outlet.items())},
        },
        "time_to_decision_days": {
            "median": _median(list(days.values())),
            "p95": _nearest_rank(list(days.values()), 0.95),
            "decided": len(days),
            "cases": sorted(days),
        },
    }


def rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The figures as flat rows (figure, value, standard, cases) for a table or CSV."""
    s, b = figures["settled_within_deadline"], figures["billing_complaints_share"]
    t = figures["time_to_decision_days"]
    out = [
        {
            "figure": "billing complaints settled within 15 working days",
            "value": s["share"],
            "standard": ">= 0.90",
            "cases": " ".join(s["in_time"] + s["late"]),
        },
        {
            "figure": "billing complaints per bill",
            "value": b["share"],
            "standard": "<= 0.05",
            "cases": " ".join(b["cases"]),
        },
        {
            "figure": "median days to decision",
            "value": t["median"],
            "standard": "",
            "cases": " ".join(t["cases"]),
        },
        {
            "figure": "p95 days to decision",
            "value": t["p95"],
            "standard": "",
            "cases": " ".join(t["cases"]),
        },
    ]
    for kind, v in figures["insider_incidents"]["by_kind"].items():
        out.append(
            {
                "figure": f"insider incidents: {kind}",
                "value": v["count"],
                "standard": "",
                "cases": " ".join(v["cases"]),
            }
        )
    for outlet, v in figures["insider_incidents"]["by_outlet"].items():
        out.append(
            {
                "figure": f"insider incidents at outlet {outlet}",
                "value": v["count"],
                "standard": "",
                "cases": " ".join(v["cases"]),
            }
        )
    return out


def to_csv(figures: dict[str, Any]) -> str:
    """:func:`rows` as CSV (``figure,value,standard,cases``; the cases space-separated)."""
    buf = io.StringIO()
    w = csv.DictWriter(
        buf, fieldnames=["figure", "value", "standard", "cases"], lineterminator="\n"
    )
    w.writeheader()
    w.writerows(rows(figures))
    return buf.getvalue()


def quarter_of(t: datetime, tz: str) -> str:
    """``2017Q1``: the quarter ``t`` falls in, in the zone ``tz``."""
    local = t.astimezone(ZoneInfo(tz))
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def quarters(cases: Cases) -> list[str]:
    """Every quarter from the first case received to the last, newest first (none: [])."""
    with cases.db.read() as s:
        first, last = s.execute(select(func.min(Case.opened_at), func.max(Case.opened_at))).one()
    if first is None or last is None:
        return []
    tz = cases.policy.timezone
    a, b = quarter_of(first, tz), quarter_of(last, tz)
    out = []
    year, q = int(a[:4]), int(a[5])
    while f"{year}Q{q}" <= b:
        out.append(f"{year}Q{q}")
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    return out[::-1]
