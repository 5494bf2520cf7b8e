"""The customer's pages, under ``/pelanggan``: Indonesian first (English with ``?lang=en``),
laid out for a 390 px phone.

- ``/pelanggan`` number + ticket → a one-time code (SMS, or e-mail when the line is barred both
  ways, or a code handed over by staff) → ``/pelanggan/kasus``. The answers never tell whether a
  number or ticket exists (one message for all; :mod:`jejak.cases.customer.service`).
- ``/pelanggan/baru`` the number alone → a line code → ``/pelanggan/pengaduan``: a first
  complaint, without a ticket yet. The same answer for every number.
- ``/pelanggan/kasus`` the case: deadlines in working days, every timeline entry in plain words
  (internal notes as "catatan internal, oleh <peran>, pada <waktu>"), the decision with its
  evidence, the remedy and whether it was carried out, accept or dispute, escalation, and the
  proof panel that ``/static/customer-verify.js`` fills in after verifying every entry in the
  browser (:mod:`jejak.cases.customer.proofs`).
- ``/pelanggan/kasus/bukti.json`` the proof bundle; ``/pelanggan/kasus/tanda-terima/<seq>.tlog``
  an entry's C2SP tlog-proof; ``/pelanggan/kasus/log.vkey`` the log's key;
  ``/pelanggan/kasus/berkas.pdf`` the dossier for the regulator or BPSK (WeasyPrint).
- ``/pelanggan/pengaduan`` lodge a complaint about the line's own charges.
- ``/cases/<id>/kode-pelanggan`` and ``/entities/subscriber/<number>/kode-pelanggan`` (staff:
  cs, supervisor) a code (for the case, or for the line to lodge a first complaint) to hand over
  after checking identity; the issue is logged.

Sessions, CSRF, throttling, headers and the language come from the workbench
(:mod:`jejak.web.security`, :mod:`jejak.web.guard`); a customer session is a signed-in session of
the user name ``customer:<case id>`` (following a case) or ``customer-line:<number>`` (lodging a
first complaint), which no staff page accepts. Requests for a code are limited per client address
(:data:`jejak.web.security.CODE_REQUESTS`), wrong codes per number and per address.
"""

from __future__ import annotations

import contextlib
import gettext as _gettext
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from jejak.cases.customer import proofs
from jejak.cases.customer import service as cust
from jejak.cases.models import User
from jejak.cases.service import Cases
from jejak.cases.workdays import working_days_between
from jejak.errors import AuthError, InvalidFieldError, JejakError, StateConflictError
from jejak.web import i18n, render
from jejak.web.guard import CUSTOMER_PREFIX as PREFIX
from jejak.web.guard import LINE_PREFIX, begin, check_csrf, sessions, staff
from jejak.web.security import CODE_REQUESTS, Current, Throttle, address_key
from jejak.web.views.signin import set_session_cookie

router = APIRouter(include_in_schema=False)
DOMAIN = "customer"
WITNESSES = Path("keys") / "witnesses.vkeys"


# ---------------------------------------------------------------------------- language


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The customer catalog of ``lang``, falling back to the workbench's."""
    t = _gettext.translation(DOMAIN, i18n.LOCALE_DIR, languages=[lang], fallback=True)
    t.add_fallback(i18n.translations(lang))
    return t


def gettext_for(lang: str) -> Any:
    return translations(lang if lang in i18n.LANGS else i18n.DEFAULT_LANG).gettext


def _cases(request: Request) -> Cases:
    cases: Cases = request.app.state.cases
    return cases


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def page(request: Request, template: str, data: dict[str, Any], status: int = 200) -> HTMLResponse:
    lang = request.state.lang
    current = request.state.current
    ctx = {
        "data": data,
        "lang": lang,
        "_": gettext_for(lang),
        "csrf": current.csrf if current is not None else "",
        "path": request.url.path,
        "when": lambda t: i18n.when(t, cust_tz(request)),
        "idr": i18n.idr,
        "day": lambda d: _day(d, lang),
    }
    return HTMLResponse(render.ENV.get_template(template).render(**ctx), status_code=status)


def cust_tz(request: Request) -> str:
    return _cases(request).policy.timezone


