"""The workbench's guard: sessions in the database, CSRF tokens, sign-in throttling, security headers.

- **Sessions** (:class:`SessionStore`) are rows of ``web_sessions`` (see :mod:`jejak.web.models`),
  so that any worker serves any request. The cookie ``__Host-jejak`` is ``Secure``, ``HttpOnly``,
  ``SameSite=Strict``, ``Path=/`` and carries 256 random bits; the row stores their SHA-256. A
  session ends after ``IDLE`` without a request or ``LIFETIME`` in all, and each sign-in step
  (password, then TOTP) replaces the id.
- **CSRF**: every form carries the session's token in a hidden ``csrf`` field (htmx sends it as
  the ``X-CSRF-Token`` header); a state-changing request whose token does not match the session's
  is refused with 403 before it reaches a view (synchronizer-token pattern, OWASP CSRF cheat sheet).
- **Throttling**: failed attempts of an account are counted by :func:`jejak.auth.service.sign_in`
  and lock the account out (NIST SP 800-63B §5.2.2); :class:`Throttle` adds a limit per client
  address (:data:`STAFF_SIGN_IN`: failed staff sign-ins; :data:`CODE_REQUESTS`: a customer's
  requests for a one-time code), so that one address cannot try many accounts or send many
  codes. Both count rows of the case database (``rate_events``), never process memory, so every
  worker of ``jejak serve --workers N`` sees the same count. An IPv6 address counts as its /64
  (one host usually holds the whole prefix). Behind a reverse proxy the address is the one
  uvicorn takes from ``X-Forwarded-For`` of a trusted proxy (``--forwarded-allow-ips``).
- **Headers** (:class:`SecurityHeaders`): a Content-Security-Policy with no ``unsafe-inline`` and
  no ``unsafe-eval`` (so nothing inline runs, even if an export smuggled markup past escaping),
  ``frame-ancestors 'none'``, ``nosniff``, ``no-referrer``, and ``no-store`` on every page.

Example::

    >>> CSP.startswith("default-src 'none'")
    True
    >>> "unsafe-inline" in CSP
    False
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select

from jejak.web.models import RateEvent, WebSession

if TYPE_CHECKING:
    from jejak.cases.db import Database

COOKIE = "__Host-jejak"
IDLE = timedelta(minutes=30)
LIFETIME = timedelta(hours=12)
#: a session that has not finished signing in lives this long
PENDING = timedelta(minutes=10)

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
STAGES = ("anonymous", "password", "signed_in")


def now() -> datetime:
    return datetime.now(UTC)


def _aware(t: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored is UTC
    return t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t


def digest(raw: str) -> str:
    """SHA-256 (hex) of a session id: what the database keeps."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Current:
    """The session of one request, as a view sees it."""

    raw: str
    user_name: str | None
    stage: str
    csrf: str
    lang: str | None

    @property
    def signed_in(self) -> bool:
        return self.stage == "signed_in" and self.user_name is not None


