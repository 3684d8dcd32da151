"""The console's pages (GET): overview, funnel, errors, events, match quality, audiences.

Each page needs a logged-in viewer (else: the login page) and shows only the viewer's pixels.
What a person typed wrong (an unknown pixel, a bad date) becomes a message on the page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tiktok_ads.domain.funnel import FUNNEL_STEPS
from tiktok_ads.domain.match_quality import KEY_LABELS, SHOWN_KEYS
from tiktok_ads.entrypoints.api.deps import container
from tiktok_ads.entrypoints.console import charts
from tiktok_ads.entrypoints.console.render import last_day, page, static_file
from tiktok_ads.entrypoints.console.security import ConsoleRoute, Viewer, current_viewer
from tiktok_ads.errors import NotFound, ValidationFailed

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
NOTICES = {
    "replayed": "Event {event_id} is queued again, with the same event_id.",
    "replayed_many": "{count} failed events are queued again, with their own event_ids.",
    "replayed_none": "Nothing to replay: no failed event of that kind is left.",
    "not_replayable": "Event {event_id} is not failed any more (it is {status}).",
}


def login_redirect() -> RedirectResponse:
    return RedirectResponse("/console/login", status_code=303)


def text_param(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()
    return value or None


async def frame(request: Request, viewer: Viewer, active: str) -> dict[str, Any]:
    """What every page's frame shows: who is logged in, the form token, the pixels."""
    connections = await container(request).queries.connections(viewer.pixels)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    if notice:
        values = {k: request.query_params.get(k, "") for k in ("event_id", "count", "status")}
        notice = notice.format(**values)
    return {
        "viewer": viewer.principal.name,
        "csrf": viewer.session.csrf,
        "active": active,
        "connections": connections,
        "pixel_ids": [c["pixel_id"] for c in connections],
        "notice": notice,
        "error": None,
    }


@router.get("/static/{name}")
async def static(request: Request, name: str) -> Response:
    return static_file(request, name)


@router.get("")
async def overview(request: Request) -> Response:
    viewer = await current_viewer(request)
    if viewer is None:
        return login_redirect()
    span = request.query_params.get("span", "24h")
    insights = container(request).insights
    context = await frame(request, viewer, "overview")
    timeline = await insights.timeline(span, viewer.pixels)
    delivery = {d["pixel_id"]: d for d in (await insights.delivery(pixels=viewer.pixels))["pixels"]}
    pixels = []
    totals = dict.fromkeys(("received", "delivered", "failed", "skipped"), 0)
    for connection in context["connections"]:
        series = timeline["pixels"].get(connection["pixel_id"], {})
        for name in totals:
            totals[name] += sum(series.get(name, []))
        pixels.append(
            {
                **connection,
                "delivery": delivery.get(connection["pixel_id"]),
                "chart": charts.timeline_chart(
                    timeline["buckets"], series, timeline["bucket_seconds"]
                ),
            }
        )
    totals["waiting"] = sum(c["queue_depth"] for c in context["connections"])
    context.update(span=timeline["span"], pixels=pixels, totals=totals)
    return page(request, "overview.html", context)


async def _range_report(
    request: Request, viewer: Viewer, active: str, report: str
) -> dict[str, Any]:
    """The pixel and date-range form of the funnel and match quality pages, and the report."""
    context = await frame(request, viewer, active)
    pixel_id = text_param(request, "pixel_id")
    raw_from, raw_to = text_param(request, "from"), text_param(request, "to")
    context.update(pixel_id=pixel_id, raw_from=raw_from or "", raw_to=raw_to or "", data=None)
    insights = container(request).insights
    try:
        method = insights.funnel if report == "funnel" else insights.match_quality
        data = await method(pixel_id, raw_from, raw_to, viewer.pixels)
    except ValidationFailed as exc:
        context["error"] = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        return context
    except NotFound as exc:
        context["error"] = str(exc)
        return context
    context.update(data=data, pixel_id=data["pixel_id"])
    # The form shows the range in effect, `to` as the last day included.
    context["raw_from"] = raw_from or data["from"][:10]
    context["raw_to"] = raw_to or last_day(data["to"])
    return context


