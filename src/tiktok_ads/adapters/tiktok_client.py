"""TikTok Business API client (httpx). Takes an injected transport; translates every failure.

It reports what TikTok said; what to do about it is `domain.delivery`'s decision.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import IO, Any

import httpx
import orjson

from tiktok_ads.domain.delivery import TimedAnswer, TrackAnswer
from tiktok_ads.domain.tiktok_item import track_body
from tiktok_ads.errors import TikTokResponseError

TRACK_PATH = "/v1.3/event/track/"


class TikTokClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 20.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 32,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)),
            transport=transport,
            limits=httpx.Limits(max_connections=max_connections),
            headers={"User-Agent": "tiktok-ads-integration"},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def track(
        self,
        *,
        access_token: str,
        pixel_id: str,
        items: Sequence[bytes],
        test_event_code: str | None = None,
    ) -> TimedAnswer:
        """POST one Events API 2.0 request of items already serialised (a join, not a dump);
        never raises for what TikTok answers."""
        body = track_body(pixel_id, items, test_event_code)
        started = time.perf_counter()
        answer, _ = await self.exchange("POST", TRACK_PATH, access_token, raw_json=body)
        return TimedAnswer(answer, (time.perf_counter() - started) * 1000)

    async def exchange(
        self,
        method: str,
        path: str,
        access_token: str,
        *,
        json_body: Any = None,
        raw_json: bytes | None = None,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, IO[bytes], str]] | None = None,
        timeout_s: float | None = None,
    ) -> tuple[TrackAnswer, Any]:
        """One call to the Business API: TikTok's answer (or why there is none) and its
        `data`. Never raises for what TikTok (or the network) does."""
        headers = {"Access-Token": access_token}
        content = None
        if json_body is not None:
            raw_json = orjson.dumps(json_body)
        if raw_json is not None:
            headers["Content-Type"] = "application/json"
            content = raw_json
        timeout = httpx.USE_CLIENT_DEFAULT if timeout_s is None else httpx.Timeout(timeout_s)
        try:
            response = await self._client.request(
                method,
                path,
                content=content,
                params=params,
                data=data,
                files=files,
                headers=headers,
                timeout=timeout,
            )
        except httpx.TimeoutException as exc:
            problem = f"timeout talking to TikTok ({type(exc).__name__})"
            return TrackAnswer(None, None, problem), None
        except httpx.TransportError as exc:
            return TrackAnswer(None, None, f"no answer from TikTok ({type(exc).__name__})"), None
        try:
            envelope = read_envelope(response)
        except TikTokResponseError as exc:
            return TrackAnswer(exc.http_status, None, str(exc)), None
        finally:
            release(response)
        answer = TrackAnswer(
            envelope["_http_status"], envelope["code"], envelope["message"], envelope["request_id"]
        )
        return answer, envelope["data"]


def release(response: httpx.Response) -> None:
    """Break the cycle httpx leaves a read response in (Response.stream <-> the stream bound
    to it), so the response and its request, ~700 KB of events, go when the last reference
    does instead of waiting for the cyclic garbage collector."""
    response.stream = httpx.ByteStream(b"")


def read_envelope(response: httpx.Response) -> dict[str, Any]:
    """TikTok's `{code, message, request_id, data}`, whatever the HTTP status says."""
    try:
        parsed = orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        snippet = response.text[:120].replace("\n", " ")
        raise TikTokResponseError(
            f"HTTP {response.status_code} without TikTok's JSON envelope: {snippet}",
            response.status_code,
        ) from exc
    if not isinstance(parsed, dict) or not isinstance(parsed.get("code"), int):
        raise TikTokResponseError(
            f"HTTP {response.status_code}: JSON without an integer `code`", response.status_code
        )
    return {
        "_http_status": response.status_code,
        "code": parsed["code"],
        "message": str(parsed.get("message", "")),
        "request_id": parsed.get("request_id"),
        "data": parsed.get("data"),
    }
