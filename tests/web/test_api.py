"""The API's contract beyond the story: tokens and scopes, one error shape per status, the CRM
push, optimistic locking, and the access record of every view."""

from __future__ import annotations

import pytest

from jejak.auth import service as auth
from jejak.cases import permissions
from jejak.investigate.report import HYPOTHESES, INSUFFICIENT
from jejak.web import schemas

from .conftest import Api

TICKET = "TCK-2017-0206-0001"
AT = "2017-02-06T10:15:00+07:00"


def opened(api: Api) -> str:
    r = api.post("citra", "/api/v1/cases", {"complaint_id": TICKET, "at": AT})
    assert r.status_code in (200, 201), r.text
    return str(r.json()["case_id"])


def test_requests_without_a_valid_token_get_401(sqlite_api: Api) -> None:
    c = sqlite_api.client
    for headers in ({}, {"Authorization": "Bearer jjk_nope"}, {"Authorization": "Basic eDp5"}):
        r = c.get("/api/v1/cases/CASE-X", headers=headers)
        assert r.status_code == 401, r.text
        assert r.headers["WWW-Authenticate"] == "Bearer"
        assert r.json()["error"] in ("AuthError", "HTTPError")


def test_a_revoked_token_stops_working(sqlite_api: Api) -> None:
    tid, token = auth.issue_token(sqlite_api.cases.db, "sari")
    h = {"Authorization": f"Bearer {token}"}
    assert sqlite_api.client.get("/api/v1/cases/CASE-X", headers=h).status_code == 404
    auth.revoke_token(sqlite_api.cases.db, tid)
    assert sqlite_api.client.get("/api/v1/cases/CASE-X", headers=h).status_code == 401


@pytest.mark.parametrize(
    ("who", "method", "path", "body"),
    [
        ("billing", "get", "/api/v1/cases/CASE-TCK-2017-0206-0001", None),
        ("billing", "post", "/api/v1/cases", {"complaint_id": TICKET}),
        ("crm", "get", "/api/v1/can-bar?msisdn=6281100000001&amount=1", None),
        (
            "citra-read",
            "post",
            "/api/v1/cases/CASE-TCK-2017-0206-0001/actions",
            {"action": "acknowledge"},
        ),
        ("audi", "post", "/api/v1/complaints", {}),
    ],
)
def test_a_token_does_only_what_its_scopes_allow(
    sqlite_api: Api, who: str, method: str, path: str, body: dict | None
) -> None:
    opened(sqlite_api)
    r = getattr(sqlite_api.client, method)(
        path, headers=sqlite_api.as_(who), **({"json": body} if body is not None else {})
    )
    assert r.status_code == 403, r.text
    assert r.json() == {"error": "ForbiddenError", "detail": r.json()["detail"]}
    assert "scope" in r.json()["detail"]


def test_a_role_that_may_not_act_gets_403_and_a_state_that_does_not_allow_409(
    sqlite_api: Api,
) -> None:
    cid = opened(sqlite_api)
    r = sqlite_api.post("audi", f"/api/v1/cases/{cid}/actions", {"action": "note", "text": "x"})
    assert r.status_code == 403, r.text  # an auditor's token has no cases:write
    r = sqlite_api.post(
        "sari",
        f"/api/v1/cases/{cid}/actions",
        {"action": "close", "at": "2017-02-06T11:00:00+07:00"},
    )
    assert r.status_code == 409 and r.json()["error"] == "StateConflictError", r.text


def test_a_stale_version_is_409_and_nothing_is_lost(sqlite_api: Api) -> None:
    cid = opened(sqlite_api)
    version = sqlite_api.get("citra", f"/api/v1/cases/{cid}").json()["version"]
    first = sqlite_api.post(
        "citra",
        f"/api/v1/cases/{cid}/actions",
        {
            "action": "note",
            "text": "satu",
            "expected_version": version,
            "at": "2017-02-06T11:00:00+07:00",
        },
    )
    assert first.status_code == 200, first.text
    second = sqlite_api.post(
        "dewi",
        f"/api/v1/cases/{cid}/actions",
        {
            "action": "note",
            "text": "dua",
            "expected_version": version,
            "at": "2017-02-06T11:01:00+07:00",
        },
    )
    assert second.status_code == 409 and second.json()["error"] == "StaleVersionError"
    texts = [e["text"] for e in sqlite_api.get("sari", f"/api/v1/cases/{cid}").json()["timeline"]]
    assert "satu" in texts and "dua" not in texts


