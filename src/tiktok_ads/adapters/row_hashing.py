"""Hashing uploaded rows off the event loop: in worker processes for big batches (a phone
number costs ~20-40 µs to parse, all of it Python holding the GIL), in a thread otherwise."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor

from tiktok_ads.domain.audiences import HashedRows, IdType, hash_rows
from tiktok_ads.domain.customer_list import CsvBlock, CsvColumns, hash_block

#: Fewer rows than this are hashed in a thread: a worker process is not worth the trip.
SMALL_BATCH = 2000


class PooledRowHasher:
    """`workers` processes (0: always a thread), started on the first big batch and shut down
    as soon as nothing uses them: idle between uploads, each would still hold ~30 MB.

    Users are counted on the event loop's thread only (an upload holds the pool for all its
    batches, each batch for its own trip), so the count needs no lock."""

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._users = 0

    @contextlib.contextmanager
    def in_use(self) -> Iterator[None]:
        """Keep the processes, once started, until the block ends; the last user to leave
        shuts them down (the next one starts them again)."""
        self._users += 1
        try:
            yield
        finally:
            self._users -= 1
            if self._users == 0:
                self.close()

    async def hash_rows(
        self,
        rows: Sequence[tuple[int, Sequence[str]]],
        schema: Sequence[IdType],
        phone_region: str | None,
    ) -> HashedRows:
        if self._workers == 0 or len(rows) < SMALL_BATCH:
            return await asyncio.to_thread(hash_rows, rows, schema, phone_region)
        with self.in_use():
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._started(), hash_rows, rows, schema, phone_region
            )

    async def hash_block(
        self, block: CsvBlock, columns: CsvColumns, phone_region: str | None
    ) -> HashedRows:
        """A block of CSV lines, read and hashed in a worker (in a thread without workers)."""
        if self._workers == 0:
            return await asyncio.to_thread(hash_block, block, columns, phone_region)
        with self.in_use():
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._started(), hash_block, block, columns, phone_region
            )

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the server has threads (the store's pool) a fork would copy
            # in whatever state they are. A spawned child runs the `tiktok-ads` script again,
            # which imports nothing (entrypoints/script.py), then only the domain it hashes with.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self._workers, mp_context=context)
        return self._pool

    def close(self) -> None:
        """Shut the processes down without waiting: each leaves once its batch is done (the
        pool's own thread joins them)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
