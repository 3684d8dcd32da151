"""The store port and its SQL implementation (SQLite and PostgreSQL, one code path)."""

from tiktok_ads.adapters.store.connection_rows import ApiKeyRow, ConnectionRow, ConnectionRows
from tiktok_ads.adapters.store.event_reads import EventReads
from tiktok_ads.adapters.store.event_writes import DeliveryRecord, EventWrites


class SqlStore(EventWrites, EventReads, ConnectionRows):
    """Every verb of the store; see the mixins for each family."""


__all__ = ["ApiKeyRow", "ConnectionRow", "DeliveryRecord", "SqlStore"]
