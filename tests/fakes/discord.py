"""A local fake of Discord's wire protocol: the gateway websocket and the REST routes the bot uses.

The real discord.py connects here (Route.BASE and DiscordWebSocket.DEFAULT_GATEWAY point at it).
Every REST call is recorded so tests assert on what users would see; the next calls of a route
can be answered with a 429 and `retry_after`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

APP_ID = "2000"
BOT_ID = "1000"
GUILD_ID = "3000"
CHANNEL_ID = "4000"
BOT_USER = {
    "id": BOT_ID,
    "username": "undersigned",
    "discriminator": "0",
    "global_name": None,
    "avatar": None,
    "bot": True,
}


@dataclass
class RestCall:
    method: str
    path: str
    body: Any
    at: float = field(default_factory=time.monotonic)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """discord.py parses a body only when Content-Type is exactly application/json."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


class FakeDiscord:
    def __init__(self) -> None:
        self.calls: list[RestCall] = []
        self.failures: dict[str, list[float]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self._ids = itertools.count(10_000)
        self._seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._ws: web.WebSocketResponse | None = None
        self.ready = asyncio.Event()
        self.identified = 0
        self.valid_token: str | None = None  # set: any other token is refused with 401

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def rate_limit_next(self, pattern: str, times: int = 1, retry_after: float = 0.5) -> None:
        self.failures.setdefault(pattern, []).extend([retry_after] * times)

    def calls_matching(self, method: str, pattern: str) -> list[RestCall]:
        return [c for c in self.calls if c.method == method and re.fullmatch(pattern, c.path)]

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("the fake Discord never saw the expected calls")
            await asyncio.sleep(0.02)

    # ---- gateway -------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if data["op"] == 1:
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif data["op"] == 2:
                self.identified += 1
                assert data["d"]["intents"] & (1 << 1) == 0, "GUILD_MEMBERS is privileged"
                await self._send_ready(ws)
        return ws

    async def _send_ready(self, ws: web.WebSocketResponse) -> None:
        await self.dispatch(
            "READY",
            {
                "v": 10,
                "user": BOT_USER,
                "guilds": [{"id": GUILD_ID, "unavailable": True}],
                "session_id": "session",
                "resume_gateway_url": self.gateway_url,
                "application": {"id": APP_ID, "flags": 0},
                "private_channels": [],
                "relationships": [],
            },
        )
        await self.dispatch(
            "GUILD_CREATE",
            {
                "id": GUILD_ID,
                "name": "Workers",
                "owner_id": "9",
                "unavailable": False,
                "member_count": 3,
                "large": False,
                "features": [],
                "emojis": [],
                "stickers": [],
                "roles": [
                    {
                        "id": GUILD_ID,
                        "name": "@everyone",
                        "permissions": "0",
                        "position": 0,
                        "color": 0,
                        "hoist": False,
                        "managed": False,
                        "mentionable": False,
                    }
                ],
                "channels": [
                    {
                        "id": CHANNEL_ID,
                        "type": 0,
                        "name": "general",
                        "position": 0,
                        "guild_id": GUILD_ID,
                        "permission_overwrites": [],
                    }
                ],
                "members": [],
                "threads": [],
                "voice_states": [],
                "presences": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "joined_at": "2024-01-01T00:00:00+00:00",
            },
        )
        self.ready.set()

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        assert self._ws is not None
        await self._ws.send_json({"op": 0, "t": event, "s": next(self._seq), "d": data})

    async def drop_connection(self) -> None:
        """Close the gateway as a restart or outage would."""
        self.ready.clear()
        if self._ws is not None:
            await self._ws.close()

    # ---- REST ----------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        body: Any = None
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
            elif request.content_type.startswith("multipart"):
                form = await request.post()
                body = json.loads(str(form.get("payload_json", "{}")))
            else:
                body = await request.text()
        self.calls.append(RestCall(request.method, path, body))
        wanted = f"Bot {self.valid_token}"
        if self.valid_token is not None and request.headers.get("Authorization") != wanted:
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        for pattern, pending in self.failures.items():
            if pending and re.fullmatch(pattern, path):
                retry_after = pending.pop(0)
                return _json(
                    {
                        "message": "You are being rate limited.",
                        "retry_after": retry_after,
                        "global": False,
                    },
                    status=429,
                    headers={
                        "Retry-After": str(retry_after),
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset-After": str(retry_after),
                        "X-RateLimit-Bucket": "fake",
                        "X-RateLimit-Scope": "user",
                        # Discord's 429s come through its proxy; discord.py treats a 429 without
                        # Via as a Cloudflare ban and does not retry.
                        "Via": "1.1 google",
                    },
                )
        return self._answer(request.method, path, body)

    def _message(
        self,
        body: dict[str, Any] | None,
        channel_id: str = CHANNEL_ID,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        body = body or {}
        return {
            "id": message_id or str(next(self._ids)),
            "channel_id": channel_id,
            "author": BOT_USER,
            "content": body.get("content") or "",
            "timestamp": "2026-11-02T09:00:00+00:00",
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags", 0),
            "components": body.get("components") or [],
        }

    def _answer(self, method: str, path: str, body: Any) -> web.Response:
        if path == "/users/@me":
            return _json(BOT_USER)
        if path == "/oauth2/applications/@me":
            return _json(
                {
                    "id": APP_ID,
                    "name": "Undersigned",
                    "icon": None,
                    "description": "",
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "owner": BOT_USER,
                    "team": None,
                    "verify_key": "0" * 64,
                    "flags": 0,
                    "summary": "",
                }
            )
        if path == "/gateway/bot":
            return _json(
                {
                    "url": self.gateway_url,
                    "shards": 1,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 999,
                        "reset_after": 0,
                        "max_concurrency": 1,
                    },
                }
            )
        if m := re.fullmatch(r"/applications/\d+(?:/guilds/(\d+))?/commands", path):
            if method == "PUT":
                scope = m.group(1) or "global"
                self.commands[scope] = [
                    {
                        **c,
                        "id": str(next(self._ids)),
                        "application_id": APP_ID,
                        "version": "1",
                        "default_member_permissions": None,
                        "dm_permission": True,
                        "nsfw": False,
                    }
                    for c in body
                ]
                return _json(self.commands[scope])
            return _json(self.commands.get(m.group(1) or "global", []))
        if re.fullmatch(r"/interactions/\d+/[^/]+/callback", path):
            interaction_id = path.split("/")[2]
            data = (body or {}).get("data") or {}
            kind = (body or {}).get("type")
            return _json(
                {
                    "interaction": {
                        "id": interaction_id,
                        "type": 2,
                        "response_message_id": str(next(self._ids)),
                        "response_message_loading": kind == 5,
                        "response_message_ephemeral": bool(data.get("flags", 0) & 64),
                    },
                    "resource": {"type": kind, "message": self._message(data)}
                    if kind == 4
                    else None,
                }
            )
        if re.fullmatch(r"/webhooks/\d+/[^/]+(/messages/@original)?", path):
            return _json(self._message(body if isinstance(body, dict) else None))
        if m := re.fullmatch(r"/channels/(\d+)/messages(?:/(\d+))?", path):
            return _json(self._message(body, m.group(1), m.group(2)))
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    # ---- interactions as Discord sends them ----------------------------------------------

    def member(self, user_id: str, name: str, nick: str | None = None) -> dict[str, Any]:
        return {
            "user": {
                "id": user_id,
                "username": name.lower(),
                "global_name": name,
                "discriminator": "0",
                "avatar": None,
            },
            "nick": nick,
            "roles": [],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "permissions": "2147483647",
            "flags": 0,
        }

    def interaction(
        self,
        kind: int,
        data: dict[str, Any],
        user_id: str = "5001",
        user_name: str = "Ann",
        nick: str | None = None,
        message: dict[str, Any] | None = None,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        payload = {
            "id": str(next(self._ids)),
            "application_id": APP_ID,
            "type": kind,
            "token": f"token-{next(self._ids)}",
            "version": 1,
            "guild_id": GUILD_ID,
            "channel_id": CHANNEL_ID,
            "channel": {
                "id": CHANNEL_ID,
                "type": 0,
                "guild_id": GUILD_ID,
                "name": "general",
                "position": 0,
                "permission_overwrites": [],
            },
            "member": self.member(user_id, user_name, nick),
            "data": data,
            "app_permissions": "2147483647",
            "locale": locale,  # the person's client language
            "guild_locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 10485760,
            "authorizing_integration_owners": {"0": GUILD_ID},
            "context": 0,
        }
        if message is not None:
            payload["message"] = message
        return payload

    async def slash(
        self, name: str, options: dict[str, Any] | None = None, sub: str | None = None, **who: Any
    ) -> dict[str, Any]:
        opts = [
            {
                "name": k,
                "type": 5 if isinstance(v, bool) else 4 if isinstance(v, int) else 3,
                "value": v,
            }
            for k, v in (options or {}).items()
        ]
        if sub is not None:
            opts = [{"name": sub, "type": 1, "options": opts}]
        payload = self.interaction(2, {"id": "1", "name": name, "type": 1, "options": opts}, **who)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def autocomplete(
        self, name: str, option: str, typed: str, sub: str | None = None, **who: Any
    ) -> dict[str, Any]:
        opts = [{"name": option, "type": 3, "value": typed, "focused": True}]
        if sub is not None:
            opts = [{"name": sub, "type": 1, "options": opts}]
        payload = self.interaction(4, {"id": "1", "name": name, "type": 1, "options": opts}, **who)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def click(self, custom_id: str, **who: Any) -> dict[str, Any]:
        """A button press on a message that carries that button, as Discord sends it."""
        button = {"type": 2, "style": 1, "label": "Button", "custom_id": custom_id}
        row = {"type": 1, "components": [button]}
        message = self._message({"content": "", "components": [row]}, message_id="77")
        payload = self.interaction(
            3, {"custom_id": custom_id, "component_type": 2}, message=message, **who
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def submit_modal(
        self, custom_id: str, values: dict[str, str], **who: Any
    ) -> dict[str, Any]:
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
            for k, v in values.items()
        ]
        payload = self.interaction(5, {"custom_id": custom_id, "components": rows}, **who)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    def callback_for(self, payload: dict[str, Any]) -> RestCall | None:
        path = f"/interactions/{payload['id']}/{payload['token']}/callback"
        return next((c for c in self.calls if c.path == path), None)

    def followups_for(self, payload: dict[str, Any]) -> list[RestCall]:
        return [c for c in self.calls if c.path == f"/webhooks/{APP_ID}/{payload['token']}"]

    async def response_to(self, payload: dict[str, Any], timeout: float = 10) -> RestCall:
        await self.wait_for(lambda: self.callback_for(payload) is not None, timeout)
        call = self.callback_for(payload)
        assert call is not None
        return call
