"""What an event is once accepted: statuses, priorities and the rows the store hands back."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple


class Status(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    FAILED = "failed"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"


READY_STATUSES = (Status.QUEUED.value, Status.RETRYING.value)
SETTLED_STATUSES = (Status.DELIVERED.value, Status.FAILED.value, Status.SKIPPED.value)

# TikTok deduplicates the same pixel + event + event_id for 48 hours; we mirror it locally and
# must land every retry inside it.
DEDUP_WINDOW_SECONDS = 48 * 3600

# TikTok's standard web events (tiktok-api.md §2); any other name is a custom event.
STANDARD_EVENT_NAMES: frozenset[str] = frozenset({
    "AddPaymentInfo", "AddToCart", "AddToWishlist", "ApplicationApproval", "ClickButton",
    "CompletePayment", "CompleteRegistration", "Contact", "CustomizeProduct", "Download",
    "FindLocation", "InitiateCheckout", "Lead", "PlaceAnOrder", "Purchase", "Schedule", "Search",
    "StartTrial", "SubmitApplication", "SubmitForm", "Subscribe", "ViewContent",
})  # fmt: skip

# Lower sends first when the daily cap is near: money first, page views last.
_PRIORITY = {
    "CompletePayment": 0,
    "Purchase": 0,
    "PlaceAnOrder": 0,
    "CompleteRegistration": 1,
    "Subscribe": 1,
    "InitiateCheckout": 2,
    "AddPaymentInfo": 2,
    "AddToCart": 3,
    "ViewContent": 5,
}
DEFAULT_PRIORITY = 4


def event_priority(event_name: str) -> int:
    return _PRIORITY.get(event_name, DEFAULT_PRIORITY)


@dataclass(slots=True, init=False)
class NewEvent:
    """An accepted event on its way into the store (personal data already hashed).

    `__init__` is written out: compiled, it is a native constructor (~0.1 µs); the one
    `dataclass` generates is interpreted (~0.9 µs), and one is made per event.
    """

    pixel_id: str
    event_name: str
    event_id: str
    event_time: int
    status: str  # queued or skipped
    payload: dict[str, Any] | None
    ip: str | None
    user_agent: str | None
    match_keys: str
    identity_hashes: tuple[str, ...]
    has_ttclid: bool
    has_ttp: bool
    value: float | None
    currency: str | None
    skip_reason: str | None
    event_id_generated: bool  # no event_id from the shop: the pixel cannot share it

    def __init__(
        self,
        pixel_id: str,
        event_name: str,
        event_id: str,
        event_time: int,
        status: str,
        payload: dict[str, Any] | None,
        ip: str | None,
        user_agent: str | None,
        match_keys: str,
        identity_hashes: tuple[str, ...],
        has_ttclid: bool,
        has_ttp: bool,
        value: float | None,
        currency: str | None,
        skip_reason: str | None = None,
        event_id_generated: bool = False,
    ) -> None:
        self.pixel_id = pixel_id
        self.event_name = event_name
        self.event_id = event_id
        self.event_time = event_time
        self.status = status
        self.payload = payload
        self.ip = ip
        self.user_agent = user_agent
        self.match_keys = match_keys
        self.identity_hashes = identity_hashes
        self.has_ttclid = has_ttclid
        self.has_ttp = has_ttp
        self.value = value
        self.currency = currency
        self.skip_reason = skip_reason
        self.event_id_generated = event_id_generated

    @property
    def priority(self) -> int:
        return event_priority(self.event_name)


class IngestOutcome(NamedTuple):
    """What became of one NewEvent: its row id (None for a duplicate) and status."""

    pk: int | None
    status: str


class ClaimedEvent(NamedTuple):
    """A row claimed for sending (a named tuple: 1,000 are made per batch)."""

    pk: int
    event_id: str
    event_name: str
    payload: str
    user_last: bool  # the payload has `user` last (domain.tiktok_item)
    ip: str | None
    user_agent: str | None
    attempts: int
    received_at: float
    deadline_at: float  # retries stop here (TikTok's deduplication window)
