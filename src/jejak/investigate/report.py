"""The evidence report: its parts as dataclasses, and its JSON (``shared/spec/outputs.md``).

The JSON field names are a public interface: ``Report.to_dict()`` gives
exactly the fields of outputs.md (``msisdn``, ``complaint_id``,
``chronology``, ``actions``, ``findings``, ``hypotheses``, ``verdict``,
``blast_radius``, ``remedy``) and adds a few (``as_of``, ``version``,
``charges``, ``suspects`` …) that outputs.md allows. Times are ISO 8601 in UTC.

A report is for an audience (:mod:`~jejak.investigate.audience`): the staff's
JSON is the one above; the customer's (``report.for_audience("customer")``)
keeps the subscriber's own records, the case policy's fields of each disputed
action and the evidence a customer may read, and opens with a plain-language
``summary``.

Example::

    >>> ev = Evidence("NO_CONSENT", {"event": "EV1", "package": "P", "when": "t"}, ["EV1"])
    >>> ev.to_dict()["text"]
    'No consent of the subscriber is on record for EV1 (P at t).'
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from jejak.investigate.audience import (
    CUSTOMER_CODES,
    STAFF,
    Audience,
    audience,
    customer_action,
    customer_evidence,
    plain_summary,
    plain_verdict,
)
from jejak.investigate.i18n import chronology_summary, msg

#: version of the report's reasoning; bump when a verdict rule changes meaning
REPORT_VERSION = "1"

HYPOTHESES = (
    "external_compromise",
    "credential_misuse",
    "owner_misuse",
    "customer_consented",
    "billing_error",
)
INSUFFICIENT = "insufficient_evidence"


def iso(value: Any) -> Any:
    """A datetime as ISO 8601 in UTC, a date as YYYY-MM-DD; anything else unchanged."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def plain(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored record as JSON-ready fields (without the store's ``_src``/``_line``)."""
    if record is None:
        return None
    return {k: iso(v) for k, v in record.items() if not k.startswith("_")}


class Code(StrEnum):
    """Every evidence code a report uses: what its words say is in :mod:`~jejak.investigate.i18n`
    (``MESSAGES``), what it means for the hypotheses in :mod:`~jejak.investigate.hypotheses`
    (``EFFECTS``). The JSON keeps the code as its text."""

    # the consent
    NO_CONSENT = "NO_CONSENT"
    CONSENT_VERIFIED = "CONSENT_VERIFIED"
    CONSENT_UNVERIFIED = "CONSENT_UNVERIFIED"
    CONSENT_MISMATCH = "CONSENT_MISMATCH"
    # the address and the outlet
    ADDRESS_IN_OUTLET = "ADDRESS_IN_OUTLET"
    ADDRESS_OTHER_OUTLET = "ADDRESS_OTHER_OUTLET"
    ADDRESS_OUTSIDE_OPERATOR = "ADDRESS_OUTSIDE_OPERATOR"
    OUTLET_CLOSED = "OUTLET_CLOSED"
    # the session
    SESSION_MISSING = "SESSION_MISSING"
    SESSION_MISMATCH = "SESSION_MISMATCH"
    SESSION_MATCHES = "SESSION_MATCHES"
    # the user ID, its owner and the roster
    UNKNOWN_AGENT = "UNKNOWN_AGENT"
    OWNER_ON_SHIFT = "OWNER_ON_SHIFT"
    OWNER_ELSEWHERE = "OWNER_ELSEWHERE"
    OWNER_NOT_ON_SHIFT = "OWNER_NOT_ON_SHIFT"
    OWNER_LOGGED_OUT = "OWNER_LOGGED_OUT"
    OWNER_NOT_ROSTERED_STAFF = "OWNER_NOT_ROSTERED_STAFF"
    ID_STATUS = "ID_STATUS"
    ID_IN_TWO_PLACES = "ID_IN_TWO_PLACES"
    TERMINAL_HANDOVER = "TERMINAL_HANDOVER"
    OTHER_ON_DUTY = "OTHER_ON_DUTY"
    # the subscriber's handset
    HANDSET_AT_OUTLET = "HANDSET_AT_OUTLET"
    HANDSET_ELSEWHERE = "HANDSET_ELSEWHERE"
    # the charges
    CHARGE_FOLLOWS_PROVISIONING = "CHARGE_FOLLOWS_PROVISIONING"
    CHARGE_FROM_UNCONSENTED = "CHARGE_FROM_UNCONSENTED"
    CHARGE_NO_PROVISIONING = "CHARGE_NO_PROVISIONING"
    CHARGE_AFTER_END = "CHARGE_AFTER_END"
    CHARGE_DURING_PROMO = "CHARGE_DURING_PROMO"
    CHARGE_ABOVE_PRICE = "CHARGE_ABOVE_PRICE"
    # the verdict's parts and the remedy
    ALERT = "ALERT"
    SUSPECT = "SUSPECT"
    SUSPECT_ON_DUTY = "SUSPECT_ON_DUTY"
    REMEDY_REFUND = "REMEDY_REFUND"
    REMEDY_NO_REFUND = "REMEDY_NO_REFUND"
    REMEDY_UNBAR = "REMEDY_UNBAR"
    REMEDY_UNBAR_DISPUTE = "REMEDY_UNBAR_DISPUTE"
    REMEDY_DISPUTE_BAR = "REMEDY_DISPUTE_BAR"
    REMEDY_STILL_BARRED = "REMEDY_STILL_BARRED"
    REMEDY_BAR_STANDS = "REMEDY_BAR_STANDS"


