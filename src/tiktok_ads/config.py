"""Settings, read from the environment (names fixed by docs/design.md §2)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_BASE_URL = "https://business-api.tiktok.com/open_api"
DEFAULT_DATABASE_URL = "sqlite:///./tiktok-ads.db"


class Settings(BaseSettings):
    """Every knob of the service; each field is the lower-cased name of its env var."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL

    # The default connection (the seed's config block).
    tiktok_pixel_id: str | None = None
    tiktok_access_token: str | None = Field(default=None, repr=False)
    tiktok_advertiser_id: str | None = None
    tiktok_test_mode: bool = False
    tiktok_test_event_code: str | None = None

    # The seed's `events` switches.
    tiktok_track_purchases: bool = True
    tiktok_track_add_to_cart: bool = True
    tiktok_track_checkout: bool = True
    tiktok_track_registrations: bool = True

    tiktok_api_base_url: str = DEFAULT_API_BASE_URL
    tiktok_ads_api_key: str | None = Field(default=None, repr=False)
    tiktok_ads_secret_key: str | None = Field(default=None, repr=False)

    tiktok_batch_size: int = Field(default=1000, ge=1, le=1000)
    tiktok_batch_linger_ms: int = Field(default=1000, ge=0)
    tiktok_rate_limit_rps: float = Field(default=10.0, gt=0)
    tiktok_daily_event_limit: int = Field(default=50_000, ge=1)
    tiktok_default_phone_region: str | None = None
    tiktok_attribution_window_days: int = Field(default=28, ge=1, le=90)

    # Events without a (valid) context.page_url get this page.url when set; TikTok accepts web
    # events without one, so unset they are sent without a page.
    tiktok_default_page_url: str | None = None
    # true: an invalid personal identifier or context detail refuses the event (40003 / 40002)
    # instead of being dropped with a warning; for shops checking their integration.
    tiktok_ads_strict_user_data: bool = False

    tiktok_ads_max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    # How long IP address and user agent stay after an event is settled (delivered/failed).
    tiktok_ads_pii_retention_hours: float = Field(default=72.0, ge=0)
    # Settled events (delivered, failed, skipped) and delivery-log rows are deleted after this
    # many days; /stats keeps their totals.
    tiktok_ads_event_retention_days: int = Field(default=90, ge=1)
    # A claimed batch not settled within this many seconds is taken up again (crashed worker).
    tiktok_ads_claim_lease_seconds: float = Field(default=120.0, gt=0)
    tiktok_request_timeout_seconds: float = Field(default=20.0, gt=0)
    tiktok_max_in_flight: int = Field(default=4, ge=1, le=64)
    # How often a worker looks at the queue when nothing in its own process woke it (events
    # ingested by other processes, retries coming due).
    tiktok_ads_poll_ms: int = Field(default=250, ge=10, le=60_000)
    # Ingest backpressure: above this many events waiting for the group commit, answer 429.
    tiktok_ads_max_pending_events: int = Field(default=50_000, ge=1000)
    # Callers waiting at once for TikTok's verdict (POST /events?wait=S); past it, answer 429.
    tiktok_ads_max_waiters: int = Field(default=1000, ge=1)
    tiktok_ads_log_level: str = "INFO"

    # Audiences: calls go with the advertiser's Marketing API token (POST /connect's
    # marketing_access_token wins; else this; else the connection's access token).
    tiktok_marketing_access_token: str | None = Field(default=None, repr=False)
    # Uploaded customer lists (CSV) are streamed; a 1,000,000-row list is about 60 MB.
    tiktok_ads_max_upload_bytes: int = Field(default=200 * 1024 * 1024, ge=1024)
    # Processes hashing big uploads (phone numbers are slow to parse); 0: in the server.
    tiktok_audience_hash_workers: int = Field(default=2, ge=0, le=32)
    # Customer files are split at this size (TikTok takes at most 50 MB per file).
    tiktok_audience_file_max_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024
    )
    # Rule audiences (segments from tracked events) are computed again this often.
    tiktok_audience_refresh_minutes: float = Field(default=60.0, gt=0)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """The database file of a sqlite:/// URL (None for memory or other databases)."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split("///", 1)[-1].split("?", 1)[0]
        if not path or path == ":memory:":
            return None
        return Path(path)

    def tracking_switches(self) -> dict[str, bool]:
        return {
            "purchases": self.tiktok_track_purchases,
            "add_to_cart": self.tiktok_track_add_to_cart,
            "checkout": self.tiktok_track_checkout,
            "registrations": self.tiktok_track_registrations,
        }
