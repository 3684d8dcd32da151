"""The yardstick for the single-event benchmark: a bare FastAPI POST endpoint.

It reads the request body and answers a small JSON with 202, nothing else, and is served the
way `tiktok-ads serve` serves the service: `uvicorn.run` in one process, default (auto) event
loop and HTTP implementation, access log off.

Run: .venv/bin/python -m bench.bare_app --port 8200
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bench.harness import EVENTS_PATH, HOST


def create_app() -> FastAPI:
    app = FastAPI(title="bare endpoint (benchmark yardstick)")

    @app.post(EVENTS_PATH, status_code=202)
    async def post_event(request: Request) -> JSONResponse:
        body = await request.body()
        answer: dict[str, Any] = {"success": True, "status": "queued", "bytes": len(body)}
        return JSONResponse(answer, status_code=202)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=8200)
    args = parser.parse_args()
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
