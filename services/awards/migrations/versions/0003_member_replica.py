"""This node's members as awards needs them: pseudonymous id, home org, display name (for
dossiers), from the node-local members topic.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("home_org", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_members"),
    )
    op.create_index("ix_members_home_org", "members", ["home_org"])


def downgrade() -> None:
    op.drop_table("members")
