"""The JSON the API reads and writes, as pydantic models: the case object and the actions of
``shared/spec/outputs.md`` (version 1.1), whose field names are a contract.

These models are what ``/openapi.json`` publishes; the case library (:mod:`jejak.cases`) builds
the case as a plain dict and the API validates it against :class:`Case` on the way out, so a
field that drifts from the spec fails loudly instead of reaching a client.

Example::

    >>> ActionRequest.model_validate({"action": "note", "text": "called the outlet"}).root.action
    'note'
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel, model_validator

State = Literal[
    "received",
    "acknowledged",
    "investigating",
    "decision_proposed",
    "resolved",
    "escalated",
    "closed",
]
#: jejak.investigate.report.HYPOTHESES and INSUFFICIENT (a test keeps them equal)
Hypothesis = Literal[
    "external_compromise",
    "credential_misuse",
    "owner_misuse",
    "customer_consented",
    "billing_error",
    "insufficient_evidence",
]

# ------------------------------------------------------------------ the case object


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Hold(_Out):
    active: bool
    amount: int


class Investigation(_Out):
    report_sha256: str | None
    hypothesis: str | None
    operator_liable: bool | None
    remedy: dict[str, Any] | None = None


class Adjustment(_Out):
    adjustment_id: str
    amount: int
    charge_ids: list[str]
    state: Literal["proposed", "approved", "rejected"]
    proposed_by: str
    approved_by: list[str]
    kind: str | None = Field(
        None, description="`refund`, `credit`, `compensation` or `provisional_credit`."
    )
    approvers_needed: int | None = None
    reason: str | None = None


class Decision(_Out):
    hypothesis: str
    operator_liable: bool
    refund: int | None = None
    compensation: int | None = None
    unbar: bool | None = None
    reason: str
    departs_from_evidence: bool
    justification: str | None = None
    decided_by: str | None = None
    countersigned_by: str | None = None


class TimelineEntry(_Out):
    seq: int
    at: datetime
    action: str
    actor: str | None
    actor_role: str | None
    public: bool
    text: str | None
    ledger_index: int | None
    payload: dict[str, Any] | None = Field(
        None, description="The action's details (staff view only)."
    )


class Finding(_Out):
    """A bar for non-payment that arrived while the case was open: lift it, and compensate."""

    action_id: str
    kind: str
    barred_at: datetime
    amount_due: int | None
    required: dict[str, Any]
    lifted_at: datetime | None
    compensation: int | None


class Case(_Out):
    """One dispute, from the complaint to its end (outputs.md, "The case object")."""

    case_id: str
    complaint_id: str
    msisdn: str
    state: State
    opened_at: datetime
    ack_due: datetime
    decision_due: datetime
    disputed_charge_ids: list[str]
    disputed_amount: int
    hold: Hold
    investigation: Investigation
    adjustments: list[Adjustment]
    decision: Decision | None
    timeline: list[TimelineEntry]
    version: int | None = Field(
        None, description="Optimistic-lock version: send it back as `expected_version`."
    )
    source: str | None = Field(None, description="`ingested` or `crm`.")
    language: str | None = None
    overdue: list[str] = Field([], description="Deadlines passed: `acknowledge`, `decide`.")
    assignee: str | None = None
    findings: list[Finding] = []
    accepted_at: datetime | None = None


class Timeline(_Out):
    """What the customer sees: every entry, an internal one without its text."""

    case_id: str
    timeline: list[TimelineEntry]


class CanBar(_Out):
    allowed: bool
    reason: str
    case_ids: list[str]


class Error(BaseModel):
    """Every refusal: the kind of error and one line saying what and where."""

    error: str = Field(description="The error's kind, e.g. `ForbiddenError`.")
    detail: str


# ------------------------------------------------------------------ requests


def _instant(value: datetime) -> datetime:
    """A moment with a UTC offset, within the years a complaint can be about."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("give a UTC offset, e.g. 2017-02-06T10:12:00+07:00")
    if not 1990 <= value.year <= 2999:
        raise ValueError("outside the years 1990 to 2999")
    return value


#: a timestamp in a request: ISO 8601 with a UTC offset
Instant = Annotated[datetime, AfterValidator(_instant)]


