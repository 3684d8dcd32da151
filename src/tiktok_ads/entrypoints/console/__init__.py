"""The monitoring console at /console: server-rendered pages behind a login with an API key."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.responses import RedirectResponse

from tiktok_ads.entrypoints.console import actions, pages


def install(app: FastAPI) -> None:
    """The console's routes, and `/` leading there."""
    app.include_router(actions.router)
    app.include_router(pages.router)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/console", status_code=307)
