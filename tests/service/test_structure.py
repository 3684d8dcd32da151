"""The layers keep their direction, and the hot ingest routes stay inside the middleware."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tests.service.conftest import AUTH, PIXEL, TOKEN

from tiktok_ads.config import Settings
from tiktok_ads.emulator import create_app as create_emulator
from tiktok_ads.entrypoints.api.app import PREFIX, create_app

FORBIDDEN_IN_SERVICES = ("tiktok_ads.adapters", "tiktok_ads.entrypoints", "tiktok_ads.bootstrap")
PACKAGE = Path(__file__).resolve().parents[2] / "src" / "tiktok_ads"


def imported_modules(folder: str) -> dict[str, set[str]]:
    """Every tiktok_ads module imported by each file of a layer."""
    found: dict[str, set[str]] = {}
    for path in (PACKAGE / folder).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(path.relative_to(PACKAGE))] = {n for n in names if n.startswith("tiktok_ads")}
    return found


def test_services_depend_on_ports_not_adapters() -> None:
    """No service module imports an adapter or an entrypoint: bootstrap passes adapters in."""
    offenders = {
        path: sorted(
            m for m in modules if m.startswith(("tiktok_ads.adapters", "tiktok_ads.entry"))
        )
        for path, modules in imported_modules("services").items()
    }
    assert {} == {path: mods for path, mods in offenders.items() if mods}


def test_domain_imports_only_the_domain() -> None:
    """The domain is pure: it imports nothing from services, adapters or entrypoints."""
    allowed = ("tiktok_ads.domain", "tiktok_ads.errors")
    offenders = {
        path: sorted(m for m in modules if not m.startswith(allowed))
        for path, modules in imported_modules("domain").items()
    }
    assert {} == {path: mods for path, mods in offenders.items() if mods}


def test_routes_never_hold_the_store() -> None:
    """HTTP handlers read through the query service: no `.store` attribute in entrypoints."""
    uses = [
        str(path.relative_to(PACKAGE))
        for path in (PACKAGE / "entrypoints").rglob("*.py")
        if any(
            isinstance(node, ast.Attribute) and node.attr == "store"
            for node in ast.walk(ast.parse(path.read_text()))
        )
    ]
    assert [] == uses


def test_bootstrap_does_not_import_the_http_app() -> None:
    """bootstrap wires services; the app factory imports it, never the other way round."""
    code = (
        "import sys, tiktok_ads.bootstrap; "
        "print(sorted(m for m in sys.modules if m.startswith('tiktok_ads.entrypoints')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "[]" == out.stdout.strip()


def test_a_spawned_process_loads_no_cli_from_the_console_script(tmp_path: Path) -> None:
    """A spawned process (an upload's hashing worker) first runs the parent's `tiktok-ads`
    script again: the script's import must not bring the CLI and its libraries along."""
    pyproject = tomllib.loads((PACKAGE.parents[1] / "pyproject.toml").read_text())
    module, _, function = pyproject["project"]["scripts"]["tiktok-ads"].partition(":")
    script = tmp_path / "tiktok-ads"  # as installers write it, asking its worker what it loaded
    script.write_text(
        f"import sys\nfrom {module} import {function}\nif __name__ == '__main__':\n"
        "    import multiprocessing\n"
        "    with multiprocessing.get_context('spawn').Pool(1) as pool:\n"
        "        print(*pool.apply(eval, ('sorted(__import__(\"sys\").modules)',)))\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    loaded = out.stdout.split()
    heavy = ("click", "pydantic", "pydantic_settings", "httpx", "fastapi", "sqlalchemy")
    assert module in loaded
    assert [] == [m for m in loaded if m.split(".")[0] in heavy or m.endswith(".cli")]


class StampMiddleware:
    """A plain ASGI middleware that stamps every response with a header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-stamp", b"1")]
            await send(message)

        await self.app(scope, receive, stamped)


async def test_middleware_added_later_also_wraps_the_hot_ingest_routes(tmp_path: Path) -> None:
    """A middleware added with add_middleware covers POST /events and /events/batch too."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/mw.db",
        tiktok_pixel_id=PIXEL,
        tiktok_access_token=TOKEN,
        tiktok_ads_api_key=AUTH["Authorization"].split()[1],
        tiktok_ads_secret_key="s",
        tiktok_api_base_url="http://tiktok.test/open_api",
        tiktok_default_page_url="https://shop.example/",
    )
    app = create_app(
        settings,
        tiktok_transport=httpx.ASGITransport(app=create_emulator()),
        run_dispatcher=False,
    )
    app.add_middleware(StampMiddleware)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
            one = await http.post(
                PREFIX + "/events", json={"event_type": "ViewContent"}, headers=AUTH
            )
            batch = await http.post(
                PREFIX + "/events/batch",
                json={"events": [{"event_type": "ViewContent"}]},
                headers=AUTH,
            )
            other = await http.get(PREFIX + "/stats", headers=AUTH)
    assert [202, 200, 200] == [one.status_code, batch.status_code, other.status_code]
    assert ["1", "1", "1"] == [r.headers.get("x-stamp") for r in (one, batch, other)]
