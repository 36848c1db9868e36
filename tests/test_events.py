"""Events after commit: a write raises what it changed, subscribers hear it once the
transaction has committed, and never hear of a write that was rolled back."""

from __future__ import annotations

import contextlib
from typing import Any

from bot.domain.errors import UserError
from bot.domain.events import OutboxChanged, RemindersChanged, TallyChanged
from bot.service import Service
from storage import repository as repo
from storage.raised import raise_event
from tests.conftest import person

ORG = person("org")


def _heard(service: Service, *kinds: type) -> list[Any]:
    heard: list[Any] = []
    for kind in kinds:
        service.ctx.subscribe(kind, heard.append)
    return heard


async def test_an_edit_is_heard_after_it_commits_and_a_refused_one_never(service: Service) -> None:
    await service.handle(ORG, "/petition", 'new walkout title:"Walk out" goal:10 Out.')
    heard = _heard(service, TallyChanged, OutboxChanged)
    edited = await service.handle(ORG, "/petition", "edit walkout goal:20")
    assert not edited.error, edited.text
    campaign_id = (await service.ctx.db.read(lambda c: repo.find_campaign(c, "walkout"))).id
    assert TallyChanged(campaign_id) in heard
    heard.clear()

    def refused(conn: Any) -> None:
        raise_event(conn, TallyChanged(campaign_id))
        raise UserError("no")  # the savepoint rolls back: nothing happened

    with contextlib.suppress(UserError):
        await service.ctx.db.write(refused)
    assert heard == []


async def test_editing_only_the_letter_refreshes_what_shows_it(service: Service) -> None:
    """Posted cards quote the letter: a new text is a change of what they show."""
    await service.handle(ORG, "/petition", 'new walkout title:"Walk out" goal:10 First text.')
    campaign_id = (await service.ctx.db.read(lambda c: repo.find_campaign(c, "walkout"))).id
    heard = _heard(service, TallyChanged)
    edited = await service.handle(ORG, "/petition", "edit walkout A second text.")
    assert not edited.error, edited.text
    assert heard == [TallyChanged(campaign_id)]


async def test_one_transaction_says_each_thing_once(service: Service) -> None:
    heard = _heard(service, TallyChanged)

    def twice(conn: Any) -> None:
        raise_event(conn, TallyChanged(7))
        raise_event(conn, TallyChanged(7))

    await service.ctx.db.write(twice)
    assert heard == [TallyChanged(7)]


async def test_a_reminder_set_wakes_the_schedule_without_the_handler_saying_so(
    service: Service,
) -> None:
    from bot.domain.identity import Place

    await service.handle(ORG, "/petition", 'new walkout title:"Walk out" goal:10 Out.')
    heard = _heard(service, RemindersChanged)
    place = Place("console", "local", "general")
    reply = await service.handle(ORG, "/petition", "remind walkout daily 09:00", place)
    assert not reply.error, reply.text
    assert heard == [RemindersChanged()]


async def test_the_status_cache_forgets_when_the_tally_changes(service: Service) -> None:
    await service.handle(ORG, "/petition", 'new walkout title:"Walk out" goal:10 Out.')
    first = await service.handle(ORG, "/petition", "status walkout")
    assert first.tally is not None and first.tally.goal == 10
    await service.handle(ORG, "/petition", "edit walkout goal:20")
    again = await service.handle(ORG, "/petition", "status walkout")
    assert again.tally is not None and again.tally.goal == 20
