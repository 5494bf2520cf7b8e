"""Attribution: for each disputed or unconsented action, who, where, on what, and with what right.

An action is in the report when the complaint disputes it (it put on the line a
package whose charge the complaint disputes) or when it was made under a user
ID (``activate``, ``renew``, ``modify``) without a verified consent of this
subscriber given between a day before and ten minutes after it (the window of
rule JJK-007). Self-service and system actions need no consent and are listed
only when disputed.

For each action :func:`attribute` records the facts outputs.md asks for, one
small function per fact (:func:`consent_fact`, :func:`address_fact`,
:func:`hours_fact`, :func:`session_fact`, :func:`roster_facts`,
:func:`id_status_fact`, :func:`two_places_facts`, :func:`handover_fact`,
:func:`on_duty_facts`, :func:`handset_fact`), each turning what it found into
:class:`~jejak.investigate.report.Evidence` with a code of
:class:`~jejak.investigate.report.Code`. What the codes mean
for the hypotheses is decided in :mod:`jejak.investigate.hypotheses`, not here.

Example::

    >>> dossier = gather(store, "6281100000001")                # doctest: +SKIP
    >>> [a.event_id for a in actions(dossier, policy)]            # doctest: +SKIP
    ['EV0000170']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jejak.investigate.evidence import Dossier, location_id
from jejak.investigate.i18n import local
from jejak.investigate.remedy import Policy
from jejak.investigate.renewals import chain_origin
from jejak.investigate.report import Action, Code, Evidence
from jejak.schema import parse_open_days

CONSENT_ACTIONS = ("activate", "renew", "modify")
#: a consent counts when given this long before the action ...
CONSENT_BEFORE = timedelta(days=1)
#: ... or this long after it (the OTP arrives after the agent pressed the button)
CONSENT_AFTER = timedelta(minutes=10)
#: how far from the action a handset location still says where the subscriber was
LOCATION_WINDOW = timedelta(hours=3)
#: in-person outlets: where the subscriber would have to be
IN_PERSON = ("service_center", "dealer")


def _hhmm(text: str | None) -> time | None:
    if not text:
        return None
    h, m = text.split(":")
    return time(int(h), int(m))


def is_open(outlet: dict[str, Any], at: datetime, tz: str) -> bool:
    """Whether the outlet was open at ``at``: its ``opens``-``closes`` on its ``open_days``, in
    its own time zone; a ``closes`` at or before ``opens`` runs past midnight into the next day;
    no hours at all = always open. The same windows as detection's ``outlet_hours`` table
    (:func:`jejak.detect.derived.opening_windows`; a test holds them equal).

    >>> o = {"opens": "08:00", "closes": "16:00", "open_days": "Mon-Sat"}
    >>> from datetime import UTC
    >>> is_open(o, datetime(2016, 7, 18, 14, 14, tzinfo=UTC), "Asia/Jakarta")   # 21:14 WIB
    False
    """
    o, c = _hhmm(outlet.get("opens")), _hhmm(outlet.get("closes"))
    if o is None and c is None:
        return True
    o = o or time(0)
    days = parse_open_days(outlet.get("open_days"))
    t = at.astimezone(ZoneInfo(tz))
    now, wd = t.time().replace(tzinfo=None), t.weekday()
    if c is not None and c > o:
        return wd in days and o <= now < c
    # open past midnight (or until midnight when there is no closing time)
    if wd in days and now >= o:
        return True
    return c is not None and now < c and (wd - 1) % 7 in days


def consent_check(
    event: dict[str, Any], consent: dict[str, Any] | None
) -> tuple[Code, dict[str, Any]]:
    """The consent's evidence code for ``event`` and its parameters."""
    ev = event["event_id"]
    if not event.get("consent_id"):
        return Code.NO_CONSENT, {}
    cid = event["consent_id"]
    if consent is None:
        return Code.CONSENT_MISMATCH, {
            "consent": cid,
            "detail": "no consent of this subscriber has that id",
        }
    if consent["msisdn"] != event["msisdn"]:
        return Code.CONSENT_MISMATCH, {
            "consent": cid,
            "detail": f"it was given for {consent['msisdn']}",
        }
    at = consent.get("at")
    if at is None or not (event["at"] - CONSENT_BEFORE <= at <= event["at"] + CONSENT_AFTER):
        return Code.CONSENT_MISMATCH, {
            "consent": cid,
            "detail": f"it was given at {at.astimezone(UTC).isoformat() if at else 'an unknown time'}, "
            f"not within a day before {ev}",
        }
    if not consent.get("verified"):
        return Code.CONSENT_UNVERIFIED, {"consent": cid}
    return Code.CONSENT_VERIFIED, {"consent": cid, "method": consent.get("method")}


