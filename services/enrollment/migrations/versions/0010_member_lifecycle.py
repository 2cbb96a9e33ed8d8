"""Member lifecycle: a member's status (an arriving transfer is not yet a member here), the
transfer tokens this node gave out, and what remains of a member who left or moved away.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as t:
        t.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="active"))
    op.create_table(
        "member_transfers",
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("from_org", sa.String(64), nullable=False),
        sa.Column("to_org", sa.String(64), nullable=False),
        sa.Column("to_node", sa.String(64), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_member_transfers"),
    )
    op.create_table(
        "departed_members",
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("moved_to", sa.String(64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_departed_members"),
    )


def downgrade() -> None:
    op.drop_table("departed_members")
    op.drop_table("member_transfers")
    with op.batch_alter_table("members") as t:
        t.drop_column("status")
