"""Ingest: validate and hash an event, then make it durable through a group commit.

Requests hand their events to one writer task; while it commits, more arrive, and the next
commit takes them all at once: one transaction and one fsync for many requests.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from tiktok_ads.domain.connections import ConnectionRow, check_pixel
from tiktok_ads.domain.events import IngestOutcome, NewEvent, Status
from tiktok_ads.domain.inbound import (
    IngestRules,
    PreparedEvent,
    prepare_event,
    stored_event,
    tracking_switch,
)
from tiktok_ads.errors import FieldError, TikTokAdsError, ValidationFailed, pixel_forbidden
from tiktok_ads.services.connections import ConnectionService
from tiktok_ads.services.ports import Clock, EventLog, IngestMetrics

_MAX_GROUP = 4000
_YIELD_EVERY = 100  # events prepared between two turns of the event loop
# Batches of more events than this are prepared one at a time (IngestService.turn).
IN_TURN_ABOVE = _YIELD_EVERY
_QUEUED = Status.QUEUED.value


class Overloaded(TikTokAdsError):
    """More events wait for the disk than we accept to hold in memory: retry shortly."""


class Accepted(NamedTuple):
    """One stored (or skipped, or duplicate) event. A named tuple: made 1,000 times a batch,
    and a frozen dataclass cost twice as much to build."""

    event_id: str
    pixel_id: str
    event_name: str
    pk: int | None
    status: str
    reason: str | None = None
    # Invalid optional details left out of the event (field and why), for the answer.
    warnings: tuple[FieldError, ...] = ()


@dataclass(frozen=True, slots=True)
class Refused:
    errors: ValidationFailed


@dataclass(slots=True)
class PreparedBatch:
    """A batch prepared (prepare_many), not yet committed: `results` has a Refused for each
    refused event and None where an admitted one's outcome will go (`slots`)."""

    now: float  # read once, when the batch arrived
    pixels: frozenset[str] | None
    results: list[Accepted | Refused | None]
    items: list[NewEvent]
    warnings_of: list[tuple[FieldError, ...]]
    slots: list[int]
    resolved: dict[str | None, ConnectionRow | ValidationFailed]


@dataclass(slots=True)
class _Pending:
    items: list[NewEvent]
    done: asyncio.Future[list[IngestOutcome]]


