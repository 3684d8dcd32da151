"""A 1,000,000-row customer list (email, phone) uploaded as CSV to a real `serve` process,
until TikTok (the emulator, in its own process) holds every id.

Targets: done at TikTok within 60 s; the server's peak RSS <= 200 MB (the file is streamed,
never held). Phone numbers cost ~20-40 µs each to parse (libphonenumber in Python), so big
uploads are hashed in TIKTOK_AUDIENCE_HASH_WORKERS processes; their RSS is reported apart.

Reported: seconds until the 202 (every row hashed and its ids stored), seconds until the job
is done at TikTok (files uploaded, audience created, members recorded), and peak RSS (VmRSS
sampled every 0.1 s, and the kernel's VmHWM) of the server and of its hashing processes, and
how many hashing processes are still running once the job is done (none: they leave with the
upload).

Run: .venv/bin/python -m bench.bench_audience_upload [--rows 1000000] [--runs 1]
Quick: .venv/bin/python -m bench.bench_audience_upload --rows 50000
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import rss
from bench.harness import (
    HOST,
    BenchError,
    Figure,
    Proc,
    Processes,
    cli,
    free_port,
    median,
    report,
    run_main,
    service_env,
    start_emulator,
    wait_until_serving,
    workdir,
)

API = "/api/integrations/tiktok-ads"
AUTH = {"Authorization": "Bearer bench-key"}
ADVERTISER = "7000000099"
TARGET_SECONDS = 60.0
TARGET_RSS_MB = 200.0


@dataclass(slots=True)
class Upload:
    accepted_s: float
    done_s: float
    ids: int
    server_peak_mb: float
    server_hwm_mb: float
    workers_peak_mb: float
    workers_left: int


def write_csv(path: Path, rows: int) -> None:
    """email,phone rows: distinct addresses and valid Romanian mobile numbers."""
    with path.open("w") as out:
        out.write("email,phone\n")
        for start in range(0, rows, 100_000):
            out.write(
                "".join(
                    f"fan{i}@example.com,+40722{i:06d}\n"
                    for i in range(start, min(rows, start + 100_000))
                )
            )


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _hashing_children(pid: int) -> list[int]:
    """The children multiprocessing spawned as workers (not its resource tracker)."""
    found = []
    for child in _children(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except OSError:
            pass
    return found


class RssSampler(threading.Thread):
    """Peak RSS of the server, and the largest of its children (the hashing processes)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.server_peak, self.server_hwm, self.workers_peak = pid, 0.0, 0.0, 0.0
        self.workers_cpu: dict[int, float] = {}
        self.timeline: list[tuple[float, float]] = []  # (seconds, server RSS MB) every 5 s
        self.stop = threading.Event()

    def run(self) -> None:
        started = time.perf_counter()
        while not self.stop.wait(0.1):
            now_mb, hwm = rss.rss_mb(self.pid)
            elapsed = time.perf_counter() - started
            if not self.timeline or elapsed - self.timeline[-1][0] >= 5:
                self.timeline.append((elapsed, now_mb))
            self.server_peak = max(self.server_peak, now_mb)
            self.server_hwm = max(self.server_hwm, hwm)
            for child in _children(self.pid):
                self.workers_peak = max(self.workers_peak, rss.rss_mb(child)[0])
                cpu = max(self.workers_cpu.get(child, 0.0), rss.cpu_s(child))
                self.workers_cpu[child] = cpu


