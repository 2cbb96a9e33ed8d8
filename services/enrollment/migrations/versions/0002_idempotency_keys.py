"""Idempotency-Key records of POST requests (shared/web/idempotency.py).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from shared.migrations import create_idempotency_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_table(op)


def downgrade() -> None:
    op.drop_table("idempotency_keys")
