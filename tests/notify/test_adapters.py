"""Each delivery adapter against a real receiver: what arrives, what is retried, what fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jejak.errors import DeliveryError
from jejak.notify.adapters import FileAdapter, Message, SmtpAdapter, WebhookAdapter

from .conftest import SmtpInbox, WebhookReceiver

MSG = Message(
    key="notif-CASE-1-3",
    recipient="pelanggan@example.test",
    subject="Tiket CASE-1: keluhan diterima",
    body="Keluhan Anda diterima. Batas keputusan: 28 Februari 2017.",
    payload={"case_id": "CASE-1", "state": "acknowledged"},
)


def test_file_adapter_writes_each_key_once(tmp_path: Path) -> None:
    path = tmp_path / "outbox" / "notifications.jsonl"
    FileAdapter(path).send(MSG)
    FileAdapter(path).send(MSG)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["notif-CASE-1-3"]
    assert json.loads(lines[0])["payload"]["state"] == "acknowledged"


def test_file_adapter_rewrites_a_message_whose_line_was_torn(tmp_path: Path) -> None:
    path = tmp_path / "n.jsonl"
    path.write_text('{"key": "notif-CASE-1-3", "reci', encoding="utf-8")
    FileAdapter(path).send(MSG)
    assert json.loads(path.read_text().splitlines()[-1])["key"] == MSG.key


def test_smtp_delivers_a_mail_with_the_key_as_message_id(smtp_server: SmtpInbox) -> None:
    SmtpAdapter(smtp_server.host, smtp_server.port, sender="jejak@operator.test").send(MSG)
    assert len(smtp_server.mails) == 1
    mail = smtp_server.mails[0]
    assert mail["To"] == MSG.recipient
    assert mail["Message-ID"] == "<notif-CASE-1-3@jejak>"
    assert "Batas keputusan" in mail.get_payload(decode=True).decode()


def test_smtp_without_a_server_is_a_transient_failure() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DeliveryError) as caught:
        SmtpAdapter("127.0.0.1", port, timeout=2).send(MSG)
    assert not caught.value.permanent
    assert f"127.0.0.1:{port}" in str(caught.value)


def test_webhook_retries_5xx_then_delivers_with_one_key(webhook_server: WebhookReceiver) -> None:
    webhook_server.script = [503, 500]
    waits: list[float] = []
    WebhookAdapter(webhook_server.url, retries=3, sleep=waits.append).send(MSG)
    assert [k for k, _, _ in webhook_server.received] == [MSG.key] * 3
    assert webhook_server.accepted_keys == [MSG.key]
    assert waits == [0.5, 1.0]  # exponential backoff
    assert webhook_server.received[-1][1]["payload"] == MSG.payload


def test_webhook_gives_up_after_its_retries(webhook_server: WebhookReceiver) -> None:
    webhook_server.script = [503] * 10
    with pytest.raises(DeliveryError) as caught:
        WebhookAdapter(webhook_server.url, retries=2, sleep=lambda _: None).send(MSG)
    assert len(webhook_server.received) == 3
    assert not caught.value.permanent and "HTTP 503" in str(caught.value)


def test_webhook_4xx_is_permanent_and_not_retried(webhook_server: WebhookReceiver) -> None:
    webhook_server.script = [400]
    with pytest.raises(DeliveryError) as caught:
        WebhookAdapter(webhook_server.url, retries=3, sleep=lambda _: None).send(MSG)
    assert caught.value.permanent
    assert len(webhook_server.received) == 1


def test_webhook_times_out_and_retries(webhook_server: WebhookReceiver) -> None:
    webhook_server.delay = 0.5
    with pytest.raises(DeliveryError) as caught:
        WebhookAdapter(webhook_server.url, timeout=0.1, retries=1, sleep=lambda _: None).send(MSG)
    assert "no answer within 0.1 s" in str(caught.value)
