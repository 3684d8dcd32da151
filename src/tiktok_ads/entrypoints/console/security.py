"""The console's guards: the login session (a sealed HttpOnly cookie holding the key's digest,
never the key), CSRF tokens on every form, and the security headers of every console page."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from tiktok_ads.entrypoints.api.deps import container
from tiktok_ads.services.api_keys import Principal

COOKIE = "tiktok_ads_console"
SESSION_SECONDS = 12 * 3600
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",  # pages hold an organiser's numbers: no shared caches
}


class ConsoleRoute(APIRoute):
    """A console route: every response carries the security headers (static files keep their
    own Cache-Control)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def secured(request: Request) -> Response:
            response = await handler(request)
            for name, value in HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return secured


@dataclass(frozen=True, slots=True)
class Session:
    """A browser's session: its CSRF token, and once logged in the key's SHA-256 digest."""

    csrf: str
    key_digest: str = ""


@dataclass(frozen=True, slots=True)
class Viewer:
    """A logged-in person: their session and what their key may see."""

    session: Session
    principal: Principal

    @property
    def pixels(self) -> frozenset[str] | None:
        return self.principal.pixels

    def may_see(self, pixel_id: str) -> bool:
        return self.pixels is None or pixel_id in self.pixels


def new_session(key_digest: str = "") -> Session:
    return Session(csrf=secrets.token_urlsafe(24), key_digest=key_digest)


def read_session(request: Request) -> Session | None:
    sealed = request.cookies.get(COOKIE)
    if not sealed:
        return None
    c = container(request)
    data = c.sessions.open(sealed, SESSION_SECONDS, c.clock.now())
    if data is None or not data.get("csrf"):
        return None
    return Session(csrf=data["csrf"], key_digest=data.get("key", ""))


def store_session(request: Request, response: Response, session: Session) -> None:
    c = container(request)
    sealed = c.sessions.seal({"csrf": session.csrf, "key": session.key_digest}, c.clock.now())
    response.set_cookie(
        COOKIE,
        sealed,
        max_age=SESSION_SECONDS,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def forget_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/console", httponly=True, samesite="strict")


async def current_viewer(request: Request) -> Viewer | None:
    """The logged-in person, or None: no session, or a key since revoked or without the
    `events` right (re-checked on every request, through the key cache)."""
    session = read_session(request)
    if session is None or not session.key_digest:
        return None
    principal = await container(request).keys.authenticate_digest(session.key_digest)
    if principal is None or not principal.may("events"):
        return None
    return Viewer(session, principal)


def csrf_ok(session: Session | None, form: Any) -> bool:
    """The form's hidden `csrf_token` is this session's."""
    sent = form.get("csrf_token")
    if session is None or not isinstance(sent, str) or not sent:
        return False
    return hmac.compare_digest(sent.encode(), session.csrf.encode())