@router.get("/audiences")
async def audiences(request: Request) -> Response:
    viewer = await current_viewer(request)
    if viewer is None:
        return login_redirect()
    context = await frame(request, viewer, "audiences")
    listed = await container(request).queries.audiences(limit=400, pixels=viewer.pixels)
    context["audiences"] = listed["audiences"]
    return page(request, "audiences.html", context)


@router.get("/funnel")
async def funnel(request: Request) -> Response:
    viewer = await current_viewer(request)
    if viewer is None:
        return login_redirect()
    context = await _range_report(request, viewer, "funnel", "funnel")
    if context["data"] is not None:
        context["funnel_chart"] = charts.funnel_chart(context["data"]["steps"])
    return page(request, "funnel.html", context, 200 if context["error"] is None else 422)


@router.get("/quality")
async def quality(request: Request) -> Response:
    viewer = await current_viewer(request)
    if viewer is None:
        return login_redirect()
    context = await _range_report(request, viewer, "quality", "quality")
    context.update(keys=SHOWN_KEYS, key_labels=KEY_LABELS)
    data = context["data"]
    if data is not None:
        dedup = data["dedup"]
        supplied = dedup["supplied_pct"] or 0.0
        shares = [("bar-delivered", supplied), ("bar-waiting", 100 - supplied)]
        context["dedup_bar"] = charts.share_bar(shares if dedup["events"] else [])
    return page(request, "quality.html", context, 200 if context["error"] is None else 422)


@router.get("/errors")
async def errors(request: Request) -> Response:
    viewer = await current_viewer(request)
    if viewer is None:
        return login_redirect()
    context = await frame(request, viewer, "errors")
    pixel_id, event_type = text_param(request, "pixel_id"), text_param(request, "event_type")
    raw_code, raw_before = text_param(request, "code"), text_param(request, "before_id")
    context.update(
        pixel_id=pixel_id,
        event_type=event_type or "",
        code=raw_code or "",
        event_types=FUNNEL_STEPS,
        failed={"events": [], "cursor": None},
        kinds=[],
    )
    problems = []
    if pixel_id is not None and pixel_id not in context["pixel_ids"]:
        problems.append(f"no connection for pixel {pixel_id!r}")
    if raw_code is not None and not raw_code.lstrip("-").isdigit():
        problems.append(f"code: TikTok's codes are numbers, like 40002 (not {raw_code!r})")
    if raw_before is not None and not raw_before.isdigit():
        problems.append("before_id: a number (the cursor of the previous page)")
    if problems:
        context["error"] = "; ".join(problems)
        return page(request, "errors.html", context, 422)
    history = container(request).history
    context["failed"] = await history.failed(
        pixel_id=pixel_id,
        event_type=event_type,
        code=int(raw_code) if raw_code else None,
        before_id=int(raw_before) if raw_before else None,
        pixels=viewer.pixels,
    )
    context["kinds"] = await history.failure_kinds(viewer.pixels)
    return page(request, "errors.html", context)


@router.get("/events")
async def events(request: Request) -> Response:
    viewer = await current_viewer(request)
    if viewer is None:
        return login_redirect()
    context = await frame(request, viewer, "events")
    event_id = text_param(request, "event_id")
    records = []
    if event_id is not None:
        records = await container(request).history.records(event_id, viewer.pixels)
        if not records:
            context["error"] = f"No event with event_id {event_id!r}."
    context.update(event_id=event_id or "", records=records, keys=KEY_LABELS)
    recent = await container(request).queries.events(limit=15, pixels=viewer.pixels)
    context["recent"] = recent["events"]
    return page(request, "events.html", context)
