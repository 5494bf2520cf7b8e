"""Who is asking, in which language, and may they: one dependency in front of every page.

:func:`staff` reads the session cookie (:class:`jejak.web.security.SessionStore`), loads the
account, picks the language, checks the CSRF token of every state-changing request, and asks
:func:`jejak.cases.permissions.can_view` — the one table of who may open what — whether this
role may open this page. An anonymous request is sent to the sign-in page (a JSON request gets
401); a role that may not gets 403.

Example::

    @router.get("/alerts")
    def alerts(request: Request, user: Annotated[User, Depends(staff("alerts"))]): ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import Request
from sqlalchemy import select

from jejak.cases.models import User
from jejak.cases.permissions import can_view
from jejak.errors import AuthError, ForbiddenError, JejakError
from jejak.web import i18n
from jejak.web.security import COOKIE, Current, SessionStore, csrf_ok

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
#: the user names of customers' sessions (:mod:`jejak.web.customer`): one case, or one line
CUSTOMER_PREFIX = "customer:"
LINE_PREFIX = "customer-line:"


class SignInRequired(JejakError):
    """Sign in first."""

    http_status = 401


class CsrfError(JejakError):
    """The form's anti-forgery token is missing or stale: reload the page and try again."""

    http_status = 403


def sessions(request: Request) -> SessionStore:
    return request.app.state.web_sessions


def begin(request: Request) -> Current | None:
    """The session and language of a request (no account needed); sets ``request.state``."""
    current = sessions(request).get(request.cookies.get(COOKIE))
    request.state.current = current
    request.state.lang = i18n.negotiate(
        request.query_params.get("lang"),
        request.cookies.get(i18n.LANG_COOKIE) or (current.lang if current else None),
        request.headers.get("accept-language"),
    )
    request.state.user = None
    request.state.can = lambda view: False
    return current


async def check_csrf(request: Request, current: Current | None) -> None:
    """Refuse a state-changing request whose token is not this session's."""
    if request.method not in UNSAFE:
        return
    token = request.headers.get("x-csrf-token")
    if token is None:
        form = await request.form()
        value = form.get("csrf")
        token = value if isinstance(value, str) else None
    if not csrf_ok(current, token):
        raise CsrfError(
            "csrf", "the form's anti-forgery token is missing or stale: reload the page"
        )


def staff(view: str | None) -> Callable[[Request], Any]:
    """A dependency: the signed-in account allowed to open ``view`` (None: any signed-in role)."""

    async def dependency(request: Request) -> User:
        current = begin(request)
        if current is None or not current.signed_in:
            raise SignInRequired("sign-in", "sign in first")
        if (current.user_name or "").startswith((CUSTOMER_PREFIX, LINE_PREFIX)):
            # a customer's session is no staff session (and stays the customer's)
            raise SignInRequired("sign-in", "staff sign in first")
        db = request.app.state.cases.db
        with db.read() as s:
            user = s.scalar(select(User).where(User.name == current.user_name))
            if user is not None:
                s.expunge(user)
        if user is None or user.disabled:
            sessions(request).revoke(current.raw)
            raise AuthError("sign-in", "the account is disabled")
        request.state.user = user
        request.state.can = lambda v: can_view(v, user.role)
        await check_csrf(request, current)
        if view is not None and not can_view(view, user.role):
            raise ForbiddenError(request.url.path, f"a {user.role} may not open this page")
        return user

    return dependency


def sign_in_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/signin?next=" + quote(target, safe="")
