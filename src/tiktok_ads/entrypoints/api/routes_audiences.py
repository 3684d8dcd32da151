"""Audiences: create, list, read, delete; sync, CSV upload, lookalike, apply, refresh.

Writes need the `admin` right (they change what TikTok targets); reads need `events`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from tiktok_ads.entrypoints.api import schemas
from tiktok_ads.entrypoints.api.deps import container, read_json, require
from tiktok_ads.entrypoints.api.errors import CODE_FORBIDDEN, ApiError
from tiktok_ads.entrypoints.api.params import NO_NUL, BeforeIdQuery
from tiktok_ads.entrypoints.api.responses import JsonResponse
from tiktok_ads.entrypoints.api.uploads import capped, check_length, multipart_file
from tiktok_ads.errors import FieldError
from tiktok_ads.services.api_keys import Principal
from tiktok_ads.services.audience_staging import Staged
from tiktok_ads.services.queries import audience_view, segment_counts_view

router = APIRouter(tags=["audiences"])
admin = Depends(require("admin"))
reader = Depends(require("events"))
Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"model": schemas.ErrorOut, "description": "Unknown audience"}}
CONFLICT: Responses = {409: {"model": schemas.ErrorOut, "description": "Being deleted"}}


def _staged_body(staged: Staged) -> dict[str, Any]:
    return {
        "success": True,
        "id": str(staged.audience_id),
        "job_id": staged.job_id,
        "status": "queued",
        "action": staged.action,
        "rows": staged.rows,
        "accepted_ids": staged.accepted_ids,
        "invalid": staged.invalid,
        "report": staged.problems,
        "ignored_columns": list(staged.ignored_columns),
    }


async def _visible(request: Request, key: Principal, audience_id: str) -> None:
    """A key limited to some pixels acts only on its advertisers' audiences (else 404)."""
    if key.pixels is not None:
        await container(request).queries.audience(audience_id, key.pixels)


async def _may_create_for(request: Request, key: Principal, body: Any) -> None:
    if key.pixels is None or not isinstance(body, dict):
        return
    advertisers = await container(request).queries.visible_advertisers(key.pixels) or frozenset()
    if str(body.get("advertiser_id")) not in advertisers:
        raise ApiError(
            403,
            CODE_FORBIDDEN,
            "advertiser_id: this key is limited to other pixels' advertisers",
            [FieldError("advertiser_id", "not an advertiser of this key's pixels")],
        )


def _queued(audience_id: str, job_id: int, status: str = "queued") -> JsonResponse:
    body = {"success": True, "id": audience_id, "job_id": job_id, "status": status}
    return JsonResponse(body, status_code=202)


@router.post(
    "/audiences",
    status_code=201,
    summary="Create an audience (the same name for the advertiser again: 200, same id)",
    openapi_extra=schemas.request_body(schemas.AudienceIn),
    responses={200: {"description": "It existed already"}, **schemas.ERRORS, **CONFLICT},
)
async def create_audience(request: Request, key: Principal = admin) -> JsonResponse:
    body = await read_json(request)
    await _may_create_for(request, key, body)
    row, created = await container(request).audiences.create(body)
    return JsonResponse(
        {"success": True, **audience_view(row)}, status_code=201 if created else 200
    )


@router.get("/audiences", summary="Audiences, newest first")
async def list_audiences(
    request: Request,
    advertiser_id: str | None = Query(None, max_length=64, pattern=NO_NUL),
    limit: int = Query(100, ge=1, le=1000),
    before_id: BeforeIdQuery = None,
    key: Principal = reader,
) -> JsonResponse:
    queries = container(request).queries
    return JsonResponse(
        await queries.audiences(
            advertiser_id=advertiser_id, limit=limit, before_id=before_id, pixels=key.pixels
        )
    )


@router.get(
    "/audiences/{audience_id}",
    summary="Status, members, TikTok's id and last answer, recent jobs",
    responses=NOT_FOUND,
)
async def get_audience(request: Request, audience_id: str, key: Principal = reader) -> JsonResponse:
    return JsonResponse(await container(request).queries.audience(audience_id, key.pixels))


