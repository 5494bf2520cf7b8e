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

from datetime import UTC, date, datetime, time, timedelta
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


def _newest_first(rows: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    """Rows by ``field`` descending, rows without it last (SQL's ``DESC NULLS LAST``)."""
    dated = [r for r in rows if r.get(field) is not None]
    dated.sort(key=lambda r: r[field], reverse=True)
    return dated + [r for r in rows if r.get(field) is None]


def _span(times: list[Any]) -> tuple[Any, Any]:
    known = [t for t in times if t is not None]
    return (min(known), max(known)) if known else (None, None)


def _by(rows: list[dict[str, Any]], field: str) -> dict[Any, list[dict[str, Any]]]:
    groups: dict[Any, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r.get(field), []).append(r)
    return groups


def user_id(store: Store, agent_id: str, *, limit: int = LIMIT) -> dict[str, Any]:
    """Everything about one user ID (see the module's docstring).

    Each kind is read once, through the store's index by user ID where it has one
    (:meth:`jejak.store.Store.lookup`); the summaries are counted from those rows.
    """
    agents = store.lookup("agents", [agent_id])
    if not agents:
        raise NotFoundError(agent_id, "no such user ID in the store")
    shifts = _newest_first(store.lookup("shifts", [agent_id], "agent_id"), "starts_at")
    sessions = _newest_first(store.lookup("sessions", [agent_id]), "started_at")
    acts = _newest_first(store.lookup("provisioning", [agent_id], "agent_id"), "at")
    summary = []
    for msisdn, rows in _by(acts, "msisdn").items():
        first, last = _span([r["at"] for r in rows])
        outlets = sorted({r["outlet_id"] for r in rows if r.get("outlet_id") is not None})
        summary.append(
            {
                "msisdn": msisdn,
                "actions": len(rows),
                "first_at": first,
                "last_at": last,
                "outlets": outlets,
            }
        )
    terminals = []
    for device, rows in _by(sessions, "device_id").items():
        first, last = _span([r["started_at"] for r in rows])
        terminals.append(
            {"device_id": device, "sessions": len(rows), "first_at": first, "last_at": last}
        )
    outlets = [{"outlet_id": o, "actions": len(rows)} for o, rows in _by(acts, "outlet_id").items()]
    return {
        "agent": agents[0],
        "shifts": shifts[:limit],
        "sessions": sessions[:limit],
        "terminals": sorted(terminals, key=lambda t: -t["sessions"]),
        "outlets": sorted(outlets, key=lambda o: -o["actions"]),
        "activations": acts[:limit],
        "subscribers": _newest_first(summary, "last_at"),
        "truncated": {
            "shifts": len(shifts) > limit,
            "sessions": len(sessions) > limit,
            "activations": len(acts) > limit,
        },
    }


def outlet(
    store: Store, outlet_id: str, *, until: date | None = None, days: int = 14
) -> dict[str, Any]:
    """An outlet, and who was rostered there on each of ``days`` days up to ``until``.

    The outlet's shifts are read once, through the store's index by outlet; the agents named
    are read in one query."""
    rows = store.lookup("outlets", [outlet_id])
    if not rows:
        raise NotFoundError(outlet_id, "no such outlet in the store")
    o = rows[0]
    every = store.lookup("shifts", [outlet_id])  # in time order, undated last
    if until is None:
        dated = [sh["starts_at"] for sh in every if sh["starts_at"] is not None]
        until = max(dated).date() if dated else date.today()
    days = max(1, min(days, 62))
    start = until - timedelta(days=days - 1)
    # the same margin as the days' edges in any zone: a day before the first, two after the last
    low = datetime.combine(start, time(), UTC) - timedelta(days=1)
    high = datetime.combine(until, time(), UTC) + timedelta(days=2)
    shifts = [sh for sh in every if sh["starts_at"] is not None and low <= sh["starts_at"] < high]
    named = sorted({sh["agent_id"] for sh in shifts if sh.get("agent_id") is not None})
    agents = _rows(
        store,
        "agents",
        "SELECT * FROM agents WHERE outlet_id = ? OR list_contains(?, agent_id) ORDER BY agent_id",
        [outlet_id, named],
    )
    who = {a["agent_id"]: a for a in agents}
    shifts = sorted(
        (
            {
                **sh,
                "person": who.get(sh["agent_id"], {}).get("person"),
                "role": who.get(sh["agent_id"], {}).get("role"),
            }
            for sh in shifts
        ),
        key=lambda sh: (sh["starts_at"], sh.get("agent_id") or ""),
    )
    staff = [a for a in agents if a.get("outlet_id") == outlet_id]
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
