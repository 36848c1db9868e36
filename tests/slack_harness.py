"""Starts the real `undersigned` process against the fake Slack and talks to it over HTTP."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.fakes.slack import (
    FakeSlack,
    button_click,
    form,
    interaction_form,
    sign,
    slash_command,
)

SECRET = "test-signing-secret"
# Suites about other things see every signature at once (the bot warns at start); counts in
# steps of 3 are watched in tests/test_count_steps.py.
EVERY_SIGNATURE = {"UNDERSIGNED_COUNT_WINDOW_MINUTES": "0", "UNDERSIGNED_COUNT_STEP": "1"}
EXE = str(Path(sys.executable).parent / "undersigned")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def create_campaign(env: dict[str, str], cwd: Path, slug: str, title: str, goal: int) -> None:
    """Create a petition with the real command line, as an organizer on the server would."""
    made = subprocess.run(
        [
            EXE,
            "petition",
            "create",
            "--slug",
            slug,
            "--title",
            title,
            "--goal",
            str(goal),
            "--text",
            "Letter",
        ],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if made.returncode != 0:
        raise RuntimeError(made.stderr)


def clean_env(db_path: Path) -> dict[str, str]:
    """This process's environment without any Undersigned setting, on a fresh database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DISCORD_", "UNDERSIGNED_", "DATABASE_URL", "LC_", "LANG"))
    }
    env.update(
        {
            "LANG": "C.UTF-8",  # the console and the CLI would speak the terminal's language
            "DATABASE_URL": f"sqlite:///{db_path}",
            "UNDERSIGNED_SECRET_KEY": "test-key",
            "UNDERSIGNED_LOG_KEY": "11" * 32,  # required with PostgreSQL, like the secret key
            "UNDERSIGNED_REFRESH_SECONDS": "1",
            **EVERY_SIGNATURE,
            # suites send many commands as one organizer; the limiter has its own tests
            "UNDERSIGNED_RATE_LIMIT_PER_MINUTE": "0",
            # `run` serves the public pages too: never on a port another test holds
            "UNDERSIGNED_HTTP_HOST": "127.0.0.1",
            "UNDERSIGNED_HTTP_PORT": str(free_port()),
        }
    )
    return env


def bot_env(fake: FakeSlack, db_path: Path, **extra: str) -> dict[str, str]:
    env = clean_env(db_path)
    env.update(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            **extra,
        }
    )
    return env


async def wait_healthy(
    http: aiohttp.ClientSession,
    url: str,
    proc: subprocess.Popen[bytes] | None = None,
    timeout: float = 30.0,
) -> None:
    """Poll GET /healthz until 200; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the bot exited with {proc.returncode} before it was ready")
        try:
            async with http.get(url + "/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} never became healthy")


class SlackBot:
    """The bot process under test, and a client that signs requests as Slack does."""

    def __init__(self, fake: FakeSlack, workdir: Path) -> None:
        self.fake = fake
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.http: aiohttp.ClientSession | None = None
        self.stderr_path = workdir / "bot.stderr"

    async def start(self, *args: str, env: dict[str, str] | None = None) -> None:
        command = [EXE, *(args or ("serve", "--host", "127.0.0.1", "--port", str(self.port)))]
        self.proc = subprocess.Popen(
            command,
            cwd=self.workdir,
            env=env or bot_env(self.fake, self.workdir / "bot.db"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr_path.open("wb"),
        )
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=400))
        if args and args[0] != "serve":
            return
        try:
            await wait_healthy(self.http, self.url, self.proc)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}:\n{self.stderr_path.read_text()}") from None

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    async def post(
        self, body: str, headers: dict[str, str] | None = None
    ) -> tuple[int, Any, float]:
        assert self.http is not None
        headers = headers or sign(SECRET, body)
        started = time.perf_counter()
        async with self.http.post(self.url + "/slack/events", data=body, headers=headers) as resp:
            raw = await resp.text()
            elapsed = time.perf_counter() - started
            try:
                data = await resp.json(content_type=None) if raw else None
            except ValueError:
                data = raw
            return resp.status, data, elapsed

    async def informed(self, *users: str, team: str = "T1") -> None:
        """These people already read the safety notice and chose ("Not now"), through the
        real button, as before a second signature (the first one is tested on its own)."""
        clicks = [button_click(self.fake, "not_now", "any", user=user) for user in users]
        for click in clicks:
            click["team"]["id"] = click["user"]["team_id"] = team
        names = {click["response_url"].rsplit("/", 1)[1] for click in clicks}
        answers = await asyncio.gather(*(self.interact(click) for click in clicks))
        assert all(status == 200 for status, _, _ in answers)
        await self.fake.wait_for(
            lambda: names <= {r.method for r in self.fake.responses}, timeout=30
        )

    async def command(self, command: str, text: str, **kwargs: str) -> tuple[int, Any, float]:
        """Run a slash command; the data is what the person reads: the ack's body, or, when
        the bot acknowledged first (to look up their language), what it sent to
        response_url (or nothing, when it opened a form)."""
        payload = slash_command(self.fake, command, text, **kwargs)
        status, data, elapsed = await self.post(form(payload))
        if status != 200 or data:
            return status, data, elapsed
        name = payload["response_url"].rsplit("/", 1)[1]
        trigger = payload["trigger_id"]

        def answered() -> bool:
            return any(r.method == name for r in self.fake.responses) or any(
                c.params.get("trigger_id") == trigger for c in self.fake.calls_to("views.open")
            )

        await self.fake.wait_for(answered, timeout=15)
        found = [r.params for r in self.fake.responses if r.method == name]
        return status, (found[0] if found else data), elapsed

    async def interact(self, payload: dict[str, Any]) -> tuple[int, Any, float]:
        return await self.post(interaction_form(payload))


def blocks_text(data: Any) -> str:
    """All the text a user would read in a Block Kit payload."""
    if not isinstance(data, dict):
        return str(data)
    parts = [str(data.get("text", ""))]
    for block in data.get("blocks", []) or []:
        if "text" in block:
            parts.append(block["text"].get("text", ""))
        for element in block.get("elements", []):
            text = element.get("text")
            parts.append(text.get("text", "") if isinstance(text, dict) else str(text or ""))
    return "\n".join(parts)