class IngestService:
    def __init__(
        self,
        *,
        store: EventLog,
        connections: ConnectionService,
        clock: Clock,
        rules: IngestRules,
        switches: dict[str, bool],
        metrics: IngestMetrics,
        max_pending: int = 50_000,
        default_page_url: str | None = None,
    ) -> None:
        self._store = store
        self._connections = connections
        self._clock = clock
        self._rules = rules
        self._switches = switches
        self._metrics = metrics
        self._max_pending = max_pending
        self._default_page_url = default_page_url
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._pending_events = 0
        self._writer: asyncio.Task[None] | None = None
        self.written = asyncio.Event()  # set after each commit: wakes an in-process dispatcher
        self._queued_total = 0  # events queued for delivery by this process, ever
        # Large batches are prepared one at a time, in arrival order (see submit_many).
        self._preparing = asyncio.Lock()

    async def start(self) -> None:
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_loop(), name="ingest-writer")

    async def stop(self) -> None:
        """Finish what was handed in, then stop."""
        if self._writer is None:
            return
        await self._queue.join()
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
        self._writer = None

    def committed(self) -> int:
        """Events this process has queued for delivery so far (the dispatcher's hint)."""
        return self._queued_total

    async def submit(self, raw: object, pixels: frozenset[str] | None = None) -> Accepted:
        """One event: raises ValidationFailed (the caller's error) or Overloaded.

        `pixels`: the pixels the caller's API key may send to (None: any); PixelForbidden else.
        """
        item, warnings = await self._prepare(raw, pixels)
        (outcome,) = await self._commit([item])
        self._metrics.events_received(item.pixel_id, item.event_name, outcome.status)
        self._count_dropped(warnings)
        return _accepted(item, outcome, warnings)

    async def submit_many(
        self, raws: Sequence[object], pixels: frozenset[str] | None = None
    ) -> list[Accepted | Refused]:
        """Many events in one commit; each invalid one (or one for another pixel than
        `pixels`) is refused on its own."""
        async with self.turn(len(raws) > IN_TURN_ABOVE) as arrived:
            batch = await self.prepare_many(raws, pixels, arrived)
        return await self.commit_many(batch)

    @contextlib.asynccontextmanager
    async def turn(self, large: bool) -> AsyncIterator[float]:
        """Wait for a large batch's turn to be read and prepared (a small one goes at once);
        gives the time the batch arrived, read before the wait (its events' checks and default
        event_time are of that moment, not of the end of the queue).

        One large batch at a time, in arrival order: interleaved, the batches in hand all
        finished preparing together and then all waited for one commit, the event loop idle
        meanwhile (and the writer idle while they were prepared). In turn, each goes to the
        writer as soon as it is ready and the next is prepared while it commits. A caller that
        parses the body in its turn also holds one batch's parsed JSON at a time, not all.
        """
        arrived = self._clock.now()
        if not large:
            yield arrived
            return
        async with self._preparing:
            yield arrived

    async def prepare_many(
        self, raws: Sequence[object], pixels: frozenset[str] | None, arrived: float
    ) -> PreparedBatch:
        """Validate, hash and admit each event of a batch that arrived at `arrived` (in slices
        of 100 with a turn of the event loop between); the batch keeps none of `raws`."""
        batch = PreparedBatch(arrived, pixels, [], [], [], [], {})
        for start in range(0, len(raws), _YIELD_EVERY):
            if start:
                # Let the loop run between slices (other requests, delivery): 1,000 events
                # are ~10 ms of CPU.
                await asyncio.sleep(0)
            await self._prepare_all(raws[start : start + _YIELD_EVERY], batch)
        return batch

    async def commit_many(self, batch: PreparedBatch) -> list[Accepted | Refused]:
        """Store a prepared batch's admitted events in one group commit; the outcome of each
        event of the batch, in order."""
        results = batch.results
        items = batch.items
        counts: Counter[tuple[str, str, str]] = Counter()
        if items:
            outcomes = await self._commit(items)
            for slot, item, outcome, warnings in zip(
                batch.slots, items, outcomes, batch.warnings_of, strict=True
            ):
                results[slot] = _accepted(item, outcome, warnings)
                counts[(item.pixel_id, item.event_name, outcome.status)] += 1
                if warnings:
                    self._count_dropped(warnings)
        # No labels from refused input: it would let callers mint time series.
        counts[("", "", "rejected")] += len(results) - len(items)
        for labels, n in counts.items():
            if n:
                self._metrics.events_received(*labels, n=n)
        return [r for r in results if r is not None]

    async def _prepare_all(self, raws: Sequence[object], batch: PreparedBatch) -> None:
        """Prepare `raws`, appending to the lists of `batch` (a slot per accepted one)."""
        for raw in raws:
            # Not `await self._prepare(...)`: a coroutine per event showed in profiles.
            try:
                prepared, connection = self._checked(raw, batch.pixels, batch.now)
                if connection is None:
                    found = batch.resolved.get(prepared.pixel_id)
                    if found is None:
                        # Once per pixel and batch: a pixel unknown to the database is never
                        # cached, and a batch of 1,000 naming one asked 1,000 times (while
                        # the batches behind it waited their turn).
                        try:
                            found = await self._connections.resolve(prepared.pixel_id)
                        except ValidationFailed as exc:
                            found = exc
                        batch.resolved[prepared.pixel_id] = found
                    if isinstance(found, ValidationFailed):
                        batch.results.append(Refused(found))
                        continue
                    connection = found
                item = self._admit(prepared, connection.pixel_id, batch.pixels)
            except ValidationFailed as exc:
                batch.results.append(Refused(exc))
                continue
            batch.slots.append(len(batch.results))
            batch.results.append(None)
            batch.items.append(item)
            batch.warnings_of.append(prepared.warnings)

    async def _prepare(
        self, raw: object, pixels: frozenset[str] | None
    ) -> tuple[NewEvent, tuple[FieldError, ...]]:
        prepared, connection = self._checked(raw, pixels, self._clock.now())
        if connection is None:
            connection = await self._connections.resolve(prepared.pixel_id)
        return self._admit(prepared, connection.pixel_id, pixels), prepared.warnings

    def _checked(
        self, raw: object, pixels: frozenset[str] | None, now: float
    ) -> tuple[PreparedEvent, ConnectionRow | None]:
        """The prepared event and its connection when cached (None: resolve it)."""
        prepared = prepare_event(raw, now=now, rules=self._rules)
        # Checked before the lookup: a limited key learns nothing of pixels not its own.
        if pixels is not None and prepared.pixel_id is not None:
            check_pixel(prepared.pixel_id, pixels)
        return prepared, self._connections.cached(prepared.pixel_id)

    def _admit(
        self, prepared: PreparedEvent, pixel_id: str, pixels: frozenset[str] | None
    ) -> NewEvent:
        """The event as stored, once its pixel (`pixel_id`, the default when none was named)
        is known and allowed."""
        if pixels is not None and pixel_id not in pixels:
            raise pixel_forbidden(
                "no pixel_id given, and the default pixel is not one of this API key's: "
                "send pixel_id"
            )
        reason = self._skip_reason(prepared)
        # TikTok takes web events without a page (a box-office sale has none); a configured
        # default page only adds what the shop knows about where its sales happen.
        if reason is None and "page" not in prepared.payload and self._default_page_url:
            prepared.payload["page"] = {"url": self._default_page_url}
        return stored_event(prepared, pixel_id, reason)

    def _count_dropped(self, warnings: tuple[FieldError, ...]) -> None:
        for warning in warnings:
            self._metrics.count_dropped_field(warning.field)

    def _skip_reason(self, prepared: PreparedEvent) -> str | None:
        if not prepared.consent.granted:
            return prepared.consent.reason or "consent denied"
        switch = tracking_switch(prepared.event_name)
        if switch is not None and not self._switches.get(switch, True):
            return f"event type switched off (TIKTOK_TRACK_{switch.upper()}=false)"
        return None

    async def _commit(self, items: list[NewEvent]) -> list[IngestOutcome]:
        if self._pending_events + len(items) > self._max_pending:
            raise Overloaded("too many events waiting to be stored; retry in a second")
        if self._writer is None:
            await self.start()
        done: asyncio.Future[list[IngestOutcome]] = asyncio.get_running_loop().create_future()
        self._pending_events += len(items)
        self._queue.put_nowait(_Pending(items, done))
        return await done

    async def _write_loop(self) -> None:
        while True:
            group = [await self._queue.get()]
            size = len(group[0].items)
            while size < _MAX_GROUP and not self._queue.empty():
                nxt = self._queue.get_nowait()
                group.append(nxt)
                size += len(nxt.items)
            items = [item for pending in group for item in pending.items]
            try:
                outcomes = await self._store.add_events(
                    items, self._clock.now(), self._rules.attribution_window_days * 86400.0
                )
            except Exception as exc:  # the store failed: every waiting request must hear it
                for pending in group:
                    if not pending.done.done():
                        pending.done.set_exception(exc)
            else:
                start = 0
                for pending in group:
                    end = start + len(pending.items)
                    if not pending.done.done():
                        pending.done.set_result(outcomes[start:end])
                    start = end
                self._queued_total += sum(1 for o in outcomes if o.status == _QUEUED)
                self.written.set()
            finally:
                self._pending_events -= size
                for _ in group:
                    self._queue.task_done()


def _accepted(item: NewEvent, outcome: IngestOutcome, warnings: tuple[FieldError, ...]) -> Accepted:
    return Accepted(
        event_id=item.event_id,
        pixel_id=item.pixel_id,
        event_name=item.event_name,
        pk=outcome.pk,
        status=outcome.status,
        reason=item.skip_reason,
        warnings=warnings,
    )
