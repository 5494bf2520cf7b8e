"""Writes the rule fixtures under ``src/jejak/rules/fixtures/<rule>/{positive,negative}/``.

The fixtures are committed; this script is how they were made and how to
change them consistently (``python tests/detect/build_fixtures.py``). Each is a
tiny operator export: a base world where nothing is wrong (one outlet in
Sragen, two staff user IDs on the day shift, one consented activation), plus
the change that makes the rule fire (positive) or the nearest legitimate case
that must not (negative). ``expect.json`` names the record ids that must be /
must not be evidence of an alert of that rule.
"""

from __future__ import annotations

import copy
import csv
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "src" / "jejak" / "rules" / "fixtures"
D = "2016-07-18"  # a Monday
M1 = "6281200000001"

FIELDS = {
    "outlets": "outlet_id,name,kind,region,city,timezone,opens,closes,open_days,networks",
    "agents": "agent_id,person,role,outlet_id,status,valid_from,valid_to",
    "packages": "package_id,name,price,period_days,data_mb,auto_renew",
    "subscribers": "msisdn,plan,home_region,since,status",
    "shifts": "shift_id,agent_id,outlet_id,starts_at,ends_at,duty",
    "sessions": "session_id,agent_id,started_at,ended_at,source_ip,device_id,auth",
    "consents": "consent_id,msisdn,at,method,verified,evidence",
    "provisioning": "event_id,at,msisdn,action,package_id,channel,agent_id,session_id,outlet_id,source_ip,device_id,consent_id,price,promo_ends",
    "charges": "charge_id,msisdn,cycle,at,package_id,amount,kind,description",
    "complaints": "complaint_id,msisdn,opened_at,channel,category,summary,disputed_charge_ids,disputed_amount,status,closed_at,resolution",
    "line_actions": "action_id,msisdn,at,action,reason,amount_due,agent_id",
    "notifications": "notification_id,msisdn,at,channel,type,package_id,text",
    "locations": "msisdn,at,region,city,cell_id",
}


def t(day: str, hhmm: str) -> str:
    return f"{day}T{hhmm}:00+07:00"


def ev(eid: str, at: str, **kw: Any) -> dict[str, Any]:
    row = {
        "event_id": eid,
        "at": at,
        "msisdn": M1,
        "action": "activate",
        "package_id": "DATA12GB",
        "channel": "outlet",
        "agent_id": "1001",
        "session_id": "SE1",
        "outlet_id": "SRG",
        "source_ip": "10.20.30.12",
        "device_id": "SRG-PC-02",
        "consent_id": "",
        "price": 250000,
        "promo_ends": "",
    }
    row.update(kw)
    return row


def co(cid: str, at: str, msisdn: str = M1, verified: str = "true") -> dict[str, Any]:
    return {
        "consent_id": cid,
        "msisdn": msisdn,
        "at": at,
        "method": "sms_otp",
        "verified": verified,
        "evidence": f"otp://{cid}",
    }


def ses(sid: str, agent: str, start: str, end: str, ip: str, dev: str) -> dict[str, Any]:
    return {
        "session_id": sid,
        "agent_id": agent,
        "started_at": start,
        "ended_at": end,
        "source_ip": ip,
        "device_id": dev,
        "auth": "password",
    }


def sh(
    sid: str, agent: str, start: str, end: str, duty: str = "regular", outlet: str = "SRG"
) -> dict[str, Any]:
    return {
        "shift_id": sid,
        "agent_id": agent,
        "outlet_id": outlet,
        "starts_at": start,
        "ends_at": end,
        "duty": duty,
    }


def agent(
    aid: str,
    person: str,
    outlet: str = "SRG",
    status: str = "active",
    valid_from: str = "2015-01-01",
    valid_to: str = "",
) -> dict[str, Any]:
    return {
        "agent_id": aid,
        "person": person,
        "role": "cs",
        "outlet_id": outlet,
        "status": status,
        "valid_from": valid_from,
        "valid_to": valid_to,
    }


