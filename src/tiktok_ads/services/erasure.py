"""Erasure (`POST /privacy/erase`): one person's hashes leave every audience, here and at
TikTok (REMOVE jobs, sent by the audience runner like any sync), and their stored identity is
deleted: the identifiers, click ids, IP and user agent of their events (which stay deliverable
without them) and the click-id memory keyed by their hashes.

Order matters: the events are stripped first, then one transaction queues the REMOVE jobs and
counts an erasure on every rule audience, so a refresh that read the events before they were
stripped is computed again instead of putting the person back.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import orjson

from tiktok_ads.domain.audience_jobs import JOB_DEADLINE_SECONDS
from tiktok_ads.domain.audiences import FILE_UPDATE_MIN_USERS
from tiktok_ads.domain.erasure import (
    Person,
    read_erase_request,
    remaining_match_keys,
    without_identity,
)
from tiktok_ads.services.audience_ports import ErasureStore
from tiktok_ads.services.ports import Clock

log = logging.getLogger(__name__)

PAGE = 1000  # events read at a time


@dataclass(slots=True)
class Erased:
    """What an erasure removed (and what it could not promise)."""

    identifiers: int = 0
    events: int = 0
    click_ids: int = 0
    jobs: list[tuple[int, int]] = field(default_factory=list)  # (audience id, REMOVE job id)
    warnings: list[str] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        return {
            "success": True,
            "status": "queued",
            "removed": {
                "identifiers": self.identifiers,
                "events": self.events,
                "click_ids": self.click_ids,
                "audiences": len(self.jobs),
            },
            "audience_jobs": [
                {"id": str(audience_id), "job_id": job_id} for audience_id, job_id in self.jobs
            ],
            "warnings": self.warnings,
        }


class ErasureService:
    def __init__(
        self, *, store: ErasureStore, clock: Clock, phone_region: str | None, wake: asyncio.Event
    ) -> None:
        self._store = store
        self._clock = clock
        self._region = phone_region
        self._wake = wake

    async def erase(self, body: object) -> Erased:
        person = read_erase_request(body, self._region)
        named = person.all()
        events = await self._events_of(person, named)
        for doc, _ in events.values():
            person.take_from(doc.get("user") or {})
        # Their other identifiers (the phone sent beside the email): their events too.
        more = person.all() - named
        if more:
            events.update(await self._events_of(person, more))
        erased = Erased(identifiers=len(person.all()))
        changes = [
            (pk, orjson.dumps(without_identity(doc)).decode(), remaining_match_keys(keys))
            for pk, (doc, keys) in sorted(events.items())
        ]
        for start in range(0, len(changes), PAGE):
            erased.events += await self._store.strip_event_identities(changes[start : start + PAGE])
        erased.click_ids = await self._store.forget_click_ids(sorted(person.all()))
        now = self._clock.now()
        members = person.members()
        erased.jobs = await self._store.erase_members(
            members, now=now, deadline_at=now + JOB_DEADLINE_SECONDS
        )
        if erased.jobs:
            self._wake.set()
        for audience_id, _ in erased.jobs:
            audience = await self._store.get_audience(audience_id)
            if (
                audience is not None
                and audience.backend == "file"
                and audience.member_count - len(members) < FILE_UPDATE_MIN_USERS
            ):
                erased.warnings.append(
                    f"audience {audience_id} is a customer file of {audience.member_count} "
                    f"users: TikTok refuses to update one that would hold fewer than "
                    f"{FILE_UPDATE_MIN_USERS:,}, so its REMOVE job may fail; delete the "
                    "audience to take the person out at TikTok"
                )
        log.info(
            "erasure: %d identifiers, %d events, %d click ids, %d audiences",
            erased.identifiers,
            erased.events,
            erased.click_ids,
            len(erased.jobs),
        )
        return erased

    async def _events_of(
        self, person: Person, hashes: set[str]
    ) -> dict[int, tuple[dict[str, Any], str]]:
        """Events whose `user` carries one of `hashes`: {id: (payload, match keys)}."""
        found: dict[int, tuple[dict[str, Any], str]] = {}
        after = 0
        wanted = sorted(hashes)
        while page := await self._store.events_naming(wanted, after, PAGE):
            for pk, payload, keys in page:
                doc = orjson.loads(payload)
                user = doc.get("user") if isinstance(doc, dict) else None
                if isinstance(user, dict) and person.named_on(user):
                    found[pk] = (doc, keys)
            after = page[-1][0]
            if len(page) < PAGE:
                break
        return found