@dataclass
class Evidence:
    """One statement the report makes, the records it rests on, and its words."""

    code: Code
    params: dict[str, Any]
    record_ids: list[str]

    def __post_init__(self) -> None:
        self.code = Code(self.code)  # an unknown code is a bug: fail where it is made

    def text(self, lang: str = "en") -> str:
        return msg(self.code, lang, **self.params)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "text": self.text(),
            "record_ids": list(self.record_ids),
            "params": dict(self.params),
        }


@dataclass
class ChronologyEntry:
    at: datetime
    kind: str
    record_id: str
    params: dict[str, Any]
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": iso(self.at),
            "kind": self.kind,
            "record_id": self.record_id,
            "summary": self.summary,
        }


@dataclass
class Action:
    """One disputed or unconsented provisioning action and its attribution."""

    event: dict[str, Any]
    person: str | None
    role: str | None
    inside_outlet_network: bool | None
    address_outlet: str | None
    outlet_open: bool | None
    owner_on_shift: bool | None
    on_duty: list[dict[str, Any]]
    session: dict[str, Any] | None
    consent: dict[str, Any] | None
    consent_valid: bool
    disputed: bool
    conclusion: str = INSUFFICIENT
    evidence: list[Evidence] = field(default_factory=list)
    suspects: list[dict[str, Any]] = field(default_factory=list)
    outlet: dict[str, Any] | None = None
    terminal_before: dict[str, Any] | None = None
    #: the owner's shifts on the action's local day, and the owner's last own session before it
    owner_shifts: list[dict[str, Any]] = field(default_factory=list)
    owner_session: dict[str, Any] | None = None

    @property
    def event_id(self) -> str:
        return str(self.event["event_id"])

    def to_dict(self) -> dict[str, Any]:
        e = self.event
        return {
            "event_id": e["event_id"],
            "at": iso(e["at"]),
            "action": e["action"],
            "package_id": e["package_id"],
            "channel": e["channel"],
            "agent_id": e["agent_id"],
            "person": self.person,
            "outlet_id": e["outlet_id"],
            "outlet_name": (self.outlet or {}).get("name"),
            "source_ip": e["source_ip"],
            "device_id": e["device_id"],
            "inside_outlet_network": self.inside_outlet_network,
            "address_outlet": self.address_outlet,
            "outlet_open": self.outlet_open,
            "owner_on_shift": self.owner_on_shift,
            "on_duty": [
                {k: d[k] for k in ("agent_id", "person", "shift_id", "duty")} for d in self.on_duty
            ],
            "session": plain(self.session),
            "terminal_before": plain(self.terminal_before),
            "owner_shifts": [plain(x) for x in self.owner_shifts],
            "owner_session": plain(self.owner_session),
            "consent": plain(self.consent),
            "consent_verified": self.consent_valid,
            "disputed": self.disputed,
            "price": e.get("price"),
            "promo_ends": iso(e.get("promo_ends")),
            "conclusion": self.conclusion,
            "suspects": list(self.suspects),
            "evidence": [ev.to_dict() for ev in self.evidence],
        }


@dataclass
class Hypothesis:
    name: str
    supported: bool = False
    evidence_for: list[Evidence] = field(default_factory=list)
    evidence_against: list[Evidence] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "supported": self.supported,
            "evidence_for": [e.to_dict() for e in self.evidence_for],
            "evidence_against": [e.to_dict() for e in self.evidence_against],
        }


