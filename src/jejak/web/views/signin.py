"""Sign-in (name, password and TOTP code on one form), sign-out, and the language switch.

Every failed attempt counts against the account (:func:`jejak.auth.service.sign_in`, in the
database); a locked account is refused even with the right password. Every failed attempt also
counts against the client address (:data:`jejak.web.security.STAFF_SIGN_IN`): an address that
failed too often is refused before any password is checked, whatever account it names. A
successful sign-in replaces the session id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from jejak.auth.service import sign_in
from jejak.cases.models import User
from jejak.errors import AuthError
from jejak.web import i18n, render
from jejak.web.guard import begin, check_csrf, sessions, staff
from jejak.web.security import COOKIE, IDLE, LIFETIME, STAFF_SIGN_IN, Throttle, address_key

router = APIRouter(include_in_schema=False)
#: how jejak.auth says an account is locked out
LOCKED = "too many failed attempts"


def set_session_cookie(response: Response, raw: str, *, signed_in: bool) -> None:
    response.set_cookie(
        COOKIE,
        raw,
        max_age=int((LIFETIME if signed_in else IDLE).total_seconds()),
        path="/",
        secure=True,
        httponly=True,
        samesite="strict",
    )


def _local(target: str | None) -> str:
    """A redirect target: only a path on this site (no scheme, no //host, no backslash)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _form(request: Request, error: str | None = None, status: int = 200) -> Response:
    current = request.state.current
    fresh = None
    if current is None:
        fresh = sessions(request).create(lang=request.state.lang, address=_address(request))
        request.state.current = current = fresh
    data = {"error": error, "next": _local(request.query_params.get("next"))}
    resp = render.html(request, "signin.html", data, status)
    if fresh is not None:
        set_session_cookie(resp, fresh.raw, signed_in=False)
    return resp


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("/signin")
def signin_page(request: Request) -> Response:
    current = begin(request)
    if current is not None and current.signed_in:
        return RedirectResponse("/", status_code=303)
    return _form(request)


@router.post("/signin")
async def signin(
    request: Request,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    code: Annotated[str, Form(max_length=12)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    current = begin(request)
    await check_csrf(request, current)
    assert current is not None
    _ = i18n.gettext_for(request.state.lang)
    db = request.app.state.cases.db
    throttle: Throttle = request.app.state.throttle
    where = address_key(_address(request))
    if throttle.exceeded(STAFF_SIGN_IN, where):
        return _form(
            request, _("Too many failed sign-ins from your network. Try again later."), 429
        )
    try:
        who = sign_in(db, name.strip(), password, code.strip() or None)
        with db.read() as s:
            from sqlalchemy import select

            user = s.scalar(select(User).where(User.name == who.name))
        if user is None or not user.totp_secret:
            # staff must have a second factor: an account without one cannot use the workbench
            raise AuthError("sign-in", "no second factor enrolled")
    except AuthError as exc:
        throttle.hit(STAFF_SIGN_IN, where)
        if LOCKED in str(exc):
            return _form(
                request, _("Too many failed attempts. Sign-in is locked for a while."), 429
            )
        return _form(request, _("Wrong name, password or code."), 401)
    fresh = sessions(request).advance(
        current, user_name=who.name, stage="signed_in", address=_address(request)
    )
    resp = RedirectResponse(_local(next), status_code=303)
    set_session_cookie(resp, fresh.raw, signed_in=True)
    return resp


@router.post("/signout")
def signout(request: Request, user: Annotated[User, Depends(staff(None))]) -> Response:
    sessions(request).revoke(request.state.current.raw)
    resp = RedirectResponse("/signin", status_code=303)
    resp.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return resp


@router.get("/")
def home(request: Request, user: Annotated[User, Depends(staff(None))]) -> Response:
    can = request.state.can
    for view, href in (("alerts", "/alerts"), ("cases", "/cases"), ("audit", "/audit")):
        if can(view):
            return RedirectResponse(href, status_code=303)
    return render.html(request, "error.html", {"status": 403, "title": "jejak", "detail": "—"}, 403)
