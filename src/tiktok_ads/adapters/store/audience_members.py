"""Store verbs for what TikTok holds: the difference between a job and the members, computed
in SQL page by page (`domain.audiences.plan_sync` says what it must be), and each confirmed
step recorded in one transaction with the job's progress (or its end)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Select, exists, func, literal, select, tuple_, update
from sqlalchemy.engine import Connection

from tiktok_ads.adapters.store.audience_jobs import job_is_ours, settle_audience_status
from tiktok_ads.adapters.store.base import StoreBase
from tiktok_ads.adapters.store.schema import (
    audience_job_members,
    audience_job_rows,
    audience_jobs,
    audience_members,
    audiences,
)
from tiktok_ads.domain.audience_jobs import AudienceJob, JobAction, JobStatus
from tiktok_ads.domain.audiences import Member, unpack

staged, held, arrived = audience_job_members, audience_members, audience_job_rows
Cursor = tuple[int, ...] | tuple[int, str]
_ARRIVED_KEY = (arrived.c.bucket, arrived.c.seq, arrived.c.id_type)


def _diff(job: AudienceJob, which: str) -> Select[Any] | None:
    """Ids of a sealed job to add (`which` "adds") or remove ("removes"); None when the
    action has none of that kind."""
    in_members = exists().where(
        held.c.audience_id == job.audience_id,
        held.c.id_type == staged.c.id_type,
        held.c.id_hash == staged.c.id_hash,
    )
    action = JobAction(job.action)
    ids = select(staged.c.id_type, staged.c.id_hash).where(staged.c.job_id == job.id)
    if which == "adds" and action in (JobAction.APPEND, JobAction.REPLACE):
        return ids.where(~in_members)
    if which == "removes" and action is JobAction.REMOVE:
        return ids.where(in_members)
    if which == "removes" and action is JobAction.REPLACE:
        in_job = exists().where(
            staged.c.job_id == job.id,
            staged.c.id_type == held.c.id_type,
            staged.c.id_hash == held.c.id_hash,
        )
        return select(held.c.id_type, held.c.id_hash).where(
            held.c.audience_id == job.audience_id, ~in_job
        )
    return None


def _adds_unsealed(job: AudienceJob) -> bool:
    """An unsealed job runs only against an empty audience: all its ids are to add (for
    APPEND and REPLACE; repeats and all, which TikTok and the members take as one)."""
    return JobAction(job.action) in (JobAction.APPEND, JobAction.REPLACE)


class AudienceMembers(StoreBase):
    async def job_diff_counts(self, job: AudienceJob) -> tuple[int, int]:
        """(ids TikTok must add, ids it must remove) for this job against the members now."""

        def read(conn: Connection) -> tuple[int, int]:
            if not job.sealed:
                if not _adds_unsealed(job):
                    return 0, 0
                chars = select(func.coalesce(func.sum(func.length(arrived.c.id_hashes)), 0))
                total = conn.execute(chars.where(arrived.c.job_id == job.id)).scalar_one()
                return int(total) // 64, 0
            counts = []
            for which in ("adds", "removes"):
                query = _diff(job, which)
                if query is None:
                    counts.append(0)
                else:
                    total = select(func.count()).select_from(query.subquery())
                    counts.append(int(conn.execute(total).scalar_one()))
            return counts[0], counts[1]

        return await self._read_tx(read)

    async def job_diff_page(
        self, job: AudienceJob, which: str, after: Cursor | None, limit: int
    ) -> tuple[list[Member], Cursor | None]:
        """About `limit` ids to add or remove after the cursor, and the next cursor (an
        unsealed job's ids come a packed batch at a time, so a page may hold more)."""

        def read(conn: Connection) -> tuple[list[Member], Cursor | None]:
            if not job.sealed:
                return _arrived_page(conn, job, which, after, limit)
            query = _diff(job, which)
            if query is None:
                return [], None
            key = tuple(query.selected_columns)
            if after is not None:
                query = query.where(tuple_(*key) > tuple_(*after))
            page = [(int(t), str(h)) for t, h in conn.execute(query.order_by(*key).limit(limit))]
            return page, (page[-1] if page else None)

        return await self._read_tx(read)

    async def record_audience_step(
        self,
        fence: tuple[int, int],
        audience_id: int,
        *,
        now: float,
        answer: tuple[int | None, str, str | None] | None = None,
        tiktok_audience_id: str | None = None,
        add_staged: bool = False,
        remove_staged: bool = False,
        add: Sequence[Member] = (),
        remove: Sequence[Member] = (),
        finish: bool = False,
        cover_num: int | None = None,
    ) -> bool:
        """What TikTok confirmed, in one transaction: its audience id, the members it now
        holds (the job's whole difference, or a listed page of it), and, with `finish`, the
        job done. False (nothing written) when the job is no longer this worker's claim."""

        def run(conn: Connection) -> bool:
            job_id = fence[0]
            if not job_is_ours(conn, fence, self.is_postgres):
                return False
            values: dict[str, Any] = {"updated_at": now}
            if tiktok_audience_id is not None:
                values["tiktok_audience_id"] = tiktok_audience_id
            if cover_num is not None:
                values["cover_num"] = cover_num
            added = removed = 0
            if add_staged:
                added += _add_staged(self, conn, audience_id, job_id)
            if remove_staged:
                removed += _remove_staged(conn, audience_id, job_id)
            added += _add_listed(self, conn, audience_id, add)
            removed += _remove_listed(conn, audience_id, remove)
            if added or removed:
                values["member_count"] = audiences.c.member_count + added - removed
            job_values: dict[str, Any] = {
                "added": audience_jobs.c.added + added,
                "removed": audience_jobs.c.removed + removed,
                "updated_at": now,
            }
            if answer is not None:
                last = dict(
                    zip(("last_code", "last_message", "last_request_id"), answer, strict=True)
                )
                job_values.update(last)
                values.update(last)
            if finish:
                job_values.update(status=JobStatus.DONE.value, lease_until=None, finished_at=now)
                values["last_sync_at"] = now
            conn.execute(
                update(audience_jobs).where(audience_jobs.c.id == job_id).values(job_values)
            )
            conn.execute(update(audiences).where(audiences.c.id == audience_id).values(values))
            if finish:
                settle_audience_status(conn, audience_id, job_id, failed=False)
            return True

        return await self._write_tx(run)

    async def delete_audience(self, fence: tuple[int, int], audience_id: int) -> bool:
        """The audience and its jobs go (members and staged ids went before, in chunks)."""

        def run(conn: Connection) -> bool:
            if not job_is_ours(conn, fence, self.is_postgres):
                return False
            conn.execute(held.delete().where(held.c.audience_id == audience_id))
            conn.execute(audience_jobs.delete().where(audience_jobs.c.audience_id == audience_id))
            conn.execute(audiences.delete().where(audiences.c.id == audience_id))
            return True

        return await self._write_tx(run)

    async def audience_member_page(
        self, audience_id: int, after: Member | None = None, limit: int = 10_000
    ) -> list[Member]:
        """What TikTok holds for an audience, in key order after `after`."""

        def read(conn: Connection) -> list[Member]:
            query = select(held.c.id_type, held.c.id_hash).where(held.c.audience_id == audience_id)
            if after is not None:
                query = query.where(tuple_(held.c.id_type, held.c.id_hash) > tuple_(*after))
            page = query.order_by(held.c.id_type, held.c.id_hash).limit(limit)
            return [(int(t), str(h)) for t, h in conn.execute(page)]

        return await self._read_tx(read)


def _arrived_page(
    conn: Connection, job: AudienceJob, which: str, after: Cursor | None, limit: int
) -> tuple[list[Member], Cursor | None]:
    if which != "adds" or not _adds_unsealed(job):
        return [], None
    query = select(*_ARRIVED_KEY, arrived.c.id_hashes).where(arrived.c.job_id == job.id)
    if after is not None:
        query = query.where(tuple_(*_ARRIVED_KEY) > tuple_(*after))
    page: list[Member] = []
    cursor: Cursor | None = None
    for bucket, seq, id_type, packed in conn.execute(query.order_by(*_ARRIVED_KEY)):
        page.extend((int(id_type), h) for h in unpack(packed))
        cursor = (int(bucket), int(seq), int(id_type))
        if len(page) >= limit:
            break
    return page, cursor


def _job(conn: Connection, job_id: int) -> tuple[str, bool]:
    row = conn.execute(
        select(audience_jobs.c.action, audience_jobs.c.sealed).where(audience_jobs.c.id == job_id)
    ).one()
    return str(row.action), bool(row.sealed)


def _add_staged(store: StoreBase, conn: Connection, audience_id: int, job_id: int) -> int:
    """A sealed job's ids join the members (in key order: a B-tree takes sorted inserts best;
    an unsealed job's go a bucket at a time, `AudienceSealing.add_job_bucket`)."""
    _, sealed = _job(conn, job_id)
    if not sealed:
        raise ValueError(f"job {job_id}: its ids are not sealed; add them by bucket")
    rows = (
        select(literal(audience_id, BigInteger), staged.c.id_type, staged.c.id_hash)
        .where(staged.c.job_id == job_id)
        .order_by(staged.c.id_type, staged.c.id_hash)
    )
    stmt = store.insert(held).from_select(["audience_id", "id_type", "id_hash"], rows)
    stmt = stmt.on_conflict_do_nothing().execution_options(preserve_rowcount=True)
    return int(conn.execute(stmt).rowcount)


def _remove_staged(conn: Connection, audience_id: int, job_id: int) -> int:
    """REMOVE: the job's ids leave; REPLACE: every id not in the job leaves."""
    action, sealed = _job(conn, job_id)
    if not sealed:
        raise ValueError(f"job {job_id}: removals need its ids sealed first")
    in_job = exists().where(
        staged.c.job_id == job_id,
        staged.c.id_type == held.c.id_type,
        staged.c.id_hash == held.c.id_hash,
    )
    keep = in_job if action == JobAction.REPLACE.value else ~in_job
    stmt = held.delete().where(held.c.audience_id == audience_id, ~keep)
    return int(conn.execute(stmt).rowcount)


def _add_listed(store: StoreBase, conn: Connection, audience_id: int, add: Sequence[Member]) -> int:
    added = 0
    for start in range(0, len(add), 5000):
        chunk = add[start : start + 5000]
        rows = [{"audience_id": audience_id, "id_type": t, "id_hash": h} for t, h in chunk]
        stmt = store.insert(held).on_conflict_do_nothing()
        added += int(conn.execute(stmt.execution_options(preserve_rowcount=True), rows).rowcount)
    return added


def _remove_listed(conn: Connection, audience_id: int, remove: Sequence[Member]) -> int:
    by_type: defaultdict[int, list[str]] = defaultdict(list)
    for id_type, id_hash in remove:
        by_type[id_type].append(id_hash)
    removed = 0
    for id_type, hashes in by_type.items():
        for start in range(0, len(hashes), 900):
            chunk = hashes[start : start + 900]
            stmt = held.delete().where(
                held.c.audience_id == audience_id,
                held.c.id_type == id_type,
                held.c.id_hash.in_(chunk),
            )
            removed += int(conn.execute(stmt).rowcount)
    return removed
