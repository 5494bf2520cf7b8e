"""Entity pages: a user ID, an outlet, and a subscriber — the last only after a recorded reason."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from jejak.auth.service import Principal, record_access
from jejak.cases.models import User
from jejak.errors import UsageError
from jejak.investigate import entities
from jejak.web import render
from jejak.web.guard import staff

router = APIRouter(include_in_schema=False)


@router.get("/entities/user/{agent_id}")
@router.get("/entities/user/{agent_id}.json")
def user_id(
    request: Request, agent_id: str, user: Annotated[User, Depends(staff("entities"))]
) -> Response:
    agent_id = agent_id.removesuffix(".json")
    store = request.app.state.cases.store
    data = entities.user_id(store, agent_id)
    zones = {
        r["outlet_id"]: r["timezone"] for r in store.sql("SELECT outlet_id, timezone FROM outlets")
    }
    data["timezone"] = zones.get(data["agent"].get("outlet_id") or "")
    return render.respond(request, "user_id.html", data)


@router.get("/entities/outlet/{outlet_id}")
@router.get("/entities/outlet/{outlet_id}.json")
def outlet(
    request: Request, outlet_id: str, user: Annotated[User, Depends(staff("entities"))]
) -> Response:
    outlet_id = outlet_id.removesuffix(".json")
    until = request.query_params.get("until")
    try:
        day = date.fromisoformat(until) if until else None
    except ValueError:
        raise UsageError("until", "a date, YYYY-MM-DD") from None
    data = entities.outlet(request.app.state.cases.store, outlet_id, until=day)
    return render.respond(request, "outlet.html", data)


@router.get("/entities/subscriber")
def find_subscriber(
    request: Request, user: Annotated[User, Depends(staff("subscriber"))]
) -> Response:
    """A number as typed (``?msisdn=0811 0000 0001``) → that subscriber's page."""
    from urllib.parse import quote

    from fastapi.responses import RedirectResponse

    from jejak.numbers import msisdn

    number = msisdn(request.query_params.get("msisdn") or "")
    return RedirectResponse(f"/entities/subscriber/{quote(number)}", status_code=303)


@router.get("/entities/subscriber/{msisdn}")
def subscriber_reason(
    request: Request, msisdn: str, user: Annotated[User, Depends(staff("subscriber"))]
) -> Response:
    data = {"msisdn": msisdn, "case_id": request.query_params.get("case_id", "")}
    return render.html(request, "subscriber_reason.html", data)


@router.post("/entities/subscriber/{msisdn}")
def subscriber(
    request: Request,
    msisdn: str,
    user: Annotated[User, Depends(staff("subscriber"))],
    reason: Annotated[str, Form(max_length=2000)] = "",
    case_id: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The subscriber's chronology; the reason is recorded (and logged) before anything is shown."""
    from jejak.investigate.evidence import chronology, gather
    from jejak.investigate.i18n import chronology_summary

    if not reason.strip():
        raise UsageError("reason", "say why you open this subscriber's records")
    store = request.app.state.cases.store
    case = gather(store, msisdn)  # NotFoundError for an unknown number, before recording
    cases = request.app.state.cases
    record_access(
        cases.db,
        Principal(user.name, user.role, frozenset()),
        msisdn,
        reason,
        what="chronology",
        via="web",
        case_id=case_id.strip() or None,
    )
    cases.drain()
    lang = request.state.lang
    rows = [
        {
            "at": c.at,
            "kind": c.kind,
            "record_id": c.record_id,
            "summary": chronology_summary(c.kind, lang, **c.params),
        }
        for c in chronology(case)
    ]
    data = {"msisdn": msisdn, "reason": reason.strip(), "chronology": rows}
    return render.respond(request, "subscriber.html", data)
