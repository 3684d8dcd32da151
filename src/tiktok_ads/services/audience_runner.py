"""The audience job runner, beside the event dispatcher in every worker: claims the next job
that heads its audience's line, carries it out (`services.audience_steps`), and records the
outcome under the event rules: TikTok's body code decides; 5xx, 50000, 40100 and 61000 are
retried with the RetryPolicy's backoff; a token TikTok refuses is tried again every 5 minutes.

A job killed midway is claimed again once its lease runs out; every step is a set operation
at TikTok, recorded only once TikTok confirmed it, so doing one again changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from tiktok_ads.domain.audience_jobs import (
    AudienceJob,
    JobAction,
    JobFailure,
    after_failed_call,
)
from tiktok_ads.domain.delivery import TrackAnswer
from tiktok_ads.domain.retry import RetryPolicy
from tiktok_ads.errors import ConfigurationError, StoreError, ValidationFailed
from tiktok_ads.services import audience_steps
from tiktok_ads.services.audience_ports import AudienceGateway, AudienceJobStore
from tiktok_ads.services.audience_work import CallFailed, JobFailed, JobWork, LostClaim
from tiktok_ads.services.connections import ConnectionService
from tiktok_ads.services.periodic import PeriodicTask
from tiktok_ads.services.ports import Clock

log = logging.getLogger(__name__)

STEPS = {
    JobAction.APPEND: audience_steps.sync,
    JobAction.REMOVE: audience_steps.sync,
    JobAction.REPLACE: audience_steps.sync,
    JobAction.DELETE: audience_steps.delete,
    JobAction.LOOKALIKE: audience_steps.lookalike,
    JobAction.APPLY: audience_steps.apply,
}


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    lease_s: float = 120.0
    poll_s: float = 1.0
    max_jobs: int = 2  # jobs in flight per worker (each of another audience)
    tidy_every_s: float = 60.0


class AudienceRunner:
    def __init__(
        self,
        *,
        store: AudienceJobStore,
        tiktok: AudienceGateway,
        connections: ConnectionService,
        clock: Clock,
        policy: RetryPolicy,
        config: RunnerConfig,
        wake: asyncio.Event,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._store = store
        self._tiktok = tiktok
        self._connections = connections
        self._clock = clock
        self._policy = policy
        self._config = config
        self._wake = wake
        self._rand = rand
        self._slots = asyncio.Semaphore(config.max_jobs)
        self._tasks: set[asyncio.Task[None]] = set()

    def tasks(self) -> list[PeriodicTask]:
        return [PeriodicTask("tidy-audience-jobs", self._config.tidy_every_s, self.tidy)]

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set; jobs in flight then finish (their lease covers a crash)."""
        while not stop.is_set():
            try:
                started = await self.run_once()
            except Exception:  # the database hiccuped: the jobs' state is in it, try again
                log.exception("audience job pass failed; trying again")
                started = 0
            if not started:
                await self._nap(stop)
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _nap(self, stop: asyncio.Event) -> None:
        """Until new work is queued here, a poll's time passes (other processes' work), or
        the worker stops."""
        waits = {asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())}
        try:
            await asyncio.wait(
                waits, timeout=self._config.poll_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiting in waits:
                waiting.cancel()
        self._wake.clear()

    async def run_once(self) -> int:
        """Claim and start what the free slots allow; returns how many jobs started."""
        started = 0
        while not self._slots.locked():
            now = self._clock.now()
            job = await self._store.claim_audience_job(now, now + self._config.lease_s)
            if job is None:
                break
            await self._slots.acquire()
            task = asyncio.create_task(self._run_in_slot(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    async def _run_in_slot(self, job: AudienceJob) -> None:
        try:
            await self.run_job(job)
        finally:
            self._slots.release()
            self._wake.set()

    async def run_job(self, job: AudienceJob) -> None:
        """One claimed job to its end, or to its next try."""
        audience = await self._store.get_audience(job.audience_id)
        work = JobWork(job, audience, self._store, self._tiktok, self._clock, self._config.lease_s)
        try:
            if audience is None:
                raise JobFailed("the audience no longer exists")
            row = await self._connections.for_advertiser(audience.advertiser_id)
            work.token = self._connections.marketing_token(row)
            await STEPS[JobAction(job.action)](work)
        except LostClaim:
            log.warning("audience job %d was taken over by another worker", job.id)
            return
        except JobFailed as failed:
            await self._fail(work, (None, failed.reason, None))
        except ValidationFailed as exc:  # the advertiser lost its connection meanwhile
            await self._fail(work, (None, exc.message, None))
        except ConfigurationError as exc:  # a stored token that cannot be decrypted
            await self._fail(work, (None, str(exc), None))
        except CallFailed as failed:
            await self._after_refusal(work, failed.answer.answer)
        except Exception as exc:
            # Our own trouble (the database, a bug): tried again like a 5xx, until the deadline.
            log.exception("audience job %d failed locally; it will be tried again", job.id)
            await self._after_refusal(work, TrackAnswer(None, None, f"local error: {exc!r}"))
        try:
            await self._tidy_job(job.id)
        except StoreError as exc:  # the periodic tidy takes it up again
            log.warning("tidying audience job %d: %s", job.id, exc)

    async def _after_refusal(self, work: JobWork, answer: TrackAnswer) -> None:
        now = self._clock.now()
        job = work.job
        decision = after_failed_call(
            answer,
            attempts=job.attempts,
            deadline_at=job.deadline_at,
            now=now,
            rand=self._rand(),
            policy=self._policy,
        )
        said = (answer.code, answer.message, answer.request_id)
        if isinstance(decision, JobFailure):
            await self._fail(work, (answer.code, decision.message, answer.request_id))
            return
        log.info("audience job %d: %s; next try at %.0f", job.id, answer.message, decision.at)
        await self._store.retry_audience_job(
            job.fence, at=decision.at, count_attempt=decision.count_attempt, answer=said, now=now
        )

    async def _fail(self, work: JobWork, answer: tuple[int | None, str, str | None]) -> None:
        log.warning("audience job %d failed: %s", work.job.id, answer[1])
        await self._store.fail_audience_job(
            work.job.fence, work.job.audience_id, answer=answer, now=self._clock.now()
        )

    async def _tidy_job(self, job_id: int) -> None:
        """A finished job's staged ids are no longer needed (the periodic tidy is the net)."""
        while await self._store.tidy_job(job_id):
            pass

    async def tidy(self, now: float) -> None:
        for job_id in await self._store.jobs_to_tidy(
            finished_since=now - 7 * 86400, staging_before=now - 3600
        ):
            await self._tidy_job(job_id)