class _Request(BaseModel):
    """A request body: no unknown fields, and text that is valid Unicode (no lone surrogates)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _encodable(self) -> Any:
        for name, value in self:
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str):
                    try:
                        text.encode("utf-8")
                    except UnicodeEncodeError:
                        raise ValueError(f"{name}: not valid Unicode text") from None
        return self


class _In(_Request):
    expected_version: int | None = Field(
        None, description="The case's `version` as last read; 409 when it has moved on."
    )
    at: Instant | None = Field(
        None,
        description="When the action happened, for replaying a past case; refused (422) unless "
        "the server allows it (`JEJAK_API_ACCEPTS_TIMES`).",
    )


Text = Annotated[str, Field(min_length=1, max_length=10_000)]


class Acknowledge(_In):
    action: Literal["acknowledge"]


class Assign(_In):
    action: Literal["assign"]
    to: Annotated[str, Field(min_length=1, max_length=200, description="A user name.")]


class Note(_In):
    action: Literal["note"]
    text: Text


class Comment(_In):
    action: Literal["comment"]
    text: Text


class ProposeAdjustment(_In):
    action: Literal["propose_adjustment"]
    amount: Annotated[int, Field(gt=0, lt=10**12, description="Rupiah.")]
    charge_ids: list[Annotated[str, Field(min_length=1, max_length=200)]]
    reason: Text
    kind: Literal["refund", "credit", "compensation"] | None = None


class ApproveAdjustment(_In):
    action: Literal["approve_adjustment"]
    adjustment_id: Annotated[str, Field(min_length=1, max_length=200)]


class RejectAdjustment(_In):
    action: Literal["reject_adjustment"]
    adjustment_id: Annotated[str, Field(min_length=1, max_length=200)]
    reason: Text


class Decide(_In):
    action: Literal["decide"]
    hypothesis: Hypothesis
    operator_liable: bool
    reason: Text
    justification: Text | None = Field(
        None, description="Required when the decision departs from the evidence report's verdict."
    )
    refund: Annotated[int, Field(ge=0, lt=10**12)] | None = None
    compensation: Annotated[int, Field(ge=0, lt=10**12)] | None = None
    unbar: bool | None = None


class Countersign(_In):
    action: Literal["countersign"]


class Accept(_In):
    action: Literal["accept"]


class LiftBar(_In):
    action: Literal["lift_bar"]
    action_id: Annotated[str, Field(min_length=1, max_length=200)]


class Escalate(_In):
    action: Literal["escalate"]
    reason: Text


class Close(_In):
    action: Literal["close"]


class Reopen(_In):
    action: Literal["reopen"]
    reason: Text


AnyAction = Annotated[
    Acknowledge
    | Assign
    | Note
    | Comment
    | ProposeAdjustment
    | ApproveAdjustment
    | RejectAdjustment
    | Decide
    | Countersign
    | Accept
    | LiftBar
    | Escalate
    | Close
    | Reopen,
    Field(discriminator="action"),
]


class ActionRequest(RootModel[AnyAction]):
    """``{"action": A, ...}`` with the fields of action A (outputs.md, "Actions and their fields")."""

    def fields(self) -> dict[str, Any]:
        """The action's own fields, as the case library takes them."""
        return self.root.model_dump(exclude={"action", "expected_version", "at"}, exclude_none=True)


class OpenCase(_Request):
    complaint_id: Annotated[str, Field(min_length=1, max_length=200)]
    at: Instant | None = Field(
        None, description="When the case is opened, for replays (`JEJAK_API_ACCEPTS_TIMES`)."
    )


class PushedComplaint(_Request):
    """A complaint the CRM sends, in the fields of the export's ``complaints`` kind
    (operator-export.md)."""

    complaint_id: Annotated[str, Field(min_length=1, max_length=200)]
    msisdn: Annotated[str, Field(pattern=r"^[0-9]{8,15}$")]
    opened_at: Instant
    channel: Literal["call_center", "outlet", "app", "web", "email", "social_media"]
    category: Literal["unauthorized_activation", "billing", "service", "other"]
    summary: Annotated[str, Field(max_length=10_000)] = ""
    disputed_charge_ids: list[Annotated[str, Field(min_length=1, max_length=200)]] = []
    disputed_amount: Annotated[int, Field(ge=0, lt=10**12)] = 0
    language: Literal["id", "en"] | None = Field(
        None, description="The customer's language for messages (default: the policy's)."
    )
    at: Instant | None = Field(
        None, description="When the case is opened, for replays (`JEJAK_API_ACCEPTS_TIMES`)."
    )
