"""`serve --workers N`: N processes, each with its own SO_REUSEPORT socket on the same port.

The kernel spreads connections across the sockets; a shared accept socket (uvicorn's own
--workers) let one busy process take every keep-alive connection while the others idled.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
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

    sock = _reuseport_socket(host, port)
    config = uvicorn.Config(
        app_from_environment(),
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=30,
    )
    uvicorn.Server(config).run(sockets=[sock])


def serve_processes(host: str, port: int, workers: int, log_level: str) -> None:
    """Start the children, pass SIGTERM/SIGINT on, and wait for all of them."""
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
    for child in children:
        child.join()
