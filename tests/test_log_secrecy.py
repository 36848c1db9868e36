"""The log names no signer, at any level: the real `undersigned run` with Slack (its fake),
Discord (its fake) and Matrix (a real Synapse, encrypted DMs) at UNDERSIGNED_LOG_LEVEL=DEBUG.
An anonymous signer signs on each; the captured log is searched for every one of their ids,
their direct-message room, and every receipt the bot showed them."""

from __future__ import annotations

import asyncio
import re
import subprocess
import uuid
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.discord import GUILD_ID, FakeDiscord
from tests.fakes.slack import FakeSlack, button_click
from tests.matrix_harness import SERVER, Homeserver, Person, wait_for
from tests.slack_harness import (
    EXE,
    SlackBot,
    blocks_text,
    bot_env,
    create_campaign,
    free_port,
    wait_healthy,
)
from tests.test_discord import button_ids, text_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
RECEIPT = re.compile(r"\b[0-9a-f]{64}\b")


def _unique(name: str) -> str:
    return f"{name}{uuid.uuid4().hex[:8]}"


async def test_nothing_logged_at_debug_names_an_anonymous_signer_or_a_receipt(
    synapse: Homeserver, tmp_path: Path
) -> None:
    slack, discord_fake = FakeSlack(), FakeDiscord()
    await slack.start()
    await discord_fake.start()
    bot_id = await synapse.register(_unique("undersigned"), "bot-password")
    port = free_port()
    env = bot_env(
        slack,
        tmp_path / "bot.db",
        UNDERSIGNED_LOG_LEVEL="DEBUG",
        UNDERSIGNED_HTTP_HOST="127.0.0.1",
        UNDERSIGNED_HTTP_PORT=str(port),
        DISCORD_TOKEN="fake-token",
        DISCORD_GUILD_IDS=GUILD_ID,
        DISCORD_API_URL=discord_fake.api_url,
        DISCORD_GATEWAY_URL=discord_fake.gateway_url,
        MATRIX_HOMESERVER=synapse.url,
        MATRIX_USER_ID=bot_id,
        MATRIX_PASSWORD="bot-password",
        MATRIX_ALLOWED_SERVERS=SERVER,
    )
    create_campaign(env, tmp_path, "secret", "Secret ballot", 10)
    log_path = tmp_path / "run.log"
    proc = subprocess.Popen(
        [EXE, "run"],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=log_path.open("wb"),
    )
    bot = SlackBot(slack, tmp_path)
    bot.url, bot.port = f"http://127.0.0.1:{port}", port
    bot.http = aiohttp.ClientSession()
    ann = await Person.log_in(synapse, _unique("ann"), tmp_path / "ann-store")
    receipts: list[str] = []
    try:
        await wait_healthy(bot.http, bot.url, proc)
        await asyncio.wait_for(discord_fake.ready.wait(), 30)
        # A forged request is refused with a DEBUG line: proof the level really is DEBUG.
        status, _, _ = await bot.post("command=/sign", {"X-Slack-Signature": "v0=forged"})
        assert status == 401

        # Slack: an anonymous signer, and a named one beside them.
        slack_anon = "USLACKANON" + uuid.uuid4().hex[:6].upper()
        await bot.informed(slack_anon, "UNAMED")
        _, data, _ = await bot.command("/sign", "secret anonymously", user=slack_anon)
        assert "anonymously" in blocks_text(data), data
        receipts += RECEIPT.findall(blocks_text(data))
        await bot.interact(button_click(slack, "sign_named", "secret", user="UNAMED"))

        # Discord: the same, through the slash command and its consent button.
        discord_anon = str(900_000_000_000 + uuid.uuid4().int % 10**9)
        ask = await discord_fake.response_to(
            await discord_fake.slash(
                "sign",
                {"campaign": "secret", "anonymous": True},
                user_id=discord_anon,
                user_name="Bea",
            )
        )
        signed = await discord_fake.response_to(
            await discord_fake.click(button_ids(ask)[0], user_id=discord_anon)
        )
        assert "anonymously" in text_of(signed), text_of(signed)
        receipts += RECEIPT.findall(text_of(signed))

        # Matrix: an encrypted DM, answered "anonymous".
        dm = await ann.new_room(bot_id, direct=True)
        await wait_for(lambda: bot_id in ann.client.rooms[dm].users, timeout=60, what="joined")
        await ann.say(dm, "!sign secret")
        await wait_for(lambda: ann.texts(bot_id, dm), what="the notice")
        await ann.say(dm, "anonymous")
        said = await wait_for(
            lambda: [t for t in ann.texts(bot_id, dm) if "No name or account is stored" in t],
            what="the anonymous signature",
        )
        receipts += RECEIPT.findall(said[0])
        await ann.say(dm, "!petition status secret")
        await wait_for(lambda: any("4 of 10" in t for t in ann.texts(bot_id, dm)), what="one tally")
    finally:
        await ann.close()
        await bot.http.close()
        proc.terminate()
        proc.wait(20)
        await slack.stop()
        await discord_fake.stop()
    log = log_path.read_text()
    assert len(receipts) == 3, receipts  # each anonymous signer was shown one
    assert " DEBUG adapters.http_server: refused a Slack request" in log
    secrets = {
        "the Slack signer": slack_anon,
        "the Discord signer": discord_anon,
        "the Matrix signer": ann.user_id,
        "the Matrix signer's name": ann.user_id.split(":")[0].lstrip("@"),
        "the Matrix direct room": dm,
        **{f"receipt {n}": receipt for n, receipt in enumerate(receipts)},
    }
    for what, secret in secrets.items():
        assert secret not in log, f"{what} ({secret}) is in the log"
    assert "Traceback" not in log
