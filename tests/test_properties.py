"""Property tests (hypothesis): random input never crashes the grammar or the renderers, always
gets a reply, and no rendering carries a working mention built from user text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.console import render as console_render
from adapters.discord import render as discord_render
from adapters.slack import render as slack_render
from bot import commands as cmd
from bot import handlers
from bot.domain.errors import UserError
from bot.domain.identity import Actor, SignerKey
from bot.domain.replies import CampaignCard, Reply, sign_actions
from bot.service import Service
from storage.database import Database

NASTY = st.sampled_from(
    [
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "<@U123ABC>",
        "<@U1|x>",
        "<!subteam^S1>",
        "@everyone",
        "@here",
        "<@123456789012345678>",
        "<@!123456789012345678>",
        "<@&223456789012345678>",
        "**",
        "`",
        "\u200b",
        "\x00",
        "\x07",
        "\n",
        "“",
        "”",
        '"',
        ":",
        "title:",
        "goal:",
        "/sign",
        "anonymous",
        "=cmd",
        "&",
        "<",
        ">",
        "🙂",
        "é",
        "\u202e",
    ]
)
TEXT = st.lists(st.one_of(NASTY, st.text(max_size=12)), max_size=12).map("".join)
COMMANDS = st.sampled_from(["/sign", "/unsign", "/petition", "/pledge", "/forget-me", "/x"])

PEOPLE = ["ann", "bob", "<!channel>", "@everyone"]
SLACK_LIVE = re.compile(r"<(!channel|!here|!everyone|@[UW]|!subteam|#C)")
DISCORD_LIVE = re.compile(r"@(everyone|here)|<@[!&]?\d+>")


@settings(max_examples=10_000, deadline=None)
@given(COMMANDS, TEXT)
def test_parser_never_crashes(command: str, args: str) -> None:
    try:
        parsed = cmd.parse(command, args)
    except UserError as exc:
        assert exc.message
    else:
        assert isinstance(parsed, cmd.Command)  # type: ignore[arg-type]
        slug = getattr(parsed, "slug", None)
        assert slug is None or (slug == slug.strip() and slug and " " not in slug)


def reply_from(text: str, title: str, names: list[str]) -> Reply:
    from bot.domain.tally import Tally

    card = CampaignCard(
        slug="s-1",
        kind="petition",
        title=title,
        addressee=text[:50],
        pledge_action=title,
        excerpt=text,
        version=1,
        status="open",
        outcome=None,
    )
    tally = Tally(
        count=3,
        goal=10,
        deadline=None,
        time_left=None,
        recent_public=tuple(names),
        pace=None,
        names_sealed=False,
    )
    return Reply(
        text=text,
        usage=title,
        tally=tally,
        card=card,
        actions=sign_actions("s-1"),
    )


@settings(max_examples=10_000, deadline=None)
@given(TEXT, TEXT, st.lists(TEXT, max_size=4))
def test_renderers_never_emit_a_working_mention(text: str, title: str, names: list[str]) -> None:
    reply = reply_from(text, title, names)
    slack = json.dumps(slack_render.response(reply), ensure_ascii=False)
    assert not SLACK_LIVE.search(slack)
    assert len(slack_render.blocks_for(reply)) <= slack_render.MAX_BLOCKS
    kwargs = discord_render.message_kwargs(reply)
    embed = kwargs["embed"].to_dict()
    discord_text = json.dumps(embed, ensure_ascii=False) + kwargs.get("content", "")
    assert not DISCORD_LIVE.search(discord_text)
    assert kwargs["allowed_mentions"].to_dict()["parse"] == []
    assert len(embed.get("description", "")) <= discord_render.DESCRIPTION_LIMIT
    plain = discord_render.message_kwargs(Reply(text=text, usage=title))
    assert not DISCORD_LIVE.search(plain["content"]) and len(plain["content"]) <= 2000
    assert console_render(reply)


@pytest.fixture(scope="module")
def service_loop(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    import asyncio

    loop = asyncio.new_event_loop()
    path: Path = tmp_path_factory.mktemp("prop") / "prop.db"
    db = Database(f"sqlite:///{path}")
    loop.run_until_complete(db.migrate())
    service = Service(db, SignerKey(b"prop"))
    organizer = Actor("console", "T", "org", "Org")
    loop.run_until_complete(
        handlers.campaigns.create(
            service.ctx, organizer, cmd.Create("walkout", {"title": "W", "goal": "5"}, "L")
        )
    )
    yield loop, service
    loop.run_until_complete(db.close())
    loop.close()


@settings(
    max_examples=1_000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(COMMANDS, TEXT, st.sampled_from(PEOPLE))
def test_service_always_replies(service_loop, command: str, args: str, who: str) -> None:  # type: ignore[no-untyped-def]
    loop, service = service_loop
    actor = Actor("slack", "T1", f"U{PEOPLE.index(who)}", who)  # the same id in every run
    reply = loop.run_until_complete(service.handle(actor, command, args))
    assert isinstance(reply, Reply) and reply.text
    assert "Traceback" not in reply.text
    assert "went wrong on our side" not in reply.text, (command, args)
    assert not SLACK_LIVE.search(json.dumps(slack_render.response(reply), ensure_ascii=False))
