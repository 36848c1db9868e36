"""Peak RSS of `undersigned run` with every adapter loaded (Slack over HTTP, Discord against a
local fake) and 100,000 signatures stored, after a burst of signers. Reference in the same run:
a bare interpreter importing the same libraries.

    .venv/bin/python -m bench.memory [--signatures 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aiohttp

from bench.common import fresh_database, service_with_campaign, table
from bench.sign_slack import payload
from bench.status import bulk_sign
from tests.fakes.discord import GUILD_ID, FakeDiscord
from tests.fakes.slack import FakeSlack, sign
from tests.slack_harness import EXE, SECRET, free_port, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
IMPORTS = "import discord, slack_bolt, slack_sdk, sqlalchemy, sqlmodel, aiohttp, aiosqlite, asyncpg"


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--signatures", type=int, default=100_000)
    args = parser.parse_args()

    bare = subprocess.Popen([sys.executable, "-c", IMPORTS + "; import time; time.sleep(3)"])
    await asyncio.sleep(2.5)
    reference = peak_rss_mb(bare.pid)
    bare.wait()

    db, url = await fresh_database(None)
    service = await service_with_campaign(db, "bench")
    await bulk_sign(service, "bench", args.signatures)
    await db.close()

    slack, discord = FakeSlack(), FakeDiscord()
    await slack.start()
    await discord.start()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.update(
        {
            "DATABASE_URL": url,
            "UNDERSIGNED_SECRET_KEY": "bench-key",
            "UNDERSIGNED_LOG_KEY": "22" * 32,
            "SLACK_BOT_TOKEN": "xoxb",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "UNDERSIGNED_HTTP_HOST": "127.0.0.1",
            "UNDERSIGNED_HTTP_PORT": str(port),
            "DISCORD_TOKEN": "fake",
            "DISCORD_GUILD_IDS": GUILD_ID,
            "DISCORD_API_URL": discord.api_url,
            "DISCORD_GATEWAY_URL": discord.gateway_url,
            "UNDERSIGNED_LOG_LEVEL": "WARNING",
        }
    )
    proc = subprocess.Popen(
        [EXE, "run"],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await asyncio.wait_for(discord.ready.wait(), 60)
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            await wait_healthy(http, base, proc, timeout=60)
            idle = peak_rss_mb(proc.pid)

            async def one(i: int) -> None:
                body = payload(10_000_000 + i, slack.response_url("m"))
                async with http.post(
                    base + "/slack/events", data=body, headers=sign(SECRET, body)
                ) as resp:
                    assert resp.status == 200

            await asyncio.gather(*(one(i) for i in range(1000)))
            for i in range(50):
                await discord.slash(
                    "petition", {"campaign": "bench"}, sub="status", user_id=f"9{i}"
                )
            await asyncio.sleep(2)
            busy = peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(20)
        await slack.stop()
        await discord.stop()
    rows = [
        ["bare interpreter importing the same libraries (reference)", f"{reference:.0f}", "1.00"],
        [
            f"undersigned run, Slack + Discord, {args.signatures:,} stored, idle",
            f"{idle:.0f}",
            f"{idle / reference:.2f}",
        ],
        [
            "… after 1,000 Slack /sign and 50 Discord /petition status",
            f"{busy:.0f}",
            f"{busy / reference:.2f}",
        ],
    ]
    print(table(["process", "peak RSS MB", "ratio"], rows))


if __name__ == "__main__":
    asyncio.run(main())
