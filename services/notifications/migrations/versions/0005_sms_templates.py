"""SMS and per-org template overrides: the override table; a delivery planned because another
channel failed names it (`fallback_of`), and the attempt that gave up names the delivery it
fell back to (`fallback_to`).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "template_overrides",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("template_key", sa.String(200), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "template_key", "language", name="pk_template_overrides"),
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("fallback_of", sa.String(36), nullable=True))
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.add_column(sa.Column("fallback_to", sa.String(36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.drop_column("fallback_to")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("fallback_of")
    op.drop_table("template_overrides")
