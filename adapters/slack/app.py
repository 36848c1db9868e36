"""The bolt app: Slack events in, core calls, Block Kit out. No business rules live here.

Each command is answered inside the ack when the core is quick (almost always); if it is not
done within `ACK_BUDGET`, the ack says "working on it" and the answer follows via response_url.
A listener returns as soon as it has acknowledged (bolt's `process_before_response`: no
polling for the ack); everything after it (users.info, response_url, announcements, names)
goes to a bounded queue (`AfterAck`) that can't hold up the next acknowledgement.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.interaction import (
    AfterAck,
    announced_here,
    button_command,
    post_and_remember,
    run_values,
    within_budget,
)
from adapters.refresher import AnnouncementRefresher
from adapters.slack import render
from adapters.slack.install import OAuth, install_options
from adapters.slack.names import PLATFORM, SlackNames
from adapters.slack.requests import CHECKED, Refused, check_payload
from adapters.slack.workspaces import SlackWorkspaces
from bot import bus, handlers, jobs
from bot import commands as cmd
from bot.domain.identity import Actor, Place
from bot.domain.messages import _, speaking
from bot.domain.messages import current as current_language
from bot.domain.replies import (
    BUTTON_ACTIONS,
    ActionKind,
    Announced,
    Reply,
    SignedPublicly,
    error_reply,
)
from bot.service import Announcement, Service

log = logging.getLogger(__name__)
Respond = Callable[..., Awaitable[Any]]


def retrying() -> list[AsyncRetryHandler]:
    """Retry handlers for calls made while someone waits: 429s retried after Retry-After."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=5),
    ]


def _workspaces_of(body: dict[str, Any]) -> tuple[str, str]:
    """(the workspace the request came through, the person's own workspace). They differ in a
    Slack Connect channel shared between workspaces: each person counts as themselves, from
    their own workspace (`user.team_id`), never twice and never as someone of the host."""
    user = body.get("user") or {}
    through = (body.get("team") or {}).get("id") or user.get("team_id") or ""
    own = user.get("team_id") or through
    return str(through), str(own)


