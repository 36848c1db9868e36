"""Signer safety and organizer powers, against the real database(s)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot import commands as cmd
from bot import handlers, jobs, views
from bot.domain.identity import Actor, SignerKey
from bot.domain.permissions import CreatorPolicy, RateLimiter
from bot.service import Service
from storage.database import Database
from storage.tables import SignatureRow
from tests.conftest import Clock, exported, fetch, person

ORG, BOB, CAROL, DAVE = person("org"), person("bob"), person("carol"), person("dave")


async def petition(service: Service, slug: str = "letter", goal: int = 3, **opts: str) -> None:
    options = {"title": f"Letter {slug}", "goal": str(goal), "deadline": "2026-11-30", **opts}
    reply = await handlers.campaigns.create(
        service.ctx, ORG, cmd.Create(slug, options, "We, the undersigned.")
    )
    assert not reply.error, reply.text


async def test_organizers_can_be_added_and_removed_and_are_audited(service: Service) -> None:
    await petition(service)
    refused = await service.handle(BOB, "/petition", "organizers letter add U-bob")
    assert refused.error and "Only the organizers" in refused.text and "Ask" in refused.text
    added = await service.handle(ORG, "/petition", "organizers letter add console:T1:U-bob")
    assert "is now an organizer" in added.text
    assert not (await service.handle(BOB, "/petition", 'edit letter title:"Better"')).error
    listing = await service.handle(DAVE, "/petition", "organizers letter")
    assert "console:T1:U-bob" in listing.text
    assert (
        "no longer"
        in (
            await service.handle(BOB, "/petition", "organizers letter remove console:T1:U-org")
        ).text
    )
    audit = await service.handle(BOB, "/petition", "audit letter")
    for action in ("create", "organizer add", "edit", "organizer remove"):
        assert action in audit.text
    assert (await service.handle(DAVE, "/petition", "audit letter")).error
    last = await service.handle(BOB, "/petition", "organizers letter remove console:T1:U-bob")
    assert last.error and "at least one organizer" in last.text


async def test_only_listed_people_may_create(db: Database, key: SignerKey, clock: Clock) -> None:
    policy = CreatorPolicy.parse("U-org, discord-role:777")
    service = Service(db, key, clock=clock, creators=policy)
    refused = await service.handle(BOB, "/petition", "new nope title:T goal:3 text")
    assert refused.error and "limited" in refused.text and "Ask one of them" in refused.text
    assert not (await service.handle(ORG, "/petition", "new yes title:T goal:3 text")).error
    member = Actor("discord", "G1", "42", "Role holder", groups=frozenset({"discord-role:777"}))
    assert not (await service.handle(member, "/petition", "new role title:T goal:3 text")).error
    assert policy.groups_for("discord") == {"discord-role:777"}


async def test_sealed_names_hidden_until_goal_then_shown(service: Service) -> None:
    await petition(service, "sealed", goal=2, names="sealed")
    await service.handle(BOB, "/sign", "sealed")
    status = await service.handle(ORG, "/petition", "status sealed")
    assert status.tally is not None and status.tally.recent_public == ()
    export = await exported(service.ctx, ORG, "sealed", "csv")
    assert "Bob" not in export and export.count("\n") == 1  # the header, no row
    said = await service.handle(ORG, "/petition", "export sealed csv")
    assert "withheld" in said.text and said.attachment is not None
    await service.handle(CAROL, "/sign", "sealed")
    status = await service.handle(ORG, "/petition", "status sealed")
    assert status.tally is not None and set(status.tally.recent_public) == {"Bob", "Carol"}


async def test_count_only_never_names_in_chat_but_exports_do(service: Service) -> None:
    await petition(service, "quiet", names="count-only")
    await service.handle(BOB, "/sign", "quiet")
    await service.handle(CAROL, "/sign", "quiet anonymous")
    status = await service.handle(ORG, "/petition", "status quiet")
    assert (
        "Bob" not in status.text and status.tally is not None and status.tally.recent_public == ()
    )
    md = await exported(service.ctx, ORG, "quiet", "md")
    assert "**Bob**" in md and "Carol" not in md and "1 person who signed anonymously" in md


async def test_exports_neutralise_formulas_and_escape_html(service: Service) -> None:
    await petition(service, "exp", goal=10)
    evil = Actor("console", "T1", "U-evil", '=HYPERLINK("http://x")')
    await service.handle(
        evil, "/sign", "exp role:\"+cmd|' /C calc'!A0\" @SUM(1) <script>x</script>"
    )
    await service.handle(CAROL, "/sign", "exp anonymous")
    rows = list(csv.reader(io.StringIO(await exported(service.ctx, ORG, "exp", "csv"))))
    assert rows[0] == ["name", "account", "role", "comment", "signed_at", "text_version"]
    name, account, role, comment = rows[1][:4]
    assert account == "console:U-evil"  # who signed, whatever name they chose
    assert name.startswith("'=") and role.startswith("'+") and comment.startswith("'@")
    assert len(rows) == 2  # the header and one row per named signer: no counting row
    reply_text = (await service.handle(ORG, "/petition", "export exp csv")).text
    assert "1 person who signed anonymously" in reply_text
    page = await exported(service.ctx, ORG, "exp", "html")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert (await service.handle(BOB, "/petition", "export exp")).error
    reply = await service.handle(ORG, "/petition", "export exp csv")
    assert reply.attachment is not None and reply.attachment[0] == "exp.csv"


async def test_sign_mine_and_forget_me(service: Service) -> None:
    await petition(service, "one", goal=10)
    await petition(service, "two", goal=10)
    await service.handle(BOB, "/sign", "one")
    await service.handle(BOB, "/sign", "two anonymous")
    await service.handle(CAROL, "/sign", "one")
    mine = await service.handle(BOB, "/sign", "mine")
    assert "`one`" in mine.text and "publicly as Bob" in mine.text
    assert "`two`" in mine.text and "anonymously" in mine.text
    ask = await service.handle(BOB, "/forget-me", "")
    assert "all 2 of your signatures" in ask.text and "/forget-me confirm" in ask.text
    assert (await views.status_data(service.ctx, "one"))["signatures"] == 2  # nothing yet
    done = await service.handle(BOB, "/forget-me", "confirm")
    assert "2 signatures deleted" in done.text
    assert (await views.status_data(service.ctx, "one"))["signatures"] == 1
    assert (await views.status_data(service.ctx, "two"))["signatures"] == 0
    assert "haven't signed" in (await service.handle(BOB, "/sign", "mine")).text


async def test_purge_after_close_keeps_counts_and_drops_identities(
    service: Service, clock: Clock
) -> None:
    await petition(service, "done", goal=10)
    await service.handle(BOB, "/sign", "done")
    await service.handle(CAROL, "/sign", "done anonymous")
    early = await service.handle(ORG, "/petition", "purge done")
    assert early.error and "still open" in early.text
    await service.handle(ORG, "/petition", "close done")
    purged = await service.handle(ORG, "/petition", "purge done")
    assert "1 signature now carries no name" in purged.text  # Bob's; Carol's never had one
    rows = await fetch(service.db, select(SignatureRow))
    assert all(r.user_id is None and r.display_name is None and r.anonymous for r in rows)
    assert {r.signer_hash for r in rows} == {r.id for r in rows}
    assert (await views.status_data(service.ctx, "done"))["signatures"] == 2
    assert "withheld" in await exported(service.ctx, ORG, "done", "md")
    assert "haven't signed" in (await service.handle(BOB, "/sign", "mine")).text


async def test_automatic_purge_some_days_after_close(
    db: Database, key: SignerKey, clock: Clock
) -> None:
    service = Service(db, key, clock=clock, purge_after_days=30)
    await petition(service, "auto", goal=10)
    await service.handle(BOB, "/sign", "auto")
    await service.handle(ORG, "/petition", "close auto")
    clock.now = (clock.now + timedelta(days=1)).replace(hour=0, minute=0)
    await jobs.release_steps(service.ctx)  # the final step: every name could be exported
    clock.advance(days=28)
    assert await jobs.auto_purge(service.ctx) == []
    clock.advance(days=2)
    assert await jobs.auto_purge(service.ctx) == ["auto"]
    assert await jobs.auto_purge(service.ctx) == []


async def test_rate_limit_says_slow_down(db: Database, key: SignerKey, clock: Clock) -> None:
    ticks = [0.0]
    limiter = RateLimiter(5, 60, clock=lambda: ticks[0])
    service = Service(db, key, clock=clock, rate_limit=limiter)
    for _ in range(5):
        assert not (await service.handle(BOB, "/petition", "help")).error
    slow = await service.handle(BOB, "/petition", "help")
    assert slow.error and "Slow down" in slow.text and "60 seconds" in slow.text
    assert not (await service.handle(CAROL, "/petition", "help")).error  # per person
    ticks[0] = 61
    assert not (await service.handle(BOB, "/petition", "help")).error


async def test_raw_database_after_purge_holds_no_identity(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'raw.db'}")
    await db.migrate()
    service = Service(db, SignerKey(b"k"))
    await handlers.campaigns.create(
        service.ctx, ORG, cmd.Create("gone", {"title": "T", "goal": "5"}, "Letter")
    )
    public = Actor("slack", "TSECRET77", "UPUBLIC99", "Pat Public")
    await service.handle(public, "/sign", "gone")
    await service.handle(ORG, "/petition", "close gone")
    await service.handle(ORG, "/petition", "purge gone")
    await db.close()
    import sqlite3

    conn = sqlite3.connect(tmp_path / "raw.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    conn.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("raw.db"))
    assert b"gone" in raw
    for needle in (b"UPUBLIC99", b"Pat Public"):
        assert needle not in raw


async def test_a_whole_workspace_may_be_named_as_creators(
    db: Database, key: SignerKey, clock: Clock
) -> None:
    """With one deployment serving a coalition, the committee's workspace creates; the
    others sign."""
    service = Service(db, key, clock=clock, creators=CreatorPolicy.parse("slack-team:TCOMMITTEE"))
    inside = Actor("slack", "TCOMMITTEE", "U1", "Member")
    outside = Actor("slack", "TOTHER", "U1", "Same id, other workspace")
    assert not (await service.handle(inside, "/petition", "new yes title:T goal:3 text")).error
    refused = await service.handle(outside, "/petition", "new no title:T goal:3 text")
    assert refused.error and "limited" in refused.text
    discord = Actor("discord", "TCOMMITTEE", "U1", "A Discord server with that id")
    assert (await service.handle(discord, "/petition", "new nope title:T goal:3 text")).error


async def test_the_html_export_renders_the_letter_as_the_page_does(service: Service) -> None:
    await petition(service, "marked", goal=10)
    await service.handle(ORG, "/petition", "edit marked We **refuse**.\\n\\nSecond _paragraph_.")
    page = await exported(service.ctx, ORG, "marked", "html")
    assert "<strong>refuse</strong>" in page and "<em>paragraph</em>" in page
    assert "**" not in page and page.count("<p>") >= 3
