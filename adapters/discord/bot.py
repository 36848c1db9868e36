"""The discord.py client: interactions in, core calls, embeds and buttons out.

Every interaction is answered within Discord's 3 seconds: the reply itself when the core is done
within `ACK_BUDGET`, otherwise a deferral and a follow-up. Buttons are dynamic items with the
campaign in their custom id, so they keep working after a restart.
"""

from __future__ import annotations

import inspect
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Optional

import discord
from discord import app_commands

from adapters.discord import render
from adapters.interaction import (
    announced_here,
    button_command,
    post_and_remember,
    run_values,
    within_budget,
)
from adapters.refresher import AnnouncementRefresher
from bot import bus, views
from bot import commands as cmd
from bot.domain.identity import Actor, Place
from bot.domain.messages import N_, SOURCE, _, language_of, number, speaking, translate
from bot.domain.replies import ActionKind, Announced, Reply, our_failure
from bot.service import Announcement, Service
from runtime.metrics import acknowledged, received

log = logging.getLogger(__name__)
PLATFORM = "discord"


def actor_of(interaction: discord.Interaction) -> Actor:
    user = interaction.user
    workspace = str(interaction.guild_id) if interaction.guild_id else "dm"
    roles = getattr(user, "roles", None) or []
    groups = frozenset(f"discord-role:{role.id}" for role in roles)
    # Discord sends the person's client language with every interaction: no lookup, no trace.
    locale = language_of(getattr(interaction.locale, "value", None))
    return Actor(PLATFORM, workspace, str(user.id), user.display_name, groups=groups, locale=locale)


class CatalogTranslator(app_commands.Translator):
    """Command, group and option descriptions in each Discord language we speak, from the
    catalogs. Names stay English: translated names confuse people who share instructions."""

    DESCRIBED: ClassVar[set[app_commands.TranslationContextLocation]] = {
        app_commands.TranslationContextLocation.command_description,
        app_commands.TranslationContextLocation.group_description,
        app_commands.TranslationContextLocation.parameter_description,
        app_commands.TranslationContextLocation.choice_name,  # "Sealed: no names until…"
    }

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        language = language_of(locale.value)
        if context.location not in self.DESCRIBED or language in (None, SOURCE):
            return None
        source = string.extras.get("source", string.message)
        with speaking(language):
            text = translate(source)
        if text == source:
            return None
        return render.cut(_capitalized(text), 100)


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def described(text: str) -> app_commands.locale_str:
    """A description Discord shows in English and, through the translator, in each language."""
    return app_commands.locale_str(render.cut(_capitalized(text), 100), source=text)


def place_of(interaction: discord.Interaction) -> Place:
    workspace = str(interaction.guild_id) if interaction.guild_id else "dm"
    return Place(PLATFORM, workspace, str(interaction.channel_id or ""))


async def answer(interaction: discord.Interaction, work: Awaitable[Reply]) -> Reply:
    """Send the core's reply, deferring first if it isn't ready within the budget."""
    started = time.perf_counter()
    task = await within_budget(work)
    if not task.done():
        await interaction.response.defer(ephemeral=True, thinking=True)
        acknowledged(PLATFORM, time.perf_counter() - started)
        reply = await task
        if reply.event(Announced) is None:  # an announcement is posted by the caller
            await interaction.followup.send(ephemeral=True, **render.message_kwargs(reply))
        return reply
    reply = task.result()
    if reply.event(Announced) is None:
        await interaction.response.send_message(ephemeral=True, **render.message_kwargs(reply))
    acknowledged(PLATFORM, time.perf_counter() - started)
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
        command = button_command(ActionKind(self.action), self.slug, self.token)
        assert command is not None  # `read` was answered above
        await answer(interaction, bus.run(service.ctx, actor_of(interaction), command))


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
        found = await views.suggest(client.service.ctx, value)
        return [
            app_commands.Choice(name=render.cut(f"{title} ({slug})", 100), value=slug)
            for slug, title in found
        ]


CampaignArg = app_commands.Transform[str, CampaignName]


FORM_LIMITS = {"slug": 40, "title": 200, "goal": 9, "deadline": 25, "text": 4000}


