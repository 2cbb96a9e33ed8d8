"""An org's roster listed page by page (`GET /members?org=`): members by org, in the order
they were registered, the member id breaking ties.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_members_org_created", "members", ["home_org", "created_at", "member_id"])


def downgrade() -> None:
    op.drop_index("ix_members_org_created", table_name="members")
