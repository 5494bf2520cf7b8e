"""Who is asking: staff passwords and second factors, scoped API tokens, and the record of every
view of a subscriber's data.

Accounts live in the case database's ``users`` table (made by ``jejak users add``,
:mod:`jejak.cases.users`); this module adds what signing in needs. Tokens are stored in
``api_tokens`` under :func:`jejak.cases.users.token_hash`, so a token printed by
``jejak users add --token`` and one issued here are the same kind of thing.

**Scopes** (:data:`jejak.auth.credentials.SCOPES`) limit what a token may ask for; the person's
role then limits which case actions it may take (:mod:`jejak.cases.permissions`). A token issued
without scopes has its role's defaults (:data:`ROLE_SCOPES`). A system such as billing or the
CRM is a named account (an ``auditor`` or ``cs``) holding a token with only the scope it needs
(``can-bar``, ``complaints:push``).

**Access to subscriber data** is recorded by :func:`record_access`: a row of ``access_log``
(who, when, which number, why, through what) and, in the same transaction, a ``ledger_outbox``
row that :func:`jejak.cases.audit.drain` turns into an entry of the transparency log.

Example::

    >>> token = issue_token(db, "billing", ["can-bar"])     # doctest: +SKIP
    >>> authenticate(db, token).scopes                       # doctest: +SKIP
    frozenset({'can-bar'})
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from jejak.auth.credentials import (
    SCOPES,
    hash_password,
    new_token,
    new_totp_secret,
    verify_password,
    verify_totp,
)
from jejak.cases import service as cases_service
from jejak.cases.db import Database
from jejak.cases.models import AccessLog, ApiToken, SignInAttempt, User
from jejak.cases.users import token_hash
from jejak.errors import AuthError, NotFoundError, UsageError

#: what a token without explicit scopes may do, by its holder's role
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "cs": frozenset({"cases:read", "cases:write", "can-bar", "complaints:push"}),
    "investigator": frozenset({"cases:read", "cases:write", "can-bar", "subscribers:read"}),
    "supervisor": frozenset({"cases:read", "cases:write", "can-bar", "subscribers:read"}),
    "auditor": frozenset({"cases:read", "can-bar"}),
    "admin": frozenset(SCOPES),
}
#: the password length below which :func:`set_password` refuses (NIST SP 800-63B §5.1.1.2)
MIN_PASSWORD = 12
#: failed sign-ins of one account within :data:`LOCKOUT_WINDOW` after which it is locked out
#: until the window has passed since the last failure (NIST SP 800-63B §5.2.2: at most 100)
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Principal:
    """A person (or system) proven by a credential: name, role and what the credential allows."""

    name: str
    role: str
    scopes: frozenset[str]
    token_id: int | None = None

    def may(self, scope: str) -> bool:
        return scope in self.scopes


@dataclass(frozen=True)
class TokenInfo:
    token_id: int
    user: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None


def _now(at: datetime | None) -> datetime:
    return at or datetime.now(UTC)


def _user(s: object, name: str) -> User:
    from sqlalchemy.orm import Session

    assert isinstance(s, Session)
    user = s.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFoundError(name, "no such user")
    return user


def _check_scopes(scopes: Iterable[str]) -> list[str]:
    given = sorted(set(scopes))
    unknown = [x for x in given if x not in SCOPES]
    if unknown:
        raise UsageError("--scope", f"unknown scope {unknown[0]!r} (one of {', '.join(SCOPES)})")
    return given


# ------------------------------------------------------------------ tokens


def issue_token(
    db: Database, name: str, scopes: Iterable[str] = (), at: datetime | None = None
) -> tuple[int, str]:
    """A new API token for ``name`` with ``scopes`` (none: the role's defaults): its id, and the
    token in clear, shown once and stored only as a hash."""
    given = _check_scopes(scopes)
    clear = new_token()
    with db.write() as s:
        user = _user(s, name)
        if user.disabled:
            raise UsageError(name, "the account is disabled")
        row = ApiToken(
            user_id=user.id, token_hash=token_hash(clear), scopes=given, created_at=_now(at)
        )
        s.add(row)
        s.flush()
        return row.id, clear


def revoke_token(db: Database, token_id: int, at: datetime | None = None) -> TokenInfo:
    """Revoke one token (it stays listed, with the time it was revoked)."""
    with db.write() as s:
        row = s.get(ApiToken, token_id)
        if row is None:
            raise NotFoundError(f"token {token_id}", "no such token")
        if row.revoked_at is None:
            row.revoked_at = _now(at)
        return _info(row, s.get(User, row.user_id))


def tokens(db: Database, name: str | None = None) -> list[TokenInfo]:
    """Every token (of ``name``), revoked ones included; never the token itself."""
    with db.read() as s:
        q = select(ApiToken, User).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
        if name is not None:
            q = q.where(User.id == _user(s, name).id)
        return [_info(t, u) for t, u in s.execute(q)]


def _info(row: ApiToken, user: User | None) -> TokenInfo:
    return TokenInfo(
        row.id, user.name if user else "?", list(row.scopes or []), row.created_at, row.revoked_at
    )


def authenticate(db: Database, token: str) -> Principal:
    """The person a Bearer token belongs to; :class:`AuthError` (401) when the token is unknown
    or revoked or its account disabled."""
    if not token:
        raise AuthError("Authorization", "no token: send `Authorization: Bearer TOKEN`")
    wanted = token_hash(token)
    with db.read() as s:
        found = s.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == wanted)
        ).first()
    # the lookup is by hash; compare again in constant time so that nothing depends on a
    # database's string comparison
    if found is None or not hmac.compare_digest(found[0].token_hash, wanted):
        raise AuthError("token", "unknown token")
    row, user = found
    if row.revoked_at is not None:
        raise AuthError("token", "the token was revoked")
    if user.disabled:
        raise AuthError("token", "the account is disabled")
    scopes = frozenset(row.scopes) if row.scopes else ROLE_SCOPES.get(user.role, frozenset())
    return Principal(user.name, user.role, scopes, row.id)


# ------------------------------------------------------------------ passwords and TOTP


def set_password(db: Database, name: str, password: str) -> None:
    """Set ``name``'s password (stored as an argon2id hash)."""
    if len(password) < MIN_PASSWORD:
        raise UsageError("password", f"use at least {MIN_PASSWORD} characters")
    with db.write() as s:
        _user(s, name).password_hash = hash_password(password)


def enroll_totp(db: Database, name: str) -> str:
    """Give ``name`` a new TOTP secret (replacing any old one) and return it once."""
    secret = new_totp_secret()
    with db.write() as s:
        _user(s, name).totp_secret = secret
    return secret


def sign_in(
    db: Database, name: str, password: str, code: str | None, *, at: datetime | None = None
) -> Principal:
    """Check a password and (for an account with a second factor) a TOTP code; a hash with
    outdated parameters is replaced. :class:`AuthError` on any failure, saying no more than
    that it failed. Every attempt is counted in the database; after :data:`LOCKOUT_FAILURES`
    failures within :data:`LOCKOUT_WINDOW` the account is locked out (even the right password
    is refused) until the window has passed since the last failure."""
    when = _now(at)
    with db.read() as s:
        failures = list(
            s.scalars(
                select(SignInAttempt.at)
                .where(
                    SignInAttempt.user_name == name,
                    SignInAttempt.ok.is_(False),
                    SignInAttempt.at > when - LOCKOUT_WINDOW,
                )
                .order_by(SignInAttempt.at)
            )
        )
    if len(failures) >= LOCKOUT_FAILURES:
        until = failures[-1] + LOCKOUT_WINDOW
        raise AuthError("sign-in", f"too many failed attempts: locked until {until:%H:%M} UTC")
    refusal: str | None = None
    principal: Principal | None = None
    with db.write() as s:
        user = s.scalar(select(User).where(User.name == name))
        ok, fresh = verify_password(user.password_hash if user else None, password)
        if user is None or not ok or user.disabled:
            refusal = "wrong name or password"
        elif user.totp_secret and not verify_totp(user.totp_secret, code or ""):
            refusal = "wrong or missing second-factor code"
        else:
            if fresh:
                user.password_hash = fresh
            principal = Principal(user.name, user.role, ROLE_SCOPES.get(user.role, frozenset()))
        s.add(SignInAttempt(user_name=name[:120], at=when, ok=principal is not None))
    if principal is None:
        raise AuthError("sign-in", refusal or "refused")
    return principal


# ------------------------------------------------------------------ access to subscriber data


def record_access(
    db: Database,
    who: Principal,
    msisdn: str,
    reason: str,
    *,
    what: str,
    via: str,
    case_id: str | None = None,
    at: datetime | None = None,
) -> int:
    """Record that ``who`` viewed ``msisdn``'s records (``what``) for ``reason``, in the access
    log and, in the same transaction, in the transparency log's outbox. The caller drains the
    outbox into the log (:func:`jejak.cases.audit.drain`). Returns the access log id."""
    if not reason.strip():
        raise UsageError("reason", "say why you look at this subscriber's records")
    access_id, _ = cases_service.record_access(
        db,
        who.name,
        who.role,
        msisdn,
        what[:80],
        reason=reason.strip(),
        case_id=case_id,
        via=via,
        at=_now(at),
    )
    return access_id


def accesses(db: Database, msisdn: str | None = None) -> list[AccessLog]:
    """The access log (for one number), oldest first."""
    with db.read() as s:
        q = select(AccessLog).order_by(AccessLog.id)
        if msisdn is not None:
            q = q.where(AccessLog.msisdn == msisdn)
        return list(s.scalars(q))
