"""Draining the outboxes: each message once, every attempt recorded, failures retried then failed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from jejak.cases.db import Database
from jejak.cases.models import Adjustment, BillingOutbox, Case, Notification
from jejak.notify import service as notify
from jejak.notify.adapters import FileAdapter, SmtpAdapter, WebhookAdapter
from jejak.settings import Settings

from .conftest import SmtpInbox, WebhookReceiver

T0 = datetime(2017, 2, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def case_db(tmp_path: Path) -> Database:
    """A case database with one case, two queued notifications and one approved refund queued
    for billing."""
    db = Database.open(tmp_path / "home", f"sqlite:///{tmp_path / 'cases.db'}")
    with db.write() as s:
        s.add(
            Case(
                case_id="CASE-CP0001",
                complaint_id="CP0001",
                msisdn="6281100000001",
                source="ingested",
                state="received",
                language="id",
                opened_at=T0,
                ack_due=T0,
                decision_due=T0,
                disputed_charge_ids=["CH1"],
                disputed_amount=500_000,
                version=1,
            )
        )
        s.flush()
        for n, event in enumerate(("open", "acknowledge")):
            s.add(
                Notification(
                    case_id="CASE-CP0001",
                    msisdn="6281100000001",
                    language="id",
                    ticket="CP0001",
                    event=event,
                    subject=f"Tiket CP0001: {event}",
                    body=f"Pesan {n}",
                    created_at=T0,
                    state="queued",
                    attempts=0,
                )
            )
        s.add(
            Adjustment(
                adjustment_id="ADJ-1",
                case_id="CASE-CP0001",
                kind="refund",
                amount=500_000,
                charge_ids=["CH1"],
                reason="refund",
                state="approved",
                proposed_by="citra",
                proposed_at=T0,
                approvers_needed=1,
            )
        )
        s.flush()
        s.add(
            BillingOutbox(
                adjustment_id="ADJ-1",
                idempotency_key="billing-ADJ-1",
                payload={"adjustment_id": "ADJ-1", "msisdn": "6281100000001", "amount": 500_000},
                created_at=T0,
                state="queued",
                attempts=0,
            )
        )
    return db


def states(db: Database) -> list[tuple[str, int]]:
    with db.read() as s:
        rows = s.execute(
            select(Notification.state, Notification.attempts).order_by(Notification.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_file_drain_delivers_each_message_once(case_db: Database, tmp_path: Path) -> None:
    conf = Settings(home=tmp_path / "home")
    first = notify.drain(case_db, tmp_path / "home", conf=conf)
    again = notify.drain(case_db, tmp_path / "home", conf=conf)
    assert (first.sent, again.sent) == (3, 0)
    lines = (tmp_path / "home" / "outbox" / "notifications.jsonl").read_text().splitlines()
    assert len(lines) == 2
    billing = (tmp_path / "home" / "outbox" / "billing.jsonl").read_text()
    assert '"billing-ADJ-1"' in billing and '"amount": 500000' in billing
    assert states(case_db) == [("sent", 1), ("sent", 1)]
    assert [a.ok for a in notify.attempts(case_db, "billing", 1)] == [True]


def test_smtp_drain_sends_to_the_gateway_address(
    case_db: Database, smtp_server: SmtpInbox, tmp_path: Path
) -> None:
    adapter = SmtpAdapter(smtp_server.host, smtp_server.port, recipient_domain="sms.operator.test")
    result = notify.drain(
        case_db, tmp_path, notifications=adapter, billing=FileAdapter(tmp_path / "b.jsonl")
    )
    assert result.sent == 3
    assert [m["To"] for m in smtp_server.mails] == ["6281100000001@sms.operator.test"] * 2
    assert [m["Subject"] for m in smtp_server.mails] == [
        "Tiket CP0001: open",
        "Tiket CP0001: acknowledge",
    ]


def test_a_failing_webhook_is_retried_on_the_next_drain_then_marked_failed(
    case_db: Database, webhook_server: WebhookReceiver, tmp_path: Path
) -> None:
    conf = Settings(home=tmp_path, delivery_max_attempts=3)
    hook = WebhookAdapter(webhook_server.url, retries=0, sleep=lambda _: None)
    webhook_server.script = [503, 503]  # both notifications fail once
    kwargs = {"conf": conf, "notifications": hook, "billing": FileAdapter(tmp_path / "b.jsonl")}
    first = notify.drain(case_db, tmp_path, **kwargs)  # type: ignore[arg-type]
    assert (first.sent, first.retrying) == (1, 2)
    second = notify.drain(case_db, tmp_path, **kwargs)  # type: ignore[arg-type]
    assert (second.sent, second.retrying) == (2, 0)
    assert states(case_db) == [("sent", 2), ("sent", 2)]
    tried = notify.attempts(case_db, "notification", 1)
    assert [a.ok for a in tried] == [False, True] and "HTTP 503" in (tried[0].detail or "")
    # the receiver accepted each key once
    assert sorted(webhook_server.accepted_keys) == [
        "notification-CP0001-1",
        "notification-CP0001-2",
    ]

    webhook_server.script = [500] * 20
    with case_db.write() as s:
        n = s.get(Notification, 1)
        assert n is not None
        n.state, n.attempts = "queued", 0  # a fresh message, for the test's sake
    for _ in range(3):
        notify.drain(case_db, tmp_path, **kwargs)  # type: ignore[arg-type]
    assert states(case_db)[0] == ("failed", 3)
    last = notify.attempts(case_db, "notification", 1)[-1]
    assert not last.ok and "HTTP 500" in (last.detail or "")
    assert notify.drain(case_db, tmp_path, **kwargs).failed == 0  # type: ignore[arg-type]


def test_a_permanent_refusal_fails_at_once(
    case_db: Database, webhook_server: WebhookReceiver, tmp_path: Path
) -> None:
    webhook_server.script = [422]
    hook = WebhookAdapter(webhook_server.url, retries=3, sleep=lambda _: None)
    result = notify.drain(
        case_db, tmp_path, notifications=FileAdapter(tmp_path / "n"), billing=hook
    )
    assert result.failed == 1 and "HTTP 422" in result.reasons[0]


def test_concurrent_drains_deliver_each_key_once(
    case_db: Database, webhook_server: WebhookReceiver, tmp_path: Path
) -> None:
    webhook_server.delay = 0.05
    hook = WebhookAdapter(webhook_server.url, retries=0)
    results: list[notify.Drained] = []

    def run() -> None:
        results.append(notify.drain(case_db, tmp_path, notifications=hook, billing=hook))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.sent for r in results) == 3
    assert sorted(webhook_server.accepted_keys) == [
        "billing-ADJ-1",
        "notification-CP0001-1",
        "notification-CP0001-2",
    ]
