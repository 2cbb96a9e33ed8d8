"""Rationalization proposals, their steps and reward tier tables.

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
        "proposals",
        sa.Column("proposal_id", sa.String(36), nullable=False),
        sa.Column("author_id", sa.String(36), nullable=False),
        sa.Column("home_org", sa.String(64), nullable=False),
        sa.Column("evaluating_org", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("problem", sa.Text, nullable=False),
        sa.Column("proposal", sa.Text, nullable=False),
        sa.Column("expected_benefit", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("benefit_fen", sa.BigInteger, nullable=True),
        sa.Column("reward_fen", sa.BigInteger, nullable=True),
        sa.Column("honour_id", sa.String(36), nullable=True),
        sa.Column("submitted_at", TZ, nullable=False),
        sa.Column("evaluated_at", TZ, nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("proposal_id", name="pk_proposals"),
    )
    for columns in (
        ("evaluating_org", "submitted_at"),
        ("author_id", "submitted_at"),
        ("home_org", "submitted_at"),
        ("home_org", "evaluated_at"),
    ):
        op.create_index(f"ix_proposals_{'_'.join(columns)}", "proposals", list(columns))
    op.create_table(
        "proposal_steps",
        sa.Column("proposal_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("benefit_fen", sa.BigInteger, nullable=True),
        sa.Column("reward_fen", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("proposal_id", "seq", name="pk_proposal_steps"),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.proposal_id"],
            name="fk_proposal_steps_proposal_id_proposals",
        ),
    )
    op.create_table(
        "proposal_tiers",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("min_benefit_fen", sa.BigInteger, nullable=False),
        sa.Column("reward_fen", sa.BigInteger, nullable=False),
        sa.Column("rate_bp", sa.Integer, nullable=True),
        sa.Column("cap_fen", sa.BigInteger, nullable=True),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("set_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "position", name="pk_proposal_tiers"),
    )


def downgrade() -> None:
    for table in ("proposal_tiers", "proposal_steps", "proposals"):
        op.drop_table(table)
