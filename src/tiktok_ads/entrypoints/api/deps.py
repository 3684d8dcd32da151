"""Request plumbing shared by the routes: the container, API-key auth, capped JSON bodies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import Request

from tiktok_ads.entrypoints.api.errors import CODE_AUTH, CODE_FORBIDDEN, ApiError
from tiktok_ads.errors import FieldError
from tiktok_ads.services.api_keys import Principal

if TYPE_CHECKING:
    from tiktok_ads.bootstrap import Container


def container(request: Request) -> Container:
    # A plain attribute of the app (create_api): `app.state` is read through a __getattr__
    # hook, and the hot routes ask three times a request.
    return request.scope["app"].container  # type: ignore[no-any-return]


async def authorize(request: Request, scope: str) -> Principal:
    """A valid `Authorization: Bearer <key>` whose key has `scope`, or an ApiError."""
    header = request.headers.get("authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise ApiError(
            401,
            CODE_AUTH,
            "missing API key: send Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = await container(request).keys.authenticate(raw.strip())
    if principal is None:
        raise ApiError(401, CODE_AUTH, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
    if not principal.may(scope):
        raise ApiError(403, CODE_FORBIDDEN, f"this API key lacks the '{scope}' right")
    return principal


def require(scope: str) -> Callable[[Request], Awaitable[Principal]]:
    """`authorize` as a FastAPI dependency (the hot ingest routes call it directly)."""

    async def check(request: Request) -> Principal:
        return await authorize(request, scope)

    return check


async def read_json(request: Request) -> Any:
    """The body as JSON, refused past TIKTOK_ADS_MAX_BODY_BYTES (by Content-Length first)."""
    return parse_json(await read_body(request))


async def read_body(request: Request) -> bytes:
    """The body's bytes, refused past TIKTOK_ADS_MAX_BODY_BYTES (by Content-Length first) or
    when empty."""
    cap = container(request).settings.tiktok_ads_max_body_bytes
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > cap:
        raise _too_large(cap)
    # Streamed, not `request.body()`: that keeps the bytes on the request until it is answered
    # (a 1,000-event batch waits for its commit; its ~700 KB have long been parsed by then).
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise _too_large(cap)
        if chunk:  # the stream ends with an empty one
            chunks.append(chunk)
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if not body:
        raise ApiError(
            422,
            40002,
            "empty body: send a JSON object",
            [FieldError("body", "must be a JSON object")],
        )
    return body


def parse_json(body: bytes) -> Any:
    """`body` as JSON, or a 422 naming where it stops being JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(
            422,
            40002,
            f"body is not valid JSON: {exc.msg} at {exc.pos}",
            [FieldError("body", "not valid JSON")],
        ) from exc


def _too_large(cap: int) -> ApiError:
    return ApiError(
        413,
        40002,
        f"request body larger than {cap} bytes",
        [FieldError("body", f"at most {cap} bytes")],
    )
