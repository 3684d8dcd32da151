"""The console's actions (POST, each with the session's CSRF token) and its login page."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tiktok_ads.entrypoints.api.deps import container
from tiktok_ads.entrypoints.console.pages import login_redirect
from tiktok_ads.entrypoints.console.render import page
from tiktok_ads.entrypoints.console.security import (
    ConsoleRoute,
    csrf_ok,
    current_viewer,
    forget_session,
    new_session,
    read_session,
    store_session,
)
from tiktok_ads.errors import NotFound
from tiktok_ads.services.api_keys import hash_api_key
from tiktok_ads.services.replay import NotReplayable

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
MAX_KEY_CHARS = 512
_EXPIRED = "Your session expired. Please log in again."


def login_page(request: Request, message: str | None, status_code: int = 200) -> Response:
    """The login form, with a fresh pre-login session holding its CSRF token."""
    session = read_session(request)
    if session is None or session.key_digest:
        session = new_session()
    response = page(request, "login.html", {"csrf": session.csrf, "message": message}, status_code)
    store_session(request, response, session)
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    if await current_viewer(request) is not None:
        return RedirectResponse("/console", status_code=303)
    return login_page(request, None)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(read_session(request), form):
        return login_page(request, "The form expired. Please try again.", 403)
    raw = form.get("api_key")
    key = raw.strip() if isinstance(raw, str) else ""
    if not key or len(key) > MAX_KEY_CHARS:
        return login_page(request, "Enter an API key.", 401)
    principal = await container(request).keys.authenticate(key)
    if principal is None:
        return login_page(request, "That API key is not valid.", 401)
    if not principal.may("events"):
        return login_page(request, "That API key may not read events.", 403)
    response = RedirectResponse("/console", status_code=303)
    # A new session (and CSRF token) at login: one planted before it is worth nothing.
    store_session(request, response, new_session(hash_api_key(key)))
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(read_session(request), form):
        return login_page(request, _EXPIRED, 403)
    response = login_redirect()
    forget_session(response)
    return response


def _back_to_errors(form_filters: dict[str, str], **notice: str | int) -> RedirectResponse:
    query = {k: v for k, v in form_filters.items() if v}
    query.update({k: str(v) for k, v in notice.items()})
    return RedirectResponse("/console/errors?" + urlencode(query), status_code=303)


def _filters(form: FormData) -> dict[str, str]:
    """The errors page's filters, carried through an action so the page comes back as it was."""
    names = ("pixel_id", "event_type", "code")
    return {name: str(form.get(f"filter_{name}") or "") for name in names}


@router.post("/errors/replay")
async def replay_one(request: Request) -> Response:
    """Replay one failed event (its pixel, type and event_id from the row's form)."""
    viewer = await current_viewer(request)
    form = await request.form()
    if viewer is None or not csrf_ok(viewer.session, form):
        return login_page(request, _EXPIRED, 403)
    event_id, pixel_id = str(form.get("event_id") or ""), str(form.get("pixel_id") or "")
    event_type = str(form.get("event_type") or "") or None
    back = _filters(form)
    if not event_id or not viewer.may_see(pixel_id):
        return _back_to_errors(back, notice="replayed_none")
    try:
        view = await container(request).replays.replay(
            event_id, pixel_id, event_type, viewer.pixels
        )
    except NotFound:
        return _back_to_errors(back, notice="replayed_none")
    except NotReplayable:
        current = await container(request).queries.event(
            event_id, pixel_id, event_type, viewer.pixels
        )
        return _back_to_errors(
            back, notice="not_replayable", event_id=event_id, status=current["status"]
        )
    return _back_to_errors(back, notice="replayed", event_id=view["event_id"])


@router.post("/errors/replay-all")
async def replay_all(request: Request) -> Response:
    """Replay up to 1,000 failed events like this one: same pixel, event type and code."""
    viewer = await current_viewer(request)
    form = await request.form()
    if viewer is None or not csrf_ok(viewer.session, form):
        return login_page(request, _EXPIRED, 403)
    pixel_id, event_type = str(form.get("pixel_id") or ""), str(form.get("event_type") or "")
    raw_code = str(form.get("code") or "")
    code = int(raw_code) if raw_code.lstrip("-").isdigit() else None
    count = 0
    if pixel_id and event_type:
        count = await container(request).replays.replay_like(
            pixel_id, event_type, code, viewer.pixels
        )
    notice = "replayed_many" if count else "replayed_none"
    return _back_to_errors(_filters(form), notice=notice, count=count)
