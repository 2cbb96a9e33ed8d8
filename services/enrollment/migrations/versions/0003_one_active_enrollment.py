"""One active enrollment per member and programme, kept by the database: a unique index on
(programme_id, member_id) over the rows that are not refused. It also answers the check
before a request, which otherwise scanned every enrollment of a popular programme.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status <> 'refused'")


def upgrade() -> None:
    op.create_index(
        "uq_enrollments_active",
        "enrollments",
        ["programme_id", "member_id"],
        unique=True,
        postgresql_where=ACTIVE,
        sqlite_where=ACTIVE,
    )


def downgrade() -> None:
    op.drop_index("uq_enrollments_active", table_name="enrollments")
