"""An inbound event (the seed's "Send Event" body) checked, normalised and hashed into
TikTok's Events API 2.0 `data[]` item: `prepare_event`, the ingest hot path.

Hand-written checks rather than a model per event: this runs ~25,000 times a second. Every
problem is collected before raising, so a caller hears of all of them at once. A bad optional
detail (a mistyped email, a page URL of "(") never costs the event: it is dropped and reported
as a warning, unless the rules ask for strict checking.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from uuid import uuid4

from tiktok_ads.domain.consent import GRANTED, ConsentVerdict, read_consent
from tiktok_ads.domain.context import read_context
from tiktok_ads.domain.events import NewEvent, Status
from tiktok_ads.domain.fields import USER_CODE, fail, section
from tiktok_ads.domain.normalize import ttclid_from_url
from tiktok_ads.domain.properties import read_properties
from tiktok_ads.domain.user_data import read_user
from tiktok_ads.errors import EventInvalid, FieldError, UserDataInvalid, ValidationFailed

# The seed's `events` switches (TIKTOK_TRACK_*) and the names each one governs.
_SWITCH_OF_EVENT = {
    "CompletePayment": "purchases",
    "Purchase": "purchases",
    "PlaceAnOrder": "purchases",
    "AddToCart": "add_to_cart",
    "InitiateCheckout": "checkout",
    "AddPaymentInfo": "checkout",
    "CompleteRegistration": "registrations",
}
# Every match key an event can carry, in the order `PreparedEvent.match_keys` lists them.
MATCH_KEYS = (
    "email", "phone", "external_id", "ttclid", "ttp", "ip", "user_agent",
    "first_name", "last_name", "zip_code",
)  # fmt: skip
_QUEUED = Status.QUEUED.value
_SKIPPED = Status.SKIPPED.value
MAX_EVENT_NAME_CHARS = 100
MAX_EVENT_ID_CHARS = 128
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Past any time in seconds or ms; a longer integer (written as text: JSON numbers that long
# arrive as floats) is refused, not converted to a float, which would overflow.
_INT64 = 2**63
_MS_THRESHOLD = 10**12  # 13 digits: a Unix time in milliseconds (seconds reach that in 33658)


def tracking_switch(event_name: str) -> str | None:
    """The switch ("purchases", "add_to_cart", "checkout", "registrations") governing a name."""
    return _SWITCH_OF_EVENT.get(event_name)


@dataclass(frozen=True, slots=True)
class IngestRules:
    """Settings that shape what an inbound event may be."""

    default_phone_region: str | None = None
    attribution_window_days: int = 28
    max_future_seconds: int = 300
    # True: a bad personal identifier refuses the event (40003), a bad context detail too
    # (40002); False: they are dropped and reported as warnings.
    strict_user_data: bool = False


@dataclass(slots=True, init=False)
class PreparedEvent:
    """An accepted event: TikTok's payload (hashed, no ip / user agent) and what we index.

    What is personal defaults to empty: an event without consent carries only its metadata.
    `__init__` is written out so that, compiled, it is a native constructor (see NewEvent).
    """

    pixel_id: str | None
    event_name: str
    event_id: str
    event_id_generated: bool
    event_time: int
    payload: dict[str, Any]
    consent: ConsentVerdict
    limited_data_use: bool
    ip: str | None
    user_agent: str | None
    match_keys: tuple[str, ...]
    identity_hashes: tuple[str, ...]
    ttclid: str | None
    ttp: str | None
    value: float | None
    currency: str | None
    # Optional details that failed their checks and were left out (field and why).
    warnings: tuple[FieldError, ...]

    def __init__(
        self,
        pixel_id: str | None,
        event_name: str,
        event_id: str,
        event_id_generated: bool,
        event_time: int,
        payload: dict[str, Any],
        consent: ConsentVerdict,
        limited_data_use: bool,
        ip: str | None = None,
        user_agent: str | None = None,
        match_keys: tuple[str, ...] = (),
        identity_hashes: tuple[str, ...] = (),
        ttclid: str | None = None,
        ttp: str | None = None,
        value: float | None = None,
        currency: str | None = None,
        warnings: tuple[FieldError, ...] = (),
    ) -> None:
        self.pixel_id = pixel_id
        self.event_name = event_name
        self.event_id = event_id
        self.event_id_generated = event_id_generated
        self.event_time = event_time
        self.payload = payload
        self.consent = consent
        self.limited_data_use = limited_data_use
        self.ip = ip
        self.user_agent = user_agent
        self.match_keys = match_keys
        self.identity_hashes = identity_hashes
        self.ttclid = ttclid
        self.ttp = ttp
        self.value = value
        self.currency = currency
        self.warnings = warnings


def prepare_event(raw: object, *, now: float, rules: IngestRules) -> PreparedEvent:
    """Check every field of an inbound event, then build its hashed TikTok payload.

    Raises EventInvalid naming every bad field of the event itself (or UserDataInvalid when,
    in strict mode, only user data is wrong). Bad personal identifiers and context details are
    otherwise left out and listed in `warnings`. Denied consent: no personal data is read at
    all, only the event's metadata kept.
    """
    if not isinstance(raw, dict):
        raise EventInvalid([FieldError("body", "must be a JSON object")])
    errors: list[FieldError] = []
    # Each field: the usual value (a plain string, an int) is taken at once; anything else is
    # read by its checking reader, which records the problem. The same verdict either way.
    value = raw.get("event_type")
    if not (
        type(value) is str
        and 0 < len(name := value.strip()) <= MAX_EVENT_NAME_CHARS
        and name.isprintable()  # printable: no control characters
    ):
        name = _event_name(value, errors)
    value = raw.get("event_time")
    if type(value) is int and -_INT64 < value < _INT64:
        event_time = value // 1000 if value >= _MS_THRESHOLD else value
        if (
            event_time - now > rules.max_future_seconds
            or now - event_time > rules.attribution_window_days * 86400
        ):
            event_time = _event_time(value, now, rules, errors)
    else:
        event_time = _event_time(value, now, rules, errors)
    value = raw.get("event_id")
    if type(value) is str and 0 < len(event_id := value.strip()) <= MAX_EVENT_ID_CHARS:
        generated = False
    else:
        event_id, generated = _event_id(value, errors)
    pixel_id = raw.get("pixel_id")
    if pixel_id is not None:
        if isinstance(pixel_id, str) and pixel_id.strip():
            pixel_id = pixel_id.strip()
        else:
            fail(errors, "pixel_id", "must be a non-empty string")
            pixel_id = None
    value = raw.get("consent")
    if value is None or value is True:
        consent = GRANTED
    else:
        try:
            consent = read_consent(value)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
            consent = GRANTED  # still check the rest, so the caller hears of every problem
    payload: dict[str, Any] = {"event": name, "event_time": event_time, "event_id": event_id}
    if not consent.granted:
        if errors:
            _raise(errors)
        return PreparedEvent(
            pixel_id=pixel_id,
            event_name=name,
            event_id=event_id,
            event_id_generated=generated,
            event_time=event_time,
            payload=payload,
            consent=consent,
            limited_data_use=True,
        )
    ldu = raw.get("limited_data_use")
    if ldu is None:
        ldu = False
    elif not isinstance(ldu, bool):
        fail(errors, "limited_data_use", "must be true or false")
        ldu = False
    # Where a bad optional detail goes: among the errors (strict) or the warnings.
    dropped: list[FieldError] = errors if rules.strict_user_data else []
    context_in = raw.get("context")
    if type(context_in) is not dict:
        context_in = section(raw, "context", dropped)
    user_in = raw.get("user")
    if type(user_in) is not dict:
        user_in = section(raw, "user", dropped)
    user, identities = read_user(user_in, context_in, rules.default_phone_region, dropped)
    properties_in = raw.get("properties")
    if type(properties_in) is not dict:
        properties_in = section(raw, "properties", errors)
    properties = read_properties(properties_in, errors)
    page_url, referrer, ip, user_agent = read_context(context_in, dropped)
    ttclid = user.get("ttclid")
    if ttclid is None and page_url is not None:
        ttclid = ttclid_from_url(page_url)
        if ttclid is not None:
            user["ttclid"] = ttclid
    if errors:
        _raise(errors)
    if properties:
        payload["properties"] = properties
    if page_url is not None:  # TikTok refuses an empty `page`: without a URL, none
        page = {"url": page_url}
        if referrer is not None:
            page["referrer"] = referrer
        payload["page"] = page
    payload["limited_data_use"] = ldu
    if user:  # last: stored so, ip and user agent are appended when sending (tiktok_item)
        payload["user"] = user
    return PreparedEvent(
        pixel_id=pixel_id,
        event_name=name,
        event_id=event_id,
        event_id_generated=generated,
        event_time=event_time,
        payload=payload,
        ip=ip,
        user_agent=user_agent,
        consent=consent,
        limited_data_use=ldu,
        match_keys=_match_keys(tuple(user), ip is not None, user_agent is not None),
        identity_hashes=identities,
        ttclid=ttclid,
        ttp=user.get("ttp"),
        value=properties.get("value"),
        currency=properties.get("currency"),
        warnings=() if rules.strict_user_data else tuple(dropped),
    )


def stored_event(prepared: PreparedEvent, pixel_id: str, skip_reason: str | None) -> NewEvent:
    """What the store keeps of a prepared event; a skipped one keeps its metadata only."""
    skipped = skip_reason is not None
    consent_denied = not prepared.consent.granted
    user = prepared.payload.get("user")
    return NewEvent(
        pixel_id=pixel_id,
        event_name=prepared.event_name,
        event_id=prepared.event_id,
        event_time=prepared.event_time,
        status=_SKIPPED if skipped else _QUEUED,
        # A skipped event keeps only its metadata: nothing personal is stored for it.
        payload=None if skipped else prepared.payload,
        ip=None if skipped else prepared.ip,
        user_agent=None if skipped else prepared.user_agent,
        match_keys="" if skipped else ",".join(prepared.match_keys),
        identity_hashes=() if skipped else prepared.identity_hashes,
        has_ttclid=user is not None and "ttclid" in user,
        has_ttp=user is not None and "ttp" in user,
        value=None if consent_denied else prepared.value,
        currency=None if consent_denied else prepared.currency,
        skip_reason=skip_reason,
        event_id_generated=prepared.event_id_generated,
    )


@cache
def _match_keys(user_keys: tuple[str, ...], ip: bool, user_agent: bool) -> tuple[str, ...]:
    """The match keys of an event, in `MATCH_KEYS` order, from its `user` object's keys (each
    match key read there is one) and whether it has an ip and a user agent.

    Remembered: the keys come from a small fixed set, so there are few combinations.
    """
    present = {*user_keys}
    if ip:
        present.add("ip")
    if user_agent:
        present.add("user_agent")
    return tuple(key for key in MATCH_KEYS if key in present)


def _event_time(value: object, now: float, rules: IngestRules, errors: list[FieldError]) -> int:
    if value is None:
        return int(now)
    seconds: float | None = None
    if isinstance(value, str):
        value = _number_or_iso(value.strip())
    if isinstance(value, bool):
        seconds = None
    elif isinstance(value, int) and -_INT64 < value < _INT64:
        seconds = value // 1000 if value >= _MS_THRESHOLD else value
    elif isinstance(value, float) and math.isfinite(value):
        seconds = value / 1000 if value >= _MS_THRESHOLD else value
    if seconds is None:
        fail(errors, "event_time", "must be a Unix time (seconds or ms) or an ISO-8601 date-time")
        return 0
    when = int(seconds)
    if when - now > rules.max_future_seconds:
        fail(errors, "event_time", "is in the future")
    elif now - when > rules.attribution_window_days * 86400:
        days = rules.attribution_window_days
        fail(errors, "event_time", f"is older than the {days}-day attribution window")
    return when


def _number_or_iso(text: str) -> object:
    """A Unix time written as text, or an ISO-8601 date-time (naive means UTC) as seconds."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _event_name(value: object, errors: list[FieldError]) -> str:
    if value is None:
        fail(errors, "event_type", "is required")
    elif not isinstance(value, str):
        fail(errors, "event_type", "must be a string")
    else:
        name = value.strip()
        if not name:
            fail(errors, "event_type", "must not be empty")
        elif len(name) > MAX_EVENT_NAME_CHARS:
            fail(errors, "event_type", f"must be at most {MAX_EVENT_NAME_CHARS} characters")
        elif _CONTROL_CHARS.search(name):
            fail(errors, "event_type", "must not contain control characters")
        else:
            return name
    return ""


def _event_id(value: object, errors: list[FieldError]) -> tuple[str, bool]:
    if value is None:
        return uuid4().hex, True
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value), False
    if not isinstance(value, str):
        fail(errors, "event_id", "must be a string or an integer")
    elif not (event_id := value.strip()):
        fail(errors, "event_id", "must not be empty")
    elif len(event_id) > MAX_EVENT_ID_CHARS:
        fail(errors, "event_id", f"must be at most {MAX_EVENT_ID_CHARS} characters")
    else:
        return event_id, False
    return "", False


def _raise(errors: list[FieldError]) -> None:
    if all(error.code == USER_CODE for error in errors):
        raise UserDataInvalid(errors)
    raise EventInvalid(errors)
