"""Run every benchmark in order, each in its own process, then print one summary table.

Full size takes about 10-15 minutes on 2 cores (the 1,000,000-event backlog is most of it);
`--quick` shrinks every size and duration to check that the benchmarks work (a minute or two;
its figures are not the targets' figures).

The speed of the default `tiktok-ads serve` (issue 9) is `single_event`, `batch` and
`end_to_end` (which also gives events per TikTok request and the service's peak RSS); with
`--compare DIR` each of them also runs DIR's checkout (its own .venv) in the same run, for a
before/after that the machine's load cannot skew: `git worktree add --detach ../base main`,
`make -C ../base .venv/.installed-run`, then `--compare ../base`.

Prerequisites: the venv; wrk (`apt-get update && apt-get install -y wrk` as root) for the
single-event benchmark; py-spy only with --profile. Nothing is installed by this script.
Run: .venv/bin/python -m bench.run_all [--quick] [--only single_event,batch] [--profile DIR]
     [--compare DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import REPO, RESULT_PREFIX, catch_interrupts, context

_MICROS = re.compile(r"^(?P<name>[^:]+):\s+(?P<value>[\d.]+) µs/event")


@dataclass(frozen=True, slots=True)
class Bench:
    name: str
    module: str
    quick: tuple[str, ...]
    timeout_s: float
    profiles: bool = True
    compares: bool = False  # takes --compare DIR (another checkout, same run)


BENCHES = (
    Bench("prepare_event", "bench.bench_prepare_event", (), 300, profiles=False),
    Bench(
        "single_event",
        "bench.bench_single_event",
        ("--duration", "3", "--pairs", "1", "--warmup", "1"),
        900,
        compares=True,
    ),
    Bench("batch", "bench.bench_batch", ("--runs", "1", "--batches", "8"), 900, compares=True),
    Bench(
        "end_to_end",
        "bench.bench_end_to_end",
        ("--runs", "1", "--batches", "20"),
        1800,
        compares=True,
    ),
    Bench(
        "group_sizes",
        "bench.bench_group_sizes",
        ("--runs", "1", "--events", "20000"),
        900,
        profiles=False,
        compares=True,
    ),
    Bench("drain", "bench.bench_drain", ("--events", "20000", "--runs", "1"), 1800),
    Bench("worker_rss", "bench.bench_worker_rss", ("--events", "50000", "--runs", "1"), 5400),
    Bench(
        "audience_upload",
        "bench.bench_audience_upload",
        ("--rows", "20000"),
        1800,
        profiles=False,
    ),
)


@dataclass(slots=True)
class Outcome:
    bench: str
    figures: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


def run_one(bench: Bench, argv: list[str]) -> Outcome:
    """Run one benchmark, echoing its output; stopped (SIGINT, then SIGKILL) past its timeout."""
    outcome = Outcome(bench.name)
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", bench.module, *argv],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # so Ctrl-C here stops it cleanly through _interrupt
    )
    timer = threading.Timer(bench.timeout_s, _interrupt, (child,))
    timer.start()
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith(RESULT_PREFIX):
                outcome.figures = json.loads(line[len(RESULT_PREFIX) :])["figures"]
                continue
            print(line, end="", flush=True)
            if bench.module == "bench.bench_prepare_event" and (m := _MICROS.match(line)):
                outcome.figures.append(
                    {"name": m["name"].strip(), "value": float(m["value"]), "unit": "µs/event"}
                )
        code = child.wait()
    except KeyboardInterrupt:
        _interrupt(child)
        raise
    finally:
        timer.cancel()
    outcome.seconds = time.perf_counter() - started
    if code != 0:
        timed_out = outcome.seconds >= bench.timeout_s
        outcome.error = f"exit {code}" + (
            f" (stopped after {bench.timeout_s:.0f} s)" if timed_out else ""
        )
    elif not outcome.figures:
        outcome.error = "printed no figures"
    return outcome


def _interrupt(child: subprocess.Popen[str]) -> None:
    """Ask the benchmark to stop (it cleans up its subprocesses), then make it."""
    if child.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGINT)
    try:
        child.wait(timeout=60)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)


def table(outcomes: list[Outcome]) -> str:
    rows = [("benchmark", "figure", "value", "target", "verdict", "runs")]
    for outcome in outcomes:
        if outcome.error:
            rows.append((outcome.bench, f"NOT RUN: {outcome.error}", "", "", "", ""))
        for fig in outcome.figures:
            ok = fig.get("ok")
            verdict = "PASS" if ok is True else "MISS" if ok is False else ""
            runs = fig.get("runs") or []
            rows.append(
                (
                    outcome.bench,
                    fig["name"],
                    f"{_fmt(fig['value'])} {fig.get('unit', '')}".strip(),
                    fig.get("target", ""),
                    verdict,
                    " / ".join(_fmt(v) for v in runs) if len(runs) > 1 else "",
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _fmt(value: float) -> str:
    if value != value:  # NaN
        return "n/a"
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--only", help="comma-separated names: " + ",".join(b.name for b in BENCHES)
    )
    parser.add_argument("--profile", type=Path, help="directory for py-spy profiles")
    parser.add_argument(
        "--compare",
        type=Path,
        help="another checkout with its own .venv (e.g. a worktree of main): the service "
        "benchmarks run it too, alternately, in the same run",
    )
    args = parser.parse_args()
    chosen = [b for b in BENCHES if not args.only or b.name in args.only.split(",")]
    if not chosen:
        parser.error("--only names no benchmark")
    catch_interrupts()
    print(f"[run_all] {context()}", flush=True)
    outcomes: list[Outcome] = []
    try:
        for bench in chosen:
            argv = list(bench.quick) if args.quick else []
            if args.profile and bench.profiles:
                argv += ["--profile", str(args.profile)]
            if args.compare and bench.compares:
                argv += ["--compare", str(args.compare)]
            print(f"\n######## {bench.name}: python -m {bench.module} {' '.join(argv)}", flush=True)
            outcomes.append(run_one(bench, argv))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
    print(
        "\n######## summary"
        + (" (--quick: smoke sizes, not the targets' figures)" if args.quick else "")
    )
    print(table(outcomes))
    missed = sum(1 for o in outcomes for f in o.figures if f.get("ok") is False)
    print(
        f"\n{missed} target(s) missed; {sum(1 for o in outcomes if o.error)} benchmark(s) not run"
    )
    sys.exit(1 if any(o.error for o in outcomes) or len(outcomes) < len(chosen) else 0)


if __name__ == "__main__":
    main()
