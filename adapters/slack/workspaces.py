"""Which token speaks for which Slack workspace.

One deployment may serve one workspace (`SLACK_BOT_TOKEN`) or many that installed it through
"Add to Slack" (OAuth). Every outgoing call asks `client_for(workspace)`, so a reply, a post, a
reminder or a `users.info` for workspace A can only ever carry A's token. Installed tokens are
read from the database (sealed at rest), refreshed before they expire when Slack rotates them,
and cached in memory only for as long as they are valid.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from storage import installations as store
from storage.database import Database
from storage.installations import InstalledBot
from storage.token_cipher import TokenCipher

log = logging.getLogger(__name__)
REFRESH_BEFORE = timedelta(minutes=10)  # refresh a rotating token this long before it expires


class NotInstalled(Exception):
    """No token for this workspace: never installed, or uninstalled since."""


def _now() -> datetime:
    return datetime.now(UTC)


class SlackWorkspaces:
    """Web API clients per workspace, on one pooled HTTP session."""

    def __init__(
        self,
        api_url: str,
        *,
        token: str | None = None,
        db: Database | None = None,
        cipher: TokenCipher | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        retry_handlers: list[AsyncRetryHandler] | None = None,
    ) -> None:
        if token is None and (db is None or cipher is None):
            raise ValueError("a bot token, or a database and a token key for installations")
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.token = token
        self.db = db
        self.cipher = cipher
        self.client_id = client_id
        self.client_secret = client_secret
        self.retry_handlers = retry_handlers if retry_handlers is not None else []
        self.session = aiohttp.ClientSession()
        self._bots: dict[str, InstalledBot] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.base = self._client(token)  # without a token: OAuth calls (oauth.v2.access)

    @property
    def installed(self) -> bool:
        """True when workspaces come from installations (OAuth), not one fixed token."""
        return self.token is None

    def _client(self, token: str | None, retrying: bool = True) -> AsyncWebClient:
        return AsyncWebClient(
            token=token,
            session=self.session,
            base_url=self.api_url,
            retry_handlers=list(self.retry_handlers) if retrying else [],
        )

    async def bot_for(self, workspace: str) -> InstalledBot:
        """The workspace's credentials, refreshed first if the token is about to expire."""
        if self.token is not None:
            return InstalledBot(workspace=workspace, bot_token=self.token)
        bot = self._bots.get(workspace)
        if bot is not None and not self._expiring(bot):
            return bot
        async with self._locks.setdefault(workspace, asyncio.Lock()):
            bot = await self._load(workspace)
            if self._expiring(bot):
                bot = await self._refresh(bot)
            self._bots[workspace] = bot
            return bot

    async def client_for(self, workspace: str, *, retrying: bool = True) -> AsyncWebClient:
        """A client with the workspace's token; `retrying=False` for the outbox, which does
        its own retrying and must not wait out a 429 inside one delivery."""
        return self._client((await self.bot_for(workspace)).bot_token, retrying)

    def _expiring(self, bot: InstalledBot) -> bool:
        return (
            bot.bot_token_expires_at is not None
            and bot.bot_refresh_token is not None
            and bot.bot_token_expires_at - REFRESH_BEFORE <= _now()
        )

    async def _load(self, workspace: str) -> InstalledBot:
        assert self.db is not None and self.cipher is not None
        cipher = self.cipher
        bot = await self.db.read(lambda conn: store.find_installation(conn, cipher, workspace))
        if bot is None:
            raise NotInstalled(workspace)
        return bot

    async def _refresh(self, bot: InstalledBot) -> InstalledBot:
        """Trade the refresh token for a new token (Slack token rotation), store it sealed."""
        assert self.db is not None and self.cipher is not None
        try:
            answer = await self.base.oauth_v2_access(
                client_id=self.client_id or "",
                client_secret=self.client_secret or "",
                grant_type="refresh_token",
                refresh_token=bot.bot_refresh_token or "",
            )
        except SlackApiError as exc:
            # Perhaps another instance refreshed first and Slack retired our refresh token.
            fresh = await self._load(bot.workspace)
            if fresh.bot_refresh_token != bot.bot_refresh_token:
                return fresh
            log.warning("could not refresh a Slack token: %s", exc.response.get("error"))
            raise NotInstalled(bot.workspace) from exc
        new = replace(
            bot,
            bot_token=answer["access_token"],
            bot_refresh_token=answer.get("refresh_token") or bot.bot_refresh_token,
            bot_token_expires_at=_now() + timedelta(seconds=int(answer.get("expires_in") or 0)),
        )
        cipher, now = self.cipher, _now()
        stored = await self.db.write(
            lambda conn: store.replace_token_if_unchanged(conn, cipher, bot, new, now)
        )
        return new if stored else await self._load(bot.workspace)

    def forget(self, workspace: str) -> None:
        """Drop what memory holds for a workspace (uninstalled, tokens revoked)."""
        self._bots.pop(workspace, None)

    async def close(self) -> None:
        await self.session.close()


