"""Eligibility facts from completions (rank, score, programme kind, enrollment).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("eligibility_facts") as t:
        t.add_column(sa.Column("enrollment_id", sa.String(36), nullable=True))
        t.add_column(sa.Column("programme_kind", sa.String(64), nullable=True))
        t.add_column(sa.Column("score", sa.Float, nullable=True))
        t.add_column(sa.Column("rank", sa.Integer, nullable=True))
    op.create_index("ix_eligibility_facts_enrollment_id", "eligibility_facts", ["enrollment_id"])


def downgrade() -> None:
    op.drop_index("ix_eligibility_facts_enrollment_id", table_name="eligibility_facts")
    with op.batch_alter_table("eligibility_facts") as t:
        for column in ("rank", "score", "programme_kind", "enrollment_id"):
            t.drop_column(column)
