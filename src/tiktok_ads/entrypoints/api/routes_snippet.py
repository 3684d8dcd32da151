"""GET /tiktok-ads.js: the browser snippet, with the attribution window filled in at serve time.

No API key (a shop's every page loads it with a plain <script> tag, so no CORS either);
cacheable: an ETag of the rendered script, 304 for a matching If-None-Match.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import Response

from tiktok_ads.entrypoints.api.deps import container

router = APIRouter(tags=["browser"])

SNIPPET = Path(__file__).with_name("static") / "tiktok-ads.js"
# The one templated constant: valid JavaScript as written (28 days), replaced when served.
WINDOW_DAYS_MARKER = "/*@window_days*/28"
MEDIA_TYPE = "application/javascript; charset=utf-8"
CACHE_CONTROL = "public, max-age=3600"


@functools.lru_cache(maxsize=8)
def render(window_days: int) -> tuple[bytes, str]:
    """The script for an attribution window of `window_days`, and its (strong) ETag."""
    source = SNIPPET.read_text(encoding="utf-8")
    if source.count(WINDOW_DAYS_MARKER) != 1:
        raise RuntimeError(f"{SNIPPET.name} must hold {WINDOW_DAYS_MARKER} exactly once")
    body = source.replace(WINDOW_DAYS_MARKER, str(int(window_days))).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


@router.get(
    "/tiktok-ads.js",
    summary="The browser snippet: keeps ttclid in a first-party cookie, reads _ttp",
    response_class=Response,
    responses={200: {"content": {"application/javascript": {}}}, 304: {"description": "Unchanged"}},
)
async def snippet(request: Request) -> Response:
    body, etag = render(container(request).settings.tiktok_attribution_window_days)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPE, headers=headers)
