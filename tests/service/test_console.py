"""The console over HTTP: login, sessions, CSRF, security headers, messages, no PII."""

from __future__ import annotations

import re

import httpx
from tests.service.conftest import API_KEY, PIXEL, SEED_EVENT, TOKEN, Service

from tiktok_ads.entrypoints.console.security import COOKIE, CSP
from tiktok_ads.services.api_keys import hash_api_key

PAGES = (
    "/console",
    "/console/funnel",
    "/console/errors",
    "/console/events",
    "/console/quality",
    "/console/audiences",
)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def log_in(http: httpx.AsyncClient, key: str = API_KEY) -> httpx.Response:
    form = await http.get("/console/login")
    return await http.post(
        "/console/login", data={"api_key": key, "csrf_token": csrf_of(form.text)}
    )


async def test_root_leads_to_the_console_and_the_console_to_its_login(service: Service) -> None:
    """`/` redirects to /console; without a session /console redirects to the login form."""
    root = await service.http.get("/")
    console = await service.http.get("/console")
    login = await service.http.get("/console/login")
    assert (307, "/console") == (root.status_code, root.headers["location"])
    assert (303, "/console/login") == (console.status_code, console.headers["location"])
    assert 'name="api_key"' in login.text


async def test_a_wrong_or_missing_key_shows_the_login_page_and_no_data(service: Service) -> None:
    """A wrong key and an empty one answer the login page with a message, never a page."""
    await service.post("/events", SEED_EVENT)
    wrong = await log_in(service.http, "not-a-key")
    empty = await log_in(service.http, "  ")
    assert (401, True) == (wrong.status_code, "That API key is not valid." in wrong.text)
    assert (401, True) == (empty.status_code, "Enter an API key." in empty.text)
    for path in PAGES:
        answer = await service.http.get(path)
        assert (303, "/console/login") == (answer.status_code, answer.headers["location"]), path


async def test_login_sets_a_sealed_httponly_strict_cookie_without_the_key(
    service: Service,
) -> None:
    """The session cookie is HttpOnly, SameSite=Strict, for /console, and holds neither the
    key nor its digest in the clear."""
    answer = await log_in(service.http)
    assert (303, "/console") == (answer.status_code, answer.headers["location"])
    cookie = answer.headers["set-cookie"]
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/console"} <= attributes
    value = service.http.cookies[COOKIE]
    assert API_KEY not in value and hash_api_key(API_KEY) not in value
    assert 200 == (await service.http.get("/console")).status_code


async def test_every_console_page_has_a_strict_csp_and_security_headers(
    service: Service,
) -> None:
    """Each page (and the login form) carries the CSP, nosniff and a Referrer-Policy."""
    await log_in(service.http)
    for path in (*PAGES, "/console/login"):
        answer = await service.http.get(path, follow_redirects=True)
        assert 200 == answer.status_code, path
        assert CSP == answer.headers["content-security-policy"], path
        assert "nosniff" == answer.headers["x-content-type-options"], path
        assert "no-referrer" == answer.headers["referrer-policy"], path


async def test_an_action_without_the_sessions_csrf_token_is_refused(service: Service) -> None:
    """A replay posted without (or with another) CSRF token replays nothing."""
    service.tiktok.faults.reject_events({"event_id": "order_123"}, name_index=True)
    await service.post("/events", SEED_EVENT)
    await service.settle()
    service.tiktok.faults.clear()
    await log_in(service.http)
    action = {"pixel_id": PIXEL, "event_type": "CompletePayment", "code": "40002"}
    missing = await service.http.post("/console/errors/replay-all", data=action)
    forged = await service.http.post(
        "/console/errors/replay-all", data={**action, "csrf_token": "forged"}
    )
    assert [403, 403] == [missing.status_code, forged.status_code]
    assert "failed" == (await service.get("/events/order_123")).json()["status"]


