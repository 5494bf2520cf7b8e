"""Cases: the list with its deadline clocks, the case page with exactly the actions the viewer's
role may take in the case's state (from :mod:`jejak.cases.permissions`), and the approvals queue.

A deadline clock counts working days (Monday to Friday, neither a public nor a joint holiday:
:mod:`jejak.cases.workdays`) from today to the case's next deadline, in the policy's zone:
``overdue`` once it has passed, ``due_soon`` within ``DUE_SOON`` working days.
"""

from __future__ import annotations

import contextlib
import json
from datetime import date, datetime, timedelta
from functools import cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from jejak.cases import permissions
from jejak.cases.models import Adjustment, Case, User
from jejak.cases.service import Cases
from jejak.cases.workdays import working_days_between
from jejak.errors import InvalidFieldError, JejakError, UsageError
from jejak.fsio import write_atomic
from jejak.store import Store
from jejak.web import render
from jejak.web.guard import staff

router = APIRouter(include_in_schema=False)
DUE_SOON = 2
#: the form fields of each action (outputs.md, "Actions and their fields")
FIELDS: dict[str, tuple[str, ...]] = {
    "assign": ("to",),
    "note": ("text",),
    "comment": ("text",),
    "propose_adjustment": ("amount", "charge_ids", "reason"),
    "approve_adjustment": ("adjustment_id",),
    "reject_adjustment": ("adjustment_id", "reason"),
    "decide": ("hypothesis", "operator_liable", "reason", "justification"),
    "lift_bar": ("action_id",),
    "escalate": ("reason",),
    "reopen": ("reason",),
}
HYPOTHESES = (
    "external_compromise",
    "credential_misuse",
    "owner_misuse",
    "customer_consented",
    "billing_error",
)


def working_days_left(today: date, due: date) -> int:
    """Working days from ``today`` to ``due``: 0 on the day itself, negative once past."""
    if due >= today:
        return working_days_between(today, due)
    return -max(working_days_between(due, today), 1)


def clock(case: dict[str, Any], tz: str, now: datetime | None = None) -> dict[str, Any] | None:
    """The case's next deadline and the working days left to it."""
    state = case["state"]
    if state == "received":
        what, due = "acknowledge", case["ack_due"]
    elif state in (
        "acknowledged",
        "investigating",
        "decision_proposed",
        "escalated",
    ) and not case.get("decision"):
        what, due = "decide", case["decision_due"]
    else:
        return None
    zone = ZoneInfo(tz)
    due_t = datetime.fromisoformat(due) if isinstance(due, str) else due
    today = (now or datetime.now(zone)).astimezone(zone).date()
    left = working_days_left(today, due_t.astimezone(zone).date())
    if (now or datetime.now(zone)) > due_t:
        status = "overdue"
        left = min(left, -1)
    elif left <= DUE_SOON:
        status = "due_soon"
    else:
        status = "on_time"
    return {"what": what, "due": due_t.isoformat(), "working_days_left": left, "status": status}


def _categories(store: Store) -> dict[str, str]:
    if not store.files("complaints"):
        return {}
    return {
        r["complaint_id"]: r["category"]
        for r in store.sql("SELECT complaint_id, category FROM complaints")
    }


