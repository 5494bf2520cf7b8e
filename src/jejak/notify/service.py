"""Draining the outboxes: customer notifications and approved adjustments for billing.

The case workflow writes a row to ``notifications`` or ``billing_outbox`` in the same
transaction as the action that causes it (:mod:`jejak.cases.models`); :func:`drain` delivers
what is queued, through the adapter the settings choose (:mod:`jejak.notify.adapters`). Any
number of drains may run at once, in any number of processes:

1. **claim** — one short write transaction per row moves ``attempts`` from the value read to the
   next and sets a lease (``next_attempt_at`` = now + :data:`LEASE`); the row's conditional
   ``UPDATE`` succeeds for one drain only, so a message is handed to an adapter by one drain at
   a time;
2. **send** — outside any transaction, with the row's idempotency key;
3. **record** — every attempt is a row of ``delivery_attempts`` (adapter, time, ok, reason);
   a delivered row becomes ``sent`` and is never sent again; a failed one is queued for the
   next drain, or marked ``failed`` when retrying cannot help or after
   ``delivery_max_attempts`` attempts. A drain that dies between send and record leaves the
   lease to expire; the retry carries the same idempotency key, so the receiver keeps one copy.

Example::

    >>> from jejak.cases.db import Database             # doctest: +SKIP
    >>> drain(Database.open("./jejak-data"), "./jejak-data")   # doctest: +SKIP
    Drained(sent=2, retrying=0, failed=0)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update

from jejak.cases.db import Database
from jejak.cases.models import BillingOutbox, DeliveryAttempt, Notification
from jejak.errors import DeliveryError, UsageError
from jejak.notify.adapters import Adapter, FileAdapter, Message, SmtpAdapter, WebhookAdapter
from jejak.settings import Settings, settings

#: how long a claimed row is left to the drain that claimed it before another may retry it
LEASE = timedelta(minutes=5)

Outbox = type[Notification] | type[BillingOutbox]


@dataclass
class Drained:
    """What one drain did, per outbox row."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    reasons: list[str] = field(default_factory=list)

    def __add__(self, other: Drained) -> Drained:
        return Drained(
            self.sent + other.sent,
            self.retrying + other.retrying,
            self.failed + other.failed,
            self.reasons + other.reasons,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "reasons": self.reasons,
        }


def notification_adapter(home: str | Path, conf: Settings | None = None) -> Adapter:
    """The adapter that delivers messages to customers, as the settings choose."""
    conf = conf or settings()
    if conf.notify_adapter == "smtp":
        return SmtpAdapter(
            conf.smtp_host,
            conf.smtp_port,
            sender=conf.smtp_sender,
            starttls=conf.smtp_starttls,
            username=conf.smtp_username,
            password=conf.smtp_password,
            recipient_domain=conf.smtp_recipient_domain,
        )
    if conf.notify_adapter == "webhook":
        if not conf.notify_webhook_url:
            raise UsageError("JEJAK_NOTIFY_WEBHOOK_URL", "the webhook adapter needs a URL")
        return WebhookAdapter(
            conf.notify_webhook_url,
            timeout=conf.webhook_timeout,
            retries=conf.webhook_retries,
            token=conf.webhook_token,
        )
    return FileAdapter(conf.notify_file or Path(home) / "outbox" / "notifications.jsonl")


def billing_adapter(home: str | Path, conf: Settings | None = None) -> Adapter:
    """The adapter that hands approved adjustments to billing, as the settings choose."""
    conf = conf or settings()
    if conf.billing_adapter == "webhook":
        if not conf.billing_webhook_url:
            raise UsageError("JEJAK_BILLING_WEBHOOK_URL", "the webhook adapter needs a URL")
        return WebhookAdapter(
            conf.billing_webhook_url,
            timeout=conf.webhook_timeout,
            retries=conf.webhook_retries,
            token=conf.webhook_token,
        )
    return FileAdapter(conf.billing_file or Path(home) / "outbox" / "billing.jsonl")


