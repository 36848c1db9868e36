"""The steps' edges, tried as an organizer, signers, a plant and a watcher would (issue 36).

Each attack here was reproduced black-box against the earlier rule (one step of everything,
released at a close, at a deadline, or when signatures and withdrawals each reached 3): every
test fails there. The rule they hold is in bot/domain/steps.py; docs/security.md and
SECURITY.md say it.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import commands as cmd
from bot import handlers, jobs, views
from bot.domain.identity import Actor, SignerKey
from bot.domain.public_log import read_receipt, receipt_leaf
from bot.domain.steps import StepRule
from bot.service import Service
from storage import public_log
from storage import repository as repo
from storage.database import Database
from tests.conftest import Clock, informed, person
from tests.web_site import Site

ORG = person("o")
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MIDNIGHT = datetime(2026, 11, 3, tzinfo=UTC)
MINUTE = StepRule(window=timedelta(minutes=1))  # as the adversarial pass ran it


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return START.replace(hour=hour, minute=minute, second=second)


def worker(name: str) -> Actor:
    return Actor("slack", "TACME", f"U{name.upper()}", name)


async def public_count(service: Service, slug: str) -> int:
    campaign = await service.db.read(lambda conn: repo.find_campaign(conn, slug))
    assert campaign is not None
    return campaign.public(service.clock()).count


async def log_head(site: Site, slug: str) -> dict[str, object]:
    _, body, _ = await site.get(f"/c/{slug}/log.json")
    return json.loads(body)


async def tick(service: Service, clock: Clock, when: datetime) -> None:
    clock.now = when
    await jobs.release_steps(service.ctx)


async def petition(service: Service, slug: str, goal: int, names: str = "public") -> None:
    values = {"title": "P", "goal": str(goal), "names": names}
    made = await handlers.campaigns.create(service.ctx, ORG, cmd.Create(slug, values, "We ask."))
    assert not made.error, made.text


def csv_names(reply_attachment: tuple[str, str] | None) -> list[str]:
    assert reply_attachment is not None
    rows = list(csv.DictReader(io.StringIO(reply_attachment[1])))
    return sorted(row["name"] for row in rows)


# ---- 1. close, export, purge ----------------------------------------------------------------


async def test_closing_exports_every_name_after_the_final_step_and_purge_waits_for_it(
    db: Database, key: SignerKey
) -> None:
    """The issue's reproduction: a, b named, c anonymous, close, export, purge, `/sign mine`."""
    clock = Clock(at(16, 7))
    service = Service(db, key, clock=clock, steps=StepRule())
    a, b, c = worker("a"), worker("b"), worker("c")
    await informed(service, a, b, c)
    await petition(service, "pp", 5)
    await service.handle(a, "/sign", "pp")
    await service.handle(b, "/sign", "pp")
    await service.handle(c, "/sign", "pp anonymous")
    closed = await service.handle(ORG, "/petition", "close pp")
    assert "final count" in closed.text and "00:00" in closed.text, closed.text
    early = await service.handle(ORG, "/petition", "export pp csv")
    assert csv_names(early.attachment) == []  # nothing was shown yet: nothing to list
    assert "not the final list" in early.text and "00:00" in early.text
    refused = await service.handle(ORG, "/petition", "purge pp")
    assert refused.error and "00:00" in refused.text, refused.text
    mine = await service.handle(a, "/sign", "mine")
    assert "`pp`" in mine.text  # nothing was destroyed
    for minute in (15, 30, 45):  # boundaries after the close release nothing of it
        await tick(service, clock, at(16, minute))
        assert await public_count(service, "pp") == 0
    await tick(service, clock, MIDNIGHT)  # the final step
    assert await public_count(service, "pp") == 3
    final = await service.handle(ORG, "/petition", "export pp csv")
    assert csv_names(final.attachment) == ["a", "b"]
    assert "not the final list" not in final.text
    purged = await service.handle(ORG, "/petition", "purge pp")
    assert not purged.error and "2 signatures now carry no name" in purged.text, purged.text
    mine = await service.handle(a, "/sign", "mine")
    assert "`pp`" not in mine.text  # purged after it could be exported: as promised