def one_run(procs: Processes, tmp: Path, csv: Path, rows: int, workers: int) -> Upload:
    emulator_port, port = free_port(), free_port()
    emulator = start_emulator(procs, tmp, emulator_port)
    env = service_env(
        tmp / "audiences.db",
        f"http://{HOST}:{emulator_port}/open_api",
        TIKTOK_ADVERTISER_ID=ADVERTISER,
        TIKTOK_AUDIENCE_HASH_WORKERS=str(workers),
    )
    argv = cli("serve", "--host", HOST, "--port", str(port), "--log-level", "warning")
    server: Proc = procs.start("service", argv, env, tmp, cwd=tmp)
    base = f"http://{HOST}:{port}"
    wait_until_serving(f"{base}/healthz", server)
    body = {"advertiser_id": ADVERTISER, "custom_audience_name": "Bench list"}
    audience = httpx.post(f"{base}{API}/audiences", json=body, headers=AUTH).json()["id"]
    sampler = RssSampler(server.pid)
    sampler.start()
    cpu_before = rss.cpu_s(server.pid), rss.cpu_s(emulator.pid)
    size = csv.stat().st_size

    def chunks() -> Iterator[bytes]:
        with csv.open("rb") as handle:
            while chunk := handle.read(256 * 1024):
                yield chunk

    started = time.perf_counter()
    response = httpx.post(
        f"{base}{API}/audiences/{audience}/upload",
        content=chunks(),
        headers={**AUTH, "Content-Type": "text/csv", "Content-Length": str(size)},
        timeout=600,
    )
    accepted = time.perf_counter() - started
    if response.status_code != 202:
        raise BenchError(f"upload answered {response.status_code}: {response.text[:300]}")
    view: dict[str, object] = {}
    for _ in range(3_600):  # polled twice a second: the polling must not cost the server much
        view = httpx.get(f"{base}{API}/audiences/{audience}", headers=AUTH, timeout=30).json()
        if view["status"] in ("ready", "failed"):
            break
        time.sleep(0.5)
    done = time.perf_counter() - started
    workers_left = len(_hashing_children(server.pid))
    sampler.stop.set()
    sampler.join()
    server_cpu = rss.cpu_s(server.pid) - cpu_before[0]
    emulator_cpu = rss.cpu_s(emulator.pid) - cpu_before[1]
    if view.get("status") != "ready":
        raise BenchError(f"the audience did not become ready: {view}")
    print(
        f"  {rows:,} rows: 202 after {accepted:.1f} s, done at TikTok after {done:.1f} s; "
        f"{view['member_count']:,} ids (TikTok counts {view['cover_num']:,}); server peak "
        f"{sampler.server_peak:.0f} MB (VmHWM {sampler.server_hwm:.0f}), hashing processes "
        f"{sampler.workers_peak:.0f} MB each at most, {workers_left} still running once done\n"
        f"  CPU: server {server_cpu:.1f} s, "
        f"hashing processes {sum(sampler.workers_cpu.values()):.1f} s, emulator (TikTok) "
        f"{emulator_cpu:.1f} s\n  server RSS: "
        + ", ".join(f"{t:.0f}s {mb:.0f}MB" for t, mb in sampler.timeline),
        flush=True,
    )
    procs.stop(server)
    return Upload(
        accepted,
        done,
        int(str(view["member_count"])),
        sampler.server_peak,
        sampler.server_hwm,
        sampler.workers_peak,
        workers_left,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--hash-workers", type=int, default=2)
    parser.add_argument("--keep-tmp", action="store_true")
    args = parser.parse_args()
    run_main("audience_upload", lambda: bench(args))


def bench(args: argparse.Namespace) -> None:
    results: list[Upload] = []
    for i in range(args.runs):
        with workdir(args.keep_tmp) as tmp, Processes() as procs:
            csv = tmp / "customers.csv"
            write_csv(csv, args.rows)
            print(f"run {i + 1}: {csv.stat().st_size / 1e6:.0f} MB of CSV", flush=True)
            results.append(one_run(procs, tmp, csv, args.rows, args.hash_workers))
    report(
        "audience_upload",
        [
            Figure(
                f"{args.rows:,}-row CSV done at TikTok",
                median([r.done_s for r in results]),
                "s",
                target=f"<= {TARGET_SECONDS:.0f}",
                ok=max(r.done_s for r in results) <= TARGET_SECONDS,
                runs=[r.done_s for r in results],
            ),
            Figure(
                "202 (all rows hashed, ids stored)",
                median([r.accepted_s for r in results]),
                "s",
                runs=[r.accepted_s for r in results],
            ),
            Figure(
                "server peak RSS",
                median([r.server_peak_mb for r in results]),
                "MB",
                target=f"<= {TARGET_RSS_MB:.0f}",
                ok=max(r.server_hwm_mb for r in results) <= TARGET_RSS_MB,
                runs=[r.server_peak_mb for r in results],
            ),
            Figure(
                "server VmHWM (kernel peak)",
                median([r.server_hwm_mb for r in results]),
                "MB",
                runs=[r.server_hwm_mb for r in results],
            ),
            Figure(
                "hashing process peak RSS (each)",
                median([r.workers_peak_mb for r in results]),
                "MB",
                runs=[r.workers_peak_mb for r in results],
            ),
            Figure(
                "hashing processes running once done",
                median([r.workers_left for r in results]),
                "",
                target="0",
                ok=max(r.workers_left for r in results) == 0,
                runs=[r.workers_left for r in results],
            ),
        ],
    )


if __name__ == "__main__":
    main()
