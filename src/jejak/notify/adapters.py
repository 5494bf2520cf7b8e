"""Where a queued message goes: a JSONL file, an SMTP server or an HTTP webhook.

Each adapter has one method, ``send(message)``: it returns when the receiver has taken the
message, and raises :class:`jejak.errors.DeliveryError` when it has not (``permanent`` when
retrying cannot help, such as a 4xx answer or a refused recipient). Every adapter carries the
message's idempotency key to the receiver, so a message resent after a crash between sending and
recording is recognised there:

- ``file``: appends one JSON line per message to a file, and skips a key already in the file;
- ``smtp``: ``Message-ID: <key@jejak>`` (RFC 5322 §3.6.4), the receiver's duplicate check;
- ``webhook``: ``Idempotency-Key: key`` (IETF draft-ietf-httpapi-idempotency-key-header), a JSON
  POST retried with exponential backoff on timeouts, connection errors, 429 and 5xx.

Example::

    >>> from jejak.notify.adapters import FileAdapter, Message
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.jsonl"
    >>> m = Message(key="n-1", recipient="6281100000001", subject="Tiket", body="Diterima")
    >>> FileAdapter(path).send(m); FileAdapter(path).send(m)
    >>> len(path.read_text().splitlines())
    1
"""

from __future__ import annotations

import json
import os
import smtplib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, Protocol

import httpx

from jejak.errors import DeliveryError

#: backoff before the n-th retry of one webhook POST (seconds): 0.5, 1, 2, ...
BACKOFF_BASE = 0.5
#: answers that are worth another try; any other 4xx is the request's fault
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Message:
    """One message to deliver, named by its idempotency key."""

    key: str
    recipient: str
    subject: str
    body: str
    payload: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Adapter(Protocol):
    """Delivers one message or raises :class:`DeliveryError`."""

    name: str

    def send(self, message: Message) -> None: ...


class FileAdapter:
    """Appends each message as one JSON line (development and tests); a key is written once."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _read(self) -> tuple[set[str], bool]:
        """The keys already written, and whether the file ends in a torn line."""
        if not self.path.exists():
            return set(), False
        keys = set()
        text = self.path.read_text(encoding="utf-8", errors="replace")
        for line in text.splitlines():
            try:
                keys.add(json.loads(line)["key"])
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line from a crash: the message is written again
        return keys, bool(text) and not text.endswith("\n")

    def send(self, message: Message) -> None:
        keys, torn = self._read()
        if message.key in keys:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(message.to_dict(), ensure_ascii=False, sort_keys=True) + "\n"
        if torn:
            line = "\n" + line
        try:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise DeliveryError(str(self.path), f"cannot append: {exc}") from exc


class SmtpAdapter:
    """Sends each message as a plain-text e-mail through one SMTP server."""

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int = 25,
        sender: str = "jejak@localhost",
        timeout: float = 10.0,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        recipient_domain: str | None = None,
    ) -> None:
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout
        self.starttls, self.username, self.password = starttls, username, password
        self.recipient_domain = recipient_domain

    def address(self, recipient: str) -> str:
        """An e-mail address as is; a phone number at the e-mail-to-SMS gateway's domain."""
        if "@" in recipient or not self.recipient_domain:
            return recipient
        return f"{recipient}@{self.recipient_domain}"

    def email(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = self.address(message.recipient)
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = f"<{message.key}@jejak>"
        mail.set_content(message.body)
        return mail

    def send(self, message: Message) -> None:
        where = f"smtp://{self.host}:{self.port}"
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(self.email(message))
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                where, f"recipient refused: {exc.recipients}", permanent=True
            ) from exc
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            text = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            raise DeliveryError(where, f"{exc.smtp_code} {text}", permanent=permanent) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(where, f"{exc.__class__.__name__}: {exc}") from exc
        if refused:
            raise DeliveryError(where, f"recipient refused: {sorted(refused)}", permanent=True)


class WebhookAdapter:
    """POSTs each message as JSON with an ``Idempotency-Key`` header, retrying transient failures."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        timeout: float = 5.0,
        retries: int = 3,
        token: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url, self.timeout, self.retries, self.token = url, timeout, retries, token
        self._sleep = sleep
        self._transport = transport

    def send(self, message: Message) -> None:
        headers = {"Idempotency-Key": message.key, "Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps(message.to_dict(), ensure_ascii=False, sort_keys=True).encode()
        last = "not tried"
        with httpx.Client(timeout=self.timeout, transport=self._transport) as client:
            for attempt in range(self.retries + 1):
                if attempt:
                    self._sleep(BACKOFF_BASE * 2 ** (attempt - 1))
                try:
                    answer = client.post(self.url, content=body, headers=headers)
                except httpx.TimeoutException:
                    last = f"no answer within {self.timeout:g} s"
                    continue
                except httpx.TransportError as exc:
                    last = f"{exc.__class__.__name__}: {exc}"
                    continue
                if answer.is_success:
                    return
                last = f"HTTP {answer.status_code} {answer.text[:200]!r}"
                if answer.status_code not in RETRYABLE_STATUS:
                    raise DeliveryError(self.url, last, permanent=True)
        raise DeliveryError(self.url, f"{self.retries + 1} tries, last: {last}")
