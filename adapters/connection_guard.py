"""What a stranger on the internet can hold open: little, and not for long.

aiohttp waits for a request's head as long as the client keeps sending a byte now and then, so
a few hundred slow connections ("slow loris") could sit on the port for ever. This protocol
factory wraps aiohttp's: a connection that sends bytes without aiohttp starting a request from
them (a head dripping in, or blank lines, which aiohttp skips) for `head_timeout` seconds is
closed, and so is one that opens and starts no request in that time. A request in progress
pauses the clock; a quiet connection between requests is left to aiohttp's keep-alive timeout
(long enough for load balancers). One address may hold at most `per_client` connections at
once (generous: Slack, or a load balancer, is one address). Slow bodies are bounded where they
are read (`HttpServer`). `track_requests` is the middleware that tells the guard a request
started and ended.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web


class ConnectionGuard:
    def __init__(
        self,
        factory: Callable[[], asyncio.Protocol],
        *,
        head_timeout: float = 10.0,
        per_client: int = 512,
    ) -> None:
        self.factory = factory
        self.head_timeout = head_timeout
        self.per_client = per_client
        self.open: Counter[str] = Counter()
        self.closed_slow = 0
        self.refused = 0

    def __call__(self) -> asyncio.Protocol:
        return _Guarded(self, self.factory())


@web.middleware
async def track_requests(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    transport = request.transport
    guarded = transport.get_protocol() if transport is not None else None
    if not isinstance(guarded, _Guarded):
        return await handler(request)
    guarded.began()
    try:
        return await handler(request)
    finally:
        guarded.ended()


class _Guarded(asyncio.Protocol):
    """Forwards everything to aiohttp's protocol, watching what the bytes lead to."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self.guard = guard
        self.inner = inner
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.in_flight = 0
        # since when bytes (or a fresh connection) have led to no request; None: quiet
        self.waiting_since: float | None = None
        self.timer: asyncio.TimerHandle | None = None

    def began(self) -> None:
        self.in_flight += 1
        self.waiting_since = None

    def ended(self) -> None:
        self.in_flight -= 1

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else "?"
        self.guard.open[self.peer] += 1
        self.waiting_since = asyncio.get_running_loop().time()
        self.inner.connection_made(transport)
        if self.guard.open[self.peer] > self.guard.per_client:
            self.guard.refused += 1
            transport.close()
            return
        self._watch()

    def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(self.guard.head_timeout / 4, self._check)

    def _check(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        since = self.waiting_since
        now = asyncio.get_running_loop().time()
        if not self.in_flight and since is not None and now - since >= self.guard.head_timeout:
            self.guard.closed_slow += 1  # bytes (or silence) that led to no request
            self.transport.close()
            return
        self._watch()

    def data_received(self, data: bytes) -> None:
        if not self.in_flight and self.waiting_since is None:
            self.waiting_since = asyncio.get_running_loop().time()  # a head, we expect
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.guard.open[self.peer] -= 1
        if self.guard.open[self.peer] <= 0:
            del self.guard.open[self.peer]
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def __getattr__(self, name: str) -> Any:  # anything else aiohttp may ask of its protocol
        return getattr(self.inner, name)
