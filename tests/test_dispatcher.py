"""The outbox dispatcher against a fake Slack that answers 429 and 500 for a while, and webhook
receivers that verify signatures or are down."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from adapters.slack.sender import SlackSender
from adapters.slack.workspaces import SlackWorkspaces
from adapters.webhooks import WebhookSender, verify
from bot import commands as cmd
from bot import handlers, jobs, views
from bot.domain.identity import Actor, Place
from bot.domain.outgoing import ChatPayload, Delivery, Outgoing
from bot.service import Service
from runtime.dispatcher import Dispatcher
from storage import outbox
from storage.tables import OutboxRow
from tests.conftest import Clock, person
from tests.fakes.slack import FakeSlack
from tests.slack_harness import free_port

ORG = person("org")
ORG_OPERATOR = Actor("cli", "local", "root", "root", operator=True)


async def enqueue_posts(service: Service, channels: list[str], per_channel: int) -> None:
    now = service.clock()
    messages: list[Outgoing] = []
    for n in range(per_channel):
        for channel in channels:
            said = ChatPayload("test", f"{channel} message {n}")
            messages.append(Outgoing(Delivery.POST, "slack", channel, said, "T1"))
    await service.db.write(lambda conn: outbox.enqueue(conn, messages, now))


async def receiver(
    port: int, path: str, handler: Callable[[web.Request], Awaitable[web.Response]]
) -> web.AppRunner:
    """A local webhook receiver on 127.0.0.1:port; the caller cleans it up."""
    app = web.Application()
    app.router.add_post(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def drain(dispatcher: Dispatcher, clock: Clock, rounds: int = 60) -> None:
    """Run the dispatcher, moving the injected clock past each backoff instead of sleeping."""
    for _ in range(rounds):
        await dispatcher.run_once()
        left = await dispatcher.ctx.db.read(outbox.counts)
        if not left.get("pending"):
            return
        clock.advance(minutes=16)


async def test_every_message_arrives_once_in_order_and_paced(
    service: Service, clock: Clock
) -> None:
    fake = FakeSlack()
    await fake.start()
    sender = SlackSender(SlackWorkspaces(fake.api_url, token="xoxb"))
    try:
        await enqueue_posts(service, ["CA", "CB"], 3)
        fake.fail_next("chat.postMessage", 2, status=429, retry_after=1)
        fake.fail_next("chat.postMessage", 2, status=500)
        dispatcher = Dispatcher(service.ctx, {"slack": sender}, base_delay=1)
        await drain(dispatcher, clock)
    finally:
        await sender.workspaces.close()
        await fake.stop()
    ok = [c for c in fake.calls_to("chat.postMessage")][4:]  # the first four were refused
    texts = [c.params["text"] for c in ok]
    assert sorted(texts) == sorted(f"{ch} message {n}" for ch in ("CA", "CB") for n in range(3))
    for channel in ("CA", "CB"):
        mine = [c for c in ok if c.params["channel"] == channel]
        assert [c.params["text"] for c in mine] == [f"{channel} message {n}" for n in range(3)]
        gaps = [b.at - a.at for a, b in itertools.pairwise(mine)]
        assert all(gap >= 0.95 for gap in gaps), gaps  # at most one post a second per channel


async def test_a_message_that_keeps_failing_is_kept_and_reported(
    service: Service, clock: Clock
) -> None:
    fake = FakeSlack()
    await fake.start()
    sender = SlackSender(SlackWorkspaces(fake.api_url, token="xoxb"))
    try:
        await enqueue_posts(service, ["CDEAD"], 1)
        fake.fail_next("chat.postMessage", 100, status=500)
        dispatcher = Dispatcher(service.ctx, {"slack": sender}, max_attempts=3, base_delay=1)
        await drain(dispatcher, clock)
    finally:
        await sender.workspaces.close()
        await fake.stop()
    failed = await service.db.read(outbox.failed)
    assert len(failed) == 1 and failed[0][2] == "CDEAD" and failed[0][4] == 3
    assert "500" in (failed[0][5] or "") or "internal_error" in (failed[0][5] or "")


async def test_webhooks_are_signed_and_retried_while_the_receiver_is_down(
    service: Service, clock: Clock
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    await handlers.campaigns.create(
        service.ctx, ORG, cmd.Create("hooked", {"title": "Hooked", "goal": "2"}, "Letter")
    )
    service.ctx.webhook_allow_private = True  # the receiver runs on this machine
    reply = await service.handle(ORG, "/petition", f"webhook hooked add {url}")
    secret = reply.text.split("`")[1]
    await service.handle(person("a"), "/sign", "hooked")  # 50% milestone → a webhook message
    sender = WebhookSender(allow_private=True)  # the receiver runs on this machine
    dispatcher = Dispatcher(service.ctx, {"webhook": sender}, base_delay=1)
    try:
        assert await dispatcher.run_once() == 0  # nobody listening yet: retried later
        received: list[dict[str, Any]] = []

        async def hook(request: web.Request) -> web.Response:
            body = await request.read()
            ok = verify(
                secret,
                request.headers["X-Undersigned-Timestamp"],
                body,
                request.headers["X-Undersigned-Signature"],
            )
            if not ok:
                return web.Response(status=401)
            received.append(json.loads(body))
            return web.Response(text="ok")

        runner = await receiver(port, "/hook", hook)
        try:
            await drain(dispatcher, clock)
        finally:
            await runner.cleanup()
    finally:
        await sender.close()
    # 25 % and 50 % crossed by one signature: one event, the highest, as in the channel
    assert [r["event"] for r in received] == ["milestone:50"]
    assert (
        received[0]["campaign"]["slug"] == "hooked" and received[0]["campaign"]["signatures"] == 1
    )
    assert not verify(secret, str(int(time.time())), b"{}", "sha256=forged")
    assert not verify(secret, str(int(time.time()) - 3600), b"{}", "sha256=x")


async def test_dispatch_loop_stops_when_asked(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    await enqueue_posts(service, ["CA"], 1)
    stop = asyncio.Event()
    stop.set()
    with caplog.at_level(logging.WARNING):
        await asyncio.wait_for(Dispatcher(service.ctx, {}).run(stop), 5)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    counts = await service.db.read(outbox.counts)
    assert counts == {"pending": 1}  # stopped before sending, nothing lost


async def test_in_doubt_messages_are_checked_not_blindly_resent(
    service: Service, clock: Clock
) -> None:
    """A leader died after posting but before bookkeeping: the next one finds the post in the
    channel's history and marks it sent; one that never went out is sent again."""
    fake = FakeSlack()
    await fake.start()
    sender = SlackSender(SlackWorkspaces(fake.api_url, token="xoxb"))
    try:
        await enqueue_posts(service, ["CA", "CB"], 1)
        due = await service.db.read(lambda conn: outbox.due(conn, clock.now))
        posted, _never_sent = due
        await sender.deliver(posted, await views.outbox_reply(service.ctx, posted.payload, None))
        for m in due:  # both were "sending" when the old leader died
            await service.db.write(lambda conn, m=m: outbox.mark_sending(conn, m.id))
        dispatcher = Dispatcher(service.ctx, {"slack": sender})
        assert await dispatcher.recover() == (1, 1)
        await drain(dispatcher, clock)
    finally:
        await sender.workspaces.close()
        await fake.stop()
    channels = [c.params["channel"] for c in fake.calls_to("chat.postMessage")]
    assert sorted(channels) == ["CA", "CB"]  # nothing twice, nothing lost


