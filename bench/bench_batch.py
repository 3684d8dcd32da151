"""`POST /events/batch` throughput: a few concurrent clients sending 1,000-event bodies.

Target: >= 25,000 events/s accepted (durable) by `tiktok-ads serve --no-worker` on SQLite.

The body is built once (the seed's CompletePayment event, 1,000 different customers) and each
request gets unique event_ids by a byte replacement, so nothing is deduplicated. Clients
(httpx, asyncio, in this process) loop until the duration is up; every answer is checked:
HTTP 200 and all 1,000 events `queued`.

Prerequisites: the venv.
Run: .venv/bin/python -m bench.bench_batch [--duration 10] [--clients 4] [--runs 2]
Quick: .venv/bin/python -m bench.bench_batch --duration 3 --runs 1
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

from bench import profiling
from bench.harness import (
    API_KEY,
    BATCH_PATH,
    HOST,
    BenchError,
    Figure,
    Processes,
    free_port,
    median,
    read_only,
    report,
    run_main,
    seed_event,
    service_env,
    start_service,
    workdir,
)

TARGET_EVENTS_PER_S = 25_000
_MARK = b"@@REQ@@"


@dataclass(slots=True)
class BatchRun:
    events: int
    requests: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def batch_template(size: int) -> bytes:
    """One `{"events": [...]}` body; every event_id contains _MARK, replaced per request."""
    now = int(time.time()) - 60
    events = [seed_event(f"{_MARK.decode()}-{i}", now, customer=i) for i in range(size)]
    return orjson.dumps({"events": events})


async def _client(
    client: httpx.AsyncClient,
    template: bytes,
    size: int,
    deadline: float,
    next_request: list[int],
    prefix: str,
    run: BatchRun,
    max_requests: int,
) -> None:
    for _ in range(max_requests):
        if time.perf_counter() >= deadline:
            return
        next_request[0] += 1
        body = template.replace(_MARK, f"{prefix}{next_request[0]}".encode())
        started = time.perf_counter()
        response = await client.post(BATCH_PATH, content=body)
        run.latencies_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise BenchError(f"HTTP {response.status_code}: {response.text[:300]}")
        answer = orjson.loads(response.content)
        queued = sum(1 for r in answer["results"] if r["status"] == "queued")
        if answer["accepted"] != size or queued != size:
            raise BenchError(
                f"expected {size} queued events, got accepted={answer['accepted']} "
                f"queued={queued}: {response.text[:300]}"
            )
        run.events += size
        run.requests += 1


async def load(
    base_url: str, template: bytes, size: int, clients: int, seconds: float, prefix: str
) -> BatchRun:
    run = BatchRun(0, 0, 0.0, [])
    counter = [0]
    # Bounded: no client can send more than this even on an impossibly fast server.
    max_requests = int(seconds * 1000) + 10
    async with httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
        timeout=httpx.Timeout(60.0),
        limits=httpx.Limits(max_connections=clients),
    ) as client:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(
                _client(client, template, size, deadline, counter, prefix, run, max_requests)
                for _ in range(clients)
            )
        )
        run.seconds = time.perf_counter() - started
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    parser.add_argument(
        "--clients", type=int, default=8, help="concurrent clients (8 spread well over 2 processes)"
    )
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument(
        "--workers", type=int, default=2, help="serve --workers: processes, one per core"
    )
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up")
    parser.add_argument("--keep-tmp", action="store_true", help="keep the database and logs")
    parser.add_argument(
        "--profile", type=Path, help="directory: py-spy the service during the measured runs"
    )
    args = parser.parse_args()
    run_main("batch", lambda: bench(args))


def bench(args: argparse.Namespace) -> None:
    template = batch_template(args.batch_size)
    nonce = secrets.token_hex(3)
    runs: list[BatchRun] = []
    with workdir(args.keep_tmp) as tmp, Processes() as procs:
        db = tmp / "b.db"
        port = free_port()
        env = service_env(db, f"http://{HOST}:9/open_api")
        service = start_service(procs, tmp, port, env, workers=args.workers)
        base = f"http://{HOST}:{port}"
        print(
            f"{args.clients} clients, {args.batch_size}-event bodies of "
            f"{len(template) / 1e6:.2f} MB, {args.duration:g} s per run; service: "
            f"tiktok-ads serve --no-worker on SQLite {db}"
        )
        if args.warmup > 0:
            warm = asyncio.run(
                load(base, template, args.batch_size, args.clients, args.warmup, f"{nonce}w")
            )
            print(f"  warm-up: {warm.rate:9.0f} events/s", flush=True)
        for i in range(args.runs):
            profile = None
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
                profile = args.profile / f"batch-service-{i + 1}.txt"
            prefix = f"{nonce}r{i}"
            with profiling.record(service.pid, profile):
                run = asyncio.run(
                    load(base, template, args.batch_size, args.clients, args.duration, prefix)
                )
            runs.append(run)
            lat = sorted(run.latencies_ms)
            print(
                f"  run {i + 1}: {run.rate:9.0f} events/s  ({run.requests} requests in "
                f"{run.seconds:.1f} s; latency median {median(lat):.0f} ms, "
                f"max {lat[-1]:.0f} ms)",
                flush=True,
            )
        with read_only(db) as conn:
            (dups,) = conn.execute(
                "SELECT COALESCE(SUM(count), 0) FROM event_counters WHERE outcome = 'duplicate'"
            ).fetchone()
        if dups:
            raise BenchError(f"{dups} events were deduplicated: the figures are not valid")

    rates = [r.rate for r in runs]
    rate = median(rates)
    report(
        "batch",
        [
            Figure(
                f"POST /events/batch ({args.batch_size}/request, {args.clients} clients)",
                rate,
                "events/s",
                target=f">= {TARGET_EVENTS_PER_S:,}",
                ok=rate >= TARGET_EVENTS_PER_S,
                runs=rates,
            ),
            Figure(
                "batch request latency (median)",
                median([median(r.latencies_ms) for r in runs]),
                "ms",
                runs=[median(r.latencies_ms) for r in runs],
            ),
        ],
    )


if __name__ == "__main__":
    main()
