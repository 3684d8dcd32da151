"""POST /events, /events/batch; GET /events, /events/{event_id}; replay; stats; deliveries."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from tiktok_ads.entrypoints.api import schemas
from tiktok_ads.entrypoints.api.deps import (
    authorize,
    container,
    parse_json,
    read_body,
    read_json,
    require,
)
from tiktok_ads.entrypoints.api.errors import ApiError
from tiktok_ads.entrypoints.api.params import (
    BeforeIdQuery,
    EventIdPath,
    EventTypeQuery,
    PixelIdQuery,
)
from tiktok_ads.entrypoints.api.responses import JsonResponse
from tiktok_ads.errors import FieldError
from tiktok_ads.services.api_keys import Principal
from tiktok_ads.services.ingest import IN_TURN_ABOVE, Accepted, Refused
from tiktok_ads.services.queries import event_view
from tiktok_ads.services.verdicts import TooManyWaiters

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
    if accepted.warnings:
        body["warnings"] = [warning.as_dict() for warning in accepted.warnings]
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
    pixels = (await authorize(request, "events")).pixels
    wait = _wait_seconds(request)
    raw = await read_json(request)
    if not wait:
        return await _submit(request, raw, pixels, None)
    try:
        # Room to wait is taken before the event is stored: a refusal costs the caller nothing.
        with container(request).verdicts.slot():
            return await _submit(request, raw, pixels, wait)
    except TooManyWaiters as exc:
        raise ApiError(429, 40100, str(exc), headers={"Retry-After": "1"}) from exc


async def _submit(
    request: Request, raw: Any, pixels: frozenset[str] | None, wait: float | None
) -> JsonResponse:
    accepted = await container(request).ingest.submit(raw, pixels)
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
    tiktok = row["tiktok"]
    body.update(
        success=row["status"] == "delivered",
        status=row["status"],
        code=tiktok["code"] if tiktok["code"] is not None else 0,
        message=tiktok["message"] or row["last_error"] or "OK",
        request_id=tiktok["request_id"],
    )
    return JsonResponse(body, status_code=200)


def _wait_seconds(request: Request) -> float | None:
    if not request.scope.get("query_string"):
        return None  # the usual request: no query string to parse
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


async def _wait_for_verdict(request: Request, pk: int, wait: float) -> dict[str, Any] | None:
    """Woken by the verdict (see services.verdicts), not by polling the row."""
    row = await container(request).verdicts.wait(pk, wait)
    return None if row is None else event_view(row)


@router.post(
    "/events/batch",
    response_model=schemas.BatchAccepted,
    responses=schemas.ERRORS,
    openapi_extra=schemas.request_body(schemas.BatchIn),
    summary="Send 1-1,000 events; each invalid one is reported by index",
)
async def post_batch(request: Request) -> JsonResponse:
    pixels = (await authorize(request, "events")).pixels
    body = await read_body(request)
    ingest = container(request).ingest
    # A large body is parsed in its turn (IngestService.turn): of the batches that arrived
    # together, one is held as parsed JSON (several MB) at a time, the others as their bytes.
    # A small body is parsed at once, and waits for the turn if it holds many events.
    events = None if len(body) > _LARGE_BODY else _batch_events(parse_json(body))
    async with ingest.turn(events is None or len(events) > IN_TURN_ABOVE) as arrived:
        if events is None:
            events = _batch_events(parse_json(body))
        del body
        prepared = await ingest.prepare_many(events, pixels, arrived)
        refused_ids = {
            index: _raw_event_id(events[index])
            for index, result in enumerate(prepared.results)
            if isinstance(result, Refused)
        }
        events = None  # the parsed JSON goes before the commit is waited for
    outcomes = await ingest.commit_many(prepared)
    results: list[dict[str, Any]] = []
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, Refused):
            results.append(
                {
                    "index": index,
                    "event_id": refused_ids[index],
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
            if outcome.warnings:
                result["warnings"] = [warning.as_dict() for warning in outcome.warnings]
            results.append(result)
    rejected = sum(1 for r in results if r["status"] == "rejected")
    answer = {
        "success": rejected == 0,
        "accepted": len(results) - rejected,
        "rejected": rejected,
        "results": results,
    }
    return JsonResponse(answer, status_code=200)


# Bodies above this many bytes (about 100 events) wait for their turn before being parsed.
_LARGE_BODY = 64 * 1024


def _batch_events(raw: Any) -> list[Any]:
    """The `events` list of a batch body, or the 422/413 saying what is wrong with it."""
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
    return events


def _raw_event_id(raw: Any) -> str | None:
    """A refused event's event_id as sent, when it is a string or a number."""
    event_id = raw.get("event_id") if isinstance(raw, dict) else None
    return str(event_id) if isinstance(event_id, str | int) else None


@router.get("/events", summary="Recent events, newest first (status=failed: the error log)")
async def list_events(
    request: Request,
    status: str | None = Query(
        None, pattern="^(queued|sending|retrying|delivered|failed|skipped)$"
    ),
    pixel_id: PixelIdQuery = None,
    limit: int = Query(100, ge=1, le=1000),
    before_id: BeforeIdQuery = None,
    key: Principal = events_right,
) -> JsonResponse:
    page = await container(request).queries.events(
        status=status, pixel_id=pixel_id, limit=limit, before_id=before_id, pixels=key.pixels
    )
    return JsonResponse(page)


@router.get("/events/{event_id}", summary="The latest event with this event_id")
async def get_event(
    request: Request,
    event_id: EventIdPath,
    pixel_id: PixelIdQuery = None,
    event_type: EventTypeQuery = None,
    key: Principal = events_right,
) -> JsonResponse:
    view = await container(request).queries.event(event_id, pixel_id, event_type, key.pixels)
    return JsonResponse(view)


@router.post("/events/{event_id}/retry", summary="Replay a failed event (same event_id)")
async def retry_event(
    request: Request,
    event_id: EventIdPath,
    pixel_id: PixelIdQuery = None,
    event_type: EventTypeQuery = None,
    key: Principal = events_right,
) -> JsonResponse:
    view = await container(request).replays.replay(event_id, pixel_id, event_type, key.pixels)
    return JsonResponse(view, status_code=202)


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
async def stats(request: Request, key: Principal = events_right) -> JsonResponse:
    return JsonResponse(await container(request).queries.stats(key.pixels))


@router.get("/deliveries", summary="Requests to TikTok with TikTok's answers, newest first")
async def deliveries(
    request: Request,
    pixel_id: PixelIdQuery = None,
    limit: int = Query(50, ge=1, le=500),
    key: Principal = events_right,
) -> JsonResponse:
    return JsonResponse(await container(request).queries.deliveries(limit, pixel_id, key.pixels))
