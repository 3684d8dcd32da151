"""The FastAPI application: routes under /api/integrations/tiktok-ads, ops at the root."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

import tiktok_ads
from tiktok_ads.bootstrap import Container, build
from tiktok_ads.config import Settings
from tiktok_ads.entrypoints import console
from tiktok_ads.entrypoints.api import (
    errors,
    routes_audiences,
    routes_connections,
    routes_events,
    routes_insights,
    routes_keys,
    routes_ops,
    routes_privacy,
    routes_snippet,
    schemas,
)

PREFIX = "/api/integrations/tiktok-ads"
HotHandler = Callable[[Request], Awaitable[Response]]


class ServiceApp(FastAPI):
    """FastAPI, with the two ingest routes answered before its router and exception layers.

    They are the hot path (a shop's every page view): a profile showed more time in the
    framework's layers than in our work. Same handlers, same errors, same OpenAPI entries.
    Middleware added with `add_middleware` (CORS, request ids, ...) wraps them too.
    """

    hot_routes: dict[tuple[str, str], HotHandler]
    container: Container  # also app.state.container, for code that looks there
    _hot_stack: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope["method"], scope["path"]) in self.hot_routes:
            if self._hot_stack is None:
                self._hot_stack = self._build_hot_stack()
            scope["app"] = self
            await self._hot_stack(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def _build_hot_stack(self) -> ASGIApp:
        """The user middleware (as Starlette would apply it) around the hot handlers."""
        app: ASGIApp = self._serve_hot
        for middleware in reversed(self.user_middleware):
            app = middleware.cls(app, *middleware.args, **middleware.kwargs)
        return app

    async def _serve_hot(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self.hot_routes[(scope["method"], scope["path"])]
        request = Request(scope, receive)
        try:
            response = await handler(request)
        except Exception as exc:
            response = errors.response_for(exc)
        await response(scope, receive, send)


def create_api(container: Container, *, run_dispatcher: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await container.start(run_dispatcher=run_dispatcher)
        try:
            yield
        finally:
            await container.stop()

    app = ServiceApp(
        title="tiktok-ads-integration",
        version=tiktok_ads.__version__,
        description="Server-side TikTok Events API 2.0 delivery for ticket shops: events in, "
        "hashed, stored durably, batched to TikTok with retries and deduplication. "
        "Authenticate with `Authorization: Bearer <API key>`.",
        lifespan=lifespan,
    )
    app.state.container = container
    app.container = container
    errors.install(app)
    app.include_router(routes_ops.router)
    app.include_router(routes_snippet.router)
    app.include_router(routes_events.router, prefix=PREFIX)
    app.include_router(routes_connections.router, prefix=PREFIX)
    app.include_router(routes_keys.router, prefix=PREFIX)
    app.include_router(routes_insights.router, prefix=PREFIX)
    console.install(app)
    app.include_router(routes_audiences.router, prefix=PREFIX)
    app.include_router(routes_privacy.router, prefix=PREFIX)
    app.hot_routes = {
        ("POST", PREFIX + "/events"): routes_events.post_event,
        ("POST", PREFIX + "/events/batch"): routes_events.post_batch,
    }
    _document_bodies(app)
    return app


def _document_bodies(app: FastAPI) -> None:
    """Add the bodies we read by hand to the OpenAPI components."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = build()
        components = spec.setdefault("components", {}).setdefault("schemas", {})
        for model in schemas.DOC_MODELS:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(schema.pop("$defs", {}))
            components[model.__name__] = schema
        # Every route under the prefix takes `Authorization: Bearer <API key>`.
        spec["components"]["securitySchemes"] = {
            "apiKey": {"type": "http", "scheme": "bearer", "description": "An API key"}
        }
        for path, operations in spec.get("paths", {}).items():
            if path.startswith(PREFIX):
                for operation in operations.values():
                    operation["security"] = [{"apiKey": []}]
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None, **kwargs: Any) -> FastAPI:
    """The service's ASGI app, wired by bootstrap (used by `serve`, its processes and tests).

    `kwargs` go to `bootstrap.build` (clock, tiktok_transport, sandbox, policy), except
    `run_dispatcher`: False serves the API only.
    """
    run_dispatcher = kwargs.pop("run_dispatcher", True)
    container = build(settings or Settings(), **kwargs)
    app = create_api(container, run_dispatcher=run_dispatcher)
    if container.emulator_app is not None:
        app.mount("/sandbox", container.emulator_app)
    return app


def app_from_environment() -> FastAPI:
    """The app of one `serve --workers N` process, configured from the environment."""
    import os

    run_dispatcher = os.environ.get("TIKTOK_ADS_RUN_WORKER", "true").lower() in ("1", "true", "yes")
    return create_app(Settings(), run_dispatcher=run_dispatcher)
