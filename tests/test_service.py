"""Use cases against a real database: SQLite file, and PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

from sqlalchemy import select

from bot import commands as cmd
from bot import handlers, jobs, views
from bot.domain.identity import Actor
from bot.service import Service
from storage import repository as repo
from storage.database import Tx
from storage.tables import CampaignRow, SignatureRow, TextVersionRow
from tests.conftest import Clock, exported, fetch, informed, person, stored_signatures

ALICE, BOB, CAROL = person("alice"), person("bob"), person("carol")


async def new_petition(service: Service, slug: str = "walkout", goal: int = 3, **opts: str) -> None:
    options = {"title": "Walk out", "goal": str(goal), "deadline": "2026-11-30", **opts}
    reply = await handlers.campaigns.create(
        service.ctx, ALICE, cmd.Create(slug, options, "We, the undersigned, refuse.")
    )
    assert not reply.error, reply.text


async def count(service: Service, slug: str = "walkout") -> int:
    def read(conn: Tx) -> int:
        campaign = repo.find_campaign(conn, slug)
        assert campaign is not None
        assert campaign.count == stored_signatures(conn, campaign.id)  # the kept count is true
        return campaign.count

    return await service.db.read(read)


async def test_sign_dedupes_and_withdraws(service: Service) -> None:
    await new_petition(service)
    first = await service.handle(BOB, "/sign", "walkout I'm in")
    assert not first.error and "you signed" in first.text
    again = await service.handle(BOB, "/sign", "walkout")
    assert "already signed" in again.text and "Mon, Nov 2, 2026" in again.text
    assert await count(service) == 1
    gone = await service.handle(BOB, "/unsign", "walkout")
    assert "withdrawn" in gone.text
    assert await count(service) == 0
    nothing = await service.handle(BOB, "/unsign", "walkout")
    assert nothing.error and "nothing to withdraw" in nothing.text


async def test_anonymous_signature_stores_no_identity_yet_dedupes(service: Service) -> None:
    await new_petition(service)
    reply = await service.handle(CAROL, "/sign", "walkout anonymous")
    assert "anonymously" in reply.text and "Carol" not in reply.text
    (row,) = await fetch(service.db, select(SignatureRow))
    assert row.anonymous and row.user_id is None and row.display_name is None
    assert row.platform is None and row.workspace is None
    assert row.signed_at.hour == 0 and row.signed_at.minute == 0  # day only
    # Signing again, anonymously or not, counts nothing.
    assert "already signed" in (await service.handle(CAROL, "/sign", "walkout")).text
    assert await count(service) == 1
    # The same person can still withdraw.
    assert "withdrawn" in (await service.handle(CAROL, "/unsign", "walkout")).text
    assert await count(service) == 0


async def test_recent_public_signers_exclude_anonymous(service: Service, clock: Clock) -> None:
    await new_petition(service, goal=10)
    await service.handle(ALICE, "/sign", "walkout")
    clock.advance(minutes=1)
    await service.handle(BOB, "/sign", "walkout anonymous")
    clock.advance(minutes=1)
    await service.handle(CAROL, "/sign", "walkout")
    reply = await service.handle(BOB, "/petition", "status walkout")
    assert reply.tally is not None and reply.tally.recent_public == ("Carol", "Alice")
    assert reply.tally.count == 3


async def test_slug_is_optional_only_when_one_campaign_is_open(service: Service) -> None:
    await new_petition(service, "one")
    assert not (await service.handle(BOB, "/sign", "")).error
    await new_petition(service, "two")
    reply = await service.handle(CAROL, "/sign", "")
    assert reply.error and "`one`" in reply.text and "`two`" in reply.text
    assert await count(service, "two") == 0


async def test_unknown_slug_lists_open_campaigns(service: Service) -> None:
    await new_petition(service)
    reply = await service.handle(BOB, "/sign", "walkuot")
    assert reply.error and "walkuot" in reply.text and "walkout" in reply.text
    assert reply.usage


async def test_deadline_closes_signing(service: Service, clock: Clock) -> None:
    await new_petition(service)
    await service.handle(BOB, "/sign", "walkout")
    clock.advance(days=30)
    late = await service.handle(CAROL, "/sign", "walkout")
    assert late.error and "The deadline of **Walk out** has passed" in late.text
    assert (await service.handle(BOB, "/unsign", "walkout")).error
    assert await count(service) == 1
    data = await views.status_data(service.ctx, "walkout")
    assert data["status"] == "closed" and data["signatures"] == 1


async def test_close_needs_an_organizer(service: Service) -> None:
    await new_petition(service)
    refused = await service.handle(BOB, "/petition", "close walkout")
    assert refused.error and "organizers" in refused.text
    closed = await service.handle(ALICE, "/petition", "close walkout")
    assert not closed.error and "Closed" in closed.text
    assert (await service.handle(BOB, "/sign", "walkout")).error
    assert (await views.status_data(service.ctx, "walkout"))["status"] == "closed"


async def test_pledge_succeeds_irreversibly_and_seals_names(service: Service) -> None:
    options = {
        "title": "Walkout pledge",
        "kind": "pledge",
        "threshold": "2",
        "action": "walk out",
        "deadline": "2026-11-20",
    }
    assert not (
        await handlers.campaigns.create(
            service.ctx, ALICE, cmd.Create("pledge", options, "If enough of us...")
        )
    ).error
    first = await service.handle(BOB, "/sign", "pledge")
    assert "counts only if 2 people pledge" in first.text
    status = await service.handle(CAROL, "/petition", "status pledge")
    assert status.tally is not None and status.tally.recent_public == ()
    assert "sealed" in status.text
    second = await service.handle(CAROL, "/sign", "pledge")
    assert "It's on" in second.text
    data = await views.status_data(service.ctx, "pledge")
    assert data["outcome"] == "succeeded" and data["succeeded_at"]
    await service.handle(CAROL, "/unsign", "pledge")
    after = await views.status_data(service.ctx, "pledge")
    assert after["signatures"] == 1 and after["outcome"] == "succeeded"
    assert after["recent_public_signers"] == ["Bob"]


async def test_pledge_fails_when_deadline_passes_short(service: Service, clock: Clock) -> None:
    options = {
        "title": "P",
        "kind": "pledge",
        "threshold": "5",
        "action": "strike",
        "deadline": "2026-11-10",
    }
    await handlers.campaigns.create(service.ctx, ALICE, cmd.Create("strike", options, "text"))
    await service.handle(BOB, "/sign", "strike")
    clock.advance(days=9)
    await jobs.sweep(service.ctx)  # the deadline closes it (the schedule runs this each minute)
    assert (await views.status_data(service.ctx, "strike"))["outcome"] == "failed"


async def test_edit_makes_versions_and_signatures_record_them(service: Service) -> None:
    await new_petition(service)
    await service.handle(BOB, "/sign", "walkout")
    edited = await service.handle(ALICE, "/petition", "edit walkout Version two of the letter.")
    assert "version 2" in edited.text
    same = await service.handle(ALICE, "/petition", "edit walkout Version two of the letter.")
    assert "Nothing changed" in same.text
    await service.handle(CAROL, "/sign", "walkout")
    versions = dict(
        await fetch(service.db, select(SignatureRow.display_name, SignatureRow.version))
    )
    texts = [r.version for r in await fetch(service.db, select(TextVersionRow.version))]
    assert versions == {"Bob": 1, "Carol": 2}
    assert sorted(texts) == [1, 2]
    read = await service.handle(BOB, "/petition", "read walkout")
    assert "Version two" in read.text and "version 2" in read.text
    assert (await service.handle(BOB, "/petition", "edit walkout hijack")).error


async def test_bad_input_is_refused_and_nothing_is_written(service: Service) -> None:
    cases = [
        ("new x title:T goal:3 text", "at least 2 characters"),
        ("new Bad_Slug title:T goal:3 text", "can't be a campaign name"),
        ("new ok-slug goal:3 letter", "title can't be empty"),
        ("new ok-slug title:T goal:0 letter", "at least 1"),
        ("new ok-slug title:T goal:lots letter", "whole number"),
        ("new ok-slug title:T goal:3 deadline:2020-01-01 letter", "already past"),
        ("new ok-slug title:T goal:3", "letter text can't be empty"),
        ('new ok-slug title:"bad\x07title" goal:3 letter', "control characters"),
        (
            "new ok-slug title:T kind:pledge threshold:3 deadline:2026-12-01 letter",
            "needs an action",
        ),
    ]
    for args, expected in cases:
        reply = await service.handle(ALICE, "/petition", args)
        assert reply.error and expected in reply.text, (args, reply.text)
        assert reply.usage
    assert await fetch(service.db, select(CampaignRow)) == []
    await new_petition(service)
    long = await service.handle(BOB, "/sign", "walkout " + "x" * 501)
    assert long.error and "limit is 500" in long.text
    assert await count(service) == 0
    dup = await service.handle(BOB, "/petition", "new walkout title:T goal:3 text")
    assert dup.error and "already a campaign" in dup.text


async def test_petition_goal_reached_is_celebrated(service: Service) -> None:
    await new_petition(service, goal=1)
    assert "goal is reached" in (await service.handle(BOB, "/sign", "walkout")).text


async def test_same_signer_on_two_platforms_counts_twice_but_each_once(service: Service) -> None:
    await new_petition(service)
    slack_bob = Actor("slack", "T1", "U-bob", "Bob")
    await informed(service, slack_bob)
    await service.handle(slack_bob, "/sign", "walkout")
    await service.handle(BOB, "/sign", "walkout")
    await service.handle(slack_bob, "/sign", "walkout")
    assert await count(service) == 2


async def test_recount_finds_and_corrects_drift(service: Service) -> None:
    await new_petition(service)
    await service.handle(BOB, "/sign", "walkout")
    await service.handle(CAROL, "/sign", "walkout")
    assert await jobs.recount(service.ctx) == []

    def corrupt(conn: Tx) -> None:
        conn.execute(
            CampaignRow.__table__.update().values(signature_count=7)  # type: ignore[attr-defined]
        )

    await service.db.write(corrupt)
    assert await jobs.recount(service.ctx) == [("walkout", 7, 2)]
    assert await count(service) == 2


async def test_pace_comes_from_kept_daily_counts(service: Service, clock: Clock) -> None:
    options = {"title": "Paced", "goal": "100", "deadline": "2026-11-19T09:00Z"}
    await handlers.campaigns.create(service.ctx, ALICE, cmd.Create("paced", options, "Letter"))
    for day in range(7):
        for n in range(2):
            await service.handle(person(f"d{day}n{n}"), "/sign", "paced")
        clock.advance(days=1)
    data = await views.status_data(service.ctx, "paced")
    assert data["signatures"] == 14
    assert data["per_day"] == 2.0
    assert data["projected"] == 14 + 2 * 10  # ten days left at two a day
    assert data["needed_per_day"] == 9  # 86 more in ten days
    reply = await service.handle(BOB, "/petition", "status paced")
    assert "At this pace about 34 by Thu, Nov 19; reaching 100 takes 9 a day." in reply.text


async def test_status_is_reused_until_a_write_or_the_clock_moves(
    service: Service, clock: Clock
) -> None:
    await new_petition(service)
    first = await handlers.reading.cached_status(service.ctx, "walkout")
    assert (
        await handlers.reading.cached_status(service.ctx, "walkout") is first
    )  # nothing changed: the same answer
    await service.handle(BOB, "/sign", "walkout")
    signed = await handlers.reading.cached_status(service.ctx, "walkout")
    assert signed is not first and signed.tally is not None and signed.tally.count == 1
    clock.advance(days=400)  # past the deadline, with no write at all
    closed = await handlers.reading.cached_status(service.ctx, "walkout")
    assert "Closed" in closed.text and not closed.actions


async def test_the_sentences_an_organizer_meets_say_what_happened(service: Service) -> None:
    """A space in a name is named as the problem; a pledge's threshold is called that in the
    reply and the audit log; a text edit says its version once; a goal below the count is
    refused with the public count; names sort as people expect (w2 before w10)."""
    spaced = await service.handle(ALICE, "/petition", 'new bad slug title:"Foo" goal:10 Text')
    assert spaced.error and "`bad-slug` rather than `bad slug`" in spaced.text, spaced.text
    deadline = "2026-11-30"
    made = await service.handle(
        ALICE,
        "/petition",
        f'new strike kind:pledge threshold:5 action:"strike" deadline:{deadline} '
        'title:"Strike" We strike.',
    )
    assert not made.error, made.text
    raised = await service.handle(ALICE, "/petition", "edit strike threshold:8")
    assert "threshold" in raised.text and "goal" not in raised.text, raised.text
    audit = await service.handle(ALICE, "/petition", "audit strike")
    assert "edit (threshold" in audit.text and "edit (goal" not in audit.text, audit.text

    await new_petition(service, "letter", goal=10)
    names = ["w10", "w2", "W1", "Émile", "emma"]
    people = [Actor("console", "T", n, n) for n in names]
    await informed(service, *people)
    for who in people:
        await service.handle(who, "/sign", "letter")
    edited = await service.handle(ALICE, "/petition", "edit letter A new text.")
    assert edited.text.count("version 2") == 1, edited.text
    lowered = await service.handle(ALICE, "/petition", "edit letter goal:2")
    assert lowered.error and "can't be lower than the 5 already counted" in lowered.text
    export = await exported(service.ctx, ALICE, "letter", "md")
    listed = [line.split("**")[1] for line in export.splitlines() if line.startswith("- **")]
    assert listed == ["Émile", "emma", "W1", "w2", "w10"], listed
    help_text = (await service.handle(BOB, "/petition", "help")).text
    assert "after close:" not in help_text
