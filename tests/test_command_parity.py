"""Every option the chat grammar (and so the console) accepts is offered by Slack's form and
Discord's command tree too, so the platforms can't drift apart again. (Slack's slash commands
are parsed by the same grammar, so its text commands are equal by construction.)"""

from __future__ import annotations

from discord import app_commands

from adapters.discord.bot import NewCampaignModal, UndersignedDiscord
from adapters.slack import render as slack_render
from bot import commands as cmd
from bot.service import Service

ALIASES = {"threshold": "goal", "addressee": "to"}  # one option, two names in the grammar
# The /petition subcommands the grammar knows (`_parse_petition`), by their main word.
PETITION_WORDS = {
    "status",
    "read",
    "list",
    "help",
    "safety",
    "new",
    "edit",
    "organizers",
    "audit",
    "export",
    "remind",
    "reminders",
    "webhook",
    "purge",
    "post",
    "close",
}


def canonical(keys: set[str]) -> set[str]:
    return {ALIASES.get(k, k) for k in keys}


def discord_tree(service: Service) -> dict[str, app_commands.Command]:  # type: ignore[type-arg]
    client = UndersignedDiscord(service)
    found: dict[str, app_commands.Command] = {}  # type: ignore[type-arg]
    for command in client.tree.get_commands():
        if isinstance(command, app_commands.Group):
            for sub in command.commands:
                found[f"{command.name} {sub.name}"] = sub  # type: ignore[assignment]
        else:
            found[command.name] = command  # type: ignore[assignment]
    return found


def params(command: app_commands.Command) -> set[str]:  # type: ignore[type-arg]
    return {p.name for p in command.parameters}


async def test_discord_has_every_petition_subcommand_and_the_sign_options(
    service: Service,
) -> None:
    tree = discord_tree(service)
    for word in PETITION_WORDS:
        assert f"petition {word}" in tree, word
    assert {"sign", "unsign", "forget-me"} <= set(tree)
    assert {"campaign", "anonymous", "role", "comment"} <= params(tree["sign"])


async def test_discord_edit_and_new_accept_every_option_of_the_grammar(service: Service) -> None:
    tree = discord_tree(service)
    edit = params(tree["petition edit"]) | {"text"}
    assert canonical(cmd.EDIT_KEYS) <= edit, canonical(cmd.EDIT_KEYS) - edit
    modal_fields = {item.custom_id for item in NewCampaignModal(service, None, None).children}  # type: ignore[attr-defined]
    offered = params(tree["petition new"]) | modal_fields | {"kind"}  # kind: pledge with action
    assert canonical(cmd.CREATE_KEYS) <= offered, canonical(cmd.CREATE_KEYS) - offered


def test_slack_form_offers_every_creation_option() -> None:
    view = slack_render.new_campaign_modal("C1")
    offered = {block["block_id"] for block in view["blocks"]}
    assert canonical(cmd.CREATE_KEYS) <= offered, canonical(cmd.CREATE_KEYS) - offered
