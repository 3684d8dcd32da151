"""The audience verbs of the store on SQLite and PostgreSQL: one audience per name, jobs in
order per audience, claims never shared, the SQL difference equal to the domain's plan."""

from __future__ import annotations

import asyncio
import random
from hashlib import sha256

import pytest

from tiktok_ads.adapters.store import SqlStore
from tiktok_ads.domain.audience_jobs import AudienceJob, AudienceStatus, JobAction, JobStatus
from tiktok_ads.domain.audiences import (
    BUCKET_OF,
    IdType,
    Member,
    Packed,
    SyncAction,
    plan_sync,
)

NOW = 1_760_000_000.0
DAY = 86400.0


def ids(*names: str, id_type: IdType = IdType.EMAIL_SHA256) -> list[Member]:
    return [(id_type.value, sha256(name.encode()).hexdigest()) for name in names]


def packed(members: list[Member]) -> Packed:
    """Ids as a worker hands them over: by (type, bucket), concatenated."""
    found: dict[tuple[int, int], list[str]] = {}
    for id_type, id_hash in members:
        found.setdefault((id_type, BUCKET_OF[id_hash[:2]]), []).append(id_hash)
    return {key: "".join(hashes) for key, hashes in found.items()}


async def new_audience(store: SqlStore, name: str = "Buyers") -> int:
    row, _ = await store.create_audience(
        advertiser_id="7001",
        name=name,
        audience_type="CUSTOMER_FILE",
        source="list",
        backend="file",
        status="pending",
        now=NOW,
    )
    return row.id


async def queued_job(
    store: SqlStore, audience_id: int, action: JobAction, members: list[Member], at: float = NOW
) -> int:
    job_id = await store.open_audience_job(
        audience_id, action, now=at, deadline_at=at + 2 * DAY, staging=True
    )
    await store.stage_job_ids(job_id, 1, packed(members))
    await store.queue_audience_job(
        job_id, rows=len(members), ids=len(members), invalid=0, report=None, now=at
    )
    return job_id


async def sealed(store: SqlStore, job: AudienceJob) -> AudienceJob:
    """The claimed job with its ids sorted into its set, bucket by bucket."""
    for buckets in await store.job_buckets(job.id, per_group=7):
        assert await store.seal_job_buckets(job.fence, buckets)
    done = await store.mark_job_sealed(job.fence, NOW)
    assert done is not None
    return done


async def diff(store: SqlStore, job: AudienceJob, which: str, page: int = 7) -> list[Member]:
    found: list[Member] = []
    after = None
    while True:
        chunk, after = await store.job_diff_page(job, which, after, page)
        if not chunk:
            return found
        found.extend(chunk)


async def test_parallel_creates_of_one_name_make_one_audience(store: SqlStore) -> None:
    """Five creates of the same (advertiser, name) at once: one row, one of them 'new'."""
    results = await asyncio.gather(*(new_audience_row(store) for _ in range(5)))
    assert 1 == len({row.id for row, _ in results})
    assert [True] == [created for _, created in results if created]
    assert 1 == await store.count_audiences("7001")


async def new_audience_row(store: SqlStore) -> tuple[object, bool]:
    row, created = await store.create_audience(
        advertiser_id="7001",
        name="Same",
        audience_type="CUSTOMER_FILE",
        source="list",
        backend="file",
        status="pending",
        now=NOW,
    )
    return row, created


async def test_sql_difference_matches_the_plan(store: SqlStore) -> None:
    """For each action, the pages of adds and removes of a sealed job are exactly
    domain.plan_sync's answer, each id once, whatever the page size."""
    rng = random.Random(7)
    universe = ids(*(f"user{i}" for i in range(60))) + ids("+1", id_type=IdType.PHONE_SHA256)
    held = set(rng.sample(universe, 30))
    audience_id = await new_audience(store)
    await queued_job(store, audience_id, JobAction.APPEND, sorted(held))
    claimed = await store.claim_audience_job(NOW, NOW + 60)
    assert claimed is not None
    job = await sealed(store, claimed)
    assert await store.record_audience_step(job.fence, audience_id, now=NOW, add_staged=True)
    assert await store.record_audience_step(job.fence, audience_id, now=NOW, finish=True)
    for action in SyncAction:
        wanted = rng.sample(universe, 25)
        await queued_job(store, audience_id, JobAction(action.value), wanted + wanted[:5])
        claimed = await store.claim_audience_job(NOW, NOW + 60)
        assert claimed is not None
        job = await sealed(store, claimed)
        plan = plan_sync(held, action, set(wanted))
        adds, removes = await diff(store, job, "adds"), await diff(store, job, "removes")
        assert (sorted(plan.adds), sorted(plan.removes)) == (adds, removes)
        assert (len(plan.adds), len(plan.removes)) == await store.job_diff_counts(job)
        assert 25 == job.staged
        await store.record_audience_step(job.fence, audience_id, now=NOW, finish=True)