@router.delete(
    "/audiences/{audience_id}",
    status_code=202,
    summary="Delete at TikTok, then here (a job)",
    response_model=schemas.JobQueued,
    responses={**NOT_FOUND, **CONFLICT},
)
async def delete_audience(
    request: Request, audience_id: str, key: Principal = admin
) -> JsonResponse:
    await _visible(request, key, audience_id)
    job_id = await container(request).audiences.delete(audience_id)
    return _queued(audience_id, job_id, "deleting")


@router.post(
    "/audiences/{audience_id}/sync",
    status_code=202,
    summary="APPEND, REMOVE or REPLACE members (202 once the job is stored)",
    response_model=schemas.SyncAccepted,
    openapi_extra=schemas.request_body(schemas.SyncIn),
    responses={**schemas.ERRORS, **NOT_FOUND, **CONFLICT},
)
async def sync_audience(request: Request, audience_id: str, key: Principal = admin) -> JsonResponse:
    await _visible(request, key, audience_id)
    c = container(request)
    staged = await c.audiences.sync(audience_id, await read_json(request))
    return JsonResponse(_staged_body(staged), status_code=202)


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
        "description": "A header line (email, phone, idfa, aaid; other columns are skipped "
        "and listed), then one customer per line; capped by TIKTOK_ADS_MAX_UPLOAD_BYTES",
    }
}


@router.post(
    "/audiences/{audience_id}/upload",
    status_code=202,
    summary="A CSV customer list, streamed (202 once the job is stored)",
    response_model=schemas.SyncAccepted,
    openapi_extra=UPLOAD_BODY,
    responses={**schemas.ERRORS, **NOT_FOUND, **CONFLICT},
)
async def upload_audience(
    request: Request,
    audience_id: str,
    action: str = Query("APPEND", description="APPEND, REMOVE or REPLACE"),
    key: Principal = admin,
) -> JsonResponse:
    await _visible(request, key, audience_id)
    c = container(request)
    cap = c.settings.tiktok_ads_max_upload_bytes
    check_length(request, cap)
    chunks = capped(request, cap)
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        chunks = multipart_file(request, chunks)
    staged = await c.audiences.upload(audience_id, action, chunks)
    return JsonResponse(_staged_body(staged), status_code=202)


@router.post(
    "/audiences/{audience_id}/lookalike",
    status_code=201,
    summary="A lookalike of this audience (synced, ≥100 users, not itself a lookalike)",
    openapi_extra=schemas.request_body(schemas.LookalikeIn),
    responses={200: {"description": "It existed already"}, **schemas.ERRORS, **NOT_FOUND},
)
async def create_lookalike(
    request: Request, audience_id: str, key: Principal = admin
) -> JsonResponse:
    await _visible(request, key, audience_id)
    c = container(request)
    row, created = await c.audiences.lookalike(audience_id, await read_json(request))
    return JsonResponse(
        {"success": True, **audience_view(row)}, status_code=201 if created else 200
    )


@router.post(
    "/audiences/{audience_id}/apply",
    status_code=202,
    summary="Apply (Include / Exclude) or disconnect the audience on ad groups (a job)",
    response_model=schemas.JobQueued,
    openapi_extra=schemas.request_body(schemas.ApplyIn),
    responses={**schemas.ERRORS, **NOT_FOUND, **CONFLICT},
)
async def apply_audience(
    request: Request, audience_id: str, key: Principal = admin
) -> JsonResponse:
    await _visible(request, key, audience_id)
    job_id = await container(request).audiences.apply(audience_id, await read_json(request))
    return _queued(audience_id, job_id)


@router.post(
    "/audiences/{audience_id}/refresh",
    status_code=202,
    summary="Compute a rule audience again now (TikTok receives only the difference)",
    response_model=schemas.RefreshQueued,
    responses={**schemas.ERRORS, **NOT_FOUND, **CONFLICT},
)
async def refresh_audience(request: Request, audience_id: str, _: Any = admin) -> JsonResponse:
    refreshed = await container(request).audiences.refresh(audience_id)
    body = {
        "success": True,
        "id": audience_id,
        "job_id": refreshed.job_id,
        "status": "queued",
        "segment": segment_counts_view(asdict(refreshed.counts)),
    }
    return JsonResponse(body, status_code=202)
