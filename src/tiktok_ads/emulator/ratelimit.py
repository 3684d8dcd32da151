"""TikTok's per-(token, pixel) limits: requests per second and events per UTC day."""

from __future__ import annotations

from dataclasses import dataclass

SECONDS_PER_DAY = 86_400


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per key for QPS and a per-day event counter.

    Limits and time come from the caller on each call, so a test can change the config or move
    the clock between requests.
    """

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._days: dict[tuple[str, str], tuple[int, int]] = {}

    def allow_request(self, key: tuple[str, str], now: float, qps: float | None) -> bool:
        """Take one request from the key's bucket; refused requests do not drain it."""
        if qps is None:
            return True
        # A burst of one second's worth, never less than one request, so 0.5 QPS still works.
        capacity = max(1.0, qps)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(capacity, now)
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(capacity, bucket.tokens + elapsed * qps)
        bucket.updated = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    def allow_events(
        self, key: tuple[str, str], count: int, now: float, daily_quota: int | None
    ) -> bool:
        """Count `count` events against today's quota unless they would overrun it."""
        if daily_quota is None:
            return True
        day = int(now // SECONDS_PER_DAY)
        seen_day, used = self._days.get(key, (day, 0))
        if seen_day != day:
            used = 0
        if used + count > daily_quota:
            return False
        self._days[key] = (day, used + count)
        return True

    def used_today(self, key: tuple[str, str], now: float) -> int:
        day, used = self._days.get(key, (-1, 0))
        return used if day == int(now // SECONDS_PER_DAY) else 0

    def reset(self) -> None:
        self._buckets.clear()
        self._days.clear()
