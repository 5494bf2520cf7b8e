"""The JSON API of ``shared/spec/outputs.md`` (version 1.1), on the case library.

=======  ==================================  ======================================  ==========
method   path                                does                                    scope
=======  ==================================  ======================================  ==========
POST     /api/v1/cases                       open the case of an ingested complaint  cases:write
GET      /api/v1/cases/{case_id}             the case (staff view)                   cases:read
POST     /api/v1/cases/{case_id}/actions     one action by the token's person        cases:write
GET      /api/v1/cases/{case_id}/timeline    what the customer sees                  cases:read
GET      /api/v1/can-bar                     may billing bar this line?              can-bar
POST     /api/v1/complaints                  the CRM pushes a complaint: its case    complaints:push
=======  ==================================  ======================================  ==========

Each route checks its scope, calls one library method and returns what it gives; the person's
role is checked by the library (:mod:`jejak.cases.permissions`). Every view of a case is recorded
in the access log before the case is sent (:func:`jejak.auth.service.record_access`), and put
into the transparency log right after by the process's drain thread
(:class:`jejak.cases.audit.Drainer`), many views in one append. After each write the outboxes
are drained (the log at once by the library; customer messages and billing after the response,
:func:`jejak.notify.service.drain`).

Example::

    $ curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/api/v1/cases/CASE-TCK-1
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Body, Query, Request, Response

from jejak.auth import service as auth
from jejak.errors import InvalidFieldError, JejakError
from jejak.notify import service as notify
from jejak.web.deps import Biller, CaseService, Crm, Reader, Writer
from jejak.web.schemas import (
    ActionRequest,
    CanBar,
    Case,
    Error,
    Instant,
    OpenCase,
    PushedComplaint,
    Timeline,
)

log = logging.getLogger("jejak.web")

router = APIRouter(prefix="/api/v1", tags=["cases"])


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    what = {
        401: "No valid token.",
        403: "The token lacks the scope, or its person's role may not do this.",
        404: "No such case (or complaint).",
        409: "The case's state does not allow it, or the case changed since `expected_version`.",
        422: "A field is missing or wrong.",
    }
    return {s: {"model": Error, "description": what[s]} for s in statuses}


def _when(request: Request, at: datetime | None) -> datetime | None:
    if at is None:
        return None
    if not request.app.state.services.conf.api_accepts_times:
        raise InvalidFieldError("at", "this server does not accept an action's time")
    return at


def _drain_outboxes(request: Request) -> None:
    """Deliver queued customer messages and billing rows (after the response is sent)."""
    services = request.app.state.services
    try:
        services.cases.drain()
        done = notify.drain(services.db, services.home, conf=services.conf)
    except JejakError as exc:  # a delivery setting is wrong: the rows stay queued
        log.error("outbox drain: %s", exc)
        return
    for reason in done.reasons:
        log.warning("outbox drain: %s", reason)


def _seen(
    request: Request, cases: Any, user: auth.Principal, case: dict[str, Any], what: str, why: str
) -> None:
    auth.record_access(
        cases.db, user, case["msisdn"], why, what=what, via="api", case_id=case["case_id"]
    )
    cases.drain_soon()


@router.post(
    "/cases",
    response_model=Case,
    status_code=201,
    responses=_errors(401, 403, 404, 422)
    | {200: {"model": Case, "description": "The case existed already."}},
    summary="Open the case of an ingested complaint",
)
def open_case(
    request: Request,
    response: Response,
    background: BackgroundTasks,
    user: Writer,
    cases: CaseService,
    body: Annotated[OpenCase, Body()],
) -> Any:
    case, created = cases.open_case(body.complaint_id, at=_when(request, body.at))
    response.status_code = 201 if created else 200
    _seen(request, cases, user, case, "case", f"opened the case of complaint {body.complaint_id}")
    background.add_task(_drain_outboxes, request)
    return case


@router.post(
    "/complaints",
    response_model=Case,
    status_code=201,
    responses=_errors(401, 403, 422)
    | {200: {"model": Case, "description": "The complaint's case existed already."}},
    summary="The CRM pushes a complaint: its case, opened now if new",
)
def push_complaint(
    request: Request,
    response: Response,
    background: BackgroundTasks,
    user: Crm,
    cases: CaseService,
    body: Annotated[PushedComplaint, Body()],
) -> Any:
    complaint = body.model_dump(exclude={"at"}, exclude_none=True)
    case, created = cases.create(complaint, at=_when(request, body.at))
    response.status_code = 201 if created else 200
    background.add_task(_drain_outboxes, request)
    return case


@router.get(
    "/cases/{case_id}",
    response_model=Case,
    responses=_errors(401, 403, 404, 422),
    summary="The case (staff view: internal notes with their text)",
)
def get_case(
    request: Request,
    case_id: str,
    user: Reader,
    cases: CaseService,
    reason: Annotated[
        str | None,
        Query(max_length=500, description="Why you look (recorded); default: the case's work."),
    ] = None,
) -> Any:
    case = cases.get(case_id)
    _seen(request, cases, user, case, "case", reason or f"work on case {case_id}")
    return case


@router.post(
    "/cases/{case_id}/actions",
    response_model=Case,
    responses=_errors(401, 403, 404, 409, 422),
    summary="One action on the case by the token's person",
)
def act(
    request: Request,
    background: BackgroundTasks,
    case_id: str,
    user: Writer,
    cases: CaseService,
    body: Annotated[ActionRequest, Body()],
) -> Any:
    action = body.root
    case = cases.act(
        case_id,
        user.name,
        action.action,
        body.fields(),
        action.expected_version,
        at=_when(request, action.at),
    )
    background.add_task(_drain_outboxes, request)
    return case


@router.get(
    "/cases/{case_id}/timeline",
    response_model=Timeline,
    responses=_errors(401, 403, 404, 422),
    summary="What the customer sees: every entry, internal ones without their text",
)
def timeline(
    request: Request,
    case_id: str,
    user: Reader,
    cases: CaseService,
) -> Any:
    entries = cases.timeline(case_id, customer=True)
    case = cases.get(case_id)
    _seen(request, cases, user, case, "timeline", f"the customer's view of case {case_id}")
    return {"case_id": case_id, "timeline": entries}


@router.get(
    "/can-bar",
    response_model=CanBar,
    responses=_errors(401, 403, 422),
    summary="May billing bar this line for non-payment of this amount now (or at `at`)?",
    tags=["billing"],
)
def can_bar(
    request: Request,
    user: Biller,
    cases: CaseService,
    msisdn: Annotated[str, Query(min_length=1, max_length=32, pattern=r"^[0-9]+$")],
    amount: Annotated[int, Query(ge=0, lt=10**15, description="Arrears in rupiah.")],
    at: Annotated[
        Instant | None, Query(description="When (with a UTC offset); default now.")
    ] = None,
) -> Any:
    return cases.can_bar(msisdn, amount, at)
