"""Where a benchmarked process spends its time: py-spy samples and a plain-text summary.

`record(pid, out)` samples a running process and its children (only the threads holding the
GIL, so idle thread-pool workers don't count; BENCH_PROFILE_ALL_THREADS=1: every running thread,
which shows SQLite's work on the store threads, done without the GIL) into py-spy's
collapsed-stack format while a block runs; `summarize(out)` prints the functions with the
largest inclusive and self share.

Prerequisites (profiling only, not a project dependency): py-spy in the venv
(`.venv/bin/pip install py-spy`); root or ptrace permission to attach.
Run: .venv/bin/python -m bench.profiling FILE.txt [--top 40] [--under FUNCTION]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from bench.harness import BenchError

_LINE_NO = re.compile(r":\d+\)$")


def _py_spy() -> str:
    local = Path(sys.executable).with_name("py-spy")
    found = str(local) if local.exists() else shutil.which("py-spy")
    if not found:
        raise BenchError("py-spy is not installed: .venv/bin/pip install py-spy (profiling only)")
    return found


@contextlib.contextmanager
def record(pid: int, out: Path | None, rate: int = 200) -> Iterator[None]:
    """Sample `pid` while the block runs (nothing when `out` is None)."""
    if out is None:
        yield
        return
    argv = [_py_spy(), "record", "--pid", str(pid), "-r", str(rate), "-f", "raw"]
    if not os.environ.get("BENCH_PROFILE_ALL_THREADS"):
        argv.append("--gil")
    argv.append("--subprocesses")  # a service of several processes: all of them
    spy = subprocess.Popen(
        [*argv, "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        yield
    finally:
        if spy.poll() is None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait(timeout=10)
        print(f"  profile of pid {pid}: {out}" + ("" if out.exists() else " (not written)"))


def summarize(path: Path, top: int = 30, under: str | None = None) -> str:
    """The top functions by inclusive and by self share of the samples (line numbers merged)."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_LINE_NO.sub(")", f) for f in stack.split(";")]
        if under is not None:
            starts = [i for i, f in enumerate(frames) if under in f]
            if not starts:
                continue
            frames = frames[starts[0] :]
        n = int(count)
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    if not total:
        return f"{path}: no samples"
    lines = [f"{path}: {total} samples" + (f" under {under}" if under else "")]
    lines.append("-- inclusive")
    lines += [f"{100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    lines.append("-- self")
    lines += [f"{100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--under", help="only samples below the first frame containing this")
    args = parser.parse_args()
    print(summarize(args.file, args.top, args.under))


if __name__ == "__main__":
    main()
