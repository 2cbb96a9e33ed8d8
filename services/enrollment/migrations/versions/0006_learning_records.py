"""Learning records and certificates at the home node: one row per completion (hours, quality
area, result, the federation-zone year it counts in, revoked or not, the event it came from),
and the certificates issued for them (at most one valid per enrollment; a public,
unguessable verification code each).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
VALID_CERTIFICATE = sa.text("revoked_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "learning_records",
        sa.Column("enrollment_id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("home_org", sa.String(64), nullable=False),
        sa.Column("owner_org", sa.String(64), nullable=False),
        sa.Column("programme_id", sa.String(36), nullable=False),
        sa.Column("programme_title", sa.String(300), nullable=False),
        sa.Column("programme_kind", sa.String(64), nullable=False),
        sa.Column("quality_area", sa.String(32), nullable=False),
        sa.Column("hours", sa.Float, nullable=False),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("rank", sa.Integer, nullable=True),
        sa.Column("completed_at", TZ, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.Column("ce_id", sa.String(36), nullable=False),
        sa.Column("revoked_ce_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("enrollment_id", name="pk_learning_records"),
    )
    op.create_index("ix_learning_records_member_year", "learning_records", ["member_id", "year"])
    op.create_table(
        "certificates",
        sa.Column("certificate_id", sa.String(36), nullable=False),
        sa.Column("enrollment_id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("verification_code", sa.String(64), nullable=False),
        sa.Column("issued_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("certificate_id", name="pk_certificates"),
        sa.UniqueConstraint("verification_code", name="uq_certificates_verification_code"),
    )
    op.create_index(
        "uq_certificates_valid",
        "certificates",
        ["enrollment_id"],
        unique=True,
        sqlite_where=VALID_CERTIFICATE,
        postgresql_where=VALID_CERTIFICATE,
    )
    op.create_index(
        "ix_certificates_member_issued",
        "certificates",
        ["member_id", "issued_at", "certificate_id"],
    )


def downgrade() -> None:
    op.drop_table("certificates")
    op.drop_table("learning_records")