@dataclass
class Verdict:
    hypothesis: str
    operator_liable: bool
    code: str
    params: dict[str, Any]
    record_ids: list[str]
    suspects: list[dict[str, Any]] = field(default_factory=list)
    #: parameters that are themselves sentences, said in the reader's language
    parts: dict[str, list[Evidence]] = field(default_factory=dict)

    def reason(self, lang: str = "en") -> str:
        said = {k: "; ".join(e.text(lang).rstrip(".") for e in v) for k, v in self.parts.items()}
        if "suspects" in self.parts:
            said["suspects"] = " ".join(e.text(lang) for e in self.parts["suspects"])
        return msg(self.code, lang, **{**self.params, **said})

    def to_dict(self) -> dict[str, Any]:
        return {
            "hypothesis": self.hypothesis,
            "operator_liable": self.operator_liable,
            "reason": self.reason(),
            "code": self.code,
            "record_ids": list(self.record_ids),
            "suspects": list(self.suspects),
            # what the reason is made of, so that a stored report says it in any language
            "params": dict(self.params),
            "parts": {k: [e.to_dict() for e in v] for k, v in self.parts.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict | None:
        """The verdict of a stored report (its JSON), so that :meth:`reason` speaks any language;
        None for a report stored before its params were kept."""
        if "params" not in data or "code" not in data:
            return None
        return cls(
            hypothesis=data.get("hypothesis") or INSUFFICIENT,
            operator_liable=bool(data.get("operator_liable")),
            code=str(data["code"]),
            params=dict(data["params"] or {}),
            record_ids=list(data.get("record_ids") or []),
            suspects=list(data.get("suspects") or []),
            parts={
                k: [
                    Evidence(
                        e["code"], dict(e.get("params") or {}), list(e.get("record_ids") or [])
                    )
                    for e in v
                ]
                for k, v in (data.get("parts") or {}).items()
            },
        )


@dataclass
class BlastRadius:
    by_agent: list[str] = field(default_factory=list)
    by_session: list[str] = field(default_factory=list)
    by_source_ip: list[str] = field(default_factory=list)
    by_device: list[str] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)

    def all(self) -> list[str]:
        return sorted({*self.by_agent, *self.by_session, *self.by_source_ip, *self.by_device})

    def to_dict(self) -> dict[str, Any]:
        return {
            "by_agent": list(self.by_agent),
            "by_session": list(self.by_session),
            "by_source_ip": list(self.by_source_ip),
            "by_device": list(self.by_device),
            "contacts": list(self.contacts),
        }


@dataclass
class Remedy:
    refund: int
    charge_ids: list[str]
    compensation: int
    unbar: bool
    barred_days: int
    lines: list[Evidence]
    bar_id: str | None = None

    def reason(self, lang: str = "en") -> str:
        return " ".join(e.text(lang) for e in self.lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "refund": self.refund,
            "charge_ids": list(self.charge_ids),
            "compensation": self.compensation,
            "unbar": self.unbar,
            "reason": self.reason(),
            "barred_days": self.barred_days,
            "bar_id": self.bar_id,
            "currency": "IDR",
        }


@dataclass
class Report:
    """The evidence report for one subscriber (and complaint), as of one moment."""

    msisdn: str
    complaint_id: str | None
    as_of: datetime
    subscriber: dict[str, Any] | None
    complaint: dict[str, Any] | None
    chronology: list[ChronologyEntry]
    actions: list[Action]
    charges: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    hypotheses: list[Hypothesis]
    verdict: Verdict
    blast_radius: BlastRadius
    remedy: Remedy
    policy: dict[str, Any]
    alerts_source: str
    timezone: str = "Asia/Jakarta"
    graph: dict[str, Any] = field(default_factory=dict)
    #: who the report is for: what the renderers and :meth:`to_dict` show (the findings are the same)
    audience: Audience = STAFF

    def for_audience(
        self, who: str | Audience = "staff", *, show_staff_names: bool = False
    ) -> Report:
        """The same report for ``who`` (``staff`` or ``customer``; for a customer, whether the
        case policy shows staff names)."""
        return replace(self, audience=audience(who, show_staff_names=show_staff_names))

    def to_arrow(self) -> Any:
        """The chronology as a typed Arrow table: ``at`` (UTC timestamp), ``kind``,
        ``record_id``, ``summary`` — one row per record, in time order (for a notebook)."""
        import pyarrow as pa

        return pa.table(
            {
                "at": pa.array([c.at for c in self.chronology], pa.timestamp("us", tz="UTC")),
                "kind": pa.array([c.kind for c in self.chronology], pa.string()),
                "record_id": pa.array([c.record_id for c in self.chronology], pa.string()),
                "summary": pa.array([c.summary for c in self.chronology], pa.string()),
            }
        )

    def to_pandas(self) -> Any:
        """:meth:`to_arrow` as a pandas DataFrame (needs pandas)."""
        return self.to_arrow().to_pandas()

    def hypothesis(self, name: str) -> Hypothesis:
        for h in self.hypotheses:
            if h.name == name:
                return h
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The report as outputs.md defines it (plus the extra fields named in the module doc);
        for a customer, :meth:`customer_dict`."""
        if self.audience.customer:
            return self.customer_dict()
        return {
            "version": REPORT_VERSION,
            "msisdn": self.msisdn,
            "complaint_id": self.complaint_id,
            "as_of": iso(self.as_of),
            "subscriber": plain(self.subscriber),
            "complaint": plain(self.complaint),
            "chronology": [c.to_dict() for c in self.chronology],
            "actions": [a.to_dict() for a in self.actions],
            "charges": self.charges,
            "findings": self.findings,
            "hypotheses": [h.to_dict() for h in self.hypotheses],
            "verdict": self.verdict.to_dict(),
            "blast_radius": self.blast_radius.to_dict(),
            "remedy": self.remedy.to_dict(),
            "policy": self.policy,
            "alerts_source": self.alerts_source,
        }

    def customer_dict(self) -> dict[str, Any]:
        """The customer's report as JSON: the subscriber's own records, the policy's fields of
        each disputed action, the evidence a customer may read, the verdict said plainly."""
        own = {c.record_id for c in self.chronology}
        names = self.audience.show_staff_names

        def cited(ids: list[str]) -> list[str]:
            return [i for i in ids if i in own]

        def said(items: list[Evidence]) -> list[dict[str, Any]]:
            return [
                {**e.to_dict(), "record_ids": cited(e.record_ids)} for e in customer_evidence(items)
            ]

        v = self.verdict
        complaint = (
            {k: iso(self.complaint.get(k)) for k in COMPLAINT_FIELDS if k in self.complaint}
            if self.complaint
            else None
        )
        return {
            "version": REPORT_VERSION,
            "audience": "customer",
            "msisdn": self.msisdn,
            "complaint_id": self.complaint_id,
            "as_of": iso(self.as_of),
            "summary": plain_summary(self, "en"),
            "subscriber": plain(self.subscriber),
            "complaint": complaint,
            "chronology": [
                {
                    "at": iso(c.at),
                    "kind": c.kind,
                    "record_id": c.record_id,
                    "summary": chronology_summary(c.kind, "en", customer=True, **c.params),
                }
                for c in self.chronology
            ],
            "actions": [customer_action(a.to_dict(), show_staff_names=names) for a in self.actions],
            "charges": [
                {
                    **{k: iso(c.get(k)) for k in CHARGE_FIELDS if k in c},
                    "evidence": [
                        {**e, "record_ids": cited(e["record_ids"])}
                        for e in c.get("evidence", [])
                        if e["code"] in CUSTOMER_CODES
                    ],
                }
                for c in self.charges
            ],
            "hypotheses": [
                {
                    "name": h.name,
                    "supported": h.supported,
                    "evidence_for": said(h.evidence_for),
                    "evidence_against": said(h.evidence_against),
                }
                for h in self.hypotheses
            ],
            "verdict": {
                "hypothesis": v.hypothesis,
                "operator_liable": v.operator_liable,
                "reason": plain_verdict(self, "en"),
                "record_ids": cited(v.record_ids),
            },
            "remedy": self.remedy.to_dict(),
        }


#: the complaint's fields in the customer's report (their own words and numbers)
COMPLAINT_FIELDS = (
    "complaint_id",
    "opened_at",
    "channel",
    "category",
    "summary",
    "disputed_charge_ids",
    "disputed_amount",
    "status",
    "closed_at",
    "resolution",
)
#: a charge's fields in the customer's report
CHARGE_FIELDS = (
    "charge_id",
    "at",
    "cycle",
    "kind",
    "package_id",
    "amount",
    "disputed",
    "explained_by",
    "codes",
)
