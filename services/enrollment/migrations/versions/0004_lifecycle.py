"""The enrollment lifecycle: programme settings (place, quotas, cost, cut-off, approval,
eligibility, offers, status), seats that are offered, attended, completed or cancelled, the
home side's mirror of them, and the waitlist numbers that left (for queue positions).

Active = not refused, rejected or cancelled: one active enrollment and seat per member and
programme (a member who cancelled may ask again).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
ACTIVE_ENROLLMENT = sa.text("status NOT IN ('refused', 'rejected', 'cancelled')")
ACTIVE_SEAT = sa.text("status <> 'cancelled'")


def upgrade() -> None:
    with op.batch_alter_table("programmes") as t:
        t.add_column(sa.Column("place", sa.String(300), nullable=True))
        t.add_column(sa.Column("online_link", sa.String(500), nullable=True))
        t.add_column(sa.Column("kind_detail", sa.String(100), nullable=True))
        t.add_column(sa.Column("quotas", sa.JSON, nullable=False, server_default="{}"))
        t.add_column(sa.Column("quota_used", sa.JSON, nullable=False, server_default="{}"))
        t.add_column(sa.Column("cost_per_seat_fen", sa.Integer, nullable=False, server_default="0"))
        t.add_column(sa.Column("enrollment_closes_at", TZ, nullable=True))
        t.add_column(sa.Column("requires_approval", sa.Boolean, nullable=False, server_default="0"))
        t.add_column(sa.Column("eligibility", sa.JSON, nullable=True))
        t.add_column(sa.Column("offer_hours", sa.Integer, nullable=False, server_default="48"))
        t.add_column(
            sa.Column("over_budget", sa.String(16), nullable=False, server_default="refuse")
        )
        t.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="open"))
        t.add_column(sa.Column("cancelled_at", TZ, nullable=True))
        t.add_column(sa.Column("waitlist_next", sa.Integer, nullable=False, server_default="1"))
    with op.batch_alter_table("seats", recreate="always") as t:
        t.drop_constraint("uq_seats_programme_id", type_="unique")
        t.add_column(sa.Column("quota_org", sa.String(64), nullable=True))
        t.add_column(sa.Column("display_name", sa.String(200), nullable=True))
        t.add_column(sa.Column("waitlist_number", sa.Integer, nullable=True))
        t.add_column(sa.Column("offer_expires_at", TZ, nullable=True))
        t.add_column(sa.Column("cost_fen", sa.Integer, nullable=False, server_default="0"))
        t.add_column(sa.Column("score", sa.Float, nullable=True))
        t.add_column(sa.Column("rank", sa.Integer, nullable=True))
        t.add_column(sa.Column("updated_at", TZ, nullable=True))
    op.create_index(
        "uq_seats_active",
        "seats",
        ["programme_id", "member_id"],
        unique=True,
        sqlite_where=ACTIVE_SEAT,
        postgresql_where=ACTIVE_SEAT,
    )
    op.create_index("ix_seats_offer_expires_at", "seats", ["offer_expires_at"])
    with op.batch_alter_table("enrollments") as t:
        t.add_column(sa.Column("waitlist_number", sa.Integer, nullable=True))
        t.add_column(sa.Column("offer_expires_at", TZ, nullable=True))
        t.add_column(sa.Column("hours", sa.Float, nullable=True))
        t.add_column(sa.Column("score", sa.Float, nullable=True))
        t.add_column(sa.Column("rank", sa.Integer, nullable=True))
        t.add_column(sa.Column("completed_at", TZ, nullable=True))
        t.add_column(sa.Column("updated_at", TZ, nullable=True))
        t.add_column(sa.Column("link_used_at", TZ, nullable=True))
    op.drop_index("uq_enrollments_active", table_name="enrollments")
    op.create_index(
        "uq_enrollments_active",
        "enrollments",
        ["programme_id", "member_id"],
        unique=True,
        sqlite_where=ACTIVE_ENROLLMENT,
        postgresql_where=ACTIVE_ENROLLMENT,
    )
    op.create_table(
        "waitlist_departures",
        sa.Column("programme_id", sa.String(36), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("programme_id", "number", name="pk_waitlist_departures"),
    )


def downgrade() -> None:
    op.drop_table("waitlist_departures")
    op.drop_index("uq_enrollments_active", table_name="enrollments")
    op.create_index(
        "uq_enrollments_active",
        "enrollments",
        ["programme_id", "member_id"],
        unique=True,
        sqlite_where=sa.text("status <> 'refused'"),
        postgresql_where=sa.text("status <> 'refused'"),
    )
    with op.batch_alter_table("enrollments") as t:
        for name in (
            "link_used_at",
            "updated_at",
            "completed_at",
            "rank",
            "score",
            "hours",
            "offer_expires_at",
            "waitlist_number",
        ):
            t.drop_column(name)
    op.drop_index("ix_seats_offer_expires_at", table_name="seats")
    op.drop_index("uq_seats_active", table_name="seats")
    with op.batch_alter_table("seats", recreate="always") as t:
        for name in (
            "updated_at",
            "rank",
            "score",
            "cost_fen",
            "offer_expires_at",
            "waitlist_number",
            "display_name",
            "quota_org",
        ):
            t.drop_column(name)
        t.create_unique_constraint("uq_seats_programme_id", ["programme_id", "member_id"])
    with op.batch_alter_table("programmes") as t:
        for name in (
            "waitlist_next",
            "cancelled_at",
            "status",
            "over_budget",
            "offer_hours",
            "eligibility",
            "requires_approval",
            "enrollment_closes_at",
            "cost_per_seat_fen",
            "quota_used",
            "quotas",
            "kind_detail",
            "online_link",
            "place",
        ):
            t.drop_column(name)
