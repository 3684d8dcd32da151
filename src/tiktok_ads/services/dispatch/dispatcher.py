"""The send loop: claim what each pixel may send now, hand each batch to the sender.

Housekeeping (lost claims, purges, gauges) is not here: it runs beside this loop as periodic
tasks (`services.maintenance`).
"""

from __future__ import annotations

import asyncio
import logging
import math
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
        committed: Callable[[], int] | None = None,
    ) -> None:
        """`wake` is set when events may be ready (each ingest commit, each batch settled);
        `committed`, the number of events this process's ingest has queued so far, lets a wake
        that cannot have filled a batch pass without a look at the database."""
        self._store = store
        self._connections = connections
        self._clock = clock
        self._config = config
        self._wake = wake or asyncio.Event()
        self._slots = asyncio.Semaphore(config.max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._held_until: dict[str, float] = {}  # pixel → end of a daily-cap hold
        self._committed = committed
        # What the last pass saw: the most events one pixel had ready, the seconds until the
        # first pixel's oldest event is due by the linger, and `committed()` before it looked.
        self._ready_max = 0
        self._linger_left = math.inf
        self._seen = 0
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
                await self._idle(stop)
        await self.wait_idle()

    async def _idle(self, stop: asyncio.Event) -> None:
        """Wait until a pass could start a batch: a wake after enough new events to fill one,
        the linger of the oldest waiting event ending, or the poll (other processes ingest and
        settle too). A single event commits many times a second; looking at the queue after
        each commit cost two queries a commit for nothing."""
        loop = asyncio.get_running_loop()
        end = loop.time() + max(0.0, min(self._config.poll_s, self._linger_left))
        while (left := end - loop.time()) > 0:
            if not await self._woken_within(left, stop) or stop.is_set():
                return
            self._wake.clear()
            if self._could_fill():
                return
            # Events just committed are due by the linger at the latest: look then.
            end = min(end, loop.time() + self._config.linger_s)

    async def _woken_within(self, seconds: float, stop: asyncio.Event) -> bool:
        """Whether a wake (or the stop) came within `seconds`."""
        waits = {asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())}
        done, pending = await asyncio.wait(
            waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        return bool(done)

    def _could_fill(self) -> bool:
        if self._committed is None:
            return True  # no count of new events: every wake is worth a look
        new = self._committed() - self._seen
        if new <= 0:
            return True  # not ingest's wake (a batch settled, a replay): look
        cfg = self._config
        return cfg.linger_s <= 0 or self._ready_max + new >= cfg.batch_size

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def run_once(self) -> int:
        """One pass over the connections; returns how many batches it started."""
        now = self._clock.now()
        started = 0
        self._ready_max, self._linger_left = 0, math.inf
        self._seen = self._committed() if self._committed is not None else 0
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
        if self._slots.locked():
            self._ready_max = cfg.batch_size  # not looked at: the next wake must look
        while not self._slots.locked():  # only claim what can be sent now
            count, oldest = await self._store.readiness(pixel, now, cfg.batch_size)
            age = now - (oldest or now)
            self._ready_max = max(self._ready_max, count)
            if not should_flush(count, age, cfg.batch_size, cfg.linger_s):
                if count:
                    self._linger_left = min(self._linger_left, cfg.linger_s - age)
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