def _consent(dossier: Dossier, event: dict[str, Any]) -> dict[str, Any] | None:
    cid = event.get("consent_id")
    if not cid:
        return None
    # a consent counts only if it is this subscriber's: look among the subscriber's own
    # (a consent id that only another number holds is, for this line, no consent)
    for c in dossier.records.get("consents", []):
        if c["consent_id"] == cid:
            return c
    return None


def renewed_from(dossier: Dossier, ev: dict[str, Any]) -> dict[str, Any]:
    """The action whose consent ``ev`` carries: itself, or for an unbroken chain of
    renewals the activation at its start (:mod:`~jejak.investigate.renewals`)."""
    origin, _broken = chain_origin(
        dossier.records.get("provisioning", []),
        ev,
        dossier.records.get("notifications", []),
        dossier.packages,
    )
    return origin


def disputed_events(dossier: Dossier) -> dict[str, list[str]]:
    """event_id -> the disputed charges it explains: for each disputed package charge, the
    latest activation, renewal or change of that package on the line before it."""
    if not dossier.complaint:
        return {}
    wanted = set(dossier.complaint.get("disputed_charge_ids") or [])
    out: dict[str, list[str]] = {}
    prov = dossier.records.get("provisioning", [])
    for ch in dossier.records.get("charges", []):
        if ch["charge_id"] not in wanted or not ch.get("package_id"):
            continue
        before = [
            p
            for p in prov
            if p["package_id"] == ch["package_id"]
            and p["action"] in CONSENT_ACTIONS
            and p["at"] <= ch["at"]
        ]
        if before:
            ev = max(before, key=lambda p: (p["at"], p["event_id"]))
            ev = renewed_from(dossier, ev)  # a renewal is weighed as the activation it renews
            out.setdefault(ev["event_id"], []).append(ch["charge_id"])
    return out


def actions(dossier: Dossier, policy: Policy) -> list[Action]:
    """Every action of the line that the complaint disputes or that no verified consent covers."""
    disputed = disputed_events(dossier)
    out = []
    for ev in dossier.records.get("provisioning", []):
        is_disputed = ev["event_id"] in disputed
        needs_consent = ev["action"] in CONSENT_ACTIONS and bool(ev.get("agent_id"))
        consent = _consent(dossier, ev)
        code, _ = consent_check(ev, consent)
        valid = code == Code.CONSENT_VERIFIED
        if is_disputed or (needs_consent and not valid):
            out.append(attribute(dossier, ev, consent, valid, is_disputed, policy))
    return out


@dataclass(frozen=True)
class Act:
    """One action being attributed, and what every fact about it needs."""

    dossier: Dossier
    ev: dict[str, Any]
    policy: Policy
    outlet: dict[str, Any] | None
    tz: str
    agent: dict[str, Any] | None

    @property
    def eid(self) -> str:
        return str(self.ev["event_id"])

    @property
    def at(self) -> datetime:
        return self.ev["at"]

    @property
    def when(self) -> str:
        return local(self.at, self.tz)

    @property
    def oname(self) -> str:
        return (self.outlet or {}).get("name") or self.ev.get("outlet_id") or "?"

    @property
    def agent_id(self) -> str | None:
        return self.ev.get("agent_id")

    @property
    def pname(self) -> str:
        return (self.agent or {}).get("person") or self.agent_id or "?"


