"""One deployment, many Slack workspaces: the real `undersigned serve` with OAuth on, two
workspaces installing through "Add to Slack" against the fake Slack, signing one campaign.

Every call the fake receives is checked against the workspace its token belongs to, so a post,
an update or a `users.info` sent with another workspace's token fails the test.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from storage.token_cipher import new_key
from tests.fakes.slack import Call, FakeSlack, event, sign
from tests.slack_harness import EXE, SECRET, SlackBot, blocks_text, clean_env

KEY = new_key()
CHANNEL_TEAM = {"CA": "TA", "CB": "TB"}  # which workspace each channel belongs to


def oauth_env(fake: FakeSlack, db_path: Path, **extra: str) -> dict[str, str]:
    env = clean_env(db_path)
    env.update(
        {
            "SLACK_CLIENT_ID": fake.client_id,
            "SLACK_CLIENT_SECRET": fake.client_secret,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "UNDERSIGNED_TOKEN_KEY": KEY,
            **extra,
        }
    )
    return env


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    await slack.start()
    yield slack
    await slack.stop()


@pytest.fixture
async def bot(fake: FakeSlack, tmp_path: Path) -> AsyncIterator[SlackBot]:
    env = oauth_env(fake, tmp_path / "bot.db")
    create_shared_campaign(env, tmp_path)
    runner = SlackBot(fake, tmp_path)
    await runner.start(env=env)
    yield runner
    await runner.stop()


async def install(
    bot: SlackBot, team: str, name: str, installer: str, expect: int = 200, **grant: Any
) -> str:
    """Go through "Add to Slack" as a browser would: the page, Slack's consent, the redirect."""
    assert bot.http is not None
    async with bot.http.get(bot.url + "/slack/install") as page:
        assert page.status == 200
        html = await page.text()
        cookie = page.headers["Set-Cookie"].split(";", 1)[0]
    link = re.search(r'href="([^"]+)"', html)
    assert link is not None
    query = parse_qs(urlparse(link.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == ["111.222"]
    assert "chat:write" in query["scope"][0].split(",")
    code = f"code-{team}"
    bot.fake.grant(code, team, name, installer, **grant)
    async with bot.http.get(
        bot.url + "/slack/oauth_redirect",
        params={"code": code, "state": query["state"][0]},
        headers={"Cookie": cookie},
    ) as done:
        assert done.status == expect, await done.text()
        return await done.text()


def token_mismatches(calls: list[Call]) -> list[str]:
    """Calls whose token belongs to another workspace than the channel or user they target."""
    wrong = []
    for call in calls:
        target = str(call.params.get("channel") or call.params.get("user") or "")
        want = CHANNEL_TEAM.get(target) or {"A": "TA", "B": "TB"}.get(target[1:2])
        if target.startswith(("U", "C")) and want and call.token:
            got = target and call.token.split("-")[1]
            if got != want:
                wrong.append(f"{call.method} to {target} with a token of {got}")
    return wrong


def create_shared_campaign(env: dict[str, str], cwd: Path) -> None:
    """A campaign with one organizer in each workspace, made with the real command line."""
    made = subprocess.run(
        [
            *(EXE, "petition", "create", "--slug", "walkout", "--title", "Walk out"),
            *("--goal", "10", "--text", "Letter", "--names", "public"),
            *("--organizer", "slack:TA:UAORG", "--organizer", "slack:TB:UBORG"),
        ],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr


def installations(db_path: Path) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(
            "SELECT workspace, bot_token, bot_refresh_token FROM workspace_installation "
            "ORDER BY workspace"
        ).fetchall()


async def post_in_both(bot: SlackBot) -> None:
    for team, user, channel in (("TA", "UAORG", "CA"), ("TB", "UBORG", "CB")):
        status, data, _ = await bot.command(
            "/petition", "post walkout", user=user, channel=channel, team=team
        )
        assert status == 200, data
    await bot.fake.wait_for(
        lambda: (
            {"CA", "CB"} <= {c.params.get("channel") for c in bot.fake.calls_to("chat.postMessage")}
        )
    )


async def sign_as(bot: SlackBot, team: str, user: str, channel: str) -> str:
    await bot.informed(user, team=team)
    status, data, _ = await bot.command("/sign", "walkout", user=user, channel=channel, team=team)
    assert status == 200, data
    return blocks_text(data)


async def test_two_workspaces_install_and_sign_one_tally_each_with_its_own_token(
    fake: FakeSlack, bot: SlackBot, tmp_path: Path
) -> None:
    done = await install(bot, "TA", "Acme Workers", "UAINSTALL")
    assert "Acme Workers" in done
    await install(bot, "TB", "Beta <Union>", "UBINSTALL", rotation=True)

    # The installers are told, in the app's Messages tab, what is kept about their workspace.
    await fake.wait_for(
        lambda: (
            {"UAINSTALL", "UBINSTALL"}
            <= {c.params.get("channel") for c in fake.calls_to("chat.postMessage")}
        )
    )
    welcomes = {c.params["channel"]: c for c in fake.calls_to("chat.postMessage")}
    assert "encrypted" in welcomes["UAINSTALL"].params["text"]
    assert "&lt;Union&gt;" in welcomes["UBINSTALL"].params["text"]  # a team name can't ping

    await post_in_both(bot)
    assert "signed" in (await sign_as(bot, "TA", "UA1", "CA")).lower()
    assert "signed" in (await sign_as(bot, "TB", "UB1", "CB")).lower()
    assert "signed" in (await sign_as(bot, "TB", "UB2", "CB")).lower()

    _, data, _ = await bot.command("/petition", "status walkout", user="UA1", team="TA")
    assert "*3* of 10" in blocks_text(data)  # one tally across both workspaces

    # Both announcements are refreshed, each through its own workspace's token.
    await fake.wait_for(
        lambda: {"CA", "CB"} <= {c.params.get("channel") for c in fake.calls_to("chat.update")},
        timeout=20,
    )
    await fake.wait_for(lambda: len(fake.calls_to("users.info")) >= 3)
    by_team = {c.token.split("-")[1] for c in fake.calls if c.token and "-" in c.token}
    assert by_team == {"TA", "TB"}
    assert token_mismatches(fake.calls) == []

    # A copy of the database holds no usable token: sealed, and bound to its workspace.
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("bot.db"))
    assert b"Acme Workers" in raw  # readable bytes: the search below means something
    for token in fake.tokens:
        assert token.encode() not in raw
    for refresh in fake.refresh_tokens:
        assert refresh.encode() not in raw
    assert b"xoxb-" not in raw and b"xoxe-" not in raw
    assert {row[0] for row in installations(tmp_path / "bot.db")} == {"TA", "TB"}


async def test_an_expiring_rotating_token_is_refreshed_before_it_is_used(
    fake: FakeSlack, bot: SlackBot
) -> None:
    # Slack's tokens live 12 hours; this one has barely more than the 10 minutes before
    # expiry at which Undersigned refreshes, so it is due a moment after installing.
    await install(bot, "TB", "Beta", "UBINSTALL", rotation=True, expires_in=602)
    first = next(t for t, (team, _) in fake.tokens.items() if team == "TB")
    await asyncio.sleep(2.5)
    fake.expire(first)  # any call still carrying it would now be refused

    before = len(fake.calls)
    assert "signed" in (await sign_as(bot, "TB", "UB1", "CB")).lower()
    await fake.wait_for(lambda: any(c.method == "users.info" for c in fake.calls[before:]))
    later = fake.calls[before:]
    refreshes = [c for c in later if c.params.get("grant_type") == "refresh_token"]
    assert refreshes, "the token was not refreshed"
    used = [c for c in later if c.token and c.method != "oauth.v2.access"]
    assert used and first not in {c.token for c in used}
    assert all(fake.team_of(c.token) == "TB" for c in used)


async def test_uninstall_deletes_the_tokens_and_nothing_is_sent_there_again(
    fake: FakeSlack, bot: SlackBot, tmp_path: Path
) -> None:
    await install(bot, "TA", "Acme", "UAINSTALL")
    await install(bot, "TB", "Beta", "UBINSTALL")
    await post_in_both(bot)
    status, _, _ = await bot.command(
        "/petition", "remind walkout every day 09:00", user="UAORG", channel="CA", team="TA"
    )
    assert status == 200
    assert "signed" in (await sign_as(bot, "TA", "UA1", "CA")).lower()

    fake.revoke_team("TA")  # Slack's side of the uninstall
    body = json.dumps(event("TA", "app_uninstalled"))
    headers = {**sign(SECRET, body), "Content-Type": "application/json"}
    status, _, _ = await bot.post(body, headers)
    assert status == 200  # acknowledged at once; the work follows
    await fake.wait_for(lambda: [r[0] for r in installations(tmp_path / "bot.db")] == ["TB"])

    def left() -> tuple[int, int, int]:
        with sqlite3.connect(tmp_path / "bot.db") as conn:
            return conn.execute(
                "SELECT (SELECT count(*) FROM channel_link WHERE workspace = 'TA'),"
                " (SELECT count(*) FROM reminder WHERE workspace = 'TA'),"
                " (SELECT signature_count FROM campaign WHERE slug = 'walkout')"
            ).fetchone()

    # links and reminders gone; the signature stays counted
    await fake.wait_for(lambda: left() == (0, 0, 1))

    mark = len(fake.calls)
    assert "signed" in (await sign_as(bot, "TB", "UB1", "CB")).lower()
    await fake.wait_for(lambda: any(c.method == "chat.update" for c in fake.calls[mark:]), 20)
    await asyncio.sleep(1.5)  # a refresh round for every announcement
    after = fake.calls[mark:]
    assert not [c for c in after if c.params.get("channel") == "CA"]
    assert all(fake.team_of(c.token) == "TB" for c in after if c.token)

    # A request still arriving from the removed workspace is refused, not answered with a
    # token that no longer exists.
    status, data, _ = await bot.command("/sign", "walkout", user="UA2", channel="CA", team="TA")
    assert status in (200, 401) and "signed" not in blocks_text(data).lower()
    assert not [c for c in fake.calls[mark:] if c.params.get("channel") == "CA"]


async def test_install_pages_are_self_contained_and_refuse_forged_or_replayed_flows(
    fake: FakeSlack, bot: SlackBot
) -> None:
    assert bot.http is not None
    async with bot.http.get(bot.url + "/slack/install") as page:
        html = await page.text()
        headers = page.headers
        cookie = page.headers["Set-Cookie"].split(";", 1)[0]
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "HttpOnly" in headers["Set-Cookie"]
    # Nothing is loaded from anywhere: the only link is Slack's consent page, followed by a click.
    assert "src=" not in html and "<script" not in html and "@import" not in html
    assert re.findall(r'href="(https?://[^/"]+)', html) == ["https://slack.com"]
    state = parse_qs(urlparse(re.findall(r'href="([^"]+)"', html)[0].replace("&amp;", "&")).query)[
        "state"
    ][0]

    async def redirect(params: dict[str, str], cookie_header: str | None) -> tuple[int, str]:
        headers = {"Cookie": cookie_header} if cookie_header else {}
        async with bot.http.get(  # type: ignore[union-attr]
            bot.url + "/slack/oauth_redirect", params=params, headers=headers
        ) as answer:
            return answer.status, await answer.text()

    fake.grant("good", "TA", "Acme", "UAINSTALL")
    cases = [
        ({}, None),  # nothing at all
        ({"code": "good"}, None),  # no state
        ({"code": "good", "state": state}, None),  # another browser (no cookie)
        ({"code": "good", "state": "forged"}, "slack-app-oauth-state=forged"),
        ({"error": "access_denied", "state": state}, cookie),
        ({"code": "x" * 3000, "state": "y" * 3000}, cookie),
    ]
    for params, cookie_header in cases:
        status, text = await redirect(params, cookie_header)
        assert 400 <= status < 500, (params, status)
        assert "Undersigned was not installed" in text and "Traceback" not in text
    assert not fake.calls_to("oauth.v2.access")  # none of these reached Slack

    status, _ = await redirect({"code": "good", "state": state}, cookie)
    assert status == 200
    fake.grant("again", "TA", "Acme", "UAINSTALL")
    status, _ = await redirect({"code": "again", "state": state}, cookie)  # replayed state
    assert status == 401
    assert len(fake.calls_to("oauth.v2.access")) == 1
    status, text = await redirect({"code": "unknown", "state": "whatever"}, cookie)
    assert 400 <= status < 500


async def test_only_the_listed_workspaces_may_join(fake: FakeSlack, tmp_path: Path) -> None:
    """A stranger's workspace (sock puppets, say) can't add the app to sign every campaign."""
    env = oauth_env(fake, tmp_path / "bot.db", SLACK_ALLOWED_WORKSPACES="TA, TC")
    create_shared_campaign(env, tmp_path)
    bot = SlackBot(fake, tmp_path)
    await bot.start(env=env)
    try:
        refused = await install(bot, "TEVIL", "Sock puppets", "UEVIL", expect=403)
        assert "not on it" in refused
        assert await install(bot, "TA", "Acme", "UAINSTALL")
    finally:
        await bot.stop()
    assert [row[0] for row in installations(tmp_path / "bot.db")] == ["TA"]
    assert {team for team, _ in fake.tokens.values()} == {"TA"}  # TEVIL's token was revoked


async def test_visiting_the_install_page_writes_nothing_and_one_client_is_limited(
    fake: FakeSlack, bot: SlackBot, tmp_path: Path
) -> None:
    assert bot.http is not None
    answers = []
    for _ in range(30):
        async with bot.http.get(bot.url + "/slack/install") as page:
            answers.append(page.status)
            assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert answers[:20] == [200] * 20 and set(answers[20:]) == {429}
    with sqlite3.connect(tmp_path / "bot.db") as conn:
        assert conn.execute("SELECT count(*) FROM oauth_state").fetchone() == (0,)
