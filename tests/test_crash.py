"""Crash safety: SIGKILL `undersigned serve` at random moments during a burst of signers.

Every signature that was acknowledged must be in the database after the restarts, nobody may be
counted twice, and the kept count must equal a recount.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
from pathlib import Path

import aiohttp

from tests.fakes.slack import (
    FakeSlack,
    button_click,
    form,
    interaction_form,
    sign,
    slash_command,
)
from tests.slack_harness import EXE, SECRET, bot_env, create_campaign, free_port, wait_healthy

KILLS = int(os.environ.get("UNDERSIGNED_CRASH_KILLS", "10"))


async def test_acknowledged_signatures_survive_sigkill(tmp_path: Path) -> None:
    fake = FakeSlack()
    await fake.start()
    env = bot_env(fake, tmp_path / "bot.db")
    create_campaign(env, tmp_path, "crash", "Crash", 100_000)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    acknowledged: set[str] = set()
    pending = [f"UC{i:05d}" for i in range(100_000)]
    rng = random.Random(7)
    stop = asyncio.Event()

    async def signer(http: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            user = pending.pop(0)
            body = form(slash_command(fake, "/sign", "crash", user=user, user_name=user))
            try:
                async with http.post(
                    url + "/slack/events", data=body, headers=sign(SECRET, body)
                ) as resp:
                    text = await resp.text()
                    if resp.status == 200 and ("you signed" in text or "already signed" in text):
                        acknowledged.add(user)
                        continue
                if "Nothing is recorded yet" in text:  # a first signature: choose, then retry
                    click = interaction_form(button_click(fake, "not_now", "crash", user=user))
                    async with http.post(
                        url + "/slack/events", data=click, headers=sign(SECRET, click)
                    ):
                        pass
            except (TimeoutError, aiohttp.ClientError):
                pass
            pending.insert(0, user)  # not acknowledged: this person tries again later
            await asyncio.sleep(0.05)

    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for kill in range(KILLS + 1):
            proc = subprocess.Popen(
                [EXE, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                cwd=tmp_path,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=(tmp_path / "bot.stderr").open("ab"),
            )
            await wait_healthy(http, url, proc)
            stop.clear()
            workers = [asyncio.create_task(signer(http)) for _ in range(16)]
            await asyncio.sleep(rng.uniform(0.2, 1.0))
            if kill < KILLS:
                os.kill(proc.pid, signal.SIGKILL)  # mid-burst, no warning
            else:
                proc.terminate()
            proc.wait(15)
            stop.set()
            await asyncio.gather(*workers)
    await fake.stop()

    conn = sqlite3.connect(tmp_path / "bot.db")
    stored = {row[0] for row in conn.execute("SELECT user_id FROM signature")}
    total, distinct = conn.execute(
        "SELECT count(*), count(DISTINCT signer_hash) FROM signature"
    ).fetchone()
    kept = conn.execute("SELECT signature_count FROM campaign WHERE slug='crash'").fetchone()[0]
    conn.close()
    print(f"\n{KILLS} kills, {len(acknowledged)} acknowledged, {total} stored")
    assert len(acknowledged) > 50
    assert acknowledged <= stored, f"lost: {sorted(acknowledged - stored)[:5]}"
    assert total == distinct
    assert kept == total
