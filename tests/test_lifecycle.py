"""Milestones, results, reminders and webhooks, queued in the outbox with the events that caused
them, on the real database(s)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select

from bot import commands as cmd
from bot import handlers, jobs, views
from bot.domain.identity import Actor, Place
from bot.domain.outgoing import ChatPayload
from bot.domain.replies import Announced
from bot.service import Service
from storage.tables import OutboxRow, ReminderRow
from tests.conftest import Clock, fetch, person

ORG = person("org")
CHANNEL = Place("slack", "T1", "C-general")


async def queued(service: Service) -> list[OutboxRow]:
    return await fetch(service.db, select(OutboxRow).order_by(OutboxRow.id))


def event_of(row: OutboxRow) -> str:
    payload = json.loads(row.payload)
    return payload.get("event") or payload["body"]["event"]


async def setup(service: Service, slug: str, **opts: str) -> None:
    options = {"title": f"Campaign {slug}", "goal": "4", "deadline": "2026-11-10", **opts}
    assert not (
        await handlers.campaigns.create(service.ctx, ORG, cmd.Create(slug, options, "Letter text."))
    ).error
    post = await service.handle(ORG, "/petition", f"post {slug}", place=CHANNEL)
    assert post.event(Announced) is not None
    hook = await service.handle(ORG, "/petition", f"webhook {slug} add https://example.org/h")
    assert "Registered" in hook.text and "secret" in hook.text


async def test_milestones_are_posted_once_with_webhooks(service: Service) -> None:
    await setup(service, "miles")
    for i in range(5):
        await service.handle(person(f"s{i}"), "/sign", "miles")
    await service.handle(person("s1"), "/unsign", "miles")
    await service.handle(person("s1"), "/sign", "miles")  # back to 5: no milestone again
    rows = await queued(service)
    posts = [json.loads(r.payload)["event"] for r in rows if r.kind == "post"]
    hooks = [json.loads(r.payload)["body"]["event"] for r in rows if r.kind == "webhook"]
    assert posts == ["milestone:25", "milestone:50", "milestone:75", "milestone:100"]
    assert hooks == posts
    assert {r.target for r in rows if r.kind == "post"} == {"C-general"}
    body = json.loads(rows[-1].payload)["body"]
    assert body["campaign"]["slug"] == "miles" and body["campaign"]["signatures"] == 4


async def test_milestone_posts_say_the_real_figure_and_coincidences_post_once(
    service: Service,
) -> None:
    await setup(service, "odd", goal="3")
    await service.handle(person("a"), "/sign", "odd")  # crosses 25 % with 1 of 3: that is 33 %
    (post,) = [r for r in await queued(service) if r.kind == "post"]
    assert "33% of the way: 1 of 3" in json.loads(post.payload)["text"]
    await setup(service, "pair", kind="pledge", threshold="2", action="walk out")
    await service.handle(person("a"), "/sign", "pair")  # 50 %
    await service.handle(person("b"), "/sign", "pair")  # 75 % and 100 %: success, one post
    posts = [event_of(r) for r in await queued(service) if r.kind == "post" and r.campaign_id]
    pair = posts[1:]
    assert pair == ["milestone:50", "succeeded"], pair
    await service.handle(person("b"), "/unsign", "pair")
    await service.handle(person("b"), "/sign", "pair")  # nothing is announced twice
    assert [event_of(r) for r in await queued(service) if r.kind == "post"][1:] == pair


async def test_pledge_success_messages_every_public_pledger(service: Service) -> None:
    await setup(service, "strike", kind="pledge", threshold="3", action="walk out")
    await service.handle(person("a"), "/sign", "strike")
    await service.handle(person("b"), "/sign", "strike anonymous")
    await service.handle(person("c"), "/sign", "strike")
    rows = await queued(service)
    dms = [r for r in rows if r.kind == "dm"]
    assert sorted(r.target for r in dms) == ["U-a", "U-c"]  # the anonymous pledger has no address
    assert all("It's on" in json.loads(r.payload)["text"] for r in dms)
    assert "succeeded" in [json.loads(r.payload)["event"] for r in rows if r.kind == "post"]


async def test_deadline_closes_and_releases_pledgers(service: Service, clock: Clock) -> None:
    await setup(service, "weak", kind="pledge", threshold="3", action="strike")
    await service.handle(person("a"), "/sign", "weak")
    await service.handle(ORG, "/petition", "remind weak daily 09:00", place=CHANNEL)
    clock.advance(days=8)  # Nov 10, 09:00: within 24 hours of the deadline
    assert await jobs.sweep(service.ctx) == []
    assert await jobs.sweep(service.ctx) == []
    clock.advance(days=2)
    assert await jobs.sweep(service.ctx) == ["weak"]
    assert await jobs.sweep(service.ctx) == []
    rows = await queued(service)
    events = [event_of(r) for r in rows]
    assert events.count("24h") == 2  # one post, one webhook
    assert "failed" in events and "closed" in events
    released = [r for r in rows if r.kind == "dm"]
    assert [r.target for r in released] == ["U-a"] and "released" in json.loads(
        released[0].payload
    )["text"]
    data = await views.status_data(service.ctx, "weak")
    assert data["status"] == "closed" and data["outcome"] == "failed"
    assert await fetch(service.db, select(ReminderRow)) == []


async def test_reminders_are_idempotent_and_stop_when_closed(
    service: Service, clock: Clock
) -> None:
    await setup(service, "remind")
    reply = await service.handle(
        ORG, "/petition", "remind remind weekdays 09:30 Europe/Berlin", place=CHANNEL
    )
    assert "weekdays 09:30 Europe/Berlin" in reply.text and "Next:" in reply.text
    assert (
        await service.handle(person("x"), "/petition", "remind remind daily 09:00", place=CHANNEL)
    ).error
    bad = await service.handle(ORG, "/petition", "remind remind sometimes", place=CHANNEL)
    assert bad.error and "Examples" in bad.text
    listing = await service.handle(ORG, "/petition", "reminders")
    assert "weekdays 09:30 Europe/Berlin" in listing.text
    (definition,) = await jobs.reminder_definitions(service.ctx)
    fire = clock.now.replace(hour=8, minute=30)
    assert await jobs.send_reminder(service.ctx, definition.id, fire)
    assert not await jobs.send_reminder(service.ctx, definition.id, fire)  # same fire time: once
    rows = [r for r in await queued(service) if event_of(r) == "reminder"]
    assert len(rows) == 1 and rows[0].target == "C-general"
    await service.handle(ORG, "/petition", "close remind")
    assert not await jobs.send_reminder(service.ctx, definition.id, fire.replace(day=fire.day + 1))
    assert await jobs.reminder_definitions(service.ctx) == []
    off = await service.handle(ORG, "/petition", "remind remind off", place=CHANNEL)
    assert off.error  # closed campaigns take no new reminders


async def test_editing_the_letter_tells_earlier_public_signers(service: Service) -> None:
    await setup(service, "edited")
    await service.handle(person("early"), "/sign", "edited")
    await service.handle(person("hidden"), "/sign", "edited anonymous")
    await service.handle(ORG, "/petition", "edit edited A stronger letter.")
    await service.handle(person("late"), "/sign", "edited")
    dms = [r for r in await queued(service) if r.kind == "dm"]
    assert [r.target for r in dms] == ["U-early"]
    text = json.loads(dms[0].payload)["text"]
    assert "version 2" in text and "/unsign edited" in text
    # A new title changes what signers put their name to: a version everyone is told about.
    await service.handle(ORG, "/petition", 'edit edited title:"New title"')
    dms = [r for r in await queued(service) if r.kind == "dm"]
    assert sorted(r.target for r in dms) == ["U-early", "U-early", "U-late"]
    assert all("version 3" in json.loads(r.payload)["text"] for r in dms[1:])


async def test_outbox_reply_renders_the_current_tally(service: Service) -> None:
    await setup(service, "render")
    await service.handle(person("a"), "/sign", "render")
    (row,) = [r for r in await queued(service) if r.kind == "post"]
    await service.handle(person("b"), "/sign", "render")
    reply = await views.outbox_reply(
        service.ctx, ChatPayload.of(json.loads(row.payload)), row.campaign_id
    )
    assert reply.card is not None and reply.tally is not None and reply.tally.count == 2
    assert "25% of the way" in reply.text


def test_actor_place_types_are_plain() -> None:
    assert Actor("a", "b", "c", "d").identity == "a:b:c"


async def test_time_left_is_posted_only_while_it_is_true(service: Service, clock: Clock) -> None:
    """The last-day post says the hours really left, and none is posted with under an hour
    left (a deadline a few minutes away used to get "24 hours left")."""
    await setup(service, "soon")
    await setup(service, "late")
    deadline = (await views.status_data(service.ctx, "soon"))["deadline"]
    end = datetime.fromisoformat(deadline)
    clock.now = end - timedelta(hours=15, minutes=30)
    await jobs.sweep(service.ctx)
    posts = [json.loads(r.payload) for r in await queued(service) if r.kind == "post"]
    last = [p["text"] for p in posts if p["event"] == "24h"]
    assert len(last) == 2 and all("15 hours left to sign" in t for t in last), last
    assert not any("24 hours" in t for t in last)

    await setup(service, "minute")
    clock.now = end - timedelta(minutes=1)
    await jobs.sweep(service.ctx)
    posts = [json.loads(r.payload) for r in await queued(service) if r.kind == "post"]
    assert not any(p["event"] == "24h" and p["slug"] == "minute" for p in posts)
