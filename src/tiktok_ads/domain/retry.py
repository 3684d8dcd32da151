"""When to try a batch again, and when to give up: backoff inside TikTok's deduplication window.

A retry must land while TikTok would still deduplicate the event (48 h from acceptance, the
event's `deadline_at`); one that would land later could be counted twice, so the event fails
instead, kept for replay.
"""

from __future__ import annotations

from dataclasses import dataclass

DEADLINE_REASON = "gave up: TikTok's 48 h deduplication window ends before the next try"
LEASE_DEADLINE_REASON = (
    "gave up: the worker sending this event stopped, and TikTok's 48 h deduplication window "
    "had ended when its claim expired"
)


@dataclass(frozen=True, slots=True)
class RetryAt:
    at: float


@dataclass(frozen=True, slots=True)
class GiveUp:
    reason: str


RetryDecision = RetryAt | GiveUp


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded by each event's deadline."""

    base_seconds: float = 1.0
    cap_seconds: float = 60.0

    def delay(self, attempts: int, rand: float) -> float:
        """Seconds before the next try after `attempts` tries; `rand` in [0, 1)."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2.0 ** max(0, attempts - 1))
        # Half fixed, half jitter: never hammer at once, never wait needlessly long.
        return ceiling / 2 + ceiling / 2 * rand

    def decide(self, attempts: int, deadline_at: float, now: float, rand: float) -> RetryDecision:
        """After a failed try: the next one, or the end when it would land past the deadline."""
        at = now + self.delay(attempts, rand)
        if at >= deadline_at:
            return GiveUp(DEADLINE_REASON)
        return RetryAt(at)

    @staticmethod
    def after_lost_claim(deadline_at: float, now: float) -> RetryDecision:
        """A claim whose worker stopped: back to the queue at once, unless the window closed."""
        if now >= deadline_at:
            return GiveUp(LEASE_DEADLINE_REASON)
        return RetryAt(now)
