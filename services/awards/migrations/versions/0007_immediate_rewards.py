"""Immediate rewards and their per-period quotas: an org's quota (count and money per month,
quarter or year in the federation's zone), what each period used of it (the row every grant
locks), and the rewards, owned by the granting org's node. Amounts in integer fen.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reward_quotas",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("set_by_org", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", name="pk_reward_quotas"),
        sa.CheckConstraint("count >= 0 AND amount_fen >= 0", name=op.f("ck_reward_quotas_amounts")),
    )
    op.create_table(
        "reward_quota_usage",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("used_count", sa.Integer, nullable=False),
        sa.Column("used_fen", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "period", name="pk_reward_quota_usage"),
        sa.CheckConstraint(
            "used_count >= 0 AND used_fen >= 0", name=op.f("ck_reward_quota_usage_amounts")
        ),
    )
    op.create_table(
        "rewards",
        sa.Column("reward_id", sa.String(36), nullable=False),
        sa.Column("granting_org", sa.String(64), nullable=False),
        sa.Column("granted_by", sa.String(200), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("home_org", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("benefits", sa.JSON, nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("reward_id", name="pk_rewards"),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_rewards_amount")),
    )
    op.create_index("ix_rewards_granting_org_granted_at", "rewards", ["granting_org", "granted_at"])
    op.create_index("ix_rewards_member_id_granted_at", "rewards", ["member_id", "granted_at"])


def downgrade() -> None:
    op.drop_table("rewards")
    op.drop_table("reward_quota_usage")
    op.drop_table("reward_quotas")
