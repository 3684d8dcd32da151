"""The SQLite schema brought up to date by a short-lived child process before a server starts.

A migration loads Alembic, Mako and its templates into the process that runs it, and they stay
for that process's life: a `serve` started on a new (or just upgraded) database kept ~6 MB
more than one started on a current database (7.0 against 0.9 MB for the migration step). The
child migrates and exits; the server then finds the schema current and never imports Alembic.
PostgreSQL's schema is the operator's step (`tiktok-ads migrate`), as before.

The child is the same interpreter with the server's `sys.path` (and `-P`: nothing from the
working directory), so it imports the very code the server runs; it leaves nothing running
(a multiprocessing pool would leave its resource tracker beside the server).
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys

from tiktok_ads.config import Settings
from tiktok_ads.errors import ConfigurationError, StoreError

log = logging.getLogger(__name__)
_CHILD = "from tiktok_ads.entrypoints.schema import child; child()"


def migrate_apart(settings: Settings) -> None:
    """On SQLite, bring the schema to the newest revision in a child process, if it is not."""
    if not settings.is_sqlite:
        return
    try:
        if asyncio.run(_is_current(settings.database_url)):
            return
    except StoreError as exc:
        raise ConfigurationError(f"cannot read the database: {_reason(exc)}") from exc
    log.info("creating or upgrading the SQLite schema (in a child process)")
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "PYTHONPATH": os.pathsep.join(path for path in sys.path if path),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-P", "-c", _CHILD],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise ConfigurationError(f"could not start the migration: {exc}") from exc
    if done.returncode != 0:
        said = [line for line in done.stderr.splitlines() if line.strip()]
        reason = said[-1] if said else f"the child exited with {done.returncode}"
        raise ConfigurationError(f"migrating the database failed: {reason}")


def child() -> None:
    """The child's work: migrate DATABASE_URL; on failure, one line on stderr and exit 1."""
    try:
        asyncio.run(upgrade(os.environ["DATABASE_URL"]))
    except Exception as exc:
        print(_reason(exc), file=sys.stderr)
        raise SystemExit(1) from None


async def upgrade(url: str) -> None:
    """Bring the schema of `url` to the newest revision here (`tiktok-ads migrate`, the child)."""
    from tiktok_ads.adapters.store import SqlStore

    store = SqlStore(url)
    try:
        await store.migrate()
    finally:
        await store.close()


async def _is_current(url: str) -> bool:
    from tiktok_ads.adapters.store import SqlStore

    store = SqlStore(url)
    try:
        return await store.schema_is_current()
    finally:
        await store.close()


def _reason(exc: BaseException) -> str:
    """`Type: message`, the database's own words when the store wrapped them, without the link
    line SQLAlchemy adds."""
    shown = exc.__cause__ if isinstance(exc, StoreError) and exc.__cause__ else exc
    text = str(shown).strip()
    return f"{type(shown).__name__}: {text.splitlines()[0] if text else '(no message)'}"
