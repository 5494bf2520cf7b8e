"""The workbench over HTTP: who may open what (the one table), sessions, CSRF, lock-out,
headers, the public log, downloads, and hostile export text that stays text."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq
import pyotp
import pytest
from fastapi.testclient import TestClient

from jejak.auth.service import LOCKOUT_FAILURES as MAX_FAILURES
from jejak.cases.models import ROLES
from jejak.cases.permissions import VIEWS, can_view
from jejak.ledger.log import Log
from jejak.web.security import CSP
from tests.workbench.conftest import PASSWORD, SEED_CASE, STAFF, WorkbenchHome, csrf_of, sign_in

#: every page route (GET) and the view of the permissions table that guards it
PAGES = [
    ("/alerts", "alerts"),
    ("/alerts.json", "alerts"),
    ("/alerts/export.csv", "alerts"),
    ("/cases", "cases"),
    ("/cases.json", "cases"),
    (f"/cases/{SEED_CASE}", "cases"),
    (f"/cases/{SEED_CASE}.json", "cases"),
    ("/approvals", "approvals"),
    ("/approvals.json", "approvals"),
    ("/entities/user/16009051", "entities"),
    ("/entities/user/16009051.json", "entities"),
    ("/entities/outlet/SRG", "entities"),
    ("/entities/outlet/SRG.json", "entities"),
    ("/entities/subscriber/6281100000001", "subscriber"),
    ("/audit", "audit"),
    ("/audit.json", "audit"),
    ("/reports/qos?quarter=2017Q1", "qos"),
    ("/reports/qos.json?quarter=2017Q1", "qos"),
    ("/reports/qos.csv?quarter=2017Q1", "qos"),
    ("/entities/subscriber?msisdn=0811-0000-0001", "subscriber"),
]
#: what an allowed role gets when it is not 200
ALLOWED = {"/entities/subscriber?msisdn=0811-0000-0001": 303}
NAME_OF = {role: name for name, role in reversed(list(STAFF.items()))}


def every_route(routes: list) -> list:
    """The application's routes, those of included routers too (FastAPI keeps an included
    router as one entry that holds the original)."""
    out = []
    for r in routes:
        inner = getattr(r, "original_router", None)
        out += every_route(inner.routes) if inner is not None else [r]
    return out


def test_every_page_route_is_in_the_matrix(app) -> None:
    found = every_route(app.routes)
    assert any(getattr(r, "path", "") == "/cases/{case_id}" for r in found), "no routes found"
    routes = {
        getattr(r, "path", "")
        for r in found
        if "GET" in (getattr(r, "methods", None) or ())
        and getattr(r, "path", "").startswith(
            ("/alerts", "/cases", "/approvals", "/entities", "/audit", "/reports")
        )
    }
    covered = {
        re.sub(r"CASE-[^/.]+|16009051|SRG|6281100000001|export\.csv", "X", p.partition("?")[0])
        for p, _ in PAGES
    }
    normal = {re.sub(r"\{[^}]+\}", "X", r) for r in routes}
    normal = {r.replace("export.X", "X") for r in normal}
    assert normal <= covered | {"/alerts/X", "/alerts/X.json"}, normal - covered


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_the_table_allows(
    client: TestClient, workbench_home: WorkbenchHome, role: str
) -> None:
    sign_in(client, workbench_home, NAME_OF[role])
    for path, view in PAGES:
        r = client.get(path)
        expected = ALLOWED.get(path, 200) if can_view(view, role) else 403
        assert r.status_code == expected, f"{role} {path}: {r.status_code} {r.text[:200]}"


def test_anonymous_gets_only_the_sign_in_page(client: TestClient) -> None:
    for path, _ in PAGES:
        r = client.get(path, headers={"accept": "text/html"})
        assert r.status_code in (303, 401), path
        if r.status_code == 303:
            assert r.headers["location"].startswith("/signin?next="), path
    assert client.get("/signin").status_code == 200
    for path in ("/alerts/triage", f"/cases/{SEED_CASE}/actions", "/audit/verify"):
        assert client.post(path, data={}).status_code in (303, 401, 403), path


def test_views_table_names_only_known_roles() -> None:
    for roles, _ in VIEWS.values():
        assert set(roles) <= set(ROLES)


def test_sign_in_needs_password_and_totp_and_rotates_the_session(
    client: TestClient, workbench_home: WorkbenchHome
) -> None:
    page = client.get("/signin")
    anon = client.cookies.get("__Host-jejak")
    token = csrf_of(page.text)
    bad = client.post(
        "/signin", data={"csrf": token, "name": "rina", "password": PASSWORD, "code": "000000"}
    )
    assert bad.status_code == 401
    good = client.post(
        "/signin",
        data={
            "csrf": token,
            "name": "rina",
            "password": PASSWORD,
            "code": pyotp.TOTP(workbench_home.totp["rina"]).now(),
        },
    )
    assert good.status_code == 303
    cookie = good.headers["set-cookie"]
    for flag in ("Secure", "HttpOnly", "SameSite=strict", "Path=/"):
        assert flag.lower() in cookie.lower(), cookie
    assert client.cookies.get("__Host-jejak") != anon


def test_a_form_without_the_csrf_token_is_refused(
    client: TestClient, workbench_home: WorkbenchHome
) -> None:
    sign_in(client, workbench_home, "sari")
    r = client.post("/alerts/triage", data={"reason": "benign", "alert_id": "AL-x"})
    assert r.status_code == 403
    r = client.post(
        "/alerts/triage", data={"reason": "benign", "alert_id": "AL-x", "csrf": "forged"}
    )
    assert r.status_code == 403


def test_failed_sign_ins_lock_the_account(
    client: TestClient, workbench_home: WorkbenchHome
) -> None:
    token = csrf_of(client.get("/signin").text)
    for _ in range(MAX_FAILURES):
        r = client.post(
            "/signin", data={"csrf": token, "name": "joko", "password": "wrong", "code": "123456"}
        )
        token = csrf_of(r.text)
        assert r.status_code == 401
    code = pyotp.TOTP(workbench_home.totp["joko"]).now()
    r = client.post(
        "/signin", data={"csrf": token, "name": "joko", "password": PASSWORD, "code": code}
    )
    assert r.status_code == 429, "a locked account stays locked even with the right password"


def test_sessions_live_in_the_database_so_another_app_sees_them(
    workbench_home: WorkbenchHome, client: TestClient
) -> None:
    from jejak.web.app import create_app

    sign_in(client, workbench_home, "sari")
    other = TestClient(create_app(workbench_home.path), base_url="https://testserver")
    other.cookies.set("__Host-jejak", client.cookies["__Host-jejak"])
    assert other.get("/alerts", follow_redirects=False).status_code == 200


def test_security_headers_on_every_page(client: TestClient) -> None:
    r = client.get("/signin")
    assert r.headers["content-security-policy"] == CSP
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"
    assert "<script>" not in r.text and "style=" not in r.text


def test_triage_in_bulk_is_stored_and_logged(
    client: TestClient, workbench_home: WorkbenchHome
) -> None:
    token = sign_in(client, workbench_home, "sari")
    alerts = client.get("/alerts.json").json()["alerts"]
    ids = [a["alert_id"] for a in alerts[:3]]
    r = client.post(
        "/alerts/triage", data={"csrf": token, "reason": "true_positive", "alert_id": ids}
    )
    assert r.status_code == 303
    triaged = client.get("/alerts.json?status=triaged").json()
    assert {a["alert_id"] for a in triaged["alerts"]} == set(ids)
    assert all(
        a["triage"]["reason"] == "true_positive" and a["triage"]["by"] == "sari"
        for a in triaged["alerts"]
    )
    appends = Log(workbench_home.path).appends()
    assert any(a.get("source") == "triage" and a["count"] == 3 for a in appends)
    r = client.post("/alerts/triage", data={"csrf": token, "reason": "maybe", "alert_id": ids})
    assert r.status_code == 400


def test_link_an_alert_to_a_case(client: TestClient, workbench_home: WorkbenchHome) -> None:
    token = sign_in(client, workbench_home, "sari")
    a = client.get("/alerts.json").json()["alerts"][0]["alert_id"]
    assert (
        client.post(f"/alerts/{a}/link", data={"csrf": token, "case_id": "CASE-nope"}).status_code
        == 404
    )
    assert (
        client.post(f"/alerts/{a}/link", data={"csrf": token, "case_id": SEED_CASE}).status_code
        == 303
    )
    assert SEED_CASE in client.get(f"/alerts/{a}.json").text


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_alerts_download(
    client: TestClient, workbench_home: WorkbenchHome, fmt: str, tmp_path: Path
) -> None:
    sign_in(client, workbench_home, "sari")
    total = client.get("/alerts.json?status=all").json()["total"]
    r = client.get(f"/alerts/export.{fmt}?status=all")
    assert r.status_code == 200
    if fmt == "parquet":
        (tmp_path / "a.parquet").write_bytes(r.content)
        assert pq.read_table(tmp_path / "a.parquet").num_rows == total
    elif fmt == "jsonl":
        assert len(r.text.splitlines()) == total
    else:
        assert len(r.text.splitlines()) == total + 1


def test_the_case_page_offers_exactly_the_roles_actions(
    client: TestClient, workbench_home: WorkbenchHome
) -> None:
    from jejak.cases.permissions import allowed

    sign_in(client, workbench_home, "rina")
    case = client.get(f"/cases/{SEED_CASE}.json").json()
    page = client.get(f"/cases/{SEED_CASE}").text
    shown = re.findall(r'data-action="([a-z_]+)"', page)
    assert shown == allowed("cs", case["state"])
    assert "<svg" in page  # the report's timeline chart and graph


def test_the_case_page_has_the_timeline_for_a_desk_and_for_a_phone(
    client: TestClient, workbench_home: WorkbenchHome
) -> None:
    """Both drawings of the timeline are on the page (kept on disk, so a second view too); the
    stylesheet shows the phone's at 600 px and less, the desk's otherwise (no inline style)."""
    from jejak.investigate.render_html import PHONE_WIDTH

    sign_in(client, workbench_home, "rina")
    for _ in range(2):
        page = client.get(f"/cases/{SEED_CASE}").text
        wide = re.findall(r'<svg viewBox="0 0 (\d+) [^"]+"[^>]*class="chart timeline wide"', page)
        narrow = re.findall(
            r'<svg viewBox="0 0 (\d+) [^"]+"[^>]*class="chart timeline narrow"', page
        )
        assert wide == ["1000"] and narrow == [f"{PHONE_WIDTH:.0f}"], (wide, narrow)
        assert "style=" not in page.split("<svg", 1)[0]
    css = client.get("/static/workbench.css").text
    assert "svg.chart.timeline.narrow { display: none; }" in css
    phone = css.split("@media (max-width: 600px) {", 1)[1].split("\n}\n", 1)[0]
    assert "svg.chart.timeline.wide { display: none; }" in phone
    assert "svg.chart.timeline.narrow { display: block; }" in phone


def test_subscriber_records_need_a_recorded_reason(
    client: TestClient, workbench_home: WorkbenchHome
) -> None:
    token = sign_in(client, workbench_home, "rina")
    r = client.get("/entities/subscriber/6281100000001")
    assert r.status_code == 200 and "EV0000170" not in r.text
    assert (
        client.post(
            "/entities/subscriber/6281100000001", data={"csrf": token, "reason": " "}
        ).status_code
        == 400
    )
    r = client.post(
        "/entities/subscriber/6281100000001",
        data={"csrf": token, "reason": "customer called about TCK-2017-0206-0001"},
    )
    assert r.status_code == 200 and "EV0000170" in r.text
    from jejak.cases.service import Cases

    log = Cases.open(workbench_home.path).access_log("6281100000001")
    assert any(x["user"] == "rina" and x["what"] == "chronology" for x in log)


def test_the_log_is_served_at_tlog_tiles_paths(
    client: TestClient, workbench_home: WorkbenchHome
) -> None:
    from jejak.ledger import Log

    cp = client.get("/log/checkpoint")
    assert (
        cp.status_code == 200
        and cp.text == (workbench_home.path / "ledger" / "checkpoint").read_text()
    )
    log = Log(workbench_home.path)
    tile = client.get("/log/tile/0/000")
    assert tile.status_code == 200 and tile.content[:32] == log.leaf_hash(0)
    assert "immutable" in tile.headers["cache-control"]
    assert client.get("/log/tile/entries/000").status_code == 200
    for bad in (
        "/log/tile/0/../../keys/ledger.key",
        "/log/tile/0/1234",
        "/log/tile/x/000",
        "/log/tile/0/000.p/0",
    ):
        assert client.get(bad).status_code == 404, bad


def test_pages_speak_both_languages(client: TestClient, workbench_home: WorkbenchHome) -> None:
    sign_in(client, workbench_home, "sari")
    assert "Antrean peringatan" in client.get("/alerts?lang=id").text
    assert "Alert queue" in client.get("/alerts?lang=en").text
    assert "Alert queue" in client.get("/alerts").text, "the choice is remembered"
    assert " WIB" in client.get(f"/cases/{SEED_CASE}").text


@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_post_exactly_what_the_table_allows(
    client: TestClient, workbench_home: WorkbenchHome, role: str
) -> None:
    token = sign_in(client, workbench_home, NAME_OF[role])
    # an unknown reason: 400 for a role that may triage (it got past the guard), else 403
    r = client.post("/alerts/triage", data={"csrf": token, "reason": "none", "alert_id": "AL-x"})
    assert r.status_code == (400 if can_view("triage", role) else 403), r.text[:200]
    r = client.post("/audit/verify", data={"csrf": token})
    assert r.status_code == (303 if can_view("verify", role) else 403), r.text[:200]
    r = client.post(
        f"/cases/{SEED_CASE}/actions", data={"csrf": token, "action": "note", "text": "x"}
    )
    from jejak.cases.permissions import TABLE

    if not can_view("cases", role):
        assert r.status_code == 403
    else:
        assert r.status_code == (303 if role in TABLE["note"].roles else 403), r.text[:200]


def test_failed_sign_ins_from_one_address_are_limited_for_every_worker(
    app, workbench_home: WorkbenchHome
) -> None:
    from jejak.web.app import create_app
    from jejak.web.security import STAFF_SIGN_IN

    def browser(application, address: str) -> TestClient:
        return TestClient(
            application,
            base_url="https://testserver",
            follow_redirects=False,
            client=(address, 50000),
        )

    near = browser(app, "203.0.113.9")
    token = csrf_of(near.get("/signin").text)
    # many accounts tried from one address: no account is locked, the address is
    for i in range(STAFF_SIGN_IN.most):
        r = near.post(
            "/signin",
            data={"csrf": token, "name": f"guess{i}", "password": "x" * 12, "code": "123456"},
        )
        assert r.status_code == 401, i
        token = csrf_of(r.text)
    second = create_app(workbench_home.path)  # another worker: it counts the same rows
    try:
        late = browser(second, "203.0.113.9")
        token = csrf_of(late.get("/signin").text)
        code = pyotp.TOTP(workbench_home.totp["sari"]).now()
        r = late.post(
            "/signin", data={"csrf": token, "name": "sari", "password": PASSWORD, "code": code}
        )
        assert r.status_code == 429, "the address is held back even with the right password"
        assert "Terlalu banyak percobaan masuk yang gagal dari jaringan Anda" in r.text
        # the account itself is not locked: from another address it signs in
        sign_in(browser(second, "203.0.113.10"), workbench_home, "sari")
    finally:
        second.state.cases.close()
