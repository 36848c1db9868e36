"""A campaign signed in several workspaces: one tally, and where support came from in groups
of at least 5, never naming an anonymous signer's workspace."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot import commands as cmd
from bot import handlers
from bot.domain.identity import Actor
from bot.domain.tally import SMALLEST_GROUP, workspace_groups
from bot.service import Service
from storage import installations
from storage.database import Database
from storage.installations import InstalledBot
from storage.token_cipher import TokenCipher, new_key
from tests.conftest import fetch, informed, person


@given(st.dictionaries(st.text(min_size=1, max_size=5), st.integers(0, 40), max_size=8))
def test_no_group_shown_holds_fewer_than_five(counts: dict[str, int]) -> None:
    named, other = workspace_groups(counts)
    shown = [n for _, n in named] + ([other] if other else [])
    assert all(n >= SMALLEST_GROUP for n in shown)
    if shown:
        assert len(shown) >= 2
        assert sum(shown) == sum(counts.values())  # regrouped, never dropped


def test_small_workspaces_are_merged_and_the_smallest_named_joins_a_small_other() -> None:
    assert workspace_groups({"A": 20, "B": 7, "C": 5}) == ([("A", 20), ("B", 7), ("C", 5)], 0)
    assert workspace_groups({"A": 20, "B": 3, "C": 2}) == ([("A", 20)], 5)
    # "other" would be B alone (3): the smallest named workspace joins it
    assert workspace_groups({"A": 20, "B": 8, "C": 3}) == ([("A", 20)], 11)
    # one workspace stands alone, or nothing is left to compare: no breakdown
    assert workspace_groups({"A": 20, "B": 3}) == ([], 0)
    assert workspace_groups({"A": 20}) == ([], 0)


async def sign_in(service: Service, workspace: str, count: int, anonymous: bool = False) -> None:
    for n in range(count):
        who = f"{'A' if anonymous else 'U'}{workspace}{n}"
        actor = Actor("slack", workspace, who, f"Person {who}")
        await informed(service, actor)
        reply = await service.handle(
            actor, "/sign", "walkout anonymous" if anonymous else "walkout"
        )
        assert not reply.error, reply.text


async def test_status_says_where_signatures_came_from_without_small_groups(
    service: Service, db: Database
) -> None:
    await handlers.campaigns.create(
        service.ctx, person("org"), cmd.Create("walkout", {"title": "Walk out", "goal": "100"}, "L")
    )
    cipher = TokenCipher.from_setting(new_key())
    now = datetime.now(UTC)
    await db.write(
        lambda conn: installations.save_installation(
            conn, cipher, InstalledBot("TACME", "xoxb-a", team_name="Acme Workers"), now
        )
    )
    await sign_in(service, "TACME", 12)
    await sign_in(service, "TBETA", 6)
    await sign_in(service, "TTINY", 2)  # two people: never a figure of their own
    await sign_in(service, "TACME", 3, anonymous=True)

    text = (await handlers.reading.status_uncached(service.ctx, "walkout")).text
    line = next(ln for ln in text.splitlines() if ln.startswith("By workspace"))
    assert "Acme Workers 12" in line
    assert "TTINY" not in line and " 2" not in line.replace("12", "")
    assert "slack TBETA 6" in line or "other workspaces 8" in line
    assert "3 anonymous" in line  # counted, but in no workspace's figure
    assert "Acme Workers 15" not in line

    # Every group shown holds at least five.
    figures = [int(part.rsplit(" ", 1)[1]) for part in line[14:].split(";")[0].split(", ")]
    assert all(n >= SMALLEST_GROUP for n in figures)


async def test_one_workspace_shows_no_breakdown(service: Service) -> None:
    await handlers.campaigns.create(
        service.ctx, person("org"), cmd.Create("walkout", {"title": "Walk out", "goal": "100"}, "L")
    )
    await sign_in(service, "TACME", 12)
    assert (
        "By workspace" not in (await handlers.reading.status_uncached(service.ctx, "walkout")).text
    )


async def kept_counts_match_the_signatures(db: Database) -> None:
    """The kept per-workspace counts equal a recount of the named signatures (the oracle)."""
    from sqlalchemy import func, select

    from storage.tables import SignatureRow, WorkspaceCountRow

    sig = SignatureRow.__table__  # type: ignore[attr-defined]
    kept = WorkspaceCountRow.__table__  # type: ignore[attr-defined]
    recount = await fetch(
        db,
        select(sig.c.campaign_id, sig.c.platform, sig.c.workspace, func.count())
        .where(sig.c.anonymous.is_(False), sig.c.workspace.is_not(None))
        .group_by(sig.c.campaign_id, sig.c.platform, sig.c.workspace),
    )
    stored = await fetch(db, select(kept).where(kept.c.signed != 0))
    assert {tuple(r) for r in recount} == {tuple(r) for r in stored}


async def test_kept_workspace_counts_follow_withdrawals_forget_me_and_purge(
    service: Service, db: Database
) -> None:
    await handlers.campaigns.create(
        service.ctx, person("org"), cmd.Create("walkout", {"title": "Walk out", "goal": "100"}, "L")
    )
    await sign_in(service, "TACME", 7)
    await sign_in(service, "TBETA", 6)
    await sign_in(service, "TBETA", 2, anonymous=True)
    await kept_counts_match_the_signatures(db)
    assert "slack TBETA 6" in (await handlers.reading.status_uncached(service.ctx, "walkout")).text

    leaver = Actor("slack", "TBETA", "UTBETA0", "Person UTBETA0")
    assert not (await service.handle(leaver, "/unsign", "walkout")).error
    forgetter = Actor("slack", "TACME", "UTACME0", "Person UTACME0")
    assert not (await service.handle(forgetter, "/forget-me", "confirm")).error
    await kept_counts_match_the_signatures(db)
    line = next(
        ln
        for ln in (await handlers.reading.status_uncached(service.ctx, "walkout")).text.splitlines()
        if ln.startswith("By workspace")
    )
    assert "slack TACME 6" in line and "slack TBETA 5" in line and "2 anonymous" in line

    await service.handle(person("org"), "/petition", "close walkout")
    purged = await service.handle(person("org"), "/petition", "purge walkout")
    assert not purged.error, purged.text
    await kept_counts_match_the_signatures(db)  # purge forgets the workspaces too
    assert (
        "By workspace" not in (await handlers.reading.status_uncached(service.ctx, "walkout")).text
    )