def base() -> dict[str, list[dict[str, Any]]]:
    """A clean day at GraPARI Sragen: one consented activation in the owner's shift."""
    return {
        "outlets": [
            {
                "outlet_id": "SRG",
                "name": "GraPARI Sragen",
                "kind": "service_center",
                "region": "Jateng",
                "city": "Sragen",
                "timezone": "Asia/Jakarta",
                "opens": "08:00",
                "closes": "16:00",
                "open_days": "Mon-Sat",
                "networks": "10.20.30.0/24",
            },
            {
                "outlet_id": "JKT",
                "name": "GraPARI Wisma Jakarta",
                "kind": "service_center",
                "region": "Jabotabek",
                "city": "Jakarta",
                "timezone": "Asia/Jakarta",
                "opens": "08:00",
                "closes": "17:00",
                "open_days": "Mon-Sat",
                "networks": "10.10.1.0/24",
            },
        ],
        "agents": [agent("1001", "Sri Wahyuni"), agent("1002", "Budi Santoso")],
        "packages": [
            {
                "package_id": "DATA12GB",
                "name": "Paket Data 12GB",
                "price": 250000,
                "period_days": 30,
                "data_mb": 12288,
                "auto_renew": "true",
            },
            {
                "package_id": "DATA3GB",
                "name": "Paket Data 3GB",
                "price": 60000,
                "period_days": 30,
                "data_mb": 3072,
                "auto_renew": "true",
            },
        ],
        "subscribers": [
            {
                "msisdn": M1,
                "plan": "postpaid",
                "home_region": "Jateng",
                "since": "2014-01-01",
                "status": "active",
            }
        ],
        "shifts": [
            sh("SH1", "1001", t(D, "08:00"), t(D, "16:00")),
            sh("SH2", "1002", t(D, "08:00"), t(D, "16:00")),
        ],
        "sessions": [
            ses("SE1", "1001", t(D, "07:58"), t(D, "16:02"), "10.20.30.12", "SRG-PC-02"),
            ses("SE2", "1002", t(D, "07:55"), t(D, "16:05"), "10.20.30.17", "SRG-PC-07"),
        ],
        "consents": [co("CO1", t(D, "10:00"))],
        "provisioning": [ev("EV1", t(D, "10:01"), consent_id="CO1")],
    }


World = dict[str, list[dict[str, Any]]]


def with_(w: World, kind: str, *rows: dict[str, Any]) -> World:
    w = copy.deepcopy(w)
    w.setdefault(kind, []).extend(rows)
    return w


def replace(w: World, kind: str, *rows: dict[str, Any]) -> World:
    w = copy.deepcopy(w)
    w[kind] = list(rows)
    return w


def peers(unconsented_by_1001: int, unconsented_each: int) -> World:
    w = base()
    agents, prov, consents = [], [], []
    n = 0
    for i in range(10):
        aid = f"20{i:02d}"
        agents.append(agent(aid, f"Agent {i}"))
        for _k in range(3):
            n += 1
            consents.append(co(f"CP{n}", t(D, "11:00")))
            prov.append(
                ev(f"EP{n}", t(D, "11:01"), agent_id=aid, consent_id=f"CP{n}", session_id="")
            )
        for _k in range(unconsented_each):
            n += 1
            prov.append(ev(f"EP{n}", t(D, "12:00"), agent_id=aid, session_id=""))
    for k in range(unconsented_by_1001):
        prov.append(ev(f"EX{k + 1}", t(D, f"13:0{k}")))
    w = with_(w, "agents", *agents)
    w = with_(w, "consents", *consents)
    return with_(w, "provisioning", *prov)


def high_value_peers(high_by_1001: int, low_by_1001: int) -> World:
    """Ten peer user IDs selling one 12 GB package in four; user ID 1001 sells what it is given."""
    w = base()
    agents, prov = [], []
    n = 0
    for i in range(10):
        aid = f"20{i:02d}"
        agents.append(agent(aid, f"Agent {i}"))
        for k in range(4):
            n += 1
            low = {} if k == 0 else {"package_id": "DATA3GB", "price": 60000}
            prov.append(ev(f"EP{n}", t(D, "11:01"), agent_id=aid, session_id="", **low))
    for k in range(high_by_1001):
        prov.append(ev(f"EH{k + 1}", t(D, f"13:{k:02d}")))
    for k in range(low_by_1001):
        prov.append(ev(f"EL{k + 1}", t(D, f"14:{k:02d}"), package_id="DATA3GB", price=60000))
    w = with_(w, "agents", *agents)
    return with_(w, "provisioning", *prov)


def billing(charge: dict[str, Any], act: dict[str, Any], *extra_prov: dict[str, Any]) -> World:
    w = replace(base(), "provisioning", act, *extra_prov)
    w = with_(w, "consents", co("CO7", t("2016-07-01", "10:00")))
    return with_(w, "charges", charge)


