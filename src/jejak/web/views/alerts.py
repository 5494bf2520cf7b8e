"""The alert queue: filters, sort, an alert's evidence, bulk triage, linking to a case, downloads."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from jejak.cases.models import User
from jejak.detect import triage as T
from jejak.detect.pack import SEVERITIES
from jejak.errors import UsageError
from jejak.store import Store
from jejak.web import render
from jejak.web.guard import staff

router = APIRouter(include_in_schema=False)
PAGE = 50


def _store(request: Request) -> Store:
    # the case library's store: one DuckDB connection per worker, rebuilt when an ingest
    # changes the manifest, so every worker reads what any process wrote
    store: Store = request.app.state.cases.store
    return store


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(name, f"not a date (YYYY-MM-DD): {value[:40]!r}") from None


def outlet_zones(store: Store) -> dict[str, str]:
    """outlet_id -> its time zone, to show each alert in its place's time (WIB, WITA, WIT)."""
    if not store.files("outlets"):
        return {}
    return {
        r["outlet_id"]: r["timezone"] for r in store.sql("SELECT outlet_id, timezone FROM outlets")
    }


def filters(request: Request) -> T.Filters:
    q = request.query_params
    page = q.get("page", "1")
    if not page.isdigit() or not 1 <= int(page) <= 100_000:
        raise UsageError("page", "a page number from 1")
    return T.Filters(
        rule=q.get("rule") or None,
        severity=q.get("severity") or None,
        outlet_id=q.get("outlet") or None,
        agent_id=q.get("user") or None,
        msisdn=q.get("msisdn") or None,
        since=_date(q.get("since"), "since"),
        until=_date(q.get("until"), "until"),
        status=q.get("status") or "open",
        sort=q.get("sort") or "at",
        desc=q.get("dir", "desc") != "asc",
        limit=PAGE,
        offset=(int(page) - 1) * PAGE,
    ).check()


@router.get("/alerts")
@router.get("/alerts.json")
def queue(request: Request, user: Annotated[User, Depends(staff("alerts"))]) -> Response:
    f = filters(request)
    q = T.queue(_store(request), f)
    zones = outlet_zones(_store(request))
    for a in q.alerts:
        a["timezone"] = zones.get(a["outlet_id"] or "")
    data: dict[str, Any] = {
        "total": q.total,
        "page": f.offset // PAGE + 1,
        "pages": max(1, -(-q.total // PAGE)),
        "alerts": q.alerts,
        "filters": {k: v for k, v in request.query_params.items() if k != "lang"},
        "rules": q.rules,
        "severities": list(SEVERITIES),
        "reasons": list(T.REASONS),
        "statuses": list(T.STATUSES),
        "sorts": list(T.SORTS),
    }
    data.update(render.pages(request, data["page"], data["pages"]))
    return render.respond(request, "alerts.html", data)


@router.get("/alerts/export.{fmt}")
def download(
    request: Request, fmt: str, user: Annotated[User, Depends(staff("alerts"))]
) -> Response:
    f = filters(request)
    body = T.export(_store(request), f, fmt)
    return Response(
        body,
        media_type=T.FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="alerts.{fmt}"'},
    )


@router.post("/alerts/triage")
async def triage(
    request: Request,
    user: Annotated[User, Depends(staff("triage"))],
    reason: Annotated[str, Form(max_length=20)],
    note: Annotated[str, Form(max_length=2000)] = "",
    back: Annotated[str, Form(max_length=2000)] = "/alerts",
) -> Response:
    form = await request.form()
    ids = [str(v) for v in form.getlist("alert_id")]
    lines = T.triage(_store(request), ids, reason, actor=user.name, note=note)
    if render.wants_json(request):
        return render.to_json({"triaged": lines})
    target = back if back.startswith("/alerts") and not back.startswith("//") else "/alerts"
    return RedirectResponse(target, status_code=303)


@router.get("/alerts/{alert_id}")
@router.get("/alerts/{alert_id}.json")
def one(
    request: Request, alert_id: str, user: Annotated[User, Depends(staff("alerts"))]
) -> Response:
    alert_id = alert_id.removesuffix(".json")
    store = _store(request)
    a = T.alert(store, alert_id)
    a["timezone"] = outlet_zones(store).get(a["outlet_id"] or "")
    return render.respond(request, "alert.html", {"alert": a, "reasons": list(T.REASONS)})


@router.post("/alerts/{alert_id}/link")
def link(
    request: Request,
    alert_id: str,
    user: Annotated[User, Depends(staff("triage"))],
    case_id: Annotated[str, Form(max_length=200)],
) -> Response:
    cases = request.app.state.cases
    cases.get(case_id.strip())  # NotFoundError (404) when there is no such case
    line = T.link(_store(request), alert_id, case_id, actor=user.name)
    if render.wants_json(request):
        return render.to_json({"linked": line})
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)
