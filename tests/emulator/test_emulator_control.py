"""`/_emulator/` inspection and control over HTTP, the config from env, and the CLI command."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner
from tests.emulator.emulator_support import PIXEL, call, track_body, web_event

from tiktok_ads.emulator import ENV_VARS, EmulatorConfig, EmulatorState
from tiktok_ads.emulator.cli import emulator_command
from tiktok_ads.errors import ConfigurationError


async def test_events_view_filters_and_limits(client: httpx.AsyncClient) -> None:
    """GET /_emulator/events filters by pixel, test flag and event_id, newest last."""
    await call(client, "event/track/", track_body(web_event(event_id="a"), web_event(event_id="b")))
    await call(client, "event/track/", track_body(web_event(event_id="t"), test_event_code="T1"))
    await call(client, "event/track/", track_body(event_source_id="OTHER"))
    real = (
        await client.get("/_emulator/events", params={"pixel_code": PIXEL, "test": "false"})
    ).json()
    assert (2, ["a", "b"]) == (real["count"], [e["event_id"] for e in real["events"]])
    last = (await client.get("/_emulator/events", params={"limit": 1})).json()
    assert (4, ["order-1"]) == (last["count"], [e["event_id"] for e in last["events"]])
    test = (await client.get("/_emulator/events", params={"test": "true"})).json()
    assert [("t", "T1", [])] == [
        (e["event_id"], e["test_event_code"], e["notes"]) for e in test["events"]
    ]


async def test_requests_view_masks_the_token(client: httpx.AsyncClient) -> None:
    """GET /_emulator/requests lists calls with the token masked."""
    await call(client, "event/track/", track_body())
    view = (await client.get("/_emulator/requests")).json()
    [recorded] = view["requests"]
    assert ("/open_api/v1.3/event/track", 0, "***4567") == (
        recorded["path"],
        recorded["code"],
        recorded["token_mask"],
    )


async def test_faults_can_be_scripted_over_http(client: httpx.AsyncClient) -> None:
    """POST /_emulator/faults queues a fault; DELETE clears faults and rules."""
    added = await client.post("/_emulator/faults", json={"kind": "code_50000", "count": 1})
    assert 200 == added.status_code
    assert 50000 == (await call(client, "event/track/", track_body()))["code"]
    rule = {"reject_events": {"event_id": "order-1"}, "name_index": False}
    assert 200 == (await client.post("/_emulator/faults", json=rule)).status_code
    assert (
        "Invalid value for event_id: value rejected."
        == (await call(client, "event/track/", track_body()))["message"]
    )
    cleared = (await client.delete("/_emulator/faults")).json()
    assert {"faults": [], "rules": []} == cleared
    assert 0 == (await call(client, "event/track/", track_body()))["code"]


async def test_new_fault_kinds_and_batch_spelling_over_http(client: httpx.AsyncClient) -> None:
    """POST /_emulator/faults takes code_20001, code_40700, code_40105 and batch_prefix."""
    for kind in ("code_20001", "code_40700", "code_40105"):
        assert 200 == (await client.post("/_emulator/faults", json={"kind": kind})).status_code
    codes = [(await call(client, "event/track/", track_body()))["code"] for _ in range(3)]
    assert [20001, 40700, 40105] == codes
    rule = {"reject_events": {"event_id": "order-1"}, "batch_prefix": True, "problem": "Bad"}
    described = (await client.post("/_emulator/faults", json=rule)).json()
    assert [True] == [r["batch_prefix"] for r in described["rules"]]
    assert "Batch.0.event_id: Bad" == (await call(client, "event/track/", track_body()))["message"]


@pytest.mark.parametrize(
    "spec",
    [{"kind": "http_418"}, {"kind": "latency", "ms": "slow"}, {"reject_events": []}, ["x"]],
)
async def test_bad_fault_specs_are_http_400(client: httpx.AsyncClient, spec: object) -> None:
    """A fault the plan cannot take answers 400 with the reason."""
    response = await client.post("/_emulator/faults", json=spec)
    assert 400 == response.status_code
    assert response.json()["error"]


async def test_reset_and_stats(client: httpx.AsyncClient, state: EmulatorState) -> None:
    """GET /_emulator/stats counts; POST /_emulator/reset empties."""
    await call(client, "event/track/", track_body(web_event(), web_event()))
    stats = (await client.get("/_emulator/stats")).json()
    assert (1, 1, 1, {"0": 1}) == (
        stats["requests"],
        stats["events"]["real"],
        stats["events"]["deduplicated"],
        stats["response_codes"],
    )
    assert {"reset": True} == (await client.post("/_emulator/reset")).json()
    assert ([], []) == (state.events, list(state.requests))


async def test_audiences_view(client: httpx.AsyncClient) -> None:
    """GET /_emulator/audiences shows audiences with their kind and size."""
    body = {"advertiser_id": "1", "action": "create", "custom_audience_name": "Buyers"}
    await call(client, "segment/audience/", body)
    view = (await client.get("/_emulator/audiences")).json()
    assert [("Buyers", "partner", 0)] == [
        (a["name"], a["kind"], a["cover_num"]) for a in view["audiences"]
    ]


def test_config_from_env_reads_every_variable() -> None:
    """from_env maps each TIKTOK_EMULATOR_* variable onto the config."""
    config = EmulatorConfig.from_env(
        {
            "TIKTOK_EMULATOR_TOKENS": "tok-a, tok-b",
            "TIKTOK_EMULATOR_ACCEPT_ANY_TOKEN": "false",
            "TIKTOK_EMULATOR_REVOKED_TOKENS": "old",
            "TIKTOK_EMULATOR_QPS": "10",
            "TIKTOK_EMULATOR_DAILY_QUOTA": "50000",
            "TIKTOK_EMULATOR_AUDIENCE_MIN_MEMBERS": "5",
            "TIKTOK_EMULATOR_LOOKALIKE_MIN_SOURCE": "6",
            "TIKTOK_EMULATOR_MAX_AUDIENCES": "7",
            "TIKTOK_EMULATOR_STORE_EVENTS": "off",
            "TIKTOK_EMULATOR_LATENCY_MS": "2.5",
            "TIKTOK_EMULATOR_PIXEL_CODES": "PIX1",
            "TIKTOK_EMULATOR_MAX_UPLOAD_BYTES": "1024",
            "TIKTOK_EMULATOR_MAX_STORED_EVENTS": "8",
            "TIKTOK_EMULATOR_MAX_DEDUP_KEYS": "9",
        }
    )
    assert (
        {"tok-a", "tok-b"}, False, {"old"}, 10.0, 50000, 5, 6, 7, False, 2.5, {"PIX1"}, 1024, 8, 9
    ) == (
        set(config.tokens), config.accept_any_token, config.revoked_tokens, config.qps,
        config.daily_quota, config.audience_min_members, config.lookalike_min_source,
        config.max_audiences_per_advertiser, config.store_events, config.latency_ms,
        config.pixel_codes, config.max_upload_bytes, config.max_stored_events,
        config.max_dedup_keys,
    )  # fmt: skip
    assert set(ENV_VARS) >= {"TIKTOK_EMULATOR_MAX_STORED_EVENTS", "TIKTOK_EMULATOR_MAX_DEDUP_KEYS"}


def test_config_from_empty_env_is_the_default() -> None:
    """No variables: the documented defaults, limits off."""
    assert EmulatorConfig() == EmulatorConfig.from_env({})


@pytest.mark.parametrize(
    ("name", "value"),
    [("TIKTOK_EMULATOR_QPS", "fast"), ("TIKTOK_EMULATOR_STORE_EVENTS", "maybe"),
     ("TIKTOK_EMULATOR_DAILY_QUOTA", "-1"), ("TIKTOK_EMULATOR_MAX_STORED_EVENTS", "0"),
     ("TIKTOK_EMULATOR_MAX_DEDUP_KEYS", "lots")],
)  # fmt: skip
def test_config_from_env_names_bad_values(name: str, value: str) -> None:
    """An unusable value raises ConfigurationError naming the variable."""
    with pytest.raises(ConfigurationError, match=name):
        EmulatorConfig.from_env({name: value})


def test_cli_help_shows_options_env_vars_and_control_paths() -> None:
    """`emulator --help` shows each option's env var and the /_emulator/ paths."""
    result = CliRunner().invoke(emulator_command, ["--help"], terminal_width=200)
    assert 0 == result.exit_code
    for text in (
        "TIKTOK_EMULATOR_HOST",
        "TIKTOK_EMULATOR_PORT",
        "TIKTOK_EMULATOR_QPS",
        "TIKTOK_EMULATOR_DAILY_QUOTA",
        "TIKTOK_EMULATOR_STORE_EVENTS",
        "TIKTOK_EMULATOR_MAX_STORED_EVENTS",
        "TIKTOK_EMULATOR_MAX_DEDUP_KEYS",
        "TIKTOK_EMULATOR_REVOKED_TOKENS",
        "/_emulator/faults",
        "/_emulator/reset",
        "default: 9000",
    ):
        assert text in result.output, text


def test_cli_refuses_a_bad_environment() -> None:
    """A bad TIKTOK_EMULATOR_* value stops the command with a message, not a traceback."""
    result = CliRunner().invoke(emulator_command, [], env={"TIKTOK_EMULATOR_MAX_AUDIENCES": "many"})
    assert 1 == result.exit_code
    assert "TIKTOK_EMULATOR_MAX_AUDIENCES must be an integer, not 'many'" in result.output
