"""What the service knows of a connection (an organiser's pixel and its token) and of an API key."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConnectionRow:
    pixel_id: str
    advertiser_id: str | None
    access_token_enc: bytes
    test_mode: bool
    test_event_code: str | None
    is_default: bool
    healthy: bool
    health_code: int | None
    health_message: str | None
    health_checked_at: float | None
    last_event_sent_at: float | None
    configured_from: str  # "env" (TIKTOK_ACCESS_TOKEN) or "api" (POST /connect)
    quota_day: str
    quota_used: int
    created_at: float
    updated_at: float
    # The Marketing API token for audience calls, when POST /connect set one.
    marketing_access_token_enc: bytes | None = None


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    id: int
    name: str
    prefix: str
    scopes: frozenset[str]
    revoked: bool
