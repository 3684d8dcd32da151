"""Store verbs that sort a job's ids a bucket at a time: into the job's sorted set ("sealing",
needed to compare with a non-empty audience both ways), or straight into the members of an
empty audience. Sorted inserts are what a B-tree takes fastest (random ones into a big
table cost SQLite tens of µs each); a bucket at a time keeps each transaction short and the
memory bounded (a sixteenth of the job's ids)."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from tiktok_ads.adapters.store import bulk
from tiktok_ads.adapters.store.audience_jobs import job_is_ours
from tiktok_ads.adapters.store.audience_rows import JOB_COLUMNS
from tiktok_ads.adapters.store.base import StoreBase
from tiktok_ads.adapters.store.schema import (
    audience_job_members,
    audience_job_rows,
    audience_jobs,
    audiences,
)
from tiktok_ads.domain.audience_jobs import AudienceJob
from tiktok_ads.domain.audiences import Member, unpack


def bucket_ids(conn: Connection, job_id: int, bucket: int) -> list[Member]:
    """The distinct ids of one bucket of a job, in key order."""
    rows = conn.execute(
        select(audience_job_rows.c.id_type, audience_job_rows.c.id_hashes).where(
            audience_job_rows.c.job_id == job_id, audience_job_rows.c.bucket == bucket
        )
    )
    return sorted({(int(t), h) for t, packed in rows for h in unpack(packed)})


def insert_sorted(conn: Connection, table: str, owner: int, ids: list[Member]) -> int:
    """(owner, type, hash) rows in key order, repeats skipped; returns how many were new."""
    owner_column = "job_id" if table == "audience_job_members" else "audience_id"
    ph = bulk.placeholder(conn)
    sql = (
        f"INSERT INTO {table} ({owner_column}, id_type, id_hash) VALUES ({ph}, {ph}, {ph}) "
        "ON CONFLICT DO NOTHING"
    )
    if not ids:
        return 0
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, [(owner, t, h) for t, h in ids])
        return int(cursor.rowcount)
    finally:
        cursor.close()


class AudienceSealing(StoreBase):
    async def seal_job_bucket(self, fence: tuple[int, int], bucket: int) -> bool:
        """One bucket of the job's ids into its sorted set (again is harmless)."""
        job_id = fence[0]

        def run(conn: Connection) -> bool:
            if not job_is_ours(conn, fence, self.is_postgres):
                return False
            insert_sorted(conn, "audience_job_members", job_id, bucket_ids(conn, job_id, bucket))
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
            ids = bucket_ids(conn, job_id, bucket)
            added = insert_sorted(conn, "audience_members", audience_id, ids)
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
