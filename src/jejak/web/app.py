"""The web application: :func:`create_app` assembles it from a home (or settings).

The JSON API of ``shared/spec/outputs.md`` 1.1 lives in :mod:`jejak.web.api`; the staff
workbench (:mod:`jejak.web.workbench`: ``web/views/`` with ``web/templates/``) sits beside it on
the same case library, with its own sign-in sessions instead of tokens. Every error the library raises on purpose is a
:class:`jejak.errors.JejakError` and becomes, here and only here, its ``http_status`` with the
body ``{"error": kind, "detail": one line}``; request validation failures are the same shape
with 422. Anything else is a bug: a 500 without details (the traceback goes to the log).

Example::

    >>> from jejak.settings import Settings
    >>> app = create_app(Settings(home="./jejak-data"))   # doctest: +SKIP
    >>> # uvicorn.run(app) — or `jejak serve`
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import jejak
from jejak.errors import AuthError, JejakError
from jejak.settings import settings

log = logging.getLogger("jejak.web")


def _error(
    status: int, kind: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": kind, "detail": detail}, status_code=status, headers=headers)


def _first_validation_error(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "the request is not valid"
    first = errors[0]
    where = ".".join(str(x) for x in first.get("loc", ()) if x != "body") or "body"
    return f"{where}: {first.get('msg', 'invalid')}"


def install_error_handlers(app: FastAPI) -> None:
    """The one place where errors become HTTP statuses."""

    @app.exception_handler(JejakError)
    async def jejak_error(request: Request, exc: JejakError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthError) else None
        if exc.http_status >= 500:
            log.error("%s %s: %s", request.method, request.url.path, exc)
        return _error(exc.http_status, exc.__class__.__name__, str(exc), headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, "InvalidFieldError", _first_validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, "HTTPError", str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return _error(500, "InternalError", "internal error; the server log has the details")


def create_app(source: Any = None) -> FastAPI:
    """The application for a home: ``source`` is a :class:`jejak.Home`, a
    :class:`~jejak.settings.Settings`, a home folder, or None (the settings in force)."""
    from jejak.web.services import Services

    services = Services.from_source(source)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warm_up(app)
        yield
        # what the drain thread has not appended yet goes into the log before the worker ends
        services.cases.drain()

    app = FastAPI(
        lifespan=lifespan,
        title="jejak",
        version=jejak.__version__,
        summary="Disputes over package activations, settled on evidence (outputs.md 1.1).",
        openapi_url="/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.services = services
    app.state.db = services.db
    app.state.cases = services.cases
    install_error_handlers(app)

    from jejak.web.api import router

    app.include_router(router)
    from jejak.web.workbench import install

    install(app, services.cases)
    from jejak.web import customer

    customer.install(app)
    return app


def warm_up(app: FastAPI) -> None:
    """What a worker would otherwise do on its first requests, done before it takes any: the
    routes' parameter models built (FastAPI builds them on the first match), the templates
    compiled, the store's DuckDB connection and views made, this year's holidays read."""
    from datetime import date

    from jejak.cases.workdays import is_working_day
    from jejak.web import render

    scope = {"type": "http", "method": "GET", "path": "/", "root_path": "", "headers": []}
    for route in app.router.routes:
        route.matches(scope)
    render.compile_templates()
    is_working_day(date.today())
    store = app.state.services.cases.store
    if store.exists:
        store.sql("SELECT 1")


def app_from_env() -> FastAPI:
    """The application for ``$JEJAK_HOME``: what each ``jejak serve`` worker runs."""
    return create_app(settings())
