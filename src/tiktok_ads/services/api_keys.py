"""Keys for our own API: stored as SHA-256 hashes, checked on every request (cached briefly)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

from tiktok_ads.services.ports import Clock, KeyStore


def hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_api_key() -> str:
    return "tta_" + secrets.token_urlsafe(30)


SCOPES = frozenset({"events", "admin"})
_CACHE_SECONDS = 30.0
KNOWN_KEYS_CACHED = 10_000
UNKNOWN_KEYS_CACHED = 1_000

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    scopes: frozenset[str]

    def may(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


class BoundedLru(Generic[V]):
    """At most `bound` entries; a new one pushes out the least recently used, only that one."""

    def __init__(self, bound: int) -> None:
        self._bound = bound
        self._entries: OrderedDict[str, V] = OrderedDict()

    def get(self, key: str) -> V | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: str, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._bound:
            self._entries.popitem(last=False)

    def pop(self, key: str) -> None:
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


class ApiKeys:
    def __init__(
        self,
        store: KeyStore,
        clock: Clock,
        bootstrap_key: str | None,
        *,
        known_cached: int = KNOWN_KEYS_CACHED,
        unknown_cached: int = UNKNOWN_KEYS_CACHED,
    ) -> None:
        self._store = store
        self._clock = clock
        self._bootstrap_hash = hash_api_key(bootstrap_key) if bootstrap_key else None
        # Valid and unknown keys are cached apart: a caller guessing keys churns only the
        # smaller cache of misses and never pushes a shop's working key out.
        self._known: BoundedLru[tuple[float, Principal]] = BoundedLru(known_cached)
        self._unknown: BoundedLru[float] = BoundedLru(unknown_cached)

    async def create(self, name: str, scopes: frozenset[str]) -> str:
        """A new key, returned once; only its hash is kept."""
        unknown = scopes - SCOPES
        if unknown or not scopes:
            raise ValueError(f"scopes must be among {sorted(SCOPES)}")
        raw = new_api_key()
        await self._store.add_api_key(
            name=name,
            key_hash=hash_api_key(raw),
            prefix=raw[:8],
            scopes=scopes,
            now=self._clock.now(),
        )
        return raw

    async def authenticate(self, raw: str) -> Principal | None:
        return await self.authenticate_digest(hash_api_key(raw))

    async def authenticate_digest(self, digest: str) -> Principal | None:
        """The key with this SHA-256 digest (what a console session keeps, never the key)."""
        if self._bootstrap_hash is not None and hmac.compare_digest(digest, self._bootstrap_hash):
            return Principal("bootstrap", frozenset({"admin"}))
        now = self._clock.now()
        known = self._known.get(digest)
        if known is not None and now - known[0] < _CACHE_SECONDS:
            return known[1]
        refused_at = self._unknown.get(digest)
        if refused_at is not None and now - refused_at < _CACHE_SECONDS:
            return None
        row = await self._store.find_api_key(digest)
        if row is None or row.revoked:
            self._known.pop(digest)
            self._unknown.put(digest, now)
            return None
        principal = Principal(row.name, row.scopes)
        self._unknown.pop(digest)
        self._known.put(digest, (now, principal))
        return principal