class NewCampaignModal(discord.ui.Modal):
    """The creation form: the registry's form fields as text inputs (Discord allows five);
    the other options of `/petition new` arrive with the command and ride along. It speaks
    the language of whoever opened it."""

    def __init__(
        self, service: Service, given: cmd.Values | None = None, language: str | None = None
    ) -> None:
        with speaking(language):
            super().__init__(title=render.cut(_("New campaign"), 45))
            self._add_fields(service, given)

    def _add_fields(self, service: Service, given: cmd.Values | None) -> None:
        self.service = service
        self.given = dict(given or {})
        self.fields: dict[str, discord.ui.TextInput[Any]] = {}
        for option in cmd.REGISTRY_BY_KEY["new"].options:
            if not option.in_form:
                continue
            field: discord.ui.TextInput[Any] = discord.ui.TextInput(
                label=render.cut(translate(option.label), 45),
                placeholder=option.example or None,
                required=option.required,
                max_length=FORM_LIMITS.get(option.name, 200),
                custom_id=option.name,
                style=discord.TextStyle.paragraph
                if option.kind is cmd.ValueKind.LONG_TEXT
                else discord.TextStyle.short,
            )
            self.fields[option.name] = field
            self.add_item(field)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        values = {**self.given, **{name: f.value for name, f in self.fields.items()}}
        new = cmd.REGISTRY_BY_KEY["new"]
        await answer(interaction, run_values(self.service, actor_of(interaction), new, values))


ANNOTATIONS: dict[cmd.ValueKind, Any] = {
    cmd.ValueKind.CAMPAIGN: CampaignArg,
    cmd.ValueKind.NEW_NAME: str,
    cmd.ValueKind.TEXT: str,
    cmd.ValueKind.LONG_TEXT: str,
    cmd.ValueKind.NUMBER: int,
    cmd.ValueKind.FLAG: bool,
    cmd.ValueKind.CHOICE: app_commands.Choice[str],
    cmd.ValueKind.PERSON: discord.User,
}


def option_value(option: cmd.Option, raw: Any) -> str | bool | None:
    """A Discord option's value as the registry's builders take it."""
    if raw is None:
        return None
    if isinstance(raw, app_commands.Choice):
        return str(raw.value)
    if option.kind is cmd.ValueKind.PERSON:
        return f"<@{raw.id}>"
    if isinstance(raw, bool):
        return raw
    return str(raw)


def slash_options(spec: cmd.Spec) -> list[cmd.Option]:
    """The options Discord offers with the command itself (form fields come in the modal)."""
    return [o for o in spec.options if not o.in_form]


def command_from(
    spec: cmd.Spec, run: Callable[[discord.Interaction, cmd.Values], Awaitable[None]]
) -> app_commands.Command[Any, ..., None]:
    """A Discord slash command for one registry entry: parameters, descriptions and choices
    from its options; the callback hands the values to `run`."""
    options = slash_options(spec)

    async def callback(interaction: discord.Interaction, **raw: Any) -> None:
        await run(interaction, {o.name: option_value(o, raw.get(o.name)) for o in options})

    parameters = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    for o in sorted(options, key=lambda o: not o.required):
        annotation = ANNOTATIONS[o.kind]
        default: Any = inspect.Parameter.empty
        if not o.required:
            annotation = Optional[annotation]  # noqa: UP045  (a transformer has no `| None`)
            default = False if o.kind is cmd.ValueKind.FLAG else None
        parameters.append(
            inspect.Parameter(
                o.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
            )
        )
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    described_as = {o.name: described(o.describe or o.label) for o in options}
    offered = {
        o.name: [
            app_commands.Choice(name=described(label) if o.choice_labels else label, value=c)
            for c, label in zip(o.choices, o.choice_labels or o.choices, strict=True)
        ]
        for o in options
        if o.choices
    }
    callback = app_commands.choices(**offered)(app_commands.describe(**described_as)(callback))
    name = spec.name.split()[-1]
    return app_commands.Command(name=name, description=described(spec.summary), callback=callback)