async def test_a_hung_webhook_never_delays_other_channels(service: Service, clock: Clock) -> None:
    """A webhook receiver that never answers holds its own delivery only: posts queued while it
    hangs reach their channels at once."""
    entered, release = asyncio.Event(), asyncio.Event()

    async def hang(_request: web.Request) -> web.Response:
        entered.set()
        await release.wait()
        return web.Response(text="late")

    port = free_port()
    runner = await receiver(port, "/hook", hang)
    await handlers.campaigns.create(
        service.ctx, ORG, cmd.Create("hung", {"title": "Hung", "goal": "2"}, "Letter")
    )
    service.ctx.webhook_allow_private = True  # the receiver runs on this machine
    await service.handle(ORG, "/petition", f"webhook hung add http://127.0.0.1:{port}/hook")
    await service.handle(person("a"), "/sign", "hung")  # a milestone: one webhook message
    fake = FakeSlack()
    await fake.start()
    slack, hooks = (
        SlackSender(SlackWorkspaces(fake.api_url, token="xoxb")),
        WebhookSender(allow_private=True),
    )
    dispatcher = Dispatcher(service.ctx, {"slack": slack, "webhook": hooks}, base_delay=1)
    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher.run(stop, poll=0.1, drain=0.1))
    try:
        await asyncio.wait_for(entered.wait(), 10)  # the webhook delivery is now stuck
        await enqueue_posts(service, ["CA", "CB"], 1)
        dispatcher.wake()
        await fake.wait_for(lambda: len(fake.calls_to("chat.postMessage")) == 2, timeout=5)
        assert not release.is_set()  # the webhook was still hanging meanwhile
    finally:
        release.set()
        stop.set()
        await running
        await slack.workspaces.close()
        await hooks.close()
        await fake.stop()
        await runner.cleanup()


