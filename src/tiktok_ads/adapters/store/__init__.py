"""The store: SQL verbs for SQLite and PostgreSQL on one code path, grouped by family."""

from tiktok_ads.adapters.store.audience_jobs import AudienceJobs
from tiktok_ads.adapters.store.audience_members import AudienceMembers
from tiktok_ads.adapters.store.audience_rows import AudienceRows
from tiktok_ads.adapters.store.audience_sealing import AudienceSealing
from tiktok_ads.adapters.store.audience_tidy import AudienceTidy
from tiktok_ads.adapters.store.claims import Claims
from tiktok_ads.adapters.store.connection_rows import ConnectionRows
from tiktok_ads.adapters.store.erasure import Erasure
from tiktok_ads.adapters.store.event_reads import EventReads
from tiktok_ads.adapters.store.failure_reads import FailureReads
from tiktok_ads.adapters.store.ingest_writes import IngestWrites
from tiktok_ads.adapters.store.insight_reads import InsightReads
from tiktok_ads.adapters.store.key_rows import KeyRows
from tiktok_ads.adapters.store.retention import Retention
from tiktok_ads.adapters.store.segments import Segments
from tiktok_ads.adapters.store.settlement import Settlement
from tiktok_ads.domain.connections import ApiKeyRow, ConnectionRow
from tiktok_ads.domain.delivery import DeliveryRecord


class SqlStore(
    IngestWrites,
    Claims,
    Settlement,
    EventReads,
    Retention,
    ConnectionRows,
    KeyRows,
    InsightReads,
    FailureReads,
    AudienceRows,
    AudienceJobs,
    AudienceMembers,
    AudienceSealing,
    AudienceTidy,
    Segments,
    Erasure,
):
    """Every verb of the store; see the mixins for each family."""


__all__ = ["ApiKeyRow", "ConnectionRow", "DeliveryRecord", "SqlStore"]
