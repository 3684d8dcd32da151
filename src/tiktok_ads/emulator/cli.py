"""The `emulator` command: serve the TikTok emulator with uvicorn (`tiktok-ads emulator`)."""

from __future__ import annotations

import dataclasses

import click

from tiktok_ads.emulator.app import create_app
from tiktok_ads.emulator.config import (
    DEFAULT_MAX_DEDUP_KEYS,
    DEFAULT_MAX_STORED_EVENTS,
    ENV_VARS,
    EmulatorConfig,
)
from tiktok_ads.emulator.server import EmulatorServer
from tiktok_ads.errors import ConfigurationError

_OTHER_ENV = "\n".join(
    f"  {name}: {meaning}"
    for name, meaning in ENV_VARS.items()
    if name
    not in {
        "TIKTOK_EMULATOR_QPS",
        "TIKTOK_EMULATOR_DAILY_QUOTA",
        "TIKTOK_EMULATOR_STORE_EVENTS",
        "TIKTOK_EMULATOR_MAX_STORED_EVENTS",
        "TIKTOK_EMULATOR_MAX_DEDUP_KEYS",
        "TIKTOK_EMULATOR_LATENCY_MS",
    }
)

_HELP = f"""Run a TikTok Business API v1.3 emulator (Events API, audiences) in memory.

Point TIKTOK_API_BASE_URL at http://HOST:PORT/open_api. Inspection and control,
no auth:

\b
  GET    /_emulator/events?pixel_code=&event=&event_id=&test=true|false&limit=
  GET    /_emulator/requests?limit=
  GET    /_emulator/audiences
  GET    /_emulator/faults
  POST   /_emulator/faults   {{"kind": "http_503", "count": 2}}  kinds: http_503,
         http_500, code_20001 (partial success, events kept), code_40100,
         code_40105, code_40700, code_50000, latency (ms), late_answer (ms: handled,
         answered late), hang (seconds), drop;
         or {{"reject_events": {{"event_id": "bad-42"}}, "name_index": true,
         "batch_prefix": false}}  (true: "Batch.<i>.<field>: <problem>")
  DELETE /_emulator/faults
  POST   /_emulator/reset
  GET    /_emulator/stats

\b
Also read from the environment:
{_OTHER_ENV}
"""


@click.command("emulator", help=_HELP)
@click.option(
    "--host", default="127.0.0.1", show_default=True,
    envvar="TIKTOK_EMULATOR_HOST", show_envvar=True, help="Interface to listen on.",
)  # fmt: skip
@click.option(
    "--port", default=9000, show_default=True, type=click.IntRange(0, 65535),
    envvar="TIKTOK_EMULATOR_PORT", show_envvar=True, help="Port to listen on.",
)  # fmt: skip
@click.option(
    "--qps", type=click.FloatRange(min=0, min_open=True), default=None,
    envvar="TIKTOK_EMULATOR_QPS", show_envvar=True,
    help="Requests per second per (token, pixel) on event/track; unset means no limit.",
)  # fmt: skip
@click.option(
    "--daily-quota", type=click.IntRange(min=1), default=None,
    envvar="TIKTOK_EMULATOR_DAILY_QUOTA", show_envvar=True,
    help="Events per UTC day per (token, pixel); unset means no limit.",
)  # fmt: skip
@click.option(
    "--store-events/--no-store-events", default=True, show_default=True,
    envvar="TIKTOK_EMULATOR_STORE_EVENTS", show_envvar=True,
    help="Keep accepted events (off: only dedup keys and counters, for big benchmarks).",
)  # fmt: skip
@click.option(
    "--max-stored-events", type=click.IntRange(min=1),
    default=DEFAULT_MAX_STORED_EVENTS, show_default=True,
    envvar="TIKTOK_EMULATOR_MAX_STORED_EVENTS", show_envvar=True,
    help="Accepted events kept for /_emulator/events; the oldest are dropped first.",
)  # fmt: skip
@click.option(
    "--max-dedup-keys", type=click.IntRange(min=1),
    default=DEFAULT_MAX_DEDUP_KEYS, show_default=True,
    envvar="TIKTOK_EMULATOR_MAX_DEDUP_KEYS", show_envvar=True,
    help="Dedup keys kept; each expires after TikTok's 48 h, the oldest go first beyond this.",
)  # fmt: skip
@click.option(
    "--latency-ms", type=click.FloatRange(min=0), default=0.0, show_default=True,
    envvar="TIKTOK_EMULATOR_LATENCY_MS", show_envvar=True,
    help="Delay added to every API answer.",
)  # fmt: skip
@click.option(
    "--log-level", default="info", show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    envvar="TIKTOK_EMULATOR_LOG_LEVEL", show_envvar=True, help="uvicorn's log level.",
)  # fmt: skip
def emulator_command(
    host: str,
    port: int,
    qps: float | None,
    daily_quota: int | None,
    store_events: bool,
    max_stored_events: int,
    max_dedup_keys: int,
    latency_ms: float,
    log_level: str,
) -> None:
    """Serve the emulator until interrupted."""
    try:
        base = EmulatorConfig.from_env()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    config = dataclasses.replace(
        base,
        qps=qps,
        daily_quota=daily_quota,
        store_events=store_events,
        max_stored_events=max_stored_events,
        max_dedup_keys=max_dedup_keys,
        latency_ms=latency_ms,
    )
    app = create_app(config)
    click.echo(f"TikTok emulator: TIKTOK_API_BASE_URL=http://{host}:{port}/open_api", err=True)
    EmulatorServer(app, host, port, log_level=log_level).run()