def ch(cid: str, at: str, amount: int, pkg: str = "DATA12GB") -> dict[str, Any]:
    return {
        "charge_id": cid,
        "msisdn": M1,
        "cycle": at[:7],
        "at": at,
        "package_id": pkg,
        "amount": amount,
        "kind": "package",
        "description": "Paket",
    }


ACT = ev("EA", t("2016-07-01", "10:01"), consent_id="CO7")
PROMO = ev("EA", t("2016-07-01", "10:01"), consent_id="CO7", price=0, promo_ends="2016-12-31")
DEACT = ev(
    "ED",
    t("2016-12-20", "00:05"),
    action="deactivate",
    channel="system",
    agent_id="",
    session_id="",
    outlet_id="SRG",
    consent_id="",
    price=0,
)
COMPLAINT = {
    "complaint_id": "TCK1",
    "msisdn": M1,
    "opened_at": t("2017-02-06", "10:12"),
    "channel": "call_center",
    "category": "billing",
    "summary": "tagihan salah",
    "disputed_charge_ids": "CH1;CH2",
    "disputed_amount": 500000,
}


def bar(at: str) -> dict[str, Any]:
    return {
        "action_id": "LA1",
        "msisdn": M1,
        "at": at,
        "action": "bar_all",
        "reason": "non_payment",
        "amount_due": 500000,
        "agent_id": "",
    }


