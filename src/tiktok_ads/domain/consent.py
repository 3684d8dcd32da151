"""Reading a caller's consent signal: a plain boolean or a Google Consent Mode object.

Without consent no personal data may be processed, so the verdict is read before anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

from tiktok_ads.errors import EventInvalid, FieldError

# Checked in this order; both must be granted for ads use of personal data.
_CONSENT_MODE_KEYS = ("ad_user_data", "ad_storage")


@dataclass(frozen=True, slots=True)
class ConsentVerdict:
    """Whether the event may carry personal data; `reason` says why not."""

    granted: bool
    reason: str | None = None


GRANTED = ConsentVerdict(granted=True)
DENIED = ConsentVerdict(granted=False, reason="consent denied")


def read_consent(raw: object) -> ConsentVerdict:
    """The verdict for a `consent` field; absent means granted. Raises EventInvalid when unreadable.

    Accepted: absent / null, `true`, `false`, or `{"ad_storage": "granted"|"denied",
    "ad_user_data": "granted"|"denied"}` where a missing key counts as granted.
    """
    if raw is None or raw is True:
        return GRANTED
    if raw is False:
        return DENIED
    if not isinstance(raw, dict):
        raise EventInvalid([FieldError("consent", "must be true, false or a Consent Mode object")])
    errors: list[FieldError] = []
    denied: list[str] = []
    for key in _CONSENT_MODE_KEYS:
        value = raw.get(key)
        if value is None or value == "granted":
            continue
        if value == "denied":
            denied.append(key)
        else:
            errors.append(FieldError(f"consent.{key}", "must be 'granted' or 'denied'"))
    if errors:
        raise EventInvalid(errors)
    if denied:
        return ConsentVerdict(granted=False, reason="consent denied: " + ", ".join(denied))
    return GRANTED
