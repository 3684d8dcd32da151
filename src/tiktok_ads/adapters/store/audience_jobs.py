"""Store verbs for audience jobs: open, stage ids, queue, claim (the oldest open job of an
audience only, never shared), keep the claim, retry, fail."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Connection

from tiktok_ads.adapters.store.base import StoreBase
from tiktok_ads.adapters.store.schema import (
    audience_job_members,
    audience_job_rows,
    audience_jobs,
    audiences,
)
from tiktok_ads.domain.audience_jobs import (
    OPEN_STATUSES,
    AudienceJob,
    AudienceStatus,
    JobAction,
    JobStatus,
)
from tiktok_ads.domain.audiences import Member, Packed

_RETURNING = ", ".join(AudienceJob.__dataclass_fields__)


def job_is_ours(conn: Connection, fence: tuple[int, int], lock: bool) -> bool:
    """Whether the job is still running under this claim (no other worker took it over)."""
    job_id, attempts = fence
    query = select(audience_jobs.c.status, audience_jobs.c.attempts).where(
        audience_jobs.c.id == job_id
    )
    row = conn.execute(query.with_for_update() if lock else query).first()
    return row is not None and (row.status, row.attempts) == (JobStatus.RUNNING.value, attempts)


def queue_staged_job(
    conn: Connection, job_id: int, rows: int, invalid: int, report: str | None, now: float
) -> int:
    """A job whose ids went straight into its sorted set (`stage_job_members`: refreshes)
    joins its audience's line, sealed; returns how many ids it staged."""
    staged = conn.execute(
        select(func.count())
        .select_from(audience_job_members)
        .where(audience_job_members.c.job_id == job_id)
    ).scalar_one()
    _queue_job(
        conn, job_id, rows=rows, staged=staged, invalid=invalid, report=report, sealed=True, now=now
    )
    return int(staged)


def _queue_job(
    conn: Connection,
    job_id: int,
    *,
    rows: int,
    staged: int,
    invalid: int,
    report: str | None,
    sealed: bool,
    now: float,
) -> None:
    """A staging job becomes work: it joins its audience's line at `now` with its counts (rows
    read, ids staged, invalid values, the first bad rows), and the audience is busy."""
    job = conn.execute(
        update(audience_jobs)
        .where(audience_jobs.c.id == job_id)
        .values(
            status=JobStatus.QUEUED.value,
            accepted_at=now,
            next_attempt_at=now,
            row_count=rows,
            invalid=invalid,
            staged=staged,
            report=report,
            sealed=sealed,
            updated_at=now,
        )
        .returning(audience_jobs.c.audience_id, audience_jobs.c.action)
    ).one()
    mark_audience_busy(conn, job.audience_id, JobAction(job.action), now)


def settle_audience_status(conn: Connection, audience_id: int, job_id: int, failed: bool) -> None:
    """The audience's status once a job ends: more work queued, or this job's outcome."""
    others = conn.execute(
        select(func.count())
        .select_from(audience_jobs)
        .where(
            audience_jobs.c.audience_id == audience_id,
            audience_jobs.c.id != job_id,
            audience_jobs.c.status.in_(OPEN_STATUSES),
        )
    ).scalar_one()
    row = conn.execute(
        select(audiences.c.status, audiences.c.tiktok_audience_id).where(
            audiences.c.id == audience_id
        )
    ).first()
    if row is None or row.status == AudienceStatus.DELETING.value:
        return
    if others:
        status = AudienceStatus.SYNCING
    elif failed:
        status = AudienceStatus.FAILED
    else:
        status = AudienceStatus.READY if row.tiktok_audience_id else AudienceStatus.PENDING
    conn.execute(update(audiences).where(audiences.c.id == audience_id).values(status=status.value))


