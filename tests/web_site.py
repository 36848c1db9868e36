"""The public pages served on a real local port, for tests that read them over HTTP."""

from __future__ import annotations

from aiohttp import ClientSession, web
from multidict import CIMultiDict

from adapters.web.pages import PublicPages
from bot.service import Service
from tests.slack_harness import free_port


class Site:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = ClientSession()
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        PublicPages(self.service, "https://letters.example.org").mount(app)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def get(self, path: str, **headers: str) -> tuple[int, bytes, CIMultiDict[str]]:
        async with self.http.get(self.url + path, headers=headers) as resp:
            return resp.status, await resp.read(), resp.headers.copy()

    async def page(self, path: str, **headers: str) -> tuple[str, CIMultiDict[str]]:
        """A page that must exist, as text."""
        status, body, found = await self.get(path, **headers)
        assert status == 200, (path, status)
        return body.decode(), found

    async def stop(self) -> None:
        await self.http.close()
        if self.runner is not None:
            await self.runner.cleanup()
