"""The workbench's own tables in the case database: sign-in sessions and rate events.

They live in the case database (not in a process's memory) so that every worker of
``jejak serve --workers N`` sees the same sessions and counts; the Alembic revisions ``0004``
and ``0006`` make them. Failed sign-ins and lock-outs of an account are :mod:`jejak.auth`'s
(``sign_in_attempts``).

- ``web_sessions``: one row per browser session; the cookie carries a random 256-bit id and only
  its SHA-256 is stored, so a copy of the database signs nobody in. ``stage`` is ``anonymous``
  (a sign-in form was served) or ``signed_in``; signing in issues a fresh id (no session
  fixation).
- ``rate_events``: one row per counted request (a failed staff sign-in, a customer's request for
  a code) of a client address, or of a number: :class:`jejak.web.security.Throttle` counts them
  within a window and prunes old ones.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from jejak.cases.models import Base


class WebSession(Base):
    """A browser's session."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str | None] = mapped_column(String(120))
    stage: Mapped[str] = mapped_column(String(20))
    csrf: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime]
    last_seen: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    address: Mapped[str | None] = mapped_column(String(64))


class RateEvent(Base):
    """One counted request of a client address (or a number) in a scope."""

    __tablename__ = "rate_events"
    __table_args__ = (Index("ix_rate_events_scope_key_at", "scope", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime]
