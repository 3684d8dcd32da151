"""Privacy: erase a person (`POST /privacy/erase`), admin keys only.

An erasure reaches every pixel's events and every advertiser's audiences, so a key limited to
some pixels is refused: it could otherwise take people out of audiences it cannot see.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from tiktok_ads.entrypoints.api import schemas
from tiktok_ads.entrypoints.api.deps import container, read_json, require
from tiktok_ads.entrypoints.api.errors import CODE_FORBIDDEN, ApiError
from tiktok_ads.entrypoints.api.responses import JsonResponse
from tiktok_ads.services.api_keys import Principal

router = APIRouter(tags=["privacy"])


@router.post(
    "/privacy/erase",
    status_code=202,
    summary="Erase a person: out of every audience (at TikTok too), identity off their events",
    response_model=schemas.ErasureQueued,
    openapi_extra=schemas.request_body(schemas.EraseIn),
    responses={**schemas.ERRORS, 403: {"model": schemas.ErrorOut}},
)
async def erase_person(
    request: Request, principal: Principal = Depends(require("admin"))
) -> JsonResponse:
    # Keys limited to pixels (`keys create --pixel`) carry them; an erasure spans them all.
    if getattr(principal, "pixels", None) is not None:
        raise ApiError(403, CODE_FORBIDDEN, "an erasure needs an admin key for every pixel")
    erased = await container(request).erasure.erase(await read_json(request))
    return JsonResponse(erased.view(), status_code=202)
