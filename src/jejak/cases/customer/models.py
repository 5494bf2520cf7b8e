"""The customer's side's own tables in the case database (Alembic revisions ``0005`` and ``0006``).

- ``customer_codes``: one-time sign-in codes. Only an argon2id hash of the code is kept; a code
  expires after :data:`jejak.cases.customer.service.CODE_TTL`, is used once, and dies after
  :data:`~jejak.cases.customer.service.CODE_TRIES` wrong answers. ``channel`` says how it went
  out (``sms``, ``email``, ``staff``); a staff-issued code names the staff account. A code is
  for one case (``case_id``: following a ticket) or, with no case, for one line (``msisdn``:
  lodging a first complaint, revision 0006).
- ``customer_contacts``: an e-mail address on file for a number, the way a code reaches a line
  that is barred both ways.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from jejak.cases.models import Base


class CustomerCode(Base):
    """A one-time sign-in code for one case's customer, or for a line without a case."""

    __tablename__ = "customer_codes"
    __table_args__ = (
        Index("ix_customer_codes_case_created", "case_id", "created_at"),
        Index("ix_customer_codes_msisdn_created", "msisdn", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the case the code opens; empty for a code that lets a line lodge a first complaint
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.case_id"))
    #: the line the code was sent for (every code since revision 0006)
    msisdn: Mapped[str | None] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(10))  # sms | email | staff
    issued_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(Integer, default=0)


class CustomerContact(Base):
    """An e-mail address on file for a number."""

    __tablename__ = "customer_contacts"

    msisdn: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime]
