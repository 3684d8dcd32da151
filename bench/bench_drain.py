"""Draining a backlog to the TikTok emulator with the limits lifted.

Target: a 100,000-event backlog drains at >= 10,000 events/s, with >= 900 events per TikTok
request on average.

Each run: a fresh SQLite database is preloaded through the store (`SqlStore.add_events` with
NewEvents made by `prepare_event` and the ingest conversion); then the emulator (keeping no
events) and `tiktok-ads worker` start as subprocesses with TIKTOK_RATE_LIMIT_RPS=1000,
TIKTOK_DAILY_EVENT_LIMIT=100000000 and TIKTOK_BATCH_LINGER_MS=0, and the database is polled
(read-only) until no event is queued, retrying or sending. The rate is delivered events over
the time from the first request sent to the last batch settled (the `deliveries` log and the
events' settle times); the wall time from spawning the worker is shown too.

Prerequisites: the venv.
Run: .venv/bin/python -m bench.bench_drain [--events 100000] [--runs 2]
Quick: .venv/bin/python -m bench.bench_drain --events 20000 --runs 1
"""

from __future__ import annotations

import argparse

from bench.backlog import Drain, add_backlog_options, drain, preload, timeline_text
from bench.harness import Figure, Processes, median, report, run_main, workdir

TARGET_EVENTS_PER_S = 10_000
TARGET_EVENTS_PER_REQUEST = 900


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_backlog_options(parser, events=100_000, timeout_s=600.0)
    args = parser.parse_args()
    run_main("drain", lambda: bench(args))


def print_drain(label: str, result: Drain) -> None:
    print(
        f"  {label}: {result.rate:9.0f} events/s first request -> last settle "
        f"({result.active_s:.2f} s); wall from worker spawn {result.wall_s:.2f} s "
        f"({result.wall_rate:.0f} events/s); {result.requests} requests, "
        f"{result.events_per_request:.1f} events/request; peak RSS {result.peak_rss_mb:.0f} MB "
        f"(VmHWM {result.hwm_rss_mb:.0f} MB); statuses {result.by_status}\n"
        f"    time:delivered/RSS  {timeline_text(result)}",
        flush=True,
    )


def bench(args: argparse.Namespace) -> None:
    results: list[Drain] = []
    for i in range(args.runs):
        with workdir(args.keep_tmp) as tmp, Processes() as procs:
            db = tmp / "b.db"
            seconds = preload(db, args.events, chunk=args.chunk)
            print(
                f"run {i + 1}: preloaded {args.events:,} events in {seconds:.1f} s "
                f"({args.events / seconds:,.0f} events/s)",
                flush=True,
            )
            profile = None
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
                profile = args.profile / f"drain-{i + 1}"
            result = drain(procs, tmp, db, args.events, args.timeout, profile)
            print_drain(f"run {i + 1}", result)
            results.append(result)
    rate = median([r.rate for r in results])
    per_request = median([r.events_per_request for r in results])
    complete = all(
        r.delivered_events == args.events and r.non_delivered_requests == 0 for r in results
    )
    report(
        "drain",
        [
            Figure(
                f"drain {args.events:,}-event backlog",
                rate,
                "events/s",
                target=f">= {TARGET_EVENTS_PER_S:,}",
                ok=rate >= TARGET_EVENTS_PER_S,
                runs=[r.rate for r in results],
            ),
            Figure(
                "drain incl. worker start-up (wall)",
                median([r.wall_rate for r in results]),
                "events/s",
                runs=[r.wall_rate for r in results],
            ),
            Figure(
                "events per TikTok request",
                per_request,
                "events",
                target=f">= {TARGET_EVENTS_PER_REQUEST}",
                ok=per_request >= TARGET_EVENTS_PER_REQUEST,
                runs=[r.events_per_request for r in results],
            ),
            Figure(
                "all delivered, no failed request",
                float(complete),
                "",
                target="1",
                ok=complete,
            ),
            Figure(
                "worker peak RSS",
                median([r.peak_rss_mb for r in results]),
                "MB",
                runs=[r.peak_rss_mb for r in results],
            ),
        ],
    )


if __name__ == "__main__":
    main()
