"""The discord.py client: interactions in, core calls, embeds and buttons out.

Every interaction is answered within Discord's 3 seconds: the reply itself when the core is done
within `ACK_BUDGET`, otherwise a deferral and a follow-up. Buttons are dynamic items with the
campaign in their custom id, so they keep working after a restart.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable
from typing import Any

import discord
from discord import app_commands

from adapters.discord import render
from adapters.interaction import within_budget
from adapters.refresher import AnnouncementRefresher
from bot import commands as cmd
from bot.identity import Actor, Place
from bot.replies import CONSENT_CHOICES, ActionKind, Reply
from bot.service import Announcement, Service

log = logging.getLogger(__name__)
PLATFORM = "discord"


def actor_of(interaction: discord.Interaction) -> Actor:
    user = interaction.user
    workspace = str(interaction.guild_id) if interaction.guild_id else "dm"
    roles = getattr(user, "roles", None) or []
    groups = frozenset(f"discord-role:{role.id}" for role in roles)
    return Actor(PLATFORM, workspace, str(user.id), user.display_name, groups=groups)


def place_of(interaction: discord.Interaction) -> Place:
    workspace = str(interaction.guild_id) if interaction.guild_id else "dm"
    return Place(PLATFORM, workspace, str(interaction.channel_id or ""))


async def answer(interaction: discord.Interaction, work: Awaitable[Reply]) -> Reply:
    """Send the core's reply, deferring first if it isn't ready within the budget."""
    task = await within_budget(work)
    if not task.done():
        await interaction.response.defer(ephemeral=True, thinking=True)
        reply = await task
        if reply.announcement_id is None:
            await interaction.followup.send(ephemeral=True, **render.message_kwargs(reply))
        return reply
    reply = task.result()
    if reply.announcement_id is None:
        await interaction.response.send_message(ephemeral=True, **render.message_kwargs(reply))
    return reply


class CampaignButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=render.CUSTOM_ID_PATTERN
):
    """Sign / Sign anonymously / Read the letter, rebuilt from the custom id after a restart."""

    def __init__(self, action: str, slug: str, token: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(label=action, custom_id=render.custom_id(action, slug, token))
        )
        self.action = action
        self.slug = slug
        self.token = token

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CampaignButton:
        return cls(match["action"], match["slug"], match["token"])

    async def callback(self, interaction: discord.Interaction) -> None:
        client = interaction.client
        assert isinstance(client, UndersignedDiscord)
        service = client.service
        if self.action == "read":
            await client.send_letter(interaction, self.slug)
            return
        choice = CONSENT_CHOICES.get(ActionKind(self.action))
        command: cmd.Command
        if choice is not None:  # a first-time signer's choice after the safety notice
            command = cmd.Consent(self.slug, choice, self.token)
        else:
            command = cmd.Sign(slug=self.slug, anonymous=self.action == "sign_anonymously")
        await answer(interaction, service.run(actor_of(interaction), command))


class CampaignName(app_commands.Transformer):
    """A campaign's short name, with autocomplete of the open campaigns: one definition for
    every command that takes a campaign."""

    async def transform(self, interaction: discord.Interaction, value: str) -> str:
        return value

    async def autocomplete(  # type: ignore[override]
        self, interaction: discord.Interaction, value: str
    ) -> list[app_commands.Choice[str]]:
        client = interaction.client
        assert isinstance(client, UndersignedDiscord)
        found = await client.service.suggest(value)
        return [
            app_commands.Choice(name=render.cut(f"{title} ({slug})", 100), value=slug)
            for slug, title in found
        ]


CampaignArg = app_commands.Transform[str, CampaignName]


class NewCampaignModal(discord.ui.Modal, title="New campaign"):
    slug: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Short name (used in /sign)",
        placeholder="walkout-2026",
        max_length=40,
        custom_id="slug",
    )
    name: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Title", max_length=200, custom_id="title"
    )
    goal: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Goal (or pledge threshold)", placeholder="1000", max_length=9, custom_id="goal"
    )
    deadline: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Deadline (YYYY-MM-DD), optional for petitions",
        required=False,
        max_length=25,
        custom_id="deadline",
    )
    letter: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="The letter", style=discord.TextStyle.paragraph, max_length=4000, custom_id="text"
    )

    def __init__(
        self,
        service: Service,
        action: str | None,
        addressee: str | None,
        names: str | None = None,
    ) -> None:
        super().__init__()
        self.service = service
        self.pledge_action = action
        self.addressee = addressee
        self.names = names

    async def on_submit(self, interaction: discord.Interaction) -> None:
        options = {"title": self.name.value}
        if self.pledge_action:
            options.update(kind="pledge", threshold=self.goal.value, action=self.pledge_action)
        else:
            options["goal"] = self.goal.value
        if self.deadline.value.strip():
            options["deadline"] = self.deadline.value.strip()
        if self.addressee:
            options["to"] = self.addressee
        if self.names:
            options["names"] = self.names
        create = cmd.Create(
            slug=self.slug.value.strip().lower(), options=options, text=self.letter.value
        )
        await answer(interaction, self.service.run(actor_of(interaction), create))


class UndersignedDiscord(discord.Client):
    def __init__(
        self, service: Service, *, guild_ids: list[int] | None = None, refresh_interval: float = 3.0
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # slash commands and buttons need no privileged intent
        super().__init__(intents=intents, allowed_mentions=render.NO_MENTIONS)
        self.service = service
        self.guild_ids = guild_ids or []
        self.tree = app_commands.CommandTree(self)
        self.refresher = AnnouncementRefresher(
            service, PLATFORM, self._update_announcement, refresh_interval
        )
        self._register_commands()
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]

    async def setup_hook(self) -> None:
        self.add_dynamic_items(CampaignButton)
        if self.guild_ids:
            for guild_id in self.guild_ids:
                guild = discord.Object(guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()
        self.refresher.start()

    async def close(self) -> None:
        await self.refresher.stop()
        await super().close()

    async def _update_announcement(self, announcement: Announcement, reply: Reply) -> None:
        channel = self.get_partial_messageable(int(announcement.channel))
        message = channel.get_partial_message(int(announcement.message_id or 0))
        await message.edit(**render.message_kwargs(reply))

    async def send_letter(self, interaction: discord.Interaction, slug: str | None) -> None:
        reply = await self.service.run(actor_of(interaction), cmd.Read(slug))
        if reply.error or reply.card is None:
            await interaction.response.send_message(ephemeral=True, **render.message_kwargs(reply))
            return
        body = reply.text
        pieces = render.letter_chunks(body)
        title = render.cut(render.user_text(reply.card.title), render.TITLE_LIMIT)
        for i, piece in enumerate(pieces):
            embed = discord.Embed(
                title=title if i == 0 else None, description=render.user_text(piece)
            )
            if i == len(pieces) - 1:
                embed.set_footer(text=f"{reply.card.slug} · version {reply.card.version}")
            send = interaction.followup.send if i else interaction.response.send_message
            await send(embed=embed, ephemeral=True, allowed_mentions=render.NO_MENTIONS)

    async def _post(self, interaction: discord.Interaction, campaign: str) -> None:
        reply = await answer(
            interaction,
            self.service.run(actor_of(interaction), cmd.Post(campaign), place_of(interaction)),
        )
        if reply.announcement_id is None:
            return
        if interaction.response.is_done():  # deferred (ephemeral): post in the channel instead
            channel = self.get_partial_messageable(int(interaction.channel_id or 0))
            message = await channel.send(**render.message_kwargs(reply))
            await interaction.followup.send(
                "Announced here.", ephemeral=True, allowed_mentions=render.NO_MENTIONS
            )
        else:
            await interaction.response.send_message(**render.message_kwargs(reply))
            message = await interaction.original_response()
        await self.service.remember_announcement(reply.announcement_id, str(message.id))

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        log.error("Discord command failed: %r", error, exc_info=error)
        text = "Something went wrong on our side and nothing was changed. Please try again."
        if interaction.response.is_done():
            await interaction.followup.send(
                text, ephemeral=True, allowed_mentions=render.NO_MENTIONS
            )
        else:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=render.NO_MENTIONS
            )

    def _register_commands(self) -> None:
        service = self.service

        @self.tree.command(name="sign", description="Sign an open letter or pledge")
        @app_commands.describe(
            campaign="Which campaign (leave out when only one is open)",
            anonymous="Leave no name or account with your signature",
            comment="Why you sign (optional, up to 500 characters)",
            role="Your role or title (optional)",
        )
        async def sign(
            interaction: discord.Interaction,
            campaign: CampaignArg | None = None,
            anonymous: bool = False,
            comment: str | None = None,
            role: str | None = None,
        ) -> None:
            command: cmd.Command = cmd.Sign(
                slug=campaign, anonymous=anonymous, role=role, comment=comment
            )
            if campaign == "mine":
                command = cmd.Mine()
            await answer(interaction, service.run(actor_of(interaction), command))

        @self.tree.command(name="forget-me", description="Remove all your signatures everywhere")
        @app_commands.describe(confirm="Set to True to really delete them")
        async def forget_me(interaction: discord.Interaction, confirm: bool = False) -> None:
            await answer(interaction, service.run(actor_of(interaction), cmd.ForgetMe(confirm)))

        @self.tree.command(name="unsign", description="Withdraw your signature")
        async def unsign(
            interaction: discord.Interaction, campaign: CampaignArg | None = None
        ) -> None:
            await answer(interaction, service.run(actor_of(interaction), cmd.Unsign(campaign)))

        petition = app_commands.Group(name="petition", description="Open letters and pledges")

        @petition.command(name="status", description="Tally, pace and deadline")
        async def status(
            interaction: discord.Interaction, campaign: CampaignArg | None = None
        ) -> None:
            await answer(interaction, service.run(actor_of(interaction), cmd.Status(campaign)))

        @petition.command(name="list", description="Every campaign")
        async def list_(interaction: discord.Interaction) -> None:
            await answer(interaction, service.run(actor_of(interaction), cmd.ListCampaigns()))

        @petition.command(name="help", description="How to use Undersigned")
        async def help_(interaction: discord.Interaction) -> None:
            await answer(interaction, service.run(actor_of(interaction), cmd.Help()))

        @petition.command(name="safety", description="What others can see, and what is stored")
        async def safety(interaction: discord.Interaction) -> None:
            await answer(interaction, service.run(actor_of(interaction), cmd.Safety()))

        @petition.command(name="read", description="The whole letter")
        async def read(
            interaction: discord.Interaction, campaign: CampaignArg | None = None
        ) -> None:
            await self.send_letter(interaction, campaign)

        @petition.command(name="new", description="Start a petition or, with an action, a pledge")
        @app_commands.describe(
            action='For a pledge: what everyone will do, e.g. "walk out"',
            to="Who the letter is addressed to",
            names="Who sees signers' names (sealed: nobody until the goal; pledges' default)",
        )
        @app_commands.choices(
            names=[app_commands.Choice(name=n, value=n) for n in ("public", "sealed", "count-only")]
        )
        async def new(
            interaction: discord.Interaction,
            action: str | None = None,
            to: str | None = None,
            names: app_commands.Choice[str] | None = None,
        ) -> None:
            modal = NewCampaignModal(service, action, to, names.value if names else None)
            await interaction.response.send_modal(modal)

        @petition.command(name="edit", description="Organizers: change a campaign")
        async def edit(
            interaction: discord.Interaction,
            campaign: CampaignArg,
            text: str | None = None,
            title: str | None = None,
            goal: int | None = None,
            deadline: str | None = None,
            to: str | None = None,
            action: str | None = None,
        ) -> None:
            given = {"title": title, "goal": goal, "deadline": deadline, "to": to, "action": action}
            options = {k: str(v) for k, v in given.items() if v is not None}
            command = cmd.Edit(slug=campaign, options=options, text=text)
            await answer(interaction, service.run(actor_of(interaction), command))

        @petition.command(name="close", description="Organizers: close to new signatures")
        async def close(interaction: discord.Interaction, campaign: CampaignArg) -> None:
            await answer(interaction, service.run(actor_of(interaction), cmd.Close(campaign)))

        @petition.command(name="post", description="Organizers: announce here with Sign buttons")
        async def post(interaction: discord.Interaction, campaign: CampaignArg) -> None:
            await self._post(interaction, campaign)

        @petition.command(name="mine", description="What you signed, and how")
        async def mine(interaction: discord.Interaction) -> None:
            await answer(interaction, service.run(actor_of(interaction), cmd.Mine()))

        @petition.command(name="organizers", description="List, add or remove organizers")
        @app_commands.choices(
            change=[
                app_commands.Choice(name="add", value="add"),
                app_commands.Choice(name="remove", value="remove"),
            ]
        )
        async def organizers(
            interaction: discord.Interaction,
            campaign: CampaignArg,
            change: app_commands.Choice[str] | None = None,
            person: discord.User | None = None,
        ) -> None:
            who = f"<@{person.id}>" if person is not None else None
            command = cmd.Organizers(campaign, change.value if change else None, who)
            if command.change and not who:
                command = cmd.Organizers(campaign, None, None)
            await answer(interaction, service.run(actor_of(interaction), command))

        @petition.command(name="audit", description="Organizers: who did what, when")
        async def audit(interaction: discord.Interaction, campaign: CampaignArg) -> None:
            await answer(interaction, service.run(actor_of(interaction), cmd.Audit(campaign)))

        @petition.command(name="export", description="Organizers: the letter and signatories")
        @app_commands.choices(
            format=[app_commands.Choice(name=f, value=f) for f in ("md", "csv", "html")]
        )
        async def export(
            interaction: discord.Interaction,
            campaign: CampaignArg,
            format: app_commands.Choice[str] | None = None,
        ) -> None:
            command = cmd.Export(campaign, format.value if format else "md")
            await answer(interaction, service.run(actor_of(interaction), command))

        @petition.command(name="purge", description="Organizers, after close: remove identities")
        async def purge(interaction: discord.Interaction, campaign: CampaignArg) -> None:
            await answer(interaction, service.run(actor_of(interaction), cmd.Purge(campaign)))

        @petition.command(name="remind", description="Organizers: reminders in this channel")
        @app_commands.describe(
            schedule="daily 09:00, weekdays 09:30 Europe/Berlin, mondays 10:00, every 3 days, off"
        )
        async def remind(
            interaction: discord.Interaction, campaign: CampaignArg, schedule: str
        ) -> None:
            command = cmd.Remind(campaign, schedule)
            await answer(
                interaction, service.run(actor_of(interaction), command, place_of(interaction))
            )

        @petition.command(name="reminders", description="Reminders that are set")
        async def reminders(
            interaction: discord.Interaction, campaign: CampaignArg | None = None
        ) -> None:
            await answer(interaction, service.run(actor_of(interaction), cmd.Reminders(campaign)))

        @petition.command(name="webhook", description="Organizers: list, add or remove webhooks")
        @app_commands.choices(
            change=[app_commands.Choice(name=c, value=c) for c in ("add", "remove")]
        )
        async def webhook(
            interaction: discord.Interaction,
            campaign: CampaignArg,
            change: app_commands.Choice[str] | None = None,
            url: str | None = None,
        ) -> None:
            value = change.value if change and url else None
            command = cmd.Webhook(campaign, value, url if value else None)
            await answer(interaction, service.run(actor_of(interaction), command))

        self.tree.add_command(petition)
