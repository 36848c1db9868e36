"""End to end: the real `undersigned serve` (slack-bolt) over HTTP against a fake Slack Web API.

Requests are signed exactly as Slack signs them; the bot's Web API calls land in the fake, which
records them, so the assertions are on what Slack users would see.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import statistics
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
import pytest_asyncio

from tests.fakes.slack import (
    FakeSlack,
    button_click,
    form,
    interaction_form,
    sign,
    slash_command,
    view_submission,
)
from tests.slack_harness import SECRET, SlackBot, blocks_text, bot_env
from tests.sqlite_lock import write_lock_held

# A deadline well inside the allowed window (ten years), whatever today is.
FUTURE = (date.today() + timedelta(days=400)).isoformat()

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack()
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SlackBot]:
    process = SlackBot(fake, tmp_path_factory.mktemp("slack"))
    await process.start()
    yield process
    await process.stop()
    assert "Traceback" not in process.stderr, process.stderr


async def create(bot: SlackBot, slug: str, extra: str = "", user: str = "UORG") -> None:
    status, data, _ = await bot.command(
        "/petition",
        f'new {slug} title:"Campaign {slug}" goal:5 {extra} The letter of {slug}.',
        user=user,
    )
    assert status == 200 and "Created" in blocks_text(data), data


async def test_healthz(bot: SlackBot) -> None:
    assert bot.http is not None
    async with bot.http.get(bot.url + "/healthz") as resp:
        assert resp.status == 200 and (await resp.json())["ok"] is True


async def test_a_first_sign_informs_first_then_the_choice_signs_once(
    bot: SlackBot, fake: FakeSlack
) -> None:
    await create(bot, "first")
    status, data, _ = await bot.command("/sign", "first I'm in", user="UA1", user_name="ann")
    assert status == 200 and data["response_type"] == "ephemeral"
    text = blocks_text(data)
    assert "Nothing is recorded yet" in text and "Slack workspace owners can export" in text
    buttons = next(b for b in data["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == [
        "undersigned.sign_named",
        "undersigned.sign_anon",
        "undersigned.not_now",
    ]
    assert not any("style" in b for b in buttons)  # neither choice is the default
    _, status_data, _ = await bot.command("/petition", "status first", user="UA2")
    assert "*0* of 5" in blocks_text(status_data)  # nothing recorded yet
    # "Sign with my name", pressed twice (a double click, or Slack retrying): counted once
    press = button_click(fake, "sign_named", "first", user="UA1")
    press["actions"][0]["value"] = buttons[0]["value"]  # carries the comment typed
    again = {**press, "response_url": fake.response_url("UA1-again")}
    await asyncio.gather(bot.interact(press), bot.interact(again))
    name = press["response_url"].rsplit("/", 1)[1]
    await fake.wait_for(lambda: {name, "UA1-again"} <= {r.method for r in fake.responses})
    answers = [r.params for r in fake.responses if r.method in {name, "UA1-again"}]
    assert all(a["replace_original"] is True for a in answers)  # the buttons go away
    joined = " ".join(blocks_text(a) for a in answers)
    assert "you signed" in joined and "already signed" in joined
    status, data, _ = await bot.command("/sign", "first", user="UA1", user_name="ann")
    text = blocks_text(data)
    assert "already signed" in text and "Nothing is recorded yet" not in text
    status, data, _ = await bot.command("/petition", "status first", user="UA2")
    assert "*1* of 5" in blocks_text(data)
    _, data, _ = await bot.command("/petition", "export first csv", user="UORG")
    assert "I'm in" in blocks_text(data)  # the comment typed with the first /sign was kept


async def test_real_name_from_users_info_replaces_the_handle(
    bot: SlackBot, fake: FakeSlack
) -> None:
    await create(bot, "names")
    fake.real_names["UNAME"] = "Grace Hopper"
    await bot.informed("UNAME")
    await bot.command("/sign", "names", user="UNAME", user_name="ghopper")
    await fake.wait_for(
        lambda: any(c.params.get("user") == "UNAME" for c in fake.calls_to("users.info"))
    )
    for _ in range(50):
        _, data, _ = await bot.command("/petition", "status names", user="UX")
        if "Grace Hopper" in blocks_text(data):
            break
        await asyncio.sleep(0.1)
    assert "Latest: Grace Hopper" in blocks_text(data)


async def test_sign_anonymously_names_nobody(bot: SlackBot, fake: FakeSlack) -> None:
    await create(bot, "hush")
    fake.real_names["UANON"] = "Secret Person"
    await bot.informed("UANON", "UAFTER")
    # Reading the notice ("Not now") may look up their language; the anonymous signature not.
    before = [c for c in fake.calls_to("users.info") if c.params.get("user") == "UANON"]
    _, data, _ = await bot.command("/sign", "hush anonymously", user="UANON", user_name="secret")
    assert "anonymously" in blocks_text(data) and "secret" not in blocks_text(data).lower()
    _, data, _ = await bot.command("/petition", "status hush", user="UX")
    # A positive signal instead of a sleep: a public signer after them is looked up; a lookup
    # of the anonymous one would have been started before it.
    await bot.command("/sign", "hush", user="UAFTER", user_name="after")
    await fake.wait_for(
        lambda: any(c.params.get("user") == "UAFTER" for c in fake.calls_to("users.info"))
    )
    after = [c for c in fake.calls_to("users.info") if c.params.get("user") == "UANON"]
    assert after == before
    text = blocks_text(data)
    assert "*1* of 5" in text and "Secret" not in text and "secret" not in text


async def test_not_now_after_typing_anonymous_looks_nobody_up(
    bot: SlackBot, fake: FakeSlack
) -> None:
    await create(bot, "quiet")
    fake.real_names["UHUSHED"] = "Hushed Person"
    status, data, _ = await bot.command("/sign", "quiet anonymous", user="UHUSHED")
    assert status == 200 and "Nothing is recorded yet" in blocks_text(data)
    buttons = next(b for b in data["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == ["undersigned.sign_anon", "undersigned.not_now"]
    press = button_click(fake, "not_now", "quiet", user="UHUSHED")
    press["actions"][0]["value"] = buttons[1]["value"]
    name = press["response_url"].rsplit("/", 1)[1]
    await bot.interact(press)
    await fake.wait_for(lambda: any(r.method == name for r in fake.responses))
    # a public signer after them is looked up: a lookup of the quiet one would come before
    await bot.informed("ULOUD")
    await bot.command("/sign", "quiet", user="ULOUD", user_name="loud")
    await fake.wait_for(
        lambda: any(c.params.get("user") == "ULOUD" for c in fake.calls_to("users.info"))
    )
    assert not [c for c in fake.calls_to("users.info") if c.params.get("user") == "UHUSHED"]


async def test_same_request_twice_counts_once(bot: SlackBot, fake: FakeSlack) -> None:
    await create(bot, "twice")
    await bot.informed("UDUP")
    body = form(slash_command(fake, "/sign", "twice", user="UDUP", user_name="dup"))
    first, second = await asyncio.gather(bot.post(body), bot.post(body))
    assert first[0] == second[0] == 200
    texts = blocks_text(first[1]) + blocks_text(second[1])
    assert "you signed" in texts and "already signed" in texts
    _, data, _ = await bot.command("/petition", "status twice")
    assert "*1* of 5" in blocks_text(data)


async def test_bad_and_stale_signatures_are_refused(bot: SlackBot, fake: FakeSlack) -> None:
    await create(bot, "forged")
    await bot.informed("UREAL", "UEVIL")
    await bot.command("/sign", "forged", user="UREAL")
    body = form(slash_command(fake, "/sign", "forged", user="UEVIL"))
    status, _, _ = await bot.post(body, sign("wrong-secret", body))
    assert status == 401
    status, _, _ = await bot.post(body, sign(SECRET, body, int(time.time()) - 6 * 60))
    assert status == 401
    _, data, _ = await bot.command("/petition", "status forged")
    assert "*1* of 5" in blocks_text(data)  # the forged signer was not counted


UNSIGNED_GARBAGE: list[tuple[str | bytes, dict[str, str]]] = [
    ("payload={bad", {}),
    ("payload=[1]", {}),
    ('{"type": ', {"Content-Type": "application/json"}),
    ("command=/sign&text=x", {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=1"}),
    (b"\x00\xff\xfe binary", {"X-Slack-Request-Timestamp": "-12", "X-Slack-Signature": "\xfc"}),
]


async def test_unsigned_garbage_gets_401_and_leaves_no_trace_in_the_log(bot: SlackBot) -> None:
    logged = len(bot.stderr)
    for body, headers in UNSIGNED_GARBAGE:
        status, _, elapsed = await bot.post(body, {"Content-Type": "text/plain", **headers})  # type: ignore[arg-type]
        assert status == 401, body
        assert elapsed < 1
    assert len(bot.stderr) == logged, bot.stderr[logged:]


def _signed_malformed(fake: FakeSlack) -> list[str]:
    no_user = slash_command(fake, "/sign", "x")
    del no_user["user_id"]
    no_team = slash_command(fake, "/sign", "x")
    del no_team["team_id"]
    no_actions = button_click(fake, "sign", "x")
    no_actions["actions"] = []
    user_string = button_click(fake, "sign", "x")
    user_string["user"] = "U1"
    listed_state = view_submission({"slug": "x"})
    listed_state["view"]["state"]["values"] = [1, 2]
    return [
        form(no_user),
        form(no_team),
        interaction_form(no_actions),
        interaction_form(user_string),
        interaction_form(listed_state),
        interaction_form([1]),  # type: ignore[arg-type]
        "payload=%7Bnot+json",
    ]


async def test_signed_but_malformed_requests_get_400_at_once(
    bot: SlackBot, fake: FakeSlack
) -> None:
    for body in _signed_malformed(fake):
        status, _, elapsed = await bot.post(body)
        assert status == 400, body
        assert elapsed < 1, body


async def test_a_command_without_a_workspace_is_refused_never_guessed(
    bot: SlackBot, fake: FakeSlack
) -> None:
    await create(bot, "noteam")
    await bot.informed("UTWICE")
    await bot.command("/sign", "noteam", user="UTWICE")
    body = slash_command(fake, "/sign", "noteam", user="UTWICE")
    body["team_id"] = ""
    status, _, _ = await bot.post(form(body))
    assert status == 400
    _, data, _ = await bot.command("/petition", "status noteam")
    assert "*1* of 5" in blocks_text(data)


async def test_buttons_sign_and_read_the_letter(bot: SlackBot, fake: FakeSlack) -> None:
    await create(bot, "buttons")
    await bot.informed("UB1", "UB2")
    before = len(fake.responses)
    status, data, _ = await bot.interact(button_click(fake, "sign", "buttons", user="UB1"))
    assert status == 200
    status, _, _ = await bot.interact(button_click(fake, "sign_anonymously", "buttons", user="UB2"))
    assert status == 200
    await fake.wait_for(
        lambda: len([r for r in fake.responses[before:] if r.method.startswith("UB")]) == 2
    )
    replies = {r.method[:3]: r.params for r in fake.responses[before:] if r.method.startswith("UB")}
    assert replies["UB1"]["response_type"] == "ephemeral"
    assert replies["UB1"]["replace_original"] is False
    assert "you signed" in blocks_text(replies["UB1"])
    assert "anonymously" in blocks_text(replies["UB2"])
    status, _, _ = await bot.interact(button_click(fake, "read", "buttons", user="UB3"))
    assert status == 200
    await fake.wait_for(
        lambda: any(
            "The letter of buttons" in json.dumps(c.params.get("view"))
            for c in fake.calls_to("views.open")
        )
    )
    _, data, _ = await bot.command("/petition", "status buttons")
    assert "*2* of 5" in blocks_text(data)


async def test_new_campaign_modal_opens_and_submits(bot: SlackBot, fake: FakeSlack) -> None:
    status, _, _ = await bot.command("/petition", "new", user="UMODAL")
    assert status == 200
    await fake.wait_for(
        lambda: any(
            c.params.get("view", {}).get("callback_id") == "undersigned.new"
            for c in fake.calls_to("views.open")
        )
    )
    bad = view_submission(
        {
            "slug": "modal",
            "title": "From the modal",
            "text": "Dear all",
            "goal": "zero",
            "kind": "petition",
        },
        user="UMODAL",
    )
    status, data, _ = await bot.interact(bad)
    assert status == 200 and data["response_action"] == "errors" and "goal" in data["errors"]
    good = view_submission(
        {
            "slug": "modal",
            "title": "From the modal",
            "text": "Dear all",
            "goal": "10",
            "deadline": FUTURE,
            "kind": "pledge",
            "action": "walk out",
        },
        user="UMODAL",
    )
    status, data, _ = await bot.interact(good)
    assert status == 200 and not data
    await fake.wait_for(
        lambda: any(
            "From the modal" in json.dumps(c.params) for c in fake.calls_to("chat.postEphemeral")
        )
    )
    _, data, _ = await bot.command("/petition", "status modal")
    assert "I will walk out if 10 people pledge" in blocks_text(data)


async def test_mentions_in_user_text_ping_nobody(bot: SlackBot, fake: FakeSlack) -> None:
    # /petition has should_escape on: Slack sends @here as <!here>, a typed "<" as &lt;
    await create(bot, "inject", extra='to:"<!here> &amp; <@U999|bob>"')
    await bot.command("/petition", 'edit inject title:"&lt;!channel&gt; ALERT"', user="UORG")
    # /sign has should_escape off: text arrives exactly as typed
    await bot.informed("UINJ")
    await bot.command("/sign", "inject <!everyone> <@U123> hi", user="UINJ", user_name="<!channel>")
    _, data, _ = await bot.command("/petition", "status inject", user="UX")
    payload = json.dumps(data)
    assert "&lt;!channel&gt; ALERT" in payload and "To: @here &amp; @bob" in payload
    await bot.command("/petition", "post inject", user="UORG")
    await fake.wait_for(
        lambda: any("ALERT" in json.dumps(c.params) for c in fake.calls_to("chat.postMessage"))
    )
    everything = json.dumps([c.params for c in fake.calls]) + payload
    for raw in ("<!channel>", "<!here>", "<!everyone>", "<@U999>", "<@U123>"):
        assert raw not in everything
    post = next(c for c in fake.calls_to("chat.postMessage") if "ALERT" in json.dumps(c.params))
    assert post.params.get("link_names") in (False, "0", "false", 0)


async def test_post_announces_retries_429_and_refreshes_tally(
    bot: SlackBot, fake: FakeSlack
) -> None:
    await create(bot, "announce")
    fake.fail_next("chat.postMessage", 1, status=429, retry_after=1, channel="CANN")
    before = len(fake.calls_to("chat.postMessage"))
    announced = sum(r.params.get("text", "").startswith("Announced") for r in fake.responses)
    status, _data, _ = await bot.command("/petition", "post announce", user="UORG", channel="CANN")
    assert status == 200
    await fake.wait_for(
        lambda: (
            sum(r.params.get("text", "").startswith("Announced") for r in fake.responses)
            > announced
        ),
        timeout=15,
    )
    posts = [  # the announcement itself, not outbox posts (those carry metadata)
        c
        for c in fake.calls_to("chat.postMessage")[before:]
        if c.params.get("channel") == "CANN" and not c.params.get("metadata")
    ]
    assert len(posts) == 2 and posts[1].at - posts[0].at >= 0.9  # waited for Retry-After
    card = blocks_text(posts[1].params)
    assert "Campaign announce" in card and "0* of 5" in card
    ts_buttons = next(b for b in posts[1].params["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in ts_buttons] == [
        "undersigned.sign",
        "undersigned.sign_anonymously",
        "undersigned.read",
    ]
    refused = await bot.command("/petition", "post announce", user="UNOTORG")
    assert "Only the organizers" in blocks_text(refused[1])
    updates_before = len(fake.calls_to("chat.update"))
    await bot.informed(*(f"UANN{i}" for i in range(4)))
    await asyncio.gather(*[bot.command("/sign", "announce", user=f"UANN{i}") for i in range(4)])
    await fake.wait_for(
        lambda: any("*4* of 5" in blocks_text(c.params) for c in fake.calls_to("chat.update")),
        timeout=10,
    )
    updates = fake.calls_to("chat.update")[updates_before:]
    assert 1 <= len(updates) <= 3  # throttled: not one per signature
    assert updates[-1].params["channel"] == "CANN"
    # milestones reach the linked channel through the outbox, tagged for crash recovery
    await fake.wait_for(
        lambda: any(
            c.params.get("channel") == "CANN" and "80% of the way: 4 of 5" in blocks_text(c.params)
            for c in fake.calls_to("chat.postMessage")
        ),
        timeout=15,
    )


async def test_errors_are_friendly_and_show_usage(bot: SlackBot) -> None:
    _, data, _ = await bot.command("/sign", "no-such-campaign")
    text = blocks_text(data)
    assert ":warning:" in text and "no campaign called" in text and "Usage:" in text
    _, data, _ = await bot.command("/petition", "frobnicate")
    assert "isn't a /petition command" in blocks_text(data)


async def test_burst_of_signers_is_acknowledged_in_time(bot: SlackBot) -> None:
    await create(bot, "burst", extra="")
    _, _, _ = await bot.command("/petition", "edit burst goal:1000", user="UORG")
    n = 300
    await bot.informed(*(f"UBURST{i}" for i in range(n)))
    results = await asyncio.gather(
        *[bot.command("/sign", "burst", user=f"UBURST{i}", user_name=f"b{i}") for i in range(n)]
    )
    assert all(status == 200 for status, _, _ in results)
    latencies = sorted(elapsed for _, _, elapsed in results)
    p50 = statistics.median(latencies)
    p99 = latencies[int(0.99 * n) - 1]
    print(
        f"\nburst of {n} /sign: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms"
    )
    assert latencies[-1] < 3.0
    _, data, _ = await bot.command("/petition", "status burst")
    assert f"*{n}* of 1,000" in blocks_text(data)


async def test_campaign_created_on_the_command_line_is_visible_in_slack(bot: SlackBot) -> None:
    from tests.slack_harness import bot_env, create_campaign

    env = bot_env(bot.fake, bot.workdir / "bot.db")
    await asyncio.to_thread(create_campaign, env, bot.workdir, "from-cli", "Made on the CLI", 7)
    await bot.informed("UCLI")
    _, data, _ = await bot.command("/sign", "from-cli", user="UCLI")
    assert "Made on the CLI" in blocks_text(data) and "you signed" in blocks_text(data)


async def test_sign_mine_and_forget_me_in_slack(bot: SlackBot) -> None:
    await create(bot, "mine-test")
    await bot.informed("UMINE")
    await bot.command("/sign", "mine-test anonymous", user="UMINE")
    _, data, _ = await bot.command("/sign", "mine", user="UMINE")
    assert "`mine-test`" in blocks_text(data) and "anonymously" in blocks_text(data)
    _, data, _ = await bot.command("/forget-me", "", user="UMINE")
    assert "/forget-me confirm" in blocks_text(data)
    _, data, _ = await bot.command("/forget-me", "confirm", user="UMINE")
    assert "1 signature deleted" in blocks_text(data)
    _, data, _ = await bot.command("/petition", "export mine-test csv", user="UORG")
    assert "name,account,role,comment,signed_at,text_version" in blocks_text(data)


async def test_a_slow_core_is_acknowledged_in_time_and_answered_through_response_url(
    bot: SlackBot, fake: FakeSlack
) -> None:
    await create(bot, "slowpath")
    body = slash_command(fake, "/sign", "slowpath", user="USLOW", user_name="slow")
    name = body["response_url"].rsplit("/", 1)[1]
    await bot.informed("USLOW")
    with write_lock_held(bot.workdir / "bot.db", seconds=3.5):  # the signature must wait
        status, data, elapsed = await bot.post(form(body))
    assert status == 200 and elapsed < 3.0
    assert "Working on it" in blocks_text(data)
    await fake.wait_for(lambda: any(r.method == name for r in fake.responses), timeout=15)
    answer = next(r for r in fake.responses if r.method == name)
    assert "you signed" in blocks_text(answer.params)
    assert answer.params["response_type"] == "ephemeral"


async def test_a_huge_command_is_refused_at_once_and_the_server_stays_responsive(
    bot: SlackBot,
) -> None:
    await create(bot, "huge")
    status, data, elapsed = await bot.command("/sign", "huge " + "role:a " * 100_000)
    assert status == 200 and elapsed < 2.0
    assert "the limit is 25,000" in blocks_text(data)
    assert bot.http is not None
    async with bot.http.get(bot.url + "/healthz") as resp:
        assert resp.status == 200


async def test_debug_logs_carry_no_identity_or_response_url(
    fake: FakeSlack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    workdir = tmp_path_factory.mktemp("slack-debug")
    process = SlackBot(fake, workdir)
    env = bot_env(fake, workdir / "bot.db", UNDERSIGNED_LOG_LEVEL="DEBUG")
    await process.start(env=env)
    try:
        await create(process, "debugged")
        await process.informed("UHIDDEN42", team="TSECRET9")
        body = slash_command(fake, "/sign", "debugged anonymous", user="UHIDDEN42", team="TSECRET9")
        name = body["response_url"].rsplit("/", 1)[1]
        with write_lock_held(workdir / "bot.db", seconds=3):  # answered through response_url
            status, _, _ = await process.post(form(body))
        assert status == 200
        await fake.wait_for(lambda: any(r.method == name for r in fake.responses), timeout=15)
        answer = next(r for r in fake.responses if r.method == name)
        assert "anonymously" in blocks_text(answer.params)
        await process.command("/petition", "status debugged")
    finally:
        await process.stop()
    log = process.stderr
    assert "DEBUG" in log or "INFO" in log  # it did log
    for secret in ("UHIDDEN42", "TSECRET9", body["response_url"]):
        assert secret not in log, secret


async def test_the_choice_after_the_notice_survives_a_restart(
    bot: SlackBot, fake: FakeSlack
) -> None:
    await create(bot, "restart")
    _, data, _ = await bot.command("/sign", 'restart role:"Night shift" still in', user="URST")
    buttons = next(b for b in data["blocks"] if b["type"] == "actions")["elements"]
    await bot.stop()
    await bot.start()  # nothing of the pending choice lives in memory
    press = button_click(fake, "sign_named", "restart", user="URST")
    press["actions"][0]["value"] = buttons[0]["value"]
    name = press["response_url"].rsplit("/", 1)[1]
    status, _, _ = await bot.interact(press)
    assert status == 200
    await fake.wait_for(lambda: any(r.method == name for r in fake.responses))
    answer = next(r for r in fake.responses if r.method == name)
    assert "you signed" in blocks_text(answer.params)
    _, data, _ = await bot.command("/petition", "export restart csv", user="UORG")
    assert "Night shift" in blocks_text(data) and "still in" in blocks_text(data)


async def test_a_first_time_press_of_sign_anonymously_offers_only_anonymous(
    bot: SlackBot, fake: FakeSlack
) -> None:
    await create(bot, "anonfirst")
    before = len(fake.responses)
    await bot.interact(button_click(fake, "sign_anonymously", "anonfirst", user="UANF"))
    await fake.wait_for(lambda: len(fake.responses) > before)
    (notice,) = [r.params for r in fake.responses[before:] if r.method.startswith("UANF")]
    buttons = next(b for b in notice["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == ["undersigned.sign_anon", "undersigned.not_now"]
    _, data, _ = await bot.command("/petition", "status anonfirst")
    assert "*0* of 5" in blocks_text(data)


async def test_a_brazilian_member_reads_portuguese_and_an_anonymous_signer_is_not_asked(
    bot: SlackBot, fake: FakeSlack
) -> None:
    """users.info (with include_locale) gives a person's language after the ack; an
    anonymous signer's is never asked: their reply speaks the campaign's language."""
    await create(bot, "greve-de", "lang:de")
    fake.locales["UPT"] = "pt-BR"
    status, data, elapsed = await bot.command("/sign", "greve-de", user="UPT", user_name="bia")
    assert status == 200 and elapsed < 3.0
    text = blocks_text(data)
    assert "Antes da sua primeira assinatura aqui" in text and "Before your first" not in text
    asked = [c for c in fake.calls_to("users.info") if c.params.get("user") == "UPT"]
    assert asked and str(asked[-1].params.get("include_locale")).lower() in {"true", "1"}
    listed = await bot.command("/petition", "list", user="UPT")
    assert "Campanhas:" in blocks_text(listed[1])
    assert len([c for c in fake.calls_to("users.info") if c.params.get("user") == "UPT"]) == len(
        asked
    )  # cached: asked once
    # Their language is known now, and still not used when they sign anonymously.
    hidden = await bot.command("/sign", "greve-de anonymous", user="UPT", user_name="bia")
    assert "Vor deiner ersten Unterschrift hier" in blocks_text(hidden[1])

    fake.locales["UQUIET"] = "fr-FR"
    status, data, _ = await bot.command(
        "/sign", "greve-de anonymous", user="UQUIET", user_name="quiet"
    )
    assert status == 200 and "Vor deiner ersten Unterschrift hier" in blocks_text(data)
    await bot.interact(button_click(fake, "sign_anon", "greve-de", user="UQUIET"))
    await fake.wait_for(
        lambda: any("anonym unterschrieben" in blocks_text(r.params) for r in fake.responses)
    )
    reply = next(
        blocks_text(r.params)
        for r in fake.responses
        if "anonym unterschrieben" in blocks_text(r.params)
    )
    assert "lang:de" in reply  # how to choose another language
    assert not any(c.params.get("user") == "UQUIET" for c in fake.calls_to("users.info"))


async def test_a_body_that_trickles_in_is_refused_in_seconds(bot: SlackBot) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", bot.port)
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\n"
    )
    writer.write(head.encode())
    started = time.monotonic()
    answer = b""
    try:
        for _ in range(100):
            writer.write(b"a")
            await writer.drain()
            try:
                answer += await asyncio.wait_for(reader.read(200), 0.2)
            except TimeoutError:
                continue
            if answer:
                break
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:40]
    assert time.monotonic() - started < 8.0


async def test_slack_connect_counts_each_person_from_their_own_workspace(
    bot: SlackBot, fake: FakeSlack
) -> None:
    """In a channel of T1 shared with T2, a person of T2 presses Sign: they are T2's, so the
    same person signing later in their own workspace is recognised, not counted twice."""
    await create(bot, "shared")
    await bot.informed("UEXT", team="T2")
    press = button_click(fake, "sign", "shared", user="UEXT")
    press["user"]["team_id"] = "T2"  # what Slack sends for a member of the other workspace
    assert press["team"]["id"] == "T1"
    name = press["response_url"].rsplit("/", 1)[1]
    await bot.interact(press)
    await fake.wait_for(lambda: any(r.method == name for r in fake.responses))
    answer = next(r for r in fake.responses if r.method == name)
    assert "you signed" in blocks_text(answer.params)
    _, data, _ = await bot.command("/sign", "shared", user="UEXT", team="T2")
    assert "already signed" in blocks_text(data)
    with sqlite3.connect(bot.workdir / "bot.db") as conn:
        rows = conn.execute(
            "SELECT workspace FROM signature JOIN campaign ON campaign.id = campaign_id "
            "WHERE slug = 'shared'"
        ).fetchall()
    assert rows == [("T2",)]


async def test_a_slow_users_info_or_response_url_never_holds_up_an_acknowledgement(
    bot: SlackBot, fake: FakeSlack
) -> None:
    """Slack stops answering users.info and response_url; acknowledgements keep coming,
    each with its answer, while that work waits (an order, not a timing)."""
    await create(bot, "held")
    warm = [f"UHELD{n}" for n in range(8)]
    await bot.informed(*warm)
    fake.holds["users.info"] = asyncio.Event()
    fake.holds["respond"] = asyncio.Event()
    try:
        # A signer whose language is not known yet: acknowledged at once, then users.info
        # (held), then the answer through response_url (held too).
        cold = slash_command(fake, "/sign", "held", user="UCOLDHELD", user_name="cold")
        status, _, _ = await bot.post(form(cold))
        assert status == 200
        await fake.wait_for(lambda: "users.info" in fake.held)
        acks = await asyncio.gather(
            *(bot.post(form(slash_command(fake, "/sign", "held", user=u))) for u in warm)
        )
        assert all(status == 200 and "you signed" in blocks_text(data) for status, data, _ in acks)
        assert "users.info" in fake.held  # still waiting: it held up none of them
        fake.holds["users.info"].set()
        await fake.wait_for(lambda: "respond" in fake.held)
        more = await bot.command("/petition", "status held", user=warm[0])
        assert more[0] == 200 and "8 signatures, past the goal of 5" in blocks_text(more[1])
        assert "respond" in fake.held  # the cold signer's answer still waits
    finally:
        for hold in fake.holds.values():
            hold.set()
        fake.holds.clear()
    name = cold["response_url"].rsplit("/", 1)[1]
    await fake.wait_for(lambda: any(r.method == name for r in fake.responses))


async def test_every_declared_command_has_its_listener_and_nothing_else_is_answered(
    bot: SlackBot,
) -> None:
    """One listener per slash command the registry declares (no catch-all): `/pledge` and
    `/forget-me` are answered, a command nobody declared is not ours to answer."""
    for command, text in (("/pledge", "help"), ("/forget-me", ""), ("/unsign", "nowhere")):
        status, data, _ = await bot.command(command, text, user="UL1")
        assert status == 200 and data and data.get("text"), (command, data)
    status, _data, _ = await bot.command("/weather", "today", user="UL1")
    assert status == 404
