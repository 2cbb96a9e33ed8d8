"""The member's honours record: titles, rewards, proposal rewards, stipend payments.

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
    op.create_table(
        "honours",
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("honour_id", sa.String(100), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("home_org", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("scheme_id", sa.String(100), nullable=True),
        sa.Column("scheme_kind", sa.String(64), nullable=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("source_id", sa.String(100), nullable=False),
        sa.Column("granting_org", sa.String(64), nullable=False),
        sa.Column("team_name", sa.String(200), nullable=True),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("benefits", sa.JSON, nullable=False),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("granted_at", TZ, nullable=False),
        sa.Column("ce_id", sa.String(36), nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("record_id", name="pk_honours"),
        sa.UniqueConstraint("honour_id", "member_id", name="uq_honours_honour_id"),
    )
    op.create_index("ix_honours_member_id_granted_at", "honours", ["member_id", "granted_at"])
    op.create_index("ix_honours_home_org_granted_at", "honours", ["home_org", "granted_at"])


def downgrade() -> None:
    op.drop_table("honours")
