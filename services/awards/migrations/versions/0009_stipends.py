"""Stipend schedules of titles and their yearly payments.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
ID = sa.String(36)
ORG = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "stipend_schedules",
        sa.Column("schedule_id", ID, primary_key=True),
        sa.Column("nomination_id", ID, nullable=False, unique=True),
        sa.Column("scheme_id", ID, nullable=False),
        sa.Column("owner_org", ORG, nullable=False),
        sa.Column("home_org", ORG, nullable=False),
        sa.Column("member_ids", sa.JSON, nullable=False),
        sa.Column("yearly_fen", sa.BigInteger, nullable=False),
        sa.Column("years", sa.Integer, nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
    )
    op.create_index("ix_stipend_schedules_scheme_id", "stipend_schedules", ["scheme_id"])
    op.create_table(
        "stipend_payments",
        sa.Column("schedule_id", ID, primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("paid_at", TZ, nullable=True),
        sa.Column("honour_id", ID, nullable=True, unique=True),
    )
    op.create_index("ix_stipend_payments_paid_at_due_at", "stipend_payments", ["paid_at", "due_at"])


def downgrade() -> None:
    op.drop_table("stipend_payments")
    op.drop_table("stipend_schedules")
