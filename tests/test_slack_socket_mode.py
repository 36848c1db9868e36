"""Socket Mode: `undersigned run` with SLACK_APP_TOKEN connects to a fake Socket Mode websocket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from tests.fakes.slack import FakeSlack, button_click, slash_command
from tests.slack_harness import SlackBot, blocks_text, bot_env


@pytest_asyncio.fixture
async def socket_bot(tmp_path: Path) -> AsyncIterator[tuple[FakeSlack, SlackBot]]:
    fake = FakeSlack()
    await fake.start()
    bot = SlackBot(fake, tmp_path)
    env = bot_env(fake, tmp_path / "bot.db", SLACK_APP_TOKEN="xapp-test")
    del env["SLACK_SIGNING_SECRET"]  # Socket Mode needs none
    await bot.start("run", env=env)
    yield fake, bot
    await bot.stop()
    await fake.stop()
    assert "Traceback" not in bot.stderr, bot.stderr


async def answer(fake: FakeSlack, command: dict[str, Any]) -> dict[str, Any]:
    """What the person reads: the ack's payload, or, when the bot acknowledged first (to look
    up their language), what it sent to response_url."""
    ack = await fake.socket_send("slash_commands", command, timeout=20)
    if ack.get("payload"):
        return ack["payload"]
    name = command["response_url"].rsplit("/", 1)[1]
    await fake.wait_for(lambda: any(r.method == name for r in fake.responses), timeout=15)
    return next(r.params for r in fake.responses if r.method == name)


async def test_commands_and_buttons_over_socket_mode(
    socket_bot: tuple[FakeSlack, SlackBot],
) -> None:
    fake, _bot = socket_bot
    new = slash_command(
        fake, "/petition", 'new sock title:"Over sockets" goal:2 Dear all', user="UO"
    )
    assert "Created the petition" in blocks_text(await answer(fake, new))
    asked = await answer(fake, slash_command(fake, "/sign", "sock", user="US1"))
    assert asked["response_type"] == "ephemeral"
    assert "Nothing is recorded yet" in blocks_text(asked)  # a first signature
    ack = await fake.socket_send(
        "interactive", button_click(fake, "sign_named", "sock", user="US1")
    )
    await fake.wait_for(lambda: any("you signed" in blocks_text(r.params) for r in fake.responses))
    press = button_click(fake, "sign_anon", "sock", user="US2")
    ack = await fake.socket_send("interactive", press)
    assert not ack.get("payload")
    name = press["response_url"].rsplit("/", 1)[1]  # this press's own answer
    await fake.wait_for(
        lambda: any(
            r.method == name and "anonymously" in blocks_text(r.params) for r in fake.responses
        )
    )
    status = await answer(fake, slash_command(fake, "/petition", "status sock"))
    assert "*2* of 2" in blocks_text(status)
    assert fake.calls_to("apps.connections.open")
