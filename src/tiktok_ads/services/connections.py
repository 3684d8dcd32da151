"""Connections: each organiser's pixel with its (encrypted) access token and test mode."""

from __future__ import annotations

import logging
import re

from tiktok_ads.domain.connections import PIXEL_ID, ConnectionRow, check_pixel
from tiktok_ads.errors import (
    ConfigurationError,
    EventInvalid,
    FieldError,
    UnknownConnection,
    pixel_forbidden,
)
from tiktok_ads.services.ports import Clock, ConnectionStore, TokenSealer

log = logging.getLogger(__name__)

# A token travels in the Access-Token header: printable ASCII without spaces, or httpx
# refuses the header on every delivery.
_ACCESS_TOKEN = re.compile(r"[\x21-\x7e]{1,512}")
_MAX_LABEL_CHARS = 64  # advertiser_id and test_event_code: TikTok's are far shorter
_CACHE_SECONDS = 5.0
_ALL_CACHE_SECONDS = 1.0


def _connection_errors(
    pixel_id: str,
    access_token: str,
    advertiser_id: str | None,
    test_mode: bool,
    test_event_code: str | None,
) -> list[FieldError]:
    errors = []
    if not PIXEL_ID.fullmatch(pixel_id or ""):
        errors.append(FieldError("pixel_id", "must be 1-64 letters, digits, '-' or '_'"))
    if not _ACCESS_TOKEN.fullmatch(access_token or ""):
        errors.append(
            FieldError("access_token", "must be 1-512 printable ASCII characters without spaces")
        )
    for name, value in (("advertiser_id", advertiser_id), ("test_event_code", test_event_code)):
        if value is not None and (not value.isprintable() or len(value) > _MAX_LABEL_CHARS):
            errors.append(
                FieldError(name, f"must be at most {_MAX_LABEL_CHARS} printable characters")
            )
    if test_mode and not test_event_code:
        errors.append(FieldError("test_event_code", "is required when test_mode is true"))
    return errors