@router.get("/cases")
@router.get("/cases.json")
def listing(request: Request, user: Annotated[User, Depends(staff("cases"))]) -> Response:
    cases: Cases = request.app.state.cases
    q = request.query_params
    state = q.get("state") or None
    if state and state not in permissions.STATES:
        raise UsageError("state", f"one of {', '.join(permissions.STATES)}")
    owner, category, due = q.get("owner") or None, q.get("category") or None, q.get("clock") or None
    cats = _categories(cases.store)
    rows = []
    every = cases.list(state=state)
    for c in every:
        c["category"] = cats.get(c["complaint_id"])
        c["clock"] = clock(c, cases.policy.timezone)
        if owner and c["assignee"] != owner:
            continue
        if category and c["category"] != category:
            continue
        if due and (c["clock"] or {}).get("status") != due:
            continue
        rows.append(c)
    rows.sort(key=lambda c: (c["clock"] is None, (c["clock"] or {}).get("working_days_left", 0)))
    data = {
        "cases": rows,
        "filters": {k: v for k, v in q.items() if k != "lang"},
        "states": list(permissions.STATES),
        "categories": sorted({v for v in cats.values() if v}),
        "owners": sorted({c["assignee"] for c in every if c["assignee"]}),
        "clocks": ["overdue", "due_soon", "on_time"],
        "timezone": cases.policy.timezone,
    }
    return render.respond(request, "cases.html", data)


@router.get("/approvals")
@router.get("/approvals.json")
def approvals(request: Request, user: Annotated[User, Depends(staff("approvals"))]) -> Response:
    cases: Cases = request.app.state.cases
    with cases.db.read() as s:
        rows = s.execute(
            select(Adjustment, Case.state, Case.msisdn)
            .join(Case, Case.case_id == Adjustment.case_id)
            .where(Adjustment.state == "proposed")
            .order_by(Adjustment.proposed_at)
        ).all()
    items = [
        {
            "case_id": a.case_id,
            "case_state": st,
            "msisdn": m,
            "adjustment_id": a.adjustment_id,
            "kind": a.kind,
            "amount": a.amount,
            "charge_ids": a.charge_ids,
            "reason": a.reason,
            "proposed_by": a.proposed_by,
            "proposed_at": a.proposed_at,
            "approvers_needed": a.approvers_needed,
            "own": a.proposed_by == user.name,
        }
        for a, st, m in rows
    ]
    return render.respond(
        request, "approvals.html", {"adjustments": items, "timezone": cases.policy.timezone}
    )


