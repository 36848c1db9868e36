"""One process runs Slack and Discord together; one campaign counts signatures from both."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import aiohttp

from tests.fakes.discord import GUILD_ID, FakeDiscord
from tests.fakes.slack import FakeSlack, button_click
from tests.slack_harness import (
    EXE,
    SlackBot,
    blocks_text,
    bot_env,
    create_campaign,
    free_port,
    wait_healthy,
)
from tests.test_discord import text_of


async def test_slack_and_discord_signers_both_count(tmp_path: Path) -> None:
    slack, discord = FakeSlack(), FakeDiscord()
    await slack.start()
    await discord.start()
    port = free_port()
    env = bot_env(
        slack,
        tmp_path / "bot.db",
        UNDERSIGNED_HTTP_HOST="127.0.0.1",
        UNDERSIGNED_HTTP_PORT=str(port),
        DISCORD_TOKEN="fake",
        DISCORD_GUILD_IDS=GUILD_ID,
        DISCORD_API_URL=discord.api_url,
        DISCORD_GATEWAY_URL=discord.gateway_url,
    )
    create_campaign(env, tmp_path, "both", "Both", 10)
    proc = subprocess.Popen(
        [EXE, "run"],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "err").open("wb"),
    )
    bot = SlackBot(slack, tmp_path)
    bot.url, bot.port = f"http://127.0.0.1:{port}", port
    bot.http = aiohttp.ClientSession()
    try:
        await asyncio.wait_for(discord.ready.wait(), 30)
        await wait_healthy(bot.http, bot.url, proc)
        # Each signs for the first time on their platform: the safety notice, then the choice.
        status, data, _ = await bot.command("/sign", "both", user="USLACK")
        assert status == 200 and "Nothing is recorded yet" in blocks_text(data)
        await bot.interact(button_click(slack, "sign_named", "both", user="USLACK"))
        await slack.wait_for(
            lambda: any("you signed" in blocks_text(r.params) for r in slack.responses)
        )
        asked = await discord.response_to(await discord.slash("sign", {"campaign": "both"}))
        assert "Nothing is recorded yet" in text_of(asked)
        signed = await discord.response_to(await discord.click("undersigned:sign_named:both"))
        assert "you signed" in text_of(signed)
        status_reply = await discord.response_to(
            await discord.slash("petition", {"campaign": "both"}, sub="status")
        )
        assert "**2** of 10" in text_of(status_reply)
        _, data, _ = await bot.command("/petition", "status both", user="UOTHER")
        assert "*2* of 10" in blocks_text(data)
    finally:
        await bot.http.close()
        proc.terminate()
        proc.wait(15)
        await slack.stop()
        await discord.stop()
    assert "Traceback" not in (tmp_path / "err").read_text()