class ConnectionService:
    def __init__(
        self,
        store: ConnectionStore,
        cipher: TokenSealer,
        clock: Clock,
        marketing_access_token: str | None = None,
    ) -> None:
        self._store = store
        self._cipher = cipher
        self._clock = clock
        self._cache: dict[str | None, tuple[float, ConnectionRow]] = {}
        self._all: tuple[float, list[ConnectionRow]] | None = None
        # TIKTOK_MARKETING_ACCESS_TOKEN: audience calls of connections without their own.
        self._marketing_env = (marketing_access_token or "").strip() or None

    async def connect(
        self,
        *,
        pixel_id: str,
        access_token: str,
        advertiser_id: str | None = None,
        test_mode: bool = False,
        test_event_code: str | None = None,
        make_default: bool = False,
        configured_from: str = "api",
        pixels: frozenset[str] | None = None,
        marketing_access_token: str | None = None,
    ) -> ConnectionRow:
        """Create or replace a connection; `pixels`: those the asking key may connect."""
        check_pixel(pixel_id, pixels)
        if pixels is not None and make_default:
            # The default pixel takes every key's events sent without pixel_id.
            raise pixel_forbidden("a key limited to some pixels cannot choose the default pixel")
        access_token = (access_token or "").strip()
        errors = _connection_errors(
            pixel_id, access_token, advertiser_id, test_mode, test_event_code
        )
        marketing = (marketing_access_token or "").strip() or None
        if marketing is not None and not _ACCESS_TOKEN.fullmatch(marketing):
            errors.append(
                FieldError(
                    "marketing_access_token",
                    "must be 1-512 printable ASCII characters without spaces",
                )
            )
        if errors:
            raise EventInvalid(errors)
        if not make_default and await self._store.get_connection(None) is None:
            make_default = True  # the first connection is the default one
        row = await self._store.upsert_connection(
            pixel_id=pixel_id,
            access_token_enc=self._cipher.encrypt(access_token),
            advertiser_id=advertiser_id,
            test_mode=test_mode,
            test_event_code=test_event_code,
            is_default=make_default,
            now=self._clock.now(),
            configured_from=configured_from,
            marketing_access_token_enc=None
            if marketing is None
            else self._cipher.encrypt(marketing),
        )
        self.forget()
        return row

    async def adopt_environment(
        self,
        *,
        pixel_id: str,
        access_token: str,
        advertiser_id: str | None,
        test_mode: bool,
        test_event_code: str | None,
    ) -> str:
        """The connection of TIKTOK_PIXEL_ID / TIKTOK_ACCESS_TOKEN, at every start.

        The environment gives the initial connection and may rotate a token it gave; a token
        set by POST /connect wins over it, and an unchanged token keeps its health (a held
        connection stays held until fixed). Returns what happened, for the log.
        """
        row = await self._store.get_connection(pixel_id)
        if row is None:
            await self.connect(
                pixel_id=pixel_id,
                access_token=access_token,
                advertiser_id=advertiser_id,
                test_mode=test_mode,
                test_event_code=test_event_code,
                make_default=await self._store.get_connection(None) is None,
                configured_from="env",
            )
            return "created"
        same_token = self._stored_token(row) == access_token.strip()
        if row.configured_from != "env":
            if not same_token:
                log.warning(
                    "pixel %s keeps the token set by POST /connect; TIKTOK_ACCESS_TOKEN differs "
                    "and is ignored (POST /connect again to change it)",
                    pixel_id,
                )
            return "kept"
        if not same_token:
            await self.connect(
                pixel_id=pixel_id,
                access_token=access_token,
                advertiser_id=advertiser_id,
                test_mode=test_mode,
                test_event_code=test_event_code,
                make_default=row.is_default,
                configured_from="env",
            )
            return "rotated"
        if (row.advertiser_id, row.test_mode, row.test_event_code) != (
            advertiser_id,
            test_mode,
            test_event_code,
        ):
            await self._store.update_connection_settings(
                pixel_id,
                advertiser_id=advertiser_id,
                test_mode=test_mode,
                test_event_code=test_event_code,
                now=self._clock.now(),
            )
            self.forget()
            return "updated"
        return "unchanged"

    def _stored_token(self, row: ConnectionRow) -> str | None:
        """The stored token, or None when it cannot be read (the secret key changed)."""
        try:
            return self._cipher.decrypt(row.access_token_enc)
        except ConfigurationError:
            return None

    def cached(self, pixel_id: str | None) -> ConnectionRow | None:
        """The connection from the short-lived cache, without touching the database."""
        cached = self._cache.get(pixel_id)
        if cached and self._clock.now() - cached[0] < _CACHE_SECONDS:
            return cached[1]
        return None

    async def resolve(self, pixel_id: str | None) -> ConnectionRow:
        """The connection an event goes to; unknown pixels are the caller's error (40001)."""
        now = self._clock.now()
        cached = self._cache.get(pixel_id)
        if cached and now - cached[0] < _CACHE_SECONDS:
            return cached[1]
        row = await self._store.get_connection(pixel_id)
        if row is None:
            if pixel_id is None:
                raise UnknownConnection(
                    [
                        FieldError(
                            "pixel_id",
                            "no pixel given and no default connection: set "
                            "TIKTOK_PIXEL_ID/TIKTOK_ACCESS_TOKEN or POST /connect",
                            40001,
                        )
                    ]
                )
            raise UnknownConnection(
                [FieldError("pixel_id", f"unknown pixel {pixel_id!r}: POST /connect first", 40001)]
            )
        self._cache[pixel_id] = (now, row)
        return row

    async def all(self) -> list[ConnectionRow]:
        """Every connection; the dispatcher asks on each pass, so the list is kept a second
        (a change made through this service is seen at once)."""
        now = self._clock.now()
        if self._all is not None and now - self._all[0] < _ALL_CACHE_SECONDS:
            return self._all[1]
        rows = await self._store.list_connections()
        self._all = (now, rows)
        return rows

    def access_token(self, row: ConnectionRow) -> str:
        return self._cipher.decrypt(row.access_token_enc)

    async def for_advertiser(self, advertiser_id: str) -> ConnectionRow:
        """The connection audience calls of an advertiser go through (the default one when it
        is the advertiser's); an advertiser without a connection is the caller's error."""
        rows = [r for r in await self._store.list_connections() if r.advertiser_id == advertiser_id]
        if not rows:
            raise UnknownConnection(
                [
                    FieldError(
                        "advertiser_id",
                        f"no connection has advertiser_id {advertiser_id!r}: POST /connect "
                        "with it (or set TIKTOK_ADVERTISER_ID) first",
                        40001,
                    )
                ]
            )
        rows.sort(key=lambda r: (not r.is_default, r.marketing_access_token_enc is None))
        return rows[0]

    def marketing_token(self, row: ConnectionRow) -> str:
        """The Marketing API token for audience calls: the connection's own (POST /connect),
        else TIKTOK_MARKETING_ACCESS_TOKEN, else the connection's access token."""
        if row.marketing_access_token_enc is not None:
            return self._cipher.decrypt(row.marketing_access_token_enc)
        return self._marketing_env or self.access_token(row)

    def forget(self) -> None:
        """Drop what is cached: a connection changed."""
        self._cache.clear()
        self._all = None
