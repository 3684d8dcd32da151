"""`serve --workers N`: N processes, each with its own SO_REUSEPORT socket on the same port.

The kernel spreads connections across the sockets; a shared accept socket (uvicorn's own
--workers) let one busy process take every keep-alive connection while the others idled.
The children keep their metrics in files of a fresh directory (PROMETHEUS_MULTIPROC_DIR), so
/metrics counts every process, whichever one answers the scrape.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
from multiprocessing.connection import wait
from types import FrameType


def _reuseport_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _child(host: str, port: int, log_level: str) -> None:
    import uvicorn

    from tiktok_ads.entrypoints.api.app import app_from_environment
    from tiktok_ads.entrypoints.collector import limit_malloc_arenas, tune_for_server

    limit_malloc_arenas()
    sock = _reuseport_socket(host, port)
    app = app_from_environment()
    tune_for_server()
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=30,
    )
    uvicorn.Server(config).run(sockets=[sock])


def serve_processes(host: str, port: int, workers: int, log_level: str) -> None:
    """Start the children with a fresh metrics directory; remove it when they are all gone."""
    metrics_dir = tempfile.mkdtemp(prefix="tiktok-ads-metrics-")
    # Set before the children start: prometheus_client reads it when they import it.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        _run_children(host, port, workers, log_level, metrics_dir)
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _run_children(host: str, port: int, workers: int, log_level: str, metrics_dir: str) -> None:
    """Start the children, pass SIGTERM/SIGINT on, and wait for all of them."""
    from prometheus_client.multiprocess import mark_process_dead

    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(target=_child, args=(host, port, log_level), name=f"serve-{i}")
        for i in range(workers)
    ]
    for child in children:
        child.start()

    def forward(signum: int, _frame: FrameType | None) -> None:
        for child in children:
            if child.is_alive() and child.pid is not None:
                os.kill(child.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    running = list(children)
    while running:
        ready = wait([child.sentinel for child in running])
        for ended in [child for child in running if child.sentinel in ready]:
            running.remove(ended)
            ended.join()
            if ended.pid is not None:
                # Its gauges leave the scrape; its counters stay in the sums.
                mark_process_dead(ended.pid, metrics_dir)  # type: ignore[no-untyped-call]
