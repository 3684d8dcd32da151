"""Store verbs of erasure: the events naming a person (found by their hashes in the stored
payload text, then checked field by field by the caller), their identity taken out, the
click-id memory keyed by them forgotten, and their ids taken out of every audience through
REMOVE jobs, in one transaction with what keeps a concurrent refresh from putting them back."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, and_, delete, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from tiktok_ads.adapters.store.audience_jobs import mark_audience_busy
from tiktok_ads.adapters.store.base import StoreBase
from tiktok_ads.adapters.store.schema import (
    audience_job_members,
    audience_jobs,
    audience_members,
    audiences,
    click_ids,
    events,
)
from tiktok_ads.domain.audience_jobs import AudienceStatus, JobAction, JobStatus
from tiktok_ads.domain.audiences import Member

#: Jobs whose staged ids are still to be sent (staging ones are still being written).
UNFINISHED = (JobStatus.STAGING.value, JobStatus.QUEUED.value, JobStatus.RUNNING.value)


def _any_member(table: Table, members: Sequence[Member]) -> ColumnElement[bool]:
    columns = table.c
    return or_(*(and_(columns.id_type == t, columns.id_hash == h) for t, h in members))


class Erasure(StoreBase):
    async def events_naming(
        self, hashes: Sequence[str], after_id: int, limit: int = 1000
    ) -> list[tuple[int, str, str]]:
        """(id, payload, match keys) of events whose payload holds one of `hashes`, in id
        order after `after_id`. A 64-hex hash in the text finds them without an index on
        identities; the caller reads each payload to see where the hash stands."""

        def read(conn: Connection) -> list[tuple[int, str, str]]:
            if not hashes:
                return []
            mentions = or_(*(events.c.payload.like(f"%{h}%") for h in hashes))
            query = (
                select(events.c.id, events.c.payload, events.c.match_keys)
                .where(events.c.id > after_id, events.c.payload.is_not(None), mentions)
                .order_by(events.c.id)
                .limit(limit)
            )
            return [(int(pk), str(doc), str(keys)) for pk, doc, keys in conn.execute(query)]

        return await self._read_tx(read)

    async def strip_event_identities(self, changes: Sequence[tuple[int, str, str]]) -> int:
        """(event id, payload without identity, match keys left): written, ip and user agent
        cleared. Returns how many events changed."""

        def run(conn: Connection) -> int:
            changed = 0
            for pk, payload, match_keys in changes:
                stmt = (
                    update(events)
                    .where(events.c.id == pk)
                    .values(
                        payload=payload,
                        match_keys=match_keys,
                        ip=None,
                        user_agent=None,
                        user_last=False,
                    )
                )
                changed += int(conn.execute(stmt).rowcount)
            return changed

        return await self._write_tx(run)

    async def forget_click_ids(self, hashes: Sequence[str]) -> int:
        def run(conn: Connection) -> int:
            if not hashes:
                return 0
            stmt = delete(click_ids).where(click_ids.c.identity_hash.in_(list(hashes)))
            return int(conn.execute(stmt).rowcount)

        return await self._write_tx(run)

    async def erase_members(
        self, members: Sequence[Member], *, now: float, deadline_at: float
    ) -> list[tuple[int, int]]:
        """(audience id, REMOVE job id) for every audience holding one of `members` or with a
        job about to send one. In the same transaction: the ids leave every unfinished job
        (what is queued no longer adds them) and every rule audience counts one more erasure
        (a refresh that read the events before they were stripped is not queued)."""

        def run(conn: Connection) -> list[tuple[int, int]]:
            conn.execute(
                update(audiences)
                .where(audiences.c.source == "rule")
                .values(erasures=audiences.c.erasures + 1)
            )
            if not members:
                return []
            held = select(audience_members.c.audience_id).where(
                _any_member(audience_members, members)
            )
            unfinished = audience_jobs.c.status.in_(UNFINISHED)
            open_jobs = select(audience_jobs.c.id).where(unfinished)
            staged = (
                select(audience_jobs.c.audience_id)
                .join(audience_job_members, audience_job_members.c.job_id == audience_jobs.c.id)
                .where(unfinished, _any_member(audience_job_members, members))
            )
            targets = [
                int(pk)
                for pk in conn.execute(
                    select(audiences.c.id)
                    .where(
                        audiences.c.status != AudienceStatus.DELETING.value,
                        audiences.c.id.in_(held.union(staged).scalar_subquery()),
                    )
                    .order_by(audiences.c.id)
                ).scalars()
            ]
            conn.execute(
                delete(audience_job_members).where(
                    audience_job_members.c.job_id.in_(open_jobs.scalar_subquery()),
                    _any_member(audience_job_members, members),
                )
            )
            return [(pk, _remove_job(conn, pk, members, now, deadline_at)) for pk in targets]

        return await self._write_tx(run)


def _remove_job(
    conn: Connection, audience_id: int, members: Sequence[Member], now: float, deadline_at: float
) -> int:
    result = conn.execute(
        audience_jobs.insert().values(
            audience_id=audience_id,
            action=JobAction.REMOVE.value,
            status=JobStatus.QUEUED.value,
            params='{"reason": "erasure"}',
            accepted_at=now,
            next_attempt_at=now,
            deadline_at=deadline_at,
            row_count=len(members),
            staged=len(members),
            sealed=True,  # its ids go straight into the sorted set below
            created_at=now,
            updated_at=now,
        )
    )
    job_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    conn.execute(
        audience_job_members.insert(),
        [{"job_id": job_id, "id_type": t, "id_hash": h} for t, h in members],
    )
    mark_audience_busy(conn, audience_id, JobAction.REMOVE, now)
    return job_id
