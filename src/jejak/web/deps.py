"""What a route may ask for, as ``Annotated`` aliases: the case database, the case service, and
the person behind the request (``CurrentUser``), each resolved once per request.

Nothing here lives in the process between requests except the objects :func:`create_app` made
(the database engine, the store): who is signed in, what they may do and every rate or lock-out
count is read from the database on each request, so any number of workers answer alike.

Example::

    @router.get("/api/v1/things")
    def things(user: Reader, cases: CaseService) -> list[str]:
        ...   # user is a Principal whose token has the scope cases:read
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jejak.auth import service as auth
from jejak.auth.service import Principal
from jejak.cases.db import Database
from jejak.errors import AuthError, ForbiddenError

bearer = HTTPBearer(auto_error=False, description="An API token: `jejak auth token NAME`.")


# the dependencies that only look something up are coroutines: FastAPI runs a plain function in
# its thread pool, and under load every such hop of a request waits its turn there again


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_cases(request: Request) -> Any:
    return request.app.state.cases


def current_user(
    db: Annotated[Database, Depends(get_db)],
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if creds is None:
        raise AuthError("Authorization", "no token: send `Authorization: Bearer TOKEN`")
    return auth.authenticate(db, creds.credentials)


def require(user: Principal, scope: str) -> None:
    """Refuse (403) a request whose token lacks ``scope``."""
    if not user.may(scope):
        raise ForbiddenError("token", f"this token lacks the scope {scope!r}")


def scoped(scope: str) -> Any:
    """A dependency giving the current user when their token has ``scope`` (else 403), resolved
    before the request's body is read, so that a token without the scope learns nothing more."""

    async def dependency(user: Annotated[Principal, Depends(current_user)]) -> Principal:
        require(user, scope)
        return user

    return Depends(dependency)


CaseDB = Annotated[Database, Depends(get_db)]
CurrentUser = Annotated[Principal, Depends(current_user)]
Reader = Annotated[Principal, scoped("cases:read")]
Writer = Annotated[Principal, scoped("cases:write")]
Biller = Annotated[Principal, scoped("can-bar")]
Crm = Annotated[Principal, scoped("complaints:push")]
CaseService = Annotated[Any, Depends(get_cases)]