CASES: dict[str, dict[str, tuple[Callable[[], World], dict[str, Any]]]] = {
    "JJK-001": {
        "positive": (
            lambda: with_(base(), "provisioning", ev("EV2", t(D, "18:00"), consent_id="CO1")),
            {"flagged": ["EV2"]},
        ),
        "negative": (
            lambda: with_(
                with_(base(), "shifts", sh("SH3", "1001", t(D, "16:00"), t(D, "22:00"), "on_call")),
                "provisioning",
                ev("EV2", t(D, "18:00"), consent_id="CO1"),
            ),
            {"not_flagged": ["EV1", "EV2"]},
        ),
    },
    "JJK-002": {
        "positive": (
            lambda: with_(base(), "provisioning", ev("EV2", t(D, "18:00"), consent_id="CO1")),
            {"flagged": ["EV2"]},
        ),
        "negative": (
            lambda: with_(
                with_(base(), "shifts", sh("SH3", "1001", t(D, "16:00"), t(D, "22:00"), "on_call")),
                "provisioning",
                ev("EV2", t(D, "18:00"), consent_id="CO1"),
            ),
            {"not_flagged": ["EV1", "EV2"]},
        ),
    },
    "JJK-003": {
        "positive": (
            lambda: with_(
                base(),
                "provisioning",
                ev("EV2", t(D, "11:00"), consent_id="CO1", source_ip="203.0.113.5"),
                ev("EV3", t(D, "11:30"), consent_id="CO1", source_ip="10.10.1.9"),
            ),
            {"flagged": ["EV2", "EV3"], "severity": {"EV2": "critical", "EV3": "high"}},
        ),
        "negative": (
            lambda: with_(
                base(),
                "provisioning",
                ev("EV2", t(D, "11:00"), consent_id="CO1", source_ip="10.20.30.250"),
            ),
            {"not_flagged": ["EV1", "EV2"]},
        ),
    },
    "JJK-004": {
        "positive": (
            lambda: with_(
                with_(
                    with_(
                        base(), "shifts", sh("SH3", "1002", t(D, "16:00"), t(D, "22:00"), "on_call")
                    ),
                    "sessions",
                    ses("SE3", "1002", t(D, "18:01"), t(D, "20:58"), "10.20.30.17", "SRG-PC-07"),
                    ses("SE4", "1001", t(D, "21:05"), t(D, "21:50"), "10.20.30.17", "SRG-PC-07"),
                ),
                "provisioning",
                ev("EV2", t(D, "21:14"), session_id="SE4", device_id="SRG-PC-07"),
            ),
            {"flagged": ["SE3", "SE4", "EV2"]},
        ),
        "negative": (
            lambda: with_(
                with_(
                    with_(
                        base(), "shifts", sh("SH3", "1001", t(D, "16:00"), t(D, "22:00"), "on_call")
                    ),
                    "sessions",
                    ses("SE3", "1002", t(D, "16:06"), t(D, "16:20"), "10.20.30.17", "SRG-PC-07"),
                    ses("SE4", "1001", t(D, "16:30"), t(D, "21:50"), "10.20.30.17", "SRG-PC-07"),
                ),
                "provisioning",
                ev("EV2", t(D, "17:14"), session_id="SE4", consent_id="CO1"),
            ),
            {"not_flagged": ["SE3", "SE4", "EV2"]},
        ),
    },
    "JJK-005": {
        "positive": (
            lambda: with_(
                base(),
                "sessions",
                ses("SE3", "1001", t(D, "12:00"), t(D, "12:30"), "10.10.1.5", "JKT-PC-01"),
            ),
            {"flagged": ["SE1", "SE3"]},
        ),
        "negative": (
            lambda: with_(
                base(),
                "sessions",
                ses("SE3", "1001", t(D, "17:00"), t(D, "17:30"), "10.10.1.5", "JKT-PC-01"),
            ),
            {"not_flagged": ["SE1", "SE3"]},
        ),
    },
    "JJK-006": {
        "positive": (
            lambda: with_(
                base(),
                "provisioning",
                ev("EV2", t(D, "11:00"), outlet_id="JKT", consent_id="CO1", source_ip="10.10.1.5"),
            ),
            {"flagged": ["EV1", "EV2"]},
        ),
        "negative": (
            lambda: with_(
                base(),
                "provisioning",
                ev(
                    "EV2",
                    t("2016-07-19", "11:00"),
                    outlet_id="JKT",
                    consent_id="CO1",
                    source_ip="10.10.1.5",
                ),
            ),
            {"not_flagged": ["EV1", "EV2"]},
        ),
    },
    "JJK-007": {
        "positive": (
            lambda: with_(
                with_(base(), "consents", co("CO2", t(D, "10:59"), verified="false")),
                "provisioning",
                ev("EV2", t(D, "10:30")),
                ev("EV3", t(D, "11:00"), consent_id="CO2"),
            ),
            {"flagged": ["EV2", "EV3"]},
        ),
        "negative": (
            lambda: with_(
                with_(base(), "consents", co("CO2", t(D, "10:59"))),
                "provisioning",
                ev("EV3", t(D, "11:00"), consent_id="CO2"),
            ),
            {"not_flagged": ["EV1", "EV3"]},
        ),
    },
    "JJK-008": {
        "positive": (
            lambda: with_(
                base(),
                "locations",
                {
                    "msisdn": M1,
                    "at": t(D, "09:30"),
                    "region": "Jabotabek",
                    "city": "Jakarta",
                    "cell_id": "JKT-1",
                },
            ),
            {"flagged": ["EV1"]},
        ),
        "negative": (
            lambda: with_(
                base(),
                "locations",
                {
                    "msisdn": M1,
                    "at": t(D, "09:30"),
                    "region": "Jateng",
                    "city": "Sragen",
                    "cell_id": "SRG-1",
                },
            ),
            {"not_flagged": ["EV1"]},
        ),
    },
    "JJK-009": {
        "positive": (
            lambda: with_(
                with_(
                    base(),
                    "agents",
                    agent("1003", "Former", valid_to="2016-06-30", status="terminated"),
                    agent("1004", "Away", status="on_leave"),
                ),
                "provisioning",
                ev("EV2", t(D, "11:00"), agent_id="1003", consent_id="CO1"),
                ev("EV3", t(D, "11:30"), agent_id="1004", consent_id="CO1"),
            ),
            {"flagged": ["EV2", "EV3"], "severity": {"EV2": "critical", "EV3": "high"}},
        ),
        "negative": (
            lambda: with_(
                with_(
                    with_(base(), "agents", agent("1004", "Away", status="on_leave")),
                    "shifts",
                    sh("SH4", "1004", t(D, "08:00"), t(D, "16:00")),
                ),
                "provisioning",
                ev("EV3", t(D, "11:30"), agent_id="1004", consent_id="CO1"),
            ),
            {"not_flagged": ["EV1", "EV3"]},
        ),
    },
    "JJK-010": {
        "positive": (lambda: peers(5, 0), {"flagged": ["EX1", "EX5"]}),
        "negative": (lambda: peers(1, 1), {"not_flagged": ["EX1", "EP4"]}),
    },
    "JJK-011": {
        "positive": (
            lambda: billing(ch("CH1", t("2017-02-01", "01:00"), 250000), ACT, DEACT),
            {"flagged": ["CH1", "ED"]},
        ),
        "negative": (
            lambda: billing(ch("CH1", t("2016-12-01", "01:00"), 250000), ACT, DEACT),
            {"not_flagged": ["CH1"]},
        ),
    },
    "JJK-012": {
        "positive": (
            lambda: billing(ch("CH1", t("2016-09-01", "01:00"), 250000), PROMO),
            {"flagged": ["CH1", "EA"]},
        ),
        "negative": (
            lambda: billing(ch("CH1", t("2017-01-01", "01:00"), 250000), PROMO),
            {"not_flagged": ["CH1"]},
        ),
    },
    "JJK-013": {
        "positive": (
            lambda: billing(
                ch("CH1", t("2016-08-01", "01:00"), 250000, "DATA3GB"),
                ev(
                    "EA",
                    t("2016-07-01", "10:01"),
                    consent_id="CO7",
                    package_id="DATA3GB",
                    price=60000,
                ),
            ),
            {"flagged": ["CH1", "EA"]},
        ),
        "negative": (
            lambda: billing(
                ch("CH1", t("2016-08-01", "01:00"), 60000, "DATA3GB"),
                ev(
                    "EA",
                    t("2016-07-01", "10:01"),
                    consent_id="CO7",
                    package_id="DATA3GB",
                    price=60000,
                ),
            ),
            {"not_flagged": ["CH1"]},
        ),
    },
    "JJK-014": {
        "positive": (
            lambda: with_(
                with_(base(), "complaints", COMPLAINT),
                "line_actions",
                bar(t("2017-03-10", "09:00")),
            ),
            {"flagged": ["LA1", "TCK1", "CH1", "CH2"]},
        ),
        "negative": (
            lambda: with_(
                with_(base(), "complaints", COMPLAINT),
                "line_actions",
                bar(t("2017-01-10", "09:00")),
            ),
            {"not_flagged": ["LA1"]},
        ),
    },
    "JJK-015": {
        "positive": (
            lambda: with_(
                base(),
                "provisioning",
                ev("EV2", t(D, "11:00"), agent_id="9999", consent_id="CO1"),
                ev("EV3", t(D, "11:10"), session_id="SE99", consent_id="CO1"),
                ev("EV4", t(D, "11:20"), consent_id="CO99"),
            ),
            {"flagged": ["EV2", "EV3", "EV4"], "severity": {"EV2": "high", "EV3": "medium"}},
        ),
        "negative": (lambda: base(), {"not_flagged": ["EV1"]}),
    },
    "JJK-016": {
        "positive": (lambda: high_value_peers(8, 0), {"flagged": ["EH1", "EH8"]}),
        "negative": (lambda: high_value_peers(10, 30), {"not_flagged": ["EH1", "EV1", "EP1"]}),
    },
}


