"""What the service knows of a connection (an organiser's pixel and its token) and of an API key."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tiktok_ads.errors import pixel_forbidden

# What a pixel id may be: TikTok's are 20 upper-case letters and digits; we allow a little more.
PIXEL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


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
    pixels: frozenset[str] | None = None  # None: every pixel
    created_at: float = 0.0


def check_pixel(pixel_id: str | None, pixels: frozenset[str] | None) -> None:
    """A pixel named outside an API key's pixels (None: all) is refused, answered 403."""
    if pixel_id is not None and pixels is not None and pixel_id not in pixels:
        raise pixel_forbidden(f"this API key is not for pixel {pixel_id!r}")
