"""Event endpoints: Events API 2.0 `event/track/`, legacy `pixel/track|batch/`, `pixel/list/`."""

from __future__ import annotations

import zlib
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tiktok_ads.emulator.auth import Caller, authenticate
from tiktok_ads.emulator.envelope import (
    TOO_MANY_REQUESTS,
    ApiError,
    json_body,
    new_request_id,
    ok,
)
from tiktok_ads.emulator.faults import route_path
from tiktok_ads.emulator.legacy import LegacyBatch, read_many, read_single
from tiktok_ads.emulator.params import emulator_state, identifier, page_info, paging, query_fields
from tiktok_ads.emulator.state import EmulatorState
from tiktok_ads.emulator.validation import check_events, read_batch

V13 = "/open_api/v1.3"
router = APIRouter()


@router.post(f"{V13}/event/track")
async def track(request: Request) -> Response:
    """Events API 2.0: 1 to 1,000 events for one event source; any bad event refuses them all."""
    state = emulator_state(request)
    caller = authenticate(request)
    batch = read_batch(await json_body(request))
    caller.require_pixel(batch.event_source_id)
    config = state.config
    now = state.clock()
    key = (caller.token, batch.event_source_id)
    if not state.limits.allow_request(key, now, config.qps):
        raise ApiError(40100, TOO_MANY_REQUESTS)
    notes = check_events(batch, now)
    _apply_reject_rules(state, request, batch.data, "data")
    if not state.limits.allow_events(key, len(batch.data), now, config.daily_quota):
        raise ApiError(40100, TOO_MANY_REQUESTS)
    request_id = new_request_id(now)
    state.accept_events(
        batch.event_source_id,
        batch.data,
        notes,
        test_event_code=batch.test_event_code,
        event_source=batch.event_source,
        endpoint="event/track",
        request_id=request_id,
    )
    return ok(request, request_id=request_id)


@router.post(f"{V13}/pixel/track")
async def pixel_track(request: Request) -> Response:
    """Events API 1.0, one event: `pixel_code`, `event`, ISO `timestamp`, `context`."""
    caller = authenticate(request)
    batch = read_single(await json_body(request))
    return _accept_legacy(request, caller, batch, "pixel/track", list_name=None)


@router.post(f"{V13}/pixel/batch")
async def pixel_batch(request: Request) -> Response:
    """Events API 1.0, up to 50 events under one `pixel_code`."""
    caller = authenticate(request)
    batch = read_many(await json_body(request))
    return _accept_legacy(request, caller, batch, "pixel/batch", list_name="batch")


@router.get(f"{V13}/pixel/list")
async def pixel_list(request: Request) -> Response:
    """Pixels of an advertiser that the token may use; a cheap way to test a connection."""
    state = emulator_state(request)
    caller = authenticate(request)
    fields = query_fields(request, "advertiser_id", "code", "page", "page_size")
    advertiser_id = identifier(fields, "advertiser_id")
    caller.require_advertiser(advertiser_id)
    page, page_size = paging(fields, default_size=20)
    granted = caller.grant.pixels
    codes = sorted(granted if granted is not None else state.config.pixel_codes | state.pixels_seen)
    wanted = fields.get("code")
    if wanted:
        codes = [code for code in codes if code == wanted]
    start = (page - 1) * page_size
    pixels = [_pixel(code, advertiser_id, state) for code in codes[start : start + page_size]]
    return ok(request, {"pixels": pixels, "page_info": page_info(page, page_size, len(codes))})


def _accept_legacy(
    request: Request,
    caller: Caller,
    batch: LegacyBatch,
    endpoint: str,
    list_name: str | None,
) -> Response:
    state = emulator_state(request)
    caller.require_pixel(batch.pixel_code)
    _apply_reject_rules(state, request, batch.events, list_name)
    request_id = new_request_id(state.clock())
    state.accept_events(
        batch.pixel_code,
        batch.events,
        batch.notes,
        test_event_code=batch.test_event_code,
        event_source="web",
        endpoint=endpoint,
        request_id=request_id,
    )
    return ok(request, request_id=request_id)


def _apply_reject_rules(
    state: EmulatorState, request: Request, events: list[Any], list_name: str | None
) -> None:
    """A scripted bad event refuses its whole batch, as a real invalid field would."""
    found = state.faults.rejection(route_path(request.scope), events)
    if found is None:
        return
    rule, index = found
    raise ApiError(
        40002, rule.message(list_name or "", index if list_name else None), rule.http_status
    )


def _pixel(code: str, advertiser_id: str, state: EmulatorState) -> dict[str, Any]:
    return {
        # TikTok's numeric pixel_id beside the code; derived so it is stable across calls.
        "pixel_id": str(7_100_000_000_000_000_000 + zlib.crc32(code.encode())),
        "pixel_code": code,
        "pixel_name": f"Pixel {code}",
        "advertiser_id": advertiser_id,
        "pixel_setup_mode": "DEVELOPER",
        "activity_status": "ACTIVE" if code in state.pixels_seen else "INACTIVE",
    }