async def test_no_name_is_purged_that_no_export_could_have_shown(
    db: Database, key: SignerKey
) -> None:
    """Auto-purge too waits for the final step; what it removes, the last export listed."""
    clock = Clock(at(16, 7))
    service = Service(db, key, clock=clock, steps=StepRule())
    service.ctx.purge_after_days = 0
    people = [worker(n) for n in "abcd"]
    await informed(service, *people)
    await petition(service, "pp", 5)
    for p in people:
        await service.handle(p, "/sign", "pp")
    await service.handle(ORG, "/petition", "close pp")
    clock.now = at(16, 8)
    assert await jobs.auto_purge(service.ctx) == []  # not before the final step
    await tick(service, clock, MIDNIGHT)
    exported = csv_names((await service.handle(ORG, "/petition", "export pp csv")).attachment)
    assert exported == ["a", "b", "c", "d"]
    assert await jobs.auto_purge(service.ctx) == ["pp"]


# ---- 2. the five attacks --------------------------------------------------------------------


async def test_a_plant_signing_and_withdrawing_fills_no_crowd(db: Database, key: SignerKey) -> None:
    """One account signs and withdraws three times while one colleague signs anonymously:
    the count stays, the log shows nothing, until midnight shows the colleague alone."""
    clock = Clock(at(9, 0, 10))
    service = Service(db, key, clock=clock, steps=MINUTE)
    plant, colleague = worker("plant"), worker("colleague")
    await informed(service, plant, colleague)
    await petition(service, "pp", 50)
    await service.handle(ORG, "/petition", "publish pp")
    site = Site(service)
    await site.start()
    try:
        await service.handle(colleague, "/sign", "pp anonymous")
        for _ in range(3):
            await service.handle(plant, "/sign", "pp")
            await service.handle(plant, "/unsign", "pp")
        for minute in range(1, 30):
            await tick(service, clock, at(9, minute))
            assert await public_count(service, "pp") == 0
            head = await log_head(site, "pp")
            assert head["tree_size"] == 0, head
        await tick(service, clock, MIDNIGHT)
        head = await log_head(site, "pp")
        assert (head["signatures"], head["withdrawals"]) == (1, 0)  # the plant left nothing
        assert await public_count(service, "pp") == 1
    finally:
        await site.stop()


async def three_shown_and_a_goal_of_four(
    db: Database, key: SignerKey
) -> tuple[Service, Clock, Actor]:
    """Three signatures shown at 9:01; the organizer lowers the goal to one more; the one
    person who will sign next, returned."""
    clock = Clock(at(9, 0, 10))
    service = Service(db, key, clock=clock, steps=MINUTE)
    crowd = [worker(n) for n in "abc"]
    lone = worker("lone")
    await informed(service, *crowd, lone)
    await petition(service, "pp", 50)
    for p in crowd:
        await service.handle(p, "/sign", "pp")
    await tick(service, clock, at(9, 1))
    assert await public_count(service, "pp") == 3
    await service.handle(ORG, "/petition", "edit pp goal:4")
    return service, clock, lone


async def test_closing_mid_window_releases_nothing(db: Database, key: SignerKey) -> None:
    """The organizer lowers the goal to the shown count plus one, one person signs, the
    organizer closes mid-window: the count must not move at the close or its boundary."""
    service, clock, lone = await three_shown_and_a_goal_of_four(db, key)
    clock.now = at(9, 1, 20)
    await service.handle(lone, "/sign", "pp anonymous")
    clock.now = at(9, 1, 40)
    closed = await service.handle(ORG, "/petition", "close pp")
    assert closed.tally is not None and closed.tally.count == 3
    assert "reached" not in closed.text
    for minute in range(2, 60):
        await tick(service, clock, at(9, minute))
        assert await public_count(service, "pp") == 3
    await tick(service, clock, MIDNIGHT)
    assert await public_count(service, "pp") == 4


