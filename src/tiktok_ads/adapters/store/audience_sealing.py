"""Store verbs that sort a job's ids a bucket at a time: into the job's sorted set ("sealing",
needed to compare with a non-empty audience both ways), or straight into the members of an
empty audience. Sorted inserts are what a B-tree takes fastest; a bucket at a time keeps each
transaction short."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Select, func, literal, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from tiktok_ads.adapters.store.audience_jobs import job_is_ours
from tiktok_ads.adapters.store.audience_rows import JOB_COLUMNS
from tiktok_ads.adapters.store.base import StoreBase
from tiktok_ads.adapters.store.schema import (
    audience_job_members,
    audience_job_rows,
    audience_jobs,
    audience_members,
    audiences,
)
from tiktok_ads.domain.audience_jobs import AudienceJob

BUCKETS = range(16)
rows = audience_job_rows


def _bucket(job_id: int, bucket: int, first: ColumnElement[int]) -> Select[Any]:
    return (
        select(first, rows.c.id_type, rows.c.id_hash)
        .where(rows.c.job_id == job_id, rows.c.bucket == bucket)
        .order_by(rows.c.id_type, rows.c.id_hash)
    )


class AudienceSealing(StoreBase):
    async def seal_job_bucket(self, fence: tuple[int, int], bucket: int) -> bool:
        """One bucket of the job's ids into its sorted set (again is harmless)."""
        job_id = fence[0]

        def run(conn: Connection) -> bool:
            if not job_is_ours(conn, fence, self.is_postgres):
                return False
            stmt = (
                self.insert(audience_job_members)
                .from_select(
                    ["job_id", "id_type", "id_hash"],
                    _bucket(job_id, bucket, literal(job_id, BigInteger)),
                )
                .on_conflict_do_nothing()
            )
            conn.execute(stmt)
            return True

        return await self._write_tx(run)

    async def mark_job_sealed(self, fence: tuple[int, int], now: float) -> AudienceJob | None:
        """Every bucket is in: the job, now sealed, with its count of distinct ids."""
        job_id = fence[0]

        def run(conn: Connection) -> AudienceJob | None:
            if not job_is_ours(conn, fence, self.is_postgres):
                return None
            distinct = conn.execute(
                select(func.count())
                .select_from(audience_job_members)
                .where(audience_job_members.c.job_id == job_id)
            ).scalar_one()
            row = conn.execute(
                update(audience_jobs)
                .where(audience_jobs.c.id == job_id)
                .values(sealed=True, staged=distinct, updated_at=now)
                .returning(*JOB_COLUMNS)
            ).one()
            return AudienceJob(**row._mapping)

        return await self._write_tx(run)

    async def add_job_bucket(
        self, fence: tuple[int, int], audience_id: int, bucket: int, now: float
    ) -> bool:
        """One bucket of the job's ids into the audience's members, which TikTok now holds."""
        job_id = fence[0]

        def run(conn: Connection) -> bool:
            if not job_is_ours(conn, fence, self.is_postgres):
                return False
            stmt = (
                self.insert(audience_members)
                .from_select(
                    ["audience_id", "id_type", "id_hash"],
                    _bucket(job_id, bucket, literal(audience_id, BigInteger)),
                )
                .on_conflict_do_nothing()
                .execution_options(preserve_rowcount=True)
            )
            added = int(conn.execute(stmt).rowcount)
            if added:
                conn.execute(
                    update(audiences)
                    .where(audiences.c.id == audience_id)
                    .values(member_count=audiences.c.member_count + added, updated_at=now)
                )
                conn.execute(
                    update(audience_jobs)
                    .where(audience_jobs.c.id == job_id)
                    .values(added=audience_jobs.c.added + added)
                )
            return True

        return await self._write_tx(run)
