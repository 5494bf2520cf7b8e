"""Allow-lists: suppressions with an owner, a reason and an expiry, themselves recorded.

The file is a line source of the transparency log (:data:`LINE_SOURCE`, registered by
:class:`jejak.Home`; see :mod:`jejak.audit.lines`): each suppression goes to the log first and
then to the file (:func:`jejak.audit.lines.add_line`), so that none can be edited, removed or
slipped into the file afterwards (backdated) without ``jejak ledger verify`` naming it.

``<home>/alerts/suppressions.jsonl`` is append-only; one JSON object per line::

    {"id": "SUP-…", "rule": "JJK-002", "match": {"agent_id": "16009051"},
     "owner": "fraud-team@op", "reason": "on-call roster kept on paper in July",
     "created": "2026-11-24T23:00:00+00:00", "expires": "2026-12-31"}

A suppression applies to alerts of its rule (``"*"`` = any rule) whose fields
equal every key of ``match`` (``agent_id``, ``msisdn``, ``outlet_id``, or
``record_id`` — one of the alert's record ids), until ``expires`` (a date,
inclusive). Suppressed alerts are marked (``suppressed_by``), never deleted.

Example::

    >>> s = suppress(store, rule="JJK-002", match={"agent_id": "16009051"},   # doctest: +SKIP
    ...              owner="fraud-team", reason="paper roster", expires="2026-12-31")
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jejak.audit.lines import LineSource, add_line
from jejak.detect import anomaly
from jejak.detect.alerts import ALERTS_DIR, Alert, alerts_dir
from jejak.detect.pack import load_pack
from jejak.errors import NotFoundError, UsageError
from jejak.numbers import msisdn as normal_msisdn
from jejak.store import Store

FILE = "suppressions.jsonl"
#: the suppressions file as a line source of the transparency log (the name is in the log)
LINE_SOURCE = LineSource("suppression", Path(ALERTS_DIR) / FILE)
MATCH_KEYS = ("agent_id", "msisdn", "outlet_id", "record_id")


@dataclass(frozen=True)
class Suppression:
    id: str
    rule: str
    match: dict[str, str]
    owner: str
    reason: str
    created: str
    expires: str

    def active(self, today: date) -> bool:
        return date.fromisoformat(self.expires) >= today

    def covers(self, alert: Alert) -> bool:
        if self.rule not in ("*", alert.rule):
            return False
        for key, value in self.match.items():
            if key == "record_id":
                if value not in alert.record_ids:
                    return False
            elif getattr(alert, key) != value:
                return False
        return True


def known_rule_ids() -> list[str]:
    """Every rule id an alert can carry: the pack's rules and the anomaly model's pseudo-rule."""
    return [r.id for r in load_pack().rules] + [anomaly.RULE_ID]


def check_rule_id(rule: str, where: str = "--rule") -> str:
    """``rule`` if an alert can carry it, else :class:`NotFoundError` naming the known ids.

    A suppression or a run for a rule that does not exist would silently match nothing (a
    typo would look like a working allow-list), so unknown ids are refused rather than kept
    for rules that may come later; add the rule to the pack first.
    """
    known = known_rule_ids()
    if rule not in known:
        raise NotFoundError(
            where, f"no rule {rule!r} (known: {', '.join(known)}; or * for every rule)"
        )
    return rule


def suppress(
    store: Store,
    *,
    rule: str,
    match: dict[str, str],
    owner: str,
    reason: str,
    expires: str | date,
    now: datetime | None = None,
) -> Suppression:
    """Record a suppression (appended; the next ``detect`` marks the alerts it covers)."""
    if not match or any(k not in MATCH_KEYS for k in match):
        raise UsageError("--match", f"match on one or more of {', '.join(MATCH_KEYS)}")
    if rule != "*":
        check_rule_id(rule)
    match = dict(match)
    if "msisdn" in match:
        match["msisdn"] = normal_msisdn(match["msisdn"], where="--msisdn")
    if not owner.strip() or not reason.strip():
        raise UsageError("--reason", "a suppression needs an owner and a reason")
    try:
        exp = expires if isinstance(expires, date) else date.fromisoformat(str(expires))
    except ValueError as exc:
        raise UsageError("--expires", f"not a date (YYYY-MM-DD): {expires!r}") from exc
    now = now or datetime.now(UTC)
    if exp < now.date():
        raise UsageError("--expires", f"{exp} is already past")
    created = now.isoformat()
    sid = (
        "SUP-"
        + hashlib.sha256(
            json.dumps(
                [rule, match, owner, reason, created, exp.isoformat()], sort_keys=True
            ).encode()
        ).hexdigest()[:12]
    )
    s = Suppression(sid, rule, dict(match), owner, reason, created, exp.isoformat())
    # the decision goes into the transparency log first (a keyed commitment to the line), then
    # into the file: a line the log does not hold was not written by jejak (verify names it)
    add_line(store, LINE_SOURCE, json.dumps(asdict(s), sort_keys=True))
    return s


def load_suppressions(store: Store) -> list[Suppression]:
    """Every recorded suppression, expired ones included."""
    path = alerts_dir(store) / FILE
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d: dict[str, Any] = json.loads(line)
            out.append(Suppression(**d))
    return out


def apply_suppressions(
    alerts: list[Alert], suppressions: list[Suppression], today: date | None = None
) -> int:
    """Mark the alerts covered by an active suppression; returns how many."""
    today = today or datetime.now(UTC).date()
    active = [s for s in suppressions if s.active(today)]
    n = 0
    for a in alerts:
        for s in active:
            if s.covers(a):
                a.suppressed_by = s.id
                n += 1
                break
    return n
