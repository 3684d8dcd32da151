"""Upload bodies read as they arrive: a capped byte stream, and the `file` part of a
multipart/form-data body parsed on the fly. Starlette's form parser would spool the file to a
temporary file first: raw customer data on disk, which we never allow.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from tiktok_ads.entrypoints.api.errors import ApiError
from tiktok_ads.errors import FieldError

FILE_FIELD = "file"


def too_large(cap: int) -> ApiError:
    return ApiError(413, 40002, f"upload larger than {cap} bytes", [FieldError("body", f"≤ {cap}")])


def check_length(request: Request, cap: int) -> None:
    """Refuse from Content-Length before reading anything."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > cap:
        raise too_large(cap)


async def capped(request: Request, cap: int) -> AsyncIterator[bytes]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise too_large(cap)
        if chunk:
            yield chunk


async def multipart_file(request: Request, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The bytes of the form's `file` part (other fields are skipped), as they arrive."""
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not boundary:
        raise ApiError(422, 40002, "multipart body without a boundary", [FieldError("body", "")])
    state: dict[str, Any] = {"field": b"", "value": b"", "name": None, "seen": False}
    out: list[bytes] = []

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        if state["field"].lower() == b"content-disposition":
            _, disposition = parse_options_header(state["value"])
            state["name"] = disposition.get(b"name", b"").decode("latin-1")
        state["field"], state["value"] = b"", b""

    def on_part_begin() -> None:
        state["name"] = None

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["name"] == FILE_FIELD:
            state["seen"] = True
            out.append(data[start:end])

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
        },
    )
    async for chunk in body:
        parser.write(chunk)
        if out:
            yield b"".join(out)
            out.clear()
    parser.finalize()
    if not state["seen"]:
        raise ApiError(
            422, 40002, "no `file` part in the form", [FieldError(FILE_FIELD, "is required")]
        )
