"""The case database's tables (SQLAlchemy 2 declarative); the schema is made by the Alembic
migrations in ``migrations/`` and a test keeps the two equal.

What is append-only and what is a projection:

- **append-only**: ``timeline_entries`` (every action, in order; only its ``ledger_index`` is
  written once, when the log has taken it), ``approvals``, ``ledger_outbox``,
  ``delivery_attempts``, ``access_log``, ``reports``. Nothing is deleted; a correction is a
  new entry.
- **projections** kept in step with the timeline in the same transaction: ``cases`` (its state,
  deadlines and suggestion; ``version`` guards against lost updates), ``adjustments``,
  ``holds``, ``findings``, the outboxes' delivery state.

Times are stored as UTC instants (:class:`UTCDateTime`), so that SQLite and PostgreSQL give
back the same value.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

ROLES = ("cs", "investigator", "supervisor", "auditor", "admin")
STATES = (
    "received",
    "acknowledged",
    "investigating",
    "decision_proposed",
    "resolved",
    "escalated",
    "closed",
)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a UTC offset")
        v = value.astimezone(UTC)
        return v.replace(tzinfo=None) if dialect.name == "sqlite" else v

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}  # noqa: RUF012


class User(Base):
    """A named staff account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    password_hash: Mapped[str | None] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """An API token of one person, stored hashed."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(255), unique=True)
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class Case(Base):
    """One dispute, from the complaint to its end (a projection of its timeline)."""

    __tablename__ = "cases"

    case_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    complaint_id: Mapped[str] = mapped_column(String(80), unique=True)
    msisdn: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(20))  # ingested | crm
    state: Mapped[str] = mapped_column(String(20), index=True)
    language: Mapped[str] = mapped_column(String(8))
    opened_at: Mapped[datetime]
    ack_due: Mapped[datetime]
    decision_due: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    acknowledged_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]  # accepted, or deemed accepted
    closed_at: Mapped[datetime | None]
    disputed_charge_ids: Mapped[list[Any]] = mapped_column(JSON)
    disputed_amount: Mapped[int] = mapped_column(BigInteger)
    summary: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(String(120))
    report_sha256: Mapped[str | None] = mapped_column(String(64))
    suggestion: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # verdict + remedy
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    provisional_credit_id: Mapped[str | None] = mapped_column(String(100))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[
        datetime | None
    ]  # the time of the entry last_seq: entries never go back in time
    version: Mapped[int] = mapped_column(Integer)

    # optimistic locking: every UPDATE says WHERE version = <the one read>; the service raises
    # the version by exactly one per action (so a client's expected_version is meaningful)
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012


class Report(Base):
    """The evidence report attached when the case opened: its JSON, byte for byte."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    made_at: Mapped[datetime]
    body: Mapped[str] = mapped_column(Text)


class TimelineEntry(Base):
    """One action on a case, in order. Append-only."""

    __tablename__ = "timeline_entries"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(120))
    actor_role: Mapped[str] = mapped_column(String(20))
    public: Mapped[bool] = mapped_column(Boolean)
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    ledger_index: Mapped[int | None] = mapped_column(BigInteger)


class Adjustment(Base):
    """A refund, credit or compensation: proposed, then approved or rejected."""

    __tablename__ = "adjustments"

    adjustment_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    kind: Mapped[str] = mapped_column(
        String(30)
    )  # refund | credit | compensation | provisional_credit
    amount: Mapped[int] = mapped_column(BigInteger)
    charge_ids: Mapped[list[Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))  # proposed | approved | rejected
    proposed_by: Mapped[str] = mapped_column(String(120))
    proposed_at: Mapped[datetime]
    approvers_needed: Mapped[int] = mapped_column(Integer)


class Approval(Base):
    """One approver's yes or no on an adjustment. Append-only."""

    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("adjustment_id", "approver"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    adjustment_id: Mapped[str] = mapped_column(ForeignKey("adjustments.adjustment_id"))
    approver: Mapped[str] = mapped_column(String(120))
    approved: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]


class Hold(Base):
    """While a case is open, billing may not bar its line over the disputed amount."""

    __tablename__ = "holds"
    __table_args__ = (Index("ix_holds_msisdn_from", "msisdn", "active_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    msisdn: Mapped[str] = mapped_column(String(32))
    amount: Mapped[int] = mapped_column(BigInteger)
    active_from: Mapped[datetime]
    released_at: Mapped[datetime | None]


class Finding(Base):
    """A bar for non-payment that arrived while the case was open: lift it, and compensate."""

    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("case_id", "action_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"))
    action_id: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))  # bar_during_dispute
    barred_at: Mapped[datetime]
    amount_due: Mapped[int | None] = mapped_column(BigInteger)
    required: Mapped[dict[str, Any]] = mapped_column(JSON)
    found_at: Mapped[datetime]
    lifted_at: Mapped[datetime | None]
    lifted_by: Mapped[str | None] = mapped_column(String(120))
    compensation: Mapped[int | None] = mapped_column(BigInteger)


class LedgerOutbox(Base):
    """A row to append to the transparency log, written in the action's own transaction.

    ``source`` is ``case`` (``ref`` = a timeline entry id) or ``access`` (an access log id).
    ``ledger_index`` is written back once the log holds the entry.
    """

    __tablename__ = "ledger_outbox"
    __table_args__ = (Index("ix_ledger_outbox_pending", "ledger_index", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    ref: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    ledger_index: Mapped[int | None] = mapped_column(BigInteger)

    # for ``source == "case"``: lets one flush insert the entry and its outbox row together
    entry: Mapped[TimelineEntry | None] = relationship(
        primaryjoin="foreign(LedgerOutbox.ref) == TimelineEntry.id"
    )


class Notification(Base):
    """A message to the customer about a state change, in their language."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: empty for a sign-in code to a line that has no case yet (migration 0006)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.case_id"), index=True)
    #: the recipient: the number, or the e-mail address on file (migration 0006: 254 characters)
    msisdn: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8))
    ticket: Mapped[str] = mapped_column(String(80))
    event: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    next_deadline: Mapped[datetime | None]
    created_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20), default="queued")  # queued | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class BillingOutbox(Base):
    """An approved adjustment for billing to apply, exactly once (``idempotency_key``)."""

    __tablename__ = "billing_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    adjustment_id: Mapped[str] = mapped_column(ForeignKey("adjustments.adjustment_id"), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class DeliveryAttempt(Base):
    """One attempt to deliver a notification or a billing row. Append-only."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_outbox", "outbox", "outbox_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox: Mapped[str] = mapped_column(String(20))  # notification | billing
    outbox_id: Mapped[int] = mapped_column(Integer)
    adapter: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime]
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str | None] = mapped_column(Text)


class AccessLog(Base):
    """A person viewed a subscriber's records through jejak. Append-only, and in the log."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_msisdn_at", "msisdn", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    user_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    msisdn: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[str | None] = mapped_column(String(80))
    what: Mapped[str] = mapped_column(String(80))
    via: Mapped[str] = mapped_column(String(20))  # cli | api | web
    reason: Mapped[str | None] = mapped_column(Text)  # why (migration 0002, the web API)


class SignInAttempt(Base):
    """One password sign-in attempt (migration 0003, jejak.auth): the lock-out counts these, in
    the database, so every web worker sees the same count. Append-only."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index("ix_sign_in_attempts_name_at", "user_name", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_name: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime]
    ok: Mapped[bool] = mapped_column(Boolean)