class AudienceJobs(StoreBase):
    async def open_audience_job(
        self,
        audience_id: int,
        action: JobAction,
        *,
        now: float,
        deadline_at: float,
        params: str | None = None,
        staging: bool = False,
    ) -> int:
        """A new job: `staging` waits for its ids (invisible to workers), else it is queued."""

        def run(conn: Connection) -> int:
            status = JobStatus.STAGING if staging else JobStatus.QUEUED
            result = conn.execute(
                audience_jobs.insert().values(
                    audience_id=audience_id,
                    action=action.value,
                    status=status.value,
                    params=params,
                    accepted_at=None if staging else now,
                    next_attempt_at=now,
                    deadline_at=deadline_at,
                    created_at=now,
                    updated_at=now,
                )
            )
            if not staging:
                mark_audience_busy(conn, audience_id, action, now)
            return int(result.inserted_primary_key[0])  # type: ignore[index]

        return await self._write_tx(run)

    async def stage_job_ids(self, job_id: int, seq: int, packed: Packed) -> int:
        """Add a batch of ids, packed by (type, bucket), to a staging job; returns how many."""
        rows = [
            {"job_id": job_id, "bucket": bucket, "seq": seq, "id_type": t, "id_hashes": hashes}
            for (t, bucket), hashes in packed.items()
        ]

        def run(conn: Connection) -> None:
            if rows:
                conn.execute(audience_job_rows.insert(), rows)

        await self._write_tx(run)
        return sum(len(hashes) for hashes in packed.values()) // 64

    async def stage_job_members(self, job_id: int, members: Iterable[Member]) -> int:
        """Ids straight into a staging job's sorted set (jobs the service builds itself, such
        as a refresh; uploads arrive by `stage_job_ids`); repeats collapse."""
        by_type: dict[int, list[str]] = {}
        for id_type, id_hash in members:
            by_type.setdefault(int(id_type), []).append(id_hash)
        for hashes in by_type.values():
            hashes.sort()

        def run(conn: Connection) -> int:
            from tiktok_ads.adapters.store.audience_sealing import insert_sorted  # (a cycle)

            return insert_sorted(conn, "audience_job_members", job_id, by_type)

        return await self._write_tx(run)

    async def queue_audience_job(
        self, job_id: int, *, rows: int, ids: int, invalid: int, report: str | None, now: float
    ) -> None:
        """The staged job becomes work: this is the moment of the 202. Its ids arrived in
        batches (`stage_job_ids`), not yet sorted: it is not sealed."""

        def run(conn: Connection) -> None:
            _queue_job(
                conn,
                job_id,
                rows=rows,
                staged=ids,
                invalid=invalid,
                report=report,
                sealed=False,
                now=now,
            )

        await self._write_tx(run)

    async def claim_audience_job(self, now: float, lease_until: float) -> AudienceJob | None:
        """The next due job that heads its audience's line; a lost claim is taken over."""
        lock = "FOR UPDATE OF j SKIP LOCKED" if self.is_postgres else ""
        sql = text(
            f"""
            UPDATE audience_jobs SET status = 'running', lease_until = :lease_until,
                   attempts = attempts + 1, updated_at = :now
            WHERE id IN (
                SELECT j.id FROM audience_jobs j
                WHERE ((j.status = 'queued' AND j.next_attempt_at <= :now)
                       OR (j.status = 'running' AND j.lease_until < :now))
                  AND NOT EXISTS (
                      SELECT 1 FROM audience_jobs o
                      WHERE o.audience_id = j.audience_id AND o.status IN ('queued', 'running')
                        AND (o.accepted_at < j.accepted_at
                             OR (o.accepted_at = j.accepted_at AND o.id < j.id)))
                ORDER BY j.next_attempt_at, j.id LIMIT 1 {lock})
            RETURNING {_RETURNING}
            """
        )

        def claim(conn: Connection) -> AudienceJob | None:
            row = conn.execute(sql, {"now": now, "lease_until": lease_until}).first()
            return AudienceJob(**row._mapping) if row else None

        return await self._write_tx(claim)

    async def extend_audience_lease(self, fence: tuple[int, int], lease_until: float) -> bool:
        """Keep a long job's claim; False when another worker has taken it over."""

        def run(conn: Connection) -> bool:
            job_id, attempts = fence
            result = conn.execute(
                update(audience_jobs)
                .where(
                    audience_jobs.c.id == job_id,
                    audience_jobs.c.attempts == attempts,
                    audience_jobs.c.status == JobStatus.RUNNING.value,
                )
                .values(lease_until=lease_until)
            )
            return bool(result.rowcount)

        return await self._write_tx(run)

    async def retry_audience_job(
        self,
        fence: tuple[int, int],
        *,
        at: float,
        count_attempt: bool,
        answer: tuple[int | None, str, str | None],
        now: float,
    ) -> bool:
        """Back to the queue until `at`, with TikTok's answer; the line stays behind it."""

        def run(conn: Connection) -> bool:
            if not job_is_ours(conn, fence, self.is_postgres):
                return False
            code, message, request_id = answer
            attempts = audience_jobs.c.attempts - (0 if count_attempt else 1)
            conn.execute(
                update(audience_jobs)
                .where(audience_jobs.c.id == fence[0])
                .values(
                    status=JobStatus.QUEUED.value,
                    next_attempt_at=at,
                    lease_until=None,
                    attempts=attempts,
                    last_code=code,
                    last_message=message[:2000],
                    last_request_id=request_id,
                    updated_at=now,
                )
            )
            return True

        return await self._write_tx(run)

    async def fail_audience_job(
        self,
        fence: tuple[int, int],
        audience_id: int,
        *,
        answer: tuple[int | None, str, str | None],
        now: float,
    ) -> bool:
        """The job fails for good with the reason; the audience shows it."""

        def run(conn: Connection) -> bool:
            if not job_is_ours(conn, fence, self.is_postgres):
                return False
            code, message, request_id = answer
            last = {
                "last_code": code,
                "last_message": message[:2000],
                "last_request_id": request_id,
            }
            conn.execute(
                update(audience_jobs)
                .where(audience_jobs.c.id == fence[0])
                .values(
                    status=JobStatus.FAILED.value,
                    lease_until=None,
                    finished_at=now,
                    updated_at=now,
                    **last,
                )
            )
            conn.execute(
                update(audiences)
                .where(audiences.c.id == audience_id)
                .values(last_sync_at=now, updated_at=now, **last)
            )
            settle_audience_status(conn, audience_id, fence[0], failed=True)
            return True

        return await self._write_tx(run)


def mark_audience_busy(conn: Connection, audience_id: int, action: JobAction, now: float) -> None:
    status = AudienceStatus.DELETING if action is JobAction.DELETE else AudienceStatus.SYNCING
    keep = audiences.c.status != AudienceStatus.DELETING.value
    conn.execute(
        update(audiences)
        .where(audiences.c.id == audience_id, keep)
        .values(status=status.value, updated_at=now)
    )
