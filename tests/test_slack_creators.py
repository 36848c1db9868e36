"""Who may create campaigns, by Slack user group (UNDERSIGNED_CREATORS=slack-group:…)."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.slack import FakeSlack
from tests.slack_harness import SlackBot, blocks_text, bot_env


async def test_only_members_of_the_configured_user_group_create(tmp_path: Path) -> None:
    fake = FakeSlack()
    fake.usergroups["S0ORGANIZERS"] = ["UMEMBER"]
    await fake.start()
    bot = SlackBot(fake, tmp_path)
    env = bot_env(fake, tmp_path / "bot.db", UNDERSIGNED_CREATORS="slack-group:S0ORGANIZERS")
    await bot.start("serve", "--host", "127.0.0.1", "--port", str(bot.port), env=env)
    try:
        _, data, _ = await bot.command("/petition", "new nope title:T goal:5 Letter", user="UOTHER")
        assert "limited" in blocks_text(data) and "Created" not in blocks_text(data)
        _, data, _ = await bot.command("/petition", "new yes title:T goal:5 Letter", user="UMEMBER")
        assert "Created the petition" in blocks_text(data)
        assert any(
            c.params.get("usergroup") == "S0ORGANIZERS"
            for c in fake.calls_to("usergroups.users.list")
        )
    finally:
        await bot.stop()
        await fake.stop()
