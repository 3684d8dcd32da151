"""Store verbs on the delivery path: add (group commit), claim, settle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Connection

from tiktok_ads.adapters.store import bulk
from tiktok_ads.adapters.store.base import StoreBase
from tiktok_ads.adapters.store.schema import (
    deliveries,
    events,
    ingest_counters,
)
from tiktok_ads.domain.attribution import ClickMemory, enrich
from tiktok_ads.domain.events import (
    DEDUP_WINDOW_SECONDS,
    READY_STATUSES,
    ClaimedEvent,
    IngestOutcome,
    NewEvent,
    Status,
)

# SQLite allows 32,766 bound parameters per statement; stay well below in multi-row inserts.
_ROWS_PER_INSERT = 500


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One request to TikTok, for the delivery log."""

    pixel_id: str
    sent_at: float
    event_count: int
    http_status: int | None
    code: int | None
    message: str
    request_id: str | None
    latency_ms: float
    verdict: str


def _chunks(rows: Sequence[Any], size: int = _ROWS_PER_INSERT) -> list[Sequence[Any]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


class EventWrites(StoreBase):
    async def add_events(
        self, items: Sequence[NewEvent], now: float, attribution_window_s: float
    ) -> list[IngestOutcome]:
        """Store a group of events in one transaction (one fsync for the whole group)."""
        return await self._write_tx(self._add_events, items, now, attribution_window_s)

    def _add_events(
        self, conn: Connection, items: Sequence[NewEvent], now: float, window_s: float
    ) -> list[IngestOutcome]:
        fresh = self._claim_dedup_keys(conn, items, now)
        self._apply_click_memory(conn, [items[i] for i in sorted(fresh)], now, window_s)
        rows: list[tuple[Any, ...]] = []
        positions: list[int] = []
        outcomes: list[IngestOutcome | None] = [None] * len(items)
        duplicates: dict[tuple[str, str], int] = {}
        for i, item in enumerate(items):
            if item.status == Status.SKIPPED or i in fresh:
                rows.append(_event_row(item, now))
                positions.append(i)
            else:
                key = (item.pixel_id, item.event_name)
                duplicates[key] = duplicates.get(key, 0) + 1
                outcomes[i] = IngestOutcome(None, Status.DUPLICATE.value)
        head = f"INSERT INTO events ({', '.join(_EVENT_COLUMNS)})"
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[start : start + _ROWS_PER_INSERT]
            # One statement assigns ids in VALUES order (SQLite's single writer, PostgreSQL's
            # sequence evaluated row by row), so sorted ids line up with the rows.
            ids = sorted(int(r[0]) for r in bulk.run_values(conn, head, chunk, "RETURNING id"))
            for offset, pk in enumerate(ids):
                i = positions[start + offset]
                outcomes[i] = IngestOutcome(pk, items[i].status)
        if duplicates:
            self._count(conn, duplicates, Status.DUPLICATE.value)
        return [o for o in outcomes if o is not None]

    def _claim_dedup_keys(
        self, conn: Connection, items: Sequence[NewEvent], now: float
    ) -> set[int]:
        """Indexes of items whose (pixel, event, event_id) is new or expired; the rest repeat."""
        first: dict[tuple[str, str, str], int] = {}
        for i, item in enumerate(items):
            if item.status != Status.SKIPPED:
                first.setdefault((item.pixel_id, item.event_name, item.event_id), i)
        if not first:
            return set()
        expires = now + DEDUP_WINDOW_SECONDS
        won: set[tuple[str, str, str]] = set()
        head = "INSERT INTO dedup_keys (pixel_id, event_name, event_id, expires_at)"
        tail = (
            f"ON CONFLICT (pixel_id, event_name, event_id) DO UPDATE "
            f"SET expires_at = excluded.expires_at "
            f"WHERE dedup_keys.expires_at <= {bulk.placeholder(conn)} "
            f"RETURNING pixel_id, event_name, event_id"
        )
        for chunk in _chunks(list(first)):
            rows = [(p, n, e, expires) for p, n, e in chunk]
            won.update(map(tuple, bulk.run_values(conn, head, rows, tail, (now,))))
        return {first[key] for key in won}

    def _apply_click_memory(
        self, conn: Connection, items: Sequence[NewEvent], now: float, window_s: float
    ) -> None:
        """Carry the latest ttclid/_ttp of a person into their later events (cross-device)."""
        wanted = {
            h for it in items if not (it.has_ttclid and it.has_ttp) for h in it.identity_hashes
        }
        memory: dict[str, ClickMemory] = {}
        ph = bulk.placeholder(conn)
        for chunk in _chunks(sorted(wanted)):
            sql = bulk.in_list_sql(
                ph,
                "SELECT identity_hash, ttclid, ttp, seen_at FROM click_ids "
                f"WHERE seen_at >= {ph} AND identity_hash IN",
                len(chunk),
            )
            for identity, ttclid, ttp, seen_at in bulk.raw_query(
                conn, sql, [now - window_s, *chunk]
            ):
                memory[identity] = ClickMemory(ttclid, ttp, seen_at)
        seen: dict[str, tuple[str, str | None, str | None, float]] = {}
        for item in items:
            enrich(item, memory)
            if item.payload is None or not item.identity_hashes:
                continue
            user = item.payload.get("user", {})
            if "ttclid" in user or "ttp" in user:
                entry = ClickMemory(user.get("ttclid"), user.get("ttp"), now)
                for identity in item.identity_hashes:
                    memory[identity] = entry
                    seen[identity] = (identity, entry.ttclid, entry.ttp, now)
        head = "INSERT INTO click_ids (identity_hash, ttclid, ttp, seen_at)"
        tail = (
            "ON CONFLICT (identity_hash) DO UPDATE SET "
            "ttclid = COALESCE(excluded.ttclid, click_ids.ttclid), "
            "ttp = COALESCE(excluded.ttp, click_ids.ttp), seen_at = excluded.seen_at"
        )
        for chunk in _chunks(list(seen.values())):
            bulk.run_values(conn, head, chunk, tail)

    def _count(self, conn: Connection, counts: dict[tuple[str, str], int], outcome: str) -> None:
        rows = [
            {"pixel_id": p, "event_name": n, "outcome": outcome, "count": c}
            for (p, n), c in counts.items()
        ]
        stmt = self.insert(ingest_counters).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=["pixel_id", "event_name", "outcome"],
            set_={"count": ingest_counters.c.count + stmt.excluded["count"]},
        )
        conn.execute(stmt)

    # -- claims -----------------------------------------------------------------------------

    async def readiness(self, pixel_id: str, now: float, limit: int) -> tuple[int, float | None]:
        """(events ready to send, capped at `limit`; receipt time of the oldest of them)."""

        def read(conn: Connection) -> tuple[int, float | None]:
            ready = (
                select(events.c.received_at)
                .where(
                    events.c.pixel_id == pixel_id,
                    events.c.status.in_(READY_STATUSES),
                    events.c.next_attempt_at <= now,
                )
                .order_by(events.c.id)
                .limit(limit)
                .subquery()
            )
            count, oldest = conn.execute(select(func.count(), func.min(ready.c.received_at))).one()
            return int(count), oldest

        return await self._read_tx(read)

    async def claim_batch(
        self, pixel_id: str, limit: int, now: float, lease_until: float, by_priority: bool
    ) -> list[ClaimedEvent]:
        """Take up to `limit` ready events of a pixel; concurrent claimers never share one."""
        order = "priority, id" if by_priority else "id"
        lock = "FOR UPDATE SKIP LOCKED" if self.is_postgres else ""
        sql = text(
            f"""
            UPDATE events SET status = 'sending', lease_until = :lease_until,
                   attempts = attempts + 1, updated_at = :now
            WHERE id IN (
                SELECT id FROM events
                WHERE pixel_id = :pixel_id AND status IN ('queued', 'retrying')
                  AND next_attempt_at <= :now
                ORDER BY {order} LIMIT :limit {lock})
            RETURNING id, event_id, event_name, payload, ip, user_agent, attempts, received_at,
                      priority
            """
        )

        def claim(conn: Connection) -> list[ClaimedEvent]:
            params = {"pixel_id": pixel_id, "limit": limit, "now": now, "lease_until": lease_until}
            rows = list(conn.execute(sql, params).all())
            rows.sort(key=(lambda r: (r.priority, r.id)) if by_priority else (lambda r: r.id))
            return [
                ClaimedEvent(
                    r.id,
                    r.event_id,
                    r.event_name,
                    r.payload,
                    r.ip,
                    r.user_agent,
                    r.attempts,
                    r.received_at,
                )
                for r in rows
            ]

        return await self._write_tx(claim)

    async def release_expired_leases(self, now: float) -> int:
        """Claims whose worker died (kill -9) go back to the queue with the same event_id."""

        def release(conn: Connection) -> int:
            stmt = (
                update(events)
                .where(events.c.status == Status.SENDING.value, events.c.lease_until < now)
                .values(
                    status=Status.RETRYING.value,
                    lease_until=None,
                    next_attempt_at=now,
                    updated_at=now,
                    last_error="claim lease expired (worker stopped)",
                )
            )
            return int(conn.execute(stmt).rowcount)

        return await self._write_tx(release)

    # -- settling ---------------------------------------------------------------------------

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
            if delivery is not None:
                conn.execute(deliveries.insert(), [_delivery_row(delivery)])
            return expired

        return await self._write_tx(run)

    def _update(self, conn: Connection, pks: Sequence[int], **values: Any) -> None:
        for chunk in _chunks(list(pks), 900):
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
        for chunk in _chunks(list(pks), 900):
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


_EVENT_COLUMNS = (
    "pixel_id",
    "event_name",
    "event_id",
    "event_time",
    "status",
    "priority",
    "payload",
    "ip",
    "user_agent",
    "match_keys",
    "value",
    "currency",
    "skip_reason",
    "received_at",
    "next_attempt_at",
    "deadline_at",
    "attempts",
    "updated_at",
)


def _event_row(item: NewEvent, now: float) -> tuple[Any, ...]:
    payload = orjson.dumps(item.payload).decode() if item.payload is not None else None
    return (
        item.pixel_id,
        item.event_name,
        item.event_id,
        item.event_time,
        item.status,
        item.priority,
        payload,
        item.ip,
        item.user_agent,
        item.match_keys,
        item.value,
        item.currency,
        item.skip_reason,
        now,
        now,
        now + DEDUP_WINDOW_SECONDS,
        0,
        now,
    )


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
