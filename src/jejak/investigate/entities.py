"""What the store knows about one user ID or one outlet: the pages an investigator pivots through.

- :func:`user_id` — the seed's question "which other numbers did this ID touch": who the ID is
  issued to, its shifts, its sessions with their terminals and addresses, the outlets it
  worked at, its activations, and every subscriber those activations touched.
- :func:`outlet` — an outlet's opening hours, and who was rostered there, day by day.

Times come back as UTC instants; the pages show them in the outlet's zone (WIB, WITA, WIT).
A subscriber's own chronology is the evidence report's (:func:`jejak.investigate.investigate`),
reached only with a recorded reason.

Example::

    >>> u = user_id(store, "16009051")                       # doctest: +SKIP
    >>> u["agent"]["person"], len(u["subscribers"])          # doctest: +SKIP
    ('Budi Santoso', 5)
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jejak.errors import NotFoundError
from jejak.store import Store

#: at most this many rows per list on a page (the JSON says when a list was cut)
LIMIT = 500


def _rows(store: Store, kind: str, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    if not store.files(kind):
        return []
    return store.sql(sql, params)


def user_id(store: Store, agent_id: str, *, limit: int = LIMIT) -> dict[str, Any]:
    """Everything about one user ID (see the module's docstring)."""
    agents = _rows(store, "agents", "SELECT * FROM agents WHERE agent_id = ?", [agent_id])
    if not agents:
        raise NotFoundError(agent_id, "no such user ID in the store")
    shifts = _rows(
        store,
        "shifts",
        "SELECT * FROM shifts WHERE agent_id = ? ORDER BY starts_at DESC LIMIT ?",
        [agent_id, limit + 1],
    )
    sessions = _rows(
        store,
        "sessions",
        "SELECT * FROM sessions WHERE agent_id = ? ORDER BY started_at DESC LIMIT ?",
        [agent_id, limit + 1],
    )
    acts = _rows(
        store,
        "provisioning",
        'SELECT * FROM provisioning WHERE agent_id = ? ORDER BY "at" DESC LIMIT ?',
        [agent_id, limit + 1],
    )
    summary = _rows(
        store,
        "provisioning",
        'SELECT msisdn, count(*) AS actions, min("at") AS first_at, max("at") AS last_at, '
        "list(DISTINCT outlet_id) AS outlets FROM provisioning WHERE agent_id = ? "
        "GROUP BY msisdn ORDER BY last_at DESC",
        [agent_id],
    )
    terminals = _rows(
        store,
        "sessions",
        "SELECT device_id, count(*) AS sessions, min(started_at) AS first_at, max(started_at) AS last_at "
        "FROM sessions WHERE agent_id = ? GROUP BY device_id ORDER BY sessions DESC",
        [agent_id],
    )
    outlets = _rows(
        store,
        "provisioning",
        "SELECT outlet_id, count(*) AS actions FROM provisioning WHERE agent_id = ? "
        "GROUP BY outlet_id ORDER BY actions DESC",
        [agent_id],
    )
    return {
        "agent": agents[0],
        "shifts": shifts[:limit],
        "sessions": sessions[:limit],
        "terminals": terminals,
        "outlets": outlets,
        "activations": acts[:limit],
        "subscribers": summary,
        "truncated": {
            "shifts": len(shifts) > limit,
            "sessions": len(sessions) > limit,
            "activations": len(acts) > limit,
        },
    }


def outlet(
    store: Store, outlet_id: str, *, until: date | None = None, days: int = 14
) -> dict[str, Any]:
    """An outlet, and who was rostered there on each of ``days`` days up to ``until``."""
    rows = _rows(store, "outlets", "SELECT * FROM outlets WHERE outlet_id = ?", [outlet_id])
    if not rows:
        raise NotFoundError(outlet_id, "no such outlet in the store")
    o = rows[0]
    if until is None:
        last = _rows(
            store,
            "shifts",
            "SELECT max(starts_at) AS t FROM shifts WHERE outlet_id = ?",
            [outlet_id],
        )
        t = last[0]["t"] if last else None
        until = t.date() if t is not None else date.today()
    days = max(1, min(days, 62))
    start = until - timedelta(days=days - 1)
    shifts = _rows(
        store,
        "shifts",
        "SELECT s.*, a.person, a.role FROM shifts s LEFT JOIN agents a USING (agent_id) "
        "WHERE s.outlet_id = ? AND s.starts_at >= CAST(? AS TIMESTAMPTZ) - INTERVAL 1 DAY "
        "AND s.starts_at < CAST(? AS TIMESTAMPTZ) + INTERVAL 2 DAY ORDER BY s.starts_at, s.agent_id",
        [outlet_id, start.isoformat(), until.isoformat()],
    )
    staff = _rows(
        store,
        "agents",
        "SELECT * FROM agents WHERE outlet_id = ? ORDER BY agent_id",
        [outlet_id],
    )
    try:
        zone = ZoneInfo(o.get("timezone") or "Asia/Jakarta")
    except (KeyError, ValueError):
        zone = ZoneInfo("Asia/Jakarta")
    by_day: dict[date, list[dict[str, Any]]] = {start + timedelta(days=i): [] for i in range(days)}
    for sh in shifts:
        d = sh["starts_at"].astimezone(zone).date()
        if d in by_day:
            by_day[d].append(sh)
    return {
        "outlet": o,
        "from": start,
        "until": until,
        "days": [{"date": d, "shifts": v} for d, v in sorted(by_day.items(), reverse=True)],
        "staff": staff,
    }
