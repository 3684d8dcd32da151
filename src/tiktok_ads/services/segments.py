"""Rule segments kept in sync: a refresh reads the rule's events in the database, groups their
identifiers into people, stages the members of the qualifying ones as a REPLACE job, and
queues it; the job machinery then sends TikTok only the difference. Refreshes run when an
audience is created, on `POST /audiences/{id}/refresh`, and every
TIKTOK_AUDIENCE_REFRESH_MINUTES (a periodic task in every worker; each round claimed once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import asdict, dataclass
from itertools import islice

import orjson

from tiktok_ads.domain.audience_jobs import JOB_DEADLINE_SECONDS, AudienceRow, JobAction
from tiktok_ads.domain.audience_rules import SegmentRule
from tiktok_ads.domain.segments import SegmentBuilder, SegmentCounts
from tiktok_ads.errors import Conflict
from tiktok_ads.services.audience_ports import SegmentStore
from tiktok_ads.services.connections import ConnectionService
from tiktok_ads.services.periodic import PeriodicTask
from tiktok_ads.services.ports import Clock

log = logging.getLogger(__name__)

STAGE_CHUNK = 20_000  # ids written per transaction
#: How often workers look for a due refresh (each audience is due every refresh interval).
LOOK_EVERY_S = 60.0
#: A refresh that crossed an erasure is computed again at most this many times in a row.
STALE_RETRIES = 3


@dataclass(frozen=True, slots=True)
class Refreshed:
    audience_id: int
    job_id: int | None  # None: TikTok holds the segment already, nothing was queued
    counts: SegmentCounts


class SegmentRefresher:
    def __init__(
        self,
        *,
        store: SegmentStore,
        connections: ConnectionService,
        clock: Clock,
        wake: asyncio.Event,
        every_s: float,
    ) -> None:
        self._store = store
        self._connections = connections
        self._clock = clock
        self._wake = wake
        self._every_s = every_s

    def tasks(self) -> list[PeriodicTask]:
        look = min(LOOK_EVERY_S, self._every_s)
        return [PeriodicTask("refresh-audiences", look, self.refresh_due)]

    async def refresh_due(self, now: float) -> int:
        """Every rule audience whose refresh is due; an unchanged segment queues nothing."""
        refreshed = 0
        for audience_id in await self._store.claim_due_refreshes(now, now + self._every_s):
            audience = await self._store.get_audience(audience_id)
            if audience is None:
                continue
            try:
                await self.refresh(audience, keep_unchanged=False)
                refreshed += 1
            except Conflict:
                continue  # deleted meanwhile
            except Exception:
                # Claimed for this round; the next one tries again.
                log.exception("refreshing audience %d failed", audience_id)
        return refreshed

    async def refresh(self, audience: AudienceRow, *, keep_unchanged: bool) -> Refreshed:
        """Compute the segment and queue its REPLACE job (`keep_unchanged`: even when TikTok
        holds it already, so the caller gets a job; it then sends nothing)."""
        rule = SegmentRule.from_json(audience.rule or "{}")
        for _ in range(STALE_RETRIES):
            outcome, refreshed = await self._attempt(audience, rule, keep_unchanged)
            if outcome in ("queued", "unchanged"):
                return refreshed
            if outcome == "gone":
                raise Conflict(f"audience {audience.id} is being deleted")
            # An erasure came while the events were read: read them again, as they are now.
            fresh = await self._store.get_audience(audience.id)
            if fresh is None:
                raise Conflict(f"audience {audience.id} was deleted")
            audience = fresh
        raise Conflict(f"audience {audience.id}: erasures kept interrupting the refresh")

    async def _attempt(
        self, audience: AudienceRow, rule: SegmentRule, keep_unchanged: bool
    ) -> tuple[str, Refreshed]:
        now = self._clock.now()
        pixels = await self._pixels(audience.advertiser_id, rule)
        builder = SegmentBuilder(min_count=rule.min_count, min_value=rule.min_value)
        job_id = await self._store.open_audience_job(
            audience.id,
            JobAction.REPLACE,
            now=now,
            deadline_at=now + JOB_DEADLINE_SECONDS,
            staging=True,
        )
        try:
            await self._store.scan_rule_events(rule, pixels, int(now - rule.window_s), builder)
            counts = await asyncio.to_thread(builder.finish)
            members = builder.members()
            while chunk := list(islice(members, STAGE_CHUNK)):
                await self._store.stage_job_members(job_id, chunk)
            outcome = await self._store.finish_refresh(
                job_id,
                audience.id,
                erasures=audience.erasures,
                counts=orjson.dumps(asdict(counts)).decode(),
                now=now,
                next_due=now + self._every_s,
                keep_unchanged=keep_unchanged,
            )
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._store.discard_staged_job(job_id))
            raise
        if outcome == "queued":
            self._wake.set()
            return outcome, Refreshed(audience.id, job_id, counts)
        await self._store.discard_staged_job(job_id)
        return outcome, Refreshed(audience.id, None, counts)

    async def _pixels(self, advertiser_id: str, rule: SegmentRule) -> list[str]:
        """The rule's pixel, else every pixel connected for the advertiser (now)."""
        if rule.pixel_id is not None:
            return [rule.pixel_id]
        return sorted(
            c.pixel_id for c in await self._connections.all() if c.advertiser_id == advertiser_id
        )
