"""A watcher of the public figures must not be able to time one signature.

The rule (bot/domain/steps.py): what anyone but the signer sees moves in steps of at least 3, at
window boundaries, or at a day boundary; a pledge's success shows at the first boundary after.
These tests watch every surface as an employer would (page, JSON and its ETag, chart, card,
embed, status, the channel announcement, the list, exports, webhook and milestone posts) while
people sign and withdraw one at a time, with gaps, and the schedule is asked to release as often
as it likes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import commands as cmd
from bot import handlers, jobs, views
from bot.domain.identity import Actor, SignerKey
from bot.domain.steps import Part, StepRule
from bot.service import Service
from storage import public_log
from storage import repository as repo
from storage.database import Database
from storage.tables import OutboxRow
from tests.conftest import Clock, fetch, informed, person
from tests.web_site import Site

ORG = person("org")
RULE = StepRule()  # the default: 3 signatures and 15 minutes, or a day boundary
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NAMED_WITHDRAWS = 157
NAME_LISTS = {"page", "export", "status", "announcement"}


def at(hour: int, minute: int = 0) -> datetime:
    return START.replace(hour=hour, minute=minute)


# ---- the rule itself ----------------------------------------------------------------------


def test_boundaries_follow_real_time_across_a_change_of_clocks() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 25 October 2026: the day starts at 22:00 UTC the day before and has 25 hours (clocks
    # go back at 01:00 UTC): windows stay 15 real minutes from its start
    before = datetime(2026, 10, 25, 0, 50, tzinfo=UTC)
    assert RULE.next_boundary(before, berlin) == datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    assert RULE.last_boundary(before, berlin) == datetime(2026, 10, 25, 0, 45, tzinfo=UTC)
    late = datetime(2026, 10, 25, 22, 50, tzinfo=UTC)  # 23:50 local, winter time
    assert RULE.next_boundary(late, berlin) == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)
    # 29 March 2026: clocks go forward; the day has 23 hours and ends at 22:00 UTC
    spring = datetime(2026, 3, 29, 21, 50, tzinfo=UTC)
    assert RULE.next_boundary(spring, berlin) == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    moments = [datetime(2026, 10, 25, tzinfo=UTC) + timedelta(minutes=7 * i) for i in range(400)]
    for now in moments:
        following = RULE.next_boundary(now, berlin)
        assert now < following <= now + RULE.window
        assert RULE.last_boundary(now, berlin) <= now


def test_boundaries_fall_every_window_from_the_start_of_the_day() -> None:
    assert RULE.last_boundary(at(9, 7), UTC) == at(9, 0)
    assert RULE.next_boundary(at(9, 7), UTC) == at(9, 15)
    assert RULE.next_boundary(at(9, 15), UTC) == at(9, 30)
    late = START.replace(hour=23, minute=50)
    assert RULE.next_boundary(late, UTC) == START + timedelta(days=1) - timedelta(hours=9)
    odd = StepRule(window=timedelta(minutes=7))
    assert odd.next_boundary(START.replace(hour=23, minute=58), UTC) == datetime(
        2026, 11, 3, tzinfo=UTC
    )  # the day's start is a boundary whatever the window


# ---- the service, watched -----------------------------------------------------------------


@pytest.fixture
async def stepped(db: Database, key: SignerKey) -> tuple[Service, Clock]:
    clock = Clock(START)
    return Service(db, key, clock=clock, steps=RULE), clock


async def pledge(service: Service, threshold: int, text: str = "We walk out.") -> None:
    values = {"title": "Walk out", "goal": str(threshold), "kind": "pledge"}
    values |= {"threshold": str(threshold), "action": "walk out", "deadline": "2026-11-30"}
    made = await handlers.campaigns.create(service.ctx, ORG, cmd.Create("walkout", values, text))
    assert not made.error, made.text


def worker(n: int) -> Actor:
    """Two workspaces share the campaign, so status shows where named signatures came from."""
    return Actor("slack", "TACME" if n % 2 else "TBETA", f"UW{n}", f"Worker {n}")


class Watcher:
    """Everything a stranger, a colleague in the channel and an organizer can read."""

    def __init__(self, service: Service, site: Site, slug: str) -> None:
        self.service, self.site, self.slug = service, site, slug
        self.seen: list[tuple[datetime, dict[str, Any]]] = []

    async def look(self) -> dict[str, Any]:
        s, slug = self.service, self.slug
        _, body, headers = await self.site.get(f"/c/{slug}.json")
        view: dict[str, Any] = {
            "json": json.loads(body)["signatures"],
            "etag": headers.get("ETag"),
        }
        for path in ("", "/chart.svg", "/chart.png", "/card.png", "/embed", "/log"):
            _, page, _ = await self.site.get(f"/c/{slug}{path}")
            view[path or "page"] = hashlib.sha256(page).hexdigest()
        # The public log: its head, every entry, a proof from the first entry.
        _, head, _ = await self.site.get(f"/c/{slug}/log.json")
        view["log.json"] = json.loads(head)
        size = view["log.json"]["tree_size"]
        view["log entries"] = None
        if size:
            entries = (await self.site.get(f"/c/{slug}/log/entries?start=0&end={size}"))[1]
            proof = (await self.site.get(f"/c/{slug}/log/consistency?first=1&second={size}"))[1]
            view["log entries"] = hashlib.sha256(entries + proof).hexdigest()
        _, index, _ = await self.site.get("/")
        view["index"] = hashlib.sha256(index).hexdigest()
        status = await s.handle(ORG, "/petition", f"status {slug}")  # an organizer, maybe a plant
        assert status.tally is not None
        # Less the line saying when the next step is due: it moves with the clock alone.
        text = "\n".join(x for x in status.text.splitlines() if "moves in steps" not in x)
        view["status"] = (text, status.tally.count, status.tally.recent_public)
        campaign = await s.db.read(lambda conn: repo.find_campaign(conn, slug))
        assert campaign is not None
        announced = await views.announcement(s.ctx, campaign.id)
        assert announced.tally is not None
        view["announcement"] = (
            announced.text,
            announced.tally.count,
            announced.tally.recent_public,
        )
        view["list"] = (await s.handle(ORG, "/petition", "list")).text
        export = await s.handle(ORG, "/petition", f"export {slug} md")
        view["export"] = export.attachment[1] if export.attachment else export.text
        rows = await fetch(s.db, select(OutboxRow.payload).order_by(OutboxRow.id))
        view["outbox"] = len(rows)
        return view

    async def watch(self) -> None:
        now = self.service.clock()
        self.seen.append((now, await self.look()))


def changes(seen: list[tuple[datetime, dict[str, Any]]]) -> list[tuple[datetime, int, set[str]]]:
    """(when, how much the public count moved, which surfaces changed) at each change."""
    found = []
    for (_, before), (when, after) in itertools.pairwise(seen):
        moved = {k for k in after if after[k] != before[k]}
        if moved:
            found.append((when, after["json"] - before["json"], moved))
    return found


async def test_a_watcher_polling_everything_sees_only_steps_of_three(
    stepped: tuple[Service, Clock],
) -> None:
    service, clock = stepped
    made = await handlers.campaigns.create(
        service.ctx,
        ORG,
        cmd.Create("walkout", {"title": "Walk out", "goal": "40", "names": "public"}, "We refuse."),
    )
    assert not made.error
    await service.handle(ORG, "/petition", "publish walkout")
    await service.handle(ORG, "/petition", "webhook walkout add https://hooks.example.org/x")
    site = Site(service)
    await site.start()
    try:
        watcher = Watcher(service, site, "walkout")
        await watcher.watch()
        people = [worker(n) for n in range(30)]
        await informed(service, *people)
        # One signature at a time, a few minutes apart, some anonymous; two withdraw later.
        plan = {m: n for n, m in enumerate(range(1, 150, 5))}
        for minute in range(1, 181):
            clock.now = START + timedelta(minutes=minute)
            if minute in plan:
                n = plan[minute]
                args = "walkout anonymous" if n % 3 == 0 else "walkout"
                reply = await service.handle(people[n], "/sign", args)
                assert not reply.error, reply.text
                assert reply.tally is not None  # the signer's own reply counts them at once
            if minute == 152:  # an anonymous signer withdraws
                await service.handle(people[3], "/unsign", "walkout")
            if minute == NAMED_WITHDRAWS:
                await service.handle(people[7], "/unsign", "walkout")
            await jobs.release_steps(service.ctx)  # as often as anyone likes: only steps come out
            await watcher.watch()
    finally:
        await site.stop()
    seen = changes(watcher.seen)
    assert seen, "nothing ever moved: the test watched nothing"
    for when, moved, surfaces in seen:
        if when == START + timedelta(minutes=NAMED_WITHDRAWS):
            # A public signer's name leaves the lists as they withdraw (deleted, as promised);
            # no count moves with it.
            assert moved == 0 and surfaces <= NAME_LISTS, surfaces
            continue
        assert abs(moved) >= 3, (when, moved, surfaces)  # no day boundary within the test
        assert when.minute % 15 == 0, (when, surfaces)  # only at a window boundary
        # what a step shows is consistent everywhere: every surface moved together
        assert {"json", "etag", "page", "/chart.png", "/card.png", "status"} <= surfaces
        assert {"log.json", "log entries", "/log"} <= surfaces, surfaces
    # The log moves only with a step, by at least 3 entries, and always adds up to the count.
    heads = [(when, view["log.json"], view["json"]) for when, view in watcher.seen]
    for (_, before, _), (when, after, count) in itertools.pairwise(heads):
        assert after["signatures"] - after["withdrawals"] == count, when
        if after != before:
            assert after["tree_size"] - before["tree_size"] >= 3, (when, before, after)
            assert when.minute % 15 == 0 and after["released"].endswith(f"{when:%H:%M}:00Z")
    exact = await service.db.read(lambda conn: repo.find_campaign(conn, "walkout"))
    assert exact is not None and exact.count == 28  # 30 signed, 2 withdrew: kept exactly
    # What still waits is a part short of a crowd (named or anonymous signatures, named or
    # anonymous withdrawals: each apart), and the count shown is the count less it.
    waiting = await service.db.read(lambda conn: public_log.waiting_parts(conn, [exact.id]))
    parts = waiting[exact.id]
    assert parts and all(0 < n < 3 for n in parts.values()), parts
    assert parts.get(Part.ANON_WITHDRAW) == 1 and parts.get(Part.NAMED_WITHDRAW) == 1
    unshown = sum(n if part.signs else -n for part, n in parts.items())
    assert watcher.seen[-1][1]["json"] == 28 - unshown


async def test_the_third_signature_after_a_quiet_window_waits_for_the_next_boundary(
    stepped: tuple[Service, Clock],
) -> None:
    service, clock = stepped
    await handlers.campaigns.create(
        service.ctx, ORG, cmd.Create("walkout", {"title": "Walk out", "goal": "40"}, "We refuse.")
    )
    people = [worker(n) for n in range(3)]
    await informed(service, *people)
    for n in range(2):
        await service.handle(people[n], "/sign", "walkout")
    clock.now = at(9, 40)  # two boundaries have passed with only two waiting
    assert await jobs.release_steps(service.ctx) == []
    await service.handle(people[2], "/sign", "walkout")
    status = await service.handle(ORG, "/petition", "status walkout")
    assert status.tally is not None and status.tally.count == 0  # not at the third's moment
    assert await jobs.release_steps(service.ctx) == []  # 9:40 is no boundary since 9:30
    clock.now = at(9, 45)
    assert len(await jobs.release_steps(service.ctx)) == 1
    status = await service.handle(ORG, "/petition", "status walkout")
    assert status.tally is not None and status.tally.count == 3


async def test_a_day_boundary_releases_whatever_gathered(stepped: tuple[Service, Clock]) -> None:
    service, clock = stepped
    await handlers.campaigns.create(
        service.ctx, ORG, cmd.Create("walkout", {"title": "Walk out", "goal": "40"}, "We refuse.")
    )
    alone = worker(1)
    await informed(service, alone)
    await service.handle(alone, "/sign", "walkout anonymous")
    clock.now = at(23, 45)
    assert await jobs.release_steps(service.ctx) == []
    clock.now = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)
    assert len(await jobs.release_steps(service.ctx)) == 1
    status = await service.handle(ORG, "/petition", "status walkout")
    assert status.tally is not None and status.tally.count == 1


async def test_a_withdrawal_is_stepped_too(stepped: tuple[Service, Clock]) -> None:
    service, clock = stepped
    await handlers.campaigns.create(
        service.ctx, ORG, cmd.Create("walkout", {"title": "Walk out", "goal": "40"}, "We refuse.")
    )
    people = [worker(n) for n in range(4)]
    await informed(service, *people)
    for p in people:
        await service.handle(p, "/sign", "walkout")
    clock.now = at(9, 15)
    await jobs.release_steps(service.ctx)
    clock.now = at(9, 20)
    reply = await service.handle(people[0], "/unsign", "walkout")
    assert "withdrawn" in reply.text
    clock.now = at(9, 30)
    await jobs.release_steps(service.ctx)
    status = await service.handle(ORG, "/petition", "status walkout")
    assert status.tally is not None and status.tally.count == 4  # one withdrawal: not a step


async def test_a_pledge_success_shows_with_the_step_that_shows_it_never_alone(
    stepped: tuple[Service, Clock],
) -> None:
    """An organizer may set the threshold one above the shown count: the pledge that
    reaches it must not be announced at the next boundary on its own (that timed it)."""
    service, clock = stepped
    values = {
        "title": "Walk out",
        "goal": "4",
        "kind": "pledge",
        "threshold": "4",
        "action": "walk out",
        "deadline": "2026-11-30",
    }
    made = await handlers.campaigns.create(
        service.ctx, ORG, cmd.Create("walkout", values, "We walk out if 4 of us do.")
    )
    assert not made.error, made.text
    await service.handle(ORG, "/petition", "webhook walkout add https://hooks.example.org/x")
    people = [worker(n) for n in range(4)]
    await informed(service, *people)
    for p in people[:3]:
        await service.handle(p, "/sign", "walkout anonymous")
    clock.now = at(9, 15)
    await jobs.release_steps(service.ctx)  # 3: a step
    clock.now = at(9, 17)
    last = await service.handle(people[3], "/sign", "walkout anonymous")
    assert "threshold of 4 is reached" in last.text  # the one who reached it is told at once
    for minute in range(30, 24 * 60, 15):  # every boundary of the day: one pledge is no crowd
        clock.now = START.replace(hour=0) + timedelta(minutes=minute)
        await jobs.release_steps(service.ctx)
        status = await service.handle(ORG, "/petition", "status walkout")
        assert "Succeeded" not in status.text and status.tally is not None
        assert status.tally.count == 3, clock.now
    posted = await fetch(service.db, select(OutboxRow.payload, OutboxRow.created_at))
    assert not any('"succeeded"' in p for p, _ in posted)  # nothing said before midnight
    midnight = datetime(2026, 11, 3, tzinfo=UTC)
    clock.now = midnight
    await jobs.release_steps(service.ctx)  # the day's end: everything, the success with it
    status = await service.handle(ORG, "/petition", "status walkout")
    assert "Succeeded" in status.text and status.tally is not None and status.tally.count == 4
    posted = await fetch(service.db, select(OutboxRow.payload, OutboxRow.created_at))
    said = [(json.loads(p), created) for p, created in posted if '"succeeded"' in p]
    assert said and all(created.replace(tzinfo=UTC) == midnight for _, created in said)
    hooks = [p["body"]["campaign"]["signatures"] for p, _ in said if "body" in p]
    assert hooks == [4]


async def test_safety_says_counts_move_in_batches(stepped: tuple[Service, Clock]) -> None:
    service, _ = stepped
    reply = await service.run(ORG, cmd.Safety())
    assert "in steps" in reply.text and "groups of at least 3" in reply.text
    assert "named and anonymous alike" in reply.text and "never shown" in reply.text


async def test_an_anonymous_pledger_learns_the_result_where_they_were_told(
    stepped: tuple[Service, Clock],
) -> None:
    """They were told: the channel, `/sign mine` and the page (nobody can message them)."""
    service, clock = stepped
    await pledge(service, 3, "We walk out if 3 of us do.")
    await service.handle(ORG, "/petition", "publish walkout")
    people = [worker(n) for n in range(3)]
    await informed(service, *people)
    first = await service.handle(people[0], "/sign", "walkout anonymous")
    assert "Nobody can message you" in first.text and "`/sign mine`" in first.text
    assert "told either way" not in first.text
    for p in people[1:]:
        await service.handle(p, "/sign", "walkout anonymous")
    mine = await service.handle(people[0], "/sign", "mine")
    assert "succeeded" not in mine.text  # not before the public learns it
    clock.now = at(9, 15)
    await jobs.release_steps(service.ctx)
    mine = await service.handle(people[0], "/sign", "mine")
    assert "The pledge succeeded." in mine.text
    posted = await fetch(service.db, select(OutboxRow.kind, OutboxRow.payload))
    assert all(kind != "dm" for kind, _ in posted)  # nobody to write to
    site = Site(service)
    await site.start()
    try:
        _, body, _ = await site.get("/c/walkout.json")
        assert json.loads(body)["outcome"] == "succeeded"
    finally:
        await site.stop()


async def test_the_first_signature_of_a_quiet_day_is_not_released_alone(
    stepped: tuple[Service, Clock],
) -> None:
    service, clock = stepped
    await handlers.campaigns.create(
        service.ctx, ORG, cmd.Create("walkout", {"title": "Walk out", "goal": "40"}, "We refuse.")
    )
    early = worker(1)
    await informed(service, early)
    clock.now = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)
    await jobs.release_steps(service.ctx)  # midnight, nothing waiting
    clock.now = datetime(2026, 11, 3, 9, 3, tzinfo=UTC)
    await service.handle(early, "/sign", "walkout anonymous")
    for minute in (15, 30, 45):
        clock.now = datetime(2026, 11, 3, 9, minute, tzinfo=UTC)
        assert await jobs.release_steps(service.ctx) == []  # a new day is no reason after midnight
    clock.now = datetime(2026, 11, 4, 0, 0, 30, tzinfo=UTC)
    assert len(await jobs.release_steps(service.ctx)) == 1  # the next midnight


async def test_edits_and_purges_say_only_the_shown_count(
    stepped: tuple[Service, Clock],
) -> None:
    service, clock = stepped
    await pledge(service, 40, "We walk out.")
    people = [worker(n) for n in range(5)]
    await informed(service, *people)
    for p in people[:3]:
        await service.handle(p, "/sign", "walkout anonymous")
    clock.now = at(9, 15)
    await jobs.release_steps(service.ctx)  # 3 shown
    for p in people[3:]:
        await service.handle(p, "/sign", "walkout anonymous")  # 2 more, not yet shown
    refused = await service.handle(ORG, "/petition", 'edit walkout action:"go home"')
    assert refused.error and "3 people pledged" in refused.text and "5" not in refused.text
    edited = await service.handle(ORG, "/petition", "edit walkout lang:de")
    assert edited.tally is not None and edited.tally.count == 3
    await service.handle(ORG, "/petition", "close walkout")
    purged = await service.handle(ORG, "/petition", "purge walkout")
    assert "3" in purged.text and "5" not in purged.text


async def test_closing_before_a_success_is_shown_never_says_failed(
    stepped: tuple[Service, Clock],
) -> None:
    service, clock = stepped
    await pledge(service, 4, "We walk out.")
    people = [worker(n) for n in range(4)]
    await informed(service, *people)
    for p in people:
        await service.handle(p, "/sign", "walkout")
    clock.now = at(9, 5)
    closed = await service.handle(ORG, "/petition", "close walkout")
    assert "failed" not in closed.text and "succeeded" not in closed.text  # not yet known
    assert "final count" in closed.text and "00:00" in closed.text
    posted = await fetch(service.db, select(OutboxRow.payload))
    assert not any('"failed"' in p or '"succeeded"' in p for (p,) in posted)
    clock.now = datetime(2026, 11, 3, tzinfo=UTC)
    await jobs.release_steps(service.ctx)  # the final step
    posted = await fetch(service.db, select(OutboxRow.payload))
    assert not any('"failed"' in p for (p,) in posted)
    assert any('"succeeded"' in p for (p,) in posted)


async def test_signing_and_withdrawing_again_does_not_reveal_an_unshown_success(
    stepped: tuple[Service, Clock],
) -> None:
    """A plant signs and withdraws every minute, reading their own reply."""
    service, clock = stepped
    await pledge(service, 4, "We walk out.")
    people = [worker(n) for n in range(4)]
    plant = worker(99)
    await informed(service, *people, plant)
    for p in people[:3]:
        await service.handle(p, "/sign", "walkout anonymous")
    clock.now = at(9, 15)
    await jobs.release_steps(service.ctx)  # 3 shown
    await service.handle(people[3], "/sign", "walkout anonymous")  # the threshold, unshown
    clock.now = at(9, 17)
    probe = await service.handle(plant, "/sign", "walkout anonymous")
    assert "counts only if" in probe.text and "reached" not in probe.text
