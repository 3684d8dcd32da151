"""The snippet in real Chromium: a shop page on another origin loads it from `serve --sandbox`.

The service listens on http://127.0.0.1:P and the shop on http://localhost:Q (another origin):
the cookie must land on the shop's origin, the page must get ttclid/_ttp back, consent must
hold the cookie back, and no request may leave for anything but those two.
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.service.test_crash import BIN, free_port, wait_http

pytestmark = pytest.mark.slow

WINDOW_DAYS = 7  # not the default 28: proves the served script carries the setting
TTCLID = "E.C.P.xyz"
TTP = "2F7h37YkS1j57AYSKTI7IHhJPYH"
HEAD = {
    "plain": "",
    "flag": "<script>window.tiktokAdsConfig = {requireConsent: true};</script>",
    "consent-mode": (
        "<script>window.dataLayer = window.dataLayer || [];"
        "function gtag(){dataLayer.push(arguments);}"
        "gtag('consent', 'default', {ad_storage: 'denied', analytics_storage: 'granted'});"
        "</script>"
    ),
    # Whatever else a page may hold: a config of the wrong type, odd dataLayer entries, a
    # pixel whose methods throw.
    "hostile": (
        "<script>window.tiktokAdsConfig = 'yes';"
        "window.dataLayer = [null, 5, {0: 'consent'}, ['consent', 'update', null]];</script>"
    ),
}
# A stand-in for TikTok's pixel: records which consent methods the snippet mirrored.
FAKE_TTQ = (
    "<script>window.ttqCalls = []; window.ttq = {"
    "holdConsent: function () { ttqCalls.push('hold'); },"
    "grantConsent: function () { ttqCalls.push('grant'); },"
    "revokeConsent: function () { ttqCalls.push('revoke'); }};</script>"
)
# Shows what the snippet hands the page, for the screenshot.
SHOW = (
    "<pre id='out'></pre><script>document.getElementById('out').textContent = "
    "'tiktokAds.context() = ' + JSON.stringify(tiktokAds.context(), null, 2) + "
    "'\\n\\neventId(\"purchase\") = ' + tiktokAds.eventId('purchase');</script>"
)


def shop_page(kind: str, snippet_url: str, attribute: str = "") -> bytes:
    return (
        "<!doctype html><html><head><title>Ticket shop</title>"
        "<script>window.namesBefore = Object.getOwnPropertyNames(window);</script>"
        f"{HEAD[kind]}{FAKE_TTQ}<script src='{snippet_url}'{attribute}></script></head>"
        f"<body><h1>Ticket shop: {kind}</h1>{SHOW}</body></html>"
    ).encode()


def browser_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI must run the browser tests, but no chromium is installed")
        pytest.skip("no Chromium installed (apt-get install chromium); CI runs these tests")
    return path


@dataclass
class Origins:
    service: str
    shop: str

    def foreign(self, urls: list[str]) -> list[str]:
        """The URLs that go anywhere but the shop and the service."""
        return [url for url in urls if not url.startswith((self.shop + "/", self.service + "/"))]


@pytest.fixture(scope="module")
def origins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Origins]:
    """`serve --sandbox` on 127.0.0.1 and a tiny shop on localhost, each on its own port."""
    browser_path()
    folder = tmp_path_factory.mktemp("snippet")
    port, shop_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder}/snippet.db",
        "TIKTOK_ATTRIBUTION_WINDOW_DAYS": str(WINDOW_DAYS),
    }
    serve = subprocess.Popen(
        [str(BIN), "serve", "--sandbox", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    service = f"http://127.0.0.1:{port}"
    snippet_url = f"{service}/tiktok-ads.js"

    class Shop(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = self.path.split("?", 1)[0].strip("/")
            kind, _, variant = name.partition(".")
            if kind not in HEAD:
                self.send_error(404)
                return
            attribute = " data-require-consent" if variant == "attribute" else ""
            body = shop_page(kind, snippet_url, attribute)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    shop = http.server.ThreadingHTTPServer(("127.0.0.1", shop_port), Shop)
    threading.Thread(target=shop.serve_forever, daemon=True).start()
    try:
        wait_http(f"{service}/healthz")
        yield Origins(service, f"http://localhost:{shop_port}")
    finally:
        shop.shutdown()
        shop.server_close()
        serve.terminate()
        serve.wait(timeout=30)


@pytest.fixture(scope="module")
def browser(origins: Origins) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Chromium's sandbox needs user namespaces, which a root CI container lacks.
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        launched = playwright.chromium.launch(executable_path=browser_path(), args=args)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, origins: Origins) -> Iterator[Any]:
    """A fresh browser context (no cookies); its requests and page errors are recorded, and
    afterwards there must be no error and no request to any other origin."""
    context = browser.new_context()
    page = context.new_page()
    page.requested = []
    errors: list[str] = []
    page.on("request", lambda request: page.requested.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert ([], []) == (errors, origins.foreign(page.requested))


def cookie(page: Any, url: str, name: str) -> dict[str, Any] | None:
    return next((c for c in page.context.cookies(url) if c["name"] == name), None)


def test_a_landing_page_keeps_ttclid_for_the_window_and_hands_it_over(
    page: Any, origins: Origins, tmp_path: Path
) -> None:
    """ttclid in a first-party Lax cookie for 7 days; ttclid(), ttp() and context() answer."""
    page.context.add_cookies([{"name": "_ttp", "value": TTP, "url": origins.shop}])
    url = f"{origins.shop}/plain?ttclid={TTCLID}"
    page.goto(url)
    stored = cookie(page, origins.shop, "ttclid")
    assert stored is not None
    expected = {"value": TTCLID, "path": "/", "sameSite": "Lax", "secure": False, "httpOnly": False}
    assert expected == {key: stored[key] for key in expected}
    assert abs(time.time() + WINDOW_DAYS * 86400 - stored["expires"]) < 120
    assert None is cookie(page, origins.service, "ttclid")  # the shop's cookie, not ours
    assert [TTCLID, TTP] == page.evaluate("[tiktokAds.ttclid(), tiktokAds.ttp()]")
    context = page.evaluate("tiktokAds.context()")
    user_agent = page.evaluate("navigator.userAgent")
    assert {"ttclid": TTCLID, "ttp": TTP, "page_url": url, "user_agent": user_agent} == context
    page.goto(f"{origins.shop}/plain")  # a later page of the shop, without ttclid
    assert TTCLID == page.evaluate("tiktokAds.ttclid()")
    added = page.evaluate(
        "Object.getOwnPropertyNames(window).filter(n => !namesBefore.includes(n))"
    )
    assert ["tiktokAds"] == [
        name for name in added if name not in ("namesBefore", "ttqCalls", "ttq")
    ]
    assert f"{origins.service}/tiktok-ads.js" in page.requested
    assert [] == origins.foreign(page.requested)
    shot = tmp_path / "snippet-shop-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 0


def test_event_ids_are_distinct_and_carry_the_prefix(page: Any, origins: Origins) -> None:
    """eventId('purchase') twice: two ids, each `purchase_…`, short enough for the service."""
    page.goto(f"{origins.shop}/plain")
    ids = page.evaluate("[tiktokAds.eventId('purchase'), tiktokAds.eventId('purchase')]")
    assert 2 == len(set(ids))
    assert all(i.startswith("purchase_") and len(i) <= 128 for i in ids), ids


@pytest.mark.parametrize("kind", ["flag", "plain.attribute"])
def test_withheld_consent_writes_no_cookie_until_granted(
    page: Any, origins: Origins, kind: str
) -> None:
    """requireConsent (config or data attribute): no cookie; grantConsent stores it; revoke
    deletes it; the pixel's own consent methods are called alike."""
    page.goto(f"{origins.shop}/{kind}?ttclid={TTCLID}")
    assert None is cookie(page, origins.shop, "ttclid")
    assert False is page.evaluate("tiktokAds.consented()")
    page.evaluate("tiktokAds.grantConsent()")
    assert TTCLID == (cookie(page, origins.shop, "ttclid") or {}).get("value")
    page.evaluate("tiktokAds.revokeConsent()")
    assert None is cookie(page, origins.shop, "ttclid")
    assert ["grant", "revoke"] == page.evaluate("ttqCalls")


