"""Attribution: for each disputed or unconsented action, who, where, on what, and with what right.

An action is in the report when the complaint disputes it (it put on the line a
package whose charge the complaint disputes) or when it was made under a user
ID (``activate``, ``renew``, ``modify``) without a verified consent of this
subscriber given between a day before and ten minutes after it (the window of
rule JJK-007). Self-service and system actions need no consent and are listed
only when disputed.

For each action :func:`attribute` records the facts outputs.md asks for (the
address against the outlet's networks, the outlet's hours, the owner's roster,
who was rostered there, the session, the consent) and turns each into an
:class:`~jejak.investigate.report.Evidence` with a code. What the codes mean
for the hypotheses is decided in :mod:`jejak.investigate.hypotheses`, not here.

Example::

    >>> case = gather(store, "6281100000001")                # doctest: +SKIP
    >>> [a.event_id for a in actions(case, policy)]            # doctest: +SKIP
    ['EV0000170']
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jejak.investigate.evidence import CaseFile, location_id
from jejak.investigate.i18n import local
from jejak.investigate.remedy import Policy
from jejak.investigate.report import Action, Evidence
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
) -> tuple[str, dict[str, Any]]:
    """The consent's evidence code for ``event`` and its parameters."""
    ev = event["event_id"]
    if not event.get("consent_id"):
        return "NO_CONSENT", {}
    cid = event["consent_id"]
    if consent is None:
        return "CONSENT_MISMATCH", {
            "consent": cid,
            "detail": "no consent of this subscriber has that id",
        }
    if consent["msisdn"] != event["msisdn"]:
        return "CONSENT_MISMATCH", {
            "consent": cid,
            "detail": f"it was given for {consent['msisdn']}",
        }
    at = consent.get("at")
    if at is None or not (event["at"] - CONSENT_BEFORE <= at <= event["at"] + CONSENT_AFTER):
        return "CONSENT_MISMATCH", {
            "consent": cid,
            "detail": f"it was given at {at.astimezone(UTC).isoformat() if at else 'an unknown time'}, "
            f"not within a day before {ev}",
        }
    if not consent.get("verified"):
        return "CONSENT_UNVERIFIED", {"consent": cid}
    return "CONSENT_VERIFIED", {"consent": cid, "method": consent.get("method")}


def _consent(case: CaseFile, event: dict[str, Any]) -> dict[str, Any] | None:
    cid = event.get("consent_id")
    if not cid:
        return None
    # a consent counts only if it is this subscriber's: look among the subscriber's own
    # (a consent id that only another number holds is, for this line, no consent)
    for c in case.records.get("consents", []):
        if c["consent_id"] == cid:
            return c
    return None


def disputed_events(case: CaseFile) -> dict[str, list[str]]:
    """event_id -> the disputed charges it explains: for each disputed package charge, the
    latest activation, renewal or change of that package on the line before it."""
    if not case.complaint:
        return {}
    wanted = set(case.complaint.get("disputed_charge_ids") or [])
    out: dict[str, list[str]] = {}
    prov = case.records.get("provisioning", [])
    for ch in case.records.get("charges", []):
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
            out.setdefault(ev["event_id"], []).append(ch["charge_id"])
    return out


def actions(case: CaseFile, policy: Policy) -> list[Action]:
    """Every action of the line that the complaint disputes or that no verified consent covers."""
    disputed = disputed_events(case)
    out = []
    for ev in case.records.get("provisioning", []):
        is_disputed = ev["event_id"] in disputed
        needs_consent = ev["action"] in CONSENT_ACTIONS and bool(ev.get("agent_id"))
        consent = _consent(case, ev)
        code, _ = consent_check(ev, consent)
        valid = code == "CONSENT_VERIFIED"
        if is_disputed or (needs_consent and not valid):
            out.append(attribute(case, ev, consent, valid, is_disputed, policy))
    return out


