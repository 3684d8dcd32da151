"""The tables. Alembic migrations create them; a test checks the two agree."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

# SQLite only makes INTEGER PRIMARY KEY an auto-increment rowid alias.
PK = BigInteger().with_variant(Integer(), "sqlite")

connections = Table(
    "connections",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("pixel_id", String(64), nullable=False, unique=True),
    Column("advertiser_id", String(64)),
    Column("access_token_enc", LargeBinary, nullable=False),
    Column("test_mode", Boolean, nullable=False, server_default=text("false")),
    Column("test_event_code", String(64)),
    Column("is_default", Boolean, nullable=False, server_default=text("false")),
    Column("healthy", Boolean, nullable=False, server_default=text("true")),
    Column("health_code", Integer),
    Column("health_message", Text),
    Column("health_checked_at", Float),
    Column("last_event_sent_at", Float),
    # "env": written from TIKTOK_ACCESS_TOKEN at start; "api": set by POST /connect, which wins.
    Column("configured_from", String(8), nullable=False, server_default=text("'api'")),
    # The Marketing API token for audience calls (POST /connect), encrypted like the other.
    Column("marketing_access_token_enc", LargeBinary),
    # Rate limit and daily quota, shared by every worker (see domain/ratelimit.py).
    Column("rate_next_slot_at", Float, nullable=False, server_default=text("0")),
    Column("quota_day", String(10), nullable=False, server_default=text("''")),
    Column("quota_used", Integer, nullable=False, server_default=text("0")),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

_READY = "status IN ('queued', 'retrying')"
_SETTLED = "status IN ('delivered', 'failed', 'skipped')"
PII_TO_PURGE = f"(ip IS NOT NULL OR user_agent IS NOT NULL) AND {_SETTLED}"

events = Table(
    "events",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("pixel_id", String(64), nullable=False),
    Column("event_name", String(100), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("event_time", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("priority", SmallInteger, nullable=False),
    # The TikTok Events 2.0 item, personal data hashed; ip and user agent kept apart so they
    # can be purged after retention.
    Column("payload", Text),
    Column("ip", String(64)),
    Column("user_agent", Text),
    Column("match_keys", String(160), nullable=False, server_default=text("''")),
    Column("value", Float),
    Column("currency", String(3)),
    Column("skip_reason", Text),
    Column("received_at", Float, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    # Retries stop here: TikTok only deduplicates for 48 h (reset when a failed event is replayed).
    Column("deadline_at", Float, nullable=False),
    Column("lease_until", Float),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("updated_at", Float, nullable=False),
    Column("delivered_at", Float),
    Column("tiktok_code", Integer),
    Column("tiktok_message", Text),
    Column("request_id", String(64)),
    Column("last_error", Text),
    # True when the shop sent no event_id and we made one: the pixel cannot share it, so TikTok
    # cannot deduplicate such an event against the browser's (the console's dedup audit).
    Column("event_id_generated", Boolean, nullable=False, server_default=text("false")),
    # The payload has `user` last (domain.tiktok_item): sending splices ip and user agent in
    # without a parse. False for rows written before, or rewritten by an erasure.
    Column("user_last", Boolean, nullable=False, server_default=text("false")),
    Index(
        "ix_events_ready",
        "pixel_id",
        "id",
        sqlite_where=text(_READY),
        postgresql_where=text(_READY),
    ),
    Index(
        "ix_events_ready_priority",
        "pixel_id",
        "priority",
        "id",
        sqlite_where=text(_READY),
        postgresql_where=text(_READY),
    ),
    Index(
        "ix_events_sending",
        "lease_until",
        sqlite_where=text("status = 'sending'"),
        postgresql_where=text("status = 'sending'"),
    ),
    Index("ix_events_event_id", "event_id"),
    Index("ix_events_status_id", "status", "id"),
    # Retention deletes settled events by age, a small batch at a time.
    Index(
        "ix_events_settled",
        "updated_at",
        sqlite_where=text(_SETTLED),
        postgresql_where=text(_SETTLED),
    ),
    Index("ix_events_pixel_time", "pixel_id", "event_time"),  # the console's reports
    # Settled events only: retention purges nothing else, and an event then enters the index
    # once (when settled) instead of at ingest and again at every update (migration 0009).
    Index(
        "ix_events_pii",
        "updated_at",
        sqlite_where=text(PII_TO_PURGE),
        postgresql_where=text(PII_TO_PURGE),
    ),
)

# Local deduplication: one row per (pixel, event name, event_id) while TikTok would dedupe it.
dedup_keys = Table(
    "dedup_keys",
    metadata,
    Column("pixel_id", String(64), primary_key=True),
    Column("event_name", String(100), primary_key=True),
    Column("event_id", String(128), primary_key=True),
    Column("expires_at", Float, nullable=False),
    Index("ix_dedup_keys_expires_at", "expires_at"),
)

# Totals by outcome (received, skipped, duplicate, delivered, failed) for /stats; they outlive
# the rows retention deletes (see counters.py).
event_counters = Table(
    "event_counters",
    metadata,
    Column("pixel_id", String(64), primary_key=True),
    Column("event_name", String(100), primary_key=True),
    Column("outcome", String(16), primary_key=True),
    Column("count", BigInteger, nullable=False),
)

# Click-id memory for cross-device attribution; keyed by hashed identifiers only. Each value
# keeps the time it was first seen: the attribution window runs from the click.
click_ids = Table(
    "click_ids",
    metadata,
    Column("identity_hash", String(64), primary_key=True),
    Column("ttclid", Text),
    Column("ttclid_at", Float),
    Column("ttp", Text),
    Column("ttp_at", Float),
    Index("ix_click_ids_ttclid_at", "ttclid_at"),
    Index("ix_click_ids_ttp_at", "ttp_at"),
)

# One row per request to TikTok: the delivery log of the monitoring page.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("pixel_id", String(64), nullable=False),
    Column("sent_at", Float, nullable=False),
    Column("event_count", Integer, nullable=False),
    Column("http_status", Integer),
    Column("code", Integer),
    Column("message", Text),
    Column("request_id", String(64)),
    Column("latency_ms", Float, nullable=False),
    Column("verdict", String(16), nullable=False),
    Index("ix_deliveries_sent_at", "sent_at"),
    Index("ix_deliveries_pixel_sent_at", "pixel_id", "sent_at"),  # latency percentiles
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("scopes", String(100), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked", Boolean, nullable=False, server_default=text("false")),
    Column("pixel_ids", Text),  # comma-separated; NULL: every pixel
)


# -- Audiences (migration 0006) ----------------------------------------------------------------

_OPEN_JOB = "status IN ('queued', 'running')"

audiences = Table(
    "audiences",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("advertiser_id", String(64), nullable=False),
    Column("name", String(128), nullable=False),
    Column("audience_type", String(32), nullable=False),
    Column("source", String(16), nullable=False),  # list | rule | lookalike
    Column("rule", Text),  # JSON of a rule segment
    Column("backend", String(16), nullable=False),  # file | segment
    Column("lookalike_of", BigInteger),  # our id of a lookalike's source audience
    Column("lookalike_spec", Text),  # JSON
    Column("tiktok_audience_id", String(64)),
    Column("status", String(16), nullable=False),
    Column("member_count", BigInteger, nullable=False, server_default=text("0")),
    Column("cover_num", BigInteger),
    Column("last_sync_at", Float),
    Column("last_code", Integer),
    Column("last_message", Text),
    Column("last_request_id", String(64)),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    # Rule segments (migration 0007): a periodic refresh is due then (claimed by moving it on),
    # the last refresh's time and counts (JSON), and erasures seen (a refresh staged across an
    # erasure is not queued).
    Column("refresh_due_at", Float),
    Column("refreshed_at", Float),
    Column("segment_counts", Text),
    Column("erasures", BigInteger, nullable=False, server_default=text("0")),
    # Parallel creates of one name can never make two (nor two at TikTok).
    UniqueConstraint("advertiser_id", "name", name="uq_audiences_advertiser_name"),
)

# What TikTok holds for each audience: one row per id (type, SHA-256 hex).
audience_members = Table(
    "audience_members",
    metadata,
    Column("audience_id", BigInteger, primary_key=True),
    Column("id_type", SmallInteger, primary_key=True),
    Column("id_hash", String(64), primary_key=True),
    sqlite_with_rowid=False,
)

# Durable audience work, applied strictly in order per audience.
audience_jobs = Table(
    "audience_jobs",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("audience_id", BigInteger, nullable=False),
    Column("action", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("params", Text),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("accepted_at", Float),  # when it became queued (its place in the audience's line)
    Column("next_attempt_at", Float, nullable=False),
    Column("lease_until", Float),
    Column("deadline_at", Float, nullable=False),
    Column("row_count", BigInteger, nullable=False, server_default=text("0")),
    Column("staged", BigInteger, nullable=False, server_default=text("0")),
    Column("invalid", BigInteger, nullable=False, server_default=text("0")),
    Column("added", BigInteger, nullable=False, server_default=text("0")),
    Column("removed", BigInteger, nullable=False, server_default=text("0")),
    Column("report", Text),
    Column("last_code", Integer),
    Column("last_message", Text),
    Column("last_request_id", String(64)),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("finished_at", Float),
    # Its ids were sorted into audience_job_members (only needed against a non-empty audience).
    Column("sealed", Boolean, nullable=False, server_default=text("false")),
    Index(
        "ix_audience_jobs_open",
        "audience_id",
        "accepted_at",
        "id",
        sqlite_where=text(_OPEN_JOB),
        postgresql_where=text(_OPEN_JOB),
    ),
    Index("ix_audience_jobs_audience", "audience_id", "id"),
    Index("ix_audience_jobs_status", "status", "updated_at"),
)

# A job's ids as they arrived, on disk so a 1,000,000-row job is never held in memory: each
# row packs the ids of one type and bucket (first two hex digits) from one staged batch, so an
# upload writes a few rows per batch, and a bucket can later be sorted on its own.
audience_job_rows = Table(
    "audience_job_rows",
    metadata,
    Column("job_id", BigInteger, primary_key=True),
    Column("bucket", SmallInteger, primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("id_type", SmallInteger, primary_key=True),
    # Concatenated 64-char hex digests: kilobytes a row, so a rowid table (SQLite keeps rows
    # this long badly inside a WITHOUT ROWID B-tree).
    Column("id_hashes", Text, nullable=False),
)

# A job's distinct ids in key order, for the difference against the members both ways.
audience_job_members = Table(
    "audience_job_members",
    metadata,
    Column("job_id", BigInteger, primary_key=True),
    Column("id_type", SmallInteger, primary_key=True),
    Column("id_hash", String(64), primary_key=True),
    sqlite_with_rowid=False,
)
