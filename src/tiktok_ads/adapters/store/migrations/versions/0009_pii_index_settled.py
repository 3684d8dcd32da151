"""ix_events_pii holds settled events only: what retention purges.

An event used to enter it at ingest and move in it at every update (claim, settle); now it
enters once, when settled. The purge's WHERE names the same terms, so it still uses it.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_WITH_PII = "ip IS NOT NULL OR user_agent IS NOT NULL"
_SETTLED = "status IN ('delivered', 'failed', 'skipped')"


def _replace(where: str) -> None:
    # Not CONCURRENTLY on PostgreSQL: migrations run in one transaction (adapters/store/
    # migrate.py). Building it holds writes to `events` back for a few seconds per million
    # rows: run `tiktok-ads migrate` for this release at a quiet time.
    op.drop_index("ix_events_pii", table_name="events")
    op.create_index(
        "ix_events_pii",
        "events",
        ["updated_at"],
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    _replace(f"({_WITH_PII}) AND {_SETTLED}")


def downgrade() -> None:
    _replace(_WITH_PII)
