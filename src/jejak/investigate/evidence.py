"""Gathering the evidence: every record about one subscriber, and the few others it points at.

:func:`gather` reads the subscriber's own records (``Store.subscriber``: one
pruned read per kind, the store is sorted by msisdn), the complaint, the
outlets and packages (small tables), and answers the questions attribution asks
of the roster and the session log through :class:`Dossier`'s methods, each
one small query. :func:`chronology` puts every record about the subscriber in
time order. :func:`findings` reads the stored alerts that concern the
subscriber: those naming its number, and those naming no number whose evidence
names one of its records (a terminal take-over alert names the activations and
sessions, not a number).

Example::

    >>> dossier = gather(Store("./jejak-data"), "6281100000001")      # doctest: +SKIP
    >>> [e["event_id"] for e in dossier.records["provisioning"]]      # doctest: +SKIP
    ['EV0000170', 'EV0000174', 'EV0000175']
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jejak.detect.alerts import ALERTS_FILE, alerts_dir
from jejak.errors import NotFoundError, UsageError
from jejak.investigate.i18n import chronology_summary, idr
from jejak.investigate.lookup import LookupIndex
from jejak.investigate.report import ChronologyEntry
from jejak.store import Store

#: kinds whose records the chronology lists, and the field that identifies each
CHRONOLOGY_KINDS: dict[str, tuple[str, str]] = {
    "provisioning": ("event_id", "at"),
    "consents": ("consent_id", "at"),
    "charges": ("charge_id", "at"),
    "notifications": ("notification_id", "at"),
    "line_actions": ("action_id", "at"),
    "complaints": ("complaint_id", "opened_at"),
    "locations": ("", "at"),
}
KIND_ORDER = {k: i for i, k in enumerate(CHRONOLOGY_KINDS)}


def location_id(row: dict[str, Any]) -> str:
    """A handset location has no identifier of its own: it is (msisdn, at)."""
    return f"{row['msisdn']}@{row['at'].astimezone(UTC).isoformat()}"


@dataclass
class Dossier:
    """What the store holds about one subscriber, with lookups for the rest."""

    store: Store
    msisdn: str
    subscriber: dict[str, Any] | None
    records: dict[str, list[dict[str, Any]]]
    complaint: dict[str, Any] | None
    outlets: dict[str, dict[str, Any]]
    packages: dict[str, dict[str, Any]]
    networks: list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]]
    lookup: LookupIndex
    agents: dict[str, dict[str, Any]]
    _agent_shifts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _agent_sessions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    # --------------------------------------------------------------- lookups

    def agent(self, agent_id: str | None) -> dict[str, Any] | None:
        if not agent_id:
            return None
        return self.agents.get(agent_id)

    def person(self, agent_id: str | None) -> str | None:
        a = self.agent(agent_id)
        return a["person"] if a else None

    def session(self, session_id: str | None) -> dict[str, Any] | None:
        if not session_id:
            return None
        rows = self.lookup.rows("sessions", "session_id", [session_id])
        return rows[0] if rows else None

    def _shifts(self, agent_id: str) -> list[dict[str, Any]]:
        """Every shift of the user ID (read once per report: a roster is small per person)."""
        if agent_id not in self._agent_shifts:
            self._agent_shifts[agent_id] = sorted(
                self.lookup.rows("shifts", "agent_id", [agent_id]),
                key=lambda s: (s["starts_at"], s["shift_id"]),
            )
        return self._agent_shifts[agent_id]

    def _sessions(self, agent_id: str) -> list[dict[str, Any]]:
        """Every session of the user ID (the store keeps sessions sorted by user ID)."""
        if agent_id not in self._agent_sessions:
            self._agent_sessions[agent_id] = sorted(
                self.store.lookup("sessions", [agent_id]),
                key=lambda s: (s["started_at"], s["session_id"]),
            )
        return self._agent_sessions[agent_id]

    def shifts_of(self, agent_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The agent's shifts that overlap [start, end)."""
        return [s for s in self._shifts(agent_id) if s["starts_at"] < end and s["ends_at"] > start]

    def ever_rostered(self, agent_id: str) -> bool:
        return bool(self._shifts(agent_id))

    def rostered(self, outlet_id: str, at: datetime) -> list[dict[str, Any]]:
        """Who was rostered at the outlet at ``at`` (as :meth:`jejak.store.Store.rostered`, with
        the person and role from the user IDs already read)."""
        out = []
        for s in self.store.lookup("shifts", [outlet_id]):
            if s["starts_at"] is None or s["ends_at"] is None:
                continue
            if not s["starts_at"] <= at < s["ends_at"]:
                continue
            a = self.agents.get(s["agent_id"]) or {}
            out.append(
                {
                    "shift_id": s["shift_id"],
                    "agent_id": s["agent_id"],
                    "person": a.get("person"),
                    "role": a.get("role"),
                    "duty": s["duty"],
                    "starts_at": s["starts_at"],
                    "ends_at": s["ends_at"],
                }
            )
        out.sort(key=lambda r: (r["starts_at"], r["agent_id"] is None, r["agent_id"] or ""))
        return out

    def terminal_before(self, session: dict[str, Any], window_min: int) -> dict[str, Any] | None:
        """The latest session of another user ID on the same terminal that was open, or closed
        at most ``window_min`` minutes, when ``session`` began."""
        if not session.get("device_id"):
            return None
        start = session["started_at"]
        since = start - timedelta(minutes=window_min)
        rows = [
            s
            for s in self.lookup.rows("sessions", "device_id", [session["device_id"]])
            if s["agent_id"] != session["agent_id"]
            and s["started_at"] is not None
            and s["started_at"] < start
            and (s["ended_at"] or s["started_at"]) > since
        ]
        return max(rows, key=lambda s: (s["started_at"], s["session_id"]), default=None)

    def overlapping_elsewhere(self, session: dict[str, Any]) -> list[dict[str, Any]]:
        """Sessions of the same user ID overlapping ``session`` on another terminal and address."""
        end = session.get("ended_at") or session["started_at"]
        return [
            s
            for s in self._sessions(session["agent_id"])
            if s["session_id"] != session["session_id"]
            and s.get("ended_at") is not None
            and s["started_at"] < end
            and s["ended_at"] > session["started_at"]
            and s.get("device_id") != session.get("device_id")
            and s.get("source_ip") != session.get("source_ip")
        ]

    def own_sessions(self, agent_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The user ID's sessions that overlap [start, end)."""
        return [
            s
            for s in self._sessions(agent_id)
            if s["started_at"] < end and (s.get("ended_at") or s["started_at"]) > start
        ]

    def outlet_of_address(self, ip: str | None) -> str | None:
        """The outlet whose network holds ``ip`` (the first by outlet id), or None."""
        if not ip:
            return None
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return None
        for outlet_id, net in self.networks:
            if addr.version == net.version and addr in net:
                return outlet_id
        return None

    def in_outlet_network(self, ip: str | None, outlet_id: str | None) -> bool | None:
        """Whether ``ip`` is in one of the outlet's networks; None when either is unknown."""
        if not ip or not outlet_id:
            return None
        nets = [n for o, n in self.networks if o == outlet_id]
        if not nets:
            return None
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return None
        return any(addr.version == n.version and addr in n for n in nets)


def _networks(outlets: dict[str, dict[str, Any]]) -> list[tuple[str, Any]]:
    out = []
    for oid in sorted(outlets):
        for cidr in outlets[oid].get("networks") or []:
            try:
                out.append((oid, ipaddress.ip_network(cidr, strict=False)))
            except ValueError:
                continue
    return out


#: outlets, packages and user IDs per store state: small tables every report needs
_REFERENCE: dict[tuple[str, int, str], tuple[dict[str, Any], ...]] = {}


def _reference_tables(store: Store) -> tuple[dict[str, Any], ...]:
    """Outlets, packages and user IDs by id, read once per store state (a store changes only by a new
    manifest, so its path, the manifest's mtime and the last batch identify the content)."""
    batches = store.manifest()["batches"]
    stamp = store.manifest_path.stat().st_mtime_ns if batches else 0
    key = (str(store.home.resolve()), stamp, batches[-1]["id"] if batches else "")
    if key not in _REFERENCE:
        if len(_REFERENCE) > 16:
            _REFERENCE.clear()
        outlets = {r["outlet_id"]: r for r in store.sql("SELECT * FROM outlets ORDER BY outlet_id")}
        packages = {
            r["package_id"]: r for r in store.sql("SELECT * FROM packages ORDER BY package_id")
        }
        agents = {r["agent_id"]: r for r in store.sql("SELECT * FROM agents ORDER BY agent_id")}
        _REFERENCE[key] = (outlets, packages, agents)
    return _REFERENCE[key]


def gather(store: Store, msisdn: str | None, complaint_id: str | None = None) -> Dossier:
    """Everything about ``msisdn`` (or the complaint's subscriber) in one :class:`Dossier`.

    Raises NotFoundError for an unknown subscriber or complaint, UsageError when
    the complaint is about another number.
    """
    if not store.exists:
        raise NotFoundError(str(store.home), "no ingested data here (run `jejak ingest` first)")
    complaint = None
    if complaint_id:
        rows = store.sql("SELECT * FROM complaints WHERE complaint_id = ?", [complaint_id])
        if not rows:
            raise NotFoundError(f"complaint {complaint_id}", f"no such complaint in {store.home}")
        complaint = rows[0]
        if msisdn and complaint["msisdn"] != msisdn:
            raise UsageError(
                f"complaint {complaint_id}",
                f"is about {complaint['msisdn']}, not {msisdn}",
            )
        msisdn = complaint["msisdn"]
    if not msisdn:
        raise UsageError(
            "investigate", "give a subscriber's number (--msisdn) or a complaint (--complaint)"
        )
    records = store.subscriber(msisdn)
    subscriber = records.pop("subscribers")[0] if records.get("subscribers") else None
    if subscriber is None and not any(records.values()):
        raise NotFoundError(f"subscriber {msisdn}", f"no record of this number in {store.home}")
    if complaint is None and records.get("complaints"):
        # the latest complaint is the one investigated when none is named
        complaint = max(records["complaints"], key=lambda c: (c["opened_at"], c["complaint_id"]))
    outlets, packages, agents = _reference_tables(store)
    return Dossier(
        store=store,
        msisdn=msisdn,
        subscriber=subscriber,
        records=records,
        complaint=complaint,
        outlets=outlets,
        packages=packages,
        networks=_networks(outlets),
        lookup=LookupIndex(store),
        agents=agents,
    )


def latest_at(dossier: Dossier) -> datetime | None:
    """The time of the subscriber's latest record: the default ``as_of`` of a report."""
    times = [
        r[tf]
        for kind, (_, tf) in CHRONOLOGY_KINDS.items()
        for r in dossier.records.get(kind, [])
        if r.get(tf) is not None
    ]
    return max(times) if times else None


def _chron_params(kind: str, r: dict[str, Any], dossier: Dossier) -> dict[str, Any]:
    """The raw values of a chronology line (the words are :func:`~.i18n.chronology_summary`'s)."""
    if kind == "provisioning":
        outlet = dossier.outlets.get(r.get("outlet_id") or "", {}).get("name") or r.get("outlet_id")
        return {
            "action": r["action"],
            "package": r.get("package_id") or "",
            "channel": r.get("channel") or "",
            "agent": r.get("agent_id") or None,
            "outlet": outlet or None,
            "consent": r.get("consent_id") or None,
        }
    if kind == "consents":
        return {
            "method": r.get("method"),
            "verified": "verified" if r.get("verified") else "NOT verified",
        }
    if kind == "charges":
        return {
            "kind": r.get("kind"),
            "amount": idr(r.get("amount")),
            "cycle": r.get("cycle"),
            "package": r.get("package_id") or None,
            "description": r.get("description") or "",
        }
    if kind == "notifications":
        return {"channel": r.get("channel"), "type": r.get("type"), "text": r.get("text") or ""}
    if kind == "line_actions":
        return {"action": r.get("action"), "reason": r.get("reason"), "due": r.get("amount_due")}
    if kind == "complaints":
        return {
            "channel": r.get("channel"),
            "category": r.get("category"),
            "amount": idr(r.get("disputed_amount")),
            "summary": r.get("summary") or "",
        }
    return {
        "city": r.get("city") or "?",
        "region": r.get("region") or "?",
        "cell": r.get("cell_id") or "?",
    }


def chronology(dossier: Dossier) -> list[ChronologyEntry]:
    """Every record about the subscriber, in time order (ties: kind, then identifier)."""
    out = []
    for kind, (key, tf) in CHRONOLOGY_KINDS.items():
        for r in dossier.records.get(kind, []):
            if r.get(tf) is None:
                continue
            rid = r[key] if key else location_id(r)
            params = _chron_params(kind, r, dossier)
            out.append(
                ChronologyEntry(
                    at=r[tf],
                    kind=kind,
                    record_id=str(rid),
                    params=params,
                    summary=chronology_summary(kind, "en", **params),
                )
            )
    out.sort(key=lambda c: (c.at, KIND_ORDER[c.kind], c.record_id))
    return out


# ------------------------------------------------------------------ alerts


#: where ``jejak detect`` stores its alerts (:mod:`jejak.detect.alerts`; a test holds them equal).
#: Named here so that a report does not import the detection engine, which costs half a second.


def alerts_path(store: Store) -> Path:
    return alerts_dir(store) / ALERTS_FILE


def findings(store: Store, msisdn: str, record_ids: list[str]) -> list[dict[str, Any]]:
    """The stored alerts about ``msisdn`` or naming one of ``record_ids``, in time order."""
    import json

    path = alerts_path(store)
    table = _alerts_table(path)
    if table is None:
        return []
    by_number = pc.fill_null(pc.equal(table["msisdn"], msisdn), False)
    by_record = np.zeros(table.num_rows, dtype=bool)
    if record_ids:
        ids = table["record_ids"].combine_chunks()
        hit = pc.is_in(pc.list_flatten(ids), value_set=pa.array(record_ids, pa.string()))
        parents = pc.list_parent_indices(ids).to_numpy()
        by_record[parents[np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)]] = True
        by_record &= np.asarray(pc.is_null(table["msisdn"]).to_numpy(zero_copy_only=False), bool)
    mask = np.asarray(by_number.to_numpy(zero_copy_only=False), dtype=bool) | by_record
    chosen = table.filter(pa.array(mask)).sort_by(
        [("at", "ascending"), ("rule", "ascending"), ("alert_id", "ascending")]
    )
    rows = chosen.to_pylist()
    for row in rows:
        row["at"] = row["at"].astimezone(UTC).isoformat() if row["at"] else None
        row["features"] = json.loads(row["features"]) if row.get("features") else []
    return rows


_ALERTS: dict[str, tuple[tuple[int, int], pa.Table]] = {}


def _alerts_table(path: Path) -> pa.Table | None:
    """The stored alerts as one Arrow table, read once per version of the file."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    stamp = (st.st_mtime_ns, st.st_size)
    got = _ALERTS.get(str(path))
    if got is None or got[0] != stamp:
        if len(_ALERTS) > 16:
            _ALERTS.clear()
        got = (stamp, pq.read_table(path))
        _ALERTS[str(path)] = got
    return got[1]


def filter_alerts(alerts: list[Any], msisdn: str, record_ids: list[str]) -> list[dict[str, Any]]:
    """Given alerts (Alert objects or outputs.md dicts), those that concern the subscriber."""
    ids = set(record_ids)
    out = []
    for a in alerts:
        d = a.to_dict() if hasattr(a, "to_dict") else dict(a)
        if d.get("msisdn") == msisdn or (
            d.get("msisdn") is None and ids.intersection(d.get("record_ids") or [])
        ):
            out.append(d)
    out.sort(key=lambda d: (d.get("at") or "", d.get("rule") or "", d.get("alert_id") or ""))
    return out
