"""The organizer may be the employer's plant: no organizer power may reveal a sealed signer or
change what someone signed without telling them. Each test is one attack, tried for real."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot import views
from bot.domain.identity import Actor, SignerKey
from bot.service import Service
from storage.database import Database
from storage.tables import OutboxRow
from tests.conftest import Clock, exported, fetch, informed, person

PLANT, ANN, BEN, CAT, NEWBIE = (
    person("plant"),
    person("ann"),
    person("ben"),
    person("cat"),
    person("newbie"),
)


async def strike(service: Service, threshold: int = 1000) -> None:
    reply = await service.handle(
        PLANT,
        "/petition",
        f'new strike kind:pledge threshold:{threshold} action:"walk out" deadline:2026-11-30 '
        'title:"Strike" We walk out together.',
    )
    assert not reply.error, reply.text
    await service.handle(ANN, "/sign", 'strike role:"Night nurse" I am scared but in')
    await service.handle(BEN, "/sign", "strike")
    await service.handle(CAT, "/sign", "strike anonymous")


async def outbox(service: Service) -> list[OutboxRow]:
    return await fetch(service.db, select(OutboxRow))


async def test_lowering_a_sealed_threshold_is_refused_and_reveals_nobody(
    service: Service,
) -> None:
    await strike(service)
    refused = await service.handle(PLANT, "/petition", "edit strike threshold:4")
    assert refused.error and "can't be lowered" in refused.text
    await service.handle(PLANT, "/sign", "strike")
    status = await service.handle(PLANT, "/petition", "status strike")
    assert "Ann" not in status.text and "Ben" not in status.text
    assert status.tally is not None and status.tally.recent_public == ()
    for fmt in ("md", "csv", "html"):
        export = await exported(service.ctx, PLANT, "strike", fmt)
        assert "Ann" not in export and "Night nurse" not in export and "scared" not in export
    assert not [m for m in await outbox(service) if m.kind == "dm"]
    assert (await views.status_data(service.ctx, "strike"))["outcome"] is None


async def test_a_later_deadline_or_another_action_is_refused(service: Service) -> None:
    await strike(service)
    later = await service.handle(PLANT, "/petition", "edit strike deadline:2027-06-30")
    assert later.error and "can't move later" in later.text
    action = await service.handle(PLANT, "/petition", 'edit strike action:"sign a petition"')
    assert action.error and "can't change now" in action.text
    data = await views.status_data(service.ctx, "strike")
    assert data["action"] == "walk out" and data["deadline"].startswith("2026-11-30")


async def test_a_sealed_petition_goal_cannot_be_lowered_to_unseal_it(service: Service) -> None:
    await service.handle(
        PLANT, "/petition", 'new quiet names:sealed title:"Quiet" goal:500 Sealed letter'
    )
    await service.handle(ANN, "/sign", "quiet")
    refused = await service.handle(PLANT, "/petition", "edit quiet goal:1")
    assert refused.error and "can't be lowered" in refused.text
    assert "Ann" not in await exported(service.ctx, PLANT, "quiet", "md")


async def test_retitling_after_signatures_is_a_new_version_everyone_is_told_about(
    service: Service, clock: Clock
) -> None:
    await strike(service)
    clock.advance(hours=2)
    edited = await service.handle(
        PLANT, "/petition", 'edit strike title:"Strike for the company" to:"The board"'
    )
    assert not edited.error and "version 2" in edited.text
    dms = {m.target: json.loads(m.payload)["text"] for m in await outbox(service) if m.kind == "dm"}
    assert set(dms) == {"U-ann", "U-ben"}  # the public pledgers; the anonymous one has no address
    assert "was “Strike”" in dms["U-ann"] and "/unsign strike" in dms["U-ann"]
    # The anonymous pledger learns it in /sign mine and in the status.
    mine = await service.handle(CAT, "/sign", "mine")
    assert "version 1 (now 2)" in mine.text and "was “Strike”" in mine.text
    status = await service.handle(CAT, "/petition", "status strike")
    assert "now version 2" in status.text and "was “Strike”" in status.text
    # A raised threshold is allowed, and told too.
    raised = await service.handle(PLANT, "/petition", "edit strike threshold:2000")
    assert not raised.error and "version 3" in raised.text
    assert "was “1,000”, now “2,000”" in (await service.handle(CAT, "/sign", "mine")).text


async def test_before_anyone_signs_everything_can_change_as_a_new_version(
    service: Service,
) -> None:
    await service.handle(
        PLANT,
        "/petition",
        'new fresh kind:pledge threshold:100 action:"walk out" deadline:2026-11-20 title:"F" T',
    )
    changed = await service.handle(
        PLANT, "/petition", 'edit fresh threshold:3 deadline:2026-11-29 action:"strike"'
    )
    assert not changed.error
    # A version whoever signed or not: repeated edits can't time a first signature.
    assert (await views.status_data(service.ctx, "fresh"))["version"] == 2


async def test_edits_never_tell_an_organizer_what_the_count_does_not_show(
    db: Database, key: SignerKey
) -> None:
    """An organizer who edits the title again and again, or tries to move a sealed
    petition's deadline, learns nothing the public count doesn't show."""
    from datetime import UTC, datetime

    from bot.domain.steps import StepRule

    clock = Clock(datetime(2026, 11, 2, 9, 0, 10, tzinfo=UTC))
    service = Service(db, key, clock=clock, steps=StepRule())
    await service.handle(PLANT, "/petition", 'new quiet title:"Q" goal:2 names:sealed We ask.')
    first = await service.handle(PLANT, "/petition", 'edit quiet title:"Q1"')
    assert not first.error
    await informed(service, ANN, BEN)
    await service.handle(ANN, "/sign", "quiet")
    await service.handle(BEN, "/sign", "quiet")  # the goal, reached before any step
    second = await service.handle(PLANT, "/petition", 'edit quiet title:"Q2"')
    assert not second.error
    versions = (await views.status_data(service.ctx, "quiet"))["version"]
    assert versions == 3  # one per edit, signed or not
    later = await service.handle(PLANT, "/petition", "edit quiet deadline:2026-12-31")
    assert later.error  # refused as if nobody had reached the goal: the step shows nothing yet


async def test_new_organizers_gain_no_sight_of_sealed_names(service: Service) -> None:
    await strike(service, threshold=10)
    await service.handle(PLANT, "/petition", "organizers strike add console:T1:U-newbie")
    for who in (PLANT, NEWBIE):
        export = await exported(service.ctx, who, "strike", "csv")
        assert "Ann" not in export and "Ben" not in export
        status = await service.handle(who, "/petition", "status strike")
        assert status.tally is not None and status.tally.recent_public == ()


async def test_closing_a_sealed_pledge_early_releases_everyone_and_reveals_nobody(
    service: Service,
) -> None:
    await strike(service, threshold=10)
    await service.handle(PLANT, "/petition", "close strike")
    assert (await views.status_data(service.ctx, "strike"))["outcome"] == "failed"
    export = await exported(service.ctx, PLANT, "strike", "md")
    assert "Ann" not in export and "Ben" not in export and "withheld" in export
    dms = [json.loads(m.payload)["text"] for m in await outbox(service) if m.kind == "dm"]
    assert dms and all("released" in text for text in dms)


async def test_webhooks_and_reminders_carry_counts_never_names(service: Service) -> None:
    await strike(service, threshold=4)
    await service.handle(
        PLANT, "/petition", "webhook strike add https://hooks.example.org/undersigned"
    )
    await service.handle(NEWBIE, "/sign", "strike")  # reaches 4: it's on
    hooks = [json.loads(m.payload)["body"] for m in await outbox(service) if m.kind == "webhook"]
    assert hooks, "the success event goes to the webhook"
    for body in hooks:
        flat = json.dumps(body)
        assert "Ann" not in flat and "U-ann" not in flat and "Night nurse" not in flat


async def test_every_named_signer_is_told_who_will_see_their_name(service: Service) -> None:
    await strike(service)
    sealed = await service.handle(NEWBIE, "/sign", "strike")
    assert "stays sealed, even from the organizers, unless 1,000 people sign" in sealed.text
    await service.handle(PLANT, "/petition", 'new open title:"Open" goal:9 Public letter')
    public = await service.handle(NEWBIE, "/sign", "open")
    assert "Your name is shown with this campaign" in public.text
    await service.handle(PLANT, "/petition", 'new hush names:count-only title:"H" goal:9 L')
    quiet = await service.handle(NEWBIE, "/sign", "hush")
    assert "never shown in chat" in quiet.text
    anonymous = await service.handle(ANN, "/sign", "hush anonymous")
    assert "Your name" not in anonymous.text


async def test_no_chat_command_names_organizers_at_creation(service: Service) -> None:
    """`Create.organizers` is the CLI operator's `--organizer`; anyone else is refused."""
    from bot import commands as cmd

    sneaky = cmd.Create("grab", {"title": "Grab", "goal": "5"}, "Letter.", ("slack:T1:UBOSS",))
    refused = await service.run(PLANT, sneaky)
    assert refused.error and "operator" in refused.text


async def test_an_edit_reply_does_not_say_that_someone_signed_before_the_count_shows_it(
    db: Database, key: SignerKey, clock: Clock
) -> None:
    """With counts in steps, the organizer's edit reply must not reveal (by its wording) that a
    signature landed while the public count still reads 0."""
    from datetime import timedelta

    from bot.domain.steps import StepRule

    service = Service(db, key, clock=clock, steps=StepRule(window=timedelta(minutes=60), batch=5))
    made = await service.handle(PLANT, "/petition", 'new quiet title:"Quiet" goal:50 Letter.')
    assert not made.error, made.text
    signer = Actor("slack", "T1", "UQUIET", "Quiet one")
    await informed(service, signer)
    assert not (await service.handle(signer, "/sign", "quiet anonymous")).error
    edited = await service.handle(PLANT, "/petition", "edit quiet A new letter.")
    assert "everyone who signed an earlier one" not in edited.text, edited.text
