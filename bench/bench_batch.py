"""`POST /events/batch` throughput of the default `tiktok-ads serve`: 1,000 events per request,
4 client threads, 24 batches.

Target (issue 9): >= 35,000 events/s accepted (durable), goal 50,000.

Each run starts a fresh service (the documented command, delivery worker included, TikTok's
pace lifted, TikTok played by bench/tiktok_sink.py) on a fresh SQLite file, warms it up with a
few batches, then 4 threads post 24 bodies of the seed's CompletePayment event (1,000
different customers; unique event_ids per request, so nothing is deduplicated). The rate is
events over first send → last answer; every answer must be 200 with all 1,000 `queued`. The
figure is the median of the runs; the service's memory (all its processes) is sampled too.
With `--compare DIR` another checkout runs the same workload, alternating, in the same run.

Prerequisites: the venv.
Run: .venv/bin/python -m bench.bench_batch [--runs 3] [--compare ../wt-base] [--serve-args ...]
Quick: .venv/bin/python -m bench.bench_batch --runs 1 --batches 8
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench import profiling, rss
from bench.harness import Figure, Processes, median, report, run_main, workdir
from bench.load import (
    BatchRun,
    Target,
    add_batch_options,
    add_target_options,
    alternate,
    batch_template,
    post_batches,
    ratio_figures,
    running,
    targets,
    wait_for_sink,
)

TARGET_EVENTS_PER_S = 35_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_batch_options(parser, batches=24)
    add_target_options(parser)
    args = parser.parse_args()
    run_main("batch", lambda: bench(args))


def measure(
    procs: Processes, tmp: Path, target: Target, args: argparse.Namespace, template: bytes, i: int
) -> tuple[BatchRun, rss.TreeMemory]:
    size = args.batch_size
    with running(procs, tmp, target) as svc:
        if args.warmup:
            post_batches(svc.base_url, template, size, args.warmup, args.clients, "w")
        # The warm-up's events reach TikTok first: delivery of the run's own events only.
        wait_for_sink(svc.sink_url, args.warmup * size, timeout_s=60)
        profile = None
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            profile = args.profile / f"batch-{target.label}-{i + 1}.txt"
        cpu_before = rss.tree_cpu_s(svc.service.pid)
        with rss.sampled(svc.service.pid) as memory, profiling.record(svc.service.pid, profile):
            run = post_batches(svc.base_url, template, size, args.batches, args.clients, "r")
        run.cpu_s = rss.tree_cpu_s(svc.service.pid) - cpu_before
    lat = sorted(run.latencies_ms)
    print(
        f"  run {i + 1} {target.label:>6}: {run.rate:9.0f} events/s  ({run.requests} requests "
        f"in {run.seconds:.2f} s; latency median {median(lat):.0f} ms, max {lat[-1]:.0f} ms; "
        f"service CPU {run.cpu_us_per_event:.0f} µs/event; RSS peak {memory.peak_rss_mb:.0f} MB "
        f"over {memory.processes} process(es))",
        flush=True,
    )
    return run, memory


def bench(args: argparse.Namespace) -> None:
    template = batch_template(args.batch_size)
    chosen = targets(args)
    for target in chosen:
        print(target.describe())
    print(
        f"{args.clients} client threads, {args.batches} bodies of {args.batch_size} events "
        f"({len(template) / 1e6:.2f} MB) per run, {args.runs} run(s)"
    )
    with workdir(args.keep_tmp) as tmp, Processes() as procs:
        measured = alternate(
            args.runs, chosen, lambda target, i: measure(procs, tmp, target, args, template, i)
        )
    runs = {label: [run for run, _ in got] for label, got in measured.items()}
    peaks = {label: [memory.peak_rss_mb for _, memory in got] for label, got in measured.items()}
    figures: list[Figure] = []
    for target in chosen:
        rates = [r.rate for r in runs[target.label]]
        rate = median(rates)
        mine = target.label == "this"
        figures += [
            Figure(
                f"{target.label}: POST /events/batch ({args.batch_size}/request, "
                f"{args.clients} clients, {args.batches} batches)",
                rate,
                "events/s",
                target=f">= {TARGET_EVENTS_PER_S:,}" if mine else "",
                ok=rate >= TARGET_EVENTS_PER_S if mine else None,
                runs=rates,
            ),
            Figure(
                f"{target.label}: service CPU per event (all processes)",
                median([r.cpu_us_per_event for r in runs[target.label]]),
                "µs",
                runs=[r.cpu_us_per_event for r in runs[target.label]],
            ),
            Figure(
                f"{target.label}: batch request latency (median)",
                median([median(r.latencies_ms) for r in runs[target.label]]),
                "ms",
                runs=[median(r.latencies_ms) for r in runs[target.label]],
            ),
            Figure(
                f"{target.label}: service peak RSS (all processes)",
                median(peaks[target.label]),
                "MB",
                runs=peaks[target.label],
            ),
        ]
    figures += ratio_figures(runs, chosen)
    report("batch", figures)


if __name__ == "__main__":
    main()