async def test_a_webhook_into_the_hosts_own_network_is_refused_at_once(
    service: Service, clock: Clock
) -> None:
    """An organizer may be hostile: a webhook URL must not reach loopback, private or
    link-local addresses (cloud metadata at 169.254.169.254) unless the operator allows it."""
    hits: list[str] = []

    async def hook(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text="ok")

    port = free_port()
    runner = await receiver(port, "/admin", hook)
    await handlers.campaigns.create(
        service.ctx, ORG, cmd.Create("probe", {"title": "Probe", "goal": "2"}, "Letter")
    )
    # Added while the chat layer let it (as a name that resolves inside would be): the
    # sender still refuses to deliver, whatever the address was when it was added.
    service.ctx.webhook_allow_private = True
    for url in (f"http://127.0.0.1:{port}/admin", "http://169.254.169.254/latest/meta-data"):
        await service.handle(ORG, "/petition", f"webhook probe add {url}")
    service.ctx.webhook_allow_private = False
    await service.handle(person("a"), "/sign", "probe")
    sender = WebhookSender()
    try:
        await Dispatcher(service.ctx, {"webhook": sender}, base_delay=1).run_once()
    finally:
        await sender.close()
        await runner.cleanup()
    assert hits == []
    failed = await service.db.read(outbox.failed)
    assert len(failed) == 2 and all("inside this host's networks" in f[5] for f in failed)


