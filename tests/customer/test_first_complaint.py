"""A first complaint without a ticket, in the library, on SQLite and on PostgreSQL: a code for
the line alone (SMS, or e-mail when barred both ways, or handed over by staff), the line's own
charges, a ticket at once and the hold in force from that moment; the customer's answers
recorded as the customer; the migration that made room for a code without a case."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from jejak.cases import Cases
from jejak.cases.customer import service as cust
from jejak.cases.customer.models import CustomerCode
from jejak.cases.models import Notification
from jejak.cases.service import Actor
from jejak.cases.users import add_user
from jejak.errors import AuthError, ForbiddenError, InvalidFieldError, NotFoundError
from jejak.home import Home
from jejak.store import Store
from tests.customer.conftest import SEED_EMAIL, SEED_MSISDN

#: a subscriber of the seed with no bar and no charges, and a number nobody holds
PLAIN_LINE = "6281100000052"
NOBODY = "6281100000099"
T0 = datetime(2017, 3, 12, 9, 0, tzinfo=UTC)


@pytest.fixture
def line_cases(seed_store: Store, backend: str | None) -> Iterator[Cases]:
    """The seed's records (its line barred both ways, no case yet), a case database on the
    backend, an e-mail on file for the seed's subscriber, and two staff accounts."""
    home = Home(seed_store.home)
    cases = home.cases
    add_user(cases.db, "rina", "cs")
    add_user(cases.db, "sari", "investigator")
    cust.set_email(cases, SEED_MSISDN, SEED_EMAIL)
    yield cases
    home.close()


def _codes_sent(cases: Cases) -> list[tuple[str | None, str, str]]:
    """(case id, recipient, code) of every sign-in code in the notifications outbox."""
    with cases.db.read() as s:
        rows = s.scalars(select(Notification).where(Notification.event == "signin_code")).all()
        return [
            (n.case_id, n.msisdn, re.search(r"\b(\d{6})\b", n.body).group(1))  # type: ignore[union-attr]
            for n in rows
        ]


def test_a_line_without_a_ticket_lodges_and_is_protected_at_once(line_cases: Cases) -> None:
    cases = line_cases
    # the seed's line is barred both ways: its line code goes to the e-mail on file
    assert cust.barred_both_ways(cases, SEED_MSISDN)
    cust.request_line_code(cases, "0811-0000-0001", at=T0)
    cust.request_line_code(cases, PLAIN_LINE, at=T0)  # not barred: by SMS to the number
    cust.request_line_code(cases, NOBODY, at=T0)  # nobody's: nothing is sent
    cust.request_line_code(cases, "not a number", at=T0)
    sent = _codes_sent(cases)
    assert [(c, to) for c, to, _ in sent] == [(None, SEED_EMAIL), (None, PLAIN_LINE)]
    code = sent[0][2]
    body = next(n for n in _bodies(cases) if n[0] == SEED_EMAIL)[1]
    assert "menyampaikan pengaduan" in body and code in body

    # the code signs the line in once; a wrong code or another number does not
    with pytest.raises(AuthError) as other:
        cust.sign_in_line(cases, PLAIN_LINE, code, at=T0)
    assert cust.sign_in_line(cases, "+62 811-0000-0001", code, at=T0) == SEED_MSISDN
    with pytest.raises(AuthError) as used:
        cust.sign_in_line(cases, SEED_MSISDN, code, at=T0)
    assert str(other.value) == str(used.value)

    # nothing holds the line yet; the complaint lodged, the hold is in force at once
    before = cases.can_bar(SEED_MSISDN, 150_000, at=T0)
    assert before["allowed"] is True
    with pytest.raises(InvalidFieldError):
        cust.lodge(cases, SEED_MSISDN, ["CHX77"], "not my charge", at=T0)  # not the line's
    case = cust.lodge(cases, SEED_MSISDN, ["CH000008"], "Paket tidak pernah saya minta", at=T0)
    ticket = case["complaint_id"]
    assert re.fullmatch(r"WEB-20170312-[0-9A-F]{6}", ticket)
    assert case["hold"] == {"active": True, "amount": 150_000}
    refused = cases.can_bar(SEED_MSISDN, 150_000, at=T0 + timedelta(seconds=1))
    assert refused["allowed"] is False and refused["case_ids"] == [case["case_id"]]
    # the same charge cannot be disputed twice while the first case is open
    assert cust.disputed_charges(cases, SEED_MSISDN) == {"CH000008": ticket}
    with pytest.raises(InvalidFieldError, match="disputed already"):
        cust.lodge(cases, SEED_MSISDN, ["CH000008"], "again", at=T0 + timedelta(minutes=1))


def _bodies(cases: Cases) -> list[tuple[str, str]]:
    with cases.db.read() as s:
        return [
            (n.msisdn, n.body)
            for n in s.scalars(select(Notification).where(Notification.event == "signin_code"))
        ]


