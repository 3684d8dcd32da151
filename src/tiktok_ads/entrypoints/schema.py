"""The SQLite schema brought up to date by a short-lived child process before a server starts.

A migration loads Alembic, Mako and its templates into the process that runs it, and they stay
for that process's life: a `serve` started on a new (or just upgraded) database kept ~6 MB
more than one started on a current database (7.0 against 0.9 MB for the migration step). The
child runs `tiktok-ads migrate` and exits; the server then finds the schema current and never
imports Alembic. PostgreSQL's schema is the operator's step (`tiktok-ads migrate`), as before.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from tiktok_ads.config import Settings
from tiktok_ads.errors import ConfigurationError, StoreError

_MIGRATE_TIMEOUT_S = 600.0


def migrate_apart(settings: Settings) -> None:
    """On SQLite, bring the schema to the newest revision in a child process, if it is not."""
    if not settings.is_sqlite:
        return
    try:
        if asyncio.run(_is_current(settings)):
            return
    except StoreError as exc:
        raise ConfigurationError(f"cannot read the database: {exc}") from exc
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tiktok_ads", "migrate"],
            env=env,
            capture_output=True,
            text=True,
            timeout=_MIGRATE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigurationError(f"could not migrate the database: {exc}") from exc
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise ConfigurationError(
            "migrating the database failed: " + (said[-1] if said else f"exit {done.returncode}")
        )


async def _is_current(settings: Settings) -> bool:
    from tiktok_ads.adapters.store import SqlStore

    store = SqlStore(settings.database_url)
    try:
        return await store.schema_is_current()
    finally:
        await store.close()
