"""What the benchmarks share: loopback subprocesses that die with the run (Ctrl-C included),
the seed's event, the service's environment, and the result line `bench.run_all` reads.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
RESULT_PREFIX = "BENCH-RESULT "
HOST = "127.0.0.1"
PIXEL_ID = "CBENCH00000000000001"
ACCESS_TOKEN = "be4c0ffee0" * 4  # 40 hex characters, like a real Events API token
API_KEY = "bench-key"
EVENTS_PATH = "/api/integrations/tiktok-ads/events"
BATCH_PATH = EVENTS_PATH + "/batch"
START_TIMEOUT_S = 30.0
STOP_GRACE_S = 15.0


class BenchError(Exception):
    """A benchmark could not run (missing tool, a server that did not start, ...)."""


@dataclass(slots=True)
class Figure:
    """One measured number; `runs` holds each run's value, `value` their median."""

    name: str
    value: float
    unit: str
    target: str = ""
    ok: bool | None = None
    runs: list[float] = field(default_factory=list)


def report(bench: str, figures: Sequence[Figure]) -> None:
    """Print the figures readably, then as one JSON line for `bench.run_all`."""
    print(f"\n== {bench}: summary ==")
    for fig in figures:
        runs = ", ".join(_num(v) for v in fig.runs) if len(fig.runs) > 1 else ""
        verdict = "" if fig.ok is None else ("  PASS" if fig.ok else "  MISS")
        target = f"  (target {fig.target})" if fig.target else ""
        each = f"  [runs: {runs}]" if runs else ""
        print(f"  {fig.name}: {_num(fig.value)} {fig.unit}{target}{verdict}{each}")
    payload = {"bench": bench, "figures": [asdict(fig) for fig in figures]}
    print(RESULT_PREFIX + json.dumps(payload), flush=True)


def _num(value: float) -> str:
    if value != value:  # NaN
        return "n/a"
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def cli(*args: str, checkout: Path | None = None) -> list[str]:
    """The `tiktok-ads` console script of this venv (or the module, if not installed); with
    `checkout`, that checkout's own `.venv` (another revision, measured in the same run)."""
    if checkout is not None:
        script = checkout / ".venv" / "bin" / "tiktok-ads"
        if not script.exists():
            raise BenchError(f"{script} is missing: run `make .venv/.installed-run` in {checkout}")
        return [str(script), *args]
    script = Path(sys.executable).with_name("tiktok-ads")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "tiktok_ads.entrypoints.cli", *args]


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise BenchError(
            "wrk (the HTTP load generator) is not installed: as root run "
            "`apt-get update && apt-get install -y wrk`"
        )
    return path


def service_env(db_path: Path, api_base_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `tiktok-ads` subprocess: ours only, nothing inherited from TIKTOK_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIKTOK_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=f"sqlite:///{db_path}",
        TIKTOK_PIXEL_ID=PIXEL_ID,
        TIKTOK_ACCESS_TOKEN=ACCESS_TOKEN,
        TIKTOK_ADS_API_KEY=API_KEY,
        TIKTOK_API_BASE_URL=api_base_url,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def seed_event(event_id: str, event_time: int, customer: int | None = None) -> dict[str, Any]:
    """The seed's "Send Event" example; `customer` varies the person (email, phone, id)."""
    n = "" if customer is None else str(customer)
    phone = "+40721234567" if customer is None else f"+4072{customer % 10_000_000:07d}"
    return {
        "event_type": "CompletePayment",
        "event_time": event_time,
        "event_id": event_id,
        "user": {
            "email": f"customer{n}@example.com",
            "phone": phone,
            "external_id": f"user_456{n}",
        },
        "properties": {
            "value": 150.00,
            "currency": "EUR",
            "content_type": "product",
            "contents": [
                {
                    "content_id": "ticket_789",
                    "content_name": "Concert VIP Pass",
                    "quantity": 2,
                    "price": 75.00,
                }
            ],
        },
        "context": {
            "page_url": "https://yoursite.com/checkout/complete",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
            "ip": "192.168.1.1",
        },
    }


@dataclass(slots=True)
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def tail(self, lines: int = 25) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])


def _raise_interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


