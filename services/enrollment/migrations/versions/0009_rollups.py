"""Roll-ups: the marks of orgs whose figures changed (`stats_dirty`), the figures this node
last published per org it hosts and year (`stats_published`), and the snapshots it keeps of
every org below an org it hosts (`stats_snapshots`) — counts only, never a member's row.
An index sums an org's learning records for a year. The figures already here are marked, so
that the publisher's first run sends them.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

AREAS = ("ethics", "science_culture", "technical_skills", "safety_health")


def upgrade() -> None:
    op.create_table(
        "stats_dirty",
        sa.Column(
            "mark_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True
        ),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("mark_id", name="pk_stats_dirty"),
    )
    op.create_index("ix_stats_dirty_key", "stats_dirty", ["org_id", "year"])
    op.create_table(
        "stats_published",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("figures", sa.JSON, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "year", name="pk_stats_published"),
    )
    areas = []
    for area in AREAS:
        areas.append(sa.Column(f"hours_{area}", sa.Float, nullable=False))
        areas.append(sa.Column(f"completions_{area}", sa.BigInteger, nullable=False))
    op.create_table(
        "stats_snapshots",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("parent_id", sa.String(64), nullable=True),
        sa.Column("hosted_by", sa.String(64), nullable=False),
        sa.Column("members", sa.BigInteger, nullable=False),
        sa.Column("participants", sa.BigInteger, nullable=False),
        *areas,
        sa.Column("committed_fen", sa.BigInteger, nullable=False),
        sa.Column("spent_fen", sa.BigInteger, nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "year", name="pk_stats_snapshots"),
    )
    op.create_index("ix_learning_records_home_org_year", "learning_records", ["home_org", "year"])
    # What is here already gets published once (the publisher also marks every org it hosts
    # for the current year when it starts).
    op.execute("INSERT INTO stats_dirty (org_id, year) SELECT DISTINCT org_id, year FROM budgets")
    op.execute(
        "INSERT INTO stats_dirty (org_id, year) SELECT DISTINCT home_org, year "
        "FROM learning_records WHERE revoked_at IS NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_learning_records_home_org_year", table_name="learning_records")
    op.drop_table("stats_snapshots")
    op.drop_table("stats_published")
    op.drop_index("ix_stats_dirty_key", table_name="stats_dirty")
    op.drop_table("stats_dirty")
