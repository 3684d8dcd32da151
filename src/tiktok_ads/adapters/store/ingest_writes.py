"""Store verbs of ingest: a group of events made durable in one transaction (group commit),
with local deduplication, the click-id memory of cross-device attribution and the counters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from tiktok_ads.adapters import event_rows
from tiktok_ads.adapters.store import bulk
from tiktok_ads.adapters.store.base import StoreBase
from tiktok_ads.adapters.store.counters import count_outcomes
from tiktok_ads.domain import attribution
from tiktok_ads.domain.attribution import ClickMemory
from tiktok_ads.domain.events import DEDUP_WINDOW_SECONDS, IngestOutcome, NewEvent, Status

# Identities looked up per statement (IN lists are padded to bulk's sizes).
_LOOKUP_CHUNK = 500


def _chunks(rows: Sequence[Any], size: int = _LOOKUP_CHUNK) -> list[Sequence[Any]]:
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
        positions, counts = event_rows.sort_out(items, fresh)
        outcomes: list[IngestOutcome | None] = [None] * len(items)
        if len(positions) < len(items):
            for i in set(range(len(items))).difference(positions):
                outcomes[i] = _DUPLICATE
        if positions:
            values = event_rows.event_values(items, positions, now)
            columns = len(event_rows.EVENT_COLUMNS)
            # Each statement assigns ids in VALUES order (SQLite's single writer, PostgreSQL's
            # sequence evaluated row by row) and they run in order, so sorted ids line up.
            returned = bulk.run_flat(conn, _INSERT_EVENTS, values, columns, "RETURNING id")
            for i, pk in zip(positions, sorted(int(r[0]) for r in returned), strict=True):
                outcomes[i] = IngestOutcome(pk, items[i].status)
        count_outcomes(conn, counts)
        return [o for o in outcomes if o is not None]

    def _claim_dedup_keys(
        self, conn: Connection, items: Sequence[NewEvent], now: float
    ) -> set[int]:
        """Indexes of items whose (pixel, event, event_id) is new or expired; the rest repeat."""
        first = event_rows.dedup_keys(items)
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
        values = event_rows.dedup_values(list(first), expires)
        won.update(map(tuple, bulk.run_flat(conn, head, values, 4, tail, (now,))))
        return {first[key] for key in won}

    def _attribute(
        self, conn: Connection, items: Sequence[NewEvent], now: float, window_s: float
    ) -> None:
        """Recall the click memory of the events' identities, let the domain enrich the events,
        and save the entries that changed."""
        cutoff = now - window_s
        recalled: dict[str, ClickMemory] = {}
        ph = bulk.placeholder(conn)
        for identities in _chunks(sorted(attribution.identities_to_recall(items))):
            chunk = bulk.padded(identities)
            sql = bulk.in_list_sql(ph, _RECALL_SQL.format(ph=ph), len(chunk))
            for identity, *fields in bulk.raw_query(conn, sql, [cutoff, cutoff, *chunk]):
                recalled[identity] = ClickMemory(*fields)
        changed = attribution.attribute(items, recalled, now, cutoff)
        rows = [(h, m.ttclid, m.ttclid_at, m.ttp, m.ttp_at) for h, m in sorted(changed.items())]
        bulk.run_values(conn, _REMEMBER_HEAD, rows, _REMEMBER_TAIL)


_RECALL_SQL = (
    "SELECT identity_hash, ttclid, ttclid_at, ttp, ttp_at FROM click_ids "
    "WHERE (ttclid_at >= {ph} OR ttp_at >= {ph}) AND identity_hash IN"
)
_INSERT_EVENTS = f"INSERT INTO events ({', '.join(event_rows.EVENT_COLUMNS)})"
_DUPLICATE = IngestOutcome(None, Status.DUPLICATE.value)
_REMEMBER_HEAD = "INSERT INTO click_ids (identity_hash, ttclid, ttclid_at, ttp, ttp_at)"
# A value and its time travel together: a NULL value in the new row keeps the stored pair.
_REMEMBER_TAIL = (
    "ON CONFLICT (identity_hash) DO UPDATE SET "
    "ttclid = COALESCE(excluded.ttclid, click_ids.ttclid), "
    "ttclid_at = COALESCE(excluded.ttclid_at, click_ids.ttclid_at), "
    "ttp = COALESCE(excluded.ttp, click_ids.ttp), "
    "ttp_at = COALESCE(excluded.ttp_at, click_ids.ttp_at)"
)
