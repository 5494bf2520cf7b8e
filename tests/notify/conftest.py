"""Real receivers on loopback: an SMTP server (aiosmtpd) and an HTTP server that fails on demand."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message as Email
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class SmtpInbox:
    host: str
    port: int
    mails: list[Email] = field(default_factory=list)


@pytest.fixture
def smtp_server() -> Iterator[SmtpInbox]:
    """An aiosmtpd server on 127.0.0.1 collecting every mail it accepts."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # aiosmtpd's controller needs a concrete port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = SmtpInbox("127.0.0.1", port)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            inbox.mails.append(message_from_bytes(envelope.original_content or envelope.content))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@dataclass
class WebhookReceiver:
    url: str
    #: the HTTP status to answer for each coming request, in order; 200 once they run out
    script: list[int] = field(default_factory=list)
    #: (Idempotency-Key, JSON body, status answered) of every request received
    received: list[tuple[str | None, dict[str, Any], int]] = field(default_factory=list)
    delay: float = 0.0

    @property
    def accepted_keys(self) -> list[str | None]:
        return [k for k, _, status in self.received if 200 <= status < 300]


@pytest.fixture
def webhook_server() -> Iterator[WebhookReceiver]:
    """An HTTP server on 127.0.0.1 that answers POSTs as its ``script`` says."""
    receiver = WebhookReceiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if receiver.delay:
                import time

                time.sleep(receiver.delay)
            status = receiver.script.pop(0) if receiver.script else 200
            receiver.received.append((self.headers.get("Idempotency-Key"), body, status))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:  # keep test output clean
            return

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            return  # a client that timed out and hung up is what some tests do on purpose

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
