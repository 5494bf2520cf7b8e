"""Who a report is for: the operator's staff, or the complaining subscriber.

The **staff** report is the whole evidence: every record, person, user ID,
session, terminal, address, alert and the other subscribers reached the same
way. The **customer** report is the one that can be handed to the subscriber:

- the subscriber's own records only (no other subscriber's number: no blast
  radius, no entity graph);
- of each disputed action, only the fields the case policy lets a customer
  see (:data:`CUSTOMER_ACTION_FIELDS`; the customer's case page in the web
  layer shows the same, through :func:`customer_action`), a staff member's
  name only when the policy's ``show_staff_names`` says so;
- no internal address (no IP address, terminal, session, shift or cell id) and
  no alert id: of the evidence, only the statements in :data:`CUSTOMER_CODES`,
  whose parameters are the subscriber's own records;
- and it opens with a plain-language summary (:func:`plain_summary`), in the
  report's language.

The investigation itself is the same for both: only what is shown differs,
so ``report.for_audience("customer")`` and the renderers are all it takes.

Example::

    >>> a = audience("customer", show_staff_names=False)
    >>> a.customer, a.show_staff_names
    (True, False)
    >>> customer_action({"agent_id": "16009045", "person": "Sri Wahyuni", "consent": None,
    ...                  "source_ip": "10.20.30.17"}, show_staff_names=False)["person"] is None
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jejak.errors import UsageError
from jejak.investigate.i18n import idr, label, local, plain, value

if TYPE_CHECKING:
    from jejak.investigate.report import Action, Evidence, Report

AUDIENCES = ("staff", "customer")

#: what a customer may see of a disputed action (the case policy's fields): ``person`` only when
#: the policy shows staff names, ``consent`` as whether one is on record at all
CUSTOMER_ACTION_FIELDS = (
    "event_id",
    "at",
    "package_id",
    "user_id",
    "person",
    "outlet_id",
    "outlet_name",
    "outlet_open",
    "inside_outlet_network",
    "owner_on_shift",
    "consent",
)

#: evidence a customer may read: statements whose parameters are the subscriber's own records
#: (events, consents, charges, packages, the outlet's name and hours, the handset's city). Left
#: out: addresses (ADDRESS_*), sessions and terminals (SESSION_*, TERMINAL_HANDOVER,
#: ID_IN_TWO_PLACES), staff and rosters (OWNER_*, OTHER_ON_DUTY, ID_STATUS, UNKNOWN_AGENT,
#: SUSPECT*), alerts (ALERT) and CONSENT_MISMATCH (it may name the number a consent was for).
CUSTOMER_CODES = frozenset(
    {
        "NO_CONSENT",
        "CONSENT_VERIFIED",
        "CONSENT_UNVERIFIED",
        "OUTLET_CLOSED",
        "HANDSET_AT_OUTLET",
        "HANDSET_ELSEWHERE",
        "CHARGE_FOLLOWS_PROVISIONING",
        "CHARGE_FROM_UNCONSENTED",
        "CHARGE_NO_PROVISIONING",
        "CHARGE_AFTER_END",
        "CHARGE_DURING_PROMO",
        "CHARGE_ABOVE_PRICE",
        "REMEDY_REFUND",
        "REMEDY_NO_REFUND",
        "REMEDY_UNBAR",
        "REMEDY_UNBAR_DISPUTE",
        "REMEDY_DISPUTE_BAR",
        "REMEDY_STILL_BARRED",
        "REMEDY_BAR_STANDS",
    }
)


@dataclass(frozen=True)
class Audience:
    """Who reads the report: ``staff`` (everything) or ``customer``; for a customer, whether the
    case policy shows staff names (``jejak.cases.policy.Policy.show_staff_names``)."""

    name: str = "staff"
    show_staff_names: bool = False

    @property
    def customer(self) -> bool:
        return self.name == "customer"


STAFF = Audience()


def audience(value: str | Audience | None, *, show_staff_names: bool = False) -> Audience:
    """``--audience``: ``staff`` (the default) or ``customer``; a UsageError for anything else."""
    if isinstance(value, Audience):
        return value
    name = (value or "staff").strip().lower()
    if name not in AUDIENCES:
        raise UsageError(
            "--audience", f"unknown audience {value!r} (choose from: {', '.join(AUDIENCES)})"
        )
    return Audience(name, show_staff_names=show_staff_names and name == "customer")


def customer_action(action: dict[str, Any], *, show_staff_names: bool) -> dict[str, Any]:
    """One disputed action (an ``actions`` item of the report's JSON) as a customer may see it:
    the fields of :data:`CUSTOMER_ACTION_FIELDS` and nothing else."""
    return {
        "event_id": action.get("event_id"),
        "at": action.get("at"),
        "package_id": action.get("package_id"),
        "user_id": action.get("agent_id"),
        "person": action.get("person") if show_staff_names else None,
        "outlet_id": action.get("outlet_id"),
        "outlet_name": action.get("outlet_name"),
        "outlet_open": action.get("outlet_open"),
        "inside_outlet_network": action.get("inside_outlet_network"),
        "owner_on_shift": action.get("owner_on_shift"),
        "consent": action.get("consent") is not None,
    }


def customer_evidence(items: list[Evidence]) -> list[Evidence]:
    """The evidence items a customer may read (:data:`CUSTOMER_CODES`)."""
    return [e for e in items if str(e.code) in CUSTOMER_CODES]


def own_ids(report: Report) -> set[str]:
    """The ids of the subscriber's own records (the chronology's): the only ones a customer's
    report cites."""
    return {c.record_id for c in report.chronology}


def _when(report: Report, at: Any) -> str:
    return local(at, report.timezone)


def _action_sentences(report: Report, a: Action, lang: str, names: bool) -> list[str]:
    e = a.event
    verb = label(f"verb.{e.get('action')}", lang) if f"verb.{e.get('action')}" in _VERBS else None
    outlet = (a.outlet or {}).get("name") or e.get("outlet_id")
    params = {
        "when": _when(report, e["at"]),
        "package": e.get("package_id") or "?",
        "verb": verb or value(e.get("action"), lang),
        "outlet": outlet or value(e.get("channel"), lang),
        "agent": e.get("agent_id") or "",
        "person": f" ({a.person})" if names and a.person else "",
    }
    key = "plain.action" if e.get("agent_id") else "plain.action_no_agent"
    said = [plain(key, lang, **params)]
    said.append(plain("plain.consent" if a.consent_valid else "plain.no_consent", lang))
    if a.outlet_open is False:
        said.append(plain("plain.outlet_closed", lang))
    if a.inside_outlet_network is False:
        said.append(plain("plain.outside_network", lang))
    if a.owner_on_shift is False and e.get("agent_id"):
        said.append(plain("plain.owner_off", lang))
    return said


_VERBS = {"verb.activate", "verb.renew", "verb.modify", "verb.deactivate", "verb.expire"}


def plain_verdict(report: Report, lang: str = "en") -> str:
    """The verdict as the customer reads it: what was found and who bears the loss, naming no
    one (the staff's reason names people, terminals and sessions)."""
    v = report.verdict
    key = f"plain.verdict.{v.hypothesis}"
    if v.hypothesis == "insufficient_evidence":
        key += ".liable" if v.operator_liable else ".not_liable"
    return plain(key, lang)


def plain_summary(report: Report, lang: str = "en") -> list[str]:
    """The customer report's opening, paragraph by paragraph, in ``lang``: what was complained
    of and what was checked; what happened (one paragraph per disputed action); the finding; what
    the subscriber gets; where the details are.

    Every value in it is the subscriber's own (their number, records, amounts), the user ID and
    outlet of a disputed action, and a staff name only where the audience shows names.
    """
    names = report.audience.show_staff_names
    c = report.complaint
    if c:
        amount = c.get("disputed_amount")
        opening = plain(
            "plain.complaint" if amount else "plain.complaint_no_amount",
            lang,
            when=_when(report, c.get("opened_at")),
            ticket=c.get("complaint_id"),
            amount=idr(amount, lang),
            msisdn=report.msisdn,
        )
    else:
        opening = plain("plain.no_complaint", lang, msisdn=report.msisdn)
    out = [opening + " " + plain("plain.checked", lang, n=len(report.chronology))]
    out += [" ".join(_action_sentences(report, a, lang, names)) for a in report.actions]
    out.append(plain_verdict(report, lang))
    r = report.remedy
    gets = [
        plain("plain.refund", lang, refund=idr(r.refund, lang), charges=", ".join(r.charge_ids))
        if r.refund
        else plain("plain.no_refund", lang)
    ]
    if r.unbar:
        gets.append(plain("plain.unbar", lang))
    if r.compensation:
        gets.append(
            plain(
                "plain.compensation",
                lang,
                compensation=idr(r.compensation, lang),
                days=r.barred_days,
            )
        )
    out.append(" ".join(gets))
    out.append(plain("plain.records", lang))
    return out
