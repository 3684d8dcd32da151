"""Memory and CPU of a benchmarked service, from /proc: one process or its whole tree.

A service of several processes (`serve` starting ingest and delivery processes) is measured
as the sum of its processes' RSS: what the machine gives it. Shared library pages count once
per process there, so the sum is the conservative figure; PSS (each shared page split among
its users) is shown beside it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_S = 0.1


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB; (0, 0) once it is gone."""
    rss = hwm = 0.0
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) / 1024
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, hwm


def pss_mb(pid: int) -> float:
    """Proportional set size in MB (0 once the process is gone or unreadable)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # utime and stime are the 14th and 15th fields; the 3rd onwards follow the ")".
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_s(root: int) -> float:
    """CPU seconds of `root` and its living descendants: under a loaded machine, CPU per event
    moves far less than events per second."""
    return sum(cpu_s(pid) for pid in tree(root))


def tree(pid: int) -> list[int]:
    """`pid` and every descendant of it (from /proc/<pid>/task/<tid>/children)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                with contextlib.suppress(OSError):
                    todo.extend(int(c) for c in (task / "children").read_text().split())
    return found


@dataclass(slots=True)
class TreeMemory:
    """Peaks over the samples taken: summed RSS and PSS of the tree, and its process count."""

    peak_rss_mb: float = 0.0
    peak_pss_mb: float = 0.0
    processes: int = 0
    samples: int = 0
    per_process: dict[int, float] = field(default_factory=dict)  # peak RSS by pid

    def sample(self, root: int, with_pss: bool) -> None:
        pids = tree(root)
        total = 0.0
        for pid in pids:
            rss = rss_mb(pid)[0]
            total += rss
            self.per_process[pid] = max(self.per_process.get(pid, 0.0), rss)
        self.peak_rss_mb = max(self.peak_rss_mb, total)
        if with_pss:
            self.peak_pss_mb = max(self.peak_pss_mb, sum(pss_mb(pid) for pid in pids))
        self.processes = max(self.processes, len(pids))
        self.samples += 1


@contextlib.contextmanager
def sampled(root: int, every_s: float = SAMPLE_S) -> Iterator[TreeMemory]:
    """Sample the process tree of `root` in a thread while the block runs (PSS every 5th)."""
    memory = TreeMemory()
    stop = threading.Event()

    def run() -> None:
        n = 0
        while not stop.is_set():
            memory.sample(root, with_pss=n % 5 == 0)
            n += 1
            stop.wait(every_s)

    thread = threading.Thread(target=run, name="rss-sampler", daemon=True)
    thread.start()
    try:
        yield memory
    finally:
        stop.set()
        thread.join(timeout=5)
        memory.sample(root, with_pss=True)
