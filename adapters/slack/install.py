"""'Add to Slack': bolt's OAuth flow wired to our database, with pages of our own.

bolt runs the flow (state, `oauth.v2.access`, saving the installation); we supply where things
are kept (`SealedInstallationStore`, `DatabaseStateStore`), how a request is authorized
(`WorkspaceAuthorize`, so incoming and outgoing calls share one token lookup), and the pages,
which load nothing from any other origin (bolt's default page pulls Slack's button image).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt.error import BoltError
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from adapters.slack import render
from adapters.slack.workspaces import (
    DatabaseStateStore,
    SealedInstallationStore,
    SlackWorkspaces,
    WorkspaceAuthorize,
)
from bot.domain import notices
from bot.domain.messages import _, from_accept_language, speaking, translate
from bot.domain.messages import current as current_language
from bot.domain.replies import Reply

if TYPE_CHECKING:
    from adapters.slack.names import SlackNames

log = logging.getLogger(__name__)

# What the bot asks for in each workspace: the manifest's bot scopes, nothing for users.
SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "usergroups:read",
    "channels:history",
    "groups:history",
)


@dataclass(frozen=True)
class OAuth:
    """The app's OAuth credentials, when one deployment serves many workspaces."""

    client_id: str
    client_secret: str
    redirect_uri: str | None = None
    allowed: frozenset[str] = frozenset()  # workspace ids that may install; empty: any


def page(title: str, body: str, link: tuple[str, str] | None = None) -> str:
    """A small self-contained page: no script, no image, no font, nothing from elsewhere.
    The words are translated (in the language being spoken) by the caller."""
    action = ""
    if link is not None:
        url, label = link
        action = f'<p><a class="button" href="{html.escape(url)}">{html.escape(label)}</a></p>'
    return (
        f'<!doctype html><html lang="{current_language().replace("_", "-")}"><head>'
        '<meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;"
        "color:#1d1c1d}a.button{display:inline-block;padding:.6rem 1.2rem;border-radius:.4rem;"
        "background:#4a154b;color:#fff;text-decoration:none;font-weight:600}"
        "</style></head><body><main>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(body)}</p>{action}"
        "</main></body></html>"
    )


NOT_ALLOWED = "workspace_not_allowed"


class InstallFlow(AsyncOAuthFlow):
    allowed: frozenset[str] = frozenset()

    async def build_install_page_html(self, url: str, request: AsyncBoltRequest) -> str:
        with speaking(_browser_language(request)):
            return page(
                translate(notices.INSTALL_TITLE),
                translate(notices.INSTALL_BODY),
                (url, translate(notices.INSTALL_BUTTON)),
            )

    async def store_installation(self, request: AsyncBoltRequest, installation: Any) -> None:
        """Only the coalition's workspaces join: any other gets its fresh token revoked and
        nothing stored (otherwise anyone could add the app to a workspace of sock puppets and
        inflate every tally)."""
        workspace = installation.team_id or installation.enterprise_id or ""
        if self.allowed and workspace not in self.allowed:
            try:
                await self.client.auth_revoke(token=installation.bot_token)
            except Exception as exc:  # refused either way; the token is not kept
                log.warning("could not revoke a refused installation's token: %s", exc)
            raise BoltError(NOT_ALLOWED)
        await super().store_installation(request, installation)


def _browser_language(request: AsyncBoltRequest | None) -> str | None:
    """The install pages speak the browser's language (Accept-Language), else the server's."""
    if request is None:
        return None
    found = request.headers.get("accept-language") or []
    return from_accept_language(found[0] if found else None)


def _html(status: int, body: str) -> BoltResponse:
    return BoltResponse(
        status=status, body=body, headers={"Content-Type": "text/html; charset=utf-8"}
    )


def install_options(
    workspaces: SlackWorkspaces,
    names: SlackNames,
    later: Callable[[Coroutine[Any, Any, Any]], None],
    oauth: OAuth,
) -> dict[str, Any]:
    """The AsyncApp arguments that turn on installation for many workspaces; `later` runs
    the welcome message after the answer (the adapter's bounded after-ack queue)."""
    assert workspaces.db is not None

    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        name = installation.team_name or installation.enterprise_name or ""
        workspace = installation.team_id or installation.enterprise_id or ""
        if installation.user_id:
            later(_welcome(names, workspaces, workspace, installation.user_id, name))
        log.info("installed in a workspace")
        with speaking(_browser_language(args.request)):
            body = page(
                translate(notices.INSTALLED_TITLE),
                translate(notices.INSTALLED_BODY).format(workspace=name or _("your workspace")),
            )
        return _html(200, body)

    async def failure(args: AsyncFailureArgs) -> BoltResponse:
        log.info("an installation did not complete: %s", args.reason)
        status = args.suggested_status_code
        status = 503 if status >= 500 else max(status, 400)  # our refusals are 4xx
        reason = NOT_ALLOWED if str(args.error or "") == NOT_ALLOWED else args.reason
        if reason == NOT_ALLOWED:
            status = 403
        with speaking(_browser_language(args.request)):
            text = translate(
                notices.INSTALL_FAILED_BODY.get(reason, notices.INSTALL_FAILED_DEFAULT)
            )
            again = (args.settings.install_path, translate(notices.INSTALL_AGAIN))
            body = page(translate(notices.INSTALL_FAILED_TITLE), text, again)
        return _html(status, body)

    settings = AsyncOAuthSettings(
        client_id=oauth.client_id,
        client_secret=oauth.client_secret,
        scopes=list(SCOPES),
        user_scopes=[],
        redirect_uri=oauth.redirect_uri,
        installation_store=SealedInstallationStore(workspaces),
        installation_store_bot_only=True,
        state_store=DatabaseStateStore(workspaces.db, _state_key(workspaces)),
        callback_options=AsyncCallbackOptions(success=success, failure=failure),
    )
    flow = InstallFlow(client=workspaces.base, settings=settings)
    flow.allowed = oauth.allowed
    return {
        "authorize": WorkspaceAuthorize(workspaces),
        "oauth_flow": flow,
        "installation_store": settings.installation_store,
    }


def _state_key(workspaces: Any) -> list[bytes]:
    cipher = workspaces.cipher
    assert cipher is not None  # "Add to Slack" needs UNDERSIGNED_TOKEN_KEY (checked at start)
    return cipher.subkeys(b"oauth-state")


async def _welcome(
    names: SlackNames, workspaces: SlackWorkspaces, workspace: str, user_id: str, name: str
) -> None:
    """Tell the person who installed the app, in its Messages tab, what it keeps, in their
    language (users.info: the installer is no anonymous signer)."""
    language = await names.locale_of(workspace, user_id)
    with speaking(language):
        text = notices.after_installation(name or _("your workspace"))
        reply = Reply(text=text, locale=current_language())  # escaped when rendered
    client = await workspaces.client_for(workspace)
    await client.chat_postMessage(
        channel=user_id,
        text=render.fallback_text(reply),
        blocks=render.blocks_for(reply),
        unfurl_links=False,
        unfurl_media=False,
    )
