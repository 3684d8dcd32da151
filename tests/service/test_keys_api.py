"""POST/GET/DELETE /keys, `keys create --pixel`, revocation and the key cache, the migration."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from tests.service.conftest import AUTH, PIXEL, Service

from tiktok_ads.adapters.clock import FrozenClock, SystemClock
from tiktok_ads.adapters.store import SqlStore
from tiktok_ads.adapters.store import migrate as migrations
from tiktok_ads.entrypoints.api.app import PREFIX
from tiktok_ads.entrypoints.cli import main
from tiktok_ads.services.api_keys import ApiKeys, Principal, hash_api_key

OTHER = "CPIXELTEST0000000002"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def delete_key(service: Service, key_id: int, headers: dict[str, str]) -> httpx.Response:
    return await service.http.delete(f"{PREFIX}/keys/{key_id}", headers=headers)


async def listed_keys(service: Service, headers: dict[str, str]) -> dict[int, dict[str, Any]]:
    return {k["id"]: k for k in (await service.get("/keys", headers=headers)).json()["keys"]}


async def test_admin_creates_lists_and_revokes_a_limited_key(service: Service) -> None:
    """POST /keys answers the key once; GET /keys never shows it; DELETE refuses it at once."""
    created = await service.post("/keys", {"name": "org-b", "pixel_ids": [OTHER]})
    assert 201 == created.status_code, created.text
    body = created.json()
    key = bearer(body["key"])
    assert (["events"], [OTHER], False) == (body["scopes"], body["pixel_ids"], body["revoked"])
    to_default = await service.post("/events", {"event_type": "ViewContent"}, headers=key)
    assert (403, 40103) == (to_default.status_code, to_default.json()["code"])
    assert 200 == (await service.get("/stats", headers=key)).status_code  # and now cached
    listed = await service.get("/keys")
    shown = {k["id"]: k for k in listed.json()["keys"]}[body["id"]]
    expected = {"id", "name", "prefix", "scopes", "pixel_ids", "created_at", "revoked"}
    assert expected == set(shown)
    assert body["key"] not in listed.text and hash_api_key(body["key"]) not in listed.text
    assert body["key"].startswith(shown["prefix"])
    revoked = await delete_key(service, body["id"], AUTH)
    assert (200, True) == (revoked.status_code, revoked.json()["revoked"])
    assert 401 == (await service.get("/stats", headers=key)).status_code
    assert (await listed_keys(service, AUTH))[body["id"]]["revoked"]


async def test_a_limited_admin_manages_keys_of_its_own_pixels_only(service: Service) -> None:
    """It makes keys for its pixels (by default), sees and revokes only those: else 403/404."""
    keys = service.container.keys
    admin_b = bearer(await keys.create("org-b", frozenset({"admin"}), frozenset({OTHER})))
    everyone_id = (await service.post("/keys", {"name": "platform"})).json()["id"]
    for_a = await service.post("/keys", {"name": "x", "pixel_ids": [PIXEL]}, headers=admin_b)
    assert (403, 40103, "pixel_id") == (
        for_a.status_code,
        for_a.json()["code"],
        for_a.json()["errors"][0]["field"],
    )
    inherited = await service.post("/keys", {"name": "b-shop"}, headers=admin_b)
    assert (201, [OTHER]) == (inherited.status_code, inherited.json()["pixel_ids"])
    visible = await listed_keys(service, admin_b)
    assert {"org-b", "b-shop"} == {k["name"] for k in visible.values()}
    assert 404 == (await delete_key(service, everyone_id, admin_b)).status_code
    assert not (await listed_keys(service, AUTH))[everyone_id]["revoked"]
    events_only = bearer(await keys.create("shop", frozenset({"events"})))
    assert 403 == (await service.post("/keys", {"name": "y"}, headers=events_only)).status_code
    assert 403 == (await service.get("/keys", headers=events_only)).status_code


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scopes": ["events"]}, "name"),
        ({"name": "  "}, "name"),
        ({"name": "x", "scopes": ["root"]}, "scopes"),
        ({"name": "x", "scopes": "admin"}, "scopes"),
        ({"name": "x", "pixel_ids": []}, "pixel_ids"),
        ({"name": "x", "pixel_ids": ["C1,C2"]}, "pixel_ids"),
        ({"name": "x", "pixel_ids": [7]}, "pixel_ids"),
    ],
)
async def test_bad_key_requests_name_the_field(
    service: Service, body: dict[str, Any], field: str
) -> None:
    """A bad name, scope or pixel list is a 422 naming the field, and makes no key."""
    response = await service.post("/keys", body)
    assert (422, field) == (response.status_code, response.json()["errors"][0]["field"])
    assert {} == await listed_keys(service, AUTH)


async def test_revoking_reaches_other_processes_within_the_cache_lifetime(tmp_path: Path) -> None:
    """The revoking process refuses the key at once; another one within 30 s (its cache)."""
    store = SqlStore(f"sqlite:///{tmp_path}/keys.db")
    await store.migrate()
    clock = FrozenClock(1_700_000_000.0)
    here, elsewhere = ApiKeys(store, clock, None), ApiKeys(store, clock, None)
    raw, view = await here.issue("org", frozenset({"events"}), frozenset({PIXEL}))
    org = Principal("org", frozenset({"events"}), frozenset({PIXEL}))
    assert [org, org] == [await here.authenticate(raw), await elsewhere.authenticate(raw)]
    await here.revoke(view["id"], Principal("root", frozenset({"admin"})))
    assert [None, org] == [await here.authenticate(raw), await elsewhere.authenticate(raw)]
    clock.advance(30)
    assert None is await elsewhere.authenticate(raw)
    await store.close()


def test_cli_keys_create_with_pixels_prints_a_working_limited_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`keys create --pixel A --pixel B` prints a key limited to A and B; a bad pixel is refused."""
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TIKTOK_ADS_SECRET_KEY", "s")
    runner = CliRunner()
    args = ["keys", "create", "--name", "org", "--pixel", PIXEL, "--pixel", OTHER]
    result = runner.invoke(main, args)
    assert 0 == result.exit_code, result.output
    bad = runner.invoke(main, ["keys", "create", "--name", "org", "--pixel", "no pixel"])
    assert (2, True) == (bad.exit_code, "pixel_ids" in bad.output)

    async def authenticate() -> Principal | None:
        store = SqlStore(url)
        try:
            return await ApiKeys(store, SystemClock(), None).authenticate(result.output.strip())
        finally:
            await store.close()

    expected = Principal("org", frozenset({"events"}), frozenset({PIXEL, OTHER}))
    assert expected == asyncio.run(authenticate())
    assert expected.sees(OTHER) and not expected.sees("CSOMEONEELSE")


async def test_keys_made_before_the_migration_keep_every_pixel(tmp_path: Path) -> None:
    """A key stored at revision 0003 is, after 0004, a key for every pixel."""
    store = SqlStore(f"sqlite:///{tmp_path}/old.db")

    def make_old_key() -> None:
        migrations.upgrade(store.write_engine, "0003")
        with store.write_engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO api_keys (name, key_hash, prefix, scopes, created_at) "
                    "VALUES ('old', :hash, 'tta_old', 'events', 1)"
                ),
                {"hash": hash_api_key("old-key")},
            )

    await asyncio.to_thread(make_old_key)
    await store.migrate()
    principal = await ApiKeys(store, SystemClock(), None).authenticate("old-key")
    await store.close()
    assert Principal("old", frozenset({"events"}), None) == principal
