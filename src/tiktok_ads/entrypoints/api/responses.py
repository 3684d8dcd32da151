"""JSON responses (orjson) and our error envelope: {success, code, message, errors[]}."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from starlette.responses import Response

from tiktok_ads.errors import FieldError


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(
    status: int,
    code: int,
    message: str,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    body = {
        "success": False,
        "code": code,
        "message": message,
        "errors": [e.as_dict() for e in errors],
    }
    return JsonResponse(body, status_code=status, headers=headers)
