"""Serving the emulator over real sockets: uvicorn settings, and a background-thread server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from tiktok_ads.emulator.app import create_app
from tiktok_ads.emulator.config import EmulatorConfig
from tiktok_ads.emulator.sockets import SocketRegistry, tracking_protocol
from tiktok_ads.emulator.state import EmulatorState

_START_TIMEOUT_SECONDS = 10.0


class EmulatorServer(uvicorn.Server):
    """uvicorn's server, hanging up on clients first when it stops (see `SocketRegistry`)."""

    def __init__(self, app: FastAPI, host: str, port: int, **options: object) -> None:
        self.registry: SocketRegistry = app.state.emulator_sockets
        super().__init__(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                # Lets the `drop` fault close sockets (see `sockets`).
                http=tracking_protocol(self.registry),
                lifespan="off",
                **options,  # type: ignore[arg-type]
            )
        )

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.registry.abort_all()
        await super().shutdown(sockets)


@dataclass(slots=True)
class RunningEmulator:
    """A live emulator: `base_url` is what a client uses as TIKTOK_API_BASE_URL."""

    app: FastAPI
    host: str
    port: int

    @property
    def root_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/open_api"

    @property
    def state(self) -> EmulatorState:
        state: EmulatorState = self.app.state.emulator
        return state


@contextmanager
def run_in_thread(
    app_or_config: FastAPI | EmulatorConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[RunningEmulator]:
    """Serve the emulator with uvicorn in a background thread; port 0 picks a free port."""
    app = app_or_config if isinstance(app_or_config, FastAPI) else create_app(app_or_config)
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    bound_port = listener.getsockname()[1]
    server = EmulatorServer(app, host, bound_port, log_level="warning", timeout_graceful_shutdown=2)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="tiktok-emulator", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the TikTok emulator did not start")
            time.sleep(0.01)
        yield RunningEmulator(app, host, bound_port)
    finally:
        server.should_exit = True
        thread.join(timeout=_START_TIMEOUT_SECONDS)
        listener.close()
