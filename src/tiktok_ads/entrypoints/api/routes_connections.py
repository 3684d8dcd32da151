"""GET /connection, GET /connections, POST /connect: pixels, tokens, health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from tiktok_ads.entrypoints.api import schemas
from tiktok_ads.entrypoints.api.deps import container, read_json, require
from tiktok_ads.entrypoints.api.errors import ApiError
from tiktok_ads.entrypoints.api.params import PixelIdQuery
from tiktok_ads.entrypoints.api.responses import JsonResponse
from tiktok_ads.errors import EventInvalid, FieldError, NotFound
from tiktok_ads.services.api_keys import Principal

router = APIRouter(tags=["connections"])


@router.get("/connection", summary="One connection (default: the default pixel) and its health")
async def get_connection(
    request: Request,
    pixel_id: PixelIdQuery = None,
    key: Principal = Depends(require("events")),
) -> JsonResponse:
    c = container(request)
    view = await c.queries.connection(pixel_id, key.pixels)
    if view is None:
        if pixel_id is not None:
            raise NotFound(f"no connection for pixel {pixel_id!r}")
        return JsonResponse(
            {
                "connected": False,
                "pixel_id": None,
                "advertiser_id": None,
                "test_mode": c.settings.tiktok_test_mode,
                "last_event_sent": None,
            }
        )
    return JsonResponse(view)


@router.get("/connections", summary="Every connection (multi-pixel)")
async def list_connections(
    request: Request, key: Principal = Depends(require("events"))
) -> JsonResponse:
    views = await container(request).queries.connections(key.pixels)
    return JsonResponse({"connections": views})


def _text(body: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise EventInvalid([FieldError(name, "is required")])
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise EventInvalid([FieldError(name, "must be a string")])
    return value.strip() or None


@router.post(
    "/connect",
    summary="Create or replace a connection (pixel + access token)",
    openapi_extra=schemas.request_body(schemas.ConnectIn),
    responses=schemas.ERRORS,
)
async def connect(request: Request, key: Principal = Depends(require("admin"))) -> JsonResponse:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(
            422, 40002, "body: must be a JSON object", [FieldError("body", "must be an object")]
        )
    for flag in ("test_mode", "default"):
        if flag in body and not isinstance(body[flag], bool):
            raise EventInvalid([FieldError(flag, "must be true or false")])
    c = container(request)
    row = await c.connections.connect(
        pixel_id=_text(body, "pixel_id", required=True) or "",
        access_token=_text(body, "access_token", required=True) or "",
        advertiser_id=_text(body, "advertiser_id"),
        test_mode=bool(body.get("test_mode", False)),
        test_event_code=_text(body, "test_event_code"),
        make_default=bool(body.get("default", False)),
        pixels=key.pixels,
        marketing_access_token=_text(body, "marketing_access_token"),
    )
    c.ingest.written.set()  # a held queue may go again: wake the dispatcher
    view = await c.queries.connection(row.pixel_id)
    return JsonResponse({"success": True, **(view or {})})