async def test_an_unsealed_job_adds_its_ids_as_they_arrived_a_bucket_at_a_time(
    store: SqlStore,
) -> None:
    """Against an empty audience the ids need no sorting first: all are to add, and they
    join the members bucket by bucket, repeats once; adding them at once needs them sealed."""
    audience_id = await new_audience(store)
    names = [f"fan{i}" for i in range(40)]
    await queued_job(store, audience_id, JobAction.REPLACE, ids(*names) + ids(*names[:3]))
    job = await store.claim_audience_job(NOW, NOW + 60)
    assert job is not None and not job.sealed
    assert set(ids(*names)) == set(await diff(store, job, "adds", page=6))
    assert ([], None) == await store.job_diff_page(job, "removes", None, 10)
    with pytest.raises(ValueError, match="not sealed"):
        await store.record_audience_step(job.fence, audience_id, now=NOW, add_staged=True)
    for buckets in await store.job_buckets(job.id, per_group=7):
        assert await store.add_job_buckets(job.fence, audience_id, buckets, NOW)
    assert set(ids(*names)) == set(await store.audience_member_page(audience_id))
    audience = await store.get_audience(audience_id)
    assert audience is not None and 40 == audience.member_count


async def test_recorded_steps_move_the_members_to_the_target(store: SqlStore) -> None:
    """REPLACE applied as adds then removes leaves exactly the job's ids, counted."""
    audience_id = await new_audience(store)
    await queued_job(store, audience_id, JobAction.APPEND, ids("a", "b", "c"))
    claimed = await store.claim_audience_job(NOW, NOW + 60)
    assert claimed is not None
    job = await sealed(store, claimed)
    await store.record_audience_step(
        job.fence, audience_id, now=NOW, add_staged=True, tiktok_audience_id="T1", finish=True
    )
    await queued_job(store, audience_id, JobAction.REPLACE, ids("b", "c", "d"))
    claimed = await store.claim_audience_job(NOW, NOW + 60)
    assert claimed is not None
    job = await sealed(store, claimed)
    await store.record_audience_step(job.fence, audience_id, now=NOW, add_staged=True)
    await store.record_audience_step(
        job.fence, audience_id, now=NOW, remove_staged=True, answer=(0, "OK", "R"), finish=True
    )
    assert set(ids("b", "c", "d")) == set(await store.audience_member_page(audience_id))
    audience = await store.get_audience(audience_id)
    assert audience is not None
    assert (3, "ready", "T1", 0, "R") == (
        audience.member_count,
        audience.status,
        audience.tiktok_audience_id,
        audience.last_code,
        audience.last_request_id,
    )
    done = await store.get_audience_job(job.id)
    assert done is not None and (1, 1, "done") == (done.added, done.removed, done.status)


async def test_uploads_and_refreshes_are_queued_alike_and_only_a_refresh_sealed(
    store: SqlStore,
) -> None:
    """A staging job becomes work at the time given, its counts and report kept, its audience
    syncing (a deleting one stays so). An upload's ids count as its stager says; a refresh's,
    sorted in at once, are counted by the store, and that job is sealed."""
    upload_to, refresh_to, doomed = [
        await new_audience(store, name) for name in ("Upload", "Refresh", "Deleting")
    ]
    jobs = [
        await store.open_audience_job(a, action, now=NOW, deadline_at=NOW + DAY, staging=True)
        for a, action in ((upload_to, JobAction.APPEND), (refresh_to, JobAction.REPLACE))
    ]
    await store.stage_job_ids(jobs[0], 1, packed(ids("a", "b", "a")))
    await store.queue_audience_job(
        jobs[0], rows=4, ids=3, invalid=1, report='[{"row": 3}]', now=NOW + 5
    )
    await store.stage_job_members(jobs[1], ids("a", "b", "c", "a"))
    finished = await store.finish_refresh(
        jobs[1],
        refresh_to,
        erasures=0,
        counts="{}",
        now=NOW + 5,
        next_due=NOW + DAY,
        keep_unchanged=True,
    )
    assert "queued" == finished
    late = await store.open_audience_job(
        doomed, JobAction.APPEND, now=NOW, deadline_at=NOW + DAY, staging=True
    )
    await store.open_audience_job(doomed, JobAction.DELETE, now=NOW, deadline_at=NOW + DAY)
    await store.queue_audience_job(late, rows=1, ids=1, invalid=0, report=None, now=NOW + 5)
    rows = [await store.get_audience_job(job_id) for job_id in (*jobs, late)]
    assert None not in rows
    assert [
        (3, 4, 1, '[{"row": 3}]', False),
        (3, 0, 0, None, True),
        (1, 1, 0, None, False),
    ] == [(j.staged, j.row_count, j.invalid, j.report, j.sealed) for j in rows if j]
    assert {(JobStatus.QUEUED.value, NOW + 5, NOW + 5, NOW + 5)} == {
        (j.status, j.accepted_at, j.next_attempt_at, j.updated_at) for j in rows if j
    }
    audiences = [await store.get_audience(a) for a in (upload_to, refresh_to, doomed)]
    assert [AudienceStatus.SYNCING, AudienceStatus.SYNCING, AudienceStatus.DELETING] == [
        a and AudienceStatus(a.status) for a in audiences
    ]


