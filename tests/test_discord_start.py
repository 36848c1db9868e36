"""`run` with a Discord token Discord refuses: one line naming the platform and what to check,
a non-zero exit, and never "Undersigned is running" first (it used to say so, print about 85
lines of tracebacks, and exit 0)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from tests.fakes.discord import GUILD_ID, FakeDiscord
from tests.slack_harness import EXE, clean_env


def _env(fake: FakeDiscord, tmp_path: Path, token: str) -> dict[str, str]:
    env = clean_env(tmp_path / "bot.db")
    del env["UNDERSIGNED_HTTP_HOST"], env["UNDERSIGNED_HTTP_PORT"]
    env.update(
        DISCORD_TOKEN=token,
        DISCORD_GUILD_IDS=GUILD_ID,
        DISCORD_API_URL=fake.api_url,
        DISCORD_GATEWAY_URL=fake.gateway_url,
        UNDERSIGNED_HEARTBEAT_FILE=str(tmp_path / "beat"),
    )
    return env


async def test_a_refused_discord_token_stops_run_with_one_line(tmp_path: Path) -> None:
    fake = FakeDiscord()
    fake.valid_token = "the-right-token"
    await fake.start()
    try:
        ran = await asyncio.to_thread(
            subprocess.run,
            [EXE, "run"],
            env=_env(fake, tmp_path, "a-wrong-token"),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        await fake.stop()
    assert ran.returncode == 1, ran
    lines = [line for line in ran.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("error: Discord refused DISCORD_TOKEN: check the bot token"), lines
    assert "running" not in ran.stderr.lower(), ran.stderr
    assert "Traceback" not in ran.stderr
    assert len(lines) <= 4, lines  # the token line, and at most a warning or two before it


async def test_run_says_it_runs_only_once_discord_is_connected(tmp_path: Path) -> None:
    fake = FakeDiscord()
    fake.valid_token = "the-right-token"
    await fake.start()
    proc = subprocess.Popen(
        [EXE, "run"],
        env=_env(fake, tmp_path, "the-right-token"),
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = ""
        while "running" not in line:
            line = await asyncio.wait_for(asyncio.to_thread(proc.stderr.readline), 60)
            assert line, "run stopped before it said it runs"
        assert fake.ready.is_set() and fake.identified >= 1  # connected before it said so
    finally:
        proc.terminate()
        proc.wait(20)
        await fake.stop()
