"""Everything the emulated TikTok remembers: requests, events, dedup keys, audiences, faults."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tiktok_ads.emulator.audiences import AudienceBook
from tiktok_ads.emulator.config import EmulatorConfig
from tiktok_ads.emulator.dedup import DedupWindow
from tiktok_ads.emulator.faults import FaultPlan
from tiktok_ads.emulator.ratelimit import RateLimiter

Clock = Callable[[], float]


@dataclass(slots=True)
class RecordedRequest:
    """One call to the API as the emulator saw it; the access token itself is never kept."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    token_present: bool
    token_mask: str | None
    json: Any
    http_status: int
    code: int | None
    request_id: str | None
    time: float
    fault: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "token_present": self.token_present,
            "token_mask": self.token_mask,
            "json": self.json,
            "http_status": self.http_status,
            "code": self.code,
            "request_id": self.request_id,
            "time": self.time,
            "fault": self.fault,
        }


@dataclass(slots=True)
class StoredEvent:
    """One event TikTok accepted (code 0), duplicates included and flagged."""

    pixel_code: str
    event: str
    event_id: str | None
    raw: dict[str, Any]
    test_event_code: str | None
    deduplicated: bool
    notes: list[str]
    received_at: float
    event_source: str
    endpoint: str
    request_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "pixel_code": self.pixel_code,
            "event": self.event,
            "event_id": self.event_id,
            "event_source": self.event_source,
            "endpoint": self.endpoint,
            "test_event_code": self.test_event_code,
            "deduplicated": self.deduplicated,
            "notes": self.notes,
            "received_at": self.received_at,
            "request_id": self.request_id,
            "raw": self.raw,
        }


@dataclass(slots=True)
class AcceptedBatch:
    """How many events of one request counted, and how many were dropped as duplicates."""

    counted: int = 0
    deduplicated: int = 0
    flags: list[bool] = field(default_factory=list)


class EmulatorState:
    """In-memory TikTok. `clock` returns epoch seconds; inject one to move time in tests."""

    def __init__(self, config: EmulatorConfig | None = None, *, clock: Clock = time.time) -> None:
        self.config = config if config is not None else EmulatorConfig()
        self.clock = clock
        self.faults = FaultPlan()
        self.audiences = AudienceBook()
        self.limits = RateLimiter()
        # Bounded: a long-running sandbox must not grow without end; the latest calls matter.
        self.requests: deque[RecordedRequest] = deque(maxlen=self.config.max_recorded_requests)
        # Newest last, at most `config.max_stored_events` (oldest dropped first). A list, not a
        # deque, so tests can compare and index it like one.
        self.events: list[StoredEvent] = []
        self.pixels_seen: set[str] = set()
        self._dedup = DedupWindow()
        self._counts: Counter[tuple[str, str]] = Counter()

    def reset(self) -> None:
        """Forget everything that happened; the config and clock stay."""
        self.faults.clear()
        self.audiences.clear()
        self.limits.reset()
        self.requests.clear()
        self.events.clear()
        self.pixels_seen.clear()
        self._dedup.clear()
        self._counts.clear()

    def accept_events(
        self,
        pixel_code: str,
        events: Sequence[dict[str, Any]],
        notes: Sequence[list[str]],
        *,
        test_event_code: str | None,
        event_source: str,
        endpoint: str,
        request_id: str | None = None,
    ) -> AcceptedBatch:
        """Record a validated batch, flagging what TikTok's 48 h deduplication would drop."""
        now = self.clock()
        is_test = test_event_code is not None
        self._dedup.expire(now)
        # Test events live in their own namespace: they never hide real conversions.
        keys = [
            hash((pixel_code, raw.get("event"), raw.get("event_id"), is_test))
            if raw.get("event_id")
            else None
            for raw in events
        ]
        flags = self._dedup.flag_duplicates(keys, now, self.config.max_dedup_keys)
        store = self.config.store_events
        append = self.events.append
        result = AcceptedBatch(flags=flags)
        self.pixels_seen.add(pixel_code)
        for raw, event_notes, duplicate in zip(events, notes, flags, strict=True):
            if duplicate:
                result.deduplicated += 1
            else:
                result.counted += 1
            if store:
                append(
                    StoredEvent(
                        pixel_code,
                        str(raw.get("event")),
                        raw.get("event_id"),
                        raw,
                        test_event_code,
                        duplicate,
                        event_notes,
                        now,
                        event_source,
                        endpoint,
                        request_id,
                    )
                )
        if store:
            self._drop_oldest_events()
        kind = "test" if is_test else "real"
        self._counts[(pixel_code, kind)] += result.counted
        self._counts[(pixel_code, kind + "_duplicate")] += result.deduplicated
        return result

    def _drop_oldest_events(self) -> None:
        overflow = len(self.events) - self.config.max_stored_events
        if overflow > 0:
            del self.events[:overflow]

    def delivered_events(
        self, pixel_code: str | None = None, include_test: bool = True
    ) -> list[StoredEvent]:
        """Events TikTok kept: accepted and not deduplicated (needs `store_events`)."""
        return [
            event
            for event in self.events
            if not event.deduplicated
            and (pixel_code is None or event.pixel_code == pixel_code)
            and (include_test or event.test_event_code is None)
        ]

    def event_count(
        self,
        pixel_code: str | None = None,
        *,
        include_test: bool = False,
        include_duplicates: bool = False,
    ) -> int:
        """Real conversions TikTok counted; works with `store_events=False` too."""
        kinds = {"real"}
        if include_test:
            kinds.add("test")
        if include_duplicates:
            kinds |= {kind + "_duplicate" for kind in kinds}
        return sum(
            count
            for (pixel, kind), count in self._counts.items()
            if kind in kinds and (pixel_code is None or pixel == pixel_code)
        )

    def audience_members(self, audience_id: str) -> frozenset[str]:
        """The users of one audience, by hash (lower-case hex); KeyError for an unknown id."""
        return self.audiences.members(audience_id)

    def audience_ids(
        self, *, name: str | None = None, advertiser_id: str | None = None
    ) -> list[str]:
        """Ids of the audiences, oldest first, narrowed by exact name and/or advertiser."""
        return [
            audience.audience_id
            for audience in self.audiences.audiences.values()
            if (name is None or audience.name == name)
            and (advertiser_id is None or audience.advertiser_id == advertiser_id)
        ]

    def stats(self) -> dict[str, Any]:
        by_pixel: dict[str, dict[str, int]] = {}
        for (pixel, kind), count in self._counts.items():
            by_pixel.setdefault(pixel, {})[kind] = count
        codes = Counter(str(request.code) for request in self.requests)
        return {
            "requests": len(self.requests),
            "response_codes": dict(codes),
            "events": {
                "real": self.event_count(),
                "test": self.event_count(include_test=True) - self.event_count(),
                "deduplicated": sum(
                    count for (_, kind), count in self._counts.items() if kind.endswith("duplicate")
                ),
                "stored": len(self.events),
                "dedup_keys": len(self._dedup),
                "by_pixel": by_pixel,
            },
            "audiences": len(self.audiences.audiences),
            "files": len(self.audiences.files),
            "faults_pending": len(self.faults),
        }
