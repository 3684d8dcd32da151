"""What the speed benchmarks of the default `serve` share: the service under test (this
checkout, or another one for a before/after in the same run), TikTok as bench/tiktok_sink.py,
and client threads posting 1,000-event batches.

A `Target` is one way to run the service: a checkout (None: this one) and `serve` arguments
(none: the documented command with its defaults). `--compare DIR` adds the same command run
from DIR's own `.venv` (e.g. a `git worktree` of main), measured alternately with this one.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

import httpx
import orjson

from bench.harness import (
    API_KEY,
    BATCH_PATH,
    HOST,
    LIFTED_LIMITS,
    BenchError,
    Figure,
    Proc,
    Processes,
    free_port,
    median,
    seed_event,
    service_env,
    start_service,
    start_sink,
)

_MARK = b"@@REQ@@"

R = TypeVar("R")


class _Rated(Protocol):
    @property
    def rate(self) -> float: ...


def alternate(
    runs: int, chosen: list[Target], measure: Callable[[Target, int], R]
) -> dict[str, list[R]]:
    """`runs` rounds over the targets, the order reversed every other round (neither side
    always runs first on a warmer or cooler machine); results by target label."""
    results: dict[str, list[R]] = {target.label: [] for target in chosen}
    for i in range(runs):
        for target in chosen if i % 2 == 0 else list(reversed(chosen)):
            results[target.label].append(measure(target, i))
    return results


def ratio_figures(results: Mapping[str, Sequence[_Rated]], chosen: list[Target]) -> list[Figure]:
    """With --compare: this checkout's rate over the other's, run by run (same machine state)."""
    if len(chosen) != 2:
        return []
    other = chosen[1].label
    ratios = [a.rate / b.rate for a, b in zip(results["this"], results[other], strict=True)]
    return [Figure(f"this / {other} (median of runs)", median(ratios), "x", runs=ratios)]


@dataclass(frozen=True, slots=True)
class Target:
    label: str
    checkout: Path | None = None
    serve_args: tuple[str, ...] = ()

    def describe(self) -> str:
        where = f" from {self.checkout}" if self.checkout else ""
        return f"{self.label}: tiktok-ads serve {' '.join(self.serve_args)}".rstrip() + where


def add_batch_options(parser: argparse.ArgumentParser, *, batches: int) -> None:
    """The shape of a batch workload: runs, bodies per run, client threads, events per body."""
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batches", type=int, default=batches, help="bodies posted per run")
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=4, help="bodies delivered before each run")


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """What is measured (this checkout, another with --compare), and how it is kept/profiled."""
    parser.add_argument("--keep-tmp", action="store_true", help="keep the databases and logs")
    parser.add_argument(
        "--profile", type=Path, help="directory: py-spy the service during the measured runs"
    )
    parser.add_argument(
        "--serve-args",
        default="",
        help="extra `serve` arguments, e.g. '--no-worker' (default: none, the documented command)",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        help="another checkout (with its own .venv) to measure alternately in the same run",
    )
    parser.add_argument("--compare-label", default="base", help="its name in the figures")


def targets(args: argparse.Namespace) -> list[Target]:
    serve_args = tuple(shlex.split(args.serve_args))
    found = [Target("this", None, serve_args)]
    if args.compare is not None:
        found.append(Target(args.compare_label, args.compare.resolve(), serve_args))
    return found


@dataclass(slots=True)
class Running:
    service: Proc
    sink: Proc
    base_url: str
    sink_url: str
    db: Path


@contextlib.contextmanager
def running(procs: Processes, tmp: Path, target: Target, **env: str) -> Iterator[Running]:
    """The sink and the service of `target` on a fresh SQLite file; stopped afterwards."""
    sink_port, port = free_port(), free_port()
    sink = start_sink(procs, tmp, sink_port)
    sink_url = f"http://{HOST}:{sink_port}"
    db = tmp / f"{target.label}-{port}.db"
    service_vars = service_env(db, f"{sink_url}/open_api", **{**LIFTED_LIMITS, **env})
    service = start_service(
        procs, tmp, port, service_vars, target.serve_args, checkout=target.checkout
    )
    try:
        yield Running(service, sink, f"http://{HOST}:{port}", sink_url, db)
    finally:
        procs.stop(service)
        procs.stop(sink)


def sink_stats(sink_url: str) -> dict[str, float]:
    return httpx.get(f"{sink_url}/_sink/stats", timeout=10).json()  # type: ignore[no-any-return]


def wait_for_sink(sink_url: str, distinct: int, timeout_s: float) -> dict[str, float]:
    """Poll TikTok's counts until it holds `distinct` event_ids; its stats then."""
    deadline = time.monotonic() + timeout_s
    while True:
        stats = sink_stats(sink_url)
        if stats["distinct"] >= distinct:
            return stats
        if time.monotonic() > deadline:
            have = stats["distinct"]
            raise BenchError(f"TikTok has {have} of {distinct} events after {timeout_s:g} s")
        time.sleep(0.02)


def batch_template(size: int) -> bytes:
    """One `{"events": [...]}` body; every event_id contains _MARK, replaced per request."""
    now = int(time.time()) - 60
    events = [seed_event(f"{_MARK.decode()}-{i}", now, customer=i) for i in range(size)]
    return orjson.dumps({"events": events})


@dataclass(slots=True)
class BatchRun:
    events: int = 0
    requests: int = 0
    started: float = 0.0
    ended: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    cpu_s: float = 0.0  # CPU the service used meanwhile (all its processes), when measured

    @property
    def cpu_us_per_event(self) -> float:
        return self.cpu_s / self.events * 1e6 if self.events else 0.0

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def post_batches(
    base_url: str, template: bytes, size: int, batches: int, clients: int, prefix: str
) -> BatchRun:
    """`batches` bodies posted by `clients` threads (keep-alive connection each); every answer
    must be HTTP 200 with all `size` events queued. Timed from the first send to the last
    answer."""
    run = BatchRun()
    lock = threading.Lock()
    counter = iter(range(batches))
    failures: list[BaseException] = []

    def client() -> None:
        with httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
            timeout=httpx.Timeout(120.0),
        ) as http:
            while not failures:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                body = template.replace(_MARK, f"{prefix}{n}".encode())
                sent = time.perf_counter()
                try:
                    response = http.post(BATCH_PATH, content=body)
                    _check(response, size)
                except BaseException as exc:
                    failures.append(exc)
                    return
                with lock:
                    run.latencies_ms.append((time.perf_counter() - sent) * 1000)
                    run.events += size
                    run.requests += 1

    threads = [threading.Thread(target=client, name=f"client-{i}") for i in range(clients)]
    run.started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.ended = time.perf_counter()
    if failures:
        raise BenchError(f"a batch failed: {failures[0]}")
    return run


def _check(response: httpx.Response, size: int) -> None:
    if response.status_code != 200:
        raise BenchError(f"HTTP {response.status_code}: {response.text[:300]}")
    answer = orjson.loads(response.content)
    queued = sum(1 for r in answer["results"] if r["status"] == "queued")
    if answer["accepted"] != size or queued != size:
        raise BenchError(
            f"expected {size} queued events, got accepted={answer['accepted']} "
            f"queued={queued}: {response.text[:300]}"
        )
