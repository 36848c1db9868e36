"""What a new organizer meets in the first hour: numbers that are whole or refused, and a
receipt pasted exactly as the bot showed it."""

from __future__ import annotations

import secrets
from dataclasses import replace

import pytest

from bot.domain.public_log import read_receipt
from bot.service import Service
from tests.conftest import person

ORG = person("org")


@pytest.mark.parametrize("goal", ["1.5", "2,5", "0.5", "1000.0", "12,34"])
async def test_a_goal_that_is_not_a_whole_number_is_refused(service: Service, goal: str) -> None:
    reply = await service.handle(ORG, "/petition", f'new walkout title:"Walk out" goal:{goal} Out.')
    assert reply.error and "whole number" in reply.text, reply.text
    listed = await service.handle(ORG, "/petition", "list")
    assert "walkout" not in listed.text  # nothing half-made


@pytest.mark.parametrize(("goal", "count"), [("1,000", 1000), ("1.000", 1000), ("2_500", 2500)])
async def test_thousands_separators_still_read_as_thousands(
    service: Service, goal: str, count: int
) -> None:
    reply = await service.handle(ORG, "/petition", f'new walkout title:"Walk out" goal:{goal} Out.')
    assert not reply.error, reply.text
    status = await service.handle(ORG, "/petition", "status walkout")
    assert status.tally is not None and status.tally.goal == count


async def test_a_pledge_threshold_is_a_whole_number_too(service: Service) -> None:
    reply = await service.handle(
        ORG,
        "/petition",
        'new strike kind:pledge threshold:1.5 action:"strike" title:"Strike" deadline:2099-01-01 '
        "We strike.",
    )
    assert reply.error and "whole number" in reply.text, reply.text


def test_a_receipt_is_read_as_the_bot_shows_it() -> None:
    receipt = secrets.token_bytes(32)
    shown = receipt.hex()
    for pasted in (shown, f"`{shown}`", f"``{shown}``", f"receipt: `{shown}`", f"“{shown}”",
                   f"'{shown}'", f" {shown[:32]} {shown[32:]} "):  # fmt: skip
        assert read_receipt(pasted) == receipt, pasted
    assert read_receipt(f"`{shown[:-1]}`") is None


async def test_a_mistyped_option_is_refused_with_what_was_meant(service: Service) -> None:
    reply = await service.handle(
        ORG, "/petition", 'new walkout title:"Walk out" goal:10 dealine:2026-12-31 We walk out.'
    )
    assert reply.error
    assert "Unknown option `dealine:`. Did you mean `deadline:`?" in reply.text, reply.text
    assert "`\\dealine:`" in reply.text  # and how to begin a letter with that word
    listed = await service.handle(ORG, "/petition", "list")
    assert "walkout" not in listed.text  # nothing half-made
    german = await service.handle(
        replace(person("greta"), locale="de"),
        "/petition",
        'new streik titel:"Streik" goal:10 Wir streiken.',
    )
    assert german.error and "Unbekannte Option `titel:`. Meintest du `title:`?" in german.text


async def test_a_letter_may_begin_with_such_a_word_when_it_says_so(service: Service) -> None:
    escaped = await service.handle(
        ORG, "/petition", 'new walkout title:"Walk out" goal:10 \\dealine: ours, not theirs.'
    )
    assert not escaped.error, escaped.text
    plain = await service.handle(
        ORG, "/petition", 'new notes title:"Notes" goal:10 Note: we ask for one thing.'
    )
    assert not plain.error, plain.text  # a word like no option begins the letter as typed
    letter = await service.handle(ORG, "/petition", "read walkout")
    assert "dealine: ours, not theirs." in letter.text and "\\dealine" not in letter.text
