"""Audience bookkeeping: uploaded files, custom/lookalike/rule/partner audiences as hash sets."""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from typing import Any

from tiktok_ads.emulator.envelope import ApiError

SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
MD5_HEX = re.compile(r"[0-9a-fA-F]{32}")

CALCULATE_TYPES = (
    "EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256", "GAID_SHA256", "IDFA_MD5", "GAID_MD5",
    "FIRST_SHA256", "FIRST_MD5", "MULTIPLE_TYPES",
)  # fmt: skip

#: Lookalike reach as a multiple of the source; TikTok does not say, any growth order will do.
LOOKALIKE_FACTORS = {"NARROW": 10, "BALANCED": 30, "BROAD": 50}

AUDIENCE_TYPES = {
    "customer_file": "Customer File Audience",
    "lookalike": "Lookalike Audience",
    "rule": "Engagement Audience",
    "partner": "Partner",
}

#: An audience lasts this long from its last change unless create/ set `retention_in_days`
#: (TikTok does not document the default; a year keeps sandbox audiences alive).
DEFAULT_RETENTION_DAYS = 365
#: list/ and get/ flag an audience `is_expiring` in the 60 days before its `expired_time`.
EXPIRING_DAYS = 60
#: `editor` of a history entry made through the API, as get/ reports it.
API_EDITOR = "open_api"
DAY = 86_400


def is_hashed(value: str, id_type: str) -> bool:
    """Whether `value` looks like the hash `id_type` (…_SHA256 / …_MD5) promises."""
    pattern = MD5_HEX if id_type.endswith("_MD5") else SHA256_HEX
    return pattern.fullmatch(value) is not None


def hash_name(id_type: str) -> str:
    return "MD5" if id_type.endswith("_MD5") else "SHA256"


def tiktok_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


@dataclass(slots=True)
class UploadedFile:
    """A customer file accepted by file/upload: its distinct users, ready for create/update."""

    file_path: str
    advertiser_id: str
    calculate_type: str
    members: frozenset[str]
    size: int
    name: str
    uploaded_at: float


@dataclass(slots=True)
class Audience:
    """One custom audience; `members` holds one hash per distinct user."""

    audience_id: str
    advertiser_id: str
    name: str
    kind: str
    calculate_type: str | None
    created_at: float
    members: set[str] = field(default_factory=set)
    updated_at: float = 0.0
    retention_in_days: int | None = None
    lookalike_spec: dict[str, Any] | None = None
    rule_spec: dict[str, Any] | None = None
    # Lookalikes have a reach, not a member list.
    synthetic_size: int | None = None
    # Ad group id -> "Include" | "Exclude", as apply/ left it.
    usages: dict[str, str] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cover_num(self) -> int:
        return self.synthetic_size if self.synthetic_size is not None else len(self.members)

    @property
    def expires_at(self) -> float:
        days = self.retention_in_days or DEFAULT_RETENTION_DAYS
        return (self.updated_at or self.created_at) + days * DAY

    def details(self, min_members: int, now: float) -> dict[str, Any]:
        """The audience as list/ and get/ describe it: the id is `audience_id` there."""
        expired = now >= self.expires_at
        return {
            "audience_id": self.audience_id,
            "name": self.name,
            "audience_type": AUDIENCE_TYPES[self.kind],
            "audience_sub_type": "NORMAL",
            "calculate_type": self.calculate_type,
            "cover_num": self.cover_num,
            "shared": False,
            "is_creator": True,
            "owner_id": self.advertiser_id,
            "is_valid": self.cover_num >= min_members and not expired,
            "is_expiring": not expired and now >= self.expires_at - EXPIRING_DAYS * DAY,
            "create_time": tiktok_time(self.created_at),
            "expired_time": tiktok_time(self.expires_at),
            "lookalike_spec": self.lookalike_spec,
        }

    def record(self, action: str, action_detail: str, now: float) -> None:
        """Note a change as get/ reports it in `audience_history`."""
        self.updated_at = now
        self.history.append(
            {
                "action": action,
                "action_detail": action_detail,
                "editor": API_EDITOR,
                "msg": "",
                "opt_time": tiktok_time(now),
            }
        )


class AudienceBook:
    """All audiences and uploaded files, keyed by id."""

    def __init__(self) -> None:
        self.files: dict[str, UploadedFile] = {}
        self.audiences: dict[str, Audience] = {}
        self._ids = itertools.count(1)

    def new_audience_id(self) -> str:
        # TikTok's ids are long decimal strings; a counter keeps test output readable.
        return str(7_000_000_000 + next(self._ids))

    def new_file_path(self, advertiser_id: str) -> str:
        return f"dmp_upload/{advertiser_id}/{next(self._ids):08d}.txt"

    def count_for(self, advertiser_id: str) -> int:
        return sum(1 for a in self.audiences.values() if a.advertiser_id == advertiser_id)

    def check_cap(self, advertiser_id: str, cap: int) -> None:
        """TikTok keeps at most `cap` (400) custom audiences per advertiser."""
        if self.count_for(advertiser_id) >= cap:
            raise ApiError(
                40002,
                f"Audience limit reached: an advertiser can have at most {cap} custom audiences.",
            )

    def add(self, audience: Audience) -> Audience:
        audience.record("CREATE", f"Created with {audience.cover_num} users.", audience.created_at)
        self.audiences[audience.audience_id] = audience
        return audience

    def members(self, audience_id: str) -> frozenset[str]:
        """The hashes (lower case) of one audience's users; a KeyError names an unknown id."""
        audience = self.audiences.get(audience_id)
        if audience is None:
            raise KeyError(f"no audience {audience_id!r} in the emulator")
        return frozenset(audience.members)

    def find(self, advertiser_ids: str | list[str], audience_id: object) -> Audience:
        """The audience `audience_id` of one of `advertiser_ids`, else TikTok's 40007."""
        owners = [advertiser_ids] if isinstance(advertiser_ids, str) else advertiser_ids
        audience = self.audiences.get(str(audience_id))
        if audience is None or audience.advertiser_id not in owners:
            raise ApiError(40007, f"Custom audience does not exist: {audience_id}.")
        return audience

    def find_file(self, advertiser_id: str, index: int, file_path: object) -> UploadedFile:
        uploaded = self.files.get(file_path) if isinstance(file_path, str) else None
        if uploaded is None or uploaded.advertiser_id != advertiser_id:
            raise ApiError(
                40002, f"Invalid value for file_paths.{index}: file {file_path} does not exist."
            )
        return uploaded

    def clear(self) -> None:
        self.files.clear()
        self.audiences.clear()
