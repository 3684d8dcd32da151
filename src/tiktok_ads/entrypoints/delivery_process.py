"""Delivery in a process of its own: `tiktok-ads worker`, and `serve --delivery-process`.

Ingest (HTTP, JSON, validation, hashing, the group commit) and delivery (claims, TikTok's
bodies, verdicts) each take a core's worth of Python at full load; in one process they share
one interpreter lock. With --delivery-process, `serve` forks its delivery worker right after
loading its modules, before any thread or connection exists, so the child shares those pages
with the API process; it waits until the parent has migrated the database and made the secret key,
then delivers exactly as `tiktok-ads worker` does. The two share the queue through the
database, as any number of workers do.

The child dies with its parent (the kernel sends it SIGTERM, even after a `kill -9`), is
stopped with SIGTERM when `serve` stops (in-flight batches finish; their leases cover a
crash), and is started again, after a growing delay, if it dies (not when it was told to
stop). Metrics of both processes are kept in
files of a fresh PROMETHEUS_MULTIPROC_DIR, so /metrics shows deliveries too.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from typing import Literal

from tiktok_ads.config import Settings

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
STOP_GRACE_S = 35.0  # the dispatcher's in-flight batches finish (a TikTok timeout is 20 s)
RESTART_MIN_S, RESTART_MAX_S = 1.0, 60.0
# Exit codes of a child that was told to stop: by itself (0) or by a signal to it.
_TOLD_TO_STOP = (0, -signal.SIGTERM, -signal.SIGINT)
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}

Choice = Literal["auto", "yes", "no"]


# Not the default on two cores: measured there (bench_end_to_end, the load generator and TikTok's
# stand-in on the same cores) it gained nothing, as no core was idle, and cost ~100 MB.
AUTO_MIN_CORES = 4


def wanted(choice: Choice) -> bool:
    """`auto`: when the machine has cores to spare for it."""
    if choice == "auto":
        return (os.cpu_count() or 1) >= AUTO_MIN_CORES
    return choice == "yes"


def run_delivery(settings: Settings, asked_to_stop: threading.Event | None = None) -> None:
    """Deliver queued events until SIGTERM or SIGINT (the body of `tiktok-ads worker`)."""
    from tiktok_ads.bootstrap import build
    from tiktok_ads.entrypoints.collector import tune_for_server

    asked = _keep_stop_requests() if asked_to_stop is None else asked_to_stop
    container = build(settings)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in _STOP_SIGNALS:
            loop.add_signal_handler(sig, stop.set)
        if asked.is_set():  # asked while starting: start, then stop in order at once
            stop.set()
        await container.start(run_dispatcher=True)
        tune_for_server()
        await stop.wait()
        await container.stop()

    asyncio.run(run())


def _die_with_parent(parent_pid: int) -> None:
    """Ask the kernel for SIGTERM when the parent dies (Linux); leave if it already has."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:
        os._exit(0)


def _keep_stop_requests() -> threading.Event:
    """Note SIGTERM and SIGINT until the event loop takes them over (run_delivery).

    Not by raising from the handler: raised while a module is being imported, the exception
    can land in a callback, where Python reports and ignores it, and the stop was lost (a
    child forked with the parent's handler kept delivering after its SIGTERM)."""
    asked = threading.Event()
    for sig in _STOP_SIGNALS:
        signal.signal(sig, lambda _signum, _frame: asked.set())
    return asked


def _child(ready: Event | None, parent_pid: int, log_level: str) -> None:
    from tiktok_ads.entrypoints.collector import limit_malloc_arenas

    asked = _keep_stop_requests()  # before anything else: the parent's handlers came along
    # Forked while the parent held these signals back (beside_the_api): take them again.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    # A group of its own: a terminal's Ctrl-C reaches the parent, which stops the child in
    # order (in-flight batches first), instead of both at once.
    os.setpgrp()
    _die_with_parent(parent_pid)
    limit_malloc_arenas()
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if ready is not None:  # the first child waits for the database; a restarted one need not
        ready.wait()  # stop() sets it too
    run_delivery(Settings(), asked)


