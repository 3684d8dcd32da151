"""Send one claimed batch to TikTok and settle every event of it, whatever happens.

No failure may leave a batch to its claim's lease (which would send it again every lease
period, forever): TikTok's answer decides through `domain.delivery`; a connection that cannot
work (a token that cannot be decrypted or sent as a header) holds the pixel with the reason
shown; any other local error is retried with the usual backoff, and fails at the deadline.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

from tiktok_ads.domain.access_token import header_problem
from tiktok_ads.domain.connections import ConnectionRow
from tiktok_ads.domain.delivery import (
    DeliveryRecord,
    Outcome,
    TrackAnswer,
    Verdict,
    classify,
    plan_retries,
    rejected_index,
)
from tiktok_ads.domain.events import ClaimedEvent
from tiktok_ads.domain.retry import RetryPolicy
from tiktok_ads.domain.tiktok_item import item_bytes
from tiktok_ads.errors import ConfigurationError
from tiktok_ads.services.connections import ConnectionService
from tiktok_ads.services.ports import Clock, DeliveryMetrics, DeliveryQueue, TikTokGateway
from tiktok_ads.services.verdicts import Verdicts

log = logging.getLogger(__name__)


class BrokenConnection(Exception):
    """The connection cannot send anything until its token is replaced; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BatchSender:
    def __init__(
        self,
        *,
        store: DeliveryQueue,
        client: TikTokGateway,
        connections: ConnectionService,
        clock: Clock,
        metrics: DeliveryMetrics,
        policy: RetryPolicy,
        rand: Callable[[], float],
        verdicts: Verdicts,
        rps: float,
        daily_limit: int,
    ) -> None:
        self._store = store
        self._client = client
        self._connections = connections
        self._clock = clock
        self._metrics = metrics
        self._policy = policy
        self._rand = rand
        self._verdicts = verdicts
        self._rps = rps
        self._daily_limit = daily_limit

    async def send(self, connection: ConnectionRow, batch: list[ClaimedEvent], at: float) -> None:
        await self._sleep_until(at)
        await self._deliver(connection, batch)

    async def _deliver(self, connection: ConnectionRow, batch: Sequence[ClaimedEvent]) -> None:
        try:
            token = self._usable_token(connection)
        except BrokenConnection as exc:
            await self._hold(connection, batch, None, exc.reason, None)
            return
        pixel = connection.pixel_id
        sent_at = self._clock.now()
        answer, latency_ms = await self._post(connection, token, batch)
        verdict = classify(answer)
        now = self._clock.now()
        self._metrics.request_answered(pixel, verdict.value, answer.code, latency_ms / 1000)
        record = DeliveryRecord(
            pixel,
            sent_at,
            len(batch),
            answer.http_status,
            answer.code,
            answer.message,
            answer.request_id,
            latency_ms,
            verdict.value,
        )
        base = Outcome(now, answer.code, answer.message, answer.request_id, delivery=record)
        pks = tuple(event.pk for event in batch)
        if verdict is Verdict.DELIVERED:
            await self._settle(replace(base, delivered=pks))
            await self._store.mark_sent(pixel, now)
            if not connection.healthy:
                self._connections.forget()  # it works again: no probe-only passes from a cache
            self._count("delivered", pixel, batch)
        elif verdict is Verdict.RETRY:
            retries, given_up, reason = plan_retries(batch, self._policy, now, self._rand())
            await self._settle(
                replace(base, retry=retries, given_up=given_up, give_up_reason=reason)
            )
            self._count("retried", pixel, batch, {pk for pk, _ in retries})
            self._count("failed", pixel, batch, set(given_up))
        elif verdict is Verdict.HOLD:
            await self._hold(connection, batch, answer.code, answer.message, record)
        elif verdict is Verdict.FAILED or len(batch) == 1:
            await self._settle(replace(base, failed=pks))
            self._count("failed", pixel, batch)
        else:
            await self._isolate(connection, batch, base)

    async def _post(
        self, connection: ConnectionRow, token: str, batch: Sequence[ClaimedEvent]
    ) -> tuple[TrackAnswer, float]:
        """TikTok's answer and the latency; a local failure becomes an answer to retry."""
        started = time.perf_counter()
        try:
            timed = await self._client.track(
                access_token=token,
                pixel_id=connection.pixel_id,
                items=[item_bytes(e.payload, e.user_last, e.ip, e.user_agent) for e in batch],
                test_event_code=connection.test_event_code if connection.test_mode else None,
            )
            return timed.answer, timed.latency_ms
        except Exception as exc:  # our code or a library failed, not TikTok: see the module doc
            # The traceback without the exception's text: httpx quotes header values there.
            log.error(
                "sending %d events for %s failed with %s; retrying with backoff\n%s",
                len(batch),
                connection.pixel_id,
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            message = f"local error while sending: {type(exc).__name__}"
            return TrackAnswer(None, None, message), (time.perf_counter() - started) * 1000

    def _usable_token(self, connection: ConnectionRow) -> str:
        try:
            token = self._connections.access_token(connection)
        except ConfigurationError as exc:  # cannot be decrypted
            raise BrokenConnection(str(exc)) from exc
        except ValueError as exc:  # decrypted, but not UTF-8 text
            raise BrokenConnection(
                "the stored access token is not readable text; POST /connect with a valid token"
            ) from exc
        problem = header_problem(token)
        if problem is not None:
            raise BrokenConnection(f"{problem}; POST /connect with a valid token")
        return token

    async def _hold(
        self,
        connection: ConnectionRow,
        batch: Sequence[ClaimedEvent],
        code: int | None,
        reason: str,
        record: DeliveryRecord | None,
    ) -> None:
        """The connection is at fault: keep the events queued and show why on /connection."""
        now = self._clock.now()
        pks = tuple(event.pk for event in batch)
        await self._settle(Outcome(now, code, reason, held=pks, delivery=record))
        await self._store.set_health(
            connection.pixel_id, healthy=False, code=code, message=reason, now=now
        )
        self._connections.forget()
        log.warning("holding the queue of %s: %s", connection.pixel_id, reason)

    async def _isolate(
        self, connection: ConnectionRow, batch: Sequence[ClaimedEvent], base: Outcome
    ) -> None:
        """TikTok rejected the whole batch for some bad event(s): fail only those."""
        index = rejected_index(base.message, len(batch))
        if index is not None:
            bad = batch[index]
            await self._settle(replace(base, failed=(bad.pk,)))
            self._count("failed", connection.pixel_id, [bad])
            parts = [[e for i, e in enumerate(batch) if i != index]]
        else:
            await self._settle(base)  # log the request; the events stay claimed
            middle = len(batch) // 2
            parts = [list(batch[:middle]), list(batch[middle:])]
        for part in parts:
            if part:
                await self._next_slot(connection.pixel_id)
                await self._deliver(connection, part)

    async def _settle(self, outcome: Outcome) -> None:
        await self._store.settle(outcome)
        self._verdicts.announce(outcome.final)

    async def _sleep_until(self, at: float) -> None:
        delay = at - self._clock.now()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _next_slot(self, pixel: str) -> None:
        """A resend of already counted events: a request slot, no quota."""
        reservation = await self._store.reserve_send(
            pixel, want=0, now=self._clock.now(), rps=self._rps, daily_limit=self._daily_limit
        )
        await self._sleep_until(reservation.send_at)

    def _count(
        self,
        outcome: str,
        pixel: str,
        batch: Sequence[ClaimedEvent],
        only: Collection[int] | None = None,
    ) -> None:
        names = Counter(e.event_name for e in batch if only is None or e.pk in only)
        self._metrics.events_settled(outcome, pixel, names)
