"""TikTok's answer shapes: the JSON envelope, request ids, API errors and gateway HTML pages."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, NoReturn

import orjson
from starlette.requests import Request
from starlette.responses import Response

#: Where the gateway leaves an `Exchange` in the ASGI scope for handlers to fill in.
EXCHANGE_KEY = "tiktok_emulator.exchange"

OK_MESSAGE = "OK"
#: Undocumented by TikTok; clients (and our service) count the events as received.
PARTIAL_SUCCESS_CODE = 20001
PARTIAL_SUCCESS = "Partial success."
TOO_MANY_REQUESTS = "Too many requests. Please retry in some time."
SERVICE_TIMEOUT = "Internal service timeout."
SYSTEM_ERROR = "System error."


class ApiError(Exception):
    """An API-level refusal: TikTok answers it as HTTP 200 with a non-zero `code`."""

    def __init__(self, code: int, message: str, http_status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status


def invalid(field: str, problem: str) -> NoReturn:
    """Refuse a request the way TikTok words a bad parameter: 40002 naming the field."""
    raise ApiError(40002, f"Invalid value for {field}: {problem}")


@dataclass(slots=True)
class Exchange:
    """What a handler learned about one request, for the gateway to record."""

    json: Any = None
    has_json: bool = False
    code: int | None = None
    request_id: str | None = None
    # Set by the code_20001 fault: a successful answer says 20001 instead of 0.
    partial_success: bool = False


def new_request_id(now: float) -> str:
    """14 digits of UTC timestamp + 20 upper-case hex digits, like TikTok's (34 chars)."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(now)) + os.urandom(10).hex().upper()


def envelope_bytes(code: int, message: str, request_id: str, data: Any = None) -> bytes:
    return orjson.dumps(
        {
            "code": code,
            "message": message,
            "request_id": request_id,
            "data": {} if data is None else data,
        }
    )


def envelope(
    request: Request,
    code: int,
    message: str,
    data: Any = None,
    http_status: int = 200,
    request_id: str | None = None,
) -> Response:
    """TikTok's `{"code", "message", "request_id", "data"}` answer, noted for the recorder."""
    if request_id is None:
        request_id = new_request_id(request.app.state.emulator.clock())
    exchange = request.scope.get(EXCHANGE_KEY)
    if isinstance(exchange, Exchange):
        exchange.code = code
        exchange.request_id = request_id
    return Response(
        envelope_bytes(code, message, request_id, data),
        status_code=http_status,
        media_type="application/json",
    )


def ok(request: Request, data: Any = None, request_id: str | None = None) -> Response:
    """Code 0, or 20001 "Partial success." when a code_20001 fault hit this request."""
    exchange = request.scope.get(EXCHANGE_KEY)
    if isinstance(exchange, Exchange) and exchange.partial_success:
        return envelope(request, PARTIAL_SUCCESS_CODE, PARTIAL_SUCCESS, data, request_id=request_id)
    return envelope(request, 0, OK_MESSAGE, data, request_id=request_id)


def remember_json(request: Request, payload: Any) -> None:
    """Hand the parsed body to the recorder so it is not parsed twice."""
    exchange = request.scope.get(EXCHANGE_KEY)
    if isinstance(exchange, Exchange):
        exchange.json = payload
        exchange.has_json = True


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or 40002 as TikTok answers unparsable bodies."""
    raw = await request.body()
    try:
        payload = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError as exc:
        raise ApiError(40002, "Invalid request body: not valid JSON.") from exc
    remember_json(request, payload)
    if not isinstance(payload, dict):
        raise ApiError(40002, "Invalid request body: expected a JSON object.")
    return payload


_REASONS = {
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
    504: "504 Gateway Time-out",
}


def gateway_page(status: int) -> bytes:
    """The HTML page TikTok's nginx gateway serves when the API behind it is in trouble."""
    title = _REASONS.get(status, f"{status} Error")
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()