def notification_message(row: Notification) -> Message:
    return Message(
        key=f"notification-{row.ticket}-{row.id}",
        recipient=row.msisdn,
        subject=row.subject,
        body=row.body,
        payload={
            "case_id": row.case_id,
            "ticket": row.ticket,
            "event": row.event,
            "language": row.language,
            "next_deadline": row.next_deadline.isoformat() if row.next_deadline else None,
        },
    )


def billing_message(row: BillingOutbox) -> Message:
    return Message(
        key=row.idempotency_key,
        recipient="billing",
        subject=f"adjustment {row.adjustment_id}",
        body=json.dumps(row.payload, sort_keys=True, ensure_ascii=False),
        payload=dict(row.payload),
    )


def drain(
    db: Database,
    home: str | Path,
    *,
    conf: Settings | None = None,
    notifications: Adapter | None = None,
    billing: Adapter | None = None,
    now: datetime | None = None,
    limit: int = 500,
) -> Drained:
    """Deliver what is due in both outboxes (at most ``limit`` rows of each)."""
    conf = conf or settings()
    result = _drain(
        db,
        Notification,
        notifications or notification_adapter(home, conf),
        notification_message,
        "notification",
        conf.delivery_max_attempts,
        now,
        limit,
    )
    return result + _drain(
        db,
        BillingOutbox,
        billing or billing_adapter(home, conf),
        billing_message,
        "billing",
        conf.delivery_max_attempts,
        now,
        limit,
    )


def _drain(
    db: Database,
    table: Any,
    adapter: Adapter,
    to_message: Any,
    outbox: str,
    max_attempts: int,
    now: datetime | None,
    limit: int,
) -> Drained:
    result = Drained()
    start = now or datetime.now(UTC)
    with db.read() as s:
        due = s.execute(
            select(table.id, table.attempts)
            .where(
                table.state == "queued",
                or_(table.next_attempt_at.is_(None), table.next_attempt_at <= start),
            )
            .order_by(table.id)
            .limit(limit)
        ).all()
    for row_id, seen in due:
        at = now or datetime.now(UTC)
        with db.write() as s:
            result_ = s.execute(
                update(table)
                .where(table.id == row_id, table.state == "queued", table.attempts == seen)
                .values(attempts=seen + 1, next_attempt_at=at + LEASE)
            )
            claimed = getattr(result_, "rowcount", 0)
            if claimed != 1:
                continue  # another drain has it
            message = to_message(s.get(table, row_id))
        reason: str | None = None
        permanent = False
        try:
            adapter.send(message)
            ok = True
        except DeliveryError as exc:
            ok, reason, permanent = False, str(exc), exc.permanent
        done = now or datetime.now(UTC)
        with db.write() as s:
            s.add(
                DeliveryAttempt(
                    outbox=outbox,
                    outbox_id=row_id,
                    adapter=adapter.name,
                    at=done,
                    ok=ok,
                    detail=reason,
                )
            )
            if ok:
                values: dict[str, Any] = {"state": "sent", "sent_at": done, "next_attempt_at": None}
                result.sent += 1
            elif permanent or seen + 1 >= max_attempts:
                values = {"state": "failed", "next_attempt_at": None}
                result.failed += 1
                result.reasons.append(f"{outbox} {row_id}: failed: {reason}")
            else:
                values = {"next_attempt_at": done}  # due again at the next drain
                result.retrying += 1
                result.reasons.append(f"{outbox} {row_id}: will retry: {reason}")
            s.execute(update(table).where(table.id == row_id).values(**values))
    return result


def attempts(db: Database, outbox: str, outbox_id: int) -> list[DeliveryAttempt]:
    """Every attempt to deliver one row, oldest first."""
    with db.read() as s:
        return list(
            s.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.outbox == outbox, DeliveryAttempt.outbox_id == outbox_id)
                .order_by(DeliveryAttempt.id)
            )
        )
