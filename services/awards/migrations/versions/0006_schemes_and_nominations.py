"""Award schemes, rounds, nominations and their steps, reviews, notices, objections, grants.

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
ID = sa.String(36)
ORG = sa.String(64)
TABLES = (
    "grants",
    "objections",
    "notice_entries",
    "notices",
    "veto_checks",
    "reviews",
    "dossiers",
    "nomination_steps",
    "nomination_quota_uses",
    "nomination_members",
    "nominations",
    "rounds",
    "scheme_staff",
    "schemes",
)


def _schemes() -> None:
    op.create_table(
        "schemes",
        sa.Column("scheme_id", ID, primary_key=True),
        sa.Column("owner_org", ORG, nullable=False),
        sa.Column("owned_here", sa.Boolean, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("nominee", sa.String(10), nullable=False),
        sa.Column("criteria", sa.JSON, nullable=False),
        sa.Column("endorse_levels", sa.JSON, nullable=False),
        sa.Column("quotas", sa.JSON, nullable=False),
        sa.Column("veto_departments", sa.JSON, nullable=False),
        sa.Column("notice_days", sa.Integer, nullable=False),
        sa.Column("benefits", sa.JSON, nullable=False),
        sa.Column("budget_fen", sa.BigInteger, nullable=False),
        sa.Column("committed_fen", sa.BigInteger, nullable=False),
        sa.Column("paid_fen", sa.BigInteger, nullable=False),
        sa.Column("stipend", sa.JSON, nullable=True),
        sa.Column("min_reviews", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("published_at", TZ, nullable=False),
    )
    op.create_index("ix_schemes_owner_org", "schemes", ["owner_org"])
    op.create_table(
        "scheme_staff",
        sa.Column("scheme_id", ID, primary_key=True),
        sa.Column("sub", sa.String(200), primary_key=True),
        sa.Column("role", sa.String(20), primary_key=True),
        sa.Column("org_id", ORG, nullable=False),
        sa.Column("department", sa.String(100), nullable=True),
    )
    op.create_table(
        "rounds",
        sa.Column("round_id", ID, primary_key=True),
        sa.Column("scheme_id", ID, nullable=False),
        sa.Column("owner_org", ORG, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("opens_at", TZ, nullable=False),
        sa.Column("deadline", TZ, nullable=False),
        sa.Column("changed_at", TZ, nullable=False),
    )
    op.create_index("ix_rounds_scheme_id", "rounds", ["scheme_id"])


def _nominations() -> None:
    op.create_table(
        "nominations",
        sa.Column("nomination_id", ID, primary_key=True),
        sa.Column("scheme_id", ID, nullable=False),
        sa.Column("round_id", ID, nullable=False),
        sa.Column("owner_org", ORG, nullable=False),
        sa.Column("home_org", ORG, nullable=False),
        sa.Column("nominee", sa.String(10), nullable=False),
        sa.Column("member_ids", sa.JSON, nullable=False),
        sa.Column("team_name", sa.String(200), nullable=True),
        sa.Column("stages", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage_index", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("open_objections", sa.Integer, nullable=False),
        sa.Column("notice_ends_at", TZ, nullable=True),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("decision", sa.String(10), nullable=True),
        sa.Column("decision_reasons", sa.Text, nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", TZ, nullable=True),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_nominations_scheme_id", "nominations", ["scheme_id"])
    op.create_index("ix_nominations_home_org", "nominations", ["home_org"])
    op.create_index("ix_nominations_round_id_status", "nominations", ["round_id", "status"])
    op.create_table(
        "nomination_members",
        sa.Column("round_id", ID, primary_key=True),
        sa.Column("member_id", ID, primary_key=True),
        sa.Column("nomination_id", ID, nullable=False),
    )
    op.create_table(
        "nomination_quota_uses",
        sa.Column("round_id", ID, primary_key=True),
        sa.Column("org_id", ORG, primary_key=True),
        sa.Column("nomination_id", ID, primary_key=True),
    )
    op.create_table(
        "nomination_steps",
        sa.Column("nomination_id", ID, primary_key=True),
        sa.Column("step", sa.Integer, primary_key=True),
        sa.Column("ce_id", ID, nullable=False),
        sa.Column("ce_type", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_org", ORG, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_table(
        "dossiers",
        sa.Column("nomination_id", ID, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("nominees", sa.JSON, nullable=False),
        sa.Column("team_name", sa.String(200), nullable=True),
        sa.Column("achievements", sa.Text, nullable=False),
        sa.Column("cited_facts", sa.JSON, nullable=False),
        sa.Column("training_hours", sa.Float, nullable=False),
        sa.Column("received_at", TZ, nullable=False),
    )
    op.create_table(
        "reviews",
        sa.Column("nomination_id", ID, primary_key=True),
        sa.Column("reviewer", sa.String(200), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_table(
        "veto_checks",
        sa.Column("nomination_id", ID, primary_key=True),
        sa.Column("department", sa.String(100), primary_key=True),
        sa.Column("vetoed", sa.Integer, nullable=False),
        sa.Column("officer", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", TZ, nullable=False),
    )


def _notices() -> None:
    op.create_table(
        "notices",
        sa.Column("notice_id", ID, primary_key=True),
        sa.Column("round_id", ID, nullable=False),
        sa.Column("scheme_id", ID, nullable=False),
        sa.Column("scheme_title", sa.String(200), nullable=False),
        sa.Column("owner_org", ORG, nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
    )
    op.create_index("ix_notices_round_id", "notices", ["round_id"])
    op.create_index("ix_notices_owner_org", "notices", ["owner_org"])
    op.create_table(
        "notice_entries",
        sa.Column("notice_id", ID, primary_key=True),
        sa.Column("nomination_id", ID, primary_key=True),
        sa.Column("home_org", ORG, nullable=False),
        sa.Column("nominees", sa.JSON, nullable=False),
        sa.Column("team_name", sa.String(200), nullable=True),
        sa.Column("achievements", sa.Text, nullable=False),
    )
    op.create_table(
        "objections",
        sa.Column("objection_id", ID, primary_key=True),
        sa.Column("notice_id", ID, nullable=False),
        sa.Column("nomination_id", ID, nullable=False),
        sa.Column("owner_org", ORG, nullable=False),
        sa.Column("objector_id", ID, nullable=False),
        sa.Column("objector_org", ORG, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("answer", sa.Text, nullable=True),
        sa.Column("submitted_at", TZ, nullable=False),
        sa.Column("resolved_at", TZ, nullable=True),
    )
    op.create_index("ix_objections_nomination_id", "objections", ["nomination_id"])
    op.create_index("ix_objections_objector_id", "objections", ["objector_id"])
    op.create_table(
        "grants",
        sa.Column("grant_id", ID, primary_key=True),
        sa.Column("nomination_id", ID, nullable=False, unique=True),
        sa.Column("scheme_id", ID, nullable=False),
        sa.Column("round_id", ID, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("granted_at", TZ, nullable=False),
    )
    op.create_index("ix_grants_scheme_id", "grants", ["scheme_id"])


def upgrade() -> None:
    _schemes()
    _nominations()
    _notices()


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