async def test_reminders_go_out_with_their_own_workspaces_token_and_never_to_a_removed_one(
    service: Service, clock: Clock
) -> None:
    """Two workspaces installed through OAuth, a reminder in a channel of each: A's reminder
    goes with A's token, B's with B's; once B removed the app nothing is sent there."""
    from storage import installations
    from storage.installations import InstalledBot
    from storage.token_cipher import TokenCipher, new_key

    fake = FakeSlack()
    await fake.start()
    cipher = TokenCipher.from_setting(new_key())
    for team in ("TA", "TB"):
        fake.grant(f"code-{team}", team, f"Team {team}", f"U{team}")
        token = fake._oauth_access(  # what the redirect step gets from Slack
            {
                "client_id": fake.client_id,
                "client_secret": fake.client_secret,
                "code": f"code-{team}",
            }
        )["access_token"]
        installed = InstalledBot(team, token, team_name=f"Team {team}")
        await service.db.write(
            lambda c, b=installed: installations.save_installation(c, cipher, b, clock())
        )
    org_a = Actor("slack", "TA", "UORGA", "Org A")
    org_b = Actor("slack", "TB", "UORGB", "Org B")
    await handlers.campaigns.create(
        service.ctx, org_a, cmd.Create("walkout", {"title": "Walk out", "goal": "10"}, "Letter")
    )
    await service.handle(ORG_OPERATOR, "/petition", "organizers walkout add slack:TB:UORGB")
    for actor, channel in ((org_a, "CA"), (org_b, "CB")):
        place = Place("slack", actor.workspace, channel)
        reply = await service.handle(actor, "/petition", "remind walkout every day 09:00", place)
        assert not reply.error, reply.text
    sender = SlackSender(SlackWorkspaces(fake.api_url, db=service.db, cipher=cipher))
    dispatcher = Dispatcher(service.ctx, {"slack": sender}, base_delay=1)
    try:
        definitions = await jobs.reminder_definitions(service.ctx)
        assert len(definitions) == 2
        for definition in definitions:
            assert await jobs.send_reminder(service.ctx, definition.id, clock())
        await drain(dispatcher, clock)
        posts = fake.calls_to("chat.postMessage")
        assert {c.params["channel"]: fake.team_of(c.token) for c in posts} == {
            "CA": "TA",
            "CB": "TB",
        }

        # B removes the app: its token is deleted, its reminder stops, nothing reaches CB.
        await service.db.write(lambda c: installations.delete_installation(c, "TB"))
        sender.workspaces.forget("TB")
        await jobs.workspace_removed(service.ctx, "slack", "TB")
        assert len(await jobs.reminder_definitions(service.ctx)) == 1
        await enqueue_posts_in(service, "TB", "CB")  # queued before the uninstall was known
        clock.advance(days=1)
        for definition in await jobs.reminder_definitions(service.ctx):
            assert await jobs.send_reminder(service.ctx, definition.id, clock())
        await drain(dispatcher, clock)
    finally:
        await sender.workspaces.close()
        await fake.stop()
    later = fake.calls_to("chat.postMessage")[len(posts) :]
    assert [c.params["channel"] for c in later] == ["CA"]
    failed = await service.db.read(outbox.failed)
    assert [(f[2], "not installed" in (f[5] or "")) for f in failed] == [("CB", True)]


async def enqueue_posts_in(service: Service, workspace: str, channel: str) -> None:
    message = Outgoing(Delivery.POST, "slack", channel, ChatPayload("test", "late"), workspace)
    await service.db.write(lambda conn: outbox.enqueue(conn, [message], service.clock()))


async def test_a_token_replaced_by_another_instance_is_read_again_not_given_up(
    service: Service, clock: Clock
) -> None:
    """The workspace added the app again through another instance: this one's memory still
    holds the revoked token. The message goes out with the new one, once."""
    from storage import installations
    from storage.installations import InstalledBot
    from storage.token_cipher import TokenCipher, new_key

    fake = FakeSlack()
    await fake.start()
    cipher = TokenCipher.from_setting(new_key())

    async def install() -> str:
        fake.grant("code", "TA", "Team A", "UA")
        access = fake._oauth_access(
            {"client_id": fake.client_id, "client_secret": fake.client_secret, "code": "code"}
        )
        bot = InstalledBot("TA", access["access_token"], team_name="Team A")
        await service.db.write(lambda c: installations.save_installation(c, cipher, bot, clock()))
        return str(access["access_token"])

    first = await install()
    sender = SlackSender(SlackWorkspaces(fake.api_url, db=service.db, cipher=cipher))
    try:
        assert (await sender.workspaces.bot_for("TA")).bot_token == first  # now in memory
        fake.revoke_team("TA")
        second = await install()  # elsewhere: this instance is not told
        await enqueue_posts_in(service, "TA", "CA")
        await drain(Dispatcher(service.ctx, {"slack": sender}, base_delay=1), clock)
    finally:
        await sender.workspaces.close()
        await fake.stop()
    posts = fake.calls_to("chat.postMessage")
    assert [c.token for c in posts] == [first, second]  # refused once, then delivered
    assert await service.db.read(outbox.failed) == []


