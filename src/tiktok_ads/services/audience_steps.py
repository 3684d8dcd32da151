"""What each audience job does at TikTok, step by step; each confirmed step is recorded with
the members TikTok now holds, so a job cut off anywhere resumes from the difference left.

Which API: customer-file audiences (`backend` "file") take bulk changes as files, APPEND
and REMOVE; partner segments ("segment", for rule audiences) take small, frequent changes
as add/delete mappings of at most 1,000 users. Audiences are created at TikTok with their
first ids; a create tried again (after a crash or a lost answer) first looks for an audience
of that exact name and adopts it: never a duplicate at TikTok.
"""

from __future__ import annotations

import json

from tiktok_ads.domain.audience_jobs import AudienceAnswer
from tiktok_ads.domain.audiences import file_update_refusal
from tiktok_ads.services.audience_work import CallFailed, JobFailed, JobWork, LostClaim

SEGMENT_USERS = 1_000  # users per segment/mapping/ request (peers' tested cap)
FILES_PER_CALL = 50  # file_paths per create/ or update/ (the SDK's advice)
SEGMENT_NAME_CHARS = 70  # segment/audience/ cuts longer names to 67 + "..."


def _created_id(answer: AudienceAnswer, key: str) -> str:
    value = answer.data.get(key)
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value):
        raise JobFailed(f"TikTok's answer has no {key}")
    return str(value)


async def sync(work: JobWork) -> None:
    await work.seal_if_needed()
    if work.audience.backend == "segment":
        await _sync_segment(work)
    elif work.audience.tiktok_audience_id is None:
        await _create_file_audience(work)
    else:
        await _update_file_audience(work, work.audience.tiktok_audience_id)


async def _create_file_audience(work: JobWork) -> None:
    """The first ids create the audience (members were none: the job only adds)."""
    audience, tiktok = work.audience, work.tiktok
    adopted = await work.adopt_by_name(audience.name)
    if adopted is not None:
        work.changed = True
        await work.add_job_ids(finish=True, tiktok_audience_id=adopted)
        return
    paths = await _upload(work, "adds")
    if not paths:
        await work.record(finish=True)  # nothing to hold yet: created with its first ids
        return
    first, rest = paths[:FILES_PER_CALL], paths[FILES_PER_CALL:]
    answer = await work.call(
        await tiktok.create_file_audience(work.token, audience.advertiser_id, audience.name, first)
    )
    tiktok_id = _created_id(answer, "custom_audience_id")
    work.changed = True
    await work.record(tiktok_audience_id=tiktok_id)
    await _update_files(work, tiktok_id, "APPEND", rest)
    await work.add_job_ids(finish=True, tiktok_audience_id=tiktok_id)


async def _update_file_audience(work: JobWork, tiktok_id: str) -> None:
    adds, removes = await work.store.job_diff_counts(work.job)
    if not adds and not removes:
        await work.record(finish=True)  # TikTok holds it all already: nothing is sent
        return
    refusal = file_update_refusal(work.audience.member_count, adds, removes)
    if refusal is not None:
        raise JobFailed(refusal)
    work.changed = True
    if adds:  # adds first: the audience never dips below what it ends with
        await _update_files(work, tiktok_id, "APPEND", await _upload(work, "adds"))
        await work.add_job_ids(finish=not removes)
    if removes:
        await _update_files(work, tiktok_id, "REMOVE", await _upload(work, "removes"))
        await work.record(remove_staged=True, finish=True)


async def _upload(work: JobWork, which: str) -> list[str]:
    refused, paths = await work.tiktok.upload_customer_files(
        work.token, work.audience.advertiser_id, work.pages(which)
    )
    if refused is not None:
        raise CallFailed(refused)
    return paths


async def _update_files(work: JobWork, tiktok_id: str, action: str, paths: list[str]) -> None:
    for start in range(0, len(paths), FILES_PER_CALL):
        chunk = paths[start : start + FILES_PER_CALL]
        await work.call(
            await work.tiktok.update_file_audience(
                work.token, work.audience.advertiser_id, tiktok_id, action, chunk
            )
        )


async def _sync_segment(work: JobWork) -> None:
    audience, tiktok = work.audience, work.tiktok
    tiktok_id = audience.tiktok_audience_id
    if tiktok_id is None:
        name = audience.name
        if len(name) > SEGMENT_NAME_CHARS:
            name = name[: SEGMENT_NAME_CHARS - 3] + "..."
        tiktok_id = await work.adopt_by_name(name)
        if tiktok_id is None:
            answer = await work.call(
                await tiktok.create_segment(work.token, audience.advertiser_id, audience.name)
            )
            tiktok_id = _created_id(answer, "audience_id")
        await work.record(tiktok_audience_id=tiktok_id)
    for which, action in (("adds", "add"), ("removes", "delete")):
        async for page in work.pages(which, SEGMENT_USERS):
            work.changed = True
            await work.call(
                await tiktok.map_segment(
                    work.token, audience.advertiser_id, tiktok_id, action, page
                )
            )
            await work.record(**{"add" if action == "add" else "remove": page})
    await work.record(finish=True)


async def delete(work: JobWork) -> None:
    """At TikTok first (already gone is fine), then every row here."""
    audience, tiktok = work.audience, work.tiktok
    if audience.tiktok_audience_id is not None:
        remove = (
            tiktok.delete_segment if audience.backend == "segment" else tiktok.delete_file_audience
        )
        await work.call(
            await remove(work.token, audience.advertiser_id, audience.tiktok_audience_id),
            gone_ok=True,
        )
    for members in (True, False):
        while await work.store.forget_audience_rows(audience.id, members=members):
            await work.keep_claim()
    if not await work.store.delete_audience(work.job.fence, audience.id):
        raise LostClaim()


async def lookalike(work: JobWork) -> None:
    """Create this lookalike at TikTok from its source's TikTok audience."""
    audience = work.audience
    source = None
    if audience.lookalike_of is not None:
        source = await work.store.get_audience(audience.lookalike_of)
    if source is None or source.tiktok_audience_id is None:
        raise JobFailed("the source audience is no longer at TikTok")
    tiktok_id = await work.adopt_by_name(audience.name)
    if tiktok_id is None:
        spec = {**json.loads(audience.lookalike_spec or "{}")}
        spec["source_audience_id"] = source.tiktok_audience_id
        answer = await work.call(
            await work.tiktok.create_lookalike(
                work.token, audience.advertiser_id, audience.name, spec
            )
        )
        tiktok_id = _created_id(answer, "custom_audience_id")
    work.changed = True
    await work.record(tiktok_audience_id=tiktok_id, finish=True)


async def apply(work: JobWork) -> None:
    audience = work.audience
    if audience.tiktok_audience_id is None:
        raise JobFailed("the audience is not at TikTok yet: sync members into it first")
    params = json.loads(work.job.params or "{}")
    await work.call(
        await work.tiktok.apply(
            work.token,
            audience.advertiser_id,
            audience.tiktok_audience_id,
            adgroup_ids=params["adgroup_ids"],
            action_mode=params["action_mode"],
            usage_mode=params.get("usage_mode"),
        )
    )
    await work.record(finish=True)
