"""`tiktok-ads audiences ...`: customer lists sent to a running service over its HTTP API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx

API = "/api/integrations/tiktok-ads"
CHUNK = 256 * 1024


@click.group()
def audiences() -> None:
    """Audiences of a running service (its HTTP API)."""


@audiences.command("upload")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--audience", "audience_id", required=True, help="Our audience id.")
@click.option(
    "--action",
    type=click.Choice(["APPEND", "REMOVE", "REPLACE"], case_sensitive=False),
    default="APPEND",
    show_default=True,
    help="Add the list, remove it, or make the audience exactly the list.",
)
@click.option(
    "--url",
    default="http://127.0.0.1:8000",
    show_default=True,
    envvar="TIKTOK_ADS_URL",
    show_envvar=True,
    help="Where the service answers.",
)
@click.option(
    "--api-key",
    required=True,
    envvar="TIKTOK_ADS_API_KEY",
    show_envvar=True,
    help="An API key with the admin right.",
)
def upload(file: Path, audience_id: str, action: str, url: str, api_key: str) -> None:
    """Stream FILE.csv (header: email, phone, idfa, aaid) into an audience, with progress.

    Prints the job id and the rows that were refused (line, column, why).
    """
    size = file.stat().st_size
    headers = {
        "Authorization": f"Bearer {api_key}",
        "Content-Type": "text/csv",
        "Content-Length": str(size),
    }
    with file.open("rb") as handle, click.progressbar(length=size, label=file.name) as bar:

        def chunks() -> Iterator[bytes]:
            while chunk := handle.read(CHUNK):
                bar.update(len(chunk))
                yield chunk

        try:
            response = httpx.post(
                f"{url.rstrip('/')}{API}/audiences/{audience_id}/upload",
                params={"action": action.upper()},
                content=chunks(),
                headers=headers,
                timeout=httpx.Timeout(600.0, connect=10.0),
            )
        except httpx.HTTPError as exc:
            raise click.ClickException(f"no answer from {url}: {exc}") from exc
    body = _json(response)
    if response.status_code != 202:
        where = ", ".join(e.get("field", "") for e in body.get("errors", []))
        message = body.get("message", response.text[:200])
        raise click.ClickException(
            f"HTTP {response.status_code}: {message}" + (f" ({where})" if where else "")
        )
    click.echo(
        f"job {body['job_id']} queued for audience {body['id']}: {body['rows']} rows, "
        f"{body['accepted_ids']} ids, {body['invalid']} invalid"
    )
    if body.get("ignored_columns"):
        click.echo("columns skipped (not audience ids): " + ", ".join(body["ignored_columns"]))
    for problem in body.get("report", []):
        click.echo(f"  line {problem['row']}, {problem['field']}: {problem['message']}")
    shown = len(body.get("report", []))
    if body["invalid"] > shown:
        click.echo(f"  ... and {body['invalid'] - shown} more")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