@dataclass
class Roster:
    """Where the roster puts the user ID's owner at the moment of the action.

    ``state``: ``here`` (on shift at the action's outlet), ``elsewhere`` (on shift at another),
    ``off`` (rostered staff, not on shift then), ``not_staff`` (never rostered); ``shift``: the
    shift here or elsewhere; ``day_shifts``: the owner's shifts that day when ``off``;
    ``session``: their own last session that ended before the action's session began.
    """

    state: str
    shift: dict[str, Any] | None = None
    day_shifts: list[dict[str, Any]] = field(default_factory=list)
    session: dict[str, Any] | None = None

    @property
    def on_shift(self) -> bool | None:
        return {"here": True, "elsewhere": False, "off": False}.get(self.state)


def attribute(
    dossier: Dossier,
    ev: dict[str, Any],
    consent: dict[str, Any] | None,
    consent_valid: bool,
    disputed: bool,
    policy: Policy,
) -> Action:
    """The attribution of one action, with one evidence item per fact, in the report's order."""
    outlet = dossier.outlets.get(ev.get("outlet_id") or "")
    act = Act(
        dossier=dossier,
        ev=ev,
        policy=policy,
        outlet=outlet,
        tz=(outlet or {}).get("timezone") or policy.timezone,
        agent=dossier.agent(ev.get("agent_id")),
    )
    evidence: list[Evidence] = [consent_fact(act, consent)]
    ip = ev.get("source_ip")
    inside = dossier.in_outlet_network(ip, ev.get("outlet_id"))
    addr_outlet = dossier.outlet_of_address(ip)
    evidence += address_fact(act, inside, addr_outlet)
    outlet_open = None if outlet is None else is_open(outlet, act.at, act.tz)
    evidence += hours_fact(act, outlet_open)
    session = dossier.session(ev.get("session_id"))
    evidence += session_fact(act, session)
    on_duty = dossier.rostered(ev["outlet_id"], act.at) if ev.get("outlet_id") else []
    roster = Roster("unknown")
    terminal_before: dict[str, Any] | None = None
    suspects: list[dict[str, Any]] = []
    if act.agent_id and act.agent is None:
        evidence.append(Evidence(Code.UNKNOWN_AGENT, {"agent": act.agent_id}, [act.eid]))
    if act.agent_id and act.agent is not None:
        roster = owner_roster(act, session)
        evidence += roster_facts(act, roster)
        evidence += id_status_fact(act, roster)
        evidence += two_places_facts(act, session)
        if roster.on_shift is not True:
            if session is not None:
                terminal_before = dossier.terminal_before(session, policy.handover_minutes)
                evidence += handover_fact(act, session, terminal_before, on_duty, suspects)
            evidence += on_duty_facts(act, on_duty, suspects)
    evidence += handset_fact(act)
    return Action(
        event=ev,
        person=(act.agent or {}).get("person"),
        role=act.agent.get("role") if act.agent else None,
        inside_outlet_network=inside,
        address_outlet=addr_outlet,
        outlet_open=outlet_open,
        owner_on_shift=roster.on_shift,
        on_duty=on_duty,
        session=session,
        consent=consent,
        consent_valid=consent_valid,
        disputed=disputed,
        evidence=evidence,
        suspects=suspects,
        outlet=outlet,
        terminal_before=terminal_before,
        owner_shifts=roster.day_shifts,
        owner_session=roster.session,
    )


# ----------------------------------------------------------------- one function per fact


def consent_fact(act: Act, consent: dict[str, Any] | None) -> Evidence:
    """The consent that covers the action, or why none does."""
    code, params = consent_check(act.ev, consent)
    base = {"event": act.eid, "package": act.ev.get("package_id") or "?", "when": act.when}
    if code == Code.CONSENT_VERIFIED and consent is not None:
        params["consent_at"] = local(consent["at"], act.tz)
    ids = [act.eid] + ([act.ev["consent_id"]] if act.ev.get("consent_id") else [])
    return Evidence(code, {**base, **params}, ids)