async def test_moving_the_deadline_a_minute_ahead_releases_nothing(
    db: Database, key: SignerKey
) -> None:
    service, clock, lone = await three_shown_and_a_goal_of_four(db, key)
    clock.now = at(9, 1, 5)
    edited = await service.handle(ORG, "/petition", "edit pp deadline:2026-11-02T09:02Z")
    assert not edited.error, edited.text
    clock.now = at(9, 1, 30)
    await service.handle(lone, "/sign", "pp anonymous")
    for minute in range(2, 30):
        clock.now = at(9, minute)
        await jobs.sweep(service.ctx)  # the deadline closes it
        await jobs.release_steps(service.ctx)
        assert await public_count(service, "pp") == 3
        status = await service.handle(ORG, "/petition", "status pp")
        assert "reached" not in status.text.lower().replace("not reached", "")
    await tick(service, clock, MIDNIGHT)
    assert await public_count(service, "pp") == 4


async def test_named_signers_never_isolate_an_anonymous_one(db: Database, key: SignerKey) -> None:
    """Three named and one anonymous in a window: the names go, the anonymous one waits
    for its own crowd (the page's "and N more who signed anonymously" does not move)."""
    clock = Clock(at(9, 0, 10))
    service = Service(db, key, clock=clock, steps=MINUTE)
    named = [worker(n) for n in "abc"]
    anonymous = worker("d")
    await informed(service, *named, anonymous)
    await petition(service, "pp", 50)
    await service.handle(ORG, "/petition", "publish pp")
    for p in named:
        await service.handle(p, "/sign", "pp")
    await service.handle(anonymous, "/sign", "pp anonymous")
    await tick(service, clock, at(9, 1))
    site = Site(service)
    await site.start()
    try:
        _, body, _ = await site.get("/c/pp.json")
        facts = json.loads(body)
        assert facts["signatures"] == 3, facts  # the names' crowd, not the lone anonymous one
        _, page, _ = await site.get("/c/pp")
        assert b"anonymously" not in page
        campaign = await service.db.read(lambda conn: repo.find_campaign(conn, "pp"))
        assert campaign is not None and campaign.shown_named == 3
    finally:
        await site.stop()


async def test_with_no_window_a_plant_cannot_flush_a_lone_colleague(
    db: Database, key: SignerKey
) -> None:
    clock = Clock(at(9, 0, 10))
    service = Service(db, key, clock=clock, steps=StepRule(window=timedelta(0)))
    plant, colleague = worker("plant"), worker("colleague")
    await informed(service, plant, colleague)
    await petition(service, "pp", 50)
    await service.handle(colleague, "/sign", "pp anonymous")
    clock.now = at(9, 0, 20)
    await service.handle(plant, "/sign", "pp")
    clock.now = at(9, 0, 30)
    await service.handle(plant, "/unsign", "pp")
    assert await public_count(service, "pp") == 0
    await tick(service, clock, at(12))
    assert await public_count(service, "pp") == 0
    await tick(service, clock, MIDNIGHT)
    assert await public_count(service, "pp") == 1


# ---- 3. neither freeze nor flush, as a property -----------------------------------------------

EXAMPLES = itertools.count()
PEOPLE = ["plant", "h1", "h2", "h3", "h4", "h5", "h6"]
action = st.tuples(st.sampled_from(PEOPLE), st.sampled_from(["sign", "anon", "unsign"]))
windows = st.lists(st.lists(action, max_size=12), min_size=1, max_size=5)


