"""Access-Token checks with TikTok's codes: 40104 empty, 40105 wrong or revoked, 40001 denied."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.requests import Request

from tiktok_ads.emulator.config import EmulatorConfig, TokenGrant
from tiktok_ads.emulator.envelope import ApiError

TOKEN_HEADER = "Access-Token"
NULL_TOKEN = "Access token is null. Please provide it in the Access-Token header."
BAD_TOKEN = "Access token is incorrect or has been revoked."
_ANY_TOKEN = re.compile(r"[0-9a-fA-F]{40}")
_EVERYTHING = TokenGrant()


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated token and what it may touch."""

    token: str
    grant: TokenGrant

    def require_pixel(self, pixel_code: str) -> None:
        if not self.grant.allows_pixel(pixel_code):
            raise ApiError(
                40001,
                f"No permission to operate pixel code: {pixel_code}. "
                "Make sure the access token is authorized for this pixel.",
            )

    def require_advertiser(self, advertiser_id: str) -> None:
        if not self.grant.allows_advertiser(advertiser_id):
            raise ApiError(
                40001,
                f"No permission to operate advertiser_id: {advertiser_id}. "
                "Make sure the access token is authorized for this advertiser.",
            )


def grant_for(config: EmulatorConfig, token: str | None) -> TokenGrant:
    """What `token` may do under `config`, or the ApiError TikTok would answer."""
    if not token:
        raise ApiError(40104, NULL_TOKEN)
    if token in config.revoked_tokens:
        raise ApiError(40105, BAD_TOKEN)
    grant = config.tokens.get(token)
    if grant is not None:
        return grant
    if config.accept_any_token and _ANY_TOKEN.fullmatch(token):
        return _EVERYTHING
    raise ApiError(40105, BAD_TOKEN)


def authenticate(request: Request) -> Caller:
    token = request.headers.get(TOKEN_HEADER, "").strip()
    config: EmulatorConfig = request.app.state.emulator.config
    return Caller(token, grant_for(config, token))