def address_fact(act: Act, inside: bool | None, addr_outlet: str | None) -> list[Evidence]:
    """Where the action's address is: the outlet's network, another outlet's, outside the operator."""
    ip = act.ev.get("source_ip")
    if not ip:
        return []
    eid = act.eid
    if inside:
        return [
            Evidence(Code.ADDRESS_IN_OUTLET, {"event": eid, "ip": ip, "outlet": act.oname}, [eid])
        ]
    if addr_outlet:
        other = act.dossier.outlets[addr_outlet].get("name") or addr_outlet
        params = {"event": eid, "ip": ip, "other": other, "outlet": act.oname}
        return [Evidence(Code.ADDRESS_OTHER_OUTLET, params, [eid])]
    if act.dossier.networks:
        return [Evidence(Code.ADDRESS_OUTSIDE_OPERATOR, {"event": eid, "ip": ip}, [eid])]
    return []


def hours_fact(act: Act, outlet_open: bool | None) -> list[Evidence]:
    """The outlet was closed at the time of the action."""
    outlet = act.outlet
    if outlet is None or outlet_open:
        return []
    hours = f"{outlet.get('opens') or '00:00'}-{outlet.get('closes') or '24:00'} {outlet.get('open_days') or ''}".strip()
    params = {"outlet": act.oname, "when": act.when, "hours": hours}
    return [Evidence(Code.OUTLET_CLOSED, params, [act.eid])]


def session_fact(act: Act, session: dict[str, Any] | None) -> list[Evidence]:
    """The login session the action names: missing, not matching the action, or matching it."""
    agent_id, eid, ev = act.agent_id, act.eid, act.ev
    if not agent_id:
        return []
    if session is None:
        params = {"event": eid, "agent": agent_id, "session": ev.get("session_id") or "none named"}
        ids = [eid] + ([ev["session_id"]] if ev.get("session_id") else [])
        return [Evidence(Code.SESSION_MISSING, params, ids)]
    bad = []
    if session["agent_id"] != agent_id:
        bad.append(f"the session is user ID {session['agent_id']}'s")
    end = session.get("ended_at")
    if act.at < session["started_at"] - timedelta(minutes=1) or (
        end is not None and act.at > end + timedelta(minutes=1)
    ):
        bad.append("the action falls outside the session's time")
    ip = ev.get("source_ip")
    if ip and session.get("source_ip") and session["source_ip"] != ip:
        bad.append(f"the session ran from {session['source_ip']}")
    if ev.get("device_id") and session.get("device_id") and session["device_id"] != ev["device_id"]:
        bad.append(f"the session ran on {session['device_id']}")
    sid = session["session_id"]
    if bad:
        params = {"event": eid, "session": sid, "detail": "; ".join(bad)}
        return [Evidence(Code.SESSION_MISMATCH, params, [eid, sid])]
    params = {
        "event": eid,
        "session": sid,
        "agent": agent_id,
        "device": session.get("device_id") or "?",
        "started": local(session["started_at"], act.tz),
        "ended": local(end, act.tz) if end else "?",
    }
    return [Evidence(Code.SESSION_MATCHES, params, [eid, sid])]


