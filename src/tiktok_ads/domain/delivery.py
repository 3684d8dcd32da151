"""How to read TikTok's answer to a batch, and what becomes of its events: pure decisions, no I/O.

TikTok answers most errors with HTTP 200 and a non-zero `code`; the code decides, the HTTP
status only matters when there is no envelope to read (gateway pages, timeouts).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tiktok_ads.domain.events import ClaimedEvent
from tiktok_ads.domain.retry import GiveUp, RetryPolicy


class Verdict(StrEnum):
    DELIVERED = "delivered"  # code 0, or 20001 (partial OK, treated as success by every client)
    RETRY = "retry"  # rate limited, TikTok or gateway trouble: back off, same event_ids
    HOLD = "hold"  # the connection is broken (token, permission): keep the events, stop sending
    REJECTED = "rejected"  # 40002: something in the batch is invalid; isolate it
    FAILED = "failed"  # any other client error: permanent for these events


# 40700 is not in TikTok's table, but peers retry it and it has been seen under load; 61000 is
# the audience APIs' "too many requests".
RETRYABLE_CODES = frozenset({40100, 40700, 50000, 50001, 50002, 51001, 61000})
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

    http_status: int | None  # None: no answer at all (timeout, reset, a local failure)
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


# Both spellings are seen: "data.3.event_id: ..." and "Batch.3.properties.contents.0...".
_INDEX_IN_MESSAGE = re.compile(r"\b(?:data|batch)\.(\d+)\b", re.IGNORECASE)


def rejected_index(message: str, batch_len: int) -> int | None:
    """The position of the bad event when TikTok's message names it (`data.<i>`, `Batch.<i>`)."""
    match = _INDEX_IN_MESSAGE.search(message)
    if match is None:
        return None
    index = int(match.group(1))
    return index if index < batch_len else None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one answer (or one local failure) does to claimed events; the store applies it.

    `retry` pairs each event with its next attempt; `given_up` events fail because TikTok's
    deduplication window closes before they could be tried again.
    """

    now: float
    code: int | None = None
    message: str = ""
    request_id: str | None = None
    delivered: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()
    held: tuple[int, ...] = ()
    retry: tuple[tuple[int, float], ...] = ()
    given_up: tuple[int, ...] = ()
    give_up_reason: str = ""
    delivery: DeliveryRecord | None = None

    @property
    def final(self) -> tuple[int, ...]:
        """Events with a verdict for good (what `?wait` callers wait for)."""
        return self.delivered + self.failed + self.given_up


def plan_retries(
    batch: Sequence[ClaimedEvent], policy: RetryPolicy, now: float, rand: float
) -> tuple[tuple[tuple[int, float], ...], tuple[int, ...], str]:
    """Each event's next attempt, or its end: (retries, given up, why they were given up).

    One `rand` for the batch: its events keep travelling together when they are tried again.
    """
    retries: list[tuple[int, float]] = []
    given_up: list[int] = []
    reason = ""
    for event in batch:
        decision = policy.decide(event.attempts, event.deadline_at, now, rand)
        if isinstance(decision, GiveUp):
            given_up.append(event.pk)
            reason = decision.reason
        else:
            retries.append((event.pk, decision.at))
    return tuple(retries), tuple(given_up), reason


def should_flush(ready: int, oldest_age_seconds: float, batch_size: int, linger_s: float) -> bool:
    """Send now when a full batch waits, or when the oldest waiting event has lingered enough."""
    return ready > 0 and (ready >= batch_size or oldest_age_seconds >= linger_s)
