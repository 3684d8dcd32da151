"""A delivery backlog for the drain benchmarks: preload it through the store, then time a
`tiktok-ads worker` subprocess draining it into the emulator, sampling the worker's RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import itertools
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench import profiling
from bench.harness import (
    HOST,
    PIXEL_ID,
    BenchError,
    Proc,
    Processes,
    cli,
    free_port,
    read_only,
    seed_event,
    service_env,
    start_emulator,
)
from bench.rss import rss_mb
from tiktok_ads.adapters.store import SqlStore
from tiktok_ads.domain.events import NewEvent
from tiktok_ads.domain.inbound import IngestRules, prepare_event, stored_event

RSS_SAMPLE_S = 0.2
POLL_QUEUE_EVERY = 5  # query the database every 5th RSS sample (once a second)
_PENDING_SQL = "SELECT COUNT(*) FROM events WHERE status IN ('queued', 'retrying', 'sending')"


def add_backlog_options(parser: argparse.ArgumentParser, *, events: int, timeout_s: float) -> None:
    """The options every backlog-draining benchmark takes."""
    parser.add_argument("--events", type=int, default=events, help="backlog size")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=5000, help="events per add_events call")
    parser.add_argument(
        "--timeout", type=float, default=timeout_s, help="seconds per drain, at most"
    )
    parser.add_argument("--keep-tmp", action="store_true", help="keep the databases and logs")
    parser.add_argument(
        "--profile",
        type=Path,
        help="directory: py-spy the worker and the emulator while they drain",
    )


def new_events(count: int, distinct: int, prefix: str, now: float) -> Iterator[NewEvent]:
    """NewEvents as ingest makes them (prepare_event + the ingest conversion).

    `distinct` customers are prepared once each; every event is a copy of one of them with
    its own event_id (personal data hashing is not what this measures).
    """
    rules = IngestRules()
    templates = []
    for i in range(min(distinct, count)):
        prepared = prepare_event(
            seed_event("template", int(now) - 60, customer=i), now=now, rules=rules
        )
        templates.append(stored_event(prepared, PIXEL_ID, None))
    for n in range(count):
        template = templates[n % len(templates)]
        event_id = f"{prefix}-{n}"
        payload = dict(template.payload or {})
        payload["event_id"] = event_id
        payload["user"] = dict(payload.get("user", {}))
        yield dataclasses.replace(template, event_id=event_id, payload=payload)


async def _preload(db_path: Path, count: int, chunk: int, distinct: int, prefix: str) -> None:
    store = SqlStore(f"sqlite:///{db_path}")
    try:
        await store.migrate()
        now = time.time()
        window = 28 * 86400.0
        events = new_events(count, distinct, prefix, now)
        for _ in range(count // max(1, chunk) + 1):
            batch = list(itertools.islice(events, chunk))
            if not batch:
                break
            await store.add_events(batch, now, window)
    finally:
        await store.close()


def preload(db_path: Path, count: int, chunk: int = 5000, distinct: int = 1000) -> float:
    """Store `count` queued events; returns the seconds it took."""
    started = time.perf_counter()
    asyncio.run(_preload(db_path, count, chunk, distinct, f"bk{int(started * 1000) % 10**8}"))
    seconds = time.perf_counter() - started
    with read_only(db_path) as conn:
        (pending,) = conn.execute(_PENDING_SQL).fetchone()
    if pending != count:
        raise BenchError(f"preloaded {pending} events, expected {count}")
    return seconds


@dataclass(slots=True)
class Drain:
    events: int
    wall_s: float  # worker spawn -> queue observed empty (startup and polling included)
    active_s: float  # first request sent -> last batch settled (the worker's own clock)
    requests: int
    delivered_events: int
    failed_events: int
    non_delivered_requests: int
    peak_rss_mb: float
    hwm_rss_mb: float
    rss_samples: int
    log_tail: str = ""
    # (seconds since spawn, events still pending, RSS MB) once a second
    timeline: list[tuple[float, int, float]] = field(default_factory=list)
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.delivered_events / self.active_s if self.active_s > 0 else 0.0

    @property
    def wall_rate(self) -> float:
        return self.delivered_events / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def events_per_request(self) -> float:
        return self.delivered_events / self.requests if self.requests else 0.0


def drain(
    procs: Processes,
    tmp: Path,
    db_path: Path,
    events: int,
    timeout_s: float,
    profile: Path | None = None,
) -> Drain:
    """Start the emulator and a worker with limits lifted; wait until the queue is empty.

    With `profile` (a file name prefix), py-spy samples the worker and the emulator.
    """
    emulator_port = free_port()
    emulator = start_emulator(procs, tmp, emulator_port)
    env = service_env(
        db_path,
        f"http://{HOST}:{emulator_port}/open_api",
        TIKTOK_RATE_LIMIT_RPS="1000",
        TIKTOK_DAILY_EVENT_LIMIT="100000000",
        TIKTOK_BATCH_LINGER_MS="0",
    )
    spawned = time.perf_counter()
    worker = procs.start("worker", cli("worker"), env, tmp, cwd=tmp)
    with contextlib.ExitStack() as profiles:
        if profile is not None:
            for proc in (worker, emulator):
                out = profile.with_name(f"{profile.name}-{proc.name}.txt")
                profiles.enter_context(profiling.record(proc.pid, out))
        result = _wait_for_empty(worker, emulator, db_path, events, timeout_s, spawned)
    procs.stop(worker)
    result.log_tail = worker.tail(5)
    return result


def _wait_for_empty(
    worker: Proc, emulator: Proc, db_path: Path, events: int, timeout_s: float, spawned: float
) -> Drain:
    peak = hwm = 0.0
    samples = 0
    timeline: list[tuple[float, int, float]] = []
    pending = events
    wall = float("nan")
    with read_only(db_path) as conn:
        for i in range(int(timeout_s / RSS_SAMPLE_S) + 1):
            if worker.popen.poll() is not None:
                raise BenchError(
                    f"the worker exited with {worker.popen.returncode}:\n{worker.tail()}"
                )
            if emulator.popen.poll() is not None:
                raise BenchError(f"the emulator exited:\n{emulator.tail()}")
            rss, now_hwm = rss_mb(worker.pid)
            peak, hwm, samples = max(peak, rss), max(hwm, now_hwm), samples + 1
            if i % POLL_QUEUE_EVERY == 0:
                (pending,) = conn.execute(_PENDING_SQL).fetchone()
                timeline.append((time.perf_counter() - spawned, pending, rss))
                if pending == 0:
                    wall = time.perf_counter() - spawned
                    break
            time.sleep(RSS_SAMPLE_S)
        else:
            raise BenchError(
                f"the backlog did not drain within {timeout_s:.0f} s ({pending} left):\n"
                f"{worker.tail()}"
            )
        hwm = max(hwm, rss_mb(worker.pid)[1])
        result = _delivery_figures(conn, events)
    result.wall_s = wall
    result.peak_rss_mb, result.hwm_rss_mb, result.rss_samples = peak, hwm, samples
    result.timeline = timeline
    return result


def timeline_text(result: Drain, points: int = 8) -> str:
    """A few (time, events delivered, RSS) points spread over the drain."""
    line = [point for point in result.timeline if point[2] >= 10]  # below: not started yet
    if not line:
        return "(no samples)"
    step = max(1, len(line) // points)
    chosen = [*line[::step], line[-1]] if line[-1] not in line[::step] else line[::step]
    return "  ".join(
        f"{t:.0f}s:{result.events - pending:,}/{rss:.0f}MB" for t, pending, rss in chosen
    )


def _delivery_figures(conn: sqlite3.Connection, events: int) -> Drain:
    requests, delivered_in_log, first_sent, bad = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN verdict = 'delivered' THEN event_count END), 0),"
        " MIN(sent_at), COALESCE(SUM(verdict != 'delivered'), 0) FROM deliveries"
    ).fetchone()
    (last_settled,) = conn.execute(
        "SELECT MAX(updated_at) FROM events WHERE status = 'delivered'"
    ).fetchone()
    by_status = {
        str(k): int(v)
        for k, v in conn.execute("SELECT status, COUNT(*) FROM events GROUP BY status")
    }
    delivered = by_status.get("delivered", 0)
    if delivered != int(delivered_in_log):
        raise BenchError(
            f"{delivered} events delivered but the delivery log counts {delivered_in_log}"
        )
    return Drain(
        events=events,
        wall_s=0.0,
        active_s=(last_settled - first_sent) if first_sent and last_settled else 0.0,
        requests=int(requests),
        delivered_events=delivered,
        failed_events=by_status.get("failed", 0),
        non_delivered_requests=int(bad),
        peak_rss_mb=0.0,
        hwm_rss_mb=0.0,
        rss_samples=0,
        by_status=by_status,
    )
