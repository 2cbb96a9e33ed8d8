"""Training budgets of the orgs this node hosts: per org and year (the federation zone's
calendar year), the union fund and the share reserved for worker education (basis points),
what confirmed seats committed and what completions spent. Amounts in integer fen.

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
        "budgets",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("union_fund_fen", sa.BigInteger, nullable=False),
        sa.Column("education_share_bp", sa.Integer, nullable=False),
        sa.Column("committed_fen", sa.BigInteger, nullable=False),
        sa.Column("spent_fen", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "year", name="pk_budgets"),
        sa.CheckConstraint(
            "union_fund_fen >= 0 AND committed_fen >= 0 AND spent_fen >= 0",
            name=op.f("ck_budgets_amounts"),
        ),
        sa.CheckConstraint("education_share_bp BETWEEN 0 AND 10000", name=op.f("ck_budgets_share")),
    )


def downgrade() -> None:
    op.drop_table("budgets")
