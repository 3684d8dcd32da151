"""Live client sockets, so the `drop` fault can close one without answering.

ASGI gives an app no way to close its connection silently (uvicorn answers 500 when an app
fails before responding), so the emulator's servers use a uvicorn protocol subclass that
registers each transport under the peer address that also appears in the ASGI scope.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Base
except ImportError:  # pragma: no cover - httptools is part of uvicorn[standard]
    _Base = H11Protocol  # type: ignore[assignment,misc]

Peer = tuple[str, int]


class SocketRegistry:
    """Transports of open connections by (client host, client port)."""

    def __init__(self) -> None:
        self._transports: dict[Peer, asyncio.Transport] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def add(self, transport: asyncio.Transport) -> None:
        self._loop = asyncio.get_running_loop()
        peer = _peer(transport)
        if peer is not None:
            self._transports[peer] = transport

    def discard(self, transport: asyncio.Transport) -> None:
        peer = _peer(transport)
        if peer is not None and self._transports.get(peer) is transport:
            del self._transports[peer]

    def abort(self, client: Any) -> bool:
        """Close the connection of `client` (the scope's `client`) with no answer."""
        if not client:
            return False
        transport = self._transports.pop((str(client[0]), int(client[1])), None)
        if transport is None:
            return False
        transport.abort()
        return True

    def abort_all(self) -> None:
        """From any thread: hang up on every client, as a server going away does.

        Without this a request stuck in a `hang` fault holds uvicorn's shutdown until its
        graceful timeout, which then cancels it with a logged traceback and a 500.
        """
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._abort_all)
        except RuntimeError:  # the loop closed between the check and the call
            return

    def _abort_all(self) -> None:
        for transport in list(self._transports.values()):
            transport.abort()
        self._transports.clear()


def tracking_protocol(registry: SocketRegistry) -> type[asyncio.Protocol]:
    """A uvicorn HTTP protocol class that keeps `registry` up to date."""

    class TrackingProtocol(_Base):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            registry.add(transport)
            super().connection_made(transport)

        def connection_lost(self, exc: Exception | None) -> None:
            registry.discard(self.transport)
            super().connection_lost(exc)

    return TrackingProtocol


def _peer(transport: asyncio.BaseTransport) -> Peer | None:
    peer = transport.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return (str(peer[0]), int(peer[1]))
    return None
