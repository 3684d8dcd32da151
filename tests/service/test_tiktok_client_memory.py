"""A request to TikTok (up to 1,000 events, ~700 KB) is freed as soon as its answer is read,
not when Python's cyclic collector next runs: `serve` runs that collector rarely."""

from __future__ import annotations

import gc
import weakref

import httpx
import pytest

from tiktok_ads.adapters.tiktok_client import TikTokClient

TOKEN = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    "answer",
    [
        b'{"code":0,"message":"OK","request_id":"r1","data":{}}',
        b"<html>bad gateway</html>",  # no envelope: the error path frees it too
    ],
)
async def test_a_sent_request_and_its_body_go_with_the_last_reference(answer: bytes) -> None:
    sent: list[weakref.ref[httpx.Request]] = []

    def tiktok(request: httpx.Request) -> httpx.Response:
        sent.append(weakref.ref(request))
        return httpx.Response(200, content=answer)

    client = TikTokClient("http://tiktok.test/open_api", transport=httpx.MockTransport(tiktok))
    items = [b'{"event":"CompletePayment","event_id":"e%d"}' % i for i in range(1000)]
    gc.collect()
    gc.disable()
    try:
        timed = await client.track(access_token=TOKEN, pixel_id="P1", items=items)
        assert sent and sent[0]() is None, "the request waits for the cyclic collector"
    finally:
        gc.enable()
        await client.aclose()
    assert (200, timed.answer.code == 0) == (timed.answer.http_status, answer.startswith(b"{"))
