"""Store verbs for our own API keys: kept by hash, optionally limited to some pixels."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from tiktok_ads.adapters.store.base import StoreBase
from tiktok_ads.adapters.store.schema import api_keys
from tiktok_ads.domain.connections import ApiKeyRow


def _joined(pixels: frozenset[str] | None) -> str | None:
    return None if pixels is None else ",".join(sorted(pixels))


def _key_row(row: Any) -> ApiKeyRow:
    return ApiKeyRow(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=frozenset(row.scopes.split(",")),
        revoked=bool(row.revoked),
        pixels=None if row.pixel_ids is None else frozenset(row.pixel_ids.split(",")),
        created_at=row.created_at,
    )


class KeyRows(StoreBase):
    async def add_api_key(
        self,
        *,
        name: str,
        key_hash: str,
        prefix: str,
        scopes: frozenset[str],
        now: float,
        pixels: frozenset[str] | None = None,
    ) -> int:
        def run(conn: Connection) -> int:
            result = conn.execute(
                api_keys.insert().values(
                    name=name,
                    key_hash=key_hash,
                    prefix=prefix,
                    scopes=",".join(sorted(scopes)),
                    created_at=now,
                    pixel_ids=_joined(pixels),
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

        return await self._write_tx(run)

    async def find_api_key(self, key_hash: str) -> ApiKeyRow | None:
        def read(conn: Connection) -> ApiKeyRow | None:
            row = conn.execute(select(api_keys).where(api_keys.c.key_hash == key_hash)).first()
            return None if row is None else _key_row(row)

        return await self._read_tx(read)

    async def list_api_keys(self) -> list[ApiKeyRow]:
        """Every key, oldest first (the hashes stay here)."""

        def read(conn: Connection) -> list[ApiKeyRow]:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.id)).all()
            return [_key_row(row) for row in rows]

        return await self._read_tx(read)

    async def revoke_api_key(self, key_id: int) -> str | None:
        """Mark a key revoked; its hash (for the caller's cache), or None when there is none."""

        def run(conn: Connection) -> str | None:
            key_hash = conn.execute(
                select(api_keys.c.key_hash).where(api_keys.c.id == key_id)
            ).scalar()
            if key_hash is None:
                return None
            conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked=True))
            return str(key_hash)

        return await self._write_tx(run)
