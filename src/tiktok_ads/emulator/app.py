"""Builds the emulator's ASGI app: TikTok's routes behind the gateway, plus `/_emulator/`."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from tiktok_ads.emulator import (
    routes_control,
    routes_dmp,
    routes_events,
    routes_lookalike,
    routes_segment,
)
from tiktok_ads.emulator.config import EmulatorConfig
from tiktok_ads.emulator.envelope import ApiError, envelope
from tiktok_ads.emulator.gateway import Gateway
from tiktok_ads.emulator.sockets import SocketRegistry
from tiktok_ads.emulator.state import EmulatorState


def create_app(config: EmulatorConfig | None = None, state: EmulatorState | None = None) -> FastAPI:
    """The emulated TikTok Business API; `app.state.emulator` is its `EmulatorState`.

    Pass `state` to share or pre-build it (e.g. with an injected clock); `config` is then
    taken from it, and passing a different one is an error.
    """
    if state is None:
        state = EmulatorState(config)
    elif config is not None and config is not state.config:
        raise ValueError("pass the config inside the EmulatorState, not beside it")
    app = FastAPI(
        title="TikTok Business API emulator",
        description="TikTok Business API v1.3 (the parts tiktok_ads uses), in memory.",
        docs_url=None,
        redoc_url=None,
    )
    sockets = SocketRegistry()
    app.state.emulator = state
    app.state.emulator_sockets = sockets
    for module in (routes_events, routes_dmp, routes_lookalike, routes_segment, routes_control):
        app.include_router(module.router)
    app.add_exception_handler(ApiError, _api_error)
    app.add_middleware(Gateway, state=state, sockets=sockets)
    return app


async def _api_error(request: Request, exc: Exception) -> Response:
    # TikTok answers refusals with HTTP 200 and the code in the envelope.
    assert isinstance(exc, ApiError)
    return envelope(request, exc.code, exc.message, http_status=exc.http_status)