def attribute(
    case: CaseFile,
    ev: dict[str, Any],
    consent: dict[str, Any] | None,
    consent_valid: bool,
    disputed: bool,
    policy: Policy,
) -> Action:
    """The attribution of one action, with one evidence item per fact."""
    eid = ev["event_id"]
    at: datetime = ev["at"]
    outlet = case.outlets.get(ev.get("outlet_id") or "")
    tz = (outlet or {}).get("timezone") or policy.timezone
    when = local(at, tz)
    oname = (outlet or {}).get("name") or ev.get("outlet_id") or "?"
    agent_id = ev.get("agent_id")
    agent = case.agent(agent_id)
    person = agent["person"] if agent else None
    evidence: list[Evidence] = []

    # ---- consent
    code, params = consent_check(ev, consent)
    base = {"event": eid, "package": ev.get("package_id") or "?", "when": when}
    if code == "CONSENT_VERIFIED" and consent is not None:
        params["consent_at"] = local(consent["at"], tz)
    ids = [eid] + ([ev["consent_id"]] if ev.get("consent_id") else [])
    evidence.append(Evidence(code, {**base, **params}, ids))

    # ---- address
    ip = ev.get("source_ip")
    inside = case.in_outlet_network(ip, ev.get("outlet_id"))
    addr_outlet = case.outlet_of_address(ip)
    if ip:
        if inside:
            evidence.append(
                Evidence("ADDRESS_IN_OUTLET", {"event": eid, "ip": ip, "outlet": oname}, [eid])
            )
        elif addr_outlet:
            other = case.outlets[addr_outlet].get("name") or addr_outlet
            evidence.append(
                Evidence(
                    "ADDRESS_OTHER_OUTLET",
                    {"event": eid, "ip": ip, "other": other, "outlet": oname},
                    [eid],
                )
            )
        elif case.networks:
            evidence.append(Evidence("ADDRESS_OUTSIDE_OPERATOR", {"event": eid, "ip": ip}, [eid]))

    # ---- outlet hours
    outlet_open: bool | None = None
    if outlet is not None:
        outlet_open = is_open(outlet, at, tz)
        if not outlet_open:
            hours = f"{outlet.get('opens') or '00:00'}-{outlet.get('closes') or '24:00'} {outlet.get('open_days') or ''}".strip()
            evidence.append(
                Evidence("OUTLET_CLOSED", {"outlet": oname, "when": when, "hours": hours}, [eid])
            )

    # ---- session
    session = case.session(ev.get("session_id"))
    terminal_before = None
    if agent_id:
        if session is None:
            evidence.append(
                Evidence(
                    "SESSION_MISSING",
                    {
                        "event": eid,
                        "agent": agent_id,
                        "session": ev.get("session_id") or "none named",
                    },
                    [eid] + ([ev["session_id"]] if ev.get("session_id") else []),
                )
            )
        else:
            bad = []
            if session["agent_id"] != agent_id:
                bad.append(f"the session is user ID {session['agent_id']}'s")
            end = session.get("ended_at")
            if at < session["started_at"] - timedelta(minutes=1) or (
                end is not None and at > end + timedelta(minutes=1)
            ):
                bad.append("the action falls outside the session's time")
            if ip and session.get("source_ip") and session["source_ip"] != ip:
                bad.append(f"the session ran from {session['source_ip']}")
            if (
                ev.get("device_id")
                and session.get("device_id")
                and session["device_id"] != ev["device_id"]
            ):
                bad.append(f"the session ran on {session['device_id']}")
            sid = session["session_id"]
            if bad:
                evidence.append(
                    Evidence(
                        "SESSION_MISMATCH",
                        {"event": eid, "session": sid, "detail": "; ".join(bad)},
                        [eid, sid],
                    )
                )
            else:
                evidence.append(
                    Evidence(
                        "SESSION_MATCHES",
                        {
                            "event": eid,
                            "session": sid,
                            "agent": agent_id,
                            "device": session.get("device_id") or "?",
                            "started": local(session["started_at"], tz),
                            "ended": local(end, tz) if end else "?",
                        },
                        [eid, sid],
                    )
                )

    # ---- the user ID, its owner and the roster
    owner_on_shift: bool | None = None
    owner_shifts: list[dict[str, Any]] = []
    owner_session: dict[str, Any] | None = None
    on_duty = case.rostered(ev["outlet_id"], at) if ev.get("outlet_id") else []
    suspects: list[dict[str, Any]] = []
    if agent_id and agent is None:
        evidence.append(Evidence("UNKNOWN_AGENT", {"agent": agent_id}, [eid]))
    if agent_id and agent is not None:
        pname = person or agent_id
        now_shifts = case.shifts_of(agent_id, at, at + timedelta(microseconds=1))
        here = [s for s in now_shifts if s["outlet_id"] == ev.get("outlet_id")]
        elsewhere = [s for s in now_shifts if s["outlet_id"] != ev.get("outlet_id")]
        rostered_ever = bool(now_shifts) or case.ever_rostered(agent_id)
        if here:
            owner_on_shift = True
            evidence.append(
                Evidence(
                    "OWNER_ON_SHIFT",
                    {
                        "person": pname,
                        "agent": agent_id,
                        "outlet": oname,
                        "shift": here[0]["shift_id"],
                    },
                    [eid, here[0]["shift_id"]],
                )
            )
        elif elsewhere:
            owner_on_shift = False
            other = elsewhere[0]
            oo = case.outlets.get(other["outlet_id"] or "", {}).get("name") or other["outlet_id"]
            evidence.append(
                Evidence(
                    "OWNER_ELSEWHERE",
                    {
                        "person": pname,
                        "agent": agent_id,
                        "other": oo,
                        "shift": other["shift_id"],
                        "outlet": oname,
                    },
                    [eid, other["shift_id"]],
                )
            )
        elif rostered_ever:
            owner_on_shift = False
            zone = ZoneInfo(tz)
            day_start = datetime.combine(at.astimezone(zone).date(), time(0), zone)
            owner_shifts = case.shifts_of(agent_id, day_start, day_start + timedelta(days=1))
            shifts_txt = (
                "; that day: "
                + ", ".join(
                    f"{s['shift_id']} {local(s['starts_at'], tz)[-9:-4]}-{local(s['ends_at'], tz)[-9:-4]}"
                    for s in owner_shifts
                )
                if owner_shifts
                else ""
            )
            evidence.append(
                Evidence(
                    "OWNER_NOT_ON_SHIFT",
                    {"person": pname, "agent": agent_id, "when": when, "shifts": shifts_txt},
                    [eid, *(s["shift_id"] for s in owner_shifts)],
                )
            )
            if session is not None:
                own = [
                    s
                    for s in case.own_sessions(
                        agent_id, at - timedelta(hours=16), session["started_at"]
                    )
                    if s["session_id"] != session["session_id"]
                    and s.get("ended_at") is not None
                    and s["ended_at"] <= session["started_at"]
                ]
                if own:
                    last = owner_session = own[-1]
                    evidence.append(
                        Evidence(
                            "OWNER_LOGGED_OUT",
                            {
                                "person": pname,
                                "session": last["session_id"],
                                "device": last.get("device_id") or "?",
                                "ended": local(last["ended_at"], tz),
                                "event": eid,
                            },
                            [last["session_id"], eid],
                        )
                    )
        else:
            evidence.append(
                Evidence(
                    "OWNER_NOT_ROSTERED_STAFF",
                    {"agent": agent_id, "person": pname, "role": agent.get("role") or "?"},
                    [eid],
                )
            )

        # the ID itself: validity and status
        day = at.astimezone(ZoneInfo(tz)).date()
        problems = []
        if agent.get("valid_from") and day < agent["valid_from"]:
            problems.append(f"the ID is valid only from {agent['valid_from']}")
        if agent.get("valid_to") and day > agent["valid_to"]:
            problems.append(f"the ID ended on {agent['valid_to']}")
        if agent.get("status") in ("on_leave", "suspended", "terminated") and not here:
            problems.append(f"its owner is {agent['status']}")
        if problems:
            evidence.append(
                Evidence(
                    "ID_STATUS",
                    {
                        "agent": agent_id,
                        "person": pname,
                        "when": when,
                        "detail": "; ".join(problems),
                    },
                    [eid],
                )
            )

        if session is not None:
            for other in case.overlapping_elsewhere(session):
                evidence.append(
                    Evidence(
                        "ID_IN_TWO_PLACES",
                        {
                            "agent": agent_id,
                            "other_session": other["session_id"],
                            "device": other.get("device_id") or "?",
                            "ip": other.get("source_ip") or "?",
                        },
                        [session["session_id"], other["session_id"]],
                    )
                )

        if owner_on_shift is not True:
            if session is not None:
                terminal_before = case.terminal_before(session, policy.handover_minutes)
                if terminal_before is not None:
                    tb = terminal_before
                    tend = tb.get("ended_at") or tb["started_at"]
                    gap = max(0, int((session["started_at"] - tend).total_seconds() // 60))
                    tperson = case.person(tb["agent_id"]) or tb["agent_id"]
                    evidence.append(
                        Evidence(
                            "TERMINAL_HANDOVER",
                            {
                                "device": session.get("device_id") or "?",
                                "person": tperson,
                                "other_agent": tb["agent_id"],
                                "other_session": tb["session_id"],
                                "ended": local(tb.get("ended_at"), tz)
                                if tb.get("ended_at")
                                else "still open",
                                "minutes": gap,
                                "agent": agent_id,
                            },
                            [tb["session_id"], session["session_id"]],
                        )
                    )
                    duty = [d for d in on_duty if d["agent_id"] == tb["agent_id"]]
                    suspects.append(
                        {
                            "agent_id": tb["agent_id"],
                            "person": tperson,
                            "shift_id": duty[0]["shift_id"] if duty else None,
                            "duty": duty[0]["duty"] if duty else None,
                            "why": "terminal",
                            "record_ids": [tb["session_id"], *(d["shift_id"] for d in duty)],
                        }
                    )
            for d in on_duty:
                if d["agent_id"] == agent_id:
                    continue
                evidence.append(
                    Evidence(
                        "OTHER_ON_DUTY",
                        {
                            "person": d.get("person") or d["agent_id"],
                            "agent": d["agent_id"],
                            "outlet": oname,
                            "when": when,
                            "duty": d.get("duty") or "?",
                            "shift": d["shift_id"],
                        },
                        [d["shift_id"], eid],
                    )
                )
                if not any(s["agent_id"] == d["agent_id"] for s in suspects):
                    suspects.append(
                        {
                            "agent_id": d["agent_id"],
                            "person": d.get("person") or d["agent_id"],
                            "shift_id": d["shift_id"],
                            "duty": d.get("duty"),
                            "why": "on_duty",
                            "record_ids": [d["shift_id"]],
                        }
                    )

    # ---- the subscriber's handset
    if outlet is not None and outlet.get("kind") in IN_PERSON and outlet.get("city"):
        near = [
            loc
            for loc in case.records.get("locations", [])
            if abs(loc["at"] - at) <= LOCATION_WINDOW and loc.get("city")
        ]
        if near:
            loc = min(near, key=lambda loc: (abs(loc["at"] - at), loc["at"]))
            same = str(loc["city"]).casefold() == str(outlet["city"]).casefold()
            evidence.append(
                Evidence(
                    "HANDSET_AT_OUTLET" if same else "HANDSET_ELSEWHERE",
                    {
                        "city": loc["city"],
                        "loc_at": local(loc["at"], tz),
                        "outlet_city": outlet["city"],
                        "event": eid,
                    },
                    [location_id(loc), eid],
                )
            )

    return Action(
        event=ev,
        person=person,
        role=agent.get("role") if agent else None,
        inside_outlet_network=inside,
        address_outlet=addr_outlet,
        outlet_open=outlet_open,
        owner_on_shift=owner_on_shift,
        on_duty=on_duty,
        session=session,
        consent=consent,
        consent_valid=consent_valid,
        disputed=disputed,
        evidence=evidence,
        suspects=suspects,
        outlet=outlet,
        terminal_before=terminal_before,
        owner_shifts=owner_shifts,
        owner_session=owner_session,
    )