@pytest.mark.parametrize("answer", ["inf", "nan", "1e12", "0", "-5", "Wed, 21 Oct 2015", ""])
async def test_a_hostile_retry_after_neither_crashes_nor_floods_nor_parks_a_message(
    service: Service, clock: Clock, answer: str
) -> None:
    """A receiver standing in for a hostile public server answers 429 with garbage."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    await handlers.campaigns.create(
        service.ctx, ORG, cmd.Create("hooked", {"title": "Hooked", "goal": "2"}, "Letter")
    )
    service.ctx.webhook_allow_private = True  # the receiver runs on this machine
    await service.handle(ORG, "/petition", f"webhook hooked add {url}")
    await service.handle(person("a"), "/sign", "hooked")  # a milestone → one webhook message
    hits = itertools.count()

    async def hostile(request: web.Request) -> web.Response:
        next(hits)
        return web.Response(status=429, headers={"Retry-After": answer})

    runner = await receiver(port, "/hook", hostile)
    sender = WebhookSender(allow_private=True)
    dispatcher = Dispatcher(service.ctx, {"webhook": sender}, max_attempts=4, base_delay=1)
    try:
        for _ in range(12):  # far more rounds than attempts allowed
            await dispatcher.run_once()
            rows = await service.db.read(
                lambda conn: list(conn.execute(select(OutboxRow.status, OutboxRow.available_at)))
            )
            assert all(status != "sending" for status, _ in rows), rows
            for status, when in rows:
                if status == "pending":
                    wait = (when.replace(tzinfo=UTC) - clock.now).total_seconds()
                    assert 1 <= wait <= 15 * 60, (answer, wait)
            clock.advance(minutes=16)
    finally:
        await runner.cleanup()
        await sender.close()
    assert next(hits) <= 4  # every answer counted as an attempt: then kept as failed
    counts = await service.db.read(outbox.counts)
    assert counts.get("failed") == 1 and not counts.get("sending")


async def test_a_huge_webhook_answer_is_not_read(service: Service, clock: Clock) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    await handlers.campaigns.create(
        service.ctx, ORG, cmd.Create("hooked", {"title": "Hooked", "goal": "2"}, "Letter")
    )
    service.ctx.webhook_allow_private = True  # the receiver runs on this machine
    await service.handle(ORG, "/petition", f"webhook hooked add {url}")
    await service.handle(person("a"), "/sign", "hooked")
    sent = 0

    async def flood(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse(status=200)
        await response.prepare(request)
        chunk = b"x" * 65536
        try:
            for _ in range(150 * 16):  # 150 MB if anyone reads it all
                await response.write(chunk)
                sent += len(chunk)
        except (ConnectionResetError, RuntimeError):
            pass
        return response

    runner = await receiver(port, "/hook", flood)
    sender = WebhookSender(allow_private=True)
    try:
        assert await Dispatcher(service.ctx, {"webhook": sender}).run_once() == 1
    finally:
        await runner.cleanup()
        await sender.close()
    assert sent < 32 * 1024 * 1024  # the connection was closed long before 150 MB


async def test_a_receiver_dripping_its_answer_does_not_hold_a_delivery(
    service: Service, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters import webhooks

    monkeypatch.setattr(webhooks, "DELIVERY_SECONDS", 1.0)
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    await handlers.campaigns.create(
        service.ctx, ORG, cmd.Create("hooked", {"title": "Hooked", "goal": "2"}, "Letter")
    )
    service.ctx.webhook_allow_private = True  # the receiver runs on this machine
    await service.handle(ORG, "/petition", f"webhook hooked add {url}")
    await service.handle(person("a"), "/sign", "hooked")

    async def drip(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(8)  # headers never come in time
        return web.Response(text="late")

    runner = await receiver(port, "/hook", drip)
    sender = WebhookSender(allow_private=True)
    started = time.monotonic()
    try:
        assert await Dispatcher(service.ctx, {"webhook": sender}).run_once() == 0
        assert time.monotonic() - started < 5  # the deadline, not the receiver, ended it
    finally:
        await sender.close()
        await runner.shutdown()
        await runner.cleanup()
    counts = await service.db.read(outbox.counts)
    assert counts.get("pending") == 1 and not counts.get("sending")
