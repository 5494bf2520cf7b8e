"""A customer without a ticket signs in with a number-only code, and sign-ins are limited per
client address (jejak.cases.customer, jejak.web.security)

- ``notifications.case_id`` may be empty: a sign-in code for a line that has no case yet goes
  through the same outbox; ``notifications.msisdn`` (the recipient: a number, or the e-mail
  address on file) holds up to 254 characters, the longest address RFC 5321 allows.
- ``customer_codes.case_id`` may be empty and ``customer_codes.msisdn`` names the line: a code
  for lodging a first complaint belongs to a number, not to a case.
- ``rate_events``: requests counted per client address (and per number) within a window, in the
  database so that every worker of ``jejak serve --workers N`` counts the same.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jejak.cases.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("case_id", existing_type=sa.String(80), nullable=True)
        batch_op.alter_column(
            "msisdn", existing_type=sa.String(32), type_=sa.String(254), existing_nullable=False
        )
    with op.batch_alter_table("customer_codes", schema=None) as batch_op:
        batch_op.alter_column("case_id", existing_type=sa.String(80), nullable=True)
        batch_op.add_column(sa.Column("msisdn", sa.String(32), nullable=True))
        batch_op.create_index("ix_customer_codes_msisdn_created", ["msisdn", "created_at"])
    op.create_table(
        "rate_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_events")),
    )
    op.create_index("ix_rate_events_scope_key_at", "rate_events", ["scope", "key", "at"])


def downgrade() -> None:
    op.drop_index("ix_rate_events_scope_key_at", table_name="rate_events")
    op.drop_table("rate_events")
    with op.batch_alter_table("customer_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_codes_msisdn_created")
        batch_op.drop_column("msisdn")
        batch_op.alter_column("case_id", existing_type=sa.String(80), nullable=False)
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column(
            "msisdn", existing_type=sa.String(254), type_=sa.String(32), existing_nullable=False
        )
        batch_op.alter_column("case_id", existing_type=sa.String(80), nullable=False)