def test_line_codes_and_case_codes_open_only_what_they_were_made_for(line_cases: Cases) -> None:
    cases = line_cases
    case = cust.lodge(cases, SEED_MSISDN, ["CH000001"], "tagihan salah", at=T0)
    ticket = case["complaint_id"]
    case_code = cust.issue_staff_code(cases, case["case_id"], "rina", at=T0)
    line_code = cust.issue_staff_line_code(cases, SEED_MSISDN, "rina", at=T0)
    with pytest.raises(AuthError):
        cust.sign_in_line(cases, SEED_MSISDN, case_code, at=T0)
    with pytest.raises(AuthError):
        cust.sign_in(cases, SEED_MSISDN, ticket, line_code, at=T0)
    assert cust.sign_in(cases, SEED_MSISDN, ticket, case_code, at=T0) == case["case_id"]
    assert cust.sign_in_line(cases, SEED_MSISDN, line_code, at=T0) == SEED_MSISDN
    # a line code expires like any code
    late = cust.issue_staff_line_code(cases, SEED_MSISDN, "rina", at=T0)
    with pytest.raises(AuthError):
        cust.sign_in_line(cases, SEED_MSISDN, late, at=T0 + timedelta(minutes=11))
    # the staff issue is in the access log (and so in the transparency log)
    log = cases.access_log(SEED_MSISDN)
    assert [a["what"] for a in log].count("customer_line_code_issued") == 2
    # staff cannot issue a line code for a number nobody holds
    with pytest.raises(NotFoundError):
        cust.issue_staff_line_code(cases, NOBODY, "rina", at=T0)


def test_at_most_five_line_codes_an_hour_are_sent(line_cases: Cases) -> None:
    for i in range(7):
        cust.request_line_code(line_cases, PLAIN_LINE, at=T0 + timedelta(minutes=i))
    assert len(_codes_sent(line_cases)) == cust.CODES_PER_HOUR
    cust.request_line_code(line_cases, PLAIN_LINE, at=T0 + timedelta(minutes=61))
    assert len(_codes_sent(line_cases)) == cust.CODES_PER_HOUR + 1


def test_the_customer_answers_as_the_customer(line_cases: Cases) -> None:
    cases = line_cases
    case = cust.lodge(cases, SEED_MSISDN, ["CH000002"], "salah tagih", at=T0)
    cid = case["case_id"]
    cases.act(cid, "rina", "acknowledge", at=T0 + timedelta(hours=1))
    cases.act(
        cid,
        "sari",
        "decide",
        {"hypothesis": "credential_misuse", "operator_liable": True, "reason": "an insider"},
        at=T0 + timedelta(hours=2),
    )
    view = cust.accept(cases, cid, at=T0 + timedelta(hours=3))
    last = view["timeline"][-1]
    assert (last["action"], last["actor"], last["actor_role"]) == (
        "accept",
        SEED_MSISDN,
        "customer",
    )
    assert view["hold"]["active"] is False
    # another number acting as a customer on this case is refused, and so is an action the
    # table does not give customers
    with pytest.raises(ForbiddenError):
        cases.act(cid, Actor(PLAIN_LINE, "customer"), "escalate", {"reason": "x"})
    with pytest.raises(ForbiddenError):
        cases.act_as_customer(cid, "note", {"text": "x"})
    # nobody may pose as the customer through a staff account's name
    with pytest.raises(ForbiddenError):
        cases.act(cid, SEED_MSISDN, "escalate", {"reason": "x"})


def test_a_late_decision_can_be_disputed_by_the_customer(line_cases: Cases) -> None:
    cases = line_cases
    case = cust.lodge(cases, SEED_MSISDN, ["CH000003"], "salah tagih", at=T0)
    later = T0 + timedelta(days=40)  # past the 15 working days, never acknowledged
    view = cases.get(case["case_id"])
    cases.tick(later)
    view = cases.get(case["case_id"])
    assert view["state"] == "received"
    view = cust.dispute(cases, case["case_id"], "tidak ada keputusan", at=later)
    assert view["state"] == "escalated"
    assert view["timeline"][-1]["actor_role"] == "customer"


def test_upgrading_from_0005_keeps_the_codes_and_messages(
    tmp_path: Path, backend: str | None
) -> None:
    from alembic import command
    from alembic.config import Config

    from jejak.cases.db import MIGRATIONS, Database, database_url
    from jejak.cases.models import Case

    db = Database(database_url(tmp_path / "home"))
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0005")
        with db.write() as s:
            s.add(
                Case(
                    case_id="CASE-X",
                    complaint_id="X",
                    msisdn=SEED_MSISDN,
                    source="crm",
                    state="received",
                    language="id",
                    opened_at=T0,
                    ack_due=T0,
                    decision_due=T0,
                    disputed_charge_ids=[],
                    disputed_amount=0,
                    last_seq=0,
                    version=1,
                )
            )
        codes = sa.table(
            "customer_codes",
            *(sa.column(c) for c in ("case_id", "code_hash", "channel", "created_at")),
            *(sa.column(c) for c in ("expires_at", "failures")),
        )
        with db.engine.begin() as conn:
            conn.execute(
                codes.insert().values(
                    case_id="CASE-X",
                    code_hash="h",
                    channel="sms",
                    created_at=T0.replace(tzinfo=None),
                    expires_at=T0.replace(tzinfo=None),
                    failures=0,
                )
            )
        db.migrate()
        with db.read() as s:
            kept = s.scalars(select(CustomerCode)).one()
            assert (kept.case_id, kept.msisdn, kept.code_hash) == ("CASE-X", None, "h")
        long_address = "a" * 60 + "@" + "contoh" * 20 + ".id"  # well over the old 32 characters
        with db.write() as s:
            s.add(
                Notification(
                    case_id=None,
                    msisdn=long_address,
                    language="id",
                    ticket="",
                    event="signin_code",
                    subject="s",
                    body="b",
                    created_at=T0,
                    state="queued",
                    attempts=0,
                )
            )
            s.add(
                CustomerCode(
                    case_id=None,
                    msisdn=SEED_MSISDN,
                    code_hash="h2",
                    channel="staff",
                    created_at=T0,
                    expires_at=T0,
                    failures=0,
                )
            )
        with db.read() as s:
            assert s.scalars(select(Notification.msisdn)).one() == long_address
        assert "rate_events" in db.tables()
    finally:
        db.dispose()
