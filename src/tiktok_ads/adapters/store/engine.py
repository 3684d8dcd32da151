"""Engines for SQLite and PostgreSQL, and the thread pool the async store runs them on.

SQLite gets WAL with synchronous=FULL (an acknowledged event survives power loss) and
`BEGIN IMMEDIATE` on the write engine, so a transaction never has to upgrade its lock midway.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

from tiktok_ads.errors import ConfigurationError


def normalise_url(url: str) -> str:
    """Accept the usual `postgresql://` / `postgres://` spellings; we drive them with psycopg 3."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("sqlite://", "postgresql+psycopg://")):
        return url
    raise ConfigurationError(
        f"DATABASE_URL must be sqlite:///PATH or postgresql://..., not {url.split(':', 1)[0]}:..."
    )


# SQLite's page cache per connection, in KiB. A reader's cache is emptied whenever another
# connection has committed since its last read (WAL), which under ingest is every few
# milliseconds; at 2 MB each, the readers' caches were ~5 MB of the service's peak RSS for
# little use. The writer's cache (its own commits do not empty it) stays at 2 MB.
WRITER_CACHE_KIB = 2000
READER_CACHE_KIB = 256


def _sqlite_engine(url: str, begin: str, pool_size: int, cache_kib: int) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        # One connection per store thread is all that is ever used at once.
        pool_size=pool_size,
        max_overflow=0,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Small caches: the OS page cache serves re-reads anyway, and a large cache on every
        # pooled connection grew a draining worker past 400 MB (bench_worker_rss).
        cursor.execute(f"PRAGMA cache_size=-{cache_kib}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # On the driver's connection: through exec_driver_sql it cost ~20 µs a transaction.
        connection.connection.dbapi_connection.execute(begin)

    return engine


def create_engines(url: str, pool_size: int = 8) -> tuple[Engine, Engine]:
    """(write engine, read engine); the same engine twice for PostgreSQL."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        if ":memory:" in url or url.rstrip("/") == "sqlite:":
            raise ConfigurationError("an in-memory SQLite database cannot be shared; use a file")
        return (
            _sqlite_engine(url, "BEGIN IMMEDIATE", pool_size, WRITER_CACHE_KIB),
            _sqlite_engine(url, "BEGIN", pool_size, READER_CACHE_KIB),
        )
    engine = create_engine(url, pool_size=pool_size, max_overflow=0, pool_pre_ping=True)
    return engine, engine