class SlackAdapter:
    def __init__(
        self,
        service: Service,
        workspaces: SlackWorkspaces,
        *,
        signing_secret: str | None,
        oauth: OAuth | None = None,
        refresh_interval: float = 3.0,
    ) -> None:
        self.service = service
        self.workspaces = workspaces
        self.client = workspaces.base
        self.names = SlackNames(workspaces)
        options: dict[str, Any] = {}
        if oauth is not None:
            options = install_options(self.workspaces, self.names, self._later, oauth)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=signing_secret or "socket-mode-has-no-signing-secret",
            # HttpServer verifies every request before anything is parsed (and hands bolt the
            # parsed body); Socket Mode needs no signature.
            request_verification_enabled=False,
            process_before_response=True,
            **options,
        )
        self.after = AfterAck()
        self.refresher = AnnouncementRefresher(
            service, PLATFORM, self._update_announcement, refresh_interval
        )
        self._group_members: dict[tuple[str, str], tuple[frozenset[str], float]] = {}
        self.app.use(self._who_and_where)
        for name in cmd.SLASH_COMMANDS:  # a listener each; Slack routes subcommands by text
            self.app.command(f"/{name}")(self._on_command)
        self.app.action(re.compile(rf"^undersigned\.({BUTTON_ACTIONS})$"))(self._on_button)
        self.app.action("undersigned.page")(self._on_link)  # Slack reports link clicks too
        self.app.view("undersigned.new")(self._on_new_submitted)
        self.app.view_closed("undersigned.new")(self._on_link)  # a form dismissed: nothing to do
        self.app.event("app_uninstalled")(self._on_uninstalled)
        self.app.event("tokens_revoked")(self._on_tokens_revoked)
        self.app.error(self._on_error)

    async def start(self) -> None:
        self.refresher.start()

    async def stop(self) -> None:
        await self.refresher.stop()
        await self.after.stop()

    # ---- helpers -------------------------------------------------------------------------

    def _later(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run slow work after the ack, in the bounded queue (dropped, and logged, when full)."""
        if not self.after.submit(lambda: work):
            work.close()

    async def _with_groups(self, actor: Actor) -> Actor:
        """Add the Slack user groups named in UNDERSIGNED_CREATORS that this person is in."""
        wanted = self.service.creators.groups_for(PLATFORM)
        if not wanted:
            return actor
        groups = set()
        for group in wanted:
            members = self._group_members.get((actor.workspace, group))
            if members is None or members[1] < time.monotonic():
                try:
                    client = await self.workspaces.client_for(actor.workspace)
                    found = await client.usergroups_users_list(usergroup=group.split(":", 1)[1])
                    members = (frozenset(found.get("users") or []), time.monotonic() + 300)
                except Exception as exc:
                    log.warning("usergroups.users.list failed for %s: %s", group, exc)
                    members = (frozenset(), time.monotonic() + 30)
                self._group_members[(actor.workspace, group)] = members
            if actor.user_id in members[0]:
                groups.add(group)
        return replace(actor, groups=actor.groups | groups)

    async def _update_announcement(self, announcement: Announcement, reply: Reply) -> None:
        client = await self.workspaces.client_for(announcement.workspace)
        await client.chat_update(
            channel=announcement.channel,
            ts=announcement.message_id,
            text=render.fallback_text(reply),
            blocks=render.blocks_for(reply),
        )

    def _after(self, actor: Actor, reply: Reply) -> None:
        """Follow what the use case did: only after a public signature is the signer's real
        name looked up (an anonymous signer never is)."""
        signed = reply.event(SignedPublicly)
        if signed is not None:
            self._later(self._learn_name(actor, signed.slug))

    def _responder(self, body: dict[str, Any], fallback: Respond) -> Respond:
        """Answers through the request's response_url on the one shared HTTP session (bolt's
        own `respond` opens a new session and connection for every answer)."""
        url = body.get("response_url")
        if not isinstance(url, str) or not url:
            return fallback
        session = self.workspaces.session
        timeout = aiohttp.ClientTimeout(total=10)

        async def respond(**message: Any) -> None:
            payload = {k: v for k, v in message.items() if v is not None}
            try:
                async with session.post(url, json=payload, timeout=timeout) as answer:
                    if answer.status >= 400:
                        log.warning("response_url answered %s", answer.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("response_url could not be reached: %s", type(exc).__name__)

        return respond

    async def _learn_name(self, actor: Actor, slug: str) -> None:
        renamed = await self.names.learn(actor)
        if renamed is not None:
            await handlers.signing.refresh_signer_name(self.service.ctx, renamed, slug)

    async def _speaker(self, actor: Actor, command: cmd.Command | None) -> Actor:
        """The actor with their language: looked up (after the ack) unless they sign
        anonymously; an anonymous signer gets the campaign's language, even when it is known."""
        if cmd.keeps_name_out(command):
            asked = getattr(command, "lang", None)  # `lang:` typed with the signature
            return replace(actor, locale=None, locale_withheld=asked is None)
        if actor.locale is not None or self.after.busy:
            return actor  # known, or a backlog: the campaign's language rather than a wait
        return replace(actor, locale=await self.names.locale_of(actor.workspace, actor.user_id))

    async def _post_announcement(
        self, actor: Actor, place: Place, reply: Reply, respond: Respond
    ) -> None:
        async def post() -> str:
            client = await self.workspaces.client_for(place.workspace)
            posted = await client.chat_postMessage(
                channel=place.channel,
                text=render.fallback_text(reply),
                blocks=render.blocks_for(reply),
                unfurl_links=False,
                unfurl_media=False,
                link_names=False,
            )
            return str(posted["ts"])

        try:
            await post_and_remember(self.service, reply, post)
        except Exception as exc:
            log.warning("announcement failed: %s", exc)
            with speaking(actor.locale):
                refused = error_reply(
                    _(
                        "I couldn't post in this channel. Invite me with `/invite @Undersigned` "
                        "and try again."
                    )
                )
                await respond(**render.response(replace(refused, locale=current_language())))
            return
        with speaking(actor.locale):
            await respond(
                response_type="ephemeral",
                text=announced_here(),
            )

    # ---- the one reading of a payload -----------------------------------------------------

    async def _who_and_where(
        self, body: dict[str, Any], context: AsyncBoltContext, next: Callable[[], Awaitable[Any]]
    ) -> BoltResponse | None:
        """Every request, before any listener: its shape checked once (HTTP requests were
        checked before bolt parsed them; Socket Mode's are checked here), then who is acting
        and where, put in bolt's context. Listeners read `context["actor"]` and
        `context["place"]`, never the payload's user or team."""
        if not context.get(CHECKED):
            try:
                check_payload(body)
            except Refused as refused:
                return BoltResponse(status=refused.status, body=refused.reason)
        if "command" in body:  # a slash command's form
            team = body["team_id"]  # without it the core refuses: never guessed
            context["actor"] = self.names.actor(team, body["user_id"], body.get("user_name"))
            context["place"] = Place(PLATFORM, team, body.get("channel_id", ""))
        elif isinstance(body.get("user"), dict):  # a button or a form
            user = body["user"]
            team, own = _workspaces_of(body)
            context["actor"] = self.names.actor(
                own, user["id"], user.get("name") or user.get("username"), via=team
            )
            context["through"] = team
        await next()
        return None

    # ---- listeners -----------------------------------------------------------------------

    async def _on_command(
        self,
        ack: Any,
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: Respond,
    ) -> None:
        respond = self._responder(body, respond)
        actor: Actor = context["actor"]
        place: Place = context["place"]
        team = place.workspace
        command = body["command"]
        raw = body.get("text", "")
        text = render.unescape_command_text(raw, keep_user_mentions="organizer" in raw.lower())
        spec, rest = cmd.invoked(command, text)
        if spec is cmd.REGISTRY_BY_KEY["new"]:
            actor = await self._with_groups(actor)  # creating may be limited to some groups
        if spec is cmd.REGISTRY_BY_KEY["new"] and not rest.strip():  # nothing typed: the form
            await ack()
            with speaking(actor.locale):  # known from an earlier reply, else the server's
                view = render.new_campaign_modal(place.channel)
            await client.views_open(trigger_id=body["trigger_id"], view=view)
            return
        parsed = cmd.parse_quietly(command, text)  # the one parse of this request's text
        unknown = actor.locale is None and not self.names.knows(team, actor.user_id)
        room = self.names.can_wait() and self.after.has_room()
        if cmd.keeps_name_out(parsed):
            actor = await self._speaker(actor, parsed)  # nothing looked up
        elif unknown and room:
            # Their language isn't known yet: acknowledge at once (Slack shows nothing), then
            # ask users.info and answer through response_url in their language. (Without
            # room, in a burst of new people, the answer goes with the ack, in the campaign's
            # language.)
            await ack()
            self._later(self._answer_later(actor, command, text, parsed, place, respond))
            return
        task = await within_budget(self._run(actor, command, text, parsed, place))
        if task.done() and task.result().event(Announced) is None:
            reply = task.result()
            await ack(**render.response(reply))
            self._after(actor, reply)
            return
        with speaking(actor.locale):
            await ack(response_type="ephemeral", text=_("Working on it…"))
        self._later(self._answer(actor, task, place, respond))

    async def _run(
        self,
        actor: Actor,
        command: str,
        text: str,
        parsed: cmd.Command | None,
        place: Place | None,
    ) -> Reply:
        """Run what was parsed; a text the grammar refused is handed over as text, so the
        refusal is worded (in the person's language) where every refusal is."""
        if parsed is None:
            return await bus.handle(self.service.ctx, actor, command, text, place)
        return await bus.run(self.service.ctx, actor, parsed, place)

    async def _answer_later(
        self,
        actor: Actor,
        command: str,
        text: str,
        parsed: cmd.Command | None,
        place: Place,
        respond: Respond,
    ) -> None:
        actor = await self._speaker(actor, parsed)
        reply = await self._run(actor, command, text, parsed, place)
        await self._deliver(actor, reply, place, respond)

    async def _answer(
        self, actor: Actor, task: Awaitable[Reply], place: Place, respond: Respond
    ) -> None:
        await self._deliver(actor, await task, place, respond)

    async def _deliver(self, actor: Actor, reply: Reply, place: Place, respond: Respond) -> None:
        if reply.event(Announced) is not None:
            await self._post_announcement(actor, place, reply, respond)
        else:
            await respond(**render.response(reply))
        self._after(actor, reply)

    async def _on_button(
        self,
        ack: Any,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: Respond,
    ) -> None:
        await ack()  # a press is answered through response_url, after the acknowledgement
        respond = self._responder(body, respond)
        kind = ActionKind(action["action_id"].removeprefix(render.ACTION_PREFIX))
        slug, _, token = (action.get("value") or "").partition(":")
        actor: Actor = context["actor"]
        if kind is ActionKind.READ:
            # The modal must open within the trigger's 3 seconds: their language if it is known,
            # else the campaign's, and it is learned for next time.
            if actor.locale is None:
                self._later(self.names.locale_of(actor.workspace, actor.user_id))
            self._later(self._open_letter(actor, slug, body["trigger_id"], client, respond))
            return
        command = button_command(kind, slug, token)
        assert command is not None  # `read` was answered above
        # After the safety notice, the answer replaces it and its buttons.
        work = self._press(actor, command, isinstance(command, cmd.Consent), respond)
        if not self.after.has_room():
            await work  # the queue is full: this press waits its turn instead of being lost
            return
        self._later(work)

    async def _press(
        self, actor: Actor, command: cmd.Command, replaces: bool, respond: Respond
    ) -> None:
        actor = await self._speaker(actor, command)
        reply = await bus.run(self.service.ctx, actor, command)
        await respond(replace_original=replaces, **render.response(reply))
        self._after(actor, reply)

    async def _open_letter(
        self, reader: Actor, slug: str, trigger: str, client: AsyncWebClient, respond: Respond
    ) -> None:
        reply = await bus.run(self.service.ctx, reader, cmd.Read(slug))
        if reply.error:
            await respond(replace_original=False, **render.response(reply))
            return
        try:
            await client.views_open(trigger_id=trigger, view=render.letter_modal(reply))
        except SlackApiError as exc:  # e.g. the trigger expired in a long queue
            log.warning("the letter could not be opened: %s", exc.response.get("error"))

    async def _on_link(self, ack: Any) -> None:
        await ack()  # the browser opens the page; nothing to answer

    async def _on_new_submitted(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        values = render.modal_values(view)
        user_id, team = context["actor"].user_id, context["through"]
        actor = await self._with_groups(context["actor"])
        task = await within_budget(
            run_values(self.service, actor, cmd.REGISTRY_BY_KEY["new"], values)
        )
        if task.done() and task.result().error:
            reply = task.result()
            block = render.field_for_error(reply.text, reply.locale)
            await ack(response_action="errors", errors={block: render.plain(reply.text)[:150]})
            return
        await ack()
        channel = view.get("private_metadata") or user_id
        self._later(self._created(task, team, channel, user_id))

    async def _created(self, task: Awaitable[Reply], team: str, channel: str, user: str) -> None:
        reply = await task
        client = await self.workspaces.client_for(team)
        await client.chat_postEphemeral(
            channel=channel,
            user=user,
            text=render.fallback_text(reply),
            blocks=render.blocks_for(reply),
        )

    async def _on_uninstalled(self, body: dict[str, Any]) -> None:
        await self._removed(body.get("team_id") or "")

    async def _on_tokens_revoked(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if (event.get("tokens") or {}).get("bot"):  # the bot's token: nothing can be sent there
            await self._removed(body.get("team_id") or "")

    async def _removed(self, team: str) -> None:
        """Delete the workspace's tokens at once; stop its announcements and reminders."""
        if not team:
            return
        if self.workspaces.installed:
            store = self.app.installation_store
            assert store is not None
            await store.async_delete_all(enterprise_id=None, team_id=team)
        self.workspaces.forget(team)
        links, reminders, messages = await jobs.workspace_removed(self.service.ctx, PLATFORM, team)
        log.info(
            "removed from a workspace: %d channel links, %d reminders, %d queued messages dropped",
            links,
            reminders,
            messages,
        )

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        log.error("unhandled error in a Slack listener: %r", error)
