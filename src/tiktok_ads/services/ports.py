"""The ports: what each service needs from storage and from TikTok, named for that need.

The adapters (`adapters.store.SqlStore`, `adapters.tiktok_client.TikTokClient`) satisfy them;
`bootstrap` passes them in. Services never import an adapter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from tiktok_ads.domain.audience_jobs import AudienceJob, AudienceRow
from tiktok_ads.domain.connections import ApiKeyRow, ConnectionRow
from tiktok_ads.domain.delivery import Outcome, TimedAnswer
from tiktok_ads.domain.events import ClaimedEvent, IngestOutcome, NewEvent
from tiktok_ads.domain.ratelimit import Reservation


class Clock(Protocol):
    """Seconds since the epoch; tests pass a clock they move by hand."""

    def now(self) -> float: ...


class TokenSealer(Protocol):
    """Encrypts access tokens at rest."""

    def encrypt(self, token: str) -> bytes: ...

    def decrypt(self, blob: bytes) -> str: ...


class EventLog(Protocol):
    """Where ingest makes events durable (one transaction per group commit)."""

    async def add_events(
        self, items: Sequence[NewEvent], now: float, attribution_window_s: float
    ) -> list[IngestOutcome]: ...


class ConnectionStore(Protocol):
    """Connections (pixels, encrypted tokens, health)."""

    async def upsert_connection(
        self,
        *,
        pixel_id: str,
        access_token_enc: bytes,
        advertiser_id: str | None,
        test_mode: bool,
        test_event_code: str | None,
        is_default: bool,
        now: float,
        configured_from: str = "api",
        marketing_access_token_enc: bytes | None = None,
    ) -> ConnectionRow: ...

    async def update_connection_settings(
        self,
        pixel_id: str,
        *,
        advertiser_id: str | None,
        test_mode: bool,
        test_event_code: str | None,
        now: float,
    ) -> None: ...

    async def get_connection(self, pixel_id: str | None) -> ConnectionRow | None: ...

    async def list_connections(self) -> list[ConnectionRow]: ...


class KeyStore(Protocol):
    """API keys, by hash; `pixels` None is a key for every pixel."""

    async def add_api_key(
        self,
        *,
        name: str,
        key_hash: str,
        prefix: str,
        scopes: frozenset[str],
        now: float,
        pixels: frozenset[str] | None = None,
    ) -> int: ...

    async def find_api_key(self, key_hash: str) -> ApiKeyRow | None: ...

    async def list_api_keys(self) -> list[ApiKeyRow]: ...

    async def revoke_api_key(self, key_id: int) -> str | None: ...


class VerdictStore(Protocol):
    """Where waiters for TikTok's verdict read it."""

    async def get_event_by_pk(self, pk: int) -> Any: ...

    async def settled_among(self, pks: Sequence[int]) -> list[int]: ...


class DeliveryQueue(VerdictStore, Protocol):
    """The queue as the dispatcher sees it: readiness, shared pacing, claims, verdicts."""

    async def readiness(
        self, pixel_id: str, now: float, limit: int
    ) -> tuple[int, float | None]: ...

    async def ready_more_than(self, pixel_id: str, now: float, n: int) -> bool: ...

    async def reserve_send(
        self, pixel_id: str, *, want: int, now: float, rps: float, daily_limit: int
    ) -> Reservation: ...

    async def refund_quota(self, pixel_id: str, events: int, now: float) -> None: ...

    async def claim_batch(
        self, pixel_id: str, limit: int, now: float, lease_until: float, by_priority: bool
    ) -> list[ClaimedEvent]: ...

    async def settle(self, outcome: Outcome) -> None: ...

    async def mark_sent(self, pixel_id: str, now: float) -> None: ...

    async def set_health(
        self, pixel_id: str, *, healthy: bool, code: int | None, message: str | None, now: float
    ) -> None: ...


class Housekeeping(Protocol):
    """What the worker's periodic tasks tidy: lost claims, personal data past retention."""

    async def expired_leases(self, now: float, limit: int = 5000) -> list[tuple[int, float]]: ...

    async def release_leases(
        self, now: float, *, requeue: Sequence[int], give_up: Sequence[int], reason: str
    ) -> int: ...

    async def purge(self, now: float, pii_cutoff: float, click_cutoff: float) -> dict[str, int]: ...

    async def purge_expired(self, cutoff: float, limit: int = ...) -> dict[str, int]: ...

    async def queue_depth(self) -> dict[str, int]: ...


