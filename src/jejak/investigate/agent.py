"""Everything one user ID did, and whom it touched: the analyst's view of a staff login.

:func:`agent_activity` reads (never writes) the user ID's record, its sessions and the
provisioning actions made under it (the store's own ``sessions_by`` / ``provisioning_by``
lookups), groups the actions per subscriber reached, and lists the stored alerts about the
user ID. It is what ``jejak investigate --agent ID`` prints, and what ``--alert ID`` opens for
an alert that names no subscriber (an anomaly of a user ID's day, a terminal taken over).

Example::

    >>> activity = agent_activity(store, "16009045")            # doctest: +SKIP
    >>> len(activity.subscribers), activity.subscribers[0]["msisdn"]   # doctest: +SKIP
    (60, '6281100000001')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jejak.detect.alerts import load_alerts
from jejak.errors import NotFoundError
from jejak.store import Store


def _iso(value: Any) -> Any:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


@dataclass
class AgentActivity:
    """One user ID's record, sessions, actions, the subscribers they reached, and its alerts."""

    agent_id: str
    agent: dict[str, Any] | None
    sessions: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    subscribers: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def clean(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{k: _iso(v) for k, v in r.items()} for r in rows]

        return {
            "agent_id": self.agent_id,
            "agent": {k: _iso(v) for k, v in (self.agent or {}).items()} or None,
            "sessions": clean(self.sessions),
            "actions": clean(self.actions),
            "subscribers": clean(self.subscribers),
            "alerts": self.alerts,
        }


def agent_activity(store: Store, agent_id: str) -> AgentActivity:
    """What ``agent_id`` did (sessions, provisioning) and whom it touched; a read.

    Raises :class:`NotFoundError` when the store holds no record of the user ID at all.
    """
    try:
        agent: dict[str, Any] | None = store.record("agents", agent_id)
    except NotFoundError:
        agent = None
    sessions = store.sessions_by("agent_id", agent_id)
    actions = store.provisioning_by("agent_id", agent_id)
    if agent is None and not sessions and not actions:
        raise NotFoundError(f"user ID {agent_id}", f"no record of this user ID in {store.home}")
    per: dict[str, dict[str, Any]] = {}
    for a in actions:
        s = per.setdefault(
            a["msisdn"],
            {
                "msisdn": a["msisdn"],
                "actions": 0,
                "without_consent": 0,
                "packages": set(),
                "first": a["at"],
                "last": a["at"],
            },
        )
        s["actions"] += 1
        s["without_consent"] += 0 if a.get("consent_id") else 1
        if a.get("package_id"):
            s["packages"].add(a["package_id"])
        s["first"], s["last"] = min(s["first"], a["at"]), max(s["last"], a["at"])
    subscribers = []
    for s in sorted(per.values(), key=lambda s: (-s["without_consent"], s["first"], s["msisdn"])):
        s["packages"] = ";".join(sorted(s["packages"]))
        subscribers.append(s)
    return AgentActivity(
        agent_id=agent_id,
        agent=agent,
        sessions=sessions,
        actions=actions,
        subscribers=subscribers,
        alerts=load_alerts(store, agent_id=agent_id),
    )


def find_alert(store: Store, alert_id: str) -> dict[str, Any]:
    """One stored alert by its id; :class:`NotFoundError` naming ``jejak alerts`` otherwise."""
    for a in load_alerts(store):
        if a["alert_id"] == alert_id:
            return a
    raise NotFoundError(
        f"alert {alert_id}", "not among the stored alerts (list them with: jejak alerts)"
    )


__all__ = ["AgentActivity", "agent_activity", "find_alert"]
