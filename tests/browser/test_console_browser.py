"""The console in real Chromium, against a real `serve --sandbox` process: login, the funnel's
counts, an error with TikTok's message replayed until delivered, nothing loaded from elsewhere.

Screenshots of every page go to docs/screenshots/latest/ (look at them)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).with_name("tiktok-ads")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "latest"
KEY = "sandbox-key"
PIXEL = "CSANDBOX0000000000PX"
API = "/api/integrations/tiktok-ads"
# TikTok names the event by its place in the batch.
REJECTED = re.compile(
    r"^Invalid value for data\.\d+\.event_id: order was cancelled at the box office\.$"
)


def chromium() -> str:
    """Debian's chromium; outside CI its absence skips these tests, in CI it fails them."""
    path = shutil.which("chromium")
    if path is None:
        message = "no `chromium` on PATH (apt-get install chromium)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must run the browser tests, but there is {message}")
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[str]:
    """`tiktok-ads serve --sandbox` on a free port; its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/console.db",
        "TIKTOK_BATCH_LINGER_MS": "0",
        "TIKTOK_RATE_LIMIT_RPS": "1000",
    }
    for name in ("TIKTOK_PIXEL_ID", "TIKTOK_ACCESS_TOKEN", "TIKTOK_ADS_API_KEY"):
        env.pop(name, None)
    cmd = [str(BIN), "serve", "--sandbox", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve --sandbox did not come up"
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def shop_event(kind: str, event_id: str | None, user: dict[str, str], **more: Any) -> Any:
    page = "https://tickets.example/e/summer-fest"
    context = {"page_url": page, "ip": "203.0.113.9", "user_agent": "Mozilla/5.0 (X11)"}
    event = {"event_type": kind, "user": user, "context": context, **more}
    if event_id is not None:
        event["event_id"] = event_id
    return event


def shop_events() -> list[dict[str, Any]]:
    """A day of a ticket shop: views, carts, checkouts and payments of overlapping people."""
    events = []
    for i in range(24):
        user = {"external_id": f"fan-{i % 15}"}
        if i % 3 == 0:
            user["email"] = f"fan{i}@example.com"
        event = shop_event("ViewContent", f"view-{i}", user)
        if i % 2:
            event["context"]["page_url"] += f"?ttclid=E.C.P.{i}"
        events.append(event)
    for i in range(9):
        user = {"external_id": f"fan-{i}", "email": f"fan{i}@example.com"}
        events.append(shop_event("AddToCart", f"cart-{i}", user))
    for i in range(5):  # no event_id: generated here, which the dedup audit shows
        events.append(shop_event("InitiateCheckout", None, {"external_id": f"fan-{i}"}))
    for i in range(3):
        user = {"external_id": f"fan-{i}", "email": f"fan{i}@example.com", "phone": "+40721234567"}
        paid = {"value": 120.0 + 30 * i, "currency": "EUR"}
        events.append(shop_event("CompletePayment", f"order-{i}", user, properties=paid))
    paid = {"value": 99.0, "currency": "EUR"}
    user = {"external_id": "fan-9"}
    events.append(shop_event("CompletePayment", "order-cancelled", user, properties=paid))
    events.append(shop_event("ViewContent", "view-no-consent", {}, consent=False))
    return events


def settle(http: httpx.Client) -> None:
    deadline = time.monotonic() + 20
    while http.get(f"{API}/stats").json()["queue_depth"]:
        assert time.monotonic() < deadline, "the queue did not drain"
        time.sleep(0.1)


def test_console_in_chromium(sandbox: str) -> None:
    """Login (wrong key refused), the funnel's counts, the failed event's TikTok message and
    its replay to delivered, the overview refreshing itself; every request stays on the
    service, and the pages carry the CSP."""
    executable = chromium()
    SHOTS.mkdir(parents=True, exist_ok=True)
    http = httpx.Client(base_url=sandbox, headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
    try:
        browse(sandbox, http, executable)
    finally:
        http.close()


def browse(sandbox: str, http: httpx.Client, executable: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    rule = {
        "reject_events": {"event_id": "order-cancelled"},
        "name_index": True,
        "problem": "order was cancelled at the box office.",
    }
    assert 200 == http.post("/sandbox/_emulator/faults", json=rule).status_code
    events = shop_events()
    sent = http.post(f"{API}/events/batch", json={"events": events}).json()
    assert 0 == sent["rejected"]
    settle(http)

    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.set_default_timeout(10_000)
        page.on("request", lambda request: requested.append(request.url))

        first = page.goto(sandbox + "/")
        assert first is not None
        assert "/console/login" == page.url.removeprefix(sandbox)
        page.fill("input[name=api_key]", "not-the-key")
        page.click("button[type=submit]")
        expect(page.locator(".alert")).to_have_text("That API key is not valid.")
        page.screenshot(path=str(SHOTS / "login.png"))
        page.fill("input[name=api_key]", KEY)
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("Overview")
        page.screenshot(path=str(SHOTS / "overview.png"), full_page=True)

        funnel = page.goto(sandbox + "/console/funnel")
        assert funnel is not None
        assert funnel.headers["content-security-policy"].startswith("default-src 'self'")
        rows = page.locator("table.table tbody tr")
        counts = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(4)]
        steps = ("ViewContent", "AddToCart", "InitiateCheckout", "CompletePayment")
        assert [str(sum(e["event_type"] == s for e in events)) for s in steps] == counts
        revenue = sum(e.get("properties", {}).get("value", 0) for e in events)
        expect(page.locator(".stat-value").first).to_have_text(f"{revenue:,.2f}")
        page.screenshot(path=str(SHOTS / "funnel.png"), full_page=True)

        page.goto(sandbox + "/console/quality")
        expect(page.locator("h1")).to_have_text("Match quality")
        page.screenshot(path=str(SHOTS / "match-quality.png"), full_page=True)

        page.goto(sandbox + "/console/errors")
        expect(page.locator("td.msg").last).to_have_text(REJECTED)
        page.screenshot(path=str(SHOTS / "errors.png"), full_page=True)
        http.delete("/sandbox/_emulator/faults")  # TikTok takes it now
        page.locator("form[action='/console/errors/replay'] button").first.click()
        expect(page.locator(".notice")).to_contain_text("order-cancelled is queued again")
        settle(http)
        assert "delivered" == http.get(f"{API}/events/order-cancelled").json()["status"]

        page.goto(sandbox + "/console/events?event_id=order-cancelled")
        expect(page.locator(".card .pill").first).to_have_text("delivered")
        page.screenshot(path=str(SHOTS / "events.png"), full_page=True)

        # Left open, the overview refreshes itself: a new event shows up without a reload.
        page.goto(sandbox + "/console")
        received = page.locator(".stat-value").first
        before = int(received.inner_text().replace(",", ""))
        http.post(f"{API}/events", json={"event_type": "ViewContent", "event_id": "late"})
        expect(received).to_have_text(f"{before + 1:,}", timeout=15_000)
        browser.close()

    strangers = sorted({url for url in requested if not url.startswith(sandbox + "/")})
    assert [] == strangers
    assert any(url.startswith(sandbox + "/console/static/") for url in requested)