def owner_roster(act: Act, session: dict[str, Any] | None) -> Roster:
    """Where the roster puts the user ID's owner at the time (and their last own session)."""
    dossier, agent_id, at = act.dossier, str(act.agent_id), act.at
    now_shifts = dossier.shifts_of(agent_id, at, at + timedelta(microseconds=1))
    here = [s for s in now_shifts if s["outlet_id"] == act.ev.get("outlet_id")]
    elsewhere = [s for s in now_shifts if s["outlet_id"] != act.ev.get("outlet_id")]
    if here:
        return Roster("here", here[0])
    if elsewhere:
        return Roster("elsewhere", elsewhere[0])
    if not dossier.ever_rostered(agent_id):
        return Roster("not_staff")
    zone = ZoneInfo(act.tz)
    day_start = datetime.combine(at.astimezone(zone).date(), time(0), zone)
    roster = Roster(
        "off", day_shifts=dossier.shifts_of(agent_id, day_start, day_start + timedelta(days=1))
    )
    if session is not None:
        own = [
            s
            for s in dossier.own_sessions(agent_id, at - timedelta(hours=16), session["started_at"])
            if s["session_id"] != session["session_id"]
            and s.get("ended_at") is not None
            and s["ended_at"] <= session["started_at"]
        ]
        roster.session = own[-1] if own else None
    return roster


def roster_facts(act: Act, roster: Roster) -> list[Evidence]:
    """The owner on shift here, elsewhere, off shift (and logged out), or not rostered staff."""
    agent_id, eid, pname, tz = act.agent_id, act.eid, act.pname, act.tz
    shift = roster.shift or {}
    if roster.state == "here":
        params = {
            "person": pname,
            "agent": agent_id,
            "outlet": act.oname,
            "shift": shift["shift_id"],
        }
        return [Evidence(Code.OWNER_ON_SHIFT, params, [eid, shift["shift_id"]])]
    if roster.state == "elsewhere":
        oo = act.dossier.outlets.get(shift["outlet_id"] or "", {}).get("name") or shift["outlet_id"]
        params = {
            "person": pname,
            "agent": agent_id,
            "other": oo,
            "shift": shift["shift_id"],
            "outlet": act.oname,
        }
        return [Evidence(Code.OWNER_ELSEWHERE, params, [eid, shift["shift_id"]])]
    if roster.state == "not_staff":
        role = (act.agent or {}).get("role") or "?"
        params = {"agent": agent_id, "person": pname, "role": role}
        return [Evidence(Code.OWNER_NOT_ROSTERED_STAFF, params, [eid])]
    zone = ZoneInfo(tz)
    that_day = ", ".join(  # the words around it ("that day") are the reader's language's
        f"{s['shift_id']} {s['starts_at'].astimezone(zone):%H:%M}-{s['ends_at'].astimezone(zone):%H:%M}"
        for s in roster.day_shifts
    )
    params = {"person": pname, "agent": agent_id, "when": act.when, "that_day": that_day}
    out = [
        Evidence(
            Code.OWNER_NOT_ON_SHIFT, params, [eid, *(s["shift_id"] for s in roster.day_shifts)]
        )
    ]
    last = roster.session
    if last is not None:
        params = {
            "person": pname,
            "session": last["session_id"],
            "device": last.get("device_id") or "?",
            "ended": local(last["ended_at"], tz),
            "event": eid,
        }
        out.append(Evidence(Code.OWNER_LOGGED_OUT, params, [last["session_id"], eid]))
    return out


def id_status_fact(act: Act, roster: Roster) -> list[Evidence]:
    """The user ID was not valid then, or its owner was on leave, suspended or gone."""
    agent = act.agent or {}
    day = act.at.astimezone(ZoneInfo(act.tz)).date()
    problems = []
    if agent.get("valid_from") and day < agent["valid_from"]:
        problems.append(f"the ID is valid only from {agent['valid_from']}")
    if agent.get("valid_to") and day > agent["valid_to"]:
        problems.append(f"the ID ended on {agent['valid_to']}")
    if agent.get("status") in ("on_leave", "suspended", "terminated") and roster.state != "here":
        problems.append(f"its owner is {agent['status']}")
    if not problems:
        return []
    params = {
        "agent": act.agent_id,
        "person": act.pname,
        "when": act.when,
        "detail": "; ".join(problems),
    }
    return [Evidence(Code.ID_STATUS, params, [act.eid])]