async def test_jobs_of_one_audience_run_in_order_and_others_in_parallel(store: SqlStore) -> None:
    """Only the oldest open job of an audience is claimable; another audience's goes beside."""
    one, two = await new_audience(store, "One"), await new_audience(store, "Two")
    first = await queued_job(store, one, JobAction.APPEND, ids("a"))
    second = await queued_job(store, one, JobAction.REMOVE, ids("a"))
    other = await queued_job(store, two, JobAction.APPEND, ids("b"))
    claims = await asyncio.gather(*(store.claim_audience_job(NOW, NOW + 60) for _ in range(4)))
    assert {first, other} == {job.id for job in claims if job is not None}
    claimed_first = next(job for job in claims if job and job.id == first)
    await store.retry_audience_job(
        claimed_first.fence, at=NOW + 5, count_attempt=True, answer=(None, "503", None), now=NOW
    )
    assert None is await store.claim_audience_job(NOW + 1, NOW + 60)  # the line waits for it
    again = await store.claim_audience_job(NOW + 5, NOW + 60)
    assert again is not None and (first, 2) == (again.id, again.attempts)
    await store.record_audience_step(again.fence, one, now=NOW + 5, finish=True)
    nxt = await store.claim_audience_job(NOW + 5, NOW + 60)
    assert nxt is not None and second == nxt.id


async def test_a_lost_claim_is_taken_over_and_the_old_worker_fenced_out(store: SqlStore) -> None:
    """Past its lease a running job is claimed again; the first worker's writes are refused."""
    audience_id = await new_audience(store)
    await queued_job(store, audience_id, JobAction.APPEND, ids("a"))
    lost = await store.claim_audience_job(NOW, NOW + 30)
    assert lost is not None
    assert None is await store.claim_audience_job(NOW + 29, NOW + 60)
    taken = await store.claim_audience_job(NOW + 31, NOW + 90)
    assert taken is not None and lost.id == taken.id
    assert not await store.record_audience_step(lost.fence, audience_id, now=NOW, add_staged=True)
    assert not await store.extend_audience_lease(lost.fence, NOW + 200)
    assert [] == await store.audience_member_page(audience_id)


async def test_tidy_removes_staged_ids_of_finished_and_abandoned_jobs(store: SqlStore) -> None:
    """The ids (as they arrived and sorted) of a done job and of a staging job cut off long
    ago go, and that job too; a queued job keeps its ids."""
    audience_id = await new_audience(store)
    done = await queued_job(store, audience_id, JobAction.APPEND, ids("a", "b"))
    claimed = await store.claim_audience_job(NOW, NOW + 60)
    assert claimed is not None
    job = await sealed(store, claimed)  # its ids in both tables
    await store.record_audience_step(job.fence, audience_id, now=NOW, finish=True)
    cut_off = await store.open_audience_job(
        audience_id, JobAction.APPEND, now=NOW, deadline_at=NOW + DAY, staging=True
    )
    await store.stage_job_ids(cut_off, 1, packed(ids("c")))
    await queued_job(store, audience_id, JobAction.APPEND, ids("d"), at=NOW + 10)
    tidy = await store.jobs_to_tidy(finished_since=NOW - DAY, staging_before=NOW + 3600)
    assert {done, cut_off} == set(tidy)
    for job_id in tidy:
        while await store.tidy_job(job_id):
            pass
    assert None is await store.get_audience_job(cut_off)
    assert [] == await store.jobs_to_tidy(finished_since=NOW - DAY, staging_before=NOW + 3600)
    waiting = await store.claim_audience_job(NOW + 10, NOW + 60)
    assert waiting is not None
    assert ids("d") == await diff(store, waiting, "adds")
