"""Member preferences and org notification policies (service/preferences.py).

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


def upgrade() -> None:
    op.create_table(
        "member_preferences",
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("time_zone", sa.String(64), nullable=True),
        sa.Column("quiet_hours", sa.String(11), nullable=True),
        sa.Column("digest_hour", sa.SmallInteger, nullable=True),
        sa.Column("channels", sa.JSON, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_member_preferences"),
    )
    op.create_table(
        "org_notification_policies",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=True),
        sa.Column("quiet_hours", sa.String(11), nullable=True),
        sa.Column("digest_hour", sa.SmallInteger, nullable=True),
        sa.Column("channels", sa.JSON, nullable=False),
        sa.Column("required_kinds", sa.JSON, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("org_id", name="pk_org_notification_policies"),
    )


def downgrade() -> None:
    op.drop_table("org_notification_policies")
    op.drop_table("member_preferences")
