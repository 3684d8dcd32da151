"""Jinja2 pages and the console's own static files (nothing is loaded from elsewhere)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

HERE = Path(__file__).parent
REFRESH_SECONDS = 10
STATIC_TYPES = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


def when(value: Any) -> str:
    """A time for people: `2026-11-26 14:03:12 UTC` from Unix seconds or ISO-8601."""
    if value in (None, ""):
        return "—"
    if isinstance(value, int | float):
        moment = dt.datetime.fromtimestamp(value, dt.UTC)
    else:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def last_day(iso_end: str) -> str:
    """The last day inside a range that ends (exclusive) at `iso_end`."""
    moment = dt.datetime.fromisoformat(iso_end.replace("Z", "+00:00"))
    return (moment - dt.timedelta(seconds=1)).date().isoformat()


def number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def pct(value: Any) -> str:
    return "—" if value is None else f"{value:.1f} %"


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=when, number=number, pct=pct)
    env.globals.update(refresh_seconds=REFRESH_SECONDS, static=static_url)
    return env


def page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    body = (
        environment()
        .get_template(template)
        .render(request=request, path=request.url.path, **context)
    )
    return HTMLResponse(body, status_code=status_code)


@functools.cache
def _static(name: str) -> tuple[bytes, str]:
    content = (HERE / "static" / name).read_bytes()
    return content, hashlib.sha256(content).hexdigest()[:16]


def static_url(name: str) -> str:
    """The file's URL, versioned by its content so it may be cached for long."""
    return f"/console/static/{name}?v={_static(name)[1]}"


def static_file(request: Request, name: str) -> Response:
    if name not in STATIC_TYPES:
        return Response("not found", status_code=404, media_type="text/plain")
    content, digest = _static(name)
    etag = f'"{digest}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=86400"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=STATIC_TYPES[name], headers=headers)
