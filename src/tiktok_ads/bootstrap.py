"""The one place that builds and wires everything. Nothing here runs at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from tiktok_ads.adapters.clock import SystemClock
from tiktok_ads.adapters.crypto import SessionCipher, TokenCipher, load_or_create_secret
from tiktok_ads.adapters.metrics import Metrics
from tiktok_ads.adapters.row_hashing import PooledRowHasher
from tiktok_ads.adapters.store import SqlStore
from tiktok_ads.adapters.tiktok_audiences import TikTokAudienceClient
from tiktok_ads.adapters.tiktok_client import TikTokClient
from tiktok_ads.config import Settings
from tiktok_ads.domain.inbound import IngestRules
from tiktok_ads.domain.retry import RetryPolicy
from tiktok_ads.errors import ConfigurationError, ValidationFailed
from tiktok_ads.services.api_keys import ApiKeys
from tiktok_ads.services.audience_runner import AudienceRunner, RunnerConfig
from tiktok_ads.services.audience_staging import Stager
from tiktok_ads.services.audiences import AudienceService
from tiktok_ads.services.connections import ConnectionService
from tiktok_ads.services.dispatch import DispatchConfig, Dispatcher
from tiktok_ads.services.erasure import ErasureService
from tiktok_ads.services.event_history import EventHistory
from tiktok_ads.services.ingest import IngestService
from tiktok_ads.services.insights import Insights
from tiktok_ads.services.maintenance import Maintenance, MaintenanceConfig
from tiktok_ads.services.periodic import PeriodicTasks
from tiktok_ads.services.ports import Clock
from tiktok_ads.services.queries import Queries
from tiktok_ads.services.replay import Replays
from tiktok_ads.services.segments import SegmentRefresher
from tiktok_ads.services.verdicts import Verdicts

log = logging.getLogger(__name__)

SANDBOX_PIXEL_ID = "CSANDBOX0000000000PX"
SANDBOX_ACCESS_TOKEN = "5a4d0b0c" * 5  # 40 hex characters, like a real Events API token
SANDBOX_API_KEY = "sandbox-key"
SANDBOX_TEST_EVENT_CODE = "TEST00000"


@dataclass
class Container:
    settings: Settings
    store: SqlStore
    clock: Clock
    metrics: Metrics
    client: TikTokClient
    connections: ConnectionService
    keys: ApiKeys
    ingest: IngestService
    dispatcher: Dispatcher
    queries: Queries
    replays: Replays
    verdicts: Verdicts
    periodic: PeriodicTasks  # the worker's housekeeping, beside the dispatcher
    insights: Insights  # the console's reports and GET /funnel
    history: EventHistory  # the console's error log and event lifecycles
    sessions: SessionCipher  # the console's login sessions
    audiences: AudienceService
    audience_runner: AudienceRunner  # audience jobs, beside the dispatcher
    erasure: ErasureService
    row_hasher: PooledRowHasher
    emulator_app: Any = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _worker_tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self, *, run_dispatcher: bool = True) -> None:
        if self.settings.is_sqlite:
            await self.store.migrate()
        elif not await self.store.schema_is_current():
            raise ConfigurationError("the database schema is not current: run `tiktok-ads migrate`")
        await self.ensure_default_connection()
        await self.ingest.start()
        self.verdicts.local_dispatcher = run_dispatcher
        if run_dispatcher:
            self._stop.clear()
            self._worker_tasks = [
                asyncio.create_task(self.dispatcher.run(self._stop), name="dispatch"),
                asyncio.create_task(self.periodic.run(self._stop), name="periodic-tasks"),
                asyncio.create_task(self.audience_runner.run(self._stop), name="audience-jobs"),
            ]

    async def ensure_default_connection(self) -> None:
        s = self.settings
        if s.tiktok_pixel_id and s.tiktok_access_token:
            try:
                outcome = await self.connections.adopt_environment(
                    pixel_id=s.tiktok_pixel_id,
                    access_token=s.tiktok_access_token,
                    advertiser_id=s.tiktok_advertiser_id,
                    test_mode=s.tiktok_test_mode,
                    test_event_code=s.tiktok_test_event_code,
                )
            except ValidationFailed as exc:
                names = ", ".join(f"TIKTOK_{e.field.upper()}: {e.message}" for e in exc.errors)
                raise ConfigurationError(f"the default connection is invalid: {names}") from exc
            log.info("connection of TIKTOK_PIXEL_ID %s: %s", s.tiktok_pixel_id, outcome)

    async def stop(self) -> None:
        """Stop taking work, settle or release what is in flight, close everything."""
        self._stop.set()
        for task in self._worker_tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=30)
        self._worker_tasks = []
        await self.verdicts.close()
        self.row_hasher.close()
        await self.ingest.stop()
        await self.client.aclose()
        await self.store.close()


def sandbox_settings(settings: Settings) -> Settings:
    """`--sandbox`: a default pixel, token and API key that only the built-in emulator knows."""
    updates: dict[str, Any] = {}
    if not settings.tiktok_pixel_id:
        updates.update(tiktok_pixel_id=SANDBOX_PIXEL_ID, tiktok_access_token=SANDBOX_ACCESS_TOKEN)
    if not settings.tiktok_ads_api_key:
        updates["tiktok_ads_api_key"] = SANDBOX_API_KEY
    return settings.model_copy(update=updates)


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    tiktok_transport: httpx.AsyncBaseTransport | None = None,
    sandbox: bool = False,
    policy: RetryPolicy | None = None,
    store: SqlStore | None = None,
) -> Container:
    clock = clock or SystemClock()
    policy = policy or RetryPolicy()
    emulator_app = None
    if sandbox:
        from tiktok_ads.emulator import EmulatorConfig
        from tiktok_ads.emulator import create_app as create_emulator

        settings = sandbox_settings(settings)
        # TIKTOK_EMULATOR_* (limits, memory caps) shape the sandbox's TikTok too.
        emulator_app = create_emulator(EmulatorConfig.from_env())
        tiktok_transport = httpx.ASGITransport(app=emulator_app)
        settings = settings.model_copy(update={"tiktok_api_base_url": "http://emulator/open_api"})
    store = store or SqlStore(settings.database_url)
    secret = load_or_create_secret(settings.tiktok_ads_secret_key, settings.sqlite_path())
    cipher = TokenCipher(secret)
    metrics = Metrics()
    client = TikTokClient(
        settings.tiktok_api_base_url,
        timeout_s=settings.tiktok_request_timeout_seconds,
        transport=tiktok_transport,
    )
    connections = ConnectionService(
        store, cipher, clock, marketing_access_token=settings.tiktok_marketing_access_token
    )
    rules = IngestRules(
        default_phone_region=settings.tiktok_default_phone_region,
        attribution_window_days=settings.tiktok_attribution_window_days,
        strict_user_data=settings.tiktok_ads_strict_user_data,
    )
    ingest = IngestService(
        store=store,
        connections=connections,
        clock=clock,
        rules=rules,
        switches=settings.tracking_switches(),
        metrics=metrics,
        max_pending=settings.tiktok_ads_max_pending_events,
        default_page_url=settings.tiktok_default_page_url,
    )
    verdicts = Verdicts(store, max_waiters=settings.tiktok_ads_max_waiters)
    dispatcher = Dispatcher(
        store=store,
        client=client,
        connections=connections,
        clock=clock,
        metrics=metrics,
        config=DispatchConfig(
            batch_size=settings.tiktok_batch_size,
            linger_s=settings.tiktok_batch_linger_ms / 1000,
            rps=settings.tiktok_rate_limit_rps,
            daily_limit=settings.tiktok_daily_event_limit,
            max_in_flight=settings.tiktok_max_in_flight,
            lease_s=settings.tiktok_ads_claim_lease_seconds,
            poll_s=settings.tiktok_ads_poll_ms / 1000,
        ),
        policy=policy,
        wake=ingest.written,
        verdicts=verdicts,
        committed=ingest.committed,
    )
    maintenance = Maintenance(
        store=store,
        connections=connections,
        metrics=metrics,
        verdicts=verdicts,
        policy=policy,
        config=MaintenanceConfig(
            pii_retention_s=settings.tiktok_ads_pii_retention_hours * 3600,
            attribution_window_s=settings.tiktok_attribution_window_days * 86400.0,
            event_retention_s=settings.tiktok_ads_event_retention_days * 86400.0,
        ),
    )
    audience_wake = asyncio.Event()
    row_hasher = PooledRowHasher(settings.tiktok_audience_hash_workers)
    stager = Stager(
        store=store,
        hasher=row_hasher,
        clock=clock,
        phone_region=settings.tiktok_default_phone_region,
        wake=audience_wake,
        in_flight=2 * max(1, settings.tiktok_audience_hash_workers) + 1,
    )
    audience_runner = AudienceRunner(
        store=store,
        tiktok=TikTokAudienceClient(client, max_file_bytes=settings.tiktok_audience_file_max_bytes),
        connections=connections,
        clock=clock,
        policy=policy,
        config=RunnerConfig(lease_s=settings.tiktok_ads_claim_lease_seconds),
        wake=audience_wake,
    )
    refresher = SegmentRefresher(
        store=store,
        connections=connections,
        clock=clock,
        wake=audience_wake,
        every_s=settings.tiktok_audience_refresh_minutes * 60,
    )
    audiences = AudienceService(
        store=store,
        connections=connections,
        stager=stager,
        refresher=refresher,
        clock=clock,
        wake=audience_wake,
        max_rule_days=settings.tiktok_ads_event_retention_days,
    )
    erasure = ErasureService(
        store=store,
        clock=clock,
        phone_region=settings.tiktok_default_phone_region,
        wake=audience_wake,
    )
    return Container(
        settings=settings,
        store=store,
        clock=clock,
        metrics=metrics,
        client=client,
        connections=connections,
        keys=ApiKeys(store, clock, settings.tiktok_ads_api_key),
        ingest=ingest,
        dispatcher=dispatcher,
        queries=Queries(store, clock, settings.tiktok_daily_event_limit),
        replays=Replays(store, clock, ingest.written),
        verdicts=verdicts,
        insights=Insights(store, clock),
        history=EventHistory(store),
        sessions=SessionCipher(secret),
        periodic=PeriodicTasks(
            clock, maintenance.tasks() + audience_runner.tasks() + refresher.tasks()
        ),
        audiences=audiences,
        audience_runner=audience_runner,
        erasure=erasure,
        row_hasher=row_hasher,
        emulator_app=emulator_app,
    )


@dataclass
class AdminTools:
    """What the one-shot CLI commands need: the store's schema, keys and reads; no TikTok."""

    settings: Settings
    store: SqlStore
    keys: ApiKeys
    queries: Queries

    async def migrate(self) -> None:
        await self.store.migrate()

    async def require_current_schema(self) -> None:
        if not await self.store.schema_is_current():
            raise ConfigurationError("the database schema is not current: run `tiktok-ads migrate`")

    async def close(self) -> None:
        await self.store.close()


def build_admin(settings: Settings) -> AdminTools:
    store = SqlStore(settings.database_url)
    return AdminTools(
        settings,
        store,
        ApiKeys(store, SystemClock(), settings.tiktok_ads_api_key),
        Queries(store, SystemClock(), settings.tiktok_daily_event_limit),
    )
