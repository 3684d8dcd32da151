"""POST /keys, GET /keys, DELETE /keys/{id}: our own API keys, for admins."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from tiktok_ads.entrypoints.api import schemas
from tiktok_ads.entrypoints.api.deps import container, read_json, require
from tiktok_ads.entrypoints.api.responses import JsonResponse
from tiktok_ads.errors import EventInvalid, FieldError
from tiktok_ads.services.api_keys import Principal

router = APIRouter(tags=["keys"])
admin_right = Depends(require("admin"))


def _strings(body: dict[str, Any], name: str, default: list[str] | None) -> list[str] | None:
    value = body.get(name, default)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise EventInvalid([FieldError(name, "must be a list of strings")])
    return value


@router.post(
    "/keys",
    status_code=201,
    summary="Create an API key, optionally limited to some pixels (returned once)",
    openapi_extra=schemas.request_body(schemas.KeyIn),
    responses=schemas.ERRORS,
)
async def create_key(request: Request, key: Principal = admin_right) -> JsonResponse:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise EventInvalid([FieldError("body", "must be a JSON object")])
    name = body.get("name")
    if not isinstance(name, str):
        raise EventInvalid([FieldError("name", "is required: a string")])
    scopes = _strings(body, "scopes", ["events"]) or []
    pixel_ids = _strings(body, "pixel_ids", None)
    raw, view = await container(request).keys.issue(
        name, frozenset(scopes), None if pixel_ids is None else frozenset(pixel_ids), by=key
    )
    return JsonResponse({"success": True, **view, "key": raw}, status_code=201)


@router.get("/keys", summary="API keys (never the key itself nor its hash)")
async def list_keys(request: Request, key: Principal = admin_right) -> JsonResponse:
    return JsonResponse({"keys": await container(request).keys.listed(key)})


@router.delete("/keys/{key_id}", summary="Revoke an API key (refused from then on)")
async def revoke_key(request: Request, key_id: int, key: Principal = admin_right) -> JsonResponse:
    view = await container(request).keys.revoke(key_id, key)
    return JsonResponse({"success": True, **view})
