"""Store verbs that tidy audience data in chunks: the ids of finished or abandoned jobs, and
the rows of a deleted audience. SQLite's writer lock is never held for long."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, delete, select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from tiktok_ads.adapters.store.base import StoreBase
from tiktok_ads.adapters.store.schema import (
    audience_job_members,
    audience_job_rows,
    audience_jobs,
    audience_members,
)
from tiktok_ads.domain.audience_jobs import OPEN_STATUSES, JobStatus

#: Rows deleted per transaction.
DELETE_CHUNK = 50_000


def delete_chunk(conn: Connection, table: Table, owner: ColumnElement[Any], limit: int) -> int:
    """Delete up to `limit` rows matching `owner`, in the order of the table's key after
    `owner`'s column: the `limit`-th key bounds the DELETE, which works alike everywhere."""
    keys = [c for c in table.primary_key.columns if c.name not in ("job_id", "audience_id")]
    last = conn.execute(
        select(*keys).where(owner).order_by(*keys).offset(limit - 1).limit(1)
    ).first()
    stmt = delete(table).where(owner)
    if last is not None:
        stmt = stmt.where(tuple_(*keys) <= tuple_(*last))
    return int(conn.execute(stmt).rowcount)


def delete_job_ids(conn: Connection, job_ids: Any) -> int:
    """One chunk of the ids of some jobs (as they arrived, then sorted)."""
    gone = delete_chunk(
        conn, audience_job_rows, audience_job_rows.c.job_id.in_(job_ids), DELETE_CHUNK
    )
    if gone:
        return gone
    owner = audience_job_members.c.job_id.in_(job_ids)
    return delete_chunk(conn, audience_job_members, owner, DELETE_CHUNK)


class AudienceTidy(StoreBase):
    async def discard_staged_job(self, job_id: int) -> None:
        """Drop a job whose staging failed (bad input, a refused upload): it never was accepted."""

        def run(conn: Connection) -> int:
            gone = delete_job_ids(conn, [job_id])
            if gone == 0:
                conn.execute(audience_jobs.delete().where(audience_jobs.c.id == job_id))
            return gone

        while await self._write_tx(run):
            pass

    async def jobs_to_tidy(
        self, *, finished_since: float, staging_before: float, limit: int = 100
    ) -> list[int]:
        """Jobs finished since `finished_since` whose ids are still there (the worker stopped
        before tidying), and staging cut off before `staging_before`."""

        def read(conn: Connection) -> list[int]:
            held = [
                select(table.c.job_id).where(table.c.job_id == audience_jobs.c.id).exists()
                for table in (audience_job_rows, audience_job_members)
            ]
            finished = (
                audience_jobs.c.status.in_((JobStatus.DONE.value, JobStatus.FAILED.value))
                & (audience_jobs.c.finished_at >= finished_since)
                & (held[0] | held[1])
            )
            abandoned = (audience_jobs.c.status == JobStatus.STAGING.value) & (
                audience_jobs.c.created_at < staging_before
            )
            query = select(audience_jobs.c.id).where(finished | abandoned).limit(limit)
            return [int(pk) for (pk,) in conn.execute(query)]

        return await self._read_tx(read)

    async def tidy_job(self, job_id: int) -> int:
        """Delete one chunk of a finished or abandoned job's ids; once none are left, an
        abandoned (staging) job goes too. Returns how many went (0: done). A queued or
        running job is left alone."""

        def run(conn: Connection) -> int:
            status = conn.execute(
                select(audience_jobs.c.status).where(audience_jobs.c.id == job_id)
            ).scalar()
            if status in OPEN_STATUSES:
                return 0  # its ids are still the work to do
            gone = delete_job_ids(conn, [job_id])
            if not gone:
                conn.execute(
                    audience_jobs.delete().where(
                        audience_jobs.c.id == job_id,
                        audience_jobs.c.status == JobStatus.STAGING.value,
                    )
                )
            return gone

        return await self._write_tx(run)

    async def forget_audience_rows(self, audience_id: int, *, members: bool) -> int:
        """Delete one chunk of an audience's member rows (`members`) or of its jobs' ids;
        returns how many went (0: none left)."""

        def run(conn: Connection) -> int:
            if members:
                owner = audience_members.c.audience_id == audience_id
                return delete_chunk(conn, audience_members, owner, DELETE_CHUNK)
            jobs = select(audience_jobs.c.id).where(audience_jobs.c.audience_id == audience_id)
            return delete_job_ids(conn, jobs.scalar_subquery())

        return await self._write_tx(run)
