"""Audience commands: create (one per advertiser and name), sync, upload, delete, lookalike,
apply, refresh (rule segments). Each change at TikTok is a durable job
(`services.audience_runner` sends it); a command answers once its job is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson

from tiktok_ads.domain.audience_jobs import (
    JOB_DEADLINE_SECONDS,
    AudienceRow,
    AudienceStatus,
    JobAction,
)
from tiktok_ads.domain.audience_requests import (
    read_apply,
    read_lookalike,
    read_new_audience,
    read_sync,
)
from tiktok_ads.domain.audience_rules import SegmentRule
from tiktok_ads.domain.audiences import LOOKALIKE_MIN_SOURCE, SyncAction
from tiktok_ads.errors import Conflict, FieldError, NotFound, ValidationFailed
from tiktok_ads.services.audience_ports import AudienceStore
from tiktok_ads.services.audience_staging import CsvUpload, JsonRows, Staged, Stager
from tiktok_ads.services.connections import ConnectionService
from tiktok_ads.services.ports import Clock
from tiktok_ads.services.segments import Refreshed, SegmentRefresher

#: TikTok keeps at most this many custom audiences per advertiser.
MAX_AUDIENCES_PER_ADVERTISER = 400
#: A new rule audience is computed by its create call; workers leave it alone this long.
REFRESH_GRACE_S = 600.0


class AudienceService:
    def __init__(
        self,
        *,
        store: AudienceStore,
        connections: ConnectionService,
        stager: Stager,
        refresher: SegmentRefresher,
        clock: Clock,
        wake: asyncio.Event,
        max_rule_days: int,
    ) -> None:
        self._store = store
        self._connections = connections
        self._stager = stager
        self._refresher = refresher
        self._clock = clock
        self._wake = wake
        self._max_rule_days = max_rule_days

    async def create(self, body: object) -> tuple[AudienceRow, bool]:
        """(the audience, whether it is new): the same name for the advertiser is the same one.
        A rule audience is a partner segment (small, frequent changes), computed at once."""
        request = read_new_audience(body, max_rule_days=self._max_rule_days)
        await self._connections.for_advertiser(request.advertiser_id)
        rule = request.rule
        if rule is not None and rule.pixel_id is not None:
            await self._check_rule_pixel(request.advertiser_id, rule.pixel_id)
        await self._check_cap(request.advertiser_id, request.name)
        now = self._clock.now()
        row, created = await self._store.create_audience(
            advertiser_id=request.advertiser_id,
            name=request.name,
            audience_type=request.audience_type,
            source="list" if rule is None else "rule",
            backend="file" if rule is None else "segment",
            status=AudienceStatus.PENDING.value,
            now=now,
            rule=None if rule is None else rule.to_json(),
            # Its first refresh comes next, here; a periodic one is due only after it failed.
            refresh_due_at=None if rule is None else now + REFRESH_GRACE_S,
        )
        if not created and row.status == AudienceStatus.DELETING:
            raise _being_deleted(row, "custom_audience_name")
        if not created and (row.rule and SegmentRule.from_json(row.rule)) != rule:
            kind = "with another rule" if row.rule else "as a list audience"
            raise Conflict(
                f"audience {row.id} already has the name {row.name!r} {kind}",
                "custom_audience_name",
            )
        if created and rule is not None:
            await self._refresher.refresh(row, keep_unchanged=True)
            row = await self._store.get_audience(row.id) or row
        return row, created

    async def refresh(self, audience_id: str) -> Refreshed:
        """A rule audience computed again now; TikTok then receives only the difference."""
        audience = await self.audience(audience_id)
        if audience.status == AudienceStatus.DELETING:
            raise _being_deleted(audience)
        if audience.source != "rule":
            raise ValidationFailed(
                [FieldError("id", f"a {audience.source} audience has no rule to refresh")]
            )
        return await self._refresher.refresh(audience, keep_unchanged=True)

    async def sync(self, audience_id: str, body: object) -> Staged:
        """The seed's sync body as a job; 202 once every id is stored."""
        audience = await self._list_audience(audience_id)
        request = read_sync(body)
        return await self._stager.stage(
            audience, request.action, JsonRows(request.schema, request.rows)
        )

    async def upload(self, audience_id: str, action: str, chunks: AsyncIterator[bytes]) -> Staged:
        """A CSV (header: email, phone, ...) streamed in as a job."""
        audience = await self._list_audience(audience_id)
        chosen = action.strip().upper()
        if chosen not in SyncAction.__members__:
            raise ValidationFailed([FieldError("action", "must be one of APPEND, REMOVE, REPLACE")])
        return await self._stager.stage(audience, SyncAction(chosen), CsvUpload(chunks))

    async def delete(self, audience_id: str) -> int:
        """A job deleting the audience at TikTok, then here. Returns the job's id."""
        audience = await self.audience(audience_id)
        if audience.status == AudienceStatus.DELETING:
            raise _being_deleted(audience)
        return await self._queue(audience, JobAction.DELETE)

    async def lookalike(self, audience_id: str, body: object) -> tuple[AudienceRow, bool]:
        """A lookalike of a synced audience of ≥100 users, itself not a lookalike."""
        source = await self.audience(audience_id)
        request = read_lookalike(body)
        if source.source == "lookalike":
            raise ValidationFailed(
                [FieldError("id", "a lookalike audience cannot be the source of a lookalike")]
            )
        if source.tiktok_audience_id is None or source.member_count < LOOKALIKE_MIN_SOURCE:
            raise ValidationFailed(
                [
                    FieldError(
                        "id",
                        f"the source must be synced at TikTok with at least "
                        f"{LOOKALIKE_MIN_SOURCE} users; it holds {source.member_count}"
                        + ("" if source.tiktok_audience_id else " and is not at TikTok yet"),
                    )
                ]
            )
        await self._check_cap(source.advertiser_id, request.name)
        spec = {
            "include_source": request.include_source,
            "mobile_os": "ALL",
            "placements": ["TikTok"],
            "location_ids": list(request.location_ids),
            "audience_size": request.audience_size,
        }
        row, created = await self._store.create_audience(
            advertiser_id=source.advertiser_id,
            name=request.name,
            audience_type="LOOKALIKE",
            source="lookalike",
            backend="file",
            status=AudienceStatus.PENDING.value,
            now=self._clock.now(),
            lookalike_of=source.id,
            lookalike_spec=orjson.dumps(spec).decode(),
        )
        if not created:
            if row.lookalike_of != source.id:
                raise Conflict(
                    f"audience {row.id} already has the name {row.name!r}",
                    "custom_audience_name",
                )
            return row, False
        await self._queue(row, JobAction.LOOKALIKE)
        return row, True

    async def apply(self, audience_id: str, body: object) -> int:
        """Apply (Include / Exclude) or disconnect the audience on ad groups, once at TikTok."""
        audience = await self.audience(audience_id)
        if audience.status == AudienceStatus.DELETING:
            raise _being_deleted(audience)
        request = read_apply(body)
        params = {
            "adgroup_ids": list(request.adgroup_ids),
            "action_mode": request.action_mode,
            "usage_mode": request.usage_mode,
        }
        return await self._queue(audience, JobAction.APPLY, orjson.dumps(params).decode())

    async def audience(self, audience_id: str) -> AudienceRow:
        row = None
        if audience_id.isdigit() and len(audience_id) < 19:
            row = await self._store.get_audience(int(audience_id))
        if row is None:
            raise NotFound(f"no audience {audience_id!r}")
        return row

    async def _list_audience(self, audience_id: str) -> AudienceRow:
        """An audience whose members come from syncs and uploads."""
        audience = await self.audience(audience_id)
        if audience.status == AudienceStatus.DELETING:
            raise _being_deleted(audience)
        if audience.source != "list":
            raise ValidationFailed(
                [FieldError("id", f"a {audience.source} audience takes no member lists")]
            )
        return audience

    async def _queue(
        self, audience: AudienceRow, action: JobAction, params: str | None = None
    ) -> int:
        now = self._clock.now()
        job_id = await self._store.open_audience_job(
            audience.id, action, now=now, deadline_at=now + JOB_DEADLINE_SECONDS, params=params
        )
        self._wake.set()
        return job_id

    async def _check_rule_pixel(self, advertiser_id: str, pixel_id: str) -> None:
        pixels = {
            c.pixel_id for c in await self._connections.all() if c.advertiser_id == advertiser_id
        }
        if pixel_id not in pixels:
            raise ValidationFailed(
                [FieldError("rule.pixel_id", f"is not a pixel of advertiser {advertiser_id}")]
            )

    async def _check_cap(self, advertiser_id: str, name: str) -> None:
        """A new name past TikTok's cap is refused here (an existing one is just returned)."""
        others = await self._store.count_audiences(advertiser_id, other_than=name)
        if others >= MAX_AUDIENCES_PER_ADVERTISER:
            raise ValidationFailed(
                [
                    FieldError(
                        "advertiser_id",
                        f"TikTok keeps at most {MAX_AUDIENCES_PER_ADVERTISER} audiences "
                        "per advertiser; delete one first",
                    )
                ]
            )


def _being_deleted(audience: AudienceRow, field: str | None = None) -> Conflict:
    return Conflict(f"audience {audience.id} ({audience.name!r}) is being deleted", field)