class WorkspaceAuthorize(AsyncAuthorize):
    """bolt's authorize step, answered from `SlackWorkspaces` so that incoming requests and
    outgoing deliveries share one token lookup and one refresh."""

    def __init__(self, workspaces: SlackWorkspaces) -> None:
        super().__init__()
        self.workspaces = workspaces

    async def __call__(
        self,
        *,
        context: Any,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        workspace = team_id or enterprise_id or ""
        try:
            bot = await self.workspaces.bot_for(workspace)
        except NotInstalled:
            return None  # bolt answers "not authorized"; nothing about the workspace is logged
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
            user_id=user_id,
        )


def _expires_at(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(int(value), UTC)


class SealedInstallationStore(AsyncInstallationStore):
    """bolt's installation store on our database; tokens sealed, bot credentials only
    (Undersigned asks for no user token)."""

    def __init__(self, workspaces: SlackWorkspaces) -> None:
        assert workspaces.db is not None and workspaces.cipher is not None
        self.workspaces = workspaces
        self.db = workspaces.db
        self.cipher = workspaces.cipher

    async def async_save(self, installation: Installation) -> None:
        bot = installation.to_bot() if installation.bot_token else None
        if bot is not None:
            await self.async_save_bot(bot)

    async def async_save_bot(self, bot: Bot) -> None:
        workspace = (bot.enterprise_id if bot.is_enterprise_install else bot.team_id) or ""
        if not workspace or not bot.bot_token:
            return
        installed = InstalledBot(
            workspace=workspace,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=",".join(bot.bot_scopes or []),
            bot_refresh_token=bot.bot_refresh_token,
            bot_token_expires_at=_expires_at(bot.bot_token_expires_at),
            enterprise_id=bot.enterprise_id,
            team_name=bot.team_name,
            is_enterprise_install=bool(bot.is_enterprise_install),
            app_id=bot.app_id,
        )
        cipher, now = self.cipher, _now()
        await self.db.write(lambda conn: store.save_installation(conn, cipher, installed, now))
        self.workspaces.forget(workspace)  # a reinstall: the next call reads the new token

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        workspace = (enterprise_id if is_enterprise_install else team_id) or ""
        try:
            found = await self.workspaces.bot_for(workspace)
        except NotInstalled:
            return None
        return Bot(
            app_id=found.app_id,
            enterprise_id=found.enterprise_id,
            team_id=None if found.is_enterprise_install else found.workspace,
            team_name=found.team_name,
            bot_token=found.bot_token,
            bot_id=found.bot_id or "",
            bot_user_id=found.bot_user_id or "",
            bot_scopes=found.bot_scopes,
            bot_refresh_token=found.bot_refresh_token,
            bot_token_expires_at=(
                int(found.bot_token_expires_at.timestamp()) if found.bot_token_expires_at else None
            ),
            is_enterprise_install=found.is_enterprise_install,
            installed_at=(found.installed_at or _now()).timestamp(),
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return None  # bot-only: no installation carries a user token here

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await self.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        workspace = team_id or enterprise_id or ""
        await self.db.write(lambda conn: store.delete_installation(conn, workspace))
        self.workspaces.forget(workspace)


class DatabaseStateStore(AsyncOAuthStateStore):
    """OAuth `state` values that cost nothing until used: a state is signed (HMAC with a key
    derived from `UNDERSIGNED_TOKEN_KEY`, so any instance can check it) and carries its expiry;
    only its one use, on the redirect back from Slack, is written (as a hash), so each works
    once, for ten minutes. A visitor who merely opens the install page writes nothing."""

    def __init__(
        self, db: Database, key: bytes | list[bytes], expiration_seconds: int = 600
    ) -> None:
        self.db = db
        # the first key signs; every key listed is accepted (a key rotation in progress)
        self.keys = key if isinstance(key, list) else [key]
        self.expiration = timedelta(seconds=expiration_seconds)

    @staticmethod
    def _hash(state: str) -> str:
        return hashlib.sha256(state.encode()).hexdigest()

    @staticmethod
    def _mac(key: bytes, payload: str) -> str:
        return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:32]

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        until = int((_now() + self.expiration).timestamp())
        payload = f"{until}.{secrets.token_urlsafe(16)}"
        return f"{payload}.{self._mac(self.keys[0], payload)}"

    async def async_consume(self, state: str) -> bool:
        if not state or len(state) > 200 or not state.isascii() or state.count(".") != 2:
            return False
        payload, mac = state.rsplit(".", 1)
        until = payload.split(".", 1)[0]
        signed = any(hmac.compare_digest(self._mac(k, payload), mac) for k in self.keys)
        if not signed or not until.isdigit():
            return False
        expires, now = datetime.fromtimestamp(int(until), UTC), _now()
        if expires <= now:
            return False
        digest = self._hash(state)
        return bool(await self.db.write(lambda conn: store.use_state(conn, digest, expires, now)))