MONTHS = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}
DAYS = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def _day(d: date | datetime | str | None, lang: str) -> str:
    """``Selasa, 28 Feb 2017``."""
    if d is None:
        return "–"
    if isinstance(d, str):
        d = datetime.fromisoformat(d)
    if isinstance(d, datetime):
        d = d.date()
    lang = lang if lang in MONTHS else "id"
    return f"{DAYS[lang][d.weekday()]}, {d.day} {MONTHS[lang][d.month - 1]} {d.year}"


# ---------------------------------------------------------------------------- sessions


def _fresh(request: Request) -> Current:
    """The request's session, or a new anonymous one (for the CSRF token of the sign-in form)."""
    current = request.state.current
    if current is None or (current.signed_in and not (_is_customer(current) or _is_line(current))):
        current = sessions(request).create(lang=request.state.lang, address=_address(request))
        request.state.current = current
        request.state.new_cookie = current.raw
    return current


def _is_customer(current: Current | None) -> bool:
    return (
        current is not None and current.signed_in and (current.user_name or "").startswith(PREFIX)
    )


def _is_line(current: Current | None) -> bool:
    return (
        current is not None
        and current.signed_in
        and (current.user_name or "").startswith(LINE_PREFIX)
    )


def _with_cookie(request: Request, resp: Response) -> Response:
    raw = getattr(request.state, "new_cookie", None)
    if raw:
        set_session_cookie(resp, raw, signed_in=False)
    return resp


async def customer_case(request: Request) -> str | None:
    """The case id of the signed-in customer (None: not signed in); checks CSRF on a POST."""
    current = begin(request)
    if not _is_customer(current):
        return None
    assert current is not None
    await check_csrf(request, current)
    return (current.user_name or "")[len(PREFIX) :]


CaseId = Annotated[str | None, Depends(customer_case)]


@dataclass(frozen=True)
class Line:
    """Who may lodge a complaint: a line (its number), and the case the session follows, if any."""

    msisdn: str
    case_id: str | None


async def customer_line(request: Request) -> Line | None:
    """The line of a signed-in customer (a case session, or a line session); checks CSRF."""
    current = begin(request)
    if _is_line(current):
        assert current is not None
        await check_csrf(request, current)
        return Line((current.user_name or "")[len(LINE_PREFIX) :], None)
    if _is_customer(current):
        assert current is not None
        await check_csrf(request, current)
        case_id = (current.user_name or "")[len(PREFIX) :]
        return Line(str(_cases(request).get(case_id)["msisdn"]), case_id)
    return None


LineOf = Annotated[Line | None, Depends(customer_line)]


def _to_sign_in() -> Response:
    return RedirectResponse("/pelanggan", status_code=303)


# ---------------------------------------------------------------------------- sign-in


def _signin_page(
    request: Request,
    step: str,
    *,
    msisdn: str = "",
    ticket: str = "",
    error: str | None = None,
    status: int = 200,
    mode: str = "ticket",
) -> Response:
    """The sign-in form: ``mode`` ``ticket`` (number + ticket, to follow a case) or ``line``
    (the number alone, to lodge a first complaint); ``step`` ``number`` or ``code``."""
    _fresh(request)
    data = {"step": step, "msisdn": msisdn, "ticket": ticket, "error": error, "mode": mode}
    return _with_cookie(request, page(request, "customer/signin.html", data, status))


@router.get("/pelanggan")
def signin_page(request: Request) -> Response:
    current = begin(request)
    if _is_customer(current):
        return RedirectResponse("/pelanggan/kasus", status_code=303)
    if _is_line(current):
        return RedirectResponse("/pelanggan/pengaduan", status_code=303)
    return _signin_page(request, "number")


@router.get("/pelanggan/baru")
def new_complaint_page(request: Request) -> Response:
    """A first complaint, without a ticket: the number alone."""
    current = begin(request)
    if _is_line(current) or _is_customer(current):
        return RedirectResponse("/pelanggan/pengaduan", status_code=303)
    return _signin_page(request, "number", mode="line")


def _throttle_keys(request: Request, msisdn: str) -> list[str]:
    return cust.throttle_keys(msisdn, _address(request))


def _too_many_requests(request: Request) -> bool:
    """Count a request for a code from the client's address; True when the address has used up
    :data:`CODE_REQUESTS` (the request is then refused, whatever number it names)."""
    throttle: Throttle = request.app.state.throttle
    where = address_key(_address(request))
    if throttle.exceeded(CODE_REQUESTS, where):
        return True
    throttle.hit(CODE_REQUESTS, where)
    return False


