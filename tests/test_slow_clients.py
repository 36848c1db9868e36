"""A stranger's slow connections hold nothing for long: heads and bodies that trickle in are
cut off, one address can't hold the port, and everyone else is still answered."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from adapters.http_server import HttpServer
from tests.slack_harness import free_port


async def _trickle(port: int, head: bytes) -> float:
    """Send a request head one byte every 0.2 s; how long until the server hung up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    try:
        for byte in head:
            writer.write(bytes([byte]))
            await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(1), 0.2) == b"":
                    break
            except TimeoutError:
                continue
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        writer.close()
    return time.monotonic() - started


async def test_slow_heads_are_closed_and_the_server_stays_responsive() -> None:
    port = free_port()
    server = HttpServer("127.0.0.1", port, head_timeout=1.0, per_client=500)
    server.ready = True
    await server.start()
    try:
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200
        slow = [asyncio.create_task(_trickle(port, head)) for _ in range(300)]
        await asyncio.sleep(0.3)
        async with aiohttp.ClientSession() as http:
            started = time.monotonic()
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200
            assert time.monotonic() - started < 1.0
        held = await asyncio.gather(*slow)
        assert max(held) < 3.0, max(held)  # each cut off after about a second, not 40 s
        assert server.guard is not None and server.guard.closed_slow >= 300
    finally:
        await server.stop()


async def test_one_address_holds_a_bounded_number_of_connections() -> None:
    port = free_port()
    server = HttpServer("127.0.0.1", port, head_timeout=5.0, per_client=20)
    await server.start()
    opened = []
    try:
        for _ in range(30):
            opened.append(await asyncio.open_connection("127.0.0.1", port))
        await asyncio.sleep(0.2)
        hung_up = 0
        for reader, _ in opened:
            try:
                if await asyncio.wait_for(reader.read(1), 0.2) == b"":
                    hung_up += 1
            except TimeoutError:
                pass
        assert hung_up == 10
        assert server.guard is not None and server.guard.refused == 10
    finally:
        for _, writer in opened:
            writer.close()
        await server.stop()


async def test_blank_lines_do_not_keep_a_connection_open_but_a_slow_answer_does() -> None:
    """aiohttp skips blank lines between requests: they start nothing, so they hold nothing.
    A request being answered, however long it takes, is never cut off; a quiet connection
    between requests is left to the keep-alive timeout."""
    port = free_port()
    server = HttpServer("127.0.0.1", port, head_timeout=1.0)
    server.ready = True

    async def slow(_request: aiohttp.web.Request) -> aiohttp.web.Response:
        await asyncio.sleep(2.5)
        return aiohttp.web.Response(text="done")

    server.web.router.add_get("/slow", slow)
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 4:
            try:
                writer.write(b"\r\n")
                await writer.drain()
                if await asyncio.wait_for(reader.read(100), 0.3) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                closed = True
                break
        writer.close()
        assert closed and time.monotonic() - started < 3.0
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/slow") as resp:
                assert resp.status == 200 and await resp.text() == "done"
            await asyncio.sleep(1.6)  # quiet between requests: the connection stays usable
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200
    finally:
        await server.stop()
