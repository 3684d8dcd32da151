"""The FastAPI application: routes under /api/integrations/tiktok-ads, ops at the root."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

import tiktok_ads
from tiktok_ads.entrypoints.api import (
    errors,
    routes_connections,
    routes_events,
    routes_ops,
    schemas,
)

if TYPE_CHECKING:
    from tiktok_ads.bootstrap import Container

PREFIX = "/api/integrations/tiktok-ads"
HotHandler = Callable[[Request], Awaitable[Response]]


class ServiceApp(FastAPI):
    """FastAPI, with the two ingest routes answered before its middleware and router.

    They are the hot path (a shop's every page view): a profile showed more time in the
    framework's layers than in our work. Same handlers, same errors, same OpenAPI entries.
    """

    hot_routes: dict[tuple[str, str], HotHandler]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            handler = self.hot_routes.get((scope["method"], scope["path"]))
            if handler is not None:
                request = Request(scope, receive)
                request.scope["app"] = self
                try:
                    response = await handler(request)
                except Exception as exc:
                    response = errors.response_for(exc)
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


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
    errors.install(app)
    app.include_router(routes_ops.router)
    app.include_router(routes_events.router, prefix=PREFIX)
    app.include_router(routes_connections.router, prefix=PREFIX)
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
