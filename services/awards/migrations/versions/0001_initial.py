"""Initial tables: messaging, org replica, eligibility facts.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from shared.migrations import create_messaging_tables, create_org_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_messaging_tables(op)
    create_org_table(op)
    op.create_table(
        "eligibility_facts",
        sa.Column("fact_id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("home_org", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("programme_id", sa.String(36), nullable=False),
        sa.Column("programme_title", sa.String(300), nullable=False),
        sa.Column("quality_area", sa.String(32), nullable=True),
        sa.Column("hours", sa.Float, nullable=False),
        sa.Column("source_type", sa.String(100), nullable=False),
        sa.Column("occurred_at", TZ, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("fact_id", name="pk_eligibility_facts"),
    )
    op.create_index("ix_eligibility_facts_member_id", "eligibility_facts", ["member_id"])
    op.create_index(
        "ix_eligibility_facts_home_org_occurred_at",
        "eligibility_facts",
        ["home_org", "occurred_at"],
    )


def downgrade() -> None:
    for table in ("eligibility_facts", "orgs", "processed_events", "outbox"):
        op.drop_table(table)
