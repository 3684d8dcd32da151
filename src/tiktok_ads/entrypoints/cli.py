"""The `tiktok-ads` command. Every option can also come from the env var shown in --help."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any

import click

from tiktok_ads.config import Settings
from tiktok_ads.entrypoints.cli_audiences import audiences
from tiktok_ads.entrypoints.collector import limit_malloc_arenas
from tiktok_ads.entrypoints.delivery_process import Choice, wanted
from tiktok_ads.errors import ConfigurationError


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic's message names the variable; show it plainly
        raise click.ClickException(f"bad configuration: {exc}") from exc


def _logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


log_level_option = click.option(
    "--log-level",
    default="INFO",
    envvar="TIKTOK_ADS_LOG_LEVEL",
    show_envvar=True,
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)


class _Commands(click.Group):
    """Loads `emulator` only when asked for: a worker need not carry its code in memory."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), "emulator"])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "emulator":
            from tiktok_ads.emulator.cli import emulator_command

            return emulator_command
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tiktok-ads-integration")
def main() -> None:
    """tiktok-ads-integration: server-side TikTok conversion tracking for ticket shops.

    Settings come from the environment (DATABASE_URL, TIKTOK_PIXEL_ID, TIKTOK_ACCESS_TOKEN, ...;
    see the README).
    """


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="TIKTOK_ADS_HOST",
    show_envvar=True,
    help="Address to listen on.",
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=int,
    envvar="TIKTOK_ADS_PORT",
    show_envvar=True,
    help="Port to listen on.",
)
@click.option(
    "--sandbox",
    is_flag=True,
    envvar="TIKTOK_ADS_SANDBOX",
    show_envvar=True,
    help="Deliver to the built-in TikTok emulator (mounted at /sandbox) instead of "
    "TikTok; creates a sandbox pixel and the API key 'sandbox-key' unless set.",
)
@click.option(
    "--worker/--no-worker",
    "run_worker",
    default=True,
    show_default=True,
    envvar="TIKTOK_ADS_RUN_WORKER",
    show_envvar=True,
    help="Also deliver events (--no-worker: API only, when separate `tiktok-ads worker` "
    "processes deliver).",
)
@log_level_option
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="TIKTOK_ADS_WORKERS",
    show_envvar=True,
    help="Processes sharing the port (one per core); they share the queue through the "
    "database. Not with --sandbox, whose emulator lives in one process.",
)
@click.option(
    "--delivery-process",
    type=click.Choice(["auto", "yes", "no"]),
    default="no",
    show_default=True,
    envvar="TIKTOK_ADS_DELIVERY_PROCESS",
    show_envvar=True,
    help="Deliver from a process of its own beside the API, so ingest and delivery each have "
    "a core (auto: when the machine has 4 or more). Not with --sandbox or --workers.",
)
def serve(
    host: str,
    port: int,
    sandbox: bool,
    run_worker: bool,
    log_level: str,
    workers: int,
    delivery_process: Choice,
) -> None:
    """Run the HTTP API, the monitoring endpoints and a delivery worker in one process (or
    two: --delivery-process). On SQLite the schema is created or upgraded first, in a
    short-lived child process (as `tiktok-ads migrate` does)."""
    _logging(log_level)
    limit_malloc_arenas()
    settings = _settings()
    if delivery_process == "yes" and (sandbox or workers > 1 or not run_worker):
        raise click.UsageError(
            "--delivery-process yes is for one serve that delivers: not with --sandbox, "
            "--workers or --no-worker"
        )
    if workers > 1 and sandbox:
        raise click.UsageError("--sandbox runs in one process: drop --workers")
    # Once, before any serving process starts (and not in N of them racing); in a child, so
    # that none of them loads Alembic (entrypoints.schema).
    _migrate_apart(settings)
    if run_worker and not sandbox and workers == 1 and wanted(delivery_process):
        from tiktok_ads.entrypoints.delivery_process import beside_the_api

        try:
            with beside_the_api(settings, log_level.lower()):
                _serve_api(settings, host, port, sandbox, False, log_level)
        except ConfigurationError as exc:
            raise click.ClickException(str(exc)) from exc
        return
    if workers > 1:
        from tiktok_ads.adapters.crypto import load_or_create_secret

        try:  # the key file too is made once here: the children only read it
            load_or_create_secret(settings.tiktok_ads_secret_key, settings.sqlite_path())
        except ConfigurationError as exc:
            raise click.ClickException(str(exc)) from exc
        os.environ["TIKTOK_ADS_RUN_WORKER"] = "true" if run_worker else "false"
        from tiktok_ads.entrypoints.multiprocess import serve_processes

        serve_processes(host, port, workers, log_level.lower())
        return
    _serve_api(settings, host, port, sandbox, run_worker, log_level)


