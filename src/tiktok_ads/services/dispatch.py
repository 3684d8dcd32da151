"""Dispatch: claim ready events per pixel, send them to TikTok in batches, record the verdict.

Any number of dispatchers (threads of `serve`, `worker` processes on other machines) share the
queue through the store: claims never overlap, pacing and the daily cap live in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from tiktok_ads.adapters.clock import Clock
from tiktok_ads.adapters.metrics import Metrics
from tiktok_ads.adapters.store import ConnectionRow, DeliveryRecord, SqlStore
from tiktok_ads.adapters.tiktok_client import TikTokClient
from tiktok_ads.domain import ratelimit
from tiktok_ads.domain.delivery import (
    RetryPolicy,
    TrackAnswer,
    Verdict,
    classify,
    rejected_index,
    should_flush,
)
from tiktok_ads.domain.events import ClaimedEvent
from tiktok_ads.services.connections import ConnectionService

log = logging.getLogger(__name__)

HEALTH_CHECK_EVERY_S = 300.0  # a held connection is tried again at most this often


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    batch_size: int = 1000
    linger_s: float = 1.0
    rps: float = 10.0
    daily_limit: int = 50_000
    max_in_flight: int = 4
    lease_s: float = 120.0
    poll_s: float = 0.25
    maintenance_every_s: float = 5.0
    pii_retention_s: float = 72 * 3600.0
    attribution_window_s: float = 28 * 86400.0
    event_retention_s: float = 90 * 86400.0


class Dispatcher:
    def __init__(
        self,
        *,
        store: SqlStore,
        client: TikTokClient,
        connections: ConnectionService,
        clock: Clock,
        metrics: Metrics,
        config: DispatchConfig,
        policy: RetryPolicy | None = None,
        rand: Callable[[], float] = random.random,
        wake: asyncio.Event | None = None,
    ) -> None:
        self._store = store
        self._client = client
        self._connections = connections
        self._clock = clock
        self._metrics = metrics
        self._config = config
        self._policy = policy or RetryPolicy()
        self._rand = rand
        self._wake = wake or asyncio.Event()
        self._slots = asyncio.Semaphore(config.max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._held_until: dict[str, float] = {}  # pixel → end of a daily-cap hold
        self._last_maintenance = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set; then let in-flight batches finish (their leases cover a crash)."""
        while not stop.is_set():
            try:
                started = await self.run_once()
            except Exception:  # a database hiccup must not end delivery; the state is in the DB
                log.exception("dispatch pass failed; trying again")
                started = 0
            if started == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._config.poll_s)
                self._wake.clear()
        await self.wait_idle()

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def run_once(self) -> int:
        """One pass over the connections; returns how many batches it started."""
        now = self._clock.now()
        if now - self._last_maintenance >= self._config.maintenance_every_s:
            self._last_maintenance = now
            await self.maintenance(now)
        started = 0
        for connection in await self._connections.all():
            started += await self._dispatch_pixel(connection, now)
        return started

    async def maintenance(self, now: float) -> None:
        await self._store.release_expired_leases(now)
        await self._store.purge(
            now, now - self._config.pii_retention_s, now - self._config.attribution_window_s
        )
        await self._store.purge_expired(now - self._config.event_retention_s)
        connections = await self._connections.all()
        self._metrics.set_connection_gauges(
            {c.pixel_id: c.healthy for c in connections}, await self._store.queue_depth()
        )

    async def _dispatch_pixel(self, connection: ConnectionRow, now: float) -> int:
        pixel, cfg = connection.pixel_id, self._config
        if self._held_until.get(pixel, 0.0) > now:
            return 0
        if (
            not connection.healthy
            and now - (connection.health_checked_at or 0) < HEALTH_CHECK_EVERY_S
        ):
            return 0
        started = 0
        while not self._slots.locked():  # only claim what can be sent now
            count, oldest = await self._store.readiness(pixel, now, cfg.batch_size)
            if not should_flush(count, now - (oldest or now), cfg.batch_size, cfg.linger_s):
                break
            reservation = await self._store.reserve_send(
                pixel, want=count, now=now, rps=cfg.rps, daily_limit=cfg.daily_limit
            )
            if reservation.granted == 0:
                log.warning(
                    "pixel %s reached its daily cap; holding events until %s",
                    pixel,
                    reservation.resets_at,
                )
                self._held_until[pixel] = reservation.resets_at
                break
            by_priority = ratelimit.near_cap(
                reservation.remaining_after + reservation.granted, cfg.daily_limit, cfg.batch_size
            )
            batch = await self._store.claim_batch(
                pixel, reservation.granted, now, now + cfg.lease_s, by_priority
            )
            if len(batch) < reservation.granted:
                await self._store.refund_quota(pixel, reservation.granted - len(batch), now)
            if not batch:
                break
            await self._slots.acquire()
            task = asyncio.create_task(self._send(connection, batch, reservation.send_at))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
            if not connection.healthy or count < cfg.batch_size:
                break  # a held connection gets one probe batch; a partial batch drained it
        return started

    async def _send(
        self, connection: ConnectionRow, batch: list[ClaimedEvent], send_at: float
    ) -> None:
        try:
            await self._sleep_until(send_at)
            await self._deliver(connection, batch)
        except Exception:  # the claim's lease brings the events back; say why in the log
            log.exception(
                "sending a batch of %d events for %s failed", len(batch), connection.pixel_id
            )
        finally:
            self._slots.release()
            self._wake.set()

    async def _sleep_until(self, at: float) -> None:
        delay = at - self._clock.now()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _next_slot(self, pixel: str) -> None:
        cfg = self._config
        reservation = await self._store.reserve_send(
            pixel, want=0, now=self._clock.now(), rps=cfg.rps, daily_limit=cfg.daily_limit
        )
        await self._sleep_until(reservation.send_at)

    async def _deliver(self, connection: ConnectionRow, batch: Sequence[ClaimedEvent]) -> None:
        pixel = connection.pixel_id
        sent_at = self._clock.now()
        timed = await self._client.track(
            access_token=self._connections.access_token(connection),
            pixel_id=pixel,
            events=[_tiktok_item(event) for event in batch],
            test_event_code=connection.test_event_code if connection.test_mode else None,
        )
        answer = timed.answer
        verdict = classify(answer)
        now = self._clock.now()
        self._metrics.latency.labels(pixel).observe(timed.latency_ms / 1000)
        self._metrics.requests.labels(pixel, verdict.value, str(answer.code)).inc()
        record = DeliveryRecord(
            pixel,
            sent_at,
            len(batch),
            answer.http_status,
            answer.code,
            answer.message,
            answer.request_id,
            timed.latency_ms,
            verdict.value,
        )
        pks = [event.pk for event in batch]
        settle: dict[str, Any] = {
            "now": now,
            "code": answer.code,
            "message": answer.message,
            "request_id": answer.request_id,
            "delivery": record,
        }
        if verdict is Verdict.DELIVERED:
            await self._store.settle(delivered=pks, **settle)
            await self._store.mark_sent(pixel, now)
            self._count(self._metrics.delivered, pixel, batch)
        elif verdict is Verdict.RETRY:
            attempts = max(event.attempts for event in batch)
            retry_at = self._policy.next_attempt_at(attempts, now, self._rand())
            await self._store.settle(retry=pks, retry_at=retry_at, **settle)
            self._count(self._metrics.retried, pixel, batch)
        elif verdict is Verdict.HOLD:
            await self._store.settle(held=pks, **settle)
            await self._store.set_health(
                pixel, healthy=False, code=answer.code, message=answer.message, now=now
            )
            self._connections.forget()
        elif verdict is Verdict.FAILED or len(batch) == 1:
            await self._store.settle(failed=pks, **settle)
            self._count(self._metrics.failed, pixel, batch)
        else:
            await self._isolate(connection, batch, answer, settle)

    async def _isolate(
        self,
        connection: ConnectionRow,
        batch: Sequence[ClaimedEvent],
        answer: TrackAnswer,
        settle: dict[str, Any],
    ) -> None:
        """TikTok rejected the whole batch for some bad event(s): fail only those."""
        index = rejected_index(answer.message, len(batch))
        if index is not None:
            bad = batch[index]
            await self._store.settle(failed=[bad.pk], **settle)
            self._count(self._metrics.failed, connection.pixel_id, [bad])
            parts = [[e for i, e in enumerate(batch) if i != index]]
        else:
            await self._store.settle(**settle)  # log the request; the events stay claimed
            middle = len(batch) // 2
            parts = [list(batch[:middle]), list(batch[middle:])]
        for part in parts:
            if part:
                await self._next_slot(connection.pixel_id)
                await self._deliver(connection, part)

    @staticmethod
    def _count(counter: Any, pixel: str, batch: Sequence[ClaimedEvent]) -> None:
        names: dict[str, int] = {}
        for event in batch:
            names[event.event_name] = names.get(event.event_name, 0) + 1
        for name, n in names.items():
            counter.labels(pixel, name).inc(n)


def _tiktok_item(event: ClaimedEvent) -> dict[str, Any]:
    item: dict[str, Any] = orjson.loads(event.payload)
    if event.ip or event.user_agent:
        user = item.setdefault("user", {})
        if event.ip:
            user["ip"] = event.ip
        if event.user_agent:
            user["user_agent"] = event.user_agent
    return item
