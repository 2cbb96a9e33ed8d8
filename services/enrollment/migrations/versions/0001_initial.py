"""Initial tables: messaging, org replica, members, programmes, seats, enrollments.

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
        "members",
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("home_org", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("employee_no", sa.String(64), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_members"),
    )
    op.create_index("ix_members_home_org", "members", ["home_org"])
    op.create_table(
        "programmes",
        sa.Column("programme_id", sa.String(36), nullable=False),
        sa.Column("owner_org", sa.String(64), nullable=False),
        sa.Column("owner_node", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("quality_area", sa.String(32), nullable=False),
        sa.Column("audience", sa.JSON, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("hours", sa.Float, nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("confirmed_count", sa.Integer, nullable=False),
        sa.Column("next_sequence", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("programme_id", name="pk_programmes"),
    )
    op.create_index("ix_programmes_owner_org", "programmes", ["owner_org"])
    op.create_table(
        "seats",
        sa.Column("enrollment_id", sa.String(36), nullable=False),
        sa.Column("programme_id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("home_org", sa.String(64), nullable=False),
        sa.Column("home_node", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("decided_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("enrollment_id", name="pk_seats"),
        sa.UniqueConstraint("programme_id", "member_id", name="uq_seats_programme_id"),
    )
    op.create_index("ix_seats_programme_id", "seats", ["programme_id"])
    op.create_table(
        "enrollments",
        sa.Column("enrollment_id", sa.String(36), nullable=False),
        sa.Column("programme_id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("home_org", sa.String(64), nullable=False),
        sa.Column("owner_node", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=True),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("requested_at", TZ, nullable=False),
        sa.Column("decided_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("enrollment_id", name="pk_enrollments"),
    )
    op.create_index("ix_enrollments_programme_id", "enrollments", ["programme_id"])
    op.create_index("ix_enrollments_member_id", "enrollments", ["member_id"])


def downgrade() -> None:
    for table in (
        "enrollments",
        "seats",
        "programmes",
        "members",
        "orgs",
        "processed_events",
        "outbox",
    ):
        op.drop_table(table)
