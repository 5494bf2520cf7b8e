"""Staff accounts: a name, a role, and API tokens stored hashed.

Tokens here are ``secrets.token_urlsafe(32)`` stored as their SHA-256 (a token is a random
256-bit secret, so a fast hash suffices to make a stolen table useless); the web layer may add
passwords and second factors in the columns left for them.

Example::

    >>> user, token = add_user(db, "Rina", "cs", token=True)      # doctest: +SKIP
    >>> user_for_token(db, token).name                             # doctest: +SKIP
    'Rina'
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from jejak.cases.db import Database
from jejak.cases.models import ROLES, ApiToken, User
from jejak.errors import ForbiddenError, NotFoundError, UsageError

SYSTEM = "jejak"  # the name of jejak's own entries; no account may take it


def token_hash(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def add_user(
    db: Database, name: str, role: str, *, token: bool = False, at: datetime | None = None
) -> tuple[User, str | None]:
    """Create an account (and, with ``token``, an API token returned once, in clear)."""
    name = name.strip()
    if not name or name.lower() == SYSTEM:
        raise UsageError("NAME", f"{name!r} cannot be a person's name")
    if role not in ROLES:
        raise UsageError("--role", f"{role!r} is not one of {', '.join(ROLES)}")
    at = at or datetime.now(UTC)
    try:
        with db.write() as s:
            user = User(name=name, role=role, disabled=False, created_at=at)
            s.add(user)
            s.flush()
            clear = None
            if token:
                clear = secrets.token_urlsafe(32)
                s.add(
                    ApiToken(
                        user_id=user.id, token_hash=token_hash(clear), scopes=[], created_at=at
                    )
                )
    except IntegrityError:
        raise UsageError("NAME", f"a user named {name!r} exists already") from None
    return user, clear


def new_token(db: Database, name: str, at: datetime | None = None) -> str:
    """A new API token for ``name``, returned once in clear."""
    clear = secrets.token_urlsafe(32)
    with db.write() as s:
        user = _get(s, name)
        s.add(
            ApiToken(
                user_id=user.id,
                token_hash=token_hash(clear),
                scopes=[],
                created_at=at or datetime.now(UTC),
            )
        )
    return clear


def list_users(db: Database) -> list[User]:
    with db.read() as s:
        return list(s.scalars(select(User).order_by(User.name)))


def disable_user(db: Database, name: str, at: datetime | None = None) -> User:
    """Disable an account and revoke its tokens (nothing is deleted)."""
    at = at or datetime.now(UTC)
    with db.write() as s:
        user = _get(s, name)
        user.disabled = True
        for t in s.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        ):
            t.revoked_at = at
    return user


def get_user(db: Database, name: str) -> User:
    with db.read() as s:
        return _get(s, name)


def user_for_token(db: Database, token: str) -> User:
    """The enabled person a token belongs to; ForbiddenError otherwise."""
    with db.read() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
        if row is None or row.revoked_at is not None:
            raise ForbiddenError("token", "unknown or revoked token")
        user = s.get(User, row.user_id)
        if user is None or user.disabled:
            raise ForbiddenError("token", "the account is disabled")
        return user


def _get(s: object, name: str) -> User:
    from sqlalchemy.orm import Session

    assert isinstance(s, Session)
    user = s.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFoundError(name, "no such user")
    return user