async def _play(db: Database, key: SignerKey, slug: str, plan: list[list[tuple[str, str]]]) -> None:
    rule = StepRule()
    clock = Clock(START)
    service = Service(db, key, clock=clock, steps=rule)
    actors = {name: Actor("slack", "TACME", f"U{slug}{name}", name) for name in PEOPLE}
    await informed(service, *actors.values())
    await petition(service, slug, 1000)
    campaign_id = await handlers.common.campaign_id(service.ctx, slug, "")
    leaves: dict[bytes, tuple[str, bool]] = {}  # a receipt's leaf: whose, anonymous or not
    signed: dict[str, bool] = {}  # has a live signature
    for w, moves in enumerate(plan):
        for i, (who, what) in enumerate(moves):
            clock.now = START + timedelta(minutes=15 * w, seconds=10 + 3 * i)
            if what == "unsign":
                if signed.get(who):
                    await service.handle(actors[who], "/unsign", slug)
                    signed[who] = False
                continue
            if signed.get(who):
                continue
            args = f"{slug} anonymous" if what == "anon" else slug
            reply = await service.handle(actors[who], "/sign", args)
            assert not reply.error, reply.text
            receipt = next(r for r in map(read_receipt, reply.text.split("`")) if r)
            leaves[receipt_leaf(slug, receipt)] = (who, what == "anon")
            signed[who] = True
        before = await service.db.read(lambda conn: public_log.head(conn, campaign_id, slug))
        size = before.tree_size if before else 0
        clock.now = START + timedelta(minutes=15 * (w + 1))
        await jobs.release_steps(service.ctx)
        waiting = await service.db.read(lambda conn: public_log.waiting_parts(conn, [campaign_id]))
        # No freeze: after a boundary no part holds a crowd (one account held nothing back).
        assert all(n < rule.batch for n in waiting[campaign_id].values()), waiting
        step = await service.db.read(
            lambda conn, first=size: public_log.entries(conn, campaign_id, first, 10**6)
        )
        signs = [leaves[e.leaf] for e in step if e.kind.value == "sign"]
        # No flush: no part of a step releases one honest signer next to the plant alone.
        for anonymous in (True, False):
            honest = [who for who, anon in signs if anon is anonymous and who != "plant"]
            assert len(honest) != 1, (w, signs)
        withdrawals = len(step) - len(signs)
        assert withdrawals == 0 or withdrawals >= rule.batch, (w, withdrawals)


@pytest.fixture
def sqlite_file(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'steps.db'}"

    async def migrate() -> None:
        db = Database(url)
        await db.migrate()
        await db.close()

    asyncio.run(migrate())
    return url


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=windows)
def test_one_account_neither_freezes_the_count_nor_flushes_a_colleague(
    sqlite_file: str, plan: list[list[tuple[str, str]]]
) -> None:
    n = next(EXAMPLES)  # a campaign per example, in one database

    async def run() -> None:
        db = Database(sqlite_file)
        try:
            await _play(db, SignerKey(b"test-secret-key"), f"p{n}", plan)
        finally:
            await db.close()

    asyncio.run(run())


# ---- 4. say what is happening ------------------------------------------------------------------


async def test_every_count_says_it_moves_in_steps_and_when(db: Database, key: SignerKey) -> None:
    clock = Clock(at(16, 7))
    service = Service(db, key, clock=clock, steps=StepRule())
    people = [worker(n) for n in "abc"]
    await informed(service, *people)
    await petition(service, "pp", 5)
    await service.handle(ORG, "/petition", "publish pp")
    replies = [await service.handle(p, "/sign", "pp") for p in people]
    for reply in replies:  # each of three signers in a row: counted, and when the count moves
        assert "You are counted" in reply.text and "next at 16:15" in reply.text, reply.text
        assert reply.tally is not None and reply.tally.count == 0  # the public count, never +1
    status = await service.handle(ORG, "/petition", "status pp")  # an organizer: maybe a plant
    assert status.tally is not None and status.tally.count == 0  # nothing finer than the public
    assert "next at 16:15" in status.text and "midnight at the latest" in status.text
    assert "every 15 minutes" in (status.tally.steps_text() or "")
    listed = await service.handle(ORG, "/petition", "list")
    assert "in steps" in listed.text
    campaign_id = await handlers.common.campaign_id(service.ctx, "pp", "")
    announced = await views.announcement(service.ctx, campaign_id)
    assert announced.tally is not None and "counted in steps" in announced.tally.notes()
    exported = await service.handle(ORG, "/petition", "export pp md")
    assert "next at 16:15" in exported.text
    site = Site(service)
    await site.start()
    try:
        _, page, _ = await site.get("/c/pp")
        assert b"Counted in steps: every 15 minutes" in page
        await service.handle(ORG, "/petition", "close pp")
        clock.advance(seconds=1)  # pages are read once a second
        _, page, _ = await site.get("/c/pp")
        assert b"Final count at" in page and b"00:00" in page
    finally:
        await site.stop()
    closed = await service.handle(ORG, "/petition", "status pp")
    assert closed.tally is not None and "final count at" in closed.tally.notes()
    await tick(service, clock, MIDNIGHT)
    final = await service.handle(ORG, "/petition", "status pp")
    assert "This is the final count" in final.text and final.tally is not None
    assert final.tally.count == 3 and final.tally.steps_text() is None