class DeliveryProcess:
    """The child, watched: started again (spawned: the parent has threads by then) when it
    ends on its own."""

    def __init__(self, log_level: str) -> None:
        self._log_level = log_level
        self._ready = multiprocessing.get_context("fork").Event()
        self._stopping = threading.Event()
        self._process: BaseProcess | None = None
        self._watcher: threading.Thread | None = None
        self.pids: list[int] = []  # every child it had (their metrics files are marked dead)

    def fork(self) -> None:
        """Call before any thread or database connection exists."""
        self._start(multiprocessing.get_context("fork"), self._ready)

    def release(self) -> None:
        """The database is migrated and the key made: the child may start delivering."""
        self._ready.set()
        watcher = threading.Thread(target=self._watch, name="delivery-watch", daemon=True)
        watcher.start()
        self._watcher = watcher  # only once started: stop() joins it

    def _start(self, context: BaseContext, ready: Event | None) -> None:
        """Start a child, kept as `_process` before it starts: whatever interrupts the start,
        stop() finds it."""
        process: BaseProcess = context.Process(  # type: ignore[attr-defined]
            target=_child,
            args=(ready, os.getpid(), self._log_level),
            name="tiktok-ads-delivery",
            daemon=False,
        )
        self._process = process
        process.start()
        if process.pid is not None:
            self.pids.append(process.pid)

    def _watch(self) -> None:
        """Start the child again when it died (a crash, the OOM killer), waiting longer after
        each quick death; one that was told to stop (SIGTERM, SIGINT, exit 0) is left alone."""
        delay = RESTART_MIN_S
        started = time.monotonic()
        while not self._stopping.wait(delay if self._dead() else 1.0):
            process = self._process
            if process is None or process.is_alive() or self._stopping.is_set():
                continue
            code = process.exitcode
            if code in _TOLD_TO_STOP:
                log.warning("the delivery process stopped (exit code %s); not restarting it", code)
                return
            lived = time.monotonic() - started
            delay = RESTART_MIN_S if lived > RESTART_MAX_S else min(delay * 2, RESTART_MAX_S)
            log.error("the delivery process ended (exit code %s); starting it again", code)
            self._start(multiprocessing.get_context("spawn"), None)
            started = time.monotonic()

    def _dead(self) -> bool:
        return self._process is not None and not self._process.is_alive()

    def stop(self) -> None:
        """SIGTERM, then wait for in-flight batches."""
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()
        process = self._process
        if process is None or process.pid is None:  # never forked
            return
        self._ready.set()  # a child still waiting must not wait forever
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signal.SIGTERM)
        process.join(STOP_GRACE_S)
        if process.is_alive():
            log.warning("the delivery process did not stop in %.0f s; killing it", STOP_GRACE_S)
            process.kill()
            process.join()


@contextlib.contextmanager
def beside_the_api(settings: Settings, log_level: str) -> Iterator[DeliveryProcess]:
    """Fork the delivery process, make the secret key file once, and keep the child running
    while the block serves the API; shared metrics directory for both. The caller has brought
    the schema up to date (`serve`)."""
    metrics_dir = tempfile.mkdtemp(prefix="tiktok-ads-metrics-")
    # Before prometheus_client is imported (below): it picks its storage at import.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    child = DeliveryProcess(log_level)
    try:
        # Loaded before the fork, so the child shares these pages with the API process.
        import tiktok_ads.bootstrap
        import tiktok_ads.entrypoints.api.app  # noqa: F401
        from tiktok_ads.adapters.crypto import load_or_create_secret

        # From here until uvicorn takes the signals over (and after: it raises the one that
        # stopped it again), SIGTERM and SIGINT end this process in order, by SystemExit: the
        # child is stopped below (it keeps its own handlers once it runs).
        for sig in _STOP_SIGNALS:
            signal.signal(sig, _exit_in_order)
        # Held back while the child is forked and released: a stop arriving midway (inside
        # `Process.start`, or `Thread.start`) left the parent without a handle on its child,
        # which then kept running and held the parent's exit. It is taken right after.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            child.fork()
            # The key file is made once here: the child only reads it (`serve` has migrated).
            load_or_create_secret(settings.tiktok_ads_secret_key, settings.sqlite_path())
            child.release()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        yield child
    finally:
        try:
            child.stop()
        finally:
            from prometheus_client.multiprocess import mark_process_dead

            for pid in child.pids:
                mark_process_dead(pid, metrics_dir)  # type: ignore[no-untyped-call]
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _exit_in_order(signum: int, _frame: object) -> None:
    log.info("stopping on %s", signal.Signals(signum).name)
    raise SystemExit(0)
