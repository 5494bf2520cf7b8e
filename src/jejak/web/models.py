"""The workbench's own tables in the case database: sign-in sessions and sign-in attempts.

They live in the case database (not in a process's memory) so that every worker of
``jejak serve --workers N`` sees the same sessions and the same lock-outs; the Alembic revision
``0003_workbench`` makes them.

- ``web_sessions``: one row per browser session; the cookie carries a random 256-bit id and only
  its SHA-256 is stored, so a copy of the database signs nobody in. ``stage`` is ``anonymous``
  (a sign-in form was served) or ``signed_in``; signing in issues a fresh id (no session
  fixation).
- ``sign_in_attempts``: failed sign-ins per account and per address, and the lock-out they earned.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
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


class SignInAttempt(Base):
    """Failed sign-ins for one key (``user:NAME`` or ``ip:ADDRESS``) and its lock-out."""

    __tablename__ = "sign_in_attempts"

    key: Mapped[str] = mapped_column(String(260), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime]
    locked_until: Mapped[datetime | None]