def two_places_facts(act: Act, session: dict[str, Any] | None) -> list[Evidence]:
    """The user ID was logged in somewhere else at the same time."""
    if session is None:
        return []
    return [
        Evidence(
            Code.ID_IN_TWO_PLACES,
            {
                "agent": act.agent_id,
                "other_session": other["session_id"],
                "device": other.get("device_id") or "?",
                "ip": other.get("source_ip") or "?",
            },
            [session["session_id"], other["session_id"]],
        )
        for other in act.dossier.overlapping_elsewhere(session)
    ]


def handover_fact(
    act: Act,
    session: dict[str, Any],
    before: dict[str, Any] | None,
    on_duty: list[dict[str, Any]],
    suspects: list[dict[str, Any]],
) -> list[Evidence]:
    """Someone else's session ended on the same terminal just before; they become a suspect."""
    if before is None:
        return []
    tend = before.get("ended_at") or before["started_at"]
    gap = max(0, int((session["started_at"] - tend).total_seconds() // 60))
    tperson = act.dossier.person(before["agent_id"]) or before["agent_id"]
    duty = [d for d in on_duty if d["agent_id"] == before["agent_id"]]
    suspects.append(
        {
            "agent_id": before["agent_id"],
            "person": tperson,
            "shift_id": duty[0]["shift_id"] if duty else None,
            "duty": duty[0]["duty"] if duty else None,
            "why": "terminal",
            "record_ids": [before["session_id"], *(d["shift_id"] for d in duty)],
        }
    )
    params = {
        "device": session.get("device_id") or "?",
        "person": tperson,
        "other_agent": before["agent_id"],
        "other_session": before["session_id"],
        "ended": local(before.get("ended_at"), act.tz) if before.get("ended_at") else "still open",
        "minutes": gap,
        "agent": act.agent_id,
    }
    return [Evidence(Code.TERMINAL_HANDOVER, params, [before["session_id"], session["session_id"]])]


def on_duty_facts(
    act: Act, on_duty: list[dict[str, Any]], suspects: list[dict[str, Any]]
) -> list[Evidence]:
    """Who else was rostered at the outlet then; each becomes a suspect (once)."""
    out = []
    for d in on_duty:
        if d["agent_id"] == act.agent_id:
            continue
        person = d.get("person") or d["agent_id"]
        params = {
            "person": person,
            "agent": d["agent_id"],
            "outlet": act.oname,
            "when": act.when,
            "duty": d.get("duty") or "?",
            "shift": d["shift_id"],
        }
        out.append(Evidence(Code.OTHER_ON_DUTY, params, [d["shift_id"], act.eid]))
        if not any(s["agent_id"] == d["agent_id"] for s in suspects):
            suspects.append(
                {
                    "agent_id": d["agent_id"],
                    "person": person,
                    "shift_id": d["shift_id"],
                    "duty": d.get("duty"),
                    "why": "on_duty",
                    "record_ids": [d["shift_id"]],
                }
            )
    return out


def handset_fact(act: Act) -> list[Evidence]:
    """Where the subscriber's handset was, near the time, for an in-person outlet."""
    outlet, at = act.outlet, act.at
    if outlet is None or outlet.get("kind") not in IN_PERSON or not outlet.get("city"):
        return []
    near = [
        loc
        for loc in act.dossier.records.get("locations", [])
        if abs(loc["at"] - at) <= LOCATION_WINDOW and loc.get("city")
    ]
    if not near:
        return []
    loc = min(near, key=lambda loc: (abs(loc["at"] - at), loc["at"]))
    same = str(loc["city"]).casefold() == str(outlet["city"]).casefold()
    params = {
        "city": loc["city"],
        "loc_at": local(loc["at"], act.tz),
        "outlet_city": outlet["city"],
        "event": act.eid,
    }
    code = Code.HANDSET_AT_OUTLET if same else Code.HANDSET_ELSEWHERE
    return [Evidence(code, params, [location_id(loc), act.eid])]
