"""The real service, wired by bootstrap, delivering to the emulator over an ASGI transport."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tiktok_ads.adapters.clock import FrozenClock
from tiktok_ads.adapters.store import SqlStore
from tiktok_ads.bootstrap import Container, build_admin
from tiktok_ads.config import Settings
from tiktok_ads.domain.retry import RetryPolicy
from tiktok_ads.emulator import EmulatorState
from tiktok_ads.emulator import create_app as create_emulator
from tiktok_ads.entrypoints.api.app import PREFIX, create_app

PIXEL = "CPIXELTEST0000000001"
TOKEN = "0123456789abcdef0123456789abcdef01234567"
API_KEY = "test-admin-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
# Fast retries so tests see a retried batch delivered within a fraction of a second.
FAST_RETRY = RetryPolicy(base_seconds=0.02, cap_seconds=0.1)


@dataclass
class Service:
    container: Container
    http: httpx.AsyncClient
    tiktok: EmulatorState
    emulator_app: Any
    lifespan: contextlib.AbstractAsyncContextManager[None]
    app: Any = None
    running: bool = True

    def client(self) -> httpx.AsyncClient:
        """Another HTTP client of the same service (its own cookies: another browser)."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://svc")

    async def stop(self) -> None:
        """Shut the service down as SIGTERM would (idempotent)."""
        if self.running:
            self.running = False
            await self.http.aclose()
            await self.lifespan.__aexit__(None, None, None)

    async def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        headers = kw.pop("headers", AUTH)
        return await self.http.post(PREFIX + path, json=json, headers=headers, **kw)

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        headers = kw.pop("headers", AUTH)
        return await self.http.get(PREFIX + path, headers=headers, **kw)

    async def settle(self, within: float = 10.0) -> None:
        """Wait until nothing is queued, retrying or in flight (the dispatcher runs meanwhile)."""
        import asyncio

        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            if not await self.container.store.queue_depth():
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"queue not drained: {await self.container.store.queue_depth()}")

    def sent_counts(self) -> Counter[str]:
        """How often TikTok received each event_id: every item of every request, so a double
        send shows (TikTok's own store would hide it by deduplicating)."""
        counts: Counter[str] = Counter()
        for request in self.tiktok.requests:
            if request.path.startswith("/open_api/v1.3/event/track") and request.json:
                counts.update(item["event_id"] for item in request.json.get("data", []))
        return counts


ServiceFactory = Callable[..., Any]


@pytest.fixture
async def make_service(tmp_path: Path) -> AsyncIterator[ServiceFactory]:
    started: list[Service] = []

    async def factory(
        db_url: str | None = None,
        emulator: Any = None,
        *,
        clock: FrozenClock | None = None,
        policy: RetryPolicy = FAST_RETRY,
        transport: httpx.AsyncBaseTransport | None = None,
        store_class: type[SqlStore] = SqlStore,
        run_dispatcher: bool = True,
        **overrides: Any,
    ) -> Service:
        """The service as bootstrap wires it; `transport` stands in for TikTok (default: the
        emulator), `store_class` may subclass the real store, `clock` a FrozenClock."""
        state = EmulatorState(clock=clock.now) if clock else None
        emulator = emulator or create_emulator(state=state)
        settings = Settings(
            database_url=db_url or f"sqlite:///{tmp_path}/svc-{len(started)}.db",
            tiktok_pixel_id=PIXEL,
            tiktok_access_token=overrides.pop("tiktok_access_token", TOKEN),
            tiktok_ads_api_key=API_KEY,
            tiktok_ads_secret_key="test-secret",
            tiktok_api_base_url="http://tiktok.test/open_api",
            tiktok_batch_linger_ms=overrides.pop("tiktok_batch_linger_ms", 0),
            tiktok_rate_limit_rps=overrides.pop("tiktok_rate_limit_rps", 1000),
            **overrides,
        )
        # `tiktok-ads migrate` first (serve does it itself on SQLite, not on PostgreSQL) ...
        tools = build_admin(settings)
        await tools.migrate()
        await tools.close()
        # ... then the app exactly as `serve` builds and starts it.
        app = create_app(
            settings,
            clock=clock,
            tiktok_transport=transport or httpx.ASGITransport(app=emulator),
            policy=policy,
            store=store_class(settings.database_url),
            run_dispatcher=run_dispatcher,
        )
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")
        service = Service(
            app.state.container, http, emulator.state.emulator, emulator, lifespan, app
        )
        started.append(service)
        return service

    yield factory
    for service in started:
        await service.stop()


@pytest.fixture
async def service(make_service: ServiceFactory) -> Service:
    return await make_service()  # type: ignore[no-any-return]


SEED_EVENT: dict[str, Any] = {
    "event_type": "CompletePayment",
    "event_id": "order_123",
    "user": {"email": "customer@example.com", "phone": "+40721234567", "external_id": "user_456"},
    "properties": {
        "value": 150.00,
        "currency": "EUR",
        "content_type": "product",
        "contents": [
            {
                "content_id": "ticket_789",
                "content_name": "Concert VIP Pass",
                "quantity": 2,
                "price": 75.00,
            }
        ],
    },
    "context": {
        "page_url": "https://shop.example/checkout/complete?ttclid=E.C.P.abc",
        "user_agent": "Mozilla/5.0",
        "ip": "203.0.113.7",
    },
}
