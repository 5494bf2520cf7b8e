"""The workbench's own table in the case database: sign-in sessions.

It lives in the case database (not in a process's memory) so that every worker of
``jejak serve --workers N`` sees the same sessions; the Alembic revision ``0004`` makes it.
Failed sign-ins and lock-outs are :mod:`jejak.auth`'s (``sign_in_attempts``).

- ``web_sessions``: one row per browser session; the cookie carries a random 256-bit id and only
  its SHA-256 is stored, so a copy of the database signs nobody in. ``stage`` is ``anonymous``
  (a sign-in form was served) or ``signed_in``; signing in issues a fresh id (no session
  fixation).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
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
