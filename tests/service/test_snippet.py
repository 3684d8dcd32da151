"""GET /tiktok-ads.js as HTTP: no key, cacheable (ETag, 304), the attribution window filled in."""

from __future__ import annotations

import re

import pytest
from tests.service.conftest import Service, ServiceFactory

from tiktok_ads.entrypoints.api.routes_snippet import SNIPPET, WINDOW_DAYS_MARKER


async def test_the_snippet_needs_no_key_and_is_cacheable(service: Service) -> None:
    """200 with JavaScript, Cache-Control and an ETag; the same ETag back answers 304, empty."""
    first = await service.http.get("/tiktok-ads.js")
    assert 200 == first.status_code
    assert "application/javascript; charset=utf-8" == first.headers["content-type"]
    assert "public, max-age=3600" == first.headers["cache-control"]
    etag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert "access-control-allow-origin" not in first.headers  # a <script> tag needs no CORS
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = await service.http.get("/tiktok-ads.js", headers={"If-None-Match": sent})
        assert (304, b"", etag) == (again.status_code, again.content, again.headers["etag"])
        assert "public, max-age=3600" == again.headers["cache-control"]
    stale = await service.http.get("/tiktok-ads.js", headers={"If-None-Match": '"old"'})
    assert (200, first.content) == (stale.status_code, stale.content)


@pytest.mark.parametrize("days", [28, 7])
async def test_the_attribution_window_is_filled_in_and_changes_the_etag(
    make_service: ServiceFactory, days: int
) -> None:
    """TIKTOK_ATTRIBUTION_WINDOW_DAYS becomes the script's constant; each window its own ETag."""
    service = await make_service(tiktok_attribution_window_days=days)
    body = (await service.http.get("/tiktok-ads.js")).text
    assert f"var WINDOW_DAYS = {days};" in body
    assert WINDOW_DAYS_MARKER not in body
    assert 1 == SNIPPET.read_text().count(WINDOW_DAYS_MARKER)
    assert len(body.encode()) < 8 * 1024  # a few kB on every page of the shop


async def test_each_window_has_its_own_etag(make_service: ServiceFactory) -> None:
    """Two windows, two ETags: a cached script of the old window is not reused."""
    etags = set()
    for days in (28, 7):
        service = await make_service(tiktok_attribution_window_days=days)
        etags.add((await service.http.get("/tiktok-ads.js")).headers["etag"])
    assert 2 == len(etags)
