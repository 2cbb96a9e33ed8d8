"""Fewer indexes for every delivery written: the unique (ce_id, member_id, channel) goes (the
primary key is derived from exactly those three, so it already says the same), and the
digest's index covers held rows only (a partial index: a pending row never enters it).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

HELD = sa.text("status = 'digest'")


def upgrade() -> None:
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint("uq_deliveries_ce_id", type_="unique")
    op.create_index(
        "ix_deliveries_digest_due",
        "deliveries",
        ["member_id", "next_attempt_at"],
        postgresql_where=HELD,
        sqlite_where=HELD,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_digest_due", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.create_unique_constraint("uq_deliveries_ce_id", ["ce_id", "member_id", "channel"])
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