@pytest.mark.parametrize(
    "body",
    [
        {"action": "note"},
        {"action": "note", "text": ""},
        {"action": "propose_adjustment", "amount": -5, "charge_ids": [], "reason": "x"},
        {"action": "decide", "hypothesis": "aliens", "operator_liable": True, "reason": "x"},
        {"action": "explode"},
        {"text": "no action"},
        {"action": "note", "text": "x", "unknown": 1},
    ],
)
def test_a_missing_or_wrong_field_is_422(sqlite_api: Api, body: dict) -> None:
    cid = opened(sqlite_api)
    r = sqlite_api.post("citra", f"/api/v1/cases/{cid}/actions", body)
    assert r.status_code == 422, r.text
    assert set(r.json()) == {"error", "detail"}


def test_unknown_cases_and_complaints_are_404(sqlite_api: Api) -> None:
    assert sqlite_api.get("sari", "/api/v1/cases/CASE-NOPE").status_code == 404
    r = sqlite_api.post("citra", "/api/v1/cases", {"complaint_id": "TCK-NOPE"})
    assert r.status_code == 404 and r.json()["error"] == "NotFoundError", r.text


def test_times_are_refused_unless_the_server_accepts_them(
    sqlite_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite_api.client.app.state.services.conf = (
        sqlite_api.client.app.state.services.conf.model_copy(update={"api_accepts_times": False})
    )
    r = sqlite_api.post("citra", "/api/v1/cases", {"complaint_id": TICKET, "at": AT})
    assert r.status_code == 422 and "at" in r.json()["detail"]


def test_the_crm_pushes_a_complaint_and_gets_its_case(sqlite_api: Api) -> None:
    complaint = {
        "complaint_id": "CRM-2017-0301-0042",
        "msisdn": "6281100000077",
        "opened_at": "2017-03-01T08:30:00+07:00",
        "channel": "app",
        "category": "billing",
        "summary": "Tagihan ganda",
        "disputed_charge_ids": ["CHX1"],
        "disputed_amount": 75_000,
        "at": "2017-03-01T08:31:00+07:00",
    }
    r = sqlite_api.post("crm", "/api/v1/complaints", complaint)
    assert r.status_code == 201, r.text
    case = r.json()
    assert (case["complaint_id"], case["source"], case["disputed_amount"]) == (
        "CRM-2017-0301-0042",
        "crm",
        75_000,
    )
    assert case["hold"] == {"active": True, "amount": 75_000}
    assert sqlite_api.post("crm", "/api/v1/complaints", complaint).status_code == 200
    bad = dict(complaint, msisdn="not a number")
    assert sqlite_api.post("crm", "/api/v1/complaints", bad).status_code == 422


def test_every_view_is_recorded_with_who_and_why(sqlite_api: Api) -> None:
    cid = opened(sqlite_api)
    sqlite_api.get("sari", f"/api/v1/cases/{cid}", params={"reason": "audit sampling"})
    sqlite_api.get("dewi", f"/api/v1/cases/{cid}/timeline")
    rows = auth.accesses(sqlite_api.cases.db, "6281100000001")
    seen = [(a.user_name, a.role, a.what, a.reason) for a in rows]
    assert ("sari", "supervisor", "case", "audit sampling") in seen
    assert ("dewi", "investigator", "timeline", f"the customer's view of case {cid}") in seen
    assert all(a.via == "api" for a in rows)


def test_the_action_models_cover_the_permissions_table() -> None:
    """Every action the library allows can be sent, and no other (the table is the one truth)."""
    modelled = {
        m.model_fields["action"].annotation.__args__[0]
        for m in schemas.AnyAction.__origin__.__args__
    }  # type: ignore[attr-defined]
    assert modelled == set(permissions.TABLE)
    assert set(schemas.Hypothesis.__args__) == {*HYPOTHESES, INSUFFICIENT}  # type: ignore[attr-defined]
