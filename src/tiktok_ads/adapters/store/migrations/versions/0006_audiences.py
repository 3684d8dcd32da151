"""Audiences: audiences, their members, durable jobs with their ids; a Marketing API token.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OPEN_JOB = "status IN ('queued', 'running')"


def upgrade() -> None:
    with op.batch_alter_table("connections") as batch:
        batch.add_column(sa.Column("marketing_access_token_enc", sa.LargeBinary))
    op.create_table(
        "audiences",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("advertiser_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("audience_type", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("rule", sa.Text),
        sa.Column("backend", sa.String(16), nullable=False),
        sa.Column("lookalike_of", sa.BigInteger),
        sa.Column("lookalike_spec", sa.Text),
        sa.Column("tiktok_audience_id", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("member_count", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("cover_num", sa.BigInteger),
        sa.Column("last_sync_at", sa.Float),
        sa.Column("last_code", sa.Integer),
        sa.Column("last_message", sa.Text),
        sa.Column("last_request_id", sa.String(64)),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.UniqueConstraint("advertiser_id", "name", name="uq_audiences_advertiser_name"),
    )
    op.create_table(
        "audience_members",
        sa.Column("audience_id", sa.BigInteger, primary_key=True),
        sa.Column("id_type", sa.SmallInteger, primary_key=True),
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "audience_jobs",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("audience_id", sa.BigInteger, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("params", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("accepted_at", sa.Float),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("lease_until", sa.Float),
        sa.Column("deadline_at", sa.Float, nullable=False),
        sa.Column("row_count", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("staged", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("invalid", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("added", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("removed", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("report", sa.Text),
        sa.Column("last_code", sa.Integer),
        sa.Column("last_message", sa.Text),
        sa.Column("last_request_id", sa.String(64)),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float),
        sa.Column("sealed", sa.Boolean, nullable=False, server_default=sa.text("false")),
    )
    op.create_index(
        "ix_audience_jobs_open",
        "audience_jobs",
        ["audience_id", "accepted_at", "id"],
        sqlite_where=sa.text(OPEN_JOB),
        postgresql_where=sa.text(OPEN_JOB),
    )
    op.create_index("ix_audience_jobs_audience", "audience_jobs", ["audience_id", "id"])
    op.create_index("ix_audience_jobs_status", "audience_jobs", ["status", "updated_at"])
    op.create_table(
        "audience_job_rows",
        sa.Column("job_id", sa.BigInteger, primary_key=True),
        sa.Column("bucket", sa.SmallInteger, primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("id_type", sa.SmallInteger, primary_key=True),
        sa.Column("id_hashes", sa.Text, nullable=False),
    )
    op.create_table(
        "audience_job_members",
        sa.Column("job_id", sa.BigInteger, primary_key=True),
        sa.Column("id_type", sa.SmallInteger, primary_key=True),
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("audience_job_members")
    op.drop_table("audience_job_rows")
    op.drop_index("ix_audience_jobs_status", "audience_jobs")
    op.drop_index("ix_audience_jobs_audience", "audience_jobs")
    op.drop_index("ix_audience_jobs_open", "audience_jobs")
    op.drop_table("audience_jobs")
    op.drop_table("audience_members")
    op.drop_table("audiences")
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("marketing_access_token_enc")