class ReadModel(Protocol):
    """Plain reads for the query service (the monitoring views), and replay.

    `pixels` narrows a read to those pixels' rows (an API key limited to them); None: all.
    """

    async def get_event(
        self,
        event_id: str,
        pixel_id: str | None = None,
        event_name: str | None = None,
        pixels: frozenset[str] | None = None,
    ) -> Any: ...

    async def get_event_by_pk(self, pk: int) -> Any: ...

    async def list_events(
        self,
        *,
        status: str | None = None,
        pixel_id: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
        pixels: frozenset[str] | None = None,
    ) -> list[Any]: ...

    async def replay_failed(self, pk: int, now: float) -> bool: ...

    async def stats(self, pixels: frozenset[str] | None = None) -> dict[str, Any]: ...

    async def queue_depth(self, pixels: frozenset[str] | None = None) -> dict[str, int]: ...

    async def recent_deliveries(
        self, limit: int = 50, pixel_id: str | None = None, pixels: frozenset[str] | None = None
    ) -> list[dict[str, Any]]: ...

    async def get_connection(self, pixel_id: str | None) -> ConnectionRow | None: ...

    async def list_connections(
        self, pixels: frozenset[str] | None = None
    ) -> list[ConnectionRow]: ...

    async def waiting_by_pixel(self) -> dict[str, int]: ...

    async def ping(self) -> bool: ...

    async def get_audience(self, audience_id: int) -> AudienceRow | None: ...

    async def list_audiences(
        self,
        *,
        advertiser_id: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
        advertisers: frozenset[str] | None = None,
    ) -> list[AudienceRow]: ...

    async def audience_jobs_of(self, audience_id: int, limit: int = 10) -> list[AudienceJob]: ...

    async def audience_job_counts(self, audience_id: int) -> dict[str, int]: ...


class TikTokGateway(Protocol):
    """TikTok's Events API as the dispatcher needs it; never raises for what TikTok answers."""

    async def track(
        self,
        *,
        access_token: str,
        pixel_id: str,
        items: Sequence[bytes],
        test_event_code: str | None = None,
    ) -> TimedAnswer:
        """`items`: each event's JSON, ready (domain.tiktok_item)."""
        ...


class IngestMetrics(Protocol):
    def events_received(self, pixel_id: str, event_type: str, outcome: str, n: int = 1) -> None: ...

    def count_dropped_field(self, field: str) -> None: ...


class DeliveryMetrics(Protocol):
    def request_answered(
        self, pixel_id: str, verdict: str, code: int | None, seconds: float
    ) -> None: ...

    def events_settled(self, outcome: str, pixel_id: str, by_type: Mapping[str, int]) -> None: ...

    def set_connection_gauges(self, healthy: dict[str, bool], depth: dict[str, int]) -> None: ...


class InsightStore(Protocol):
    """The console's reports: funnel, match keys, timeline, TikTok's answers and latency."""

    async def get_connection(self, pixel_id: str | None) -> ConnectionRow | None: ...

    async def list_connections(self) -> list[ConnectionRow]: ...

    async def funnel_counts(
        self, pixel_id: str, start: int, end: int, names: Sequence[str], revenue_event: str
    ) -> tuple[list[tuple[str, int, int]], list[tuple[str, float, int]]]: ...

    async def match_key_counts(
        self, pixel_id: str, start: int, end: int
    ) -> list[tuple[str, str, bool, int]]: ...

    async def timeline(
        self, start: int, bucket_s: int, pixels: frozenset[str]
    ) -> list[tuple[str, int, str, int]]: ...

    async def latencies(self, pixel_id: str, since: float, limit: int) -> list[float]: ...

    async def answers_by_code(
        self, since: float, pixels: frozenset[str] | None = None
    ) -> list[dict[str, Any]]: ...


class FailureStore(Protocol):
    """The error log by kind, every record of an event_id, and replaying many at once."""

    async def failed_events(
        self,
        *,
        pixel_id: str | None = None,
        event_name: str | None = None,
        code: int | None = None,
        limit: int = 50,
        before_id: int | None = None,
        pixels: frozenset[str] | None = None,
    ) -> list[Any]: ...

    async def failure_kinds(
        self, pixels: frozenset[str] | None = None, limit: int = 50
    ) -> list[dict[str, Any]]: ...

    async def replay_failed_like(
        self, pixel_id: str, event_name: str, code: int | None, now: float, limit: int
    ) -> int: ...

    async def events_with_id(
        self, event_id: str, pixels: frozenset[str] | None = None, limit: int = 20
    ) -> list[Any]: ...


class ReplayStore(ReadModel, FailureStore, Protocol):
    """What replaying needs: one failed event by id, or many of one kind."""
