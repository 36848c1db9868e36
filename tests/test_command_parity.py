"""Walk the command registry: every command, with every one of its options, means the same typed
in the console (the text grammar, which Slack's slash commands use too), given as Discord options
(or Discord's form), and filled in Slack's creation form. The platforms can't drift apart again."""

from __future__ import annotations

from typing import Any

import pytest
from discord import app_commands

from adapters.discord.bot import NewCampaignModal, UndersignedDiscord, slash_options
from adapters.slack import render as slack_render
from bot import commands as cmd
from bot.domain.errors import UserError
from bot.domain.identity import Actor
from bot.service import Service

SAMPLES: dict[cmd.ValueKind, Any] = {
    cmd.ValueKind.CAMPAIGN: "walkout",
    cmd.ValueKind.NEW_NAME: "walkout-2026",
    cmd.ValueKind.TEXT: "A few words",
    cmd.ValueKind.LONG_TEXT: "We, the undersigned, refuse.",
    cmd.ValueKind.NUMBER: "1000",
    cmd.ValueKind.FLAG: True,
    cmd.ValueKind.PERSON: "<@U123ABC>",
}


def sample(option: cmd.Option) -> Any:
    if option.choices:
        return option.choices[-1]
    if option.name == "deadline":
        return "2026-12-31"
    if option.name == "schedule":
        return "weekdays 09:30"
    return SAMPLES[option.kind]


def with_option(spec: cmd.Spec, option: cmd.Option | None) -> dict[str, Any]:
    """The command's required options, plus `option` (and what it needs to mean anything)."""
    values = {o.name: sample(o) for o in spec.options if o.required}
    if option is not None:
        values[option.name] = sample(option)
        if option.name == "change":  # a change names whom or what it changes
            partner = next(o for o in spec.options if o.style is cmd.Style.REST)
            values[partner.name] = sample(partner)
    return values


CASES = [
    pytest.param(spec, option, id=f"{spec.name}:{option.name if option else '-'}")
    for spec in cmd.REGISTRY
    for option in (None, *spec.options)
]


@pytest.mark.parametrize(("spec", "option"), CASES)
def test_typed_and_given_as_values_mean_the_same(spec: cmd.Spec, option: cmd.Option | None) -> None:
    values = with_option(spec, option)
    typed, given = outcome(cmd.parse_line, spec.line(values)), outcome(spec.intent, values)
    assert typed == given, spec.line(values)
    if option is not None and option.kind is not cmd.ValueKind.FLAG and not isinstance(typed, str):
        assert str(values[option.name]).lower() in repr(typed).lower(), (spec.line(values), typed)


def outcome(make: Any, given: Any) -> cmd.Command | str:
    """The intent, or the refusal's words (the same refusal counts as the same meaning)."""
    try:
        return make(given)  # type: ignore[no-any-return]
    except UserError as exc:
        return f"refused: {exc.message} ({exc.usage})"


def test_a_change_without_its_target_is_refused_alike_everywhere() -> None:
    for key, target in (("organizers", "person"), ("webhook", "url")):
        spec = cmd.REGISTRY_BY_KEY[key]
        for values in ({"campaign": "w", "change": "add"}, {"campaign": "w", target: "x"}):
            typed = outcome(cmd.parse_line, spec.line(values))
            assert isinstance(typed, str) and typed == outcome(spec.intent, values)


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


async def test_discord_offers_every_command_and_option_of_the_registry(service: Service) -> None:
    tree = discord_tree(service)
    assert set(tree) == {spec.name for spec in cmd.REGISTRY}
    form = {item.custom_id for item in NewCampaignModal(service).children}  # type: ignore[attr-defined]
    for spec in cmd.REGISTRY:
        offered = {p.name: p for p in tree[spec.name].parameters}
        for option in spec.options:
            if option.in_form:
                assert option.name in form, (spec.name, option.name)
                continue
            assert option.name in offered, (spec.name, option.name)
            parameter = offered[option.name]
            assert parameter.required == option.required, (spec.name, option.name)
            assert [c.value for c in parameter.choices] == list(option.choices)
            assert parameter.description and len(parameter.description) <= 100
        assert set(offered) == {o.name for o in slash_options(spec)}


def test_slack_form_offers_every_creation_option() -> None:
    view = slack_render.new_campaign_modal("C1")
    offered = {block["block_id"] for block in view["blocks"]}
    assert offered == {o.name for o in cmd.REGISTRY_BY_KEY["new"].options}


def test_slack_form_values_build_what_the_same_typed_command_builds() -> None:
    spec = cmd.REGISTRY_BY_KEY["new"]
    values = {o.name: str(sample(o)) for o in spec.options}
    state = {
        name: {"value": {"type": "plain_text_input", "value": value}}
        for name, value in values.items()
    }
    submitted = slack_render.modal_values({"state": {"values": state}})
    assert spec.intent(submitted) == cmd.parse_line(spec.line(values))


async def test_help_lists_every_command_in_the_registry(service: Service) -> None:
    text = (await service.run(Actor("console", "T", "h", "H"), cmd.Help())).text
    for spec in cmd.REGISTRY:
        if spec.in_help:
            assert f"`{spec.usage}`" in text, spec.name
