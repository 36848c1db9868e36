"""A whole campaign on Slack (real slack-bolt over HTTP against the fake Slack Web API): the
organizer in English, a co-worker whose Slack speaks German. Each step checks what that person
reads; the German signer's replies must hold no English sentence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
import pytest_asyncio

from bot.domain.messages import _, speaking
from tests.fakes.slack import FakeSlack
from tests.slack_harness import SlackBot, blocks_text
from tests.test_languages import _english_fragments

pytestmark = pytest.mark.asyncio(loop_scope="module")
DEADLINE = (date.today() + timedelta(days=200)).isoformat()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack()
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SlackBot]:
    process = SlackBot(fake, tmp_path_factory.mktemp("campaign"))
    await process.start()
    yield process
    await process.stop()
    assert "Traceback" not in process.stderr, process.stderr


async def reads(bot: SlackBot, command: str, text: str, user: str, name: str = "") -> str:
    status, data, elapsed = await bot.command(command, text, user=user, user_name=name or user)
    assert status == 200 and elapsed < 3, (command, text, status, elapsed)
    return blocks_text(data)


async def test_a_whole_campaign_on_slack_in_english_and_german(
    bot: SlackBot, fake: FakeSlack
) -> None:
    fake.locales["UDE"] = "de-DE"
    await bot.informed("UANN", "UBOB", "UDE", "UCARL", "UDORA")
    said = await reads(
        bot,
        "/petition",
        f'new strike title:"Walk out" goal:3 deadline:{DEADLINE} '
        "First paragraph.\\n\\nSecond paragraph.",
        "UORG",
    )
    assert "Created the petition *Walk out*" in said, said
    assert "First paragraph.\n\nSecond paragraph." in await reads(
        bot, "/petition", "read strike", "UORG"
    )
    await reads(bot, "/petition", "post strike", "UORG")
    await fake.wait_for(
        lambda: any("Walk out" in blocks_text(c.params) for c in fake.calls_to("chat.postMessage"))
    )
    assert "daily 09:00" in await reads(bot, "/petition", "remind strike daily 09:00", "UORG")

    assert "you signed *Walk out*" in await reads(bot, "/sign", "strike", "UANN", "ann")
    anonymous = await reads(bot, "/sign", "strike anonymous", "UBOB", "bob")
    assert "anonymously" in anonymous and "bob" not in anonymous
    german = await reads(bot, "/sign", "strike", "UDE", "dieter")
    with speaking("de"):
        thanks = _("Thank you, {name}: you signed **{title}**.", name="Real UDE", title="Walk out")
        reached = _("🎉 You are signature {count}: the goal is reached!", count="3")
    assert thanks.replace("**", "*") in german and reached in german, german
    english = [f for f in _english_fragments() if f in german]
    assert not english, (english, german)

    assert "withdrawn and deleted" in await reads(bot, "/unsign", "strike", "UANN", "ann")
    edited = await reads(bot, "/petition", "edit strike A clearer letter.", "UORG")
    line = next(line for line in edited.splitlines() if line.startswith("Updated *Walk out*"))
    assert line.count("version 2") == 1, edited  # said once, not "(now version 2). This is…"
    # the goal was first reached by the German signer (ann withdrew since): said once only
    assert "the goal is reached" not in await reads(bot, "/sign", "strike", "UCARL", "carl")
    assert "past the goal of 3" in await reads(bot, "/sign", "strike", "UDORA", "dora")
    status = await reads(bot, "/petition", "status strike", "UORG")
    assert "4 signatures, past the goal of 3" in status and "4* of 3" not in status, status

    assert "Closed *Walk out*." in await reads(bot, "/petition", "close strike", "UORG")
    exported = await reads(bot, "/petition", "export strike csv", "UORG")
    assert "Export of `strike` (csv)" in exported and "signed anonymously" in exported
    asked = await reads(bot, "/forget-me", "", "UCARL", "carl")
    assert "/forget-me confirm" in asked
    done = await reads(bot, "/forget-me", "confirm", "UCARL", "carl")
    assert "Done: 1 signature deleted" in done, done
    with speaking("de"):
        gone = _("There is nothing of yours to forget: you haven't signed here.")
    assert gone not in await reads(bot, "/forget-me", "", "UDE", "dieter")  # still signed
