"""Hostile or broken input, refused with a friendly answer and nothing half-written."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from adapters.discord import render as discord_render
from bot import commands as cmd
from bot import views
from bot.domain.errors import UserError
from bot.domain.identity import Actor, SignerKey
from bot.domain.replies import CampaignCard, Reply
from bot.domain.tally import Tally
from bot.domain.text import COMMAND_MAX, clean, clean_display_name
from bot.service import Service
from storage.database import Database
from tests.conftest import Clock, person

ORG = person("org")
# A masked link that Discord would render: `[text](url)` with no escaping backslash.
LIVE_LINK = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\(")


@pytest.mark.parametrize(
    ("deadline", "zone"),
    [
        ("9999-12-31T23:59+14:00", "UTC"),
        ("0001-01-01T00:00+14:00", "UTC"),
        ("9999-12-31", "America/Los_Angeles"),
        ("2040-01-01", "UTC"),
    ],
)
async def test_deadlines_at_the_calendar_edges_are_refused_and_nothing_is_written(
    db: Database, key: SignerKey, clock: Clock, deadline: str, zone: str
) -> None:
    service = Service(db, key, clock=clock, tz=ZoneInfo(zone))
    reply = await service.handle(
        ORG, "/petition", f'new edge title:"Edge" goal:5 deadline:{deadline} Letter'
    )
    assert reply.error and reply.usage and "deadline" in reply.text
    assert "went wrong" not in reply.text
    listing = await service.handle(ORG, "/petition", "list")
    assert "No campaigns yet" in listing.text


def test_a_huge_command_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(UserError) as refused:
        cmd.parse("/sign", "walkout " + "role:a " * 150_000)
    assert f"{COMMAND_MAX:,}" in refused.value.message


def test_many_options_parse_in_one_pass_to_the_last_value() -> None:
    # Just under the cap: 3,500 repeated options, the last one wins (see bench/parse.py for
    # the linear-time figures).
    parsed = cmd.parse("/sign", "walkout " + "role:a " * 3_500 + "role:last I'm in")
    assert isinstance(parsed, cmd.Sign)
    assert parsed.role == "last" and parsed.comment == "I'm in"


@pytest.mark.parametrize(
    "invisible", ["\u200f", "\u2063", "\U000e0041\U000e0042", "\u200b", "\u202e", "\ufeff"]
)
def test_invisible_format_characters_are_dropped(invisible: str) -> None:
    assert clean(f"Wal{invisible}kout", field="title", limit=50) == "Walkout"
    assert clean_display_name(f"A{invisible}nn", "U1") == "Ann"


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_line_separators_are_refused_in_single_line_fields(separator: str) -> None:
    with pytest.raises(UserError):
        clean(f"Title{separator}Second line", field="title", limit=50)
    assert clean(f"Line{separator}Next", field="letter", limit=50, multiline=True) == "Line\nNext"
    assert clean_display_name(f"Ann{separator}Lee", "U1") == "Ann Lee"


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(UserError):
        clean("bad \ud800 text", field="comment", limit=50)


def _card(title: str, excerpt: str = "Letter") -> CampaignCard:
    return CampaignCard(
        slug="walk",
        kind="petition",
        title=title,
        addressee="[CEO](https://evil.example)",
        pledge_action=None,
        excerpt=excerpt,
        version=1,
        status="open",
        outcome=None,
    )


def test_discord_markdown_in_user_text_is_shown_as_typed() -> None:
    tally = Tally(
        count=3,
        goal=10,
        deadline=None,
        time_left=None,
        recent_public=("[Official form](https://evil.example)", "||spoiler||"),
        pace=None,
        names_sealed=False,
    )
    reply = Reply(
        text="Thank you, [Official form](https://evil.example): you signed **T**.",
        tally=tally,
        card=_card("# Huge title ||hidden||", "-# tiny\n# heading\n> quote"),
    )
    embed = discord_render.message_kwargs(reply)["embed"].to_dict()
    shown = [embed["title"], embed["description"], *(f["value"] for f in embed["fields"])]
    for text in shown:
        assert not LIVE_LINK.search(text), text
        assert "||" not in text.replace("\\|\\|", ""), text
    description = embed["description"]
    for line in description.splitlines():
        assert not re.match(r"^(#{1,3}|-#|>) ", line), line
    assert "**T**" in description  # our own bold stays


async def test_an_identity_without_its_workspace_is_refused(service: Service) -> None:
    await service.handle(ORG, "/petition", 'new walk title:"W" goal:5 Letter')
    nowhere = Actor("slack", "", "U1", "Someone")
    reply = await service.handle(nowhere, "/sign", "walk")
    assert reply.error and "which workspace" in reply.text
    assert (await views.status_data(service.ctx, "walk"))["signatures"] == 0
