"""Inbox stream order and the delivery log by org: a position per inbox item drawn from a
per-recipient counter (the live stream's resumable event id), and each delivery's home org
(whose cadres read its log and may retry it), with the indexes of both questions.

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
    _inbox_positions()
    _delivery_home_org()


def _inbox_positions() -> None:
    op.create_table(
        "inbox_sequences",
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_inbox_sequences"),
    )
    with op.batch_alter_table("inbox_items") as batch:
        batch.add_column(sa.Column("seq", sa.BigInteger, nullable=True))
    # Existing items are numbered in the order they were shown, per recipient.
    op.execute(
        """
        UPDATE inbox_items SET seq = ranked.n
        FROM (
            SELECT item_id, ROW_NUMBER() OVER (
                PARTITION BY member_id ORDER BY created_at, item_id
            ) AS n
            FROM inbox_items
        ) AS ranked
        WHERE ranked.item_id = inbox_items.item_id
        """
    )
    op.execute(
        """
        INSERT INTO inbox_sequences (member_id, last_seq)
        SELECT member_id, MAX(seq) FROM inbox_items GROUP BY member_id
        """
    )
    with op.batch_alter_table("inbox_items") as batch:
        batch.alter_column("seq", existing_type=sa.BigInteger, nullable=False)
    op.create_index("ix_inbox_items_member_seq", "inbox_items", ["member_id", "seq"], unique=True)


def _delivery_home_org() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("home_org", sa.String(64), nullable=True))
    # Rows planned before: the recipient's record is the authority.
    op.execute(
        """
        UPDATE deliveries SET home_org = (
            SELECT recipients.home_org FROM recipients
            WHERE recipients.member_id = deliveries.member_id
        )
        """
    )
    op.create_index(
        "ix_deliveries_home_org_created",
        "deliveries",
        ["home_org", "created_at", "delivery_id"],
    )
    op.create_index(
        "ix_deliveries_home_org_status",
        "deliveries",
        ["home_org", "status", "created_at", "delivery_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_home_org_status", table_name="deliveries")
    op.drop_index("ix_deliveries_home_org_created", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("home_org")
    op.drop_index("ix_inbox_items_member_seq", table_name="inbox_items")
    with op.batch_alter_table("inbox_items") as batch:
        batch.drop_column("seq")
    op.drop_table("inbox_sequences")
