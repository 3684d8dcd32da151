"""The store's plumbing: engines, a thread pool, and one way to run a verb in a transaction."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from tiktok_ads.adapters.store.engine import create_engines
from tiktok_ads.errors import StoreError

T = TypeVar("T")


class StoreBase:
    """Sync SQLAlchemy below, async verbs above: drivers are sync, the service is asyncio."""

    def __init__(self, url: str, pool_size: int = 6) -> None:
        self.url = url
        self._write, self._read = create_engines(url, pool_size)
        self.dialect = self._write.dialect.name
        self._pool = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="store")

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def insert(self, table: Any) -> Any:
        """A dialect insert, so ON CONFLICT is available on both databases."""
        return (postgresql if self.is_postgres else sqlite).insert(table)

    @property
    def write_engine(self) -> Engine:
        return self._write

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, functools.partial(fn, *args))
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {type(exc).__name__}") from exc

    async def _write_tx(self, fn: Callable[..., T], *args: Any) -> T:
        def run() -> T:
            with self._write.begin() as conn:
                return fn(conn, *args)

        return await self._run(run)

    async def _read_tx(self, fn: Callable[..., T], *args: Any) -> T:
        def run() -> T:
            with self._read.connect() as conn:
                return fn(conn, *args)

        return await self._run(run)

    async def migrate(self) -> None:
        from tiktok_ads.adapters.store import migrate  # Alembic only when it is needed

        await self._run(migrate.upgrade, self._write)

    async def schema_is_current(self) -> bool:
        from tiktok_ads.adapters.store import migrate

        current = await self._run(migrate.current_revision, self._read)
        return current == migrate.head_revision()

    async def ping(self) -> bool:
        def ping(conn: Connection) -> bool:
            return conn.execute(text("SELECT 1")).scalar() == 1

        try:
            return await self._read_tx(ping)
        except StoreError:
            return False

    async def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._write.dispose()
        self._read.dispose()
