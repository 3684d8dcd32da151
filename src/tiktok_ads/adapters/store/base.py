"""The store's plumbing: engines, a thread pool, and one way to run a verb in a transaction."""

from __future__ import annotations

import asyncio
import fcntl
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import ColumnElement, Select

from tiktok_ads.adapters.store.engine import create_engines, normalise_url
from tiktok_ads.adapters.store.migrations import HEAD_REVISION
from tiktok_ads.errors import StoreError

T = TypeVar("T")


def among(query: Select[Any], column: ColumnElement[Any], pixels: frozenset[str] | None) -> Any:
    """`query` narrowed to rows of `pixels` (None: every pixel): an API key's own data."""
    return query if pixels is None else query.where(column.in_(sorted(pixels)))


class WriterLock:
    """One SQLite writer at a time, across threads and processes, handed over at once.

    SQLite's own busy handler polls with sleeps of up to 100 ms, so two `serve` processes
    waiting on each other lost most of their time asleep; a blocking flock wakes the next
    writer the moment the lock is free.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._threads = threading.Lock()
        self._fd: int | None = None

    @classmethod
    def beside(cls, url: str) -> WriterLock | None:
        database = url.split("///", 1)[-1].split("?", 1)[0]
        return cls(database + ".writer-lock") if database else None

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def close(self) -> None:
        with self._threads:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __exit__(self, *_: object) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


def _stored_revision(engine: Engine) -> str | None:
    """Alembic's record of the schema revision, read without Alembic (None: no schema yet)."""
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:
            return None


class StoreBase:
    """Sync SQLAlchemy below, async verbs above: drivers are sync, the service is asyncio."""

    def __init__(self, url: str, pool_size: int = 6) -> None:
        self.url = url
        # SQLite: room in the pools for the kept connections (`_connection`) and for
        # migrations and tools besides.
        sqlite = normalise_url(url).startswith("sqlite")
        self._write, self._read = create_engines(url, pool_size + 2 if sqlite else pool_size)
        self.dialect = self._write.dialect.name
        # The driver's PEP-249 root (sqlite3.Error, psycopg.Error): statements run on the raw
        # DBAPI cursor (bulk.py) raise these unwrapped by SQLAlchemy.
        self._driver_error: type[Exception] = self._write.dialect.loaded_dbapi.Error
        self._pool = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="store")
        self._writer_lock = WriterLock.beside(url) if self.dialect == "sqlite" else None
        # SQLite: the writers' connection (used under the writer lock) and each thread's reader.
        self._kept_write: Connection | None = None
        self._kept = threading.local()
        self._kept_all: list[Connection] = []
        self._kept_lock = threading.Lock()

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def insert(self, table: Any) -> Any:
        """A dialect insert, so ON CONFLICT is available on both databases."""
        return (postgresql if self.is_postgres else sqlite).insert(table)

    @property
    def write_engine(self) -> Engine:
        return self._write

    @property
    def read_engine(self) -> Engine:
        return self._read

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, functools.partial(fn, *args))
        except (SQLAlchemyError, self._driver_error) as exc:
            raise StoreError(f"database error: {type(exc).__name__}") from exc

    def _connection(self, engine: Engine) -> Connection | None:
        """On SQLite, a connection kept from one transaction to the next: a checkout from the
        pool and back cost ~40 µs a transaction, more than a single event's insert. Writes
        share one (they take turns under the writer lock anyway; one per thread held the large
        multi-row statements in every thread's cache, +20 MB); each store thread reads on its
        own. None on PostgreSQL, whose pool checks a connection before each use (pre-ping) so
        that a restarted server costs no request."""
        if self._writer_lock is None:
            return None
        writes = engine is self._write
        conn: Connection | None = self._kept_write if writes else getattr(self._kept, "read", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = engine.connect()
            if writes:
                self._kept_write = conn
            else:
                self._kept.read = conn
            with self._kept_lock:
                self._kept_all = [c for c in self._kept_all if not c.closed]
                self._kept_all.append(conn)
        return conn

    def _in_tx(self, engine: Engine, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        conn = self._connection(engine)
        if conn is None:
            with engine.begin() as fresh:
                return fn(fresh, *args)
        try:
            with conn.begin():
                return fn(conn, *args)
        except BaseException:
            # Whatever failed (the statement, BEGIN, COMMIT, the driver's connection), the
            # next transaction starts on a fresh connection, never on one left mid-way.
            self._forget(conn)
            raise

    def _forget(self, conn: Connection) -> None:
        if conn is self._kept_write:
            self._kept_write = None
        elif getattr(self._kept, "read", None) is conn:
            self._kept.read = None
        try:
            conn.close()  # rolls back what is open
        except Exception:
            conn.invalidate()  # unusable: the pool drops it

    async def _write_tx(self, fn: Callable[..., T], *args: Any) -> T:
        def run() -> T:
            return self._in_tx(self._write, fn, args)

        def run_locked() -> T:
            assert self._writer_lock is not None
            with self._writer_lock:
                return run()

        return await self._run(run if self._writer_lock is None else run_locked)

    async def _read_tx(self, fn: Callable[..., T], *args: Any) -> T:
        def run() -> T:
            return self._in_tx(self._read, fn, args)

        return await self._run(run)

    async def migrate(self) -> None:
        """Bring the schema to the newest revision; Alembic is loaded only when there is
        something to do (it and its templates are ~10 MB of a serving process)."""
        if await self.schema_is_current():
            return
        from tiktok_ads.adapters.store import migrate

        await self._run(migrate.upgrade, self._write)

    async def schema_is_current(self) -> bool:
        return await self._run(_stored_revision, self._read) == HEAD_REVISION

    async def ping(self) -> bool:
        def ping(conn: Connection) -> bool:
            return conn.execute(text("SELECT 1")).scalar() == 1

        try:
            return await self._read_tx(ping)
        except StoreError:
            return False

    async def close(self) -> None:
        self._pool.shutdown(wait=True)
        with self._kept_lock:
            for conn in self._kept_all:
                conn.close()
            self._kept_all.clear()
        if self._writer_lock is not None:
            self._writer_lock.close()
        self._write.dispose()
        self._read.dispose()
