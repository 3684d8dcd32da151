"""Replaying failed events: the same event_id goes back to the queue with a fresh window."""

from __future__ import annotations

import asyncio
from typing import Any

from tiktok_ads.errors import NotFound, TikTokAdsError
from tiktok_ads.services.ports import Clock, ReplayStore
from tiktok_ads.services.queries import event_view


class NotReplayable(TikTokAdsError):
    """Only failed events can be replayed."""


# "Replay all like this" queues at most this many at a time: a bounded write, and a caller
# who wants more presses again.
REPLAY_MANY_LIMIT = 1000


class Replays:
    def __init__(self, store: ReplayStore, clock: Clock, wake: asyncio.Event) -> None:
        self._store = store
        self._clock = clock
        self._wake = wake

    async def replay(
        self,
        event_id: str,
        pixel_id: str | None = None,
        event_type: str | None = None,
        pixels: frozenset[str] | None = None,
    ) -> dict[str, Any]:
        """Queue the latest failed event with this event_id again; its view afterwards.

        Only among `pixels` (the API key's): another pixel's event is not found.
        """
        row = await self._store.get_event(event_id, pixel_id, event_type, pixels)
        if row is None:
            raise NotFound(f"no event with event_id {event_id!r}")
        if not await self._store.replay_failed(row["id"], self._clock.now()):
            raise NotReplayable(f"only failed events can be replayed; this one is {row['status']}")
        self._wake.set()  # a local dispatcher picks it up at once
        return event_view(await self._store.get_event_by_pk(row["id"]) or row)

    async def replay_like(
        self,
        pixel_id: str,
        event_type: str,
        code: int | None,
        pixels: frozenset[str] | None = None,
        limit: int = REPLAY_MANY_LIMIT,
    ) -> int:
        """Queue again up to `limit` failed events of this pixel and event type that TikTok
        answered with `code` (None: failed without one); how many. A pixel outside `pixels`
        replays nothing."""
        if pixels is not None and pixel_id not in pixels:
            return 0
        count = await self._store.replay_failed_like(
            pixel_id, event_type, code, self._clock.now(), max(1, min(limit, REPLAY_MANY_LIMIT))
        )
        if count:
            self._wake.set()
        return count
