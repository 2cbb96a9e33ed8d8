"""Initial tables: messaging, org replica, recipients, deliveries, their log, the inbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from shared.migrations import create_messaging_tables, create_org_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_messaging_tables(op)
    create_org_table(op)
    _recipients()
    _deliveries()
    _delivery_attempts()
    _inbox_items()


def _recipients() -> None:
    op.create_table(
        "recipients",
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("home_org", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_recipients"),
    )
    op.create_index("ix_recipients_home_org", "recipients", ["home_org"])


def _deliveries() -> None:
    op.create_table(
        "deliveries",
        sa.Column("delivery_id", sa.String(36), nullable=False),
        sa.Column("ce_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("sent_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("delivery_id", name="pk_deliveries"),
        sa.UniqueConstraint("ce_id", "member_id", "channel", name="uq_deliveries_ce_id"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_deliveries_member_id", "deliveries", ["member_id"])


def _delivery_attempts() -> None:
    op.create_table(
        "delivery_attempts",
        sa.Column("delivery_id", sa.String(36), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error_type", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("delivery_id", "attempt", name="pk_delivery_attempts"),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.delivery_id"],
            name="fk_delivery_attempts_delivery_id_deliveries",
            ondelete="CASCADE",
        ),
    )


def _inbox_items() -> None:
    op.create_table(
        "inbox_items",
        sa.Column("item_id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("read_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("item_id", name="pk_inbox_items"),
    )
    op.create_index("ix_inbox_items_member_created", "inbox_items", ["member_id", "created_at"])


def downgrade() -> None:
    for table in (
        "inbox_items",
        "delivery_attempts",
        "deliveries",
        "recipients",
        "orgs",
        "processed_events",
        "outbox",
    ):
        op.drop_table(table)
