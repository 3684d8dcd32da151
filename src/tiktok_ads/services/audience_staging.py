"""Staging a sync: rows arrive (a JSON body, or a CSV streamed in), are hashed off the event
loop, and their ids are written to the job batch by batch; the job is queued (the 202) only
once every id is on disk. Nothing raw is kept: rows live only as long as their batch.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field

import orjson

from tiktok_ads.domain.audience_jobs import JOB_DEADLINE_SECONDS, AudienceRow, JobAction
from tiktok_ads.domain.audiences import HashedRows, IdType, RowProblem, SyncAction
from tiktok_ads.domain.customer_list import CsvBlock, CsvBlocks, Row
from tiktok_ads.errors import FieldError, ValidationFailed
from tiktok_ads.services.audience_ports import AudienceStore, RowHasher
from tiktok_ads.services.ports import Clock

BATCH_ROWS = 10_000
MAX_REPORTED = 100


class RowSource:
    """What a sync brings: batches of rows (JSON) or blocks of CSV text, and the field name of
    a (row, column) for the report."""

    ignored_columns: tuple[str, ...] = ()

    def batches(self) -> AsyncIterator[list[Row] | CsvBlock]:
        raise NotImplementedError

    def hash(
        self, hasher: RowHasher, item: list[Row] | CsvBlock, region: str | None
    ) -> Awaitable[HashedRows]:
        raise NotImplementedError

    def field(self, row: int, column: int) -> str:
        raise NotImplementedError


class JsonRows(RowSource):
    """The `members` of a sync body (already checked for shape)."""

    def __init__(self, schema: tuple[IdType, ...], rows: list[Row]) -> None:
        self._schema, self._rows = schema, rows

    async def batches(self) -> AsyncIterator[list[Row] | CsvBlock]:
        for start in range(0, len(self._rows), BATCH_ROWS):
            yield self._rows[start : start + BATCH_ROWS]

    def hash(
        self, hasher: RowHasher, item: list[Row] | CsvBlock, region: str | None
    ) -> Awaitable[HashedRows]:
        assert isinstance(item, list)
        return hasher.hash_rows(item, self._schema, region)

    def field(self, row: int, column: int) -> str:
        return f"members.{row}" if column < 0 else f"members.{row}.{column}"


class CsvUpload(RowSource):
    """A CSV file as its bytes arrive; row numbers are line numbers (the header is line 1).
    The server only splits the text; worker processes read and hash it."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._reader = CsvBlocks()

    async def batches(self) -> AsyncIterator[list[Row] | CsvBlock]:
        async for chunk in self._chunks:
            for block in self._reader.feed(chunk):
                yield block
        for block in self._reader.finish():
            yield block

    def hash(
        self, hasher: RowHasher, item: list[Row] | CsvBlock, region: str | None
    ) -> Awaitable[HashedRows]:
        assert isinstance(item, CsvBlock) and self._reader.columns is not None
        return hasher.hash_block(item, self._reader.columns, region)

    @property
    def ignored_columns(self) -> tuple[str, ...]:  # type: ignore[override]
        columns = self._reader.columns
        return () if columns is None else columns.ignored

    def field(self, row: int, column: int) -> str:
        columns = self._reader.columns
        return "row" if column < 0 or columns is None else columns.names[column]


@dataclass(slots=True)
class Staged:
    """A job accepted: what was read, kept and refused (the first problems, by row)."""

    audience_id: int
    job_id: int
    action: str
    rows: int = 0
    accepted_ids: int = 0  # valid ids read (a repeat counts each time; TikTok holds it once)
    invalid: int = 0
    batches: int = 0
    problems: list[dict[str, object]] = field(default_factory=list)
    ignored_columns: tuple[str, ...] = ()


class Stager:
    def __init__(
        self,
        *,
        store: AudienceStore,
        hasher: RowHasher,
        clock: Clock,
        phone_region: str | None,
        wake: asyncio.Event,
        in_flight: int = 4,
    ) -> None:
        self._store = store
        self._hasher = hasher
        self._clock = clock
        self._region = phone_region
        self._wake = wake
        self._in_flight = in_flight

    async def stage(self, audience: AudienceRow, action: SyncAction, source: RowSource) -> Staged:
        """Hash and store every row, then queue the job; on any failure nothing stays."""
        now = self._clock.now()
        job_id = await self._store.open_audience_job(
            audience.id,
            JobAction(action.value),
            now=now,
            deadline_at=now + JOB_DEADLINE_SECONDS,
            staging=True,
        )
        staged = Staged(audience.id, job_id, action.value)
        try:
            with self._hasher.in_use():  # the hashing processes live as long as this
                await self._stage_rows(job_id, source, staged)
            staged.ignored_columns = source.ignored_columns
            if action is SyncAction.REPLACE and staged.accepted_ids == 0:
                raise ValidationFailed(
                    [FieldError("members", "REPLACE without one valid id would empty the audience")]
                )
            report = orjson.dumps(staged.problems).decode() if staged.problems else None
            await self._store.queue_audience_job(
                job_id,
                rows=staged.rows,
                ids=staged.accepted_ids,
                invalid=staged.invalid,
                report=report,
                now=now,
            )
        except BaseException:
            # A refused body, a cut connection, a cancelled request: the job never existed.
            with contextlib.suppress(Exception):
                await asyncio.shield(self._store.discard_staged_job(job_id))
            raise
        self._wake.set()
        return staged

    async def _stage_rows(self, job_id: int, source: RowSource, staged: Staged) -> None:
        hashing: deque[asyncio.Future[HashedRows]] = deque()
        try:
            async for item in source.batches():
                hashing.append(asyncio.ensure_future(source.hash(self._hasher, item, self._region)))
                while len(hashing) >= self._in_flight:
                    await self._store_hashed(job_id, await hashing.popleft(), source, staged)
            while hashing:
                await self._store_hashed(job_id, await hashing.popleft(), source, staged)
        finally:
            for pending in hashing:
                pending.cancel()

    async def _store_hashed(
        self, job_id: int, hashed: HashedRows, source: RowSource, staged: Staged
    ) -> None:
        staged.batches += 1
        staged.accepted_ids += await self._store.stage_job_ids(job_id, staged.batches, hashed.ids)
        staged.rows += hashed.rows
        staged.invalid += hashed.invalid_values
        for problem in hashed.problems:
            if len(staged.problems) < MAX_REPORTED:
                staged.problems.append(_report(problem, source))


def _report(problem: RowProblem, source: RowSource) -> dict[str, object]:
    return {
        "row": problem.row,
        "field": source.field(problem.row, problem.column),
        "message": problem.message,
    }
