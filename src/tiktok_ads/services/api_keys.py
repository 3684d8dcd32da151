"""Keys for our own API: stored as SHA-256 hashes, checked on every request (cached briefly)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from tiktok_ads.services.ports import Clock, KeyStore


def hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_api_key() -> str:
    return "tta_" + secrets.token_urlsafe(30)


SCOPES = frozenset({"events", "admin"})
_CACHE_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    scopes: frozenset[str]

    def may(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


class ApiKeys:
    def __init__(self, store: KeyStore, clock: Clock, bootstrap_key: str | None) -> None:
        self._store = store
        self._clock = clock
        self._bootstrap_hash = hash_api_key(bootstrap_key) if bootstrap_key else None
        self._cache: dict[str, tuple[float, Principal | None]] = {}

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
        digest = hash_api_key(raw)
        if digest == self._bootstrap_hash:
            return Principal("bootstrap", frozenset({"admin"}))
        now = self._clock.now()
        cached = self._cache.get(digest)
        if cached and now - cached[0] < _CACHE_SECONDS:
            return cached[1]
        row = await self._store.find_api_key(digest)
        principal = Principal(row.name, row.scopes) if row and not row.revoked else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now, principal)
        return principal
