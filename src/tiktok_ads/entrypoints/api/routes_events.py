"""POST /events, /events/batch; GET /events, /events/{event_id}; replay; stats; deliveries."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.engine import RowMapping

from tiktok_ads.entrypoints.api import schemas
from tiktok_ads.entrypoints.api.deps import authorize, container, read_json, require
from tiktok_ads.entrypoints.api.errors import ApiError
from tiktok_ads.entrypoints.api.params import (
    BeforeIdQuery,
    EventIdPath,
    EventTypeQuery,
    PixelIdQuery,
)
from tiktok_ads.entrypoints.api.responses import JsonResponse
from tiktok_ads.errors import FieldError, NotFound
from tiktok_ads.services.ingest import Accepted, Refused

router = APIRouter(tags=["events"])
events_right = Depends(require("events"))

MAX_BATCH = 1000
_TERMINAL = ("delivered", "failed")
_MESSAGES = {
    "queued": "OK",
    "duplicate": "duplicate of an event accepted in the last 48 h (same pixel, event and "
    "event_id); not sent again",
    "skipped": "not sent",
}


WAIT_PARAMETER = {
    "name": "wait",
    "in": "query",
    "required": False,
    "description": "Wait up to N seconds (0-60) for TikTok's verdict",
    "schema": {"type": "number", "minimum": 0, "maximum": 60},
}


def _accepted_body(accepted: Accepted) -> dict[str, Any]:
    body: dict[str, Any] = {
        "success": True,
        "event_id": accepted.event_id,
        "pixel_id": accepted.pixel_id,
        "status": accepted.status,
        "code": 0,
        "message": _MESSAGES.get(accepted.status, "OK"),
    }
    if accepted.reason:
        body["reason"] = accepted.reason
    return body


@router.post(
    "/events",
    status_code=202,
    response_model=schemas.EventAccepted,
    responses={
        200: {
            "model": schemas.EventAccepted,
            "description": "Duplicate, or TikTok's verdict with ?wait",
        },
        **schemas.ERRORS,
    },
    openapi_extra={**schemas.request_body(schemas.EventIn), "parameters": [WAIT_PARAMETER]},
    summary="Send one event (202 once durable)",
)
async def post_event(request: Request) -> JsonResponse:
    # The hot path: auth and the query read by hand, no FastAPI dependencies to resolve.
    await authorize(request, "events")
    wait = _wait_seconds(request)
    raw = await read_json(request)
    accepted = await container(request).ingest.submit(raw)
    body = _accepted_body(accepted)
    if accepted.status == "duplicate":
        return JsonResponse(body, status_code=200)
    if accepted.status != "queued" or not wait or accepted.pk is None:
        return JsonResponse(body, status_code=202)
    row = await _wait_for_verdict(request, accepted.pk, wait)
    if row is None or row["status"] not in _TERMINAL:
        status = row["status"] if row is not None else "queued"
        body.update(
            status=status, message=f"no verdict from TikTok within {wait:g} s; still {status}"
        )
        return JsonResponse(body, status_code=202)
    body.update(
        success=row["status"] == "delivered",
        status=row["status"],
        code=row["tiktok_code"] if row["tiktok_code"] is not None else 0,
        message=row["tiktok_message"] or row["last_error"] or "OK",
        request_id=row["request_id"],
    )
    return JsonResponse(body, status_code=200)


def _wait_seconds(request: Request) -> float | None:
    raw = request.query_params.get("wait")
    if raw is None:
        return None
    try:
        wait = float(raw)
    except ValueError:
        wait = -1.0
    if not 0 <= wait <= 60:
        raise ApiError(
            422,
            40002,
            "query.wait: a number of seconds from 0 to 60",
            [FieldError("query.wait", "a number of seconds from 0 to 60")],
        )
    return wait


async def _wait_for_verdict(request: Request, pk: int, wait: float) -> RowMapping | None:
    store = container(request).store
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    row = None
    while True:
        row = await store.get_event_by_pk(pk)
        if row is None or row["status"] in _TERMINAL or loop.time() >= deadline:
            return row
        await asyncio.sleep(min(0.05, max(0.0, deadline - loop.time())))


@router.post(
    "/events/batch",
    response_model=schemas.BatchAccepted,
    responses=schemas.ERRORS,
    openapi_extra=schemas.request_body(schemas.BatchIn),
    summary="Send 1-1,000 events; each invalid one is reported by index",
)
async def post_batch(request: Request) -> JsonResponse:
    await authorize(request, "events")
    raw = await read_json(request)
    events = raw.get("events") if isinstance(raw, dict) else None
    if not isinstance(events, list) or not events:
        raise ApiError(
            422,
            40002,
            "events: must be a list of 1 to 1,000 events",
            [FieldError("events", "must be a non-empty list")],
        )
    if len(events) > MAX_BATCH:
        raise ApiError(
            413,
            40002,
            f"events: {len(events)} events; at most {MAX_BATCH} per batch",
            [FieldError("events", f"at most {MAX_BATCH} events")],
        )
    outcomes = await container(request).ingest.submit_many(events)
    results: list[dict[str, Any]] = []
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, Refused):
            raw_id = events[index].get("event_id") if isinstance(events[index], dict) else None
            results.append(
                {
                    "index": index,
                    "event_id": str(raw_id) if isinstance(raw_id, str | int) else None,
                    "status": "rejected",
                    "code": outcome.errors.code,
                    "errors": [e.as_dict() for e in outcome.errors.errors],
                }
            )
        else:
            result = {
                "index": index,
                "event_id": outcome.event_id,
                "status": outcome.status,
                "errors": [],
            }
            if outcome.reason:
                result["reason"] = outcome.reason
            results.append(result)
    rejected = sum(1 for r in results if r["status"] == "rejected")
    body = {
        "success": rejected == 0,
        "accepted": len(results) - rejected,
        "rejected": rejected,
        "results": results,
    }
    return JsonResponse(body, status_code=200)


def event_view(row: RowMapping) -> dict[str, Any]:
    """An event as the API shows it (no payload: hashes are nobody's business)."""
    return {
        "event_id": row["event_id"],
        "pixel_id": row["pixel_id"],
        "event_type": row["event_name"],
        "status": row["status"],
        "event_time": row["event_time"],
        "attempts": row["attempts"],
        "match_keys": [k for k in (row["match_keys"] or "").split(",") if k],
        "value": row["value"],
        "currency": row["currency"],
        "reason": row["skip_reason"],
        "received_at": row["received_at"],
        "updated_at": row["updated_at"],
        "next_attempt_at": row["next_attempt_at"] if row["status"] == "retrying" else None,
        "delivered_at": row["delivered_at"],
        "tiktok": {
            "code": row["tiktok_code"],
            "message": row["tiktok_message"],
            "request_id": row["request_id"],
        },
        "last_error": row["last_error"],
    }


@router.get("/events", summary="Recent events, newest first (status=failed: the error log)")
async def list_events(
    request: Request,
    status: str | None = Query(
        None, pattern="^(queued|sending|retrying|delivered|failed|skipped)$"
    ),
    pixel_id: PixelIdQuery = None,
    limit: int = Query(100, ge=1, le=1000),
    before_id: BeforeIdQuery = None,
    _: Any = events_right,
) -> JsonResponse:
    rows = await container(request).store.list_events(
        status=status, pixel_id=pixel_id, limit=limit, before_id=before_id
    )
    cursor = rows[-1]["id"] if len(rows) == limit else None
    return JsonResponse({"events": [event_view(r) for r in rows], "cursor": cursor})


async def _find(
    request: Request, event_id: str, pixel_id: str | None, event_type: str | None
) -> RowMapping:
    row = await container(request).store.get_event(event_id, pixel_id, event_type)
    if row is None:
        raise NotFound(f"no event with event_id {event_id!r}")
    return row


@router.get("/events/{event_id}", summary="The latest event with this event_id")
async def get_event(
    request: Request,
    event_id: EventIdPath,
    pixel_id: PixelIdQuery = None,
    event_type: EventTypeQuery = None,
    _: Any = events_right,
) -> JsonResponse:
    return JsonResponse(event_view(await _find(request, event_id, pixel_id, event_type)))


@router.post("/events/{event_id}/retry", summary="Replay a failed event (same event_id)")
async def retry_event(
    request: Request,
    event_id: EventIdPath,
    pixel_id: PixelIdQuery = None,
    event_type: EventTypeQuery = None,
    _: Any = events_right,
) -> JsonResponse:
    c = container(request)
    row = await _find(request, event_id, pixel_id, event_type)
    if not await c.store.replay_failed(row["id"], c.clock.now()):
        raise ApiError(
            409, 40002, f"only failed events can be replayed; this one is {row['status']}"
        )
    c.ingest.written.set()
    return JsonResponse(
        event_view(await c.store.get_event_by_pk(row["id"]) or row), status_code=202
    )


@router.get(
    "/stats",
    summary="Counts by status, event type and pixel; queue depth",
    description=(
        "`by_status`: `queued`, `sending`, `retrying` are the events in that state now; "
        "`delivered`, `failed`, `skipped`, `duplicate` are totals (a replayed event leaves "
        "`failed`), kept after retention deletes old rows. `by_event_type` and `by_pixel`: "
        "those totals plus `received` (every event answered queued, skipped or duplicate). "
        "`received`: the grand total. `queue_depth`: per pixel, events waiting or in flight."
    ),
)
async def stats(request: Request, _: Any = events_right) -> JsonResponse:
    store = container(request).store
    body = await store.stats()
    body["queue_depth"] = await store.queue_depth()
    return JsonResponse(body)


@router.get("/deliveries", summary="Requests to TikTok with TikTok's answers, newest first")
async def deliveries(
    request: Request,
    pixel_id: PixelIdQuery = None,
    limit: int = Query(50, ge=1, le=500),
    _: Any = events_right,
) -> JsonResponse:
    rows = await container(request).store.recent_deliveries(limit, pixel_id)
    return JsonResponse({"deliveries": rows})
