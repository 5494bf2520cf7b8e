"""A first complaint online, through the pages (no browser): the number alone → a code → the
line's own charges → a ticket at once; the same answer whatever the number; requests for codes
limited per client address for every worker; the code staff hand over from the subscriber page."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from jejak.cases.models import Notification
from jejak.web.app import create_app
from jejak.web.security import CODE_REQUESTS
from tests.customer.conftest import SEED_COMPLAINT, SEED_EMAIL, SEED_MSISDN, Home
from tests.customer.test_customer import client, form
from tests.workbench.conftest import csrf_of, sign_in

PLAIN_LINE = "6281100000052"  # a subscriber of the seed: no bar, no charges


@pytest.fixture
def app(customer_home: Home) -> Iterator[FastAPI]:
    app = create_app(customer_home.path)
    yield app
    app.state.cases.close()


def _line_codes(app: FastAPI) -> list[tuple[str, str]]:
    """(recipient, code) of every line code queued."""
    with app.state.cases.db.read() as s:
        rows = s.scalars(
            select(Notification).where(
                Notification.event == "signin_code", Notification.case_id.is_(None)
            )
        ).all()
        return [(n.msisdn, re.search(r": (\d{6})\.", n.body).group(1)) for n in rows]  # type: ignore[union-attr]


def _ask(c: TestClient, msisdn: str) -> object:
    r = c.get("/pelanggan/baru")
    assert r.status_code == 200
    return c.post("/pelanggan/baru/kode", data={"csrf": csrf_of(r.text), "msisdn": msisdn})


def test_a_first_complaint_online_from_the_number_alone(app: FastAPI) -> None:
    c = client(app)
    start = c.get("/pelanggan")
    assert 'href="/pelanggan/baru"' in start.text  # "no ticket yet?" from the usual sign-in
    r = _ask(c, "0811 0000 0001")
    assert r.status_code == 200 and "Jika nomor ini terdaftar pada kami" in r.text
    # his line is barred both ways: the code went to his e-mail, not to the barred number
    [(to, code)] = _line_codes(app)
    assert to == SEED_EMAIL
    # a line session is not a case session, and no staff page takes it
    r = c.post(
        "/pelanggan/baru/masuk",
        data={"csrf": csrf_of(r.text), "msisdn": "0811 0000 0001", "code": code},
    )
    assert r.status_code == 303 and r.headers["location"] == "/pelanggan/pengaduan", r.text
    assert c.get("/pelanggan/kasus").headers["location"] == "/pelanggan"
    assert c.get("/cases").status_code in (303, 401)
    page = c.get("/pelanggan/pengaduan")
    assert page.status_code == 200
    # the line's own charges; those the seed complaint disputes already are shown, not offered
    assert "CH000008" in page.text
    assert f"sudah disanggah, tiket {SEED_COMPLAINT}" in page.text
    assert re.search(r'value="CH000009" disabled', page.text)
    taken = c.post(
        "/pelanggan/pengaduan",
        data={"csrf": csrf_of(page.text), "charge": ["CH000009"], "text": "lagi"},
    )
    assert taken.status_code == 422
    r = c.post(
        "/pelanggan/pengaduan",
        data={"csrf": csrf_of(page.text), "charge": ["CH000008"], "text": "Tidak pernah minta"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/pelanggan/kasus?ok=lodged"
    # the ticket at once, and the customer now follows the new case
    case_page = c.get("/pelanggan/kasus?ok=lodged")
    ticket = re.search(r"Nomor tiket Anda (WEB-\d{8}-[0-9A-F]{6})", case_page.text).group(1)  # type: ignore[union-attr]
    cases = app.state.cases
    refused = cases.can_bar(SEED_MSISDN, 150_000)
    assert refused["allowed"] is False and "CASE-" + ticket in refused["case_ids"]
    # the line code was used up
    again = c.post(
        "/pelanggan/baru/masuk",
        data={"csrf": csrf_of(case_page.text), "msisdn": SEED_MSISDN, "code": code},
    )
    assert again.status_code == 401


def _strip(html: str) -> str:
    return re.sub(r'name="csrf" value="[^"]+"', "", html)


def test_asking_for_a_line_code_answers_the_same_whatever_the_number(app: FastAPI) -> None:
    tries = {
        "a barred line with an e-mail on file": SEED_MSISDN,
        "a line that gets SMS": PLAIN_LINE,
        "nobody's number": "6281100000099",
        "not a number": "0811-abc",
    }
    pages, times = {}, {}
    for n, (what, msisdn) in enumerate(tries.items()):
        spent = []
        for _ in range(3):
            c = client(app, f"198.51.100.{n}")
            r = c.get("/pelanggan/baru")
            csrf = csrf_of(r.text)
            t0 = time.perf_counter()
            r = c.post("/pelanggan/baru/kode", data={"csrf": csrf, "msisdn": msisdn})
            spent.append(time.perf_counter() - t0)
            assert r.status_code == 200
            pages[what] = _strip(r.text).replace(msisdn, "N")
        times[what] = statistics.median(spent)
    assert len(set(pages.values())) == 1, "the answer differs with what exists"
    assert max(times.values()) < 2.5 * min(times.values()) + 0.05, times
    sent = [to for to, _ in _line_codes(app)]
    assert sorted(set(sent)) == sorted([SEED_EMAIL, PLAIN_LINE]) and len(sent) == 6


def test_code_requests_are_limited_per_address_for_every_worker(
    app: FastAPI, customer_home: Home
) -> None:
    other_worker = create_app(customer_home.path)  # a second worker: the same database
    try:
        near = client(app, "203.0.113.5")
        for i in range(CODE_REQUESTS.most):
            if i % 2:
                r = _ask(near, "6281100000099")
            else:
                csrf = form(near)
                r = near.post(
                    "/pelanggan/kode",
                    data={"csrf": csrf, "msisdn": "6281100000099", "ticket": "TCK-X"},
                )
            assert r.status_code == 200, i
        refused = _ask(client(other_worker, "203.0.113.5"), SEED_MSISDN)
        assert refused.status_code == 429
        assert "Terlalu banyak permintaan kode dari koneksi Anda" in refused.text
        assert _line_codes(app) == []  # refused before anything was sent
        # another address is not held back by this one
        assert _ask(client(other_worker, "203.0.113.6"), SEED_MSISDN).status_code == 200
        assert len(_line_codes(app)) == 1
        # an IPv6 host counts as its /64: another address of the same prefix is held back too
        v6 = "2001:db8:7:7::1"
        for _ in range(CODE_REQUESTS.most):
            assert _ask(client(app, v6), "6281100000099").status_code == 200
        assert _ask(client(other_worker, "2001:db8:7:7::2"), PLAIN_LINE).status_code == 429
    finally:
        other_worker.state.cases.close()


def test_staff_hand_over_a_line_code_from_the_subscriber_page(
    app: FastAPI, customer_home: Home
) -> None:
    staff = client(app, "192.0.2.50")
    csrf = sign_in(staff, customer_home, "rina")
    found = staff.get("/entities/subscriber?msisdn=0811 0000 0001")
    assert found.headers["location"] == f"/entities/subscriber/{SEED_MSISDN}"
    page = staff.get(found.headers["location"])
    assert f"/entities/subscriber/{SEED_MSISDN}/kode-pelanggan" in page.text
    r = staff.post(f"/entities/subscriber/{SEED_MSISDN}/kode-pelanggan", data={"csrf": csrf})
    assert r.status_code == 200, r.text[:300]
    code = re.search(r'id="customer-code">(\d{6})<', r.text).group(1)  # type: ignore[union-attr]
    log = app.state.cases.access_log(SEED_MSISDN)
    assert any(a["what"] == "customer_line_code_issued" and a["user"] == "rina" for a in log)
    # the customer uses it from the number alone
    c = client(app)
    r = c.get("/pelanggan/baru")
    r = c.post(
        "/pelanggan/baru/masuk",
        data={"csrf": csrf_of(r.text), "msisdn": SEED_MSISDN, "code": code},
    )
    assert r.status_code == 303 and r.headers["location"] == "/pelanggan/pengaduan"
    # an investigator may read the subscriber's records, but not hand codes over; an auditor
    # neither
    for name, status in (("sari", 403), ("ayu", 403)):
        other = client(app, "192.0.2.51")
        token = sign_in(other, customer_home, name)
        r = other.post(f"/entities/subscriber/{SEED_MSISDN}/kode-pelanggan", data={"csrf": token})
        assert r.status_code == status, name
