"""The customer's pages through the application (no browser): sign-in that says nothing about
what exists, codes that expire and lock out, isolation between customers, the staff-issued code
(logged), lodging under a hold, disputing, and the regulator's figures recomputed from the cases."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from jejak.cases.customer import service as cust
from jejak.cases.report.qos import qos
from jejak.errors import AuthError
from jejak.web.app import create_app
from tests.customer.conftest import SEED_CASE, SEED_COMPLAINT, SEED_MSISDN, Home, decide_and_remedy
from tests.workbench.conftest import csrf_of, sign_in

OTHER_MSISDN = "6281100000077"
OTHER_TICKET = "TCK-2017-0301-0077"


@pytest.fixture
def app(customer_home: Home) -> Iterator[FastAPI]:
    app = create_app(customer_home.path)
    # a second customer, with a case of their own
    app.state.cases.create(
        {
            "complaint_id": OTHER_TICKET,
            "msisdn": OTHER_MSISDN,
            "opened_at": "2017-03-01T09:00:00+07:00",
            "disputed_charge_ids": ["CHX77"],
            "disputed_amount": 77000,
            "summary": "rahasia pelanggan lain",
        }
    )
    yield app
    app.state.cases.close()


def client(app: FastAPI, address: str = "192.0.2.10") -> TestClient:
    """A browser at ``address`` (requests for codes are limited per client address)."""
    return TestClient(
        app, base_url="https://testserver", follow_redirects=False, client=(address, 50000)
    )


def form(c: TestClient) -> str:
    r = c.get("/pelanggan")
    assert r.status_code == 200
    return csrf_of(r.text)


def customer(app: FastAPI, msisdn: str = SEED_MSISDN, ticket: str = SEED_COMPLAINT) -> TestClient:
    """A browser signed in as the customer of ``ticket`` with a code staff handed over."""
    c = client(app)
    csrf = form(c)
    case_id = "CASE-" + ticket
    code = cust.issue_staff_code(app.state.cases, case_id, "rina")
    r = c.post(
        "/pelanggan/masuk", data={"csrf": csrf, "msisdn": msisdn, "ticket": ticket, "code": code}
    )
    assert r.status_code == 303 and r.headers["location"] == "/pelanggan/kasus", r.text
    return c


def _strip(html: str) -> str:
    return re.sub(r'name="csrf" value="[^"]+"', "", html)


def test_asking_for_a_code_answers_the_same_whatever_exists(app: FastAPI) -> None:
    tries = {
        "the customer's own": (SEED_MSISDN, SEED_COMPLAINT),
        "a ticket of another number": (SEED_MSISDN, OTHER_TICKET),
        "an unknown ticket": (SEED_MSISDN, "TCK-2017-0206-0002"),
        "an unknown number": ("6281100000099", SEED_COMPLAINT),
    }
    pages, times = {}, {}
    for n, (what, (msisdn, ticket)) in enumerate(tries.items()):
        spent = []
        for _ in range(3):
            c = client(app, f"198.51.100.{n}")  # one address per kind of try: none is limited
            csrf = form(c)
            t0 = time.perf_counter()
            r = c.post("/pelanggan/kode", data={"csrf": csrf, "msisdn": msisdn, "ticket": ticket})
            spent.append(time.perf_counter() - t0)
            assert r.status_code == 200
            pages[what] = _strip(r.text).replace(msisdn, "N").replace(ticket, "T")
        times[what] = statistics.median(spent)
    assert len(set(pages.values())) == 1, "the answer differs with what exists"
    # an argon2id hash is made either way: the time tells nothing either
    assert max(times.values()) < 2.5 * min(times.values()) + 0.05, times
    # and a code went out only for the customer's own ticket (one per request, three requests)
    with app.state.cases.db.read() as s:
        from sqlalchemy import func, select

        from jejak.cases.customer.models import CustomerCode

        counts = dict(
            s.execute(
                select(CustomerCode.case_id, func.count()).group_by(CustomerCode.case_id)
            ).all()
        )
    assert counts == {SEED_CASE: 3}


def test_the_barred_customer_gets_the_code_by_e_mail_and_the_others_by_sms(app: FastAPI) -> None:
    cases = app.state.cases
    assert cust.barred_both_ways(cases, SEED_MSISDN)
    cust.request_code(cases, SEED_MSISDN, SEED_COMPLAINT)
    cust.request_code(cases, OTHER_MSISDN, OTHER_TICKET)
    with cases.db.read() as s:
        from sqlalchemy import select

        from jejak.cases.models import Notification

        sent = {
            (n.ticket, n.msisdn)
            for n in s.scalars(select(Notification).where(Notification.event == "signin_code"))
        }
    assert sent == {(SEED_COMPLAINT, "budi@contoh.id"), (OTHER_TICKET, OTHER_MSISDN)}


def test_wrong_used_and_expired_codes_fail_alike_and_the_number_locks(app: FastAPI) -> None:
    cases = app.state.cases
    code = cust.issue_staff_code(cases, SEED_CASE, "rina")
    with pytest.raises(AuthError) as other:
        cust.sign_in(cases, OTHER_MSISDN, SEED_COMPLAINT, code)
    assert cust.sign_in(cases, SEED_MSISDN, SEED_COMPLAINT, code) == SEED_CASE
    with pytest.raises(AuthError) as used:
        cust.sign_in(cases, SEED_MSISDN, SEED_COMPLAINT, code)
    late = cust.issue_staff_code(cases, SEED_CASE, "rina")
    with pytest.raises(AuthError) as expired:
        cust.sign_in(
            cases, SEED_MSISDN, SEED_COMPLAINT, late, at=datetime.now(UTC) + timedelta(minutes=11)
        )
    assert str(other.value) == str(used.value) == str(expired.value)
    # through the page: five wrong codes lock the number (in the database, for every worker)
    c = client(app)
    csrf = form(c)
    statuses = [
        c.post(
            "/pelanggan/masuk",
            data={"csrf": csrf, "msisdn": SEED_MSISDN, "ticket": SEED_COMPLAINT, "code": "000000"},
        ).status_code
        for _ in range(6)
    ]
    assert statuses[:4] == [401] * 4 and statuses[4:] == [429, 429]
    fresh = cust.issue_staff_code(cases, SEED_CASE, "rina")
    r = c.post(
        "/pelanggan/masuk",
        data={"csrf": csrf, "msisdn": SEED_MSISDN, "ticket": SEED_COMPLAINT, "code": fresh},
    )
    assert r.status_code == 429  # even the right code waits out the lock
    # a POST without the session's anti-forgery token is refused
    assert client(app).post("/pelanggan/masuk", data={"msisdn": SEED_MSISDN}).status_code == 403


def test_a_customer_sees_only_their_own_case_and_no_staff_data(
    app: FastAPI, customer_home: Home
) -> None:
    decide_and_remedy(customer_home)
    c = customer(app)
    page = c.get("/pelanggan/kasus")
    assert page.status_code == 200 and SEED_COMPLAINT in page.text
    for secret in (
        OTHER_TICKET,
        OTHER_MSISDN,
        "rahasia pelanggan lain",
        "rina",
        "sari",
        "joko",
        "called the customer back",
        "6281100000002",
    ):
        assert secret not in page.text, secret
    bundle = c.get("/pelanggan/kasus/bukti.json").json()
    assert bundle["case_id"] == SEED_CASE and OTHER_TICKET not in str(bundle)
    # guessed receipts: only entries of the own case exist
    assert c.get("/pelanggan/kasus/tanda-terima/1.tlog").status_code == 200
    assert c.get("/pelanggan/kasus/tanda-terima/999.tlog").status_code == 404
    # the case id comes from the session only: no URL names another case
    for path in ("/cases", f"/cases/{SEED_CASE}", "/api/v1/cases/CASE-" + OTHER_TICKET, "/alerts"):
        r = c.get(path)
        assert r.status_code in (303, 401), (path, r.status_code)
        assert OTHER_MSISDN not in r.text
    # the other customer, signed in, sees theirs and nothing of the seed's
    other = customer(app, OTHER_MSISDN, OTHER_TICKET).get("/pelanggan/kasus")
    assert (
        OTHER_TICKET in other.text
        and SEED_COMPLAINT not in other.text
        and SEED_MSISDN not in other.text
    )
    # anonymous: nothing but the sign-in page
    assert client(app).get("/pelanggan/kasus").headers["location"] == "/pelanggan"
    assert client(app).get("/pelanggan/kasus/bukti.json").status_code == 401


def test_staff_issue_a_code_and_the_issue_is_logged(app: FastAPI, customer_home: Home) -> None:
    staff = client(app)
    csrf = sign_in(staff, customer_home, "rina")
    r = staff.post(f"/cases/{SEED_CASE}/kode-pelanggan", data={"csrf": csrf})
    assert r.status_code == 200
    code = re.search(r'id="customer-code">(\d{6})<', r.text).group(1)
    assert cust.sign_in(app.state.cases, SEED_MSISDN, SEED_COMPLAINT, code) == SEED_CASE
    log = app.state.cases.access_log(SEED_MSISDN)
    assert any(a["what"] == "customer_code_issued" and a["user"] == "rina" for a in log)
    auditor = client(app)
    csrf = sign_in(auditor, customer_home, "ayu")
    assert (
        auditor.post(f"/cases/{SEED_CASE}/kode-pelanggan", data={"csrf": csrf}).status_code == 403
    )


def test_lodging_gives_a_ticket_at_once_and_the_hold_protects_the_line(app: FastAPI) -> None:
    c = customer(app)
    page = c.get("/pelanggan/pengaduan")
    assert "CH000001" in page.text and "CHX77" not in page.text  # the line's own charges only
    csrf = csrf_of(page.text)
    bad = c.post("/pelanggan/pengaduan", data={"csrf": csrf, "charge": ["CHX77"], "text": "x"})
    assert bad.status_code == 422
    r = c.post(
        "/pelanggan/pengaduan",
        data={"csrf": csrf, "charge": ["CH000008"], "text": "Paket tidak pernah saya minta"},
    )
    assert r.status_code == 303, r.text[:3000]
    page = c.get("/pelanggan/kasus?ok=lodged")
    ticket = re.search(r"Nomor tiket Anda (WEB-\d{8}-[0-9A-F]{6})", page.text).group(1)
    case = app.state.cases.get("CASE-" + ticket)
    assert case["hold"] == {"active": True, "amount": 150000}
    refused = app.state.cases.can_bar(SEED_MSISDN, 150000)
    assert refused["allowed"] is False and "CASE-" + ticket in refused["case_ids"]


def test_disputing_the_decision_escalates_the_case(app: FastAPI) -> None:
    cases = app.state.cases
    case_id = "CASE-" + OTHER_TICKET
    cases.act(case_id, "rina", "acknowledge")
    cases.act(
        case_id,
        "sari",
        "decide",
        {"hypothesis": "credential_misuse", "operator_liable": True, "reason": "refund due"},
    )
    c = customer(app, OTHER_MSISDN, OTHER_TICKET)
    page = c.get("/pelanggan/kasus")
    assert "Melanjutkan pengaduan" in page.text and "/pelanggan/kasus/berkas.pdf" in page.text
    empty = c.post("/pelanggan/kasus/sanggah", data={"csrf": csrf_of(page.text), "reason": " "})
    assert empty.status_code == 422
    r = c.post(
        "/pelanggan/kasus/sanggah", data={"csrf": csrf_of(page.text), "reason": "kompensasi kurang"}
    )
    assert r.status_code == 303, re.findall(r"flash error[^<]*<", r.text)
    view = cases.get(case_id)
    assert view["state"] == "escalated"
    # recorded as the customer: role customer, the actor the case's own number
    last = view["timeline"][-1]
    assert (last["action"], last["text"]) == ("escalate", "kompensasi kurang")
    assert (last["actor"], last["actor_role"]) == (OTHER_MSISDN, "customer")
    page = c.get("/pelanggan/kasus").text
    assert "Anda menyanggahnya dan kasus dilanjutkan: kompensasi kurang" in page
    assert "Anda, secara online" in page
    pdf = c.get("/pelanggan/kasus/berkas.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


# ---------------------------------------------------------------------------- the regulator


def _simulate(cases: Any) -> None:
    """A quarter of an operator: CRM complaints decided early, late or not at all, some insider."""
    plan = [  # (received, decided after days or None, hypothesis)
        ("2017-01-09T09:00:00+07:00", 3, "credential_misuse"),
        ("2017-01-16T09:00:00+07:00", 10, "billing_error"),
        ("2017-02-01T09:00:00+07:00", 30, "owner_misuse"),
        ("2017-02-20T09:00:00+07:00", None, None),
        ("2017-03-06T09:00:00+07:00", 1, "customer_consented"),
        ("2017-03-29T09:00:00+07:00", 2, "credential_misuse"),
        ("2017-04-03T09:00:00+07:00", 1, "billing_error"),  # next quarter
    ]
    for i, (received, after, hyp) in enumerate(plan):
        ticket = f"TCK-SIM-{i:03d}"
        cases.create(
            {
                "complaint_id": ticket,
                "msisdn": f"62811000001{i:02d}",
                "opened_at": received,
                "disputed_charge_ids": [f"SIM{i}"] if i != 4 else [],
                "disputed_amount": 1000 * i,
            },
            at=received,
        )
        if after is None:
            continue
        at = datetime.fromisoformat(received) + timedelta(days=after)
        cases.act("CASE-" + ticket, "rina", "acknowledge", at=at)
        cases.act(
            "CASE-" + ticket,
            "sari",
            "decide",
            {"hypothesis": hyp, "operator_liable": hyp != "customer_consented", "reason": "r"},
            at=at,
        )


def test_qos_figures_recomputed_from_the_case_records(app: FastAPI, customer_home: Home) -> None:
    cases = app.state.cases
    decide_and_remedy(customer_home)
    _simulate(cases)
    got = qos(cases, "2017Q1", at=datetime(2017, 6, 30, tzinfo=UTC))
    # independently, from the case objects
    start, end = (
        datetime.fromisoformat("2017-01-01T00:00:00+07:00"),
        datetime.fromisoformat("2017-04-01T00:00:00+07:00"),
    )
    mine = [cases.get(c["case_id"]) for c in cases.list()]
    mine = [c for c in mine if start <= datetime.fromisoformat(c["opened_at"]) < end]
    assert got["cases"] == len(mine) == 8  # the seed, the other customer's and six simulated

    def decided(c: dict) -> datetime | None:
        ts = [e["at"] for e in c["timeline"] if e["action"] == "decide"]
        return datetime.fromisoformat(ts[0]) if ts else None

    billing = [c for c in mine if c["disputed_charge_ids"]]
    on_time = {
        c["case_id"]
        for c in billing
        if decided(c) and decided(c) <= datetime.fromisoformat(c["decision_due"])
    }
    s = got["settled_within_deadline"]
    assert set(s["in_time"]) == on_time
    assert s["share"] == pytest.approx(len(on_time) / len(billing))
    assert s["meets_standard"] is False
    bills = len(
        {
            (r["msisdn"], r["cycle"])
            for r in cases.store.sql("SELECT msisdn, cycle FROM charges")
            if r["cycle"] in ("2017-01", "2017-02", "2017-03")
        }
    )
    b = got["billing_complaints_share"]
    assert (b["complaints"], b["bills"]) == (len(billing), bills)
    kinds: dict[str, set[str]] = {}
    for c in mine:
        hyp = (c["decision"] or {}).get("hypothesis") or c["investigation"]["hypothesis"]
        if hyp in ("credential_misuse", "owner_misuse"):
            kinds.setdefault(hyp, set()).add(c["case_id"])
    assert {k: set(v["cases"]) for k, v in got["insider_incidents"]["by_kind"].items()} == kinds
    by_outlet = got["insider_incidents"]["by_outlet"]
    assert SEED_CASE in by_outlet["SRG"]["cases"]
    assert {c for v in by_outlet.values() for c in v["cases"]} == set().union(*kinds.values())
    days = sorted(
        (decided(c) - datetime.fromisoformat(c["opened_at"])).total_seconds() / 86400
        for c in mine
        if decided(c)
    )
    t = got["time_to_decision_days"]
    assert t["median"] == pytest.approx(statistics.median(days))
    assert t["p95"] == pytest.approx(days[-1])  # nearest rank of 6 values: the largest