def test_google_consent_mode_ad_storage_decides(page: Any, origins: Origins) -> None:
    """ad_storage denied by default: no cookie; a Consent Mode update to granted stores it."""
    page.goto(f"{origins.shop}/consent-mode?ttclid={TTCLID}")
    assert None is cookie(page, origins.shop, "ttclid")
    page.evaluate("gtag('consent', 'update', {ad_storage: 'granted'})")
    assert TTCLID == page.evaluate("tiktokAds.ttclid()")
    assert TTCLID == (cookie(page, origins.shop, "ttclid") or {}).get("value")


def test_it_never_throws_whatever_the_page_holds(page: Any, origins: Origins) -> None:
    """Odd config, odd dataLayer, a throwing pixel, odd arguments: answers, no page error."""
    page.goto(f"{origins.shop}/hostile?ttclid=%E0%A4%A")  # a broken escape: no click id
    page.evaluate(
        "() => { ttq.grantConsent = ttq.revokeConsent = () => { throw new Error('pixel'); }; }"
    )
    answers = page.evaluate(
        """[tiktokAds.ttclid(), tiktokAds.eventId(42).indexOf('event_'), tiktokAds.consented(),
            tiktokAds.grantConsent(), tiktokAds.revokeConsent(), tiktokAds.holdConsent(),
            typeof tiktokAds.context()]"""
    )
    assert [None, 0, True, None, None, None, "object"] == answers
