"""A local fake of Slack's wire protocol: the Web API, response_url and Socket Mode.

It records every call so tests assert on what users would see, and can answer the next calls
of a method with an error such as 429 + Retry-After.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import WSMsgType, web


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    token: str | None = None  # the bearer token the call carried


@dataclass
class Grant:
    """A workspace's consent waiting at Slack's authorize page: `code` is what the browser
    brings back to the app's redirect URL."""

    team_id: str
    team_name: str
    installer: str
    rotation: bool = False
    expires_in: int = 43200


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers exactly as Slack signs a request: v0=HMAC-SHA256(secret, "v0:ts:body")."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.responses: list[Call] = []  # bodies POSTed to response_url
        self.real_names: dict[str, str] = {}
        # Slack's users.info gives `locale` (like "pt-BR") only with include_locale=true.
        self.locales: dict[str, str] = {}
        self.failures: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._socket: web.WebSocketResponse | None = None
        self._socket_ready = asyncio.Event()
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.changed = asyncio.Event()
        self.usergroups: dict[str, list[str]] = {}
        self.post_delay = 0.0  # seconds chat.postMessage takes (to kill a sender mid-run)
        # Methods (and "respond", for response_url) that wait until their event is set: a
        # Slack that is slow to answer, for as long as a test wants.
        self.holds: dict[str, asyncio.Event] = {}
        self.held: list[str] = []  # what is waiting on a hold right now
        # OAuth ("Add to Slack"): the app's credentials, codes waiting to be exchanged, and
        # every token handed out. Once any token is handed out, calls must carry a live one.
        self.client_id = "111.222"
        self.client_secret = "fake-client-secret"
        self.grants: dict[str, Grant] = {}
        self.tokens: dict[str, tuple[str, float | None]] = {}  # token -> (team, expires at)
        self.refresh_tokens: dict[str, tuple[str, Grant]] = {}  # refresh token -> (team, grant)
        self._issued = itertools.count(1)

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{id}", self._respond)
        app.router.add_get("/socket", self._socket_mode)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    def fail_next(
        self,
        method: str,
        times: int,
        status: int = 429,
        retry_after: int = 1,
        channel: str | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (to `channel`, if given) with an error."""
        headers = {"Retry-After": str(retry_after)} if status == 429 else {}
        key = f"{method}#{channel}" if channel else method
        self.failures.setdefault(key, []).extend([(status, headers)] * times)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("the fake Slack never saw the expected calls")
            await asyncio.sleep(0.02)

    # ---- Web API -------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
        for key in ("blocks", "view", "metadata"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        if method == "chat.postMessage" and self.post_delay:
            await asyncio.sleep(self.post_delay)
        await self._hold(method)
        authorization = request.headers.get("Authorization", "")
        if authorization.startswith("Basic "):  # how oauth.v2.access carries the app's secret
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
            params.update(client_id=client_id, client_secret=secret)
            authorization = ""
        token = authorization.removeprefix("Bearer ") or params.get("token")
        self.calls.append(Call(method, params, token=token))
        if self.tokens and method not in ("oauth.v2.access", "apps.connections.open"):
            refused = self._check_token(token)
            if refused:
                return web.json_response({"ok": False, "error": refused})
        if method == "oauth.v2.access":
            return web.json_response(self._oauth_access(params))
        pending = self.failures.get(f"{method}#{params.get('channel')}") or self.failures.get(
            method
        )
        if pending:
            status, headers = pending.pop(0)
            error = "ratelimited" if status == 429 else "internal_error"
            return web.json_response({"ok": False, "error": error}, status=status, headers=headers)
        return web.json_response(self._answer(method, params, token))

    # ---- OAuth -----------------------------------------------------------------------------

    def grant(self, code: str, team_id: str, team_name: str, installer: str, **kw: Any) -> None:
        """A person in `team_id` pressed "Allow" on Slack's page; `code` comes back to the app."""
        self.grants[code] = Grant(team_id, team_name, installer, **kw)

    def team_of(self, token: str | None) -> str | None:
        entry = self.tokens.get(token or "")
        return entry[0] if entry else None

    def revoke_team(self, team_id: str) -> None:
        """What an uninstall does on Slack's side: every token of that workspace stops."""
        for token, (team, _) in list(self.tokens.items()):
            if team == team_id:
                del self.tokens[token]

    def expire(self, token: str) -> None:
        team, _ = self.tokens[token]
        self.tokens[token] = (team, time.time() - 1)

    def _check_token(self, token: str | None) -> str | None:
        entry = self.tokens.get(token or "")
        if entry is None:
            return "invalid_auth"
        if entry[1] is not None and entry[1] < time.time():
            return "token_expired"
        return None

    def _issue(self, grant: Grant) -> dict[str, Any]:
        n = next(self._issued)
        token = f"xoxb-{grant.team_id}-{n}"
        answer: dict[str, Any] = {"access_token": token}
        expires = None
        if grant.rotation:
            expires = time.time() + grant.expires_in
            refresh = f"xoxe-1-{grant.team_id}-{n}"
            self.refresh_tokens[refresh] = (grant.team_id, grant)
            answer.update(refresh_token=refresh, expires_in=grant.expires_in)
        self.tokens[token] = (grant.team_id, expires)
        return answer

    def _oauth_access(self, params: dict[str, Any]) -> dict[str, Any]:
        if (params.get("client_id"), params.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return {"ok": False, "error": "invalid_client_id"}
        if params.get("grant_type") == "refresh_token":
            found = self.refresh_tokens.pop(params.get("refresh_token", ""), None)
            if found is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            return {"ok": True, "token_type": "bot", **self._issue(found[1])}
        grant = self.grants.pop(params.get("code", ""), None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        return {
            "ok": True,
            "app_id": "A1",
            "token_type": "bot",
            "scope": "commands,chat:write,chat:write.public,users:read",
            "bot_user_id": f"UBOT{grant.team_id}",
            "team": {"id": grant.team_id, "name": grant.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": grant.installer},
            **self._issue(grant),
        }

    def _answer(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if method == "auth.test":
            team = self.team_of(token) or "T1"
            return {
                "ok": True,
                "team_id": team,
                "user_id": f"UBOT{team}" if self.tokens else "UBOT",
                "bot_id": f"BBOT{team}" if self.tokens else "BBOT",
                "team": "Fake",
                "user": "undersigned",
                "url": "https://fake.slack.com/",
            }
        if method == "auth.revoke":
            self.tokens.pop(token or "", None)
            return {"ok": True, "revoked": True}
        if method == "users.info":
            uid = params.get("user", "")
            name = self.real_names.get(uid, f"Real {uid}")
            user = {
                "id": uid,
                "name": uid.lower(),
                "real_name": name,
                "profile": {"real_name": name},
            }
            if str(params.get("include_locale", "")).lower() in {"true", "1"}:
                user["locale"] = self.locales.get(uid, "en-US")
            return {"ok": True, "user": user}
        if method == "chat.postMessage":
            return {"ok": True, "channel": params.get("channel"), "ts": f"{next(self._ts)}.000100"}
        if method == "conversations.history":
            posted = [
                {
                    "type": "message",
                    "text": c.params.get("text"),
                    "metadata": c.params.get("metadata"),
                }
                for c in reversed(self.calls_to("chat.postMessage"))
                if c.params.get("channel") == params.get("channel")
            ]
            return {"ok": True, "messages": posted[: int(params.get("limit", 100))]}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{next(self._ts)}.000200"}
        if method == "usergroups.users.list":
            return {"ok": True, "users": self.usergroups.get(params.get("usergroup", ""), [])}
        if method == "views.open":
            return {"ok": True, "view": {"id": "V1"}}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}
        return {"ok": True}

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        await self._hold("respond")
        self.responses.append(Call(request.match_info["id"], body))
        return web.Response(text="ok")

    async def _hold(self, what: str) -> None:
        hold = self.holds.get(what)
        if hold is not None and not hold.is_set():
            self.held.append(what)
            try:
                await hold.wait()
            finally:
                self.held.remove(what)

    # ---- Socket Mode ---------------------------------------------------------------------

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._socket = ws
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "connection_info": {"app_id": "A1"},
                "debug_info": {"host": "fake", "approximate_connection_time": 3600},
            }
        )
        self._socket_ready.set()
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            future = self._acks.get(data.get("envelope_id", ""))
            if future is not None and not future.done():
                future.set_result(data)
        return ws

    async def socket_send(
        self, kind: str, payload: dict[str, Any], timeout: float = 5
    ) -> dict[str, Any]:
        """Push an envelope as Slack does and wait for the app's acknowledgement."""
        await asyncio.wait_for(self._socket_ready.wait(), timeout)
        assert self._socket is not None
        envelope_id = f"env-{next(self._ts)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = future
        await self._socket.send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
            }
        )
        return await asyncio.wait_for(future, timeout)


