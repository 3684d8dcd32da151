"""Replaying failed events: the same event_id goes back to the queue with a fresh window."""

from __future__ import annotations

import asyncio
from typing import Any

from tiktok_ads.errors import NotFound, TikTokAdsError
from tiktok_ads.services.ports import Clock, ReadModel
from tiktok_ads.services.queries import event_view


class NotReplayable(TikTokAdsError):
    """Only failed events can be replayed."""


class Replays:
    def __init__(self, store: ReadModel, clock: Clock, wake: asyncio.Event) -> None:
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
