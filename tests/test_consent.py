"""Tell people the risk before their first signature, not after: on Slack and Discord the first
`/sign` records nothing, explains what others can see, and offers the choices."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot import commands as cmd
from bot import jobs, views
from bot.domain.identity import Actor
from bot.domain.replies import ActionKind, Reply
from bot.service import Service
from storage.tables import SafetyNoticeRow, SignatureRow, SignDraftRow
from tests.conftest import Clock, exported, fetch, person

ORG = person("org")
ANN = Actor("slack", "T1", "U-ann", "Ann")
BEN = Actor("discord", "G1", "1001", "Ben")


async def petition(service: Service, slug: str = "walk", **opts: str) -> None:
    extra = " ".join(f"{k}:{v}" for k, v in opts.items())
    reply = await service.handle(
        ORG, "/petition", f'new {slug} title:"Walk" goal:5 deadline:2026-11-30 {extra} Letter'
    )
    assert not reply.error, reply.text


async def rows(service: Service, table: type) -> int:
    ((n,),) = await fetch(service.db, select(func.count()).select_from(table))
    return int(n)


def choice(reply: Reply, kind: ActionKind) -> cmd.Consent:
    """What pressing that button sends back to the core."""
    action = next(a for a in reply.actions if a.kind is kind)
    words = {ActionKind.SIGN_NAMED: "named", ActionKind.SIGN_ANON: "anonymous"}
    return cmd.Consent(action.slug, words.get(kind, "not-now"), action.token)


async def test_a_first_signature_records_nothing_until_a_choice(service: Service) -> None:
    await petition(service)
    for who, owners in ((ANN, "Slack workspace owners can export"), (BEN, "Server admins")):
        first = await service.handle(who, "/sign", 'walk role:"Ward nurse" I am in')
        assert not first.error
        assert "Nothing is recorded yet" in first.text and owners in first.text
        assert "**Anonymously**" in first.text and "**With your name**" in first.text
        assert [a.kind for a in first.actions] == [
            ActionKind.SIGN_NAMED,
            ActionKind.SIGN_ANON,
            ActionKind.NOT_NOW,
        ]
    assert await rows(service, SignatureRow) == 0
    assert await rows(service, SafetyNoticeRow) == 0


async def test_sign_with_my_name_keeps_the_role_and_comment_typed(service: Service) -> None:
    await petition(service)
    first = await service.handle(ANN, "/sign", 'walk role:"Ward nurse" I am in')
    signed = await service.run(ANN, choice(first, ActionKind.SIGN_NAMED))
    assert "you signed" in signed.text and not signed.error
    (row,) = await fetch(service.db, select(SignatureRow))
    assert not row.anonymous and row.role == "Ward nurse" and row.comment == "I am in"
    assert await rows(service, SignDraftRow) == 0  # what they typed is gone once used
    again = await service.handle(ANN, "/sign", "walk")  # informed now: no second notice
    assert "already signed" in again.text and not again.actions


async def test_sign_anonymously_stores_no_identity(service: Service) -> None:
    await petition(service)
    first = await service.handle(BEN, "/sign", "walk")
    assert first.actions[0].token is None  # nothing typed, nothing kept
    signed = await service.run(BEN, choice(first, ActionKind.SIGN_ANON))
    assert "anonymously" in signed.text
    (row,) = await fetch(service.db, select(SignatureRow))
    assert row.anonymous and row.user_id is None and row.display_name is None


async def test_typed_anonymous_offers_only_anonymous_or_not_now(service: Service) -> None:
    await petition(service)
    first = await service.handle(ANN, "/sign", "walk anonymous")
    assert [a.kind for a in first.actions] == [ActionKind.SIGN_ANON, ActionKind.NOT_NOW]
    assert "You asked to sign anonymously" in first.text
    assert await rows(service, SignatureRow) == 0


async def test_not_now_records_nothing_and_the_next_sign_signs_at_once(service: Service) -> None:
    await petition(service)
    first = await service.handle(ANN, "/sign", "walk my comment")
    later = await service.run(ANN, choice(first, ActionKind.NOT_NOW))
    assert "Nothing was signed" in later.text and "/sign walk" in later.text
    assert await rows(service, SignatureRow) == 0
    assert await rows(service, SignDraftRow) == 0
    assert await rows(service, SafetyNoticeRow) == 1  # the informed choice, as a keyed hash
    signed = await service.handle(ANN, "/sign", "walk")
    assert "you signed" in signed.text and await rows(service, SignatureRow) == 1


async def test_pressing_sign_twice_counts_once(service: Service) -> None:
    await petition(service)
    first = await service.handle(ANN, "/sign", "walk with a comment")
    press = choice(first, ActionKind.SIGN_NAMED)
    replies = await asyncio.gather(service.run(ANN, press), service.run(ANN, press))
    assert await rows(service, SignatureRow) == 1
    texts = " ".join(r.text for r in replies)
    assert "you signed" in texts and "already signed" in texts
    third = await service.run(ANN, press)  # a Slack retry, later
    assert "already signed" in third.text
    assert (await views.status_data(service.ctx, "walk"))["signatures"] == 1


async def test_a_choice_after_the_campaign_closed_says_so(service: Service) -> None:
    await petition(service)
    first = await service.handle(ANN, "/sign", "walk")
    await service.handle(ORG, "/petition", "close walk")
    late = await service.run(ANN, choice(first, ActionKind.SIGN_NAMED))
    assert late.error and "closed" in late.text
    assert await rows(service, SignatureRow) == 0


async def test_a_choice_whose_draft_expired_says_so_and_signs_nothing(
    service: Service, clock: Clock
) -> None:
    await petition(service)
    first = await service.handle(ANN, "/sign", "walk my comment")
    clock.advance(days=2)
    assert await jobs.drop_stale_drafts(service.ctx) == 1
    late = await service.run(ANN, choice(first, ActionKind.SIGN_NAMED))
    assert late.error and "expired" in late.text and "/sign walk" in late.text
    assert await rows(service, SignatureRow) == 0


async def test_someone_else_cannot_use_a_draft(service: Service) -> None:
    await petition(service)
    first = await service.handle(ANN, "/sign", 'walk role:"Secret role"')
    stolen = await service.run(BEN, choice(first, ActionKind.SIGN_NAMED))
    assert stolen.error and "expired" in stolen.text
    assert await rows(service, SignatureRow) == 0


async def test_the_console_signs_at_once(service: Service) -> None:
    await petition(service)
    reply = await service.handle(person("local"), "/sign", "walk")
    assert "you signed" in reply.text and not reply.actions


async def test_help_and_mine_point_to_the_same_explanation(service: Service) -> None:
    help_text = (await service.handle(ANN, "/petition", "help")).text
    mine = (await service.handle(ANN, "/sign", "mine")).text
    assert "/petition safety" in help_text and "/petition safety" in mine
    safety = await service.handle(ANN, "/petition", "safety")
    assert "How safe is signing here?" in safety.text and "can export" in safety.text


async def test_forget_me_asks_again_and_drops_what_was_typed(service: Service) -> None:
    await petition(service)
    first = await service.handle(ANN, "/sign", "walk")
    await service.run(ANN, choice(first, ActionKind.SIGN_NAMED))
    await service.handle(ANN, "/sign", 'walk role:"x"')  # already signed: nothing kept
    await service.handle(ANN, "/forget-me", "confirm")
    assert await rows(service, SafetyNoticeRow) == 0
    again = await service.handle(ANN, "/sign", "walk")
    assert again.actions and "Nothing is recorded yet" in again.text


async def test_not_now_with_someone_elses_draft_changes_nothing(service: Service) -> None:
    await petition(service)
    first = await service.handle(ANN, "/sign", 'walk role:"Ward nurse" I am in')
    stolen = choice(first, ActionKind.NOT_NOW)
    other = Actor("slack", "T1", "U-mallory", "Mallory")
    refused = await service.run(other, stolen)
    assert refused.error and "nothing was changed" in refused.text
    assert await rows(service, SignDraftRow) == 1  # Ann's draft is still there
    assert await rows(service, SafetyNoticeRow) == 0
    signed = await service.run(ANN, choice(first, ActionKind.SIGN_NAMED))
    assert not signed.error and "Ward nurse" in (await exported(service.ctx, ORG, "walk", "md"))


async def test_a_crafted_named_press_on_an_anonymous_notice_signs_nothing(
    service: Service,
) -> None:
    await petition(service, names="public")
    first = await service.handle(ANN, "/sign", "walk anonymous")
    anon = choice(first, ActionKind.SIGN_ANON)
    crafted = cmd.Consent(anon.slug, "named", anon.draft)
    refused = await service.run(ANN, crafted)
    assert refused.error and "nothing was signed" in refused.text
    assert await rows(service, SignatureRow) == 0
    assert not (await service.run(ANN, anon)).error
    ((anonymous,),) = await fetch(service.db, select(SignatureRow.anonymous))
    assert anonymous


async def test_a_draft_cannot_be_carried_to_another_campaign(service: Service) -> None:
    await petition(service)
    await petition(service, "other")
    first = await service.handle(ANN, "/sign", 'walk role:"Ward nurse" I am in')
    press = choice(first, ActionKind.SIGN_NAMED)
    moved = cmd.Consent("other", "named", press.draft)
    refused = await service.run(ANN, moved)
    assert refused.error and await rows(service, SignatureRow) == 0
    assert await rows(service, SignDraftRow) == 1


async def test_drafts_of_one_person_in_two_campaigns_cannot_be_linked(service: Service) -> None:
    await petition(service)
    await petition(service, "other")
    await service.handle(ANN, "/sign", "walk anonymous")
    await service.handle(ANN, "/sign", "other anonymous")
    assert await rows(service, SignDraftRow) == 0  # nothing typed: nothing stored at all
    await service.handle(ANN, "/sign", 'walk anonymous role:"Nurse"')
    await service.handle(ANN, "/sign", 'other anonymous role:"Nurse"')
    owners = await fetch(service.db, select(SignDraftRow.person_hash))
    assert len(owners) == 2 and owners[0] != owners[1]  # keyed per campaign, like signatures
    gone = await service.run(ANN, cmd.ForgetMe(confirm=True))
    assert not gone.error and await rows(service, SignDraftRow) == 0
