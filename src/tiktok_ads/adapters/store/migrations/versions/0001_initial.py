"""Initial schema: connections, events, dedup keys, counters, click ids, deliveries, api keys.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
READY = "status IN ('queued', 'retrying')"
PII = "ip IS NOT NULL OR user_agent IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("pixel_id", sa.String(64), nullable=False, unique=True),
        sa.Column("advertiser_id", sa.String(64)),
        sa.Column("access_token_enc", sa.LargeBinary, nullable=False),
        sa.Column("test_mode", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("test_event_code", sa.String(64)),
        sa.Column("is_default", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("healthy", sa.Boolean, nullable=False, server_default=sa.text("true")),
        sa.Column("health_code", sa.Integer),
        sa.Column("health_message", sa.Text),
        sa.Column("health_checked_at", sa.Float),
        sa.Column("last_event_sent_at", sa.Float),
        sa.Column("rate_next_slot_at", sa.Float, nullable=False, server_default=sa.text("0")),
        sa.Column("quota_day", sa.String(10), nullable=False, server_default=sa.text("''")),
        sa.Column("quota_used", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("pixel_id", sa.String(64), nullable=False),
        sa.Column("event_name", sa.String(100), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("event_time", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.SmallInteger, nullable=False),
        sa.Column("payload", sa.Text),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.Text),
        sa.Column("match_keys", sa.String(160), nullable=False, server_default=sa.text("''")),
        sa.Column("value", sa.Float),
        sa.Column("currency", sa.String(3)),
        sa.Column("skip_reason", sa.Text),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("deadline_at", sa.Float, nullable=False),
        sa.Column("lease_until", sa.Float),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("delivered_at", sa.Float),
        sa.Column("tiktok_code", sa.Integer),
        sa.Column("tiktok_message", sa.Text),
        sa.Column("request_id", sa.String(64)),
        sa.Column("last_error", sa.Text),
    )
    ready = sa.text(READY)
    op.create_index(
        "ix_events_ready", "events", ["pixel_id", "id"], sqlite_where=ready, postgresql_where=ready
    )
    op.create_index(
        "ix_events_ready_priority",
        "events",
        ["pixel_id", "priority", "id"],
        sqlite_where=ready,
        postgresql_where=ready,
    )
    op.create_index(
        "ix_events_sending",
        "events",
        ["lease_until"],
        sqlite_where=sa.text("status = 'sending'"),
        postgresql_where=sa.text("status = 'sending'"),
    )
    op.create_index("ix_events_event_id", "events", ["event_id"])
    op.create_index("ix_events_status_id", "events", ["status", "id"])
    op.create_index(
        "ix_events_pii",
        "events",
        ["updated_at"],
        sqlite_where=sa.text(PII),
        postgresql_where=sa.text(PII),
    )
    op.create_table(
        "dedup_keys",
        sa.Column("pixel_id", sa.String(64), primary_key=True),
        sa.Column("event_name", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_dedup_keys_expires_at", "dedup_keys", ["expires_at"])
    op.create_table(
        "ingest_counters",
        sa.Column("pixel_id", sa.String(64), primary_key=True),
        sa.Column("event_name", sa.String(100), primary_key=True),
        sa.Column("outcome", sa.String(16), primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "click_ids",
        sa.Column("identity_hash", sa.String(64), primary_key=True),
        sa.Column("ttclid", sa.Text),
        sa.Column("ttp", sa.Text),
        sa.Column("seen_at", sa.Float, nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("pixel_id", sa.String(64), nullable=False),
        sa.Column("sent_at", sa.Float, nullable=False),
        sa.Column("event_count", sa.Integer, nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("code", sa.Integer),
        sa.Column("message", sa.Text),
        sa.Column("request_id", sa.String(64)),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
    )
    op.create_index("ix_deliveries_sent_at", "deliveries", ["sent_at"])
    op.create_table(
        "api_keys",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("scopes", sa.String(100), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.text("false")),
    )


def downgrade() -> None:
    for table in (
        "api_keys",
        "deliveries",
        "click_ids",
        "ingest_counters",
        "dedup_keys",
        "events",
        "connections",
    ):
        op.drop_table(table)
