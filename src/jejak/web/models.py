"""The workbench's own tables in the case database: sign-in sessions, sign-in attempts, alert triage.

They live in the case database (not in a process's memory) so that every worker of
``jejak serve --workers N`` sees the same sessions, the same lock-outs and the same triage; the
Alembic revision ``workbench_0001`` creates them after the case tables.

- ``web_sessions``: one row per browser session; the cookie carries a random 256-bit id and only
  its SHA-256 is stored, so a copy of the database signs nobody in. ``stage`` is ``anonymous``
  (a sign-in form was served), ``password`` (the password was right, the TOTP code is awaited) or
  ``signed_in``; each step up gets a fresh id (no session fixation).
- ``sign_in_attempts``: failed passwords and TOTP codes per account and per address, with the
  lock-out they earned.
- ``alert_triage``: every triage decision on an alert (true_positive, benign, duplicate) and
  every link of an alert to a case, by whom and when; never updated, the latest row wins.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the workbench's tables."""


class WebSession(Base):
    """A browser's session."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str | None] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(20))
    csrf: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(String(64))


class SignInAttempt(Base):
    """Failed sign-in steps for one key (``user:NAME`` or ``ip:ADDRESS``) and its lock-out."""

    __tablename__ = "sign_in_attempts"

    key: Mapped[str] = mapped_column(String(260), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AlertTriage(Base):
    """One triage decision or case link on an alert."""

    __tablename__ = "alert_triage"
    __table_args__ = (Index("ix_alert_triage_alert", "alert_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))  # "triage" or "link"
    reason: Mapped[str | None] = mapped_column(String(20))
    case_id: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ledger_index: Mapped[int | None] = mapped_column(Integer)