def habit(early: str, days: int = 5) -> World:
    """User ID 1001 rostered 08:00-16:00 on the ``days`` weekdays before D, logging in at ``early``."""
    w = base()
    shifts, sessions = [], []
    for k in range(days):
        day = f"2016-07-{11 + k:02d}"
        shifts.append(sh(f"SHH{k}", "1001", t(day, "08:00"), t(day, "16:00")))
        sessions.append(
            ses(f"SEH{k}", "1001", t(day, early), t(day, "16:02"), "10.20.30.12", "SRG-PC-02")
        )
    return with_(with_(w, "shifts", *shifts), "sessions", *sessions)


def takeover(login: str) -> World:
    """1002 used SRG-PC-07 early in the morning; 1001 (shift from 08:00) logs in on it at ``login``."""
    w = with_(
        base(),
        "sessions",
        ses("SE3", "1002", t(D, "06:40"), t(D, "07:20"), "10.20.30.17", "SRG-PC-07"),
        ses("SE4", "1001", t(D, login), t(D, "12:00"), "10.20.30.17", "SRG-PC-07"),
    )
    return with_(w, "provisioning", ev("EV2", t(D, "09:14"), session_id="SE4", consent_id="CO1"))


def on_leave_after(day: str, hhmm: str) -> World:
    """1004's last shift is on D (08:00-16:00); HR says she is on leave now; activity at day hhmm."""
    w = with_(base(), "agents", agent("1004", "Away", status="on_leave"))
    w = with_(w, "shifts", sh("SH4", "1004", t(D, "08:00"), t(D, "16:00")))
    w = with_(w, "consents", co("CO4", t(day, hhmm)))
    return with_(w, "provisioning", ev("EV3", t(day, hhmm), agent_id="1004", consent_id="CO4"))


