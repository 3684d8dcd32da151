"""Store verbs for audiences themselves (create: one per advertiser and name) and reads of
their jobs."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from tiktok_ads.adapters.store.base import StoreBase
from tiktok_ads.adapters.store.schema import audience_jobs, audiences
from tiktok_ads.domain.audience_jobs import AudienceJob, AudienceRow, JobStatus

AUDIENCE_COLUMNS = [audiences.c[name] for name in AudienceRow.__dataclass_fields__]
JOB_COLUMNS = [audience_jobs.c[name] for name in AudienceJob.__dataclass_fields__]


def audience_row(conn: Connection, audience_id: int) -> AudienceRow | None:
    row = conn.execute(select(*AUDIENCE_COLUMNS).where(audiences.c.id == audience_id)).first()
    return AudienceRow(**row._mapping) if row else None


class AudienceRows(StoreBase):
    async def create_audience(
        self,
        *,
        advertiser_id: str,
        name: str,
        audience_type: str,
        source: str,
        backend: str,
        status: str,
        now: float,
        rule: str | None = None,
        lookalike_of: int | None = None,
        lookalike_spec: str | None = None,
        refresh_due_at: float | None = None,
    ) -> tuple[AudienceRow, bool]:
        """(the audience, whether it is new); an existing (advertiser, name) is returned as is."""
        values = {
            "advertiser_id": advertiser_id,
            "name": name,
            "audience_type": audience_type,
            "source": source,
            "backend": backend,
            "status": status,
            "rule": rule,
            "lookalike_of": lookalike_of,
            "lookalike_spec": lookalike_spec,
            "refresh_due_at": refresh_due_at,
            "created_at": now,
            "updated_at": now,
        }

        def run(conn: Connection) -> tuple[AudienceRow, bool]:
            stmt = (
                self.insert(audiences)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["advertiser_id", "name"])
                .returning(audiences.c.id)
            )
            inserted = conn.execute(stmt).first()
            query = select(*AUDIENCE_COLUMNS).where(
                audiences.c.advertiser_id == advertiser_id, audiences.c.name == name
            )
            row = conn.execute(query).one()
            return AudienceRow(**row._mapping), inserted is not None

        return await self._write_tx(run)

    async def get_audience(self, audience_id: int) -> AudienceRow | None:
        return await self._read_tx(audience_row, audience_id)

    async def list_audiences(
        self,
        *,
        advertiser_id: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
        advertisers: frozenset[str] | None = None,
    ) -> list[AudienceRow]:
        """Newest first; `advertisers`: only theirs (None: every advertiser)."""

        def read(conn: Connection) -> list[AudienceRow]:
            query = select(*AUDIENCE_COLUMNS).order_by(audiences.c.id.desc()).limit(limit)
            if advertisers is not None:
                query = query.where(audiences.c.advertiser_id.in_(sorted(advertisers)))
            if advertiser_id is not None:
                query = query.where(audiences.c.advertiser_id == advertiser_id)
            if before_id is not None:
                query = query.where(audiences.c.id < before_id)
            return [AudienceRow(**r._mapping) for r in conn.execute(query)]

        return await self._read_tx(read)

    async def count_audiences(self, advertiser_id: str, other_than: str | None = None) -> int:
        """The advertiser's audiences, not counting one named `other_than`."""

        def read(conn: Connection) -> int:
            query = select(func.count()).where(audiences.c.advertiser_id == advertiser_id)
            if other_than is not None:
                query = query.where(audiences.c.name != other_than)
            return int(conn.execute(query.select_from(audiences)).scalar_one())

        return await self._read_tx(read)

    async def get_audience_job(self, job_id: int) -> AudienceJob | None:
        def read(conn: Connection) -> AudienceJob | None:
            row = conn.execute(select(*JOB_COLUMNS).where(audience_jobs.c.id == job_id)).first()
            return AudienceJob(**row._mapping) if row else None

        return await self._read_tx(read)

    async def audience_jobs_of(self, audience_id: int, limit: int = 10) -> list[AudienceJob]:
        """The audience's latest jobs, newest first (staging ones are not yet jobs)."""

        def read(conn: Connection) -> list[AudienceJob]:
            query = (
                select(*JOB_COLUMNS)
                .where(
                    audience_jobs.c.audience_id == audience_id,
                    audience_jobs.c.status != JobStatus.STAGING.value,
                )
                .order_by(audience_jobs.c.id.desc())
                .limit(limit)
            )
            return [AudienceJob(**r._mapping) for r in conn.execute(query)]

        return await self._read_tx(read)

    async def audience_job_counts(self, audience_id: int) -> dict[str, int]:
        def read(conn: Connection) -> dict[str, int]:
            query = (
                select(audience_jobs.c.status, func.count())
                .where(audience_jobs.c.audience_id == audience_id)
                .group_by(audience_jobs.c.status)
            )
            return {status: int(n) for status, n in conn.execute(query)}

        return await self._read_tx(read)
