"""The blast radius: the other subscribers the same misuse reached, and whom to contact.

Starting from the report's actions that no verified consent covers, the lookup
files (:mod:`jejak.investigate.lookup`) give every other action under a user ID
that shares their user ID, session, source address or terminal, and the
consents of those subscribers are read by number; the actions that no verified
consent covers either (the "same suspicious way") name the other subscribers:

- ``by_agent``: made under the same user ID;
- ``by_session``: made in the same session;
- ``by_source_ip``: made from the same address;
- ``by_device``: made on the same terminal.

Consented actions through the same terminal are the outlet's ordinary business,
not blast radius. ``contacts`` lists each number once, with its plan, region,
status, the events and what linked it.

Example::

    >>> blast_radius(dossier, actions).by_agent                    # doctest: +SKIP
    ['6281100000052', '6281100000061', '6281100000077', '6281100000089']
"""

from __future__ import annotations

from typing import Any

from jejak.investigate.attribution import CONSENT_ACTIONS, CONSENT_AFTER, CONSENT_BEFORE
from jejak.investigate.evidence import Dossier
from jejak.investigate.report import Action, BlastRadius

LINKS = (
    ("by_agent", "agent_id"),
    ("by_session", "session_id"),
    ("by_source_ip", "source_ip"),
    ("by_device", "device_id"),
)


def _consents(dossier: Dossier, found: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The consents of the found actions' subscribers, read by msisdn (the store's sort key)."""
    nums = sorted({r["msisdn"] for r in found.values() if r.get("consent_id")})
    if not nums:
        return {}
    return {c["consent_id"]: c for c in dossier.store.lookup("consents", nums)}


def _consented(r: dict[str, Any], consents: dict[str, dict[str, Any]]) -> bool:
    c = consents.get(r.get("consent_id") or "")
    return bool(
        c
        and c["msisdn"] == r["msisdn"]
        and c["verified"]
        and r["at"] - CONSENT_BEFORE <= c["at"] <= r["at"] + CONSENT_AFTER
    )


def blast_radius(dossier: Dossier, actions: list[Action]) -> BlastRadius:
    """Other subscribers touched without verified consent through the same ID, session, address or terminal."""
    seeds = [a for a in actions if not a.consent_valid and a.event.get("agent_id")]
    keys: dict[str, set[str]] = {f: set() for _, f in LINKS}
    for a in seeds:
        for _, f in LINKS:
            if a.event.get(f):
                keys[f].add(str(a.event[f]))
    if not any(keys.values()):
        return BlastRadius()
    # the store's lookup index per key, then the consent check on the rows found
    found: dict[str, dict[str, Any]] = {}
    for r in dossier.lookup.rows_any("provisioning", {f: sorted(keys[f]) for _, f in LINKS}):
        if (
            r["msisdn"] is None
            or r["msisdn"] == dossier.msisdn
            or r["action"] not in CONSENT_ACTIONS
        ):
            continue
        row = found.setdefault(r["event_id"], {**r, "_keys": []})
        row["_keys"].append(r["_key"])
    consents = _consents(dossier, found)
    rows = sorted(
        (r for r in found.values() if not _consented(r, consents)),
        key=lambda r: (r["msisdn"], r["at"], r["event_id"]),
    )
    out = BlastRadius()
    per: dict[str, dict[str, Any]] = {}
    linked: dict[str, set[str]] = {name: set() for name, _ in LINKS}
    names = {f: name for name, f in LINKS}
    for r in rows:
        for f in r["_keys"]:
            name = names[f]
            linked[name].add(r["msisdn"])
            c = per.setdefault(r["msisdn"], {"msisdn": r["msisdn"], "event_ids": {}, "via": {}})
            c["event_ids"][r["event_id"]] = None
            c["via"][name] = None
    for c in per.values():
        c["via"] = {name: None for name, _ in LINKS if name in c["via"]}
    for name, _ in LINKS:
        setattr(out, name, sorted(linked[name]))
    if per:
        nums = sorted(per)
        subs: dict[str, dict[str, Any]] = {}
        for s in dossier.store.lookup("subscribers", nums):
            subs.setdefault(s["msisdn"], s)
        for m in nums:
            s = subs.get(m, {})
            out.contacts.append(
                {
                    "msisdn": m,
                    "event_ids": list(per[m]["event_ids"]),
                    "via": list(per[m]["via"]),
                    "plan": s.get("plan"),
                    "home_region": s.get("home_region"),
                    "status": s.get("status"),
                }
            )
    return out
