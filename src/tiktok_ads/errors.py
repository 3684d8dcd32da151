"""The one exception root of tiktok_ads and its tree.

TikTokAdsError
├── ConfigurationError          bad settings at start-up
├── ValidationFailed            a caller sent something we refuse (carries FieldErrors)
│   ├── EventInvalid            code 40002
│   ├── UserDataInvalid         code 40003
│   ├── UnknownConnection       code 40001 (an unknown pixel / connection)
│   └── PixelForbidden          code 40103 (a pixel outside the API key's pixels)
├── NotFound                    a resource named in a path does not exist
├── Conflict                    the resource's state forbids the request (an audience being deleted)
├── StoreError                  the database failed us (translated at the adapter)
└── TikTokError                 talking to TikTok failed (translated at the client)
    ├── TikTokTransportError    timeout, reset, refused: no answer to read
    └── TikTokResponseError     TikTok answered, but not with a readable envelope
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field of a request, e.g. ("user.email", "not an email address")."""

    field: str
    message: str
    code: int = 40002

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class TikTokAdsError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigurationError(TikTokAdsError):
    """Settings that cannot work (missing secret, unparsable URL, ...)."""


class ValidationFailed(TikTokAdsError):
    """A caller's input was refused; `errors` names each field."""

    code = 40002

    def __init__(self, errors: list[FieldError], message: str | None = None) -> None:
        self.errors = errors
        if errors and all(e.code == 40003 for e in errors):
            self.code = 40003  # only personal data was wrong: the seed's "invalid user data"
        self.message = message or (errors[0].field + ": " + errors[0].message if errors else "")
        super().__init__(self.message)


class EventInvalid(ValidationFailed):
    code = 40002


class UserDataInvalid(ValidationFailed):
    code = 40003


class UnknownConnection(ValidationFailed):
    code = 40001


class PixelForbidden(ValidationFailed):
    """The API key is limited to other pixels (answered 403, never with the pixel's data)."""

    code = 40103


def pixel_forbidden(message: str) -> PixelForbidden:
    return PixelForbidden([FieldError("pixel_id", message, PixelForbidden.code)])


class NotFound(TikTokAdsError):
    """A resource named in the path does not exist."""


class Conflict(TikTokAdsError):
    """The resource exists, but its state forbids this request now (HTTP 409)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StoreError(TikTokAdsError):
    """The database failed; the original exception is chained."""


class TikTokError(TikTokAdsError):
    """Talking to TikTok failed."""


class TikTokTransportError(TikTokError):
    """No answer: timeout, connection refused or reset."""


class TikTokResponseError(TikTokError):
    """An answer that is not TikTok's JSON envelope (a gateway's HTML page, say)."""

    def __init__(self, message: str, http_status: int) -> None:
        super().__init__(message)
        self.http_status = http_status
