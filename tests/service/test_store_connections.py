"""The store's transactions: on SQLite its connections are kept from one transaction to the
next (adapters/store/base.py); a failure must not leave one mid-transaction, every read must
see what was committed before it, and closing the store closes them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from tiktok_ads.adapters.store import SqlStore
from tiktok_ads.errors import StoreError


class Boom(Exception):
    pass


def _count(conn: Connection) -> int:
    return int(conn.execute(text("SELECT count(*) FROM api_keys")).scalar_one())


def _add_key(name: str, fail: bool = False) -> Any:
    def run(conn: Connection) -> None:
        conn.execute(
            text(
                "INSERT INTO api_keys (name, key_hash, prefix, scopes, created_at, revoked) "
                "VALUES (:n, :h, 'tta_', 'events', 0, false)"
            ),
            {"n": name, "h": name * 4},
        )
        if fail:
            raise Boom(name)

    return run


async def test_a_failed_transaction_leaves_nothing_and_the_next_one_works(store: Any) -> None:
    assert isinstance(store, SqlStore)
    before = await store._read_tx(_count)
    with pytest.raises(Boom):
        await store._write_tx(_add_key("failed", fail=True))
    assert before == await store._read_tx(_count)  # rolled back
    for i in range(3):  # every later write commits, whichever thread runs it
        await store._write_tx(_add_key(f"ok{i}"))
    assert before + 3 == await store._read_tx(_count)


async def test_reads_on_every_thread_see_each_commit(store: Any) -> None:
    """A kept reader holds no snapshot between transactions: each read sees the writes
    committed before it, on all the store's threads at once."""
    base = await store._read_tx(_count)
    for i in range(5):
        await store._write_tx(_add_key(f"k{i}"))
        seen = await asyncio.gather(*(store._read_tx(_count) for _ in range(8)))
        assert {base + i + 1} == set(seen)


async def test_a_connection_broken_mid_transaction_is_replaced(tmp_path: Any) -> None:
    store = SqlStore(f"sqlite:///{tmp_path}/broken.db")
    await store.migrate()
    try:

        def close_underneath(conn: Connection) -> None:
            conn.connection.dbapi_connection.close()  # type: ignore[union-attr]
            conn.execute(text("SELECT 1"))

        with pytest.raises(StoreError):
            await store._write_tx(close_underneath)
        await store._write_tx(_add_key("after"))
        assert 1 == await store._read_tx(_count)
    finally:
        await store.close()


async def test_closing_the_store_closes_the_kept_connections(tmp_path: Any) -> None:
    store = SqlStore(f"sqlite:///{tmp_path}/close.db")
    await store.migrate()
    await store._write_tx(_add_key("x"))
    await asyncio.gather(*(store._read_tx(_count) for _ in range(4)))
    kept = list(store._kept_all)
    assert kept, "SQLite keeps its connections between transactions"
    await store.close()
    assert all(conn.closed for conn in kept)


async def test_readers_keep_a_small_page_cache_and_the_writer_a_larger_one(tmp_path: Any) -> None:
    """A reader's cache is emptied by every commit of another connection (WAL): 256 KiB each;
    the writer's, which its own commits keep, 2 MB."""
    store = SqlStore(f"sqlite:///{tmp_path}/cache.db")
    await store.migrate()

    def cache_kib(conn: Connection) -> int:
        return -int(conn.execute(text("PRAGMA cache_size")).scalar_one())

    try:
        assert 2000 == await store._write_tx(cache_kib)
        assert {256} == set(await asyncio.gather(*(store._read_tx(cache_kib) for _ in range(4))))
    finally:
        await store.close()
