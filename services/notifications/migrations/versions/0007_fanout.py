"""Public-notice fan-out and delivery lanes: the fan-out jobs, and a lane per delivery (single
messages before a fan-out's) with a partial index that makes each lane's claim cheap.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "fanout_jobs",
        sa.Column("notice_id", sa.String(64), nullable=False),
        sa.Column("owner_org", sa.String(64), nullable=False),
        sa.Column("ce_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cursor", sa.String(36), nullable=True),
        sa.Column("recipients", sa.Integer, nullable=False),
        sa.Column("deliveries", sa.Integer, nullable=False),
        sa.Column("batches", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("notice_id", name="pk_fanout_jobs"),
    )
    op.create_index("ix_fanout_jobs_status_created", "fanout_jobs", ["status", "created_at"])
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("lane", sa.Integer, nullable=False, server_default="0"))
    op.create_index(
        "ix_deliveries_lane_due",
        "deliveries",
        ["lane", "next_attempt_at", "delivery_id"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_lane_due", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("lane")
    op.drop_index("ix_fanout_jobs_status_created", table_name="fanout_jobs")
    op.drop_table("fanout_jobs")
