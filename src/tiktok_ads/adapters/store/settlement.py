"""Store verbs that record TikTok's verdict on claimed events, and the delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Connection

from tiktok_ads.adapters.store.base import StoreBase
from tiktok_ads.adapters.store.counters import count_settled
from tiktok_ads.adapters.store.schema import deliveries, events
from tiktok_ads.domain.delivery import DeliveryRecord
from tiktok_ads.domain.events import Status


def _chunks(pks: Sequence[int], size: int = 900) -> list[Sequence[int]]:
    return [pks[i : i + size] for i in range(0, len(pks), size)]


class Settlement(StoreBase):
    async def settle(
        self,
        *,
        now: float,
        delivered: Sequence[int] = (),
        retry: Sequence[int] = (),
        retry_at: float = 0.0,
        failed: Sequence[int] = (),
        held: Sequence[int] = (),
        code: int | None = None,
        message: str = "",
        request_id: str | None = None,
        delivery: DeliveryRecord | None = None,
    ) -> int:
        """Record TikTok's verdict on claimed events, and the request in the delivery log.

        Retries that would land past an event's deadline fail instead; returns how many did.
        """

        def run(conn: Connection) -> int:
            common = {
                "updated_at": now,
                "lease_until": None,
                "tiktok_code": code,
                "tiktok_message": message or None,
                "request_id": request_id,
            }
            if delivered:
                self._update(
                    conn,
                    delivered,
                    status=Status.DELIVERED.value,
                    delivered_at=now,
                    last_error=None,
                    **common,
                )
            if failed:
                self._update(conn, failed, status=Status.FAILED.value, last_error=message, **common)
            if held:
                # The connection is at fault, not the events: back to the queue, attempt uncounted.
                self._update(
                    conn,
                    held,
                    status=Status.QUEUED.value,
                    next_attempt_at=now,
                    attempts=events.c.attempts - 1,
                    last_error=message,
                    **common,
                )
            expired = 0
            if retry:
                expired = self._retry(conn, retry, retry_at, message, common)
            count_settled(conn, [*delivered, *failed, *retry])
            if delivery is not None:
                conn.execute(deliveries.insert(), [_delivery_row(delivery)])
            return expired

        return await self._write_tx(run)

    def _update(self, conn: Connection, pks: Sequence[int], **values: Any) -> None:
        for chunk in _chunks(list(pks)):
            conn.execute(update(events).where(events.c.id.in_(chunk)).values(**values))

    def _retry(
        self,
        conn: Connection,
        pks: Sequence[int],
        retry_at: float,
        message: str,
        common: dict[str, Any],
    ) -> int:
        expired = 0
        for chunk in _chunks(list(pks)):
            expired += int(
                conn.execute(
                    update(events)
                    .where(events.c.id.in_(chunk), events.c.deadline_at <= retry_at)
                    .values(
                        status=Status.FAILED.value,
                        last_error=f"gave up: TikTok's 48 h deduplication window ended ({message})",
                        **common,
                    )
                ).rowcount
            )
            conn.execute(
                update(events)
                .where(events.c.id.in_(chunk), events.c.deadline_at > retry_at)
                .values(
                    status=Status.RETRYING.value,
                    next_attempt_at=retry_at,
                    last_error=message,
                    **common,
                )
            )
        return expired


def _delivery_row(record: DeliveryRecord) -> dict[str, Any]:
    return {
        "pixel_id": record.pixel_id,
        "sent_at": record.sent_at,
        "event_count": record.event_count,
        "http_status": record.http_status,
        "code": record.code,
        "message": record.message[:2000],
        "request_id": record.request_id,
        "latency_ms": record.latency_ms,
        "verdict": record.verdict,
    }
