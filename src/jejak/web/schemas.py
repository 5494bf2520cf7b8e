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

from pydantic import BaseModel, ConfigDict, Field, RootModel

State = Literal[
    "received",
    "acknowledged",
    "investigating",
    "decision_proposed",
    "resolved",
    "escalated",
    "closed",
]
Hypothesis = Literal[
    "credential_misuse", "owner_misuse", "customer_consented", "billing_error", "unexplained"
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


class Adjustment(_Out):
    adjustment_id: str
    amount: int
    charge_ids: list[str]
    state: Literal["proposed", "approved", "rejected"]
    proposed_by: str
    approved_by: list[str]


class Decision(_Out):
    hypothesis: str
    operator_liable: bool
    refund: int | None = None
    compensation: int | None = None
    unbar: bool | None = None
    reason: str
    departs_from_evidence: bool


class TimelineEntry(_Out):
    seq: int
    at: datetime
    action: str
    actor: str | None
    actor_role: str | None
    public: bool
    text: str | None
    ledger_index: int | None


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


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: int | None = Field(
        None, description="The case's `version` as last read; 409 when it has moved on."
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
        return self.root.model_dump(exclude={"action", "expected_version"}, exclude_none=True)


class OpenCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    complaint_id: Annotated[str, Field(min_length=1, max_length=200)]


class PushedComplaint(BaseModel):
    """A complaint the CRM sends, in the fields of the export's ``complaints`` kind
    (operator-export.md)."""

    model_config = ConfigDict(extra="forbid")

    complaint_id: Annotated[str, Field(min_length=1, max_length=200)]
    msisdn: Annotated[str, Field(pattern=r"^[0-9]{8,15}$")]
    opened_at: datetime
    channel: Literal["call_center", "outlet", "app", "web", "email", "social_media"]
    category: Literal["unauthorized_activation", "billing", "service", "other"]
    summary: Annotated[str, Field(max_length=10_000)] = ""
    disputed_charge_ids: list[Annotated[str, Field(min_length=1, max_length=200)]] = []
    disputed_amount: Annotated[int, Field(ge=0, lt=10**12)] = 0
