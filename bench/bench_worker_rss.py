"""Memory of `tiktok-ads worker` while a 1,000,000-event backlog drains.

Target: the worker's RSS stays <= 150 MB.

Each run preloads the backlog into a fresh SQLite database through the store's add_events,
in chunks of a few thousand, in this process; then the emulator (keeping no events) and the
worker start as subprocesses with the limits lifted (see bench/bench_drain.py). VmRSS of the
worker is read from /proc/<pid>/status every 0.2 s until the queue is empty; the peak is
reported, with the kernel's own high-water mark (VmHWM) beside it.

Prerequisites: Linux (/proc), the venv; about 1 GB of free disk in the temp directory.
Run: .venv/bin/python -m bench.bench_worker_rss [--events 1000000] [--runs 2]
Quick: .venv/bin/python -m bench.bench_worker_rss --events 50000 --runs 1
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.backlog import Drain, add_backlog_options, drain, preload
from bench.bench_drain import print_drain
from bench.harness import BenchError, Figure, Processes, median, report, run_main, workdir

TARGET_RSS_MB = 150.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_backlog_options(parser, events=1_000_000, timeout_s=1800.0)
    args = parser.parse_args()
    run_main("worker_rss", lambda: bench(args))


def bench(args: argparse.Namespace) -> None:
    if not Path("/proc/self/status").exists() or not sys.platform.startswith("linux"):
        raise BenchError("needs Linux: the RSS is read from /proc/<pid>/status")
    results: list[Drain] = []
    preload_rates: list[float] = []
    for i in range(args.runs):
        with workdir(args.keep_tmp) as tmp, Processes() as procs:
            db = tmp / "b.db"
            seconds = preload(db, args.events, chunk=args.chunk)
            preload_rates.append(args.events / seconds)
            print(
                f"run {i + 1}: preloaded {args.events:,} events in {seconds:.1f} s "
                f"({args.events / seconds:,.0f} events/s), database "
                f"{db.stat().st_size / 1e6:.0f} MB",
                flush=True,
            )
            profile = None
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
                profile = args.profile / f"rss-{i + 1}"
            result = drain(procs, tmp, db, args.events, args.timeout, profile)
            print_drain(f"run {i + 1}", result)
            results.append(result)
    peak = median([r.peak_rss_mb for r in results])
    report(
        "worker_rss",
        [
            Figure(
                f"worker peak RSS, {args.events:,}-event backlog",
                peak,
                "MB",
                target=f"<= {TARGET_RSS_MB:.0f}",
                ok=max(r.peak_rss_mb for r in results) <= TARGET_RSS_MB,
                runs=[r.peak_rss_mb for r in results],
            ),
            Figure(
                "worker VmHWM (kernel peak)",
                median([r.hwm_rss_mb for r in results]),
                "MB",
                runs=[r.hwm_rss_mb for r in results],
            ),
            Figure(
                "drain rate",
                median([r.rate for r in results]),
                "events/s",
                runs=[r.rate for r in results],
            ),
            Figure(
                "preload through add_events",
                median(preload_rates),
                "events/s",
                runs=preload_rates,
            ),
        ],
    )


if __name__ == "__main__":
    main()