async def test_one_withdrawal_never_holds_the_count_back(db: Database, key: SignerKey) -> None:
    """Earlier, one account's withdrawal froze the count for everyone until two more people
    withdrew or the day ended."""
    clock = Clock(at(9, 0, 10))
    service = Service(db, key, clock=clock, steps=StepRule())
    plant = worker("plant")
    crowd = [worker(n) for n in "abcd"]
    await informed(service, plant, *crowd)
    await petition(service, "pp", 50)
    for p in [plant, *crowd[:2]]:
        await service.handle(p, "/sign", "pp")
    await tick(service, clock, at(9, 15))
    assert await public_count(service, "pp") == 3
    clock.now = at(9, 16)
    await service.handle(plant, "/unsign", "pp")  # one withdrawal: it waits for its own crowd
    for p in [plant, *crowd[2:]]:
        await service.handle(p, "/sign", "pp")  # three signatures: a crowd of their own
    await tick(service, clock, at(9, 30))
    assert await public_count(service, "pp") == 6  # moved at the next window, not at midnight


async def test_a_named_withdrawal_is_never_counted_as_an_anonymous_signer(
    db: Database, key: SignerKey
) -> None:
    """The name leaves the export at once (as promised); the count follows with its step,
    and meanwhile the export must not say somebody signed anonymously."""
    clock = Clock(at(9, 0, 10))
    service = Service(db, key, clock=clock, steps=StepRule())
    people = [worker(n) for n in "abcd"]
    await informed(service, *people)
    await petition(service, "pp", 50)
    for p in people:
        await service.handle(p, "/sign", "pp")
    await tick(service, clock, at(9, 15))
    clock.now = at(9, 16)
    await service.handle(people[0], "/unsign", "pp")
    exported = await service.handle(ORG, "/petition", "export pp csv")
    assert csv_names(exported.attachment) == ["b", "c", "d"]
    assert "anonymously" not in exported.text, exported.text


# ---- databases of earlier releases: their final steps ------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "upgrades"


@pytest.mark.parametrize("label", ["r0012-09e0860", "r0013-fa1b4b2", "r0014-d9b751e"])
async def test_an_upgraded_database_reaches_its_final_steps_with_every_name(
    label: str, tmp_path: Path
) -> None:
    """Entries that waited before 0017 have no part: the next midnight releases them; a
    closed campaign gets its final step, and its purge reports the names its export held."""
    import shutil

    shutil.copy(FIXTURES / f"{label}.db", tmp_path / "old.db")
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    await db.migrate()
    try:
        clock = Clock(datetime(2026, 12, 7, 23, 0, 30, tzinfo=UTC))
        service = Service(db, SignerKey(b"any"), clock=clock, steps=StepRule())
        await tick(service, clock, datetime(2026, 12, 8, tzinfo=UTC))  # the next midnight
        for slug in ("delivered", "open-letter", "walkout"):
            campaign = await db.read(lambda conn, s=slug: repo.find_campaign(conn, s))
            assert campaign is not None
            assert campaign.shown_count == campaign.count, slug  # nothing waits after midnight
        delivered = await db.read(lambda conn: repo.find_campaign(conn, "delivered"))
        assert delivered is not None and delivered.final_at is not None
        operator = Actor("console", "local", "operator", "operator", operator=True)
        exported = await service.handle(operator, "/petition", "export delivered csv")
        names = csv_names(exported.attachment)
        assert names == ["bob", "carol"], names
        purged = await service.handle(operator, "/petition", "purge delivered")
        assert f"{len(names)} signatures now carry no name" in purged.text, purged.text
    finally:
        await db.close()