def closed_complaint(status: str, closed: str, resolution: str) -> World:
    c = dict(COMPLAINT, status=status, closed_at=closed, resolution=resolution)
    return with_(with_(base(), "complaints", c), "line_actions", bar(t("2017-03-10", "09:00")))


#: fixtures at the edges of a rule, beside its positive and negative one: (rule, name) ->
#: (world, expect); a name starting ``positive`` must be flagged, ``negative`` must not
EDGES: dict[tuple[str, str], tuple[Callable[[], World], dict[str, Any]]] = {
    ("JJK-001", "negative-login-4-minutes-early"): (
        lambda: with_(base(), "provisioning", ev("EV2", t(D, "07:56"), consent_id="CO1")),
        {"not_flagged": ["EV2"]},
    ),
    ("JJK-001", "positive-40-minutes-early"): (
        lambda: with_(base(), "provisioning", ev("EV2", t(D, "07:20"), consent_id="CO1")),
        {"flagged": ["EV2"]},
    ),
    ("JJK-001", "negative-own-habit-30-minutes-early"): (
        lambda: with_(habit("07:30"), "provisioning", ev("EV2", t(D, "07:35"), consent_id="CO1")),
        {"not_flagged": ["EV2"]},
    ),
    ("JJK-001", "positive-beyond-own-habit"): (
        lambda: with_(habit("07:30"), "provisioning", ev("EV2", t(D, "06:50"), consent_id="CO1")),
        {"flagged": ["EV2"]},
    ),
    ("JJK-002", "negative-last-customer-4-minutes-after-closing"): (
        lambda: with_(base(), "provisioning", ev("EV2", t(D, "16:04"), consent_id="CO1")),
        {"not_flagged": ["EV2"]},
    ),
    ("JJK-002", "positive-40-minutes-after-closing"): (
        lambda: with_(base(), "provisioning", ev("EV2", t(D, "16:40"), consent_id="CO1")),
        {"flagged": ["EV2"]},
    ),
    ("JJK-004", "negative-login-4-minutes-before-shift"): (
        lambda: takeover("07:56"),
        {"not_flagged": ["SE3", "SE4", "EV2"]},
    ),
    ("JJK-004", "positive-login-40-minutes-before-shift"): (
        lambda: takeover("07:20"),
        {"flagged": ["SE3", "SE4", "EV2"]},
    ),
    ("JJK-009", "negative-day-before-leave-begins"): (
        lambda: on_leave_after(D, "17:30"),
        {"not_flagged": ["EV3"]},
    ),
    ("JJK-009", "positive-two-days-into-leave"): (
        lambda: on_leave_after("2016-07-20", "11:00"),
        {"flagged": ["EV3"], "severity": {"EV3": "high"}},
    ),
    ("JJK-014", "negative-complaint-closed-before-bar"): (
        lambda: closed_complaint("closed", t("2017-03-01", "10:00"), "rejected"),
        {"not_flagged": ["LA1"]},
    ),
    ("JJK-014", "positive-complaint-closed-after-bar"): (
        lambda: closed_complaint("closed", t("2017-03-20", "10:00"), "rejected"),
        {"flagged": ["LA1", "TCK1"]},
    ),
    ("JJK-014", "positive-complaint-upheld-before-bar"): (
        lambda: closed_complaint("closed", t("2017-03-01", "10:00"), "upheld"),
        {"flagged": ["LA1", "TCK1"]},
    ),
    ("JJK-014", "positive-status-open"): (
        lambda: closed_complaint("open", "", ""),
        {"flagged": ["LA1", "TCK1"]},
    ),
}


def write(folder: Path, world: World, expect: dict[str, Any]) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for kind, rows in sorted(world.items()):
        cols = FIELDS[kind].split(",")
        with open(folder / f"{kind}.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, cols, lineterminator="\n")
            w.writeheader()
            for r in rows:
                w.writerow({c: r.get(c, "") for c in cols})
    (folder / "expect.json").write_text(json.dumps(expect, indent=2, sort_keys=True) + "\n")


def main() -> None:
    for rule, sides in CASES.items():
        for side, (make, expect) in sides.items():
            write(FIXTURES / rule / side, make(), expect)
    for (rule, name), (make, expect) in EDGES.items():
        write(FIXTURES / rule / name, make(), expect)


if __name__ == "__main__":
    main()
