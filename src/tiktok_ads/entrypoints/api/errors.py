"""Every error a caller can cause becomes our JSON envelope with the right HTTP status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from tiktok_ads.entrypoints.api.responses import error_response
from tiktok_ads.errors import (
    Conflict,
    FieldError,
    NotFound,
    PixelForbidden,
    StoreError,
    UnknownConnection,
    ValidationFailed,
)
from tiktok_ads.services.ingest import Overloaded
from tiktok_ads.services.replay import NotReplayable

log = logging.getLogger(__name__)

CODE_AUTH = 40101
CODE_FORBIDDEN = 40103
CODE_NOT_FOUND = 40400
CODE_CONFLICT = 40900
CODE_RATE_LIMITED = 40100
CODE_SERVER = 50000


class ApiError(Exception):
    """An HTTP-level refusal raised by our routes (auth, size, not found...)."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors = errors or []
        self.headers = headers


def response_for(exc: Exception) -> Response:
    """Our envelope and HTTP status for any exception a route lets through."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.errors, exc.headers)
    if isinstance(exc, PixelForbidden):
        return error_response(403, exc.code, exc.message, exc.errors)
    if isinstance(exc, ValidationFailed):
        code = 40001 if isinstance(exc, UnknownConnection) else exc.code
        return error_response(422, code, exc.message, exc.errors)
    if isinstance(exc, NotFound):
        return error_response(404, CODE_NOT_FOUND, str(exc))
    if isinstance(exc, Conflict):
        errors = [FieldError(exc.field, str(exc))] if exc.field else []
        return error_response(409, CODE_CONFLICT, str(exc), errors)
    if isinstance(exc, NotReplayable):
        return error_response(409, 40002, str(exc))
    if isinstance(exc, Overloaded):
        return error_response(429, CODE_RATE_LIMITED, str(exc), headers={"Retry-After": "1"})
    if isinstance(exc, StoreError):
        log.error("database unavailable: %s", exc)
        return error_response(
            503,
            CODE_SERVER,
            "database unavailable; nothing was accepted",
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, RequestValidationError):
        errors = [
            FieldError(".".join(str(p) for p in err.get("loc", ())), str(err.get("msg", "")))
            for err in exc.errors()
        ]
        message = f"{errors[0].field}: {errors[0].message}" if errors else "invalid request"
        return error_response(422, 40002, message, errors)
    if isinstance(exc, StarletteHTTPException):
        code = CODE_NOT_FOUND if exc.status_code == 404 else 40002
        return error_response(exc.status_code, code, str(exc.detail))
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, CODE_SERVER, "internal error")


def install(app: FastAPI) -> None:
    async def handler(_: Request, exc: Exception) -> Response:
        return response_for(exc)

    for kind in (
        ApiError,
        ValidationFailed,
        NotFound,
        Conflict,
        NotReplayable,
        Overloaded,
        StoreError,
        RequestValidationError,
        StarletteHTTPException,
        Exception,
    ):
        app.add_exception_handler(kind, handler)
