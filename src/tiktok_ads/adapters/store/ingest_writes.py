"""Store verbs of ingest: a group of events made durable in one transaction (group commit),
with local deduplication and the click-id memory of cross-device attribution."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from tiktok_ads.adapters.store import bulk
from tiktok_ads.adapters.store.base import StoreBase
from tiktok_ads.adapters.store.schema import ingest_counters
from tiktok_ads.domain.attribution import ClickMemory, enrich
from tiktok_ads.domain.events import DEDUP_WINDOW_SECONDS, IngestOutcome, NewEvent, Status

# SQLite allows 32,766 bound parameters per statement; stay well below in multi-row inserts.
_ROWS_PER_INSERT = 500


def _chunks(rows: Sequence[Any], size: int = _ROWS_PER_INSERT) -> list[Sequence[Any]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


class IngestWrites(StoreBase):
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
    "event_id_generated",
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
        item.event_id_generated,
    )
