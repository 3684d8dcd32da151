"""How to read TikTok's answer to a batch, and what to do next: pure decisions, no I/O.

TikTok answers most errors with HTTP 200 and a non-zero `code`; the code decides, the HTTP
status only matters when there is no envelope to read (gateway pages, timeouts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from tiktok_ads.domain.events import DEDUP_WINDOW_SECONDS


class Verdict(StrEnum):
    DELIVERED = "delivered"  # code 0, or 20001 (partial OK, treated as success by every client)
    RETRY = "retry"  # rate limited, TikTok or gateway trouble: back off, same event_ids
    HOLD = "hold"  # the connection is broken (token, permission): keep the events, stop sending
    REJECTED = "rejected"  # 40002: something in the batch is invalid; isolate it
    FAILED = "failed"  # any other client error: permanent for these events


RETRYABLE_CODES = frozenset({40100, 50000, 50001, 50002, 51001})
HOLD_CODES = frozenset({40001, 40102, 40104, 40105})
SUCCESS_CODES = frozenset({0, 20001})


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One request to TikTok, for the delivery log."""

    pixel_id: str
    sent_at: float
    event_count: int
    http_status: int | None
    code: int | None
    message: str
    request_id: str | None
    latency_ms: float
    verdict: str


@dataclass(frozen=True, slots=True)
class TrackAnswer:
    """TikTok's answer, or the lack of one, reduced to what the decisions need."""

    http_status: int | None  # None: no answer at all (timeout, reset)
    code: int | None  # None: no readable envelope
    message: str
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class TimedAnswer:
    """TikTok's answer and how long it took."""

    answer: TrackAnswer
    latency_ms: float


def classify(answer: TrackAnswer) -> Verdict:
    code = answer.code
    if code is None:
        # No envelope: a timeout, a reset, or a gateway page. 5xx and silence are transient;
        # an unreadable 4xx from a gateway is too, since TikTok itself speaks in envelopes.
        return Verdict.RETRY
    if code in SUCCESS_CODES:
        return Verdict.DELIVERED
    if code in RETRYABLE_CODES or 50000 <= code <= 51999:
        return Verdict.RETRY
    if code in HOLD_CODES:
        return Verdict.HOLD
    if code == 40002:
        return Verdict.REJECTED
    return Verdict.FAILED


_INDEX_IN_MESSAGE = re.compile(r"\bdata\.(\d+)\b")


def rejected_index(message: str, batch_len: int) -> int | None:
    """The position of the bad event when TikTok's message names it (`data.<i>...`)."""
    match = _INDEX_IN_MESSAGE.search(message)
    if match is None:
        return None
    index = int(match.group(1))
    return index if index < batch_len else None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by TikTok's deduplication window."""

    base_seconds: float = 1.0
    cap_seconds: float = 60.0
    deadline_seconds: float = DEDUP_WINDOW_SECONDS

    def delay(self, attempts: int, rand: float) -> float:
        """Seconds before the next try after `attempts` tries; `rand` in [0, 1)."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2.0 ** max(0, attempts - 1))
        # Half fixed, half jitter: never hammer at once, never wait needlessly long.
        return ceiling / 2 + ceiling / 2 * rand

    def next_attempt_at(self, attempts: int, now: float, rand: float) -> float:
        return now + self.delay(attempts, rand)

    def expired(self, received_at: float, at: float) -> bool:
        """A retry at `at` would land outside TikTok's dedup window: give up instead."""
        return at >= received_at + self.deadline_seconds


def should_flush(ready: int, oldest_age_seconds: float, batch_size: int, linger_s: float) -> bool:
    """Send now when a full batch waits, or when the oldest waiting event has lingered enough."""
    return ready > 0 and (ready >= batch_size or oldest_age_seconds >= linger_s)
