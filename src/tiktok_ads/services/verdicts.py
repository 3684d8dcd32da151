"""`?wait` callers, woken by TikTok's verdict instead of each polling the database.

When this process runs a dispatcher, it announces the events it settles and waiters wake at
once. Verdicts recorded elsewhere (`serve --no-worker` beside `worker` processes, or a sibling
`serve` process) are found by one shared poll loop: one query per tick for every waiting event,
every `poll_s` without a local dispatcher, every `backstop_s` with one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from tiktok_ads.domain.events import Status
from tiktok_ads.errors import StoreError, TikTokAdsError
from tiktok_ads.services.ports import VerdictStore

log = logging.getLogger(__name__)

FINAL_STATUSES = (Status.DELIVERED.value, Status.FAILED.value)


class TooManyWaiters(TikTokAdsError):
    """As many callers wait for verdicts as we allow: send without ?wait, or retry shortly."""


class Verdicts:
    def __init__(
        self,
        store: VerdictStore,
        *,
        max_waiters: int = 1000,
        poll_s: float = 0.05,
        backstop_s: float = 1.0,
    ) -> None:
        self._store = store
        self._max_waiters = max_waiters
        self._poll_s = poll_s
        self._backstop_s = backstop_s
        self._slots = 0
        self._waiters: dict[int, set[asyncio.Future[None]]] = {}
        self._poller: asyncio.Task[None] | None = None
        self.local_dispatcher = False  # set by the container when it starts a dispatcher

    @property
    def waiting(self) -> int:
        """Callers holding a slot (waiting, or about to)."""
        return self._slots

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Room for one waiting caller; taken before the event is stored, so a refusal costs
        the caller nothing."""
        if self._slots >= self._max_waiters:
            raise TooManyWaiters(
                f"{self._max_waiters} callers already wait for TikTok's verdict "
                "(TIKTOK_ADS_MAX_WAITERS); send without ?wait or retry shortly"
            )
        self._slots += 1
        try:
            yield
        finally:
            self._slots -= 1

    def announce(self, pks: Iterable[int]) -> None:
        """These events have their verdict for good: wake whoever waits for them."""
        for pk in pks:
            for future in self._waiters.pop(pk, ()):
                if not future.done():
                    future.set_result(None)

    async def wait(self, pk: int, within_s: float) -> Any | None:
        """The event's row once it has a verdict, or as it stands after `within_s` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        future: asyncio.Future[None] = loop.create_future()
        self._waiters.setdefault(pk, set()).add(future)
        self._ensure_poller()
        try:
            # Listening first, then looking: a verdict that came before cannot be missed.
            row = await self._store.get_event_by_pk(pk)
            if row is None or row["status"] in FINAL_STATUSES:
                return row
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(future, max(0.0, deadline - loop.time()))
            return await self._store.get_event_by_pk(pk)
        finally:
            self._forget(pk, future)

    def _forget(self, pk: int, future: asyncio.Future[None]) -> None:
        futures = self._waiters.get(pk)
        if futures is not None:
            futures.discard(future)
            if not futures:
                del self._waiters[pk]

    def _ensure_poller(self) -> None:
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll(), name="verdict-poll")

    async def _poll(self) -> None:
        try:
            while self._waiters:
                await asyncio.sleep(self._backstop_s if self.local_dispatcher else self._poll_s)
                pks = list(self._waiters)
                if not pks:
                    break
                try:
                    self.announce(await self._store.settled_among(pks))
                except StoreError as exc:
                    log.warning("looking for verdicts failed (%s); trying again", exc)
        finally:
            # No await between the last look at `_waiters` and here: a new waiter either
            # found this loop running or finds it gone and starts another.
            self._poller = None

    async def close(self) -> None:
        poller = self._poller
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