@cache
def _words_digest() -> str:
    """A digest of the report's words: charts kept on disk are redrawn when the words change."""
    import hashlib

    from jejak.investigate import i18n as words

    text = json.dumps([words.MESSAGES, words.LABELS, words.VALUES_ID], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def attached_reason(cases: Cases, case_id: str, lang: str) -> str | None:
    """The reason of the evidence report attached to the case, said in ``lang`` from its codes and
    parameters (never the English text stored with it); None when none is attached, or it was
    stored before the parameters were kept."""
    from jejak.investigate.report import Verdict

    try:
        doc = json.loads(cases.report(case_id))
    except (JejakError, ValueError):
        return None
    verdict = Verdict.from_dict(doc.get("verdict") or {})
    try:
        return verdict.reason(lang) if verdict is not None else None
    except (KeyError, ValueError, JejakError):  # a stored code or parameter this version lacks
        return None


def _charts(cases: Cases, case: dict[str, Any], lang: str) -> dict[str, Any]:
    """The evidence report's timeline chart (drawn twice: for a desk and for a phone, the page's
    stylesheet shows one) and entity graph, drawn by investigate's renderer.

    Drawn once per case, language, state of the store and wording, and kept on disk under
    ``<home>/investigate/charts/`` (written atomically), where every worker finds them.
    """
    from markupsafe import Markup

    from jejak.investigate import investigate
    from jejak.investigate.render_html import PHONE_WIDTH, graph_svg, timeline_svg

    drawings = ("timeline", "timeline_phone", "graph")

    store: Store = cases.store
    batches = len(store.manifest().get("batches", [])) if store.exists else 0
    key = (
        f"{case['investigation'].get('report_sha256') or case['case_id']}-{batches}-{lang}-"
        f"{_words_digest()}"
    )
    path = cases.home / "investigate" / "charts" / f"{key}.json"
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        return {**{k: Markup(kept[k]) for k in drawings}, "verdict": kept["verdict"]}
    except (FileNotFoundError, ValueError, KeyError):  # kept by an older release: drawn anew
        pass
    try:
        report = investigate(store, case["msisdn"], complaint_id=case["complaint_id"])
    except JejakError:
        return {**dict.fromkeys(drawings, ""), "verdict": None}
    charts = {
        "timeline": str(timeline_svg(report, lang)),
        "timeline_phone": str(timeline_svg(report, lang, width=PHONE_WIDTH)),
        "graph": str(graph_svg(report, lang)),
        "verdict": report.verdict.reason(lang) if report.verdict else None,
    }
    with contextlib.suppress(OSError):  # a cache: another worker may be writing it too
        write_atomic(path, json.dumps(charts).encode(), sync_folder=False, mkdir=True)
    return {**charts, **{k: Markup(charts[k]) for k in drawings}}


@router.get("/cases/{case_id}")
@router.get("/cases/{case_id}.json")
def one(request: Request, case_id: str, user: Annotated[User, Depends(staff("cases"))]) -> Response:
    cases: Cases = request.app.state.cases
    case_id = case_id.removesuffix(".json")
    case = cases.get(case_id)
    case["clock"] = clock(case, cases.policy.timezone)
    case["actions_allowed"] = permissions.allowed(user.role, case["state"])
    _record_view(cases, user, case)
    if render.wants_json(request):
        return render.to_json(case)
    lang = request.state.lang
    charts = _charts(cases, case, lang)
    # the attached report's reason in the viewer's language; a report stored before its
    # parameters were kept falls back to today's report of the same subscriber
    charts["verdict"] = attached_reason(cases, case_id, lang) or charts["verdict"]
    data = {
        "case": case,
        "fields": FIELDS,
        "hypotheses": HYPOTHESES,
        "timezone": cases.policy.timezone,
        "charts": charts,
        "error": request.query_params.get("error"),
    }
    return render.html(request, "case.html", data)


def _record_view(cases: Cases, user: User, case: dict[str, Any]) -> None:
    """A case page shows the subscriber's records: the view is recorded (once an hour per person)
    before the page is sent, and logged by the process's drain thread right after."""
    from jejak.cases.models import AccessLog

    since = datetime.now(ZoneInfo("UTC")) - timedelta(hours=1)
    with cases.db.read() as s:
        seen = s.scalar(
            select(AccessLog.id)
            .where(
                AccessLog.user_name == user.name,
                AccessLog.case_id == case["case_id"],
                AccessLog.at >= since,
            )
            .limit(1)
        )
    if seen is None:
        cases.record_access(
            user.name,
            user.role,
            case["msisdn"],
            "case",
            case_id=case["case_id"],
            via="web",
            wait=False,
        )


def action_fields(action: str, form: dict[str, str]) -> dict[str, Any]:
    """The action's fields from a form, typed as the case library takes them."""
    out: dict[str, Any] = {}
    for name in FIELDS.get(action, ()):
        value = (form.get(name) or "").strip()
        if not value:
            continue
        if name == "amount":
            if not value.isdigit():
                raise InvalidFieldError("amount", "whole rupiah, digits only")
            out[name] = int(value)
        elif name == "charge_ids":
            out[name] = [x.strip() for x in value.replace(",", ";").split(";") if x.strip()]
        elif name == "operator_liable":
            out[name] = value == "true"
        else:
            out[name] = value
    return out


@router.post("/cases/{case_id}/actions")
async def act(
    request: Request, case_id: str, user: Annotated[User, Depends(staff("cases"))]
) -> Response:
    cases: Cases = request.app.state.cases
    form = {k: str(v) for k, v in (await request.form()).items()}
    action = form.get("action", "")
    version = form.get("expected_version", "")
    fields = action_fields(action, form)
    case = cases.act(
        case_id,
        user.name,
        action,
        fields,
        int(version) if version.isdigit() else None,
    )
    if render.wants_json(request):
        return render.to_json(case)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)
