"""End to end through the default `tiktok-ads serve`: 100 batches of 1,000 events posted by 4
client threads, timed until TikTok has every one of them.

Targets (issue 9): >= 20,000 events/s (goal 30,000); >= 990 events per TikTok request while
the backlog drains; peak RSS of the whole service (all its processes) <= 120 MB (goal 100).

Each run starts a fresh service (the documented command, delivery worker included; TikTok's
pace and daily cap lifted) on a fresh SQLite file, with TikTok played by bench/tiktok_sink.py,
a simple Python HTTP server that parses each request and counts distinct event_ids. After a
warm-up (a few batches, delivered and waited for), the clock runs from the first post to the
moment the sink holds all 100,000 new event_ids; events per request are the sink's items over
its requests in that time (a resend would show as more items than distinct ids). Memory is
the peak of the summed VmRSS of the service's process tree, sampled every 0.1 s.
With `--compare DIR` another checkout runs the same workload, alternating, in the same run.

Prerequisites: the venv.
Run: .venv/bin/python -m bench.bench_end_to_end [--runs 3] [--compare ../wt-base]
Quick: .venv/bin/python -m bench.bench_end_to_end --runs 1 --batches 20
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

from bench import profiling, rss
from bench.harness import BenchError, Figure, Processes, median, report, run_main, workdir
from bench.load import (
    Target,
    add_batch_options,
    add_target_options,
    alternate,
    batch_template,
    post_batches,
    ratio_figures,
    running,
    sink_stats,
    targets,
    wait_for_sink,
)

TARGET_EVENTS_PER_S = 20_000
TARGET_EVENTS_PER_REQUEST = 990
TARGET_RSS_MB = 120.0


@dataclass(slots=True)
class EndToEnd:
    events: int
    seconds: float
    post_rate: float
    requests: int
    items: int
    memory: rss.TreeMemory
    cpu_s: float

    @property
    def cpu_us_per_event(self) -> float:
        return self.cpu_s / self.events * 1e6

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    @property
    def per_request(self) -> float:
        return self.items / self.requests if self.requests else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_batch_options(parser, batches=100)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run, at most")
    add_target_options(parser)
    args = parser.parse_args()
    run_main("end_to_end", lambda: bench(args))


def measure(
    procs: Processes, tmp: Path, target: Target, args: argparse.Namespace, template: bytes, i: int
) -> EndToEnd:
    size = args.batch_size
    with running(procs, tmp, target) as svc:
        if args.warmup:
            post_batches(svc.base_url, template, size, args.warmup, args.clients, "w")
            wait_for_sink(svc.sink_url, args.warmup * size, timeout_s=60)
        before = sink_stats(svc.sink_url)
        total = args.batches * size
        profile = None
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            profile = args.profile / f"end-to-end-{target.label}-{i + 1}.txt"
        cpu_before = rss.tree_cpu_s(svc.service.pid)
        with rss.sampled(svc.service.pid) as memory, profiling.record(svc.service.pid, profile):
            started = time.time()
            posted = post_batches(svc.base_url, template, size, args.batches, args.clients, "r")
            after = wait_for_sink(svc.sink_url, before["distinct"] + total, args.timeout)
        cpu_s = rss.tree_cpu_s(svc.service.pid) - cpu_before
        if after["bad"]:
            raise BenchError(f"TikTok could not read {after['bad']} request(s)")
    assert after["last_at"] is not None
    result = EndToEnd(
        events=total,
        seconds=after["last_at"] - started,
        post_rate=posted.rate,
        requests=int(after["requests"] - before["requests"]),
        items=int(after["items"] - before["items"]),
        memory=memory,
        cpu_s=cpu_s,
    )
    print(
        f"  run {i + 1} {target.label:>6}: {result.rate:9.0f} events/s end to end "
        f"({result.seconds:.2f} s; posting took {posted.seconds:.2f} s = "
        f"{posted.rate:,.0f} events/s); {result.requests} TikTok requests, "
        f"{result.per_request:.1f} events/request; service CPU "
        f"{result.cpu_us_per_event:.0f} µs/event; RSS peak {memory.peak_rss_mb:.0f} MB "
        f"(PSS {memory.peak_pss_mb:.0f} MB) over {memory.processes} process(es)",
        flush=True,
    )
    return result


def bench(args: argparse.Namespace) -> None:
    template = batch_template(args.batch_size)
    chosen = targets(args)
    for target in chosen:
        print(target.describe())
    print(
        f"{args.clients} client threads post {args.batches} bodies of {args.batch_size} events; "
        f"timed until TikTok (bench/tiktok_sink.py) has them all; {args.runs} run(s)"
    )
    with workdir(args.keep_tmp) as tmp, Processes() as procs:
        results = alternate(
            args.runs, chosen, lambda target, i: measure(procs, tmp, target, args, template, i)
        )
    figures: list[Figure] = []
    for target in chosen:
        got = results[target.label]
        mine = target.label == "this"
        rate = median([r.rate for r in got])
        per_request = median([r.per_request for r in got])
        peak = max(r.memory.peak_rss_mb for r in got)
        figures += [
            Figure(
                f"{target.label}: end to end, {args.batches} x {args.batch_size} by "
                f"{args.clients} clients",
                rate,
                "events/s",
                target=f">= {TARGET_EVENTS_PER_S:,}" if mine else "",
                ok=rate >= TARGET_EVENTS_PER_S if mine else None,
                runs=[r.rate for r in got],
            ),
            Figure(
                f"{target.label}: posting alone (ingest while delivering)",
                median([r.post_rate for r in got]),
                "events/s",
                runs=[r.post_rate for r in got],
            ),
            Figure(
                f"{target.label}: service CPU per event (all processes)",
                median([r.cpu_us_per_event for r in got]),
                "µs",
                runs=[r.cpu_us_per_event for r in got],
            ),
            Figure(
                f"{target.label}: events per TikTok request while draining",
                per_request,
                "events",
                target=f">= {TARGET_EVENTS_PER_REQUEST}" if mine else "",
                ok=per_request >= TARGET_EVENTS_PER_REQUEST if mine else None,
                runs=[r.per_request for r in got],
            ),
            Figure(
                f"{target.label}: service peak RSS, all processes (max of runs)",
                peak,
                "MB",
                target=f"<= {TARGET_RSS_MB:.0f}" if mine else "",
                ok=peak <= TARGET_RSS_MB if mine else None,
                runs=[r.memory.peak_rss_mb for r in got],
            ),
            Figure(
                f"{target.label}: service peak PSS, all processes",
                median([r.memory.peak_pss_mb for r in got]),
                "MB",
                runs=[r.memory.peak_pss_mb for r in got],
            ),
        ]
    figures += ratio_figures(results, chosen)
    report("end_to_end", figures)


if __name__ == "__main__":
    main()
