"""The reasoning: from evidence codes to the five hypotheses and the verdict, with no weights.

Everything here is a table or an ordered list of rules, documented one for one
in ``docs/verdicts.md``:

``EFFECTS``
    which hypotheses each evidence code speaks for and against. Every evidence
    item of every action and charge is listed under those hypotheses.
``ALERT_EFFECTS``
    the same for the alerts of each detection rule, which corroborate but never
    decide: the verdict rests on the records alone, so it is the same whether or
    not detection has run.
``ACTION_RULES``
    the conclusion for one action: the first rule whose condition its evidence
    codes meet.
:func:`weigh`
    the hypotheses' ``supported`` flags and the verdict, from the actions'
    conclusions and the charges' codes (the order of precedence is in
    ``VERDICT_ORDER``).

Example::

    >>> conclude({"NO_CONSENT", "OWNER_NOT_ON_SHIFT", "TERMINAL_HANDOVER"})
    ('credential_misuse', 'A3')
    >>> conclude({"CONSENT_VERIFIED", "OUTLET_CLOSED"})
    ('customer_consented', 'A1')
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from jejak.investigate.charges import BILLING_ERRORS
from jejak.investigate.report import (
    HYPOTHESES,
    INSUFFICIENT,
    Action,
    Code,
    Evidence,
    Hypothesis,
    Verdict,
)

EXT, CRED, OWNER, CONS, BILL = HYPOTHESES
MISUSE = (EXT, CRED, OWNER)

#: evidence code -> (hypotheses it speaks for, hypotheses it speaks against)
EFFECTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "NO_CONSENT": (MISUSE, (CONS,)),
    "CONSENT_UNVERIFIED": (MISUSE, (CONS,)),
    "CONSENT_MISMATCH": (MISUSE, (CONS,)),
    "CONSENT_VERIFIED": ((CONS,), MISUSE),
    "ADDRESS_OUTSIDE_OPERATOR": ((EXT,), (CRED, OWNER)),
    "ADDRESS_OTHER_OUTLET": ((CRED,), ()),
    "ADDRESS_IN_OUTLET": ((), (EXT,)),
    "SESSION_MISSING": ((EXT,), ()),
    "SESSION_MISMATCH": ((EXT,), ()),
    "SESSION_MATCHES": ((), (EXT,)),
    "OUTLET_CLOSED": ((CRED, EXT), (CONS,)),
    "OWNER_NOT_ON_SHIFT": ((CRED,), (OWNER,)),
    "OWNER_ELSEWHERE": ((CRED,), (OWNER,)),
    "OWNER_ON_SHIFT": ((OWNER,), (CRED,)),
    "OWNER_NOT_ROSTERED_STAFF": ((OWNER,), ()),
    "OWNER_LOGGED_OUT": ((CRED,), (OWNER,)),
    "OTHER_ON_DUTY": ((CRED,), ()),
    "TERMINAL_HANDOVER": ((CRED,), (EXT, OWNER)),
    "ID_IN_TWO_PLACES": ((CRED,), (OWNER,)),
    "ID_STATUS": ((CRED,), (OWNER,)),
    "UNKNOWN_AGENT": ((EXT,), (OWNER,)),
    "HANDSET_ELSEWHERE": ((), (CONS,)),
    "HANDSET_AT_OUTLET": ((CONS,), ()),
    "CHARGE_AFTER_END": ((BILL,), ()),
    "CHARGE_DURING_PROMO": ((BILL,), ()),
    "CHARGE_ABOVE_PRICE": ((BILL,), ()),
    "CHARGE_NO_PROVISIONING": ((BILL,), ()),
    "CHARGE_FOLLOWS_PROVISIONING": ((CONS,), (BILL,)),
    "CHARGE_FROM_UNCONSENTED": ((), (CONS,)),
}

#: detection rule -> (hypotheses its alerts speak for, against)
ALERT_EFFECTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "JJK-001": ((CRED,), (OWNER,)),
    "JJK-002": ((CRED, EXT), (CONS,)),
    "JJK-003": ((EXT,), ()),
    "JJK-004": ((CRED,), (OWNER,)),
    "JJK-005": ((CRED,), (OWNER,)),
    "JJK-006": ((CRED,), ()),
    "JJK-007": (MISUSE, (CONS,)),
    "JJK-008": ((), (CONS,)),
    "JJK-009": ((CRED,), (OWNER,)),
    "JJK-010": (MISUSE, (CONS,)),
    "JJK-011": ((BILL,), ()),
    "JJK-012": ((BILL,), ()),
    "JJK-013": ((BILL,), ()),
    "JJK-014": ((BILL,), ()),
    "JJK-015": ((EXT,), ()),
    "JJK-016": ((OWNER, CRED), (CONS,)),
    "JJK-900": (MISUSE, ()),
}

Codes = set[str]

#: the conclusion for one action: the first rule whose condition holds (see docs/verdicts.md)
ACTION_RULES: tuple[tuple[str, str, Callable[[Codes], bool]], ...] = (
    ("A1", CONS, lambda c: "CONSENT_VERIFIED" in c),
    (
        "A2",
        EXT,
        lambda c: bool(
            c & {"ADDRESS_OUTSIDE_OPERATOR", "SESSION_MISSING", "SESSION_MISMATCH", "UNKNOWN_AGENT"}
        ),
    ),
    (
        "A3",
        CRED,
        lambda c: (
            bool(c & {"ID_IN_TWO_PLACES", "ID_STATUS"})
            or (
                bool(c & {"OWNER_NOT_ON_SHIFT", "OWNER_ELSEWHERE"})
                and bool(c & {"TERMINAL_HANDOVER", "OTHER_ON_DUTY"})
            )
        ),
    ),
    ("A4", OWNER, lambda c: bool(c & {"OWNER_ON_SHIFT", "OWNER_NOT_ROSTERED_STAFF"})),
)

#: which hypothesis the verdict names when several actions conclude differently (most first)
VERDICT_ORDER = (EXT, CRED, OWNER)

VERDICT_CODES = {
    EXT: "VERDICT_EXTERNAL",
    CRED: "VERDICT_CREDENTIAL",
    OWNER: "VERDICT_OWNER",
    CONS: "VERDICT_CONSENTED",
    BILL: "VERDICT_BILLING",
}

#: the evidence codes that explain a misuse verdict, in the order the reason cites them
WHY = {
    EXT: ("ADDRESS_OUTSIDE_OPERATOR", "SESSION_MISSING", "SESSION_MISMATCH", "UNKNOWN_AGENT"),
    CRED: (
        "OWNER_NOT_ON_SHIFT",
        "OWNER_ELSEWHERE",
        "OWNER_LOGGED_OUT",
        "ID_STATUS",
        "ID_IN_TWO_PLACES",
        "OUTLET_CLOSED",
        "TERMINAL_HANDOVER",
    ),
    OWNER: ("OWNER_ON_SHIFT", "OWNER_NOT_ROSTERED_STAFF", "SESSION_MATCHES"),
}


def conclude(codes: Codes) -> tuple[str, str]:
    """(hypothesis, rule id) for one action from its evidence codes; undecided is insufficient."""
    for rule_id, hyp, cond in ACTION_RULES:
        if cond(codes):
            return hyp, rule_id
    return INSUFFICIENT, "A5"


def _alert_evidence(alert: dict[str, Any]) -> Evidence:
    return Evidence(
        Code.ALERT,
        {
            "alert": alert["alert_id"],
            "rule": alert["rule"],
            "severity": alert["severity"],
            "explanation": alert["explanation"],
            # the alert's fields, for its words in another language (i18n.ALERT_ID)
            "agent_id": alert.get("agent_id"),
            "msisdn": alert.get("msisdn"),
            "outlet_id": alert.get("outlet_id"),
            "at": str(alert.get("at") or ""),
        },
        list(alert.get("record_ids") or []),
    )


def weigh(
    actions: list[Action],
    charges: list[dict[str, Any]],
    findings: list[dict[str, Any]],
    *,
    consented_elsewhere: bool,
) -> tuple[list[Hypothesis], Verdict]:
    """The five hypotheses, each with its evidence and whether it is supported, and the verdict.

    ``consented_elsewhere``: the line has actions under a user ID that verified
    consent covers (they are not in ``actions`` unless disputed).
    """
    hyps = {name: Hypothesis(name) for name in HYPOTHESES}

    def place(ev: Evidence, effects: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
        for h in effects[0]:
            hyps[h].evidence_for.append(ev)
        for h in effects[1]:
            hyps[h].evidence_against.append(ev)

    for a in actions:
        a.conclusion, _ = conclude({e.code for e in a.evidence})
        for ev in a.evidence:
            place(ev, EFFECTS[ev.code])
    disputed_charges = [c for c in charges if c["disputed"]]
    judged = disputed_charges if disputed_charges else charges
    for c in charges:
        for ev in c["evidence"]:
            place(ev, EFFECTS[ev.code])
    for f in findings:
        if f["rule"] in ALERT_EFFECTS and not f.get("suppressed_by"):
            place(_alert_evidence(f), ALERT_EFFECTS[f["rule"]])

    unconsented = [a for a in actions if not a.consent_valid]
    focus = [a for a in unconsented if a.disputed] or unconsented
    decided = Counter(a.conclusion for a in focus if a.conclusion in MISUSE)
    billing = [c for c in judged if set(c["codes"]) & set(BILLING_ERRORS)]
    consented = [a for a in actions if a.consent_valid]

    for h in MISUSE:
        hyps[h].supported = any(a.conclusion == h for a in unconsented)
    hyps[BILL].supported = bool(billing)
    hyps[CONS].supported = not unconsented and (bool(consented) or consented_elsewhere)

    if decided:
        top = max(decided.values())
        name = next(h for h in VERDICT_ORDER if decided.get(h) == top)
        chosen = [a for a in focus if a.conclusion == name]
        verdict = _misuse_verdict(name, chosen)
    elif billing:
        verdict = _billing_verdict(billing)
    elif focus:
        verdict = _insufficient(focus)
    elif hyps[CONS].supported:
        events = [a.event_id for a in consented]
        verdict = Verdict(
            CONS,
            False,
            VERDICT_CODES[CONS],
            {"events": ", ".join(events) or "every action of the line under a user ID"},
            events + [c["charge_id"] for c in disputed_charges],
        )
    else:
        verdict = Verdict(INSUFFICIENT, False, "VERDICT_INSUFFICIENT_EMPTY", {}, [])
    return [hyps[n] for n in HYPOTHESES], verdict


def _pick(actions: list[Action], codes: tuple[str, ...]) -> list[Evidence]:
    """The evidence of ``codes`` from the first action that has any, in ``codes`` order."""
    for a in actions:
        found = [e for code in codes for e in a.evidence if e.code == code]
        if found:
            return found
    return []


def _misuse_verdict(name: str, chosen: list[Action]) -> Verdict:
    first = chosen[0]
    agent = first.event.get("agent_id") or "?"
    owner = first.person or agent
    events = ", ".join(a.event_id for a in chosen)
    why = _pick(chosen, WHY[name])
    ids = sorted({i for a in chosen for i in [a.event_id]} | {i for e in why for i in e.record_ids})
    suspects: list[dict[str, Any]] = []
    parts: dict[str, list[Evidence]] = {"why": why}
    if name == CRED:
        for a in chosen:
            for s in a.suspects:
                if not any(x["agent_id"] == s["agent_id"] for x in suspects):
                    suspects.append(s)
        # the person at the terminal first, then those rostered there
        suspects.sort(key=lambda s: (s["why"] != "terminal", s["agent_id"]))
        lines = []
        if suspects:
            s = suspects[0]
            if s.get("shift_id"):
                lines.append(
                    Evidence(
                        Code.SUSPECT_ON_DUTY,
                        {
                            "person": s["person"],
                            "agent": s["agent_id"],
                            "duty": s.get("duty") or "?",
                            "shift": s["shift_id"],
                        },
                        list(s["record_ids"]),
                    )
                )
            else:
                lines.append(
                    Evidence(
                        Code.SUSPECT,
                        {"person": s["person"], "agent": s["agent_id"]},
                        list(s["record_ids"]),
                    )
                )
            ids = sorted(set(ids) | set(s["record_ids"]))
        parts["suspects"] = lines
    return Verdict(
        name,
        True,
        VERDICT_CODES[name],
        {"agent": agent, "owner": owner, "events": events},
        ids,
        suspects=suspects,
        parts=parts,
    )


def _billing_verdict(billing: list[dict[str, Any]]) -> Verdict:
    why = [e for c in billing for e in c["evidence"] if e.code in BILLING_ERRORS]
    ids = sorted({i for e in why for i in e.record_ids})
    return Verdict(BILL, True, VERDICT_CODES[BILL], {}, ids, parts={"why": why})


def _insufficient(focus: list[Action]) -> Verdict:
    events = ", ".join(a.event_id for a in focus)
    why = [e for a in focus[:1] for e in a.evidence if e.code not in ("NO_CONSENT",)][:3]
    return Verdict(
        INSUFFICIENT,
        True,
        "VERDICT_INSUFFICIENT_UNCONSENTED",
        {"events": events},
        sorted({a.event_id for a in focus}),
        parts={"why": why},
    )
