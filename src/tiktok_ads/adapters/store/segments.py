"""Store verbs of rule segments: the rule's events read with the database's JSON functions
(SQLite json_extract / json_each, PostgreSQL jsonb), streamed into a segment builder; the
refresh's job queued (or dropped when it would change nothing); due refreshes claimed.

The SQL selects and filters (type, window, pixels, contents) and hands back one short row per
event: whether it is of the rule's type, its value, and its user object and limited_data_use.
Grouping identifiers into people is union-find (`domain.segments`), which SQLite's joins on
64-character keys did at a quarter of the speed.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import bindparam, exists, func, select, text, update
from sqlalchemy.engine import Connection

from tiktok_ads.adapters.store.audience_jobs import queue_staged_job
from tiktok_ads.adapters.store.base import StoreBase
from tiktok_ads.adapters.store.schema import (
    audience_job_members,
    audience_jobs,
    audience_members,
    audiences,
)
from tiktok_ads.domain.audience_jobs import OPEN_STATUSES, AudienceStatus
from tiktok_ads.domain.audience_rules import SegmentRule
from tiktok_ads.domain.segments import SegmentBuilder

FETCH_ROWS = 5000

# (the payload as parsed once, the user object and limited_data_use as one JSON array, the
# contents to search, a content's id, a content's category) for each dialect. SQLite's
# json_extract parses the text once for several paths; PostgreSQL parses it once into jsonb,
# and each further `->` only copies a part.
_SQLITE = (
    "e.payload",
    "json_extract(d.doc, '$.user', '$.limited_data_use')",
    "json_each(d.doc, '$.properties.contents') c",
    "json_extract(c.value, '$.content_id')",
    "json_extract(c.value, '$.content_category')",
)
_POSTGRES = (
    "e.payload::jsonb",
    "jsonb_build_array(d.doc->'user', d.doc->'limited_data_use')::text",
    "jsonb_array_elements(CASE jsonb_typeof(d.doc->'properties'->'contents') "
    "WHEN 'array' THEN d.doc->'properties'->'contents' ELSE '[]'::jsonb END) c",
    "c->>'content_id'",
    "c->>'content_category'",
)


def segment_sql(postgres: bool, rule: SegmentRule) -> Any:
    """The rule's events (and those of the type it excludes) within the window, one short
    row each: (of the rule's type, value, `[user, limited_data_use]` as JSON text)."""
    doc, who, contents, content_id, category = _POSTGRES if postgres else _SQLITE
    names = ":event_type" if rule.without_event_type is None else ":event_type, :without"
    content: list[str] = []
    if rule.content_ids:
        content.append(f"{content_id} IN :content_ids")
    if rule.content_category is not None:
        content.append(f"lower({category}) = :category")
    # The content filter applies to the rule's events only, not to those it excludes.
    having = (
        f"WHERE NOT d.matches OR EXISTS (SELECT 1 FROM {contents} WHERE {' AND '.join(content)})"
        if content
        else ""
    )
    sql = text(
        f"""
        SELECT d.matches, d.value, {who} AS who
        FROM (SELECT e.event_name = :event_type AS matches, e.value, {doc} AS doc
              FROM events e
              WHERE e.pixel_id IN :pixels AND e.event_time >= :since
                AND e.payload IS NOT NULL AND e.status <> 'skipped'
                AND e.event_name IN ({names})
              {"OFFSET 0" if postgres else ""}) d
        {having}
        """
    ).bindparams(bindparam("pixels", expanding=True))
    if rule.content_ids:
        sql = sql.bindparams(bindparam("content_ids", expanding=True))
    return sql


def overlapped(fetch: Callable[[], Sequence[Any]], consume: Callable[[Any], None]) -> int:
    """Fetch chunks in another thread while this one consumes them: the database driver lets
    go of the GIL while SQLite or the network works, so reading and grouping share 2 cores.
    Returns how many rows were consumed."""
    chunks: queue.Queue[Sequence[Any] | BaseException | None] = queue.Queue(maxsize=4)
    stop = threading.Event()

    def produce() -> None:
        try:
            while not stop.is_set() and (rows := fetch()):
                chunks.put(rows)
        except BaseException as exc:  # handed to the consumer, which raises it
            chunks.put(exc)
        else:
            chunks.put(None)

    reader = threading.Thread(target=produce, name="segment-reader", daemon=True)
    reader.start()
    consumed = 0
    try:
        while (item := chunks.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            consume(item)
            consumed += len(item)
    finally:
        stop.set()
        while reader.is_alive():  # unblock a reader waiting on a full queue
            with contextlib.suppress(queue.Empty):
                chunks.get(timeout=0.05)
        reader.join()
    return consumed


class Segments(StoreBase):
    async def scan_rule_events(
        self, rule: SegmentRule, pixels: Sequence[str], since: int, sink: SegmentBuilder
    ) -> int:
        """Feed `sink` every event the rule reads (in the store's thread: the grouping stays
        off the event loop); returns how many events were read."""
        params: dict[str, Any] = {
            "event_type": rule.event_type,
            "pixels": list(pixels),
            "since": since,
            "content_ids": list(rule.content_ids),
            "category": (rule.content_category or "").lower(),
            "without": rule.without_event_type,
        }
        sql = segment_sql(self.is_postgres, rule)

        def read(conn: Connection) -> int:
            if not pixels:
                return 0
            result = conn.execution_options(stream_results=True).execute(sql, params)
            return overlapped(lambda: result.fetchmany(FETCH_ROWS), sink.add_events)

        return await self._read_tx(read)

    async def claim_due_refreshes(self, now: float, next_due: float, limit: int = 50) -> list[int]:
        """Rule audiences whose periodic refresh is due, each taken by moving its due time on
        (one worker per round, whatever the number of workers)."""
        due = (
            select(audiences.c.id)
            .where(
                audiences.c.source == "rule",
                audiences.c.status != AudienceStatus.DELETING.value,
                (audiences.c.refresh_due_at.is_(None)) | (audiences.c.refresh_due_at <= now),
            )
            .order_by(audiences.c.refresh_due_at, audiences.c.id)
            .limit(limit)
        )
        if self.is_postgres:
            due = due.with_for_update(skip_locked=True)

        def run(conn: Connection) -> list[int]:
            stmt = (
                update(audiences)
                .where(audiences.c.id.in_(due.scalar_subquery()))
                .values(refresh_due_at=next_due)
                .returning(audiences.c.id)
            )
            return sorted(int(pk) for (pk,) in conn.execute(stmt))

        return await self._write_tx(run)

    async def finish_refresh(
        self,
        job_id: int,
        audience_id: int,
        *,
        erasures: int,
        counts: str,
        now: float,
        next_due: float,
        keep_unchanged: bool,
    ) -> str:
        """The refresh's staged job joins the audience's line: "queued"; or it is not needed
        (`keep_unchanged` false, TikTok holds exactly the segment, no job ahead): "unchanged";
        or an erasure came meanwhile (it may have staged an erased id): "stale"; or the
        audience is gone or being deleted: "gone". The last three leave the job staging for
        the caller to discard."""

        def run(conn: Connection) -> str:
            query = select(
                audiences.c.erasures, audiences.c.status, audiences.c.tiktok_audience_id
            ).where(audiences.c.id == audience_id)
            row = conn.execute(query.with_for_update() if self.is_postgres else query).first()
            if row is None or row.status == AudienceStatus.DELETING.value:
                return "gone"
            if row.erasures != erasures:
                return "stale"
            seen = {"refreshed_at": now, "segment_counts": counts, "refresh_due_at": next_due}
            conn.execute(update(audiences).where(audiences.c.id == audience_id).values(seen))
            if (
                not keep_unchanged
                and row.tiktok_audience_id
                and _unchanged(conn, job_id, audience_id)
            ):
                return "unchanged"
            queue_staged_job(conn, job_id, 0, 0, None, now)
            return "queued"

        return await self._write_tx(run)


def _unchanged(conn: Connection, job_id: int, audience_id: int) -> bool:
    """No other job open for the audience, and the staged ids are exactly its members."""
    job = audience_jobs.c
    staged, held = audience_job_members.c, audience_members.c
    others = select(func.count()).where(
        job.audience_id == audience_id, job.id != job_id, job.status.in_(OPEN_STATUSES)
    )
    if conn.execute(others.select_from(audience_jobs)).scalar_one():
        return False
    new = exists().where(
        staged.job_id == job_id,
        ~exists().where(
            held.audience_id == audience_id,
            held.id_type == staged.id_type,
            held.id_hash == staged.id_hash,
        ),
    )
    gone = exists().where(
        held.audience_id == audience_id,
        ~exists().where(
            staged.job_id == job_id,
            staged.id_type == held.id_type,
            staged.id_hash == held.id_hash,
        ),
    )
    return not conn.execute(select(new | gone)).scalar_one()
