"""Member attributes for eligibility (kept at the home node only); approvals at the home node:
who decided, when, and the note, and an index for a grassroots org's pending approvals.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("members") as t:
        t.add_column(sa.Column("joined_on", sa.Date, nullable=True))
        t.add_column(sa.Column("skill_grade", sa.Integer, nullable=True))
        t.add_column(sa.Column("birth_date", sa.Date, nullable=True))
    with op.batch_alter_table("enrollments") as t:
        t.add_column(sa.Column("approval_at", TZ, nullable=True))
        t.add_column(sa.Column("approval_by", sa.String(200), nullable=True))
        t.add_column(sa.Column("approval_note", sa.String(500), nullable=True))
    op.create_index(
        "ix_enrollments_approval_queue",
        "enrollments",
        ["home_org", "status", "requested_at", "enrollment_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_enrollments_approval_queue", table_name="enrollments")
    with op.batch_alter_table("enrollments") as t:
        for name in ("approval_note", "approval_by", "approval_at"):
            t.drop_column(name)
    with op.batch_alter_table("members") as t:
        for name in ("birth_date", "skill_grade", "joined_on"):
            t.drop_column(name)
