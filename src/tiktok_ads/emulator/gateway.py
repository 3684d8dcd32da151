"""The emulator's front door (pure ASGI): path normalisation, injected faults, request recording."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tiktok_ads.emulator.auth import BAD_TOKEN
from tiktok_ads.emulator.envelope import (
    EXCHANGE_KEY,
    SERVICE_TIMEOUT,
    SYSTEM_ERROR,
    TOO_MANY_REQUESTS,
    Exchange,
    envelope_bytes,
    gateway_page,
    new_request_id,
)
from tiktok_ads.emulator.faults import Fault, route_path
from tiktok_ads.emulator.sockets import SocketRegistry
from tiktok_ads.emulator.state import EmulatorState, RecordedRequest

API_ROOT = "/open_api/"
#: Headers never written to the request log (their presence is kept as a flag).
SECRET_HEADERS = frozenset({"access-token", "authorization", "cookie"})
_CODE_FAULTS = {
    "code_40100": (40100, TOO_MANY_REQUESTS),
    "code_40105": (40105, BAD_TOKEN),
    "code_40700": (40700, SERVICE_TIMEOUT),
    "code_50000": (50000, SYSTEM_ERROR),
}
#: Faults after which the request is still handled normally (then changed or delayed).
_PASS_THROUGH_FAULTS = frozenset({"latency", "late_answer", "code_20001"})
_HTTP_FAULTS = {"http_500": 500, "http_503": 503}
_DROP_GRACE_SECONDS = 5.0


class DroppedConnection(httpx.RemoteProtocolError):
    """Raised in-process (httpx.ASGITransport) where no socket exists to close.

    It subclasses httpx's own error so a client sees what a dropped socket would give it.
    """

    def __init__(self) -> None:
        super().__init__("Server disconnected without sending a response.")


class Gateway:
    """Wraps the FastAPI routes the way TikTok's gateway wraps its API."""

    def __init__(self, app: ASGIApp, state: EmulatorState, sockets: SocketRegistry) -> None:
        self.app = app
        self.state = state
        self.sockets = sockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        full: str = scope["path"]
        if len(full) > 1 and full.endswith("/"):
            # TikTok's paths end in "/"; route both spellings without a 307 redirect.
            full = full.rstrip("/") or "/"
            scope = {**scope, "path": full, "raw_path": full.encode()}
        path = route_path(scope)
        if not path.startswith(API_ROOT):
            await self.app(scope, receive, send)
            return
        body, gone = await _read_body(receive)
        if gone:
            return
        exchange = Exchange()
        scope[EXCHANGE_KEY] = exchange
        arrived = self.state.clock()
        fault = self.state.faults.take(path)
        status = 0
        try:
            if self.state.config.latency_ms:
                await asyncio.sleep(self.state.config.latency_ms / 1000)
            if fault is None or fault.kind in _PASS_THROUGH_FAULTS:
                if fault is not None and fault.kind == "latency":
                    await asyncio.sleep(fault.opts.get("ms", 1000) / 1000)
                # 20001: TikTok took the events but answers "partial success".
                exchange.partial_success = fault is not None and fault.kind == "code_20001"
                late = (
                    fault.opts.get("ms", 1000) / 1000
                    if fault and fault.kind == "late_answer"
                    else 0
                )
                status = await _forward(self.app, scope, _replay(body, receive), send, late)
            else:
                status = await self._inject(fault, scope, receive, send, exchange)
        finally:
            self._record(scope, body, exchange, status, arrived, fault)

    async def _inject(
        self, fault: Fault, scope: Scope, receive: Receive, send: Send, exchange: Exchange
    ) -> int:
        """Answer (or not) the way the fault says; returns the HTTP status sent, 0 for none."""
        if fault.kind in _HTTP_FAULTS:
            status = _HTTP_FAULTS[fault.kind]
            await _answer(send, status, gateway_page(status), b"text/html")
            return status
        if fault.kind in _CODE_FAULTS:
            code, message = _CODE_FAULTS[fault.kind]
            exchange.code = code
            exchange.request_id = new_request_id(self.state.clock())
            payload = envelope_bytes(code, message, exchange.request_id)
            await _answer(send, 200, payload, b"application/json")
            return 200
        if fault.kind == "hang":
            if await _client_left_within(fault.opts.get("seconds", 30), receive):
                return 0
            await _answer(send, 504, gateway_page(504), b"text/html")
            return 504
        # "drop": the only kind left.
        if not self.sockets.abort(scope.get("client")):
            raise DroppedConnection()
        # Let uvicorn see the close before the app returns, so it does not answer a 500.
        await _client_left_within(_DROP_GRACE_SECONDS, receive)
        return 0

    def _record(
        self,
        scope: Scope,
        body: bytes,
        exchange: Exchange,
        status: int,
        arrived: float,
        fault: Fault | None,
    ) -> None:
        headers: dict[str, str] = {}
        token = None
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            if name == "access-token":
                token = raw_value.decode("latin-1")
            if name not in SECRET_HEADERS:
                headers[name] = raw_value.decode("latin-1")
        keep_body = self.state.config.store_events
        payload = exchange.json if keep_body else None
        if keep_body and not exchange.has_json and body:
            payload = _maybe_json(body, headers.get("content-type", ""))
        self.state.requests.append(
            RecordedRequest(
                method=scope["method"],
                path=route_path(scope),
                query=scope.get("query_string", b"").decode("latin-1"),
                headers=headers,
                token_present=bool(token),
                token_mask=_mask(token),
                json=payload,
                http_status=status,
                code=exchange.code,
                request_id=exchange.request_id,
                time=arrived,
                fault=fault.kind if fault else None,
            )
        )


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole request body, and whether the client left before sending it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), True
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _forward(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, late_s: float = 0.0
) -> int:
    """Let the route handle the request; with `late_s`, hold its whole answer that long."""
    status = 0
    held: list[Message] = []

    async def watch(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        if late_s:
            held.append(message)
        else:
            await send(message)

    await app(scope, receive, watch)
    if held:
        await asyncio.sleep(late_s)
        for message in held:
            await send(message)
    return status


async def _answer(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _client_left_within(seconds: float, receive: Receive) -> bool:
    """Wait up to `seconds` for the client to disconnect; never longer, so nothing hangs forever."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    waiter = asyncio.ensure_future(disconnected())
    try:
        done, _ = await asyncio.wait({waiter}, timeout=seconds)
        return bool(done)
    finally:
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter


def _mask(token: str | None) -> str | None:
    if not token:
        return None
    return "***" + token[-4:] if len(token) >= 12 else "***"


def _maybe_json(body: bytes, content_type: str) -> Any:
    if "json" not in content_type:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
