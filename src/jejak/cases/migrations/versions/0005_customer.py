"""customer_codes and customer_contacts: the customer's one-time sign-in codes (hashed) and the
e-mail addresses on file (jejak.cases.customer.models)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jejak.cases.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(80), nullable=False),
        sa.Column("code_hash", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("issued_by", sa.String(120), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_customer_codes_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_codes")),
    )
    op.create_index("ix_customer_codes_case_created", "customer_codes", ["case_id", "created_at"])
    op.create_table(
        "customer_contacts",
        sa.Column("msisdn", sa.String(32), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("msisdn", name=op.f("pk_customer_contacts")),
    )


def downgrade() -> None:
    op.drop_table("customer_contacts")
    op.drop_index("ix_customer_codes_case_created", table_name="customer_codes")
    op.drop_table("customer_codes")
