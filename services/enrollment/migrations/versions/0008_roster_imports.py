"""Roster imports: the natural key of a member (employee number within the org, unique where
given), import jobs with their rows still to do (in chunks) and their per-row errors.

Members registered before this revision may share an employee number within an org; the
unique index cannot be built over them, so the upgrade stops and names how many keys are
doubled (fix or clear those employee numbers, then upgrade again).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
HAS_EMPLOYEE_NO = sa.text("employee_no IS NOT NULL")


def upgrade() -> None:
    doubled = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT count(*) FROM (SELECT home_org, employee_no FROM members "
                "WHERE employee_no IS NOT NULL GROUP BY home_org, employee_no "
                "HAVING count(*) > 1) AS d"
            )
        )
        .scalar_one()
    )
    if doubled:
        raise RuntimeError(
            f"{doubled} employee numbers are used by more than one member of the same org; "
            "make them unique (or clear them) before this upgrade (revision 0008)"
        )
    op.create_index(
        "uq_members_employee_no",
        "members",
        ["home_org", "employee_no"],
        unique=True,
        sqlite_where=HAS_EMPLOYEE_NO,
        postgresql_where=HAS_EMPLOYEE_NO,
    )
    op.create_table(
        "roster_imports",
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("org_scope", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_by_org", sa.String(64), nullable=False),
        sa.Column("file_format", sa.String(8), nullable=False),
        sa.Column("encoding", sa.String(16), nullable=True),
        sa.Column("columns", sa.JSON, nullable=False),
        sa.Column("ignored_columns", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("good", sa.Integer, nullable=False),
        sa.Column("error_rows", sa.Integer, nullable=False),
        sa.Column("created", sa.Integer, nullable=False),
        sa.Column("updated", sa.Integer, nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_expires_at", TZ, nullable=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("failure", sa.String(200), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("started_at", TZ, nullable=True),
        sa.Column("finished_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("job_id", name="pk_roster_imports"),
    )
    op.create_index("ix_roster_imports_status", "roster_imports", ["status", "created_at"])
    op.create_table(
        "roster_import_chunks",
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("chunk_no", sa.Integer, nullable=False),
        sa.Column("rows", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("job_id", "chunk_no", name="pk_roster_import_chunks"),
    )
    op.create_table(
        "roster_import_errors",
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("column", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "line", "column", name="pk_roster_import_errors"),
    )


def downgrade() -> None:
    op.drop_table("roster_import_errors")
    op.drop_table("roster_import_chunks")
    op.drop_index("ix_roster_imports_status", table_name="roster_imports")
    op.drop_table("roster_imports")
    op.drop_index("uq_members_employee_no", table_name="members")
