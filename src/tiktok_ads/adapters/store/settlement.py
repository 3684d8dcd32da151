"""Store verbs that record what became of claimed events, the delivery log, and verdict lookups.

The decisions are the domain's (`domain.delivery.Outcome`); these verbs only apply them, in
few statements: one per kind of fate, retries grouped by their next attempt time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from tiktok_ads.adapters.store import bulk
from tiktok_ads.adapters.store.base import StoreBase
from tiktok_ads.adapters.store.claims import chunks
from tiktok_ads.adapters.store.counters import count_settled
from tiktok_ads.adapters.store.schema import deliveries
from tiktok_ads.domain.delivery import DeliveryRecord, Outcome
from tiktok_ads.domain.events import Status


class Settlement(StoreBase):
    async def settle(self, outcome: Outcome) -> None:
        """Record the fate of claimed events with TikTok's answer, and log the request."""

        def run(conn: Connection) -> None:
            settled = [*outcome.delivered, *outcome.failed, *outcome.given_up]
            # Settled already (a slow worker answering after another took over): counted once.
            counted_before = set(_final_among(conn, settled))
            common = {
                "updated_at": outcome.now,
                "lease_until": None,
                "tiktok_code": outcome.code,
                "tiktok_message": outcome.message or None,
                "request_id": outcome.request_id,
            }
            message = outcome.message
            _update(
                conn,
                outcome.delivered,
                status=Status.DELIVERED.value,
                delivered_at=outcome.now,
                last_error=None,
                **common,
            )
            _update(conn, outcome.failed, status=Status.FAILED.value, last_error=message, **common)
            # Held: the connection is at fault, not the events: back to the queue, attempt
            # uncounted.
            _update(
                conn,
                outcome.held,
                status=Status.QUEUED.value,
                next_attempt_at=outcome.now,
                attempts=_UNCOUNT_ATTEMPT,
                last_error=message,
                **common,
            )
            _update(
                conn,
                outcome.given_up,
                status=Status.FAILED.value,
                last_error=f"{outcome.give_up_reason} ({message})",
                **common,
            )
            by_time: defaultdict[float, list[int]] = defaultdict(list)
            for pk, at in outcome.retry:
                by_time[at].append(pk)
            for at, pks in by_time.items():
                _update(
                    conn,
                    pks,
                    status=Status.RETRYING.value,
                    next_attempt_at=at,
                    last_error=message,
                    **common,
                )
            count_settled(conn, [pk for pk in settled if pk not in counted_before])
            if outcome.delivery is not None:
                conn.execute(deliveries.insert(), [_delivery_row(outcome.delivery)])

        await self._write_tx(run)

    async def settled_among(self, pks: Sequence[int]) -> list[int]:
        """Which of these events have their verdict for good (delivered or failed)."""

        return await self._read_tx(_final_among, pks)


# Plain SQL on the driver's cursor, built once per shape (bulk): compiling an UPDATE with a
# 900-id IN list through SQLAlchemy on every settle cost more than SQLite's work.
_FINAL_AMONG = "SELECT id FROM events WHERE status IN ('delivered', 'failed') AND id IN"
_UNCOUNT_ATTEMPT = object()  # `attempts = attempts - 1`: a held batch's attempt does not count


def _final_among(conn: Connection, pks: Sequence[int]) -> list[int]:
    found: list[int] = []
    ph = bulk.placeholder(conn)
    for some in chunks(list(pks)):
        chunk = bulk.padded(some)
        sql = bulk.in_list_sql(ph, _FINAL_AMONG, len(chunk))
        found.extend(int(pk) for (pk,) in bulk.raw_query(conn, sql, chunk))
    return found


def _update(conn: Connection, pks: Sequence[int], **values: Any) -> None:
    if not pks:
        return
    ph = bulk.placeholder(conn)
    names = sorted(values)
    sets = ", ".join(
        f"{name} = {name} - 1" if values[name] is _UNCOUNT_ATTEMPT else f"{name} = {ph}"
        for name in names
    )
    params = [values[name] for name in names if values[name] is not _UNCOUNT_ATTEMPT]
    head = f"UPDATE events SET {sets} WHERE id IN"
    for some in chunks(list(pks)):
        chunk = bulk.padded(some)
        bulk.raw_query(conn, bulk.in_list_sql(ph, head, len(chunk)), [*params, *chunk])


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