class SessionStore:
    """Sessions in the case database; every worker reads and writes the same rows."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        *,
        user_name: str | None = None,
        stage: str = "anonymous",
        lang: str | None = None,
        address: str | None = None,
        at: datetime | None = None,
    ) -> Current:
        """A new session; its raw id goes in the cookie and nowhere else."""
        if stage not in STAGES:
            raise ValueError(stage)
        t = at or now()
        raw = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        life = LIFETIME if stage == "signed_in" else PENDING
        with self.db.write() as db:
            db.add(
                WebSession(
                    id_hash=digest(raw),
                    user_name=user_name,
                    stage=stage,
                    csrf=csrf,
                    lang=lang,
                    created_at=t,
                    last_seen=t,
                    expires_at=t + life,
                    address=address,
                )
            )
        return Current(raw, user_name, stage, csrf, lang)

    def get(self, raw: str | None, *, at: datetime | None = None) -> Current | None:
        """The live session behind a cookie, its idle clock restarted; None when there is none."""
        if not raw or len(raw) > 100:
            return None
        t = at or now()
        key = digest(raw)
        with self.db.read() as db:
            row = db.get(WebSession, key)
            if row is None or row.revoked_at is not None:
                return None
            expires, last = _aware(row.expires_at), _aware(row.last_seen)
            current = Current(raw, row.user_name, row.stage, row.csrf, row.lang)
        assert expires is not None and last is not None
        idle = IDLE if current.stage == "signed_in" else PENDING
        if t >= expires or t - last >= idle:
            self.revoke(raw)
            return None
        # the idle clock is written at most once a minute: most requests only read
        if t - last >= timedelta(minutes=1):
            with self.db.write() as db:
                row = db.get(WebSession, key)
                if row is not None:
                    row.last_seen = t
        return current

    def advance(
        self, old: Current, *, user_name: str, stage: str, address: str | None = None
    ) -> Current:
        """The next sign-in step: the old id is revoked and a new one issued."""
        self.revoke(old.raw)
        return self.create(user_name=user_name, stage=stage, lang=old.lang, address=address)

    def revoke(self, raw: str) -> None:
        """End a session (sign-out, or a step of sign-in)."""
        with self.db.write() as db:
            row = db.get(WebSession, digest(raw))
            if row is not None and row.revoked_at is None:
                row.revoked_at = now()

    def set_lang(self, current: Current, lang: str) -> None:
        with self.db.write() as db:
            row = db.get(WebSession, digest(current.raw))
            if row is not None:
                row.lang = lang


@dataclass(frozen=True)
class Limit:
    """At most ``most`` counted requests of one key in ``scope`` within ``window``."""

    scope: str
    most: int
    window: timedelta


#: failed staff sign-ins from one client address (whatever the account) within 15 minutes
STAFF_SIGN_IN = Limit("staff-sign-in", 20, timedelta(minutes=15))
#: a customer's requests for a one-time code from one client address within an hour (each may
#: send an SMS or an e-mail)
CODE_REQUESTS = Limit("code-request", 10, timedelta(hours=1))
#: rate events older than this are deleted when new ones are counted
KEEP = timedelta(days=1)


def address_key(address: str | None) -> str:
    """The key a client address is counted under: the address itself, an IPv6 one as its /64.

    >>> address_key("2001:db8:1:2:3:4:5:6"), address_key("192.0.2.7")
    ('2001:db8:1:2::/64', '192.0.2.7')
    """
    text = (address or "").strip()[:100]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text or "unknown"
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if ip.version == 6 else str(ip)


class Throttle:
    """Requests counted per key (a client address) in the case database.

    Example::

        >>> throttle = Throttle(db)                                  # doctest: +SKIP
        >>> if throttle.exceeded(STAFF_SIGN_IN, "192.0.2.7"): ...    # doctest: +SKIP
        >>> throttle.hit(STAFF_SIGN_IN, "192.0.2.7")                 # doctest: +SKIP
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def count(self, limit: Limit, key: str, *, at: datetime | None = None) -> int:
        """How many events of ``key`` in ``limit``'s scope fall within its window before ``at``."""
        t = at or now()
        with self.db.read() as s:
            n = s.scalar(
                select(func.count(RateEvent.id)).where(
                    RateEvent.scope == limit.scope,
                    RateEvent.key == key[:120],
                    RateEvent.at > t - limit.window,
                )
            )
        return int(n or 0)

    def exceeded(self, limit: Limit, key: str, *, at: datetime | None = None) -> bool:
        """Whether ``key`` has used up ``limit`` (the next request is to be refused)."""
        return self.count(limit, key, at=at) >= limit.most

    def hit(self, limit: Limit, key: str, *, at: datetime | None = None) -> None:
        """Count one event of ``key``; events older than :data:`KEEP` in the scope go."""
        t = at or now()
        with self.db.write() as s:
            s.add(RateEvent(scope=limit.scope, key=key[:120], at=t))
            s.execute(
                delete(RateEvent).where(RateEvent.scope == limit.scope, RateEvent.at < t - KEEP)
            )


def csrf_ok(current: Current | None, presented: str | None) -> bool:
    """Whether a form's or header's token is this session's (constant-time)."""
    if current is None or not presented:
        return False
    return hmac.compare_digest(current.csrf.encode(), presented.encode())


class SecurityHeaders:
    """ASGI middleware adding the security headers to every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in HEADERS if k not in present]
                if b"cache-control" not in present:
                    path = scope.get("path", "")
                    cache = b"public, max-age=3600" if path.startswith("/static/") else b"no-store"
                    headers.append((b"cache-control", cache))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