def _serve_api(
    settings: Settings, host: str, port: int, sandbox: bool, run_worker: bool, log_level: str
) -> None:
    import uvicorn

    from tiktok_ads.bootstrap import SANDBOX_API_KEY
    from tiktok_ads.entrypoints.api.app import create_app
    from tiktok_ads.entrypoints.collector import tune_for_server

    app = create_app(settings, sandbox=sandbox, run_dispatcher=run_worker)
    base = f"http://{host}:{port}"
    if sandbox:
        key = "$TIKTOK_ADS_API_KEY" if settings.tiktok_ads_api_key else SANDBOX_API_KEY
        click.echo(
            "Sandbox: events go to the built-in TikTok emulator "
            f"({base}/sandbox/_emulator/events).\n"
            f"Try:  curl -s -X POST {base}/api/integrations/tiktok-ads/events "
            f"-H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' "
            '-d \'{"event_type":"ViewContent","event_id":"hello-1",'
            '"context":{"page_url":"https://shop.example/e/1"}}\''
        )
    tune_for_server()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=30,
    )


@main.command()
@log_level_option
def worker(log_level: str) -> None:
    """Deliver queued events only (scale-out: run several, on PostgreSQL). On SQLite the
    schema is created or upgraded first, as `serve` does."""
    from tiktok_ads.entrypoints.delivery_process import run_delivery

    _logging(log_level)
    limit_malloc_arenas()
    settings = _settings()
    _migrate_apart(settings)
    run_delivery(settings)


def _migrate_apart(settings: Settings) -> None:
    from tiktok_ads.entrypoints.schema import migrate_apart

    try:
        migrate_apart(settings)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc


async def _migrate(settings: Settings) -> None:
    from tiktok_ads.entrypoints.schema import upgrade

    await upgrade(settings.database_url)


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema (DATABASE_URL)."""
    asyncio.run(_migrate(_settings()))
    click.echo("database schema is current")


@main.group()
def keys() -> None:
    """API keys for our own HTTP API."""


@keys.command("create")
@click.option("--name", required=True, help="Who the key is for.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    default=("events",),
    show_default=True,
    type=click.Choice(["events", "admin"]),
    help="events: send and read events; admin: also connect pixels and manage keys.",
)
@click.option(
    "--pixel",
    "pixels",
    multiple=True,
    metavar="PIXEL_ID",
    help="Limit the key to this pixel (repeat for more); without it, every pixel.",
)
def keys_create(name: str, scopes: tuple[str, ...], pixels: tuple[str, ...]) -> None:
    """Create a key; it is printed once and only its hash is stored."""
    from tiktok_ads.bootstrap import build_admin
    from tiktok_ads.errors import ValidationFailed

    async def run() -> str:
        settings = _settings()
        tools = build_admin(settings)
        try:
            if settings.is_sqlite:
                await tools.migrate()
            return await tools.keys.create(
                name, frozenset(scopes), frozenset(pixels) if pixels else None
            )
        except ValidationFailed as exc:
            raise click.BadParameter(exc.message) from exc
        finally:
            await tools.close()

    click.echo(asyncio.run(run()))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """Connections, their health, and event counts by status."""
    from tiktok_ads.bootstrap import build_admin
    from tiktok_ads.errors import ConfigurationError

    async def run() -> dict[str, Any]:
        tools = build_admin(_settings())
        try:
            await tools.require_current_schema()
            conns = await tools.queries.connections()
            return {
                "connections": [
                    {
                        "pixel_id": c["pixel_id"],
                        "default": c["default"],
                        "healthy": c["healthy"],
                        "test_mode": c["test_mode"],
                        "health_message": c["health"]["message"],
                    }
                    for c in conns
                ],
                **(await tools.queries.stats()),
            }
        except ConfigurationError as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            await tools.close()

    report = asyncio.run(run())
    if as_json:
        import orjson

        click.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
        return
    for c in report["connections"]:
        health = "healthy" if c["healthy"] else f"HELD ({c['health_message']})"
        click.echo(
            f"pixel {c['pixel_id']}{' (default)' if c['default'] else ''}: {health}, "
            f"queue {report['queue_depth'].get(c['pixel_id'], 0)}"
        )
    click.echo(
        "events by status: " + ", ".join(f"{k}={v}" for k, v in sorted(report["by_status"].items()))
        if report["by_status"]
        else "no events yet"
    )


main.add_command(audiences)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
