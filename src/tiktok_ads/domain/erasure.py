"""Erasure of one person (`POST /privacy/erase`): whom the request names, as hashes, and what
is left of a stored event once their identity is taken out. Pure; no I/O.

The identifiers named (raw or already SHA-256) are normalised and hashed exactly as on events.
The person's other identifiers are those sent together with a named one on one of their
events (their phone beside their email, say): those leave the audiences too. What stays of an
event is what TikTok can still take without knowing who: the event, its time and id, the
purchase, the page without its click id, the country and the locale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tiktok_ads.domain.audiences import IdType, Member
from tiktok_ads.domain.normalize import hash_email, hash_external_id, hash_phone
from tiktok_ads.domain.segments import identifiers
from tiktok_ads.errors import FieldError, ValidationFailed

KINDS = ("email", "phone", "external_id")
#: Keys of TikTok's `user` object taken out of an erased person's events (country and
#: locale stay: they name nobody).
ERASED_USER_KEYS = frozenset(
    {"email", "phone", "external_id", "first_name", "last_name", "zip_code", "city", "state"}
    | {"ttclid", "ttp"}
)
#: Match keys (`events.match_keys`) that no longer hold once the identity is gone; ip and
#: user agent are cleared with it.
ERASED_MATCH_KEYS = ERASED_USER_KEYS | {"ip", "user_agent"}
_MEMBER_TYPE = {"email": IdType.EMAIL_SHA256.value, "phone": IdType.PHONE_SHA256.value}


@dataclass(slots=True)
class Person:
    """The hashes of one person, by kind ("email", "phone", "external_id")."""

    hashes: dict[str, set[str]] = field(default_factory=lambda: {kind: set() for kind in KINDS})

    def all(self) -> set[str]:
        return set().union(*self.hashes.values())

    def members(self) -> list[Member]:
        """Their audience ids (emails and phones)."""
        return sorted(
            (_MEMBER_TYPE[kind], hashed)
            for kind, found in self.hashes.items()
            if kind in _MEMBER_TYPE
            for hashed in found
        )

    def named_on(self, user: dict[str, Any]) -> bool:
        """Whether an event's `user` object carries one of these hashes."""
        return any(
            hashed in self.hashes[kind] for kind in KINDS for hashed in identifiers(user.get(kind))
        )

    def take_from(self, user: dict[str, Any]) -> None:
        """Add the identifiers of an event of theirs."""
        for kind in KINDS:
            self.hashes[kind].update(identifiers(user.get(kind)))


def read_erase_request(body: object, phone_region: str | None) -> Person:
    """`{"email"|"phone"|"external_id": value}` (one or more of them) as hashes."""
    if not isinstance(body, dict):
        raise ValidationFailed([FieldError("body", "must be a JSON object")])
    errors: list[FieldError] = []
    person = Person()
    hashers = {
        "email": hash_email,
        "phone": lambda raw: hash_phone(raw, phone_region),
        "external_id": hash_external_id,
    }
    for key, value in body.items():
        if key not in hashers:
            errors.append(FieldError(key, "is not one of email, phone, external_id"))
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            errors.append(FieldError(key, "must be a non-empty string"))
            continue
        try:
            person.hashes[key].add(hashers[key](value))
        except ValueError as exc:
            errors.append(FieldError(key, str(exc)))
    if not errors and not person.all():
        errors.append(FieldError("body", "name the person: email, phone or external_id"))
    if errors:
        raise ValidationFailed(errors)
    return person


def without_identity(payload: dict[str, Any]) -> dict[str, Any]:
    """The event as TikTok may still receive it once the person is erased."""
    out = dict(payload)
    user = {k: v for k, v in (payload.get("user") or {}).items() if k not in ERASED_USER_KEYS}
    if user:
        out["user"] = user
    else:
        out.pop("user", None)
    page = payload.get("page")
    if isinstance(page, dict):
        out["page"] = {k: _without_click_id(v) for k, v in page.items()}
    return out


def remaining_match_keys(match_keys: str) -> str:
    return ",".join(k for k in match_keys.split(",") if k and k not in ERASED_MATCH_KEYS)


def _without_click_id(url: object) -> object:
    """A page URL without its `ttclid` parameter (the click id says whose visit it was)."""
    if not isinstance(url, str) or "ttclid" not in url:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "ttclid"]
    return urlunsplit(parts._replace(query=urlencode(query)))
