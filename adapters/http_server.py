"""The HTTP transport: `POST /slack/events` for bolt, the "Add to Slack" pages when OAuth is
on, and `GET /healthz` for load balancers."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import time
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from adapters.connection_guard import ConnectionGuard, track_requests
from adapters.readiness import Readiness
from adapters.security_headers import install_page, secure_defaults
from adapters.slack.requests import CHECKED, Refused, check_shape, check_signature
from bot.domain.permissions import RateLimiter
from runtime.metrics import acknowledged, received

log = logging.getLogger(__name__)

# What every answer carries unless its handler chose otherwise (aiohttp's own 404 and 405,
# a refusal, a health check): nothing loads from elsewhere, nothing frames it.
BODY_SECONDS = 5.0  # a request's body must arrive within this
INSTALLS_PER_MINUTE = 20  # install pages one client may open per minute
MALFORMED = (KeyError, TypeError, AttributeError, ValueError, IndexError, RecursionError)


def client_address(request: web.Request) -> str:
    """Who is asking: the peer, or, when the peer is a proxy on our own network (a load
    balancer), the address it says it forwards for. A stranger can't claim an address: their
    own connection doesn't come from a private one."""
    peer = request.remote or "?"
    forwarded = request.headers.get("X-Forwarded-For", "")
    try:
        private = not ipaddress.ip_address(peer).is_global
    except ValueError:
        private = False
    if private and forwarded:
        return forwarded.split(",")[0].strip()[:64]
    return peer


def _verified(request: web.Request, body: bytes, payload: dict[str, Any]) -> AsyncBoltRequest:
    """A bolt request from a body already verified and parsed here: bolt neither checks the
    signature again nor parses the body a second time."""
    bolt_request = AsyncBoltRequest(
        body="", query=request.query_string, headers=dict(request.headers)
    )
    bolt_request.raw_body = body.decode("utf-8")
    bolt_request.body = payload
    bolt_request.context = build_async_context(AsyncBoltContext({CHECKED: True}), payload)
    return bolt_request


async def _read_in_time(request: web.Request) -> bytes:
    """A body that takes longer than BODY_SECONDS to arrive is refused (a slow client
    holds nothing for long)."""
    try:
        return await asyncio.wait_for(request.read(), BODY_SECONDS)
    except TimeoutError:
        raise Refused(408, "the request body took too long") from None


class PortUnavailable(Exception):
    """The HTTP address is taken or not ours to use: said in one line, the bot does not start."""


class HttpServer:
    def __init__(
        self, host: str, port: int, *, head_timeout: float = 10.0, per_client: int = 512
    ) -> None:
        self.host = host
        self.port = port
        self.limits = {"head_timeout": head_timeout, "per_client": per_client}
        self.ready = False
        self.web = web.Application(client_max_size=1024**2, middlewares=[track_requests])
        self.web.on_response_prepare.append(secure_defaults)
        self.web.router.add_get("/healthz", self._healthz)
        self.web.router.add_get("/readyz", self._readyz)
        self._runner: web.AppRunner | None = None
        self._server: asyncio.Server | None = None
        self.guard: ConnectionGuard | None = None
        self.readiness: Readiness | None = None

    def mount_pages(self, service: Any, public_url: str | None) -> None:
        """The public pages of published campaigns (adapters/web)."""
        from adapters.web.pages import PublicPages

        PublicPages(service, public_url).mount(self.web)

    def mount_slack(self, bolt: AsyncApp, signing_secret: str) -> None:
        async def slack_events(request: web.Request) -> web.Response:
            try:
                body = await _read_in_time(request)
                check_signature(signing_secret, body, request.headers)
                payload = check_shape(body, request.content_type)
            except Refused as refused:
                # No traceback and no identity: strangers can't flood the log with detail.
                log.debug("refused a Slack request: %s", refused.reason)
                return web.Response(status=refused.status, text=refused.reason)
            except MALFORMED as exc:  # a shape the checks above did not foresee
                log.debug("refused a malformed Slack request: %s", type(exc).__name__)
                return web.Response(status=400, text="malformed request")
            received("slack")  # every kind together: a metric never tells signing apart
            started = time.perf_counter()
            try:
                answer = await bolt.async_dispatch(_verified(request, body, payload))
            except MALFORMED as exc:
                # Signed, but a shape bolt itself can't read (it raised before any listener):
                # the sender's mistake, answered 400 without a traceback.
                log.debug("refused a malformed Slack request: %s", type(exc).__name__)
                return web.Response(status=400, text="malformed request")
            response = await to_aiohttp_response(answer)
            acknowledged("slack", time.perf_counter() - started)
            return response

        self.web.router.add_post("/slack/events", slack_events)
        flow = bolt.oauth_flow
        if flow is None:
            return

        starts = RateLimiter(INSTALLS_PER_MINUTE)

        async def install(request: web.Request) -> web.StreamResponse:
            # The page costs no write (a signed state); one client still can't hammer it.
            if starts.wait_needed(f"install:{client_address(request)}") > 0:
                return web.Response(
                    status=429,
                    text="Too many requests; try again in a minute.",
                    headers={**install_page(), "Retry-After": "60"},
                )
            return await self._page(await flow.handle_installation(await to_bolt_request(request)))

        async def redirect(request: web.Request) -> web.StreamResponse:
            return await self._page(await flow.handle_callback(await to_bolt_request(request)))

        self.web.router.add_get(flow.install_path, install)
        self.web.router.add_get(flow.redirect_uri_path, redirect)

    @staticmethod
    async def _page(answer: BoltResponse) -> web.StreamResponse:
        response = await to_aiohttp_response(answer)
        response.headers.update(install_page())
        if response.headers.get("Content-Type", "").startswith("text/html"):
            response.headers["Content-Type"] = "text/html; charset=utf-8"
        return response

    async def _healthz(self, _request: web.Request) -> web.Response:
        if not self.ready:
            return web.json_response({"ok": False, "status": "starting"}, status=503)
        return web.json_response({"ok": True})

    async def _readyz(self, _request: web.Request) -> web.Response:
        """Ready: started, the database answers, its schema is this release's (503 otherwise)."""
        if not self.ready or self.readiness is None:
            return web.json_response({"ready": False, "status": "starting"}, status=503)
        ready, facts = await self.readiness.check()
        return web.json_response(facts, status=200 if ready else 503)

    async def start(self) -> None:
        """Listen; a port that can't be had is one clear `PortUnavailable`, nothing half-open."""
        self._runner = web.AppRunner(self.web, access_log=None)
        await self._runner.setup()
        assert self._runner.server is not None
        self.guard = ConnectionGuard(self._runner.server, **self.limits)
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                self.guard, self.host, self.port, backlog=1024, reuse_address=True
            )
        except (OSError, OverflowError) as exc:
            await self._runner.cleanup()
            self._runner = None
            errno = getattr(exc, "errno", None)
            reason = os.strerror(errno) if errno and errno > 0 else str(exc)
            raise PortUnavailable(
                f"cannot listen on {self.host}:{self.port}: {reason.lower()} "
                "(UNDERSIGNED_HTTP_PORT and UNDERSIGNED_HTTP_HOST choose another)"
            ) from None
        log.info("listening on http://%s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._runner is not None:
            await self._runner.cleanup()