def _requests_refused(request: Request, mode: str, msisdn: str, ticket: str = "") -> Response:
    tr = gettext_for(request.state.lang)
    return _signin_page(
        request,
        "number",
        msisdn=msisdn,
        ticket=ticket,
        mode=mode,
        status=429,
        error=tr(
            "Too many codes were asked for from your connection. Try again in an hour, or ask "
            "at an outlet."
        ),
    )


@router.post("/pelanggan/kode")
async def send_code(
    request: Request,
    background: BackgroundTasks,
    msisdn: Annotated[str, Form(max_length=40)] = "",
    ticket: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    current = begin(request)
    await check_csrf(request, current)
    cases = _cases(request)
    if _too_many_requests(request):
        return _requests_refused(request, "ticket", msisdn, ticket.strip())
    if not cust.locked(cases, _throttle_keys(request, msisdn)):
        cust.request_code(cases, msisdn, ticket)
        background.add_task(_deliver, cases)
    return _signin_page(request, "code", msisdn=msisdn, ticket=ticket.strip())


@router.post("/pelanggan/baru/kode")
async def send_line_code(
    request: Request,
    background: BackgroundTasks,
    msisdn: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """A line code for a first complaint: the same answer whether or not the number exists."""
    current = begin(request)
    await check_csrf(request, current)
    cases = _cases(request)
    if _too_many_requests(request):
        return _requests_refused(request, "line", msisdn)
    if not cust.locked(cases, _throttle_keys(request, msisdn)):
        cust.request_line_code(cases, msisdn, language=request.state.lang)
        background.add_task(_deliver, cases)
    return _signin_page(request, "code", msisdn=msisdn, mode="line")


def _deliver(cases: Cases) -> None:
    """Hand queued messages to the delivery adapter (after the answer went out: the time it
    takes tells nobody anything)."""
    from jejak.notify.service import drain

    # a failure is retried by the next drain (`jejak notify drain` or the next request)
    with contextlib.suppress(JejakError):
        drain(cases.db, cases.home)


@router.post("/pelanggan/masuk")
async def sign_in(
    request: Request,
    msisdn: Annotated[str, Form(max_length=40)] = "",
    ticket: Annotated[str, Form(max_length=80)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    current = begin(request)
    await check_csrf(request, current)
    assert current is not None
    tr = gettext_for(request.state.lang)
    cases = _cases(request)
    keys = _throttle_keys(request, msisdn)
    locked = tr("Too many wrong codes. Try again in 15 minutes, or ask at an outlet.")
    if cust.locked(cases, keys):
        return _signin_page(request, "code", msisdn=msisdn, ticket=ticket, error=locked, status=429)
    try:
        case_id = cust.sign_in(cases, msisdn, ticket, code)
    except AuthError:
        cust.record_attempt(cases, keys, False)
        if cust.locked(cases, keys):
            return _signin_page(
                request, "code", msisdn=msisdn, ticket=ticket, error=locked, status=429
            )
        return _signin_page(
            request,
            "code",
            msisdn=msisdn,
            ticket=ticket,
            status=401,
            error=tr("The number, ticket or code is not right, or the code has expired."),
        )
    cust.record_attempt(cases, keys, True)
    fresh = sessions(request).advance(
        current, user_name=PREFIX + case_id, stage="signed_in", address=_address(request)
    )
    resp = RedirectResponse("/pelanggan/kasus", status_code=303)
    set_session_cookie(resp, fresh.raw, signed_in=True)
    return resp


@router.post("/pelanggan/baru/masuk")
async def sign_in_line(
    request: Request,
    msisdn: Annotated[str, Form(max_length=40)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Number + line code → a session of the line, on the lodging page."""
    current = begin(request)
    await check_csrf(request, current)
    assert current is not None
    tr = gettext_for(request.state.lang)
    cases = _cases(request)
    keys = _throttle_keys(request, msisdn)
    locked = tr("Too many wrong codes. Try again in 15 minutes, or ask at an outlet.")
    if cust.locked(cases, keys):
        return _signin_page(request, "code", msisdn=msisdn, error=locked, status=429, mode="line")
    try:
        number = cust.sign_in_line(cases, msisdn, code)
    except AuthError:
        cust.record_attempt(cases, keys, False)
        if cust.locked(cases, keys):
            return _signin_page(
                request, "code", msisdn=msisdn, error=locked, status=429, mode="line"
            )
        return _signin_page(
            request,
            "code",
            msisdn=msisdn,
            status=401,
            mode="line",
            error=tr("The number or code is not right, or the code has expired."),
        )
    cust.record_attempt(cases, keys, True)
    fresh = sessions(request).advance(
        current, user_name=LINE_PREFIX + number, stage="signed_in", address=_address(request)
    )
    resp = RedirectResponse("/pelanggan/pengaduan", status_code=303)
    set_session_cookie(resp, fresh.raw, signed_in=True)
    return resp


@router.post("/pelanggan/keluar")
async def sign_out(request: Request, line: LineOf) -> Response:
    if line is not None:
        sessions(request).revoke(request.state.current.raw)
    return RedirectResponse("/pelanggan", status_code=303)


# ---------------------------------------------------------------------------- the case


def tr_noop(text: str) -> str:
    """Marks a text for the catalog that is looked up later by its value (states, kinds)."""
    return text


WORDS = (
    tr_noop("state_received"),
    tr_noop("state_acknowledged"),
    tr_noop("state_investigating"),
    tr_noop("state_decision_proposed"),
    tr_noop("state_resolved"),
    tr_noop("state_escalated"),
    tr_noop("state_closed"),
    tr_noop("refund"),
    tr_noop("credit"),
    tr_noop("compensation"),
    tr_noop("provisional_credit"),
)
HYPOTHESES = (
    "credential_misuse",
    "external_compromise",
    "owner_misuse",
    "customer_consented",
    "billing_error",
    "insufficient_evidence",
)


def _hypothesis(tr: Any, name: str | None) -> str:
    words = {
        "credential_misuse": tr("someone inside the operator used another employee's user ID"),
        "external_compromise": tr("someone outside the operator got into its systems"),
        "owner_misuse": tr("the owner of the user ID did it without your consent"),
        "customer_consented": tr("a verified consent of yours covers the activation"),
        "billing_error": tr("a billing error"),
        "insufficient_evidence": tr("the evidence is not enough to say"),
    }
    return words.get(name or "", name or "–")


def _role(tr: Any, role: str) -> str:
    return {
        "cs": tr("customer service"),
        "investigator": tr("investigator"),
        "supervisor": tr("supervisor"),
        "auditor": tr("auditor"),
        "admin": tr("administrator"),
        "system": tr("jejak (automatic)"),
        "customer": tr("you, online"),
    }.get(role, role)


def _kind(tr: Any, kind: str | None) -> str:
    return {
        "refund": tr("refund"),
        "credit": tr("credit"),
        "compensation": tr("compensation"),
        "provisional_credit": tr("provisional credit"),
    }.get(kind or "", kind or "–")


def _sentence(tr: Any, e: cust.Entry, adjustments: dict[str, dict[str, Any]], when: Any) -> str:
    d = e.details
    idr = i18n.idr
    a = e.action
    if not e.public:
        return tr("internal note, by {role}, at {time}").format(
            role=_role(tr, e.role), time=when(e.at)
        )
    if a == "open":
        return tr(
            "Your complaint was received. From now on a hold protects your line: it may not be "
            "barred over the disputed {amount}."
        ).format(amount=idr(d.get("disputed_amount")))
    if a == "report_attached":
        return tr(
            "The evidence report was attached. It finds: {what}. The operator is liable: {liable}."
        ).format(
            what=_hypothesis(tr, d.get("hypothesis")),
            liable=tr("yes") if d.get("operator_liable") else tr("no"),
        )
    if a == "acknowledge":
        return tr("Your complaint was acknowledged and is being handled.")
    if a == "assign":
        return tr("The case was given to an officer.")
    if a == "comment":
        return tr("Message from the operator: {text}").format(text=e.text or "")
    if a in ("propose_adjustment",):
        return tr("A {kind} of {amount} was proposed.").format(
            kind=_kind(tr, d.get("kind")), amount=idr(d.get("amount"))
        )
    if a == "approve_adjustment":
        adj = adjustments.get(str(d.get("adjustment_id")), {})
        return tr("A supervisor approved the {kind} of {amount}.").format(
            kind=_kind(tr, adj.get("kind")), amount=idr(adj.get("amount"))
        )
    if a == "reject_adjustment":
        return tr("An adjustment was rejected.")
    if a == "adjustment_approved":
        adj = adjustments.get(str(d.get("adjustment_id")), {})
        return tr("The {kind} of {amount} was sent to billing to be credited.").format(
            kind=_kind(tr, adj.get("kind")), amount=idr(adj.get("amount"))
        )
    if a == "decide":
        if d.get("operator_liable"):
            s = tr(
                "Decision: {what}. The operator is liable: refund {refund}, compensation {comp}."
            ).format(
                what=_hypothesis(tr, d.get("hypothesis")),
                refund=idr(d.get("refund")),
                comp=idr(d.get("compensation")),
            )
        else:
            s = tr("Decision: {what}. The operator is not liable.").format(
                what=_hypothesis(tr, d.get("hypothesis"))
            )
        if d.get("departs_from_evidence"):
            s += " " + tr(
                "This decision departs from the evidence report; the reason given: {why}"
            ).format(why=d.get("justification") or "–")
        return s
    if a == "countersign":
        return tr("A second supervisor countersigned the decision.")
    if a == "accept":
        if e.role == "customer":
            return tr("You accepted the decision.")
        return tr("The decision was accepted.")
    if a == "finding":
        return tr(
            "Your line was barred ({id}) while the case was open. The operator must lift the bar "
            "and compensate you."
        ).format(id=d.get("action_id") or "–")
    if a == "lift_bar":
        return tr(
            "The bar {id} on your line was lifted after {days} day(s); compensation {comp}."
        ).format(id=d.get("action_id"), days=d.get("days_barred"), comp=idr(d.get("compensation")))
    if a == "provisional_credit":
        return tr(
            "The decision deadline passed without a decision: {amount} was credited to you "
            "provisionally."
        ).format(amount=idr(d.get("amount")))
    if a == "deemed_accepted":
        return tr("The decision stands: it was not disputed in time.")
    if a == "escalate":
        if e.role == "customer":
            return tr("You disputed it and the case was escalated: {text}").format(
                text=e.text or ""
            )
        return tr("The case was escalated: {text}").format(text=e.text or "")
    if a == "close":
        return tr("The case was closed.")
    if a == "reopen":
        return tr("The case was reopened: {text}").format(text=e.text or "")
    return e.text or a


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def case_data(request: Request, case_id: str) -> dict[str, Any]:
    """Everything the case page shows (also what the dossier prints)."""
    cases = _cases(request)
    lang = request.state.lang
    tr = gettext_for(lang)
    view = cases.get(case_id)
    tz = ZoneInfo(cases.policy.timezone)
    today = datetime.now(tz).date()
    opened = datetime.fromisoformat(view["opened_at"]).astimezone(tz).date()
    due = datetime.fromisoformat(view["decision_due"]).astimezone(tz).date()
    decided = view["decision"] is not None
    adjustments = {a["adjustment_id"]: a for a in view["adjustments"]}

    def when(t: str) -> str:
        return i18n.when(t, cases.policy.timezone)

    entries = []
    for e in cust.timeline(cases, case_id):
        who = _role(tr, e.role)
        if e.staff_id is not None:
            who += " · " + tr("staff ID {id}").format(id=e.staff_id)
        if e.staff_name:
            who += f" ({e.staff_name})"
        entries.append(
            {
                "seq": e.seq,
                "at": e.at,
                "when": when(e.at),
                "who": who,
                "public": e.public,
                "sentence": _capital(_sentence(tr, e, adjustments, when))
                if e.public
                else _sentence(tr, e, adjustments, when),
                "action": e.action,
                "ledger_index": e.ledger_index,
            }
        )
    evidence = cust.evidence_summary(cases, case_id)
    if evidence:
        for act in evidence["activations"]:
            act["when"] = when(act["at"]) if act.get("at") else "–"
            try:
                act["outlet"] = cases.store.record("outlets", act["outlet_id"]).get("name")
            except Exception:
                act["outlet"] = None
        evidence["what"] = _hypothesis(tr, evidence["hypothesis"])
    remedy = cust.remedy_status(cases, case_id)
    refunded = sum(a["amount"] for a in remedy["adjustments"] if a["state"] == "approved")
    # a decision left unanswered past the policy's period stands (deemed accepted), even before
    # `jejak case sync` or an action wrote it down
    view["stands_since"] = cust.stands_since(cases, view)
    stands = view["stands_since"] is not None and datetime.now(tz) > view["stands_since"]
    return {
        "case": {
            "ticket": view["complaint_id"],
            "case_id": case_id,
            "state": view["state"],
            "opened_at": view["opened_at"],
            "opened_day": _day(opened, lang),
            "decision_due_day": _day(due, lang),
            "decision_working_days": working_days_between(opened, due),
            "working_days_left": working_days_between(today, due),
            "decided": decided,
            "overdue": "decide" in view["overdue"],
            "disputed_amount": view["disputed_amount"],
            "disputed_charge_ids": view["disputed_charge_ids"],
            "hold_active": view["hold"]["active"],
            "accepted_at": view["accepted_at"],
            "stands": stands,
            "stands_day": _day(view["stands_since"].astimezone(tz), lang) if stands else None,
        },
        "decision": view["decision"]
        and {
            **view["decision"],
            "what": _hypothesis(tr, view["decision"]["hypothesis"]),
            "decided_by": None,
            "countersigned_by": None,
        },
        "entries": entries,
        "count": len(entries),
        "evidence": evidence,
        "remedy": remedy,
        "refunded": refunded,
        "bars": remedy["bars"],
        "may_accept": decided
        and view["state"] == "resolved"
        and view["accepted_at"] is None
        and not stands,
        "may_dispute": cust.may_escalate(view),
        "escalated": view["state"] == "escalated",
    }


@router.get("/pelanggan/kasus")
def case_page(request: Request, case_id: CaseId) -> Response:
    if case_id is None:
        return _to_sign_in()
    data = case_data(request, case_id)
    data["flash"] = request.query_params.get("ok")
    return page(request, "customer/case.html", data)


def _witnesses(cases: Cases) -> list[str]:
    path = cases.home / WITNESSES
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


@router.get("/pelanggan/kasus/bukti.json")
def proof_bundle(request: Request, case_id: CaseId) -> Response:
    if case_id is None:
        return render.to_json({"error": "AuthError", "detail": "sign in first"}, 401)
    since = request.query_params.get("since")
    n = int(since) if since and since.isdigit() and len(since) < 20 else None
    cases = _cases(request)
    return render.to_json(proofs.bundle(cases, case_id, since=n, witnesses=_witnesses(cases)))


@router.get("/pelanggan/kasus/tanda-terima/{seq}.tlog")
def receipt(request: Request, seq: int, case_id: CaseId) -> Response:
    if case_id is None:
        return _to_sign_in()
    body = proofs.receipt(_cases(request), case_id, seq)
    name = f"{case_id}-{seq}.tlog"
    return PlainTextResponse(
        body, headers={"content-disposition": f'attachment; filename="{name}"'}
    )


@router.get("/pelanggan/kasus/log.vkey")
def log_key(request: Request, case_id: CaseId) -> Response:
    if case_id is None:
        return _to_sign_in()
    return PlainTextResponse(
        str(_cases(request).log.verifier) + "\n",
        headers={"content-disposition": 'attachment; filename="log.vkey"'},
    )


@router.get("/pelanggan/kasus/berkas.pdf")
def dossier(request: Request, case_id: CaseId) -> Response:
    if case_id is None:
        return _to_sign_in()
    from jejak.web.dossier import render_pdf

    cases = _cases(request)
    data = case_data(request, case_id)
    data["receipts"] = [
        {"seq": e["seq"], "text": proofs.receipt(cases, case_id, e["seq"])}
        for e in data["entries"]
        if e["ledger_index"] is not None
    ]
    data["log_key"] = proofs.bundle(cases, case_id)["log_key"]
    html = bytes(page(request, "customer/dossier.html", data).body).decode()
    pdf = render_pdf(html)
    name = f"berkas-{data['case']['ticket']}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.post("/pelanggan/kasus/terima")
def accept(request: Request, case_id: CaseId) -> Response:
    if case_id is None:
        return _to_sign_in()
    try:
        cust.accept(_cases(request), case_id)
    except StateConflictError:
        # accepted already, deemed accepted, or nothing to accept: the page shows how things stand
        return RedirectResponse("/pelanggan/kasus", status_code=303)
    return RedirectResponse("/pelanggan/kasus?ok=accepted", status_code=303)


@router.post("/pelanggan/kasus/sanggah")
def dispute(
    request: Request, case_id: CaseId, reason: Annotated[str, Form(max_length=2000)] = ""
) -> Response:
    if case_id is None:
        return _to_sign_in()
    tr = gettext_for(request.state.lang)
    try:
        cust.dispute(_cases(request), case_id, reason)
    except (InvalidFieldError, StateConflictError):
        data = case_data(request, case_id)
        data["error"] = tr("Write why you do not accept the decision.")
        return page(request, "customer/case.html", data, 422)
    return RedirectResponse("/pelanggan/kasus?ok=disputed", status_code=303)


# ---------------------------------------------------------------------------- lodging


def _lodge_data(request: Request, line: Line, error: str | None = None) -> dict[str, Any]:
    cases = _cases(request)
    taken = cust.disputed_charges(cases, line.msisdn)
    charges = [
        {**c, "disputed_in": taken.get(str(c["charge_id"]))}
        for c in cust.charges(cases, line.msisdn)
    ]
    return {"charges": charges, "error": error, "following": line.case_id is not None}


@router.get("/pelanggan/pengaduan")
def lodge_page(request: Request, line: LineOf) -> Response:
    if line is None:
        return _to_sign_in()
    return page(request, "customer/lodge.html", _lodge_data(request, line))


@router.post("/pelanggan/pengaduan")
async def lodge(request: Request, line: LineOf) -> Response:
    if line is None:
        return _to_sign_in()
    form = await request.form()
    picked = [str(v) for v in form.getlist("charge")][:100]
    text = str(form.get("text") or "")[:2000]
    cases = _cases(request)
    tr = gettext_for(request.state.lang)
    try:
        case = cust.lodge(cases, line.msisdn, picked, text, language=request.state.lang)
    except InvalidFieldError:
        error = tr(
            "Pick at least one of your charges that is not disputed already, and say what happened."
        )
        return page(request, "customer/lodge.html", _lodge_data(request, line, error), 422)
    # the customer now follows the new ticket
    fresh = sessions(request).advance(
        request.state.current,
        user_name=PREFIX + case["case_id"],
        stage="signed_in",
        address=_address(request),
    )
    resp = RedirectResponse("/pelanggan/kasus?ok=lodged", status_code=303)
    set_session_cookie(resp, fresh.raw, signed_in=True)
    return resp


# ---------------------------------------------------------------------------- staff


@router.post("/cases/{case_id}/kode-pelanggan")
def staff_code(
    request: Request, case_id: str, user: Annotated[User, Depends(staff("cases"))]
) -> Response:
    """A code for staff to hand over after checking the customer's identity (cs, supervisor)."""
    from jejak.errors import ForbiddenError

    if user.role not in ("cs", "supervisor"):
        raise ForbiddenError(request.url.path, f"a {user.role} may not issue customer codes")
    code = cust.issue_staff_code(_cases(request), case_id, user.name)
    return render.html(
        request,
        "customer_code.html",
        {"case_id": case_id, "code": code, "minutes": int(cust.CODE_TTL.total_seconds() // 60)},
    )


@router.post("/entities/subscriber/{msisdn}/kode-pelanggan")
def staff_line_code(
    request: Request, msisdn: str, user: Annotated[User, Depends(staff("subscriber"))]
) -> Response:
    """A line code (to lodge a first complaint) for staff to hand over after checking the
    customer's identity (cs, supervisor); the issue is logged."""
    from jejak.errors import ForbiddenError

    if user.role not in ("cs", "supervisor"):
        raise ForbiddenError(request.url.path, f"a {user.role} may not issue customer codes")
    number = cust.normalize_msisdn(msisdn)
    code = cust.issue_staff_line_code(_cases(request), number, user.name)
    return render.html(
        request,
        "customer_code.html",
        {
            "case_id": None,
            "msisdn": number,
            "code": code,
            "minutes": int(cust.CODE_TTL.total_seconds() // 60),
        },
    )


def install(app: FastAPI) -> FastAPI:
    """Add the customer's pages to an application that has the workbench."""
    app.include_router(router)
    return app
