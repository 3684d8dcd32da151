"""One claimed audience job as its steps see it: TikTok calls that must succeed, each
confirmed step recorded (fenced by the claim), the lease kept, the ids paged, sealed and
added to the members."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from tiktok_ads.domain.audience_jobs import CODE_NOT_EXIST, AudienceAnswer, AudienceJob, AudienceRow
from tiktok_ads.domain.audiences import Member
from tiktok_ads.services.audience_ports import AudienceGateway, AudienceJobStore, Cursor
from tiktok_ads.services.ports import Clock

PAGE = 20_000  # ids read from the database at a time


class CallFailed(Exception):
    """TikTok refused a call, or did not answer: its answer decides what becomes of the job."""

    def __init__(self, answer: AudienceAnswer) -> None:
        super().__init__(answer.answer.message)
        self.answer = answer


class JobFailed(Exception):
    """The job cannot succeed as it stands; `reason` says why, for the marketer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LostClaim(Exception):
    """Another worker took the job over (this one stalled past its lease)."""


class JobWork:
    """One claimed job and what its steps need: calls that must succeed, confirmed records."""

    def __init__(
        self,
        job: AudienceJob,
        audience: AudienceRow | None,
        store: AudienceJobStore,
        tiktok: AudienceGateway,
        clock: Clock,
        lease_s: float,
    ) -> None:
        self.job, self.store, self.tiktok, self.clock = job, store, tiktok, clock
        self._audience = audience
        self.token = ""
        self.changed = False  # something changed at TikTok
        self.last: tuple[int | None, str, str | None] | None = None
        self._lease_s = lease_s
        self._renewed_at = clock.now()

    @property
    def audience(self) -> AudienceRow:
        assert self._audience is not None  # the runner fails jobs of a vanished audience
        return self._audience

    async def call(self, answer: AudienceAnswer, *, gone_ok: bool = False) -> AudienceAnswer:
        """TikTok's answer, which must be a success (or, with `gone_ok`, 40007)."""
        if not answer.ok and not (gone_ok and answer.answer.code == CODE_NOT_EXIST):
            raise CallFailed(answer)
        self.last = (answer.answer.code, answer.answer.message, answer.answer.request_id)
        await self.keep_claim()
        return answer

    async def keep_claim(self) -> None:
        now = self.clock.now()
        if now - self._renewed_at < self._lease_s / 4:
            return
        if not await self.store.extend_audience_lease(self.job.fence, now + self._lease_s):
            raise LostClaim()
        self._renewed_at = now

    async def record(self, **step: Any) -> None:
        if step.get("finish") and self.changed:
            step["cover_num"] = await self._cover(step.get("tiktok_audience_id"))
        done = await self.store.record_audience_step(
            self.job.fence, self.job.audience_id, now=self.clock.now(), answer=self.last, **step
        )
        if not done:
            raise LostClaim()

    async def _cover(self, tiktok_id: str | None) -> int | None:
        """TikTok's own count of the audience (get/'s cover_num), when it tells it; its
        silence costs the job nothing."""
        tiktok_id = tiktok_id or self.audience.tiktok_audience_id
        if tiktok_id is None:
            return None
        got = await self.tiktok.details(self.token, self.audience.advertiser_id, tiktok_id)
        items = got.data.get("list") or [{}]
        cover = (items[0].get("audience_details") or {}).get("cover_num")
        return cover if got.ok and isinstance(cover, int) else None

    async def pages(self, which: str, size: int = PAGE) -> AsyncIterator[Sequence[Member]]:
        """The ids to add or remove, `size` at a time (the last page may be shorter)."""
        after: Cursor | None = None
        waiting: list[Member] = []
        while True:
            page, after = await self.store.job_diff_page(self.job, which, after, size)
            waiting.extend(page)
            while len(waiting) >= size or (waiting and not page):
                yield waiting[:size]
                del waiting[:size]
                await self.keep_claim()
            if not page:
                return

    async def seal_if_needed(self) -> None:
        """Against an audience that holds ids, the job's own are sorted into a set first, so
        both sides of the difference are lookups."""
        if self.job.sealed or self.audience.member_count == 0:
            return
        for buckets in await self.store.job_buckets(self.job.id):
            if not await self.store.seal_job_buckets(self.job.fence, buckets):
                raise LostClaim()
            await self.keep_claim()
        sealed = await self.store.mark_job_sealed(self.job.fence, self.clock.now())
        if sealed is None:
            raise LostClaim()
        self.job = sealed

    async def add_job_ids(self, *, finish: bool, **step: Any) -> None:
        """The job's ids (TikTok holds them now) join the members: at once from a sealed job's
        sorted set, else a bucket at a time (sorted inserts; short transactions)."""
        if self.job.sealed:
            await self.record(add_staged=True, finish=finish, **step)
            return
        if step:
            await self.record(**step)
        for buckets in await self.store.job_buckets(self.job.id):
            now = self.clock.now()
            audience_id = self.job.audience_id
            if not await self.store.add_job_buckets(self.job.fence, audience_id, buckets, now):
                raise LostClaim()
            await self.keep_claim()
        if finish:
            await self.record(finish=True, tiktok_audience_id=step.get("tiktok_audience_id"))

    async def adopt_by_name(self, name: str) -> str | None:
        """After a try that may have created the audience: its id at TikTok, if it did."""
        if self.job.attempts <= 1:
            return None
        answer, found = await self.tiktok.find_by_name(
            self.token, self.audience.advertiser_id, name
        )
        await self.call(answer)
        return found
