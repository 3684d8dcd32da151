"""Health, readiness and Prometheus metrics (no API key: probes and scrapers call them)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from tiktok_ads.entrypoints.api.deps import container
from tiktok_ads.entrypoints.api.responses import JsonResponse

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process answers")
async def healthz() -> JsonResponse:
    return JsonResponse({"status": "ok"})


@router.get("/readyz", summary="The database answers (503 when it does not)")
async def readyz(request: Request) -> JsonResponse:
    if await container(request).queries.database_ok():
        return JsonResponse({"status": "ok", "database": "ok"})
    return JsonResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)


@router.get("/metrics", summary="Prometheus text format")
async def metrics(request: Request) -> Response:
    c = container(request)
    c.metrics.set_connection_gauges(*await c.queries.health_and_depth())
    return Response(c.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
