"""GET /funnel, /match-quality, /delivery, /timeline; POST /events/replay-failed: the
console's numbers as JSON, for the key's pixels."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from tiktok_ads.entrypoints.api.deps import container, read_json, require
from tiktok_ads.entrypoints.api.errors import ApiError
from tiktok_ads.entrypoints.api.params import PixelIdQuery
from tiktok_ads.entrypoints.api.responses import JsonResponse
from tiktok_ads.errors import FieldError
from tiktok_ads.services.api_keys import Principal

router = APIRouter(tags=["insights"])
events_right = Depends(require("events"))
RANGE_HELP = "an ISO-8601 date (2026-11-26) or date-time, or Unix seconds"


@router.get("/funnel", summary="ViewContent → AddToCart → InitiateCheckout → CompletePayment")
async def funnel(
    request: Request,
    pixel_id: PixelIdQuery = None,
    from_: str | None = Query(None, alias="from", description=RANGE_HELP + "; default 7 days ago"),
    to: str | None = Query(None, description=RANGE_HELP + "; a date means its end; default now"),
    principal: Principal = events_right,
) -> JsonResponse:
    body = await container(request).insights.funnel(pixel_id, from_, to, principal.pixels)
    return JsonResponse(body)


@router.get("/match-quality", summary="Match keys per event type, estimated score, dedup audit")
async def match_quality(
    request: Request,
    pixel_id: PixelIdQuery = None,
    from_: str | None = Query(None, alias="from", description=RANGE_HELP),
    to: str | None = Query(None, description=RANGE_HELP),
    principal: Principal = events_right,
) -> JsonResponse:
    insights = container(request).insights
    return JsonResponse(await insights.match_quality(pixel_id, from_, to, principal.pixels))


@router.get("/delivery", summary="Per pixel: request latency p50/p95 and TikTok's answers")
async def delivery(
    request: Request,
    hours: float = Query(24, gt=0, le=24 * 30),
    principal: Principal = events_right,
) -> JsonResponse:
    insights = container(request).insights
    return JsonResponse(await insights.delivery(hours * 3600, principal.pixels))


@router.get("/timeline", summary="Events received per hour (24h) or day (30d), by fate")
async def timeline(
    request: Request,
    span: str = Query("24h", pattern="^(24h|30d)$"),
    principal: Principal = events_right,
) -> JsonResponse:
    insights = container(request).insights
    return JsonResponse(await insights.timeline(span, principal.pixels))


@router.post("/events/replay-failed", summary="Replay up to 1,000 failed events of one kind")
async def replay_failed(request: Request, principal: Principal = events_right) -> JsonResponse:
    """Body `{"pixel_id", "event_type", "code"}`: failed events of that pixel and type that
    TikTok answered with `code` (null: failed without a code)."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(422, 40002, "body: must be a JSON object", [FieldError("body", "object")])
    errors = [
        FieldError(name, "must be a non-empty string")
        for name in ("pixel_id", "event_type")
        if not isinstance(body.get(name), str) or not body[name].strip()
    ]
    code = body.get("code")
    if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
        errors.append(FieldError("code", "must be TikTok's code (an integer) or null"))
    if errors:
        raise ApiError(422, 40002, f"{errors[0].field}: {errors[0].message}", errors)
    count = await container(request).replays.replay_like(
        body["pixel_id"].strip(), body["event_type"].strip(), code, principal.pixels
    )
    return JsonResponse({"success": True, "replayed": count}, status_code=202)