class Processes:
    """The subprocesses of one benchmark; each is stopped (then killed) when the block ends.

    Each child leads its own process group, so a terminal's Ctrl-C reaches only us and we
    stop them in order; SIGTERM to us is turned into the same clean exit.
    """

    def __init__(self) -> None:
        self._procs: list[Proc] = []
        self._old_term: Any = None

    def __enter__(self) -> Processes:
        self._old_term = signal.signal(signal.SIGTERM, _raise_interrupt)
        return self

    def __exit__(self, *_exc: object) -> None:
        try:
            for proc in reversed(self._procs):
                self.stop(proc)
        finally:
            signal.signal(signal.SIGTERM, self._old_term)

    def start(
        self, name: str, argv: Sequence[str], env: dict[str, str], logdir: Path, cwd: Path
    ) -> Proc:
        log = logdir / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                list(argv),
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = Proc(name, popen, log)
        self._procs.append(proc)
        return proc

    def stop(self, proc: Proc, grace_s: float = STOP_GRACE_S) -> None:
        """SIGTERM to the child's own process group, SIGKILL after `grace_s`."""
        if proc in self._procs:
            self._procs.remove(proc)
        if proc.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.popen.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.popen.wait(timeout=grace_s)


def wait_until_serving(url: str, proc: Proc, timeout_s: float = START_TIMEOUT_S) -> None:
    """Poll `url` until it answers below 500; fail with the log tail if the child died."""
    deadline = time.monotonic() + timeout_s
    last: str = "no answer"
    for _ in range(int(timeout_s / 0.05) + 1):
        if proc.popen.poll() is not None:
            raise BenchError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.tail()}")
        try:
            response = httpx.get(url, timeout=2.0)
            if response.status_code < 500:
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    raise BenchError(
        f"{proc.name} did not answer {url} within {timeout_s:.0f} s ({last}):\n{proc.tail()}"
    )


def start_service(
    procs: Processes,
    workdir: Path,
    port: int,
    env: dict[str, str],
    serve_args: Sequence[str] = (),
    *,
    checkout: Path | None = None,
    name: str = "service",
) -> Proc:
    """`tiktok-ads serve [serve_args]` on the loopback, answering /healthz; no `serve_args` is
    the documented command with its defaults (delivery worker included)."""
    argv = cli("serve", "--host", HOST, "--port", str(port), *serve_args, checkout=checkout)
    proc = procs.start(name, argv, env, workdir, cwd=workdir)
    wait_until_serving(f"http://{HOST}:{port}/healthz", proc)
    return proc


def start_sink(procs: Processes, workdir: Path, port: int) -> Proc:
    """bench/tiktok_sink.py (TikTok as a simple HTTP server) in its own process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIKTOK_")}
    env.update(PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO))
    argv = [sys.executable, "-m", "bench.tiktok_sink", "--host", HOST, "--port", str(port)]
    proc = procs.start("tiktok-sink", argv, env, workdir, cwd=REPO)
    wait_until_serving(f"http://{HOST}:{port}/_sink/stats", proc)
    return proc


# TikTok's per-pixel pace and daily cap lifted: the speed benchmarks measure us, not the limits.
LIFTED_LIMITS = {"TIKTOK_RATE_LIMIT_RPS": "1000", "TIKTOK_DAILY_EVENT_LIMIT": "100000000"}


def start_emulator(procs: Processes, workdir: Path, port: int) -> Proc:
    """`tiktok-ads emulator` in its own process, keeping no events (big runs would fill memory)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIKTOK_")}
    env["PYTHONUNBUFFERED"] = "1"
    argv = cli(
        "emulator", "--host", HOST, "--port", str(port), "--no-store-events",
        "--log-level", "warning",
    )  # fmt: skip
    proc = procs.start("emulator", argv, env, workdir, cwd=workdir)
    wait_until_serving(f"http://{HOST}:{port}/_emulator/stats", proc)
    return proc


@contextlib.contextmanager
def workdir(keep: bool) -> Iterator[Path]:
    """A temporary directory for databases and logs; removed afterwards unless `keep`."""
    path = Path(tempfile.mkdtemp(prefix="tiktok-ads-bench-"))
    try:
        yield path
    finally:
        if keep:
            print(f"(kept {path})")
        else:
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def read_only(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the service's SQLite database (WAL: never blocks writers)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        yield conn
    finally:
        conn.close()


def context() -> str:
    """What the figures depend on: the code's revision, the machine's load, the event loop."""
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        revision = done.stdout.strip() or "unknown"
    except (OSError, subprocess.TimeoutExpired):
        revision = "unknown"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"code {revision}; {os.cpu_count()} CPUs, load average {load}; "
        f"Python {sys.version.split()[0]}; uvicorn auto picks {loop} + {http}"
    )


def catch_interrupts() -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt, even when started with SIGINT ignored
    (a background job), so every exit goes through the subprocess clean-up."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)


def run_main(bench: str, body: Any) -> None:
    """Run a benchmark's body; a BenchError or Ctrl-C ends it with a message, not a trace."""
    catch_interrupts()
    print(f"[{bench}] {context()}", flush=True)
    try:
        body()
    except BenchError as exc:
        print(f"{bench}: cannot run: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"{bench}: interrupted; subprocesses stopped", file=sys.stderr)
        sys.exit(130)
