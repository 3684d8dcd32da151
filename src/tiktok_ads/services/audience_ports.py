"""The ports of the audience services: storage of audiences and jobs, TikTok's audience APIs,
the hashing of uploaded rows (in worker processes when there are many), rule segments and
erasure."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from tiktok_ads.domain.audience_jobs import AudienceAnswer, AudienceJob, AudienceRow, JobAction
from tiktok_ads.domain.audience_rules import SegmentRule
from tiktok_ads.domain.audiences import HashedRows, IdType, Member, Packed
from tiktok_ads.domain.customer_list import CsvBlock, CsvColumns
from tiktok_ads.domain.segments import SegmentBuilder

Answer = tuple[int | None, str, str | None]  # TikTok's code, message, request_id
Cursor = tuple[int, ...] | tuple[int, str]  # where a page of ids ended


class AudienceStore(Protocol):
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
    ) -> tuple[AudienceRow, bool]: ...

    async def get_audience(self, audience_id: int) -> AudienceRow | None: ...

    async def count_audiences(self, advertiser_id: str, other_than: str | None = None) -> int: ...

    async def open_audience_job(
        self,
        audience_id: int,
        action: JobAction,
        *,
        now: float,
        deadline_at: float,
        params: str | None = None,
        staging: bool = False,
    ) -> int: ...

    async def stage_job_ids(self, job_id: int, seq: int, packed: Packed) -> int: ...

    async def queue_audience_job(
        self, job_id: int, *, rows: int, ids: int, invalid: int, report: str | None, now: float
    ) -> None: ...

    async def discard_staged_job(self, job_id: int) -> None: ...


class SegmentStore(AudienceStore, Protocol):
    """Rule segments: their events read in the database, refreshes claimed and queued."""

    async def scan_rule_events(
        self, rule: SegmentRule, pixels: Sequence[str], since: int, sink: SegmentBuilder
    ) -> int: ...

    async def stage_job_members(self, job_id: int, members: Iterable[Member]) -> int: ...

    async def claim_due_refreshes(
        self, now: float, next_due: float, limit: int = 50
    ) -> list[int]: ...

    async def finish_refresh(
        self,
        job_id: int,
        audience_id: int,
        *,
        erasures: int,
        counts: str,
        now: float,
        next_due: float,
        keep_unchanged: bool,
    ) -> str: ...


class ErasureStore(Protocol):
    """A person's events found and stripped, their click ids forgotten, their ids removed."""

    async def get_audience(self, audience_id: int) -> AudienceRow | None: ...

    async def events_naming(
        self, hashes: Sequence[str], after_id: int, limit: int = 1000
    ) -> list[tuple[int, str, str]]: ...

    async def strip_event_identities(self, changes: Sequence[tuple[int, str, str]]) -> int: ...

    async def forget_click_ids(self, hashes: Sequence[str]) -> int: ...

    async def erase_members(
        self, members: Sequence[Member], *, now: float, deadline_at: float
    ) -> list[tuple[int, int]]: ...


class AudienceJobStore(Protocol):
    """The job runner's view: claims, the difference to send, and each confirmed step."""

    async def get_audience(self, audience_id: int) -> AudienceRow | None: ...

    async def claim_audience_job(self, now: float, lease_until: float) -> AudienceJob | None: ...

    async def extend_audience_lease(self, fence: tuple[int, int], lease_until: float) -> bool: ...

    async def retry_audience_job(
        self, fence: tuple[int, int], *, at: float, count_attempt: bool, answer: Answer, now: float
    ) -> bool: ...

    async def fail_audience_job(
        self, fence: tuple[int, int], audience_id: int, *, answer: Answer, now: float
    ) -> bool: ...

    async def job_diff_counts(self, job: AudienceJob) -> tuple[int, int]: ...

    async def job_diff_page(
        self, job: AudienceJob, which: str, after: Cursor | None, limit: int
    ) -> tuple[list[Member], Cursor | None]: ...

    async def job_buckets(self, job_id: int, per_group: int = 50_000) -> list[list[int]]: ...

    async def seal_job_buckets(self, fence: tuple[int, int], buckets: list[int]) -> bool: ...

    async def mark_job_sealed(self, fence: tuple[int, int], now: float) -> AudienceJob | None: ...

    async def add_job_buckets(
        self, fence: tuple[int, int], audience_id: int, buckets: list[int], now: float
    ) -> bool: ...

    async def record_audience_step(
        self,
        fence: tuple[int, int],
        audience_id: int,
        *,
        now: float,
        answer: Answer | None = None,
        tiktok_audience_id: str | None = None,
        add_staged: bool = False,
        remove_staged: bool = False,
        add: Sequence[Member] = (),
        remove: Sequence[Member] = (),
        finish: bool = False,
        cover_num: int | None = None,
    ) -> bool: ...

    async def forget_audience_rows(self, audience_id: int, *, members: bool) -> int: ...

    async def delete_audience(self, fence: tuple[int, int], audience_id: int) -> bool: ...

    async def jobs_to_tidy(
        self, *, finished_since: float, staging_before: float, limit: int = 100
    ) -> list[int]: ...

    async def tidy_job(self, job_id: int) -> int: ...


class AudienceGateway(Protocol):
    """TikTok's audience APIs; every call answers, none raises for what TikTok does."""

    async def upload_customer_files(
        self, token: str, advertiser_id: str, pages: AsyncIterator[Sequence[Member]]
    ) -> tuple[AudienceAnswer | None, list[str]]: ...

    async def create_file_audience(
        self, token: str, advertiser_id: str, name: str, file_paths: Sequence[str]
    ) -> AudienceAnswer: ...

    async def update_file_audience(
        self, token: str, advertiser_id: str, audience_id: str, action: str, paths: Sequence[str]
    ) -> AudienceAnswer: ...

    async def find_by_name(
        self, token: str, advertiser_id: str, name: str
    ) -> tuple[AudienceAnswer, str | None]: ...

    async def details(self, token: str, advertiser_id: str, audience_id: str) -> AudienceAnswer: ...

    async def delete_file_audience(
        self, token: str, advertiser_id: str, audience_id: str
    ) -> AudienceAnswer: ...

    async def apply(
        self,
        token: str,
        advertiser_id: str,
        audience_id: str,
        *,
        adgroup_ids: Sequence[str],
        action_mode: str,
        usage_mode: str | None,
    ) -> AudienceAnswer: ...

    async def create_lookalike(
        self, token: str, advertiser_id: str, name: str, spec: dict[str, Any]
    ) -> AudienceAnswer: ...

    async def create_segment(self, token: str, advertiser_id: str, name: str) -> AudienceAnswer: ...

    async def delete_segment(
        self, token: str, advertiser_id: str, audience_id: str
    ) -> AudienceAnswer: ...

    async def map_segment(
        self,
        token: str,
        advertiser_id: str,
        audience_id: str,
        action: str,
        members: Sequence[Member],
    ) -> AudienceAnswer: ...


class RowHasher(Protocol):
    """Turns rows of raw or hashed ids into members (domain.audiences.hash_rows), off the loop."""

    async def hash_rows(
        self,
        rows: Sequence[tuple[int, Sequence[str]]],
        schema: Sequence[IdType],
        phone_region: str | None,
    ) -> HashedRows: ...

    async def hash_block(
        self, block: CsvBlock, columns: CsvColumns, phone_region: str | None
    ) -> HashedRows: ...

    def in_use(self) -> AbstractContextManager[None]:
        """Held around every batch of one upload: the worker processes stay for the next
        batch, and are shut down once nobody holds them."""
        ...

    def close(self) -> None: ...
