"""The staff workbench on an application: pages, static files, the public log, the guard.

:func:`install` is what the application factory calls: it mounts ``/static`` (the stylesheet and
htmx, served by jejak itself), the C2SP tile paths under ``/log``, every page router, the
security headers, the session store, and the error pages. Everything a worker needs lives in
the case database or the home, so ``jejak serve --workers N`` serves any request from any
worker.

Example::

    >>> app = FastAPI()                                    # doctest: +SKIP
    >>> install(app, Cases.open(home))                     # doctest: +SKIP
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from jejak.cases.service import Cases
from jejak.errors import JejakError
from jejak.web import i18n, render, tlog
from jejak.web.guard import SignInRequired, begin, sign_in_url
from jejak.web.security import SecurityHeaders, SessionStore, Throttle
from jejak.web.views import alerts, audit, cases, entities, reports, signin

STATIC = Path(__file__).parent / "static"
ROUTERS = (
    signin.router,
    alerts.router,
    cases.router,
    entities.router,
    audit.router,
    reports.router,
)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/log/", "/openapi")) or render.wants_json(request)


def _error(request: Request, status: int, detail: str) -> Response:
    if _is_api(request):
        return JSONResponse({"error": "HTTP" if status >= 400 else "", "detail": detail}, status)
    if getattr(request.state, "lang", None) is None:
        begin(request)
    _ = i18n.gettext_for(request.state.lang)
    titles = {
        400: _("That request is not right"),
        401: _("Sign in first"),
        403: _("Not for your role"),
        404: _("Not found"),
        409: _("Not possible now"),
        422: _("Something is missing or wrong"),
        429: _("Too many attempts"),
    }
    data = {
        "status": status,
        "title": titles.get(status, _("Something went wrong")),
        "detail": detail,
    }
    return render.html(request, "error.html", data, status)


async def _call(handler: Any, request: Request, exc: Exception) -> Response:
    result = handler(request, exc)
    if inspect.isawaitable(result):
        result = await result
    return result


class RememberLanguage:
    """ASGI middleware: a response to ``?lang=xx`` (a language of the workbench) sets the
    language cookie, so that the next pages come in the same language."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        query = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if b"lang=" not in query:
            await self.app(scope, receive, send)
            return
        lang = parse_qs(query.decode("latin-1")).get("lang", [""])[0]
        if lang not in i18n.LANGS:
            await self.app(scope, receive, send)
            return
        cookie = Response()
        cookie.set_cookie(
            i18n.LANG_COOKIE, lang, max_age=365 * 86400, path="/", secure=True, samesite="lax"
        )
        extra = [(k, v) for k, v in cookie.raw_headers if k == b"set-cookie"]

        async def send_with_cookie(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def install(app: FastAPI, cases: Cases) -> FastAPI:
    """Add the workbench to ``app`` (see the module's docstring)."""
    app.state.cases = cases
    app.state.home = cases.home
    app.state.web_sessions = SessionStore(cases.db)
    app.state.throttle = Throttle(cases.db)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(tlog.router)
    for r in ROUTERS:
        app.include_router(r)

    # the API's error handlers (jejak.web.app) answer API and JSON requests; pages get a page
    api_jejak = app.exception_handlers.get(JejakError)
    api_http = app.exception_handlers.get(StarletteHTTPException)

    @app.exception_handler(JejakError)
    async def jejak_error(request: Request, exc: JejakError) -> Response:
        if isinstance(exc, SignInRequired) and not _is_api(request):
            return RedirectResponse(sign_in_url(request), status_code=303)
        if _is_api(request):
            if api_jejak is not None:
                return await _call(api_jejak, request, exc)
            return JSONResponse(
                {"error": type(exc).__name__, "detail": str(exc)}, status_code=exc.http_status
            )
        return _error(request, exc.http_status, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request) and api_http is not None:
            return await _call(api_http, request, exc)
        return _error(request, exc.status_code, str(exc.detail))

    app.add_middleware(RememberLanguage)
    app.add_middleware(SecurityHeaders)
    return app
