"""Request and response shapes, for the OpenAPI document (validation lives in domain.inbound)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class UserIn(BaseModel):
    email: str | list[str] | None = Field(None, description="Raw or SHA-256 hex; hashed here")
    phone: str | list[str] | None = Field(
        None, description="E.164, or national with TIKTOK_DEFAULT_PHONE_REGION; hashed here"
    )
    external_id: str | list[str] | None = Field(None, description="Your user id; hashed here")
    ttclid: str | None = Field(None, description="TikTok click id (else taken from page_url)")
    ttp: str | None = Field(None, description="The _ttp cookie")
    first_name: str | None = None
    last_name: str | None = None
    zip_code: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    locale: str | None = None


class ContentIn(BaseModel):
    content_id: str | int
    content_name: str | None = None
    content_category: str | None = None
    quantity: int | None = Field(None, ge=1)
    price: float | None = Field(None, ge=0)
    brand: str | None = None


class PropertiesIn(BaseModel):
    value: float | None = Field(None, ge=0)
    currency: str | None = Field(None, description="ISO 4217, from TikTok's list")
    content_type: Literal["product", "product_group"] | None = None
    contents: list[ContentIn] | None = None
    order_id: str | int | None = None
    query: str | None = None
    description: str | None = None


class ContextIn(BaseModel):
    page_url: str | None = Field(
        None, description="Absolute http(s) URL; anything else is left out with a warning"
    )
    referrer: str | None = Field(None, description="Absolute http(s) URL, as page_url")
    user_agent: str | None = None
    ip: str | None = None
    locale: str | None = None
    ttclid: str | None = None
    ttp: str | None = None


class ConsentModeIn(BaseModel):
    ad_storage: Literal["granted", "denied"] | None = None
    ad_user_data: Literal["granted", "denied"] | None = None


class EventIn(BaseModel):
    event_type: str = Field(description="CompletePayment, AddToCart, ... or a custom name")
    event_time: int | str | None = Field(
        None, description="Unix seconds, 13-digit milliseconds or ISO-8601; default: receipt"
    )
    event_id: str | int | None = Field(
        None, description="Share it with the Pixel; generated if absent"
    )
    pixel_id: str | None = Field(None, description="Default connection when absent")
    user: UserIn | None = None
    properties: PropertiesIn | None = None
    context: ContextIn | None = None
    limited_data_use: bool | None = None
    consent: bool | ConsentModeIn | None = Field(
        None, description="false or a denied Consent Mode key: stored as skipped, never sent"
    )


class BatchIn(BaseModel):
    events: list[EventIn] = Field(min_length=1, max_length=1000)


class ConnectIn(BaseModel):
    pixel_id: str
    access_token: str = Field(description="Events API token; stored encrypted, never returned")
    advertiser_id: str | None = None
    test_mode: bool = False
    test_event_code: str | None = None
    default: bool = Field(False, description="Make this the connection for events without pixel_id")
    marketing_access_token: str | None = Field(
        None, description="Marketing API token for audience calls; encrypted, never returned"
    )


class RuleIn(BaseModel):
    """A segment from tracked events: people with `min_count` events of `event_type` (worth
    `min_value` together, with these contents) in `within_days`, and none of
    `without_event_type`."""

    model_config = ConfigDict(extra="forbid")
    event_type: str = Field(max_length=100, examples=["CompletePayment"])
    min_count: int = Field(1, ge=1, le=1_000_000)
    min_value: float | None = Field(None, ge=0, description="Sum of the events' values")
    within_days: int | None = Field(
        None, ge=1, description="At most TIKTOK_ADS_EVENT_RETENTION_DAYS (the default)"
    )
    content_ids: list[str] | None = Field(None, min_length=1, max_length=100)
    content_category: str | None = Field(None, max_length=128)
    without_event_type: str | None = Field(None, max_length=100, examples=["CompletePayment"])
    pixel_id: str | None = Field(None, description="Default: every pixel of the advertiser")


class AudienceIn(BaseModel):
    advertiser_id: str = Field(description="An advertiser of one of the connections")
    custom_audience_name: str = Field(max_length=128, description="Unique per advertiser")
    audience_type: Literal["CUSTOMER_FILE"] = "CUSTOMER_FILE"
    rule: RuleIn | None = Field(None, description="A segment kept in sync with tracked events")


class EraseIn(BaseModel):
    """One or more identifiers of the person, raw or already SHA-256."""

    model_config = ConfigDict(extra="forbid")
    email: str | None = None
    phone: str | None = None
    external_id: str | None = None


class SyncIn(BaseModel):
    action: Literal["APPEND", "REMOVE", "REPLACE"]
    id_schema: list[Literal["EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256", "AAID_SHA256"]] = Field(
        min_length=1, max_length=4, description="Any case; each type once"
    )
    members: list[list[str | None]] = Field(
        description="Rows aligned with id_schema; raw (hashed here, as for events) or SHA-256 "
        'hex; "" or null is a missing id'
    )


class LookalikeIn(BaseModel):
    custom_audience_name: str = Field(max_length=128)
    audience_size: Literal["NARROW", "BALANCED", "BROAD"] = "BALANCED"
    location_ids: list[str] = Field(min_length=1, description="TikTok geo ids, e.g. 6252001")
    include_source: bool = False


class ApplyIn(BaseModel):
    adgroup_ids: list[str] = Field(min_length=1, max_length=100)
    action_mode: Literal["Apply", "Disconnect"] = "Apply"
    usage_mode: Literal["Include", "Exclude"] | None = Field(
        None, description="Required with Apply; Exclude makes an exclusion list"
    )


class SyncAccepted(BaseModel):
    success: bool
    id: str
    job_id: int
    status: Literal["queued"]
    action: str
    rows: int = Field(description="Rows read")
    accepted_ids: int = Field(description="Distinct ids stored for the job")
    invalid: int = Field(description="Invalid ids and malformed rows (never stored)")
    report: list[dict[str, Any]] = Field(description="The first 100: row, field, message")
    ignored_columns: list[str] = Field(description="CSV columns that are no audience id")


class JobQueued(BaseModel):
    success: bool
    id: str
    job_id: int
    status: str


class KeyIn(BaseModel):
    name: str = Field(description="Who the key is for (1-100 characters)")
    scopes: list[Literal["events", "admin"]] = Field(
        ["events"], description="events: send and read events; admin: also connect and keys"
    )
    pixel_ids: list[str] | None = Field(
        None,
        description="Limit the key to these pixels; null: every pixel (a key limited to some "
        "pixels makes keys for its own pixels only, by default all of them)",
    )


class RefreshQueued(BaseModel):
    success: bool
    id: str
    job_id: int
    status: Literal["queued"]
    segment: dict[str, Any] = Field(description="What the refresh found (people, keys, ids)")


class ErasureQueued(BaseModel):
    success: bool
    status: Literal["queued"]
    removed: dict[str, int] = Field(description="identifiers, events, click_ids, audiences")
    audience_jobs: list[dict[str, Any]] = Field(description="The REMOVE job of each audience")
    warnings: list[str]


class EventAccepted(BaseModel):
    success: bool
    event_id: str
    pixel_id: str | None = None
    status: Literal["queued", "duplicate", "skipped", "delivered", "failed", "sending", "retrying"]
    code: int
    message: str
    reason: str | None = None
    request_id: str | None = None
    warnings: list[dict[str, str]] | None = Field(
        None, description="Invalid optional details left out of the event: field and message"
    )


class BatchResult(BaseModel):
    index: int
    event_id: str | None
    status: Literal["queued", "duplicate", "skipped", "rejected"]
    errors: list[dict[str, str]] = []
    reason: str | None = None
    warnings: list[dict[str, str]] | None = Field(
        None, description="Invalid optional details left out of the event: field and message"
    )


class BatchAccepted(BaseModel):
    success: bool
    accepted: int
    rejected: int
    results: list[BatchResult]


class ErrorOut(BaseModel):
    success: Literal[False]
    code: int
    message: str
    errors: list[dict[str, str]]


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` declaring a JSON body we read ourselves (to cap and validate it our way)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }
    }


DOC_MODELS: list[type[BaseModel]] = [
    EventIn,
    BatchIn,
    ConnectIn,
    AudienceIn,
    SyncIn,
    LookalikeIn,
    ApplyIn,
    KeyIn,
]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No or wrong API key (code 40101)"},
    403: {
        "model": ErrorOut,
        "description": "The key lacks the right (40103), or is limited to other pixels (40103, "
        "naming pixel_id)",
    },
    413: {"model": ErrorOut, "description": "Body too large"},
    422: {"model": ErrorOut, "description": "Invalid input; `errors` names each field"},
    429: {"model": ErrorOut, "description": "Overloaded; see Retry-After (code 40100)"},
}
