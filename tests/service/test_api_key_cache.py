"""The API-key cache: bounded, and guessing keys never pushes a working key out of it."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tiktok_ads.adapters.clock import FrozenClock
from tiktok_ads.adapters.store import ApiKeyRow, SqlStore
from tiktok_ads.services.api_keys import ApiKeys, BoundedLru, Principal


class CountingStore(SqlStore):
    """The real store, counting how often a key is looked up in the database."""

    lookups = 0

    async def find_api_key(self, key_hash: str) -> ApiKeyRow | None:
        self.lookups += 1
        return await super().find_api_key(key_hash)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CountingStore]:
    store = CountingStore(f"sqlite:///{tmp_path}/keys.db")
    await store.migrate()
    yield store
    await store.close()


async def test_working_key_stays_cached_while_10001_random_keys_are_tried(
    store: CountingStore,
) -> None:
    """After 10,001 guessed keys, a shop's key is still answered from the cache."""
    keys = ApiKeys(store, FrozenClock(1_700_000_000.0), bootstrap_key="boot")
    raw = await keys.create("shop", frozenset({"events"}))
    shop = Principal("shop", frozenset({"events"}))
    assert shop == await keys.authenticate(raw)
    for _ in range(10_001):  # the old cache was dropped whole past 10,000 entries
        assert None is await keys.authenticate("tta_" + secrets.token_urlsafe(30))
    before = store.lookups
    assert shop == await keys.authenticate(raw)
    assert before == store.lookups


async def test_unknown_keys_are_cached_within_their_own_bound(store: CountingStore) -> None:
    """Misses are cached up to their bound; the oldest miss is looked up again, the newest not."""
    keys = ApiKeys(store, FrozenClock(1_700_000_000.0), bootstrap_key=None, unknown_cached=100)
    guesses = [f"guess-{i}" for i in range(101)]
    for guess in guesses:
        await keys.authenticate(guess)
    before = store.lookups
    await keys.authenticate(guesses[-1])
    assert before == store.lookups
    await keys.authenticate(guesses[0])
    assert before + 1 == store.lookups


async def test_valid_keys_are_cached_within_their_bound(store: CountingStore) -> None:
    """With room for two keys, a third pushes out the least recently used one only."""
    keys = ApiKeys(store, FrozenClock(1_700_000_000.0), bootstrap_key=None, known_cached=2)
    first, second, third = [await keys.create(f"k{i}", frozenset({"events"})) for i in range(3)]
    for raw in (first, second, third):
        await keys.authenticate(raw)
    before = store.lookups
    await keys.authenticate(third)
    await keys.authenticate(second)
    assert before == store.lookups
    await keys.authenticate(first)
    assert before + 1 == store.lookups


async def test_bootstrap_key_needs_no_lookup(store: CountingStore) -> None:
    """The bootstrap key is admin without touching the database; a near miss is not."""
    keys = ApiKeys(store, FrozenClock(1_700_000_000.0), bootstrap_key="boot-key")
    assert Principal("bootstrap", frozenset({"admin"})) == await keys.authenticate("boot-key")
    assert 0 == store.lookups
    assert None is await keys.authenticate("boot-kez")
    assert 1 == store.lookups


def test_bounded_lru_never_grows_past_its_bound() -> None:
    """10,000 entries into room for 100: 100 kept, the most recent ones."""
    lru: BoundedLru[int] = BoundedLru(100)
    for i in range(10_000):
        lru.put(f"k{i}", i)
    assert 100 == len(lru)
    assert (None, 9_900, 9_999) == (lru.get("k9899"), lru.get("k9900"), lru.get("k9999"))