class UndersignedDiscord(discord.Client):
    def __init__(
        self, service: Service, *, guild_ids: list[int] | None = None, refresh_interval: float = 3.0
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # slash commands and buttons need no privileged intent
        # A rate limit longer than this comes back to the outbox as a (clamped) RetryAfter
        # instead of holding a delivery inside discord.py.
        super().__init__(
            intents=intents, allowed_mentions=render.NO_MENTIONS, max_ratelimit_timeout=30.0
        )
        self.service = service
        self.guild_ids = guild_ids or []
        self.tree = app_commands.CommandTree(self)
        self.refresher = AnnouncementRefresher(
            service, PLATFORM, self._update_announcement, refresh_interval
        )
        self._register_commands()
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]

    async def on_interaction(self, _interaction: discord.Interaction) -> None:
        received(PLATFORM)  # every kind together: a metric never tells signing apart

    async def setup_hook(self) -> None:
        self.add_dynamic_items(CampaignButton)
        await self.tree.set_translator(CatalogTranslator())
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
        reply = await bus.run(self.service.ctx, actor_of(interaction), cmd.Read(slug))
        if reply.error or reply.card is None:
            await interaction.response.send_message(ephemeral=True, **render.message_kwargs(reply))
            return
        pieces = render.letter_chunks(reply.letter or reply.card.excerpt)
        title = render.cut(render.user_text(reply.card.title), render.TITLE_LIMIT)
        for i, piece in enumerate(pieces):
            embed = discord.Embed(title=title if i == 0 else None, description=piece)
            if i == 0 and reply.card.addressee:
                with speaking(reply.locale):
                    to = _("To")
                embed.add_field(
                    name=to,
                    value=render.cut(render.user_text(reply.card.addressee), render.FIELD_LIMIT),
                )
            if i == len(pieces) - 1:
                with speaking(reply.locale):
                    version = _("version {version}", version=number(reply.card.version))
                embed.set_footer(text=f"{reply.card.slug} · {version}")
            send = interaction.followup.send if i else interaction.response.send_message
            await send(embed=embed, ephemeral=True, allowed_mentions=render.NO_MENTIONS)

    async def _read(self, interaction: discord.Interaction, values: cmd.Values) -> None:
        command = cmd.REGISTRY_BY_KEY["read"].intent(values)
        assert isinstance(command, cmd.Read)
        await self.send_letter(interaction, command.slug)

    async def _post(self, interaction: discord.Interaction, values: cmd.Values) -> None:
        command = cmd.REGISTRY_BY_KEY["post"].intent(values)
        reply = await answer(
            interaction,
            bus.run(self.service.ctx, actor_of(interaction), command, place_of(interaction)),
        )

        async def post() -> str:
            if interaction.response.is_done():  # deferred (ephemeral): post in the channel
                channel = self.get_partial_messageable(int(interaction.channel_id or 0))
                message = await channel.send(**render.message_kwargs(reply))
                with speaking(language_of(interaction.locale.value)):
                    done = announced_here()
                await interaction.followup.send(
                    done, ephemeral=True, allowed_mentions=render.NO_MENTIONS
                )
                return str(message.id)
            await interaction.response.send_message(**render.message_kwargs(reply))
            return str((await interaction.original_response()).id)

        await post_and_remember(self.service, reply, post)

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        log.error("a Discord command failed (%s)", type(error).__name__, exc_info=error)
        with speaking(language_of(getattr(interaction.locale, "value", None))):
            text = our_failure()
        if interaction.response.is_done():
            await interaction.followup.send(
                text, ephemeral=True, allowed_mentions=render.NO_MENTIONS
            )
        else:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=render.NO_MENTIONS
            )

    def _register_commands(self) -> None:
        """The command tree, derived from the registry: `/sign`, `/unsign`, `/forget-me` and
        the `/petition` group, each option as the registry defines it."""
        special: dict[str, Callable[[discord.Interaction, cmd.Values], Awaitable[None]]] = {
            "petition read": self._read,
            "petition new": lambda i, v: i.response.send_modal(
                NewCampaignModal(self.service, v, actor_of(i).locale)
            ),
            "petition post": self._post,
        }
        petition = app_commands.Group(
            name="petition", description=described(N_("Open letters and pledges"))
        )
        for spec in cmd.REGISTRY:
            run = special.get(spec.name) or self._runner(spec)
            command = command_from(spec, run)
            if spec.name.startswith("petition "):
                petition.add_command(command)
            else:
                self.tree.add_command(command)
        self.tree.add_command(petition)

    def _runner(
        self, spec: cmd.Spec
    ) -> Callable[[discord.Interaction, cmd.Values], Awaitable[None]]:
        async def run(interaction: discord.Interaction, values: cmd.Values) -> None:
            place = place_of(interaction) if spec.in_channel else None
            actor = actor_of(interaction)
            await answer(interaction, run_values(self.service, actor, spec, values, place))

        return run
