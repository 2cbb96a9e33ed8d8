"""Each delivery keeps the trace context of the event it tells of (W3C `traceparent`): its
delivery span joins that trace whenever it is sent, after a restart too.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = ("deliveries", "webhook_deliveries")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("traceparent", sa.String(55), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("traceparent")
