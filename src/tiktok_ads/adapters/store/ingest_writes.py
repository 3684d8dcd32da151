"""Store verbs of ingest: a group of events made durable in one transaction (group commit),
with local deduplication, the click-id memory of cross-device attribution and the counters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from tiktok_ads.adapters.store import bulk
from tiktok_ads.adapters.store.base import StoreBase
from tiktok_ads.adapters.store.counters import count_outcomes
from tiktok_ads.domain import attribution
from tiktok_ads.domain.attribution import ClickMemory
from tiktok_ads.domain.events import DEDUP_WINDOW_SECONDS, IngestOutcome, NewEvent, Status
from tiktok_ads.domain.tiktok_item import stored_item

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
        self._attribute(conn, [items[i] for i in sorted(fresh)], now, window_s)
        rows: list[tuple[Any, ...]] = []
        positions: list[int] = []
        outcomes: list[IngestOutcome | None] = [None] * len(items)
        counts: Counter[tuple[str, str, str]] = Counter()
        for i, item in enumerate(items):
            counts[(item.pixel_id, item.event_name, "received")] += 1
            if item.status == Status.SKIPPED or i in fresh:
                rows.append(_event_row(item, now))
                positions.append(i)
                if item.status == Status.SKIPPED:
                    counts[(item.pixel_id, item.event_name, Status.SKIPPED.value)] += 1
            else:
                counts[(item.pixel_id, item.event_name, Status.DUPLICATE.value)] += 1
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
        count_outcomes(conn, counts)
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

    def _attribute(
        self, conn: Connection, items: Sequence[NewEvent], now: float, window_s: float
    ) -> None:
        """Recall the click memory of the events' identities, let the domain enrich the events,
        and save the entries that changed."""
        cutoff = now - window_s
        recalled: dict[str, ClickMemory] = {}
        ph = bulk.placeholder(conn)
        for chunk in _chunks(sorted(attribution.identities_to_recall(items))):
            sql = bulk.in_list_sql(ph, _RECALL_SQL.format(ph=ph), len(chunk))
            for identity, *fields in bulk.raw_query(conn, sql, [cutoff, cutoff, *chunk]):
                recalled[identity] = ClickMemory(*fields)
        changed = attribution.attribute(items, recalled, now, cutoff)
        rows = [(h, m.ttclid, m.ttclid_at, m.ttp, m.ttp_at) for h, m in sorted(changed.items())]
        for chunk in _chunks(rows):
            bulk.run_values(conn, _REMEMBER_HEAD, chunk, _REMEMBER_TAIL)


_RECALL_SQL = (
    "SELECT identity_hash, ttclid, ttclid_at, ttp, ttp_at FROM click_ids "
    "WHERE (ttclid_at >= {ph} OR ttp_at >= {ph}) AND identity_hash IN"
)
_REMEMBER_HEAD = "INSERT INTO click_ids (identity_hash, ttclid, ttclid_at, ttp, ttp_at)"
# A value and its time travel together: a NULL value in the new row keeps the stored pair.
_REMEMBER_TAIL = (
    "ON CONFLICT (identity_hash) DO UPDATE SET "
    "ttclid = COALESCE(excluded.ttclid, click_ids.ttclid), "
    "ttclid_at = COALESCE(excluded.ttclid_at, click_ids.ttclid_at), "
    "ttp = COALESCE(excluded.ttp, click_ids.ttp), "
    "ttp_at = COALESCE(excluded.ttp_at, click_ids.ttp_at)"
)

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
    "user_last",
)


def _event_row(item: NewEvent, now: float) -> tuple[Any, ...]:
    payload = stored_item(item.payload) if item.payload is not None else None
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
        payload is not None,
    )
