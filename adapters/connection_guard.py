"""What a stranger on the internet can hold open: little, and not for long.

aiohttp waits for a request's head as long as the client keeps sending a byte now and then, so
a few hundred slow connections ("slow loris") could sit on the port for ever. This protocol
factory wraps aiohttp's: a connection that has not completed a request head within
`head_timeout` seconds of opening, or of its previous head, is closed; and one address may hold
at most `per_client` connections at once (generous: Slack, or a load balancer, is one address).
Slow bodies are bounded where they are read (`HttpServer`).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

HEAD_END = b"\r\n\r\n"


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


class _Guarded(asyncio.Protocol):
    """Forwards everything to aiohttp's protocol, watching for request heads."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self.guard = guard
        self.inner = inner
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.heads = 0  # request heads completed so far
        self.tail = b""  # the last bytes seen, so a head end split across reads is found
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else "?"
        self.guard.open[self.peer] += 1
        self.inner.connection_made(transport)
        if self.guard.open[self.peer] > self.guard.per_client:
            self.guard.refused += 1
            transport.close()
            return
        self._watch(self.heads)

    def _watch(self, seen: int) -> None:
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(self.guard.head_timeout, self._check, seen)

    def _check(self, seen: int) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if self.heads == seen:  # no whole head in the last interval: slow or idle
            self.guard.closed_slow += 1
            self.transport.close()
            return
        self._watch(self.heads)

    def data_received(self, data: bytes) -> None:
        window = self.tail + data
        self.heads += window.count(HEAD_END)
        self.tail = window[-3:]
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
