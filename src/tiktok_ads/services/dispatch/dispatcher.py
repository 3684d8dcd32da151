"""The send loop: claim what each pixel may send now, hand each batch to the sender.

Housekeeping (lost claims, purges, gauges) is not here: it runs beside this loop as periodic
tasks (`services.maintenance`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from tiktok_ads.domain import ratelimit
from tiktok_ads.domain.connections import ConnectionRow
from tiktok_ads.domain.delivery import should_flush
from tiktok_ads.domain.events import ClaimedEvent
from tiktok_ads.domain.ratelimit import Reservation
from tiktok_ads.domain.retry import RetryPolicy
from tiktok_ads.services.connections import ConnectionService
from tiktok_ads.services.dispatch.sender import BatchSender
from tiktok_ads.services.ports import Clock, DeliveryMetrics, DeliveryQueue, TikTokGateway
from tiktok_ads.services.verdicts import Verdicts

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


class Dispatcher:
    def __init__(
        self,
        *,
        store: DeliveryQueue,
        client: TikTokGateway,
        connections: ConnectionService,
        clock: Clock,
        metrics: DeliveryMetrics,
        config: DispatchConfig,
        policy: RetryPolicy | None = None,
        rand: Callable[[], float] = random.random,
        wake: asyncio.Event | None = None,
        verdicts: Verdicts | None = None,
    ) -> None:
        self._store = store
        self._connections = connections
        self._clock = clock
        self._config = config
        self._wake = wake or asyncio.Event()
        self._slots = asyncio.Semaphore(config.max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._held_until: dict[str, float] = {}  # pixel → end of a daily-cap hold
        self._sender = BatchSender(
            store=store,
            client=client,
            connections=connections,
            clock=clock,
            metrics=metrics,
            policy=policy or RetryPolicy(),
            rand=rand,
            verdicts=verdicts or Verdicts(store),
            rps=config.rps,
            daily_limit=config.daily_limit,
        )

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
        started = 0
        for connection in await self._connections.all():
            started += await self._dispatch_pixel(connection, now)
        return started

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
        by_priority: bool | None = None  # decided once a pass: claims change both sides alike
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
            if by_priority is None:
                by_priority = await self._by_priority(pixel, now, count, reservation)
            batch = await self._store.claim_batch(
                pixel, reservation.granted, now, now + cfg.lease_s, by_priority
            )
            if len(batch) < reservation.granted:
                await self._store.refund_quota(pixel, reservation.granted - len(batch), now)
            if not batch:
                break
            await self._slots.acquire()
            self._start(connection, batch, reservation.send_at)
            started += 1
            if not connection.healthy or count < cfg.batch_size:
                break  # a held connection gets one probe batch; a partial batch drained it
        return started

    async def _by_priority(
        self, pixel: str, now: float, counted: int, reservation: Reservation
    ) -> bool:
        """Whether more waits than today's quota can carry (then money goes first)."""
        quota = reservation.remaining_after + reservation.granted
        if counted >= self._config.batch_size and quota >= counted:
            # `counted` stops at a batch; only a longer count can tell.
            return await self._store.ready_more_than(pixel, now, quota)
        return ratelimit.by_priority(counted, quota)

    def _start(self, connection: ConnectionRow, batch: list[ClaimedEvent], at: float) -> None:
        task = asyncio.create_task(self._send(connection, batch, at))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, connection: ConnectionRow, batch: list[ClaimedEvent], at: float) -> None:
        try:
            await self._sender.send(connection, batch, at)
        except Exception:
            # Only recording the outcome can fail here (the database): nothing else can be
            # done; the claim's lease brings the events back, within their deadline.
            log.exception(
                "recording the outcome of %d events for %s failed", len(batch), connection.pixel_id
            )
        finally:
            self._slots.release()
            self._wake.set()
