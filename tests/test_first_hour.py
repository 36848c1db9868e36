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
        'new strike kind:pledge threshold:1.5 action:"strike" title:"Strike" deadline:2030-01-01 '
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


async def test_a_title_with_spaces_is_told_it_needs_quotes(service: Service) -> None:
    reply = await service.handle(
        ORG, "/petition", "new walkout title:Walk out for Maven goal:10 We walk out."
    )
    assert reply.error and 'needs quotes: `title:"Walk out for Maven"`' in reply.text, reply.text
    assert "Give a goal" not in reply.text
    listed = await service.handle(ORG, "/petition", "list")
    assert "walkout" not in listed.text
    # A one-word value, and a letter that later holds an option given already, stay as typed.
    fine = await service.handle(
        ORG, "/petition", "new walkout title:Walkout goal:10 We ask for a goal:more pay."
    )
    assert not fine.error, fine.text
    assert "a goal:more pay." in (await service.handle(ORG, "/petition", "read walkout")).text


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ('new titel:"Typo" goal:5 Text', "did you mean `title:`?"),
        ('new title:"Walk" goal:5 Text', "`/petition new walkout-2026 title:…`"),
        ("edit goal:20", "`/petition edit walkout-2026 goal:…`"),
    ],
)
async def test_an_option_in_the_names_place_asks_for_the_name_first(
    service: Service, typed: str, said: str
) -> None:
    reply = await service.handle(ORG, "/petition", typed)
    assert reply.error and "Begin with the campaign's short name" in reply.text, reply.text
    assert said in reply.text and "can't be a campaign name" not in reply.text
    listed = (await service.handle(ORG, "/petition", "list")).text
    assert "Typo" not in listed and "Walk" not in listed  # nothing made under any name


async def test_the_console_names_a_person_its_own_way(service: Service) -> None:
    from adapters.console.repl import ConsoleSession

    session = ConsoleSession(service, user="alice")
    await session.push('/petition new walkout title:"Walk out" goal:10 We walk out.')
    added = await session.push("/petition organizers walkout add @erin")
    assert added is not None and not added.error, added and added.text
    edited = await session.push("@erin /petition edit walkout goal:20")
    assert edited is not None and not edited.error, edited and edited.text  # erin may, now
    stranger = await session.push("@mallory /petition edit walkout goal:30")
    assert stranger is not None and stranger.error


def test_matrix_user_ids_name_people_and_nothing_else_does() -> None:
    from adapters.matrix.bot import named as matrix_named

    assert matrix_named("@erin:example.org") == "matrix:example.org:@erin:example.org"
    assert matrix_named("@erin") is None and matrix_named("erin:example.org") is None
    assert matrix_named("@erin:example.org extra") is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://LOCALHOST./hook",
        "http://box.local/hook",
        "http://10.0.0.1/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://127.1/hook",
        "http://2130706433/hook",
        "http://0x7f.1/hook",
        "http://0.0.0.0/hook",
        "http://127\u30020\u30020\u30021/hook",  # ideographic full stops
        "http://169\uff0e254\uff0e169\uff0e254/latest",  # full-width full stops
        "http://localhost\u3002/hook",
        "http://[64:ff9b::a9fe:a9fe]/latest",  # NAT64 of 169.254.169.254
        "http://[2002:7f00:1::1]/hook",  # 6to4 of 127.0.0.1
        "http://[::7f00:1]/hook",  # IPv4-compatible 127.0.0.1
    ],
)
async def test_a_webhook_inside_the_servers_networks_is_refused_when_added(
    service: Service, url: str
) -> None:
    await service.handle(ORG, "/petition", 'new walkout title:"Walk out" goal:10 Out.')
    reply = await service.handle(ORG, "/petition", f"webhook walkout add {url}")
    assert reply.error and "inside this server's own networks" in reply.text, reply.text
    assert "\n" not in reply.text.split("Usage")[0].strip()  # one line, then the usage
    hooks = await service.handle(ORG, "/petition", "webhook walkout")
    assert url not in hooks.text


async def test_a_public_webhook_is_added_and_the_operator_may_allow_private_ones(
    service: Service,
) -> None:
    await service.handle(ORG, "/petition", 'new walkout title:"Walk out" goal:10 Out.')
    public = await service.handle(ORG, "/petition", "webhook walkout add https://93.184.215.14/x")
    assert not public.error, public.text
    service.ctx.webhook_allow_private = True  # UNDERSIGNED_WEBHOOK_ALLOW_PRIVATE=true
    lab = await service.handle(ORG, "/petition", "webhook walkout add http://127.0.0.1:9/hook")
    assert not lab.error, lab.text
