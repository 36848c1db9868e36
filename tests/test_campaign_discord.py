"""A whole campaign on Discord (real discord.py against the fake gateway and REST API): the
organizer in English, a co-worker whose Discord speaks German. Each step checks what that
person reads, and every payload against Discord's limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.domain.messages import _, speaking
from tests.fakes.discord import CHANNEL_ID, FakeDiscord
from tests.test_discord import FUTURE, DiscordBot, informed, text_of, within_discords_limits
from tests.test_languages import _english_fragments

pytestmark = pytest.mark.asyncio(loop_scope="module")
ORG = {"user_id": "9000", "user_name": "Org"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    fake: FakeDiscord, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DiscordBot]:
    process = DiscordBot(fake, tmp_path_factory.mktemp("campaign"))
    await process.start()
    yield process
    await process.stop()
    assert "Traceback" not in process.log.read_text(), process.log.read_text()


async def reads(
    fake: FakeDiscord, name: str, options: dict[str, Any] | None, sub: str | None, **who: Any
) -> str:
    payload = await fake.slash(name, options, sub=sub, **who)
    answer = await fake.response_to(payload)
    if answer.body.get("type") == 5:  # deferred: the answer follows
        await fake.wait_for(lambda: bool(fake.followups_for(payload)), timeout=15)
        answer = fake.followups_for(payload)[0]
    return text_of(answer)


async def test_a_whole_campaign_on_discord_in_english_and_german(
    bot: DiscordBot, fake: FakeDiscord
) -> None:
    first = len(fake.calls)
    opened = await fake.slash("petition", None, sub="new", **ORG)
    modal = (await fake.response_to(opened)).body["data"]
    values = {
        "slug": "strike",
        "title": "Walk out",
        "goal": "3",
        "deadline": FUTURE,
        "text": "First paragraph.\n\nSecond paragraph.",
    }
    made = await fake.response_to(await fake.submit_modal(modal["custom_id"], values, **ORG))
    assert "Created the petition **Walk out**" in text_of(made)
    letter = await reads(fake, "petition", {"campaign": "strike"}, "read", **ORG)
    assert "First paragraph.\n\nSecond paragraph." in letter
    await reads(fake, "petition", {"campaign": "strike"}, "post", **ORG)
    await fake.wait_for(
        lambda: (
            any(
                "Walk out" in text_of(c)
                for c in fake.calls_matching("POST", rf"/channels/{CHANNEL_ID}/messages")
            )
            or any("Walk out" in text_of(c) for c in fake.calls if "callback" in c.path)
        )
    )
    reminded = await reads(
        fake, "petition", {"campaign": "strike", "schedule": "daily 09:00"}, "remind", **ORG
    )
    assert "daily 09:00" in reminded

    await informed(fake, "9001", "9002", "9003", "9004", "9005")
    ann = {"user_id": "9001", "user_name": "Ann"}
    assert "you signed **Walk out**" in await reads(
        fake, "sign", {"campaign": "strike"}, None, **ann
    )
    anonymous = await reads(
        fake, "sign", {"campaign": "strike", "anonymous": True}, None, user_id="9002"
    )
    assert "anonymously" in anonymous
    german = await reads(
        fake, "sign", {"campaign": "strike"}, None, user_id="9003", user_name="Dieter", locale="de"
    )
    with speaking("de"):
        thanks = _("Thank you, {name}: you signed **{title}**.", name="Dieter", title="Walk out")
    assert thanks in german, german
    english = [f for f in _english_fragments() if f in german]
    assert not english, (english, german)

    assert "withdrawn and deleted" in await reads(
        fake, "unsign", {"campaign": "strike"}, None, **ann
    )
    edited = await reads(
        fake, "petition", {"campaign": "strike", "text": "A clearer letter."}, "edit", **ORG
    )
    assert "Updated **Walk out**" in edited and edited.count("version 2") == 1, edited
    await reads(fake, "sign", {"campaign": "strike"}, None, user_id="9004", user_name="Carl")
    past = await reads(fake, "sign", {"campaign": "strike"}, None, user_id="9005", user_name="Dora")
    assert "4 signatures, past the goal of 3" in past, past
    closed = await reads(fake, "petition", {"campaign": "strike"}, "close", **ORG)
    assert "Closed **Walk out**." in closed
    exported = await reads(
        fake, "petition", {"campaign": "strike", "format": "csv"}, "export", **ORG
    )
    assert "Export of `strike` (csv)" in exported and "signed anonymously" in exported
    carl = {"user_id": "9004", "user_name": "Carl"}
    assert "/forget-me confirm" in await reads(fake, "forget-me", None, None, **carl)
    done = await reads(fake, "forget-me", {"confirm": True}, None, **carl)
    assert "Done: 1 signature deleted" in done, done
    sent = [c for c in fake.calls[first:] if c.method in ("POST", "PATCH")]
    assert all(not within_discords_limits(c.body) for c in sent)
