"""`/_emulator/...`: look inside the emulator and script its faults over HTTP (no auth)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tiktok_ads.emulator.params import emulator_state

CONTROL = "/_emulator"
router = APIRouter(include_in_schema=False)


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def _limit(request: Request, default: int) -> int:
    raw = request.query_params.get("limit")
    try:
        return max(0, int(raw)) if raw else default
    except ValueError:
        return default


@router.get(f"{CONTROL}/events")
async def list_events(request: Request) -> Response:
    """Latest accepted events (duplicates flagged) filtered by pixel_code, event, event_id, test."""
    state = emulator_state(request)
    query = request.query_params
    test = query.get("test")
    wanted = {key: query[key] for key in ("pixel_code", "event", "event_id") if query.get(key)}
    events = [
        event
        for event in list(state.events)
        if all(getattr(event, key) == value for key, value in wanted.items())
        and (test is None or (event.test_event_code is not None) == (test.lower() == "true"))
    ]
    limit = _limit(request, 1000)
    chosen = events[-limit:] if limit else []
    return _json({"count": len(events), "events": [event.as_dict() for event in chosen]})


@router.get(f"{CONTROL}/requests")
async def list_requests(request: Request) -> Response:
    """Latest recorded API calls (token masked), newest last."""
    state = emulator_state(request)
    recorded = list(state.requests)
    limit = _limit(request, 100)
    chosen = recorded[-limit:] if limit else []
    return _json({"count": len(recorded), "requests": [r.as_dict() for r in chosen]})


@router.get(f"{CONTROL}/audiences")
async def list_audiences(request: Request) -> Response:
    """Every audience with its size, and every uploaded file."""
    state = emulator_state(request)
    floor = state.config.audience_min_members
    now = state.clock()
    book = state.audiences
    return _json(
        {
            "audiences": [
                {
                    **audience.details(floor, now),
                    # Beyond TikTok's answer: what the emulator knows and tests may want.
                    "kind": audience.kind,
                    "advertiser_id": audience.advertiser_id,
                    "retention_in_days": audience.retention_in_days,
                    "rule_spec": audience.rule_spec,
                    "usages": audience.usages,
                    "history": audience.history,
                }
                for audience in list(book.audiences.values())
            ],
            "files": [
                {
                    "file_path": uploaded.file_path,
                    "advertiser_id": uploaded.advertiser_id,
                    "calculate_type": uploaded.calculate_type,
                    "members": len(uploaded.members),
                    "size": uploaded.size,
                }
                for uploaded in list(book.files.values())
            ],
        }
    )


@router.get(f"{CONTROL}/faults")
async def show_faults(request: Request) -> Response:
    return _json(emulator_state(request).faults.describe())


@router.post(f"{CONTROL}/faults")
async def add_fault(request: Request) -> Response:
    """`{"kind", "count", "path", <opts>}` or `{"reject_events": {...}, "name_index": bool}`."""
    plan = emulator_state(request).faults
    try:
        spec = orjson.loads(await request.body())
        if not isinstance(spec, dict):
            raise ValueError("expected a JSON object")
        if "reject_events" in spec:
            match = spec.pop("reject_events")
            if not isinstance(match, dict):
                raise ValueError("reject_events must be an object of field: value")
            plan.reject_events(match, **spec)
        else:
            plan.add(spec.pop("kind", ""), spec.pop("count", 1), **spec)
    except (ValueError, TypeError) as exc:
        # orjson.JSONDecodeError is a ValueError; TypeError covers unknown keyword options.
        return _json({"error": str(exc)}, status=400)
    return _json(plan.describe())


@router.delete(f"{CONTROL}/faults")
async def clear_faults(request: Request) -> Response:
    plan = emulator_state(request).faults
    plan.clear()
    return _json(plan.describe())


@router.post(f"{CONTROL}/reset")
async def reset(request: Request) -> Response:
    """Forget all requests, events, audiences and faults."""
    emulator_state(request).reset()
    return _json({"reset": True})


@router.get(f"{CONTROL}/stats")
async def stats(request: Request) -> Response:
    return _json(emulator_state(request).stats())
