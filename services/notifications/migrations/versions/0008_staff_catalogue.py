"""Staff contacts and duties, programme and scheme titles, seats and reminders.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("sub", sa.String(128), nullable=False),
        sa.Column("recipient_id", sa.String(36), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("org", "sub", name="pk_staff"),
        sa.UniqueConstraint("recipient_id", name="uq_staff_recipient_id"),
    )
    op.create_table(
        "staff_duties",
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("sub", sa.String(128), nullable=False),
        sa.Column("duty", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("org", "sub", "duty", name="pk_staff_duties"),
    )
    op.create_index("ix_staff_duties_org_duty", "staff_duties", ["org", "duty", "sub"])
    op.create_table(
        "programmes",
        sa.Column("programme_id", sa.String(128), nullable=False),
        sa.Column("owner_org", sa.String(64), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("place", sa.String(500), nullable=True),
        sa.Column("cancelled", sa.Boolean, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("programme_id", name="pk_programmes"),
    )
    op.create_table(
        "schemes",
        sa.Column("scheme_id", sa.String(128), nullable=False),
        sa.Column("owner_org", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("veto_departments", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("scheme_id", name="pk_schemes"),
    )
    op.create_table(
        "seats",
        sa.Column("enrollment_id", sa.String(128), nullable=False),
        sa.Column("programme_id", sa.String(128), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("home_org", sa.String(64), nullable=False),
        sa.Column("held_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("enrollment_id", name="pk_seats"),
    )
    op.create_index("ix_seats_programme", "seats", ["programme_id", "enrollment_id"])
    op.create_index("ix_seats_member_id", "seats", ["member_id"])
    op.create_table(
        "reminders",
        sa.Column("enrollment_id", sa.String(128), nullable=False),
        sa.Column("programme_id", sa.String(128), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("home_org", sa.String(64), nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("remind_at", TZ, nullable=False),
        sa.Column("sent_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("enrollment_id", name="pk_reminders"),
    )
    op.create_index("ix_reminders_due", "reminders", ["sent_at", "remind_at"])
    op.create_index("ix_reminders_programme", "reminders", ["programme_id"])
    op.create_index("ix_reminders_member_id", "reminders", ["member_id"])


def downgrade() -> None:
    for table in ("reminders", "seats", "schemes", "programmes", "staff_duties", "staff"):
        op.drop_table(table)