async def test_the_errors_page_replays_an_event_that_then_gets_delivered(
    service: Service,
) -> None:
    """The errors page lists TikTok's message and request_id; Replay queues the event again."""
    service.tiktok.faults.reject_events(
        {"event_id": "order_123"}, name_index=True, problem="value is not allowed."
    )
    await service.post("/events", SEED_EVENT)
    await service.settle()
    service.tiktok.faults.clear()
    await log_in(service.http)
    listing = await service.http.get("/console/errors")
    failed = (await service.get("/events/order_123")).json()
    assert "Invalid value for data.0.event_id: value is not allowed." in listing.text
    assert failed["tiktok"]["request_id"] in listing.text
    replay = await service.http.post(
        "/console/errors/replay",
        data={
            "csrf_token": csrf_of(listing.text),
            "event_id": "order_123",
            "pixel_id": PIXEL,
            "event_type": "CompletePayment",
        },
    )
    assert 303 == replay.status_code
    assert "notice=replayed" in replay.headers["location"]
    await service.settle()
    assert "delivered" == (await service.get("/events/order_123")).json()["status"]


async def test_unknown_pixel_and_bad_dates_are_messages_on_the_page(service: Service) -> None:
    """An unknown pixel or an unreadable date → the page with a clear message, not a 500."""
    await log_in(service.http)
    cases = {
        "/console/funnel?pixel_id=CNOSUCH": "no connection for pixel &#39;CNOSUCH&#39;",
        "/console/quality?from=yesterday": "from: not a date",
        "/console/funnel?from=2026-11-20&to=2026-11-01": "from: must be before `to`",
        "/console/errors?pixel_id=CNOSUCH": "no connection for pixel &#39;CNOSUCH&#39;",
        "/console/errors?code=abc": "code: TikTok&#39;s codes are numbers",
    }
    for path, message in cases.items():
        answer = await service.http.get(path)
        assert (422, True) == (answer.status_code, message in answer.text), path
    missing = await service.http.get("/console/events?event_id=nope")
    assert "No event with event_id &#39;nope&#39;." in missing.text


async def test_the_console_shows_hashes_and_metadata_only(service: Service) -> None:
    """No page shows the raw email, phone, IP or the access token of an event it lists."""
    service.tiktok.faults.reject_events({"event_id": "order_123"}, name_index=True)
    await service.post("/events", SEED_EVENT)
    await service.settle()
    await log_in(service.http)
    pages = [*PAGES, "/console/events?event_id=order_123", "/console?span=30d"]
    for path in pages:
        html = (await service.http.get(path)).text
        for secret in ("customer@example.com", "40721234567", "203.0.113.7", TOKEN, "user_456"):
            assert secret not in html, (path, secret)
    assert "order_123" in (await service.http.get("/console/events?event_id=order_123")).text


async def test_logout_ends_the_session(service: Service) -> None:
    """After logging out, the console asks for the key again."""
    await log_in(service.http)
    page = await service.http.get("/console")
    out = await service.http.post("/console/logout", data={"csrf_token": csrf_of(page.text)})
    assert 303 == out.status_code
    assert 303 == (await service.http.get("/console")).status_code


async def test_static_files_are_served_here_and_cached_by_etag(service: Service) -> None:
    """CSS and JS come from the service itself, with an ETag answered by 304."""
    css = await service.http.get("/console/static/console.css")
    again = await service.http.get(
        "/console/static/console.css", headers={"If-None-Match": css.headers["etag"]}
    )
    unknown = await service.http.get("/console/static/../../pyproject.toml")
    assert (200, "text/css; charset=utf-8") == (css.status_code, css.headers["content-type"])
    assert 304 == again.status_code
    assert 404 == unknown.status_code


async def test_an_organisers_key_sees_only_its_own_pixels_in_the_console(service: Service) -> None:
    """A key limited to one pixel: the console lists only that pixel and only its events."""
    other = "CPIXELOTHER000000001"
    await service.post("/connect", {"pixel_id": other, "access_token": TOKEN})
    await service.post("/events", {**SEED_EVENT, "event_id": "mine-1"})
    await service.post("/events", {**SEED_EVENT, "event_id": "theirs-1", "pixel_id": other})
    key = await service.container.keys.create(
        "organiser", frozenset({"events"}), frozenset({PIXEL})
    )
    async with service.client() as http:
        await log_in(http, key)
        overview = await http.get("/console")
        events = await http.get("/console/events")
    assert 200 == overview.status_code and PIXEL in overview.text
    assert other not in overview.text and other not in events.text
    assert "mine-1" in events.text and "theirs-1" not in events.text