def slash_command(
    fake: FakeSlack,
    command: str,
    text: str,
    user: str = "U1",
    user_name: str = "user",
    channel: str = "C1",
    team: str = "T1",
) -> dict[str, str]:
    name = f"{user}-{next(fake._ts)}"
    return {
        "token": "legacy",
        "team_id": team,
        "team_domain": "fake",
        "channel_id": channel,
        "channel_name": "general",
        "user_id": user,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": "A1",
        "response_url": fake.response_url(name),
        "trigger_id": f"trigger-{name}",
    }


def event(team: str, kind: str, **fields: Any) -> dict[str, Any]:
    """An Events API envelope as Slack POSTs it (e.g. app_uninstalled)."""
    return {
        "token": "legacy",
        "team_id": team,
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": f"Ev{time.monotonic_ns()}",
        "event_time": int(time.time()),
        "event": {"type": kind, **fields},
    }


def form(payload: dict[str, str]) -> str:
    return urlencode(payload)


def interaction_form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def button_click(
    fake: FakeSlack,
    action: str,
    slug: str,
    user: str = "U1",
    channel: str = "C1",
    team: str = "T1",
) -> dict[str, Any]:
    name = f"{user}-{next(fake._ts)}"
    return {
        "type": "block_actions",
        "api_app_id": "A1",
        "token": "legacy",
        "team": {"id": team, "domain": "fake"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team},
        "channel": {"id": channel, "name": "general"},
        "container": {"type": "message", "message_ts": "1.000100", "channel_id": channel},
        "trigger_id": f"trigger-{name}",
        "response_url": fake.response_url(name),
        "actions": [
            {
                "action_id": f"undersigned.{action}",
                "block_id": "undersigned.actions",
                "value": slug,
                "type": "button",
                "action_ts": str(time.time()),
            }
        ],
    }


def view_submission(
    values: dict[str, str], user: str = "U1", channel: str = "C1"
) -> dict[str, Any]:
    state = {
        block: {
            "value": (
                {"type": "static_select", "selected_option": {"value": v}}
                if block == "kind"
                else {"type": "plain_text_input", "value": v}
            )
        }
        for block, v in values.items()
    }
    return {
        "type": "view_submission",
        "api_app_id": "A1",
        "token": "legacy",
        "team": {"id": "T1", "domain": "fake"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"},
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "undersigned.new",
            "private_metadata": channel,
            "state": {"values": state},
        },
    }
