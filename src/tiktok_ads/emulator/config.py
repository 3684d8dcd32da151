"""Settings of the TikTok emulator: who may call it, its limits, and how much it remembers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from tiktok_ads.errors import ConfigurationError

#: Environment variables read by `EmulatorConfig.from_env()` (name -> what it sets).
ENV_VARS: dict[str, str] = {
    "TIKTOK_EMULATOR_TOKENS": "comma-separated access tokens allowed on every pixel/advertiser",
    "TIKTOK_EMULATOR_ACCEPT_ANY_TOKEN": "any 40-hex-char token works [true]",
    "TIKTOK_EMULATOR_REVOKED_TOKENS": "comma-separated tokens answered 40105",
    "TIKTOK_EMULATOR_QPS": "requests/s per (token, pixel) on event/track [off]",
    "TIKTOK_EMULATOR_DAILY_QUOTA": "events/day per (token, pixel) on event/track [off]",
    "TIKTOK_EMULATOR_AUDIENCE_MIN_MEMBERS": "floor on dmp/custom_audience/update [1000]",
    "TIKTOK_EMULATOR_LOOKALIKE_MIN_SOURCE": "minimum lookalike source size [100]",
    "TIKTOK_EMULATOR_MAX_AUDIENCES": "custom audiences per advertiser [400]",
    "TIKTOK_EMULATOR_STORE_EVENTS": "keep accepted events in memory [true]",
    "TIKTOK_EMULATOR_MAX_STORED_EVENTS": "accepted events kept, oldest dropped first [100000]",
    "TIKTOK_EMULATOR_MAX_DEDUP_KEYS": "dedup keys kept (each expires after 48 h) [1000000]",
    "TIKTOK_EMULATOR_MAX_RECORDED_REQUESTS": "API calls kept, with their bodies [1000]",
    "TIKTOK_EMULATOR_LATENCY_MS": "delay added to every API answer [0]",
    "TIKTOK_EMULATOR_PIXEL_CODES": "comma-separated pixel codes listed by pixel/list",
    "TIKTOK_EMULATOR_MAX_UPLOAD_BYTES": "audience file size limit [52428800]",
}

DEFAULT_MAX_STORED_EVENTS = 100_000
DEFAULT_MAX_DEDUP_KEYS = 1_000_000
# Each recorded call keeps its body (up to 1,000 events): a few hundred MB at most.
DEFAULT_MAX_RECORDED_REQUESTS = 1_000

N = TypeVar("N", int, float)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What one access token may operate on; None means everything."""

    pixels: set[str] | None = None
    advertisers: set[str] | None = None

    def allows_pixel(self, pixel_code: str) -> bool:
        return self.pixels is None or pixel_code in self.pixels

    def allows_advertiser(self, advertiser_id: str) -> bool:
        return self.advertisers is None or advertiser_id in self.advertisers


@dataclass(slots=True)
class EmulatorConfig:
    """How the emulated TikTok behaves; every limit defaults to TikTok's documented one."""

    tokens: dict[str, TokenGrant] = field(default_factory=dict)
    accept_any_token: bool = True
    revoked_tokens: set[str] = field(default_factory=set)
    qps: float | None = None
    daily_quota: int | None = None
    audience_min_members: int = 1000
    lookalike_min_source: int = 100
    max_audiences_per_advertiser: int = 400
    store_events: bool = True
    # Memory bounds for a sandbox that runs for days: the newest events stay inspectable, and
    # dedup keys expire after TikTok's 48 h anyway; the cap only bites on bursts beyond it.
    max_stored_events: int = DEFAULT_MAX_STORED_EVENTS
    max_dedup_keys: int = DEFAULT_MAX_DEDUP_KEYS
    max_recorded_requests: int = DEFAULT_MAX_RECORDED_REQUESTS
    latency_ms: float = 0
    # Not TikTok limits but knobs for tests: pixel/list has to list something, and a 50 MB
    # upload is too slow to exercise the size limit in a unit test.
    pixel_codes: set[str] = field(default_factory=set)
    max_upload_bytes: int = 50 * 1024 * 1024

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EmulatorConfig:
        """Build a config from the TIKTOK_EMULATOR_* variables listed in `ENV_VARS`."""
        env = os.environ if environ is None else environ
        config = cls()
        tokens = _split(env.get("TIKTOK_EMULATOR_TOKENS"))
        config.tokens = {token: TokenGrant() for token in tokens}
        config.accept_any_token = _flag(env, "TIKTOK_EMULATOR_ACCEPT_ANY_TOKEN", True)
        config.revoked_tokens = set(_split(env.get("TIKTOK_EMULATOR_REVOKED_TOKENS")))
        qps = _number(env, "TIKTOK_EMULATOR_QPS", float)
        config.qps = qps if qps else None
        quota = _number(env, "TIKTOK_EMULATOR_DAILY_QUOTA", int)
        config.daily_quota = quota if quota else None
        config.audience_min_members = _number(
            env, "TIKTOK_EMULATOR_AUDIENCE_MIN_MEMBERS", int, config.audience_min_members
        )
        config.lookalike_min_source = _number(
            env, "TIKTOK_EMULATOR_LOOKALIKE_MIN_SOURCE", int, config.lookalike_min_source
        )
        config.max_audiences_per_advertiser = _number(
            env, "TIKTOK_EMULATOR_MAX_AUDIENCES", int, config.max_audiences_per_advertiser
        )
        config.store_events = _flag(env, "TIKTOK_EMULATOR_STORE_EVENTS", True)
        config.max_stored_events = _positive(
            env, "TIKTOK_EMULATOR_MAX_STORED_EVENTS", config.max_stored_events
        )
        config.max_dedup_keys = _positive(
            env, "TIKTOK_EMULATOR_MAX_DEDUP_KEYS", config.max_dedup_keys
        )
        config.max_recorded_requests = _positive(
            env, "TIKTOK_EMULATOR_MAX_RECORDED_REQUESTS", config.max_recorded_requests
        )
        config.latency_ms = _number(env, "TIKTOK_EMULATOR_LATENCY_MS", float, 0.0)
        config.pixel_codes = set(_split(env.get("TIKTOK_EMULATOR_PIXEL_CODES")))
        config.max_upload_bytes = _number(
            env, "TIKTOK_EMULATOR_MAX_UPLOAD_BYTES", int, config.max_upload_bytes
        )
        return config


def _split(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false, not {raw!r}")


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = _number(env, name, int, default)
    if value < 1:
        raise ConfigurationError(f"{name} must be at least 1, got {value}")
    return value


def _number(env: Mapping[str, str], name: str, kind: type[N], default: N | None = None) -> N:
    raw = env.get(name, "").strip()
    if not raw:
        return default if default is not None else kind(0)
    try:
        value = kind(raw)
    except ValueError as exc:
        wanted = "an integer" if kind is int else "a number"
        raise ConfigurationError(f"{name} must be {wanted}, not {raw!r}") from exc
    if value < 0:
        raise ConfigurationError(f"{name} must not be negative, got {raw!r}")
    return value
