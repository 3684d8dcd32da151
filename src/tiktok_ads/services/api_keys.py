"""Keys for our own API: stored as SHA-256 hashes, checked on every request (cached briefly).

A key may be limited to some pixels (an organiser's): it then sends and sees only their data.
Revoking a key takes effect at once in the process that revoked it (the key leaves its cache);
other processes refuse it once their cached entry expires, within `_CACHE_SECONDS`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from tiktok_ads.domain.connections import PIXEL_ID, ApiKeyRow
from tiktok_ads.errors import EventInvalid, FieldError, NotFound, pixel_forbidden
from tiktok_ads.services.ports import Clock, KeyStore
from tiktok_ads.services.queries import iso


def hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_api_key() -> str:
    return "tta_" + secrets.token_urlsafe(30)


SCOPES = frozenset({"events", "admin"})
MAX_NAME_CHARS = 100
_CACHE_SECONDS = 30.0
KNOWN_KEYS_CACHED = 10_000
UNKNOWN_KEYS_CACHED = 1_000

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who calls: a key's name, its rights and its pixels (None: every pixel)."""

    name: str
    scopes: frozenset[str]
    pixels: frozenset[str] | None = None

    def may(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes

    def sees(self, pixel_id: str) -> bool:
        return self.pixels is None or pixel_id in self.pixels

    def oversees(self, pixels: frozenset[str] | None) -> bool:
        """Every pixel of `pixels` (None: all of them) is one of this key's."""
        if self.pixels is None:
            return True
        return pixels is not None and pixels <= self.pixels


def key_view(row: ApiKeyRow) -> dict[str, Any]:
    """A key as GET /keys shows it: never the key, never its hash."""
    return {
        "id": row.id,
        "name": row.name,
        "prefix": row.prefix,
        "scopes": sorted(row.scopes),
        "pixel_ids": None if row.pixels is None else sorted(row.pixels),
        "created_at": iso(row.created_at),
        "revoked": row.revoked,
    }


def _key_errors(
    name: str, scopes: frozenset[str], pixels: frozenset[str] | None
) -> list[FieldError]:
    errors = []
    if not name.strip() or len(name) > MAX_NAME_CHARS or not name.isprintable():
        errors.append(FieldError("name", f"must be 1-{MAX_NAME_CHARS} printable characters"))
    if not scopes or scopes - SCOPES:
        errors.append(FieldError("scopes", f"must be among {sorted(SCOPES)}"))
    if pixels is not None and not pixels:
        errors.append(FieldError("pixel_ids", "at least one pixel, or null for every pixel"))
    for pixel_id in sorted(pixels or ()):
        if not PIXEL_ID.fullmatch(pixel_id):
            errors.append(
                FieldError("pixel_ids", f"{pixel_id!r}: 1-64 letters, digits, '-' or '_'")
            )
    return errors


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

    async def create(
        self, name: str, scopes: frozenset[str], pixels: frozenset[str] | None = None
    ) -> str:
        """A new key (for every pixel, or for `pixels`), returned once; only its hash is kept."""
        raw, _ = await self.issue(name, scopes, pixels)
        return raw

    async def issue(
        self,
        name: str,
        scopes: frozenset[str],
        pixels: frozenset[str] | None = None,
        *,
        by: Principal | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """A new key, returned once (only its hash is kept), and its view as GET /keys shows it.

        `by`, the admin asking, hands out only its own pixels: a key limited to some pixels
        makes keys for those (by default all of them), never for others or for every pixel.
        """
        if by is not None and by.pixels is not None and pixels is None:
            pixels = by.pixels
        errors = _key_errors(name, scopes, pixels)
        if errors:
            raise EventInvalid(errors)
        if by is not None and not by.oversees(pixels):
            others = sorted((pixels or frozenset()) - (by.pixels or frozenset()))
            raise pixel_forbidden(f"this API key cannot make keys for pixels {others}")
        raw, now = new_api_key(), self._clock.now()
        row = ApiKeyRow(0, name.strip(), raw[:8], scopes, False, pixels, now)
        key_id = await self._store.add_api_key(
            name=row.name,
            key_hash=hash_api_key(raw),
            prefix=row.prefix,
            scopes=scopes,
            now=now,
            pixels=pixels,
        )
        return raw, key_view(replace(row, id=key_id))

    async def listed(self, by: Principal) -> list[dict[str, Any]]:
        """The keys `by` may see: all of them, or those limited to its own pixels."""
        return [
            key_view(row) for row in await self._store.list_api_keys() if by.oversees(row.pixels)
        ]

    async def revoke(self, key_id: int, by: Principal) -> dict[str, Any]:
        """Revoke a key `by` may see (NotFound otherwise); refused at once in this process."""
        row = next((r for r in await self._store.list_api_keys() if r.id == key_id), None)
        if row is None or not by.oversees(row.pixels):
            raise NotFound(f"no API key with id {key_id}")
        key_hash = await self._store.revoke_api_key(key_id)
        if key_hash is not None:
            self._known.pop(key_hash)
        return key_view(replace(row, revoked=True))

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
        principal = Principal(row.name, row.scopes, row.pixels)
        self._unknown.pop(digest)
        self._known.put(digest, (now, principal))
        return principal
