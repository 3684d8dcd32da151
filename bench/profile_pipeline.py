"""CPU per event of each stage of the pipeline, in one process, without HTTP: what a profile
of the batch and end-to-end workloads says when the machine's load is taken out.

The service is wired by bootstrap on a fresh SQLite file, TikTok answered by an in-process
httpx transport (code 0, body parsed); `--batches` bodies of 1,000 seed events go through
`read` (orjson) → `IngestService.submit_many` (prepare, group commit) → the dispatcher until
TikTok has them all. Prints CPU µs per event of ingest and of delivery (process time, so a
busy machine inflates it far less than wall time), and with `--cprofile FILE` the top of a
cProfile of both.

Run: .venv/bin/python -m bench.profile_pipeline [--batches 40] [--cprofile /tmp/p.txt]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import tempfile
import time
from pathlib import Path

import httpx
import orjson

from bench.harness import ACCESS_TOKEN, PIXEL_ID
from bench.load import _MARK, batch_template
from tiktok_ads.bootstrap import build
from tiktok_ads.config import Settings
from tiktok_ads.entrypoints.collector import tune_for_server


class Sink:
    """TikTok in-process: parses each request, counts items."""

    def __init__(self) -> None:
        self.items = 0
        self.requests = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content)
        self.items += len(body["data"])
        self.requests += 1
        return httpx.Response(200, content=b'{"code":0,"message":"OK","request_id":"r","data":{}}')


async def run(args: argparse.Namespace, profiler: cProfile.Profile | None) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="tiktok-ads-profile-"))
    settings = Settings(
        database_url=f"sqlite:///{tmp}/p.db",
        tiktok_pixel_id=PIXEL_ID,
        tiktok_access_token=ACCESS_TOKEN,
        tiktok_rate_limit_rps=1000,
        tiktok_daily_event_limit=100_000_000,
        tiktok_batch_linger_ms=0,
    )
    sink = Sink()
    container = build(settings, tiktok_transport=httpx.MockTransport(sink.handle))
    await container.start(run_dispatcher=False)
    tune_for_server()  # as `serve` does once the app is built: the collector runs less often
    template = batch_template(1000)
    bodies = [template.replace(_MARK, f"r{n}".encode()) for n in range(args.batches)]
    total = 1000 * args.batches
    ingest_cpu = delivery_cpu = 0.0
    if profiler:
        profiler.enable()
    started = time.process_time()
    for chunk in range(0, len(bodies), args.clients):
        group = bodies[chunk : chunk + args.clients]
        await asyncio.gather(
            *(container.ingest.submit_many(orjson.loads(b)["events"]) for b in group)
        )
    ingest_cpu = time.process_time() - started
    started = time.process_time()
    while sink.items < total:
        await container.dispatcher.run_once()
        await container.dispatcher.wait_idle()
    delivery_cpu = time.process_time() - started
    if profiler:
        profiler.disable()
    await container.stop()
    print(
        f"{total:,} events: ingest {ingest_cpu / total * 1e6:.1f} µs/event CPU, delivery "
        f"{delivery_cpu / total * 1e6:.1f} µs/event CPU ({sink.requests} requests, "
        f"{sink.items / sink.requests:.0f} events each); store threads included"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--clients", type=int, default=4, help="bodies submitted at once")
    parser.add_argument("--cprofile", type=Path, help="write the top of a cProfile here")
    parser.add_argument("--top", type=int, default=60)
    args = parser.parse_args()
    profiler = cProfile.Profile() if args.cprofile else None
    asyncio.run(run(args, profiler))
    if profiler and args.cprofile:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
        args.cprofile.write_text(out.getvalue())
        print(f"cProfile: {args.cprofile}")


if __name__ == "__main__":
    main()
