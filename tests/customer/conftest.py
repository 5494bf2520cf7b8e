"""Fixtures for the customer's side: the workbench's seed home (its case opened, its staff), a
real SMTP server (aiosmtpd) that catches the codes, and helpers to act as staff."""

from __future__ import annotations

import re
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import jejak
from jejak.auth.service import enroll_totp, set_password
from jejak.cases.customer import service as cust
from jejak.cases.users import add_user
from tests.cases.conftest import backend, pg_schema  # noqa: F401  (SQLite and PostgreSQL)
from tests.workbench.conftest import PASSWORD, SEED_CASE, SEED_COMPLAINT, STAFF, WorkbenchHome

Home = WorkbenchHome

SEED_MSISDN = "6281100000001"
SEED_EMAIL = "budi@contoh.id"
#: the seed's own dates: the complaint, the day after the bar, the decision days
OPENED = "2017-02-06T10:12:00+07:00"
AFTER_BAR = "2017-03-11T08:00:00+07:00"


def make_customer_home(home: Path, seed_dir: Path) -> Home:
    """The seed ingested and detected, its case opened on the complaint's day, time run to the
    day after the bar (the provisional credit, the bar's finding), an e-mail on file, the staff."""
    h = jejak.Home(home)
    h.ingest([seed_dir])
    h.refresh_alerts()
    cases = h.cases
    cases.open_case(SEED_COMPLAINT, at=OPENED)
    cases.sync(at=AFTER_BAR)
    cust.set_email(cases, SEED_MSISDN, SEED_EMAIL)
    totp = {}
    for name, role in STAFF.items():
        add_user(cases.db, name, role)
        set_password(cases.db, name, PASSWORD)
        totp[name] = enroll_totp(cases.db, name)
    h.close()
    return Home(home, totp)


@pytest.fixture(scope="session")
def _customer_home(tmp_path_factory: pytest.TempPathFactory, seed_dir: Path) -> Home:
    return make_customer_home(tmp_path_factory.mktemp("customer") / "home", seed_dir)


@pytest.fixture
def customer_home(_customer_home: Home, tmp_path: Path) -> Home:
    """A private copy of the customer's seed home."""
    home = tmp_path / "home"
    shutil.copytree(_customer_home.path, home)
    return Home(home, _customer_home.totp)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server received: (recipients, raw message) per mail."""

    port: int
    mails: list[tuple[list[str], str]] = field(default_factory=list)

    def codes_for(self, rcpt: str) -> list[str]:
        """The sign-in codes sent to ``rcpt`` (an address, or a number at the SMS gateway)."""
        return [
            m.group(1)
            for to, body in self.mails
            if any(rcpt in t for t in to) and "Kode masuk" in body
            for m in [re.search(r": (\d{6})\.", body)]
            if m
        ]

    def codes(self) -> list[str]:
        """Every sign-in code sent."""
        return [c for to, _ in self.mails for t in to for c in self.codes_for(t)]


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """A real SMTP server on loopback; the settings of any server started after this send to it."""
    aiosmtpd = pytest.importorskip("aiosmtpd.controller")
    box = Mailbox(free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            box.mails.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
            return "250 OK"

    ctl = aiosmtpd.Controller(Handler(), hostname="127.0.0.1", port=box.port)
    ctl.start()
    monkeypatch.setenv("JEJAK_NOTIFY_ADAPTER", "smtp")
    monkeypatch.setenv("JEJAK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("JEJAK_SMTP_PORT", str(box.port))
    monkeypatch.setenv("JEJAK_SMTP_RECIPIENT_DOMAIN", "sms.contoh.id")
    yield box
    ctl.stop()


def decide_and_remedy(home: Home) -> None:
    """Staff settle the seed case as the evidence says: acknowledge, decide, lift the bar,
    refund (proposed by cs, approved by a supervisor)."""
    h = jejak.Home(home.path)
    cases = h.cases
    try:
        cases.act(SEED_CASE, "rina", "acknowledge", at="2017-03-13T09:00:00+07:00")
        cases.act(
            SEED_CASE,
            "rina",
            "note",
            {"text": "called the customer back"},
            at="2017-03-13T09:30:00+07:00",
        )
        cases.act(
            SEED_CASE,
            "sari",
            "decide",
            {
                "hypothesis": "credential_misuse",
                "operator_liable": True,
                "reason": "the user ID's owner was off shift; another insider used it",
            },
            at="2017-03-14T10:00:00+07:00",
        )
        cases.act(
            SEED_CASE, "rina", "lift_bar", {"action_id": "LA000001"}, at="2017-03-14T10:30:00+07:00"
        )
        view = cases.act(
            SEED_CASE,
            "rina",
            "propose_adjustment",
            {"amount": 500000, "charge_ids": ["CH000009", "CH000010"], "reason": "refund"},
            at="2017-03-14T11:00:00+07:00",
        )
        for adj in view["adjustments"]:
            if adj["state"] == "proposed":
                cases.act(
                    SEED_CASE,
                    "joko",
                    "approve_adjustment",
                    {"adjustment_id": adj["adjustment_id"]},
                    at="2017-03-15T09:00:00+07:00",
                )
    finally:
        h.close()


__all__ = [
    "SEED_CASE",
    "SEED_COMPLAINT",
    "SEED_EMAIL",
    "SEED_MSISDN",
    "Mailbox",
    "decide_and_remedy",
]
