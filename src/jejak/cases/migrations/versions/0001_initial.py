"""cases, timeline, adjustments, holds, findings, outboxes, users, access log

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-03 06:22:01.719114
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import jejak.cases.models

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", jejak.cases.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("user_name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("msisdn", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=80), nullable=True),
        sa.Column("what", sa.String(length=80), nullable=False),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.create_index("ix_access_log_msisdn_at", ["msisdn", "at"], unique=False)

    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(length=80), nullable=False),
        sa.Column("complaint_id", sa.String(length=80), nullable=False),
        sa.Column("msisdn", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("opened_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ack_due", jejak.cases.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decision_due", jejak.cases.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disputed_charge_ids", sa.JSON(), nullable=False),
        sa.Column("disputed_amount", sa.BigInteger(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("assignee", sa.String(length=120), nullable=True),
        sa.Column("report_sha256", sa.String(length=64), nullable=True),
        sa.Column("suggestion", sa.JSON(), nullable=True),
        sa.Column("decision", sa.JSON(), nullable=True),
        sa.Column("provisional_credit_id", sa.String(length=100), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_cases")),
        sa.UniqueConstraint("complaint_id", name=op.f("uq_cases_complaint_id")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_decision_due"), ["decision_due"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_msisdn"), ["msisdn"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_state"), ["state"], unique=False)

    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox", sa.String(length=20), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("adapter", sa.String(length=40), nullable=False),
        sa.Column("at", jejak.cases.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_attempts_outbox", ["outbox", "outbox_id"], unique=False)

    op.create_table(
        "ledger_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("ref", sa.Integer(), nullable=False),
        sa.Column("created_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ledger_index", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_outbox")),
    )
    with op.batch_alter_table("ledger_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_outbox_pending", ["ledger_index", "id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "adjustments",
        sa.Column("adjustment_id", sa.String(length=100), nullable=False),
        sa.Column("case_id", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("charge_ids", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("proposed_by", sa.String(length=120), nullable=False),
        sa.Column("proposed_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approvers_needed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_adjustments_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("adjustment_id", name=op.f("pk_adjustments")),
    )
    with op.batch_alter_table("adjustments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adjustments_case_id"), ["case_id"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=255), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=80), nullable=False),
        sa.Column("action_id", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("barred_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("amount_due", sa.BigInteger(), nullable=True),
        sa.Column("required", sa.JSON(), nullable=False),
        sa.Column("found_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=120), nullable=True),
        sa.Column("compensation", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_findings_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.UniqueConstraint("case_id", "action_id", name=op.f("uq_findings_case_id")),
    )
    op.create_table(
        "holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=80), nullable=False),
        sa.Column("msisdn", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("active_from", jejak.cases.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_holds_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
    )
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_holds_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_holds_msisdn_from", ["msisdn", "active_from"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=80), nullable=False),
        sa.Column("msisdn", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("ticket", sa.String(length=80), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("next_deadline", jejak.cases.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_notifications_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_case_id"), ["case_id"], unique=False)

    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=80), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("made_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_reports_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reports_case_id"), ["case_id"], unique=False)

    op.create_table(
        "timeline_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", jejak.cases.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("ledger_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_timeline_entries_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline_entries")),
        sa.UniqueConstraint("case_id", "seq", name=op.f("uq_timeline_entries_case_id")),
    )
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("adjustment_id", sa.String(length=100), nullable=False),
        sa.Column("approver", sa.String(length=120), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", jejak.cases.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["adjustment_id"],
            ["adjustments.adjustment_id"],
            name=op.f("fk_approvals_adjustment_id_adjustments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
        sa.UniqueConstraint("adjustment_id", "approver", name=op.f("uq_approvals_adjustment_id")),
    )
    op.create_table(
        "billing_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("adjustment_id", sa.String(length=100), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", jejak.cases.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["adjustment_id"],
            ["adjustments.adjustment_id"],
            name=op.f("fk_billing_outbox_adjustment_id_adjustments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_outbox")),
        sa.UniqueConstraint("adjustment_id", name=op.f("uq_billing_outbox_adjustment_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_billing_outbox_idempotency_key")),
    )


def downgrade() -> None:
    op.drop_table("billing_outbox")
    op.drop_table("approvals")
    op.drop_table("timeline_entries")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reports_case_id"))

    op.drop_table("reports")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_case_id"))

    op.drop_table("notifications")
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_index("ix_holds_msisdn_from")
        batch_op.drop_index(batch_op.f("ix_holds_case_id"))

    op.drop_table("holds")
    op.drop_table("findings")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adjustments_case_id"))

    op.drop_table("adjustments")
    op.drop_table("users")
    with op.batch_alter_table("ledger_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_outbox_pending")

    op.drop_table("ledger_outbox")
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_attempts_outbox")

    op.drop_table("delivery_attempts")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_state"))
        batch_op.drop_index(batch_op.f("ix_cases_msisdn"))
        batch_op.drop_index(batch_op.f("ix_cases_decision_due"))

    op.drop_table("cases")
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_index("ix_access_log_msisdn_at")

    op.drop_table("access_log")
